/* Pooling2D CPU reference (SPEC §5.1).  MAX: the largest byte of the window, padded positions counting as
 * 0.  AVERAGE: q = floor(S/size² + 1/2) for the integer window sum S, computed exactly in integers as
 * (2S + size²) / (2·size²). */
#include "ops/pooling2d.h"

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    (void)ctx;
    (void)state;
    (void)err;
    const glnn_pooling2d *pl = glnn_pooling2d_of(op);
    const glnn_pooling2d_prep *pp = glnn_pooling2d_prep_of(op);
    const int k = pl->p.size, s = pl->stride;
    const bool is_max = pl->p.op == GLNN_POOLING_MAX;
    const int64_t W = pp->in_shape.w, H = pp->in_shape.h, C = pp->in_shape.c;
    const int64_t Wo = pp->ax.n, Ho = pp->ay.n;
    const uint64_t area = (uint64_t)k * (uint64_t)k;
    const uint8_t *x = inputs[0]->bytes;
    uint8_t *y = output->bytes;

    for (int64_t yo = 0; yo < Ho; yo++)
        for (int64_t xo = 0; xo < Wo; xo++) {
            const int64_t y0 = yo * s - pp->ay.before, x0 = xo * s - pp->ax.before;
            /* Only the taps inside the input: padding reads 0, which changes neither the maximum nor the
             * sum, and a window far larger than the input costs no more than the input. */
            const int64_t ky0 = y0 < 0 ? -y0 : 0, ky1 = H - y0 < k ? H - y0 : k;
            const int64_t kx0 = x0 < 0 ? -x0 : 0, kx1 = W - x0 < k ? W - x0 : k;
            uint8_t *out = y + (yo * Wo + xo) * C;
            for (int64_t c = 0; c < C; c++) {
                uint64_t acc = 0; /* MAX: the maximum so far (padding reads 0); AVERAGE: the sum S */
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const int64_t yi = y0 + ky;
                    for (int64_t kx = kx0; kx < kx1; kx++) {
                        const int64_t xi = x0 + kx;
                        const uint8_t v = x[(yi * W + xi) * C + c];
                        if (is_max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                    }
                }
                out[c] = (uint8_t)(is_max ? acc : (2 * acc + area) / (2 * area));
            }
        }
    return GLNN_OK;
}

const glnn_op_impl glnn_reference_pooling2d = {.run = run};
