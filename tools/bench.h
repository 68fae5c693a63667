/* Benchmark cases shared by `glnn conv` and `glnn bench`. */
#ifndef GLNN_BENCH_H
#define GLNN_BENCH_H

#include "cli.h"

typedef struct bench_case {
    const char *name;
    int k, s;
    glnn_padding padding;
    int cin, cout, groups;
    int h, w;
    const char *model; /* a model file instead of a single Conv2D */
    const char *image; /* the picture for a model; NULL: a synthetic one */
    bool large;        /* only with --filter on software renderers */
} bench_case;

typedef struct bench_result {
    /* median and minimum over the runs: GPU time (timer queries) where every op of every run was timed on
     * the GPU (gpu_timer), else wall-clock time with the GPU finished after each op; wall_median_ms always. */
    double median_ms, min_ms, wall_median_ms, prepare_ms, gmacs;
    bool gpu_timer;
    int max_lsb_diff;
    int64_t multiply_adds;
    /* Per run on the fragment path: draws (passes) and the texels they read (inputs, residuals, weights and taps
     * from textures); -1 on other paths. */
    int64_t passes, texel_fetches;
} bench_result;

/* Runs case c on ctx `runs` times after a warm-up, and once on the CPU reference (ref) to compare. */
glnn_status bench_run(const bench_case *c, glnn_context *ctx, glnn_context *ref, int runs, bench_result *r,
                      glnn_error *err);

#endif
