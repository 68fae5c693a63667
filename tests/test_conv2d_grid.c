/* Conv2D on the GPU against the CPU reference over a grid of parameters (issue #2):
 * kernels 1–7, strides 1–3, SAME/VALID, groups 1/2/4 and depthwise, image input, 3–64 input and
 * 4–32 output channels, 1×1, 1×N, odd and non-square sizes, residual, bias and every activation.
 * Every case runs with every GPU kernel variant that supports it, each forced in turn (issue #5); the
 * environment variable GLNN_CONV_VARIANT=<name> restricts the run to one variant.
 * A grid of the gemm kernels' own domain covers their work-group blocks.
 * Every value must be within 1 LSB; the exact-match share must be at least 99% for each variant. */
#include "testutil.h"

#include "internal.h"
#include "backends/gpu/compute/compute.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int k, s;
    glnn_padding pad;
    int cin, cout, groups;
    int h, w;
    bool residual, bias;
    glnn_activation act;
} conv_case;

typedef struct {
    int64_t values, exact, cases, max_diff;
} tally;

#define MAX_VARIANTS 16
#define MAX_KERNELS 64

/* Per-variant tallies of one test, and the specializations (block sizes) it ran. */
typedef struct {
    tally v[MAX_VARIANTS];
    char kernels[MAX_KERNELS][64];
    int n_kernels;
} tallies;

static void note_kernel(tallies *t, const glnn_op *op) {
    char k[64];
    glnn_conv2d_prepared_kernel(op, k, sizeof k);
    for (int i = 0; i < t->n_kernels; i++)
        if (strcmp(t->kernels[i], k) == 0) return;
    if (t->n_kernels < MAX_KERNELS) snprintf(t->kernels[t->n_kernels++], sizeof t->kernels[0], "%s", k);
}

/* The variants to run: all, or the one named by GLNN_CONV_VARIANT. */
static bool variant_selected(int variant) {
    const char *only = getenv("GLNN_CONV_VARIANT");
    if (!only || !*only) return true;
    if (glnn_gpu_conv2d_variant_by_name(only) < 0) {
        print_error("GLNN_CONV_VARIANT: unknown variant '%s'\n", only);
        fail();
    }
    return strcmp(only, glnn_gpu_conv2d_variant_name(variant)) == 0;
}

static const int kernels[] = {1, 2, 3, 4, 5, 7};
static const int strides[] = {1, 2, 3};
/* (Cin, Cout, groups): image, regular, grouped (G 2 and 4) and depthwise. */
static const int kinds[][3] = {{3, 4, 1},   {3, 8, 1},  {3, 32, 1},  {4, 4, 1},    {4, 8, 1},   {8, 32, 1},
                               {16, 8, 1},  {64, 4, 1}, {64, 32, 1}, {8, 8, 2},    {16, 8, 2},  {16, 32, 4},
                               {64, 32, 4}, {4, 4, 4},  {8, 8, 8},   {32, 32, 32}, {64, 64, 64}};
static const int sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {5, 5}, {7, 9}, {12, 10}, {16, 16}, {9, 6}, {13, 17}};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void fill_bytes(glnn_rng *r, uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        p[i] = (uint8_t)(glnn_rng_u32(r) >> 24);
}

static void describe(const conv_case *c, char *buf, size_t n) {
    snprintf(buf, n, "k%d s%d %s %d->%d g%d %dx%d%s%s %s", c->k, c->s, c->pad == GLNN_PADDING_SAME ? "SAME" : "VALID",
             c->cin, c->cout, c->groups, c->h, c->w, c->residual ? " +res" : "", c->bias ? " +bias" : "",
             glnn_activation_name(c->act));
}

/* When set, run_case runs the gemm kernels and the generic one only (the gemm grid: the other kernels' many
 * specializations for these layers would cost minutes of compiling on llvmpipe and are covered above). */
static bool gemm_only;

static bool variant_wanted(int v) {
    const char *name = glnn_gpu_conv2d_variant_name(v);
    return !gemm_only || strcmp(name, "gemm") == 0 || strcmp(name, "gemm_fma") == 0 || strcmp(name, "generic") == 0;
}

/* Runs one case on the CPU reference and, with each variant that supports it, on the GPU; compares every
 * value. */
static void run_case(const conv_case *cc, glnn_rng *r, tallies *t) {
    glnn_error err;
    char label[160];
    describe(cc, label, sizeof label);
    glnn_context *gpu = glnn_test_gpu(), *cpu = glnn_test_cpu();
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

    bool image = cc->cin == 3;
    bool dw = !image && cc->cin == cc->cout && cc->cout == cc->groups;
    int cg = image ? 3 : dw ? 1 : cc->cin / cc->groups;
    int64_t nw = (int64_t)cc->k * cc->k * cg * cc->cout;
    float *w = malloc((size_t)nw * sizeof(float)), b[256];
    /* Weights scaled so that outputs spread over the activation's range. */
    float scale = 2.5f / (float)(cc->k * cc->k * cg);
    float lo = cc->act == GLNN_ACTIVATION_SIGMOID_LIKE ? -6.0f : cc->act == GLNN_ACTIVATION_BRELU6 ? -3.0f : -0.8f;
    for (int64_t i = 0; i < nw; i++)
        w[i] = glnn_rng_uniform(r, lo, -lo + 0.6f) * scale * 2.0f;
    for (int i = 0; i < cc->cout; i++)
        b[i] = glnn_rng_uniform(r, -0.3f, 0.5f);
    glnn_chunks *data;
    assert_ok(glnn_chunks_create(&data, &err));
    assert_ok(glnn_chunks_set_weights(data, "conv", w, nw, cc->bias ? b : NULL, cc->bias ? cc->cout : 0, &err));

    int64_t n_in = (int64_t)cc->h * cc->w * cc->cin;
    uint8_t *in = malloc((size_t)n_in);
    fill_bytes(r, in, n_in);

    glnn_tensor *ins[2][2] = {{NULL, NULL}, {NULL, NULL}};
    glnn_context *ctxs[2] = {cpu, gpu};
    uint8_t *res = NULL;
    glnn_axis ax = glnn_axis_geometry(cc->w, cc->k, cc->s, cc->pad),
              ay = glnn_axis_geometry(cc->h, cc->k, cc->s, cc->pad);
    glnn_shape res_shape = {GLNN_KIND_TENSOR, ay.n, ax.n, cc->cout};
    int64_t n_res = glnn_shape_count(res_shape);
    for (int d = 0; d < 2; d++) {
        if (image) {
            assert_ok(glnn_image_create(ctxs[d], in, cc->h, cc->w, 3, &ins[d][0], &err));
        } else {
            glnn_shape s = {GLNN_KIND_TENSOR, cc->h, cc->w, cc->cin};
            assert_ok(glnn_tensor_create(ctxs[d], s, &ins[d][0], &err));
            assert_ok(glnn_tensor_upload_u8(ins[d][0], in, n_in, &err));
        }
        if (cc->residual) {
            if (!res) {
                res = malloc((size_t)n_res);
                fill_bytes(r, res, n_res);
            }
            assert_ok(glnn_tensor_create(ctxs[d], res_shape, &ins[d][1], &err));
            assert_ok(glnn_tensor_upload_u8(ins[d][1], res, n_res, &err));
        }
    }
    int n_inputs = cc->residual ? 2 : 1;
    glnn_tensor *ref_out = NULL;
    assert_ok(glnn_op_run(cpu, op, data, ins[0], n_inputs, &ref_out, &err));
    glnn_shape os = glnn_tensor_shape(ref_out);
    assert_true(os.h == ay.n && os.w == ax.n && os.c == cc->cout);
    int64_t n_out = glnn_shape_count(os);
    uint8_t *ref = malloc((size_t)n_out), *got = malloc((size_t)n_out);
    assert_ok(glnn_tensor_download_u8(ref_out, ref, n_out, &err));

    int ran = 0;
    for (int v = 0; v < glnn_gpu_conv2d_variant_count() && v < MAX_VARIANTS; v++) {
        if (!variant_selected(v) || !variant_wanted(v) || !glnn_gpu_conv2d_variant_supports(op, gpu, v)) continue;
        glnn_conv2d_force_variant(op, v);
        glnn_tensor *out = NULL;
        assert_ok(glnn_op_run(gpu, op, data, ins[1], n_inputs, &out, &err));
        assert_int_equal(glnn_conv2d_prepared_variant(op), v);
        note_kernel(t, op);
        assert_ok(glnn_tensor_download_u8(out, got, n_out, &err));
        glnn_tensor_free(out);
        tally *tv = &t->v[v];
        for (int64_t i = 0; i < n_out; i++) {
            int diff = abs((int)ref[i] - (int)got[i]);
            if (diff > tv->max_diff) tv->max_diff = diff;
            if (diff == 0) tv->exact++;
            if (diff > 1) {
                print_error("%s, variant %s: value %lld: GPU %d, reference %d\n", label,
                            glnn_gpu_conv2d_variant_name(v), (long long)i, got[i], ref[i]);
                fail();
            }
        }
        tv->values += n_out;
        tv->cases++;
        ran++;
    }
    /* The automatic choice prepares and runs too (its result is one of the variants above). */
    glnn_conv2d_force_variant(op, -1);
    if (!getenv("GLNN_CONV_VARIANT") && !gemm_only) {
        glnn_tensor *out = NULL;
        assert_ok(glnn_op_run(gpu, op, data, ins[1], n_inputs, &out, &err));
        assert_true(glnn_conv2d_prepared_variant(op) >= 0);
        glnn_tensor_free(out);
        assert_true(ran > 0);
    }
    for (int d = 0; d < 2; d++) {
        glnn_tensor_free(ins[d][0]);
        glnn_tensor_free(ins[d][1]);
    }
    glnn_tensor_free(ref_out);
    free(ref);
    free(got);
    free(res);
    free(in);
    free(w);
    glnn_chunks_free(data);
    glnn_op_release(op);
}

static void report(const char *what, const tallies *ts) {
    int64_t cases = 0;
    for (int v = 0; v < glnn_gpu_conv2d_variant_count() && v < MAX_VARIANTS; v++) {
        const tally *t = &ts->v[v];
        cases += t->cases;
        if (!t->cases) continue;
        double share = t->values ? 100.0 * (double)t->exact / (double)t->values : 100.0;
        printf("%s, %s: %lld cases, %lld values, %.3f%% exact, largest difference %lld LSB\n", what,
               glnn_gpu_conv2d_variant_name(v), (long long)t->cases, (long long)t->values, share,
               (long long)t->max_diff);
        assert_true(share >= 99.0);
    }
    printf("%s: %d kernel specializations:", what, ts->n_kernels);
    for (int i = 0; i < ts->n_kernels; i++)
        printf("%s %s", i ? "," : "", ts->kernels[i]);
    printf("\n");
    /* With GLNN_CONV_VARIANT, a test may hold no case for that variant. */
    const char *only = getenv("GLNN_CONV_VARIANT");
    if (!only || !*only) assert_true(cases > 0);
}

static bool valid_case(const conv_case *c) {
    if (c->cin == 3 && c->pad == GLNN_PADDING_SAME) return false;
    if (c->pad == GLNN_PADDING_VALID && (c->h < c->k || c->w < c->k)) return false;
    return true;
}

/* Every kernel × stride × padding, each with several channel configurations and sizes. */
static void test_geometry_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    glnn_rng r = {12345};
    tallies t = {0};
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
                    if (c.pad == GLNN_PADDING_VALID && (c.h < c.k || c.w < c.k)) {
                        c.h += c.k;
                        c.w += c.k + 1;
                    }
                    if (c.cin == 3 && c.pad == GLNN_PADDING_SAME) c.pad = GLNN_PADDING_VALID;
                    if (c.pad == GLNN_PADDING_VALID && (c.h < c.k || c.w < c.k)) {
                        c.h += c.k;
                        c.w += c.k;
                    }
                    c.residual = c.cin != 3 && (n + v) % 2 == 0;
                    c.bias = (n + v) % 3 != 0;
                    c.act = (glnn_activation)((n + v) % 3);
                    n++;
                    if (valid_case(&c)) run_case(&c, &r, &t);
                }
    report("geometry grid", &t);
}

/* Every channel configuration × activation × residual × bias, at a fixed geometry. */
static void test_channel_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    glnn_rng r = {777};
    tallies t = {0};
    for (int kd = 0; kd < COUNT(kinds); kd++)
        for (int a = 0; a < 3; a++)
            for (int rb = 0; rb < 4; rb++) {
                conv_case c = {3, 1, GLNN_PADDING_SAME, kinds[kd][0],  kinds[kd][1],      kinds[kd][2],
                               6, 7, (rb & 1) != 0,     (rb & 2) != 0, (glnn_activation)a};
                if (c.cin == 3) {
                    c.pad = GLNN_PADDING_VALID;
                    if (c.residual) continue; /* an image input takes no residual */
                }
                run_case(&c, &r, &t);
            }
    report("channel grid", &t);
}

/* Every size, including 1×1, 1×N and N×1, with strides and both paddings. */
static void test_size_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    glnn_rng r = {4242};
    tallies t = {0};
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
                if (!valid_case(&c)) {
                    c.k = 1; /* VALID on a small input: a 1×1 kernel fits every size */
                }
                run_case(&c, &r, &t);
            }
    report("size grid", &t);
}

/* Layers large enough for the big blocks the kernels use on real models (8 pixels × 4 or 8 quads per
 * invocation, four quads per fetch and store), each with every variant that supports it. */
static void test_block_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    glnn_rng r = {99};
    tallies t = {0};
    const conv_case cases[] = {
        /* k, s, padding, Cin, Cout, G, H, W, residual, bias, activation */
        {3, 1, GLNN_PADDING_SAME, 32, 32, 1, 64, 64, true, true, GLNN_ACTIVATION_SIGMOID_LIKE},
        {3, 1, GLNN_PADDING_SAME, 64, 64, 1, 40, 40, false, true, GLNN_ACTIVATION_BRELU6},
        {1, 1, GLNN_PADDING_VALID, 64, 64, 2, 48, 48, false, true, GLNN_ACTIVATION_DEFAULT},
        {1, 1, GLNN_PADDING_SAME, 64, 128, 1, 40, 40, true, false, GLNN_ACTIVATION_BRELU6},
        {5, 2, GLNN_PADDING_VALID, 3, 32, 1, 161, 161, false, true, GLNN_ACTIVATION_SIGMOID_LIKE},
        {3, 2, GLNN_PADDING_VALID, 3, 16, 1, 99, 67, false, true, GLNN_ACTIVATION_DEFAULT},
        {3, 1, GLNN_PADDING_SAME, 32, 32, 8, 48, 48, true, true, GLNN_ACTIVATION_SIGMOID_LIKE},
        {3, 1, GLNN_PADDING_SAME, 64, 64, 64, 64, 64, true, true, GLNN_ACTIVATION_BRELU6},
        {5, 2, GLNN_PADDING_SAME, 32, 32, 32, 80, 80, false, true, GLNN_ACTIVATION_SIGMOID_LIKE},
        {3, 2, GLNN_PADDING_VALID, 32, 64, 4, 96, 96, false, true, GLNN_ACTIVATION_SIGMOID_LIKE},
        {3, 1, GLNN_PADDING_SAME, 64, 64, 4, 48, 48, true, true, GLNN_ACTIVATION_DEFAULT},
        /* depthwise in blocks of four output rows, the last one with a single row */
        {3, 1, GLNN_PADDING_SAME, 32, 32, 32, 45, 37, true, true, GLNN_ACTIVATION_SIGMOID_LIKE},
    };
    for (int i = 0; i < COUNT(cases); i++)
        run_case(&cases[i], &r, &t);
    report("block grid", &t);
}

/* The gemm kernels' domain (16·n input, 64·n output channels per group): kernel sizes, strides, paddings,
 * groups, and pixel counts below, at and across the 128-pixel blocks of a work group (1×1, 1×N, N×1, 120,
 * 437 pixels), with residual, bias and every activation; each case with gemm, gemm_fma and generic. */
static void test_gemm_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    glnn_rng r = {2026};
    tallies t = {0};
    static const int chans[][3] = {{16, 64, 1}, {32, 128, 2}, {48, 64, 1}, {64, 128, 1}};
    static const int gemm_sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {12, 10}, {19, 23}, {16, 16}};
    static const int geoms[][2] = {{1, 1}, {3, 1}, {3, 2}, {5, 1}, {2, 2}, {1, 3}, {3, 3}};
    for (int i = 0; i < 14; i++) {
        conv_case c = {geoms[i % COUNT(geoms)][0],
                       geoms[i % COUNT(geoms)][1],
                       i % 3 ? GLNN_PADDING_SAME : GLNN_PADDING_VALID,
                       chans[i % COUNT(chans)][0],
                       chans[i % COUNT(chans)][1],
                       chans[i % COUNT(chans)][2],
                       gemm_sizes[i % COUNT(gemm_sizes)][0],
                       gemm_sizes[i % COUNT(gemm_sizes)][1],
                       i % 2 == 0,
                       i % 5 != 0,
                       (glnn_activation)(i % 3)};
        if (!valid_case(&c)) {
            c.h += c.k;
            c.w += c.k;
        }
        gemm_only = true;
        run_case(&c, &r, &t);
        gemm_only = false;
    }
    report("gemm grid", &t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_grid), cmocka_unit_test(test_channel_grid), cmocka_unit_test(test_size_grid),
        cmocka_unit_test(test_block_grid),    cmocka_unit_test(test_gemm_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
