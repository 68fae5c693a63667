/* ImageSampler (SPEC §5.4): the op (ops/image_sampler.c) and what its back-end implementations read.  Internal. */
#ifndef GLNN_OPS_IMAGE_SAMPLER_H
#define GLNN_OPS_IMAGE_SAMPLER_H

#include "ops/op.h"

typedef struct glnn_image_sampler {
    glnn_op base;
    glnn_image_sampler_params p; /* p.name points to base.name */
} glnn_image_sampler;

/* Op-level prepared data (op->prep). */
typedef struct glnn_image_sampler_prep {
    glnn_shape in_shape;       /* the unrotated input image */
    int64_t wr, hr;            /* size of the rotated input */
    glnn_sampler_tap *tx, *ty; /* output_width taps along x, output_height along y, in rotated coordinates */
} glnn_image_sampler_prep;

GLNN_OP_ACCESSORS(image_sampler)

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

#endif
