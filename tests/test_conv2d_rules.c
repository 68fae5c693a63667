/* Conv2D against the letter of SPEC §2–§4:
 *  - golden cases whose expected bytes are worked out by hand in the comments (never by library code),
 *    one per activation, residual, grouped, depthwise, image input and SAME with stride 2, each run on the
 *    CPU reference and, when there is one, on the GPU, and compared byte for byte;
 *  - one test per validation rule V1–V13 (construction) and P1–P11 (preparation), plus rule order;
 *  - attributes, defaults, sampled_channels() and the counters of §4.8 / §8.5;
 *  - failed calls leave ops and tensors as they were;
 *  - the conversions of §2.2–§2.4 (quantization, uploads, downloads, images).
 * Values are chosen so that 255·act(z) lies far from a rounding tie: every back end must then give the
 * exact byte, even though §2.5 would allow the GPU 1 LSB. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------------------------------------------- */
/* Helpers                                                                                              */

static glnn_op *new_conv(const char *name, int k, int cin, int cout, int stride, glnn_padding pad, int groups,
                         bool use_bias, glnn_activation act) {
    glnn_error err;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = name;
    p.kernel_size = k;
    p.num_input_channels = cin;
    p.num_output_channels = cout;
    p.stride = stride;
    p.padding = pad;
    p.num_groups = groups;
    p.use_bias = use_bias;
    p.activation = act;
    glnn_op *op = NULL;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    assert_non_null(op);
    return op;
}

/* Chunks `<name>/w` (and `<name>/b` when b is not NULL). */
static glnn_chunks *new_weights(const char *name, const float *w, int64_t nw, const float *b, int64_t nb) {
    glnn_error err;
    glnn_chunks *c = NULL;
    assert_ok(glnn_chunks_create(&c, &err));
    assert_ok(glnn_chunks_set_weights(c, name, w, nw, b, b ? nb : 0, &err));
    return c;
}

/* Zero weights (and bias) of the right sizes. */
static glnn_chunks *zero_weights(const char *name, int64_t nw, int64_t nb) {
    float *w = calloc((size_t)(nw > 0 ? nw : 1), sizeof(float)), *b = calloc((size_t)(nb > 0 ? nb : 1), sizeof(float));
    assert_non_null(w);
    assert_non_null(b);
    glnn_chunks *c = new_weights(name, w, nw, nb > 0 ? b : NULL, nb);
    free(w);
    free(b);
    return c;
}

static glnn_tensor *new_tensor(glnn_context *ctx, int64_t h, int64_t w, int64_t c, const uint8_t *data) {
    glnn_error err;
    glnn_shape s = {GLNN_KIND_TENSOR, h, w, c};
    glnn_tensor *t = NULL;
    assert_ok(glnn_tensor_create(ctx, s, &t, &err));
    if (data) assert_ok(glnn_tensor_upload_u8(t, data, h * w * c, &err));
    return t;
}

/* Tensor filled with the byte `v`. */
static glnn_tensor *filled_tensor(glnn_context *ctx, int64_t h, int64_t w, int64_t c, uint8_t v) {
    uint8_t *d = malloc((size_t)(h * w * c));
    assert_non_null(d);
    memset(d, v, (size_t)(h * w * c));
    glnn_tensor *t = new_tensor(ctx, h, w, c, d);
    free(d);
    return t;
}

static glnn_tensor *filled_image(glnn_context *ctx, int64_t h, int64_t w, uint8_t v) {
    glnn_error err;
    uint8_t *d = malloc((size_t)(h * w * 3));
    assert_non_null(d);
    memset(d, v, (size_t)(h * w * 3));
    glnn_tensor *t = NULL;
    assert_ok(glnn_image_create(ctx, d, h, w, 3, &t, &err));
    free(d);
    return t;
}

static void assert_bytes(const glnn_tensor *t, const uint8_t *expected, int64_t n, const char *label) {
    glnn_error err;
    uint8_t *got = malloc((size_t)n);
    assert_non_null(got);
    assert_ok(glnn_tensor_download_u8(t, got, n, &err));
    int bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (got[i] != expected[i]) {
            print_error("%s: value %lld: expected %u, got %u\n", label, (long long)i, expected[i], got[i]);
            bad++;
        }
    free(got);
    assert_int_equal(bad, 0);
}

static void assert_counters(const glnn_op *op, int64_t macs, int64_t fetches) {
    glnn_error err;
    int64_t m = -1, f = -1;
    assert_ok(glnn_op_count_multiply_adds(op, &m, &err));
    assert_ok(glnn_op_count_texel_fetches(op, &f, &err));
    if (m != macs || f != fetches) {
        print_error("'%s': expected %lld multiply-adds and %lld texel fetches, got %lld and %lld\n", glnn_op_name(op),
                    (long long)macs, (long long)fetches, (long long)m, (long long)f);
        fail();
    }
}

static void assert_out_shape(const glnn_op *op, int64_t h, int64_t w, int64_t c) {
    glnn_error err;
    glnn_shape s;
    assert_ok(glnn_op_output_shape(op, 0, &s, &err));
    assert_int_equal(s.kind, GLNN_KIND_TENSOR);
    assert_int_equal(s.h, h);
    assert_int_equal(s.w, w);
    assert_int_equal(s.c, c);
}

/* The CPU reference, then the GPU when there is one. */
static int contexts(glnn_context *ctx[2]) {
    ctx[0] = glnn_test_cpu();
    ctx[1] = glnn_test_gpu();
    return ctx[1] ? 2 : 1;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Golden cases                                                                                         */

typedef struct {
    const char *label;
    glnn_op *op;
    const glnn_chunks *data;
    const uint8_t *input; /* tensor bytes, or RGB pixels when image */
    int64_t h, w, c;
    bool image;
    const uint8_t *residual; /* output-shaped tensor, or NULL */
    const uint8_t *expected;
    int64_t oh, ow, oc;
} golden;

static void run_golden_on(glnn_context *ctx, const golden *g) {
    glnn_error err;
    glnn_tensor *in = NULL, *res = NULL, *out = NULL;
    if (g->image)
        assert_ok(glnn_image_create(ctx, g->input, g->h, g->w, 3, &in, &err));
    else
        in = new_tensor(ctx, g->h, g->w, g->c, g->input);
    if (g->residual) res = new_tensor(ctx, g->oh, g->ow, g->oc, g->residual);
    glnn_tensor *inputs[2] = {in, res};
    assert_ok(glnn_op_run(ctx, g->op, g->data, inputs, res ? 2 : 1, &out, &err));
    glnn_shape s = glnn_tensor_shape(out);
    assert_int_equal(s.kind, GLNN_KIND_TENSOR);
    assert_int_equal(s.h, g->oh);
    assert_int_equal(s.w, g->ow);
    assert_int_equal(s.c, g->oc);
    char label[200];
    snprintf(label, sizeof label, "%s on %s", g->label, glnn_context_device_name(ctx));
    assert_bytes(out, g->expected, g->oh * g->ow * g->oc, label);
    glnn_tensor_free(out);
    glnn_tensor_free(res);
    glnn_tensor_free(in);
}

static void run_golden(const golden *g) {
    glnn_context *ctx[2];
    int n = contexts(ctx);
    for (int i = 0; i < n; i++)
        run_golden_on(ctx[i], g);
    if (n == 1) print_message("[ note ] %s: no GPU context, checked on the CPU reference only\n", g->label);
}

/* DEFAULT = ReLU bounded at 1.  1×1 conv 4→4 with bias on a 1×2×4 input.
 * Weights W[ci][co] (HWIO for k = 1: index ci·4 + co):
 *   W0 = [0.2, -0.5, 0.6, 1.3]   W1 = [1, 2, 3, -1]   W2 = [5, 5, 5, 5]   W3 = [0.2, 0.2, -0.2, 0]
 *   b  = [0.2, 0, 0.2, -0.1]
 * Pixel 0 = bytes [255, 0, 0, 0] = [1, 0, 0, 0]:
 *   z = W0 + b = [0.4, -0.5, 0.8, 1.2] → 255z = [102, <0, 204, >255] → [102, 0, 204, 255]
 * Pixel 1 = bytes [0, 51, 0, 255] = [0, 0.2, 0, 1] (W2 multiplies a zero):
 *   z = 0.2·W1 + W3 + b = [0.2+0.2+0.2, 0.4+0.2+0, 0.6-0.2+0.2, -0.2+0-0.1] = [0.6, 0.6, 0.6, -0.3]
 *   → 255z = [153, 153, 153, <0] → [153, 153, 153, 0] */
static void test_golden_default(void **state) {
    (void)state;
    static const float w[] = {0.2f, -0.5f, 0.6f, 1.3f, 1, 2, 3, -1, 5, 5, 5, 5, 0.2f, 0.2f, -0.2f, 0};
    static const float b[] = {0.2f, 0, 0.2f, -0.1f};
    static const uint8_t in[] = {255, 0, 0, 0, 0, 51, 0, 255};
    static const uint8_t expected[] = {102, 0, 204, 255, 153, 153, 153, 0};
    glnn_op *op = new_conv("g_default", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_default", w, COUNT(w), b, COUNT(b));
    golden g = {"DEFAULT", op, data, in, 1, 2, 4, false, NULL, expected, 1, 2, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* BRELU6: act(z) = 0.167·z (exactly 0.167).  1×1 conv 4→4, no bias, input 1×2×4.
 * Pixel 0 = [1, 0, 0, 0] → z = W0 = [3, 5.9, 6, -1] (SPEC §4.6 checks):
 *   0.167·3 = 0.501 → 127.755 + 0.5 → 128;  0.167·5.9 = 0.9853 → 251.25 + 0.5 → 251;
 *   0.167·6 = 1.002 → 255;  -0.167 → 0
 * Pixel 1 = [0, 1, 0, 0] → z = W1 = [1, 2, 5.3, 0.5]:
 *   0.167 → 42.585 + 0.5 → 43;  0.334 → 85.17 + 0.5 → 85;  0.8851 → 225.7005 + 0.5 → 226
 *   (with 1/6 instead of 0.167 it would be 225.25 + 0.5 → 225);  0.0835 → 21.2925 + 0.5 → 21
 * W2, W3 = 9 (they multiply zeros: reading the wrong channel would show). */
static void test_golden_brelu6(void **state) {
    (void)state;
    static const float w[] = {3, 5.9f, 6, -1, 1, 2, 5.3f, 0.5f, 9, 9, 9, 9, 9, 9, 9, 9};
    static const uint8_t in[] = {255, 0, 0, 0, 0, 255, 0, 0};
    static const uint8_t expected[] = {128, 251, 255, 0, 43, 85, 226, 21};
    glnn_op *op = new_conv("g_brelu6", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, false, GLNN_ACTIVATION_BRELU6);
    glnn_chunks *data = new_weights("g_brelu6", w, COUNT(w), NULL, 0);
    golden g = {"BRELU6", op, data, in, 1, 2, 4, false, NULL, expected, 1, 2, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* SIGMOID_LIKE, piecewise linear (SPEC §4.6).  1×1 conv 4→4, no bias, input 1×2×4.
 * Pixel 0 = [1, 0, 0, 0] → z = W0 = [0, 1, -3, 7] (SPEC checks):
 *   z = 0:  0.5            → 127.5 + 0.5 = 128
 *   z = 1:  0.55 + 0.1     = 0.65  → 165.75 + 0.5 → 166
 *   z = -3: 0.325 - 0.15   = 0.175 → 44.625 + 0.5 → 45
 *   z = 7:  ≥ 6.5 → 1      → 255
 * Pixel 1 = [0, 1, 0, 0] → z = W1 = [-7, 2, -1, 4]:
 *   z = -7: 0 → 0;  z = 2: 0.55 + 0.2 = 0.75 → 191.25 + 0.5 → 191;
 *   z = -1: 0.45 - 0.1 = 0.35 → 89.25 + 0.5 → 89;  z = 4: 0.675 + 0.2 = 0.875 → 223.125 + 0.5 → 223 */
static void test_golden_sigmoid_like(void **state) {
    (void)state;
    static const float w[] = {0, 1, -3, 7, -7, 2, -1, 4, 9, 9, 9, 9, -9, -9, -9, -9};
    static const uint8_t in[] = {255, 0, 0, 0, 0, 255, 0, 0};
    static const uint8_t expected[] = {128, 166, 45, 255, 0, 191, 89, 223};
    glnn_op *op = new_conv("g_sigmoid", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, false, GLNN_ACTIVATION_SIGMOID_LIKE);
    glnn_chunks *data = new_weights("g_sigmoid", w, COUNT(w), NULL, 0);
    golden g = {"SIGMOID_LIKE", op, data, in, 1, 2, 4, false, NULL, expected, 1, 2, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* Residual, added at the same OUTPUT position and channel, before the activation (SPEC §4.5, §11).
 * 1×1 conv 4→4, stride 2, VALID, DEFAULT, bias, on a 1×3×4 input → output 1×2×4.
 * Output x 0 reads input x 0, output x 1 reads input x 2; input x 1 = [255, 255, 255, 255] is unused.
 *   W0 = [0.2, 0.4, -0.2, 0]   W1 = [0, 0.2, 0.4, 0.6]   W2 = W3 = [1, 1, 1, 1]   b = [0.2, 0, 0, -0.2]
 *   residual r0 = bytes [51, 102, 153, 0] = [0.2, 0.4, 0.6, 0]; r1 = [204, 0, 51, 102] = [0.8, 0, 0.2, 0.4]
 * Output 0 (input [1, 0, 0, 0]): z = W0 + r0 + b = [0.6, 0.8, 0.4, -0.2] → [153, 204, 102, 0]
 *   (channel 2: acc -0.2 + residual 0.6 = 0.4; clamping before adding the residual would give 153)
 * Output 1 (input [0, 1, 0, 0]): z = W1 + r1 + b = [1.0, 0.2, 0.6, 0.8] → [255, 51, 153, 204] */
static void test_golden_residual(void **state) {
    (void)state;
    static const float w[] = {0.2f, 0.4f, -0.2f, 0, 0, 0.2f, 0.4f, 0.6f, 1, 1, 1, 1, 1, 1, 1, 1};
    static const float b[] = {0.2f, 0, 0, -0.2f};
    static const uint8_t in[] = {255, 0, 0, 0, 255, 255, 255, 255, 0, 255, 0, 0};
    static const uint8_t res[] = {51, 102, 153, 0, 204, 0, 51, 102};
    static const uint8_t expected[] = {153, 204, 102, 0, 255, 51, 153, 204};
    glnn_op *op = new_conv("g_residual", 1, 4, 4, 2, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_residual", w, COUNT(w), b, COUNT(b));
    golden g = {"residual", op, data, in, 1, 3, 4, false, res, expected, 1, 2, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* Grouped: 1×1 conv 8→8, G = 2 (Cg = 4, 4 outputs per group), no bias, DEFAULT, input 1×1×8.
 * Weights [ci 0..3][co 0..7] at ci·8 + co; group 0 (co 0–3) reads channels 0–3, group 1 (co 4–7)
 * reads channels 4–7, both with ci = 0..3 within the group:
 *   row 0: [0.2, 0.4, 0.6, 0.8 | 0.1, 0.1, 0.1, 0.1]
 *   row 1: [1, 1, 1, 1         | 0.2, 0.4, 0.7, 0.4]
 *   row 2: [1, -1, 0, -1       | 2, 2, 2, 2]
 *   row 3: [3, 3, 3, 3         | 0.5, 1, 1, -0.5]
 * Input bytes [255, 0, 51, 0, 0, 255, 0, 102] = [1, 0, 0.2, 0 | 0, 1, 0, 0.4].
 * Group 0: x = [1, 0, 0.2, 0]: z = row0 + 0.2·row2 = [0.4, 0.2, 0.6, 0.6] → [102, 51, 153, 153]
 * Group 1: x = [0, 1, 0, 0.4]: z = row1 + 0.4·row3 = [0.4, 0.8, 1.1, 0.2] → [102, 204, 255, 51]
 * (Group 1 reading channels 0–3 instead would give row0 + 0.2·row2 = [0.5, …] → 128: mixing shows.) */
static void test_golden_grouped(void **state) {
    (void)state;
    static const float w[] = {0.2f, 0.4f, 0.6f, 0.8f, 0.1f, 0.1f, 0.1f, 0.1f, 1, 1, 1, 1, 0.2f, 0.4f, 0.7f, 0.4f,
                              1,    -1,   0,    -1,   2,    2,    2,    2,    3, 3, 3, 3, 0.5f, 1,    1,    -0.5f};
    static const uint8_t in[] = {255, 0, 51, 0, 0, 255, 0, 102};
    static const uint8_t expected[] = {102, 51, 153, 153, 102, 204, 255, 51};
    glnn_op *op = new_conv("g_grouped", 1, 8, 8, 1, GLNN_PADDING_VALID, 2, false, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_grouped", w, COUNT(w), NULL, 0);
    golden g = {"grouped 8->8 G=2", op, data, in, 1, 1, 8, false, NULL, expected, 1, 1, 8};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* Depthwise: 3×3 conv 8→8, G = 8, VALID, bias, DEFAULT, on a 3×3×8 input → 1×1×8.
 * Weights [ky][kx][1][8]: tap t = 3ky + kx, w(t, co) at t·8 + co.  Output c reads input channel c only.
 *   ch 0: 255 at (1,1) only; w = 0.1 everywhere, 0.4 at the centre (t 4)  → 0.4          → 102
 *   ch 1: 255 at (0,0) only; w = 0.3, 0.6 at t 0; b = 0.2                 → 0.6 + 0.2 = 0.8 → 204
 *   ch 2: 51 everywhere;     w = 0.1 everywhere                          → 9·0.1·0.2 = 0.18 → 45.9 + 0.5 → 46
 *   ch 3: 255 at (2,2) only; w = -0.5, 0.8 at t 8; b = -0.2              → 0.8 - 0.2 = 0.6 → 153
 *   ch 4: 255 at (0,2) only; w = 1, 0.2 at t 2                           → 0.2          → 51
 *   ch 5: 102 at (1,1) only; w = 1, 2 at t 4                             → 0.4·2 = 0.8  → 204
 *   ch 6: 255 everywhere;    w = 0.05, 0.2 at t 4                        → 8·0.05 + 0.2 = 0.6 → 153
 *   ch 7: 0 everywhere;      w = 1; b = 0.4                              → 0.4          → 102
 * Any channel reading another channel's data changes its byte (e.g. ch 0 reading ch 1: 0.1 → 26). */
static void test_golden_depthwise(void **state) {
    (void)state;
    float w[9 * 8];
    static const float base[8] = {0.1f, 0.3f, 0.1f, -0.5f, 1, 1, 0.05f, 1};
    for (int t = 0; t < 9; t++)
        for (int co = 0; co < 8; co++)
            w[t * 8 + co] = base[co];
    w[4 * 8 + 0] = 0.4f;
    w[0 * 8 + 1] = 0.6f;
    w[8 * 8 + 3] = 0.8f;
    w[2 * 8 + 4] = 0.2f;
    w[4 * 8 + 5] = 2.0f;
    w[4 * 8 + 6] = 0.2f;
    static const float b[] = {0, 0.2f, 0, -0.2f, 0, 0, 0, 0.4f};
    uint8_t in[3 * 3 * 8] = {0};
    for (int p = 0; p < 9; p++) {
        in[p * 8 + 2] = 51;
        in[p * 8 + 6] = 255;
    }
    in[(1 * 3 + 1) * 8 + 0] = 255;
    in[(0 * 3 + 0) * 8 + 1] = 255;
    in[(2 * 3 + 2) * 8 + 3] = 255;
    in[(0 * 3 + 2) * 8 + 4] = 255;
    in[(1 * 3 + 1) * 8 + 5] = 102;
    static const uint8_t expected[] = {102, 204, 46, 153, 51, 204, 153, 102};
    glnn_op *op = new_conv("g_depthwise", 3, 8, 8, 1, GLNN_PADDING_VALID, 8, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_depthwise", w, COUNT(w), b, COUNT(b));
    golden g = {"depthwise 8->8 G=8", op, data, in, 3, 3, 8, false, NULL, expected, 1, 1, 8};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* Image input: 1×1 conv 3→4, bias, DEFAULT, on a 2×2 RGB image → 2×2×4.  Weights [ci = R, G, B][co]:
 *   R = [0.2, 0, 0, 0.4]   G = [0, 0.4, 0, 0.2]   B = [0, 0, 0.8, -0.2]   b = [0.2, 0.2, 0.2, 0.2]
 * (0,0) RGB (255, 0, 0):     R + b = [0.4, 0.2, 0.2, 0.6]                         → [102, 51, 51, 153]
 * (0,1) RGB (0, 255, 255):   G + B + b = [0.2, 0.6, 1.0, 0.2]                     → [51, 153, 255, 51]
 * (1,0) RGB (51, 102, 0):    0.2R + 0.4G + b = [0.24, 0.36, 0.2, 0.08+0.08+0.2=0.36]
 *                            → 61.2, 91.8, 51, 91.8 → +0.5 floored → [61, 92, 51, 92]
 * (1,1) RGB (255, 255, 255): R + G + B + b = [0.4, 0.6, 1.0, 0.6]                 → [102, 153, 255, 153]
 * Reading BGR instead of RGB would change (0,0) to [51, 51, 255, 0]. */
static void test_golden_image(void **state) {
    (void)state;
    static const float w[] = {0.2f, 0, 0, 0.4f, 0, 0.4f, 0, 0.2f, 0, 0, 0.8f, -0.2f};
    static const float b[] = {0.2f, 0.2f, 0.2f, 0.2f};
    static const uint8_t pixels[] = {255, 0, 0, 0, 255, 255, 51, 102, 0, 255, 255, 255};
    static const uint8_t expected[] = {102, 51, 51, 153, 51, 153, 255, 51, 61, 92, 51, 92, 102, 153, 255, 153};
    glnn_op *op = new_conv("g_image", 1, 3, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_image", w, COUNT(w), b, COUNT(b));
    golden g = {"image 3->4", op, data, pixels, 2, 2, 3, true, NULL, expected, 2, 2, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* SAME, stride 2 (SPEC §3): input 6 high × 9 wide × 4, k = 3 → output 3 high × 5 wide.
 *   x: n = ⌈9/2⌉ = 5, P = 4·2 + 3 - 9 = 2 → 1 column before, 1 after; window xo reads x = 2xo-1 … 2xo+1
 *   y: n = ⌈6/2⌉ = 3, P = 2·2 + 3 - 6 = 1 → 0 rows before, 1 after;   window yo reads y = 2yo … 2yo+2
 * Input: channel 0 = 255 everywhere; channel 1 = 255 at (y 0, x 0) and (y 5, x 8) only; channels 2, 3 = 0.
 * Weights (index ((ky·3 + kx)·4 + ci)·4 + co), no bias, DEFAULT:
 *   co 0: 1.0 at tap (0,0) from ch 0 — reads (2yo, 2xo-1): inside iff xo ≥ 1               → 255 / 0
 *   co 1: 1.0 at tap (2,2) from ch 0 — reads (2yo+2, 2xo+1): inside iff yo ≤ 1 and xo ≤ 3 → 255 / 0
 *   co 2: 0.08 at every tap from ch 0 — 0.08 × (taps inside):
 *         rows inside 3 (yo 0, 1) or 2 (yo 2: row 6 is padding); columns 2 (xo 0, 4) or 3
 *         9 → 0.72 → 183.6 + 0.5 → 184;  6 → 0.48 → 122.4 + 0.5 → 122;  4 → 0.32 → 81.6 + 0.5 → 82
 *   co 3: 0.2 at tap (0,1) and 0.6 at tap (1,1) from ch 1.  Tap (0,1) reads (2yo, 2xo): the marker
 *         (0,0) at yo 0, xo 0 → 0.2 → 51.  Tap (1,1) reads (2yo+1, 2xo): the marker (5,8) at yo 2,
 *         xo 4 → 0.6 → 153.  0 elsewhere.
 * Padding on top instead of at the bottom, or on one side only, changes the border bytes. */
static void test_golden_same_stride2(void **state) {
    (void)state;
    float w[3 * 3 * 4 * 4] = {0};
#define W_AT(ky, kx, ci, co) w[(((ky)*3 + (kx)) * 4 + (ci)) * 4 + (co)]
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            W_AT(ky, kx, 0, 2) = 0.08f;
    W_AT(0, 0, 0, 0) = 1.0f;
    W_AT(2, 2, 0, 1) = 1.0f;
    W_AT(0, 1, 1, 3) = 0.2f;
    W_AT(1, 1, 1, 3) = 0.6f;
#undef W_AT
    uint8_t in[6 * 9 * 4] = {0};
    for (int p = 0; p < 6 * 9; p++)
        in[p * 4] = 255;
    in[(0 * 9 + 0) * 4 + 1] = 255;
    in[(5 * 9 + 8) * 4 + 1] = 255;
    static const uint8_t expected[3 * 5 * 4] = {
        /* yo 0: xo 0 … 4 */
        0, 255, 122, 51, 255, 255, 184, 0, 255, 255, 184, 0, 255, 255, 184, 0, 255, 0, 122, 0,
        /* yo 1 */
        0, 255, 122, 0, 255, 255, 184, 0, 255, 255, 184, 0, 255, 255, 184, 0, 255, 0, 122, 0,
        /* yo 2: bottom row reads the padding row 6 */
        0, 0, 82, 0, 255, 0, 122, 0, 255, 0, 122, 0, 255, 0, 122, 0, 255, 0, 82, 153};
    glnn_op *op = new_conv("g_same", 3, 4, 4, 2, GLNN_PADDING_SAME, 1, false, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = new_weights("g_same", w, COUNT(w), NULL, 0);
    golden g = {"SAME stride 2, 9x6", op, data, in, 6, 9, 4, false, NULL, expected, 3, 5, 4};
    run_golden(&g);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Construction rules V1–V13 (SPEC §4.3)                                                                */

/* A valid regular 3×3 8→8 convolution named `name`. */
static void base_params(glnn_conv2d_params *p, const char *name) {
    glnn_conv2d_params_init(p);
    p->name = name;
    p->kernel_size = 3;
    p->num_input_channels = 8;
    p->num_output_channels = 8;
}

/* Asserts that creating fails with ARGUMENT and a message holding the fragments; out stays untouched. */
#define assert_create_fails(params, ...)                                                                               \
    do {                                                                                                               \
        glnn_error err_;                                                                                               \
        glnn_op *op_ = NULL;                                                                                           \
        assert_error(glnn_conv2d_create((params), &op_, &err_), &err_, GLNN_ERR_ARGUMENT, __VA_ARGS__);                \
        assert_null(op_);                                                                                              \
    } while (0)

static void assert_create_ok(const glnn_conv2d_params *p) {
    glnn_error err;
    glnn_op *op = NULL;
    assert_ok(glnn_conv2d_create(p, &op, &err));
    glnn_op_release(op);
}

static void test_v1_name(void **state) {
    (void)state;
    glnn_conv2d_params p;
    char name[300];
    base_params(&p, NULL);
    assert_create_fails(&p, "Conv2D", "invalid operation name");
    base_params(&p, "");
    assert_create_fails(&p, "Conv2D", "invalid operation name");
    memset(name, 'n', 253);
    name[253] = '\0';
    base_params(&p, name);
    assert_create_ok(&p); /* 253 bytes: the longest allowed */
    memset(name, 'n', 254);
    name[254] = '\0';
    assert_create_fails(&p, "Conv2D", "invalid operation name");
    static const char *bad[] = {"a\tb", "a\nb", "a\x1f", "a\x7f", "a#b", "#", " lead", "trail ", " "};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        base_params(&p, bad[i]);
        assert_create_fails(&p, "Conv2D", "invalid operation name");
    }
    static const char *good[] = {"a b", "b1-stage1-dw", "x/y", "\xc3\xa9t\xc3\xa9", "~!@$%"};
    for (int64_t i = 0; i < COUNT(good); i++) {
        base_params(&p, good[i]);
        assert_create_ok(&p);
    }
}

static void test_v2_enumerations(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v2");
    p.padding = (glnn_padding)7;
    assert_create_fails(&p, "'v2'", "invalid padding");
    base_params(&p, "v2");
    p.activation = (glnn_activation)9;
    assert_create_fails(&p, "'v2'", "invalid activation function");
    base_params(&p, "v2");
    p.activation = (glnn_activation)-1;
    assert_create_fails(&p, "'v2'", "invalid activation function");
}

/* Enumerations given as text match case-insensitively (SPEC §4.1); unknown words are errors naming them. */
static void test_enumeration_words(void **state) {
    (void)state;
    glnn_error err;
    glnn_padding pad;
    glnn_activation act;
    assert_ok(glnn_padding_parse("Same", &pad, &err));
    assert_int_equal(pad, GLNN_PADDING_SAME);
    assert_ok(glnn_padding_parse("VALID", &pad, &err));
    assert_int_equal(pad, GLNN_PADDING_VALID);
    assert_ok(glnn_activation_parse("Sigmoid_Like", &act, &err));
    assert_int_equal(act, GLNN_ACTIVATION_SIGMOID_LIKE);
    assert_ok(glnn_activation_parse("BReLU6", &act, &err));
    assert_int_equal(act, GLNN_ACTIVATION_BRELU6);
    assert_ok(glnn_activation_parse("default", &act, &err));
    assert_int_equal(act, GLNN_ACTIVATION_DEFAULT);
    assert_error(glnn_padding_parse("full", &pad, &err), &err, GLNN_ERR_ARGUMENT, "invalid padding", "'full'");
    assert_error(glnn_activation_parse("relu", &act, &err), &err, GLNN_ERR_ARGUMENT, "invalid activation function",
                 "'relu'");
    assert_string_equal(glnn_padding_name(GLNN_PADDING_SAME), "same");
    assert_string_equal(glnn_padding_name(GLNN_PADDING_VALID), "valid");
    assert_string_equal(glnn_activation_name(GLNN_ACTIVATION_DEFAULT), "default");
    assert_string_equal(glnn_activation_name(GLNN_ACTIVATION_BRELU6), "brelu6");
    assert_string_equal(glnn_activation_name(GLNN_ACTIVATION_SIGMOID_LIKE), "sigmoid_like");
}

static void test_v3_kernel_size(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v3");
    p.kernel_size = 0;
    assert_create_fails(&p, "'v3'", "kernel size must be positive, got 0");
    p.kernel_size = -2;
    assert_create_fails(&p, "'v3'", "kernel size must be positive, got -2");
    p.kernel_size = 1;
    assert_create_ok(&p);
}

static void test_v4_stride(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v4");
    p.stride = 0;
    assert_create_fails(&p, "'v4'", "stride must be positive, got 0");
    p.stride = -1;
    assert_create_fails(&p, "'v4'", "stride must be positive, got -1");
}

static void test_v5_groups(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v5");
    p.num_groups = 0;
    assert_create_fails(&p, "'v5'", "number of groups must be positive, got 0");
    p.num_groups = -4;
    assert_create_fails(&p, "'v5'", "number of groups must be positive, got -4");
}

static void test_v6_input_channels(void **state) {
    (void)state;
    glnn_conv2d_params p;
    static const int bad[] = {6, 0, -4, 1, 2, 5};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        char frag[80];
        base_params(&p, "v6");
        p.num_input_channels = bad[i];
        snprintf(frag, sizeof frag, "got %d", bad[i]);
        assert_create_fails(&p, "'v6'", "input channels must be 3 or a positive multiple of 4", frag);
    }
    base_params(&p, "v6");
    p.num_input_channels = 3;
    assert_create_ok(&p);
}

static void test_v7_output_channels(void **state) {
    (void)state;
    glnn_conv2d_params p;
    static const int bad[] = {6, 0, -8, 3, 1};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        char frag[80];
        base_params(&p, "v7");
        p.num_output_channels = bad[i];
        snprintf(frag, sizeof frag, "got %d", bad[i]);
        assert_create_fails(&p, "'v7'", "output channels must be a positive multiple of 4", frag);
    }
}

static void test_v8_image_groups(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v8");
    p.num_input_channels = 3;
    p.num_output_channels = 12;
    p.num_groups = 3;
    assert_create_fails(&p, "'v8'", "an image input cannot be used with groups");
}

static void test_v9_image_same(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v9");
    p.num_input_channels = 3;
    p.padding = GLNN_PADDING_SAME;
    assert_create_fails(&p, "'v9'", "an image input supports VALID padding only");
}

static void test_v10_split_inputs(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v10");
    p.num_input_channels = 8;
    p.num_output_channels = 12;
    p.num_groups = 3;
    assert_create_fails(&p, "'v10'", "cannot split 8 input channels into 3 groups");
}

static void test_v11_split_outputs(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v11");
    p.num_input_channels = 12;
    p.num_output_channels = 8;
    p.num_groups = 3;
    assert_create_fails(&p, "'v11'", "cannot split 8 output channels into 3 groups");
}

static void test_v12_group_inputs(void **state) {
    (void)state;
    glnn_conv2d_params p;
    glnn_error err;
    glnn_op *op = NULL;
    base_params(&p, "v12");
    p.num_input_channels = 8;
    p.num_output_channels = 16;
    p.num_groups = 4; /* Cg = 2 */
    assert_error(glnn_conv2d_create(&p, &op, &err), &err, GLNN_ERR_ARGUMENT, "'v12'",
                 "each group needs a multiple of 4 input channels, got 2");
    assert_null(strstr(err.message, "depthwise")); /* the hint is for Cg = 1 only */
    /* Cg = 1 but not depthwise (Cout ≠ Cin): the message explains what depthwise needs. */
    p.num_input_channels = 16;
    p.num_output_channels = 32;
    p.num_groups = 16;
    assert_error(glnn_conv2d_create(&p, &op, &err), &err, GLNN_ERR_ARGUMENT, "'v12'",
                 "each group needs a multiple of 4 input channels, got 1", "depthwise");
    assert_null(op);
}

static void test_v13_group_outputs(void **state) {
    (void)state;
    glnn_conv2d_params p;
    base_params(&p, "v13");
    p.num_input_channels = 16;
    p.num_output_channels = 8;
    p.num_groups = 4; /* Cg = 4, Cout/G = 2 */
    assert_create_fails(&p, "'v13'", "each group needs a multiple of 4 output channels, got 2");
    p.num_input_channels = 8;
    p.num_output_channels = 12;
    p.num_groups = 2; /* Cg = 4, Cout/G = 6 */
    assert_create_fails(&p, "'v13'", "each group needs a multiple of 4 output channels, got 6");
}

/* The first failing rule, in the order V1 … V13, is reported. */
static void test_rule_order(void **state) {
    (void)state;
    glnn_conv2d_params p;
    /* V3 and V7 */
    base_params(&p, "ord");
    p.kernel_size = 0;
    p.num_output_channels = 6;
    assert_create_fails(&p, "'ord'", "kernel size must be positive");
    /* V1 and V2 */
    base_params(&p, "");
    p.padding = (glnn_padding)5;
    assert_create_fails(&p, "invalid operation name");
    /* V2 and V3 */
    base_params(&p, "ord");
    p.activation = (glnn_activation)5;
    p.kernel_size = 0;
    assert_create_fails(&p, "'ord'", "invalid activation function");
    /* V4 and V5 */
    base_params(&p, "ord");
    p.stride = 0;
    p.num_groups = 0;
    assert_create_fails(&p, "'ord'", "stride must be positive");
    /* V5 and V6 */
    base_params(&p, "ord");
    p.num_groups = 0;
    p.num_input_channels = 5;
    assert_create_fails(&p, "'ord'", "number of groups must be positive");
    /* V6 and V7 */
    base_params(&p, "ord");
    p.num_input_channels = 5;
    p.num_output_channels = 5;
    assert_create_fails(&p, "'ord'", "input channels must be 3 or a positive multiple of 4");
    /* V7 and V8 */
    base_params(&p, "ord");
    p.num_input_channels = 3;
    p.num_output_channels = 6;
    p.num_groups = 2;
    assert_create_fails(&p, "'ord'", "output channels must be a positive multiple of 4");
    /* V8 and V9 */
    base_params(&p, "ord");
    p.num_input_channels = 3;
    p.num_groups = 2;
    p.padding = GLNN_PADDING_SAME;
    assert_create_fails(&p, "'ord'", "an image input cannot be used with groups");
    /* V10 and V11 */
    base_params(&p, "ord");
    p.num_input_channels = 8;
    p.num_output_channels = 20;
    p.num_groups = 3;
    assert_create_fails(&p, "'ord'", "cannot split 8 input channels into 3 groups");
    /* V11 and V12: Cin 12, Cout 8, G 6 → Cg 2, 8 mod 6 ≠ 0 */
    base_params(&p, "ord");
    p.num_input_channels = 12;
    p.num_output_channels = 8;
    p.num_groups = 6;
    assert_create_fails(&p, "'ord'", "cannot split 8 output channels into 6 groups");
    /* V12 and V13: Cin 8, Cout 8, G 4 → Cg 2 and Cout/G 2 (not depthwise: G ≠ Cin) */
    base_params(&p, "ord");
    p.num_groups = 4;
    assert_create_fails(&p, "'ord'", "input channels, got 2");
}

/* SPEC §4.2: depthwise means Cin = Cout = G; 4 channels per group is grouped, not depthwise. */
static void test_depthwise_vs_grouped(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();

    /* 32→32, G = 8: grouped with Cg = 4; filters hold 3·3·4·32 = 1152 floats = 4608 bytes (SPEC §4.7). */
    glnn_op *grouped = new_conv("dg_grouped", 3, 32, 32, 1, GLNN_PADDING_VALID, 8, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in32 = filled_tensor(cpu, 3, 3, 32, 10);
    glnn_chunks *as_dw = zero_weights("dg_grouped", 9 * 32, 32);
    glnn_tensor *inputs[1] = {in32}, *out = NULL;
    assert_error(glnn_op_run(cpu, grouped, as_dw, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'dg_grouped'",
                 "size mismatch", "expected 4608 bytes", "got 1152");
    assert_null(out);
    glnn_chunks *as_grouped = zero_weights("dg_grouped", 9 * 4 * 32, 32);
    assert_ok(glnn_op_run(cpu, grouped, as_grouped, inputs, 1, &out, &err));
    /* V = 1·1·32: multiply-adds V·9·4 = 1152; fetches (V/4)·9·(Cg/4 = 1) = 72 */
    assert_counters(grouped, 1152, 72);
    assert_int_equal(glnn_conv2d_sampled_channels(grouped), 36);
    glnn_tensor_free(out);
    out = NULL;

    /* 4→4, G = 4: depthwise; filters hold 3·3·1·4 = 36 floats = 144 bytes. */
    glnn_op *dw = new_conv("dg_dw", 3, 4, 4, 1, GLNN_PADDING_VALID, 4, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in4 = filled_tensor(cpu, 3, 3, 4, 10);
    glnn_chunks *dw_as_regular = zero_weights("dg_dw", 9 * 4 * 4, 4);
    inputs[0] = in4;
    assert_error(glnn_op_run(cpu, dw, dw_as_regular, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'dg_dw'",
                 "size mismatch", "expected 144 bytes");
    glnn_chunks *dw_ok = zero_weights("dg_dw", 9 * 4, 4);
    assert_ok(glnn_op_run(cpu, dw, dw_ok, inputs, 1, &out, &err));
    /* V = 4: multiply-adds 4·9·1 = 36; fetches 1·9·1 = 9 */
    assert_counters(dw, 36, 9);
    assert_int_equal(glnn_conv2d_sampled_channels(dw), 36);
    glnn_tensor_free(out);

    /* Cin = Cout = G = 16 and 32 are depthwise too (Cg = 1 passes V12 only because they are depthwise). */
    glnn_op *dw16 = new_conv("dg_dw16", 3, 16, 16, 1, GLNN_PADDING_SAME, 16, false, GLNN_ACTIVATION_DEFAULT);
    assert_int_equal(glnn_conv2d_sampled_channels(dw16), 36);
    glnn_op_release(dw16);
    /* 16→16 with G = 4 is grouped (Cg = 4): k²·Cg = 36 for k = 3, 4 for k = 1 */
    glnn_op *g4 = new_conv("dg_g4", 1, 16, 16, 1, GLNN_PADDING_SAME, 4, false, GLNN_ACTIVATION_DEFAULT);
    assert_int_equal(glnn_conv2d_sampled_channels(g4), 4);
    glnn_op_release(g4);

    glnn_chunks_free(as_dw);
    glnn_chunks_free(as_grouped);
    glnn_chunks_free(dw_as_regular);
    glnn_chunks_free(dw_ok);
    glnn_tensor_free(in32);
    glnn_tensor_free(in4);
    glnn_op_release(grouped);
    glnn_op_release(dw);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Preparation rules P1–P11 (SPEC §4.3), through glnn_op_run                                           */

static void test_p1_input_missing(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p1", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p1", 16, 4);
    glnn_tensor *out = NULL;
    /* The status is not fixed by SPEC; the condition and the message are. */
    glnn_status s = glnn_op_run(cpu, op, data, NULL, 0, &out, &err);
    assert_true(s != GLNN_OK);
    assert_error(s, &err, s, "input #0 of 'p1'", "not provided");
    /* Input 0 NULL with a residual given */
    glnn_tensor *res = filled_tensor(cpu, 2, 2, 4, 1);
    glnn_tensor *inputs[2] = {NULL, res};
    s = glnn_op_run(cpu, op, data, inputs, 2, &out, &err);
    assert_true(s != GLNN_OK);
    assert_error(s, &err, s, "input #0 of 'p1'", "not provided");
    assert_null(out);
    glnn_tensor_free(res);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p2_input_kind(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *img_op = new_conv("p2_image", 1, 3, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *ten_op = new_conv("p2_tensor", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p2_image", 12, 4);
    glnn_chunks *data2 = zero_weights("p2_tensor", 16, 4);
    glnn_tensor *t = filled_tensor(cpu, 2, 2, 4, 7), *img = filled_image(cpu, 2, 2, 7), *out = NULL;
    glnn_tensor *inputs[1] = {t};
    assert_error(glnn_op_run(cpu, img_op, data, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p2_image'",
                 "expects an image on input #0");
    inputs[0] = img;
    assert_error(glnn_op_run(cpu, ten_op, data2, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p2_tensor'",
                 "expects a tensor on input #0");
    assert_null(out);
    glnn_tensor_free(t);
    glnn_tensor_free(img);
    glnn_chunks_free(data);
    glnn_chunks_free(data2);
    glnn_op_release(img_op);
    glnn_op_release(ten_op);
}

static void test_p3_input_depth(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p3", 1, 8, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p3", 32, 4);
    glnn_tensor *t = filled_tensor(cpu, 2, 2, 4, 7), *out = NULL;
    glnn_tensor *inputs[1] = {t};
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p3'",
                 "input depth 4 does not match num_input_channels 8");
    glnn_tensor_free(t);
    t = filled_tensor(cpu, 2, 2, 12, 7);
    inputs[0] = t;
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p3'",
                 "input depth 12 does not match num_input_channels 8");
    assert_null(out);
    glnn_tensor_free(t);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p4_empty_output(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p4", 3, 4, 4, 2, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p4", 9 * 16, 4);
    /* 2 high, 5 wide: VALID k = 3 leaves no row */
    glnn_tensor *t = filled_tensor(cpu, 2, 5, 4, 7), *out = NULL;
    glnn_tensor *inputs[1] = {t};
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p4'",
                 "output would be empty", "kernel 3", "stride 2");
    assert_true(strstr(err.message, "5×2") || strstr(err.message, "2×5") || strstr(err.message, "5x2") ||
                strstr(err.message, "2x5"));
    glnn_tensor_free(t);
    /* W = 2 < k too (SPEC §3 table: W 2, k 3, VALID → error); exactly k works */
    t = filled_tensor(cpu, 3, 2, 4, 7);
    inputs[0] = t;
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p4'",
                 "output would be empty");
    glnn_tensor_free(t);
    t = filled_tensor(cpu, 3, 3, 4, 7);
    inputs[0] = t;
    assert_ok(glnn_op_run(cpu, op, data, inputs, 1, &out, &err));
    assert_out_shape(op, 1, 1, 4);
    glnn_tensor_free(out);
    glnn_tensor_free(t);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p5_image_residual(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p5", 1, 3, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p5", 12, 4);
    glnn_tensor *img = filled_image(cpu, 2, 2, 9), *res = filled_tensor(cpu, 2, 2, 4, 9), *out = NULL;
    glnn_tensor *inputs[2] = {img, res};
    assert_error(glnn_op_run(cpu, op, data, inputs, 2, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p5'",
                 "no residual input with an image input");
    assert_null(out);
    assert_ok(glnn_op_run(cpu, op, data, inputs, 1, &out, &err));
    glnn_tensor_free(out);
    glnn_tensor_free(img);
    glnn_tensor_free(res);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p6_residual_shape(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    /* 3×3 VALID on 4×5×4 → output 2×3×4 */
    glnn_op *op = new_conv("p6", 3, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p6", 9 * 16, 4);
    glnn_tensor *in = filled_tensor(cpu, 4, 5, 4, 9), *out = NULL;
    const int64_t bad[][3] = {{4, 5, 4}, {3, 2, 4}, {2, 3, 8}, {2, 2, 4}, {1, 3, 4}};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        glnn_tensor *res = filled_tensor(cpu, bad[i][0], bad[i][1], bad[i][2], 9);
        glnn_tensor *inputs[2] = {in, res};
        assert_error(glnn_op_run(cpu, op, data, inputs, 2, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p6'",
                     "residual shape", "2×3×4");
        glnn_tensor_free(res);
    }
    /* An image of the right height and width is not a tensor. */
    glnn_tensor *img = filled_image(cpu, 2, 3, 9);
    glnn_tensor *inputs[2] = {in, img};
    assert_error(glnn_op_run(cpu, op, data, inputs, 2, &out, &err), &err, GLNN_ERR_ARGUMENT, "'p6'", "residual shape");
    assert_null(out);
    glnn_tensor_free(img);
    glnn_tensor *res = filled_tensor(cpu, 2, 3, 4, 9);
    inputs[1] = res;
    assert_ok(glnn_op_run(cpu, op, data, inputs, 2, &out, &err));
    glnn_tensor_free(out);
    glnn_tensor_free(res);
    glnn_tensor_free(in);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p7_filters_missing(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p7", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, false, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = NULL;
    assert_ok(glnn_chunks_create(&data, &err));
    /* Weights of another op do not count; an id differing only in case neither. */
    float w[16] = {0};
    assert_ok(glnn_chunks_set_weights(data, "p7x", w, 16, NULL, 0, &err));
    assert_ok(glnn_chunks_set_weights(data, "P7", w, 16, NULL, 0, &err));
    glnn_tensor *in = filled_tensor(cpu, 1, 1, 4, 9), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_NOT_FOUND, "'p7/w'", "not found");
    /* No model data at all is an error naming the op as well. */
    glnn_status s = glnn_op_run(cpu, op, NULL, inputs, 1, &out, &err);
    assert_true(s != GLNN_OK);
    assert_non_null(strstr(err.message, "'p7"));
    assert_null(out);
    glnn_tensor_free(in);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void test_p8_filters_size(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    /* 3×3, 8→4: 4·9·8·4 = 1152 bytes expected */
    glnn_op *op = new_conv("p8", 3, 8, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = filled_tensor(cpu, 3, 3, 8, 9), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    static const int64_t counts[] = {287, 289, 0, 9 * 4 * 4};
    for (int64_t i = 0; i < COUNT(counts); i++) {
        glnn_chunks *data = zero_weights("p8", counts[i], 4);
        char got[40];
        snprintf(got, sizeof got, "got %lld", (long long)(counts[i] * 4));
        assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p8", "size mismatch",
                     "expected 1152 bytes", got);
        glnn_chunks_free(data);
    }
    /* A payload that is not a whole number of floats */
    glnn_chunks *data = zero_weights("p8", 288, 4);
    uint8_t odd[1151] = {0};
    assert_ok(glnn_chunks_set(data, "p8/w", 4, odd, sizeof odd, &err));
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p8", "size mismatch",
                 "expected 1152 bytes", "got 1151");
    assert_null(out);
    glnn_chunks_free(data);
    glnn_tensor_free(in);
    glnn_op_release(op);
}

static void test_p9_bias(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p9", 1, 4, 8, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = filled_tensor(cpu, 1, 1, 4, 255), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    /* missing */
    glnn_chunks *data = zero_weights("p9", 32, 0);
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_NOT_FOUND, "'p9/b'", "not found");
    glnn_chunks_free(data);
    /* wrong size: 4·Cout = 32 bytes expected */
    data = zero_weights("p9", 32, 4);
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p9/b'", "size mismatch",
                 "expected 32 bytes", "got 16");
    glnn_chunks_free(data);
    data = zero_weights("p9", 32, 9);
    assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p9/b'", "size mismatch");
    assert_null(out);
    glnn_chunks_free(data);

    /* use_bias false: any /b chunk is ignored, even one of the wrong size or holding NaN. */
    glnn_op *nb = new_conv("p9nb", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, false, GLNN_ACTIVATION_DEFAULT);
    /* all weights 0.1: z = 4·0.1 = 0.4 → 102 */
    float w[16], junk[3] = {NAN, 1e30f, INFINITY};
    for (int i = 0; i < 16; i++)
        w[i] = 0.1f;
    data = new_weights("p9nb", w, 16, junk, 3);
    assert_ok(glnn_op_run(cpu, nb, data, inputs, 1, &out, &err));
    static const uint8_t expected[] = {102, 102, 102, 102};
    assert_bytes(out, expected, 4, "use_bias false");
    glnn_tensor_free(out);
    glnn_chunks_free(data);
    glnn_op_release(nb);
    glnn_tensor_free(in);
    glnn_op_release(op);
}

static void test_p10_non_finite(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = new_conv("p10", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = filled_tensor(cpu, 1, 1, 4, 255), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    float w[16] = {0}, b[4] = {0};
    static const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        w[5] = bad[i];
        w[11] = NAN; /* only the first is named */
        glnn_chunks *data = new_weights("p10", w, 16, b, 4);
        assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p10",
                     "non-finite value at index 5", "'p10/w'");
        glnn_chunks_free(data);
        w[5] = w[11] = 0;
        b[2] = bad[i];
        data = new_weights("p10", w, 16, b, 4);
        assert_error(glnn_op_run(cpu, op, data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "'p10",
                     "non-finite value at index 2", "'p10/b'");
        glnn_chunks_free(data);
        b[2] = 0;
    }
    assert_null(out);
    /* Large finite values are fine. */
    w[0] = 3.0e38f;
    b[0] = -3.0e38f;
    glnn_chunks *data = new_weights("p10", w, 16, b, 4);
    assert_ok(glnn_op_run(cpu, op, data, inputs, 1, &out, &err));
    glnn_tensor_free(out);
    glnn_chunks_free(data);
    glnn_tensor_free(in);
    glnn_op_release(op);
}

/* Runs op on ctx with zero weights on a zero input of h×w×c (image when c = 3); returns the status. */
static glnn_status run_zero(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, int64_t h, int64_t w, int64_t c,
                            glnn_error *err) {
    glnn_tensor *in = c == 3 ? filled_image(ctx, h, w, 0) : filled_tensor(ctx, h, w, c, 0), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    glnn_status s = glnn_op_run(ctx, op, data, inputs, 1, &out, err);
    glnn_tensor_free(out);
    glnn_tensor_free(in);
    return s;
}

/* P11: the sampling limit, checked on the GPU only (SPEC §4.10). */
static void test_p11_sampling_limit(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = glnn_test_gpu();
    if (!gpu) {
        print_message("[ note ] P11 needs a GPU context: skipped\n");
        skip();
    }
    int saved = glnn_context_max_sampled_channels(gpu);
    /* 3×3, 64→64, G = 2: Cg = 32 → S = 288 */
    glnn_op *op = new_conv("p11", 3, 64, 64, 1, GLNN_PADDING_VALID, 2, true, GLNN_ACTIVATION_DEFAULT);
    assert_int_equal(glnn_conv2d_sampled_channels(op), 288);
    glnn_chunks *data = zero_weights("p11", 9 * 32 * 64, 64);
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 287, &err));
    assert_int_equal(glnn_context_max_sampled_channels(gpu), 287);
    assert_error(run_zero(gpu, op, data, 3, 3, 64, &err), &err, GLNN_ERR_ARGUMENT, "Conv2D 'p11'",
                 "samples 288 input channels per output value", "limit of 287");
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 288, &err)); /* S = L is accepted */
    assert_ok(run_zero(gpu, op, data, 3, 3, 64, &err));
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 1, &err));
    assert_error(run_zero(gpu, op, data, 3, 3, 64, &err), &err, GLNN_ERR_ARGUMENT, "'p11'", "samples 288",
                 "limit of 1");
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 0, &err)); /* 0 disables the check */
    assert_ok(run_zero(gpu, op, data, 3, 3, 64, &err));
    /* A negative limit is an error and leaves the limit as it was. */
    assert_error(glnn_context_set_max_sampled_channels(gpu, -1, &err), &err, GLNN_ERR_ARGUMENT, "max_sampled_channels");
    assert_int_equal(glnn_context_max_sampled_channels(gpu), 0);

    /* Depthwise 3×3 (36) and 5×5 image input (75), at the limit and just above it. */
    glnn_op *dw = new_conv("p11dw", 3, 16, 16, 1, GLNN_PADDING_SAME, 16, false, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *dw_data = zero_weights("p11dw", 9 * 16, 0);
    glnn_op *im = new_conv("p11im", 5, 3, 8, 1, GLNN_PADDING_VALID, 1, false, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *im_data = zero_weights("p11im", 25 * 3 * 8, 0);
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 36, &err));
    assert_ok(run_zero(gpu, dw, dw_data, 4, 4, 16, &err));
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 35, &err));
    assert_error(run_zero(gpu, dw, dw_data, 4, 4, 16, &err), &err, GLNN_ERR_ARGUMENT, "'p11dw'", "samples 36",
                 "limit of 35");
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 75, &err));
    assert_ok(run_zero(gpu, im, im_data, 6, 6, 3, &err));
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 74, &err));
    assert_error(run_zero(gpu, im, im_data, 6, 6, 3, &err), &err, GLNN_ERR_ARGUMENT, "'p11im'", "samples 75",
                 "limit of 74");
    assert_ok(glnn_context_set_max_sampled_channels(gpu, saved, &err));

    glnn_chunks_free(data);
    glnn_chunks_free(dw_data);
    glnn_chunks_free(im_data);
    glnn_op_release(op);
    glnn_op_release(dw);
    glnn_op_release(im);
}

/* The CPU reference ignores the limit (SPEC §4.10); a negative limit is an error there too. */
static void test_p11_cpu_ignores_limit(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    int saved = glnn_context_max_sampled_channels(cpu);
    glnn_op *op = new_conv("p11cpu", 3, 64, 64, 1, GLNN_PADDING_VALID, 2, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("p11cpu", 9 * 32 * 64, 64);
    assert_ok(glnn_context_set_max_sampled_channels(cpu, 1, &err));
    assert_ok(run_zero(cpu, op, data, 3, 3, 64, &err));
    assert_error(glnn_context_set_max_sampled_channels(cpu, -5, &err), &err, GLNN_ERR_ARGUMENT, "max_sampled_channels");
    assert_ok(glnn_context_set_max_sampled_channels(cpu, saved, &err));
    /* Creating a context with a negative limit is an error as well (-1 alone means "device default"). */
    glnn_context_options o;
    glnn_context_options_init(&o);
    assert_int_equal(o.max_sampled_channels, -1);
    o.device = "cpu";
    o.max_sampled_channels = -2;
    glnn_context *ctx = NULL;
    assert_error(glnn_context_create(&o, &ctx, &err), &err, GLNN_ERR_ARGUMENT, "max_sampled_channels");
    assert_null(ctx);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Attributes and counters                                                                              */

static void test_attributes(void **state) {
    (void)state;
    glnn_error err;
    glnn_conv2d_params p, q;
    /* Defaults (SPEC §4.1) */
    glnn_conv2d_params_init(&p);
    assert_null(p.name);
    assert_int_equal(p.kernel_size, 0);
    assert_int_equal(p.num_input_channels, 0);
    assert_int_equal(p.num_output_channels, 0);
    assert_int_equal(p.stride, 1);
    assert_int_equal(p.padding, GLNN_PADDING_VALID);
    assert_true(p.use_bias);
    assert_int_equal(p.num_groups, 1);
    assert_int_equal(p.activation, GLNN_ACTIVATION_DEFAULT);
    assert_string_equal(GLNN_FILTERS_CHUNK_SUFFIX, "/w");
    assert_string_equal(GLNN_BIAS_CHUNK_SUFFIX, "/b");

    /* Every parameter read back unchanged; the name is the op's own copy. */
    char name[] = "attr conv";
    p.name = name;
    p.kernel_size = 5;
    p.num_input_channels = 16;
    p.num_output_channels = 32;
    p.stride = 3;
    p.padding = GLNN_PADDING_SAME;
    p.use_bias = false;
    p.num_groups = 4;
    p.activation = GLNN_ACTIVATION_SIGMOID_LIKE;
    glnn_op *op = NULL;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    name[0] = 'X';
    memset(&q, 0xA5, sizeof q);
    assert_ok(glnn_conv2d_get_params(op, &q, &err));
    assert_string_equal(q.name, "attr conv");
    assert_string_equal(glnn_op_name(op), "attr conv");
    assert_int_equal(q.kernel_size, 5);
    assert_int_equal(q.num_input_channels, 16);
    assert_int_equal(q.num_output_channels, 32);
    assert_int_equal(q.stride, 3);
    assert_int_equal(q.padding, GLNN_PADDING_SAME);
    assert_false(q.use_bias);
    assert_int_equal(q.num_groups, 4);
    assert_int_equal(q.activation, GLNN_ACTIVATION_SIGMOID_LIKE);
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_CONV2D);
    assert_string_equal(glnn_op_type_name(op), "conv2d");
    assert_int_equal(glnn_op_input_count(op), 2);
    assert_int_equal(glnn_op_output_count(op), 1);
    assert_int_equal(glnn_conv2d_sampled_channels(op), 25 * 4);
    glnn_op_release(op);

    /* Only the required parameters: defaults read back; image input counts 2 inputs as well. */
    glnn_conv2d_params_init(&p);
    p.name = "img";
    p.kernel_size = 3;
    p.num_input_channels = 3;
    p.num_output_channels = 8;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    assert_ok(glnn_conv2d_get_params(op, &q, &err));
    assert_string_equal(q.name, "img");
    assert_int_equal(q.kernel_size, 3);
    assert_int_equal(q.num_input_channels, 3);
    assert_int_equal(q.num_output_channels, 8);
    assert_int_equal(q.stride, 1);
    assert_int_equal(q.padding, GLNN_PADDING_VALID);
    assert_true(q.use_bias);
    assert_int_equal(q.num_groups, 1);
    assert_int_equal(q.activation, GLNN_ACTIVATION_DEFAULT);
    assert_int_equal(glnn_op_input_count(op), 2);
    assert_int_equal(glnn_op_output_count(op), 1);
    glnn_op_release(op);
}

/* SPEC §4.10 examples: 1×1 with Cg = 128 → 128; 3×3 depthwise → 36; 5×5 image → 75; 3×3 with Cg = 32 → 288. */
static void test_sampled_channels(void **state) {
    (void)state;
    glnn_op *a = new_conv("s1", 1, 128, 8, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *b = new_conv("s2", 3, 32, 32, 1, GLNN_PADDING_SAME, 32, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *c = new_conv("s3", 5, 3, 32, 2, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *d = new_conv("s4", 3, 64, 64, 1, GLNN_PADDING_SAME, 2, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *e = new_conv("s5", 1, 256, 64, 1, GLNN_PADDING_SAME, 2, true, GLNN_ACTIVATION_DEFAULT);
    assert_int_equal(glnn_conv2d_sampled_channels(a), 128);
    assert_int_equal(glnn_conv2d_sampled_channels(b), 36);
    assert_int_equal(glnn_conv2d_sampled_channels(c), 75);
    assert_int_equal(glnn_conv2d_sampled_channels(d), 288);
    assert_int_equal(glnn_conv2d_sampled_channels(e), 128);
    glnn_op_release(a);
    glnn_op_release(b);
    glnn_op_release(c);
    glnn_op_release(d);
    glnn_op_release(e);
}

static void test_counters_need_preparation(void **state) {
    (void)state;
    glnn_error err;
    glnn_op *op = new_conv("unprepared", 3, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    int64_t v = 12345;
    glnn_shape s = {0, 0, 0, 0};
    assert_error(glnn_op_count_multiply_adds(op, &v, &err), &err, GLNN_ERR_STATE, "'unprepared'");
    assert_error(glnn_op_count_texel_fetches(op, &v, &err), &err, GLNN_ERR_STATE, "'unprepared'");
    assert_error(glnn_op_output_shape(op, 0, &s, &err), &err, GLNN_ERR_STATE, "'unprepared'");
    assert_int_equal(v, 12345);
    /* A failed preparation does not make counters available either. */
    glnn_context *cpu = glnn_test_cpu();
    glnn_chunks *data = zero_weights("unprepared", 5, 4);
    assert_error(run_zero(cpu, op, data, 3, 3, 4, &err), &err, GLNN_ERR_FORMAT, "size mismatch");
    assert_error(glnn_op_count_multiply_adds(op, &v, &err), &err, GLNN_ERR_STATE, "'unprepared'");
    assert_error(glnn_op_count_texel_fetches(op, &v, &err), &err, GLNN_ERR_STATE, "'unprepared'");
    assert_int_equal(v, 12345);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* SPEC §4.8: a 32×32 image; conv 3×3, 3→16, VALID (30×30×16) → 388,800 multiply-adds, 32,400 fetches;
 * then conv 3×3, 16→32, G = 4, VALID (28×28×32) → 903,168 and 56,448. */
static void test_counters_spec_4_8(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *a = new_conv("cnt_a", 3, 3, 16, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_op *b = new_conv("cnt_b", 3, 16, 32, 1, GLNN_PADDING_VALID, 4, true, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *data = zero_weights("cnt_a", 9 * 3 * 16, 16);
    float *wb = calloc(9 * 4 * 32, sizeof(float)), bb[32] = {0};
    assert_non_null(wb);
    assert_ok(glnn_chunks_set_weights(data, "cnt_b", wb, 9 * 4 * 32, bb, 32, &err));
    free(wb);
    glnn_tensor *img = filled_image(cpu, 32, 32, 100), *mid = NULL, *out = NULL;
    glnn_tensor *inputs[1] = {img};
    assert_ok(glnn_op_run(cpu, a, data, inputs, 1, &mid, &err));
    assert_out_shape(a, 30, 30, 16);
    /* V = 14,400: 14,400·9·3 = 388,800; (V/4)·9·1 = 32,400 */
    assert_counters(a, 388800, 32400);
    inputs[0] = mid;
    assert_ok(glnn_op_run(cpu, b, data, inputs, 1, &out, &err));
    assert_out_shape(b, 28, 28, 32);
    /* V = 25,088: 25,088·9·4 = 903,168; (V/4)·9·(4/4) = 56,448 */
    assert_counters(b, 903168, 56448);
    glnn_tensor_free(img);
    glnn_tensor_free(mid);
    glnn_tensor_free(out);
    glnn_chunks_free(data);
    glnn_op_release(a);
    glnn_op_release(b);
}

/* SPEC §8.5: 64×64×3 → c1 (3×3, s 2, VALID, 3→16, BRELU6) 31×31×16 → dw (3×3 depthwise 16→16, SAME,
 * SIGMOID_LIKE, no bias, residual = c1's output) 31×31×16.
 *   c1: V = 15,376 → multiply-adds V·9·3 = 415,152; fetches (V/4)·9 = 3,844·9 = 34,596
 *   dw: multiply-adds V·9·1 = 138,384; fetches 3,844·9 + 3,844 (residual) = 38,440
 * (the listing's totals 553,664 and 81,014 add the sampler's 4,096, gap's 3,844 and fc's 128 / 38). */
static void test_counters_spec_8_5(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *c1 = new_conv("c1", 3, 3, 16, 2, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_BRELU6);
    glnn_op *dw = new_conv("dw", 3, 16, 16, 1, GLNN_PADDING_SAME, 16, false, GLNN_ACTIVATION_SIGMOID_LIKE);
    glnn_chunks *data = zero_weights("c1", 9 * 3 * 16, 16);
    const void *chunk;
    size_t size = 0;
    /* chunk sizes of SPEC §8.5: c1/w 1,728 B, c1/b 64 B, dw/w 576 B */
    assert_true(glnn_chunks_get(data, "c1/w", 4, &chunk, &size));
    assert_int_equal(size, 1728);
    assert_true(glnn_chunks_get(data, "c1/b", 4, &chunk, &size));
    assert_int_equal(size, 64);
    float w[9 * 16] = {0};
    assert_ok(glnn_chunks_set_weights(data, "dw", w, 9 * 16, NULL, 0, &err));
    assert_true(glnn_chunks_get(data, "dw/w", 4, &chunk, &size));
    assert_int_equal(size, 576);

    glnn_tensor *img = filled_image(cpu, 64, 64, 50), *c1_out = NULL, *dw_out = NULL;
    glnn_tensor *inputs[2] = {img, NULL};
    assert_ok(glnn_op_run(cpu, c1, data, inputs, 1, &c1_out, &err));
    assert_out_shape(c1, 31, 31, 16);
    assert_counters(c1, 415152, 34596);
    inputs[0] = c1_out;
    inputs[1] = c1_out;
    assert_ok(glnn_op_run(cpu, dw, data, inputs, 2, &dw_out, &err));
    assert_out_shape(dw, 31, 31, 16);
    assert_counters(dw, 138384, 38440);
    /* Without the residual, no residual fetches: 34,596 */
    glnn_tensor_free(dw_out);
    dw_out = NULL;
    assert_ok(glnn_op_run(cpu, dw, data, inputs, 1, &dw_out, &err));
    assert_counters(dw, 138384, 34596);
    glnn_tensor_free(dw_out);
    glnn_tensor_free(c1_out);
    glnn_tensor_free(img);
    glnn_chunks_free(data);
    glnn_op_release(c1);
    glnn_op_release(dw);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Failed calls leave everything as it was                                                              */

/* The DEFAULT golden case again (1×1 4→4 with bias, input 1×2×4 → [102, 0, 204, 255, 153, 153, 153, 0]). */
static const float keep_w[] = {0.2f, -0.5f, 0.6f, 1.3f, 1, 2, 3, -1, 5, 5, 5, 5, 0.2f, 0.2f, -0.2f, 0};
static const float keep_b[] = {0.2f, 0, 0.2f, -0.1f};
static const uint8_t keep_in[] = {255, 0, 0, 0, 0, 51, 0, 255};
static const uint8_t keep_expected[] = {102, 0, 204, 255, 153, 153, 153, 0};

static void test_failed_run_leaves_things_intact(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int n = contexts(ctx);
    glnn_chunks *good = new_weights("keep", keep_w, COUNT(keep_w), keep_b, COUNT(keep_b));
    glnn_chunks *short_w = new_weights("keep", keep_w, COUNT(keep_w) - 1, keep_b, COUNT(keep_b));
    glnn_chunks *none = NULL;
    assert_ok(glnn_chunks_create(&none, &err));
    float nan_w[16];
    memcpy(nan_w, keep_w, sizeof nan_w);
    nan_w[7] = NAN;
    glnn_chunks *nan_data = new_weights("keep", nan_w, 16, keep_b, COUNT(keep_b));
    static const uint8_t pattern[] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int d = 0; d < n; d++) {
        glnn_op *op = new_conv("keep", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
        glnn_tensor *in = new_tensor(ctx[d], 1, 2, 4, keep_in);
        glnn_tensor *out = new_tensor(ctx[d], 1, 2, 4, pattern);
        glnn_tensor *inputs[1] = {in};
        /* Failures before any success: the pre-made output keeps its bytes. */
        assert_error(glnn_op_run(ctx[d], op, short_w, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "size mismatch");
        assert_bytes(out, pattern, 8, "output after a failed run (weights size)");
        assert_error(glnn_op_run(ctx[d], op, none, inputs, 1, &out, &err), &err, GLNN_ERR_NOT_FOUND, "not found");
        assert_bytes(out, pattern, 8, "output after a failed run (no weights)");
        assert_error(glnn_op_run(ctx[d], op, nan_data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "non-finite");
        assert_bytes(out, pattern, 8, "output after a failed run (NaN weight)");
        /* The same op then runs correctly. */
        assert_ok(glnn_op_run(ctx[d], op, good, inputs, 1, &out, &err));
        assert_bytes(out, keep_expected, 8, "output after a good run following failures");
        /* V = 8: multiply-adds 8·1·4 = 32; fetches 2·1·1 = 2 */
        assert_counters(op, 32, 2);
        assert_out_shape(op, 1, 2, 4);
        /* A failed run after a good one: output, counters and output shape stay; a larger input was given. */
        assert_ok(glnn_tensor_upload_u8(out, pattern, 8, &err));
        glnn_tensor *big = filled_tensor(ctx[d], 3, 3, 4, 255), *big_out = NULL;
        glnn_tensor *big_inputs[1] = {big};
        assert_error(glnn_op_run(ctx[d], op, short_w, big_inputs, 1, &big_out, &err), &err, GLNN_ERR_FORMAT,
                     "size mismatch");
        assert_null(big_out);
        assert_counters(op, 32, 2);
        assert_out_shape(op, 1, 2, 4);
        assert_error(glnn_op_run(ctx[d], op, nan_data, inputs, 1, &out, &err), &err, GLNN_ERR_FORMAT, "non-finite");
        assert_bytes(out, pattern, 8, "output after a failed run following a good one");
        /* And a good run again. */
        assert_ok(glnn_op_run(ctx[d], op, good, inputs, 1, &out, &err));
        assert_bytes(out, keep_expected, 8, "output of the last good run");
        glnn_tensor_free(big);
        glnn_tensor_free(out);
        glnn_tensor_free(in);
        glnn_op_release(op);
    }
    glnn_chunks_free(good);
    glnn_chunks_free(short_w);
    glnn_chunks_free(none);
    glnn_chunks_free(nan_data);
}

/* A run refused because the given output tensor has the wrong shape leaves the op as it was (SPEC §1:
 * "A failed call leaves every object as it was"): counters and output shape stay those of the last
 * successful run. */
static void test_failed_run_wrong_output_shape(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_chunks *good = new_weights("keep2", keep_w, COUNT(keep_w), keep_b, COUNT(keep_b));
    glnn_op *op = new_conv("keep2", 1, 4, 4, 1, GLNN_PADDING_VALID, 1, true, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = new_tensor(cpu, 1, 2, 4, keep_in), *out = NULL;
    glnn_tensor *inputs[1] = {in};
    assert_ok(glnn_op_run(cpu, op, good, inputs, 1, &out, &err));
    assert_counters(op, 32, 2);
    /* Input 3×3×4 (output 3×3×4) with the 1×2×4 output tensor: refused. */
    glnn_tensor *big = filled_tensor(cpu, 3, 3, 4, 255);
    static const uint8_t pattern[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_ok(glnn_tensor_upload_u8(out, pattern, 8, &err));
    inputs[0] = big;
    glnn_status s = glnn_op_run(cpu, op, good, inputs, 1, &out, &err);
    assert_int_equal(s, GLNN_ERR_ARGUMENT);
    assert_non_null(strstr(err.message, "'keep2'"));
    assert_bytes(out, pattern, 8, "output after a refused run");
    assert_counters(op, 32, 2);
    assert_out_shape(op, 1, 2, 4);
    glnn_tensor_free(big);
    glnn_tensor_free(out);
    glnn_tensor_free(in);
    glnn_chunks_free(good);
    glnn_op_release(op);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Quantization, uploads and downloads (SPEC §2.2–§2.4)                                                 */

static void test_quantize(void **state) {
    (void)state;
    /* SPEC §2.2 table */
    assert_int_equal(glnn_quantize(0.25f), 64);
    assert_int_equal(glnn_quantize(0.5f), 128);
    assert_int_equal(glnn_quantize(0.501f), 128);
    assert_int_equal(glnn_quantize(0.998f), 254);
    assert_int_equal(glnn_quantize(-0.3f), 0);
    assert_int_equal(glnn_quantize(1.7f), 255);
    for (int k = 0; k < 256; k++) {
        assert_int_equal(glnn_quantize((float)k / 255.0f), k);
        assert_int_equal(glnn_quantize((float)(k / 255.0)), k);
    }
    assert_int_equal(glnn_quantize(NAN), 0);
    assert_int_equal(glnn_quantize(-NAN), 0);
    assert_int_equal(glnn_quantize(INFINITY), 255);
    assert_int_equal(glnn_quantize(-INFINITY), 0);
    assert_int_equal(glnn_quantize(0.0f), 0);
    assert_int_equal(glnn_quantize(-0.0f), 0);
    assert_int_equal(glnn_quantize(1.0f), 255);
    /* nearest, ties up: 255·v + 0.5 floored */
    assert_int_equal(glnn_quantize(0.6f / 255.0f), 1);
    assert_int_equal(glnn_quantize(0.4f / 255.0f), 0);
    assert_int_equal(glnn_quantize(100.4f / 255.0f), 100);
    assert_int_equal(glnn_quantize(100.6f / 255.0f), 101);
    assert_int_equal(glnn_quantize(254.6f / 255.0f), 255);
}

static void test_upload_f32(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int n = contexts(ctx);
    for (int d = 0; d < n; d++) {
        /* Q on upload: §2.2 table values in [0, 1] and the half step of slack on either side; −0.3, 1.7 and ±∞
         * are errors (tests/test_ux.c has the rest). */
        glnn_tensor *t = new_tensor(ctx[d], 1, 2, 4, NULL);
        const float f[8] = {0.25f, 0.5f, 0.501f, 0.998f, -1.0f / 511, 1 + 1.0f / 511, 0, 1};
        static const uint8_t q[8] = {64, 128, 128, 254, 0, 255, 0, 255};
        assert_ok(glnn_tensor_upload_f32(t, f, 8, &err));
        assert_bytes(t, q, 8, "upload_f32");
        const float outside[8] = {0.25f, 0.5f, 0.501f, 0.998f, -0.3f, 1.7f, INFINITY, -INFINITY};
        assert_error(glnn_tensor_upload_f32(t, outside, 8, &err), &err, GLNN_ERR_ARGUMENT, "index 4", "-0.3");
        assert_bytes(t, q, 8, "tensor after a refused upload");
        /* A NaN is an error naming the flat index of the first NaN; the tensor keeps its contents. */
        float g[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, NAN, 0.7f, NAN};
        assert_error(glnn_tensor_upload_f32(t, g, 8, &err), &err, GLNN_ERR_ARGUMENT, "NaN", "index 5");
        assert_bytes(t, q, 8, "tensor after a refused upload");
        g[5] = 0;
        g[7] = 0;
        g[0] = NAN;
        assert_error(glnn_tensor_upload_f32(t, g, 8, &err), &err, GLNN_ERR_ARGUMENT, "NaN", "index 0");
        assert_bytes(t, q, 8, "tensor after a refused upload");
        glnn_tensor_free(t);

        /* Float round trip on a 2×3×8 tensor: k/255 in, k out as bytes, k/255 (float32) out as floats. */
        t = new_tensor(ctx[d], 2, 3, 8, NULL);
        float in[48], back[48];
        uint8_t bytes[48];
        for (int i = 0; i < 48; i++)
            in[i] = (float)((i * 37 + 11) % 256) / 255.0f;
        assert_ok(glnn_tensor_upload_f32(t, in, 48, &err));
        assert_ok(glnn_tensor_download_f32(t, back, 48, &err));
        assert_ok(glnn_tensor_download_u8(t, bytes, 48, &err));
        for (int i = 0; i < 48; i++) {
            assert_int_equal(bytes[i], (i * 37 + 11) % 256);
            assert_true(back[i] == (float)bytes[i] / 255.0f);
            assert_true(back[i] == in[i]);
        }
        /* Wrong counts */
        assert_error(glnn_tensor_upload_f32(t, in, 47, &err), &err, GLNN_ERR_ARGUMENT, "47");
        assert_error(glnn_tensor_download_f32(t, back, 49, &err), &err, GLNN_ERR_ARGUMENT, "49");
        glnn_tensor_free(t);
    }
}

static void test_u8_round_trip(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int n = contexts(ctx);
    static const int depths[] = {4, 8, 12};
    for (int d = 0; d < n; d++)
        for (int64_t i = 0; i < COUNT(depths); i++) {
            const int64_t h = 3, w = 5, c = depths[i], count = h * w * c;
            uint8_t data[3 * 5 * 12], back[3 * 5 * 12];
            for (int64_t j = 0; j < count; j++)
                data[j] = (uint8_t)((j * 7 + 3 + i) & 255);
            glnn_tensor *t = new_tensor(ctx[d], h, w, c, data);
            glnn_shape s = glnn_tensor_shape(t);
            assert_int_equal(s.kind, GLNN_KIND_TENSOR);
            assert_int_equal(s.h, h);
            assert_int_equal(s.w, w);
            assert_int_equal(s.c, c);
            assert_int_equal(glnn_shape_count(s), count);
            memset(back, 0, sizeof back);
            assert_ok(glnn_tensor_download_u8(t, back, count, &err));
            assert_memory_equal(back, data, (size_t)count);
            /* Wrong counts are errors and change nothing. */
            assert_error(glnn_tensor_upload_u8(t, back, count - 1, &err), &err, GLNN_ERR_ARGUMENT, "values");
            assert_error(glnn_tensor_upload_u8(t, back, count + 1, &err), &err, GLNN_ERR_ARGUMENT, "values");
            assert_error(glnn_tensor_download_u8(t, back, count - 4, &err), &err, GLNN_ERR_ARGUMENT, "values");
            assert_ok(glnn_tensor_download_u8(t, back, count, &err));
            assert_memory_equal(back, data, (size_t)count);
            glnn_tensor_free(t);
        }
    /* Depth not a multiple of 4, or a zero dimension */
    glnn_shape bad[] = {{GLNN_KIND_TENSOR, 2, 2, 6},
                        {GLNN_KIND_TENSOR, 2, 2, 3},
                        {GLNN_KIND_TENSOR, 0, 2, 4},
                        {GLNN_KIND_TENSOR, 2, 2, 0}};
    for (int64_t i = 0; i < COUNT(bad); i++) {
        glnn_tensor *t = NULL;
        glnn_status s = glnn_tensor_create(glnn_test_cpu(), bad[i], &t, &err);
        assert_int_equal(s, GLNN_ERR_ARGUMENT);
        assert_null(t);
    }
}

/* Images from 1-, 3- and 4-channel pixels read back as H×W×3 (SPEC §2.3, §2.4). */
static void test_images(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int n = contexts(ctx);
    const int64_t h = 3, w = 5, np = h * w;
    uint8_t grey[15], rgb[45], rgba[60], want[45], back[45];
    for (int64_t p = 0; p < np; p++) {
        grey[p] = (uint8_t)(p * 17 + 1);
        for (int c = 0; c < 3; c++)
            rgb[p * 3 + c] = (uint8_t)(p * 11 + c * 80 + 5);
        for (int c = 0; c < 4; c++)
            rgba[p * 4 + c] = (uint8_t)(p * 13 + c * 60 + 2);
        rgba[p * 4 + 3] = (uint8_t)(p % 2 ? 0 : 128); /* transparent pixels keep their colour */
    }
    for (int d = 0; d < n; d++) {
        glnn_tensor *img = NULL;
        /* grey: R = G = B */
        assert_ok(glnn_image_create(ctx[d], grey, h, w, 1, &img, &err));
        glnn_shape s = glnn_tensor_shape(img);
        assert_int_equal(s.kind, GLNN_KIND_IMAGE);
        assert_int_equal(s.h, h);
        assert_int_equal(s.w, w);
        assert_int_equal(s.c, 3);
        for (int64_t p = 0; p < np; p++)
            want[p * 3] = want[p * 3 + 1] = want[p * 3 + 2] = grey[p];
        assert_ok(glnn_tensor_download_u8(img, back, 45, &err));
        assert_memory_equal(back, want, 45);
        assert_error(glnn_tensor_download_u8(img, back, 60, &err), &err, GLNN_ERR_ARGUMENT, "values");
        glnn_tensor_free(img);
        /* RGB as is */
        assert_ok(glnn_image_create(ctx[d], rgb, h, w, 3, &img, &err));
        assert_ok(glnn_tensor_download_u8(img, back, 45, &err));
        assert_memory_equal(back, rgb, 45);
        glnn_tensor_free(img);
        /* RGBA: alpha dropped, no premultiplication */
        assert_ok(glnn_image_create(ctx[d], rgba, h, w, 4, &img, &err));
        for (int64_t p = 0; p < np; p++)
            for (int c = 0; c < 3; c++)
                want[p * 3 + c] = rgba[p * 4 + c];
        assert_ok(glnn_tensor_download_u8(img, back, 45, &err));
        assert_memory_equal(back, want, 45);
        /* float read-back: q/255 */
        float f[45];
        assert_ok(glnn_tensor_download_f32(img, f, 45, &err));
        for (int i = 0; i < 45; i++)
            assert_true(f[i] == (float)want[i] / 255.0f);
        glnn_tensor_free(img);
        /* other channel counts are errors */
        static const int bad[] = {0, 2, 5, -1};
        for (int64_t i = 0; i < COUNT(bad); i++) {
            img = NULL;
            assert_error(glnn_image_create(ctx[d], rgba, h, w, bad[i], &img, &err), &err, GLNN_ERR_ARGUMENT,
                         "channels");
            assert_null(img);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_default),
        cmocka_unit_test(test_golden_brelu6),
        cmocka_unit_test(test_golden_sigmoid_like),
        cmocka_unit_test(test_golden_residual),
        cmocka_unit_test(test_golden_grouped),
        cmocka_unit_test(test_golden_depthwise),
        cmocka_unit_test(test_golden_image),
        cmocka_unit_test(test_golden_same_stride2),
        cmocka_unit_test(test_v1_name),
        cmocka_unit_test(test_v2_enumerations),
        cmocka_unit_test(test_enumeration_words),
        cmocka_unit_test(test_v3_kernel_size),
        cmocka_unit_test(test_v4_stride),
        cmocka_unit_test(test_v5_groups),
        cmocka_unit_test(test_v6_input_channels),
        cmocka_unit_test(test_v7_output_channels),
        cmocka_unit_test(test_v8_image_groups),
        cmocka_unit_test(test_v9_image_same),
        cmocka_unit_test(test_v10_split_inputs),
        cmocka_unit_test(test_v11_split_outputs),
        cmocka_unit_test(test_v12_group_inputs),
        cmocka_unit_test(test_v13_group_outputs),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_depthwise_vs_grouped),
        cmocka_unit_test(test_p1_input_missing),
        cmocka_unit_test(test_p2_input_kind),
        cmocka_unit_test(test_p3_input_depth),
        cmocka_unit_test(test_p4_empty_output),
        cmocka_unit_test(test_p5_image_residual),
        cmocka_unit_test(test_p6_residual_shape),
        cmocka_unit_test(test_p7_filters_missing),
        cmocka_unit_test(test_p8_filters_size),
        cmocka_unit_test(test_p9_bias),
        cmocka_unit_test(test_p10_non_finite),
        cmocka_unit_test(test_p11_sampling_limit),
        cmocka_unit_test(test_p11_cpu_ignores_limit),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_sampled_channels),
        cmocka_unit_test(test_counters_need_preparation),
        cmocka_unit_test(test_counters_spec_4_8),
        cmocka_unit_test(test_counters_spec_8_5),
        cmocka_unit_test(test_failed_run_leaves_things_intact),
        cmocka_unit_test(test_failed_run_wrong_output_shape),
        cmocka_unit_test(test_quantize),
        cmocka_unit_test(test_upload_f32),
        cmocka_unit_test(test_u8_round_trip),
        cmocka_unit_test(test_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
