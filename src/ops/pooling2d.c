/* Pooling2D (SPEC §5.1): parameters, validation, preparation (shapes), counters, listing keys. */
#include "ops/pooling2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_pooling2d *as_pool(const glnn_op *op) {
    return (glnn_pooling2d *)op;
}

void glnn_pooling2d_params_init(glnn_pooling2d_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->op = GLNN_POOLING_MAX;
    p->stride = 0;
    p->padding = GLNN_PADDING_VALID;
}

/* Construction rules of SPEC §5.1, in order. */
static glnn_status validate(const glnn_pooling2d_params *p, glnn_error *err) {
    glnn_status s = glnn_check_op_name("Pooling2D", p->name, err);
    if (s != GLNN_OK) return s;
    char what[300];
    snprintf(what, sizeof what, "Pooling2D '%s'", p->name);
    if (p->op != GLNN_POOLING_MAX && p->op != GLNN_POOLING_AVERAGE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid pooling operator '%d'", what, (int)p->op);
    if (p->padding != GLNN_PADDING_VALID && p->padding != GLNN_PADDING_SAME)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid padding '%d'", what, (int)p->padding);
    if (p->size < 2)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: pool size must be at least 2, got %d", what, p->size);
    if (p->stride < 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: stride must be positive, or 0 for the pool size, got %d", what,
                         p->stride);
    if (p->op == GLNN_POOLING_AVERAGE && p->padding == GLNN_PADDING_SAME)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: AVERAGE pooling supports VALID padding only", what);
    return GLNN_OK;
}

static void unprepare(glnn_op *op) {
    as_pool(op)->gpu_program = 0; /* programs belong to the context's cache */
}

static void destroy(glnn_op *op) {
    free(op);
}

/* Input checks, shapes, counters, GPU program.  The op changes only on success. */
static glnn_status prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_error *err) {
    (void)data;
    glnn_pooling2d *pl = as_pool(op);
    const char *name = op->name;
    char what[300];
    snprintf(what, sizeof what, "Pooling2D '%s'", name);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    glnn_shape is = in[0].shape;
    if (is.kind != GLNN_KIND_TENSOR)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects a tensor on input #0, got %s", what, name,
                         is.kind == GLNN_KIND_IMAGE ? "an image" : "a vector");
    const int k = pl->p.size, s = pl->stride;
    glnn_axis ax = glnn_axis_geometry(is.w, k, s, pl->p.padding);
    glnn_axis ay = glnn_axis_geometry(is.h, k, s, pl->p.padding);
    if (ax.n <= 0 || ay.n <= 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: output would be empty (input %lld×%lld, pool size %d, stride %d, %s padding)", what,
                         (long long)is.w, (long long)is.h, k, s, glnn_padding_name(pl->p.padding));
    glnn_shape os = {GLNN_KIND_TENSOR, ay.n, ax.n, is.c};
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    glnn_status size_s = glnn_check_tensor_shape(ctx, os, size_what, err);
    if (size_s != GLNN_OK) return size_s;
    int64_t fetches;
    if (!glnn_mul_i64(glnn_shape_count(os) / 4, (int64_t)k * k, &fetches))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: pool size %d is too large for a %lld×%lld×%lld output (the texel fetch count overflows "
                         "64 bits)",
                         what, k, (long long)os.h, (long long)os.w, (long long)os.c);
    /* The new state is built beside the old one and copied in on success. */
    glnn_pooling2d next = *pl;
    next.in_shape = is;
    next.ax = ax;
    next.ay = ay;
    next.gpu_program = 0;
    if (ctx->is_gpu) {
        glnn_status st = glnn_gpu_pooling2d_prepare(&next, ctx, err);
        if (st != GLNN_OK) return st;
    }
    pl->in_shape = is;
    pl->ax = ax;
    pl->ay = ay;
    pl->gpu_program = next.gpu_program;
    memcpy(pl->group, next.group, sizeof pl->group);
    op->multiply_adds = 0;
    op->texel_fetches = fetches;
    op->out_shape = os;
    op->prepared = true;
    op->prepared_ctx = ctx;
    return GLNN_OK;
}

static void write_keys(const glnn_op *op, void (*emit)(void *, const char *, const char *), void *user) {
    const glnn_pooling2d *pl = as_pool(op);
    char buf[32];
    emit(user, "operator", glnn_pooling_operator_name(pl->p.op));
    emit(user, "padding", glnn_padding_name(pl->p.padding));
    snprintf(buf, sizeof buf, "%d", pl->p.size);
    emit(user, "size", buf);
    snprintf(buf, sizeof buf, "%d", pl->stride); /* effective stride: 0 never reaches a listing */
    emit(user, "stride", buf);
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    const glnn_pooling2d *pl = (const glnn_pooling2d *)op;
    if (!in[0].present) return false;
    glnn_axis ax = glnn_axis_geometry(in[0].shape.w, pl->p.size, pl->stride, pl->p.padding);
    glnn_axis ay = glnn_axis_geometry(in[0].shape.h, pl->p.size, pl->stride, pl->p.padding);
    *out = (glnn_shape){GLNN_KIND_TENSOR, ay.n, ax.n, in[0].shape.c};
    return ax.n > 0 && ay.n > 0;
}

static const glnn_op_class pooling2d_class = {
    .kind = GLNN_OP_POOLING2D,
    .type_name = "pooling2d",
    .input_count = 1,
    .output_count = 1,
    .prepare = prepare,
    .infer_shape = infer_shape,
    .run_cpu = glnn_cpu_pooling2d,
    .run_gpu = glnn_gpu_pooling2d,
    .write_keys = write_keys,
    .unprepare = unprepare,
    .destroy = destroy,
};

glnn_status glnn_pooling2d_create(const glnn_pooling2d_params *p, glnn_op **out, glnn_error *err) {
    if (!p || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Pooling2D: no parameters or output handle");
    glnn_status s = validate(p, err);
    if (s != GLNN_OK) return s;
    glnn_pooling2d *pl = calloc(1, sizeof *pl);
    if (!pl) return glnn_fail(err, GLNN_ERR_MEMORY, "create Pooling2D '%s': out of memory", p->name);
    s = glnn_op_init(&pl->base, &pooling2d_class, p->name, err);
    if (s != GLNN_OK) {
        free(pl);
        return s;
    }
    pl->p = *p;
    pl->p.name = pl->base.name;
    pl->stride = p->stride == 0 ? p->size : p->stride;
    *out = &pl->base;
    return GLNN_OK;
}

glnn_status glnn_pooling2d_get_params(const glnn_op *op, glnn_pooling2d_params *p, glnn_error *err) {
    if (!op || !p || op->cls != &pooling2d_class)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Pooling2D parameters: not a Pooling2D operation");
    *p = as_pool(op)->p;
    return GLNN_OK;
}
