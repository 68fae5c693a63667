/* Softmax (SPEC §5.3): computed on the host whatever the back end.  Internal. */
#ifndef GLNN_OPS_SOFTMAX_H
#define GLNN_OPS_SOFTMAX_H

#include "ops/op.h"

typedef struct glnn_softmax_params {
    const char *name;
} glnn_softmax_params;

typedef struct glnn_softmax {
    glnn_op base;
    glnn_softmax_params p; /* p.name points to base.name */
} glnn_softmax;

/* p_i = exp(x_i − m) / Σ_j exp(x_j − m), m = max_i x_i, in double; p may alias x. */
void glnn_softmax_compute(const float *x, int64_t n, float *p);

#endif
