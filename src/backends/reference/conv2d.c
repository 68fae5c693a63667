/* Conv2D CPU reference (SPEC §4.5): the definition every GPU result is checked against.
 * One accumulator per output value, summed over ky, kx, ci in that order, then residual, then bias,
 * then activation and Q.  Float arithmetic without contraction (-ffp-contract=off). */
#include "ops/conv2d.h"

#include <stdlib.h>

glnn_status glnn_cpu_conv2d(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err) {
    const glnn_conv2d *c = (const glnn_conv2d *)op;
    const int k = c->p.kernel_size, s = c->p.stride, cg = c->cg, cout = c->p.num_output_channels;
    const int groups = c->kind == CONV_IMAGE ? 1 : c->p.num_groups;
    const int cout_g = cout / groups;
    const int64_t W = c->in_shape.w, H = c->in_shape.h, C = c->in_shape.c;
    const int64_t Wo = c->ax.n, Ho = c->ay.n;
    const uint8_t *x = inputs[0]->bytes;
    const uint8_t *res = c->has_residual ? inputs[1]->bytes : NULL;
    uint8_t *y = output->bytes;
    float *acc = malloc((size_t)cout * sizeof(float));
    if (!acc) return glnn_fail(err, GLNN_ERR_MEMORY, "Conv2D '%s': out of memory", op->name);

    for (int64_t yo = 0; yo < Ho; yo++)
        for (int64_t xo = 0; xo < Wo; xo++) {
            const int64_t y0 = yo * s - c->ay.before, x0 = xo * s - c->ax.before;
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
                        const float *w = c->weights + ((int64_t)(ky * k + kx) * cg) * cout + (int64_t)g * cout_g;
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
                z += c->bias[co];
                out[co] = glnn_quantize(glnn_activate(c->p.activation, z));
            }
        }
    free(acc);
    return GLNN_OK;
}
