/* Dense CPU reference (SPEC §5.2): y_o = Σ_i A(o, i)·x_i + b_o, one float accumulator per output summed in
 * ascending i, bias last, no activation and no clamping.  x_i = q/255 for a tensor input, the float as is
 * for a vector input. */
#include "ops/dense.h"

#include <stdlib.h>

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    (void)ctx;
    (void)state;
    const glnn_dense_prep *d = glnn_dense_prep_of(op);
    const int64_t n_in = d->n_in, n_out = glnn_dense_of(op)->p.num_output_dims;
    float *x = malloc((size_t)(n_in > 0 ? n_in : 1) * sizeof(float));
    if (!x) return glnn_fail(err, GLNN_ERR_MEMORY, "Dense '%s': out of memory", op->name);
    for (int64_t i = 0; i < n_in; i++)
        x[i] = d->vector_input ? inputs[0]->floats[i] : (float)inputs[0]->bytes[i] / 255.0f;
    for (int64_t o = 0; o < n_out; o++) {
        const float *a = d->matrix + o * n_in;
        float acc = 0.0f;
        for (int64_t i = 0; i < n_in; i++)
            acc += a[i] * x[i];
        output->floats[o] = acc + d->bias[o];
    }
    free(x);
    return GLNN_OK;
}

const glnn_op_impl glnn_reference_dense = {.run = run};
