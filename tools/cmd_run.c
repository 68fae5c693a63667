/* glnn run: a model on pictures or .npy tensors: times (median and minimum), the top classes of a classifier, an
 * operation's output written to files, and per-operation profiles. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Everything one invocation keeps across its inputs. */
typedef struct run_state {
    const cli_options *o;
    glnn_context *ctx;
    glnn_chunks *chunks;
    glnn_model *m;
    int n_ops;
    const char *input_op;  /* the first op: its input #0 takes the user's data */
    bool takes_image;      /* ... as an image (ImageSampler, image Conv2D), else as a tensor */
    bool classifier;       /* the model has a Softmax: top classes */
    const char *result_op; /* --output, else the last op with an output for a model without a Softmax; NULL */
    glnn_shape bound;      /* the input last bound: a change of shape means preparing again */
    /* The timed runs of the current input: wall milliseconds, per op wall and GPU milliseconds (runs × ops). */
    double *ms, *op_ms, *op_gpu_ms;
    double prepare_ms; /* 0 when this input needed no preparation */
} run_state;

/* One run's figures, as printed. */
typedef struct run_figures {
    double median_ms, min_ms, gmacs;
    int64_t multiply_adds;
} run_figures;

/* ---- setting up ------------------------------------------------------------------------------------- */

static bool takes_image(const glnn_op *op) {
    glnn_conv2d_params p;
    return glnn_op_get_kind(op) == GLNN_OP_IMAGE_SAMPLER ||
           (glnn_conv2d_get_params(op, &p, NULL) == GLNN_OK && p.num_input_channels == 3);
}

/* The op whose output the command reads: --output (which must exist), else the last op with an output of a model
 * without a Softmax. */
static glnn_status choose_result(run_state *r, glnn_error *err) {
    for (int i = 0; i < r->n_ops; i++)
        r->classifier |= glnn_op_get_kind(glnn_model_op_at(r->m, i)) == GLNN_OP_SOFTMAX;
    if (r->o->output) {
        glnn_op *op = glnn_model_find(r->m, r->o->output);
        if (!op)
            return glnn_fail(err, GLNN_ERR_NOT_FOUND,
                             "run: --output: the model has no operation '%s' (glnn model %s "
                             "lists them)",
                             r->o->output, r->o->positional[0]);
        r->result_op = glnn_op_name(op);
    }
    for (int i = r->n_ops - 1; i >= 0 && !r->result_op && !r->classifier; i--)
        if (glnn_op_output_count(glnn_model_op_at(r->m, i)) > 0) r->result_op = glnn_op_name(glnn_model_op_at(r->m, i));
    const glnn_op *op = r->result_op ? glnn_model_find(r->m, r->result_op) : NULL;
    return op && glnn_op_output_count(op) > 0 ? glnn_model_add_output(r->m, r->result_op, 0, err) : GLNN_OK;
}

static glnn_status open_run(run_state *r, glnn_error *err) {
    const cli_options *o = r->o;
    size_t runs = (size_t)o->runs;
    glnn_status s = glnn_chunks_read_file(o->positional[0], &r->chunks, err);
    if (s == GLNN_OK) s = glnn_model_from_chunks(r->chunks, &r->m, err);
    if (s == GLNN_OK && !(r->n_ops = glnn_model_op_count(r->m)))
        s = glnn_fail(err, GLNN_ERR_FORMAT, "run: the model has no operations");
    if (s == GLNN_OK) {
        r->input_op = glnn_op_name(glnn_model_op_at(r->m, 0));
        r->takes_image = takes_image(glnn_model_op_at(r->m, 0));
        s = choose_result(r, err);
    }
    if (s == GLNN_OK) s = cli_open_context(o, &r->ctx, err);
    if (s == GLNN_OK) {
        r->ms = calloc(runs, sizeof *r->ms);
        r->op_ms = calloc(runs * (size_t)r->n_ops, sizeof *r->op_ms);
        r->op_gpu_ms = calloc(runs * (size_t)r->n_ops, sizeof *r->op_gpu_ms);
        if (!r->ms || !r->op_ms || !r->op_gpu_ms) s = glnn_fail(err, GLNN_ERR_MEMORY, "run: out of memory");
    }
    return s;
}

static void close_run(run_state *r) {
    free(r->ms);
    free(r->op_ms);
    free(r->op_gpu_ms);
    glnn_model_free(r->m);
    glnn_chunks_free(r->chunks);
    glnn_context_free(r->ctx);
}

/* ---- inputs ---------------------------------------------------------------------------------------------- */

/* A .npy array bound as an image (2 dimensions: grey; 3: 1, 3 or 4 channels) or a tensor (3 dimensions, or 1: a
 * 1×1×N tensor); floats must lie in [0, 1]. */
static glnn_status bind_array(run_state *r, const char *path, cli_array *a, glnn_shape *shape, glnn_error *err) {
    int64_t n = cli_array_count(a), h = a->ndim == 1 ? 1 : a->dims[0], w = a->ndim == 1 ? 1 : a->dims[1];
    int64_t c = a->ndim == 3 ? a->dims[2] : a->ndim == 1 ? a->dims[0] : 1;
    glnn_status s = GLNN_OK;
    if (r->takes_image) {
        if (a->ndim == 1 || c > 4)
            return glnn_fail(err, GLNN_ERR_ARGUMENT,
                             "run: '%s': '%s' takes an image (H, W) or "
                             "(H, W, 1, 3 or 4 channels)",
                             path, r->input_op);
        uint8_t *bytes = a->is_float ? malloc((size_t)n) : a->data;
        if (!bytes) return glnn_fail(err, GLNN_ERR_MEMORY, "run: out of memory");
        if (a->is_float) s = glnn_quantize_f32(a->data, bytes, n, err);
        if (s == GLNN_OK) s = glnn_model_bind_image(r->m, r->input_op, 0, bytes, h, w, (int)c, err);
        if (bytes != a->data) free(bytes);
        *shape = (glnn_shape){GLNN_KIND_IMAGE, h, w, 3};
        return s;
    }
    if (a->ndim == 2)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "run: '%s': '%s' takes a tensor (H, W, C), C a multiple of 4", path,
                         r->input_op);
    *shape = (glnn_shape){GLNN_KIND_TENSOR, h, w, c};
    return a->is_float ? glnn_model_bind_tensor_f32(r->m, r->input_op, 0, a->data, h, w, c, err)
                       : glnn_model_bind_tensor_u8(r->m, r->input_op, 0, a->data, h, w, c, err);
}

/* Binds the input at path (a picture or a .npy array); *changed tells whether its shape differs from the last. */
static glnn_status bind_input(run_state *r, const char *path, bool *changed, glnn_error *err) {
    glnn_shape shape = {0, 0, 0, 0};
    glnn_status s;
    if (cli_is_npy(path)) {
        cli_array a;
        s = cli_npy_read(path, &a, err);
        if (s == GLNN_OK) s = bind_array(r, path, &a, &shape, err);
        free(a.data);
    } else if (!r->takes_image) {
        s = glnn_fail(err, GLNN_ERR_ARGUMENT, "run: '%s' takes a tensor, not a picture: give a .npy array (H, W, C)",
                      r->input_op);
    } else {
        uint8_t *pixels = NULL;
        s = glnn_image_load(path, &pixels, &shape.h, &shape.w, err);
        if (s == GLNN_OK) s = glnn_model_bind_image(r->m, r->input_op, 0, pixels, shape.h, shape.w, 3, err);
        shape.kind = GLNN_KIND_IMAGE;
        shape.c = 3;
        glnn_free(pixels);
    }
    *changed = memcmp(&shape, &r->bound, sizeof shape) != 0;
    if (s == GLNN_OK) r->bound = shape;
    return s;
}

/* ---- running ------------------------------------------------------------------------------------------- */

/* Prepares when the input's shape changed (timed apart), then --warmup and --runs runs, keeping every time. */
static glnn_status time_runs(run_state *r, bool prepare, glnn_error *err) {
    glnn_status s = GLNN_OK;
    r->prepare_ms = 0;
    if (prepare) {
        double t0 = cli_now_ms();
        s = glnn_model_prepare(r->m, r->ctx, r->chunks, err);
        r->prepare_ms = cli_now_ms() - t0;
    }
    for (int i = 0; s == GLNN_OK && i < r->o->warmup; i++)
        s = glnn_model_run(r->m, r->ctx, r->chunks, err);
    for (int i = 0; s == GLNN_OK && i < r->o->runs; i++) {
        double t0 = cli_now_ms();
        s = glnn_model_run(r->m, r->ctx, r->chunks, err);
        r->ms[i] = cli_now_ms() - t0;
        for (int p = 0; s == GLNN_OK && p < r->n_ops; p++) {
            glnn_op_stats st;
            s = glnn_model_op_stats(r->m, p, &st, err);
            r->op_ms[i * r->n_ops + p] = st.ms;
            r->op_gpu_ms[i * r->n_ops + p] = st.gpu_ms;
        }
    }
    return s;
}

static run_figures figures(const run_state *r) {
    run_figures f = {0, 0, 0, 0};
    double *t = malloc((size_t)r->o->runs * sizeof *t);
    if (t) {
        memcpy(t, r->ms, (size_t)r->o->runs * sizeof *t);
        f.median_ms = cli_median(t, r->o->runs);
        f.min_ms = t[0];
        free(t);
    }
    glnn_model_count_multiply_adds(r->m, &f.multiply_adds, NULL);
    f.gmacs = f.median_ms > 0 ? (double)f.multiply_adds / f.median_ms / 1e6 : 0;
    return f;
}

/* ---- classes ------------------------------------------------------------------------------------------- */

typedef struct {
    int index;
    float p;
} ranked;

static int by_probability(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->index - y->index;
}

/* The top --top classes, best first: *n of them in a malloc'ed array. */
static glnn_status top_classes(const run_state *r, ranked **out, int *n, glnn_error *err) {
    int64_t count = 0;
    glnn_status s = glnn_model_probabilities_size(r->m, NULL, &count, err);
    if (s != GLNN_OK) return s;
    size_t labels = glnn_chunks_label_count(r->chunks);
    if (labels && (int64_t)labels != count)
        return glnn_fail(err, GLNN_ERR_FORMAT, "run: the labels chunk has %zu names for %lld classes", labels,
                         (long long)count);
    float *p = malloc((size_t)count * sizeof *p);
    ranked *rank = malloc((size_t)count * sizeof *rank);
    if (!p || !rank) s = glnn_fail(err, GLNN_ERR_MEMORY, "run: out of memory");
    if (s == GLNN_OK) s = glnn_model_get_probabilities(r->m, NULL, p, count, err);
    for (int64_t k = 0; s == GLNN_OK && k < count; k++)
        rank[k] = (ranked){(int)k, p[k]};
    if (s == GLNN_OK) qsort(rank, (size_t)count, sizeof *rank, by_probability);
    free(p);
    if (s != GLNN_OK) {
        free(rank);
        return s;
    }
    *out = rank;
    *n = r->o->top < count ? r->o->top : (int)count;
    return GLNN_OK;
}

/* The label of class k: from the model file, else "class k". */
static void label(const run_state *r, int k, char *buf, size_t size) {
    const char *name;
    size_t len;
    if (glnn_chunks_label_at(r->chunks, (size_t)k, &name, &len))
        snprintf(buf, size, "%.*s", (int)len, name);
    else
        snprintf(buf, size, "class %d", k);
}

/* ---- outputs ------------------------------------------------------------------------------------------- */

/* The result op's output #0 (a Softmax: its probabilities) as an array of bytes or floats. */
static glnn_status read_result(const run_state *r, cli_array *a, glnn_shape *shape, glnn_error *err) {
    memset(a, 0, sizeof *a);
    glnn_op *op = glnn_model_find(r->m, r->result_op);
    bool softmax = glnn_op_output_count(op) == 0;
    glnn_status s = GLNN_OK;
    if (softmax) {
        *shape = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, 0};
        s = glnn_model_probabilities_size(r->m, r->result_op, &shape->c, err);
    } else {
        s = glnn_model_output_shape(r->m, r->result_op, 0, shape, err);
    }
    if (s != GLNN_OK) return s;
    a->is_float = shape->kind == GLNN_KIND_VECTOR;
    a->ndim = a->is_float ? 1 : 3;
    int64_t dims[3] = {shape->h, shape->w, shape->c};
    memcpy(a->dims, a->is_float ? dims + 2 : dims, (size_t)a->ndim * sizeof *dims);
    int64_t n = cli_array_count(a);
    if (!(a->data = malloc((size_t)n * (a->is_float ? sizeof(float) : 1))))
        return glnn_fail(err, GLNN_ERR_MEMORY, "run: out of memory");
    if (softmax) return glnn_model_get_probabilities(r->m, r->result_op, a->data, n, err);
    return a->is_float ? glnn_model_get_output_f32(r->m, r->result_op, 0, a->data, n, err)
                       : glnn_model_get_output_u8(r->m, r->result_op, 0, a->data, n, err);
}

/* Writes the result for input `path` to DIR/STEM.OP.npy (and .png for an image); the names into npy and png. */
static glnn_status write_result(const run_state *r, const char *path, const cli_array *a, glnn_shape shape, char *npy,
                                char *png, size_t size, glnn_error *err) {
    char stem[256], op[256];
    cli_stem(path, stem, sizeof stem);
    snprintf(op, sizeof op, "%s", r->result_op);
    for (char *c = op; *c; c++)
        if (*c == '/' || *c == ' ') *c = '_';
    const char *dir = r->o->output_dir ? r->o->output_dir : ".";
    snprintf(npy, size, "%s/%s.%s.npy", dir, stem, op);
    png[0] = '\0';
    glnn_status s = cli_npy_write(npy, a, err);
    if (s == GLNN_OK && shape.kind == GLNN_KIND_IMAGE) {
        snprintf(png, size, "%s/%s.%s.png", dir, stem, op);
        s = cli_png_write(png, a->data, shape.h, shape.w, err);
    }
    return s;
}

/* Smallest, largest and mean value of an array, bytes read as q/255. */
static void value_range(const cli_array *a, double *lo, double *hi, double *mean) {
    int64_t n = cli_array_count(a);
    double sum = 0;
    *lo = 1e300;
    *hi = -1e300;
    for (int64_t i = 0; i < n; i++) {
        double v = a->is_float ? ((const float *)a->data)[i] : ((const uint8_t *)a->data)[i] / 255.0;
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
        sum += v;
    }
    *mean = n ? sum / (double)n : 0;
}

/* ---- reporting ----------------------------------------------------------------------------------------- */

/* Per op: the median over the runs of its GPU time where every op of every run has one, else of its wall time. */
static bool op_medians(const run_state *r, double *medians) {
    bool gpu = true;
    for (int i = 0; i < r->o->runs * r->n_ops; i++)
        gpu = gpu && r->op_gpu_ms[i] >= 0;
    double *t = malloc((size_t)r->o->runs * sizeof *t);
    for (int p = 0; t && p < r->n_ops; p++) {
        for (int i = 0; i < r->o->runs; i++)
            t[i] = (gpu ? r->op_gpu_ms : r->op_ms)[i * r->n_ops + p];
        medians[p] = cli_median(t, r->o->runs);
    }
    free(t);
    return gpu;
}

static void print_profile(const run_state *r, bool json) {
    double *med = calloc((size_t)r->n_ops, sizeof *med), total = 0;
    if (!med) return;
    bool gpu = op_medians(r, med);
    for (int p = 0; p < r->n_ops; p++)
        total += med[p];
    if (json)
        printf(", \"profile\": {\"timer\": \"%s\", \"ops\": [", gpu ? "gpu" : "wall");
    else
        printf("  profile (median of %d run%s; timer: %s):\n  %4s  %-20s %-14s %10s %7s %10s %14s\n", r->o->runs,
               r->o->runs == 1 ? "" : "s", gpu ? "gpu" : "wall", "#", "op", "type", "ms", "share", "G MAC/s",
               "texel fetches");
    for (int p = 0; p < r->n_ops; p++) {
        const glnn_op *op = glnn_model_op_at(r->m, p);
        glnn_op_stats st;
        glnn_model_op_stats(r->m, p, &st, NULL);
        double share = total > 0 ? med[p] / total : 0, gmacs = med[p] > 0 ? (double)st.multiply_adds / med[p] / 1e6 : 0;
        if (json) {
            printf("%s\n    {\"index\": %d, \"op\": ", p ? "," : "", p);
            cli_json_string(stdout, glnn_op_name(op));
            printf(", \"type\": \"%s\", \"ms\": %.4f, \"share\": %.4f, \"gmacs\": %.4f, \"multiply_adds\": %lld, "
                   "\"texel_fetches\": %lld}",
                   glnn_op_type_name(op), med[p], share, gmacs, (long long)st.multiply_adds,
                   (long long)st.texel_fetches);
        } else {
            printf("  %4d  %-20s %-14s %10.3f %6.1f%% %10.2f %14lld\n", p, glnn_op_name(op), glnn_op_type_name(op),
                   med[p], 100 * share, gmacs, (long long)st.texel_fetches);
        }
    }
    if (json) printf("\n  ]}");
    free(med);
}

static void print_times(const run_state *r, const char *path, run_figures f) {
    const cli_options *o = r->o;
    if (o->json) {
        printf("\n  {\"input\": ");
        cli_json_string(stdout, path);
        printf(", \"runs\": %d, \"warmup\": %d, \"ms\": %.4f, \"min_ms\": %.4f, \"prepare_ms\": %.3f, \"gmacs\": %.4f",
               o->runs, o->warmup, f.median_ms, f.min_ms, r->prepare_ms, f.gmacs);
        return;
    }
    if (o->runs == 1)
        printf("%s: %.2f ms (%.2f G multiply-adds/s)\n", path, f.median_ms, f.gmacs);
    else
        printf("%s: median %.2f ms, min %.2f ms over %d runs after %d warm-up run%s (%.2f G multiply-adds/s)\n", path,
               f.median_ms, f.min_ms, o->runs, o->warmup, o->warmup == 1 ? "" : "s", f.gmacs);
    if (r->prepare_ms > 0) printf("  (preparation before the runs: %.1f ms)\n", r->prepare_ms);
}

static glnn_status print_classes(const run_state *r, glnn_error *err) {
    ranked *rank = NULL;
    int n = 0;
    glnn_status s = top_classes(r, &rank, &n, err);
    if (s != GLNN_OK) return s;
    if (r->o->json) printf(", \"top\": [");
    for (int k = 0; k < n; k++) {
        char name[256];
        label(r, rank[k].index, name, sizeof name);
        if (r->o->json) {
            printf("%s{\"label\": ", k ? ", " : "");
            cli_json_string(stdout, name);
            printf(", \"index\": %d, \"probability\": %.6f}", rank[k].index, rank[k].p);
        } else {
            printf("  %6.2f%%  %s (%d)\n", 100.0 * rank[k].p, name, rank[k].index);
        }
    }
    if (r->o->json) printf("]");
    free(rank);
    return GLNN_OK;
}

/* The result op's shape and value range, and the files written with --output. */
static glnn_status print_result(const run_state *r, const char *path, glnn_error *err) {
    cli_array a;
    glnn_shape shape;
    char npy[1024] = "", png[1024] = "", text[64];
    glnn_status s = read_result(r, &a, &shape, err);
    if (s == GLNN_OK && r->o->output) s = write_result(r, path, &a, shape, npy, png, sizeof npy, err);
    if (s == GLNN_OK) {
        double lo, hi, mean;
        value_range(&a, &lo, &hi, &mean);
        cli_shape_text(shape, text, sizeof text);
        if (r->o->json) {
            printf(", \"result\": {\"op\": ");
            cli_json_string(stdout, r->result_op);
            printf(", \"shape\": ");
            cli_json_shape(stdout, shape);
            printf(", \"min\": %.6g, \"max\": %.6g, \"mean\": %.6g", lo, hi, mean);
            const char *files[2][2] = {{"npy", npy}, {"png", png}};
            for (int i = 0; i < 2; i++)
                if (*files[i][1]) {
                    printf(", \"%s\": ", files[i][0]);
                    cli_json_string(stdout, files[i][1]);
                }
            printf("}");
        } else {
            printf("  output of '%s': %s, values %.4g to %.4g, mean %.4g\n", r->result_op, text, lo, hi, mean);
            if (*npy) printf("  wrote %s%s%s\n", npy, *png ? " and " : "", png);
        }
    }
    free(a.data);
    return s;
}

/* One input: bind, prepare when needed, run, report. */
static glnn_status run_input(run_state *r, const char *path, glnn_error *err) {
    bool changed;
    glnn_status s = bind_input(r, path, &changed, err);
    if (s == GLNN_OK) s = time_runs(r, changed, err);
    if (s != GLNN_OK) return s;
    print_times(r, path, figures(r));
    if (r->classifier) s = print_classes(r, err);
    if (s == GLNN_OK && r->result_op) s = print_result(r, path, err);
    if (s == GLNN_OK && r->o->profile) print_profile(r, r->o->json);
    if (r->o->json) printf("}");
    fflush(stdout);
    return s;
}

int cmd_run(const cli_options *o) {
    run_state r = {.o = o};
    glnn_error err;
    glnn_status s = open_run(&r, &err);
    bool listing = s == GLNN_OK && o->json; /* a JSON array of the inputs, closed even after an error */
    if (listing) printf("[");
    for (int i = 1; s == GLNN_OK && i < o->n_positional; i++) {
        if (o->json && i > 1) printf(",");
        s = run_input(&r, o->positional[i], &err);
    }
    if (listing) printf("\n]\n");
    close_run(&r);
    return s == GLNN_OK ? CLI_OK : cli_fail(&err);
}
