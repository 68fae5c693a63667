/* The fragment path (issue #7): every operation as a GLES 2.0 fragment shader into RGBA8 textures.  ctest runs
 * this program with MESA_GLES_VERSION_OVERRIDE=2.0, so that Mesa offers a GLES 2.0 context without compute
 * shaders, as on a Raspberry Pi Zero–3.  Checked against the CPU reference: the whole Conv2D grid (kernels 1–7,
 * strides 1–3, SAME/VALID, image, regular, grouped and depthwise, residual, bias, every activation) with the
 * weights in uniforms and in textures, the other operations, channel shuffles, tensors spread over several
 * tile columns, the sampling limit of SPEC §4.10, size errors, and the dog classifier on every picture.
 * Every value must be within the budget of SPEC §2.5; the exact-match shares are reported. */
#include "testutil.h"

#include <math.h>
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
    o.device = dev && *dev && strcmp(dev, "cpu") != 0 ? dev : "auto";
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

typedef struct {
    int64_t values, exact, cases, max_diff;
} tally;

static void count(tally *t, const uint8_t *ref, const uint8_t *got, int64_t n, int budget, const char *label) {
    for (int64_t i = 0; i < n; i++) {
        int d = abs((int)ref[i] - (int)got[i]);
        if (d > t->max_diff) t->max_diff = d;
        t->exact += d == 0;
        if (d > budget) fail_msg("%s: value %lld: fragment path %d, reference %d", label, (long long)i, got[i], ref[i]);
    }
    t->values += n;
    t->cases++;
}

static void report(const char *what, const tally *t) {
    double share = t->values ? 100.0 * (double)t->exact / (double)t->values : 100.0;
    printf("%s: %lld cases, %lld values, %.4f%% exact, largest difference %lld LSB\n", what, (long long)t->cases,
           (long long)t->values, share, (long long)t->max_diff);
    assert_true(t->cases > 0);
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
    /* The CPU reference takes any valid path and reports "cpu". */
    o.device = "cpu";
    o.path = "Fragment";
    assert_ok(glnn_context_create(&o, &other, &err));
    assert_string_equal(glnn_context_path(other), "cpu");
    glnn_context_free(other);

    /* Under a GLES 2.0 driver (as ctest runs this test), "auto" falls back to the fragment path and "compute"
     * is refused. */
    const char *version = getenv("MESA_GLES_VERSION_OVERRIDE");
    if (version && strcmp(version, "2.0") == 0) {
        glnn_context_options_init(&o);
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

/* ---- Conv2D grid ---------------------------------------------------------------------------------------- */

typedef struct {
    int k, s;
    glnn_padding pad;
    int cin, cout, groups;
    int h, w;
    bool residual, bias;
    glnn_activation act;
} conv_case;

static const int kernels[] = {1, 2, 3, 4, 5, 7};
static const int strides[] = {1, 2, 3};
/* (Cin, Cout, groups): image, regular, grouped (G 2 and 4) and depthwise. */
static const int kinds[][3] = {{3, 4, 1},   {3, 8, 1},  {3, 32, 1},  {4, 4, 1},    {4, 8, 1},   {8, 32, 1},
                               {16, 8, 1},  {64, 4, 1}, {64, 32, 1}, {8, 8, 2},    {16, 8, 2},  {16, 32, 4},
                               {64, 32, 4}, {4, 4, 4},  {8, 8, 8},   {32, 32, 32}, {64, 64, 64}};
static const int sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {5, 5}, {7, 9}, {12, 10}, {16, 16}, {9, 6}, {13, 17}};

static void describe(const conv_case *c, char *buf, size_t n) {
    snprintf(buf, n, "k%d s%d %s %d->%d g%d %dx%d%s%s %s", c->k, c->s, c->pad == GLNN_PADDING_SAME ? "SAME" : "VALID",
             c->cin, c->cout, c->groups, c->h, c->w, c->residual ? " +res" : "", c->bias ? " +bias" : "",
             glnn_activation_name(c->act));
}

/* Runs one case on the CPU reference and on the n fragment contexts gpus[i], comparing every value (tally t[i]). */
static void run_conv_on(glnn_context *const *gpus, int n, const conv_case *cc, glnn_rng *r, tally *t) {
    glnn_error err;
    char label[160];
    describe(cc, label, sizeof label);
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "conv";
    p.kernel_size = cc->k;
    p.stride = cc->s;
    p.padding = cc->pad;
    p.num_input_channels = cc->cin;
    p.num_output_channels = cc->cout;
    p.num_groups = cc->groups;
    p.use_bias = cc->bias;
    p.activation = cc->act;
    glnn_op *op;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    const bool image = cc->cin == 3, dw = !image && cc->cin == cc->cout && cc->cout == cc->groups;
    const int cg = image ? 3 : dw ? 1 : cc->cin / cc->groups;
    const int64_t nw = (int64_t)cc->k * cc->k * cg * cc->cout;
    float *w = malloc((size_t)nw * sizeof(float)), b[64];
    const float scale = 2.5f / (float)(cc->k * cc->k * cg);
    const float lo = cc->act == GLNN_ACTIVATION_SIGMOID_LIKE ? -6.0f
                     : cc->act == GLNN_ACTIVATION_BRELU6     ? -3.0f
                                                             : -0.8f;
    for (int64_t i = 0; i < nw; i++)
        w[i] = glnn_rng_uniform(r, lo, -lo + 0.6f) * scale * 2.0f;
    for (int i = 0; i < cc->cout; i++)
        b[i] = glnn_rng_uniform(r, -0.3f, 0.5f);
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "conv", w, nw, cc->bias ? b : NULL, cc->bias ? cc->cout : 0, &err));
    const int64_t n_in = (int64_t)cc->h * cc->w * cc->cin;
    uint8_t *in = malloc((size_t)n_in), *res = NULL;
    fill_bytes(r, in, n_in);
    int64_t wo = cc->pad == GLNN_PADDING_SAME ? (cc->w + cc->s - 1) / cc->s : (cc->w - cc->k) / cc->s + 1;
    int64_t ho = cc->pad == GLNN_PADDING_SAME ? (cc->h + cc->s - 1) / cc->s : (cc->h - cc->k) / cc->s + 1;
    const int64_t n_res = ho * wo * cc->cout;
    if (cc->residual) {
        res = malloc((size_t)n_res);
        fill_bytes(r, res, n_res);
    }
    glnn_context *ctxs[3] = {glnn_test_cpu(), gpus[0], n > 1 ? gpus[1] : NULL};
    uint8_t *out[3] = {NULL, NULL, NULL};
    int64_t n_out[3];
    for (int d = 0; d <= n; d++) {
        glnn_tensor *ins[2] = {
            make_data(ctxs[d], image ? GLNN_KIND_IMAGE : GLNN_KIND_TENSOR, cc->h, cc->w, cc->cin, in, NULL),
            res ? make_data(ctxs[d], GLNN_KIND_TENSOR, ho, wo, cc->cout, res, NULL) : NULL};
        out[d] = run_u8(ctxs[d], op, data, ins, cc->residual ? 2 : 1, &n_out[d]);
        glnn_tensor_free(ins[0]);
        glnn_tensor_free(ins[1]);
    }
    assert_int_equal(n_out[0], n_res);
    for (int d = 1; d <= n; d++) {
        assert_int_equal(n_out[d], n_out[0]);
        count(&t[d - 1], out[0], out[d], n_out[0], 1, label);
    }
    for (int d = 0; d <= n; d++)
        free(out[d]);
    free(res);
    free(in);
    free(w);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

/* On both fragment contexts: weights in uniforms (tally t[0]) and in textures (t[1]). */
static void run_conv(const conv_case *cc, glnn_rng *r, tally *t) {
    glnn_context *gpus[2] = {frag(0), frag(1)};
    run_conv_on(gpus, 2, cc, r, t);
}

static void report_conv(const char *what, const tally *t) {
    char name[96];
    snprintf(name, sizeof name, "%s, weights in uniforms", what);
    report(name, &t[0]);
    snprintf(name, sizeof name, "%s, weights in textures", what);
    report(name, &t[1]);
}

/* Every kernel × stride × padding, each with several channel configurations and sizes. */
static void test_conv2d_geometry_grid(void **state) {
    (void)state;
    if (!frag(0)) skip();
    glnn_rng r = {12345};
    tally t[2] = {{0}};
    int n = 0;
    for (int ki = 0; ki < COUNT(kernels); ki++)
        for (int si = 0; si < COUNT(strides); si++)
            for (int pi = 0; pi < 2; pi++)
                for (int v = 0; v < 4; v++) {
                    conv_case c = {0};
                    c.k = kernels[ki];
                    c.s = strides[si];
                    c.pad = pi ? GLNN_PADDING_SAME : GLNN_PADDING_VALID;
                    const int *kd = kinds[(n * 7 + v) % COUNT(kinds)];
                    c.cin = kd[0];
                    c.cout = kd[1];
                    c.groups = kd[2];
                    const int *sz = sizes[(n * 5 + v * 3) % COUNT(sizes)];
                    c.h = sz[0];
                    c.w = sz[1];
                    if (c.cin == 3) c.pad = GLNN_PADDING_VALID;
                    if (c.pad == GLNN_PADDING_VALID && (c.h < c.k || c.w < c.k)) {
                        c.h += c.k;
                        c.w += c.k + 1;
                    }
                    c.residual = c.cin != 3 && (n + v) % 2 == 0;
                    c.bias = (n + v) % 3 != 0;
                    c.act = (glnn_activation)((n + v) % 3);
                    n++;
                    run_conv(&c, &r, t);
                }
    report_conv("Conv2D geometry grid", t);
}

/* Every channel configuration × activation × residual × bias, at a fixed geometry. */
static void test_conv2d_channel_grid(void **state) {
    (void)state;
    if (!frag(0)) skip();
    glnn_rng r = {777};
    tally t[2] = {{0}};
    for (int kd = 0; kd < COUNT(kinds); kd++)
        for (int a = 0; a < 3; a++)
            for (int rb = 0; rb < 4; rb++) {
                conv_case c = {3, 1, GLNN_PADDING_SAME, kinds[kd][0],  kinds[kd][1],      kinds[kd][2],
                               6, 7, (rb & 1) != 0,     (rb & 2) != 0, (glnn_activation)a};
                if (c.cin == 3) {
                    c.pad = GLNN_PADDING_VALID;
                    if (c.residual) continue; /* an image input takes no residual */
                }
                run_conv(&c, &r, t);
            }
    report_conv("Conv2D channel grid", t);
}

/* Every size, including 1×1, 1×N and N×1, with strides and both paddings; and a tensor whose quads fill more
 * than one column of tiles (H·C/4 above the texture size). */
static void test_conv2d_size_grid(void **state) {
    (void)state;
    if (!frag(0)) skip();
    glnn_rng r = {4242};
    tally t[2] = {{0}};
    for (int sz = 0; sz < COUNT(sizes); sz++)
        for (int si = 0; si < COUNT(strides); si++)
            for (int pi = 0; pi < 2; pi++) {
                conv_case c = {3,
                               strides[si],
                               pi ? GLNN_PADDING_SAME : GLNN_PADDING_VALID,
                               8,
                               8,
                               2,
                               sizes[sz][0],
                               sizes[sz][1],
                               si == 1,
                               true,
                               GLNN_ACTIVATION_SIGMOID_LIKE};
                if (c.pad == GLNN_PADDING_VALID && (c.h < c.k || c.w < c.k)) c.k = 1;
                run_conv(&c, &r, t);
            }
    report_conv("Conv2D size grid", t);

    char buf[4096];
    glnn_context_describe(frag(0), buf, sizeof buf);
    const char *line = strstr(buf, "render targets up to ");
    assert_non_null(line);
    const int max = atoi(line + strlen("render targets up to "));
    tally tall[2] = {{0}};
    conv_case c = {3, 1, GLNN_PADDING_SAME, 32, 32, 4, max / 8 + 3, 3, true, true, GLNN_ACTIVATION_BRELU6};
    run_conv(&c, &r, tall); /* 8 quads of max/8 + 3 rows: two columns of tiles */
    report_conv("Conv2D over two columns of tiles", tall);
}

/* ---- Pooling2D, Dense, ImageSampler, shuffles ---------------------------------------------------------- */

static void test_pooling(void **state) {
    (void)state;
    glnn_context *gpu = frag(0), *cpu = glnn_test_cpu();
    if (!gpu) skip();
    static const int shapes[][3] = {{1, 1, 4}, {4, 4, 4}, {7, 9, 8}, {13, 17, 4}, {16, 16, 32}, {31, 31, 16}};
    glnn_rng r = {99};
    tally t = {0};
    for (int si = 0; si < COUNT(shapes); si++)
        for (int o = 0; o < 2; o++)
            for (int pad = 0; pad < 2; pad++)
                for (int size = 2; size <= 4; size++)
                    for (int stride = 0; stride <= 2; stride++) {
                        const int h = shapes[si][0], w = shapes[si][1], c = shapes[si][2];
                        if (o == GLNN_POOLING_AVERAGE && pad == GLNN_PADDING_SAME) continue;
                        if (pad == GLNN_PADDING_VALID && (h < size || w < size)) continue;
                        glnn_op *op = glnn_test_pool("pool", (glnn_pooling_operator)o, size, stride, (glnn_padding)pad);
                        uint8_t *in = malloc((size_t)h * w * c);
                        fill_bytes(&r, in, (int64_t)h * w * c);
                        glnn_tensor *tg = make_data(gpu, GLNN_KIND_TENSOR, h, w, c, in, NULL);
                        glnn_tensor *tc = make_data(cpu, GLNN_KIND_TENSOR, h, w, c, in, NULL);
                        int64_t ng, nc;
                        uint8_t *og = run_u8(gpu, op, NULL, &tg, 1, &ng), *oc = run_u8(cpu, op, NULL, &tc, 1, &nc);
                        assert_int_equal(ng, nc);
                        count(&t, oc, og, nc, 0, o ? "AVERAGE" : "MAX"); /* exact: integers on the GPU too */
                        free(og);
                        free(oc);
                        free(in);
                        glnn_tensor_free(tg);
                        glnn_tensor_free(tc);
                        glnn_op_release(op);
                    }
    /* Global pooling: the reference model's 3×3×192 and a 100×100 window. */
    static const int globals[][2] = {{3, 192}, {100, 8}};
    for (int gi = 0; gi < COUNT(globals); gi++)
        for (int o = 0; o < 2; o++) {
            const int hw = globals[gi][0], c = globals[gi][1];
            glnn_op *op = glnn_test_pool("pool", (glnn_pooling_operator)o, hw, 1, GLNN_PADDING_VALID);
            uint8_t *in = malloc((size_t)hw * hw * c);
            fill_bytes(&r, in, (int64_t)hw * hw * c);
            glnn_tensor *tg = make_data(gpu, GLNN_KIND_TENSOR, hw, hw, c, in, NULL);
            glnn_tensor *tc = make_data(cpu, GLNN_KIND_TENSOR, hw, hw, c, in, NULL);
            int64_t ng, nc;
            uint8_t *og = run_u8(gpu, op, NULL, &tg, 1, &ng), *oc = run_u8(cpu, op, NULL, &tc, 1, &nc);
            count(&t, oc, og, nc, 0, "global pooling");
            free(og);
            free(oc);
            free(in);
            glnn_tensor_free(tg);
            glnn_tensor_free(tc);
            glnn_op_release(op);
        }
    report("Pooling2D", &t);
    assert_int_equal(t.exact, t.values);
}

static void test_dense(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = frag(0), *cpu = glnn_test_cpu();
    if (!gpu) skip();
    static const int dims[][2] = {{4, 4}, {16, 8}, {192, 120}, {1000, 12}, {8, 256}, {6, 8}, {16, 10}, {10, 3}, {7, 1}};
    glnn_rng r = {777};
    int64_t values = 0, exact = 0;
    double worst = 0;
    for (int di = 0; di < COUNT(dims); di++)
        for (int vec = 0; vec < 2; vec++)
            for (int bias = 0; bias < 2; bias++) {
                const int n_in = dims[di][0], n_out = dims[di][1];
                if (!vec && n_in % 4) continue; /* tensors have a multiple of 4 channels */
                float *a = malloc((size_t)n_in * n_out * sizeof(float)), *b = malloc((size_t)n_out * sizeof(float));
                float *xf = malloc((size_t)n_in * sizeof(float));
                uint8_t *xq = malloc((size_t)n_in);
                for (int i = 0; i < n_in * n_out; i++)
                    a[i] = glnn_rng_uniform(&r, -1, 1);
                for (int i = 0; i < n_out; i++)
                    b[i] = glnn_rng_uniform(&r, -2, 2);
                fill_bytes(&r, xq, n_in);
                for (int i = 0; i < n_in; i++)
                    xf[i] = vec ? glnn_rng_uniform(&r, -3, 3) : xq[i] / 255.0f;
                glnn_chunks *data;
                assert_ok(glnn_chunks_create(&data, &err));
                assert_ok(glnn_chunks_set_weights(data, "d", a, (int64_t)n_in * n_out, b, n_out, &err));
                glnn_dense_params p;
                glnn_dense_params_init(&p);
                p.name = "d";
                p.num_output_dims = n_out;
                p.use_bias = bias;
                glnn_op *op;
                assert_ok(glnn_dense_create(&p, &op, &err));
                float *y[2];
                glnn_context *ctxs[2] = {cpu, gpu};
                for (int d = 0; d < 2; d++) {
                    glnn_tensor *in = vec ? make_data(ctxs[d], GLNN_KIND_VECTOR, 1, 1, n_in, NULL, xf)
                                          : make_data(ctxs[d], GLNN_KIND_TENSOR, 1, 1, n_in, xq, NULL);
                    glnn_tensor *out = NULL;
                    assert_ok(glnn_op_run(ctxs[d], op, data, &in, 1, &out, &err));
                    y[d] = malloc((size_t)n_out * sizeof(float));
                    assert_ok(glnn_tensor_download_f32(out, y[d], n_out, &err));
                    glnn_tensor_free(in);
                    glnn_tensor_free(out);
                }
                for (int o = 0; o < n_out; o++) {
                    double bound = bias ? fabs(b[o]) : 0;
                    for (int i = 0; i < n_in; i++)
                        bound += fabs((double)a[o * n_in + i] * xf[i]);
                    bound = 1e-4 * bound + 1e-6;
                    double d = fabs((double)y[1][o] - (double)y[0][o]);
                    if (d > bound)
                        fail_msg("Dense %d->%d %s: output %d fragment path %.9g CPU %.9g", n_in, n_out,
                                 vec ? "vector" : "tensor", o, y[1][o], y[0][o]);
                    worst = fmax(worst, d / bound);
                    exact += y[1][o] == y[0][o];
                    values++;
                }
                free(y[0]);
                free(y[1]);
                glnn_op_release(op);
                glnn_chunks_free(data);
                free(a);
                free(b);
                free(xf);
                free(xq);
            }
    printf("Dense: %lld values, %.2f%% bit-exact, worst difference %.3f of the budget\n", (long long)values,
           100.0 * (double)exact / (double)values, worst);
}

static void test_image_sampler(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *gpu = frag(0), *cpu = glnn_test_cpu();
    if (!gpu) skip();
    static const int in_sizes[][2] = {{1, 1}, {5, 5}, {23, 37}, {240, 320}};
    static const int out_sizes[][2] = {{1, 1}, {3, 3}, {17, 31}, {64, 40}, {7, 200}};
    glnn_rng r = {4242};
    tally t[2] = {{0}, {0}};
    for (int ii = 0; ii < COUNT(in_sizes); ii++) {
        const int h = in_sizes[ii][0], w = in_sizes[ii][1];
        uint8_t *px = malloc((size_t)h * w * 3);
        fill_bytes(&r, px, (int64_t)h * w * 3);
        glnn_tensor *ig = make_data(gpu, GLNN_KIND_IMAGE, h, w, 3, px, NULL);
        glnn_tensor *ic = make_data(cpu, GLNN_KIND_IMAGE, h, w, 3, px, NULL);
        for (int oi = 0; oi < COUNT(out_sizes); oi++)
            for (int crop = 0; crop < 2; crop++)
                for (int linear = 0; linear < 2; linear++)
                    for (int rot = 0; rot < 4; rot++) {
                        glnn_image_sampler_params p;
                        glnn_image_sampler_params_init(&p);
                        p.name = "in";
                        p.output_height = out_sizes[oi][0];
                        p.output_width = out_sizes[oi][1];
                        p.center_crop = crop;
                        p.linear_interp = linear;
                        p.rotation = rot;
                        glnn_op *op;
                        assert_ok(glnn_image_sampler_create(&p, &op, &err));
                        int64_t ng, nc;
                        uint8_t *og = run_u8(gpu, op, NULL, &ig, 1, &ng), *oc = run_u8(cpu, op, NULL, &ic, 1, &nc);
                        assert_int_equal(ng, nc);
                        count(&t[linear], oc, og, nc, linear, linear ? "bilinear" : "nearest");
                        free(og);
                        free(oc);
                        glnn_op_release(op);
                    }
        glnn_tensor_free(ig);
        glnn_tensor_free(ic);
        free(px);
    }
    report("ImageSampler nearest", &t[0]);
    report("ImageSampler bilinear", &t[1]);
    assert_int_equal(t[0].exact, t[0].values);
}

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
    tally t = {0};
    count(&t, dw[0], dw[1], sizeof dw[0], 1, "graph");
    report("graph with shuffles and a residual", &t);
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
    glnn_rng r = {2024};
    tally t = {0};
    for (int kd = 0; kd < COUNT(kinds); kd++) {
        conv_case c = {3,    1,    GLNN_PADDING_SAME,           kinds[kd][0], kinds[kd][1], kinds[kd][2], 6, 7,
                       true, true, GLNN_ACTIVATION_SIGMOID_LIKE};
        if (c.cin == 3) { /* an image input: VALID, no residual */
            c.pad = GLNN_PADDING_VALID;
            c.residual = false;
        }
        run_conv_on(&gpu, 1, &c, &r, &t);
    }
    report("Conv2D, exact powers of two", &t);
    assert_int_equal(t.exact, t.values);

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
        cmocka_unit_test(test_conv2d_geometry_grid),
        cmocka_unit_test(test_conv2d_channel_grid),
        cmocka_unit_test(test_conv2d_size_grid),
        cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_dense),
        cmocka_unit_test(test_image_sampler),
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_sampling_limit),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_exact_pow2),
        cmocka_unit_test(test_dog_classifier),
    };
    if (getenv("GLNN_TEST_FILTER")) cmocka_set_test_filter(getenv("GLNN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, teardown);
}
