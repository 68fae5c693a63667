/* The AArch64 Advanced SIMD (NEON) vector layer of the fast CPU back end, shared by kernels_neon.c (any AArch64
 * CPU) and kernels_neondot.c (ARMv8.2 DotProd, compiled with -march=armv8.2-a+dotprod).  The including file
 * defines NEON_DOTPROD (1: vi_dot is one `sdot`; 0: its plain-NEON equivalent) and ISA_FN, then includes this
 * header and the shared templates (conv_template.h, ops_template.h).
 *
 * 4 lanes of int32 or float in 32 registers of 128 bits: the register tiles are the wide ones (CONV_REGS32), as on
 * AVX-512.  The integer Conv2D kernels multiply 4 input bytes by 4 signed weight bytes into each int32 lane, like
 * VNNI's vpdpbusd; but `sdot` multiplies signed bytes by signed bytes, so the kernels see each input byte x as the
 * signed x − 128 (CONV_INT_SIGNED): rows are staged with the sign bit flipped (padding and the zero row 0x80, the
 * image of a zero input), and the plan adds 128·Σ(plane weights) of each output channel back through its bias
 * (conv2d.c, pack_int).  The sums are exact integers, the same as VNNI's for the same inputs. */
#ifndef GLNN_BACKENDS_CPU_NEON_VEC_H
#define GLNN_BACKENDS_CPU_NEON_VEC_H

#include "backends/cpu/kernels.h"

#include <arm_neon.h>
#include <string.h>

#define VL 4
#define CONV_HAS_INT 1
#define CONV_INT_SIGNED 1
#define CONV_REGS32 1

typedef int32x4_t VI;
typedef float32x4_t VF;

#define VINLINE static inline __attribute__((always_inline))

VINLINE VI vi_zero(void) {
    return vdupq_n_s32(0);
}
/* The 4 bytes at p in every lane. */
VINLINE VI vi_bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return vdupq_n_s32(v);
}
VINLINE VI vi_loadu(const void *p) {
    return vreinterpretq_s32_u8(vld1q_u8((const uint8_t *)p));
}
VINLINE void vi_store(int32_t *p, VI v) {
    vst1q_s32(p, v);
}
/* acc + Σ_(i<4) a[4l + i]·w[4l + i] in each lane l, the bytes signed. */
VINLINE VI vi_dot(VI acc, VI a, VI w) {
#if NEON_DOTPROD
    return vdotq_s32(acc, vreinterpretq_s8_s32(a), vreinterpretq_s8_s32(w));
#else
    /* Products as exact int16 (lanes 0–1, then 2–3), pairs of them widened to int32, then pairs of those. */
    const int8x16_t x = vreinterpretq_s8_s32(a), y = vreinterpretq_s8_s32(w);
    const int16x8_t lo = vmull_s8(vget_low_s8(x), vget_low_s8(y)), hi = vmull_high_s8(x, y);
    return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}
VINLINE VF vf_zero(void) {
    return vdupq_n_f32(0.0f);
}
VINLINE VF vf_set1(float v) {
    return vdupq_n_f32(v);
}
VINLINE VF vf_loadu(const float *p) {
    return vld1q_f32(p);
}
VINLINE void vf_storeu(float *p, VF v) {
    vst1q_f32(p, v);
}
VINLINE void vf_store(float *p, VF v) {
    vst1q_f32(p, v);
}
VINLINE VF vf_bcast(const float *p) {
    return vld1q_dup_f32(p);
}
/* a·b + c, fused. */
VINLINE VF vf_fma(VF a, VF b, VF c) {
    return vfmaq_f32(c, a, b);
}
VINLINE VF vf_add(VF a, VF b) {
    return vaddq_f32(a, b);
}
VINLINE VF vf_from_vi(VI v) {
    return vcvtq_f32_s32(v);
}
/* n ≤ 4 bytes, zero-extended to floats. */
VINLINE VF vf_from_u8(const uint8_t *p, int n) {
    uint32_t v = 0;
    memcpy(&v, p, (size_t)n);
    const uint16x4_t h = vget_low_u16(vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(v))));
    return vcvtq_f32_u32(vmovl_u16(h));
}
/* Bytes s[idx[l]] as floats. */
VINLINE VF vf_gather_u8(const uint8_t *s, const int32_t *idx) {
    const float v[4] = {(float)s[idx[0]], (float)s[idx[1]], (float)s[idx[2]], (float)s[idx[3]]};
    return vld1q_f32(v);
}
/* sign(y)·min(|y|, c). */
VINLINE VF vf_clamp_sym(VF y, float c) {
    return vminq_f32(vmaxq_f32(y, vdupq_n_f32(-c)), vdupq_n_f32(c));
}
/* 128 + clamp(⌊w⌋, −128, 127) as bytes (conv_template.h, store_block), n ≤ 4 stored: fcvtms rounds toward −∞ and
 * saturates, the narrowing moves saturate. */
VINLINE void q_store_centered(uint8_t *dst, VF w, int n) {
    const int16x4_t h = vqmovn_s32(vcvtmq_s32_f32(w));
    const int8x8_t b = vqmovn_s16(vcombine_s16(h, h));
    const uint8x8_t u = veor_u8(vreinterpret_u8_s8(b), vdup_n_u8(0x80));
    const uint32_t v = vget_lane_u32(vreinterpret_u32_u8(u), 0);
    memcpy(dst, &v, (size_t)n);
}

/* Bytes copied with the sign bit flipped (x − 128 as a signed byte). */
static void copy_signed(uint8_t *dst, const uint8_t *src, size_t n) {
    const uint8x16_t m = vdupq_n_u8(0x80);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), m));
    for (; i < n; i++)
        dst[i] = src[i] ^ 0x80;
}

/* ROWS_COPY staging (conv_template.h, stage_row): `left` bytes of padding, n bytes of the row, padding to `total`. */
static void stage_copy_signed(uint8_t *dst, const uint8_t *src, size_t left, size_t n, size_t total) {
    memset(dst, 0x80, left);
    copy_signed(dst + left, src, n);
    memset(dst + left + n, 0x80, total - left - n);
}

/* SRC_EXPANDED integer rows: [pixel][j][4 lanes × 4 bytes], lane l holding quad expand_index[b][j][l] of the pixel
 * with the sign bits flipped; padding pixels 0x80. */
static void stage_expand_int(const glnn_cpu_conv2d_plan *p, const uint8_t *src, int64_t left, int64_t x_end, int b,
                             uint8_t *dst) {
    const int J = p->cg / 4;
    const int32_t *idx = p->expand_index + (size_t)b * J * VL;
    const size_t stride = (size_t)J * VL * 4;
    const uint32_t m = 0x80808080u;
    for (int64_t px = 0; px < p->row_px; px++) {
        uint8_t *d = dst + px * stride;
        const int64_t xi = px - left;
        if (xi < 0 || xi >= x_end) {
            memset(d, 0x80, stride);
            continue;
        }
        const uint8_t *s = src + xi * p->c;
        for (int i = 0; i < J * VL; i++) {
            uint32_t q;
            memcpy(&q, s + (size_t)idx[i] * 4, 4);
            q ^= m;
            memcpy(d + (size_t)i * 4, &q, 4);
        }
    }
}

#endif
