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
VINLINE void vf_store(float *p, VF v) {
    _mm512_store_ps(p, v);
}
VINLINE VF vf_bcast(const float *p) {
    return _mm512_set1_ps(*p);
}
VINLINE VF vf_fma(VF a, VF b, VF c) {
    return _mm512_fmadd_ps(a, b, c);
}
VINLINE VF vf_mul(VF a, VF b) {
    return _mm512_mul_ps(a, b);
}
VINLINE VF vf_add(VF a, VF b) {
    return _mm512_add_ps(a, b);
}
VINLINE VF vf_min(VF a, VF b) {
    return _mm512_min_ps(a, b);
}
VINLINE VF vf_max(VF a, VF b) {
    return _mm512_max_ps(a, b);
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
/* v = 255·act(z) + 0.5 clamped below at 0 (conv_template.h): ⌊v⌋ saturated to 255, n ≤ 16 bytes stored. */
VINLINE void q_store_scaled(uint8_t *dst, VF v, int n) {
    const __m128i b = _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32(v));
    if (n == 16)
        _mm_storeu_si128((__m128i *)dst, b);
    else
        _mm_mask_storeu_epi8(dst, (__mmask16)((1u << n) - 1), b);
}
/* Q of SPEC §2.2 (NaN → 0 through max's second operand), n ≤ 16 bytes stored. */
VINLINE void q_store(uint8_t *dst, VF v, int n) {
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
    v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(255.0f)), _mm512_set1_ps(0.5f));
    const __m128i b = _mm512_cvtusepi32_epi8(_mm512_cvttps_epi32(v));
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
    const int64_t quads = p->c / 4;
    const int32_t *idx = p->expand_index + (size_t)b * J * VL;
    const int32_t q0 = idx[0], span = idx[J * VL - 1] - q0 + 1;
    const __m512i base = _mm512_set1_epi32(q0);
    const int avail = quads - q0 < 16 ? (int)(quads - q0) : 16;
    const __mmask16 mask = (__mmask16)((1u << avail) - 1);
    for (int64_t px = 0; px < p->row_px; px++, dst += (size_t)J * 64) {
        const int64_t xi = px - left;
        if (xi < 0 || xi >= x_end) {
            for (int j = 0; j < J; j++)
                _mm512_storeu_si512(dst + j * 64, _mm512_setzero_si512());
            continue;
        }
        const uint8_t *s = src + xi * p->c;
        if (span <= 16) {
            const __m512i v = _mm512_maskz_loadu_epi32(mask, s + (size_t)q0 * 4);
            for (int j = 0; j < J; j++) {
                const __m512i at = _mm512_sub_epi32(_mm512_loadu_si512(idx + j * VL), base);
                _mm512_storeu_si512(dst + j * 64, _mm512_permutexvar_epi32(at, v));
            }
        } else {
            for (int j = 0; j < J; j++)
                _mm512_storeu_si512(dst + j * 64, _mm512_i32gather_epi32(_mm512_loadu_si512(idx + j * VL), s, 4));
        }
    }
}

#include "backends/cpu/conv_template.h"

#define POOL_FN(name) name##_avx512
#include "backends/cpu/ops_template.h"

const glnn_cpu_kernels glnn_cpu_kernels_avx512 = {
    .isa = GLNN_CPU_ISA_AVX512,
    .int_lanes = VL,
    .float_lanes = VL,
    .conv2d = conv2d_avx512,
    .pooling2d = glnn_cpu_pooling2d_avx512,
    .image_sampler = glnn_cpu_image_sampler_avx512,
    .upsampling2d = glnn_cpu_upsampling2d_avx512,
};
#endif
