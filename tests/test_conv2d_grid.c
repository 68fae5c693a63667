/* Conv2D on the GPU against the CPU reference over a grid of parameters (issue #2), for every kernel variant of
 * the compute path: kernels 1–7, strides 1–3, SAME/VALID, groups 1/2/4 and depthwise, image input, 3–64 input and
 * 4–32 output channels, 1×1, 1×N, odd and non-square sizes, residual, bias and every activation (the Conv2D grids
 * of testutil.c, which test_backends runs on every back end).  Every case runs with every GPU kernel variant that
 * supports it, each forced in turn (issue #5), then with the automatic choice; the environment variable
 * GLNN_CONV_VARIANT=<name> restricts the run to one variant.  A grid of large layers covers the kernels' big
 * blocks, and a grid of the gemm kernels' own domain their work-group blocks.
 * Every value must be within 1 LSB (glnn_test_compare); the exact-match share must be at least 99% for each
 * variant. */
#include "testutil.h"

#include "internal.h"
#include "backends/gpu/compute/compute.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MAX_VARIANTS 16
#define MAX_KERNELS 64

/* Per-variant tallies of one test, and the specializations (block sizes) it ran. */
typedef struct {
    glnn_test_tally v[MAX_VARIANTS], automatic;
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

/* When set, run_case runs the gemm kernels and the generic one only (the gemm grid: the other kernels' many
 * specializations for these layers would cost minutes of compiling on llvmpipe and are covered above). */
static bool gemm_only;

static bool variant_wanted(int v) {
    const char *name = glnn_gpu_conv2d_variant_name(v);
    return !gemm_only || strcmp(name, "gemm") == 0 || strcmp(name, "gemm_fma") == 0 || strcmp(name, "generic") == 0;
}

/* Runs one case (a row of testutil.h) on the CPU reference and, with each variant that supports it, on the GPU;
 * compares every value. */
static void run_case(void *user, const char *row) {
    tallies *t = user;
    glnn_error err;
    glnn_context *gpu = glnn_test_gpu(), *cpu = glnn_test_cpu();
    glnn_test_case *c = glnn_test_case_create(row);
    glnn_op *op = glnn_test_case_op(c);
    glnn_test_output ref, got;
    assert_ok(glnn_test_case_run(c, cpu, &ref, &err));
    int ran = 0;
    for (int v = 0; v < glnn_gpu_conv2d_variant_count() && v < MAX_VARIANTS; v++) {
        if (!variant_selected(v) || !variant_wanted(v) || !glnn_gpu_conv2d_variant_supports(op, gpu, v)) continue;
        glnn_conv2d_force_variant(op, v);
        assert_ok(glnn_test_case_run(c, gpu, &got, &err));
        assert_int_equal(glnn_conv2d_prepared_variant(op), v);
        note_kernel(t, op);
        glnn_test_compare(c, &ref, &got, glnn_gpu_conv2d_variant_name(v), &t->v[v]);
        glnn_test_output_free(&got);
        ran++;
    }
    /* The automatic choice prepares and runs too (its result is one of the variants above). */
    glnn_conv2d_force_variant(op, -1);
    if (!getenv("GLNN_CONV_VARIANT") && !gemm_only) {
        assert_ok(glnn_test_case_run(c, gpu, &got, &err));
        assert_true(glnn_conv2d_prepared_variant(op) >= 0);
        glnn_test_compare(c, &ref, &got, "automatic choice", &t->automatic);
        glnn_test_output_free(&got);
        assert_true(ran > 0);
    }
    glnn_test_output_free(&ref);
    glnn_test_case_free(c);
}

static void report(const char *what, const tallies *ts) {
    int64_t cases = 0;
    for (int v = 0; v < glnn_gpu_conv2d_variant_count() && v < MAX_VARIANTS; v++) {
        const glnn_test_tally *t = &ts->v[v];
        cases += t->cases;
        if (!t->cases) continue;
        char name[128];
        snprintf(name, sizeof name, "%s, %s", what, glnn_gpu_conv2d_variant_name(v));
        glnn_test_tally_print(name, t);
        assert_true(glnn_test_tally_share(t) >= 99.0);
    }
    if (ts->automatic.cases) {
        char name[128];
        snprintf(name, sizeof name, "%s, automatic choice", what);
        glnn_test_tally_print(name, &ts->automatic);
    }
    printf("%s: %d kernel specializations:", what, ts->n_kernels);
    for (int i = 0; i < ts->n_kernels; i++)
        printf("%s %s", i ? "," : "", ts->kernels[i]);
    printf("\n");
    /* With GLNN_CONV_VARIANT, a test may hold no case for that variant. */
    const char *only = getenv("GLNN_CONV_VARIANT");
    if (!only || !*only) assert_true(cases > 0);
}

/* One of testutil.c's Conv2D grids (0 geometry, 1 channels, 2 sizes) with every variant. */
static void run_grid(int grid, const char *what) {
    if (!glnn_test_gpu()) skip();
    tallies t = {0};
    glnn_test_conv_grid(grid, run_case, &t);
    report(what, &t);
}

/* Every kernel × stride × padding, each with several channel configurations and sizes. */
static void test_geometry_grid(void **state) {
    (void)state;
    run_grid(0, "geometry grid");
}

/* Every channel configuration × activation × residual × bias, at a fixed geometry. */
static void test_channel_grid(void **state) {
    (void)state;
    run_grid(1, "channel grid");
}

/* Every size, including 1×1, 1×N and N×1, with strides and both paddings. */
static void test_size_grid(void **state) {
    (void)state;
    run_grid(2, "size grid");
}

/* Layers large enough for the big blocks the kernels use on real models (8 pixels × 4 or 8 quads per
 * invocation, four quads per fetch and store), each with every variant that supports it. */
static void test_block_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    tallies t = {0};
    static const char *const rows[] = {
        "conv2d kernel_size=3 input_channels=32 output_channels=32 padding=same activation=sigmoid_like | 64x64x32 "
        "residual",
        "conv2d kernel_size=3 input_channels=64 output_channels=64 padding=same activation=brelu6 | 40x40x64",
        "conv2d kernel_size=1 input_channels=64 output_channels=64 groups=2 | 48x48x64",
        "conv2d kernel_size=1 input_channels=64 output_channels=128 padding=same use_bias=false activation=brelu6 | "
        "40x40x64 residual",
        "conv2d kernel_size=5 input_channels=3 output_channels=32 stride=2 activation=sigmoid_like | image 161x161",
        "conv2d kernel_size=3 input_channels=3 output_channels=16 stride=2 | image 99x67",
        "conv2d kernel_size=3 input_channels=32 output_channels=32 groups=8 padding=same activation=sigmoid_like | "
        "48x48x32 residual",
        "conv2d kernel_size=3 input_channels=64 output_channels=64 groups=64 padding=same activation=brelu6 | "
        "64x64x64 residual",
        "conv2d kernel_size=5 input_channels=32 output_channels=32 groups=32 stride=2 padding=same "
        "activation=sigmoid_like | 80x80x32",
        "conv2d kernel_size=3 input_channels=32 output_channels=64 groups=4 stride=2 activation=sigmoid_like | "
        "96x96x32",
        "conv2d kernel_size=3 input_channels=64 output_channels=64 groups=4 padding=same | 48x48x64 residual",
        /* depthwise in blocks of four output rows, the last one with a single row */
        "conv2d kernel_size=3 input_channels=32 output_channels=32 groups=32 padding=same activation=sigmoid_like | "
        "45x37x32 residual",
    };
    for (int i = 0; i < COUNT(rows); i++)
        run_case(&t, rows[i]);
    report("block grid", &t);
}

/* The gemm kernels' domain (16·n input, 64·n output channels per group): kernel sizes, strides, paddings,
 * groups, and pixel counts below, at and across the 128-pixel blocks of a work group (1×1, 1×N, N×1, 120,
 * 437 pixels), with residual, bias and every activation; each case with gemm, gemm_fma and generic. */
static void test_gemm_grid(void **state) {
    (void)state;
    if (!glnn_test_gpu()) skip();
    tallies t = {0};
    static const int chans[][3] = {{16, 64, 1}, {32, 128, 2}, {48, 64, 1}, {64, 128, 1}};
    static const int gemm_sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {12, 10}, {19, 23}, {16, 16}};
    static const int geoms[][2] = {{1, 1}, {3, 1}, {3, 2}, {5, 1}, {2, 2}, {1, 3}, {3, 3}};
    for (int i = 0; i < 14; i++) {
        const int k = geoms[i % COUNT(geoms)][0], s = geoms[i % COUNT(geoms)][1];
        const bool same = i % 3 != 0;
        int h = gemm_sizes[i % COUNT(gemm_sizes)][0], w = gemm_sizes[i % COUNT(gemm_sizes)][1];
        if (!same && (h < k || w < k)) {
            h += k;
            w += k;
        }
        char row[256];
        snprintf(row, sizeof row,
                 "conv2d kernel_size=%d input_channels=%d output_channels=%d groups=%d stride=%d padding=%s "
                 "use_bias=%s activation=%s | %dx%dx%d%s",
                 k, chans[i % COUNT(chans)][0], chans[i % COUNT(chans)][1], chans[i % COUNT(chans)][2], s,
                 same ? "same" : "valid", i % 5 != 0 ? "true" : "false", glnn_activation_name((glnn_activation)(i % 3)),
                 h, w, chans[i % COUNT(chans)][0], i % 2 == 0 ? " residual" : "");
        gemm_only = true;
        run_case(&t, row);
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
