/* x86-64 AVX-512 (F, BW, DQ, VL) + VNNI kernels of the fast CPU back end, compiled with those flags alone
 * (CMakeLists.txt) and called only when the probe found them (features.c).  Integer Conv2D kernels use
 * vpdpbusd: 4 input bytes times 4 signed weight bytes summed into each of 16 int32 lanes. */
#if defined(__x86_64__)
#include "backends/cpu/kernels.h"

#include <immintrin.h>
#include <string.h>

#define VL 16
#define ISA_FN(name) name##_avx512
#define CONV_HAS_INT 1

typedef __m512i VI;
typedef __m512 VF;

#define VINLINE static inline __attribute__((always_inline))

VINLINE VI vi_zero(void) {
    return _mm512_setzero_si512();
}
VINLINE VI vi_bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}
VINLINE VI vi_loadu(const void *p) {
    return _mm512_loadu_si512(p);
}
VINLINE void vi_store(int32_t *p, VI v) {
    _mm512_store_si512((void *)p, v);
}
VINLINE VI vi_dot(VI acc, VI a, VI w) {
    return _mm512_dpbusd_epi32(acc, a, w);
}
VINLINE VF vf_zero(void) {
    return _mm512_setzero_ps();
}
VINLINE VF vf_set1(float v) {
    return _mm512_set1_ps(v);
}
VINLINE VF vf_loadu(const float *p) {
    return _mm512_loadu_ps(p);
}
VINLINE void vf_storeu(float *p, VF v) {
    _mm512_storeu_ps(p, v);
}
VINLINE void vf_store(float *p, VF v) {
    _mm512_store_ps(p, v);
}
VINLINE VF vf_bcast(const float *p) {
    return _mm512_set1_ps(*p);
}
VINLINE VF vf_fma(VF a, VF b, VF c) {
    return _mm512_fmadd_ps(a, b, c);
}
VINLINE VF vf_add(VF a, VF b) {
    return _mm512_add_ps(a, b);
}
VINLINE VF vf_from_vi(VI v) {
    return _mm512_cvtepi32_ps(v);
}
/* n ≤ 16 bytes, zero-extended to floats. */
VINLINE VF vf_from_u8(const uint8_t *p, int n) {
    const __m128i b =
        n == 16 ? _mm_loadu_si128((const __m128i *)p) : _mm_maskz_loadu_epi8((__mmask16)((1u << n) - 1), p);
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b));
}
/* Bytes s[idx[l]] as floats (4 bytes gathered at each, the first kept). */
VINLINE VF vf_gather_u8(const uint8_t *s, const int32_t *idx) {
    const __m512i g = _mm512_i32gather_epi32(_mm512_loadu_si512(idx), s, 1);
    return _mm512_cvtepi32_ps(_mm512_and_si512(g, _mm512_set1_epi32(0xff)));
}
/* sign(y)·min(|y|, c): one vrangeps (absolute minimum, sign of y). */
VINLINE VF vf_clamp_sym(VF y, float c) {
    return _mm512_range_ps(y, _mm512_set1_ps(c), 0x02);
}
/* 128 + clamp(⌊w⌋, −128, 127) as bytes (conv_template.h, store_block), n ≤ 16 stored. */
VINLINE void q_store_centered(uint8_t *dst, VF w, int n) {
    const __m512i i = _mm512_cvt_roundps_epi32(w, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m128i b = _mm_xor_si128(_mm512_cvtsepi32_epi8(i), _mm_set1_epi8((char)0x80));
    if (n == 16)
        _mm_storeu_si128((__m128i *)dst, b);
    else
        _mm_mask_storeu_epi8(dst, (__mmask16)((1u << n) - 1), b);
}

/* The 64 bytes of four vectors (conv_template.h, dw3x4 rows): as q_store_centered for each, with two signed packs and
 * one permute restoring the order the packs interleave by 128-bit lane. */
#define HAVE_Q_STORE4 1
VINLINE void q_store4_centered(uint8_t *dst, VF a, VF b, VF c, VF d) {
#define FLOOR_I(v) _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
    const __m512i ab = _mm512_packs_epi32(FLOOR_I(a), FLOOR_I(b)), cd = _mm512_packs_epi32(FLOOR_I(c), FLOOR_I(d));
#undef FLOOR_I
    const __m512i q = _mm512_packs_epi16(ab, cd); /* lane L: a, b, c, d's dwords 4L … 4L + 3 */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_si512(dst, _mm512_xor_si512(_mm512_permutexvar_epi32(order, q), _mm512_set1_epi8((char)0x80)));
}

/* SRC_EXPANDED integer rows: [pixel][j][16 lanes × 4 bytes], lane l holding quad expand_index[b][j][l] of the
 * pixel: one permute of the pixel's quads when the block's quads lie within 16 of each other, else a gather. */
static void stage_expand_int(const glnn_cpu_conv2d_plan *p, const uint8_t *src, int64_t left, int64_t x_end, int b,
                             uint8_t *dst) {
    const int J = p->cg / 4;
    const int64_t quads = p->c / 4, C = p->c;
    const int32_t *idx = p->expand_index + (size_t)b * J * VL;
    const int32_t q0 = idx[0], span = idx[J * VL - 1] - q0 + 1;
    const size_t stride = (size_t)J * 64;
    /* Staged pixels [0, left) and [left + x_end, row_px) are padding; [left, left + x_end) are input pixels. */
    const int64_t lo = left < p->row_px ? left : p->row_px, hi = left + x_end < p->row_px ? left + x_end : p->row_px;
    for (int64_t px = 0; px < lo; px++)
        memset(dst + px * stride, 0, stride);
    for (int64_t px = hi; px < p->row_px; px++)
        memset(dst + px * stride, 0, stride);
    if (span > 16) {
        for (int64_t px = lo; px < hi; px++) {
            const uint8_t *s = src + (px - left) * C;
            for (int j = 0; j < J; j++)
                _mm512_storeu_si512(dst + px * stride + j * 64,
                                    _mm512_i32gather_epi32(_mm512_loadu_si512(idx + j * VL), s, 4));
        }
        return;
    }
    const __m512i base = _mm512_set1_epi32(q0);
    const int avail = quads - q0 < 16 ? (int)(quads - q0) : 16;
    const __mmask16 mask = (__mmask16)((1u << avail) - 1);
    /* Pixels whose 64-byte window stays within this row are loaded whole (the extra quads are never picked);
     * the last ones use a masked load, which reads no byte past the row. */
    int64_t whole = left + x_end - (64 - (quads - q0) * 4 + C - 1) / C;
    whole = whole < lo ? lo : whole > hi ? hi : whole;
    const uint8_t *s0 = src + (lo - left) * C + (size_t)q0 * 4;
    if (J <= 2) {
        const __m512i at0 = _mm512_sub_epi32(_mm512_loadu_si512(idx), base);
        const __m512i at1 = J > 1 ? _mm512_sub_epi32(_mm512_loadu_si512(idx + VL), base) : at0;
        int64_t px = lo;
        const uint8_t *s = s0;
        for (; px < whole; px++, s += C) {
            const __m512i v = _mm512_loadu_si512(s);
            _mm512_storeu_si512(dst + px * stride, _mm512_permutexvar_epi32(at0, v));
            if (J > 1) _mm512_storeu_si512(dst + px * stride + 64, _mm512_permutexvar_epi32(at1, v));
        }
        for (; px < hi; px++, s += C) {
            const __m512i v = _mm512_maskz_loadu_epi32(mask, s);
            _mm512_storeu_si512(dst + px * stride, _mm512_permutexvar_epi32(at0, v));
            if (J > 1) _mm512_storeu_si512(dst + px * stride + 64, _mm512_permutexvar_epi32(at1, v));
        }
        return;
    }
    const uint8_t *s = s0;
    for (int64_t px = lo; px < hi; px++, s += C) {
        const __m512i v = px < whole ? _mm512_loadu_si512(s) : _mm512_maskz_loadu_epi32(mask, s);
        for (int j = 0; j < J; j++)
            _mm512_storeu_si512(dst + px * stride + j * 64,
                                _mm512_permutexvar_epi32(_mm512_sub_epi32(_mm512_loadu_si512(idx + j * VL), base), v));
    }
}

#include "backends/cpu/conv_template.h"

/* ---- AMX tiles for the integer sums (kernels.h, conv2d.c plan_amx) ------------------------------------------------
 * Tiles 0–5 accumulate the sums of (block, plane) pairs, 16 pixels × 16 lanes each; tile 6 holds A (M pixels ×
 * amx_kc input bytes), tile 7 B (amx_kc / 4 quads × 16 lanes × 4 weight bytes of one plane).  The instructions are
 * written out (inline assembly needs no target option) with memory clobbers, so that the compiler keeps the
 * stores of im2col rows before the tile loads that read them and the loads of the sums after the tile stores. */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_config;

#define AMX_LOAD(T, base, stride)                                                                                      \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #T ::"r"(base), "r"((long)(stride)) : "memory")
#define AMX_STORE(T, base, stride)                                                                                     \
    __asm__ volatile("tilestored %%tmm" #T ", (%0,%1,1)" ::"r"(base), "r"((long)(stride)) : "memory")
#define AMX_ZERO(T) __asm__ volatile("tilezero %%tmm" #T ::)
#define AMX_DP(T) __asm__ volatile("tdpbusd %%tmm7, %%tmm6, %%tmm" #T ::)

static inline void amx_dp(int t) {
    switch (t) {
    case 0: AMX_DP(0); break;
    case 1: AMX_DP(1); break;
    case 2: AMX_DP(2); break;
    case 3: AMX_DP(3); break;
    case 4: AMX_DP(4); break;
    default: AMX_DP(5); break;
    }
}

static inline void amx_zero(int t) {
    switch (t) {
    case 0: AMX_ZERO(0); break;
    case 1: AMX_ZERO(1); break;
    case 2: AMX_ZERO(2); break;
    case 3: AMX_ZERO(3); break;
    case 4: AMX_ZERO(4); break;
    default: AMX_ZERO(5); break;
    }
}

/* Tile t's 16 × 16 sums to acc, pixel i's lanes at acc + (6·i + t)·16: the VNNI tiles' layout of the sums. */
static inline void amx_store(int t, int32_t *acc) {
    switch (t) {
    case 0: AMX_STORE(0, acc, 6 * 64); break;
    case 1: AMX_STORE(1, acc + 16, 6 * 64); break;
    case 2: AMX_STORE(2, acc + 32, 6 * 64); break;
    case 3: AMX_STORE(3, acc + 48, 6 * 64); break;
    case 4: AMX_STORE(4, acc + 64, 6 * 64); break;
    default: AMX_STORE(5, acc + 80, 6 * 64); break;
    }
}

/* n ≤ 64 bytes from src to dst, no byte outside either touched: plain moves for the usual sizes (an image's kernel
 * row of 12 or 16 bytes, a group of 4, 8 or 16 channels), masked ones otherwise. */
static inline void copy_small(uint8_t *dst, const uint8_t *src, int n) {
    switch (n) {
    case 4: memcpy(dst, src, 4); return;
    case 8: memcpy(dst, src, 8); return;
    case 12: memcpy(dst, src, 12); return;
    case 16: memcpy(dst, src, 16); return;
    case 32: memcpy(dst, src, 32); return;
    default: {
        const __mmask64 m = n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
        _mm512_mask_storeu_epi8(dst, m, _mm512_maskz_loadu_epi8(m, src));
    }
    }
}

/* im2col rows of M output pixels from x (input column of the first, stride s): `pieces` pieces of n bytes per pixel,
 * piece q from src[q] + x·step, written one after another. */
static void im2col(uint8_t *dst, int kpad, int M, const uint8_t *const *src, int pieces, int n, int64_t step) {
    switch (n) {
#define IM2COL_CASE(N)                                                                                                 \
    case N:                                                                                                            \
        for (int m = 0; m < M; m++)                                                                                    \
            for (int q = 0; q < pieces; q++)                                                                           \
                memcpy(dst + (size_t)m * kpad + q * N, src[q] + m * step, N);                                          \
        return;
        IM2COL_CASE(4)
        IM2COL_CASE(8)
        IM2COL_CASE(12)
        IM2COL_CASE(16)
        IM2COL_CASE(32)
#undef IM2COL_CASE
    default:
        for (int m = 0; m < M; m++)
            for (int q = 0; q < pieces; q++)
                copy_small(dst + (size_t)m * kpad + q * n, src[q] + m * step, n);
    }
}

/* One work item: output rows [r0, r1) × channel blocks [b0, b1). */
static void conv2d_amx(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch) {
    const glnn_cpu_conv2d_plan *p = job->plan;
    glnn_cpu_row_ring *ring = scratch;
    if (p->rows != ROWS_DIRECT) {
        ring->slots = (uint8_t *)scratch + ((sizeof *ring + 63) & ~(size_t)63);
        for (int i = 0; i < p->k; i++)
            ring->tag[i] = -1;
    }
    uint8_t *amx = (uint8_t *)scratch + p->amx_scratch;
    int32_t *acc = (int32_t *)amx;
    uint8_t *a_rows = amx + 6 * 16 * 64;
    const int span = p->amx_span;
    amx_config *cfg = (amx_config *)(a_rows + (size_t)16 * p->amx_kpad * (span ? 3 : 1));
    const int M = p->amx_m, P = p->planes, k = p->k, s = p->s, kc = p->amx_kc, kpad = p->amx_kpad;
    const int per_pass = 6 / P;
    const int blocks_per_group = p->image || p->groups == 1 || span ? p->nb : p->cout_g / VL;
    const int64_t wo = p->wo, cout = p->cout, C = p->c, cg = p->cg;
    const size_t bstride = (size_t)P * 64, wblock = (span ? (size_t)kpad / 4 : (size_t)k * p->steps) * bstride;
    memset(cfg, 0, sizeof *cfg);
    cfg->palette = 1;
    for (int t = 0; t < 6; t++)
        cfg->colsb[t] = 64, cfg->rows[t] = (uint8_t)M;
    cfg->colsb[6] = (uint16_t)kc, cfg->rows[6] = (uint8_t)M;
    cfg->colsb[7] = 64, cfg->rows[7] = (uint8_t)(kc / 4);
    __asm__ volatile("ldtilecfg %0" ::"m"(*cfg));
    if (kpad) memset(a_rows, 0, (size_t)16 * kpad * (span ? 3 : 1));
    const uint8_t *rows[32];
    for (int64_t yo = r0; yo < r1; yo++) {
        window_rows(p, job->in, ring, yo, b0, b1, rows);
        for (int64_t x0 = 0; x0 < wo; x0 += M) {
            const int64_t xs = x0 + M <= wo ? x0 : wo - M; /* the last strip overlaps the one before */
            int built = -1;                                /* group whose im2col rows a_rows holds */
            for (int b = b0; b < b1;) {
                const int g = b / blocks_per_group, group_end = (g + 1) * blocks_per_group;
                int nbk = b1 - b < per_pass ? b1 - b : per_pass;
                nbk = group_end - b < nbk ? group_end - b : nbk;
                const int tiles = nbk * P;
                if (span) {
                    /* Each block of the pass: its groups' span of input channels, tap by tap. */
                    for (int j = 0; j < nbk; j++) {
                        const int64_t in0 = (int64_t)(b + j) * VL / p->cout_g * cg;
                        const uint8_t *src[64];
                        int pieces = 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                src[pieces++] = rows[ky] + (xs * s + kx) * C + in0;
                        im2col(a_rows + (size_t)j * 16 * kpad, kpad, M, src, pieces, span, s * C);
                    }
                } else if (kpad && built != g) {
                    /* An image's kernel rows (3k bytes and the zero-weight bytes after them), else each tap's Cg
                     * bytes of the group. */
                    const uint8_t *src[64];
                    int pieces = 0;
                    if (p->image) {
                        for (int ky = 0; ky < k; ky++)
                            src[pieces++] = rows[ky] + xs * s * 3;
                        im2col(a_rows, kpad, M, src, pieces, 4 * p->steps, s * 3);
                    } else {
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                src[pieces++] = rows[ky] + (xs * s + kx) * C + g * cg;
                        im2col(a_rows, kpad, M, src, pieces, (int)cg, s * C);
                    }
                    built = g;
                }
                for (int t = 0; t < tiles; t++)
                    amx_zero(t);
                const uint8_t *wb = (const uint8_t *)p->wpack + (size_t)b * wblock;
                for (int c = 0; c < p->amx_chunks; c++) {
                    size_t wq; /* the chunk's first quad in the block's weights ([k][steps]) */
                    if (kpad) {
                        AMX_LOAD(6, a_rows + 64 * c, kpad);
                        wq = (size_t)16 * c;
                    } else {
                        const int sub = (int)(cg / kc), tap = c / sub, js = c % sub, ky = tap / k, kx = tap % k;
                        AMX_LOAD(6, rows[ky] + (xs * s + kx) * C + g * cg + js * kc, s * C);
                        wq = (size_t)ky * p->steps + (size_t)kx * (cg / 4) + (size_t)js * (kc / 4);
                    }
                    for (int j = 0; j < nbk; j++) {
                        if (span && j > 0) AMX_LOAD(6, a_rows + (size_t)j * 16 * kpad + 64 * c, kpad);
                        for (int pl = 0; pl < P; pl++) {
                            AMX_LOAD(7, wb + j * wblock + wq * bstride + pl * 64, bstride);
                            amx_dp(j * P + pl);
                        }
                    }
                }
                for (int t = 0; t < tiles; t++)
                    amx_store(t, acc);
                for (int j = 0; j < nbk; j++) {
                    const int64_t co = (int64_t)(b + j) * VL;
                    const int n = cout - co < VL ? (int)(cout - co) : VL;
                    const int64_t at = (yo * wo + xs) * cout + co;
                    store_block_int(p, acc, j * P, P, M, co, job->residual ? job->residual + at : NULL, job->out + at,
                                    cout, n);
                }
                b += nbk;
            }
        }
    }
    __asm__ volatile("tilerelease" ::);
}

static void conv2d_avx512_or_amx(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1,
                                 void *scratch) {
    if (job->plan->amx)
        conv2d_amx(job, r0, r1, b0, b1, scratch);
    else
        conv2d_avx512(job, r0, r1, b0, b1, scratch);
}

#define POOL_FN(name) name##_avx512
#include "backends/cpu/ops_template.h"

/* 16 pixels' RGB (bytes 0–2 of 16 dwords) to 48 bytes. */
static inline void store_rgb16(uint8_t *dst, __m512i rgbx, int n) {
    /* Within each 128-bit lane: bytes 0,1,2, 4,5,6, 8,9,10, 12,13,14 to the front. */
    const __m512i shuf = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
    const __m512i packed = _mm512_shuffle_epi8(rgbx, shuf);
    const __m512i at = _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 15, 15, 15);
    const __m512i rgb = _mm512_permutexvar_epi32(at, packed);
    const int bytes = 3 * n;
    const __mmask64 m = bytes >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << bytes) - 1);
    _mm512_mask_storeu_epi8(dst, m, rgb);
}

/* One channel of 16 bilinear samples, operation for operation as the reference (ops_template.h). */
static inline __m512i blend16(__m512i g00, __m512i g01, __m512i g10, __m512i g11, int shift, __m512 fx, __m512 gx,
                              __m512 fy, __m512 gy) {
    const __m512i ff = _mm512_set1_epi32(0xff);
#define CH(g) _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(g, (unsigned)shift), ff))
    const __m512 top = _mm512_add_ps(_mm512_mul_ps(gx, CH(g00)), _mm512_mul_ps(fx, CH(g01)));
    const __m512 bottom = _mm512_add_ps(_mm512_mul_ps(gx, CH(g10)), _mm512_mul_ps(fx, CH(g11)));
#undef CH
    const __m512 v =
        _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(gy, top), _mm512_mul_ps(fy, bottom)), _mm512_set1_ps(0.5f));
    return _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); /* in 0 … 255 */
}

/* ImageSampler rows with gathers of 16 pixels (a dword each: RGB and the next byte); rows whose gathers would
 * read past the image's last byte, and images too large for 32-bit offsets, take the portable code. */
static void image_sampler_avx512(const glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                 int64_t r1) {
    if (!p->x0_32) {
        glnn_cpu_image_sampler_avx512(p, in, out, r0, r1);
        return;
    }
    const int64_t wo = p->wo, size = p->h * p->w * 3;
    for (int64_t y = r0; y < r1; y++) {
        const int64_t ya = p->y0[y], yb = p->y1[y];
        if ((ya > yb ? ya : yb) + p->max_x + 4 > size) {
            glnn_cpu_image_sampler_avx512(p, in, out, y, y + 1);
            continue;
        }
        const uint8_t *ra = in + ya, *rb = in + yb;
        uint8_t *o = out + y * wo * 3;
        const __m512 fy = _mm512_set1_ps(p->fy[y]), gy = _mm512_set1_ps(1.0f - p->fy[y]);
        for (int64_t x = 0; x < wo; x += 16) {
            const int n = wo - x < 16 ? (int)(wo - x) : 16;
            const __mmask16 m = (__mmask16)((1u << n) - 1);
            const __m512i i0 = _mm512_maskz_loadu_epi32(m, p->x0_32 + x);
            if (!p->linear) {
                store_rgb16(o + 3 * x, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, i0, ra, 1), n);
                continue;
            }
            const __m512i i1 = _mm512_maskz_loadu_epi32(m, p->x1_32 + x);
            const __m512 fx = _mm512_maskz_loadu_ps(m, p->fx + x), gx = _mm512_sub_ps(_mm512_set1_ps(1.0f), fx);
            const __m512i z = _mm512_setzero_si512();
            const __m512i g00 = _mm512_mask_i32gather_epi32(z, m, i0, ra, 1);
            const __m512i g01 = _mm512_mask_i32gather_epi32(z, m, i1, ra, 1);
            const __m512i g10 = _mm512_mask_i32gather_epi32(z, m, i0, rb, 1);
            const __m512i g11 = _mm512_mask_i32gather_epi32(z, m, i1, rb, 1);
            const __m512i r = blend16(g00, g01, g10, g11, 0, fx, gx, fy, gy);
            const __m512i g = blend16(g00, g01, g10, g11, 8, fx, gx, fy, gy);
            const __m512i b = blend16(g00, g01, g10, g11, 16, fx, gx, fy, gy);
            const __m512i rgb = _mm512_or_si512(r, _mm512_or_si512(_mm512_slli_epi32(g, 8), _mm512_slli_epi32(b, 16)));
            store_rgb16(o + 3 * x, rgb, n);
        }
    }
}

/* Connection shuffle (kernels.h): 16 / quads pixels per permute when a pixel has at most 16 quads dividing 16, else
 * gathers of 16 quads of one pixel. */
static void shuffle_avx512(const uint8_t *in, uint8_t *out, int64_t pixels, int64_t quads, const int32_t *src) {
    if (quads <= 16 && 16 % quads == 0) {
        const int per = (int)(16 / quads);
        int32_t at[16];
        for (int l = 0; l < 16; l++)
            at[l] = (int32_t)((l / quads) * quads + src[l % quads]);
        const __m512i idx = _mm512_loadu_si512(at);
        int64_t px = 0;
        for (; px + per <= pixels; px += per)
            _mm512_storeu_si512(out + px * quads * 4,
                                _mm512_permutexvar_epi32(idx, _mm512_loadu_si512(in + px * quads * 4)));
        if (px < pixels) {
            const __mmask16 m = (__mmask16)((1u << ((pixels - px) * quads)) - 1);
            _mm512_mask_storeu_epi32(out + px * quads * 4, m,
                                     _mm512_permutexvar_epi32(idx, _mm512_maskz_loadu_epi32(m, in + px * quads * 4)));
        }
        return;
    }
    for (int64_t px = 0; px < pixels; px++) {
        const uint8_t *s = in + px * quads * 4;
        uint8_t *d = out + px * quads * 4;
        for (int64_t i = 0; i < quads; i += 16) {
            const __mmask16 m = quads - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (quads - i)) - 1);
            const __m512i idx = _mm512_maskz_loadu_epi32(m, src + i);
            _mm512_mask_storeu_epi32(d + i * 4, m, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, s, 4));
        }
    }
}

const glnn_cpu_kernels glnn_cpu_kernels_avx512 = {
    .isa = GLNN_CPU_ISA_AVX512,
    .int_lanes = VL,
    .float_lanes = VL,
    .regs32 = true,
    .conv2d = conv2d_avx512_or_amx,
    .pooling2d = glnn_cpu_pooling2d_avx512,
    .image_sampler = image_sampler_avx512,
    .upsampling2d = glnn_cpu_upsampling2d_avx512,
    .shuffle = shuffle_avx512,
};
#endif
