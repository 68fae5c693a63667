/* Conv2D kernels of the fast CPU back end, written once over a small vector layer and compiled per ISA.
 *
 * The including file defines, before including this one:
 *   VL                  lanes of a vector (int32 or float)
 *   ISA_FN(name)        the name with the ISA's suffix
 *   CONV_HAS_INT        1 when it has the integer (VNNI) kernels
 *   types VI (int32 lanes), VF (float lanes) and the inline functions used below (vi_*, vf_*,
 *   q_store_centered, stage_expand_int).
 * and may define
 *   CONV_INT_SIGNED     1 when vi_dot takes the input bytes as signed x − 128 (NEON's sdot): ROWS_COPY rows are
 *                       staged with stage_copy_signed (kernels.h, glnn_cpu_kernels.int_signed)
 *   CONV_REGS32         1 for the wide register tiles of ISAs with 32 vector registers (default: VL == 16)
 *
 * Register tiles: M output pixels (along x) × NV blocks of VL output channels, accumulated over k-steps (one
 * input quad for the integer kernels, one input channel for the float ones) in registers; the epilogue
 * scales, adds residual and bias, activates, quantizes and stores VL bytes per pixel and block. */
#include "backends/cpu/kernels.h"

#include <string.h>

#ifndef CONV_INT_SIGNED
#define CONV_INT_SIGNED 0
#endif
#ifndef CONV_REGS32
#define CONV_REGS32 (VL == 16)
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- epilogue ---------------------------------------------------------------------------------------------- */

/* Residual, activation, Q and the store of m pixels of one block (n ≤ VL bytes each, `stride` bytes apart).
 * y holds act_k·z plus a constant (plan->bias_k, plan->scale), and with y' = y + r·res_k:
 *   DEFAULT, BRELU6:  y = 255·act(z) − 127.5 and Q(act(z)) = 128 + clamp(⌊y'⌋, −128, 127)
 *   SIGMOID_LIKE:     y = 12.75·z and 255·act(z) + 0.5 = 128 + y' + 2·clamp(y', ±6.375) + clamp(y', ±31.875)
 * so that Q = 128 + clamp(⌊w⌋, −128, 127) for w the part after 128: a signed saturating pack and an exclusive
 * or of the sign bit.  The float rounding differs from the reference's by a few units in the last place of
 * values below 256, which the plan's bound covers. */
static void store_block(const glnn_cpu_conv2d_plan *p, const VF *y, int m, const uint8_t *res, uint8_t *out,
                        int64_t stride, int n) {
    const VF rk = vf_set1(p->res_k);
    VF v[16];
    for (int i = 0; i < m; i++)
        v[i] = res ? vf_fma(vf_from_u8(res + i * stride, n), rk, y[i]) : y[i];
    if (p->act == GLNN_ACTIVATION_SIGMOID_LIKE) {
        const VF two = vf_set1(2.0f);
        for (int i = 0; i < m; i++) {
            const VF c1 = vf_clamp_sym(v[i], 6.375f), c2 = vf_clamp_sym(v[i], 31.875f);
            q_store_centered(out + i * stride, vf_fma(c1, two, vf_add(v[i], c2)), n);
        }
    } else {
        for (int i = 0; i < m; i++)
            q_store_centered(out + i * stride, v[i], n);
    }
}

#if CONV_HAS_INT
/* y of an integer tile's pixel: its P plane sums (r, VL lanes apart) scaled, plus bias_k. */
ALWAYS_INLINE VF int_y(const int32_t *r, const int P, VF s0, VF s1, VF s2, VF bias) {
    VF z = P > 2 ? vf_fma(vf_from_vi(vi_loadu(r + 2 * VL)), s2, bias) : bias;
    z = vf_fma(vf_from_vi(vi_loadu(r + VL)), s1, z);
    return vf_fma(vf_from_vi(vi_loadu(r)), s0, z);
}

/* store_block for the m pixels of an integer tile's block whose plane sums start at acc + slot·VL, 6·VL apart
 * per pixel: the same steps without the float copy. */
ALWAYS_INLINE void store_block_int(const glnn_cpu_conv2d_plan *p, const int32_t *acc, int slot, const int P, int m,
                                   int64_t co, const uint8_t *res, uint8_t *out, int64_t stride, int n) {
    const int64_t nbl = (int64_t)p->nb * VL;
    const VF s0 = vf_loadu(p->scale + co), s1 = vf_loadu(p->scale + nbl + co);
    const VF s2 = P > 2 ? vf_loadu(p->scale + 2 * nbl + co) : vf_zero(), bias = vf_loadu(p->bias_k + co);
    const VF rk = vf_set1(p->res_k);
    if (p->act == GLNN_ACTIVATION_SIGMOID_LIKE) {
        const VF two = vf_set1(2.0f);
        for (int i = 0; i < m; i++) {
            VF v = int_y(acc + (6 * i + slot) * VL, P, s0, s1, s2, bias);
            if (res) v = vf_fma(vf_from_u8(res + i * stride, n), rk, v);
            const VF c1 = vf_clamp_sym(v, 6.375f), c2 = vf_clamp_sym(v, 31.875f);
            q_store_centered(out + i * stride, vf_fma(c1, two, vf_add(v, c2)), n);
        }
    } else {
        for (int i = 0; i < m; i++) {
            VF v = int_y(acc + (6 * i + slot) * VL, P, s0, s1, s2, bias);
            if (res) v = vf_fma(vf_from_u8(res + i * stride, n), rk, v);
            q_store_centered(out + i * stride, v, n);
        }
    }
}
#endif

/* ---- staged rows ------------------------------------------------------------------------------------------- */

/* SRC_EXPANDED float rows: [pixel][ci][lanes], lane l holding input byte expand_index[b][ci][l] of the pixel:
 * gathers of 4 bytes at each lane's byte, masked to the byte; the row's last pixel (whose gathers could read
 * past the input) byte by byte. */
static void stage_expand_float(const glnn_cpu_conv2d_plan *p, const uint8_t *src, int64_t left, int64_t x_end, int b,
                               uint8_t *dst) {
    const int cg = p->cg;
    const int32_t *idx = p->expand_index + (size_t)b * cg * VL;
    float *d = (float *)dst;
    for (int64_t px = 0; px < p->row_px; px++, d += (size_t)cg * VL) {
        const int64_t xi = px - left;
        if (xi < 0 || xi >= x_end) {
            memset(d, 0, (size_t)cg * VL * sizeof(float));
            continue;
        }
        const uint8_t *s = src + xi * p->c;
        if (xi + 1 < x_end) {
            for (int ci = 0; ci < cg; ci++)
                vf_storeu(d + ci * VL, vf_gather_u8(s, idx + ci * VL));
        } else {
            for (int i = 0; i < cg * VL; i++)
                d[i] = (float)s[idx[i]];
        }
    }
}

/* Stages input row iy (0 ≤ iy < H) into dst as plan->rows asks, for channel blocks [b0, b1). */
static void stage_row(const glnn_cpu_conv2d_plan *p, const uint8_t *in, int64_t iy, int b0, int b1, uint8_t *dst) {
    const int64_t W = p->w, C = p->c, left = p->pad_left, px = p->row_px, px_n = p->row_px;
    const uint8_t *src = in + iy * W * C;
    /* Input columns that land in the staged row: [−left, px − left) ∩ [0, W). */
    const int64_t x_end = px - left < W ? px - left : W;
    switch (p->rows) {
    case ROWS_COPY: { /* CONV_INT only */
#if CONV_INT_SIGNED
        stage_copy_signed(dst, src, (size_t)(left * C), (size_t)(x_end * C), p->row_bytes);
#else
        memset(dst, 0, (size_t)(left * C));
        memcpy(dst + left * C, src, (size_t)(x_end * C));
        memset(dst + (left + x_end) * C, 0, p->row_bytes - (size_t)((left + x_end) * C));
#endif
        break;
    }
    case ROWS_FLOAT: {
        float *f = (float *)dst;
        if (p->source == SRC_DEPTHWISE) {           /* a plane of VL channels per block, each pixel's bytes read once */
            const size_t plane = (size_t)px_n * VL; /* floats; the tiles use p->row_px · p->px_bytes bytes */
            /* Pixels [lo, hi) of the staged row are input pixels, the others padding.  Plane by plane: one stream of
             * stores at a time, the full blocks without a mask. */
            const int64_t lo = left < px_n ? left : px_n, hi = left + x_end < px_n ? left + x_end : px_n;
            for (int b = b0; b < b1; b++) {
                float *d = f + (size_t)(b - b0) * plane;
                const int64_t c0 = (int64_t)b * VL;
                const int n = C - c0 < VL ? (int)(C - c0) : VL;
                for (int64_t q = 0; q < lo; q++)
                    vf_storeu(d + q * VL, vf_zero());
                const uint8_t *s = src + (lo - left) * C + c0;
                if (n == VL) {
                    for (int64_t q = lo; q < hi; q++, s += C)
                        vf_storeu(d + q * VL, vf_from_u8(s, VL));
                } else {
                    for (int64_t q = lo; q < hi; q++, s += C)
                        vf_storeu(d + q * VL, vf_from_u8(s, n));
                }
                for (int64_t q = hi; q < px_n; q++)
                    vf_storeu(d + q * VL, vf_zero());
            }
            break;
        }
        const int64_t n = px_n * C, a = left * C, e = (left + x_end) * C;
        for (int64_t i = 0; i < a; i++)
            f[i] = 0.0f;
        int64_t i = a;
        for (; i + VL <= e; i += VL)
            vf_storeu(f + i, vf_from_u8(src + (i - a), VL));
        for (; i < e; i++)
            f[i] = (float)src[i - a];
        for (i = e; i < n + 32; i++)
            f[i] = 0.0f;
        break;
    }
    case ROWS_EXPANDED: {
        const size_t plane = (size_t)px * (size_t)p->px_bytes;
        for (int b = b0; b < b1; b++) {
            uint8_t *d = dst + (size_t)(b - b0) * plane;
#if CONV_HAS_INT
            if (p->method == CONV_INT) {
                stage_expand_int(p, src, left, x_end, b, d);
                continue;
            }
#endif
            stage_expand_float(p, src, left, x_end, b, d);
        }
        break;
    }
    default: break;
    }
}

/* Pointers to the k input rows of output row yo, staging those not yet in the ring. */
static void window_rows(const glnn_cpu_conv2d_plan *p, const uint8_t *in, glnn_cpu_row_ring *ring, int64_t yo, int b0,
                        int b1, const uint8_t **rows) {
    for (int ky = 0; ky < p->k; ky++) {
        const int64_t iy = yo * p->s - p->pad_top + ky;
        if (iy < 0 || iy >= p->h) {
            rows[ky] = p->zero_row;
        } else if (p->rows == ROWS_DIRECT) {
            rows[ky] = in + iy * p->w * p->c;
        } else {
            const int slot = (int)(iy % p->k);
            uint8_t *d = ring->slots + (size_t)slot * p->row_bytes;
            if (ring->tag[slot] != iy) {
                stage_row(p, in, iy, b0, b1, d);
                ring->tag[slot] = iy;
            }
            rows[ky] = d;
        }
    }
}

/* ---- integer tiles ------------------------------------------------------------------------------------------ */

typedef struct {
    const glnn_cpu_conv2d_plan *p;
    const uint8_t *const *rows; /* k rows; for expanded rows, already at block b's plane */
    int64_t x;                  /* first output column of the tile */
    int b;                      /* first channel block */
    size_t gbase;               /* broadcast: byte offset of the block's group in a pixel */
    uint8_t *out;               /* output pixel x of this row */
    const uint8_t *res;         /* residual pixel x of this row, or NULL */
} tile_args;

/* Tiles are written with one named variable per accumulator (GCC keeps arrays of vectors in memory): REPn(X)
 * expands X(0) … X(n−1), one per pixel of the tile; a_<plane><block>_<pixel> accumulate.  P (planes) and NV
 * (blocks) are constants, so the `if`s on them fold away. */
#define REP1(X) X(0)
#define REP4(X) X(0) X(1) X(2) X(3)
#define REP5(X) REP4(X) X(4)
#define REP6(X) REP5(X) X(5)
#define REP8(X) REP6(X) X(6) X(7)
#define REP12(X) REP8(X) X(8) X(9) X(10) X(11)
#define REP14(X) REP12(X) X(12) X(13)
#define REP9(X) REP8(X) X(8)
#define COUNT_PIXEL(i) m++;

typedef void (*tile_fn)(const tile_args *);
typedef void (*row_fn)(const tile_args *, int64_t n, int64_t last);

/* The k-step loops shared by the tiles: kx outer (stride A bytes in a row), j inner (stride B bytes); the
 * weight pointer advances by `wstep` per step.  The body (the macro's arguments) consumes the step. */
#define TILE_LOOPS(...)                                                                                                \
    for (int ky = 0; ky < k; ky++) {                                                                                   \
        const uint8_t *base = t->rows[ky] + t->x * s * pxb + t->gbase;                                                 \
        const uint8_t *w = wb + (size_t)ky * steps * wstep;                                                            \
        for (int kx = 0; kx < kxn; kx++) {                                                                             \
            const uint8_t *a = base + kx * A;                                                                          \
            for (int j = 0; j < jn; j++, a += B, w += wstep) {                                                         \
                __VA_ARGS__                                                                                            \
            }                                                                                                          \
        }                                                                                                              \
    }

#define TILE_SETUP(WSTEP, EXPANDED, ELEM)                                                                              \
    const glnn_cpu_conv2d_plan *p = t->p;                                                                              \
    const int k = p->k, steps = p->steps, s = p->s;                                                                    \
    const int64_t pxb = p->px_bytes, sp = s * pxb;                                                                     \
    const int kxn = p->image ? 1 : k, jn = p->image ? steps : steps / k;                                               \
    const int64_t A = pxb, B = (EXPANDED) ? VL * (ELEM) : (ELEM);                                                      \
    const size_t wstep = (WSTEP), wblock = (size_t)k * steps * wstep;                                                  \
    const uint8_t *wb = (const uint8_t *)p->wpack + (size_t)t->b * wblock;                                             \
    const int64_t cout = p->cout;                                                                                      \
    (void)wblock;

#if CONV_HAS_INT
#define IACC_DECL(i)                                                                                                   \
    VI a00_##i = vi_zero(), a10_##i = vi_zero(), a20_##i = vi_zero(), a01_##i = vi_zero(), a11_##i = vi_zero(),        \
       a21_##i = vi_zero();
#define IACC_STEP(i)                                                                                                   \
    {                                                                                                                  \
        const VI x = EXPANDED_ ? vi_loadu(a + i * sp) : vi_bcast4(a + i * sp);                                         \
        a00_##i = vi_dot(a00_##i, x, w00);                                                                             \
        a10_##i = vi_dot(a10_##i, x, w10);                                                                             \
        if (P_ > 2) a20_##i = vi_dot(a20_##i, x, w20);                                                                 \
        if (NV_ > 1) {                                                                                                 \
            a01_##i = vi_dot(a01_##i, x, w01);                                                                         \
            a11_##i = vi_dot(a11_##i, x, w11);                                                                         \
            if (P_ > 2) a21_##i = vi_dot(a21_##i, x, w21);                                                             \
        }                                                                                                              \
    }
#define IACC_STORE(i)                                                                                                  \
    vi_store(acc + (6 * i + 0) * VL, a00_##i);                                                                         \
    vi_store(acc + (6 * i + 1) * VL, a10_##i);                                                                         \
    if (P_ > 2) vi_store(acc + (6 * i + 2) * VL, a20_##i);                                                             \
    if (NV_ > 1) {                                                                                                     \
        vi_store(acc + (6 * i + 3) * VL, a01_##i);                                                                     \
        vi_store(acc + (6 * i + 4) * VL, a11_##i);                                                                     \
        if (P_ > 2) vi_store(acc + (6 * i + 5) * VL, a21_##i);                                                         \
    }
/* An integer tile: REP pixels × NV_ blocks with P_ planes, broadcast or expanded source.  The sums and the
 * epilogue are separate functions: in one, GCC keeps the epilogue's constants and the accumulators live
 * together, runs out of registers and spills the accumulators inside the hot loop. */
#define INT_TILE(NAME, P, NV, REP, EXPANDED)                                                                           \
    static __attribute__((noinline)) void NAME##_sums(const tile_args *t, int32_t *acc) {                              \
        enum { P_ = P, NV_ = NV, EXPANDED_ = EXPANDED };                                                               \
        TILE_SETUP((size_t)P_ *VL * 4, EXPANDED_, 4)                                                                   \
        (void)cout;                                                                                                    \
        REP(IACC_DECL)                                                                                                 \
        TILE_LOOPS({                                                                                                   \
            const VI w00 = vi_loadu(w), w10 = vi_loadu(w + VL * 4);                                                    \
            const VI w20 = P_ > 2 ? vi_loadu(w + 2 * VL * 4) : vi_zero();                                              \
            const VI w01 = NV_ > 1 ? vi_loadu(w + wblock) : vi_zero();                                                 \
            const VI w11 = NV_ > 1 ? vi_loadu(w + wblock + VL * 4) : vi_zero();                                        \
            const VI w21 = NV_ > 1 && P_ > 2 ? vi_loadu(w + wblock + 2 * VL * 4) : vi_zero();                          \
            REP(IACC_STEP)                                                                                             \
        })                                                                                                             \
        REP(IACC_STORE)                                                                                                \
    }                                                                                                                  \
    static void NAME(const tile_args *t) {                                                                             \
        enum { P_ = P, NV_ = NV };                                                                                     \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int64_t cout = p->cout;                                                                                  \
        int32_t acc[6 * 14 * VL] __attribute__((aligned(64)));                                                         \
        NAME##_sums(t, acc);                                                                                           \
        const int64_t co0 = (int64_t)t->b * VL, co1 = co0 + VL;                                                        \
        int m = 0;                                                                                                     \
        REP(COUNT_PIXEL)                                                                                               \
        const int n0 = cout - co0 < VL ? (int)(cout - co0) : VL;                                                       \
        store_block_int(p, acc, 0, P_, m, co0, t->res ? t->res + co0 : NULL, t->out + co0, cout, n0);                  \
        if (NV_ > 1) {                                                                                                 \
            const int n1 = cout - co1 < VL ? (int)(cout - co1) : VL;                                                   \
            store_block_int(p, acc, 3, P_, m, co1, t->res ? t->res + co1 : NULL, t->out + co1, cout, n1);              \
        }                                                                                                              \
    }

INT_TILE(int_tile_2_2_6_0, 2, 2, REP6, 0)
INT_TILE(int_tile_2_2_1_0, 2, 2, REP1, 0)
INT_TILE(int_tile_2_1_12_0, 2, 1, REP12, 0)
INT_TILE(int_tile_2_1_1_0, 2, 1, REP1, 0)
INT_TILE(int_tile_3_2_4_0, 3, 2, REP4, 0)
INT_TILE(int_tile_3_2_1_0, 3, 2, REP1, 0)
INT_TILE(int_tile_3_1_8_0, 3, 1, REP8, 0)
INT_TILE(int_tile_3_1_1_0, 3, 1, REP1, 0)
INT_TILE(int_tile_2_1_12_1, 2, 1, REP12, 1)
INT_TILE(int_tile_2_1_1_1, 2, 1, REP1, 1)
INT_TILE(int_tile_3_1_8_1, 3, 1, REP8, 1)
INT_TILE(int_tile_3_1_1_1, 3, 1, REP1, 1)
#endif

/* ---- float tiles -------------------------------------------------------------------------------------------- */

#define FACC_DECL(i) VF f0_##i = bias0, f1_##i = bias1;
#define FACC_STEP(i)                                                                                                   \
    {                                                                                                                  \
        const VF x = EXPANDED_ ? vf_loadu((const float *)(a + i * sp)) : vf_bcast((const float *)(a + i * sp));        \
        f0_##i = vf_fma(x, w0, f0_##i);                                                                                \
        if (NV_ > 1) f1_##i = vf_fma(x, w1, f1_##i);                                                                   \
    }
#define FACC_STORE(i)                                                                                                  \
    vf_store(acc + i * VL, f0_##i);                                                                                    \
    if (NV_ > 1) vf_store(acc + (16 + i) * VL, f1_##i);
/* A float tile over float rows (q as float): REP pixels × NV_ blocks, broadcast or expanded source. */
#define FLOAT_TILE(NAME, NV, REP, EXPANDED)                                                                            \
    static __attribute__((noinline)) void NAME##_sums(const tile_args *t, float *acc) {                                \
        enum { NV_ = NV, EXPANDED_ = EXPANDED };                                                                       \
        TILE_SETUP((size_t)VL * 4, EXPANDED_, 4)                                                                       \
        (void)cout;                                                                                                    \
        const VF bias0 = vf_loadu(p->bias_k + (size_t)t->b * VL);                                                      \
        const VF bias1 = NV_ > 1 ? vf_loadu(p->bias_k + (size_t)(t->b + 1) * VL) : vf_zero();                          \
        REP(FACC_DECL)                                                                                                 \
        TILE_LOOPS({                                                                                                   \
            const VF w0 = vf_loadu((const float *)w);                                                                  \
            const VF w1 = NV_ > 1 ? vf_loadu((const float *)(w + wblock)) : vf_zero();                                 \
            REP(FACC_STEP)                                                                                             \
        })                                                                                                             \
        REP(FACC_STORE)                                                                                                \
    }                                                                                                                  \
    static void NAME(const tile_args *t) {                                                                             \
        enum { NV_ = NV };                                                                                             \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int64_t cout = p->cout;                                                                                  \
        float acc[2 * 16 * VL] __attribute__((aligned(64)));                                                           \
        NAME##_sums(t, acc);                                                                                           \
        const int64_t co0 = (int64_t)t->b * VL, co1 = co0 + VL;                                                        \
        const int n0 = cout - co0 < VL ? (int)(cout - co0) : VL;                                                       \
        int m = 0;                                                                                                     \
        REP(COUNT_PIXEL)                                                                                               \
        store_block(p, (const VF *)acc, m, t->res ? t->res + co0 : NULL, t->out + co0, cout, n0);                      \
        if (NV_ > 1) {                                                                                                 \
            const int n1 = cout - co1 < VL ? (int)(cout - co1) : VL;                                                   \
            store_block(p, (const VF *)(acc + 16 * VL), m, t->res ? t->res + co1 : NULL, t->out + co1, cout, n1);      \
        }                                                                                                              \
    }

#if CONV_REGS32
FLOAT_TILE(float_tile_2_m_0, 2, REP12, 0)
FLOAT_TILE(float_tile_1_m_0, 1, REP14, 0)
FLOAT_TILE(float_tile_1_m_1, 1, REP14, 1)
#define FLOAT_M2 12
#define FLOAT_M1 14
#else
FLOAT_TILE(float_tile_2_m_0, 2, REP5, 0)
FLOAT_TILE(float_tile_1_m_0, 1, REP6, 0)
FLOAT_TILE(float_tile_1_m_1, 1, REP6, 1)
#define FLOAT_M2 5
#define FLOAT_M1 6
#endif
FLOAT_TILE(float_tile_2_1_0, 2, REP1, 0)
FLOAT_TILE(float_tile_1_1_0, 1, REP1, 0)
FLOAT_TILE(float_tile_1_1_1, 1, REP1, 1)

/* A depthwise tile NAME: its sums (NAME_sums, REP pixels of one block) and the epilogue over them. */
#define DW_EPILOGUE(NAME, REP)                                                                                         \
    static void NAME(const tile_args *t) {                                                                             \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        float acc[16 * VL] __attribute__((aligned(64)));                                                               \
        NAME##_sums(t, acc);                                                                                           \
        const int64_t cout = p->cout, co = (int64_t)t->b * VL;                                                         \
        const int n = cout - co < VL ? (int)(cout - co) : VL;                                                          \
        int m = 0;                                                                                                     \
        REP(COUNT_PIXEL)                                                                                               \
        store_block(p, (const VF *)acc, m, t->res ? t->res + co : NULL, t->out + co, cout, n);                         \
    }
/* Depthwise: lane = channel; REP pixels of one block, k² taps, weights as memory operands. */
#define DACC_DECL(i) VF d_##i = bias;
#define DACC_STEP(i) d_##i = vf_fma(vf_loadu((const float *)(a + i * sp)), w, d_##i);
#define DACC_STORE(i) vf_store(acc + i * VL, d_##i);
#define DW_TILE(NAME, REP)                                                                                             \
    static __attribute__((noinline)) void NAME##_sums(const tile_args *t, float *acc) {                                \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int k = p->k;                                                                                            \
        const int64_t pxb = p->px_bytes, sp = p->s * pxb;                                                              \
        const VF bias = vf_loadu(p->bias_k + (size_t)t->b * VL);                                                       \
        REP(DACC_DECL)                                                                                                 \
        const float *wv = (const float *)p->wpack + (size_t)t->b * k * k * VL;                                         \
        for (int ky = 0; ky < k; ky++) {                                                                               \
            const uint8_t *a = t->rows[ky] + t->x * sp;                                                                \
            for (int kx = 0; kx < k; kx++, a += pxb, wv += VL) {                                                       \
                const VF w = vf_loadu(wv);                                                                             \
                REP(DACC_STEP)                                                                                         \
            }                                                                                                          \
        }                                                                                                              \
        REP(DACC_STORE)                                                                                                \
    }                                                                                                                  \
    DW_EPILOGUE(NAME, REP)
/* Depthwise 3×3 with stride 1 or 2: a kernel row's input vectors are loaded once and used by its three
 * taps (the generic tile loads each pixel once per tap, and the loads, not the FMAs, limit it). */
#define DW3_LOAD(j) const VF x##j = vf_loadu((const float *)(a + j * pxb));
#define DW3_TILE(NAME, S, REP, REPX)                                                                                   \
    static __attribute__((noinline)) void NAME##_sums(const tile_args *t, float *acc) {                                \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int64_t pxb = p->px_bytes;                                                                               \
        const VF bias = vf_loadu(p->bias_k + (size_t)t->b * VL);                                                       \
        REP(DACC_DECL)                                                                                                 \
        const float *wv = (const float *)p->wpack + (size_t)t->b * 9 * VL;                                             \
        for (int ky = 0; ky < 3; ky++, wv += 3 * VL) {                                                                 \
            const uint8_t *a = t->rows[ky] + t->x * (S)*pxb;                                                           \
            const VF w0 = vf_loadu(wv), w1 = vf_loadu(wv + VL), w2 = vf_loadu(wv + 2 * VL);                            \
            REPX(DW3_LOAD)                                                                                             \
            DW3_TAPS_##S(REP)                                                                                          \
        }                                                                                                              \
        REP(DACC_STORE)                                                                                                \
    }                                                                                                                  \
    DW_EPILOGUE(NAME, REP)
/* Stride 1: pixel i, tap kx reads x_(i+kx); stride 2: x_(2i+kx). */
#define DW3_TAPS_1(REP) REP(DW3_T1A) REP(DW3_T1B) REP(DW3_T1C)
#define DW3_TAPS_2(REP) REP(DW3_T2A) REP(DW3_T2B) REP(DW3_T2C)
#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define DW3_T1A(i) d_##i = vf_fma(PASTE(x, i), w0, d_##i);
#define DW3_T1B(i) d_##i = vf_fma(PASTE(x, PLUS1_##i), w1, d_##i);
#define DW3_T1C(i) d_##i = vf_fma(PASTE(x, PLUS2_##i), w2, d_##i);
#define DW3_T2A(i) d_##i = vf_fma(PASTE(x, TWICE_##i), w0, d_##i);
#define DW3_T2B(i) d_##i = vf_fma(PASTE(x, TWICE1_##i), w1, d_##i);
#define DW3_T2C(i) d_##i = vf_fma(PASTE(x, TWICE2_##i), w2, d_##i);
#define PLUS1_0 1
#define PLUS1_1 2
#define PLUS1_2 3
#define PLUS1_3 4
#define PLUS1_4 5
#define PLUS1_5 6
#define PLUS1_6 7
#define PLUS1_7 8
#define PLUS2_0 2
#define PLUS2_1 3
#define PLUS2_2 4
#define PLUS2_3 5
#define PLUS2_4 6
#define PLUS2_5 7
#define PLUS2_6 8
#define PLUS2_7 9
#define TWICE_0 0
#define TWICE_1 2
#define TWICE_2 4
#define TWICE_3 6
#define TWICE_4 8
#define TWICE_5 10
#define TWICE_6 12
#define TWICE_7 14
#define TWICE1_0 1
#define TWICE1_1 3
#define TWICE1_2 5
#define TWICE1_3 7
#define TWICE1_4 9
#define TWICE1_5 11
#define TWICE1_6 13
#define TWICE1_7 15
#define TWICE2_0 2
#define TWICE2_1 4
#define TWICE2_2 6
#define TWICE2_3 8
#define TWICE2_4 10
#define TWICE2_5 12
#define TWICE2_6 14
#define TWICE2_7 16
#define REP3(X) X(0) X(1) X(2)
#define REP10(X) REP8(X) X(8) X(9)
#define REP17(X) REP14(X) X(14) X(15) X(16)
#if CONV_REGS32
DW3_TILE(dw3_s1_full, 1, REP8, REP10)
DW3_TILE(dw3_s2_full, 2, REP8, REP17)
#else
DW3_TILE(dw3_s1_full, 1, REP4, REP6)
DW3_TILE(dw3_s2_full, 2, REP4, REP9)
#endif
DW3_TILE(dw3_s1_one, 1, REP1, REP3)
DW3_TILE(dw3_s2_one, 2, REP1, REP3)

#if VL == 16
/* Depthwise 3×3, stride 1 or 2, over a whole output row: tiles of 4 pixels × 4 blocks (16 accumulators), the
 * epilogue straight from them and a pixel's 4·VL bytes stored at once (q_store4_centered where the ISA has it).
 * rp[ky][j]: kernel row ky of block j (staged planes; the zero row for rows outside the input). */
ALWAYS_INLINE void dw4_store(const glnn_cpu_conv2d_plan *p, VF v0, VF v1, VF v2, VF v3, bool sigmoid,
                             const uint8_t *res, uint8_t *out) {
    if (res) {
        const VF rk = vf_set1(p->res_k);
        v0 = vf_fma(vf_from_u8(res, VL), rk, v0), v1 = vf_fma(vf_from_u8(res + VL, VL), rk, v1);
        v2 = vf_fma(vf_from_u8(res + 2 * VL, VL), rk, v2), v3 = vf_fma(vf_from_u8(res + 3 * VL, VL), rk, v3);
    }
    if (sigmoid) {
        const VF two = vf_set1(2.0f);
#define DW4_SIG(v) v = vf_fma(vf_clamp_sym(v, 6.375f), two, vf_add(v, vf_clamp_sym(v, 31.875f)));
        DW4_SIG(v0) DW4_SIG(v1) DW4_SIG(v2) DW4_SIG(v3)
#undef DW4_SIG
    }
#ifdef HAVE_Q_STORE4
    q_store4_centered(out, v0, v1, v2, v3);
#else
    q_store_centered(out, v0, VL), q_store_centered(out + VL, v1, VL);
    q_store_centered(out + 2 * VL, v2, VL), q_store_centered(out + 3 * VL, v3, VL);
#endif
}
#define DW4_DECL(i) VF d0_##i = bias0, d1_##i = bias1, d2_##i = bias2, d3_##i = bias3;
#define DW4_LOAD(q) const VF x##q = vf_loadu((const float *)(a + q * pxb));
#define DW4_KY(J, KY, S, REPX)                                                                                         \
    {                                                                                                                  \
        const uint8_t *a = rp[KY][J] + x * (S)*pxb;                                                                    \
        const float *wk = wv + ((J)*9 + (KY)*3) * VL;                                                                  \
        const VF w0 = vf_loadu(wk), w1 = vf_loadu(wk + VL), w2 = vf_loadu(wk + 2 * VL);                                \
        REPX(DW4_LOAD)                                                                                                 \
        DW4_TAPS_##S(J)                                                                                                \
    }
#define DW4_T(J, I, X0, X1, X2)                                                                                        \
    d##J##_##I = vf_fma(x##X0, w0, d##J##_##I);                                                                        \
    d##J##_##I = vf_fma(x##X1, w1, d##J##_##I);                                                                        \
    d##J##_##I = vf_fma(x##X2, w2, d##J##_##I);
/* Tap by tap, the four pixels' sums one after another (four independent chains). */
#define DW4_F(J, I, X, W) d##J##_##I = vf_fma(x##X, W, d##J##_##I);
/* One tap (weight W) for the four pixels, which read input vectors X0..X3. */
#define DW4_TAP(J, W, X0, X1, X2, X3) DW4_F(J, 0, X0, W) DW4_F(J, 1, X1, W) DW4_F(J, 2, X2, W) DW4_F(J, 3, X3, W)
#define DW4_TAPS_1(J) DW4_TAP(J, w0, 0, 1, 2, 3) DW4_TAP(J, w1, 1, 2, 3, 4) DW4_TAP(J, w2, 2, 3, 4, 5)
#define DW4_TAPS_2(J) DW4_TAP(J, w0, 0, 2, 4, 6) DW4_TAP(J, w1, 1, 3, 5, 7) DW4_TAP(J, w2, 2, 4, 6, 8)
#define DW4_BLOCK(J, S, REPX) DW4_KY(J, 0, S, REPX) DW4_KY(J, 1, S, REPX) DW4_KY(J, 2, S, REPX)
#define DW4_EPI(i)                                                                                                     \
    dw4_store(p, d0_##i, d1_##i, d2_##i, d3_##i, sigmoid, res ? res + (x + i) * cout : NULL, out + (x + i) * cout);
#define DW4_ROW(NAME, S, REPX)                                                                                         \
    static __attribute__((noinline)) void NAME(const tile_args *t, const uint8_t *const(*rp)[4], int64_t n,            \
                                               int64_t last) {                                                         \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int64_t pxb = p->px_bytes, cout = p->cout, co0 = (int64_t)t->b * VL;                                     \
        const float *wv = (const float *)p->wpack + (size_t)t->b * 9 * VL;                                             \
        const bool sigmoid = p->act == GLNN_ACTIVATION_SIGMOID_LIKE;                                                   \
        const uint8_t *res = t->res ? t->res + co0 : NULL;                                                             \
        uint8_t *out = t->out + co0;                                                                                   \
        for (int64_t it = 0; it < n || (it == n && last >= 0); it++) {                                                 \
            const int64_t x = it < n ? it * 4 : last;                                                                  \
            const float *bk = p->bias_k + co0;                                                                         \
            __asm__("" : "+r"(bk));                                                                                    \
            const VF bias0 = vf_loadu(bk), bias1 = vf_loadu(bk + VL), bias2 = vf_loadu(bk + 2 * VL);                   \
            const VF bias3 = vf_loadu(bk + 3 * VL);                                                                    \
            REP4(DW4_DECL)                                                                                             \
            DW4_BLOCK(0, S, REPX) DW4_BLOCK(1, S, REPX) DW4_BLOCK(2, S, REPX) DW4_BLOCK(3, S, REPX) REP4(DW4_EPI)      \
        }                                                                                                              \
    }
DW4_ROW(dw3x4_s1_row, 1, REP6)
DW4_ROW(dw3x4_s2_row, 2, REP9)
#define HAVE_DW3X4 1
static void dw3_chunked(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch);
#endif
#if CONV_REGS32
DW_TILE(dw_tile_full, REP8)
#define DW_M 8
#else
DW_TILE(dw_tile_full, REP4)
#define DW_M 4
#endif
DW_TILE(dw_tile_one, REP1)

/* Expanded 3×3 tiles with stride 1 or 2: a kernel row's input vectors (M·S + 2 pixels) are loaded once per quad
 * and used by its three taps, which keeps the loads of the inflated expanded rows below the VNNI rate. */
#define E3_LOAD(q) const VI x##q = vi_loadu(a + q * pxb);
#define E3_DECL(i) VI a0_##i = vi_zero(), a1_##i = vi_zero(), a2_##i = vi_zero();
/* Pixel i at tap KX reads the loaded vector S·i + KX. */
#define E3_KX(S, KX, REP) E3_KX_##S##_##KX(REP)
#define E3_KX_1_0(REP) REP(E3_DOT_1_0)
#define E3_KX_1_1(REP) REP(E3_DOT_1_1)
#define E3_KX_1_2(REP) REP(E3_DOT_1_2)
#define E3_KX_2_0(REP) REP(E3_DOT_2_0)
#define E3_KX_2_1(REP) REP(E3_DOT_2_1)
#define E3_KX_2_2(REP) REP(E3_DOT_2_2)
#define E3_DOTX(i, X)                                                                                                  \
    a0_##i = vi_dot(a0_##i, X, w0);                                                                                    \
    a1_##i = vi_dot(a1_##i, X, w1);                                                                                    \
    if (P_ > 2) a2_##i = vi_dot(a2_##i, X, w2);
#define E3_DOT_1_0(i) E3_DOTX(i, PASTE(x, i))
#define E3_DOT_1_1(i) E3_DOTX(i, PASTE(x, PLUS1_##i))
#define E3_DOT_1_2(i) E3_DOTX(i, PASTE(x, PLUS2_##i))
#define E3_DOT_2_0(i) E3_DOTX(i, PASTE(x, TWICE_##i))
#define E3_DOT_2_1(i) E3_DOTX(i, PASTE(x, TWICE1_##i))
#define E3_DOT_2_2(i) E3_DOTX(i, PASTE(x, TWICE2_##i))
#if CONV_HAS_INT
/* The expanded 3×3 tiles over a whole output row of one block (rows of at least E3_M pixels; narrower ones take
 * the one-pixel tiles): the tiles at x = 0, M, 2M, … (n of them) and, when last ≥ 0, one more at x = last, each
 * followed by its epilogue straight from the accumulators.  One call per row and block instead of two per tile, no sums
 * through memory; the epilogue's constants are loaded per tile through a pointer the compiler cannot see through, so
 * that they are not kept in registers across the sums. */
ALWAYS_INLINE void e3_store_pixel(const glnn_cpu_conv2d_plan *p, VI a0, VI a1, VI a2, const int P, VF s0, VF s1, VF s2,
                                  VF bias, bool sigmoid, const uint8_t *res, uint8_t *out, int n) {
    VF v = P > 2 ? vf_fma(vf_from_vi(a2), s2, bias) : bias;
    v = vf_fma(vf_from_vi(a1), s1, v);
    v = vf_fma(vf_from_vi(a0), s0, v);
    if (res) v = vf_fma(vf_from_u8(res, n), vf_set1(p->res_k), v);
    if (sigmoid) {
        const VF c1 = vf_clamp_sym(v, 6.375f), c2 = vf_clamp_sym(v, 31.875f);
        v = vf_fma(c1, vf_set1(2.0f), vf_add(v, c2));
    }
    q_store_centered(out, v, n);
}
#define E3_EPI(i)                                                                                                      \
    e3_store_pixel(pe, a0_##i, a1_##i, P_ > 2 ? a2_##i : a0_##i, P_, s0, s1, s2, bias, sigmoid,                        \
                   res ? res + (x + i) * cout : NULL, out + (x + i) * cout, n0);
#define E3_ROW(NAME, P, S, REP, M)                                                                                     \
    static __attribute__((noinline)) void NAME##_row(const tile_args *t, int64_t n, int64_t last) {                    \
        enum { P_ = P };                                                                                               \
        const glnn_cpu_conv2d_plan *p = t->p;                                                                          \
        const int J = p->steps / 3;                                                                                    \
        const int64_t pxb = p->px_bytes, cout = p->cout, co0 = (int64_t)t->b * VL;                                     \
        const int n0 = cout - co0 < VL ? (int)(cout - co0) : VL;                                                       \
        const size_t wstep = (size_t)P_ * VL * 4;                                                                      \
        const uint8_t *wb = (const uint8_t *)p->wpack + (size_t)t->b * 3 * p->steps * wstep;                           \
        const bool sigmoid = p->act == GLNN_ACTIVATION_SIGMOID_LIKE;                                                   \
        const uint8_t *res = t->res ? t->res + co0 : NULL;                                                             \
        uint8_t *out = t->out + co0;                                                                                   \
        for (int64_t it = 0; it < n || (it == n && last >= 0); it++) {                                                 \
            const int64_t x = it < n ? it * (M) : last;                                                                \
            REP(E3_DECL)                                                                                               \
            if (J == 1) {                                                                                              \
                E3_ROW_KY(S, REP, 0)                                                                                   \
                E3_ROW_KY(S, REP, 1)                                                                                   \
                E3_ROW_KY(S, REP, 2)                                                                                   \
            } else {                                                                                                   \
                for (int ky = 0; ky < 3; ky++)                                                                         \
                    for (int j = 0; j < J; j++) {                                                                      \
                        const uint8_t *a = t->rows[ky] + x * (S)*pxb + (size_t)j * VL * 4;                             \
                        const uint8_t *w = wb + ((size_t)ky * p->steps + j) * wstep;                                   \
                        E3_LOADS_##S(REP) for (int kx = 0; kx < 3; kx++, w += (size_t)J * wstep) {                     \
                            const VI w0 = vi_loadu(w), w1 = vi_loadu(w + VL * 4);                                      \
                            const VI w2 = P_ > 2 ? vi_loadu(w + 2 * VL * 4) : vi_zero();                               \
                            switch (kx) {                                                                              \
                            case 0: {                                                                                  \
                                E3_KX(S, 0, REP)                                                                       \
                                break;                                                                                 \
                            }                                                                                          \
                            case 1: {                                                                                  \
                                E3_KX(S, 1, REP)                                                                       \
                                break;                                                                                 \
                            }                                                                                          \
                            default: {                                                                                 \
                                E3_KX(S, 2, REP)                                                                       \
                            }                                                                                          \
                            }                                                                                          \
                        }                                                                                              \
                    }                                                                                                  \
            }                                                                                                          \
            const glnn_cpu_conv2d_plan *pe = p;                                                                        \
            __asm__("" : "+r"(pe));                                                                                    \
            const int64_t nbl = (int64_t)pe->nb * VL;                                                                  \
            const VF s0 = vf_loadu(pe->scale + co0), s1 = vf_loadu(pe->scale + nbl + co0);                             \
            const VF s2 = P_ > 2 ? vf_loadu(pe->scale + 2 * nbl + co0) : vf_zero();                                    \
            const VF bias = vf_loadu(pe->bias_k + co0);                                                                \
            REP(E3_EPI)                                                                                                \
        }                                                                                                              \
    }
/* One kernel row of a tile with one quad per pixel (J = 1), unrolled. */
#define E3_ROW_KY(S, REP, KY)                                                                                          \
    {                                                                                                                  \
        const uint8_t *a = t->rows[KY] + x * (S)*pxb;                                                                  \
        const uint8_t *w = wb + (size_t)(KY)*3 * wstep;                                                                \
        E3_LOADS_##S(REP) E3_ROW_KX(S, REP, 0) E3_ROW_KX(S, REP, 1) E3_ROW_KX(S, REP, 2)                               \
    }
#define E3_ROW_KX(S, REP, KX)                                                                                          \
    {                                                                                                                  \
        const VI w0 = vi_loadu(w + (KX)*wstep), w1 = vi_loadu(w + (KX)*wstep + VL * 4);                                \
        const VI w2 = P_ > 2 ? vi_loadu(w + (KX)*wstep + 2 * VL * 4) : vi_zero();                                      \
        E3_KX(S, KX, REP)                                                                                              \
    }
#define E3_LOADS_1(REP) E3_LOADS_1_##REP
#define E3_LOADS_2(REP) E3_LOADS_2_##REP
#define E3_LOADS_1_REP6 REP8(E3_LOAD)
#define E3_LOADS_1_REP8 REP10(E3_LOAD)
#define E3_LOADS_2_REP4 REP9(E3_LOAD)
/* Pixels per tile of the row functions below, by planes and stride. */
#define E3_M(P, S) ((S) == 1 ? ((P) == 2 ? 8 : 6) : 4)
E3_ROW(int_e3_3_s1, 3, 1, REP6, 6)
E3_ROW(int_e3_3_s2, 3, 2, REP4, 4)
E3_ROW(int_e3_2_s1, 2, 1, REP8, 8)
E3_ROW(int_e3_2_s2, 2, 2, REP4, 4)
#endif

/* The tile functions for nv blocks (p->nv, or 1 for a last odd block): M pixels, and one pixel. */
static void choose_tiles(const glnn_cpu_conv2d_plan *p, int nv, tile_fn *full, tile_fn *one, int *m) {
#if CONV_HAS_INT
    if (p->method == CONV_INT) {
        const bool e = p->source == SRC_EXPANDED;
        if (p->planes == 2) {
            *full = e ? int_tile_2_1_12_1 : nv == 2 ? int_tile_2_2_6_0 : int_tile_2_1_12_0;
            *one = e ? int_tile_2_1_1_1 : nv == 2 ? int_tile_2_2_1_0 : int_tile_2_1_1_0;
            *m = nv == 2 ? 6 : 12;
        } else {
            *full = e ? int_tile_3_1_8_1 : nv == 2 ? int_tile_3_2_4_0 : int_tile_3_1_8_0;
            *one = e ? int_tile_3_1_1_1 : nv == 2 ? int_tile_3_2_1_0 : int_tile_3_1_1_0;
            *m = nv == 2 ? 4 : 8;
        }
        return;
    }
#endif
    if (p->source == SRC_DEPTHWISE && p->k == 3 && p->s <= 2) {
        *full = p->s == 1 ? dw3_s1_full : dw3_s2_full, *one = p->s == 1 ? dw3_s1_one : dw3_s2_one, *m = DW_M;
    } else if (p->source == SRC_DEPTHWISE) {
        *full = dw_tile_full, *one = dw_tile_one, *m = DW_M;
    } else if (p->source == SRC_EXPANDED) {
        *full = float_tile_1_m_1, *one = float_tile_1_1_1, *m = FLOAT_M1;
    } else {
        *full = nv == 2 ? float_tile_2_m_0 : float_tile_1_m_0, *one = nv == 2 ? float_tile_2_1_0 : float_tile_1_1_0;
        *m = nv == 2 ? FLOAT_M2 : FLOAT_M1;
    }
}

/* ---- the work item --------------------------------------------------------------------------------------------- */

#ifdef HAVE_DW3X4
/* Depthwise 3×3 work item in chunks of p->dw_xc output pixels (kernels.h): for each chunk, output row after output
 * row, the input rows the chunk reads are staged as floats (one plane per block, zeros outside the input) into a
 * ring of three slots that stays in the first-level cache; groups of four blocks take the 4 × 4 tiles, the other
 * blocks the one-block tiles. */
static void dw3_chunked(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch) {
    const glnn_cpu_conv2d_plan *p = job->plan;
    const int s = p->s, nbi = b1 - b0;
    const int64_t wo = p->wo, cout = p->cout, W = p->w, C = p->c, xc = p->dw_xc;
    const size_t pxb = (size_t)p->px_bytes, cplane = (size_t)((xc - 1) * s + 3) * pxb, slot_bytes = cplane * nbi;
    uint8_t *ring = (uint8_t *)scratch + ((sizeof(glnn_cpu_row_ring) + 63) & ~(size_t)63);
    for (int64_t x0 = 0; x0 < wo; x0 += xc) {
        const int64_t xe = x0 + xc < wo ? x0 + xc : wo, xs = xe - x0 < 4 ? xe - 4 : x0; /* chunk [xs, xe), ≥ 4 */
        const int64_t in0 = xs * s - p->pad_left, in_n = (xe - xs - 1) * s + 3;
        int64_t tag[3] = {-1, -1, -1};
        for (int64_t yo = r0; yo < r1; yo++) {
            const uint8_t *rows[3];
            for (int ky = 0; ky < 3; ky++) {
                const int64_t iy = yo * s - p->pad_top + ky;
                if (iy < 0 || iy >= p->h) {
                    rows[ky] = p->zero_row;
                    continue;
                }
                uint8_t *d = ring + (size_t)(iy % 3) * slot_bytes;
                if (tag[iy % 3] != iy) {
                    const uint8_t *src = job->in + iy * W * C;
                    const int64_t lo = in0 < 0 ? -in0 : 0, hi = in0 + in_n > W ? W - in0 : in_n;
                    for (int b = b0; b < b1; b++) {
                        float *f = (float *)(d + (size_t)(b - b0) * cplane);
                        const int64_t c0 = (int64_t)b * VL;
                        const int n = C - c0 < VL ? (int)(C - c0) : VL;
                        for (int64_t q = 0; q < lo && q < in_n; q++)
                            vf_storeu(f + q * VL, vf_zero());
                        const uint8_t *sp = src + (in0 + lo) * C + c0;
                        for (int64_t q = lo; q < hi; q++, sp += C)
                            vf_storeu(f + q * VL, vf_from_u8(sp, n));
                        for (int64_t q = hi > lo ? hi : lo; q < in_n; q++)
                            vf_storeu(f + q * VL, vf_zero());
                    }
                    tag[iy % 3] = iy;
                }
                rows[ky] = d;
            }
            uint8_t *out = job->out + (yo * wo + xs) * cout;
            const uint8_t *res = job->residual ? job->residual + (yo * wo + xs) * cout : NULL;
            const int64_t xn = xe - xs;
            for (int b = b0; b < b1;) {
                tile_args t = {p, NULL, 0, b, 0, out, res};
                if (b + 4 <= b1 && (int64_t)(b + 4) * VL <= cout) {
                    const uint8_t *rp[3][4];
                    for (int ky = 0; ky < 3; ky++)
                        for (int j = 0; j < 4; j++)
                            rp[ky][j] = rows[ky] == p->zero_row ? rows[ky] : rows[ky] + (size_t)(b + j - b0) * cplane;
                    (s == 1 ? dw3x4_s1_row : dw3x4_s2_row)(&t, (const uint8_t *const(*)[4])rp, xn / 4,
                                                           xn % 4 ? xn - 4 : -1);
                    b += 4;
                    continue;
                }
                const uint8_t *brows[3];
                for (int ky = 0; ky < 3; ky++)
                    brows[ky] = rows[ky] == p->zero_row ? rows[ky] : rows[ky] + (size_t)(b - b0) * cplane;
                t.rows = brows;
                tile_fn full = s == 1 ? dw3_s1_full : dw3_s2_full, one = s == 1 ? dw3_s1_one : dw3_s2_one;
                int64_t x = 0;
                for (; x + DW_M <= xn; x += DW_M) {
                    t.x = x, t.out = out + x * cout, t.res = res ? res + x * cout : NULL;
                    full(&t);
                }
                if (x < xn && xn >= DW_M) {
                    t.x = xn - DW_M, t.out = out + t.x * cout, t.res = res ? res + t.x * cout : NULL;
                    full(&t);
                } else {
                    for (; x < xn; x++) {
                        t.x = x, t.out = out + x * cout, t.res = res ? res + x * cout : NULL;
                        one(&t);
                    }
                }
                b++;
            }
        }
    }
}
#endif

static void ISA_FN(conv2d)(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch) {
    const glnn_cpu_conv2d_plan *p = job->plan;
#ifdef HAVE_DW3X4
    if (p->dw_xc) {
        dw3_chunked(job, r0, r1, b0, b1, scratch);
        return;
    }
#endif
    glnn_cpu_row_ring *ring = scratch;
    if (p->rows != ROWS_DIRECT) {
        ring->slots = (uint8_t *)scratch + ((sizeof *ring + 63) & ~(size_t)63);
        for (int i = 0; i < p->k; i++)
            ring->tag[i] = -1;
    }
    const uint8_t *rows[32], *brows[32];
    const int64_t wo = p->wo, cout = p->cout;
    const size_t plane = (size_t)p->row_px * (size_t)p->px_bytes;
    for (int64_t yo = r0; yo < r1; yo++) {
        window_rows(p, job->in, ring, yo, b0, b1, rows);
        for (int b = b0; b < b1;) {
            const int nv = b + p->nv <= b1 ? p->nv : 1;
            tile_fn full, one;
            int mfull;
            choose_tiles(p, nv, &full, &one, &mfull);
            tile_args t = {p, rows, 0, b, 0, NULL, NULL};
            if (p->source == SRC_EXPANDED || p->source == SRC_DEPTHWISE) {
                for (int ky = 0; ky < p->k; ky++)
                    brows[ky] = rows[ky] == p->zero_row ? rows[ky] : rows[ky] + (size_t)(b - b0) * plane;
                t.rows = brows;
            } else if (p->source == SRC_BROADCAST && !p->image) {
                const int64_t g = (int64_t)b * p->lanes / p->cout_g;
                t.gbase = (size_t)(g * p->cg) * (p->method == CONV_FLOAT ? 4 : 1);
            }
#if CONV_HAS_INT
            const int m3 = E3_M(p->planes, p->s);
            if (p->method == CONV_INT && p->source == SRC_EXPANDED && p->k == 3 && p->s <= 2 && wo >= m3) {
                row_fn rowf = p->planes == 2 ? (p->s == 1 ? int_e3_2_s1_row : int_e3_2_s2_row)
                                             : (p->s == 1 ? int_e3_3_s1_row : int_e3_3_s2_row);
                t.out = job->out + yo * wo * cout;
                t.res = job->residual ? job->residual + yo * wo * cout : NULL;
                const int64_t n = wo / m3;
                rowf(&t, n, n * m3 < wo ? wo - m3 : -1);
                b += nv;
                continue;
            }
#endif
            int64_t x = 0;
            for (; x + mfull <= wo; x += mfull) {
                t.x = x;
                t.out = job->out + (yo * wo + x) * cout;
                t.res = job->residual ? job->residual + (yo * wo + x) * cout : NULL;
                full(&t);
            }
            const int64_t left = wo - x;
            if (left > 0 && left * 2 >= mfull && wo >= mfull) {
                /* An overlapping full tile (recomputing a few pixels) beats single pixels. */
                t.x = wo - mfull;
                t.out = job->out + (yo * wo + t.x) * cout;
                t.res = job->residual ? job->residual + (yo * wo + t.x) * cout : NULL;
                full(&t);
            } else {
                for (; x < wo; x++) {
                    t.x = x;
                    t.out = job->out + (yo * wo + x) * cout;
                    t.res = job->residual ? job->residual + (yo * wo + x) * cout : NULL;
                    one(&t);
                }
            }
            b += nv;
        }
    }
}
