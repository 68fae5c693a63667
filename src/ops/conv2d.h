/* Conv2D: shared by the op (ops/conv2d.c), the CPU reference (cpu/conv2d.c) and the GPU kernel
 * (gpu/conv2d.c).  Internal. */
#ifndef GLNN_OPS_CONV2D_H
#define GLNN_OPS_CONV2D_H

#include "internal.h"

typedef enum { CONV_IMAGE, CONV_DEPTHWISE, CONV_REGULAR, CONV_GROUPED } glnn_conv2d_kind;

typedef struct glnn_conv2d {
    glnn_op base;
    glnn_conv2d_params p; /* p.name points to base.name */
    glnn_conv2d_kind kind;
    int cg; /* input channels per group: 3 (image), 1 (depthwise), Cin/G otherwise */
    /* Prepared state */
    glnn_shape in_shape;
    bool has_residual;
    glnn_axis ax, ay;
    float *weights; /* [k][k][Cg][Cout], as in the chunk */
    float *bias;    /* Cout values, zeros without use_bias */
    unsigned int gpu_weights, gpu_bias, gpu_program;
    int gpu_variant; /* forced kernel variant for tests, -1 = automatic (gpu/conv2d.c) */
} glnn_conv2d;

glnn_status glnn_cpu_conv2d(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_conv2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                            glnn_error *err);
/* Uploads the prepared weights in the kernel's layout and builds the program. */
glnn_status glnn_gpu_conv2d_prepare(glnn_conv2d *c, glnn_context *ctx, glnn_error *err);
/* Frees the GPU buffers of c, made on ctx. */
void glnn_gpu_conv2d_release(glnn_conv2d *c, glnn_context *ctx);

#endif
