// Conv2D, "rows" kernels (SPEC §4.5) for convolutions whose sum per output value is short enough to unroll:
// image input, regular and grouped with up to 16 input quads per group (k²·Cg/4 <= 144: 1×1 over 64
// channels, 3×3 over 64, 5×5 over 16), depthwise, and groups of 4 input and 4 output channels.  An
// invocation computes QQ output quads for a strip of NB blocks, each block P consecutive output pixels of one
// row.  It fetches the weights of its quads once (texel fetches are
// function calls on llvmpipe, as costly as dozens of multiply-adds), then for each block and kernel row the
// NCOLS input columns the block covers, each reused for every kernel column.  Everything inside a block is
// unrolled, so that weights, columns and accumulators have constant indices.
// Specialized with (besides conv2d_common.glsl's):
//   P, QQ, NB      pixels per block, output quads per invocation, blocks per invocation
//   KSIZE, STRIDE  kernel size and stride; NCOLS = (P - 1)·STRIDE + KSIZE
//   MODE           0: the QQ output quads share the CGQ input quads of their group (image, regular, grouped)
//                  1: output quad q reads input quad q with a 4×4 matrix per tap (4 channels per group)
//                  2: depthwise, output quad q reads input quad q with one vec4 of weights per tap
//   CGQ            input quads per group (MODE 0)
//   IMAGE          1: the input is an image (R, G, B, 0 per pixel): the fourth channel is skipped
//   WIDE_IN        1: the cached quads (CGQ or QQ of them, a multiple of 4) are fetched four at a time
//   DW_ROWS        depthwise: output rows per block (up to 4 with stride 1, sharing their input rows), else 1
// The host runs a 1×1 convolution with stride 1 as one row of width × height pixels.
// Weights (RGBA32F texels), for each block of QQ output quads and tap: MODE 0: per input quad g and channel
// j, QQ texels (one per output quad); MODE 1: per channel j, QQ texels; MODE 2: QQ texels.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

uniform int u_out_quads_per_group; // MODE 0: output quads per group (a multiple of QQ)
uniform int u_row_blocks;          // blocks of P pixels per output row
uniform int u_blocks;              // blocks in the output: u_row_blocks · height

#if MODE == 0
#define TAP_TEXELS (CGQ * 4 * QQ)
#define CACHED_QUADS CGQ
#elif MODE == 1
#define TAP_TEXELS (4 * QQ)
#define CACHED_QUADS QQ
#else
#define TAP_TEXELS QQ
#define CACHED_QUADS QQ
#endif

void main() {
    // Invocations run over the blocks of QQ output quads, then over strips of NB blocks: neighbouring
    // invocations write the parts of the same output pixels and read the same input pixels, while they
    // are in the cache (and on one thread of llvmpipe).
    int inv = int(gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x);
    int quad_blocks = u_out.z / QQ;
    // Invocations past the last strip (the rest of the last work group) find no block to compute.
    int quad_block = inv % quad_blocks, strip = inv / quad_blocks;
    int oq0 = quad_block * QQ;
#if MODE == 0
    int iq0 = (oq0 / u_out_quads_per_group) * CGQ;
#else
    int iq0 = oq0;
#endif

    // The weights of the QQ quads, w[tap * TAP_TEXELS + ...], and their bias.
    vec4 w[KSIZE * KSIZE * TAP_TEXELS];
    int wb = quad_block * KSIZE * KSIZE * TAP_TEXELS;
#define WEIGHT(i) w[i] = texelFetch(u_weights, wb + (i));
#if MODE == 0
#if IMAGE
#define WEIGHTS_G(gg)                                                                                            \
    {                                                                                                            \
        const int g = gg;                                                                                        \
        WEIGHT(t + (g * 4) * QQ + q) WEIGHT(t + (g * 4 + 1) * QQ + q) WEIGHT(t + (g * 4 + 2) * QQ + q)           \
    }
#else
#define WEIGHTS_G(gg)                                                                                            \
    {                                                                                                            \
        const int g = gg;                                                                                        \
        WEIGHT(t + (g * 4) * QQ + q) WEIGHT(t + (g * 4 + 1) * QQ + q) WEIGHT(t + (g * 4 + 2) * QQ + q)           \
        WEIGHT(t + (g * 4 + 3) * QQ + q)                                                                         \
    }
#endif
#define WEIGHTS_Q(qq) { const int q = qq; FOR_G(WEIGHTS_G) }
#elif MODE == 1
#define WEIGHTS_Q(qq) { const int q = qq; WEIGHT(t + q) WEIGHT(t + QQ + q) WEIGHT(t + 2 * QQ + q) WEIGHT(t + 3 * QQ + q) }
#else
#define WEIGHTS_Q(qq) { const int q = qq; WEIGHT(t + q) }
#endif
#define WEIGHTS_K(kk) { const int t = (ky * KSIZE + kk) * TAP_TEXELS; FOR_Q(WEIGHTS_Q) }
#define WEIGHTS_Y(kyy) { const int ky = kyy; FOR_K(WEIGHTS_K) }
    FOR_Y(WEIGHTS_Y)
    vec4 bias[QQ];
    FOR_Q(LOAD_BIAS)

    // Input columns: padding (and columns past the input, never used by a stored pixel) read 0, which adds
    // w·0 and leaves the sum unchanged.  Depthwise caches the columns of every kernel row (COLB: where row
    // ky's start), the other modes one row at a time.
#if MODE == 2
#define COLB (ky * CACHED_QUADS * NCOLS)
#else
#define COLB 0
#endif
#if WIDE_IN
#define FETCH_4(f)                                                                                               \
    {                                                                                                            \
        uvec4 u = texelFetch(u_input, ((row + colx[c]) * u_in.z + iq0) / 4 + f);                                 \
        if (!(colok[c] && rowok)) u = uvec4(0u);                                                                 \
        col[COLB + (4 * f) * NCOLS + c] = unpack_quad(u.x);                                                             \
        col[COLB + (4 * f + 1) * NCOLS + c] = unpack_quad(u.y);                                                         \
        col[COLB + (4 * f + 2) * NCOLS + c] = unpack_quad(u.z);                                                         \
        col[COLB + (4 * f + 3) * NCOLS + c] = unpack_quad(u.w);                                                         \
    }
#if CACHED_QUADS == 4
#define FETCH_C(cc) { const int c = cc; FETCH_4(0) }
#elif CACHED_QUADS == 8
#define FETCH_C(cc) { const int c = cc; FETCH_4(0) FETCH_4(1) }
#else
#define FETCH_C(cc) { const int c = cc; FETCH_4(0) FETCH_4(1) FETCH_4(2) FETCH_4(3) }
#endif
#define FETCH_COLUMNS FOR_C(FETCH_C)
#else
#define FETCH_C(c)                                                                                               \
    {                                                                                                            \
        uint u = texelFetch(u_input, (row + colx[c]) * u_in.z + iq0 + g).x;                                      \
        col[COLB + g * NCOLS + c] = unpack_quad(colok[c] && rowok ? u : 0u);                                            \
    }
#define FETCH_G(gg) { const int g = gg; FOR_C(FETCH_C) }
#if MODE == 0
#define FETCH_COLUMNS FOR_G(FETCH_G)
#else
#define FETCH_COLUMNS FOR_Q(FETCH_G)
#endif
#endif

    // Multiply-adds of tap (ky, kx) for pixel p and output quad q, in the reference order (kx, then the
    // cached quads g, then their channels j).
#define TAP(kx) ((ky * KSIZE + kx) * TAP_TEXELS)
#if MODE == 0
#define MAC_G(gg)                                                                                                \
    {                                                                                                            \
        const int g = gg;                                                                                        \
        vec4 x = col[g * NCOLS + p * STRIDE + kx];                                                               \
        acc[p * QQ + q] += w[TAP(kx) + (g * 4) * QQ + q] * x.x;                                                  \
        acc[p * QQ + q] += w[TAP(kx) + (g * 4 + 1) * QQ + q] * x.y;                                              \
        acc[p * QQ + q] += w[TAP(kx) + (g * 4 + 2) * QQ + q] * x.z;                                              \
        CH3(acc[p * QQ + q] += w[TAP(kx) + (g * 4 + 3) * QQ + q] * x.w;)                                         \
    }
#define MAC_QP FOR_G(MAC_G)
#elif MODE == 1
#define MAC_QP                                                                                                   \
    {                                                                                                            \
        vec4 x = col[q * NCOLS + p * STRIDE + kx];                                                               \
        acc[p * QQ + q] += w[TAP(kx) + q] * x.x;                                                                 \
        acc[p * QQ + q] += w[TAP(kx) + QQ + q] * x.y;                                                            \
        acc[p * QQ + q] += w[TAP(kx) + 2 * QQ + q] * x.z;                                                        \
        acc[p * QQ + q] += w[TAP(kx) + 3 * QQ + q] * x.w;                                                        \
    }
#endif
#define MAC_P(pp) { const int p = pp; MAC_QP }
#if MODE == 0 && QQ % 2 == 0
    // Two output quads at a time: each accumulator depends on its previous sum, and one chain at a time
    // leaves the vector adders of a CPU (latency 3, two ports) waiting two thirds of the time.  Each
    // accumulator still sums in the reference order.
#if IMAGE
#define MAC_W(j)
#else
#define MAC_W(j) j
#endif
#define MAC_PAIR(g, j, c)                                                                                        \
    acc[p * QQ + q] += w[TAP(kx) + (g * 4 + j) * QQ + q] * x.c;                                                  \
    acc[p * QQ + q1] += w[TAP(kx) + (g * 4 + j) * QQ + q1] * x.c;
#define MAC_G2(gg)                                                                                               \
    {                                                                                                            \
        const int g = gg;                                                                                        \
        vec4 x = col[g * NCOLS + p * STRIDE + kx];                                                               \
        MAC_PAIR(g, 0, x) MAC_PAIR(g, 1, y) MAC_PAIR(g, 2, z) MAC_W(MAC_PAIR(g, 3, w))                           \
    }
#define MAC_P2(pp) { const int p = pp; FOR_G(MAC_G2) }
#define MAC_Q(qq)                                                                                                \
    if ((qq & 1) == 0) {                                                                                         \
        const int q = qq, q1 = min(qq + 1, QQ - 1);                                                              \
        FOR_P(MAC_P2)                                                                                            \
    }
#else
#define MAC_Q(qq) { const int q = qq; FOR_P(MAC_P) }
#endif
#define MAC_K(kk) { const int kx = kk; FOR_Q(MAC_Q) }
#define ROW(kyy)                                                                                                 \
    {                                                                                                            \
        const int ky = kyy;                                                                                      \
        int y = iy0 + ky;                                                                                        \
        bool rowok = y >= 0 && y < u_in.y;                                                                       \
        int row = (rowok ? y : 0) * u_in.x;                                                                      \
        vec4 col[CACHED_QUADS * NCOLS];                                                                          \
        FETCH_COLUMNS                                                                                            \
        FOR_K(MAC_K)                                                                                             \
    }
#define STORE_P(pp)                                                                                              \
    {                                                                                                            \
        const int p = pp;                                                                                        \
        if (ox0 + p < u_out.x) {                                                                                \
            int dst = (oy * u_out.x + ox0 + p) * u_out.z + oq0;                                                  \
            STORE_QUADS                                                                                          \
        }                                                                                                        \
    }

    for (int b = 0; b < NB; b++) {
        int pb = strip * NB + b;
        if (pb >= u_blocks) break;
        int by = pb / u_row_blocks;
        int oy = by * DW_ROWS;
        int ox0 = (pb - by * u_row_blocks) * P;
        int ix0 = ox0 * STRIDE - u_pad.x;
        int iy0 = oy * STRIDE - u_pad.y;

        int colx[NCOLS];
        bool colok[NCOLS];
#define COLUMN(c)                                                                                                \
    colok[c] = ix0 + c >= 0 && ix0 + c < u_in.x;                                                                 \
    colx[c] = colok[c] ? ix0 + c : 0;
        FOR_C(COLUMN)

#if MODE == 2
        // Depthwise: the columns of every kernel row first (COLB), then the outputs quad by quad, and each
        // quad component by component (c) for the P pixels of a row together: llvmpipe then keeps the KSIZE²
        // weights of the component in registers and loads each cached input once per use, where summing a
        // vec4 per pixel and tap left both operands of every multiplication in memory (15% slower).
        vec4 col[(KSIZE + DW_ROWS - 1) * CACHED_QUADS * NCOLS];
#define DW_FETCH_ROW(kyy)                                                                                        \
    {                                                                                                            \
        const int ky = kyy;                                                                                      \
        int y = iy0 + ky;                                                                                        \
        bool rowok = y >= 0 && y < u_in.y;                                                                       \
        int row = (rowok ? y : 0) * u_in.x;                                                                      \
        FETCH_COLUMNS                                                                                            \
    }
        FOR_Y(DW_FETCH_ROW)
#if DW_ROWS > 1
        DW_FETCH_ROW(KSIZE)
#endif
#if DW_ROWS > 2
        DW_FETCH_ROW(KSIZE + 1)
#endif
#if DW_ROWS > 3
        DW_FETCH_ROW(KSIZE + 2)
#endif
        // Output row oy + dr reads input rows dr ... dr + KSIZE - 1 of the cache (DW_ROWS > 1: stride 1).  Each
        // sum starts from -0.0, so that the first addition can be dropped (-0 + x is x for every x); the sum
        // can then differ from the reference's 0 + ... only in the sign of a zero, which the addition of the
        // bias and the quantization make the same byte.
#define DW_TAP_P(pp)                                                                                             \
    {                                                                                                            \
        const int p = pp;                                                                                        \
        s[p] += wc[ky * KSIZE + kx] * col[(ky + dr) * CACHED_QUADS * NCOLS + q * NCOLS + p * STRIDE + kx][c];    \
    }
#define DW_TAP_K(kk) { const int kx = kk; FOR_P(DW_TAP_P) }
#define DW_TAP_Y(kyy) { const int ky = kyy; FOR_K(DW_TAP_K) }
#define DW_WEIGHT_K(kk) wc[ky * KSIZE + kk] = w[(ky * KSIZE + kk) * TAP_TEXELS + q][c];
#define DW_WEIGHT_Y(kyy) { const int ky = kyy; FOR_K(DW_WEIGHT_K) }
#define DW_ZERO(p) s[p] = -0.0;
#define DW_SUM(p) a[p][c] = s[p];
#define DW_COMPONENT(cc)                                                                                         \
    {                                                                                                            \
        const int c = cc;                                                                                        \
        float wc[KSIZE * KSIZE];                                                                                 \
        PRECISE float s[P];                                                                                      \
        FOR_Y(DW_WEIGHT_Y) FOR_P(DW_ZERO) FOR_Y(DW_TAP_Y) FOR_P(DW_SUM)                                          \
    }
        // Output quads go out in groups of DW_GROUP (one store each): quad j of group i is q = DW_GROUP·i + j.
#if WIDE_OUT
#define DW_GROUP 4
#define DW_OUT uvec4
#define DW_PART(v) v[j]
#define DW_RESIDUAL(dst) RESIDUAL4(dst)
#define DW_STORE(dst, v) outp[(dst) >> 2] = v;
#define DW_QUADS FOR_4(DW_QUAD)
#else
#define DW_GROUP 1
#define DW_OUT uint
#define DW_PART(v) v
#define DW_RESIDUAL(dst) RESIDUAL1(dst)
#define DW_STORE(dst, v) outp[dst] = v;
#define DW_QUADS DW_QUAD(0)
#endif
#define DW_DST(p) (((oy + dr) * u_out.x + (p)) * u_out.z + oq0 + DW_GROUP * i)
#define DW_FINISH(pp) { const int p = pp; DW_PART(o[p]) = finish_quad(a[p], DW_PART(r[p]), bias[q]); }
#define DW_QUAD(jj)                                                                                              \
    {                                                                                                            \
        const int j = jj, q = DW_GROUP * i + j;                                                                  \
        PRECISE vec4 a[P];                                                                                       \
        DW_COMPONENT(0) DW_COMPONENT(1) DW_COMPONENT(2) DW_COMPONENT(3)                                          \
        FOR_P(DW_FINISH)                                                                                         \
    }
#define DW_RESIDUAL_P(pp) { const int p = pp; r[p] = DW_RESIDUAL(DW_DST(min(ox0 + p, u_out.x - 1))); }
#define DW_STORE_P(pp)                                                                                           \
    {                                                                                                            \
        const int p = pp;                                                                                        \
        if (ox0 + p < u_out.x) {                                                                                \
            DW_STORE(DW_DST(ox0 + p), o[p])                                                                      \
            KEEP(o[p]);                                                                                          \
        }                                                                                                        \
    }
#define DW_GROUP_I(ii)                                                                                           \
    {                                                                                                            \
        const int i = ii;                                                                                        \
        DW_OUT r[P], o[P];                                                                                       \
        FOR_P(DW_RESIDUAL_P)                                                                                     \
        DW_QUADS                                                                                                 \
        FOR_P(DW_STORE_P)                                                                                        \
    }
#if QQ == DW_GROUP
#define DW_GROUPS DW_GROUP_I(0)
#else
#define DW_GROUPS DW_GROUP_I(0) DW_GROUP_I(1)
#endif
#define DW_ROW(rr)                                                                                               \
    {                                                                                                            \
        const int dr = rr;                                                                                       \
        if (oy + dr < u_out.y) DW_GROUPS                                                                         \
    }
        DW_ROW(0)
#if DW_ROWS > 1
        DW_ROW(1)
#endif
#if DW_ROWS > 2
        DW_ROW(2)
#endif
#if DW_ROWS > 3
        DW_ROW(3)
#endif
#else
        PRECISE vec4 acc[P * QQ];
#define ZERO_Q(q) acc[p * QQ + q] = vec4(0.0);
#define ZERO_P(pp) { const int p = pp; FOR_Q(ZERO_Q) }
        FOR_P(ZERO_P)
        FOR_Y(ROW)
        FOR_P(STORE_P)
#endif
    }
    KEEP_FLUSH
}
