// Upsampling2D (SPEC §5.5) on the fragment path: one fragment computes one output quad at one pixel.  Nearest:
// input (x / f, y / f).  Bilinear: the taps computed on the host (neighbours i0, i1 and the weight of i1 per
// output column and row), blending byte values in float, x first, then y, as the CPU reference does.
// Specialized by BILINEAR.  Taps texture (width max(W_o, H_o), 4 rows), as ImageSampler's: row 0, x taps: i0
// in R + 256·G, i1 in B + 256·A; row 1, x weights as float32 texels; rows 2 and 3: the same along y.

uniform sampler2D u_input;
uniform sampler2D u_taps;
uniform vec4 u_in_layout;  // input: tile width, height, rows of tiles, quads
uniform vec2 u_in_scale;   // 1 / input texture size
uniform vec4 u_out_layout; // output: tile width, height, rows of tiles, quads
uniform vec2 u_taps_scale; // 1 / taps texture size
uniform float u_factor;

vec4 quad(float x, float y, float q) { return bytes(fetch_quad(u_input, u_in_layout, u_in_scale, x, y, q)); }

void main() {
    vec3 o = output_position(u_out_layout);
    if (o.z >= u_out_layout.w) {
        gl_FragColor = vec4(0.0);
        return;
    }
#if BILINEAR
    vec2 f = o.xy + 0.5;
    vec4 tx = bytes(texture2D(u_taps, vec2(f.x, 0.5) * u_taps_scale));
    vec4 ty = bytes(texture2D(u_taps, vec2(f.y, 2.5) * u_taps_scale));
    float x0 = tx.x + 256.0 * tx.y, x1 = tx.z + 256.0 * tx.w;
    float y0 = ty.x + 256.0 * ty.y, y1 = ty.z + 256.0 * ty.w;
    float fx = decode1(texture2D(u_taps, vec2(f.x, 1.5) * u_taps_scale));
    float fy = decode1(texture2D(u_taps, vec2(f.y, 3.5) * u_taps_scale));
    vec4 top = (1.0 - fx) * quad(x0, y0, o.z) + fx * quad(x1, y0, o.z);
    vec4 bottom = (1.0 - fx) * quad(x0, y1, o.z) + fx * quad(x1, y1, o.z);
    vec4 s = (1.0 - fy) * top + fy * bottom;
    vec4 v = floor(s + 0.5);
    gl_FragColor = store_bytes(clamp(v, 0.0, 255.0));
#else
    gl_FragColor = store_bytes(quad(idiv(o.x, u_factor), idiv(o.y, u_factor), o.z));
#endif
}
