/* Upsampling2D CPU reference (SPEC §5.5).  Nearest: output (y, x, c) = input (⌊y/f⌋, ⌊x/f⌋, c).  Bilinear: the
 * op's taps per axis (ops/upsampling2d.c), blended on byte values x first, then y, in float with the weights
 * rounded to float (as ImageSampler's bilinear blend), result ⌊v + 0.5⌋. */
#include "ops/upsampling2d.h"

#include <math.h>

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    (void)ctx;
    (void)state;
    (void)err;
    const glnn_upsampling2d_params *p = &glnn_upsampling2d_of(op)->p;
    const glnn_upsampling2d_prep *pp = glnn_upsampling2d_prep_of(op);
    const glnn_shape is = pp->in_shape;
    const int f = p->factor;
    const int64_t W = is.w, H = is.h, C = is.c, Wo = W * f, Ho = H * f;
    const uint8_t *src = inputs[0]->bytes;
    uint8_t *dst = output->bytes;
    for (int64_t y = 0; y < Ho; y++)
        for (int64_t x = 0; x < Wo; x++) {
            uint8_t *out = dst + (y * Wo + x) * C;
            if (p->interpolation == GLNN_INTERPOLATION_NEAREST) {
                const uint8_t *in = src + (y / f * W + x / f) * C;
                for (int64_t c = 0; c < C; c++)
                    out[c] = in[c];
                continue;
            }
            const int64_t x0 = pp->tx[x].i0, x1 = pp->tx[x].i1, y0 = pp->ty[y].i0, y1 = pp->ty[y].i1;
            const float fx = (float)pp->tx[x].f, fy = (float)pp->ty[y].f;
            const uint8_t *p00 = src + (y0 * W + x0) * C, *p01 = src + (y0 * W + x1) * C;
            const uint8_t *p10 = src + (y1 * W + x0) * C, *p11 = src + (y1 * W + x1) * C;
            for (int64_t c = 0; c < C; c++) {
                const float top = (1.0f - fx) * p00[c] + fx * p01[c];
                const float bottom = (1.0f - fx) * p10[c] + fx * p11[c];
                const float v = floorf((1.0f - fy) * top + fy * bottom + 0.5f);
                out[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    return GLNN_OK;
}

const glnn_op_impl glnn_reference_upsampling2d = {.run = run};
