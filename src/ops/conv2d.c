/* Conv2D (SPEC §4): description, parameters and their validation, op-level preparation (shapes, weights),
 * counters.  The computation is the back ends' (backends/<name>/conv2d.c). */
#include "ops/conv2d.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const glnn_param_info params[] = {
    {"kernel_size", "kernel_size", GLNN_PARAM_INT, NULL, true, 0, 0, NULL, "k: the kernel is k×k"},
    {"num_input_channels", "input_channels", GLNN_PARAM_INT, NULL, true, 0, 0, NULL,
     "Cin, the input depth: 3 (an image input) or a multiple of 4"},
    {"num_output_channels", "output_channels", GLNN_PARAM_INT, NULL, true, 0, 0, NULL,
     "Cout, the output depth: a multiple of 4"},
    {"stride", "stride", GLNN_PARAM_INT, NULL, false, 1, 1, NULL, "stride along x and y"},
    {"padding", "padding", GLNN_PARAM_ENUM, &glnn_padding_enum, false, GLNN_PADDING_VALID, GLNN_PADDING_VALID, NULL,
     "Padding.VALID or Padding.SAME"},
    {"use_bias", "use_bias", GLNN_PARAM_BOOL, NULL, false, 1, 1, NULL, "whether the bias chunk '<name>/b' is added"},
    {"num_groups", "groups", GLNN_PARAM_INT, NULL, false, 1, 1, NULL, "number of convolution groups"},
    {"activation", "activation", GLNN_PARAM_ENUM, &glnn_activation_enum, false, GLNN_ACTIVATION_DEFAULT,
     GLNN_ACTIVATION_DEFAULT, NULL, "the ActivationFunction"},
};
static const size_t offsets[] = {
    offsetof(glnn_conv2d_params, kernel_size),
    offsetof(glnn_conv2d_params, num_input_channels),
    offsetof(glnn_conv2d_params, num_output_channels),
    offsetof(glnn_conv2d_params, stride),
    offsetof(glnn_conv2d_params, padding),
    offsetof(glnn_conv2d_params, use_bias),
    offsetof(glnn_conv2d_params, num_groups),
    offsetof(glnn_conv2d_params, activation),
};

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

/* Rules V2–V13, in order (V1, the name, is every op's). */
static glnn_status validate(const void *params, const char *what, glnn_error *err) {
    const glnn_conv2d_params *p = params;
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

/* What a Conv2D derives from its parameters: its kind and input channels per group. */
static void setup(glnn_op *op) {
    glnn_conv2d *c = (glnn_conv2d *)op;
    c->kind = kind_of(&c->p);
    c->cg = c->kind == CONV_IMAGE ? 3 : c->kind == CONV_DEPTHWISE ? 1 : c->p.num_input_channels / c->p.num_groups;
}

/* -1 for NULL or an op that is not a Conv2D. */
int64_t glnn_conv2d_sampled_channels(const glnn_op *op) {
    if (!glnn_op_is(op, &glnn_conv2d_class)) return -1;
    const glnn_conv2d *c = glnn_conv2d_of(op);
    int64_t k2 = (int64_t)c->p.kernel_size * c->p.kernel_size;
    switch (c->kind) {
    case CONV_IMAGE: return 3 * k2;
    case CONV_DEPTHWISE: return 4 * k2;
    default: return k2 * c->cg;
    }
}

static void free_prep(void *prep) {
    glnn_conv2d_prep *pp = prep;
    free(pp->weights);
    free(pp->bias);
    free(pp);
}

/* SPEC §3 for input 0: both axes and the output shape; false when the output would be empty. */
static bool geometry(const glnn_conv2d_params *p, glnn_shape in, glnn_axis *ax, glnn_axis *ay, glnn_shape *out) {
    *ax = glnn_axis_geometry(in.w, p->kernel_size, p->stride, p->padding);
    *ay = glnn_axis_geometry(in.h, p->kernel_size, p->stride, p->padding);
    *out = (glnn_shape){GLNN_KIND_TENSOR, ay->n, ax->n, p->num_output_channels};
    return ax->n > 0 && ay->n > 0;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    glnn_axis ax, ay;
    return in[0].present && geometry(&glnn_conv2d_of(op)->p, in[0].shape, &ax, &ay, out);
}

/* Rules P1–P6: the inputs. */
static glnn_status check_inputs(const glnn_conv2d *c, const glnn_input_desc *in, const char *what, glnn_error *err) {
    const glnn_conv2d_params *p = &c->p;
    glnn_status s =
        glnn_op_check_input(&c->base, in, 0, c->kind == CONV_IMAGE ? GLNN_KIND_IMAGE : GLNN_KIND_TENSOR, what, err);
    if (s != GLNN_OK) return s;
    glnn_shape is = in[0].shape, os;
    if (is.c != p->num_input_channels)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input depth %lld does not match num_input_channels %d", what,
                         (long long)is.c, p->num_input_channels);
    glnn_axis ax, ay;
    if (!geometry(p, is, &ax, &ay, &os))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "%s: output would be empty (input %lld×%lld, kernel %d, stride %d, %s padding)", what,
                         (long long)is.w, (long long)is.h, p->kernel_size, p->stride, glnn_padding_name(p->padding));
    if (c->kind == CONV_IMAGE && in[1].present)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no residual input with an image input", what);
    glnn_shape rs = in[1].shape;
    if (in[1].present && (rs.kind != GLNN_KIND_TENSOR || rs.h != os.h || rs.w != os.w || rs.c != os.c))
        return glnn_fail(
            err, GLNN_ERR_ARGUMENT, "%s: residual shape %lld×%lld×%lld does not match output shape %lld×%lld×%lld",
            what, (long long)rs.h, (long long)rs.w, (long long)rs.c, (long long)os.h, (long long)os.w, (long long)os.c);
    return GLNN_OK;
}

/* Rules P1–P11, shapes, weights, counters. */
static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_params *p = &c->p;
    glnn_status s = check_inputs(c, in, what, err);
    if (s != GLNN_OK) return s;
    glnn_conv2d_prep pp = {.in_shape = in[0].shape, .has_residual = in[1].present};
    geometry(p, pp.in_shape, &pp.ax, &pp.ay, &out->out_shape);
    /* Sizes are checked before anything is allocated. */
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    s = glnn_check_tensor_shape(ctx, out->out_shape, size_what, err);
    if (s != GLNN_OK) return s;
    int64_t k2 = (int64_t)p->kernel_size * p->kernel_size, n_weights, v = glnn_shape_count(out->out_shape), macs,
            fetches;
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
        return glnn_fail(err, GLNN_ERR_STATE, "%s: no model data given to read the weights '%s/w' from", what,
                         op->name);
    s = glnn_op_read_weights(op, data, GLNN_FILTERS_CHUNK_SUFFIX, "filters", n_weights, &pp.weights, err);
    if (s == GLNN_OK && p->use_bias)
        s = glnn_op_read_weights(op, data, GLNN_BIAS_CHUNK_SUFFIX, "bias", p->num_output_channels, &pp.bias, err);
    else if (s == GLNN_OK && !(pp.bias = calloc((size_t)p->num_output_channels, sizeof(float))))
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    const int limit = ctx->max_sampled_channels;
    if (s == GLNN_OK && ctx->backend->sampling_limit && limit > 0 && glnn_conv2d_sampled_channels(op) > limit)
        s = glnn_fail(err, GLNN_ERR_ARGUMENT,
                      "Conv2D '%s' samples %lld input channels per output value, above this device's limit of %d; "
                      "use more groups or raise the limit",
                      op->name, (long long)glnn_conv2d_sampled_channels(op), limit);
    if (s == GLNN_OK) s = glnn_op_keep_prep(&pp, sizeof pp, out, what, err);
    if (s != GLNN_OK) {
        free(pp.weights);
        free(pp.bias);
        return s;
    }
    out->multiply_adds = macs;
    out->texel_fetches = fetches + (pp.has_residual ? v / 4 : 0);
    out->weight_bytes = (n_weights + p->num_output_channels) * (int64_t)sizeof(float);
    return GLNN_OK;
}

GLNN_OP_DEFINE(
    conv2d,
    .info = {GLNN_OP_CONV2D, "conv2d", "Conv2D", 2, 1, (int)(sizeof params / sizeof params[0]), params, 0,
             "{kernel_size}x{kernel_size} s{stride} {padding} {num_input_channels}->{num_output_channels} groups "
             "{num_groups} {activation}{use_bias? bias}",
             "2D convolution with 8-bit inputs and outputs (SPEC §4).  num_input_channels is 3 (an image input:\n"
             "then num_groups=1 and VALID padding) or a multiple of 4; num_output_channels a multiple of 4.\n"
             "Filters are read from the chunk '<name>/w' (float32, HWIO: shape (k, k, Cin/groups, Cout)), the\n"
             "bias from '<name>/b' (Cout float32) when use_bias.  Input #0 is the main input, input #1 an\n"
             "optional residual of the output's shape, added before the activation.  padding and activation\n"
             "also accept their names as text ('same', 'sigmoid_like', any case).  Invalid parameters raise\n"
             "glnn.ArgumentError with the first failing rule of SPEC §4.3."},
    .setup = setup)
