/* The fast CPU back end's kernels (src/backends/cpu, issue 14) against the CPU reference: every op kind and
 * parameter edge on random data, every instruction set this machine has (portable C included) and every
 * Conv2D arithmetic, on pools of 1, 2 and 3 threads.  Each case prepares the op on the reference context with
 * glnn_op_run (which gives the reference output), plans and runs the kernels on the same input bytes and
 * asserts SPEC §2.5: every byte within 1 LSB (MAX pooling, nearest sampling, shuffles and the exact Conv2D
 * arithmetic bit for bit), and at least 99.9 % identical bytes where the plan chose its arithmetic.  The dog
 * classifier (../shared) runs op by op on the reference's inputs and end to end on the kernels' own outputs. */
#include "testutil.h"

#include "backends/cpu/cpu.h"
#include "model/model.h"
#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/image_sampler.h"
#include "ops/pooling2d.h"
#include "ops/softmax.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MODEL_PATH "../shared/models/dog_classifier.chunks"

static const glnn_cpu_precision precisions[] = {GLNN_CPU_PRECISION_AUTO, GLNN_CPU_PRECISION_INT16,
                                                GLNN_CPU_PRECISION_INT24, GLNN_CPU_PRECISION_FLOAT,
                                                GLNN_CPU_PRECISION_EXACT};
static const char *const precision_names[] = {"auto", "int16", "int24", "float", "exact"};

/* Identical and differing bytes per ISA and asked precision. */
typedef struct {
    int64_t values, identical, taken[5];
    int max_diff;
} tally;
static tally tallies[GLNN_CPU_ISA_COUNT][COUNT(precisions)];

static glnn_cpu_pool *pools[3];
static int amx_plans;      /* plans checked against their VNNI twins (assert_same_without_amx) */
static int amx_span_plans; /* of which blocks read several groups */

static int setup(void **state) {
    (void)state;
    glnn_error err;
    for (int i = 0; i < COUNT(pools); i++)
        if (glnn_cpu_pool_create(i + 1, &pools[i], &err) != GLNN_OK) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < COUNT(pools); i++)
        glnn_cpu_pool_free(pools[i]);
    return 0;
}

static int precision_index(glnn_cpu_precision p) {
    switch (p) {
    case GLNN_CPU_PRECISION_INT16: return 1;
    case GLNN_CPU_PRECISION_INT24: return 2;
    case GLNN_CPU_PRECISION_FLOAT: return 3;
    case GLNN_CPU_PRECISION_EXACT: return 4;
    default: return 0;
    }
}

/* Compares n bytes; returns the largest difference and adds to the tally. */
static int compare(const uint8_t *got, const uint8_t *want, int64_t n, tally *t) {
    int worst = 0;
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        worst = d > worst ? d : worst;
        same += d == 0;
    }
    if (t) {
        t->values += n;
        t->identical += same;
        t->max_diff = worst > t->max_diff ? worst : t->max_diff;
    }
    return worst;
}

static uint8_t *random_bytes(glnn_rng *r, int64_t n) {
    uint8_t *b = malloc((size_t)(n > 0 ? n : 1));
    assert_non_null(b);
    for (int64_t i = 0; i < n; i++)
        b[i] = (uint8_t)(glnn_rng_u32(r) >> 24);
    return b;
}

/* ---- Conv2D ------------------------------------------------------------------------------------------------ */

typedef struct {
    int k, s, cin, cout, groups;
    glnn_padding pad;
    glnn_activation act;
    bool use_bias, residual;
    int h, w;
    float wscale, bscale; /* weights uniform in ±wscale/(k²·Cg), bias in ±bscale */
} conv_case;

/* A plan that computes its integer sums with AMX tiles gives the bytes of the VNNI tiles' plan (the same sums, the same
 * epilogue), on every pool. */
static void assert_same_without_amx(const glnn_conv2d *c, glnn_cpu_isa isa, glnn_cpu_precision precision,
                                    const glnn_cpu_conv2d_plan *amx, const uint8_t *in, const uint8_t *res,
                                    int64_t n_out) {
    glnn_error err;
    const glnn_cpu_conv2d_options o = {precision, true};
    glnn_cpu_conv2d_plan *plain;
    assert_ok(glnn_cpu_conv2d_plan_create_opts(c, isa, &o, &plain, &err));
    assert_false(glnn_cpu_conv2d_plan_amx(plain));
    assert_int_equal(glnn_cpu_conv2d_plan_precision(plain), glnn_cpu_conv2d_plan_precision(amx));
    uint8_t *a = malloc((size_t)n_out), *b = malloc((size_t)n_out);
    assert_true(a && b);
    assert_ok(glnn_cpu_conv2d_plan_run(plain, pools[0], in, res, b, &err));
    for (int pool = 0; pool < COUNT(pools); pool++) {
        memset(a, 0x5A, (size_t)n_out);
        assert_ok(glnn_cpu_conv2d_plan_run(amx, pools[pool], in, res, a, &err));
        if (memcmp(a, b, (size_t)n_out) != 0)
            print_message("AMX plan (%s) differs from the VNNI plan (%s), pool %d\n",
                          glnn_cpu_conv2d_plan_describe(amx), glnn_cpu_conv2d_plan_describe(plain), pool + 1);
        assert_memory_equal(a, b, n_out);
    }
    amx_plans++;
    amx_span_plans += strstr(glnn_cpu_conv2d_plan_describe(amx), "amx expanded") != NULL;
    free(a);
    free(b);
    glnn_cpu_conv2d_plan_free(plain);
}

/* Runs one case on the reference, then on every ISA, precision and pool (only the automatic arithmetic on a pool
 * of two when `quick`), adding to `tallies`. */
static void run_conv_case_ex(const conv_case *cc, glnn_rng *rng, bool verbose, bool quick) {
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "conv";
    p.kernel_size = cc->k;
    p.stride = cc->s;
    p.padding = cc->pad;
    p.num_input_channels = cc->cin;
    p.num_output_channels = cc->cout;
    p.num_groups = cc->groups;
    p.activation = cc->act;
    p.use_bias = cc->use_bias;
    glnn_op *op;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    const glnn_conv2d *c = (const glnn_conv2d *)op;
    const int64_t nw = (int64_t)cc->k * cc->k * c->cg * cc->cout;
    float *w = malloc((size_t)nw * sizeof(float)), *b = malloc((size_t)cc->cout * sizeof(float));
    assert_true(w && b);
    const float ws = cc->wscale / (float)(cc->k * cc->k * c->cg);
    for (int64_t i = 0; i < nw; i++)
        w[i] = glnn_rng_uniform(rng, -ws, ws);
    for (int i = 0; i < cc->cout; i++)
        b[i] = glnn_rng_uniform(rng, -cc->bscale, cc->bscale);
    glnn_chunks *ch;
    assert_ok(glnn_chunks_create(&ch, &err));
    assert_ok(glnn_chunks_set_weights(ch, "conv", w, nw, cc->use_bias ? b : NULL, cc->use_bias ? cc->cout : 0, &err));
    const bool image = cc->cin == 3;
    const int64_t n_in = (int64_t)cc->h * cc->w * cc->cin;
    uint8_t *in_bytes = random_bytes(rng, n_in);
    glnn_tensor *in = NULL, *res = NULL, *out = NULL;
    if (image) {
        assert_ok(glnn_image_create(cpu, in_bytes, cc->h, cc->w, 3, &in, &err));
    } else {
        assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, cc->h, cc->w, cc->cin}, &in, &err));
        assert_ok(glnn_tensor_upload_u8(in, in_bytes, n_in, &err));
    }
    /* The residual needs the output shape: prepare once without it. */
    glnn_tensor *inputs[2] = {in, NULL};
    assert_ok(glnn_op_run(cpu, op, ch, inputs, 1, &out, &err));
    const glnn_shape os = glnn_tensor_shape(out);
    const int64_t n_out = glnn_shape_count(os);
    uint8_t *res_bytes = NULL;
    if (cc->residual) {
        res_bytes = random_bytes(rng, n_out);
        assert_ok(glnn_tensor_create(cpu, os, &res, &err));
        assert_ok(glnn_tensor_upload_u8(res, res_bytes, n_out, &err));
        inputs[1] = res;
        assert_ok(glnn_op_run(cpu, op, ch, inputs, 2, &out, &err));
    }
    uint8_t *want = malloc((size_t)n_out), *got = malloc((size_t)n_out);
    assert_true(want && got);
    assert_ok(glnn_tensor_download_u8(out, want, n_out, &err));

    for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
        if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
        for (int pi = 0; pi < (quick ? 1 : COUNT(precisions)); pi++) {
            glnn_cpu_conv2d_plan *plan;
            assert_ok(glnn_cpu_conv2d_plan_create_ex(c, (glnn_cpu_isa)isa, precisions[pi], &plan, &err));
            assert_int_equal(glnn_cpu_conv2d_plan_isa(plan), isa);
            const glnn_cpu_precision taken = glnn_cpu_conv2d_plan_precision(plan);
            tally *t = &tallies[isa][pi];
            t->taken[precision_index(taken)]++;
            for (int pool = quick ? 1 : 0; pool < (quick ? 2 : COUNT(pools)); pool++) {
                memset(got, 0xAB, (size_t)n_out);
                assert_ok(glnn_cpu_conv2d_plan_run(plan, pools[pool], in_bytes, res_bytes, got, &err));
                int64_t before = t->identical;
                int d = compare(got, want, n_out, pool == (quick ? 1 : 0) ? t : NULL);
                if (d > 1 || (taken == GLNN_CPU_PRECISION_EXACT && memcmp(got, want, (size_t)n_out) != 0) || verbose) {
                    print_message(
                        "conv k%d s%d %s %d->%d G%d %s%s%s %dx%d w%.3g b%.3g, %s asked %s: %s: max %d LSB, "
                        "%lld of %lld identical (pool %d)\n",
                        cc->k, cc->s, cc->pad == GLNN_PADDING_SAME ? "same" : "valid", cc->cin, cc->cout, cc->groups,
                        glnn_activation_name(cc->act), cc->use_bias ? " bias" : "", cc->residual ? " residual" : "",
                        cc->h, cc->w, cc->wscale, cc->bscale, glnn_cpu_isa_name((glnn_cpu_isa)isa), precision_names[pi],
                        glnn_cpu_conv2d_plan_describe(plan), d,
                        (long long)(pool == (quick ? 1 : 0) ? t->identical - before : -1), (long long)n_out, pool + 1);
                }
                assert_true(d <= 1);
                if (taken == GLNN_CPU_PRECISION_EXACT) assert_memory_equal(got, want, n_out);
            }
            if (glnn_cpu_conv2d_plan_amx(plan))
                assert_same_without_amx(c, (glnn_cpu_isa)isa, precisions[pi], plan, in_bytes, res_bytes, n_out);
            glnn_cpu_conv2d_plan_free(plan);
        }
    }
    free(want);
    free(got);
    free(res_bytes);
    free(in_bytes);
    free(w);
    free(b);
    glnn_tensor_free(in);
    glnn_tensor_free(res);
    glnn_tensor_free(out);
    glnn_chunks_free(ch);
    glnn_op_release(op);
}

static void run_conv_case(const conv_case *cc, glnn_rng *rng, bool verbose) {
    run_conv_case_ex(cc, rng, verbose, false);
}

static void print_tallies(const char *what) {
    print_message(
        "%s (AMX plans checked against their VNNI twins so far: %d, %d with blocks reading several groups):\n", what,
        amx_plans, amx_span_plans);
    for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++)
        for (int pi = 0; pi < COUNT(precisions); pi++) {
            const tally *t = &tallies[isa][pi];
            if (!t->values) continue;
            print_message("  %-7s asked %-6s: %10lld values, %.4f %% identical, max %d LSB; plans: int16 %lld, int24 "
                          "%lld, float %lld, exact %lld\n",
                          glnn_cpu_isa_name((glnn_cpu_isa)isa), precision_names[pi], (long long)t->values,
                          100.0 * (double)t->identical / (double)t->values, t->max_diff, (long long)t->taken[1],
                          (long long)t->taken[2], (long long)t->taken[3], (long long)t->taken[4]);
        }
}

static void assert_auto_share(void) {
    for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
        const tally *t = &tallies[isa][0];
        if (t->values) assert_true((double)t->identical >= 0.999 * (double)t->values);
        for (int pi = 0; pi < COUNT(precisions); pi++)
            assert_true(tallies[isa][pi].max_diff <= 1);
    }
}

/* Hand-picked edges: every kind, kernel sizes 1–5, strides 1–3, both paddings, odd sizes, channel counts that
 * fill no vector, outputs of one pixel, residuals, activations, weights small and large. */
static void test_conv_edges(void **state) {
    (void)state;
    memset(tallies, 0, sizeof tallies);
    glnn_rng rng = {42};
    const glnn_padding V = GLNN_PADDING_VALID, S = GLNN_PADDING_SAME;
    const glnn_activation D = GLNN_ACTIVATION_DEFAULT, B = GLNN_ACTIVATION_BRELU6, L = GLNN_ACTIVATION_SIGMOID_LIKE;
    const conv_case cases[] = {
        /* regular, 1×1 and k×k */
        {1, 1, 64, 64, 1, V, L, true, false, 9, 13, 8, 1},
        {1, 1, 4, 4, 1, V, D, true, false, 3, 5, 4, 0.5f},
        {1, 2, 16, 20, 1, S, B, true, true, 7, 6, 8, 2},
        {3, 1, 64, 64, 1, S, L, true, false, 11, 17, 8, 1},
        {3, 1, 32, 48, 1, S, D, true, true, 6, 9, 2, 0.3f},
        {3, 2, 32, 64, 1, S, L, true, false, 9, 12, 8, 1},
        {3, 2, 8, 36, 1, V, B, false, false, 8, 9, 30, 1},
        {2, 1, 12, 12, 1, S, L, true, true, 5, 4, 8, 1},
        {4, 3, 8, 8, 1, S, D, true, false, 10, 11, 6, 0.5f},
        {5, 1, 4, 16, 1, S, L, true, false, 1, 1, 8, 1},
        {5, 2, 8, 8, 1, V, L, true, false, 5, 5, 8, 1},
        {3, 1, 256, 16, 1, S, L, true, false, 4, 5, 8, 1},
        {3, 1, 16, 32, 1, S, L, true, true, 6, 7, 200, 30},
        {1, 1, 32, 32, 1, V, D, true, true, 12, 12, 60, 20},
        /* grouped: 4, 8, 12, 16, 32 output channels per group */
        {3, 1, 32, 32, 8, S, L, true, true, 9, 10, 8, 1},
        {3, 1, 32, 32, 8, S, L, true, true, 9, 10, 300, 30},
        {3, 2, 32, 32, 4, V, L, true, false, 11, 12, 200, 50},
        {3, 2, 64, 96, 8, V, B, true, false, 9, 9, 8, 1},
        {3, 1, 64, 64, 4, S, D, true, false, 7, 8, 8, 0.5f},
        {1, 1, 64, 64, 2, V, L, true, true, 6, 6, 200, 30},
        {3, 1, 128, 128, 32, S, L, true, true, 5, 6, 200, 30},
        {3, 1, 192, 192, 24, V, L, true, false, 5, 5, 200, 50},
        {1, 1, 96, 192, 6, V, L, true, false, 4, 4, 8, 1},
        {2, 2, 16, 32, 2, S, L, true, false, 5, 7, 8, 1},
        {3, 1, 128, 8, 2, S, L, true, true, 6, 7, 8, 1},    /* 4 outputs per group of 64 inputs: gathered rows */
        {3, 1, 64, 8, 2, S, L, true, false, 6, 7, 200, 20}, /* 4 outputs per group of 32: a 16-quad window */
        {33, 1, 4, 4, 1, V, L, true, false, 35, 36, 8, 1},  /* a kernel larger than the kernels': exact */
        /* depthwise */
        {3, 1, 64, 64, 64, S, L, true, false, 9, 10, 8, 1},
        {3, 2, 20, 20, 20, S, D, true, true, 7, 9, 4, 0.5f},
        {5, 1, 8, 8, 8, V, B, false, false, 6, 6, 8, 1},
        {1, 1, 4, 4, 4, V, L, true, true, 3, 3, 8, 1},
        {3, 1, 36, 36, 36, S, L, true, true, 5, 5, 300, 30},
        /* depthwise 3×3 in chunks of the row (AVX-512): four blocks at once and single blocks after them, chunks
         * ending in fewer than four pixels, strides, residuals, every activation */
        {3, 2, 72, 72, 72, S, B, true, true, 9, 50, 8, 1},
        {3, 1, 64, 64, 64, V, D, true, true, 7, 130, 8, 1},
        {3, 1, 64, 64, 64, S, L, true, false, 6, 42, 8, 1},
        {3, 1, 128, 128, 128, S, L, true, true, 5, 45, 8, 1},
        {3, 2, 64, 64, 64, V, L, true, false, 8, 11, 8, 1},
        {3, 1, 80, 80, 80, S, D, false, true, 4, 4, 8, 1},
        /* image input */
        {3, 2, 3, 32, 1, V, L, true, false, 17, 19, 8, 1},
        {5, 2, 3, 32, 1, V, L, true, false, 15, 16, 300, 20},
        {3, 1, 3, 8, 1, V, D, true, false, 5, 7, 4, 0.5f},
        {1, 1, 3, 4, 1, V, B, true, false, 3, 3, 8, 1},
        {4, 3, 3, 20, 1, V, L, true, false, 9, 10, 8, 1},
        {7, 2, 3, 16, 1, V, L, true, false, 13, 13, 8, 1},
        /* AMX tiles (AVX-512 with AMX-INT8): A from the rows (taps of 32 or 64·n bytes per group) or from im2col rows,
         * strips of 16 pixels and a last overlapping one, fewer than 16 pixels a row, three blocks per pass (int16)
         * cut at group ends, blocks that fill no vector, residuals, every activation, strides, padding */
        {1, 1, 64, 48, 1, V, D, true, true, 5, 37, 8, 1},
        {1, 1, 96, 40, 1, V, B, true, false, 5, 17, 8, 1},
        {1, 2, 128, 64, 2, S, L, true, false, 9, 33, 300, 30},
        {3, 1, 64, 96, 1, S, L, true, true, 7, 21, 8, 1},
        {3, 2, 64, 64, 2, V, D, true, false, 11, 40, 200, 20},
        {3, 1, 32, 32, 1, S, B, true, true, 4, 16, 8, 1},
        {5, 2, 3, 32, 1, V, L, true, false, 23, 45, 300, 20},
        {3, 2, 3, 20, 1, V, D, true, false, 21, 40, 8, 1},
        {3, 2, 32, 64, 4, V, L, true, false, 15, 47, 300, 30},
        {3, 1, 64, 64, 4, S, B, true, true, 6, 19, 8, 1},
        {2, 1, 32, 32, 2, S, L, true, true, 5, 18, 8, 1},
        {1, 1, 32, 16, 1, V, L, true, true, 8, 9, 8, 1},
        /* AMX tiles for blocks that read several groups (2 or 3 channels of 8 per group): each block its own
         * im2col rows, zero weights between groups, a last block that fills no vector */
        {3, 2, 32, 32, 4, V, L, true, false, 21, 30, 200, 50},
        {3, 1, 64, 96, 8, S, B, true, true, 9, 11, 8, 1},
        {3, 1, 64, 96, 8, S, L, true, true, 9, 11, 300, 30},
        {3, 1, 24, 24, 3, S, D, true, false, 8, 12, 8, 1},
        {2, 1, 48, 32, 4, V, L, true, true, 9, 10, 8, 1},
    };
    for (int i = 0; i < COUNT(cases); i++)
        run_conv_case(&cases[i], &rng, false);
    print_tallies("Conv2D edges");
    assert_auto_share();
    if (glnn_cpu_amx_available()) assert_true(amx_plans > 0 && amx_span_plans > 0);
}

/* Random cases of every kind. */
static void test_conv_random(void **state) {
    (void)state;
    memset(tallies, 0, sizeof tallies);
    glnn_rng rng = {7};
    const int n_cases = getenv("GLNN_TEST_NO_GPU") ? 30 : 120; /* fewer under valgrind */
    for (int i = 0; i < n_cases; i++) {
        conv_case cc = {0};
        const int kind = (int)(glnn_rng_u32(&rng) % 4); /* regular, grouped, depthwise, image */
        cc.k = 1 + (int)(glnn_rng_u32(&rng) % 5);
        cc.s = 1 + (int)(glnn_rng_u32(&rng) % 3);
        if (glnn_rng_u32(&rng) % 2) cc.s = 1;
        cc.pad = glnn_rng_u32(&rng) % 2 ? GLNN_PADDING_SAME : GLNN_PADDING_VALID;
        cc.act = (glnn_activation)(glnn_rng_u32(&rng) % 3);
        cc.use_bias = glnn_rng_u32(&rng) % 4 != 0;
        cc.residual = glnn_rng_u32(&rng) % 3 == 0;
        const int q_in = 1 + (int)(glnn_rng_u32(&rng) % 12), q_out = 1 + (int)(glnn_rng_u32(&rng) % 12);
        switch (kind) {
        case 0: cc.cin = 4 * q_in, cc.cout = 4 * q_out, cc.groups = 1; break;
        case 1: {
            const int g = 2 + (int)(glnn_rng_u32(&rng) % 6);
            cc.groups = g;
            cc.cin = 4 * g * (1 + (int)(glnn_rng_u32(&rng) % 3));
            cc.cout = 4 * g * (1 + (int)(glnn_rng_u32(&rng) % 4));
            break;
        }
        case 2: cc.cin = cc.cout = cc.groups = 4 * q_in; break;
        default: cc.cin = 3, cc.cout = 4 * q_out, cc.groups = 1, cc.pad = GLNN_PADDING_VALID, cc.residual = false;
        }
        cc.h = cc.k + (int)(glnn_rng_u32(&rng) % 14);
        cc.w = cc.k + (int)(glnn_rng_u32(&rng) % 20);
        if (cc.pad == GLNN_PADDING_SAME) cc.h = 1 + (int)(glnn_rng_u32(&rng) % 16);
        const int scale = (int)(glnn_rng_u32(&rng) % 3);
        cc.wscale = scale == 0 ? 8 : scale == 1 ? 100 : 1000;
        cc.bscale = scale == 0 ? 1 : 20;
        run_conv_case(&cc, &rng, false);
    }
    print_tallies("Conv2D random");
    assert_auto_share();
}

/* The benchmark's layers (tools/bench.c: weights uniform in ±4/(k²·Cg), bias in ±0.5, SIGMOID_LIKE): at least
 * 99.9 % identical bytes on each, on every ISA.  Skipped under valgrind (GLNN_TEST_NO_GPU): too slow there. */
static void test_conv_bench_layers(void **state) {
    (void)state;
    if (getenv("GLNN_TEST_NO_GPU")) skip();
    glnn_rng rng = {3};
    const glnn_padding V = GLNN_PADDING_VALID, S = GLNN_PADDING_SAME;
    const glnn_activation L = GLNN_ACTIVATION_SIGMOID_LIKE;
    const conv_case cases[] = {
        {3, 1, 64, 64, 1, S, L, true, false, 128, 128, 4, 0.5f},  /* conv3x3_64_128 */
        {1, 1, 64, 64, 1, V, L, true, false, 128, 128, 4, 0.5f},  /* conv1x1_64_128 */
        {3, 1, 64, 64, 64, S, L, true, false, 128, 128, 4, 0.5f}, /* dw3x3_64_128 */
        {3, 2, 3, 32, 1, V, L, true, false, 256, 256, 4, 0.5f},   /* img3x3s2_32_256 */
        {3, 2, 32, 64, 1, S, L, true, false, 112, 112, 4, 0.5f},  /* conv3x3s2_32_64_112 */
        {3, 1, 128, 128, 8, S, L, true, false, 56, 56, 4, 0.5f},  /* group3x3_128_g8_56 */
        {1, 1, 128, 256, 1, V, L, true, false, 28, 28, 4, 0.5f},  /* pw_128_256_28 */
        {3, 1, 256, 256, 1, S, L, true, false, 14, 14, 4, 0.5f},  /* conv3x3_256_14 */
    };
    for (int i = 0; i < COUNT(cases); i++) {
        memset(tallies, 0, sizeof tallies);
        run_conv_case_ex(&cases[i], &rng, false, true);
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            const tally *t = &tallies[isa][0];
            if (!t->values) continue;
            print_message("bench layer %d (%dx%d, %d->%d, k%d s%d G%d), %s: %.4f %% identical, max %d LSB\n", i,
                          cases[i].h, cases[i].w, cases[i].cin, cases[i].cout, cases[i].k, cases[i].s, cases[i].groups,
                          glnn_cpu_isa_name((glnn_cpu_isa)isa), 100.0 * (double)t->identical / (double)t->values,
                          t->max_diff);
            assert_true(t->max_diff <= 1);
            assert_true((double)t->identical >= 0.999 * (double)t->values);
        }
    }
}

/* ---- Pooling2D ---------------------------------------------------------------------------------------------- */

static void test_pooling(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_rng rng = {11};
    int64_t values = 0;
    for (int i = 0; i < 60; i++) {
        const bool is_max = i % 2 == 0;
        int size = 2 + (int)(glnn_rng_u32(&rng) % 5), stride = (int)(glnn_rng_u32(&rng) % 4);
        glnn_padding pad = is_max && glnn_rng_u32(&rng) % 2 ? GLNN_PADDING_SAME : GLNN_PADDING_VALID;
        int64_t c = 4 * (1 + glnn_rng_u32(&rng) % 70), h = size + glnn_rng_u32(&rng) % 12,
                w = size + glnn_rng_u32(&rng) % 12;
        if (i >= 10 && i <= 13) pad = GLNN_PADDING_VALID;
        if (i == 10) size = 7, stride = 1, h = w = 7, c = 192;        /* global pooling */
        if (i == 11) size = 190, stride = 1, h = w = 190, c = 4;      /* past the multiply-shift division */
        if (i == 13) size = 181, stride = 1, h = 181, w = 183, c = 8; /* its last window size */
        if (i == 12) size = 2, stride = 2, h = 128, w = 128, c = 64;
        glnn_op *op = glnn_test_pool("pool", is_max ? GLNN_POOLING_MAX : GLNN_POOLING_AVERAGE, size, stride, pad);
        uint8_t *bytes = random_bytes(&rng, h * w * c);
        if (i == 11 || i == 12) memset(bytes, 255, (size_t)(h * w * c)); /* the largest sums */
        glnn_tensor *in, *out = NULL;
        assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, h, w, c}, &in, &err));
        assert_ok(glnn_tensor_upload_u8(in, bytes, h * w * c, &err));
        assert_ok(glnn_op_run(cpu, op, NULL, &in, 1, &out, &err));
        const int64_t n = glnn_shape_count(glnn_tensor_shape(out));
        uint8_t *want = malloc((size_t)n), *got = malloc((size_t)n);
        assert_true(want && got);
        assert_ok(glnn_tensor_download_u8(out, want, n, &err));
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
            glnn_cpu_pooling2d_plan *plan;
            assert_ok(glnn_cpu_pooling2d_plan_create((const glnn_pooling2d *)op, (glnn_cpu_isa)isa, &plan, &err));
            for (int pool = 0; pool < COUNT(pools); pool++) {
                memset(got, 0xAB, (size_t)n);
                glnn_cpu_pooling2d_plan_run(plan, pools[pool], bytes, got);
                assert_memory_equal(got, want, n);
                values += n;
            }
            glnn_cpu_pooling2d_plan_free(plan);
        }
        free(want);
        free(got);
        free(bytes);
        glnn_tensor_free(in);
        glnn_tensor_free(out);
        glnn_op_release(op);
    }
    print_message("Pooling2D: %lld values, all identical\n", (long long)values);
}

/* ---- Dense ---------------------------------------------------------------------------------------------------- */

static void test_dense(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_rng rng = {13};
    double worst = 0;
    for (int i = 0; i < 40; i++) {
        const int64_t n_in = 4 * (1 + glnn_rng_u32(&rng) % 100), n_out = 1 + glnn_rng_u32(&rng) % 130;
        const bool vector = i % 3 == 2, bias = i % 4 != 3;
        glnn_dense_params p;
        glnn_dense_params_init(&p);
        p.name = "fc";
        p.num_output_dims = (int)n_out;
        p.use_bias = bias;
        glnn_op *op;
        assert_ok(glnn_dense_create(&p, &op, &err));
        float *a = malloc((size_t)(n_in * n_out) * sizeof(float)), *b = malloc((size_t)n_out * sizeof(float));
        float *xf = malloc((size_t)n_in * sizeof(float));
        assert_true(a && b && xf);
        for (int64_t j = 0; j < n_in * n_out; j++)
            a[j] = glnn_rng_uniform(&rng, -2, 2);
        for (int64_t j = 0; j < n_out; j++)
            b[j] = glnn_rng_uniform(&rng, -5, 5);
        for (int64_t j = 0; j < n_in; j++)
            xf[j] = glnn_rng_uniform(&rng, -3, 3);
        uint8_t *xb = random_bytes(&rng, n_in);
        glnn_chunks *ch;
        assert_ok(glnn_chunks_create(&ch, &err));
        assert_ok(glnn_chunks_set_weights(ch, "fc", a, n_in * n_out, bias ? b : NULL, bias ? n_out : 0, &err));
        glnn_tensor *in, *out = NULL;
        if (vector) {
            assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_in}, &in, &err));
            assert_ok(glnn_tensor_upload_f32(in, xf, n_in, &err));
        } else {
            assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, 1, 1, n_in}, &in, &err));
            assert_ok(glnn_tensor_upload_u8(in, xb, n_in, &err));
        }
        assert_ok(glnn_op_run(cpu, op, ch, &in, 1, &out, &err));
        float *want = malloc((size_t)n_out * sizeof(float)), *got = malloc((size_t)n_out * sizeof(float));
        assert_true(want && got);
        assert_ok(glnn_tensor_download_f32(out, want, n_out, &err));
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
            glnn_cpu_dense_plan *plan;
            assert_ok(glnn_cpu_dense_plan_create((const glnn_dense *)op, (glnn_cpu_isa)isa, &plan, &err));
            for (int pool = 0; pool < COUNT(pools); pool++) {
                glnn_cpu_dense_plan_run(plan, pools[pool], vector ? (const void *)xf : (const void *)xb, got);
                for (int64_t o = 0; o < n_out; o++) {
                    double mag = bias ? fabs(b[o]) : 0;
                    for (int64_t j = 0; j < n_in; j++)
                        mag += fabs((double)a[o * n_in + j] * (vector ? xf[j] : xb[j] / 255.0));
                    const double d = fabs((double)got[o] - (double)want[o]), bound = 1e-4 * mag + 1e-6;
                    worst = d / bound > worst ? d / bound : worst;
                    assert_true(d <= bound);
                }
            }
            glnn_cpu_dense_plan_free(plan);
        }
        free(a), free(b), free(xf), free(xb), free(want), free(got);
        glnn_tensor_free(in);
        glnn_tensor_free(out);
        glnn_chunks_free(ch);
        glnn_op_release(op);
    }
    print_message("Dense: largest difference %.3g of SPEC's bound\n", worst);
}

/* ---- ImageSampler -------------------------------------------------------------------------------------------- */

static void test_image_sampler(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_rng rng = {17};
    int64_t values = 0;
    for (int i = 0; i < 48; i++) {
        glnn_image_sampler_params p;
        glnn_image_sampler_params_init(&p);
        p.name = "in";
        p.output_width = 1 + (int)(glnn_rng_u32(&rng) % 60);
        p.output_height = 1 + (int)(glnn_rng_u32(&rng) % 60);
        p.center_crop = i % 2 == 0;
        p.linear_interp = i % 4 < 2;
        p.rotation = (i / 4) % 4;
        const int64_t h = 1 + glnn_rng_u32(&rng) % 70, w = 1 + glnn_rng_u32(&rng) % 70;
        glnn_op *op;
        assert_ok(glnn_image_sampler_create(&p, &op, &err));
        uint8_t *px = random_bytes(&rng, h * w * 3);
        glnn_tensor *in, *out = NULL;
        assert_ok(glnn_image_create(cpu, px, h, w, 3, &in, &err));
        assert_ok(glnn_op_run(cpu, op, NULL, &in, 1, &out, &err));
        const int64_t n = (int64_t)p.output_width * p.output_height * 3;
        uint8_t *want = malloc((size_t)n), *got = malloc((size_t)n);
        assert_true(want && got);
        assert_ok(glnn_tensor_download_u8(out, want, n, &err));
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
            glnn_cpu_image_sampler_plan *plan;
            assert_ok(
                glnn_cpu_image_sampler_plan_create((const glnn_image_sampler *)op, (glnn_cpu_isa)isa, &plan, &err));
            for (int pool = 0; pool < COUNT(pools); pool++) {
                memset(got, 0xAB, (size_t)n);
                glnn_cpu_image_sampler_plan_run(plan, pools[pool], px, got);
                assert_memory_equal(got, want, n);
                values += n;
            }
            glnn_cpu_image_sampler_plan_free(plan);
        }
        free(want), free(got), free(px);
        glnn_tensor_free(in);
        glnn_tensor_free(out);
        glnn_op_release(op);
    }
    print_message("ImageSampler: %lld values, all identical\n", (long long)values);
}

/* ---- connection shuffle ---------------------------------------------------------------------------------------- */

static void test_shuffle(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_rng rng = {19};
    const int quads[] = {1, 2, 4, 8, 12, 16, 48, 300};
    for (int i = 0; i < COUNT(quads); i++)
        for (int n = 2; n <= quads[i]; n++) {
            if (quads[i] % n) continue;
            const int64_t h = 1 + glnn_rng_u32(&rng) % 9, w = 1 + glnn_rng_u32(&rng) % 9, c = 4 * quads[i];
            uint8_t *bytes = random_bytes(&rng, h * w * c), *got = malloc((size_t)(h * w * c));
            assert_non_null(got);
            glnn_tensor *in, *out;
            assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, h, w, c}, &in, &err));
            assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, h, w, c}, &out, &err));
            assert_ok(glnn_tensor_upload_u8(in, bytes, h * w * c, &err));
            assert_ok(glnn_host_shuffle(NULL, in, n, out, &err));
            for (int pool = 0; pool < COUNT(pools); pool++) {
                glnn_cpu_shuffle_run(pools[pool], bytes, h * w, c, n, got);
                assert_memory_equal(got, out->bytes, h * w * c);
            }
            for (int isa = 0; isa < GLNN_CPU_ISA_COUNT;
                 isa++) { /* every instruction set's kernel, and the portable loop */
                if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
                memset(got, 0, (size_t)(h * w * c));
                glnn_cpu_shuffle_run_isa(pools[1], (glnn_cpu_isa)isa, bytes, h * w, c, n, got);
                assert_memory_equal(got, out->bytes, h * w * c);
            }
            free(bytes), free(got);
            glnn_tensor_free(in);
            glnn_tensor_free(out);
        }
}

/* ---- Upsampling2D ---------------------------------------------------------------------------------------------- */

/* SPEC §5.5 written out plainly: positions and weights in double, the blend in float, x then y. */
static void upsample_plain(const uint8_t *in, int64_t h, int64_t w, int64_t c, int f, bool bilinear, uint8_t *out) {
    for (int64_t y = 0; y < h * f; y++)
        for (int64_t x = 0; x < w * f; x++)
            for (int64_t ch = 0; ch < c; ch++) {
                uint8_t *o = out + (y * w * f + x) * c + ch;
                if (!bilinear) {
                    *o = in[((y / f) * w + x / f) * c + ch];
                    continue;
                }
                double py = (y + 0.5) / f - 0.5, px = (x + 0.5) / f - 0.5;
                py = py < 0 ? 0 : py > h - 1 ? (double)(h - 1) : py;
                px = px < 0 ? 0 : px > w - 1 ? (double)(w - 1) : px;
                const int64_t y0 = (int64_t)floor(py), x0 = (int64_t)floor(px);
                const int64_t y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
                const float fy = (float)(py - y0), fx = (float)(px - x0);
                const float top = (1 - fx) * in[(y0 * w + x0) * c + ch] + fx * in[(y0 * w + x1) * c + ch];
                const float bottom = (1 - fx) * in[(y1 * w + x0) * c + ch] + fx * in[(y1 * w + x1) * c + ch];
                const float v = floorf((1 - fy) * top + fy * bottom + 0.5f);
                *o = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

static void test_upsampling(void **state) {
    (void)state;
    glnn_error err;
    glnn_rng rng = {23};
    tally t = {0};
    for (int i = 0; i < 40; i++) {
        glnn_cpu_upsampling2d_params p = {1 + glnn_rng_u32(&rng) % 6, 1 + glnn_rng_u32(&rng) % 6,
                                          4 * (1 + glnn_rng_u32(&rng) % 10), 2 + (int)(glnn_rng_u32(&rng) % 15),
                                          i % 2 == 1};
        const int64_t n_in = p.h * p.w * p.c, n = n_in * p.factor * p.factor;
        uint8_t *in = random_bytes(&rng, n_in), *want = malloc((size_t)n), *got = malloc((size_t)n);
        assert_true(want && got);
        upsample_plain(in, p.h, p.w, p.c, p.factor, p.bilinear, want);
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
            glnn_cpu_upsampling2d_plan *plan;
            assert_ok(glnn_cpu_upsampling2d_plan_create(&p, (glnn_cpu_isa)isa, &plan, &err));
            for (int pool = 0; pool < COUNT(pools); pool++) {
                memset(got, 0xAB, (size_t)n);
                glnn_cpu_upsampling2d_plan_run(plan, pools[pool], in, got);
                assert_true(compare(got, want, n, &t) <= 1);
                if (!p.bilinear) assert_memory_equal(got, want, n);
            }
            glnn_cpu_upsampling2d_plan_free(plan);
        }
        free(in), free(want), free(got);
    }
    /* Bad parameters are errors naming the cause. */
    glnn_cpu_upsampling2d_plan *plan;
    glnn_cpu_upsampling2d_params bad = {4, 4, 8, 17, false};
    assert_error(glnn_cpu_upsampling2d_plan_create(&bad, GLNN_CPU_ISA_AUTO, &plan, &err), &err, GLNN_ERR_ARGUMENT,
                 "factor must be 2 to 16");
    bad = (glnn_cpu_upsampling2d_params){4, 4, 6, 2, true};
    assert_error(glnn_cpu_upsampling2d_plan_create(&bad, GLNN_CPU_ISA_AUTO, &plan, &err), &err, GLNN_ERR_ARGUMENT,
                 "multiple of 4");
    print_message("Upsampling2D: %lld values, %.4f %% identical to the plain formula, max %d LSB\n",
                  (long long)t.values, 100.0 * (double)t.identical / (double)t.values, t.max_diff);
}

/* ---- the dog classifier ------------------------------------------------------------------------------------------ */

/* Every op's output on one picture, and the plans of one ISA. */
typedef struct {
    glnn_model *m;
    int n;
    uint8_t **bytes; /* 8-bit outputs (tensors, images) */
    float **floats;  /* Dense outputs */
    int64_t *count;
    float probs[120];
} dog_run;

/* Input i of op p: the producer's output (shuffled as the connection says) or the bound picture, from `run`'s
 * outputs.  *tmp receives a buffer to free. */
static const void *dog_input(const dog_run *run, const uint8_t *picture, int p, int i, glnn_shape *shape,
                             uint8_t **tmp) {
    const glnn_model *m = run->m;
    glnn_op *op = m->ops[p];
    *tmp = NULL;
    for (int j = 0; j < m->n_conns; j++) {
        const glnn_connection *c = &m->conns[j];
        if (c->dest != op || c->input != i) continue;
        const int q = glnn_model_position(m, c->source);
        *shape = c->source->out_shape;
        if (shape->kind == GLNN_KIND_VECTOR) return run->floats[q];
        if (c->shuffle > 1 && c->shuffle != shape->c / 4) {
            *tmp = malloc((size_t)run->count[q]);
            assert_non_null(*tmp);
            glnn_cpu_shuffle_run(pools[1], run->bytes[q], shape->h * shape->w, shape->c, c->shuffle, *tmp);
            return *tmp;
        }
        return run->bytes[q];
    }
    for (int b = 0; b < m->n_bindings; b++)
        if (m->bindings[b].op == op && m->bindings[b].input == i) {
            *shape = m->bindings[b].shape;
            return picture;
        }
    return NULL;
}

static void dog_free(dog_run *r) {
    for (int p = 0; p < r->n; p++) {
        free(r->bytes[p]);
        free(r->floats[p]);
    }
    free(r->bytes);
    free(r->floats);
    free(r->count);
}

static void dog_alloc(dog_run *r, glnn_model *m) {
    r->m = m;
    r->n = m->n_ops;
    r->bytes = calloc((size_t)r->n, sizeof *r->bytes);
    r->floats = calloc((size_t)r->n, sizeof *r->floats);
    r->count = calloc((size_t)r->n, sizeof *r->count);
    assert_true(r->bytes && r->floats && r->count);
}

/* The reference, op by op (each op prepared by glnn_op_run for its inputs and left prepared). */
static void dog_reference(glnn_model *m, const glnn_chunks *ch, const uint8_t *picture, dog_run *ref) {
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    dog_alloc(ref, m);
    for (int p = 0; p < m->n_ops; p++) {
        glnn_op *op = m->ops[p];
        glnn_tensor *in[2] = {NULL, NULL}, *out = NULL;
        for (int i = 0; i < op->cls->info.input_count; i++) {
            glnn_shape shape;
            uint8_t *tmp;
            const void *src = dog_input(ref, picture, p, i, &shape, &tmp);
            if (!src) continue;
            assert_ok(glnn_tensor_create(cpu, shape, &in[i], &err));
            const int64_t n = glnn_shape_count(shape);
            if (shape.kind == GLNN_KIND_VECTOR)
                assert_ok(glnn_tensor_upload_f32(in[i], src, n, &err));
            else
                assert_ok(glnn_tensor_upload_u8(in[i], src, n, &err));
            free(tmp);
        }
        assert_ok(
            glnn_op_run(cpu, op, ch, in, op->cls->info.input_count, op->cls->info.output_count ? &out : NULL, &err));
        if (out) {
            const glnn_shape os = glnn_tensor_shape(out);
            ref->count[p] = glnn_shape_count(os);
            if (os.kind == GLNN_KIND_VECTOR) {
                ref->floats[p] = malloc((size_t)ref->count[p] * sizeof(float));
                assert_non_null(ref->floats[p]);
                assert_ok(glnn_tensor_download_f32(out, ref->floats[p], ref->count[p], &err));
            } else {
                ref->bytes[p] = malloc((size_t)ref->count[p]);
                assert_non_null(ref->bytes[p]);
                assert_ok(glnn_tensor_download_u8(out, ref->bytes[p], ref->count[p], &err));
            }
        } else {
            assert_ok(glnn_op_get_probabilities(op, ref->probs, 120, &err));
        }
        glnn_tensor_free(in[0]);
        glnn_tensor_free(in[1]);
        glnn_tensor_free(out);
    }
}

/* The kernels of `isa`, op by op, on inputs from `src` (the reference's: each op alone; or `mine`'s own: end to
 * end).  Fills mine; per-op comparisons with the reference go to t (8-bit outputs) and *dense_rel. */
static void dog_kernels(glnn_cpu_isa isa, const dog_run *ref, const dog_run *src, const uint8_t *picture, dog_run *mine,
                        tally *t, double *worst_share, double *dense_rel) {
    glnn_error err;
    glnn_model *m = ref->m;
    for (int p = 0; p < m->n_ops; p++) {
        glnn_op *op = m->ops[p];
        const void *in[2] = {NULL, NULL};
        uint8_t *tmp[2] = {NULL, NULL};
        glnn_shape shapes[2];
        for (int i = 0; i < op->cls->info.input_count; i++)
            in[i] = dog_input(src, picture, p, i, &shapes[i], &tmp[i]);
        mine->count[p] = ref->count[p];
        const glnn_op_kind kind = op->cls->info.kind;
        if (kind == GLNN_OP_DENSE) {
            mine->floats[p] = malloc((size_t)ref->count[p] * sizeof(float));
            assert_non_null(mine->floats[p]);
        } else if (kind != GLNN_OP_SOFTMAX) {
            mine->bytes[p] = malloc((size_t)ref->count[p]);
            assert_non_null(mine->bytes[p]);
        }
        switch (kind) {
        case GLNN_OP_CONV2D: {
            glnn_cpu_conv2d_plan *plan;
            assert_ok(glnn_cpu_conv2d_plan_create((const glnn_conv2d *)op, isa, &plan, &err));
            assert_ok(glnn_cpu_conv2d_plan_run(plan, pools[1], in[0], in[1], mine->bytes[p], &err));
            if (glnn_cpu_conv2d_plan_amx(plan))
                assert_same_without_amx((const glnn_conv2d *)op, isa, GLNN_CPU_PRECISION_AUTO, plan, in[0], in[1],
                                        ref->count[p]);
            glnn_cpu_conv2d_plan_free(plan);
            break;
        }
        case GLNN_OP_POOLING2D: {
            glnn_cpu_pooling2d_plan *plan;
            assert_ok(glnn_cpu_pooling2d_plan_create((const glnn_pooling2d *)op, isa, &plan, &err));
            glnn_cpu_pooling2d_plan_run(plan, pools[1], in[0], mine->bytes[p]);
            glnn_cpu_pooling2d_plan_free(plan);
            break;
        }
        case GLNN_OP_IMAGE_SAMPLER: {
            glnn_cpu_image_sampler_plan *plan;
            assert_ok(glnn_cpu_image_sampler_plan_create((const glnn_image_sampler *)op, isa, &plan, &err));
            glnn_cpu_image_sampler_plan_run(plan, pools[1], in[0], mine->bytes[p]);
            glnn_cpu_image_sampler_plan_free(plan);
            break;
        }
        case GLNN_OP_DENSE: {
            glnn_cpu_dense_plan *plan;
            assert_ok(glnn_cpu_dense_plan_create((const glnn_dense *)op, isa, &plan, &err));
            glnn_cpu_dense_plan_run(plan, pools[1], in[0], mine->floats[p]);
            glnn_cpu_dense_plan_free(plan);
            break;
        }
        case GLNN_OP_SOFTMAX: glnn_softmax_compute(in[0], shapes[0].c, mine->probs); break;
        default: fail_msg("op kind %d has no case here", (int)kind);
        }
        if (mine->bytes[p] && t) {
            tally one = {0};
            const int d = compare(mine->bytes[p], ref->bytes[p], ref->count[p], &one);
            t->values += one.values;
            t->identical += one.identical;
            t->max_diff = d > t->max_diff ? d : t->max_diff;
            const double share = (double)one.identical / (double)one.values;
            if (worst_share && share < *worst_share) *worst_share = share;
            assert_true(d <= 1);
        }
        if (mine->floats[p] && dense_rel && src == ref) {
            for (int64_t o = 0; o < ref->count[p]; o++) {
                const double d = fabs((double)mine->floats[p][o] - (double)ref->floats[p][o]);
                const double r = d / (1e-4 * fabs((double)ref->floats[p][o]) + 1e-4);
                *dense_rel = r > *dense_rel ? r : *dense_rel;
            }
        }
        free(tmp[0]);
        free(tmp[1]);
    }
}

static void test_dog_classifier(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *ch;
    if (glnn_chunks_read_file(MODEL_PATH, &ch, &err) != GLNN_OK) {
        print_message("no model (%s): skipped\n", err.message);
        skip();
    }
    static const char *pictures[] = {"../shared/images/bg.bmp", "../shared/images/butterfly.bmp",
                                     "../shared/images/fecamp.bmp", "../shared/images/heart.png",
                                     "../shared/images/spiral.bmp"};
    const int n_pictures = getenv("GLNN_TEST_NO_GPU") ? 1 : COUNT(pictures); /* one under valgrind */
    tally per_op[GLNN_CPU_ISA_COUNT] = {{0}}, chain[GLNN_CPU_ISA_COUNT] = {{0}};
    double worst_share[GLNN_CPU_ISA_COUNT];
    for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++)
        worst_share[isa] = 1.0;
    for (int i = 0; i < n_pictures; i++) {
        glnn_model *m;
        assert_ok(glnn_model_from_chunks(ch, &m, &err));
        uint8_t *px;
        int64_t h, w;
        assert_ok(glnn_image_load(pictures[i], &px, &h, &w, &err));
        assert_ok(glnn_model_bind_image(m, "input", 0, px, h, w, 3, &err));
        const uint8_t *picture = m->bindings[0].bytes;
        dog_run ref = {0};
        dog_reference(m, ch, picture, &ref);
        for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
            if (!glnn_cpu_isa_supported((glnn_cpu_isa)isa)) continue;
            dog_run alone = {0}, end = {0};
            dog_alloc(&alone, m);
            dog_alloc(&end, m);
            double dense_rel = 0;
            dog_kernels((glnn_cpu_isa)isa, &ref, &ref, picture, &alone, &per_op[isa], &worst_share[isa], &dense_rel);
            assert_true(dense_rel <= 1.0);
            /* End to end: differences propagate, as between the reference and a GPU. */
            tally e = {0};
            dog_kernels((glnn_cpu_isa)isa, &ref, &end, picture, &end, NULL, NULL, NULL);
            for (int p = 0; p < m->n_ops; p++)
                if (end.bytes[p]) compare(end.bytes[p], ref.bytes[p], ref.count[p], &e);
            chain[isa].values += e.values;
            chain[isa].identical += e.identical;
            chain[isa].max_diff = e.max_diff > chain[isa].max_diff ? e.max_diff : chain[isa].max_diff;
            int top_ref = 0, top = 0;
            double max_p = 0;
            for (int k = 0; k < 120; k++) {
                top_ref = ref.probs[k] > ref.probs[top_ref] ? k : top_ref;
                top = end.probs[k] > end.probs[top] ? k : top;
                max_p = fmax(max_p, fabs((double)ref.probs[k] - (double)end.probs[k]));
            }
            int rank = 0; /* of the kernels' first class among the reference's */
            for (int k = 0; k < 120; k++)
                rank += ref.probs[k] > ref.probs[top];
            print_message("%s, %s: op by op %.4f %% identical; end to end %.4f %% identical (max %d LSB), top-1 %d "
                          "(reference %d, rank %d there), largest probability difference %.2e\n",
                          pictures[i], glnn_cpu_isa_name((glnn_cpu_isa)isa),
                          100.0 * (double)per_op[isa].identical / (double)per_op[isa].values,
                          100.0 * (double)e.identical / (double)e.values, e.max_diff, top, top_ref, rank, max_p);
            /* The GPU's tolerance (test_model.c): first class among the reference's first five, probabilities
             * within 0.05. */
            assert_true(rank < 5);
            assert_true(max_p <= 0.05);
            dog_free(&alone);
            dog_free(&end);
        }
        dog_free(&ref);
        glnn_free(px);
        glnn_model_free(m);
    }
    for (int isa = 0; isa < GLNN_CPU_ISA_COUNT; isa++) {
        if (!per_op[isa].values) continue;
        print_message("dog classifier, %s: op by op %lld values, %.4f %% identical (the least of one op on one "
                      "picture: %.4f %%), max %d LSB\n",
                      glnn_cpu_isa_name((glnn_cpu_isa)isa), (long long)per_op[isa].values,
                      100.0 * (double)per_op[isa].identical / (double)per_op[isa].values, 100.0 * worst_share[isa],
                      per_op[isa].max_diff);
        assert_true(per_op[isa].max_diff <= 1);
        assert_true((double)per_op[isa].identical >= 0.999 * (double)per_op[isa].values);
    }
    glnn_chunks_free(ch);
}

/* ---- thread pool, instruction sets, errors ---------------------------------------------------------------------- */

typedef struct {
    int *hits;
    int threads;
    int bad_thread;
} pool_check;

static void count_hits(void *arg, int64_t b, int64_t e, int thread) {
    pool_check *c = arg;
    if (thread < 0 || thread >= c->threads) c->bad_thread = 1;
    for (int64_t i = b; i < e; i++)
        __atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
}

/* Every item runs exactly once, with static and dynamic splits, on pools of 1 to 5 threads, many times over
 * (workers sleeping and spinning between jobs); scratch memory grows and stays per thread. */
static void test_pool(void **state) {
    (void)state;
    glnn_error err;
    for (int threads = 1; threads <= 5; threads++) {
        glnn_cpu_pool *pool;
        assert_ok(glnn_cpu_pool_create(threads, &pool, &err));
        assert_int_equal(glnn_cpu_pool_size(pool), threads);
        const int64_t sizes[] = {0, 1, 2, 3, 7, 64, 1000};
        const int64_t grains[] = {0, -1, 1, 3, 1000};
        for (int round = 0; round < 20; round++)
            for (int i = 0; i < COUNT(sizes); i++)
                for (int g = 0; g < COUNT(grains); g++) {
                    int hits[1000] = {0};
                    pool_check c = {hits, threads, 0};
                    glnn_cpu_parallel_for(pool, sizes[i], grains[g], count_hits, &c);
                    assert_false(c.bad_thread);
                    for (int64_t j = 0; j < sizes[i]; j++)
                        assert_int_equal(hits[j], 1);
                }
        assert_null(glnn_cpu_pool_scratch(pool, 0));
        assert_ok(glnn_cpu_pool_reserve(pool, 100, "test", &err));
        for (int t = 0; t < threads; t++) {
            uint8_t *s = glnn_cpu_pool_scratch(pool, t);
            assert_non_null(s);
            assert_int_equal((uintptr_t)s % 64, 0);
            memset(s, t, 100);
        }
        void *before = glnn_cpu_pool_scratch(pool, 0);
        assert_ok(glnn_cpu_pool_reserve(pool, 50, "test", &err)); /* smaller: kept */
        assert_ptr_equal(glnn_cpu_pool_scratch(pool, 0), before);
        assert_ok(glnn_cpu_pool_reserve(pool, 1 << 20, "test", &err));
        memset(glnn_cpu_pool_scratch(pool, threads - 1), 1, 1 << 20);
        assert_null(glnn_cpu_pool_scratch(pool, threads));
        glnn_cpu_pool_free(pool);
    }
    /* A NULL pool runs on the caller. */
    int hits[10] = {0};
    pool_check c = {hits, 1, 0};
    glnn_cpu_parallel_for(NULL, 10, 3, count_hits, &c);
    for (int j = 0; j < 10; j++)
        assert_int_equal(hits[j], 1);
    assert_int_equal(glnn_cpu_pool_size(NULL), 1);
    glnn_cpu_pool *pool;
    assert_error(glnn_cpu_pool_create(100000, &pool, &err), &err, GLNN_ERR_ARGUMENT, "at most");
    assert_error(glnn_cpu_pool_reserve(NULL, 10, "reserve", &err), &err, GLNN_ERR_ARGUMENT, "reserve");
}

static void test_isa_and_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_cpu_isa isa;
    assert_true(glnn_cpu_isa_supported(GLNN_CPU_ISA_C));
    assert_true(glnn_cpu_isa_supported(glnn_cpu_isa_best()));
    assert_false(glnn_cpu_isa_supported(GLNN_CPU_ISA_COUNT));
    assert_ok(glnn_cpu_isa_parse("AUTO", &isa, &err));
    assert_int_equal(isa, GLNN_CPU_ISA_AUTO);
    assert_ok(glnn_cpu_isa_parse("c", &isa, &err));
    assert_int_equal(isa, GLNN_CPU_ISA_C);
    assert_error(glnn_cpu_isa_parse("sse9", &isa, &err), &err, GLNN_ERR_ARGUMENT, "sse9", "unknown");
    for (int i = 0; i < GLNN_CPU_ISA_COUNT; i++)
        if (!glnn_cpu_isa_supported((glnn_cpu_isa)i))
            assert_error(glnn_cpu_isa_parse(glnn_cpu_isa_name((glnn_cpu_isa)i), &isa, &err), &err, GLNN_ERR_DEVICE,
                         "not supported");
    print_message("CPU: best instruction set %s, features 0x%x\n", glnn_cpu_isa_name(glnn_cpu_isa_best()),
                  glnn_cpu_features());
    /* The instruction set a known CPU must get (the emulated CPUs of tests/CMakeLists.txt). */
    const char *expect = getenv("GLNN_TEST_EXPECT_ISA");
    if (expect && *expect) assert_string_equal(glnn_cpu_isa_name(glnn_cpu_isa_best()), expect);

    /* Plans of unprepared ops, or for an instruction set the CPU lacks, are errors naming the op. */
    glnn_op *conv = glnn_test_conv("c1", 3, 8, 8, 1, GLNN_PADDING_SAME, GLNN_ACTIVATION_DEFAULT);
    glnn_cpu_conv2d_plan *plan;
    assert_error(glnn_cpu_conv2d_plan_create((const glnn_conv2d *)conv, GLNN_CPU_ISA_AUTO, &plan, &err), &err,
                 GLNN_ERR_STATE, "'c1'", "not prepared");
    glnn_op *pool_op = glnn_test_pool("p1", GLNN_POOLING_MAX, 2, 2, GLNN_PADDING_VALID);
    glnn_cpu_pooling2d_plan *pplan;
    assert_error(glnn_cpu_pooling2d_plan_create((const glnn_pooling2d *)pool_op, GLNN_CPU_ISA_AUTO, &pplan, &err), &err,
                 GLNN_ERR_STATE, "'p1'", "not prepared");
    glnn_context *cpu = glnn_test_cpu();
    glnn_chunks *ch;
    float w[3 * 3 * 8 * 8] = {0}, b[8] = {0};
    assert_ok(glnn_chunks_create(&ch, &err));
    assert_ok(glnn_chunks_set_weights(ch, "c1", w, 3 * 3 * 8 * 8, b, 8, &err));
    glnn_tensor *in, *out = NULL;
    assert_ok(glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, 4, 4, 8}, &in, &err));
    assert_ok(glnn_op_run(cpu, conv, ch, &in, 1, &out, &err));
    for (int i = 0; i < GLNN_CPU_ISA_COUNT; i++)
        if (!glnn_cpu_isa_supported((glnn_cpu_isa)i))
            assert_error(glnn_cpu_conv2d_plan_create((const glnn_conv2d *)conv, (glnn_cpu_isa)i, &plan, &err), &err,
                         GLNN_ERR_DEVICE, "'c1'", "not available");
    assert_error(
        glnn_cpu_conv2d_plan_create_ex((const glnn_conv2d *)conv, GLNN_CPU_ISA_C, (glnn_cpu_precision)7, &plan, &err),
        &err, GLNN_ERR_ARGUMENT, "precision");
    assert_ok(glnn_cpu_conv2d_plan_create((const glnn_conv2d *)conv, GLNN_CPU_ISA_AUTO, &plan, &err));
    assert_int_equal(glnn_cpu_conv2d_plan_isa(plan), glnn_cpu_isa_best());
    uint8_t bytes[4 * 4 * 8] = {0};
    assert_error(glnn_cpu_conv2d_plan_run(plan, NULL, bytes, NULL, bytes, &err), &err, GLNN_ERR_ARGUMENT, "c1");
    glnn_cpu_conv2d_plan_free(plan);
    glnn_cpu_conv2d_plan_free(NULL);
    /* GLNN_CPU_AMX=0 turns the AMX tiles off: the plans then take the VNNI tiles, as on a processor without AMX
     * (test_conv_* compare every AMX plan with that twin); AMX needs the AVX-512 kernels (none under valgrind). */
    const char *amx_env = getenv("GLNN_CPU_AMX");
    char *amx_was = amx_env ? strdup(amx_env) : NULL;
    setenv("GLNN_CPU_AMX", "0", 1);
    assert_false(glnn_cpu_amx_available());
    if (amx_was) {
        setenv("GLNN_CPU_AMX", amx_was, 1);
        free(amx_was);
    } else {
        unsetenv("GLNN_CPU_AMX");
    }
    if (!glnn_cpu_isa_supported(GLNN_CPU_ISA_AVX512)) assert_false(glnn_cpu_amx_available());
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_chunks_free(ch);
    glnn_op_release(conv);
    glnn_op_release(pool_op);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool),        cmocka_unit_test(test_isa_and_errors),    cmocka_unit_test(test_conv_edges),
        cmocka_unit_test(test_conv_random), cmocka_unit_test(test_conv_bench_layers), cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_dense),       cmocka_unit_test(test_image_sampler),     cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_upsampling),  cmocka_unit_test(test_dog_classifier),
    };
    const char *filter = getenv("GLNN_TEST_FILTER"); /* e.g. "test_conv*" */
    if (filter && *filter) cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, setup, teardown);
}
