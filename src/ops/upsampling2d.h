/* Upsampling2D (SPEC §5.5, a glnn extension): the op (ops/upsampling2d.c) and what its back-end
 * implementations read.  Internal. */
#ifndef GLNN_OPS_UPSAMPLING2D_H
#define GLNN_OPS_UPSAMPLING2D_H

#include "ops/op.h"

typedef struct glnn_upsampling2d {
    glnn_op base;
    glnn_upsampling2d_params p; /* p.name points to base.name */
} glnn_upsampling2d;

/* Op-level prepared data (op->prep). */
typedef struct glnn_upsampling2d_prep {
    glnn_shape in_shape;
    glnn_sampler_tap *tx, *ty; /* bilinear: W_out taps along x, H_out along y (NULL for nearest) */
} glnn_upsampling2d_prep;

GLNN_OP_ACCESSORS(upsampling2d)

#endif
