/* The op layer: how an operation is described once (its class: the public description, its parameters and their
 * place in the typed parameter struct, validation, op-level preparation) and what every op object holds.
 * One file per op under ops/ defines its class; ops/ops.c lists them (from GLNN_OPS) and does the generic work:
 * creation from values, listing keys, descriptions, preparation through the context's back end.  Internal. */
#ifndef GLNN_OPS_OP_H
#define GLNN_OPS_OP_H

#include "backends/backend.h"

#define GLNN_MAX_INPUTS 2

/* What preparation knows about an op input. */
typedef struct glnn_input_desc {
    bool present; /* connected or bound */
    glnn_shape shape;
} glnn_input_desc;

/* Where one output column (or row) of a resampling op (ImageSampler, Upsampling2D) samples its input: the two
 * neighbours i0 ≤ i1 and the weight f of i1 for bilinear sampling (the blend runs in float with f rounded to
 * float, SPEC §5.4, §5.5); for nearest sampling i0 = i1 is the chosen pixel and f = 0.  Computed once, at
 * op-level preparation: every back end samples at the same places. */
typedef struct glnn_sampler_tap {
    int64_t i0, i1;
    double f;
} glnn_sampler_tap;

/* The result of an op-level preparation: output shape, counters, weight memory and the op's own prepared data
 * (shapes, geometry, weights: a struct of the op's file, freed by its class's free_prep). */
typedef struct glnn_prepared {
    glnn_shape out_shape;
    int64_t multiply_adds, texel_fetches;
    int64_t weight_bytes; /* memory held for weights once prepared */
    void *prep;
} glnn_prepared;

typedef struct glnn_op_class {
    glnn_op_info info;
    /* The op struct (size bytes, starting with glnn_op) holds at params_offset its typed parameter struct
     * (glnn_conv2d_params ...: params_size bytes, first member `const char *name`); offsets[i] is the place of
     * info.params[i] in that struct (an int, a bool or an enumeration). */
    size_t size, params_offset, params_size;
    const size_t *offsets;
    void (*params_init)(void *params);
    /* The construction rules of the op after the name's (rule V1, checked first for every op), in order; the first
     * failing one is reported.  `what` is "<Class> '<name>'".  NULL: the name is the only rule. */
    glnn_status (*validate)(const void *params, const char *what, glnn_error *err);
    /* Fills what the op derives from its parameters (Conv2D's kind); NULL: nothing. */
    void (*setup)(glnn_op *op);
    /* The value a listing (and a description) shows for parameter i, when it differs from the given one
     * (Pooling2D's stride 0 means the pool size).  NULL: the value as given. */
    int (*effective)(const glnn_op *op, int index, int value);

    /* Op-level preparation: checks the inputs (SPEC preparation rules), reads weights from data, computes the
     * output shape and counters into *out.  Must not change the op.  NULL data is allowed for ops without
     * weights. */
    glnn_status (*prepare)(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err);
    void (*free_prep)(void *prep);
    /* The output shape for these inputs without preparing; false when it cannot be computed (prepare then
     * reports why).  NULL for ops without outputs. */
    bool (*infer_shape)(const glnn_op *op, const glnn_input_desc *inputs, glnn_shape *out);
    /* Ops computed on the host whatever the back end (Softmax, SPEC §5.3): reads the inputs through
     * glnn_tensor_download_*.  NULL: the back end's implementation. */
    glnn_status (*run_host)(glnn_op *op, const glnn_tensor *const *inputs, glnn_error *err);
} glnn_op_class;

struct glnn_op {
    const glnn_op_class *cls;
    int refcount;
    char *name;
    /* Preparation results. */
    bool prepared;
    glnn_context *prepared_ctx;
    glnn_shape out_shape;
    int64_t multiply_adds, texel_fetches, weight_bytes;
    void *prep;               /* the op's prepared data (glnn_prepared.prep) */
    const glnn_op_impl *impl; /* the back end's implementation, NULL for host ops */
    void *state;              /* its state on prepared_ctx */
    float *probabilities;     /* Softmax results */
    bool has_probabilities;
    /* A back end's kernel asked for by tests and benchmarks (the GPU Conv2D variants; ImageSampler: 1 reads
     * storage buffers); -1: the back end chooses. */
    int kernel_hint;
    /* Changes at every successful preparation and at unpreparation: a model that prepared the op notices when
     * something else (glnn_op_run, another model, set_rotation) changed its state. */
    uint64_t prepare_serial;
};

/* The classes, from GLNN_OPS (one per ops/<type>.c). */
#define GLNN_OP_CLASS_DECL_(KIND, type, Class) extern const glnn_op_class glnn_##type##_class;
GLNN_OPS(GLNN_OP_CLASS_DECL_)

/* The class of a kind, NULL when out of range. */
const glnn_op_class *glnn_op_class_of(glnn_op_kind kind);

/* The typed create and get_params of every op (glnn_conv2d_create ...): validation, then a new op holding a
 * copy of the parameters, its name pointing to the op's own copy; the parameters back. */
glnn_status glnn_op_create_typed(const glnn_op_class *cls, const void *params, glnn_op **out, glnn_error *err);
glnn_status glnn_op_get_typed(const glnn_op_class *cls, const glnn_op *op, void *params, glnn_error *err);
/* Clears prepared state: the back end's state, the op's prepared data. */
void glnn_op_unprepare(glnn_op *op);
/* Prepares op on ctx: op-level preparation, then the back end's; transactional (on failure the op keeps its
 * previous preparation).  On success advances op->prepare_serial. */
glnn_status glnn_op_prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                            glnn_error *err);
/* Runs a prepared op on its context (the back end's run, or the class's run_host). */
glnn_status glnn_op_execute(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err);
/* Whether op is of class cls. */
static inline bool glnn_op_is(const glnn_op *op, const glnn_op_class *cls) {
    return op && op->cls == cls;
}

/* glnn_<type>_of(op) and glnn_<type>_prep_of(op): an op as its typed struct, and its op-level prepared data. */
#define GLNN_OP_ACCESSORS(type)                                                                                        \
    static inline const glnn_##type *glnn_##type##_of(const glnn_op *op) {                                             \
        return (const glnn_##type *)op;                                                                                \
    }                                                                                                                  \
    static inline const glnn_##type##_prep *glnn_##type##_prep_of(const glnn_op *op) {                                 \
        return (const glnn_##type##_prep *)op->prep;                                                                   \
    }

/* The parts of an op's class that follow from its typed structs glnn_<type> and glnn_<type>_params (with the
 * file's `offsets` and `validate`), and its public typed create and get_params. */
#define GLNN_OP_CLASS_PARAMS(type)                                                                                     \
    .size = sizeof(glnn_##type), .params_offset = offsetof(glnn_##type, p),                                            \
    .params_size = sizeof(glnn_##type##_params), .offsets = offsets,                                                   \
    .params_init = (void (*)(void *))glnn_##type##_params_init, .validate = validate
/* Defines the class glnn_<type>_class of the op file's functions prepare, free_prep and infer_shape, with the
 * description and any other fields given, and the op's public typed create and get_params. */
#define GLNN_OP_DEFINE(type, ...)                                                                                      \
    const glnn_op_class glnn_##type##_class = {GLNN_OP_CLASS_PARAMS(type), .prepare = prepare, .free_prep = free_prep, \
                                               .infer_shape = infer_shape, __VA_ARGS__};                               \
    GLNN_OP_TYPED_API(type)
#define GLNN_OP_TYPED_API(type)                                                                                        \
    glnn_status glnn_##type##_create(const glnn_##type##_params *p, glnn_op **out, glnn_error *err) {                  \
        return glnn_op_create_typed(&glnn_##type##_class, p, out, err);                                                \
    }                                                                                                                  \
    glnn_status glnn_##type##_get_params(const glnn_op *op, glnn_##type##_params *p, glnn_error *err) {                \
        return glnn_op_get_typed(&glnn_##type##_class, op, p, err);                                                    \
    }

/* The op's listing keys (all but _name and _type) in byte-wise ascending key order, with their effective
 * values, as "key: value" pairs through emit (SPEC §8.4). */
void glnn_op_write_keys(const glnn_op *op, void (*emit)(void *user, const char *key, const char *value), void *user);

/* "<Class> '<name>'" for messages. */
void glnn_op_what(const glnn_op *op, char *buf, size_t size);
/* Declares `what`, "<Class> '<name>'<suffix>", for the messages of a back end's implementation of op. */
#define GLNN_OP_WHAT(op, suffix)                                                                                       \
    char what[300];                                                                                                    \
    snprintf(what, sizeof what, "%s '%s'%s", (op)->cls->info.class_name, (op)->name, suffix)
/* Input `index` of op: present ("input #i of '<name>' is not provided") and of `kind` ("'<name>' expects a tensor
 * on input #i, got an image"). */
glnn_status glnn_op_check_input(const glnn_op *op, const glnn_input_desc *in, int index, glnn_data_kind kind,
                                const char *what, glnn_error *err);
/* Input #0 of Dense and Softmax (SPEC §5.2, §5.3): present, and a 1×1 tensor or a vector. */
glnn_status glnn_op_check_flat_input(const glnn_op *op, const glnn_input_desc *in, const char *what, glnn_error *err);

/* Reads the float32 weights `<name><suffix>` of op (expected values), naming `kind` ("filters", "matrix", "bias")
 * in messages (formats/chunks.c: absent, size mismatch, non-finite values). */
glnn_status glnn_op_read_weights(const glnn_op *op, const glnn_chunks *data, const char *suffix, const char *kind,
                                 int64_t expected, float **out, glnn_error *err);
/* Copies an op's preparation data (size bytes at prep, built on the stack) to the heap as out->prep. */
glnn_status glnn_op_keep_prep(const void *prep, size_t size, glnn_prepared *out, const char *what, glnn_error *err);

#endif
