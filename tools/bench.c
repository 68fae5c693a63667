/* Benchmark cases: one Conv2D (or a whole model) timed on a device and checked against the CPU reference. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    glnn_model *model;
    glnn_chunks *chunks;
    const char *out_op; /* the 8-bit output compared with the reference */
} bench_setup;

static uint32_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

static void setup_free(bench_setup *b) {
    glnn_model_free(b->model);
    glnn_chunks_free(b->chunks);
}

/* A model holding one Conv2D with random weights and a random bound input. */
static glnn_status setup_conv(const bench_case *c, bench_setup *b, glnn_error *err) {
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (const char *p = c->name; *p; p++)
        seed = seed * 31 + (unsigned char)*p;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "conv";
    p.kernel_size = c->k;
    p.stride = c->s;
    p.padding = c->padding;
    p.num_input_channels = c->cin;
    p.num_output_channels = c->cout;
    p.num_groups = c->groups;
    p.activation = GLNN_ACTIVATION_SIGMOID_LIKE;
    glnn_op *op = NULL;
    glnn_status s = glnn_conv2d_create(&p, &op, err);
    if (s == GLNN_OK) s = glnn_model_create(&b->model, err);
    if (s == GLNN_OK) s = glnn_model_append(b->model, op, false, err);
    glnn_op_release(op);
    if (s == GLNN_OK) s = glnn_model_add_output(b->model, "conv", 0, err);
    if (s == GLNN_OK) s = glnn_chunks_create(&b->chunks, err);
    if (s != GLNN_OK) return s;
    bool dw = c->cin == c->cout && c->cout == c->groups;
    int64_t cg = c->cin == 3 ? 3 : dw ? 1 : c->cin / c->groups;
    int64_t nw = (int64_t)c->k * c->k * cg * c->cout, nin = (int64_t)c->h * c->w * c->cin;
    float *w = malloc((size_t)nw * sizeof(float)), *bias = malloc((size_t)c->cout * sizeof(float));
    uint8_t *in = malloc((size_t)nin);
    if (!w || !bias || !in) s = glnn_fail(err, GLNN_ERR_MEMORY, "bench %s: out of memory", c->name);
    float scale = 8.0f / (float)(c->k * c->k * cg);
    for (int64_t i = 0; s == GLNN_OK && i < nw; i++)
        w[i] = ((float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f) * scale;
    for (int i = 0; s == GLNN_OK && i < c->cout; i++)
        bias[i] = (float)(next_random(&seed) >> 8) / 16777216.0f - 0.5f;
    for (int64_t i = 0; s == GLNN_OK && i < nin; i++)
        in[i] = (uint8_t)(next_random(&seed) >> 24);
    if (s == GLNN_OK) s = glnn_chunks_set_weights(b->chunks, "conv", w, nw, bias, c->cout, err);
    if (s == GLNN_OK)
        s = c->cin == 3 ? glnn_model_bind_image(b->model, "conv", 0, in, c->h, c->w, 3, err)
                        : glnn_model_bind_tensor_u8(b->model, "conv", 0, in, c->h, c->w, c->cin, err);
    free(w);
    free(bias);
    free(in);
    b->out_op = "conv";
    return s;
}

/* The case's picture; without one, a 64x64 gradient made here (the model's ImageSampler resizes it). */
static glnn_status load_picture(const bench_case *c, uint8_t **pixels, int64_t *h, int64_t *w, glnn_error *err) {
    if (c->image) return glnn_image_load(c->image, pixels, h, w, err);
    *h = *w = 64;
    if (!(*pixels = malloc(64 * 64 * 3))) return glnn_fail(err, GLNN_ERR_MEMORY, "bench %s: out of memory", c->name);
    for (int i = 0; i < 64 * 64 * 3; i++)
        (*pixels)[i] = (uint8_t)(i / 3 % 64 * 4 + i % 3 * 40);
    return GLNN_OK;
}

/* A model file with a picture bound to its first op; the last 8-bit output is compared. */
static glnn_status setup_model(const bench_case *c, bench_setup *b, glnn_error *err) {
    uint8_t *pixels = NULL;
    int64_t h, w;
    glnn_status s = glnn_chunks_read_file(c->model, &b->chunks, err);
    if (s == GLNN_OK) s = glnn_model_from_chunks(b->chunks, &b->model, err);
    if (s == GLNN_OK) s = load_picture(c, &pixels, &h, &w, err);
    if (s == GLNN_OK)
        s = glnn_model_bind_image(b->model, glnn_op_name(glnn_model_op_at(b->model, 0)), 0, pixels, h, w, 3, err);
    if (c->image)
        glnn_free(pixels);
    else
        free(pixels);
    for (int i = glnn_model_op_count(b->model) - 1; s == GLNN_OK && i >= 0 && !b->out_op; i--) {
        glnn_op *op = glnn_model_op_at(b->model, i);
        glnn_op_kind k = glnn_op_get_kind(op);
        if (k == GLNN_OP_CONV2D || k == GLNN_OP_POOLING2D) b->out_op = glnn_op_name(op);
    }
    if (s == GLNN_OK && b->out_op) s = glnn_model_add_output(b->model, b->out_op, 0, err);
    return s;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs the setup's model once on ctx and reads the compared output. */
static glnn_status read_output(bench_setup *b, uint8_t **out, int64_t *n, glnn_error *err) {
    glnn_shape shape;
    glnn_status s = glnn_model_output_shape(b->model, b->out_op, 0, &shape, err);
    if (s != GLNN_OK) return s;
    *n = glnn_shape_count(shape);
    *out = malloc((size_t)*n);
    if (!*out) return glnn_fail(err, GLNN_ERR_MEMORY, "bench: out of memory");
    return glnn_model_get_output_u8(b->model, b->out_op, 0, *out, *n, err);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Sum of the GPU times of the model's ops in its last run; false where an op was not timed on the GPU. */
static bool gpu_time(const glnn_model *m, double *ms) {
    glnn_error err;
    *ms = 0;
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        double t;
        if (glnn_model_op_gpu_time(m, i, &t, &err) != GLNN_OK) return false;
        *ms += t;
    }
    return true;
}

glnn_status bench_run(const bench_case *c, glnn_context *ctx, glnn_context *ref, int runs, bench_result *r,
                      glnn_error *err) {
    bench_setup dev = {0}, cpu = {0};
    uint8_t *got = NULL, *want = NULL;
    int64_t n = 0, n_ref = 0;
    double *times = calloc((size_t)runs, sizeof *times), *gpu_times = calloc((size_t)runs, sizeof *times);
    memset(r, 0, sizeof *r);
    bool timed = glnn_context_is_gpu(ctx);
    glnn_status s = times && gpu_times ? GLNN_OK : glnn_fail(err, GLNN_ERR_MEMORY, "bench: out of memory");
    if (s == GLNN_OK) s = c->model ? setup_model(c, &dev, err) : setup_conv(c, &dev, err);
    double t0 = cli_now_ms();
    if (s == GLNN_OK) s = glnn_model_prepare(dev.model, ctx, dev.chunks, err);
    r->prepare_ms = cli_now_ms() - t0;
    /* Warm-up: at least one run and 200 ms, so that a GPU raises its clocks before the timed runs. */
    t0 = cli_now_ms();
    for (int i = 0; s == GLNN_OK && i < 1000 && (i == 0 || cli_now_ms() - t0 < 200); i++)
        s = glnn_model_run(dev.model, ctx, dev.chunks, err);
    int64_t passes0 = 0, fetches0 = 0, passes1 = 0, fetches1 = 0;
    /* Passes and texel fetches per run where the path counts them (the fragment path). */
    const bool counted = glnn_context_counters(ctx, &passes0, &fetches0, NULL) == GLNN_OK;
    for (int i = 0; s == GLNN_OK && i < runs; i++) {
        t0 = cli_now_ms();
        s = glnn_model_run(dev.model, ctx, dev.chunks, err);
        times[i] = cli_now_ms() - t0;
        if (s == GLNN_OK) timed = timed && gpu_time(dev.model, &gpu_times[i]);
    }
    r->passes = r->texel_fetches = -1;
    if (counted && runs > 0 && glnn_context_counters(ctx, &passes1, &fetches1, NULL) == GLNN_OK) {
        r->passes = (passes1 - passes0) / runs;
        r->texel_fetches = (fetches1 - fetches0) / runs;
    }
    if (s == GLNN_OK) s = glnn_model_count_multiply_adds(dev.model, &r->multiply_adds, err);
    if (s == GLNN_OK) s = read_output(&dev, &got, &n, err);
    /* The reference: the same model on the CPU. */
    if (s == GLNN_OK && ref != ctx) {
        s = c->model ? setup_model(c, &cpu, err) : setup_conv(c, &cpu, err);
        if (s == GLNN_OK) s = glnn_model_run(cpu.model, ref, cpu.chunks, err);
        if (s == GLNN_OK) s = read_output(&cpu, &want, &n_ref, err);
        for (int64_t i = 0; s == GLNN_OK && i < n; i++) {
            int d = abs((int)got[i] - (int)want[i]);
            if (d > r->max_lsb_diff) r->max_lsb_diff = d;
        }
    }
    if (s == GLNN_OK) {
        r->wall_median_ms = median(times, runs);
        r->gpu_timer = timed;
        double *t = timed ? gpu_times : times;
        r->median_ms = median(t, runs);
        r->min_ms = t[0];
        r->gmacs = (double)r->multiply_adds / r->median_ms / 1e6;
    }
    free(times);
    free(gpu_times);
    free(got);
    free(want);
    setup_free(&dev);
    setup_free(&cpu);
    return s;
}
