/* Pooling2D kernel, portable C compiled once per ISA file (which defines POOL_FN(name) to suffix the name),
 * so that the compiler vectorizes it for that ISA.  Bit for bit as the reference (SPEC §5.1). */
#include "backends/cpu/kernels.h"

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
