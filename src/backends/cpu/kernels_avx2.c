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

const glnn_cpu_kernels glnn_cpu_kernels_avx2 = {
    .isa = GLNN_CPU_ISA_AVX2,
    .int_lanes = 0,
    .float_lanes = VL,
    .conv2d = conv2d_avx2,
    .pooling2d = glnn_cpu_pooling2d_avx2,
    .image_sampler = glnn_cpu_image_sampler_avx2,
    .upsampling2d = glnn_cpu_upsampling2d_avx2,
};
#endif
