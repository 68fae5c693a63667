// Conv2D, "tiled" kernel (SPEC §4.5) for regular, grouped and image-input convolutions, any kernel size and
// stride.  One invocation computes P consecutive output pixels (in row-major order, running across rows)
// times QQ output quads of one group, in registers.  Invocations run over the blocks of pixels, then over the
// blocks of quads (one dimension, so that small layers leave few lanes idle).  Each input quad fetched serves
// the 4·QQ output channels, each weight texel the P pixels.
// Specialized with (besides conv2d_common.glsl's):
//   P, QQ     pixels and output quads per invocation
//   IMAGE     1: the input is an image (R, G, B, 0 per pixel): the fourth channel is skipped (it adds w·0)
//   WIDE_IN   1: input quads are fetched four at a time (input quads per group a multiple of 4)
// Uniforms give the geometry.  Weights (RGBA32F texels): for each block of QQ output quads, tap, input quad
// iq of the group and channel j of that quad, QQ texels (one per output quad: its four output channels).
// Invocations past the last pixel compute a clamped pixel and store nothing.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

uniform int u_ksize, u_stride;
uniform int u_cg_quads;            // input quads per group (1 for an image)
uniform int u_out_quads_per_group; // output quads per group (a multiple of QQ)
uniform int u_blocks;              // blocks of P pixels: ceil(width · height / P)

void main() {
    int npix = u_out.x * u_out.y;
    int inv = int(gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x);
    int block = min(inv / u_blocks, u_out.z / QQ - 1);
    int pix0 = (inv - block * u_blocks) * P;
    bool in_blocks = inv < u_blocks * (u_out.z / QQ);
    int oq0 = block * QQ;
    int iq0 = (oq0 / u_out_quads_per_group) * u_cg_quads;

    PRECISE vec4 acc[P * QQ];
#define ZERO_Q(q) acc[p * QQ + q] = vec4(0.0);
#define ZERO_P(pp) { const int p = pp; FOR_Q(ZERO_Q) }
    FOR_P(ZERO_P)

    // Input origin of each pixel.
    int iy0[P], ix0[P];
#define ORIGIN(p)                                                                                                \
    {                                                                                                            \
        int pix = min(pix0 + p, npix - 1);                                                                       \
        int oy = pix / u_out.x;                                                                                  \
        iy0[p] = oy * u_stride - u_pad.y;                                                                        \
        ix0[p] = (pix - oy * u_out.x) * u_stride - u_pad.x;                                                      \
    }
    FOR_P(ORIGIN)

    // Multiply-adds of input quad v[] (channel j of each pixel's quad times the texel of output quad q).
#define MAC_P(p)                                                                                                 \
    acc[p * QQ + q] += w0 * v[p].x;                                                                              \
    acc[p * QQ + q] += w1 * v[p].y;                                                                              \
    acc[p * QQ + q] += w2 * v[p].z;                                                                              \
    CH3(acc[p * QQ + q] += w3 * v[p].w;)
#define MAC_Q(qq)                                                                                                \
    {                                                                                                            \
        const int q = qq;                                                                                        \
        vec4 w0 = texelFetch(u_weights, wb + q), w1 = texelFetch(u_weights, wb + QQ + q),                        \
             w2 = texelFetch(u_weights, wb + 2 * QQ + q);                                                        \
        CH3(vec4 w3 = texelFetch(u_weights, wb + 3 * QQ + q);)                                                   \
        FOR_P(MAC_P)                                                                                             \
    }

    int wb = block * u_ksize * u_ksize * u_cg_quads * 4 * QQ;
    for (int ky = 0; ky < u_ksize; ky++) {
        for (int kx = 0; kx < u_ksize; kx++) {
            // Padding reads 0: a padded tap adds w·0, which leaves the sum unchanged.
            int src[P];
            bool inside[P];
#define ADDRESS(p)                                                                                               \
    {                                                                                                            \
        int y = iy0[p] + ky, x = ix0[p] + kx;                                                                    \
        inside[p] = y >= 0 && y < u_in.y && x >= 0 && x < u_in.x;                                                \
        src[p] = inside[p] ? (y * u_in.x + x) * u_in.z + iq0 : 0;                                                \
    }
            FOR_P(ADDRESS)
#if WIDE_IN
            for (int iq = 0; iq < u_cg_quads; iq += 4) {
                uvec4 u[P];
#define FETCH(p)                                                                                                 \
    u[p] = texelFetch(u_input, (src[p] + iq) >> 2);                                                              \
    if (!inside[p]) u[p] = uvec4(0u);
                FOR_P(FETCH)
#define UNPACK(p) v[p] = unpack_quad(u[p][i]);
#define QUAD_OF_4(ii)                                                                                            \
    {                                                                                                            \
        const int i = ii;                                                                                        \
        vec4 v[P];                                                                                               \
        FOR_P(UNPACK)                                                                                            \
        FOR_Q(MAC_Q)                                                                                             \
        wb += 4 * QQ;                                                                                            \
    }
                FOR_4(QUAD_OF_4)
            }
#else
            for (int iq = 0; iq < u_cg_quads; iq++) {
                vec4 v[P];
#define FETCH(p)                                                                                                 \
    {                                                                                                            \
        uint u = texelFetch(u_input, src[p] + iq).x;                                                             \
        v[p] = unpack_quad(inside[p] ? u : 0u);                                                                  \
    }
                FOR_P(FETCH)
                FOR_Q(MAC_Q)
                wb += 4 * QQ;
            }
#endif
        }
    }

#define STORE_P(pp)                                                                                              \
    {                                                                                                            \
        const int p = pp;                                                                                        \
        if (in_blocks && pix0 + p < npix) {                                                                      \
            int dst = (pix0 + p) * u_out.z + oq0;                                                                \
            STORE_QUADS                                                                                          \
        }                                                                                                        \
    }
    vec4 bias[QQ];
    FOR_Q(LOAD_BIAS)
    FOR_P(STORE_P)
    KEEP_FLUSH
}
