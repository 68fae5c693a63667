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
static glnn_status validate(const void *params, const char *what, glnn_error *err) {
    const glnn_upsampling2d_params *p = params;
    if (p->factor < 2 || p->factor > 16)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: factor must be between 2 and 16, got %d", what, p->factor);
    if (p->interpolation != GLNN_INTERPOLATION_NEAREST && p->interpolation != GLNN_INTERPOLATION_BILINEAR)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid interpolation '%d'", what, (int)p->interpolation);
    return GLNN_OK;
}

/* Bilinear taps along one axis of n samples upsampled f times (SPEC §5.5): output index j samples the source
 * coordinate p = (j + 0.5)/f − 0.5 clamped to [0, n − 1], weight p − ⌊p⌋ on the next sample (clamped). */
static void axis_taps(int f, int64_t n, glnn_sampler_tap *taps) {
    for (int64_t j = 0; j < n * f; j++) {
        double p = ((double)j + 0.5) / f - 0.5;
        p = p < 0 ? 0 : p > (double)(n - 1) ? (double)(n - 1) : p;
        const int64_t a = (int64_t)p; /* p ≥ 0: the floor */
        taps[j] = (glnn_sampler_tap){a, a + 1 < n ? a + 1 : n - 1, p - (double)a};
    }
}

static void free_prep(void *prep) {
    glnn_upsampling2d_prep *pp = prep;
    free(pp->tx);
    free(pp->ty);
    free(pp);
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    const int64_t f = glnn_upsampling2d_of(op)->p.factor;
    if (!in[0].present || in[0].shape.h > INT64_MAX / f || in[0].shape.w > INT64_MAX / f) return false;
    *out = (glnn_shape){GLNN_KIND_TENSOR, in[0].shape.h * f, in[0].shape.w * f, in[0].shape.c};
    return true;
}

static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    (void)data;
    const glnn_upsampling2d *u = glnn_upsampling2d_of(op);
    glnn_status s = glnn_op_check_input(op, in, 0, GLNN_KIND_TENSOR, what, err);
    if (s != GLNN_OK) return s;
    const glnn_shape is = in[0].shape;
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    if (!infer_shape(op, in, &out->out_shape))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a %lld×%lld input upsampled %d times is too large", size_what,
                         (long long)is.h, (long long)is.w, u->p.factor);
    s = glnn_check_tensor_shape(ctx, out->out_shape, size_what, err);
    if (s != GLNN_OK) return s;
    const bool bilinear = u->p.interpolation == GLNN_INTERPOLATION_BILINEAR;
    glnn_upsampling2d_prep *pp = calloc(1, sizeof *pp);
    if (pp && bilinear) {
        pp->tx = malloc((size_t)out->out_shape.w * sizeof *pp->tx);
        pp->ty = malloc((size_t)out->out_shape.h * sizeof *pp->ty);
    }
    if (!pp || (bilinear && (!pp->tx || !pp->ty))) {
        if (pp) free_prep(pp);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    if (bilinear) {
        axis_taps(u->p.factor, is.w, pp->tx);
        axis_taps(u->p.factor, is.h, pp->ty);
    }
    pp->in_shape = is;
    out->prep = pp;
    const int64_t v = glnn_shape_count(out->out_shape); /* within the size limits: no overflow below */
    out->multiply_adds = bilinear ? 4 * v : 0;
    out->texel_fetches = (bilinear ? 4 : 1) * (v / 4);
    return GLNN_OK;
}

GLNN_OP_DEFINE(upsampling2d,
               .info = {
                   GLNN_OP_UPSAMPLING2D, "upsampling2d", "Upsampling2D", 1, 1, (int)(sizeof params / sizeof params[0]),
                   params, 0, "x{factor} {interpolation}",
                   "Upsamples a tensor by an integer factor (SPEC §5.5, a glnn extension): factor 2 … 16, nearest or\n"
                   "bilinear interpolation (half-pixel centres, as PyTorch's align_corners=False).  Input: a tensor\n"
                   "H×W×C; output (factor·H)×(factor·W)×C."})
