/* The back-end interface: what a device (the CPU reference, the fast CPU back end, the GPU compute path, the GPU
 * fragment path) provides to the rest of glnn.  Contexts, tensors, the op layer (ops/) and the model (model/) use
 * back ends only through this table; nothing above src/backends knows a back end's insides.  Internal.
 *
 * A back end provides
 *  - its tensor storage: create (zero-filled), free, store and load HWC data, the channel shuffle of SPEC §6;
 *  - for each op kind it computes, an implementation (glnn_op_impl): prepare builds the back end's state for an op
 *    whose op-level preparation is done (parameters, shapes and weights in the op, see ops/op.h), run computes it,
 *    release frees the state; `supports` may refuse an op or a shape with a reason, which preparation reports;
 *  - the hooks a model run needs: make the device current, time an op, wait for it, report errors raised
 *    asynchronously.
 * The choice of back end is made once, when the context is created (backends/backends.c). */
#ifndef GLNN_BACKEND_H
#define GLNN_BACKEND_H

#include "internal.h"

typedef struct glnn_op_impl {
    /* Whether this back end computes op as its op-level preparation left it (parameters, input and output
     * shapes); when not, writes a short reason ("kernels larger than 5×5") into why.  NULL: every op. */
    bool (*supports)(glnn_context *ctx, const glnn_op *op, char *why, size_t size);
    /* Builds the back end's state for op (*state may stay NULL).  *state is set as soon as the state exists: on
     * failure, release frees whatever it holds then. */
    glnn_status (*prepare)(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err);
    /* Computes op: inputs[i] NULL when absent, output NULL for ops without outputs. */
    glnn_status (*run)(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err);
    /* Frees state, made on ctx (NULL state: nothing to do). */
    void (*release)(glnn_context *ctx, void *state);
} glnn_op_impl;

typedef struct glnn_backend {
    const char *name; /* glnn_context_path(): "cpu", "compute", "fragment" */
    bool is_gpu;
    /* Whether Conv2D preparation applies the context's sampling limit (SPEC §4.10, rule P11): the GPU back ends. */
    bool sampling_limit;
    /* Implementation per op kind; NULL: the back end does not compute that kind. */
    const glnn_op_impl *ops[GLNN_OP_KIND_COUNT];

    /* Storage.  check_shape adds the back end's own limits to the generic checks (bytes as glnn_storage_bytes). */
    glnn_status (*check_shape)(const glnn_context *ctx, glnn_shape shape, int64_t bytes, const char *what,
                               glnn_error *err);
    glnn_status (*tensor_create)(glnn_tensor *t, glnn_error *err);
    void (*tensor_free)(glnn_tensor *t);
    /* HWC bytes (tensors, images as H×W×3) or floats (vectors) into and out of the storage. */
    glnn_status (*tensor_store)(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what,
                                glnn_error *err);
    glnn_status (*tensor_load)(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what, glnn_error *err);
    /* out (same shape as in) receives in's quads in the shuffled order of SPEC §6; n ≥ 2 divides the quads. */
    glnn_status (*shuffle)(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err);

    /* Running.  activate makes the device usable on the calling thread (NULL: always is).  timer_begin returns
     * false where the device has no timer; timer_end returns milliseconds or -1.  finish waits for queued work;
     * check turns an error the device raised meanwhile into a glnn error naming `what`.  no_timer says why an
     * op was not timed.  Any of them may be NULL. */
    glnn_status (*activate)(glnn_context *ctx, glnn_error *err);
    bool (*timer_begin)(glnn_context *ctx);
    double (*timer_end)(glnn_context *ctx);
    void (*finish)(glnn_context *ctx);
    glnn_status (*check)(glnn_context *ctx, const char *what, glnn_error *err);
    const char *(*no_timer)(const glnn_context *ctx);

    /* glnn_context_describe; frees the back end's part of a context. */
    size_t (*describe)(const glnn_context *ctx, char *buf, size_t size);
    /* glnn_context_counters: draws and texels read so far; NULL (or false) where the back end does not count. */
    bool (*counters)(const glnn_context *ctx, int64_t *passes, int64_t *texel_fetches);
    void (*destroy)(glnn_context *ctx);
} glnn_backend;

struct glnn_context {
    const glnn_backend *backend;
    void *impl; /* the back end's own state: the EGL context (backends/gpu), the thread pool (backends/cpu) */
    int max_sampled_channels;
    char device_name[256];
};

struct glnn_tensor {
    glnn_context *ctx;
    glnn_shape shape;
    /* Storage, as the context's back end keeps it.  Host back ends: bytes (tensors, images as H×W×3) or floats
     * (vectors).  Compute path: a GL buffer.  Fragment path: a GL texture (backends/gpu/fragment/frag.h). */
    uint8_t *bytes;
    float *floats;
    unsigned int buffer;
    int64_t buffer_size;
    unsigned int texture;
};

/* The back ends (a folder each under src/backends). */
extern const glnn_backend glnn_reference_backend, glnn_cpu_backend, glnn_compute_backend, glnn_fragment_backend;
/* Opens the fast CPU back end's part of a context (backends/cpu/backend.c): its thread pool and instruction set. */
glnn_status glnn_cpu_device_open(glnn_context *ctx, glnn_error *err);

/* A back end's storage functions <prefix>_tensor_create, _free, _store and _load: their declarations, and their
 * place in its table. */
#define GLNN_STORAGE_FUNCTIONS(prefix)                                                                                 \
    glnn_status prefix##_tensor_create(glnn_tensor *t, glnn_error *err);                                               \
    void prefix##_tensor_free(glnn_tensor *t);                                                                         \
    glnn_status prefix##_tensor_store(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what,     \
                                      glnn_error *err);                                                                \
    glnn_status prefix##_tensor_load(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what,            \
                                     glnn_error *err);
#define GLNN_STORAGE(prefix)                                                                                           \
    .tensor_create = prefix##_tensor_create, .tensor_free = prefix##_tensor_free,                                      \
    .tensor_store = prefix##_tensor_store, .tensor_load = prefix##_tensor_load

/* The op kinds that back ends compute: every kind of GLNN_OPS but those whose class computes them on the host for
 * every back end (Softmax, ops/op.h run_host).  X(KIND, type) */
#define GLNN_BACKEND_OP_KINDS(X)                                                                                       \
    X(CONV2D, conv2d)                                                                                                  \
    X(POOLING2D, pooling2d)                                                                                            \
    X(DENSE, dense)                                                                                                    \
    X(IMAGE_SAMPLER, image_sampler)                                                                                    \
    X(UPSAMPLING2D, upsampling2d)

/* A back end's op implementations, named <prefix>_<type> (glnn_reference_conv2d, glnn_compute_pooling2d, ...).
 * With `#define GLNN_BACKEND_PREFIX glnn_reference` before them, GLNN_BACKEND_DECLARE_OPS declares them and
 * GLNN_BACKEND_OPS fills a table's `.ops`: a new op kind is one line in GLNN_BACKEND_OP_KINDS, none in the back
 * ends' tables, and a back end without an implementation of it fails to link.  A back end that computes only some
 * kinds lists them by hand. */
#define GLNN_BACKEND_CAT_(a, b) a##_##b
#define GLNN_BACKEND_CAT(a, b) GLNN_BACKEND_CAT_(a, b)
#define GLNN_BACKEND_DECLARE_OP_(KIND, type) extern const glnn_op_impl GLNN_BACKEND_CAT(GLNN_BACKEND_PREFIX, type);
#define GLNN_BACKEND_DECLARE_OPS GLNN_BACKEND_OP_KINDS(GLNN_BACKEND_DECLARE_OP_)
#define GLNN_BACKEND_OP_(KIND, type) [GLNN_OP_##KIND] = &GLNN_BACKEND_CAT(GLNN_BACKEND_PREFIX, type),
#define GLNN_BACKEND_OPS .ops = {GLNN_BACKEND_OP_KINDS(GLNN_BACKEND_OP_)}

/* Host storage shared by the back ends that keep tensors in memory (backends/reference/backend.c), and their size
 * limit (GLNN_CPU_MAX_TENSOR_BYTES). */
GLNN_STORAGE_FUNCTIONS(glnn_host)
glnn_status glnn_host_check_shape(const glnn_context *ctx, glnn_shape shape, int64_t bytes, const char *what,
                                  glnn_error *err);
glnn_status glnn_host_shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err);

#endif
