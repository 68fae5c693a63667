/* Pooling2D, ImageSampler and Upsampling2D kernels: portable C compiled once per ISA file (which defines
 * POOL_FN(name) to suffix the names), so that the compiler vectorizes them for that ISA. */
#include "backends/cpu/kernels.h"

#include <math.h>
#include <string.h>

/* Pooling2D output rows [r0, r1), bit for bit as the reference (SPEC §5.1). */
void POOL_FN(glnn_cpu_pooling2d)(const glnn_cpu_pooling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                 int64_t r1) {
    const int k = p->k, s = p->s;
    const int64_t W = p->w, H = p->h, C = p->c, Wo = p->wo;
    const uint64_t area = (uint64_t)k * (uint64_t)k;
    enum { CHUNK = 256 };
    uint32_t acc32[CHUNK];
    uint8_t acc8[CHUNK];
    for (int64_t yo = r0; yo < r1; yo++)
        for (int64_t xo = 0; xo < Wo; xo++) {
            const int64_t y0 = yo * s - p->pad_top, x0 = xo * s - p->pad_left;
            const int64_t ky0 = y0 < 0 ? -y0 : 0, ky1 = H - y0 < k ? H - y0 : k;
            const int64_t kx0 = x0 < 0 ? -x0 : 0, kx1 = W - x0 < k ? W - x0 : k;
            uint8_t *o = out + (yo * Wo + xo) * C;
            for (int64_t c0 = 0; c0 < C; c0 += CHUNK) {
                const int n = (int)(C - c0 < CHUNK ? C - c0 : CHUNK);
                if (p->is_max) {
                    for (int i = 0; i < n; i++)
                        acc8[i] = 0;
                    for (int64_t ky = ky0; ky < ky1; ky++)
                        for (int64_t kx = kx0; kx < kx1; kx++) {
                            const uint8_t *src = in + ((y0 + ky) * W + x0 + kx) * C + c0;
                            for (int i = 0; i < n; i++)
                                acc8[i] = src[i] > acc8[i] ? src[i] : acc8[i];
                        }
                    for (int i = 0; i < n; i++)
                        o[c0 + i] = acc8[i];
                } else if (p->avg_mul) {
                    /* k ≤ 181: the window sum fits 32 bits and the multiply-shift divides exactly. */
                    for (int i = 0; i < n; i++)
                        acc32[i] = 0;
                    for (int64_t ky = ky0; ky < ky1; ky++)
                        for (int64_t kx = kx0; kx < kx1; kx++) {
                            const uint8_t *src = in + ((y0 + ky) * W + x0 + kx) * C + c0;
                            for (int i = 0; i < n; i++)
                                acc32[i] += src[i];
                        }
                    for (int i = 0; i < n; i++)
                        o[c0 + i] = (uint8_t)(((2 * (uint64_t)acc32[i] + area) * p->avg_mul) >> 40);
                } else {
                    for (int i = 0; i < n; i++) {
                        uint64_t sum = 0;
                        for (int64_t ky = ky0; ky < ky1; ky++)
                            for (int64_t kx = kx0; kx < kx1; kx++)
                                sum += in[((y0 + ky) * W + x0 + kx) * C + c0 + i];
                        o[c0 + i] = (uint8_t)((2 * sum + area) / (2 * area));
                    }
                }
            }
        }
}

/* ImageSampler output rows [r0, r1), bit for bit as the reference (SPEC §5.4): the same float operations in
 * the same order on the same taps. */
void POOL_FN(glnn_cpu_image_sampler)(const glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                     int64_t r1) {
    const int64_t wo = p->wo;
    for (int64_t y = r0; y < r1; y++) {
        uint8_t *o = out + y * wo * 3;
        if (!p->linear) {
            const uint8_t *row = in + p->y0[y];
            for (int64_t x = 0; x < wo; x++) {
                const uint8_t *s = row + p->x0[x];
                o[3 * x] = s[0], o[3 * x + 1] = s[1], o[3 * x + 2] = s[2];
            }
            continue;
        }
        const uint8_t *ra = in + p->y0[y], *rb = in + p->y1[y];
        const float fy = p->fy[y];
        for (int64_t x = 0; x < wo; x++) {
            const int64_t a = p->x0[x], b = p->x1[x];
            const float fx = p->fx[x];
            for (int c = 0; c < 3; c++) {
                const float top = (1.0f - fx) * ra[a + c] + fx * ra[b + c];
                const float bottom = (1.0f - fx) * rb[a + c] + fx * rb[b + c];
                const float v = floorf((1.0f - fy) * top + fy * bottom + 0.5f);
                o[3 * x + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
}

/* Upsampling2D output rows [r0, r1) (SPEC §5.5).  Nearest copies pixels; bilinear blends along x, then y,
 * in float with the weights rounded to float, then ⌊v + 0.5⌋. */
void POOL_FN(glnn_cpu_upsampling2d)(const glnn_cpu_upsampling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                    int64_t r1) {
    const int64_t C = p->p.c, W = p->p.w, f = p->p.factor, wo = W * f;
    for (int64_t y = r0; y < r1; y++) {
        uint8_t *o = out + y * wo * C;
        if (!p->p.bilinear) {
            const uint8_t *row = in + (y / f) * W * C;
            for (int64_t x = 0; x < W; x++)
                for (int64_t r = 0; r < f; r++)
                    memcpy(o + (x * f + r) * C, row + x * C, (size_t)C);
            continue;
        }
        const uint8_t *ra = in + p->j0[y] * W * C, *rb = in + p->j1[y] * W * C;
        const float fy = p->g[y], gy = 1.0f - fy;
        for (int64_t x = 0; x < wo; x++) {
            const uint8_t *a0 = ra + p->i0[x] * C, *a1 = ra + p->i1[x] * C;
            const uint8_t *b0 = rb + p->i0[x] * C, *b1 = rb + p->i1[x] * C;
            const float fx = p->f[x], gx = 1.0f - fx;
            uint8_t *d = o + x * C;
            for (int64_t c = 0; c < C; c++) {
                const float top = gx * a0[c] + fx * a1[c];
                const float bottom = gx * b0[c] + fx * b1[c];
                const float v = floorf(gy * top + fy * bottom + 0.5f);
                d[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
}
