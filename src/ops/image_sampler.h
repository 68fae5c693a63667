/* ImageSampler: shared by the op (ops/image_sampler.c), the CPU reference (cpu/image_sampler.c) and the GPU
 * kernel (gpu/image_sampler.c).  Internal. */
#ifndef GLNN_OPS_IMAGE_SAMPLER_H
#define GLNN_OPS_IMAGE_SAMPLER_H

#include "internal.h"

/* Where one output column (or row) samples the rotated input: the two neighbours i0 ≤ i1 and the weight f
 * of i1 for bilinear sampling; for nearest sampling i0 = i1 is the chosen pixel and f = 0. */
typedef struct glnn_sampler_tap {
    int64_t i0, i1;
    double f;
} glnn_sampler_tap;

typedef struct glnn_image_sampler {
    glnn_op base;
    glnn_image_sampler_params p; /* p.name points to base.name */
    /* Prepared state */
    glnn_shape in_shape;       /* the unrotated input image */
    int64_t wr, hr;            /* size of the rotated input */
    glnn_sampler_tap *tx, *ty; /* output_width taps along x, output_height along y, in rotated coordinates */
    unsigned int gpu_taps, gpu_program;
    unsigned int gpu_textures[2]; /* texture buffer views of the input and the taps; 0 without them */
    bool gpu_storage_only;        /* tests: read storage buffers even where texture buffers exist */
} glnn_image_sampler;

/* Maps a pixel (xr, yr) of the input rotated by `rotation` quarter turns clockwise to the unrotated input
 * of width w and height h. */
static inline void glnn_sampler_unrotate(int rotation, int64_t w, int64_t h, int64_t xr, int64_t yr, int64_t *xs,
                                         int64_t *ys) {
    switch (rotation & 3) {
    case 1: *xs = yr, *ys = h - 1 - xr; break;
    case 2: *xs = w - 1 - xr, *ys = h - 1 - yr; break;
    case 3: *xs = w - 1 - yr, *ys = xr; break;
    default: *xs = xr, *ys = yr; break;
    }
}

glnn_status glnn_cpu_image_sampler(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
glnn_status glnn_gpu_image_sampler(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs,
                                   glnn_tensor *output, glnn_error *err);
/* Tests: whether the next preparations of op on a GPU read the image and the taps as storage buffers
 * (the path of devices without texture buffers) instead of texture buffer views. */
void glnn_image_sampler_force_storage_buffers(glnn_op *op, bool on);
/* Uploads s->tx and s->ty and builds the program (fields gpu_*). */
glnn_status glnn_gpu_image_sampler_prepare(glnn_image_sampler *s, glnn_context *ctx, glnn_error *err);
/* Frees s's GPU buffers, created on ctx. */
void glnn_gpu_image_sampler_release(glnn_image_sampler *s, glnn_context *ctx);

#endif
