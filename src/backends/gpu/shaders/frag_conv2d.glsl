// Conv2D (SPEC §4.5) on the fragment path.  The host draws each output quad oq (4 channels) over its tile of the
// output; one fragment computes one pixel of it in the reference's order: taps ky, kx, input channels ci into
// one accumulator, then residual, bias, activation and Q.
//
// One loop runs over g = (ky·k + kx)·Q + iq, the taps and the Q input quads read per tap, with a runtime count
// (u_geometry.w): loops stay loops, and the kernel size, stride, channel counts, residual and activation are
// uniforms, so that a few small programs serve every Conv2D.  Specialized by the host (gpu/frag/conv2d.c) with:
//   KIND                   0 regular or grouped, 1 image input (3 channels), 2 depthwise
//   MAX_ITERATIONS         the loop's constant bound, ≥ k²·Q (with WEIGHT_UNIFORMS, (WEIGHT_GROUPS − 1) / S, so that
//                          every index the loop can form stays within u_w)
//   WEIGHT_UNIFORMS        1: the weights of quad oq are the uniforms u_w (exact float32); 0: they are block oq of
//                          the byte-plane texture u_weights (decoded exactly, frag_common.glsl)
//   WEIGHT_GROUPS          size of u_w (WEIGHT_UNIFORMS 1), ≥ 1 + k²·Cg (a power of two when the budget allows)
// Weights of output quad oq, as groups of four floats (its four channels): group 0 is the bias, group
// 1 + S·g + j the weights from input channel j of quad iq of tap (ky, kx), with S = 4 (regular, grouped), 3 (image:
// R, G, B) or 1 (depthwise: one weight per channel, j = 0).

uniform sampler2D u_input;
uniform vec4 u_in_layout; // input: tile width, height, rows of tiles, quads
uniform vec2 u_in_scale;  // 1 / input texture size
uniform vec2 u_out_scale; // 1 / output (and residual) texture size
uniform vec4 u_quads;     // output quad oq being drawn, first input quad iq0 it reads, padding before x, y
uniform vec3 u_tile;      // the tile of input quad iq0: texel offset x, y, row in its column of tiles
uniform vec4 u_geometry;  // kernel size k, stride, input quads per tap Q, iterations k²·Q
uniform vec2 u_options;   // residual (1: input #1, same layout as the output, is added), activation (0 default,
                          // 1 brelu6, 2 sigmoid_like)
uniform sampler2D u_residual;
#if WEIGHT_UNIFORMS
uniform vec4 u_w[WEIGHT_GROUPS];
#define WEIGHTS(n) u_w[n]
#else
uniform sampler2D u_weights;
uniform vec4 u_w_layout; // weights: width, rows per block, 1 / width, 1 / height
#define WEIGHTS(n) weights4(u_weights, u_w_layout, u_quads.x, float(n))
#endif

void main() {
    vec2 texel = output_texel();
    vec2 o = texel - u_rect.xy; // output pixel within the tile
    vec2 origin = o * u_geometry.y - u_quads.zw;
    // The loop walks the taps and quads in order, keeping the tap position p, the quad's tile (column, row) and
    // its texel offset up to date instead of dividing g at every step.
    vec2 p = origin, offset = u_tile.xy;
    float kx = 0.0, iq = 0.0, row = u_tile.z;
    vec4 acc = vec4(0.0);
    for (int g = 0; g < MAX_ITERATIONS; g++) {
        if (float(g) >= u_geometry.w) break;
        if (p.x >= 0.0 && p.y >= 0.0 && p.x < u_in_layout.x && p.y < u_in_layout.y) {
            vec4 v = unorm(texture2D(u_input, (p + offset + 0.5) * u_in_scale));
#if KIND == 2
            acc += WEIGHTS(1 + g) * v;
#elif KIND == 1
            acc += WEIGHTS(1 + 3 * g) * v.x;
            acc += WEIGHTS(2 + 3 * g) * v.y;
            acc += WEIGHTS(3 + 3 * g) * v.z;
#else
            acc += WEIGHTS(1 + 4 * g) * v.x;
            acc += WEIGHTS(2 + 4 * g) * v.y;
            acc += WEIGHTS(3 + 4 * g) * v.z;
            acc += WEIGHTS(4 + 4 * g) * v.w;
#endif
        }
        // Next input quad, or the first quad of the next tap.
        iq += 1.0;
        row += 1.0;
        offset.y += u_in_layout.y;
        if (row >= u_in_layout.z) {
            row = 0.0;
            offset = vec2(offset.x + u_in_layout.x, 0.0);
        }
        if (iq >= u_geometry.z) {
            iq = 0.0;
            row = u_tile.z;
            offset = u_tile.xy;
            kx += 1.0;
            p.x += 1.0;
            if (kx >= u_geometry.x) {
                kx = 0.0;
                p = vec2(origin.x, p.y + 1.0);
            }
        }
    }
    vec4 z = acc;
    if (u_options.x > 0.5) z += unorm(texture2D(u_residual, (texel + 0.5) * u_out_scale));
    z += WEIGHTS(0);
    if (u_options.y == 1.0) {
        z = 0.167 * z;
    } else if (u_options.y == 2.0) {
        vec4 p = 0.05 * z;
        z = clamp(0.1 * z, -0.05, 0.05) + clamp(p, -0.125, 0.125) + p + 0.5;
    }
    gl_FragColor = quantize(z);
}
