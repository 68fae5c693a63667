/* Softmax: shared by the op (ops/softmax.c) and its computation (cpu/softmax.c), which runs on the CPU in
 * both back ends.  Internal. */
#ifndef GLNN_OPS_SOFTMAX_H
#define GLNN_OPS_SOFTMAX_H

#include "internal.h"

typedef struct glnn_softmax {
    glnn_op base;
    glnn_shape in_shape; /* prepared input: a 1×1×C tensor or a vector of C */
} glnn_softmax;

/* p_i = exp(x_i − m) / Σ_j exp(x_j − m), m = max_i x_i, in double; p may alias x. */
void glnn_softmax_compute(const float *x, int64_t n, float *p);
/* Both read input #0 as floats (q/255 for a tensor), compute on the CPU and store op->probabilities.
 * `output` is unused (Softmax has no outputs). */
glnn_status glnn_cpu_softmax(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_softmax(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                             glnn_error *err);

#endif
