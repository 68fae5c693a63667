/* Dense and the connection shuffle on the fast CPU back end. */
#include "backends/cpu/kernels.h"
#include "ops/dense.h"

#include <stdlib.h>
#include <string.h>

void glnn_cpu_dense_plan_free(glnn_cpu_dense_plan *p) {
    if (!p) return;
    free(p->matrix);
    free(p->bias);
    free(p);
}

glnn_status glnn_cpu_dense_plan_create(const glnn_dense *d, glnn_cpu_isa isa, glnn_cpu_dense_plan **out,
                                       glnn_error *err) {
    if (!d || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Dense plan: no operation or output handle");
    if (!d->base.prep || !glnn_dense_prep_of(&d->base)->matrix || !glnn_dense_prep_of(&d->base)->bias)
        return glnn_fail(err, GLNN_ERR_STATE, "CPU Dense plan of '%s': the operation is not prepared", d->base.name);
    if (isa == GLNN_CPU_ISA_AUTO) isa = glnn_cpu_isa_best();
    if (!glnn_cpu_isa_supported(isa))
        return glnn_fail(err, GLNN_ERR_DEVICE, "CPU Dense plan of '%s': instruction set '%s' not available",
                         d->base.name, glnn_cpu_isa_name(isa) ? glnn_cpu_isa_name(isa) : "?");
    glnn_cpu_dense_plan *p = calloc(1, sizeof *p);
    const int64_t n_in = glnn_dense_prep_of(&d->base)->n_in, n_out = d->p.num_output_dims;
    if (p) {
        p->matrix = malloc((size_t)(n_in * n_out > 0 ? n_in * n_out : 1) * sizeof(float));
        p->bias = malloc((size_t)n_out * sizeof(float));
    }
    if (!p || !p->matrix || !p->bias) {
        glnn_cpu_dense_plan_free(p);
        return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Dense plan of '%s': out of memory", d->base.name);
    }
    p->kern = glnn_cpu_kernels_for(isa);
    p->n_in = n_in, p->n_out = n_out, p->vector_input = glnn_dense_prep_of(&d->base)->vector_input;
    memcpy(p->matrix, glnn_dense_prep_of(&d->base)->matrix, (size_t)(n_in * n_out) * sizeof(float));
    memcpy(p->bias, glnn_dense_prep_of(&d->base)->bias, (size_t)n_out * sizeof(float));
    *out = p;
    return GLNN_OK;
}

typedef struct {
    const glnn_cpu_dense_plan *p;
    const float *x;
    float *out;
} dense_job;

/* Outputs [b, e): eight partial sums per output (any order is within SPEC §2.5's Dense bound), bias last. */
static void dense_outputs(void *arg, int64_t b, int64_t e, int thread) {
    (void)thread;
    const dense_job *j = arg;
    const int64_t n = j->p->n_in;
    for (int64_t o = b; o < e; o++) {
        const float *a = j->p->matrix + o * n;
        float acc[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int l = 0; l < 8; l++)
                acc[l] += a[i + l] * j->x[i + l];
        for (; i < n; i++)
            acc[0] += a[i] * j->x[i];
        j->out[o] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + j->p->bias[o];
    }
}

void glnn_cpu_dense_plan_run(const glnn_cpu_dense_plan *p, glnn_cpu_pool *pool, const void *in, float *out) {
    float small[1024], *x = p->vector_input ? (float *)in : small;
    if (!p->vector_input && p->n_in > 1024) x = malloc((size_t)p->n_in * sizeof(float));
    if (!x) { /* no memory for the converted input: convert on the fly, one output at a time */
        const uint8_t *q = in;
        for (int64_t o = 0; o < p->n_out; o++) {
            float acc = 0;
            for (int64_t i = 0; i < p->n_in; i++)
                acc += p->matrix[o * p->n_in + i] * ((float)q[i] / 255.0f);
            out[o] = acc + p->bias[o];
        }
        return;
    }
    if (!p->vector_input)
        for (int64_t i = 0; i < p->n_in; i++)
            x[i] = (float)((const uint8_t *)in)[i] / 255.0f;
    dense_job j = {p, x, out};
    const int64_t grain = p->n_in * p->n_out > 1 << 16 ? (p->n_out + 15) / 16 : p->n_out;
    glnn_cpu_parallel_for(pool, p->n_out, grain, dense_outputs, &j);
    if (x != small && x != in) free(x);
}

/* ---- connection shuffle --------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *in;
    uint8_t *out;
    int64_t quads;
    const int32_t *src; /* source quad of each consumer quad */
    const glnn_cpu_kernels *kern;
} shuffle_job;

static void shuffle_pixels(void *arg, int64_t b, int64_t e, int thread) {
    (void)thread;
    const shuffle_job *j = arg;
    const int64_t q = j->quads;
    if (j->kern && j->kern->shuffle) { /* the best instruction set's permutes (kernels.h) */
        j->kern->shuffle(j->in + b * q * 4, j->out + b * q * 4, e - b, q, j->src);
        return;
    }
    for (int64_t px = b; px < e; px++) {
        const uint8_t *s = j->in + px * q * 4;
        uint8_t *d = j->out + px * q * 4;
        for (int64_t i = 0; i < q; i++)
            memcpy(d + 4 * i, s + 4 * (int64_t)j->src[i], 4);
    }
}

void glnn_cpu_shuffle_run(glnn_cpu_pool *pool, const uint8_t *in, int64_t pixels, int64_t c, int n, uint8_t *out) {
    glnn_cpu_shuffle_run_isa(pool, GLNN_CPU_ISA_AUTO, in, pixels, c, n, out);
}

void glnn_cpu_shuffle_run_isa(glnn_cpu_pool *pool, glnn_cpu_isa isa, const uint8_t *in, int64_t pixels, int64_t c,
                              int n, uint8_t *out) {
    const int64_t quads = c / 4;
    int32_t small[256], *src = quads <= 256 ? small : malloc((size_t)quads * sizeof(int32_t));
    if (!src) { /* no memory for the table: compute each source on the fly */
        for (int64_t px = 0; px < pixels; px++)
            for (int64_t i = 0; i < quads; i++)
                memcpy(out + (px * quads + i) * 4, in + (px * quads + glnn_shuffle_source_quad(i, n, quads)) * 4, 4);
        return;
    }
    for (int64_t i = 0; i < quads; i++)
        src[i] = (int32_t)glnn_shuffle_source_quad(i, n, quads);
    if (isa == GLNN_CPU_ISA_AUTO || !glnn_cpu_isa_supported(isa)) isa = glnn_cpu_isa_best();
    shuffle_job j = {in, out, quads, src, glnn_cpu_kernels_for(isa)};
    const int64_t grain = quads > 0 ? (65536 / (quads * 4) > 0 ? 65536 / (quads * 4) : 1) : pixels;
    glnn_cpu_parallel_for(pool, pixels, grain, shuffle_pixels, &j);
    if (src != small) free(src);
}
