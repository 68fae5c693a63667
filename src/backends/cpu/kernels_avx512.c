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

const glnn_cpu_kernels glnn_cpu_kernels_avx512 = {
    .isa = GLNN_CPU_ISA_AVX512,
    .int_lanes = VL,
    .float_lanes = VL,
    .regs32 = true,
    .conv2d = conv2d_avx512,
    .pooling2d = glnn_cpu_pooling2d_avx512,
    .image_sampler = image_sampler_avx512,
    .upsampling2d = glnn_cpu_upsampling2d_avx512,
};
#endif
