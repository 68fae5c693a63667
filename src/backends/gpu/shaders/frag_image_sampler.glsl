// ImageSampler (SPEC §5.4) on the fragment path: one fragment computes one output pixel from the taps computed
// on the host (neighbours i0, i1 and the weight f of i1 per output column and row), blending byte values in
// float as the CPU reference does.  Specialized by LINEAR (1 bilinear, 0 nearest: pixel i0) and ROTATION.
// Taps texture (width max(W_o, H_o), 4 rows): row 0, x taps: i0 in R + 256·G, i1 in B + 256·A; row 1, x weights
// f as float32 texels; rows 2 and 3: the same along y.  Images: one texel per pixel (R, G, B, 0).

uniform sampler2D u_input;
uniform sampler2D u_taps;
uniform vec2 u_in;          // input (unrotated) width, height
uniform vec2 u_in_scale;    // 1 / input texture size
uniform vec2 u_taps_scale;  // 1 / taps texture size

vec3 pixel(float xr, float yr) {
#if ROTATION == 1
    vec2 s = vec2(yr, u_in.y - 1.0 - xr);
#elif ROTATION == 2
    vec2 s = vec2(u_in.x - 1.0 - xr, u_in.y - 1.0 - yr);
#elif ROTATION == 3
    vec2 s = vec2(u_in.x - 1.0 - yr, xr);
#else
    vec2 s = vec2(xr, yr);
#endif
    return bytes(texture2D(u_input, (s + 0.5) * u_in_scale)).rgb;
}

void main() {
    vec2 f = output_texel() + 0.5;
    vec4 tx = bytes(texture2D(u_taps, vec2(f.x, 0.5) * u_taps_scale));
    vec4 ty = bytes(texture2D(u_taps, vec2(f.y, 2.5) * u_taps_scale));
    float x0 = tx.x + 256.0 * tx.y, x1 = tx.z + 256.0 * tx.w;
    float y0 = ty.x + 256.0 * ty.y, y1 = ty.z + 256.0 * ty.w;
#if LINEAR
    float fx = decode1(texture2D(u_taps, vec2(f.x, 1.5) * u_taps_scale));
    float fy = decode1(texture2D(u_taps, vec2(f.y, 3.5) * u_taps_scale));
    vec3 top = (1.0 - fx) * pixel(x0, y0) + fx * pixel(x1, y0);
    vec3 bottom = (1.0 - fx) * pixel(x0, y1) + fx * pixel(x1, y1);
    vec3 s = (1.0 - fy) * top + fy * bottom;
    vec3 v = floor(s + 0.5);
    gl_FragColor = store_bytes(vec4(clamp(v, 0.0, 255.0), 0.0));
#else
    gl_FragColor = store_bytes(vec4(pixel(x0, y0), 0.0));
#endif
}
