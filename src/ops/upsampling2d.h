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
} glnn_upsampling2d_prep;

static inline const glnn_upsampling2d *glnn_upsampling2d_of(const glnn_op *op) {
    return (const glnn_upsampling2d *)op;
}
static inline const glnn_upsampling2d_prep *glnn_upsampling2d_prep_of(const glnn_op *op) {
    return (const glnn_upsampling2d_prep *)op->prep;
}

/* Bilinear sampling along one axis (SPEC §5.5): output index j of an axis upsampled by f from n samples reads
 * i0 with weight 1 − w and i1 with weight w (positions in double, the weight rounded to float: the blend runs in
 * float, as ImageSampler's).  The one definition of these positions: every back end computes its taps with it. */
static inline void glnn_upsampling2d_tap(int64_t j, int f, int64_t n, int64_t *i0, int64_t *i1, float *w) {
    double p = ((double)j + 0.5) / f - 0.5;
    if (p < 0) p = 0;
    if (p > (double)(n - 1)) p = (double)(n - 1);
    const int64_t a = (int64_t)p; /* p ≥ 0: the floor */
    *i0 = a;
    *i1 = a + 1 < n ? a + 1 : n - 1;
    *w = (float)(p - (double)a);
}

#endif
