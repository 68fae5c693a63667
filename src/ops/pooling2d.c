/* Pooling2D (SPEC §5.1): description, parameters and their validation, op-level preparation (shapes),
 * counters. */
#include "ops/pooling2d.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const glnn_param_info params[] = {
    {"operator", "operator", GLNN_PARAM_ENUM, &glnn_pooling_operator_enum, true, 0, 0, NULL,
     "Pooling2D.Operator.MAX or .AVERAGE"},
    {"size", "size", GLNN_PARAM_INT, NULL, true, 0, 0, NULL, "pool size: the window is size×size"},
    /* An absent listing key means 1, as Beatmup reads such files (SPEC §8.3). */
    {"stride", "stride", GLNN_PARAM_INT, NULL, false, 0, 1, NULL, "stride as given; 0 means the pool size"},
    {"padding", "padding", GLNN_PARAM_ENUM, &glnn_padding_enum, false, GLNN_PADDING_VALID, GLNN_PADDING_VALID, NULL,
     "Padding.VALID or Padding.SAME"},
};
static const size_t offsets[] = {offsetof(glnn_pooling2d_params, op), offsetof(glnn_pooling2d_params, size),
                                 offsetof(glnn_pooling2d_params, stride), offsetof(glnn_pooling2d_params, padding)};
enum { PARAM_STRIDE = 2 };

void glnn_pooling2d_params_init(glnn_pooling2d_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->op = GLNN_POOLING_MAX;
    p->stride = 0;
    p->padding = GLNN_PADDING_VALID;
}

/* Construction rules of SPEC §5.1, in order. */
static glnn_status validate(const void *params, const char *what, glnn_error *err) {
    const glnn_pooling2d_params *p = params;
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

/* The effective stride: as given, or the pool size for 0. */
static void setup(glnn_op *op) {
    glnn_pooling2d *pl = (glnn_pooling2d *)op;
    pl->stride = pl->p.stride == 0 ? pl->p.size : pl->p.stride;
}

/* SPEC §3 with k = size: both axes and the output shape; false when the output would be empty. */
static bool geometry(const glnn_pooling2d *pl, glnn_shape in, glnn_axis *ax, glnn_axis *ay, glnn_shape *out) {
    *ax = glnn_axis_geometry(in.w, pl->p.size, pl->stride, pl->p.padding);
    *ay = glnn_axis_geometry(in.h, pl->p.size, pl->stride, pl->p.padding);
    *out = (glnn_shape){GLNN_KIND_TENSOR, ay->n, ax->n, in.c};
    return ax->n > 0 && ay->n > 0;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    glnn_axis ax, ay;
    return in[0].present && geometry(glnn_pooling2d_of(op), in[0].shape, &ax, &ay, out);
}

static void free_prep(void *prep) {
    free(prep);
}

/* Input checks, shapes, counters. */
static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    (void)data;
    const glnn_pooling2d *pl = glnn_pooling2d_of(op);
    glnn_status st = glnn_op_check_input(op, in, 0, GLNN_KIND_TENSOR, what, err);
    if (st != GLNN_OK) return st;
    glnn_shape is = in[0].shape;
    const int k = pl->p.size, s = pl->stride;
    glnn_pooling2d_prep pp = {.in_shape = is};
    if (!geometry(pl, is, &pp.ax, &pp.ay, &out->out_shape))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: output would be empty (input %lld×%lld, pool size %d, stride %d, %s padding)", what,
                         (long long)is.w, (long long)is.h, k, s, glnn_padding_name(pl->p.padding));
    const glnn_shape os = out->out_shape;
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    st = glnn_check_tensor_shape(ctx, os, size_what, err);
    if (st != GLNN_OK) return st;
    int64_t fetches;
    if (!glnn_mul_i64(glnn_shape_count(os) / 4, (int64_t)k * k, &fetches))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: pool size %d is too large for a %lld×%lld×%lld output (the texel fetch count overflows "
                         "64 bits)",
                         what, k, (long long)os.h, (long long)os.w, (long long)os.c);
    out->texel_fetches = fetches;
    return glnn_op_keep_prep(&pp, sizeof pp, out, what, err);
}

/* Listings and descriptions show the effective stride: 0 never reaches a listing. */
static int effective(const glnn_op *op, int index, int value) {
    return index == PARAM_STRIDE ? glnn_pooling2d_of(op)->stride : value;
}

GLNN_OP_DEFINE(pooling2d,
               .info = {GLNN_OP_POOLING2D, "pooling2d", "Pooling2D", 1, 1, (int)(sizeof params / sizeof params[0]),
                        params, 2, "{operator} {size} s{stride} {padding}",
                        "2D max or average pooling (SPEC §5.1); operator is Pooling2D.Operator.MAX or .AVERAGE (or\n"
                        "'max' / 'average').  stride 0 means the pool size.  AVERAGE supports VALID padding only.\n"
                        "Global pooling of an H×H input: size=H, stride=1."},
               .setup = setup, .effective = effective)
