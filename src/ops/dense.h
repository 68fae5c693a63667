/* Dense: shared by the op (ops/dense.c), the CPU reference (cpu/dense.c) and the GPU kernel (gpu/dense.c).
 * Internal. */
#ifndef GLNN_OPS_DENSE_H
#define GLNN_OPS_DENSE_H

#include "internal.h"

typedef struct glnn_dense {
    glnn_op base;
    glnn_dense_params p; /* p.name points to base.name */
    /* Prepared state */
    int64_t n_in;      /* input length N_in */
    bool vector_input; /* input #0 is a vector (x_i as is) rather than a 1×1×N_in tensor (x_i = q/255) */
    float *matrix;     /* N_out×N_in, row-major, A(o, i) at o·N_in + i, as in the chunk */
    float *bias;       /* N_out values, zeros without use_bias */
    unsigned int gpu_matrix, gpu_bias, gpu_program;
} glnn_dense;

glnn_status glnn_cpu_dense(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_dense(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                           glnn_error *err);
/* Uploads d->matrix and d->bias in the kernel's layout and builds the program (fields gpu_*). */
glnn_status glnn_gpu_dense_prepare(glnn_dense *d, glnn_context *ctx, glnn_error *err);
/* Frees d's GPU buffers, created on ctx. */
void glnn_gpu_dense_release(glnn_dense *d, glnn_context *ctx);

#endif
