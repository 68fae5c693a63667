/* Upsampling2D (SPEC §5.5, a glnn extension): description, parameters and their validation, op-level
 * preparation (shapes), counters. */
#include "ops/upsampling2d.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const glnn_param_info params[] = {
    {"factor", "factor", GLNN_PARAM_INT, NULL, false, 2, 2, NULL, "integer scale factor, 2 … 16"},
    {"interpolation", "interpolation", GLNN_PARAM_ENUM, &glnn_interpolation_enum, false, GLNN_INTERPOLATION_NEAREST,
     GLNN_INTERPOLATION_NEAREST, NULL, "Interpolation.NEAREST or .BILINEAR"},
};
static const size_t offsets[] = {offsetof(glnn_upsampling2d_params, factor),
                                 offsetof(glnn_upsampling2d_params, interpolation)};

void glnn_upsampling2d_params_init(glnn_upsampling2d_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->factor = 2;
    p->interpolation = GLNN_INTERPOLATION_NEAREST;
}

/* Construction rules of SPEC §5.5, in order. */
static glnn_status validate(const glnn_upsampling2d_params *p, glnn_error *err) {
    glnn_status s = glnn_op_check_name("Upsampling2D", p->name, err);
    if (s != GLNN_OK) return s;
    if (p->factor < 2 || p->factor > 16)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Upsampling2D '%s': factor must be between 2 and 16, got %d", p->name,
                         p->factor);
    if (p->interpolation != GLNN_INTERPOLATION_NEAREST && p->interpolation != GLNN_INTERPOLATION_BILINEAR)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Upsampling2D '%s': invalid interpolation '%d'", p->name,
                         (int)p->interpolation);
    return GLNN_OK;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    const int64_t f = glnn_upsampling2d_of(op)->p.factor;
    if (!in[0].present || in[0].shape.h > INT64_MAX / f || in[0].shape.w > INT64_MAX / f) return false;
    *out = (glnn_shape){GLNN_KIND_TENSOR, in[0].shape.h * f, in[0].shape.w * f, in[0].shape.c};
    return true;
}

static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_prepared *out, glnn_error *err) {
    (void)data;
    const glnn_upsampling2d *u = glnn_upsampling2d_of(op);
    const char *name = op->name;
    char what[300];
    glnn_op_what(op, what, sizeof what);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    const glnn_shape is = in[0].shape;
    if (is.kind != GLNN_KIND_TENSOR)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects a tensor on input #0, got %s", what, name,
                         is.kind == GLNN_KIND_IMAGE ? "an image" : "a vector");
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    if (!infer_shape(op, in, &out->out_shape))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a %lld×%lld input upsampled %d times is too large", size_what,
                         (long long)is.h, (long long)is.w, u->p.factor);
    glnn_status s = glnn_check_tensor_shape(ctx, out->out_shape, size_what, err);
    if (s != GLNN_OK) return s;
    glnn_upsampling2d_prep *pp = malloc(sizeof *pp);
    if (!pp) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    pp->in_shape = is;
    out->prep = pp;
    const int64_t v = glnn_shape_count(out->out_shape); /* within the size limits: no overflow below */
    const bool bilinear = u->p.interpolation == GLNN_INTERPOLATION_BILINEAR;
    out->multiply_adds = bilinear ? 4 * v : 0;
    out->texel_fetches = (bilinear ? 4 : 1) * (v / 4);
    return GLNN_OK;
}

static void params_init(void *p) {
    glnn_upsampling2d_params_init(p);
}

static void get_params(const glnn_op *op, void *p) {
    *(glnn_upsampling2d_params *)p = glnn_upsampling2d_of(op)->p;
}

static glnn_status create(const void *p, glnn_op **out, glnn_error *err) {
    return glnn_upsampling2d_create(p, out, err);
}

const glnn_op_class glnn_upsampling2d_class = {
    .info = {GLNN_OP_UPSAMPLING2D, "upsampling2d", "Upsampling2D", 1, 1, (int)(sizeof params / sizeof params[0]),
             params, 0, "x{factor} {interpolation}",
             "Upsamples a tensor by an integer factor (SPEC §5.5, a glnn extension): factor 2 … 16, nearest or\n"
             "bilinear interpolation (half-pixel centres, as PyTorch's align_corners=False).  Input: a tensor\n"
             "H×W×C; output (factor·H)×(factor·W)×C."},
    .params_size = sizeof(glnn_upsampling2d_params),
    .offsets = offsets,
    .params_init = params_init,
    .create = create,
    .get_params = get_params,
    .prepare = prepare,
    .free_prep = free,
    .infer_shape = infer_shape,
};

glnn_status glnn_upsampling2d_create(const glnn_upsampling2d_params *p, glnn_op **out, glnn_error *err) {
    if (!p || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Upsampling2D: no parameters or output handle");
    glnn_status s = validate(p, err);
    if (s != GLNN_OK) return s;
    glnn_upsampling2d *u = (glnn_upsampling2d *)glnn_op_new(&glnn_upsampling2d_class, sizeof *u, p->name, err);
    if (!u) return GLNN_ERR_MEMORY;
    u->p = *p;
    u->p.name = u->base.name;
    *out = &u->base;
    return GLNN_OK;
}

glnn_status glnn_upsampling2d_get_params(const glnn_op *op, glnn_upsampling2d_params *p, glnn_error *err) {
    if (!p || !glnn_op_is(op, &glnn_upsampling2d_class))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Upsampling2D parameters: not an Upsampling2D operation");
    *p = glnn_upsampling2d_of(op)->p;
    return GLNN_OK;
}
