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
    unsigned int frag_weights, frag_program; /* the fragment path (gpu/frag/conv2d.c) */
    float *frag_uniforms;
    int gpu_variant; /* forced kernel variant for tests, -1 = automatic (gpu/conv2d.c) */
    /* The compute kernel prepared (gpu/conv2d.c): variant, pixels and output quads per invocation (per block
     * for the rows kernels), blocks per invocation (rows kernels), whether input #0 and the output (with
     * input #1) are accessed four quads at a time, texture buffer views (input #0, weights and bias, input
     * #1) and the texel index of the bias. */
    int gpu_kernel, gpu_block_pixels, gpu_block_quads, gpu_block_rows, gpu_strip, gpu_bias_texel;
    bool gpu_wide_in, gpu_wide_out;
    unsigned int gpu_textures[3];
} glnn_conv2d;

glnn_status glnn_cpu_conv2d(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_conv2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                            glnn_error *err);
/* Uploads the prepared weights in the kernel's layout and builds the program. */
glnn_status glnn_gpu_conv2d_prepare(glnn_conv2d *c, glnn_context *ctx, glnn_error *err);
/* Frees the GPU buffers of c, made on ctx. */
void glnn_gpu_conv2d_release(glnn_conv2d *c, glnn_context *ctx);

/* Compute kernel variants (gpu/conv2d.c), numbered from 0: "generic" (one output quad per invocation, storage
 * buffers only, every Conv2D on every GLES 3.1 device), then kernels that read through texture buffers
 * (GLES 3.2, EXT_ or OES_texture_buffer): "tiled" (blocks of pixels × output quads, every kind but
 * depthwise), "rows" (weights fetched once per strip of pixel blocks, input columns reused across the kernel
 * row: image input, 1×1 and groups whose whole sum per output value unrolls, k²·Cg/4 ≤ 144), "quad" (groups
 * of 4 input and 4 output channels) and "depthwise" (kernels up to 5×5, strides up to 2).  Preparation picks
 * one per op; tests force each in turn. */
int glnn_gpu_conv2d_variant_count(void);
/* The variant's name, NULL when out of range. */
const char *glnn_gpu_conv2d_variant_name(int variant);
/* The variant number for a name, -1 when unknown. */
int glnn_gpu_conv2d_variant_by_name(const char *name);
/* Whether `variant` computes this Conv2D (its parameters: kind, kernel, stride, groups) and, when ctx is a GPU
 * context, runs on that device (texture buffers, and their size limit once the op's shapes are known). */
bool glnn_gpu_conv2d_variant_supports(const glnn_conv2d *c, glnn_context *ctx, int variant);
/* Forces the variant used from the next preparation of op (a Conv2D) on a GPU context; -1 restores the
 * automatic choice.  Preparation fails when the variant does not support the op.  For tests. */
void glnn_conv2d_force_variant(glnn_op *op, int variant);
/* The variant op was prepared with on a GPU context, -1 when it is not prepared there. */
int glnn_conv2d_prepared_variant(const glnn_op *op);
/* Describes the specialization op was prepared with ("tiled P16 QQ4 NB1 wide-in wide-out"); "" when none. */
void glnn_conv2d_prepared_kernel(const glnn_op *op, char *buf, size_t size);

#endif
