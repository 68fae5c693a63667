/* Internal interfaces shared by the library's parts.  Not installed. */
#ifndef GLNN_INTERNAL_H
#define GLNN_INTERNAL_H

#include "glnn.h"

#include <stdarg.h>
#include <stdint.h>

/* ---- errors (core/error.c) ---- */
/* Fills err (if not NULL) and returns status. */
glnn_status glnn_fail(glnn_error *err, glnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void glnn_ok(glnn_error *err);

/* ---- checked arithmetic (core/error.c) ---- */
/* a·b into *out; false on overflow or negative operands. */
bool glnn_mul_i64(int64_t a, int64_t b, int64_t *out);

/* ---- quantization and activations: the one place (core/quant.c) ---- */
/* act(z) of SPEC §4.6, before Q's clamp. */
static inline float glnn_activate(glnn_activation a, float z) {
    switch (a) {
    case GLNN_ACTIVATION_BRELU6: return 0.167f * z;
    case GLNN_ACTIVATION_SIGMOID_LIKE: {
        float t1 = 0.1f * z, t2 = 0.05f * z;
        t1 = t1 < -0.05f ? -0.05f : (t1 > 0.05f ? 0.05f : t1);
        t2 = t2 < -0.125f ? -0.125f : (t2 > 0.125f ? 0.125f : t2);
        return t1 + t2 + 0.05f * z + 0.5f;
    }
    default: return z;
    }
}

/* ---- geometry: the one place (core/geometry.c) ---- */
typedef struct glnn_axis {
    int64_t n;      /* output length; ≤ 0 means empty (VALID with input < k) */
    int64_t before; /* padding before (left/top) */
} glnn_axis;
/* SPEC §3 along one axis. */
glnn_axis glnn_axis_geometry(int64_t input, int k, int s, glnn_padding padding);

/* ---- names (core/names.c) ---- */
/* Rule V1; on failure fills err with "<what>: invalid operation name ..." */
glnn_status glnn_check_op_name(const char *what, const char *name, glnn_error *err);

/* ---- chunks helpers (formats/chunks.c) ---- */
/* Reads the float32 chunk `<op_name><suffix>`: NOT_FOUND when absent.  Checks the size (expected floats)
 * and that every value is finite; *out is malloc'ed. `what` names the op in messages. */
glnn_status glnn_chunks_read_floats(const glnn_chunks *chunks, const char *op_name, const char *suffix,
                                    int64_t expected, const char *what, float **out, glnn_error *err);

/* ---- contexts and tensors (core/context.c, core/tensor.c, gpu/) ---- */
typedef struct glnn_gpu glnn_gpu; /* GPU backend state, gpu/gpu.h */

struct glnn_context {
    bool is_gpu;
    int max_sampled_channels;
    char device_name[256];
    glnn_gpu *gpu; /* NULL for the CPU reference */
};

struct glnn_tensor {
    glnn_context *ctx;
    glnn_shape shape;
    /* CPU: host bytes (tensor, image as H×W×3) or floats (vector).  GPU: a buffer (gpu/tensor). */
    uint8_t *bytes;
    float *floats;
    unsigned int buffer; /* GL buffer name on a GPU context */
    int64_t buffer_size;
    unsigned int texture; /* GL texture name on the fragment path (gpu/frag/frag.h) */
};

/* Host-side storage size of a tensor on the GPU: one uint32 per quad (tensor) or pixel (image),
 * one float per vector element. */
int64_t glnn_gpu_buffer_bytes(glnn_shape shape);

/* ---- resource limits ---- */
/* Largest tensor on the CPU reference, in bytes of storage (a GPU context uses its shader storage block
 * limit).  Fuzzing builds lower it so that one input cannot ask for gigabytes. */
#ifndef GLNN_CPU_MAX_TENSOR_BYTES
#define GLNN_CPU_MAX_TENSOR_BYTES ((int64_t)INT32_MAX)
#endif
/* Records in one chunk file; operations and connections in one model; keys in one listing block and
 * chapters in one listing.  Far above any real model, low enough that no input makes glnn quadratic
 * for long. */
#define GLNN_MAX_CHUNK_RECORDS (1 << 20)
#define GLNN_MAX_OPS 4096
#define GLNN_MAX_CONNECTIONS 16384
#define GLNN_MAX_BLOCK_KEYS 1024
#define GLNN_MAX_CHAPTERS 1024

/* Checks that a tensor of this shape can exist on ctx (valid kind and dimensions, size within the
 * back end's limits) without allocating anything.  `what` prefixes the message. */
glnn_status glnn_check_tensor_shape(const glnn_context *ctx, glnn_shape shape, const char *what, glnn_error *err);

/* ---- operations (one file each under ops/) ---- */
#define GLNN_MAX_INPUTS 2

/* What preparation knows about an op input. */
typedef struct glnn_input_desc {
    bool present; /* connected or bound */
    glnn_shape shape;
} glnn_input_desc;

typedef struct glnn_op_class {
    glnn_op_kind kind;
    const char *type_name;
    int input_count, output_count;
    /* Checks the inputs (SPEC preparation rules), reads weights from data, computes the output shape
     * and counters into the op.  Must leave the op unchanged on failure. */
    glnn_status (*prepare)(glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                           glnn_error *err);
    /* The output shape for these inputs without touching the op; false when it cannot be computed (prepare
     * then reports why).  NULL for ops without outputs. */
    bool (*infer_shape)(const glnn_op *op, const glnn_input_desc *inputs, glnn_shape *out);
    /* Computes op on the CPU reference.  inputs[i] NULL when absent. */
    glnn_status (*run_cpu)(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
    /* Computes op on the GPU. */
    glnn_status (*run_gpu)(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                           glnn_error *err);
    /* Writes the op's listing keys (all but _name and _type), in byte-wise ascending key order, as
     * "key: value" pairs through emit(). */
    void (*write_keys)(const glnn_op *op, void (*emit)(void *user, const char *key, const char *value), void *user);
    /* Frees prepared state (weights, GPU buffers). */
    void (*unprepare)(glnn_op *op);
    void (*destroy)(glnn_op *op);
} glnn_op_class;

struct glnn_op {
    const glnn_op_class *cls;
    int refcount;
    char *name;
    /* Preparation results. */
    bool prepared;
    glnn_context *prepared_ctx;
    glnn_shape out_shape;
    int64_t multiply_adds, texel_fetches;
    int64_t weight_bytes; /* device memory held for weights once prepared */
    float *probabilities; /* Softmax results */
    bool has_probabilities;
    /* Changes at every successful preparation and at unpreparation: a model that prepared the op
     * notices when something else (glnn_op_run, another model, set_rotation) changed its state. */
    uint64_t prepare_serial;
};

/* Initializes the common part; takes a copy of name. */
glnn_status glnn_op_init(glnn_op *op, const glnn_op_class *cls, const char *name, glnn_error *err);
/* Clears prepared state (calls cls->unprepare). */
void glnn_op_unprepare(glnn_op *op);
/* Prepares op through its class (cls->prepare) and, on success, advances op->prepare_serial. */
glnn_status glnn_op_prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                            glnn_error *err);

/* ---- channel shuffle on connections (SPEC §6; cpu/shuffle.c, gpu/shuffle.c) ---- */
/* Consumer quad i reads producer quad (n·i mod Q) + n·i / Q. */
static inline int64_t glnn_shuffle_source_quad(int64_t i, int64_t n, int64_t quads) {
    return (n * i) % quads + (n * i) / quads;
}
/* out (same shape as in) receives in's quads in the shuffled order; n ≥ 2 divides the quad count. */
glnn_status glnn_cpu_shuffle(const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err);
glnn_status glnn_gpu_shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err);

/* ---- model listings (formats/listing.c) ---- */
/* A parsed listing: chapters of blocks of key/value pairs with line numbers. */
typedef struct glnn_kv {
    char *key, *value;
    int line;
} glnn_kv;
typedef struct glnn_block {
    glnn_kv *kv;
    int count;
    int line; /* line of the "- " entry */
} glnn_block;
typedef struct glnn_listing {
    glnn_block *ops;
    int n_ops;
    glnn_block *connections;
    int n_connections;
} glnn_listing;
glnn_status glnn_listing_parse(const char *text, size_t length, glnn_listing *out, glnn_error *err);
void glnn_listing_free(glnn_listing *l);

#endif
