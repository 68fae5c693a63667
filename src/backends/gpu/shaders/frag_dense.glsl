// Dense (SPEC §5.2) on the fragment path: one fragment computes one output y_o = Σ_i A(o, i)·x_i + b_o, summed
// in ascending i, bias last, written as the IEEE bytes of the float32 (a vector texel).  Specialized with:
//   VECTOR_INPUT    1: the input is a vector (float32 texels); 0: a 1×1×N_in tensor (x_i = q/255)
//   MAX_ITERATIONS  a power of two ≥ G, the bound of the loop over the G = ⌈N_in/4⌉ groups of inputs
// Matrix: block o holds groups g = 0 … G − 1 of four floats A(o, 4g … 4g + 3) (zeros past N_in), then the group
// (b_o, 0, 0, 0).

uniform sampler2D u_input;
uniform sampler2D u_matrix;
uniform vec4 u_in_layout; // tensor: 1, 1, rows of tiles, quads; vector: texture width, -, -, -
uniform vec2 u_in_scale;  // 1 / input texture size
uniform vec4 u_w_layout;  // matrix: width, rows per block, 1 / width, 1 / height
uniform vec3 u_out;       // output texture width, N_out, G

#if VECTOR_INPUT
float input_value(float i) {
    float row = idiv(i, u_in_layout.x);
    return decode1(texture2D(u_input, (vec2(i - row * u_in_layout.x, row) + 0.5) * u_in_scale));
}
#endif

void main() {
    vec2 f = output_texel();
    float o = f.y * u_out.x + f.x;
    if (o >= u_out.y) {
        gl_FragColor = vec4(0.0);
        return;
    }
    float acc = 0.0;
    for (int g = 0; g < MAX_ITERATIONS; g++) {
        if (float(g) >= u_out.z) break;
        vec4 a = weights4(u_matrix, u_w_layout, o, float(g));
#if VECTOR_INPUT
        float i = 4.0 * float(g);
        vec4 x = vec4(input_value(i), input_value(i + 1.0), input_value(i + 2.0), input_value(i + 3.0));
#else
        vec4 x = bytes(fetch_quad(u_input, u_in_layout, u_in_scale, 0.0, 0.0, float(g))) / 255.0;
#endif
        acc += a.x * x.x;
        acc += a.y * x.y;
        acc += a.z * x.z;
        acc += a.w * x.w;
    }
    gl_FragColor = encode1(acc + weights4(u_matrix, u_w_layout, o, u_out.z).x);
}
