// Pooling2D (SPEC §5.1) on the fragment path: one fragment computes one output quad at one pixel, on exact
// integers held in floats.  MAX is the largest byte (padding reads 0); AVERAGE is floor((2S + A) / 2A) for the
// window sum S and area A, with the quotient corrected to be exact.  One loop over the window's taps, with a
// runtime count; specialized by IS_MAX and MAX_ITERATIONS (a power of two ≥ size², the loop's bound).

uniform sampler2D u_input;
uniform vec4 u_in_layout;  // input: tile width, height, rows of tiles, quads
uniform vec2 u_in_scale;   // 1 / input texture size
uniform vec4 u_out_layout; // output: tile width, height, rows of tiles, quads
uniform vec2 u_pad;        // padding before: x, y
uniform vec4 u_window;     // size, stride, size², -

void main() {
    vec3 o = output_position(u_out_layout);
    if (o.z >= u_out_layout.w) {
        gl_FragColor = vec4(0.0);
        return;
    }
    vec2 origin = o.xy * u_window.y - u_pad;
    vec4 acc = vec4(0.0);
    for (int t = 0; t < MAX_ITERATIONS; t++) {
        float ft = float(t);
        if (ft >= u_window.z) break;
        float ky = idiv(ft, u_window.x);
        vec2 p = origin + vec2(ft - ky * u_window.x, ky);
        if (p.x < 0.0 || p.y < 0.0 || p.x >= u_in_layout.x || p.y >= u_in_layout.y) continue;
        vec4 b = bytes(fetch_quad(u_input, u_in_layout, u_in_scale, p.x, p.y, o.z));
#if IS_MAX
        acc = max(acc, b);
#else
        acc += b;
#endif
    }
#if IS_MAX
    gl_FragColor = store_bytes(acc);
#else
    float a2 = 2.0 * u_window.z;
    vec4 n = 2.0 * acc + u_window.z;
    vec4 q = floor(n / a2);
    q -= step(n + 0.5, q * a2);         // q·2A > n: one too many
    q += step((q + 1.0) * a2, n + 0.5); // (q + 1)·2A ≤ n: one too few
    gl_FragColor = store_bytes(q);
#endif
}
