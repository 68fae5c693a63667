/* Dense (SPEC §5.2): the op (ops/dense.c) and what its back-end implementations read.  Internal. */
#ifndef GLNN_OPS_DENSE_H
#define GLNN_OPS_DENSE_H

#include "ops/op.h"

typedef struct glnn_dense {
    glnn_op base;
    glnn_dense_params p; /* p.name points to base.name */
} glnn_dense;

/* Op-level prepared data (op->prep). */
typedef struct glnn_dense_prep {
    int64_t n_in;      /* input length N_in */
    bool vector_input; /* input #0 is a vector (x_i as is) rather than a 1×1×N_in tensor (x_i = q/255) */
    float *matrix;     /* N_out×N_in, row-major, A(o, i) at o·N_in + i, as in the chunk */
    float *bias;       /* N_out values, zeros without use_bias */
} glnn_dense_prep;

GLNN_OP_ACCESSORS(dense)

#endif
