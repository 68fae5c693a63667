/* Conv2D (SPEC §4): parameters, validation, preparation (shapes, weights), counters, listing keys. */
#include "ops/conv2d.h"
#include "backends/gpu/fragment/frag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_conv2d *as_conv(const glnn_op *op) {
    return (glnn_conv2d *)op;
}

void glnn_conv2d_params_init(glnn_conv2d_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->stride = 1;
    p->padding = GLNN_PADDING_VALID;
    p->use_bias = true;
    p->num_groups = 1;
    p->activation = GLNN_ACTIVATION_DEFAULT;
}

static glnn_conv2d_kind kind_of(const glnn_conv2d_params *p) {
    if (p->num_input_channels == 3) return CONV_IMAGE;
    if (p->num_input_channels == p->num_output_channels && p->num_output_channels == p->num_groups)
        return CONV_DEPTHWISE;
    return p->num_groups == 1 ? CONV_REGULAR : CONV_GROUPED;
}

/* Rules V1–V13, in order. */
static glnn_status validate(const glnn_conv2d_params *p, glnn_error *err) {
    const char *name = p->name ? p->name : "";
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s'", name);
    glnn_status s = glnn_check_op_name("Conv2D", p->name, err);
    if (s != GLNN_OK) return s;
    if (p->padding != GLNN_PADDING_VALID && p->padding != GLNN_PADDING_SAME)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid padding '%d'", what, (int)p->padding);
    if (p->activation != GLNN_ACTIVATION_DEFAULT && p->activation != GLNN_ACTIVATION_BRELU6 &&
        p->activation != GLNN_ACTIVATION_SIGMOID_LIKE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid activation function '%d'", what, (int)p->activation);
    int k = p->kernel_size, st = p->stride, g = p->num_groups, cin = p->num_input_channels,
        cout = p->num_output_channels;
    if (k < 1) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: kernel size must be positive, got %d", what, k);
    if (st < 1) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: stride must be positive, got %d", what, st);
    if (g < 1) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: number of groups must be positive, got %d", what, g);
    if (cin != 3 && (cin < 1 || cin % 4 != 0))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input channels must be 3 or a positive multiple of 4, got %d",
                         what, cin);
    if (cout < 1 || cout % 4 != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: output channels must be a positive multiple of 4, got %d", what,
                         cout);
    if (cin == 3 && g != 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: an image input cannot be used with groups (got %d groups)", what,
                         g);
    if (cin == 3 && p->padding == GLNN_PADDING_SAME)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: an image input supports VALID padding only", what);
    glnn_conv2d_kind kind = kind_of(p);
    if (kind == CONV_IMAGE || kind == CONV_DEPTHWISE) return GLNN_OK;
    if (cin % g != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: cannot split %d input channels into %d groups", what, cin, g);
    if (cout % g != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: cannot split %d output channels into %d groups", what, cout, g);
    int cg = cin / g;
    if (cg % 4 != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: each group needs a multiple of 4 input channels, got %d%s", what,
                         cg,
                         cg == 1 ? " (a depthwise convolution needs input channels = output channels = groups)" : "");
    if ((cout / g) % 4 != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: each group needs a multiple of 4 output channels, got %d", what,
                         cout / g);
    return GLNN_OK;
}

static const glnn_op_class conv2d_class;

/* -1 for NULL or an op that is not a Conv2D. */
int64_t glnn_conv2d_sampled_channels(const glnn_op *op) {
    if (!op || op->cls != &conv2d_class) return -1;
    const glnn_conv2d *c = as_conv(op);
    int64_t k2 = (int64_t)c->p.kernel_size * c->p.kernel_size;
    switch (c->kind) {
    case CONV_IMAGE: return 3 * k2;
    case CONV_DEPTHWISE: return 4 * k2;
    default: return k2 * c->cg;
    }
}

static void release_prepared(glnn_conv2d *c) {
    glnn_gpu_conv2d_release(c, c->base.prepared_ctx);
    glnn_frag_conv2d_release(c, c->base.prepared_ctx);
    free(c->weights);
    free(c->bias);
    c->weights = c->bias = NULL;
}

static void unprepare(glnn_op *op) {
    release_prepared(as_conv(op));
}

static void destroy(glnn_op *op) {
    free(op);
}

/* Rules P1–P11, shapes, weights, counters.  Builds the new state beside the old and swaps on success. */
static glnn_status prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_error *err) {
    glnn_conv2d *c = as_conv(op);
    const glnn_conv2d_params *p = &c->p;
    const char *name = op->name;
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s'", name);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    glnn_data_kind want = c->kind == CONV_IMAGE ? GLNN_KIND_IMAGE : GLNN_KIND_TENSOR;
    if (in[0].shape.kind != want)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects %s on input #0", what, name,
                         want == GLNN_KIND_IMAGE ? "an image" : "a tensor");
    glnn_shape is = in[0].shape;
    if (is.c != p->num_input_channels)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input depth %lld does not match num_input_channels %d", what,
                         (long long)is.c, p->num_input_channels);
    glnn_axis ax = glnn_axis_geometry(is.w, p->kernel_size, p->stride, p->padding);
    glnn_axis ay = glnn_axis_geometry(is.h, p->kernel_size, p->stride, p->padding);
    if (ax.n <= 0 || ay.n <= 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: output would be empty (input %lld×%lld, kernel %d, stride %d, %s padding)", what,
                         (long long)is.w, (long long)is.h, p->kernel_size, p->stride, glnn_padding_name(p->padding));
    glnn_shape os = {GLNN_KIND_TENSOR, ay.n, ax.n, p->num_output_channels};
    if (c->kind == CONV_IMAGE && in[1].present)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no residual input with an image input", what);
    if (in[1].present && (in[1].shape.kind != GLNN_KIND_TENSOR || in[1].shape.h != os.h || in[1].shape.w != os.w ||
                          in[1].shape.c != os.c))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: residual shape %lld×%lld×%lld does not match output shape %lld×%lld×%lld", what,
                         (long long)in[1].shape.h, (long long)in[1].shape.w, (long long)in[1].shape.c, (long long)os.h,
                         (long long)os.w, (long long)os.c);
    /* Sizes are checked before anything is allocated. */
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    glnn_status s = glnn_check_tensor_shape(ctx, os, size_what, err);
    if (s != GLNN_OK) return s;
    int64_t k2 = (int64_t)p->kernel_size * p->kernel_size, n_weights, v = glnn_shape_count(os), macs, fetches;
    const int64_t t = (c->kind == CONV_IMAGE || c->kind == CONV_DEPTHWISE) ? 1 : c->cg / 4;
    if (!glnn_mul_i64(k2, c->cg, &n_weights) || !glnn_mul_i64(n_weights, p->num_output_channels, &n_weights) ||
        n_weights > (int64_t)(UINT32_MAX / 4))
        return glnn_fail(
            err, GLNN_ERR_MEMORY, "%s: %d×%d×%d×%d filters are too large for a chunk (at most %lu float32 values)",
            what, p->kernel_size, p->kernel_size, c->cg, p->num_output_channels, (unsigned long)(UINT32_MAX / 4));
    if (!glnn_mul_i64(v, k2, &macs) || !glnn_mul_i64(macs, c->cg, &macs) || !glnn_mul_i64(v / 4, k2, &fetches) ||
        !glnn_mul_i64(fetches, t, &fetches) || fetches > INT64_MAX - v / 4)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the operation counters overflow 64 bits", what);
    if (!data)
        return glnn_fail(err, GLNN_ERR_STATE, "%s: no model data given to read the weights '%s/w' from", what, name);
    float *weights = NULL, *bias = NULL;
    char kind_what[320];
    snprintf(kind_what, sizeof kind_what, "%s: filters", what);
    s = glnn_chunks_read_floats(data, name, GLNN_FILTERS_CHUNK_SUFFIX, n_weights, kind_what, &weights, err);
    if (s == GLNN_OK && p->use_bias) {
        snprintf(kind_what, sizeof kind_what, "%s: bias", what);
        s = glnn_chunks_read_floats(data, name, GLNN_BIAS_CHUNK_SUFFIX, p->num_output_channels, kind_what, &bias, err);
    } else if (s == GLNN_OK) {
        bias = calloc((size_t)p->num_output_channels, sizeof(float));
        if (!bias) s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    if (s == GLNN_OK && ctx->is_gpu && ctx->max_sampled_channels > 0 &&
        glnn_conv2d_sampled_channels(op) > ctx->max_sampled_channels)
        s = glnn_fail(err, GLNN_ERR_ARGUMENT,
                      "Conv2D '%s' samples %lld input channels per output value, above this device's limit of %d; "
                      "use more groups or raise the limit",
                      name, (long long)glnn_conv2d_sampled_channels(op), ctx->max_sampled_channels);
    if (s != GLNN_OK) {
        free(weights);
        free(bias);
        return s;
    }

    /* Swap in the new state. */
    glnn_conv2d old = *c;
    c->weights = weights;
    c->bias = bias;
    c->gpu_weights = c->gpu_bias = c->gpu_program = 0;
    c->frag_weights = c->frag_program = 0;
    c->frag_uniforms = NULL;
    c->in_shape = is;
    c->has_residual = in[1].present;
    c->ax = ax;
    c->ay = ay;
    if (ctx->is_gpu) {
        s = ctx->gpu->fragment ? glnn_frag_conv2d_prepare(c, ctx, err) : glnn_gpu_conv2d_prepare(c, ctx, err);
        if (s != GLNN_OK) {
            glnn_gpu_conv2d_release(c, ctx);
            glnn_frag_conv2d_release(c, ctx);
            free(weights);
            free(bias);
            *c = old;
            return s;
        }
    }
    release_prepared(&old);
    op->multiply_adds = macs;
    op->texel_fetches = fetches + (c->has_residual ? v / 4 : 0);
    op->weight_bytes = (n_weights + p->num_output_channels) * (int64_t)sizeof(float);
    op->out_shape = os;
    op->prepared = true;
    op->prepared_ctx = ctx;
    return GLNN_OK;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    const glnn_conv2d_params *p = &as_conv(op)->p;
    if (!in[0].present) return false;
    glnn_axis ax = glnn_axis_geometry(in[0].shape.w, p->kernel_size, p->stride, p->padding);
    glnn_axis ay = glnn_axis_geometry(in[0].shape.h, p->kernel_size, p->stride, p->padding);
    *out = (glnn_shape){GLNN_KIND_TENSOR, ay.n, ax.n, p->num_output_channels};
    return ax.n > 0 && ay.n > 0;
}

static void write_keys(const glnn_op *op, void (*emit)(void *, const char *, const char *), void *user) {
    const glnn_conv2d_params *p = &as_conv(op)->p;
    char buf[32];
    emit(user, "activation", glnn_activation_name(p->activation));
    snprintf(buf, sizeof buf, "%d", p->num_groups);
    emit(user, "groups", buf);
    snprintf(buf, sizeof buf, "%d", p->num_input_channels);
    emit(user, "input_channels", buf);
    snprintf(buf, sizeof buf, "%d", p->kernel_size);
    emit(user, "kernel_size", buf);
    snprintf(buf, sizeof buf, "%d", p->num_output_channels);
    emit(user, "output_channels", buf);
    emit(user, "padding", glnn_padding_name(p->padding));
    snprintf(buf, sizeof buf, "%d", p->stride);
    emit(user, "stride", buf);
    emit(user, "use_bias", p->use_bias ? "true" : "false");
}

static const glnn_op_class conv2d_class = {
    .kind = GLNN_OP_CONV2D,
    .type_name = "conv2d",
    .input_count = 2,
    .output_count = 1,
    .prepare = prepare,
    .infer_shape = infer_shape,
    .run_cpu = glnn_cpu_conv2d,
    .run_gpu = glnn_conv2d_run_gpu,
    .write_keys = write_keys,
    .unprepare = unprepare,
    .destroy = destroy,
};

glnn_status glnn_conv2d_create(const glnn_conv2d_params *p, glnn_op **out, glnn_error *err) {
    if (!p || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Conv2D: no parameters or output handle");
    glnn_status s = validate(p, err);
    if (s != GLNN_OK) return s;
    glnn_conv2d *c = calloc(1, sizeof *c);
    if (!c) return glnn_fail(err, GLNN_ERR_MEMORY, "create Conv2D '%s': out of memory", p->name);
    s = glnn_op_init(&c->base, &conv2d_class, p->name, err);
    if (s != GLNN_OK) {
        free(c);
        return s;
    }
    c->p = *p;
    c->p.name = c->base.name;
    c->kind = kind_of(p);
    c->cg = c->kind == CONV_IMAGE ? 3 : c->kind == CONV_DEPTHWISE ? 1 : p->num_input_channels / p->num_groups;
    c->gpu_variant = -1;
    *out = &c->base;
    return GLNN_OK;
}

glnn_status glnn_conv2d_get_params(const glnn_op *op, glnn_conv2d_params *p, glnn_error *err) {
    if (!op || !p || op->cls != &conv2d_class)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Conv2D parameters: not a Conv2D operation");
    *p = as_conv(op)->p;
    return GLNN_OK;
}
