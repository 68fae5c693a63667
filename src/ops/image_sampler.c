/* ImageSampler (SPEC §5.4): parameters, validation, preparation (rotation, crop and sampling positions),
 * counters, listing keys. */
#include "ops/image_sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_image_sampler *as_sampler(const glnn_op *op) {
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

static glnn_status validate(const glnn_image_sampler_params *p, glnn_error *err) {
    glnn_status s = glnn_check_op_name("ImageSampler", p->name, err);
    if (s != GLNN_OK) return s;
    if (p->output_width < 1 || p->output_height < 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "ImageSampler '%s': output size must be positive, got %d×%d", p->name,
                         p->output_width, p->output_height);
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

static void release_prepared(glnn_image_sampler *s, glnn_context *ctx) {
    glnn_gpu_image_sampler_release(s, ctx);
    free(s->tx);
    free(s->ty);
    s->tx = s->ty = NULL;
}

static void unprepare(glnn_op *op) {
    release_prepared(as_sampler(op), op->prepared_ctx);
}

static void destroy(glnn_op *op) {
    free(op);
}

static glnn_status prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_error *err) {
    (void)data;
    glnn_image_sampler *sm = as_sampler(op);
    const glnn_image_sampler_params *p = &sm->p;
    const char *name = op->name;
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s'", name);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    const glnn_shape is = in[0].shape;
    if (is.kind != GLNN_KIND_IMAGE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects an image on input #0, got a %s", what, name,
                         is.kind == GLNN_KIND_VECTOR ? "vector" : "tensor");
    const int64_t wo = p->output_width, ho = p->output_height;
    if (wo < 1 || ho < 1) /* excluded at construction; kept for the rule's sake */
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: output would be empty (%lld×%lld)", what, (long long)wo,
                         (long long)ho);
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    glnn_status size_s = glnn_check_tensor_shape(ctx, (glnn_shape){GLNN_KIND_IMAGE, ho, wo, 3}, size_what, err);
    if (size_s != GLNN_OK) return size_s;
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
    glnn_image_sampler next = *sm;
    next.tx = malloc((size_t)wo * sizeof *next.tx);
    next.ty = malloc((size_t)ho * sizeof *next.ty);
    next.gpu_taps = next.gpu_program = 0;
    next.gpu_textures[0] = next.gpu_textures[1] = 0;
    if (!next.tx || !next.ty) {
        free(next.tx);
        free(next.ty);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    axis_taps(ax, bx, wo, wr, p->linear_interp, next.tx);
    axis_taps(ay, by, ho, hr, p->linear_interp, next.ty);
    next.in_shape = is;
    next.wr = wr;
    next.hr = hr;
    if (ctx->is_gpu) {
        glnn_status s = glnn_gpu_image_sampler_prepare(&next, ctx, err);
        if (s != GLNN_OK) {
            release_prepared(&next, ctx);
            return s;
        }
    }
    release_prepared(sm, op->prepared_ctx);
    sm->in_shape = next.in_shape;
    sm->wr = wr;
    sm->hr = hr;
    sm->tx = next.tx;
    sm->ty = next.ty;
    sm->gpu_taps = next.gpu_taps;
    sm->gpu_program = next.gpu_program;
    sm->gpu_textures[0] = next.gpu_textures[0];
    sm->gpu_textures[1] = next.gpu_textures[1];
    op->out_shape = (glnn_shape){GLNN_KIND_IMAGE, ho, wo, 3};
    op->multiply_adds = 0;
    op->texel_fetches = wo * ho;
    op->prepared = true;
    op->prepared_ctx = ctx;
    return GLNN_OK;
}

static void write_keys(const glnn_op *op, void (*emit)(void *, const char *, const char *), void *user) {
    const glnn_image_sampler_params *p = &as_sampler(op)->p;
    char buf[32];
    emit(user, "center_crop", p->center_crop ? "true" : "false");
    emit(user, "linear_interp", p->linear_interp ? "true" : "false");
    snprintf(buf, sizeof buf, "%d", p->output_height);
    emit(user, "output_height", buf);
    snprintf(buf, sizeof buf, "%d", p->output_width);
    emit(user, "output_width", buf);
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    (void)in;
    const glnn_image_sampler_params *p = &((const glnn_image_sampler *)op)->p;
    *out = (glnn_shape){GLNN_KIND_IMAGE, p->output_height, p->output_width, 3};
    return true;
}

static const glnn_op_class image_sampler_class = {
    .kind = GLNN_OP_IMAGE_SAMPLER,
    .type_name = "image_sampler",
    .input_count = 1,
    .output_count = 1,
    .prepare = prepare,
    .infer_shape = infer_shape,
    .run_cpu = glnn_cpu_image_sampler,
    .run_gpu = glnn_gpu_image_sampler,
    .write_keys = write_keys,
    .unprepare = unprepare,
    .destroy = destroy,
};

glnn_status glnn_image_sampler_create(const glnn_image_sampler_params *p, glnn_op **out, glnn_error *err) {
    if (!p || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create ImageSampler: no parameters or output handle");
    glnn_status s = validate(p, err);
    if (s != GLNN_OK) return s;
    glnn_image_sampler *sm = calloc(1, sizeof *sm);
    if (!sm) return glnn_fail(err, GLNN_ERR_MEMORY, "create ImageSampler '%s': out of memory", p->name);
    s = glnn_op_init(&sm->base, &image_sampler_class, p->name, err);
    if (s != GLNN_OK) {
        free(sm);
        return s;
    }
    sm->p = *p;
    sm->p.name = sm->base.name;
    *out = &sm->base;
    return GLNN_OK;
}

glnn_status glnn_image_sampler_get_params(const glnn_op *op, glnn_image_sampler_params *p, glnn_error *err) {
    if (!op || !p || op->cls != &image_sampler_class)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "ImageSampler parameters: not an ImageSampler operation");
    *p = as_sampler(op)->p;
    return GLNN_OK;
}

glnn_status glnn_image_sampler_set_rotation(glnn_op *op, int rotation, glnn_error *err) {
    if (!op || op->cls != &image_sampler_class)
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
