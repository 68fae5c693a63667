/* Conv2D (SPEC §4): the op (ops/conv2d.c) and what its back-end implementations read.  Internal. */
#ifndef GLNN_OPS_CONV2D_H
#define GLNN_OPS_CONV2D_H

#include "ops/op.h"

typedef enum { CONV_IMAGE, CONV_DEPTHWISE, CONV_REGULAR, CONV_GROUPED } glnn_conv2d_kind;

typedef struct glnn_conv2d {
    glnn_op base;
    glnn_conv2d_params p; /* p.name points to base.name */
    glnn_conv2d_kind kind;
    int cg; /* input channels per group: 3 (image), 1 (depthwise), Cin/G otherwise */
} glnn_conv2d;

/* Op-level prepared data (op->prep). */
typedef struct glnn_conv2d_prep {
    glnn_shape in_shape;
    bool has_residual;
    glnn_axis ax, ay;
    float *weights; /* [k][k][Cg][Cout], as in the chunk */
    float *bias;    /* Cout values, zeros without use_bias */
} glnn_conv2d_prep;

GLNN_OP_ACCESSORS(conv2d)
/* Groups as the kernels see them (1 for an image input, C for depthwise). */
static inline int glnn_conv2d_groups(const glnn_conv2d *c) {
    return c->kind == CONV_IMAGE ? 1 : c->p.num_groups;
}

#endif
