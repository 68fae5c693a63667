/* glnn conv and glnn bench: Conv2D layers and whole models, timed and checked against the CPU reference. */
#include "bench.h"

#include <string.h>

#define MODEL "../shared/models/dog_classifier.chunks"
#define PICTURE "../shared/images/butterfly.bmp"

/* The suite: names are stable so that results compare across versions. */
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
    {"dog_classifier", 0, 0, 0, 0, 0, 0, 0, 0, MODEL, PICTURE, false},
};

static glnn_status open_reference(glnn_context **ref, glnn_error *err) {
    cli_options o = {.device = "cpu", .max_sampled_channels = -1};
    return cli_open_context(&o, ref, err);
}

int cmd_conv(const cli_options *o) {
    glnn_error err;
    glnn_context *ctx = NULL, *ref = NULL;
    const bench_case c = {"conv3x3_32_256", 3, 1, GLNN_PADDING_SAME, 32, 32, 1, 256, 256, NULL, NULL, false};
    bench_result r;
    int rc = 1;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK || open_reference(&ref, &err) != GLNN_OK ||
        bench_run(&c, ctx, ref, o->runs, &r, &err) != GLNN_OK) {
        rc = cli_fail(&err);
    } else {
        printf("Conv2D 3x3, 32->32 channels, SAME, on %dx%d random data (the size of butterfly.bmp)\n", c.w, c.h);
        printf("device: %s\n", glnn_context_device_name(ctx));
        printf("time: median %.2f ms, min %.2f ms over %d runs (%.2f G multiply-adds/s); preparation %.1f ms\n",
               r.median_ms, r.min_ms, o->runs, r.gmacs, r.prepare_ms);
        printf("largest difference from the CPU reference: %d LSB (%s)\n", r.max_lsb_diff,
               r.max_lsb_diff <= 1 ? "within the 1 LSB budget" : "OUTSIDE the 1 LSB budget");
        rc = r.max_lsb_diff <= 1 ? 0 : 1;
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

int cmd_bench(const cli_options *o) {
    glnn_error err;
    glnn_context *ctx = NULL, *ref = NULL;
    if (cli_open_context(o, &ctx, &err) != GLNN_OK || open_reference(&ref, &err) != GLNN_OK) {
        glnn_context_free(ctx);
        return cli_fail(&err);
    }
    const char *device = glnn_context_device_name(ctx);
    bool software = !glnn_context_is_gpu(ctx) || strstr(device, "llvmpipe") || strstr(device, "softpipe");
    int rc = 0, shown = 0;
    if (o->json)
        printf("[");
    else
        printf("device: %s\npath: %s\n%-22s %10s %10s %12s %9s %12s %6s\n", device, glnn_context_path(ctx), "name",
               "median ms", "min ms", "G MAC/s", "max LSB", "prepare ms", "timer");
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
        const bench_case *c = &suite[i];
        if (o->filter ? !matches(c->name, o->filter) : c->large && software) continue;
        bench_result r;
        int runs = !glnn_context_is_gpu(ctx) && !c->model ? (o->runs < 3 ? o->runs : 3) : o->runs;
        if (bench_run(c, ctx, glnn_context_is_gpu(ctx) ? ref : ctx, runs, &r, &err) != GLNN_OK) {
            fprintf(stderr, "glnn: bench %s: %s\n", c->name, err.message);
            rc = 1;
            continue;
        }
        if (!c->model && r.max_lsb_diff > 1) {
            fprintf(stderr, "glnn: bench %s: refusing to report a wrong result: %d LSB from the CPU reference\n",
                    c->name, r.max_lsb_diff);
            rc = 1;
            continue;
        }
        if (o->json) {
            printf("%s\n  {\"name\": \"%s\", \"device\": ", shown ? "," : "", c->name);
            cli_json_string(stdout, device);
            printf(", \"path\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, \"gmacs\": %.4f, \"max_lsb_diff\": %d, "
                   "\"prepare_ms\": %.2f, \"timer\": \"%s\", \"wall_median_ms\": %.4f}",
                   glnn_context_path(ctx), r.median_ms, r.min_ms, r.gmacs, r.max_lsb_diff, r.prepare_ms,
                   r.gpu_timer ? "gpu" : "wall", r.wall_median_ms);
        } else {
            printf("%-22s %10.3f %10.3f %12.3f %9d %12.1f %6s\n", c->name, r.median_ms, r.min_ms, r.gmacs,
                   r.max_lsb_diff, r.prepare_ms, r.gpu_timer ? "gpu" : "wall");
        }
        shown++;
        fflush(stdout);
    }
    if (o->json) printf("\n]\n");
    glnn_context_free(ctx);
    glnn_context_free(ref);
    return rc;
}
