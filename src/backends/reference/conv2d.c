/* Conv2D CPU reference (SPEC §4.5): the definition every GPU result is checked against.
 * One accumulator per output value, summed over ky, kx, ci in that order, then residual, then bias,
 * then activation and Q.  Float arithmetic without contraction (-ffp-contract=off). */
#include "ops/conv2d.h"

#include <stdlib.h>

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    (void)ctx;
    (void)state;
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    const int k = c->p.kernel_size, s = c->p.stride, cg = c->cg, cout = c->p.num_output_channels;
    const int groups = glnn_conv2d_groups(c);
    const int cout_g = cout / groups;
    const int64_t W = pp->in_shape.w, H = pp->in_shape.h, C = pp->in_shape.c;
    const int64_t Wo = pp->ax.n, Ho = pp->ay.n;
    const uint8_t *x = inputs[0]->bytes;
    const uint8_t *res = pp->has_residual ? inputs[1]->bytes : NULL;
    uint8_t *y = output->bytes;
    float *acc = malloc((size_t)cout * sizeof(float));
    if (!acc) return glnn_fail(err, GLNN_ERR_MEMORY, "Conv2D '%s': out of memory", op->name);

    for (int64_t yo = 0; yo < Ho; yo++)
        for (int64_t xo = 0; xo < Wo; xo++) {
            const int64_t y0 = yo * s - pp->ay.before, x0 = xo * s - pp->ax.before;
            for (int co = 0; co < cout; co++)
                acc[co] = 0.0f;
            for (int g = 0; g < groups; g++)
                for (int ky = 0; ky < k; ky++) {
                    const int64_t yi = y0 + ky;
                    if (yi < 0 || yi >= H) continue; /* padding reads 0: adds nothing */
                    for (int kx = 0; kx < k; kx++) {
                        const int64_t xi = x0 + kx;
                        if (xi < 0 || xi >= W) continue;
                        const uint8_t *px = x + (yi * W + xi) * C + (int64_t)g * cg;
                        const float *w = pp->weights + ((int64_t)(ky * k + kx) * cg) * cout + (int64_t)g * cout_g;
                        for (int ci = 0; ci < cg; ci++) {
                            const float v = (float)px[ci] / 255.0f;
                            const float *wr = w + (int64_t)ci * cout;
                            float *a = acc + g * cout_g;
                            for (int j = 0; j < cout_g; j++)
                                a[j] += wr[j] * v;
                        }
                    }
                }
            uint8_t *out = y + (yo * Wo + xo) * cout;
            const uint8_t *r = res ? res + (yo * Wo + xo) * cout : NULL;
            for (int co = 0; co < cout; co++) {
                float z = acc[co];
                if (r) z += (float)r[co] / 255.0f;
                z += pp->bias[co];
                out[co] = glnn_quantize(glnn_activate(c->p.activation, z));
            }
        }
    free(acc);
    return GLNN_OK;
}

const glnn_op_impl glnn_reference_conv2d = {.run = run};
