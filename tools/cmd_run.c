/* glnn run: classify images with a model file. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char **names;
    int count;
} labels;

static void labels_free(labels *l) {
    for (int i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
}

/* Class names from the `labels` chunk: one per line, a final LF adds no name, CR before LF dropped. */
static glnn_status read_labels(const glnn_chunks *chunks, labels *out, glnn_error *err) {
    const void *data;
    size_t size;
    out->names = NULL;
    out->count = 0;
    if (!glnn_chunks_get(chunks, "labels", 6, &data, &size)) return GLNN_OK;
    const char *p = data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        if (nl && n > 0 && stop[-1] == '\r') n--;
        char **names = realloc(out->names, (size_t)(out->count + 1) * sizeof *names);
        char *name = names ? malloc(n + 1) : NULL;
        if (!name) {
            if (names) out->names = names;
            labels_free(out);
            return glnn_fail(err, GLNN_ERR_MEMORY, "read labels: out of memory");
        }
        memcpy(name, p, n);
        name[n] = '\0';
        out->names = names;
        out->names[out->count++] = name;
        p = nl ? nl + 1 : end;
    }
    return GLNN_OK;
}

/* The op that takes the user's picture: input 0 of the first op, which must have no connection. */
static const char *input_op(const glnn_model *m) {
    return glnn_op_name(glnn_model_op_at(m, 0));
}

typedef struct {
    int index;
    float p;
} ranked;

static int by_probability(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->index - y->index;
}

int cmd_run(const cli_options *o) {
    if (o->n_positional < 2) return cli_usage_error("run needs MODEL.chunks and at least one IMAGE");
    glnn_error err;
    glnn_context *ctx = NULL;
    glnn_chunks *chunks = NULL;
    glnn_model *m = NULL;
    labels names = {0};
    float *probs = NULL;
    ranked *rank = NULL;
    int rc = 1;
    if (glnn_chunks_read_file(o->positional[0], &chunks, &err) != GLNN_OK ||
        glnn_model_from_chunks(chunks, &m, &err) != GLNN_OK || read_labels(chunks, &names, &err) != GLNN_OK ||
        cli_open_context(o, &ctx, &err) != GLNN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    if (o->json) printf("[");
    for (int i = 1; i < o->n_positional; i++) {
        const char *path = o->positional[i];
        uint8_t *pixels;
        int64_t h, w;
        if (glnn_image_load(path, &pixels, &h, &w, &err) != GLNN_OK) goto fail;
        glnn_status s = glnn_model_bind_image(m, input_op(m), 0, pixels, h, w, 3, &err);
        glnn_free(pixels);
        if (s != GLNN_OK) goto fail;
        double prep = 0;
        if (i == 1) {
            double t0 = cli_now_ms();
            if (glnn_model_prepare(m, ctx, chunks, &err) != GLNN_OK) goto fail;
            prep = cli_now_ms() - t0;
        }
        double t0 = cli_now_ms();
        if (glnn_model_run(m, ctx, chunks, &err) != GLNN_OK) goto fail;
        int64_t macs = 0, n = 0;
        if (glnn_model_probabilities_size(m, NULL, &n, &err) != GLNN_OK) goto fail;
        free(probs);
        free(rank);
        probs = malloc((size_t)(n > 0 ? n : 1) * sizeof *probs);
        rank = malloc((size_t)(n > 0 ? n : 1) * sizeof *rank);
        if (!probs || !rank || glnn_model_get_probabilities(m, NULL, probs, n, &err) != GLNN_OK) goto fail;
        double ms = cli_now_ms() - t0;
        glnn_model_count_multiply_adds(m, &macs, NULL);
        if (names.count && names.count != n) {
            glnn_fail(&err, GLNN_ERR_FORMAT, "run: the labels chunk has %d names for %lld classes", names.count,
                      (long long)n);
            goto fail;
        }
        for (int64_t k = 0; k < n; k++)
            rank[k] = (ranked){(int)k, probs[k]};
        qsort(rank, (size_t)n, sizeof *rank, by_probability);
        int top = o->top < n ? o->top : (int)n;
        if (o->json) {
            printf("%s\n  {\"image\": ", i > 1 ? "," : "");
            cli_json_string(stdout, path);
            printf(", \"top\": [");
            for (int k = 0; k < top; k++) {
                printf("%s{\"label\": ", k ? ", " : "");
                char fallback[32];
                snprintf(fallback, sizeof fallback, "class %d", rank[k].index);
                cli_json_string(stdout, names.count ? names.names[rank[k].index] : fallback);
                printf(", \"index\": %d, \"probability\": %.6f}", rank[k].index, rank[k].p);
            }
            printf("], \"ms\": %.3f}", ms);
        } else {
            printf("%s: %.1f ms (%.2f G multiply-adds/s)%s\n", path, ms, (double)macs / ms / 1e6, "");
            if (prep > 0) printf("  (first run: preparation took %.1f ms)\n", prep);
            for (int k = 0; k < top; k++)
                printf("  %6.2f%%  %s (%d)\n", 100.0 * rank[k].p, names.count ? names.names[rank[k].index] : "",
                       rank[k].index);
        }
        fflush(stdout);
    }
    if (o->json) printf("\n]\n");
    rc = 0;
    goto done;
fail:
    if (o->json) printf("\n]\n");
    rc = cli_fail(&err);
done:
    free(probs);
    free(rank);
    labels_free(&names);
    glnn_model_free(m);
    glnn_chunks_free(chunks);
    glnn_context_free(ctx);
    return rc;
}
