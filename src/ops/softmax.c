/* Softmax (SPEC §5.3): construction, preparation (input checks, result shape), no listing keys. */
#include "ops/softmax.h"

#include <stdio.h>
#include <stdlib.h>

static void destroy(glnn_op *op) {
    free(op);
}

static glnn_status prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_error *err) {
    (void)data;
    glnn_softmax *sm = (glnn_softmax *)op;
    const char *name = op->name;
    char what[300];
    snprintf(what, sizeof what, "Softmax '%s'", name);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    glnn_shape is = in[0].shape;
    if (is.kind == GLNN_KIND_IMAGE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects a 1×1 tensor or a vector on input #0, got an image",
                         what, name);
    if (is.h != 1 || is.w != 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: Softmax expects a 1×1×C input, got %lld×%lld×%lld", what,
                         (long long)is.h, (long long)is.w, (long long)is.c);
    if (op->probabilities && op->out_shape.c != is.c) {
        /* Results of another size cannot be read back any more. */
        free(op->probabilities);
        op->probabilities = NULL;
        op->has_probabilities = false;
    }
    sm->in_shape = is;
    op->out_shape = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, is.c};
    op->multiply_adds = 0;
    op->texel_fetches = 0;
    op->prepared = true;
    op->prepared_ctx = ctx;
    return GLNN_OK;
}

static void write_keys(const glnn_op *op, void (*emit)(void *, const char *, const char *), void *user) {
    (void)op;
    (void)emit;
    (void)user;
}

static const glnn_op_class softmax_class = {
    .kind = GLNN_OP_SOFTMAX,
    .type_name = "softmax",
    .input_count = 1,
    .output_count = 0,
    .prepare = prepare,
    .run_cpu = glnn_cpu_softmax,
    .run_gpu = glnn_gpu_softmax,
    .write_keys = write_keys,
    .unprepare = NULL,
    .destroy = destroy,
};

glnn_status glnn_softmax_create(const char *name, glnn_op **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Softmax: no output handle");
    glnn_status s = glnn_check_op_name("Softmax", name, err);
    if (s != GLNN_OK) return s;
    glnn_softmax *sm = calloc(1, sizeof *sm);
    if (!sm) return glnn_fail(err, GLNN_ERR_MEMORY, "create Softmax '%s': out of memory", name);
    s = glnn_op_init(&sm->base, &softmax_class, name, err);
    if (s != GLNN_OK) {
        free(sm);
        return s;
    }
    *out = &sm->base;
    return GLNN_OK;
}
