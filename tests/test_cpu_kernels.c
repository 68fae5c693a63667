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

/* Runs one case on the reference, then on every ISA, precision and pool; returns the AUTO tally's share. */
static void run_conv_case(const conv_case *cc, glnn_rng *rng, bool verbose) {
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
        for (int pi = 0; pi < COUNT(precisions); pi++) {
            glnn_cpu_conv2d_plan *plan;
            assert_ok(glnn_cpu_conv2d_plan_create_ex(c, (glnn_cpu_isa)isa, precisions[pi], &plan, &err));
            assert_int_equal(glnn_cpu_conv2d_plan_isa(plan), isa);
            const glnn_cpu_precision taken = glnn_cpu_conv2d_plan_precision(plan);
            tally *t = &tallies[isa][pi];
            t->taken[precision_index(taken)]++;
            for (int pool = 0; pool < COUNT(pools); pool++) {
                memset(got, 0xAB, (size_t)n_out);
                assert_ok(glnn_cpu_conv2d_plan_run(plan, pools[pool], in_bytes, res_bytes, got, &err));
                int64_t before = t->identical;
                int d = compare(got, want, n_out, pool == 0 ? t : NULL);
                if (d > 1 || (taken == GLNN_CPU_PRECISION_EXACT && memcmp(got, want, (size_t)n_out) != 0) || verbose) {
                    print_message("conv k%d s%d %s %d->%d G%d %s%s%s %dx%d w%.3g b%.3g, %s asked %s: %s: max %d LSB, "
                                  "%lld of %lld identical (pool %d)\n",
                                  cc->k, cc->s, cc->pad == GLNN_PADDING_SAME ? "same" : "valid", cc->cin, cc->cout,
                                  cc->groups, glnn_activation_name(cc->act), cc->use_bias ? " bias" : "",
                                  cc->residual ? " residual" : "", cc->h, cc->w, cc->wscale, cc->bscale,
                                  glnn_cpu_isa_name((glnn_cpu_isa)isa), precision_names[pi],
                                  glnn_cpu_conv2d_plan_describe(plan), d,
                                  (long long)(pool == 0 ? t->identical - before : -1), (long long)n_out, pool + 1);
                }
                assert_true(d <= 1);
                if (taken == GLNN_CPU_PRECISION_EXACT) assert_memory_equal(got, want, n_out);
            }
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

static void print_tallies(const char *what) {
    print_message("%s:\n", what);
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
        /* depthwise */
        {3, 1, 64, 64, 64, S, L, true, false, 9, 10, 8, 1},
        {3, 2, 20, 20, 20, S, D, true, true, 7, 9, 4, 0.5f},
        {5, 1, 8, 8, 8, V, B, false, false, 6, 6, 8, 1},
        {1, 1, 4, 4, 4, V, L, true, true, 3, 3, 8, 1},
        {3, 1, 36, 36, 36, S, L, true, true, 5, 5, 300, 30},
        /* image input */
        {3, 2, 3, 32, 1, V, L, true, false, 17, 19, 8, 1},
        {5, 2, 3, 32, 1, V, L, true, false, 15, 16, 300, 20},
        {3, 1, 3, 8, 1, V, D, true, false, 5, 7, 4, 0.5f},
        {1, 1, 3, 4, 1, V, B, true, false, 3, 3, 8, 1},
        {4, 3, 3, 20, 1, V, L, true, false, 9, 10, 8, 1},
        {7, 2, 3, 16, 1, V, L, true, false, 13, 13, 8, 1},
    };
    for (int i = 0; i < COUNT(cases); i++)
        run_conv_case(&cases[i], &rng, false);
    print_tallies("Conv2D edges");
    assert_auto_share();
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_edges),
        cmocka_unit_test(test_conv_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
