/* x86-64 AVX2 + FMA kernels of the fast CPU back end, compiled with those flags alone (CMakeLists.txt) and
 * called only when the probe found them (features.c).  Conv2D uses float32 fused multiply-adds: without VNNI
 * an 8-bit dot product costs three instructions per 32 byte products, and a 16- or 24-bit weight two or
 * three of those, where one FMA does 8 exact-enough products. */
#if defined(__x86_64__)
#include "backends/cpu/kernels.h"

#include <immintrin.h>
#include <string.h>

#define VL 8
#define ISA_FN(name) name##_avx2
#define CONV_HAS_INT 0

typedef __m256i VI;
typedef __m256 VF;

#define VINLINE static inline __attribute__((always_inline))

VINLINE VF vf_zero(void) {
    return _mm256_setzero_ps();
}
VINLINE VF vf_set1(float v) {
    return _mm256_set1_ps(v);
}
VINLINE VF vf_loadu(const float *p) {
    return _mm256_loadu_ps(p);
}
VINLINE void vf_storeu(float *p, VF v) {
    _mm256_storeu_ps(p, v);
}
VINLINE void vf_store(float *p, VF v) {
    _mm256_store_ps(p, v);
}
VINLINE VF vf_bcast(const float *p) {
    return _mm256_broadcast_ss(p);
}
VINLINE VF vf_fma(VF a, VF b, VF c) {
    return _mm256_fmadd_ps(a, b, c);
}
VINLINE VF vf_add(VF a, VF b) {
    return _mm256_add_ps(a, b);
}
/* n ≤ 8 bytes, zero-extended to floats. */
VINLINE VF vf_from_u8(const uint8_t *p, int n) {
    __m128i b;
    if (n == 8) {
        b = _mm_loadl_epi64((const __m128i *)p);
    } else {
        uint8_t t[16] = {0};
        memcpy(t, p, (size_t)n);
        b = _mm_loadl_epi64((const __m128i *)t);
    }
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
}
/* Bytes s[idx[l]] as floats (4 bytes gathered at each, the first kept). */
VINLINE VF vf_gather_u8(const uint8_t *s, const int32_t *idx) {
    const __m256i g = _mm256_i32gather_epi32((const int *)s, _mm256_loadu_si256((const __m256i *)idx), 1);
    return _mm256_cvtepi32_ps(_mm256_and_si256(g, _mm256_set1_epi32(0xff)));
}
/* sign(y)·min(|y|, c). */
VINLINE VF vf_clamp_sym(VF y, float c) {
    return _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(-c)), _mm256_set1_ps(c));
}
/* 128 + clamp(⌊w⌋, −128, 127) as bytes (conv_template.h, store_block), n ≤ 8 stored. */
VINLINE void q_store_centered(uint8_t *dst, VF w, int n) {
    const __m256i i = _mm256_cvtps_epi32(_mm256_floor_ps(w));
    const __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    const __m128i b = _mm_xor_si128(_mm_packs_epi16(h, h), _mm_set1_epi8((char)0x80));
    if (n == 8) {
        _mm_storel_epi64((__m128i *)dst, b);
    } else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)t, b);
        memcpy(dst, t, (size_t)n);
    }
}

#include "backends/cpu/conv_template.h"

#define POOL_FN(name) name##_avx2
#include "backends/cpu/ops_template.h"

/* One channel of 8 bilinear samples, operation for operation as the reference (ops_template.h). */
static inline __m256i blend8(__m256i g00, __m256i g01, __m256i g10, __m256i g11, int shift, __m256 fx, __m256 gx,
                             __m256 fy, __m256 gy) {
    const __m256i ff = _mm256_set1_epi32(0xff);
    const __m128i sh = _mm_cvtsi32_si128(shift);
#define CH(g) _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(g, sh), ff))
    const __m256 top = _mm256_add_ps(_mm256_mul_ps(gx, CH(g00)), _mm256_mul_ps(fx, CH(g01)));
    const __m256 bottom = _mm256_add_ps(_mm256_mul_ps(gx, CH(g10)), _mm256_mul_ps(fx, CH(g11)));
#undef CH
    const __m256 v =
        _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(gy, top), _mm256_mul_ps(fy, bottom)), _mm256_set1_ps(0.5f));
    return _mm256_cvttps_epi32(_mm256_floor_ps(v)); /* in 0 … 255 */
}

/* 8 pixels' RGB (bytes 0–2 of 8 dwords) to 24 bytes. */
static inline void store_rgb8(uint8_t *dst, __m256i rgbx) {
    const __m256i shuf = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8,
                                          9, 10, 12, 13, 14, -1, -1, -1, -1);
    const __m256i packed = _mm256_shuffle_epi8(rgbx, shuf);
    const __m256i rgb = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7));
    _mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(rgb));
    _mm_storel_epi64((__m128i *)(dst + 16), _mm256_extracti128_si256(rgb, 1));
}

/* ImageSampler rows with gathers of 8 pixels (kernels_avx512.c has the reasoning); the last pixels of a row that
 * fill no vector, rows whose gathers would read past the image, and images too large for 32-bit offsets take the
 * portable code. */
static void image_sampler_avx2(const glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                               int64_t r1) {
    if (!p->x0_32) {
        glnn_cpu_image_sampler_avx2(p, in, out, r0, r1);
        return;
    }
    const int64_t wo = p->wo, size = p->h * p->w * 3;
    for (int64_t y = r0; y < r1; y++) {
        const int64_t ya = p->y0[y], yb = p->y1[y];
        if ((ya > yb ? ya : yb) + p->max_x + 4 > size || wo < 8) {
            glnn_cpu_image_sampler_avx2(p, in, out, y, y + 1);
            continue;
        }
        const uint8_t *ra = in + ya, *rb = in + yb;
        uint8_t *o = out + y * wo * 3;
        const __m256 fy = _mm256_set1_ps(p->fy[y]), gy = _mm256_set1_ps(1.0f - p->fy[y]);
        /* The last block overlaps the one before when wo is not a multiple of 8: its pixels are computed twice,
         * identically. */
        for (int64_t x0 = 0; x0 < wo; x0 += 8) {
            const int64_t x = x0 + 8 <= wo ? x0 : wo - 8;
            const __m256i i0 = _mm256_loadu_si256((const __m256i *)(p->x0_32 + x));
            if (!p->linear) {
                store_rgb8(o + 3 * x, _mm256_i32gather_epi32((const int *)ra, i0, 1));
                continue;
            }
            const __m256i i1 = _mm256_loadu_si256((const __m256i *)(p->x1_32 + x));
            const __m256 fx = _mm256_loadu_ps(p->fx + x), gx = _mm256_sub_ps(_mm256_set1_ps(1.0f), fx);
            const __m256i g00 = _mm256_i32gather_epi32((const int *)ra, i0, 1);
            const __m256i g01 = _mm256_i32gather_epi32((const int *)ra, i1, 1);
            const __m256i g10 = _mm256_i32gather_epi32((const int *)rb, i0, 1);
            const __m256i g11 = _mm256_i32gather_epi32((const int *)rb, i1, 1);
            const __m256i r = blend8(g00, g01, g10, g11, 0, fx, gx, fy, gy);
            const __m256i g = blend8(g00, g01, g10, g11, 8, fx, gx, fy, gy);
            const __m256i b = blend8(g00, g01, g10, g11, 16, fx, gx, fy, gy);
            store_rgb8(o + 3 * x,
                       _mm256_or_si256(r, _mm256_or_si256(_mm256_slli_epi32(g, 8), _mm256_slli_epi32(b, 16))));
        }
    }
}

/* Connection shuffle (kernels.h): 8 / quads pixels per permute when a pixel has at most 8 quads dividing 8, else
 * gathers of 8 quads of one pixel (the last ones of a pixel one by one). */
static void shuffle_avx2(const uint8_t *in, uint8_t *out, int64_t pixels, int64_t quads, const int32_t *src) {
    if (quads <= 8 && 8 % quads == 0) {
        const int per = (int)(8 / quads);
        int32_t at[8];
        for (int l = 0; l < 8; l++)
            at[l] = (int32_t)((l / quads) * quads + src[l % quads]);
        const __m256i idx = _mm256_loadu_si256((const __m256i *)at);
        int64_t px = 0;
        for (; px + per <= pixels; px += per)
            _mm256_storeu_si256(
                (__m256i *)(out + px * quads * 4),
                _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)(in + px * quads * 4)), idx));
        for (; px < pixels; px++)
            for (int64_t i = 0; i < quads; i++)
                memcpy(out + (px * quads + i) * 4, in + (px * quads + src[i]) * 4, 4);
        return;
    }
    for (int64_t px = 0; px < pixels; px++) {
        const uint8_t *s = in + px * quads * 4;
        uint8_t *d = out + px * quads * 4;
        int64_t i = 0;
        for (; i + 8 <= quads; i += 8)
            _mm256_storeu_si256(
                (__m256i *)(d + i * 4),
                _mm256_i32gather_epi32((const int *)s, _mm256_loadu_si256((const __m256i *)(src + i)), 4));
        for (; i < quads; i++)
            memcpy(d + i * 4, s + src[i] * 4, 4);
    }
}

const glnn_cpu_kernels glnn_cpu_kernels_avx2 = {
    .isa = GLNN_CPU_ISA_AVX2,
    .int_lanes = 0,
    .float_lanes = VL,
    .conv2d = conv2d_avx2,
    .pooling2d = glnn_cpu_pooling2d_avx2,
    .image_sampler = image_sampler_avx2,
    .upsampling2d = glnn_cpu_upsampling2d_avx2,
    .shuffle = shuffle_avx2,
};
#endif
