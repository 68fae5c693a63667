/* The GPU compute back end (OpenGL ES 3.1 compute shaders): its op implementations and the Conv2D kernel
 * variants that tests and benchmarks choose by name.  Internal. */
#ifndef GLNN_GPU_COMPUTE_H
#define GLNN_GPU_COMPUTE_H

#include "backends/gpu/gpu.h"

#define GLNN_BACKEND_PREFIX glnn_compute
GLNN_BACKEND_DECLARE_OPS
#undef GLNN_BACKEND_PREFIX

struct glnn_sampler_tap;
/* The taps of a resampling op (ImageSampler, Upsampling2D) as a storage buffer of ivec4 (i0, i1, the float bits of
 * f, 0): nx along x, then ny along y (compute/backend.c). */
glnn_status glnn_compute_taps(glnn_gpu *gpu, const struct glnn_sampler_tap *tx, int64_t nx,
                              const struct glnn_sampler_tap *ty, int64_t ny, GLuint *buffer, const char *what,
                              glnn_error *err);

/* Conv2D kernel variants (compute/conv2d.c), numbered from 0: "generic" (one output quad per invocation,
 * storage buffers only, every Conv2D on every GLES 3.1 device), then kernels that read through texture buffers
 * (GLES 3.2, EXT_ or OES_texture_buffer): "tiled" (blocks of pixels × output quads, every kind but depthwise),
 * "rows" (weights fetched once per strip of pixel blocks, input columns reused across the kernel row: image
 * input, 1×1 and groups whose whole sum per output value unrolls, k²·Cg/4 ≤ 144), "quad" (groups of 4 input and
 * 4 output channels), "depthwise" (kernels up to 5×5, strides up to 2), "gemm" and "gemm_fma" (shared-memory
 * matrix products for hardware GPUs).  Preparation picks one per op; tests force each in turn through the op's
 * kernel hint (glnn_conv2d_force_variant). */
int glnn_gpu_conv2d_variant_count(void);
/* The variant's name, NULL when out of range. */
const char *glnn_gpu_conv2d_variant_name(int variant);
/* The variant number for a name, -1 when unknown. */
int glnn_gpu_conv2d_variant_by_name(const char *name);
/* Whether `variant` computes this Conv2D (its parameters: kind, kernel, stride, groups) and, when ctx is a compute
 * context, runs on that device (texture buffers, and their size limit once the op's shapes are known). */
bool glnn_gpu_conv2d_variant_supports(const glnn_op *op, glnn_context *ctx, int variant);
/* Forces the variant used from the next preparation of op (a Conv2D) on a compute context; -1 restores the
 * automatic choice.  Preparation fails when the variant does not support the op.  For tests. */
void glnn_conv2d_force_variant(glnn_op *op, int variant);
/* The variant op was prepared with on a compute context, -1 when it is not prepared there. */
int glnn_conv2d_prepared_variant(const glnn_op *op);
/* Describes the specialization op was prepared with ("tiled P16 QQ4 NB1 wide-in wide-out"); "" when none. */
void glnn_conv2d_prepared_kernel(const glnn_op *op, char *buf, size_t size);
/* Tests: whether the next preparations of op (an ImageSampler) on a compute context read the image and the taps
 * as storage buffers (the path of devices without texture buffers) instead of texture buffer views. */
void glnn_image_sampler_force_storage_buffers(glnn_op *op, bool on);

#endif
