/* Benchmark of the fast CPU back end's kernels alone (src/backends/cpu), not a test.
 *
 *   glnn_cpu_bench [--runs N] [--filter NAME,...] [--per-op] [--picture FILE] [--no-check] [--warmup-ms N]
 *                  [CONFIG ...]
 *
 * CONFIG is isa=c|avx2|avx512|auto, threads=N, precision=auto|int16|int24|float|exact, amx=0|1 (0: VNNI tiles
 * where AMX tiles would serve), comma-separated
 * (default: "threads=1" and "threads=2" on the best ISA).  Every case runs each configuration in turn, run
 * after run (A B A B …), so that a drifting machine affects all alike; it prints the median and minimum
 * milliseconds, G multiply-adds per second and, against the CPU reference computed once, the largest
 * difference and the share of identical bytes.  "cpu ms" is the median processor time of all the process's
 * threads per run (on a loaded machine, the wall time of one thread inflates, its processor time much less).  Cases:
 * the Conv2D layers of `glnn bench` (same shapes, weights, inputs and SIGMOID_LIKE activation as tools/bench.c) and the
 * dog classifier, whole (ImageSampler to Softmax, shuffles included) on one picture; --per-op adds each op's median. */
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
#include <time.h>

#define MODEL "../shared/models/dog_classifier.chunks"

static bool check = true;   /* compare with the reference (--no-check skips it, for profiling) */
static int warmup_ms = 100; /* --warmup-ms */
#define MAX_CONFIGS 8
#define MAX_RUNS 1000

typedef struct {
    const char *name;
    int k, s;
    glnn_padding pad;
    int cin, cout, groups, h, w;
    float wmax; /* 0: tools/bench.c's weights, uniform in ±4/(k²·Cg); else uniform in ±wmax, bias in ±20 */
} conv_case;

/* tools/cmd_bench.c's suite. */
static const conv_case suite[] = {
    {"conv3x3_64_128", 3, 1, GLNN_PADDING_SAME, 64, 64, 1, 128, 128, 0},
    {"conv1x1_64_128", 1, 1, GLNN_PADDING_VALID, 64, 64, 1, 128, 128, 0},
    {"dw3x3_64_128", 3, 1, GLNN_PADDING_SAME, 64, 64, 64, 128, 128, 0},
    {"img3x3s2_32_256", 3, 2, GLNN_PADDING_VALID, 3, 32, 1, 256, 256, 0},
    {"conv3x3s2_32_64_112", 3, 2, GLNN_PADDING_SAME, 32, 64, 1, 112, 112, 0},
    {"group3x3_128_g8_56", 3, 1, GLNN_PADDING_SAME, 128, 128, 8, 56, 56, 0},
    {"pw_128_256_28", 1, 1, GLNN_PADDING_VALID, 128, 256, 1, 28, 28, 0},
    {"conv3x3_256_14", 3, 1, GLNN_PADDING_SAME, 256, 256, 1, 14, 14, 0},
    {"conv3x3_64_512", 3, 1, GLNN_PADDING_SAME, 64, 64, 1, 512, 512, 0},
    /* The dog classifier's largest layers alone, with weights as large as its own (int24 planes). */
    {"dog_b0_conv", 5, 2, GLNN_PADDING_VALID, 3, 32, 1, 385, 385, 10},
    {"dog_b1_pw", 1, 1, GLNN_PADDING_SAME, 32, 32, 1, 191, 191, 10},
    {"dog_b1_dw", 3, 1, GLNN_PADDING_SAME, 32, 32, 8, 191, 191, 10},
    {"dog_b1_scale", 3, 2, GLNN_PADDING_VALID, 32, 32, 4, 191, 191, 10},
};

typedef struct {
    glnn_cpu_isa isa;
    int threads;
    glnn_cpu_precision precision;
    bool no_amx; /* amx=0: VNNI tiles where AMX tiles would be taken */
    glnn_cpu_pool *pool;
    char label[64];
} config;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Processor time of the whole process (every thread), for a loaded machine: a run descheduled half the time
 * shows its wall time doubled, not its processor time. */
static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static _Noreturn void die(const char *what, const glnn_error *err) {
    fprintf(stderr, "glnn_cpu_bench: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

static uint32_t next_random(uint64_t *s) { /* tools/bench.c's generator */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

static void compare(const uint8_t *got, const uint8_t *want, int64_t n, int *max_diff, double *identical) {
    int64_t same = 0;
    *max_diff = 0;
    for (int64_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        *max_diff = d > *max_diff ? d : *max_diff;
        same += d == 0;
    }
    *identical = 100.0 * (double)same / (double)n;
}

static void print_row(const char *name, const config *c, double *t, double *cpu, int runs, double macs, int max_diff,
                      double identical, const char *desc) {
    const double med = median(t, runs), cpu_med = median(cpu, runs);
    printf("%-22s %-14s %9.3f %9.3f %9.3f %9.1f %5d %9.4f  %s\n", name, c->label, med, t[0], cpu_med, macs / med / 1e6,
           max_diff, identical, desc);
}

/* ---- Conv2D layers --------------------------------------------------------------------------------------- */

static void bench_conv(const conv_case *cc, config *cfg, int n_cfg, int runs) {
    glnn_error err;
    glnn_context *cpu;
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    if (glnn_context_create(&o, &cpu, &err) != GLNN_OK) die("reference context", &err);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (const char *p = cc->name; *p; p++)
        seed = seed * 31 + (unsigned char)*p;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "conv";
    p.kernel_size = cc->k;
    p.stride = cc->s;
    p.padding = cc->pad;
    p.num_input_channels = cc->cin;
    p.num_output_channels = cc->cout;
    p.num_groups = cc->groups;
    p.activation = GLNN_ACTIVATION_SIGMOID_LIKE;
    glnn_op *op;
    if (glnn_conv2d_create(&p, &op, &err) != GLNN_OK) die(cc->name, &err);
    const bool dw = cc->cin == cc->cout && cc->cout == cc->groups;
    const int64_t cg = cc->cin == 3 ? 3 : dw ? 1 : cc->cin / cc->groups;
    const int64_t nw = (int64_t)cc->k * cc->k * cg * cc->cout, nin = (int64_t)cc->h * cc->w * cc->cin;
    float *w = malloc((size_t)nw * sizeof(float)), *bias = malloc((size_t)cc->cout * sizeof(float));
    uint8_t *in = malloc((size_t)nin);
    if (!w || !bias || !in) die(cc->name, NULL);
    const float scale = cc->wmax > 0 ? 2 * cc->wmax : 8.0f / (float)(cc->k * cc->k * cg);
    for (int64_t i = 0; i < nw; i++)
        w[i] = ((float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f) * scale;
    for (int i = 0; i < cc->cout; i++)
        bias[i] = ((float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f) * (cc->wmax > 0 ? 40.0f : 1.0f);
    for (int64_t i = 0; i < nin; i++)
        in[i] = (uint8_t)(next_random(&seed) >> 24);
    glnn_chunks *ch;
    if (glnn_chunks_create(&ch, &err) != GLNN_OK || glnn_chunks_set_weights(ch, "conv", w, nw, bias, cc->cout, &err))
        die(cc->name, &err);
    glnn_tensor *tin = NULL, *tout = NULL;
    glnn_status s = cc->cin == 3
                        ? glnn_image_create(cpu, in, cc->h, cc->w, 3, &tin, &err)
                        : glnn_tensor_create(cpu, (glnn_shape){GLNN_KIND_TENSOR, cc->h, cc->w, cc->cin}, &tin, &err);
    if (s == GLNN_OK && cc->cin != 3) s = glnn_tensor_upload_u8(tin, in, nin, &err);
    if (s == GLNN_OK) s = check ? glnn_op_run(cpu, op, ch, &tin, 1, &tout, &err) : GLNN_OK;
    if (s == GLNN_OK && !check) {
        /* Prepared on a 1×1 input of the same kind would change the shapes: prepare for real, run nothing. */
        glnn_input_desc desc[2] = {{true, glnn_tensor_shape(tin)}, {false, {0}}};
        s = glnn_op_prepare(op, cpu, desc, ch, &err);
        if (s == GLNN_OK) s = glnn_tensor_create(cpu, op->out_shape, &tout, &err);
    }
    if (s != GLNN_OK) die(cc->name, &err);
    const int64_t n = glnn_shape_count(glnn_tensor_shape(tout));
    int64_t macs;
    glnn_op_count_multiply_adds(op, &macs, &err);
    uint8_t *want = malloc((size_t)n), *got = malloc((size_t)n);
    if (!want || !got) die(cc->name, NULL);
    glnn_tensor_download_u8(tout, want, n, &err);

    glnn_cpu_conv2d_plan *plans[MAX_CONFIGS];
    static double times[MAX_CONFIGS][MAX_RUNS], cpu_times[MAX_CONFIGS][MAX_RUNS];
    for (int c = 0; c < n_cfg; c++) {
        const glnn_cpu_conv2d_options o = {cfg[c].precision, cfg[c].no_amx};
        if (glnn_cpu_conv2d_plan_create_opts((const glnn_conv2d *)op, cfg[c].isa, &o, &plans[c], &err))
            die(cc->name, &err);
        const double t0 = now_ms(); /* warm-up: 100 ms or 3 runs */
        for (int i = 0; i < 3 || now_ms() - t0 < warmup_ms; i++)
            if (glnn_cpu_conv2d_plan_run(plans[c], cfg[c].pool, in, NULL, got, &err)) die(cc->name, &err);
    }
    for (int r = 0; r < runs; r++)
        for (int c = 0; c < n_cfg; c++) {
            const double t0 = now_ms(), c0 = cpu_ms();
            glnn_cpu_conv2d_plan_run(plans[c], cfg[c].pool, in, NULL, got, &err);
            times[c][r] = now_ms() - t0;
            cpu_times[c][r] = cpu_ms() - c0;
        }
    for (int c = 0; c < n_cfg; c++) {
        int max_diff;
        double identical;
        memset(got, 0, (size_t)n);
        glnn_cpu_conv2d_plan_run(plans[c], cfg[c].pool, in, NULL, got, &err);
        compare(got, want, n, &max_diff, &identical);
        print_row(cc->name, &cfg[c], times[c], cpu_times[c], runs, (double)macs, max_diff, identical,
                  glnn_cpu_conv2d_plan_describe(plans[c]));
        glnn_cpu_conv2d_plan_free(plans[c]);
    }
    fflush(stdout);
    free(w), free(bias), free(in), free(want), free(got);
    glnn_tensor_free(tin);
    glnn_tensor_free(tout);
    glnn_chunks_free(ch);
    glnn_op_release(op);
    glnn_context_free(cpu);
}

/* ---- the dog classifier ---------------------------------------------------------------------------------- */

typedef struct {
    glnn_op_kind kind;
    void *plan;
    int src[2], shuffle[2]; /* producer op of each input (−1: the picture, −2: none) and its shuffle */
    int64_t count;
    uint8_t *bytes, *shuffled[2];
    float *floats;
} dog_op;

typedef struct {
    glnn_model *m;
    int n;
    dog_op *ops;
    const uint8_t *picture;
    float probs[120];
} dog_net;

/* Plans every op (prepared on the reference) for one configuration, with its buffers. */
static void dog_build(dog_net *d, glnn_model *m, const uint8_t *picture, const config *c) {
    glnn_error err;
    d->m = m;
    d->n = m->n_ops;
    d->picture = picture;
    d->ops = calloc((size_t)d->n, sizeof *d->ops);
    if (!d->ops) die("dog classifier", NULL);
    for (int p = 0; p < d->n; p++) {
        glnn_op *op = m->ops[p];
        dog_op *o = &d->ops[p];
        o->kind = glnn_op_get_kind(op);
        for (int i = 0; i < 2; i++) {
            o->src[i] = -2;
            for (int j = 0; j < m->n_conns; j++)
                if (m->conns[j].dest == op && m->conns[j].input == i) {
                    o->src[i] = glnn_model_position(m, m->conns[j].source);
                    const int q = (int)(m->conns[j].source->out_shape.c / 4);
                    o->shuffle[i] = m->conns[j].shuffle > 1 && m->conns[j].shuffle != q ? m->conns[j].shuffle : 0;
                    if (o->shuffle[i]) {
                        o->shuffled[i] = malloc((size_t)d->ops[o->src[i]].count);
                        if (!o->shuffled[i]) die("dog classifier", NULL);
                    }
                }
            for (int b = 0; b < m->n_bindings; b++)
                if (m->bindings[b].op == op && m->bindings[b].input == i) o->src[i] = -1;
        }
        glnn_status s = GLNN_OK;
        if (op->cls->info.output_count) o->count = glnn_shape_count(op->out_shape);
        switch (o->kind) {
        case GLNN_OP_CONV2D: {
            const glnn_cpu_conv2d_options opts = {c->precision, c->no_amx};
            s = glnn_cpu_conv2d_plan_create_opts((const glnn_conv2d *)op, c->isa, &opts,
                                                 (glnn_cpu_conv2d_plan **)&o->plan, &err);
            break;
        }
        case GLNN_OP_POOLING2D:
            s = glnn_cpu_pooling2d_plan_create((const glnn_pooling2d *)op, c->isa, (glnn_cpu_pooling2d_plan **)&o->plan,
                                               &err);
            break;
        case GLNN_OP_IMAGE_SAMPLER:
            s = glnn_cpu_image_sampler_plan_create((const glnn_image_sampler *)op, c->isa,
                                                   (glnn_cpu_image_sampler_plan **)&o->plan, &err);
            break;
        case GLNN_OP_DENSE:
            s = glnn_cpu_dense_plan_create((const glnn_dense *)op, c->isa, (glnn_cpu_dense_plan **)&o->plan, &err);
            break;
        default: break;
        }
        if (s != GLNN_OK) die("dog classifier", &err);
        if (o->kind == GLNN_OP_DENSE)
            o->floats = malloc((size_t)o->count * sizeof(float));
        else if (o->count)
            o->bytes = malloc((size_t)o->count);
        if (o->count && !o->bytes && !o->floats) die("dog classifier", NULL);
    }
}

static void dog_free(dog_net *d) {
    for (int p = 0; p < d->n; p++) {
        dog_op *o = &d->ops[p];
        switch (o->kind) {
        case GLNN_OP_CONV2D: glnn_cpu_conv2d_plan_free(o->plan); break;
        case GLNN_OP_POOLING2D: glnn_cpu_pooling2d_plan_free(o->plan); break;
        case GLNN_OP_IMAGE_SAMPLER: glnn_cpu_image_sampler_plan_free(o->plan); break;
        case GLNN_OP_DENSE: glnn_cpu_dense_plan_free(o->plan); break;
        default: break;
        }
        free(o->bytes), free(o->floats), free(o->shuffled[0]), free(o->shuffled[1]);
    }
    free(d->ops);
}

/* One picture through every op; op_ms (when not NULL) receives each op's processor time (all threads). */
static void dog_run(dog_net *d, glnn_cpu_pool *pool, double *op_ms) {
    glnn_error err;
    for (int p = 0; p < d->n; p++) {
        const double t0 = op_ms ? cpu_ms() : 0;
        dog_op *o = &d->ops[p];
        const void *in[2] = {NULL, NULL};
        for (int i = 0; i < 2; i++) {
            if (o->src[i] == -1) in[i] = d->picture;
            if (o->src[i] < 0) continue;
            const dog_op *src = &d->ops[o->src[i]];
            in[i] = src->floats ? (const void *)src->floats : src->bytes;
            if (o->shuffle[i]) {
                const glnn_shape sh = d->m->ops[o->src[i]]->out_shape;
                glnn_cpu_shuffle_run(pool, src->bytes, sh.h * sh.w, sh.c, o->shuffle[i], o->shuffled[i]);
                in[i] = o->shuffled[i];
            }
        }
        switch (o->kind) {
        case GLNN_OP_CONV2D:
            if (glnn_cpu_conv2d_plan_run(o->plan, pool, in[0], in[1], o->bytes, &err)) die("dog classifier", &err);
            break;
        case GLNN_OP_POOLING2D: glnn_cpu_pooling2d_plan_run(o->plan, pool, in[0], o->bytes); break;
        case GLNN_OP_IMAGE_SAMPLER: glnn_cpu_image_sampler_plan_run(o->plan, pool, in[0], o->bytes); break;
        case GLNN_OP_DENSE: glnn_cpu_dense_plan_run(o->plan, pool, in[0], o->floats); break;
        case GLNN_OP_SOFTMAX: glnn_softmax_compute(in[0], d->m->ops[o->src[0]]->out_shape.c, d->probs); break;
        default: break; /* the dog classifier has no other kinds */
        }
        if (op_ms) op_ms[p] = cpu_ms() - t0;
    }
}

static void bench_dog(const char *picture_path, config *cfg, int n_cfg, int runs, bool per_op) {
    glnn_error err;
    glnn_chunks *ch;
    if (glnn_chunks_read_file(MODEL, &ch, &err) != GLNN_OK) {
        printf("dog_classifier: skipped (%s)\n", err.message);
        return;
    }
    glnn_model *m;
    uint8_t *px;
    int64_t h, w;
    glnn_context *cpu;
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    if (glnn_context_create(&o, &cpu, &err) || glnn_model_from_chunks(ch, &m, &err) ||
        glnn_image_load(picture_path, &px, &h, &w, &err) || glnn_model_bind_image(m, "input", 0, px, h, w, 3, &err))
        die("dog classifier", &err);
    /* The reference, whole (and every op prepared for its shapes). */
    const char *last = NULL;
    for (int p = m->n_ops - 1; p >= 0 && !last; p--)
        if (m->ops[p]->cls->info.kind == GLNN_OP_CONV2D || m->ops[p]->cls->info.kind == GLNN_OP_POOLING2D)
            last = m->ops[p]->name;
    float want_p[120] = {0};
    int64_t macs;
    if (glnn_model_add_output(m, last, 0, &err) ||
        (check ? glnn_model_run(m, cpu, ch, &err) || glnn_model_get_probabilities(m, NULL, want_p, 120, &err)
               : glnn_model_prepare(m, cpu, ch, &err)) ||
        glnn_model_count_multiply_adds(m, &macs, &err))
        die("dog classifier", &err);
    const int last_p = glnn_model_position(m, glnn_model_find(m, last));
    const int64_t n_last = glnn_shape_count(m->ops[last_p]->out_shape);
    uint8_t *want = calloc((size_t)n_last, 1);
    if (!want || (check && glnn_model_get_output_u8(m, last, 0, want, n_last, &err))) die("dog classifier", &err);
    dog_net nets[MAX_CONFIGS];
    static double times[MAX_CONFIGS][MAX_RUNS], cpu_times[MAX_CONFIGS][MAX_RUNS];
    double *op_times = calloc((size_t)n_cfg * m->n_ops * runs, sizeof(double)), *op_ms = calloc(m->n_ops, 8);
    if (!op_times || !op_ms) die("dog classifier", NULL);
    for (int c = 0; c < n_cfg; c++) {
        dog_build(&nets[c], m, m->bindings[0].bytes, &cfg[c]);
        const double t0 = now_ms();
        for (int i = 0; i < 3 || now_ms() - t0 < 200; i++)
            dog_run(&nets[c], cfg[c].pool, NULL);
    }
    for (int r = 0; r < runs; r++)
        for (int c = 0; c < n_cfg; c++) {
            const double t0 = now_ms(), c0 = cpu_ms();
            dog_run(&nets[c], cfg[c].pool, NULL);
            times[c][r] = now_ms() - t0;
            cpu_times[c][r] = cpu_ms() - c0;
            if (per_op) {
                dog_run(&nets[c], cfg[c].pool, op_ms);
                for (int p = 0; p < m->n_ops; p++)
                    op_times[((size_t)c * m->n_ops + p) * runs + r] = op_ms[p];
            }
        }
    for (int c = 0; c < n_cfg; c++) {
        int max_diff;
        double identical, dp = 0;
        compare(nets[c].ops[last_p].bytes, want, n_last, &max_diff, &identical);
        for (int k = 0; k < 120; k++)
            dp = fmax(dp, fabs((double)nets[c].probs[k] - (double)want_p[k]));
        char desc[96];
        snprintf(desc, sizeof desc, "end to end: last 8-bit output, probabilities within %.1e", dp);
        print_row("dog_classifier", &cfg[c], times[c], cpu_times[c], runs, (double)macs, max_diff, identical, desc);
        if (per_op)
            for (int p = 0; p < m->n_ops; p++) {
                double *t = op_times + ((size_t)c * m->n_ops + p) * runs;
                glnn_op *op = m->ops[p];
                int64_t op_macs = 0;
                glnn_op_count_multiply_adds(op, &op_macs, &err);
                const double med = median(t, runs);
                const char *desc_op = glnn_op_get_kind(op) == GLNN_OP_CONV2D
                                          ? glnn_cpu_conv2d_plan_describe(nets[c].ops[p].plan)
                                          : glnn_op_type_name(op);
                printf("  %-20s %8.4f cpu ms %8.1f G MAC/s per cpu  %s\n", op->name, med,
                       med > 0 ? (double)op_macs / med / 1e6 : 0.0, desc_op);
            }
        dog_free(&nets[c]);
    }
    fflush(stdout);
    free(op_times), free(op_ms), free(want);
    glnn_free(px);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    glnn_context_free(cpu);
}

static bool matches(const char *name, const char *filter) {
    if (!filter) return strcmp(name, "conv3x3_64_512") != 0 && strncmp(name, "dog_b", 5) != 0;
    for (const char *p = filter;; p++) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        for (const char *q = name; n && strlen(q) >= n; q++)
            if (strncmp(q, p, n) == 0) return true;
        if (!end) return false;
        p = end;
    }
}

static void parse_config(const char *text, config *c) {
    glnn_error err;
    c->isa = GLNN_CPU_ISA_AUTO;
    c->threads = 0;
    c->precision = GLNN_CPU_PRECISION_AUTO;
    c->no_amx = false;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (strncmp(tok, "isa=", 4) == 0) {
            if (glnn_cpu_isa_parse(tok + 4, &c->isa, &err)) die(tok, &err);
        } else if (strncmp(tok, "threads=", 8) == 0) {
            c->threads = atoi(tok + 8);
        } else if (strcmp(tok, "amx=0") == 0 || strcmp(tok, "amx=1") == 0) {
            c->no_amx = tok[4] == '0';
        } else if (strncmp(tok, "precision=", 10) == 0) {
            static const char *names[] = {"auto", "int16", "int24", "float", "exact"};
            static const glnn_cpu_precision values[] = {GLNN_CPU_PRECISION_AUTO, GLNN_CPU_PRECISION_INT16,
                                                        GLNN_CPU_PRECISION_INT24, GLNN_CPU_PRECISION_FLOAT,
                                                        GLNN_CPU_PRECISION_EXACT};
            bool found = false;
            for (int i = 0; i < 5; i++)
                if (strcmp(tok + 10, names[i]) == 0) c->precision = values[i], found = true;
            if (!found) die(tok, NULL);
        } else {
            die(tok, NULL);
        }
    }
    if (glnn_cpu_pool_create(c->threads, &c->pool, &err)) die(text, &err);
    const glnn_cpu_isa isa = c->isa == GLNN_CPU_ISA_AUTO ? glnn_cpu_isa_best() : c->isa;
    snprintf(c->label, sizeof c->label, "%s t%d %s", glnn_cpu_isa_name(isa), glnn_cpu_pool_size(c->pool),
             c->precision == GLNN_CPU_PRECISION_AUTO ? "" : text);
    snprintf(c->label, sizeof c->label, "%s t%d", glnn_cpu_isa_name(isa), glnn_cpu_pool_size(c->pool));
    if (c->precision != GLNN_CPU_PRECISION_AUTO) {
        size_t l = strlen(c->label);
        snprintf(c->label + l, sizeof c->label - l, " %s", strstr(text, "precision=") + 10);
        char *comma = strchr(c->label + l, ',');
        if (comma) *comma = '\0';
    }
    if (c->no_amx) {
        size_t l = strlen(c->label);
        snprintf(c->label + l, sizeof c->label - l, " noamx");
    }
}

int main(int argc, char **argv) {
    int runs = 21, n_cfg = 0;
    const char *filter = NULL, *picture = "../shared/images/butterfly.bmp";
    bool per_op = false;
    config cfg[MAX_CONFIGS];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
            filter = argv[++i];
        else if (strcmp(argv[i], "--picture") == 0 && i + 1 < argc)
            picture = argv[++i];
        else if (strcmp(argv[i], "--per-op") == 0)
            per_op = true;
        else if (strcmp(argv[i], "--no-check") == 0)
            check = false;
        else if (strcmp(argv[i], "--warmup-ms") == 0 && i + 1 < argc)
            warmup_ms = atoi(argv[++i]);
        else if (argv[i][0] != '-' && n_cfg < MAX_CONFIGS)
            parse_config(argv[i], &cfg[n_cfg++]);
        else {
            fprintf(stderr, "usage: glnn_cpu_bench [--runs N] [--filter NAME,...] [--per-op] [--picture FILE] "
                            "[--no-check] [--warmup-ms N] [isa=..,threads=..,precision=..,amx=0|1 ...]\n");
            return 2;
        }
    }
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
    if (n_cfg == 0) {
        parse_config("threads=1", &cfg[n_cfg++]);
        parse_config("threads=2", &cfg[n_cfg++]);
    }
    printf("CPU features: best ISA %s; %d runs per configuration, alternated\n", glnn_cpu_isa_name(glnn_cpu_isa_best()),
           runs);
    printf("%-22s %-14s %9s %9s %9s %9s %5s %9s  %s\n", "case", "config", "median ms", "min ms", "cpu ms", "G MAC/s",
           "LSB", "ident %", "kernel");
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
        if (matches(suite[i].name, filter)) bench_conv(&suite[i], cfg, n_cfg, runs);
    if (matches("dog_classifier", filter)) bench_dog(picture, cfg, n_cfg, runs, per_op);
    for (int c = 0; c < n_cfg; c++)
        glnn_cpu_pool_free(cfg[c].pool);
    return 0;
}
