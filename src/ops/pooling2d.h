/* Pooling2D (SPEC §5.1): the op (ops/pooling2d.c) and what its back-end implementations read.  Internal. */
#ifndef GLNN_OPS_POOLING2D_H
#define GLNN_OPS_POOLING2D_H

#include "ops/op.h"

typedef struct glnn_pooling2d {
    glnn_op base;
    glnn_pooling2d_params p; /* p.name points to base.name; p.stride as given (0 = size) */
    int stride;              /* effective stride: p.stride, or size when p.stride is 0 */
} glnn_pooling2d;

/* Op-level prepared data (op->prep). */
typedef struct glnn_pooling2d_prep {
    glnn_shape in_shape;
    glnn_axis ax, ay;
} glnn_pooling2d_prep;

GLNN_OP_ACCESSORS(pooling2d)

#endif
