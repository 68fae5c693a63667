/* Conv2D kernels of the fast CPU back end, written once over a small vector layer and compiled per ISA.
 *
 * The including file defines, before including this one:
 *   VL                  lanes of a vector (int32 or float)
 *   ISA_FN(name)        the name with the ISA's suffix
 *   CONV_HAS_INT        1 when it has the integer (VNNI) kernels
 *   types VI (int32 lanes), VF (float lanes) and the inline functions used below (vi_*, vf_*, q_store,
 *   vf_from_u8, stage_expand_int, stage_expand_float).
 *
 * Register tiles: M output pixels (along x) × NV blocks of VL output channels, accumulated over k-steps (one
 * input quad for the integer kernels, one input channel for the float ones) in registers; the epilogue
 * scales, adds residual and bias, activates, quantizes and stores VL bytes per pixel and block. */
#include "backends/cpu/kernels.h"

#include <string.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- epilogue ---------------------------------------------------------------------------------------------- */

/* act(z) of SPEC §4.6, operation for operation as glnn_activate. */
ALWAYS_INLINE VF vf_activate(glnn_activation a, VF z) {
    switch (a) {
    case GLNN_ACTIVATION_BRELU6: return vf_mul(vf_set1(0.167f), z);
    case GLNN_ACTIVATION_SIGMOID_LIKE: {
        VF t1 = vf_mul(vf_set1(0.1f), z), t2 = vf_mul(vf_set1(0.05f), z);
        t1 = vf_min(vf_max(t1, vf_set1(-0.05f)), vf_set1(0.05f));
        t2 = vf_min(vf_max(t2, vf_set1(-0.125f)), vf_set1(0.125f));
        return vf_add(vf_add(vf_add(t1, t2), vf_mul(vf_set1(0.05f), z)), vf_set1(0.5f));
    }
    default: return z;
    }
}

/* Residual (as q/255 in a fused multiply-add: the approximate kernels need not round it as the reference),
 * activation, Q and the store of n ≤ VL bytes. */
ALWAYS_INLINE void finish(const glnn_cpu_conv2d_plan *p, VF z, const uint8_t *res, uint8_t *dst, int n) {
    if (res) z = vf_fma(vf_from_u8(res, n), vf_set1(1.0f / 255.0f), z);
    q_store(dst, vf_activate(p->act, z), n);
}

/* ---- staged rows ------------------------------------------------------------------------------------------- */

/* SRC_EXPANDED float rows: [pixel][ci][lanes], lane l holding input byte expand_index[b][ci][l] of the pixel. */
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
        for (int i = 0; i < cg * VL; i++)
            d[i] = (float)s[idx[i]];
    }
}

/* Stages input row iy (0 ≤ iy < H) into dst as plan->rows asks, for channel blocks [b0, b1). */
static void stage_row(const glnn_cpu_conv2d_plan *p, const uint8_t *in, int64_t iy, int b0, int b1, uint8_t *dst) {
    const int64_t W = p->w, C = p->c, left = p->pad_left, px = p->row_px;
    const uint8_t *src = in + iy * W * C;
    /* Input columns that land in the staged row: [−left, px − left) ∩ [0, W). */
    const int64_t x_end = px - left < W ? px - left : W;
    switch (p->rows) {
    case ROWS_COPY: {
        memset(dst, 0, (size_t)(left * C));
        memcpy(dst + left * C, src, (size_t)(x_end * C));
        memset(dst + (left + x_end) * C, 0, p->row_bytes - (size_t)((left + x_end) * C));
        break;
    }
    case ROWS_FLOAT: {
        float *f = (float *)dst;
        const int64_t n = px * C, a = left * C, e = (left + x_end) * C;
        for (int64_t i = 0; i < a; i++)
            f[i] = 0.0f;
        for (int64_t i = a; i < e; i++)
            f[i] = (float)src[i - a];
        for (int64_t i = e; i < n + 32; i++)
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

#if CONV_HAS_INT
/* One tile of M pixels × NV blocks with P planes.  SRC_EXPANDED when `expanded` (then NV = 1). */
ALWAYS_INLINE void int_tile(const tile_args *t, const int P, const int NV, const int M, const bool expanded) {
    const glnn_cpu_conv2d_plan *p = t->p;
    const int k = p->k, steps = p->steps, s = p->s;
    const int64_t pxb = p->px_bytes;
    /* Steps of a kernel row: kx outer (stride A bytes), j inner (stride B bytes). */
    const int kxn = p->image ? 1 : k, jn = p->image ? steps : steps / k;
    const int64_t A = pxb, B = expanded ? VL * 4 : 4;
    VI acc[3][2][12];
#pragma GCC unroll 3
    for (int pl = 0; pl < P; pl++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
#pragma GCC unroll 12
            for (int i = 0; i < M; i++)
                acc[pl][v][i] = vi_zero();
    const size_t wstep = (size_t)P * VL * 4;
    const int8_t *wb = (const int8_t *)p->wpack + (size_t)t->b * k * steps * wstep;
    const size_t wblock = (size_t)k * steps * wstep;
    for (int ky = 0; ky < k; ky++) {
        const uint8_t *base = t->rows[ky] + t->x * s * pxb + t->gbase;
        const int8_t *w = wb + (size_t)ky * steps * wstep;
        for (int kx = 0; kx < kxn; kx++) {
            const uint8_t *a0 = base + kx * A;
            for (int j = 0; j < jn; j++, w += wstep) {
                VI wv[3][2];
#pragma GCC unroll 3
                for (int pl = 0; pl < P; pl++)
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++)
                        wv[pl][v] = vi_loadu(w + v * wblock + (size_t)pl * VL * 4);
                const uint8_t *a = a0 + j * B;
#pragma GCC unroll 12
                for (int i = 0; i < M; i++) {
                    const VI x = expanded ? vi_loadu(a + i * s * pxb) : vi_bcast4(a + i * s * pxb);
#pragma GCC unroll 3
                    for (int pl = 0; pl < P; pl++)
#pragma GCC unroll 2
                        for (int v = 0; v < NV; v++)
                            acc[pl][v][i] = vi_dot(acc[pl][v][i], x, wv[pl][v]);
                }
            }
        }
    }
    const int64_t nbl = (int64_t)p->nb * VL, cout = p->cout;
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) {
        const int64_t co = (int64_t)(t->b + v) * VL;
        const int n = cout - co < VL ? (int)(cout - co) : VL;
        const VF bias = vf_loadu(p->bias + co);
        VF sc[3];
#pragma GCC unroll 3
        for (int pl = 0; pl < P; pl++)
            sc[pl] = vf_loadu(p->scale + pl * nbl + co);
#pragma GCC unroll 12
        for (int i = 0; i < M; i++) {
            VF z = vf_fma(vf_from_vi(acc[P - 1][v][i]), sc[P - 1], bias);
#pragma GCC unroll 3
            for (int pl = P - 2; pl >= 0; pl--)
                z = vf_fma(vf_from_vi(acc[pl][v][i]), sc[pl], z);
            const int64_t at = (int64_t)i * cout + co;
            finish(p, z, t->res ? t->res + at : NULL, t->out + at, n);
        }
    }
}

#define INT_TILE_FN(P, NV, M, E)                                                                                       \
    static void int_tile_##P##_##NV##_##M##_##E(const tile_args *t) {                                                  \
        int_tile(t, P, NV, M, E);                                                                                      \
    }
#define INT_TILES(P, NV, M, E) INT_TILE_FN(P, NV, M, E) INT_TILE_FN(P, NV, 1, E)
INT_TILES(2, 2, 6, 0)
INT_TILES(2, 1, 12, 0)
INT_TILES(3, 2, 4, 0)
INT_TILES(3, 1, 8, 0)
INT_TILES(2, 1, 12, 1)
INT_TILES(3, 1, 8, 1)

#endif

typedef void (*tile_fn)(const tile_args *);

/* ---- float tiles -------------------------------------------------------------------------------------------- */

/* M pixels × NV blocks over float rows (q as float): broadcast or expanded source. */
ALWAYS_INLINE void float_tile(const tile_args *t, const int NV, const int M, const bool expanded) {
    const glnn_cpu_conv2d_plan *p = t->p;
    const int k = p->k, steps = p->steps, s = p->s;
    const int64_t pxb = p->px_bytes;
    const int kxn = p->image ? 1 : k, jn = p->image ? steps : steps / k;
    const int64_t A = pxb, B = expanded ? VL * 4 : 4;
    VF acc[2][14];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++)
#pragma GCC unroll 14
        for (int i = 0; i < M; i++)
            acc[v][i] = vf_zero();
    const size_t wstep = (size_t)VL * 4, wblock = (size_t)k * steps * wstep;
    const uint8_t *wb = (const uint8_t *)p->wpack + (size_t)t->b * wblock;
    for (int ky = 0; ky < k; ky++) {
        const uint8_t *base = t->rows[ky] + t->x * s * pxb + t->gbase;
        const uint8_t *w = wb + (size_t)ky * steps * wstep;
        for (int kx = 0; kx < kxn; kx++) {
            const uint8_t *a0 = base + kx * A;
            for (int j = 0; j < jn; j++, w += wstep) {
                VF wv[2];
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++)
                    wv[v] = vf_loadu((const float *)(w + v * wblock));
                const uint8_t *a = a0 + j * B;
#pragma GCC unroll 14
                for (int i = 0; i < M; i++) {
                    const VF x = expanded ? vf_loadu((const float *)(a + i * s * pxb))
                                          : vf_bcast((const float *)(a + i * s * pxb));
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++)
                        acc[v][i] = vf_fma(x, wv[v], acc[v][i]);
                }
            }
        }
    }
    const int64_t cout = p->cout;
    const VF inv = vf_set1(1.0f / 255.0f);
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) {
        const int64_t co = (int64_t)(t->b + v) * VL;
        const int n = cout - co < VL ? (int)(cout - co) : VL;
        const VF bias = vf_loadu(p->bias + co);
#pragma GCC unroll 14
        for (int i = 0; i < M; i++) {
            const int64_t at = (int64_t)i * cout + co;
            finish(p, vf_fma(acc[v][i], inv, bias), t->res ? t->res + at : NULL, t->out + at, n);
        }
    }
}

#define FLOAT_TILE_FN(NV, M, E)                                                                                        \
    static void float_tile_##NV##_##M##_##E(const tile_args *t) {                                                      \
        float_tile(t, NV, M, E);                                                                                       \
    }
#if VL == 16
FLOAT_TILE_FN(2, 12, 0)
FLOAT_TILE_FN(1, 14, 0)
FLOAT_TILE_FN(1, 14, 1)
#define FLOAT_FULL_2 float_tile_2_12_0
#define FLOAT_FULL_1 float_tile_1_14_0
#define FLOAT_FULL_E float_tile_1_14_1
#define FLOAT_M2 12
#define FLOAT_M1 14
#else
FLOAT_TILE_FN(2, 5, 0)
FLOAT_TILE_FN(1, 6, 0)
FLOAT_TILE_FN(1, 6, 1)
#define FLOAT_FULL_2 float_tile_2_5_0
#define FLOAT_FULL_1 float_tile_1_6_0
#define FLOAT_FULL_E float_tile_1_6_1
#define FLOAT_M2 5
#define FLOAT_M1 6
#endif
FLOAT_TILE_FN(2, 1, 0)
FLOAT_TILE_FN(1, 1, 0)
FLOAT_TILE_FN(1, 1, 1)

/* Depthwise: lane = channel; M pixels of one block, k² taps. */
ALWAYS_INLINE void dw_tile(const tile_args *t, const int M) {
    const glnn_cpu_conv2d_plan *p = t->p;
    const int k = p->k, s = p->s;
    const int64_t pxb = p->px_bytes;
    VF acc[8];
#pragma GCC unroll 8
    for (int i = 0; i < M; i++)
        acc[i] = vf_zero();
    const float *wb = (const float *)p->wpack + (size_t)t->b * k * k * VL;
    for (int ky = 0; ky < k; ky++) {
        const uint8_t *base = t->rows[ky] + t->x * s * pxb + (size_t)t->b * VL * 4;
        for (int kx = 0; kx < k; kx++) {
            const VF w = vf_loadu(wb + (size_t)(ky * k + kx) * VL);
#pragma GCC unroll 8
            for (int i = 0; i < M; i++)
                acc[i] = vf_fma(vf_loadu((const float *)(base + (kx + i * s) * pxb)), w, acc[i]);
        }
    }
    const int64_t cout = p->cout, co = (int64_t)t->b * VL;
    const int n = cout - co < VL ? (int)(cout - co) : VL;
    const VF bias = vf_loadu(p->bias + co), inv = vf_set1(1.0f / 255.0f);
#pragma GCC unroll 8
    for (int i = 0; i < M; i++) {
        const int64_t at = (int64_t)i * cout + co;
        finish(p, vf_fma(acc[i], inv, bias), t->res ? t->res + at : NULL, t->out + at, n);
    }
}

#if VL == 16
#define DW_M 8
#else
#define DW_M 4
#endif
static void dw_tile_full(const tile_args *t) {
    dw_tile(t, DW_M);
}
static void dw_tile_one(const tile_args *t) {
    dw_tile(t, 1);
}

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
    if (p->source == SRC_DEPTHWISE) {
        *full = dw_tile_full, *one = dw_tile_one, *m = DW_M;
    } else if (p->source == SRC_EXPANDED) {
        *full = FLOAT_FULL_E, *one = float_tile_1_1_1, *m = FLOAT_M1;
    } else {
        *full = nv == 2 ? FLOAT_FULL_2 : FLOAT_FULL_1, *one = nv == 2 ? float_tile_2_1_0 : float_tile_1_1_0;
        *m = nv == 2 ? FLOAT_M2 : FLOAT_M1;
    }
}

/* ---- the work item --------------------------------------------------------------------------------------------- */

static void ISA_FN(conv2d)(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch) {
    const glnn_cpu_conv2d_plan *p = job->plan;
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
            if (p->source == SRC_EXPANDED) {
                for (int ky = 0; ky < p->k; ky++)
                    brows[ky] = rows[ky] == p->zero_row ? rows[ky] : rows[ky] + (size_t)(b - b0) * plane;
                t.rows = brows;
            } else if (p->source == SRC_BROADCAST && !p->image) {
                const int64_t g = (int64_t)b * p->lanes / p->cout_g;
                t.gbase = (size_t)(g * p->cg) * (p->method == CONV_FLOAT ? 4 : 1);
            }
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
