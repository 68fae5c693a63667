/* ImageSampler CPU reference (SPEC §5.4).  The taps (rotated-space neighbours and weights, computed in
 * double at preparation) are applied to byte values: bilinear v = (1−fy)·((1−fx)·v00 + fx·v01) +
 * fy·((1−fx)·v10 + fx·v11), result ⌊v + 0.5⌋; nearest copies the chosen pixel.  The blend runs in float
 * with the weights rounded to float, operation for operation as the GPU kernel does it, so that both back
 * ends agree bit for bit wherever the driver honours `precise`. */
#include "ops/image_sampler.h"

#include <math.h>

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    (void)ctx;
    (void)state;
    (void)err;
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    const int rot = p->rotation;
    const int64_t W = sm->in_shape.w, H = sm->in_shape.h;
    const int64_t wo = p->output_width, ho = p->output_height;
    const uint8_t *src = inputs[0]->bytes;
    uint8_t *dst = output->bytes;
    for (int64_t y = 0; y < ho; y++) {
        const glnn_sampler_tap ty = sm->ty[y];
        for (int64_t x = 0; x < wo; x++) {
            const glnn_sampler_tap tx = sm->tx[x];
            uint8_t *out = dst + (y * wo + x) * 3;
            int64_t xs, ys;
            if (!p->linear_interp) {
                glnn_sampler_unrotate(rot, W, H, tx.i0, ty.i0, &xs, &ys);
                for (int c = 0; c < 3; c++)
                    out[c] = src[(ys * W + xs) * 3 + c];
                continue;
            }
            const uint8_t *px[4];
            const int64_t cx[4] = {tx.i0, tx.i1, tx.i0, tx.i1}, cy[4] = {ty.i0, ty.i0, ty.i1, ty.i1};
            for (int k = 0; k < 4; k++) {
                glnn_sampler_unrotate(rot, W, H, cx[k], cy[k], &xs, &ys);
                px[k] = src + (ys * W + xs) * 3;
            }
            const float fx = (float)tx.f, fy = (float)ty.f;
            for (int c = 0; c < 3; c++) {
                const float top = (1.0f - fx) * px[0][c] + fx * px[1][c];
                const float bottom = (1.0f - fx) * px[2][c] + fx * px[3][c];
                const float v = floorf((1.0f - fy) * top + fy * bottom + 0.5f);
                out[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    return GLNN_OK;
}

const glnn_op_impl glnn_reference_image_sampler = {.run = run};
