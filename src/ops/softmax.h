/* Softmax (SPEC §5.3): computed on the host whatever the back end.  Internal. */
#ifndef GLNN_OPS_SOFTMAX_H
#define GLNN_OPS_SOFTMAX_H

#include "ops/op.h"

/* p_i = exp(x_i − m) / Σ_j exp(x_j − m), m = max_i x_i, in double; p may alias x. */
void glnn_softmax_compute(const float *x, int64_t n, float *p);

#endif
