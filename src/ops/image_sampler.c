/* ImageSampler (SPEC §5.4): parameters, validation, preparation (rotation, crop and sampling positions),
 * counters, listing keys. */
#include "ops/image_sampler.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const glnn_param_info params[] = {
    {"output_width", "output_width", GLNN_PARAM_INT, NULL, true, 0, 0, "size", "output width"},
    {"output_height", "output_height", GLNN_PARAM_INT, NULL, true, 0, 0, "size", "output height"},
    {"center_crop", "center_crop", GLNN_PARAM_BOOL, NULL, false, 1, 1, NULL,
     "whether the input is cropped to the output's aspect ratio around its center"},
    {"linear_interp", "linear_interp", GLNN_PARAM_BOOL, NULL, false, 1, 1, NULL,
     "bilinear (True) or nearest (False) sampling"},
};
static const size_t offsets[] = {
    offsetof(glnn_image_sampler_params, output_width), offsetof(glnn_image_sampler_params, output_height),
    offsetof(glnn_image_sampler_params, center_crop), offsetof(glnn_image_sampler_params, linear_interp)};

static glnn_image_sampler *as_sampler(glnn_op *op) {
    return (glnn_image_sampler *)op;
}

void glnn_image_sampler_params_init(glnn_image_sampler_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->center_crop = true;
    p->linear_interp = true;
    p->rotation = 0;
}

static glnn_status check_rotation(const char *name, int rotation, glnn_error *err) {
    if (rotation < 0 || rotation > 3)
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "ImageSampler '%s': rotation must be 0, 1, 2 or 3 quarter turns clockwise, got %d", name,
                         rotation);
    return GLNN_OK;
}

static glnn_status validate(const void *params, const char *what, glnn_error *err) {
    const glnn_image_sampler_params *p = params;
    if (p->output_width < 1 || p->output_height < 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: output size must be positive, got %d×%d", what, p->output_width,
                         p->output_height);
    return check_rotation(p->name, p->rotation, err);
}

/* Steps 2–4 of SPEC §5.4 along one axis: n output positions on [a, b] of an axis of `len` rotated pixels. */
static void axis_taps(double a, double b, int64_t n, int64_t len, bool linear, glnn_sampler_tap *taps) {
    for (int64_t j = 0; j < n; j++) {
        const double p = n == 1 ? (a + b) / 2 : a + ((double)j * (b - a)) / (double)(n - 1);
        glnn_sampler_tap t;
        if (linear) {
            const double i0 = floor(p);
            t.f = p - i0;
            t.i0 = (int64_t)i0;
            t.i1 = t.i0 + 1;
        } else {
            t.i0 = t.i1 = (int64_t)floor(p + 0.5);
            t.f = 0.0;
        }
        t.i0 = t.i0 < 0 ? 0 : t.i0 >= len ? len - 1 : t.i0;
        t.i1 = t.i1 < 0 ? 0 : t.i1 >= len ? len - 1 : t.i1;
        taps[j] = t;
    }
}

static void free_prep(void *prep) {
    glnn_image_sampler_prep *pp = prep;
    free(pp->tx);
    free(pp->ty);
    free(pp);
}

static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    (void)data;
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    glnn_status s = glnn_op_check_input(op, in, 0, GLNN_KIND_IMAGE, what, err);
    if (s != GLNN_OK) return s;
    const glnn_shape is = in[0].shape;
    const int64_t wo = p->output_width, ho = p->output_height;
    if (wo < 1 || ho < 1) /* excluded at construction; kept for the rule's sake */
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: output would be empty (%lld×%lld)", what, (long long)wo,
                         (long long)ho);
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    out->out_shape = (glnn_shape){GLNN_KIND_IMAGE, ho, wo, 3};
    s = glnn_check_tensor_shape(ctx, out->out_shape, size_what, err);
    if (s != GLNN_OK) return s;
    /* 1. rotation */
    const int64_t wr = (p->rotation & 1) ? is.h : is.w, hr = (p->rotation & 1) ? is.w : is.h;
    /* 2. source intervals */
    double ax = 0, bx = (double)(wr - 1), ay = 0, by = (double)(hr - 1);
    if (p->center_crop) {
        if (wr * ho > hr * wo) {
            const double m = ((double)wr - (double)hr * (double)wo / (double)ho) / 2;
            ax = m;
            bx = (double)(wr - 1) - m;
        } else if (wr * ho < hr * wo) {
            const double m = ((double)hr - (double)wr * (double)ho / (double)wo) / 2;
            ay = m;
            by = (double)(hr - 1) - m;
        }
    }
    /* 3., 4. sampling positions */
    glnn_image_sampler_prep *pp = calloc(1, sizeof *pp);
    if (pp) {
        pp->tx = malloc((size_t)wo * sizeof *pp->tx);
        pp->ty = malloc((size_t)ho * sizeof *pp->ty);
    }
    if (!pp || !pp->tx || !pp->ty) {
        if (pp) free_prep(pp);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    axis_taps(ax, bx, wo, wr, p->linear_interp, pp->tx);
    axis_taps(ay, by, ho, hr, p->linear_interp, pp->ty);
    pp->in_shape = is;
    pp->wr = wr;
    pp->hr = hr;
    out->prep = pp;
    out->texel_fetches = wo * ho;
    return GLNN_OK;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    (void)in;
    const glnn_image_sampler_params *p = &((const glnn_image_sampler *)op)->p;
    *out = (glnn_shape){GLNN_KIND_IMAGE, p->output_height, p->output_width, 3};
    return true;
}

GLNN_OP_DEFINE(image_sampler,
               .info = {
                   GLNN_OP_IMAGE_SAMPLER, "image_sampler", "ImageSampler", 1, 1,
                   (int)(sizeof params / sizeof params[0]), params, 2,
                   "{output_width}x{output_height}{center_crop? center-crop}{linear_interp? bilinear| nearest}",
                   "Resamples an input image of any size to size = (width, height) (SPEC §5.4): optional rotation,\n"
                   "center crop to the output's aspect ratio, bilinear or nearest sampling."})

glnn_status glnn_image_sampler_set_rotation(glnn_op *op, int rotation, glnn_error *err) {
    if (!glnn_op_is(op, &glnn_image_sampler_class))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set rotation: not an ImageSampler operation");
    glnn_image_sampler *sm = as_sampler(op);
    glnn_status s = check_rotation(op->name, rotation, err);
    if (s != GLNN_OK) return s;
    if (rotation != sm->p.rotation) {
        glnn_op_unprepare(op); /* the output shape may change: the model prepares again */
        sm->p.rotation = rotation;
    }
    return GLNN_OK;
}
