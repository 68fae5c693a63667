/* What every operation shares: naming, reference counting, preparation through the context's back end,
 * counters, running one op on its own. */
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

glnn_status glnn_op_create_typed(const glnn_op_class *cls, const void *params, glnn_op **out, glnn_error *err) {
    if (!params || !out)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create %s: no parameters or output handle", cls->info.class_name);
    const char *name = *(const char *const *)params;
    glnn_status s = glnn_op_check_name(cls->info.class_name, name, err); /* rule V1 comes first for every op */
    char what[300];
    snprintf(what, sizeof what, "%s '%s'", cls->info.class_name, name ? name : "");
    if (s == GLNN_OK && cls->validate) s = cls->validate(params, what, err);
    if (s != GLNN_OK) return s;
    glnn_op *op = calloc(1, cls->size);
    char *copy = strdup(name);
    if (!op || !copy) {
        free(op);
        free(copy);
        return glnn_fail(err, GLNN_ERR_MEMORY, "create %s '%s': out of memory", cls->info.class_name, name);
    }
    op->cls = cls;
    op->refcount = 1;
    op->name = copy;
    op->kernel_hint = -1;
    char *p = (char *)op + cls->params_offset;
    memcpy(p, params, cls->params_size);
    memcpy(p, &op->name, sizeof op->name); /* the parameters' name is the op's own copy */
    if (cls->setup) cls->setup(op);
    *out = op;
    return GLNN_OK;
}

glnn_status glnn_op_get_typed(const glnn_op_class *cls, const glnn_op *op, void *params, glnn_error *err) {
    const char *c = cls->info.class_name;
    if (!params || !op || op->cls != cls)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s parameters: not a%s %s operation", c,
                         strchr("AEIOU", c[0]) ? "n" : "", c);
    memcpy(params, (const char *)op + cls->params_offset, cls->params_size);
    return GLNN_OK;
}

void glnn_op_what(const glnn_op *op, char *buf, size_t size) {
    snprintf(buf, size, "%s '%s'", op->cls->info.class_name, op->name);
}

/* Frees a back end's state and op-level prepared data that belong together. */
static void release(const glnn_op_class *cls, glnn_context *ctx, const glnn_op_impl *impl, void *state, void *prep) {
    if (impl && impl->release && state) impl->release(ctx, state);
    if (prep && cls->free_prep) cls->free_prep(prep);
}

void glnn_op_unprepare(glnn_op *op) {
    release(op->cls, op->prepared_ctx, op->impl, op->state, op->prep);
    op->impl = NULL;
    op->state = op->prep = NULL;
    free(op->probabilities);
    op->probabilities = NULL;
    op->has_probabilities = false;
    op->prepared = false;
    op->prepared_ctx = NULL;
    op->prepare_serial++;
}

/* The back end's implementation for op on ctx, or an error naming what it does not support. */
static glnn_status find_impl(const glnn_op *op, glnn_context *ctx, const glnn_op_impl **out, glnn_error *err) {
    const glnn_op_impl *impl = ctx->backend->ops[op->cls->info.kind];
    char what[300], why[200] = "";
    glnn_op_what(op, what, sizeof what);
    if (!impl)
        return glnn_fail(err, GLNN_ERR_DEVICE, "%s: the %s back end does not compute %s operations", what,
                         ctx->backend->name, op->cls->info.class_name);
    if (impl->supports && !impl->supports(ctx, op, why, sizeof why))
        return glnn_fail(err, GLNN_ERR_DEVICE, "%s: not supported by the %s back end: %s", what, ctx->backend->name,
                         why);
    *out = impl;
    return GLNN_OK;
}

glnn_status glnn_op_prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                            glnn_error *err) {
    glnn_prepared next = {0};
    char what[300];
    glnn_op_what(op, what, sizeof what);
    glnn_status s = op->cls->prepare(op, ctx, inputs, data, what, &next, err);
    if (s != GLNN_OK) return s;
    /* The new op-level data go in first: the back end prepares from them.  On failure the previous
     * preparation comes back untouched. */
    void *old_prep = op->prep, *state = NULL;
    glnn_shape old_shape = op->out_shape;
    op->prep = next.prep;
    op->out_shape = next.out_shape;
    const glnn_op_impl *impl = NULL;
    if (!op->cls->run_host) {
        s = find_impl(op, ctx, &impl, err);
        if (s == GLNN_OK && ctx->backend->activate) s = ctx->backend->activate(ctx, err);
        if (s == GLNN_OK && impl->prepare) s = impl->prepare(ctx, op, &state, err);
    }
    if (s != GLNN_OK) {
        op->prep = old_prep;
        op->out_shape = old_shape;
        release(op->cls, ctx, impl, state, next.prep); /* what the back end's prepare made before failing */
        return s;
    }
    release(op->cls, op->prepared_ctx, op->impl, op->state, old_prep);
    if (op->probabilities && op->out_shape.c != old_shape.c) {
        /* Results of another size cannot be read back any more. */
        free(op->probabilities);
        op->probabilities = NULL;
        op->has_probabilities = false;
    }
    op->impl = impl;
    op->state = state;
    op->multiply_adds = next.multiply_adds;
    op->texel_fetches = next.texel_fetches;
    op->weight_bytes = next.weight_bytes;
    op->prepared = true;
    op->prepared_ctx = ctx;
    op->prepare_serial++;
    return GLNN_OK;
}

glnn_status glnn_op_execute(glnn_op *op, const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err) {
    if (op->cls->run_host) return op->cls->run_host(op, inputs, err);
    return op->impl->run(op->prepared_ctx, op, op->state, inputs, output, err);
}

void glnn_op_retain(glnn_op *op) {
    if (op) op->refcount++;
}

void glnn_op_release(glnn_op *op) {
    if (!op || --op->refcount > 0) return;
    glnn_op_unprepare(op);
    free(op->name);
    free(op);
}

/* The getters accept NULL: 0, or NULL for the strings. */
glnn_op_kind glnn_op_get_kind(const glnn_op *op) {
    return op ? op->cls->info.kind : GLNN_OP_NONE;
}
const char *glnn_op_type_name(const glnn_op *op) {
    return op ? op->cls->info.type_name : NULL;
}
const char *glnn_op_name(const glnn_op *op) {
    return op ? op->name : NULL;
}
int glnn_op_input_count(const glnn_op *op) {
    return op ? op->cls->info.input_count : 0;
}
int glnn_op_output_count(const glnn_op *op) {
    return op ? op->cls->info.output_count : 0;
}

static glnn_status check_prepared(const glnn_op *op, const char *what, glnn_error *err) {
    if (!op) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no operation", what);
    if (!op->prepared)
        return glnn_fail(err, GLNN_ERR_STATE, "%s of '%s': the output size is unknown until the op is prepared", what,
                         op->name);
    return GLNN_OK;
}

glnn_status glnn_op_count_multiply_adds(const glnn_op *op, int64_t *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "count_multiply_adds: no result pointer");
    glnn_status s = check_prepared(op, "count_multiply_adds", err);
    if (s == GLNN_OK) *out = op->multiply_adds;
    return s;
}

glnn_status glnn_op_count_texel_fetches(const glnn_op *op, int64_t *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "count_texel_fetches: no result pointer");
    glnn_status s = check_prepared(op, "count_texel_fetches", err);
    if (s == GLNN_OK) *out = op->texel_fetches;
    return s;
}

glnn_status glnn_op_output_shape(const glnn_op *op, int output, glnn_shape *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "output shape: no result pointer");
    glnn_status s = check_prepared(op, "output shape", err);
    if (s != GLNN_OK) return s;
    if (output < 0 || output >= op->cls->info.output_count)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "output shape of '%s': no output #%d", op->name, output);
    *out = op->out_shape;
    return GLNN_OK;
}

static bool same_shape(glnn_shape a, glnn_shape b) {
    return a.kind == b.kind && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* The caller's output tensor must have the output shape on ctx. */
static glnn_status check_output(const glnn_op *op, glnn_context *ctx, const glnn_tensor *out, glnn_shape want,
                                glnn_error *err) {
    if (out->ctx == ctx && same_shape(out->shape, want)) return GLNN_OK;
    return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': the output tensor must be %lld×%lld×%lld on the same context",
                     op->name, (long long)want.h, (long long)want.w, (long long)want.c);
}

glnn_status glnn_op_run(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor *const *inputs,
                        int n_inputs, glnn_tensor **output, glnn_error *err) {
    if (!ctx || !op) return glnn_fail(err, GLNN_ERR_ARGUMENT, "run op: no context or operation");
    const int input_count = op->cls->info.input_count, output_count = op->cls->info.output_count;
    if (n_inputs < 0 || n_inputs > input_count || (n_inputs > 0 && !inputs))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': %d inputs given, the op has %d", op->name, n_inputs,
                         input_count);
    if (output_count > 0 && !output) return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': no output handle", op->name);
    glnn_input_desc desc[GLNN_MAX_INPUTS] = {{0}};
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i]) continue;
        if (inputs[i]->ctx != ctx)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': input #%d belongs to another context", op->name, i);
        desc[i].present = true;
        desc[i].shape = inputs[i]->shape;
    }
    /* A caller's output tensor is checked before preparation changes the op.  Writing into an input
     * while reading it would give wrong values (and a data race on a GPU). */
    for (int i = 0; output_count > 0 && *output && i < n_inputs; i++)
        if (inputs[i] == *output)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': the output tensor is also input #%d", op->name, i);
    glnn_shape want;
    glnn_status s;
    if (output_count > 0 && *output && op->cls->infer_shape && op->cls->infer_shape(op, desc, &want) &&
        (s = check_output(op, ctx, *output, want, err)) != GLNN_OK)
        return s;
    s = glnn_op_prepare(op, ctx, desc, data, err);
    if (s != GLNN_OK) return s;
    const glnn_tensor *in[GLNN_MAX_INPUTS] = {NULL};
    for (int i = 0; i < n_inputs; i++)
        in[i] = inputs[i];

    glnn_tensor *out = NULL, *created = NULL;
    if (output_count > 0) {
        if (*output) {
            out = *output;
            s = check_output(op, ctx, out, op->out_shape, err);
        } else {
            s = glnn_tensor_create(ctx, op->out_shape, &created, err);
            out = created;
        }
        if (s != GLNN_OK) return s;
    }
    s = ctx->backend->activate ? ctx->backend->activate(ctx, err) : GLNN_OK;
    if (s == GLNN_OK) s = glnn_op_execute(op, in, out, err);
    if (s != GLNN_OK) {
        glnn_tensor_free(created);
        return s;
    }
    if (created) *output = created;
    return GLNN_OK;
}

glnn_status glnn_op_get_probabilities(const glnn_op *op, float *out, int64_t count, glnn_error *err) {
    if (!op || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "get_probabilities: no operation or buffer");
    if (!op->has_probabilities)
        return glnn_fail(err, GLNN_ERR_STATE, "get_probabilities of '%s': no successful run yet", op->name);
    if (count != op->out_shape.c)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "get_probabilities of '%s': %lld values asked, there are %lld",
                         op->name, (long long)count, (long long)op->out_shape.c);
    memcpy(out, op->probabilities, (size_t)count * sizeof(float));
    return GLNN_OK;
}

static const char *kind_article(glnn_data_kind k) {
    return k == GLNN_KIND_IMAGE ? "an image" : k == GLNN_KIND_VECTOR ? "a vector" : "a tensor";
}

glnn_status glnn_op_check_input(const glnn_op *op, const glnn_input_desc *in, int index, glnn_data_kind kind,
                                const char *what, glnn_error *err) {
    if (!in[index].present)
        return glnn_fail(err, GLNN_ERR_STATE, "%s: input #%d of '%s' is not provided", what, index, op->name);
    if (in[index].shape.kind != kind)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects %s on input #%d, got %s", what, op->name,
                         kind_article(kind), index, kind_article(in[index].shape.kind));
    return GLNN_OK;
}

glnn_status glnn_op_check_flat_input(const glnn_op *op, const glnn_input_desc *in, const char *what, glnn_error *err) {
    const char *name = op->name, *cls = op->cls->info.class_name;
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    glnn_shape is = in[0].shape;
    if (is.kind == GLNN_KIND_IMAGE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects a 1×1 tensor or a vector on input #0, got an image",
                         what, name);
    if (is.h != 1 || is.w != 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: %s expects a 1×1×C input, got %lld×%lld×%lld", what, cls,
                         (long long)is.h, (long long)is.w, (long long)is.c);
    return GLNN_OK;
}

glnn_status glnn_op_keep_prep(const void *prep, size_t size, glnn_prepared *out, const char *what, glnn_error *err) {
    void *heap = malloc(size);
    if (!heap) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    memcpy(heap, prep, size);
    out->prep = heap;
    return GLNN_OK;
}

glnn_status glnn_op_read_weights(const glnn_op *op, const glnn_chunks *data, const char *suffix, const char *kind,
                                 int64_t expected, float **out, glnn_error *err) {
    char what[320];
    snprintf(what, sizeof what, "%s '%s': %s", op->cls->info.class_name, op->name, kind);
    return glnn_chunks_read_floats(data, op->name, suffix, expected, what, out, err);
}
