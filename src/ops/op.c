/* What every operation shares: naming, reference counting, counters, running one op on its own. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

glnn_status glnn_op_init(glnn_op *op, const glnn_op_class *cls, const char *name, glnn_error *err) {
    op->cls = cls;
    op->refcount = 1;
    op->name = strdup(name);
    if (!op->name) return glnn_fail(err, GLNN_ERR_MEMORY, "create %s: out of memory", cls->type_name);
    return GLNN_OK;
}

void glnn_op_unprepare(glnn_op *op) {
    if (op->cls->unprepare) op->cls->unprepare(op);
    free(op->probabilities);
    op->probabilities = NULL;
    op->has_probabilities = false;
    op->prepared = false;
    op->prepared_ctx = NULL;
    op->prepare_serial++;
}

glnn_status glnn_op_prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *inputs, const glnn_chunks *data,
                            glnn_error *err) {
    glnn_status s = op->cls->prepare(op, ctx, inputs, data, err);
    if (s == GLNN_OK) op->prepare_serial++;
    return s;
}

void glnn_op_retain(glnn_op *op) {
    if (op) op->refcount++;
}

void glnn_op_release(glnn_op *op) {
    if (!op || --op->refcount > 0) return;
    glnn_op_unprepare(op);
    free(op->name);
    op->cls->destroy(op);
}

/* The getters accept NULL: 0, or NULL for the strings. */
glnn_op_kind glnn_op_get_kind(const glnn_op *op) {
    return op ? op->cls->kind : (glnn_op_kind)0;
}
const char *glnn_op_type_name(const glnn_op *op) {
    return op ? op->cls->type_name : NULL;
}
const char *glnn_op_name(const glnn_op *op) {
    return op ? op->name : NULL;
}
int glnn_op_input_count(const glnn_op *op) {
    return op ? op->cls->input_count : 0;
}
int glnn_op_output_count(const glnn_op *op) {
    return op ? op->cls->output_count : 0;
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
    if (output < 0 || output >= op->cls->output_count)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "output shape of '%s': no output #%d", op->name, output);
    *out = op->out_shape;
    return GLNN_OK;
}

static bool same_shape(glnn_shape a, glnn_shape b) {
    return a.kind == b.kind && a.h == b.h && a.w == b.w && a.c == b.c;
}

glnn_status glnn_op_run(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor *const *inputs,
                        int n_inputs, glnn_tensor **output, glnn_error *err) {
    if (!ctx || !op) return glnn_fail(err, GLNN_ERR_ARGUMENT, "run op: no context or operation");
    if (n_inputs < 0 || n_inputs > op->cls->input_count || (n_inputs > 0 && !inputs))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': %d inputs given, the op has %d", op->name, n_inputs,
                         op->cls->input_count);
    if (op->cls->output_count > 0 && !output)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': no output handle", op->name);
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
    for (int i = 0; op->cls->output_count > 0 && *output && i < n_inputs; i++)
        if (inputs[i] == *output)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "run '%s': the output tensor is also input #%d", op->name, i);
    glnn_shape want;
    if (op->cls->output_count > 0 && *output && op->cls->infer_shape && op->cls->infer_shape(op, desc, &want) &&
        ((*output)->ctx != ctx || !same_shape((*output)->shape, want)))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "run '%s': the output tensor must be %lld×%lld×%lld on the same context", op->name,
                         (long long)want.h, (long long)want.w, (long long)want.c);
    glnn_status s = glnn_op_prepare(op, ctx, desc, data, err);
    if (s != GLNN_OK) return s;
    const glnn_tensor *in[GLNN_MAX_INPUTS] = {NULL};
    for (int i = 0; i < n_inputs; i++)
        in[i] = inputs[i];

    glnn_tensor *out = NULL, *created = NULL;
    if (op->cls->output_count > 0) {
        if (*output) {
            out = *output;
            if (out->ctx != ctx || !same_shape(out->shape, op->out_shape))
                return glnn_fail(err, GLNN_ERR_ARGUMENT,
                                 "run '%s': the output tensor must be %lld×%lld×%lld on the same context", op->name,
                                 (long long)op->out_shape.h, (long long)op->out_shape.w, (long long)op->out_shape.c);
        } else {
            s = glnn_tensor_create(ctx, op->out_shape, &created, err);
            if (s != GLNN_OK) return s;
            out = created;
        }
    }
    s = ctx->is_gpu ? op->cls->run_gpu(op, ctx, in, out, err) : op->cls->run_cpu(op, in, out, err);
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
