/* Model graph: shared by model.c (building, preparation, execution) and listing.c (text form). */
#ifndef GLNN_MODEL_H
#define GLNN_MODEL_H

#include "ops/op.h"

typedef struct glnn_connection {
    glnn_op *source, *dest;
    int output, input, shuffle;
} glnn_connection;

typedef struct glnn_binding {
    glnn_op *op;
    int input;
    glnn_shape shape;
    uint8_t *bytes;      /* H×W×C (images H×W×3), already quantized */
    glnn_tensor *tensor; /* on the prepared context */
    bool dirty;          /* bytes not yet uploaded to tensor */
} glnn_binding;

typedef struct glnn_output_ref {
    glnn_op *op;
    int output;
} glnn_output_ref;

struct glnn_model {
    glnn_op **ops;
    int n_ops, cap_ops;
    glnn_connection *conns;
    int n_conns, cap_conns;
    glnn_output_ref *outputs;
    int n_outputs, cap_outputs;
    glnn_binding *bindings;
    int n_bindings, cap_bindings;

    /* Prepared state */
    bool prepared, ran;
    glnn_context *ctx;
    const glnn_chunks *data;
    glnn_tensor **op_out;    /* output tensor of op i (aliases a pooled tensor), NULL without output */
    glnn_tensor **conn_view; /* shuffled copy for connection j, NULL when unshuffled */
    glnn_tensor **pool;      /* every tensor allocated for this preparation */
    int n_pool;
    double *op_ms;
    double *op_gpu_ms;   /* GPU time from timer queries, -1 where none was measured */
    uint64_t *op_serial; /* prepare_serial of each op once prepared: a change means prepare again */
    int64_t memory_bytes;
};

/* Index of op in the model, -1 when absent. */
int glnn_model_position(const glnn_model *m, const glnn_op *op);
/* Index of the connection into input `input` of dest, -1 when none. */
int glnn_model_connection_to(const glnn_model *m, const glnn_op *dest, int input);
/* Index of the data bound to input `input` of op, -1 when none. */
int glnn_model_binding_of(const glnn_model *m, const glnn_op *op, int input);

#endif
