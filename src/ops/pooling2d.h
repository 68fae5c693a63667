/* Pooling2D: shared by the op (ops/pooling2d.c), the CPU reference (cpu/pooling2d.c) and the GPU kernel
 * (gpu/pooling2d.c).  Internal. */
#ifndef GLNN_OPS_POOLING2D_H
#define GLNN_OPS_POOLING2D_H

#include "internal.h"

typedef struct glnn_pooling2d {
    glnn_op base;
    glnn_pooling2d_params p; /* p.name points to base.name; p.stride as given (0 = size) */
    int stride;              /* effective stride: p.stride, or size when p.stride is 0 */
    /* Prepared state */
    glnn_shape in_shape;
    glnn_axis ax, ay;
    unsigned int gpu_program; /* cached by the context: never deleted here */
    int group[3];             /* work group shape of gpu_program */
} glnn_pooling2d;

glnn_status glnn_cpu_pooling2d(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_pooling2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                               glnn_error *err);
/* Builds (or finds) the program for the geometry already set in *p (gpu_program, group). */
glnn_status glnn_gpu_pooling2d_prepare(glnn_pooling2d *p, glnn_context *ctx, glnn_error *err);

#endif
