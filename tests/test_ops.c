/* Pooling2D, Dense, Softmax, ImageSampler and Upsampling2D (SPEC §5): parameters, construction and preparation
 * errors, hand-computed results on the CPU reference (and on the GPU when there is one), counters, listing keys.
 * Every op on random inputs on every back end against the reference is test_backends' table. */
#include "testutil.h"

#include "internal.h"
#include "ops/image_sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- helpers ---------------------------------------------------------------------------------------- */

static glnn_tensor *make_data(glnn_context *ctx, glnn_data_kind kind, int64_t h, int64_t w, int64_t c,
                              const uint8_t *bytes, const float *floats) {
    glnn_error err;
    glnn_tensor *t;
    glnn_shape s = {kind, h, w, c};
    assert_ok(glnn_tensor_create(ctx, s, &t, &err));
    if (bytes) assert_ok(glnn_tensor_upload_u8(t, bytes, h * w * c, &err));
    if (floats) assert_ok(glnn_tensor_upload_f32(t, floats, h * w * c, &err));
    return t;
}

static glnn_tensor *make_tensor(glnn_context *ctx, int64_t h, int64_t w, int64_t c, const uint8_t *bytes) {
    return make_data(ctx, GLNN_KIND_TENSOR, h, w, c, bytes, NULL);
}

static glnn_tensor *make_image(glnn_context *ctx, int64_t h, int64_t w, const uint8_t *rgb) {
    return make_data(ctx, GLNN_KIND_IMAGE, h, w, 3, rgb, NULL);
}

static glnn_tensor *make_vector(glnn_context *ctx, int64_t n, const float *f) {
    return make_data(ctx, GLNN_KIND_VECTOR, 1, 1, n, NULL, f);
}

/* Runs op on one input and returns the output's bytes (malloc'ed), or NULL for ops without output. */
static uint8_t *run_u8(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor *in, int64_t *n) {
    glnn_error err;
    glnn_tensor *out = NULL;
    assert_ok(glnn_op_run(ctx, op, data, &in, 1, &out, &err));
    glnn_shape s = glnn_tensor_shape(out);
    *n = glnn_shape_count(s);
    uint8_t *bytes = malloc((size_t)*n);
    assert_ok(glnn_tensor_download_u8(out, bytes, *n, &err));
    glnn_tensor_free(out);
    return bytes;
}

static float *run_f32(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor *in, int64_t *n) {
    glnn_error err;
    glnn_tensor *out = NULL;
    assert_ok(glnn_op_run(ctx, op, data, &in, 1, &out, &err));
    *n = glnn_shape_count(glnn_tensor_shape(out));
    float *f = malloc((size_t)*n * sizeof(float));
    assert_ok(glnn_tensor_download_f32(out, f, *n, &err));
    glnn_tensor_free(out);
    return f;
}

/* The contexts to run hand-computed cases on: the CPU reference, and the GPU when there is one. */
static int contexts(glnn_context **ctx) {
    int n = 0;
    ctx[n++] = glnn_test_cpu();
    if (glnn_test_gpu()) ctx[n++] = glnn_test_gpu();
    return n;
}

static void emit_key(void *user, const char *key, const char *value) {
    char *buf = user;
    size_t n = strlen(buf);
    snprintf(buf + n, 512 - n, "%s: %s\n", key, value);
}

static void assert_keys(const glnn_op *op, const char *expected) {
    char buf[512] = "";
    glnn_op_write_keys(op, emit_key, buf);
    assert_string_equal(buf, expected);
}

static void assert_counters(const glnn_op *op, int64_t macs, int64_t fetches) {
    glnn_error err;
    int64_t v;
    assert_ok(glnn_op_count_multiply_adds(op, &v, &err));
    assert_int_equal(v, macs);
    assert_ok(glnn_op_count_texel_fetches(op, &v, &err));
    assert_int_equal(v, fetches);
}

/* ---- Pooling2D ---------------------------------------------------------------------------------------- */

static void test_pooling_params(void **state) {
    (void)state;
    glnn_error err;
    glnn_pooling2d_params p, q;
    glnn_pooling2d_params_init(&p);
    assert_int_equal(p.stride, 0);
    assert_int_equal(p.padding, GLNN_PADDING_VALID);
    assert_int_equal(p.op, GLNN_POOLING_MAX);
    p.name = "pool";
    p.op = GLNN_POOLING_AVERAGE;
    p.size = 3;
    glnn_op *op;
    assert_ok(glnn_pooling2d_create(&p, &op, &err));
    assert_ok(glnn_pooling2d_get_params(op, &q, &err));
    assert_string_equal(q.name, "pool");
    assert_int_equal(q.op, GLNN_POOLING_AVERAGE);
    assert_int_equal(q.size, 3);
    assert_int_equal(q.stride, 0); /* read back unchanged */
    assert_int_equal(q.padding, GLNN_PADDING_VALID);
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_POOLING2D);
    assert_string_equal(glnn_op_type_name(op), "pooling2d");
    assert_int_equal(glnn_op_input_count(op), 1);
    assert_int_equal(glnn_op_output_count(op), 1);
    /* Listing keys in byte-wise order, with the effective stride. */
    assert_keys(op, "operator: average\npadding: valid\nsize: 3\nstride: 3\n");
    glnn_op_release(op);
    op = glnn_test_pool("m", GLNN_POOLING_MAX, 2, 1, GLNN_PADDING_SAME);
    assert_keys(op, "operator: max\npadding: same\nsize: 2\nstride: 1\n");
    glnn_dense_params dp;
    assert_error(glnn_dense_get_params(op, &dp, &err), &err, GLNN_ERR_ARGUMENT, "not a Dense");
    glnn_op_release(op);
}

static void test_pooling_construction_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_pooling2d_params p;
    glnn_op *op = NULL;
    glnn_pooling2d_params_init(&p);
    p.name = "p";
    p.size = 2;
    assert_ok(glnn_pooling2d_create(&p, &op, &err));
    glnn_op_release(op);

    glnn_pooling2d_params bad = p;
    bad.name = "";
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D",
                 "invalid operation name");
    bad.name = "a#b";
    bad.size = 0; /* the name is reported first */
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "invalid operation name");
    bad = p;
    bad.op = (glnn_pooling_operator)7;
    bad.padding = (glnn_padding)9;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'",
                 "invalid pooling operator");
    bad.op = GLNN_POOLING_MAX;
    bad.size = 1;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'", "invalid padding");
    bad = p;
    bad.size = 1;
    bad.stride = -1;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'",
                 "size must be at least 2, got 1");
    bad.size = -3;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "got -3");
    bad = p;
    bad.stride = -1;
    bad.op = GLNN_POOLING_AVERAGE;
    bad.padding = GLNN_PADDING_SAME;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'", "stride", "got -1");
    bad.stride = 0;
    assert_error(glnn_pooling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'", "AVERAGE", "VALID");
    /* MAX with SAME is fine. */
    bad.op = GLNN_POOLING_MAX;
    assert_ok(glnn_pooling2d_create(&bad, &op, &err));
    glnn_op_release(op);
    assert_error(glnn_pooling2d_create(NULL, &op, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D");
}

/* 4×4×4 input, size 2, stride 0 (= 2): MAX and AVERAGE, including AVERAGE ties S/4 = x.5 that round up. */
static void test_pooling_hand(void **state) {
    (void)state;
    static const uint8_t ch0[4][4] = {{1, 2, 5, 0}, {3, 4, 0, 0}, {9, 9, 250, 255}, {9, 8, 255, 255}};
    static const uint8_t ch3[4][4] = {{0, 0, 1, 0}, {0, 2, 0, 0}, {3, 3, 254, 255}, {3, 3, 255, 255}};
    uint8_t in[4 * 4 * 4];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            uint8_t *px = in + (y * 4 + x) * 4;
            px[0] = ch0[y][x];
            px[1] = 0;
            px[2] = 255;
            px[3] = ch3[y][x];
        }
    /* Output quads (ch0, ch1, ch2, ch3) in HWC order. */
    static const uint8_t want_max[] = {4, 0, 255, 2, 5, 0, 255, 1, 9, 0, 255, 3, 255, 0, 255, 255};
    /* ch0 sums 10, 5, 35, 1015 -> 2.5 (tie, up) 3, 1.25 -> 1, 8.75 -> 9, 253.75 -> 254;
     * ch3 sums 2, 1, 12, 1019 -> 0.5 (tie, up) 1, 0.25 -> 0, 3, 254.75 -> 255. */
    static const uint8_t want_avg[] = {3, 0, 255, 1, 1, 0, 255, 0, 9, 0, 255, 3, 254, 0, 255, 255};
    /* Size 3, stride 1: 2×2 windows of 9 values; ch0 sums 283, 525, 547, 1036 -> 31.4 -> 31, 58.3 -> 58,
     * 60.8 -> 61, 115.1 -> 115. */
    static const uint8_t want_avg3_ch0[] = {31, 58, 61, 115};
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        glnn_tensor *t = make_tensor(ctx[c], 4, 4, 4, in);
        int64_t n;
        glnn_op *op = glnn_test_pool("max", GLNN_POOLING_MAX, 2, 0, GLNN_PADDING_VALID);
        uint8_t *out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 16);
        assert_memory_equal(out, want_max, 16);
        free(out);
        glnn_op_release(op);
        op = glnn_test_pool("avg", GLNN_POOLING_AVERAGE, 2, 0, GLNN_PADDING_VALID);
        out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 16);
        assert_memory_equal(out, want_avg, 16);
        free(out);
        glnn_op_release(op);
        op = glnn_test_pool("avg3", GLNN_POOLING_AVERAGE, 3, 1, GLNN_PADDING_VALID);
        out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 16);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(out[i * 4], want_avg3_ch0[i]);
            assert_int_equal(out[i * 4 + 2], 255);
        }
        free(out);
        glnn_op_release(op);
        glnn_tensor_free(t);
    }
}

/* SAME MAX pooling: padding before/after per SPEC §3, padded positions reading 0. */
static void test_pooling_same(void **state) {
    (void)state;
    static const uint8_t grid[3][3] = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
    uint8_t in[3 * 3 * 4];
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 4; j++)
            in[i * 4 + j] = (uint8_t)(grid[i / 3][i % 3] + j);
    /* k 3, s 1: P = 2, one position of padding on each side. */
    static const uint8_t want3[9] = {50, 60, 60, 80, 90, 90, 80, 90, 90};
    /* k 2, s 2 on 3: n = 2, P = 1: none before, one after. */
    static const uint8_t want2[4] = {50, 60, 80, 90};
    /* A 1×5 row, k 4, s 1: before 1, after 2 (the anchor is tap 1); vertically P = 3: before 1. */
    static const uint8_t row[5] = {60, 10, 20, 30, 40};
    static const uint8_t want_row[5] = {60, 60, 40, 40, 40};
    uint8_t rin[5 * 4];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            rin[i * 4 + j] = row[i];
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        glnn_error err;
        int64_t n;
        glnn_tensor *t = make_tensor(ctx[c], 3, 3, 4, in);
        glnn_op *op = glnn_test_pool("s3", GLNN_POOLING_MAX, 3, 1, GLNN_PADDING_SAME);
        uint8_t *out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 36);
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 4; j++)
                assert_int_equal(out[i * 4 + j], want3[i] + j);
        free(out);
        glnn_op_release(op);
        op = glnn_test_pool("s2", GLNN_POOLING_MAX, 2, 0, GLNN_PADDING_SAME);
        out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 16);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                assert_int_equal(out[i * 4 + j], want2[i] + j);
        free(out);
        glnn_shape s;
        assert_ok(glnn_op_output_shape(op, 0, &s, &err));
        assert_int_equal(s.h, 2);
        assert_int_equal(s.w, 2);
        assert_int_equal(s.c, 4);
        glnn_op_release(op);
        glnn_tensor_free(t);

        t = make_tensor(ctx[c], 1, 5, 4, rin);
        op = glnn_test_pool("r", GLNN_POOLING_MAX, 4, 1, GLNN_PADDING_SAME);
        out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 20);
        for (int i = 0; i < 5; i++)
            assert_int_equal(out[i * 4 + 1], want_row[i]);
        free(out);
        glnn_op_release(op);
        glnn_tensor_free(t);
    }
}

static void test_pooling_prepare_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = glnn_test_pool("p", GLNN_POOLING_MAX, 3, 2, GLNN_PADDING_VALID);
    int64_t v;
    assert_error(glnn_op_count_texel_fetches(op, &v, &err), &err, GLNN_ERR_STATE, "p");
    glnn_tensor *out = NULL;
    glnn_tensor *none = NULL;
    assert_error(glnn_op_run(cpu, op, NULL, NULL, 0, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'p' is not provided");
    assert_error(glnn_op_run(cpu, op, NULL, &none, 1, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'p' is not provided");
    uint8_t px[5 * 5 * 4] = {0};
    glnn_tensor *img = make_image(cpu, 5, 5, px);
    assert_error(glnn_op_run(cpu, op, NULL, &img, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'",
                 "expects a tensor");
    float f[8] = {0};
    glnn_tensor *vec = make_vector(cpu, 8, f);
    assert_error(glnn_op_run(cpu, op, NULL, &vec, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "expects a tensor");
    /* Prepared on 5×5: 2×2 output.  A failed preparation then leaves the op as it was. */
    glnn_tensor *t5 = make_tensor(cpu, 5, 5, 4, px);
    assert_ok(glnn_op_run(cpu, op, NULL, &t5, 1, &out, &err));
    glnn_tensor_free(out);
    out = NULL;
    glnn_tensor *t2 = make_tensor(cpu, 2, 8, 4, px);
    assert_error(glnn_op_run(cpu, op, NULL, &t2, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Pooling2D 'p'",
                 "output would be empty", "8×2", "3", "2");
    assert_null(out);
    glnn_shape s;
    assert_ok(glnn_op_output_shape(op, 0, &s, &err));
    assert_int_equal(s.h, 2);
    assert_int_equal(s.w, 2);
    assert_counters(op, 0, 4 * 9);
    /* MAX with SAME accepts inputs smaller than the window. */
    glnn_op *same = glnn_test_pool("q", GLNN_POOLING_MAX, 3, 0, GLNN_PADDING_SAME);
    glnn_tensor *t1 = make_tensor(cpu, 1, 1, 4, px);
    assert_ok(glnn_op_run(cpu, same, NULL, &t1, 1, &out, &err));
    glnn_tensor_free(out);
    glnn_op_release(same);
    glnn_tensor_free(t1);
    glnn_tensor_free(t2);
    glnn_tensor_free(t5);
    glnn_tensor_free(vec);
    glnn_tensor_free(img);
    glnn_op_release(op);
}

/* SPEC §4.8: MAX pooling 3, stride 1 on 28×28×32 gives 26×26×32, 0 multiply-adds and 48,672 fetches. */
static void test_pooling_counters(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    uint8_t *zeros = calloc(28 * 28 * 32, 1);
    for (int c = 0; c < nc; c++) {
        glnn_op *op = glnn_test_pool("pool", GLNN_POOLING_MAX, 3, 1, GLNN_PADDING_VALID);
        glnn_tensor *t = make_tensor(ctx[c], 28, 28, 32, zeros), *out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, NULL, &t, 1, &out, &err));
        assert_counters(op, 0, 48672);
        glnn_shape s = glnn_tensor_shape(out);
        assert_int_equal(s.h, 26);
        assert_int_equal(s.w, 26);
        assert_int_equal(s.c, 32);
        glnn_tensor_free(out);
        glnn_op_release(op);
        /* Global average pooling of the reference model: 3×3×192 -> 1×1×192, 48 quads × 9 fetches. */
        op = glnn_test_pool("gap", GLNN_POOLING_AVERAGE, 3, 1, GLNN_PADDING_VALID);
        glnn_tensor *g = make_tensor(ctx[c], 3, 3, 192, zeros);
        out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, NULL, &g, 1, &out, &err));
        assert_counters(op, 0, 48 * 9);
        glnn_tensor_free(out);
        glnn_tensor_free(g);
        glnn_tensor_free(t);
        glnn_op_release(op);
    }
    free(zeros);
}

/* ---- Dense ---------------------------------------------------------------------------------------------- */

static glnn_op *make_dense(const char *name, int n_out, bool use_bias) {
    glnn_error err;
    glnn_dense_params p;
    glnn_dense_params_init(&p);
    p.name = name;
    p.num_output_dims = n_out;
    p.use_bias = use_bias;
    glnn_op *op;
    assert_ok(glnn_dense_create(&p, &op, &err));
    return op;
}

static void test_dense_params(void **state) {
    (void)state;
    glnn_error err;
    glnn_dense_params p, q;
    glnn_dense_params_init(&p);
    assert_true(p.use_bias);
    p.name = "fc";
    p.num_output_dims = 8;
    glnn_op *op = NULL;
    assert_ok(glnn_dense_create(&p, &op, &err));
    assert_ok(glnn_dense_get_params(op, &q, &err));
    assert_string_equal(q.name, "fc");
    assert_int_equal(q.num_output_dims, 8);
    assert_true(q.use_bias);
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_DENSE);
    assert_string_equal(glnn_op_type_name(op), "dense");
    assert_int_equal(glnn_op_input_count(op), 1);
    assert_int_equal(glnn_op_output_count(op), 1);
    assert_keys(op, "output_dims: 8\nuse_bias: true\n");
    glnn_op_release(op);
    p.use_bias = false;
    assert_ok(glnn_dense_create(&p, &op, &err));
    assert_keys(op, "output_dims: 8\nuse_bias: false\n");
    glnn_op_release(op);

    glnn_dense_params bad = p;
    bad.name = " fc";
    bad.num_output_dims = 0;
    assert_error(glnn_dense_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Dense", "invalid operation name");
    bad.name = NULL;
    assert_error(glnn_dense_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "invalid operation name");
    bad.name = "fc";
    assert_error(glnn_dense_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Dense 'fc'",
                 "number of output dims must be positive", "got 0");
    bad.num_output_dims = -4;
    assert_error(glnn_dense_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "got -4");
}

/* 1×1×4 tensor -> 4 with known weights: x = (1, 0, 0.2, 0.4). */
static void test_dense_hand(void **state) {
    (void)state;
    glnn_error err;
    static const uint8_t in[4] = {255, 0, 51, 102};
    static const float a[16] = {1, 2, 3, 4, -1, 0, 0, 0, 0, 100, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f};
    static const float b[4] = {0.5f, -0.25f, 0, 1};
    static const double want[4] = {3.7, -1.25, 0, 1.8}; /* no activation, no clamping */
    static const double want_nobias[4] = {3.2, -1, 0, 0.8};
    /* Vector input: x = (1, -2, 0.5, 3) as is, through the same matrix. */
    static const float xv[4] = {1, -2, 0.5f, 3};
    static const double want_vec[4] = {1 - 4 + 1.5 + 12 + 0.5, -1 - 0.25, -200, 0.5 * 2.5 + 1};
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "fc", a, 16, b, 4, &err));
    /* Without use_bias a bias chunk of any size is ignored. */
    assert_ok(glnn_chunks_set_weights(data, "nb", a, 16, b, 3, &err));
    /* Output counts that are not a multiple of 4 (SPEC §5.2): the first three rows of the matrix, then those
     * three values as a vector through a 2×3 matrix. */
    static const float a2[6] = {1, 2, 3, -1, 0, 0.5f};
    static const double want2[2] = {3.7 - 2 * 1.25, -3.7};
    assert_ok(glnn_chunks_set_weights(data, "f3", a, 12, b, 3, &err));
    assert_ok(glnn_chunks_set_weights(data, "f2", a2, 6, NULL, 0, &err));
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        glnn_tensor *t = make_tensor(ctx[c], 1, 1, 4, in), *v = make_vector(ctx[c], 4, xv);
        glnn_op *op = make_dense("fc", 4, true), *nb = make_dense("nb", 4, false);
        int64_t n;
        float *y = run_f32(ctx[c], op, data, t, &n);
        assert_int_equal(n, 4);
        for (int i = 0; i < 4; i++)
            assert_true(fabs(y[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])));
        free(y);
        glnn_shape s;
        assert_ok(glnn_op_output_shape(op, 0, &s, &err));
        assert_int_equal(s.kind, GLNN_KIND_VECTOR);
        assert_int_equal(s.c, 4);
        y = run_f32(ctx[c], nb, data, t, &n);
        for (int i = 0; i < 4; i++)
            assert_true(fabs(y[i] - want_nobias[i]) <= 1e-6 * (1 + fabs(want_nobias[i])));
        free(y);
        y = run_f32(ctx[c], op, data, v, &n);
        for (int i = 0; i < 4; i++)
            assert_true(fabs(y[i] - want_vec[i]) <= 1e-6 * (1 + fabs(want_vec[i])));
        free(y);
        /* A Dense output feeds another Dense as a vector. */
        glnn_tensor *out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, data, &t, 1, &out, &err));
        y = run_f32(ctx[c], nb, data, out, &n);
        for (int i = 0; i < 4; i++) {
            double e = 0;
            for (int j = 0; j < 4; j++)
                e += a[i * 4 + j] * want[j];
            assert_true(fabs(y[i] - e) <= 1e-5 * (1 + fabs(e)));
        }
        free(y);
        glnn_tensor_free(out);
        glnn_op *f3 = make_dense("f3", 3, true), *f2 = make_dense("f2", 2, false);
        out = NULL;
        assert_ok(glnn_op_run(ctx[c], f3, data, &t, 1, &out, &err));
        assert_int_equal(glnn_tensor_shape(out).c, 3);
        float y3[3];
        assert_ok(glnn_tensor_download_f32(out, y3, 3, &err));
        for (int i = 0; i < 3; i++)
            assert_true(fabs(y3[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])));
        y = run_f32(ctx[c], f2, data, out, &n);
        assert_int_equal(n, 2);
        for (int i = 0; i < 2; i++)
            assert_true(fabs(y[i] - want2[i]) <= 1e-5 * (1 + fabs(want2[i])));
        free(y);
        glnn_tensor_free(out);
        glnn_op_release(f3);
        glnn_op_release(f2);
        glnn_tensor_free(t);
        glnn_tensor_free(v);
        glnn_op_release(op);
        glnn_op_release(nb);
    }
    /* One op moved between back ends: each preparation releases the previous context's resources. */
    if (nc == 2) {
        glnn_op *op = make_dense("fc", 4, true);
        for (int k = 0; k < 4; k++) {
            glnn_context *cx = ctx[k % 2];
            glnn_tensor *t = make_tensor(cx, 1, 1, 4, in);
            int64_t n;
            float *y = run_f32(cx, op, data, t, &n);
            for (int i = 0; i < 4; i++)
                assert_true(fabs(y[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])));
            assert_ptr_equal(op->prepared_ctx, cx);
            free(y);
            glnn_tensor_free(t);
        }
        glnn_op_release(op);
    }
    glnn_chunks_free(data);
}

static void test_dense_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = make_dense("fc", 4, true);
    float a[32], b[4] = {0};
    for (int i = 0; i < 32; i++)
        a[i] = (float)i;
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    uint8_t zeros[64] = {0};
    glnn_tensor *t4 = make_tensor(cpu, 1, 1, 4, zeros), *t8 = make_tensor(cpu, 1, 1, 8, zeros);
    glnn_tensor *t22 = make_tensor(cpu, 2, 2, 4, zeros), *img = make_image(cpu, 1, 1, zeros), *out = NULL;
    assert_error(glnn_op_run(cpu, op, data, NULL, 0, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'fc' is not provided");
    assert_error(glnn_op_run(cpu, op, data, &img, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Dense 'fc'", "image");
    assert_error(glnn_op_run(cpu, op, data, &t22, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Dense 'fc'",
                 "Dense expects a 1×1×C input, got 2×2×4");
    assert_error(glnn_op_run(cpu, op, NULL, &t4, 1, &out, &err), &err, GLNN_ERR_STATE, "Dense 'fc'", "fc/w");
    assert_error(glnn_op_run(cpu, op, data, &t4, 1, &out, &err), &err, GLNN_ERR_NOT_FOUND, "Dense 'fc'",
                 "'fc/w' not found");
    assert_ok(glnn_chunks_set(data, "fc/w", 4, a, 16 * 4, &err));
    assert_error(glnn_op_run(cpu, op, data, &t4, 1, &out, &err), &err, GLNN_ERR_NOT_FOUND, "Dense 'fc'",
                 "'fc/b' not found");
    assert_ok(glnn_chunks_set(data, "fc/b", 4, b, 3 * 4, &err));
    assert_error(glnn_op_run(cpu, op, data, &t4, 1, &out, &err), &err, GLNN_ERR_FORMAT, "Dense 'fc'", "fc/b",
                 "expected 16 bytes, got 12");
    assert_ok(glnn_chunks_set(data, "fc/b", 4, b, 4 * 4, &err));
    assert_ok(glnn_op_run(cpu, op, data, &t4, 1, &out, &err));
    assert_counters(op, 16, 4 + 1 + 1);
    glnn_tensor_free(out);
    out = NULL;
    /* 1×1×8 needs a 32-float matrix: the 16-float chunk is the wrong size; the op stays as it was. */
    assert_error(glnn_op_run(cpu, op, data, &t8, 1, &out, &err), &err, GLNN_ERR_FORMAT, "Dense 'fc'", "fc/w",
                 "expected 128 bytes, got 64");
    assert_null(out);
    glnn_shape s;
    assert_ok(glnn_op_output_shape(op, 0, &s, &err));
    assert_int_equal(s.c, 4);
    assert_counters(op, 16, 6);
    float nan_a[32];
    memcpy(nan_a, a, sizeof a);
    nan_a[5] = NAN;
    assert_ok(glnn_chunks_set(data, "fc/w", 4, nan_a, 32 * 4, &err));
    assert_error(glnn_op_run(cpu, op, data, &t8, 1, &out, &err), &err, GLNN_ERR_FORMAT, "Dense 'fc'",
                 "non-finite value at index 5", "fc/w");
    nan_a[5] = 5;
    b[2] = INFINITY;
    assert_ok(glnn_chunks_set(data, "fc/w", 4, nan_a, 32 * 4, &err));
    assert_ok(glnn_chunks_set(data, "fc/b", 4, b, 4 * 4, &err));
    assert_error(glnn_op_run(cpu, op, data, &t8, 1, &out, &err), &err, GLNN_ERR_FORMAT, "non-finite value at index 2",
                 "fc/b");
    glnn_tensor_free(t4);
    glnn_tensor_free(t8);
    glnn_tensor_free(t22);
    glnn_tensor_free(img);
    glnn_op_release(op);
    glnn_chunks_free(data);
}

/* Counters: N_in·N_out; N_in·N_out/4 + N_in/4 + N_out/4 (with bias).  The reference model's Dense 192 -> 120
 * and the SPEC §8.5 example 16 -> 8. */
static void test_dense_counters(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    float *a = calloc(192 * 120, sizeof(float)), b[120] = {0};
    uint8_t in[192] = {0};
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "Dense", a, 192 * 120, b, 120, &err));
    assert_ok(glnn_chunks_set_weights(data, "fc", a, 16 * 8, b, 8, &err));
    assert_ok(glnn_chunks_set_weights(data, "fc10", a, 16 * 10, b, 10, &err));
    for (int c = 0; c < nc; c++) {
        glnn_op *op = make_dense("Dense", 120, true);
        glnn_tensor *t = make_tensor(ctx[c], 1, 1, 192, in), *out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, data, &t, 1, &out, &err));
        assert_counters(op, 23040, 5760 + 48 + 30);
        glnn_tensor_free(out);
        glnn_tensor_free(t);
        glnn_op_release(op);
        op = make_dense("fc", 8, true);
        t = make_tensor(ctx[c], 1, 1, 16, in);
        out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, data, &t, 1, &out, &err));
        assert_counters(op, 128, 38);
        glnn_tensor_free(out);
        glnn_tensor_free(t);
        glnn_op_release(op);
        op = make_dense("fc", 8, false);
        t = make_tensor(ctx[c], 1, 1, 16, in);
        out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, data, &t, 1, &out, &err));
        assert_counters(op, 128, 36);
        glnn_tensor_free(out);
        glnn_tensor_free(t);
        glnn_op_release(op);
        /* An output count that is not a multiple of 4 (SPEC §5.2): 16 inputs × ⌈10/4⌉ + 16/4 + ⌈10/4⌉. */
        op = make_dense("fc10", 10, true);
        t = make_tensor(ctx[c], 1, 1, 16, in);
        out = NULL;
        assert_ok(glnn_op_run(ctx[c], op, data, &t, 1, &out, &err));
        assert_counters(op, 160, 16 * 3 + 4 + 3);
        glnn_tensor_free(out);
        glnn_tensor_free(t);
        glnn_op_release(op);
    }
    free(a);
    glnn_chunks_free(data);
}

/* ---- Softmax -------------------------------------------------------------------------------------------- */

static void softmax_exact(const double *x, int n, double *p) {
    double m = x[0], s = 0;
    for (int i = 1; i < n; i++)
        m = x[i] > m ? x[i] : m;
    for (int i = 0; i < n; i++)
        s += exp(x[i] - m);
    for (int i = 0; i < n; i++)
        p[i] = exp(x[i] - m) / s;
}

static void test_softmax(void **state) {
    (void)state;
    glnn_error err;
    glnn_op *op = NULL;
    assert_error(glnn_softmax_create("", &op, &err), &err, GLNN_ERR_ARGUMENT, "Softmax", "invalid operation name");
    assert_error(glnn_softmax_create("a\tb", &op, &err), &err, GLNN_ERR_ARGUMENT, "invalid operation name");
    assert_ok(glnn_softmax_create("prob", &op, &err));
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_SOFTMAX);
    assert_string_equal(glnn_op_type_name(op), "softmax");
    assert_int_equal(glnn_op_input_count(op), 1);
    assert_int_equal(glnn_op_output_count(op), 0);
    assert_keys(op, "");

    /* Vectors, with inputs large enough to overflow exp() without the maximum subtracted. */
    static const float small[4] = {0, 1, 2, 3}, large[4] = {1000, 1001, 1002, 1003}, neg[4] = {-1e4f, -2, 5, -1e4f};
    static const uint8_t bytes[8] = {0, 255, 0, 255, 51, 51, 102, 0};
    const float *vecs[] = {small, large, neg};
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        float p[8], p0[4];
        double x[8], e[8];
        glnn_op *sm;
        assert_ok(glnn_softmax_create("prob", &sm, &err));
        assert_error(glnn_op_get_probabilities(sm, p, 4, &err), &err, GLNN_ERR_STATE, "prob");
        for (int k = 0; k < 3; k++) {
            glnn_tensor *v = make_vector(ctx[c], 4, vecs[k]);
            /* No output: output may be NULL. */
            assert_ok(glnn_op_run(ctx[c], sm, NULL, &v, 1, NULL, &err));
            assert_ok(glnn_op_get_probabilities(sm, p, 4, &err));
            for (int i = 0; i < 4; i++)
                x[i] = vecs[k][i];
            softmax_exact(x, 4, e);
            double sum = 0;
            for (int i = 0; i < 4; i++) {
                assert_false(isnan(p[i]));
                assert_true(fabs(p[i] - e[i]) <= 1e-6);
                sum += p[i];
            }
            assert_true(fabs(sum - 1) <= 1e-6);
            if (k == 0) memcpy(p0, p, sizeof p0);
            if (k == 1)
                for (int i = 0; i < 4; i++)
                    assert_true(fabs(p[i] - p0[i]) <= 1e-6); /* shift-invariant */
            glnn_tensor_free(v);
        }
        assert_error(glnn_op_get_probabilities(sm, p, 3, &err), &err, GLNN_ERR_ARGUMENT, "prob");
        /* A 1×1×8 tensor: x = q/255.  The previous results of another size are dropped. */
        glnn_tensor *t = make_tensor(ctx[c], 1, 1, 8, bytes);
        assert_ok(glnn_op_run(ctx[c], sm, NULL, &t, 1, NULL, &err));
        assert_ok(glnn_op_get_probabilities(sm, p, 8, &err));
        for (int i = 0; i < 8; i++)
            x[i] = bytes[i] / 255.0;
        softmax_exact(x, 8, e);
        for (int i = 0; i < 8; i++)
            assert_true(fabs(p[i] - e[i]) <= 1e-6);
        /* By hand: x = (0, 1, 0, 1, .2, .2, .4, 0) */
        double s = 3 + 2 * exp(1) + 2 * exp(0.2) + exp(0.4);
        assert_true(fabs(p[1] - exp(1) / s) <= 1e-6);
        assert_true(fabs(p[0] - 1 / s) <= 1e-6);
        glnn_shape shape;
        assert_error(glnn_op_output_shape(sm, 0, &shape, &err), &err, GLNN_ERR_ARGUMENT, "prob");
        assert_counters(sm, 0, 0);
        glnn_tensor_free(t);
        glnn_op_release(sm);
    }

    /* Preparation errors. */
    glnn_context *cpu = glnn_test_cpu();
    uint8_t zeros[16] = {0};
    glnn_tensor *img = make_image(cpu, 1, 1, zeros), *t22 = make_tensor(cpu, 2, 1, 4, zeros);
    assert_error(glnn_op_run(cpu, op, NULL, NULL, 0, NULL, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'prob' is not provided");
    assert_error(glnn_op_run(cpu, op, NULL, &img, 1, NULL, &err), &err, GLNN_ERR_ARGUMENT, "Softmax 'prob'", "image");
    assert_error(glnn_op_run(cpu, op, NULL, &t22, 1, NULL, &err), &err, GLNN_ERR_ARGUMENT, "Softmax 'prob'", "1×1",
                 "2×1×4");
    float p[4];
    assert_error(glnn_op_get_probabilities(op, p, 4, &err), &err, GLNN_ERR_STATE, "prob");
    glnn_tensor_free(img);
    glnn_tensor_free(t22);
    glnn_op_release(op);
}

/* ---- ImageSampler --------------------------------------------------------------------------------------- */

static glnn_op *make_sampler(int w, int h, bool crop, bool linear, int rotation) {
    glnn_error err;
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "in";
    p.output_width = w;
    p.output_height = h;
    p.center_crop = crop;
    p.linear_interp = linear;
    p.rotation = rotation;
    glnn_op *op;
    assert_ok(glnn_image_sampler_create(&p, &op, &err));
    return op;
}

static void test_sampler_params(void **state) {
    (void)state;
    glnn_error err;
    glnn_image_sampler_params p, q;
    glnn_image_sampler_params_init(&p);
    assert_true(p.center_crop);
    assert_true(p.linear_interp);
    assert_int_equal(p.rotation, 0);
    p.name = "in";
    p.output_width = 64;
    p.output_height = 32;
    glnn_op *op = NULL;
    assert_ok(glnn_image_sampler_create(&p, &op, &err));
    assert_ok(glnn_image_sampler_get_params(op, &q, &err));
    assert_string_equal(q.name, "in");
    assert_int_equal(q.output_width, 64);
    assert_int_equal(q.output_height, 32);
    assert_true(q.center_crop);
    assert_true(q.linear_interp);
    assert_int_equal(q.rotation, 0);
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_IMAGE_SAMPLER);
    assert_string_equal(glnn_op_type_name(op), "image_sampler");
    assert_int_equal(glnn_op_input_count(op), 1);
    assert_int_equal(glnn_op_output_count(op), 1);
    assert_keys(op, "center_crop: true\nlinear_interp: true\noutput_height: 32\noutput_width: 64\n");

    /* Rotation: validated; a change unprepares the op, setting the same value does not. */
    glnn_context *cpu = glnn_test_cpu();
    uint8_t px[2 * 3 * 3] = {0};
    glnn_tensor *img = make_image(cpu, 2, 3, px), *out = NULL;
    assert_ok(glnn_op_run(cpu, op, NULL, &img, 1, &out, &err));
    glnn_tensor_free(out);
    assert_counters(op, 0, 64 * 32);
    assert_error(glnn_image_sampler_set_rotation(op, 4, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler 'in'", "rotation",
                 "4");
    assert_error(glnn_image_sampler_set_rotation(op, -1, &err), &err, GLNN_ERR_ARGUMENT, "rotation");
    assert_true(op->prepared);
    assert_ok(glnn_image_sampler_set_rotation(op, 0, &err));
    assert_true(op->prepared);
    assert_ok(glnn_image_sampler_set_rotation(op, 3, &err));
    assert_false(op->prepared);
    assert_ok(glnn_image_sampler_get_params(op, &q, &err));
    assert_int_equal(q.rotation, 3);
    int64_t v;
    assert_error(glnn_op_count_texel_fetches(op, &v, &err), &err, GLNN_ERR_STATE, "in");
    glnn_op *pool = glnn_test_pool("p", GLNN_POOLING_MAX, 2, 0, GLNN_PADDING_VALID);
    assert_error(glnn_image_sampler_set_rotation(pool, 1, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler");
    assert_error(glnn_image_sampler_get_params(pool, &q, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler");
    glnn_op_release(pool);
    glnn_op_release(op);
    p.center_crop = false;
    p.linear_interp = false;
    assert_ok(glnn_image_sampler_create(&p, &op, &err));
    assert_keys(op, "center_crop: false\nlinear_interp: false\noutput_height: 32\noutput_width: 64\n");
    glnn_op_release(op);

    /* Construction errors, in order. */
    glnn_image_sampler_params bad = p;
    bad.name = "x#";
    bad.output_width = 0;
    assert_error(glnn_image_sampler_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler",
                 "invalid operation name");
    bad.name = "in";
    bad.rotation = 7;
    assert_error(glnn_image_sampler_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler 'in'",
                 "output size", "0×32");
    bad.output_width = 5;
    bad.output_height = -1;
    assert_error(glnn_image_sampler_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "5×-1");
    bad.output_height = 5;
    assert_error(glnn_image_sampler_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "rotation", "7");
    bad.rotation = -1;
    assert_error(glnn_image_sampler_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "rotation", "-1");

    /* Preparation errors. */
    op = make_sampler(4, 4, true, true, 0);
    uint8_t zeros[16] = {0};
    glnn_tensor *t = make_tensor(cpu, 1, 1, 4, zeros);
    float f[4] = {0};
    glnn_tensor *vec = make_vector(cpu, 4, f);
    out = NULL;
    assert_error(glnn_op_run(cpu, op, NULL, NULL, 0, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'in' is not provided");
    assert_error(glnn_op_run(cpu, op, NULL, &t, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "ImageSampler 'in'",
                 "expects an image");
    assert_error(glnn_op_run(cpu, op, NULL, &vec, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "expects an image");
    assert_false(op->prepared);
    glnn_tensor_free(t);
    glnn_tensor_free(vec);
    glnn_tensor_free(img);
    glnn_op_release(op);
}

/* Runs a sampler on an h×w RGB image and checks the output against `want` (wo·ho·3 bytes). */
static void check_sampler(glnn_context *ctx, glnn_op *op, const uint8_t *rgb, int h, int w, const uint8_t *want, int ho,
                          int wo) {
    glnn_tensor *img = make_image(ctx, h, w, rgb);
    int64_t n;
    uint8_t *out = run_u8(ctx, op, NULL, img, &n);
    assert_int_equal(n, (int64_t)ho * wo * 3);
    for (int64_t i = 0; i < n; i++)
        if (out[i] != want[i])
            fail_msg("%s: pixel (%d, %d) channel %d is %d, expected %d", glnn_context_device_name(ctx),
                     (int)(i / 3 % wo), (int)(i / 3 / wo), (int)(i % 3), out[i], want[i]);
    glnn_shape s;
    glnn_error err;
    assert_ok(glnn_op_output_shape(op, 0, &s, &err));
    assert_int_equal(s.kind, GLNN_KIND_IMAGE);
    assert_int_equal(s.h, ho);
    assert_int_equal(s.w, wo);
    assert_int_equal(s.c, 3);
    free(out);
    glnn_tensor_free(img);
}

static void test_sampler_hand(void **state) {
    (void)state;
    /* 2×2 -> 3×3: positions 0, 0.5, 1 on both axes.  R: 0 100 / 200 255; G: 10 11 / 12 13; B: 7. */
    static const uint8_t img2[] = {0, 10, 7, 100, 11, 7, 200, 12, 7, 255, 13, 7};
    /* Bilinear: R centre (0+100+200+255)/4 = 138.75 -> 139; 177.5 -> 178, 227.5 -> 228; G 10.5 -> 11, 11.5 -> 12,
     * 12.5 -> 13 (halves round up). */
    static const uint8_t bil[] = {0,   10, 7, 50,  11, 7, 100, 11, 7, /* row 0 */
                                  100, 11, 7, 139, 12, 7, 178, 12, 7, /* row 1 */
                                  200, 12, 7, 228, 13, 7, 255, 13, 7};
    /* Nearest: floor(p + 0.5) picks 0, 1, 1. */
    static const uint8_t nn[] = {0,   10, 7, 100, 11, 7, 100, 11, 7, /* row 0 */
                                 200, 12, 7, 255, 13, 7, 255, 13, 7, /* row 1 */
                                 200, 12, 7, 255, 13, 7, 255, 13, 7};
    /* A 5-wide, 2-high image, R = 10·x + 100·y, G = x, B = y. */
    uint8_t img52[5 * 2 * 3];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 5; x++) {
            img52[(y * 5 + x) * 3] = (uint8_t)(10 * x + 100 * y);
            img52[(y * 5 + x) * 3 + 1] = (uint8_t)x;
            img52[(y * 5 + x) * 3 + 2] = (uint8_t)y;
        }
    /* Center crop to 2×2: W·Ho = 10 > H·Wo = 4, m = (5 − 2)/2 = 1.5, x on [1.5, 2.5]: R 15 -> 15, 25;
     * G 1.5 -> 2, 2.5 -> 3 (halves up). */
    static const uint8_t crop52[] = {15, 2, 0, 25, 3, 0, 115, 2, 1, 125, 3, 1};
    /* Without crop: x on [0, 4]. */
    static const uint8_t full52[] = {0, 0, 0, 40, 4, 0, 100, 0, 1, 140, 4, 1};
    /* Nearest with crop: floor(1.5 + .5) = 2, floor(2.5 + .5) = 3. */
    static const uint8_t crop52n[] = {20, 2, 0, 30, 3, 0, 120, 2, 1, 130, 3, 1};
    /* A 2-wide, 6-high image cropped vertically to 2×2: m = (6 − 2)/2 = 2, y on [2, 3]. */
    uint8_t img26[2 * 6 * 3];
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 2; x++) {
            img26[(y * 2 + x) * 3] = (uint8_t)(10 * y + x);
            img26[(y * 2 + x) * 3 + 1] = (uint8_t)y;
            img26[(y * 2 + x) * 3 + 2] = 9;
        }
    static const uint8_t crop26[] = {20, 2, 9, 21, 2, 9, 30, 3, 9, 31, 3, 9};
    /* 1×1 output: the middle of the interval, (a + b)/2: the centre of the 2×2 image. */
    static const uint8_t one[] = {139, 12, 7};
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        for (int crop = 0; crop < 2; crop++) { /* equal aspect ratios: crop changes nothing */
            glnn_op *op = make_sampler(3, 3, crop, true, 0);
            check_sampler(ctx[c], op, img2, 2, 2, bil, 3, 3);
            glnn_op_release(op);
            op = make_sampler(3, 3, crop, false, 0);
            check_sampler(ctx[c], op, img2, 2, 2, nn, 3, 3);
            glnn_op_release(op);
        }
        glnn_op *op = make_sampler(2, 2, true, true, 0);
        check_sampler(ctx[c], op, img52, 2, 5, crop52, 2, 2);
        check_sampler(ctx[c], op, img26, 6, 2, crop26, 2, 2); /* re-prepared for another input size */
        glnn_op_release(op);
        op = make_sampler(2, 2, false, true, 0);
        check_sampler(ctx[c], op, img52, 2, 5, full52, 2, 2);
        glnn_op_release(op);
        op = make_sampler(2, 2, true, false, 0);
        check_sampler(ctx[c], op, img52, 2, 5, crop52n, 2, 2);
        glnn_op_release(op);
        op = make_sampler(1, 1, true, true, 0);
        check_sampler(ctx[c], op, img2, 2, 2, one, 1, 1);
        glnn_op_release(op);
    }
}

/* Each rotation of a 3-wide, 2-high image (a b c / d e f), sampled at its own rotated size: the exact
 * rotated image; then rotation before crop on a non-square output. */
static void test_sampler_rotation(void **state) {
    (void)state;
    glnn_error err;
    uint8_t img[2 * 3 * 3];
    for (int i = 0; i < 6; i++) {
        img[i * 3] = (uint8_t)('a' + i);
        img[i * 3 + 1] = (uint8_t)(10 * i);
        img[i * 3 + 2] = (uint8_t)(255 - i);
    }
    static const char *want[4] = {"abcdef", "daebfc", "fedcba", "cfbead"};
    static const int wo[4] = {3, 2, 3, 2}, ho[4] = {2, 3, 2, 3};
    /* Rotated once (2 wide × 4 high: rows "ea", "fb", "gc", "hd" of a 4×2 image abcd/efgh), then cropped to
     * 2×2: m = (4 − 2)/2 = 1, rows 1 and 2.  Cropping first would keep columns b, c instead. */
    uint8_t img42[4 * 2 * 3];
    for (int i = 0; i < 8; i++)
        img42[i * 3] = img42[i * 3 + 1] = img42[i * 3 + 2] = (uint8_t)('a' + i);
    static const char crop_rot[] = "fbgc";
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++)
        for (int linear = 0; linear < 2; linear++)
            for (int r = 0; r < 4; r++) {
                glnn_op *op = make_sampler(wo[r], ho[r], true, linear, 0);
                assert_ok(glnn_image_sampler_set_rotation(op, r, &err));
                uint8_t expect[18];
                for (int i = 0; i < 6; i++) {
                    int k = want[r][i] - 'a';
                    memcpy(expect + i * 3, img + k * 3, 3);
                }
                check_sampler(ctx[c], op, img, 2, 3, expect, ho[r], wo[r]);
                glnn_op_release(op);
                if (r != 1) continue;
                op = make_sampler(2, 2, true, linear, 1);
                uint8_t e2[12];
                for (int i = 0; i < 4; i++)
                    memset(e2 + i * 3, crop_rot[i], 3);
                check_sampler(ctx[c], op, img42, 2, 4, e2, 2, 2);
                /* Back to no rotation: columns b, c. */
                assert_ok(glnn_image_sampler_set_rotation(op, 0, &err));
                static const char crop0[] = "bcfg";
                for (int i = 0; i < 4; i++)
                    memset(e2 + i * 3, crop0[i], 3);
                check_sampler(ctx[c], op, img42, 2, 4, e2, 2, 2);
                glnn_op_release(op);
            }
}

/* ---- Upsampling2D --------------------------------------------------------------------------------------- */

static glnn_op *make_upsampling(const char *name, int factor, glnn_interpolation interpolation) {
    glnn_error err;
    glnn_upsampling2d_params p;
    glnn_upsampling2d_params_init(&p);
    p.name = name;
    p.factor = factor;
    p.interpolation = interpolation;
    glnn_op *op;
    assert_ok(glnn_upsampling2d_create(&p, &op, &err));
    return op;
}

static void test_upsampling_params(void **state) {
    (void)state;
    glnn_error err;
    glnn_upsampling2d_params p, q;
    glnn_upsampling2d_params_init(&p);
    assert_null(p.name);
    assert_int_equal(p.factor, 2);
    assert_int_equal(p.interpolation, GLNN_INTERPOLATION_NEAREST);
    p.name = "up";
    glnn_op *op;
    assert_ok(glnn_upsampling2d_create(&p, &op, &err));
    assert_ok(glnn_upsampling2d_get_params(op, &q, &err));
    assert_string_equal(q.name, "up");
    assert_int_equal(q.factor, 2);
    assert_int_equal(q.interpolation, GLNN_INTERPOLATION_NEAREST);
    assert_int_equal(glnn_op_get_kind(op), GLNN_OP_UPSAMPLING2D);
    assert_string_equal(glnn_op_type_name(op), "upsampling2d");
    assert_string_equal(glnn_op_name(op), "up");
    assert_int_equal(glnn_op_input_count(op), 1);
    assert_int_equal(glnn_op_output_count(op), 1);
    assert_keys(op, "factor: 2\ninterpolation: nearest\n");
    char buf[64];
    glnn_op_describe(op, buf, sizeof buf);
    assert_string_equal(buf, "x2 nearest");
    /* Counters need the output size. */
    int64_t v;
    assert_error(glnn_op_count_multiply_adds(op, &v, &err), &err, GLNN_ERR_STATE, "up");
    glnn_pooling2d_params pp;
    assert_error(glnn_pooling2d_get_params(op, &pp, &err), &err, GLNN_ERR_ARGUMENT, "not a Pooling2D");
    glnn_op *pool = glnn_test_pool("p", GLNN_POOLING_MAX, 2, 0, GLNN_PADDING_VALID);
    assert_error(glnn_upsampling2d_get_params(pool, &q, &err), &err, GLNN_ERR_ARGUMENT, "not an Upsampling2D");
    assert_error(glnn_upsampling2d_get_params(op, NULL, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D");
    glnn_op_release(pool);
    glnn_op_release(op);

    /* The largest factor, bilinear; the same op from its description (glnn_op_create), parameters in order. */
    op = make_upsampling("up16", 16, GLNN_INTERPOLATION_BILINEAR);
    assert_keys(op, "factor: 16\ninterpolation: bilinear\n");
    glnn_op_release(op);
    const glnn_op_info *info = glnn_op_info_find("upsampling2d");
    assert_non_null(info);
    assert_int_equal(info->kind, GLNN_OP_UPSAMPLING2D);
    assert_string_equal(info->class_name, "Upsampling2D");
    assert_int_equal(info->n_params, 2);
    assert_string_equal(info->params[0].key, "factor");
    assert_false(info->params[0].required);
    assert_int_equal(info->params[0].default_value, 2);
    assert_string_equal(info->params[1].key, "interpolation");
    assert_int_equal(info->params[1].type, GLNN_PARAM_ENUM);
    assert_ptr_equal(glnn_op_info_at(GLNN_OP_UPSAMPLING2D - 1), info);
    const int values[2] = {5, GLNN_INTERPOLATION_BILINEAR};
    assert_ok(glnn_op_create("upsampling2d", "gen", values, 2, &op, &err));
    assert_ok(glnn_upsampling2d_get_params(op, &q, &err));
    assert_int_equal(q.factor, 5);
    assert_int_equal(q.interpolation, GLNN_INTERPOLATION_BILINEAR);
    int value;
    assert_ok(glnn_op_get_param(op, 0, &value, &err));
    assert_int_equal(value, 5);
    assert_ok(glnn_op_get_param(op, 1, &value, &err));
    assert_int_equal(value, GLNN_INTERPOLATION_BILINEAR);
    glnn_op_describe(op, buf, sizeof buf);
    assert_string_equal(buf, "x5 bilinear");
    glnn_op_release(op);
    /* Enumeration words. */
    glnn_interpolation it;
    assert_ok(glnn_interpolation_parse("BiLinear", &it, &err));
    assert_int_equal(it, GLNN_INTERPOLATION_BILINEAR);
    assert_string_equal(glnn_interpolation_name(GLNN_INTERPOLATION_NEAREST), "nearest");
    assert_string_equal(glnn_interpolation_name(GLNN_INTERPOLATION_BILINEAR), "bilinear");
}

/* SPEC §5.5: invalid name; factor < 2 or > 16; interpolation not one of the two — in that order. */
static void test_upsampling_construction_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_upsampling2d_params p;
    glnn_upsampling2d_params_init(&p);
    p.name = "u";
    glnn_op *op = NULL;
    glnn_upsampling2d_params bad = p;
    bad.name = "";
    bad.factor = 1;
    bad.interpolation = (glnn_interpolation)7;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D",
                 "invalid operation name");
    bad.name = NULL;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "invalid operation name");
    bad.name = "u";
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D 'u'",
                 "factor must be between 2 and 16, got 1");
    bad.factor = 17;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "got 17");
    bad.factor = -3;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "got -3");
    bad.factor = 0;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "got 0");
    bad.factor = 16;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D 'u'",
                 "invalid interpolation '7'");
    bad.interpolation = (glnn_interpolation)-1;
    assert_error(glnn_upsampling2d_create(&bad, &op, &err), &err, GLNN_ERR_ARGUMENT, "invalid interpolation '-1'");
    assert_null(op);
    assert_error(glnn_upsampling2d_create(NULL, &op, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D");
    assert_error(glnn_upsampling2d_create(&p, NULL, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D");
    /* The generic constructor: the same checks, the same messages. */
    const int values[2] = {1, GLNN_INTERPOLATION_NEAREST};
    assert_error(glnn_op_create("upsampling2d", "u", values, 2, &op, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D 'u'",
                 "factor must be between 2 and 16, got 1");
    assert_error(glnn_op_create("upsampling2d", "u", values, 1, &op, &err), &err, GLNN_ERR_ARGUMENT,
                 "create Upsampling2D", "1 parameter values given for 2 parameters");
    /* The bounds themselves are valid. */
    bad.interpolation = GLNN_INTERPOLATION_BILINEAR;
    for (int f = 2; f <= 16; f += 14) {
        bad.factor = f;
        assert_ok(glnn_upsampling2d_create(&bad, &op, &err));
        glnn_op_release(op);
    }
}

/* Hand-computed results (SPEC §5.5) on a 2×2×4 input, factor 2, and on a 1×3×4 row, factor 3.  Bilinear samples
 * p = (j + 0.5)/f − 0.5 clamped to [0, n − 1]: for n = 2, f = 2 the weights of pixel 1 are 0, 1/4, 3/4, 1 along
 * each axis; x first, then y, result ⌊v + 0.5⌋. */
static void test_upsampling_hand(void **state) {
    (void)state;
    glnn_error err;
    /* Channel 0: 0 100 / 200 255; channel 1: 10 11 / 12 13; channel 2: 7; channel 3: 255 0 / 0 255. */
    static const uint8_t in[2 * 2 * 4] = {0, 10, 7, 255, 100, 11, 7, 0, 200, 12, 7, 0, 255, 13, 7, 255};
    /* Channel 0: rows of x-blends 0 25 75 100 (top) and 200 213.75 241.25 255 (bottom), then
     * y1 = 3/4 top + 1/4 bottom = 50 72.1875 116.5625 138.75, y2 = 1/4 top + 3/4 bottom = 150 166.5625 199.6875
     * 216.25. */
    static const uint8_t bil0[4][4] = {
        {0, 25, 75, 100}, {50, 72, 117, 139}, {150, 167, 200, 216}, {200, 214, 241, 255}};
    /* Channel 1: 10 10.25 10.75 11 / 10.5 10.75 11.25 11.5 / 11.5 11.75 12.25 12.5 / 12 12.25 12.75 13: halves
     * round up. */
    static const uint8_t bil1[4][4] = {{10, 10, 11, 11}, {11, 11, 11, 12}, {12, 12, 12, 13}, {12, 12, 13, 13}};
    /* Channel 3: 255 191.25 63.75 0 / 191.25 159.375 95.625 63.75 / 63.75 95.625 159.375 191.25 / 0 63.75 191.25
     * 255. */
    static const uint8_t bil3[4][4] = {{255, 191, 64, 0}, {191, 159, 96, 64}, {64, 96, 159, 191}, {0, 64, 191, 255}};
    /* A 1×3 row, factor 3: p = −1/3, 0, 1/3, 2/3, 1, 4/3, 5/3, 2, 7/3; rows all alike (n = 1: pixel 0). */
    static const uint8_t row[3 * 4] = {0, 255, 9, 30, 30, 0, 9, 30, 90, 255, 9, 30};
    static const uint8_t row_bil[2][9] = {{0, 0, 10, 20, 30, 50, 70, 90, 90},
                                          {255, 255, 170, 85, 0, 85, 170, 255, 255}};
    static const uint8_t row_near[2][9] = {{0, 0, 0, 30, 30, 30, 90, 90, 90}, {255, 255, 255, 0, 0, 0, 255, 255, 255}};
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++) {
        glnn_tensor *t = make_tensor(ctx[c], 2, 2, 4, in);
        int64_t n;
        glnn_op *op = make_upsampling("near", 2, GLNN_INTERPOLATION_NEAREST);
        uint8_t *out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 4 * 4 * 4);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                assert_memory_equal(out + (y * 4 + x) * 4, in + ((y / 2) * 2 + x / 2) * 4, 4);
        glnn_shape s;
        assert_ok(glnn_op_output_shape(op, 0, &s, &err));
        assert_int_equal(s.kind, GLNN_KIND_TENSOR);
        assert_int_equal(s.h, 4);
        assert_int_equal(s.w, 4);
        assert_int_equal(s.c, 4);
        free(out);
        glnn_op_release(op);

        op = make_upsampling("bil", 2, GLNN_INTERPOLATION_BILINEAR);
        out = run_u8(ctx[c], op, NULL, t, &n);
        assert_int_equal(n, 4 * 4 * 4);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) {
                const uint8_t *px = out + (y * 4 + x) * 4;
                if (px[0] != bil0[y][x] || px[1] != bil1[y][x] || px[2] != 7 || px[3] != bil3[y][x])
                    fail_msg("%s: output (%d, %d) is %d %d %d %d, expected %d %d 7 %d", glnn_context_path(ctx[c]), x, y,
                             px[0], px[1], px[2], px[3], bil0[y][x], bil1[y][x], bil3[y][x]);
            }
        free(out);
        glnn_op_release(op);
        glnn_tensor_free(t);

        t = make_tensor(ctx[c], 1, 3, 4, row);
        for (int bilinear = 0; bilinear < 2; bilinear++) {
            op = make_upsampling("row", 3, bilinear ? GLNN_INTERPOLATION_BILINEAR : GLNN_INTERPOLATION_NEAREST);
            out = run_u8(ctx[c], op, NULL, t, &n);
            assert_int_equal(n, 3 * 9 * 4);
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 9; x++) {
                    const uint8_t *px = out + (y * 9 + x) * 4;
                    const uint8_t(*want)[9] = bilinear ? row_bil : row_near;
                    assert_int_equal(px[0], want[0][x]);
                    assert_int_equal(px[1], want[1][x]);
                    assert_int_equal(px[2], 9);
                    assert_int_equal(px[3], 30);
                }
            free(out);
            glnn_op_release(op);
        }
        glnn_tensor_free(t);
    }
}

static void test_upsampling_prepare_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_op *op = make_upsampling("u", 3, GLNN_INTERPOLATION_BILINEAR);
    glnn_tensor *out = NULL, *none = NULL;
    assert_error(glnn_op_run(cpu, op, NULL, NULL, 0, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'u' is not provided");
    assert_error(glnn_op_run(cpu, op, NULL, &none, 1, &out, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'u' is not provided");
    uint8_t px[4 * 5 * 8] = {0};
    glnn_tensor *img = make_image(cpu, 2, 2, px);
    assert_error(glnn_op_run(cpu, op, NULL, &img, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Upsampling2D 'u'",
                 "expects a tensor on input #0, got an image");
    float f[8] = {0};
    glnn_tensor *vec = make_vector(cpu, 8, f);
    assert_error(glnn_op_run(cpu, op, NULL, &vec, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "got a vector");
    assert_null(out);
    assert_false(op->prepared);
    /* Prepared on 4×5×8: 12×15×8, 4·H_out·W_out·C multiply-adds (bilinear), 4× H_out·W_out·C/4 fetches.  A failed
     * preparation then leaves the op as it was. */
    glnn_tensor *t = make_tensor(cpu, 4, 5, 8, px);
    assert_ok(glnn_op_run(cpu, op, NULL, &t, 1, &out, &err));
    assert_counters(op, 4 * 12 * 15 * 8, 12 * 15 * 8);
    glnn_tensor_free(out);
    out = NULL;
    assert_error(glnn_op_run(cpu, op, NULL, &img, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "got an image");
    glnn_shape s;
    assert_ok(glnn_op_output_shape(op, 0, &s, &err));
    assert_int_equal(s.h, 12);
    assert_int_equal(s.w, 15);
    assert_int_equal(s.c, 8);
    assert_counters(op, 4 * 12 * 15 * 8, 12 * 15 * 8);
    /* An output tensor of the wrong shape. */
    glnn_tensor *wrong = make_tensor(cpu, 12, 14, 8, NULL);
    assert_error(glnn_op_run(cpu, op, NULL, &t, 1, &wrong, &err), &err, GLNN_ERR_ARGUMENT, "run 'u'",
                 "the output tensor must be 12×15×8");
    glnn_tensor_free(wrong);
    glnn_tensor_free(t);
    glnn_tensor_free(img);
    glnn_tensor_free(vec);
    glnn_op_release(op);
}

/* Counters (SPEC §5.5): nearest 0 multiply-adds and H_out·W_out·C/4 fetches, bilinear 4·H_out·W_out·C and four
 * times the fetches; on every context. */
static void test_upsampling_counters(glnn_context *ctx) {
    glnn_error err;
    uint8_t *zeros = calloc(3 * 7 * 16, 1);
    glnn_tensor *t = make_tensor(ctx, 3, 7, 16, zeros), *out = NULL;
    for (int bilinear = 0; bilinear < 2; bilinear++) {
        glnn_op *op = make_upsampling("u", 16, bilinear ? GLNN_INTERPOLATION_BILINEAR : GLNN_INTERPOLATION_NEAREST);
        assert_ok(glnn_op_run(ctx, op, NULL, &t, 1, &out, &err));
        const int64_t v = 48 * 112 * 16;
        assert_counters(op, bilinear ? 4 * v : 0, bilinear ? v : v / 4);
        glnn_tensor_free(out);
        out = NULL;
        glnn_op_release(op);
    }
    glnn_tensor_free(t);
    free(zeros);
}

/* Listing keys `factor` and `interpolation`: read, defaults when absent, printed in key order; the printed text
 * reads back the same. */
static void test_upsampling_listing(void **state) {
    (void)state;
    glnn_error err;
    static const char listing[] = "connections:\n"
                                  " - from: a\n   to: b\n"
                                  "ops:\n"
                                  " - _name: a\n   _type: upsampling2d\n   factor: 3\n   interpolation: bilinear\n"
                                  " - _name: b\n   _type: upsampling2d\n   factor: 2\n   interpolation: nearest\n";
    glnn_model *m;
    assert_ok(glnn_model_deserialize(listing, strlen(listing), &m, &err));
    glnn_upsampling2d_params q;
    assert_ok(glnn_upsampling2d_get_params(glnn_model_find(m, "a"), &q, &err));
    assert_int_equal(q.factor, 3);
    assert_int_equal(q.interpolation, GLNN_INTERPOLATION_BILINEAR);
    char *text;
    size_t n;
    assert_ok(glnn_model_serialize(m, &text, &n, &err));
    assert_string_equal(text, listing);
    glnn_model *again;
    assert_ok(glnn_model_deserialize(text, n, &again, &err));
    char *text2;
    assert_ok(glnn_model_serialize(again, &text2, &n, &err));
    assert_string_equal(text2, text);
    glnn_free(text);
    glnn_free(text2);
    glnn_model_free(again);
    /* Run: 1×2×4 → 3×6×4 → 6×12×4, against the two ops run by hand. */
    uint8_t in[2 * 4] = {0, 60, 120, 180, 255, 90, 30, 240};
    assert_ok(glnn_model_bind_tensor_u8(m, "a", 0, in, 1, 2, 4, &err));
    assert_ok(glnn_model_add_output(m, "b", 0, &err));
    glnn_context *cpu = glnn_test_cpu();
    assert_ok(glnn_model_run(m, cpu, NULL, &err));
    uint8_t got[6 * 12 * 4];
    assert_ok(glnn_model_get_output_u8(m, "b", 0, got, sizeof got, &err));
    glnn_op *a = make_upsampling("a", 3, GLNN_INTERPOLATION_BILINEAR), *b = make_upsampling("b", 2, 0);
    glnn_tensor *t = make_tensor(cpu, 1, 2, 4, in), *mid = NULL;
    assert_ok(glnn_op_run(cpu, a, NULL, &t, 1, &mid, &err));
    int64_t count;
    uint8_t *want = run_u8(cpu, b, NULL, mid, &count);
    assert_int_equal(count, sizeof got);
    assert_memory_equal(got, want, sizeof got);
    free(want);
    glnn_tensor_free(mid);
    glnn_tensor_free(t);
    glnn_op_release(a);
    glnn_op_release(b);
    glnn_model_free(m);
    /* Keys left out take the defaults: factor 2, nearest. */
    static const char bare[] = "ops:\n - _name: u\n   _type: upsampling2d\n";
    assert_ok(glnn_model_deserialize(bare, strlen(bare), &m, &err));
    assert_ok(glnn_upsampling2d_get_params(glnn_model_op_at(m, 0), &q, &err));
    assert_int_equal(q.factor, 2);
    assert_int_equal(q.interpolation, GLNN_INTERPOLATION_NEAREST);
    assert_ok(glnn_model_serialize(m, &text, &n, &err));
    assert_string_equal(text, "connections:\nops:\n - _name: u\n   _type: upsampling2d\n   factor: 2\n"
                              "   interpolation: nearest\n");
    glnn_free(text);
    glnn_model_free(m);
    glnn_context *ctx[2];
    int nc = contexts(ctx);
    for (int c = 0; c < nc; c++)
        test_upsampling_counters(ctx[c]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pooling_params),
        cmocka_unit_test(test_pooling_construction_errors),
        cmocka_unit_test(test_pooling_hand),
        cmocka_unit_test(test_pooling_same),
        cmocka_unit_test(test_pooling_prepare_errors),
        cmocka_unit_test(test_pooling_counters),
        cmocka_unit_test(test_dense_params),
        cmocka_unit_test(test_dense_hand),
        cmocka_unit_test(test_dense_errors),
        cmocka_unit_test(test_dense_counters),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_sampler_params),
        cmocka_unit_test(test_sampler_hand),
        cmocka_unit_test(test_sampler_rotation),
        cmocka_unit_test(test_upsampling_params),
        cmocka_unit_test(test_upsampling_construction_errors),
        cmocka_unit_test(test_upsampling_hand),
        cmocka_unit_test(test_upsampling_prepare_errors),
        cmocka_unit_test(test_upsampling_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
