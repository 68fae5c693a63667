/* Softmax (SPEC §5.3): description, preparation (input checks, result shape), and the computation, on the host
 * in every back end: p_i = exp(x_i − m) / Σ_j exp(x_j − m) with m the largest input, so that large inputs cannot
 * overflow.  Sums and exponentials in double. */
#include "ops/softmax.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void glnn_softmax_compute(const float *x, int64_t n, float *p) {
    if (n <= 0) return;
    double m = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    if (isinf(m)) {
        /* +∞ entries share the whole mass (the limit of the formula); all −∞: uniform. */
        int64_t count = 0;
        for (int64_t i = 0; i < n; i++)
            count += (double)x[i] == m;
        for (int64_t i = 0; i < n; i++)
            p[i] = (double)x[i] == m ? (float)(1.0 / (double)count) : 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += exp((double)x[i] - m);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(exp((double)x[i] - m) / sum);
}

static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    (void)ctx;
    (void)data;
    glnn_status s = glnn_op_check_flat_input(op, in, what, err);
    if (s == GLNN_OK) out->out_shape = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, in[0].shape.c};
    return s;
}

/* Reads input #0 as floats (q/255 for a tensor, the values of a vector) from any back end, computes, and keeps
 * the probabilities in the op. */
static glnn_status run_host(glnn_op *op, const glnn_tensor *const *inputs, glnn_error *err) {
    const int64_t n = op->out_shape.c;
    float *x = malloc((size_t)n * sizeof(float));
    if (!x) return glnn_fail(err, GLNN_ERR_MEMORY, "Softmax '%s': out of memory", op->name);
    glnn_status s = glnn_tensor_download_f32(inputs[0], x, n, err);
    if (s != GLNN_OK) {
        free(x);
        return s;
    }
    glnn_softmax_compute(x, n, x);
    free(op->probabilities);
    op->probabilities = x;
    op->has_probabilities = true;
    return GLNN_OK;
}

const glnn_op_class glnn_softmax_class = {
    .info = {GLNN_OP_SOFTMAX, "softmax", "Softmax", 1, 0, 0, NULL, 0, "",
             "Softmax of a 1×1×C tensor or a vector (SPEC §5.3), computed on the CPU in float32.  It has no\n"
             "outputs: read the result with Model.get_probabilities() or InferenceTask.get_probabilities()."},
    .size = sizeof(glnn_softmax),
    .params_offset = offsetof(glnn_softmax, p),
    .params_size = sizeof(glnn_softmax_params),
    .prepare = prepare,
    .run_host = run_host,
};

glnn_status glnn_softmax_create(const char *name, glnn_op **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Softmax: no output handle");
    const glnn_softmax_params p = {name};
    return glnn_op_create_typed(&glnn_softmax_class, &p, out, err);
}
