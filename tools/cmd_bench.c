/* glnn conv and glnn bench: Conv2D layers and whole models, timed and checked against the reference. */
#include "bench.h"

#include <string.h>

/* The model case by default: the first of these found (cli_find_data: installed, in the source tree, in ../shared),
 * on butterfly.bmp, else on a synthetic picture. */
static const char *const default_models[] = {"models/dog_classifier.chunks", "models/fashion_mnist.chunks"};
#define DEFAULT_PICTURE "images/butterfly.bmp"

/* The Conv2D suite: names are stable so that results compare across versions.  The model case follows. */
static const bench_case suite[] = {
    {"conv3x3_64_128", 3, 1, GLNN_PADDING_SAME, 64, 64, 1, 128, 128, NULL, NULL, false},
    {"conv1x1_64_128", 1, 1, GLNN_PADDING_VALID, 64, 64, 1, 128, 128, NULL, NULL, false},
    {"dw3x3_64_128", 3, 1, GLNN_PADDING_SAME, 64, 64, 64, 128, 128, NULL, NULL, false},
    {"img3x3s2_32_256", 3, 2, GLNN_PADDING_VALID, 3, 32, 1, 256, 256, NULL, NULL, false},
    {"conv3x3s2_32_64_112", 3, 2, GLNN_PADDING_SAME, 32, 64, 1, 112, 112, NULL, NULL, false},
    {"group3x3_128_g8_56", 3, 1, GLNN_PADDING_SAME, 128, 128, 8, 56, 56, NULL, NULL, false},
    {"pw_128_256_28", 1, 1, GLNN_PADDING_VALID, 128, 256, 1, 28, 28, NULL, NULL, false},
    {"conv3x3_256_14", 3, 1, GLNN_PADDING_SAME, 256, 256, 1, 14, 14, NULL, NULL, false},
    {"conv3x3_64_512", 3, 1, GLNN_PADDING_SAME, 64, 64, 1, 512, 512, NULL, NULL, true},
};
#define N_CASES (sizeof suite / sizeof suite[0] + 1)

/* The model case: --model on --image, else a default model on butterfly.bmp or a synthetic picture. */
typedef struct model_case {
    bench_case c;
    char name[128], model[1024], image[1024];
    const char *missing; /* why it cannot run, NULL when it can */
} model_case;

static void find_model_case(const cli_options *o, model_case *mc) {
    memset(mc, 0, sizeof *mc);
    mc->c.name = mc->name;
    mc->c.model = mc->model;
    mc->c.image = mc->image;
    bool found = o->model != NULL;
    if (found) snprintf(mc->model, sizeof mc->model, "%s", o->model);
    for (size_t i = 0; !found && i < sizeof default_models / sizeof default_models[0]; i++)
        found = cli_find_data(default_models[i], mc->model, sizeof mc->model);
    cli_stem(found ? mc->model : default_models[0], mc->name, sizeof mc->name);
    if (!found) mc->missing = "no model found (installed, in the source tree or in ../shared): give --model";
    if (o->image)
        snprintf(mc->image, sizeof mc->image, "%s", o->image);
    else if (!cli_find_data(DEFAULT_PICTURE, mc->image, sizeof mc->image))
        mc->c.image = NULL; /* a synthetic picture */
}

static const bench_case *case_at(const model_case *mc, size_t i) {
    return i < N_CASES - 1 ? &suite[i] : &mc->c;
}

int cmd_conv(const cli_options *o) {
    glnn_error err;
    glnn_context *ctx = NULL, *ref = NULL;
    const bench_case c = {"conv3x3_32_256", 3, 1, GLNN_PADDING_SAME, 32, 32, 1, 256, 256, NULL, NULL, false};
    bench_result r;
    int rc = CLI_RUNTIME_ERROR;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK || cli_open_reference(&ref, &err) != GLNN_OK ||
        bench_run(&c, ctx, ref, o->runs, &r, &err) != GLNN_OK) {
        rc = cli_fail(&err);
    } else if (o->json) {
        printf("{\"name\": \"%s\", \"device\": ", c.name);
        cli_json_string(stdout, glnn_context_device_name(ctx));
        printf(", \"path\": \"%s\", \"runs\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, \"gmacs\": %.4f, "
               "\"prepare_ms\": %.2f, \"max_lsb_diff\": %d}\n",
               glnn_context_path(ctx), o->runs, r.median_ms, r.min_ms, r.gmacs, r.prepare_ms, r.max_lsb_diff);
        rc = r.max_lsb_diff <= 1 ? CLI_OK : CLI_RUNTIME_ERROR;
    } else {
        printf("Conv2D 3x3, 32->32 channels, SAME, on %dx%d random data (the size of butterfly.bmp)\n", c.w, c.h);
        printf("device: %s\n", glnn_context_device_name(ctx));
        printf("time: median %.2f ms, min %.2f ms over %d runs (%.2f G multiply-adds/s); preparation %.1f ms\n",
               r.median_ms, r.min_ms, o->runs, r.gmacs, r.prepare_ms);
        printf("largest difference from the reference: %d LSB (%s)\n", r.max_lsb_diff,
               r.max_lsb_diff <= 1 ? "within the 1 LSB budget" : "OUTSIDE the 1 LSB budget");
        rc = r.max_lsb_diff <= 1 ? CLI_OK : CLI_RUNTIME_ERROR;
    }
    glnn_context_free(ctx);
    glnn_context_free(ref);
    return rc;
}

/* Whether name contains one of the comma-separated texts of filter. */
static bool matches(const char *name, const char *filter) {
    for (const char *p = filter;; p++) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        for (const char *q = name; n && strlen(q) >= n; q++)
            if (strncmp(q, p, n) == 0) return true;
        if (!end) return false;
        p = end;
    }
}

static int list_cases(const cli_options *o, const model_case *mc) {
    printf("%s", o->json ? "[" : "");
    for (size_t i = 0; i < N_CASES; i++) {
        const bench_case *c = case_at(mc, i);
        if (o->json)
            printf("%s\"%s\"", i ? ", " : "", c->name);
        else
            printf("%s%s\n", c->name, c->large ? "   (hardware GPUs only, unless filtered)" : "");
    }
    printf("%s", o->json ? "]\n" : "");
    return CLI_OK;
}

/* Which cases run: those the filter names (an error when it names none), else all but the large ones on software
 * renderers and a model case without its files. */
static int select_cases(const cli_options *o, const model_case *mc, bool software, bool *selected) {
    int n = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const bench_case *c = case_at(mc, i);
        selected[i] = o->filter ? matches(c->name, o->filter) : !(c->large && software);
        if (!o->filter && c == &mc->c && mc->missing && !o->model && !o->image) {
            fprintf(stderr, "glnn: bench: skipping %s: %s\n", c->name, mc->missing);
            selected[i] = false;
        }
        n += selected[i];
    }
    if (o->filter && n == 0)
        return cli_usage_error(o, "--filter '%s' matches no case (glnn bench --list names them)", o->filter);
    return CLI_OK;
}

static void print_result(const cli_options *o, const glnn_context *ctx, const bench_case *c, const bench_result *r,
                         int shown) {
    if (o->json) {
        printf("%s\n  {\"name\": \"%s\", \"device\": ", shown ? "," : "", c->name);
        cli_json_string(stdout, glnn_context_device_name(ctx));
        printf(", \"path\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, \"gmacs\": %.4f, \"max_lsb_diff\": %d, "
               "\"prepare_ms\": %.2f, \"timer\": \"%s\", \"wall_median_ms\": %.4f",
               glnn_context_path(ctx), r->median_ms, r->min_ms, r->gmacs, r->max_lsb_diff, r->prepare_ms,
               r->gpu_timer ? "gpu" : "wall", r->wall_median_ms);
        /* Passes and texel fetches per run: the fragment path counts them; null elsewhere. */
        if (r->passes >= 0)
            printf(", \"passes\": %lld, \"texel_fetches\": %lld}", (long long)r->passes, (long long)r->texel_fetches);
        else
            printf(", \"passes\": null, \"texel_fetches\": null}");
    } else {
        char passes[24] = "-", fetches[24] = "-";
        if (r->passes >= 0) {
            snprintf(passes, sizeof passes, "%lld", (long long)r->passes);
            snprintf(fetches, sizeof fetches, "%lld", (long long)r->texel_fetches);
        }
        printf("%-22s %10.3f %10.3f %12.3f %9d %12.1f %6s %7s %13s\n", c->name, r->median_ms, r->min_ms, r->gmacs,
               r->max_lsb_diff, r->prepare_ms, r->gpu_timer ? "gpu" : "wall", passes, fetches);
    }
    fflush(stdout);
}

int cmd_bench(const cli_options *o) {
    model_case mc;
    find_model_case(o, &mc);
    if (o->list) return list_cases(o, &mc);
    glnn_error err;
    glnn_context *ctx = NULL, *ref = NULL;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK || cli_open_reference(&ref, &err) != GLNN_OK) {
        glnn_context_free(ctx);
        return cli_fail(&err);
    }
    const char *device = glnn_context_device_name(ctx);
    bool software = !glnn_context_is_gpu(ctx) || strstr(device, "llvmpipe") || strstr(device, "softpipe");
    bool selected[N_CASES];
    int rc = select_cases(o, &mc, software, selected), shown = 0;
    if (rc == CLI_OK && o->json)
        printf("[");
    else if (rc == CLI_OK)
        printf("device: %s\npath: %s\n%-22s %10s %10s %12s %9s %12s %6s %7s %13s\n", device, glnn_context_path(ctx),
               "name", "median ms", "min ms", "G MAC/s", "max LSB", "prepare ms", "timer", "passes", "texel fetches");
    for (size_t i = 0; rc != CLI_USAGE_ERROR && i < N_CASES; i++) {
        const bench_case *c = case_at(&mc, i);
        if (!selected[i]) continue;
        bench_result r;
        int runs = !glnn_context_is_gpu(ctx) && !c->model ? (o->runs < 3 ? o->runs : 3) : o->runs;
        if (c == &mc.c && mc.missing) {
            fprintf(stderr, "glnn: bench %s: %s\n", c->name, mc.missing);
            rc = CLI_RUNTIME_ERROR;
        } else if (bench_run(c, ctx, glnn_context_is_gpu(ctx) ? ref : ctx, runs, &r, &err) != GLNN_OK) {
            fprintf(stderr, "glnn: bench %s: %s\n", c->name, err.message);
            rc = CLI_RUNTIME_ERROR;
        } else if (!c->model && r.max_lsb_diff > 1) {
            fprintf(stderr, "glnn: bench %s: refusing to report a wrong result: %d LSB from the reference\n", c->name,
                    r.max_lsb_diff);
            rc = CLI_RUNTIME_ERROR;
        } else {
            print_result(o, ctx, c, &r, shown++);
        }
    }
    if (rc != CLI_USAGE_ERROR && o->json) printf("\n]\n");
    glnn_context_free(ctx);
    glnn_context_free(ref);
    return rc;
}
