/* Softmax (SPEC §5.3), on the CPU in both back ends: p_i = exp(x_i − m) / Σ_j exp(x_j − m) with m the
 * largest input, so that large inputs cannot overflow.  Sums and exponentials in double. */
#include "ops/softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Computes from the input floats and swaps the result in; *x is consumed. */
static glnn_status finish(glnn_op *op, float *x, int64_t n) {
    glnn_softmax_compute(x, n, x);
    free(op->probabilities);
    op->probabilities = x;
    op->has_probabilities = true;
    return GLNN_OK;
}

glnn_status glnn_cpu_softmax(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err) {
    (void)output;
    const glnn_softmax *sm = (const glnn_softmax *)op;
    const int64_t n = sm->in_shape.c;
    float *x = malloc((size_t)n * sizeof(float));
    if (!x) return glnn_fail(err, GLNN_ERR_MEMORY, "Softmax '%s': out of memory", op->name);
    if (sm->in_shape.kind == GLNN_KIND_VECTOR)
        memcpy(x, inputs[0]->floats, (size_t)n * sizeof(float));
    else
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)inputs[0]->bytes[i] / 255.0f;
    return finish(op, x, n);
}

glnn_status glnn_gpu_softmax(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                             glnn_error *err) {
    (void)ctx;
    (void)output;
    const glnn_softmax *sm = (const glnn_softmax *)op;
    const int64_t n = sm->in_shape.c;
    float *x = malloc((size_t)n * sizeof(float));
    if (!x) return glnn_fail(err, GLNN_ERR_MEMORY, "Softmax '%s': out of memory", op->name);
    /* q/255 for a tensor, the floats for a vector: the same values as the CPU path. */
    glnn_status s = glnn_tensor_download_f32(inputs[0], x, n, err);
    if (s != GLNN_OK) {
        free(x);
        return s;
    }
    return finish(op, x, n);
}
