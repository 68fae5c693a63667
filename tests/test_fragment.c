/* The fragment path (issue #7): every operation as a GLES 2.0 fragment shader into RGBA8 textures.  ctest runs
 * this program with MESA_GLES_VERSION_OVERRIDE=2.0, so that Mesa offers a GLES 2.0 context without compute
 * shaders, as on a Raspberry Pi Zero–3.  The path's own tests: its context, tensors read back whatever their texture
 * layout, a Conv2D over several tile columns, a graph with shuffles and a residual, the sampling limit of SPEC §4.10,
 * size errors, powers of two built by multiplication, and the dog classifier on every picture.  Every op against
 * the CPU reference (the Conv2D grids, Pooling2D, Dense, ImageSampler, Upsampling2D, shuffles, with the weights in
 * uniforms and in textures) is test_backends' table, which ctest also runs under GLES 2.0.
 * Every value must be within the budget of SPEC §2.5; the exact-match shares are reported. */
#include "testutil.h"

#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MODEL_PATH "../shared/models/dog_classifier.chunks"

/* ---- contexts ------------------------------------------------------------------------------------------ */

static glnn_context *frag_ctx[2]; /* weights in uniforms, weights in textures */
static bool frag_tried;

static glnn_context *open_fragment(const char *uniform_budget) {
    glnn_error err;
    glnn_context_options o;
    glnn_context_options_init(&o);
    const char *dev = getenv("GLNN_DEVICE");
    o.device = dev && *dev && strcmp(dev, "cpu") != 0 && strcmp(dev, "reference") != 0 ? dev : "gpu";
    o.path = "fragment";
    if (uniform_budget)
        setenv("GLNN_FRAG_UNIFORMS", uniform_budget, 1);
    else
        unsetenv("GLNN_FRAG_UNIFORMS");
    glnn_context *ctx = NULL;
    if (glnn_context_create(&o, &ctx, &err) != GLNN_OK) {
        fprintf(stderr, "no fragment-path context: %s\n", err.message);
        if (getenv("GLNN_REQUIRE_GPU")) abort();
        ctx = NULL;
    }
    unsetenv("GLNN_FRAG_UNIFORMS");
    return ctx;
}

/* The fragment-path context: i = 0 keeps Conv2D weights in uniforms, i = 1 in textures. */
static glnn_context *frag(int i) {
    if (!frag_tried) {
        frag_tried = true;
        frag_ctx[0] = open_fragment(NULL);
        frag_ctx[1] = frag_ctx[0] ? open_fragment("0") : NULL;
    }
    return frag_ctx[i];
}

static void fill_bytes(glnn_rng *r, uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        p[i] = (uint8_t)(glnn_rng_u32(r) >> 24);
}

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

/* Runs op on inputs (on ctx) and returns the output's bytes, malloc'ed. */
static uint8_t *run_u8(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor **in, int n_in,
                       int64_t *n) {
    glnn_error err;
    glnn_tensor *out = NULL;
    assert_ok(glnn_op_run(ctx, op, data, in, n_in, &out, &err));
    *n = glnn_shape_count(glnn_tensor_shape(out));
    uint8_t *bytes = malloc((size_t)*n);
    assert_ok(glnn_tensor_download_u8(out, bytes, *n, &err));
    glnn_tensor_free(out);
    return bytes;
}

/* ---- context ------------------------------------------------------------------------------------------- */

static void test_context(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx = frag(0);
    if (!ctx) skip();
    assert_true(glnn_context_is_gpu(ctx));
    assert_string_equal(glnn_context_path(ctx), "fragment");
    char buf[4096];
    glnn_context_describe(ctx, buf, sizeof buf);
    printf("%s", buf);
    assert_non_null(strstr(buf, "path: fragment"));
    assert_non_null(strstr(buf, "max texture size"));

    glnn_context_options o;
    glnn_context_options_init(&o);
    assert_null(o.path);
    glnn_context *other = NULL;
    o.path = "banana";
    assert_error(glnn_context_create(&o, &other, &err), &err, GLNN_ERR_ARGUMENT, "unknown path 'banana'");
    assert_null(other);
    /* The CPU back ends take any valid path and report their own. */
    o.device = "cpu";
    o.path = "Fragment";
    assert_ok(glnn_context_create(&o, &other, &err));
    assert_string_equal(glnn_context_path(other), "cpu");
    glnn_context_free(other);
    o.device = "reference";
    assert_ok(glnn_context_create(&o, &other, &err));
    assert_string_equal(glnn_context_path(other), "reference");
    glnn_context_free(other);

    /* Under a GLES 2.0 driver (as ctest runs this test), path "auto" falls back to the fragment path and "compute"
     * is refused. */
    const char *version = getenv("MESA_GLES_VERSION_OVERRIDE");
    if (version && strcmp(version, "2.0") == 0) {
        glnn_context_options_init(&o);
        o.device = "gpu";
        o.path = "auto";
        assert_ok(glnn_context_create(&o, &other, &err));
        assert_string_equal(glnn_context_path(other), "fragment");
        glnn_context_free(other);
        o.path = "compute";
        other = NULL;
        assert_error(glnn_context_create(&o, &other, &err), &err, GLNN_ERR_DEVICE, "3.1");
        assert_null(other);
    }
}

/* ---- Conv2D over two columns of tiles ------------------------------------------------------------------- */

/* Runs the case `row` on the CPU reference and on the fragment contexts gpus[0 … n−1]; compares (tally t[i]). */
static void run_case_on(glnn_context *const *gpus, int n, const char *row, glnn_test_tally *t) {
    glnn_error err;
    glnn_test_case *c = glnn_test_case_create(row);
    glnn_test_output ref, got;
    assert_ok(glnn_test_case_run(c, glnn_test_cpu(), &ref, &err));
    for (int i = 0; i < n; i++) {
        assert_ok(glnn_test_case_run(c, gpus[i], &got, &err));
        glnn_test_compare(c, &ref, &got, glnn_context_path(gpus[i]), &t[i]);
        glnn_test_output_free(&got);
    }
    glnn_test_output_free(&ref);
    glnn_test_case_free(c);
}

/* A tensor whose quads fill more than one column of tiles (H·C/4 above the texture size), with the weights in
 * uniforms and in textures. */
static void test_conv2d_tile_columns(void **state) {
    (void)state;
    if (!frag(0)) skip();
    char buf[4096];
    glnn_context_describe(frag(0), buf, sizeof buf);
    const char *line = strstr(buf, "render targets up to ");
    assert_non_null(line);
    const int max = atoi(line + strlen("render targets up to "));
    char row[256];
    snprintf(row, sizeof row,
             "conv2d kernel_size=3 input_channels=32 output_channels=32 groups=4 padding=same activation=brelu6 | "
             "%dx3x32 residual",
             max / 8 + 3); /* 8 quads of max/8 + 3 rows: two columns of tiles */
    glnn_test_tally t[2] = {{0}};
    glnn_context *gpus[2] = {frag(0), frag(1)};
    run_case_on(gpus, 2, row, t);
    glnn_test_tally_print("Conv2D over two columns of tiles, weights in uniforms", &t[0]);
    glnn_test_tally_print("Conv2D over two columns of tiles, weights in textures", &t[1]);
}

/* ---- tensors, graphs ------------------------------------------------------------------------------------- */

/* Tensors, images and vectors read back as they were written, whatever their texture layout. */
static void test_round_trip(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = frag(0);
    if (!gpu) skip();
    glnn_rng r = {5};
    static const int64_t shapes[][4] = {{GLNN_KIND_TENSOR, 1, 1, 4},     {GLNN_KIND_TENSOR, 5, 3, 64},
                                        {GLNN_KIND_TENSOR, 1, 1, 80000}, {GLNN_KIND_TENSOR, 3000, 2, 48},
                                        {GLNN_KIND_IMAGE, 7, 11, 3},     {GLNN_KIND_VECTOR, 1, 1, 5},
                                        {GLNN_KIND_VECTOR, 1, 1, 40000}};
    for (int si = 0; si < COUNT(shapes); si++) {
        const glnn_shape s = {(glnn_data_kind)shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3]};
        const int64_t n = glnn_shape_count(s);
        glnn_tensor *t;
        assert_ok(glnn_tensor_create(gpu, s, &t, &err));
        if (s.kind == GLNN_KIND_VECTOR) {
            float *f = malloc((size_t)n * sizeof(float)), *g = malloc((size_t)n * sizeof(float));
            for (int64_t i = 0; i < n; i++)
                f[i] = glnn_rng_uniform(&r, -1e6f, 1e6f) * (i % 3 ? 1e-9f : 1.0f);
            f[0] = -0.0f;
            assert_ok(glnn_tensor_upload_f32(t, f, n, &err));
            assert_ok(glnn_tensor_download_f32(t, g, n, &err));
            assert_memory_equal(f, g, (size_t)n * sizeof(float));
            free(f);
            free(g);
        } else {
            uint8_t *a = malloc((size_t)n), *b = malloc((size_t)n);
            assert_ok(glnn_tensor_download_u8(t, b, n, &err));
            for (int64_t i = 0; i < n; i++)
                assert_int_equal(b[i], 0); /* created zero-filled */
            fill_bytes(&r, a, n);
            assert_ok(glnn_tensor_upload_u8(t, a, n, &err));
            assert_ok(glnn_tensor_download_u8(t, b, n, &err));
            assert_memory_equal(a, b, (size_t)n);
            free(a);
            free(b);
        }
        glnn_tensor_free(t);
    }
}

/* A model with shuffled connections, a residual, pooling and two Dense layers (vector into vector). */
static void test_graph(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctxs[2] = {glnn_test_cpu(), frag(0)};
    if (!ctxs[1]) skip();
    static const char listing[] =
        "ops:\n"
        " - _name: c1\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 3\n"
        "   output_channels: 32\n   stride: 2\n   activation: brelu6\n"
        " - _name: pw\n   _type: conv2d\n   kernel_size: 1\n   input_channels: 32\n"
        "   output_channels: 32\n   groups: 2\n   padding: same\n   activation: sigmoid_like\n"
        " - _name: dw\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 32\n"
        "   output_channels: 32\n   groups: 8\n   padding: same\n   activation: sigmoid_like\n"
        " - _name: gap\n   _type: pooling2d\n   operator: average\n   size: 15\n"
        " - _name: fc1\n   _type: dense\n   output_dims: 16\n"
        " - _name: fc2\n   _type: dense\n   output_dims: 8\n"
        " - _name: prob\n   _type: softmax\n"
        "connections:\n"
        " - from: c1\n   to: pw\n   shuffle: 4\n"
        " - from: pw\n   to: dw\n   shuffle: 2\n"
        " - from: c1\n   to: dw\n   to_input: 1\n   shuffle: 8\n"
        " - from: dw\n   to: gap\n"
        " - from: gap\n   to: fc1\n   shuffle: 2\n"
        " - from: fc1\n   to: fc2\n"
        " - from: fc2\n   to: prob\n";
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    glnn_rng r = {31};
    static const struct {
        const char *name;
        int n_w, n_b;
        float scale;
    } layers[] = {{"c1", 27 * 32, 32, 0.3f},
                  {"pw", 16 * 32, 32, 0.5f},
                  {"dw", 9 * 4 * 32, 32, 0.4f},
                  {"fc1", 32 * 16, 16, 0.5f},
                  {"fc2", 16 * 8, 8, 0.5f}};
    for (int i = 0; i < COUNT(layers); i++) {
        float *w = malloc((size_t)layers[i].n_w * sizeof(float)), b[32];
        for (int j = 0; j < layers[i].n_w; j++)
            w[j] = glnn_rng_uniform(&r, -layers[i].scale, layers[i].scale);
        for (int j = 0; j < layers[i].n_b; j++)
            b[j] = glnn_rng_uniform(&r, -0.2f, 0.3f);
        assert_ok(glnn_chunks_set_weights(data, layers[i].name, w, layers[i].n_w, b, layers[i].n_b, &err));
        free(w);
    }
    uint8_t px[31 * 31 * 3];
    fill_bytes(&r, px, sizeof px);
    uint8_t dw[2][15 * 15 * 32];
    float fc2[2][8], prob[2][8];
    for (int d = 0; d < 2; d++) {
        glnn_model *m;
        assert_ok(glnn_model_deserialize(listing, strlen(listing), &m, &err));
        assert_ok(glnn_model_add_output(m, "dw", 0, &err));
        assert_ok(glnn_model_add_output(m, "fc2", 0, &err));
        assert_ok(glnn_model_bind_image(m, "c1", 0, px, 31, 31, 3, &err));
        assert_ok(glnn_model_run(m, ctxs[d], data, &err));
        assert_ok(glnn_model_get_output_u8(m, "dw", 0, dw[d], sizeof dw[d], &err));
        assert_ok(glnn_model_get_output_f32(m, "fc2", 0, fc2[d], 8, &err));
        assert_ok(glnn_model_get_probabilities(m, NULL, prob[d], 8, &err));
        glnn_model_free(m);
    }
    int64_t exact = 0;
    for (size_t i = 0; i < sizeof dw[0]; i++) {
        const int d = abs((int)dw[0][i] - (int)dw[1][i]);
        if (d > 1) fail_msg("graph: value %zu of 'dw': fragment path %d, reference %d", i, dw[1][i], dw[0][i]);
        exact += d == 0;
    }
    printf("graph with shuffles and a residual: %zu values, %.4f%% exact\n", sizeof dw[0],
           100.0 * (double)exact / (double)sizeof dw[0]);
    for (int i = 0; i < 8; i++) {
        assert_true(fabsf(fc2[0][i] - fc2[1][i]) <= 1e-3f);
        assert_true(fabsf(prob[0][i] - prob[1][i]) <= 1e-3f);
    }
    glnn_chunks_free(data);
}

/* ---- limits -------------------------------------------------------------------------------------------- */

/* SPEC §4.10 on the fragment path: a Conv2D sampling more channels than the limit fails at preparation. */
static void test_sampling_limit(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = frag(0);
    if (!gpu) skip();
    const int saved = glnn_context_max_sampled_channels(gpu);
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 256, &err));
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "wide";
    p.kernel_size = 3;
    p.num_input_channels = 64;
    p.num_output_channels = 64;
    p.num_groups = 2; /* Cg = 32: 288 channels per output value */
    glnn_op *op;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    float *w = calloc(9 * 32 * 64, sizeof(float)), b[64] = {0};
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "wide", w, 9 * 32 * 64, b, 64, &err));
    glnn_tensor *in = make_data(gpu, GLNN_KIND_TENSOR, 4, 4, 64, NULL, NULL), *out = NULL;
    assert_error(glnn_op_run(gpu, op, data, &in, 1, &out, &err), &err, GLNN_ERR_ARGUMENT, "Conv2D 'wide'",
                 "samples 288 input channels", "limit of 256");
    assert_null(out);
    assert_ok(glnn_context_set_max_sampled_channels(gpu, 288, &err)); /* S = L is accepted */
    assert_ok(glnn_op_run(gpu, op, data, &in, 1, &out, &err));
    glnn_tensor_free(out);
    glnn_tensor_free(in);
    assert_ok(glnn_context_set_max_sampled_channels(gpu, saved, &err));
    glnn_chunks_free(data);
    free(w);
    glnn_op_release(op);
}

/* Data beyond the texture size limit: an error naming the shape, at creation and at preparation. */
static void test_size_limits(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = frag(0);
    if (!gpu) skip();
    glnn_tensor *t = NULL;
    glnn_shape wide = {GLNN_KIND_IMAGE, 1, 100000, 3};
    assert_error(glnn_tensor_create(gpu, wide, &t, &err), &err, GLNN_ERR_MEMORY, "1×100000×3", "texture");
    assert_null(t);
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "big";
    p.output_width = 100000;
    p.output_height = 2;
    glnn_op *op;
    assert_ok(glnn_image_sampler_create(&p, &op, &err));
    glnn_tensor *in = make_data(gpu, GLNN_KIND_IMAGE, 2, 2, 3, NULL, NULL), *out = NULL;
    assert_error(glnn_op_run(gpu, op, NULL, &in, 1, &out, &err), &err, GLNN_ERR_MEMORY, "ImageSampler 'big'",
                 "2×100000×3");
    glnn_tensor_free(in);
    glnn_op_release(op);
}

static glnn_context *pow2_ctx;
static glnn_test_tally pow2_tally;

static void pow2_conv(void *user, const char *row) {
    (void)user;
    if (!strstr(row, "use_bias=true activation=sigmoid_like") || (!strstr(row, "image") && !strstr(row, "residual")))
        return;
    run_case_on(&pow2_ctx, 1, row, &pow2_tally);
}

/* Powers of two built by multiplication (the fallback for devices whose exp2() is not exact at integers), with
 * every weight decoded from textures: Conv2D of every kind, Dense and a bilinear ImageSampler. */
static void test_exact_pow2(void **state) {
    (void)state;
    glnn_error err;
    if (!frag(0)) skip();
    setenv("GLNN_FRAG_EXACT_POW2", "1", 1);
    glnn_context *gpu = open_fragment("0");
    unsetenv("GLNN_FRAG_EXACT_POW2");
    assert_non_null(gpu);
    char buf[4096];
    glnn_context_describe(gpu, buf, sizeof buf);
    assert_non_null(strstr(buf, "powers of two from multiplications"));
    /* Every channel configuration of the Conv2D grid, 3×3 SAME (images VALID) with a residual (not on images), bias
     * and the sigmoid-like activation. */
    pow2_tally = (glnn_test_tally){0};
    pow2_ctx = gpu;
    glnn_test_conv_grid(1, pow2_conv, NULL);
    glnn_test_tally_print("Conv2D, exact powers of two", &pow2_tally);
    assert_int_equal(pow2_tally.cases, 17);
    assert_int_equal(pow2_tally.exact, pow2_tally.values);

    glnn_rng r = {2024};
    /* Dense on a vector, and a bilinear ImageSampler (its weights are float32 texels too). */
    float a[24 * 8], b[8], x[24], y[2][8];
    for (int i = 0; i < 24 * 8; i++)
        a[i] = glnn_rng_uniform(&r, -1e3f, 1e3f) * (i % 2 ? 1e-6f : 1.0f);
    for (int i = 0; i < 8; i++)
        b[i] = glnn_rng_uniform(&r, -2, 2);
    for (int i = 0; i < 24; i++)
        x[i] = glnn_rng_uniform(&r, -3, 3);
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "d", a, 24 * 8, b, 8, &err));
    glnn_dense_params dp;
    glnn_dense_params_init(&dp);
    dp.name = "d";
    dp.num_output_dims = 8;
    glnn_op *dense;
    assert_ok(glnn_dense_create(&dp, &dense, &err));
    glnn_context *ctxs[2] = {glnn_test_cpu(), gpu};
    for (int d = 0; d < 2; d++) {
        glnn_tensor *in = make_data(ctxs[d], GLNN_KIND_VECTOR, 1, 1, 24, NULL, x), *out = NULL;
        assert_ok(glnn_op_run(ctxs[d], dense, data, &in, 1, &out, &err));
        assert_ok(glnn_tensor_download_f32(out, y[d], 8, &err));
        glnn_tensor_free(in);
        glnn_tensor_free(out);
    }
    assert_memory_equal(y[0], y[1], sizeof y[0]);
    glnn_op_release(dense);
    glnn_chunks_free(data);

    glnn_image_sampler_params sp;
    glnn_image_sampler_params_init(&sp);
    sp.name = "s";
    sp.output_width = 29;
    sp.output_height = 17;
    glnn_op *sampler;
    assert_ok(glnn_image_sampler_create(&sp, &sampler, &err));
    uint8_t px[23 * 37 * 3], *o[2];
    fill_bytes(&r, px, sizeof px);
    int64_t n[2];
    for (int d = 0; d < 2; d++) {
        glnn_tensor *in = make_data(ctxs[d], GLNN_KIND_IMAGE, 23, 37, 3, px, NULL);
        o[d] = run_u8(ctxs[d], sampler, NULL, &in, 1, &n[d]);
        glnn_tensor_free(in);
    }
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(o[0], o[1], (size_t)n[0]);
    free(o[0]);
    free(o[1]);
    glnn_op_release(sampler);
    glnn_context_free(gpu);
}

/* ---- the unrolled Conv2D forms and the decoding of sampled bytes (issue #15) ------------------------------ */

/* A fragment-path context created with environment variable `name` set to `value` (a test hook read at creation);
 * NULL without a fragment path. */
static glnn_context *open_with(const char *name, const char *value) {
    if (!frag(0)) return NULL;
    setenv(name, value, 1);
    glnn_context *ctx = open_fragment(NULL);
    unsetenv(name);
    return ctx;
}

typedef struct {
    glnn_context **gpus;
    int n;
    glnn_test_tally *t;
    int max_sum;  /* rows with more products per output value (k²·Cin/G) are skipped */
    int max_cost; /* and rows with more products per output value × output quads */
} grid_run;

static int row_value(const char *row, const char *key, int otherwise) {
    const char *p = strstr(row, key);
    return p ? atoi(p + strlen(key)) : otherwise;
}

static void grid_row(void *user, const char *row) {
    grid_run *g = user;
    const int k = row_value(row, "kernel_size=", 1), cin = row_value(row, "input_channels=", 1);
    const int groups = row_value(row, "groups=", 1), cout = row_value(row, "output_channels=", 1);
    const int sum = k * k * cin / groups;
    if (sum > g->max_sum || sum * (cout / 4) > g->max_cost) return;
    run_case_on(g->gpus, g->n, row, g->t);
}

/* The Conv2D grids (geometry, channels, sizes) on a context where every Conv2D whose sum unrolls gets one program
 * per output quad with its weights as literals (GLNN_FRAG_BAKED=1), and the channel and size grids on one where
 * every such Conv2D is unrolled with its weights in uniforms (GLNN_FRAG_BAKED=0; the geometry, masks and offsets
 * are the same code): bit-identical to the CPU reference.  The rows whose programs are quick to compile on
 * llvmpipe (ctest starts with an empty program cache): with literal weights, sums of at most 200 products and 200
 * products times output quads (programs); with uniforms, at most 36 products (llvmpipe compiles an unrolled run of
 * uniform reads slowly: 25 s for 576). */
static void test_conv2d_unrolled(void **state) {
    (void)state;
    glnn_context *gpus[2] = {open_with("GLNN_FRAG_BAKED", "1"), open_with("GLNN_FRAG_BAKED", "0")};
    if (!gpus[0]) skip();
    assert_non_null(gpus[1]);
    char buf[4096];
    glnn_context_describe(gpus[0], buf, sizeof buf);
    assert_non_null(strstr(buf, "literals in the source wherever unrolled (forced)"));
    glnn_context_describe(gpus[1], buf, sizeof buf);
    assert_null(strstr(buf, "literals in the source"));
    glnn_test_tally t[2] = {{0}};
    grid_run baked = {&gpus[0], 1, &t[0], 200, 200}, unrolled = {&gpus[1], 1, &t[1], 36, 1 << 20};
    for (int grid = 0; grid < GLNN_TEST_CONV_GRIDS; grid++) {
        glnn_test_conv_grid(grid, grid_row, &baked);
        if (grid > 0) glnn_test_conv_grid(grid, grid_row, &unrolled);
    }
    glnn_test_tally_print("Conv2D grids, weights as literals (one program per output quad)", &t[0]);
    glnn_test_tally_print("Conv2D grids, unrolled with weights in uniforms", &t[1]);
    assert_true(t[0].cases > 50);
    assert_int_equal(t[0].exact, t[0].values);
    assert_int_equal(t[1].exact, t[1].values);
    glnn_context_free(gpus[0]);
    glnn_context_free(gpus[1]);
}

/* Passes and texel fetches of one run of row's op on ctx (glnn_context_counters). */
static void count_run(glnn_context *ctx, const char *row, int64_t *passes, int64_t *fetches, int64_t *spec) {
    glnn_error err;
    glnn_test_case *c = glnn_test_case_create(row);
    glnn_test_output got;
    int64_t p0, f0, p1, f1;
    assert_ok(glnn_context_counters(ctx, &p0, &f0, &err));
    assert_ok(glnn_test_case_run(c, ctx, &got, &err));
    assert_ok(glnn_context_counters(ctx, &p1, &f1, &err));
    assert_ok(glnn_op_count_texel_fetches(glnn_test_case_op(c), spec, &err));
    *passes = p1 - p0;
    *fetches = f1 - f0;
    glnn_test_output_free(&got);
    glnn_test_case_free(c);
}

/* Layers large enough to get literal weights on a software renderer (the automatic choice), as in the dog
 * classifier and the benchmarks, on the default context: bit-identical; and the pass and fetch counters of the
 * fragment path: one pass per output quad, and for a Conv2D whose weights are not read from a texture exactly the
 * texel fetches of SPEC §4.8, whatever its form. */
static void test_conv2d_large(void **state) {
    (void)state;
    glnn_context *gpu = frag(0);
    if (!gpu) skip();
    static const char *const rows[] = {
        "conv2d kernel_size=5 input_channels=3 output_channels=8 stride=2 activation=sigmoid_like | image 101x99",
        "conv2d kernel_size=3 input_channels=3 output_channels=12 stride=2 activation=brelu6 | image 120x97",
        "conv2d kernel_size=1 input_channels=16 output_channels=8 padding=same activation=sigmoid_like | 50x47x16 "
        "residual",
        "conv2d kernel_size=3 input_channels=8 output_channels=8 groups=2 padding=same activation=sigmoid_like | "
        "47x50x8",
        "conv2d kernel_size=3 input_channels=8 output_channels=8 groups=8 padding=same use_bias=false "
        "activation=brelu6 | 49x49x8 residual",
        "conv2d kernel_size=3 input_channels=8 output_channels=8 groups=2 stride=2 | 99x97x8",
        "conv2d kernel_size=3 input_channels=32 output_channels=16 padding=same activation=sigmoid_like | 48x46x32 "
        "residual",
    };
    glnn_test_tally t = {0};
    for (int i = 0; i < COUNT(rows); i++)
        run_case_on(&gpu, 1, rows[i], &t);
    glnn_test_tally_print("Conv2D, large layers (literal weights on software renderers)", &t);
    assert_int_equal(t.exact, t.values);

    /* Counters: a 3×3 16 -> 8 SAME Conv2D with a residual on 9×6: 2 passes; per output texel 9 taps × 4 input
     * quads + the residual; the same on a context that bakes every Conv2D and on one that unrolls them with
     * uniforms. */
    static const char row[] =
        "conv2d kernel_size=3 input_channels=16 output_channels=8 padding=same use_bias=false | 6x9x16 residual";
    glnn_context *ctxs[3] = {gpu, open_with("GLNN_FRAG_BAKED", "1"), open_with("GLNN_FRAG_BAKED", "0")};
    for (int i = 0; i < 3; i++) {
        int64_t passes, fetches, spec;
        count_run(ctxs[i], row, &passes, &fetches, &spec);
        assert_int_equal(passes, 2);
        assert_int_equal(fetches, 9 * 6 * 2 * (9 * 4 + 1));
        assert_int_equal(fetches, spec);
    }
    /* With the weights in a texture, each group of four weights adds four fetches. */
    int64_t passes, fetches, spec;
    count_run(frag(1), row, &passes, &fetches, &spec);
    assert_int_equal(passes, 2);
    assert_int_equal(fetches, 9 * 6 * 2 * (9 * 4 * (1 + 4 * 4) + 4 + 1));
    /* Other paths do not count; bad arguments are errors. */
    int64_t p, f;
    glnn_error err;
    assert_error(glnn_context_counters(glnn_test_cpu(), &p, &f, &err), &err, GLNN_ERR_STATE, "context counters: the ",
                 " path does not count passes and texel fetches");
    assert_error(glnn_context_counters(NULL, &p, &f, &err), &err, GLNN_ERR_ARGUMENT, "context counters: no context");
    assert_error(glnn_context_counters(gpu, &p, NULL, &err), &err, GLNN_ERR_ARGUMENT,
                 "context counters: no result pointer");
    glnn_context_free(ctxs[1]);
    glnn_context_free(ctxs[2]);
}

/* Sampled bytes as q/255: the context checks its decodings against q/255 for every byte and takes the cheapest
 * exact one — on llvmpipe the sample with a correction (method 2), which every other test of this
 * file runs; a context capped at the division-free decoding from q (GLNN_FRAG_UNORM=1) and one that divides
 * (GLNN_FRAG_UNORM=0) give the same bit-identical results on the channel grid. */
static void test_unorm(void **state) {
    (void)state;
    glnn_context *gpus[2] = {open_with("GLNN_FRAG_UNORM", "1"), open_with("GLNN_FRAG_UNORM", "0")};
    if (!gpus[0]) skip();
    assert_non_null(gpus[1]);
    char buf[4096];
    glnn_context_describe(gpus[1], buf, sizeof buf);
    assert_non_null(strstr(buf, "sampled bytes: q, divided by 255"));
    glnn_context_describe(gpus[0], buf, sizeof buf);
    assert_null(strstr(buf, "used as sampled"));
    glnn_context_describe(frag(0), buf, sizeof buf);
    const char *line = strstr(buf, "sampled bytes:");
    assert_non_null(line);
    printf("default context: %.*s\n", (int)strcspn(line, "\n"), line);
    if (strstr(glnn_context_device_name(frag(0)), "llvmpipe"))
        assert_non_null(strstr(line, "from the sample with a correction"));
    glnn_test_tally t[2] = {{0}};
    grid_run g = {gpus, 2, t, 1 << 20, 1 << 20};
    glnn_test_conv_grid(1, grid_row, &g);
    glnn_test_tally_print("Conv2D channel grid, sampled bytes decoded without division where exact", &t[0]);
    glnn_test_tally_print("Conv2D channel grid, sampled bytes divided by 255", &t[1]);
    assert_int_equal(t[0].exact, t[0].values);
    assert_int_equal(t[1].exact, t[1].values);
    glnn_context_free(gpus[0]);
    glnn_context_free(gpus[1]);
}

/* ---- the dog classifier -------------------------------------------------------------------------------- */

static const char *pictures[] = {"../shared/images/bg.bmp", "../shared/images/butterfly.bmp",
                                 "../shared/images/fecamp.bmp", "../shared/images/heart.png",
                                 "../shared/images/spiral.bmp"};

static void top5(const float *p, int *top) {
    bool used[120] = {false};
    for (int k = 0; k < 5; k++) {
        int best = -1;
        for (int i = 0; i < 120; i++)
            if (!used[i] && (best < 0 || p[i] > p[best])) best = i;
        used[best] = true;
        top[k] = best;
    }
}

static void test_dog_classifier(void **state) {
    (void)state;
    if (!glnn_test_shared(MODEL_PATH)) skip();
    glnn_error err;
    glnn_context *ctxs[2] = {glnn_test_cpu(), frag(0)};
    if (!ctxs[1]) skip();
    glnn_chunks *ch;
    assert_ok(glnn_chunks_read_file(MODEL_PATH, &ch, &err));
    glnn_model *m[2];
    for (int d = 0; d < 2; d++) {
        assert_ok(glnn_model_from_chunks(ch, &m[d], &err));
        assert_ok(glnn_model_add_output(m[d], "b7-pool", 0, &err));
    }
    for (int i = 0; i < COUNT(pictures); i++) {
        uint8_t *px;
        int64_t h, w;
        assert_ok(glnn_image_load(pictures[i], &px, &h, &w, &err));
        float p[2][120];
        uint8_t pool[2][192];
        int top[2][5];
        for (int d = 0; d < 2; d++) {
            assert_ok(glnn_model_bind_image(m[d], "input", 0, px, h, w, 3, &err));
            assert_ok(glnn_model_run(m[d], ctxs[d], ch, &err));
            assert_ok(glnn_model_get_probabilities(m[d], NULL, p[d], 120, &err));
            assert_ok(glnn_model_get_output_u8(m[d], "b7-pool", 0, pool[d], 192, &err));
            top5(p[d], top[d]);
        }
        glnn_free(px);
        double max_diff = 0;
        int same = 0;
        for (int k = 0; k < 120; k++)
            max_diff = fmax(max_diff, fabs(p[0][k] - p[1][k]));
        for (int k = 0; k < 192; k++)
            same += pool[0][k] == pool[1][k];
        printf("%s: top-1 %d (%.4f); fragment vs CPU: largest probability difference %.2e, pooled features %d/192 "
               "exact\n",
               pictures[i], top[0][0], p[0][top[0][0]], max_diff, same);
        assert_memory_equal(top[0], top[1], sizeof top[0]);
        assert_true(max_diff <= 2e-3);
    }
    for (int d = 0; d < 2; d++)
        glnn_model_free(m[d]);
    glnn_chunks_free(ch);
}

static int teardown(void **state) {
    (void)state;
    glnn_context_free(frag_ctx[0]);
    glnn_context_free(frag_ctx[1]);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_conv2d_tile_columns),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_sampling_limit),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_exact_pow2),
        cmocka_unit_test(test_conv2d_unrolled),
        cmocka_unit_test(test_conv2d_large),
        cmocka_unit_test(test_unorm),
        cmocka_unit_test(test_dog_classifier),
    };
    if (getenv("GLNN_TEST_FILTER")) cmocka_set_test_filter(getenv("GLNN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, teardown);
}
