/* Pooling2D, ImageSampler and Upsampling2D on the fast CPU back end: plans (geometry and tables) and runs over
 * output rows.  The kernels are in ops_template.h, compiled per ISA. */
#include "backends/cpu/kernels.h"
#include "ops/image_sampler.h"
#include "ops/pooling2d.h"

#include <math.h>
#include <stdlib.h>

/* The three ops' runs: the plan's kernel over output rows [0, ho), in work items of about 64 KiB of output
 * (row_bytes: the output bytes, or the work, of one row) and at least one row. */
typedef enum { ROWS_POOLING, ROWS_SAMPLER, ROWS_UPSAMPLING } rows_op;

typedef struct {
    rows_op op;
    const void *p;
    const uint8_t *in;
    uint8_t *out;
    int64_t grain, ho;
} rows_job;

static void rows_items(void *arg, int64_t b, int64_t e, int thread) {
    (void)thread;
    const rows_job *j = arg;
    const int64_t r0 = b * j->grain, r1 = e * j->grain < j->ho ? e * j->grain : j->ho;
    switch (j->op) {
    case ROWS_POOLING: {
        const glnn_cpu_pooling2d_plan *p = j->p;
        p->kern->pooling2d(p, j->in, j->out, r0, r1);
        break;
    }
    case ROWS_SAMPLER: {
        const glnn_cpu_image_sampler_plan *p = j->p;
        p->kern->image_sampler(p, j->in, j->out, r0, r1);
        break;
    }
    case ROWS_UPSAMPLING: {
        const glnn_cpu_upsampling2d_plan *p = j->p;
        p->kern->upsampling2d(p, j->in, j->out, r0, r1);
        break;
    }
    }
}

static void run_rows(glnn_cpu_pool *pool, rows_op op, const void *p, const uint8_t *in, uint8_t *out, int64_t ho,
                     int64_t row_bytes) {
    int64_t grain = row_bytes > 0 ? 65536 / row_bytes : 1;
    grain = grain < 1 ? 1 : grain;
    rows_job j = {op, p, in, out, grain, ho};
    glnn_cpu_parallel_for(pool, (ho + grain - 1) / grain, 1, rows_items, &j);
}

static const glnn_cpu_kernels *kernels(glnn_cpu_isa isa, const char *op, const char *name, glnn_error *err) {
    if (isa == GLNN_CPU_ISA_AUTO) isa = glnn_cpu_isa_best();
    if (!glnn_cpu_isa_supported(isa)) {
        glnn_fail(err, GLNN_ERR_DEVICE, "CPU %s plan of '%s': instruction set '%s' not available", op, name,
                  glnn_cpu_isa_name(isa) ? glnn_cpu_isa_name(isa) : "?");
        return NULL;
    }
    return glnn_cpu_kernels_for(isa);
}

/* ---- Pooling2D ------------------------------------------------------------------------------------------ */

glnn_status glnn_cpu_pooling2d_plan_create(const glnn_pooling2d *pl, glnn_cpu_isa isa, glnn_cpu_pooling2d_plan **out,
                                           glnn_error *err) {
    if (!pl || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Pooling2D plan: no operation or output handle");
    if (!pl->base.prep)
        return glnn_fail(err, GLNN_ERR_STATE, "CPU Pooling2D plan of '%s': the operation is not prepared",
                         pl->base.name);
    const glnn_cpu_kernels *k = kernels(isa, "Pooling2D", pl->base.name, err);
    if (!k) return err ? err->status : GLNN_ERR_DEVICE;
    glnn_cpu_pooling2d_plan *p = calloc(1, sizeof *p);
    if (!p) return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Pooling2D plan of '%s': out of memory", pl->base.name);
    p->kern = k;
    p->is_max = pl->p.op == GLNN_POOLING_MAX;
    p->k = pl->p.size;
    p->s = pl->stride;
    p->h = glnn_pooling2d_prep_of(&pl->base)->in_shape.h, p->w = glnn_pooling2d_prep_of(&pl->base)->in_shape.w,
    p->c = glnn_pooling2d_prep_of(&pl->base)->in_shape.c;
    p->ho = glnn_pooling2d_prep_of(&pl->base)->ay.n, p->wo = glnn_pooling2d_prep_of(&pl->base)->ax.n;
    p->pad_top = glnn_pooling2d_prep_of(&pl->base)->ay.before,
    p->pad_left = glnn_pooling2d_prep_of(&pl->base)->ax.before;
    /* q = ⌊(2S + A)/(2A)⌋ by a multiply and a shift: exact while (2S + A)·2A < 2^40 (S ≤ 255·A, A = k²). */
    const uint64_t area = (uint64_t)p->k * (uint64_t)p->k;
    p->avg_mul = p->k <= 181 ? ((1ull << 40) + 2 * area - 1) / (2 * area) : 0;
    *out = p;
    return GLNN_OK;
}

void glnn_cpu_pooling2d_plan_run(const glnn_cpu_pooling2d_plan *p, glnn_cpu_pool *pool, const uint8_t *in,
                                 uint8_t *out) {
    run_rows(pool, ROWS_POOLING, p, in, out, p->ho, p->wo * p->c * (p->k > 1 ? p->k : 1));
}

void glnn_cpu_pooling2d_plan_free(glnn_cpu_pooling2d_plan *p) {
    free(p);
}

/* ---- ImageSampler --------------------------------------------------------------------------------------- */

void glnn_cpu_image_sampler_plan_free(glnn_cpu_image_sampler_plan *p) {
    if (!p) return;
    free(p->x0);
    free(p->x1);
    free(p->y0);
    free(p->y1);
    free(p->fx);
    free(p->fy);
    free(p->x0_32);
    free(p->x1_32);
    free(p);
}

/* Byte offset of the unrotated pixel under rotated pixel (xr, yr). */
static int64_t offset(const glnn_image_sampler *s, int64_t xr, int64_t yr) {
    int64_t xs, ys;
    glnn_sampler_unrotate(s->p.rotation, glnn_image_sampler_prep_of(&s->base)->in_shape.w,
                          glnn_image_sampler_prep_of(&s->base)->in_shape.h, xr, yr, &xs, &ys);
    return (ys * glnn_image_sampler_prep_of(&s->base)->in_shape.w + xs) * 3;
}

glnn_status glnn_cpu_image_sampler_plan_create(const glnn_image_sampler *s, glnn_cpu_isa isa,
                                               glnn_cpu_image_sampler_plan **out, glnn_error *err) {
    if (!s || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU ImageSampler plan: no operation or output handle");
    if (!s->base.prep || !glnn_image_sampler_prep_of(&s->base)->tx || !glnn_image_sampler_prep_of(&s->base)->ty)
        return glnn_fail(err, GLNN_ERR_STATE, "CPU ImageSampler plan of '%s': the operation is not prepared",
                         s->base.name);
    const glnn_cpu_kernels *k = kernels(isa, "ImageSampler", s->base.name, err);
    if (!k) return err ? err->status : GLNN_ERR_DEVICE;
    glnn_cpu_image_sampler_plan *p = calloc(1, sizeof *p);
    const int64_t wo = s->p.output_width, ho = s->p.output_height;
    if (p) {
        p->x0 = malloc((size_t)wo * sizeof(int64_t));
        p->x1 = malloc((size_t)wo * sizeof(int64_t));
        p->fx = malloc((size_t)wo * sizeof(float));
        p->y0 = malloc((size_t)ho * sizeof(int64_t));
        p->y1 = malloc((size_t)ho * sizeof(int64_t));
        p->fy = malloc((size_t)ho * sizeof(float));
    }
    if (!p || !p->x0 || !p->x1 || !p->fx || !p->y0 || !p->y1 || !p->fy) {
        glnn_cpu_image_sampler_plan_free(p);
        return glnn_fail(err, GLNN_ERR_MEMORY, "CPU ImageSampler plan of '%s': out of memory", s->base.name);
    }
    p->kern = k;
    p->linear = s->p.linear_interp;
    p->h = glnn_image_sampler_prep_of(&s->base)->in_shape.h, p->w = glnn_image_sampler_prep_of(&s->base)->in_shape.w,
    p->ho = ho, p->wo = wo;
    /* offset(xr, yr) = offset(xr, 0) + offset(0, yr) − offset(0, 0) for every rotation. */
    const int64_t o00 = offset(s, 0, 0);
    for (int64_t x = 0; x < wo; x++) {
        p->x0[x] = offset(s, glnn_image_sampler_prep_of(&s->base)->tx[x].i0, 0) - o00;
        p->x1[x] = offset(s, glnn_image_sampler_prep_of(&s->base)->tx[x].i1, 0) - o00;
        p->fx[x] = (float)glnn_image_sampler_prep_of(&s->base)->tx[x].f;
    }
    p->max_x = 0;
    for (int64_t x = 0; x < wo; x++) {
        p->max_x = p->x0[x] > p->max_x ? p->x0[x] : p->max_x;
        p->max_x = p->x1[x] > p->max_x ? p->x1[x] : p->max_x;
    }
    if (p->h * p->w * 3 + 64 < INT32_MAX) { /* gathers of 32-bit offsets (kernels_avx512.c); optional */
        p->x0_32 = malloc((size_t)wo * sizeof(int32_t));
        p->x1_32 = malloc((size_t)wo * sizeof(int32_t));
        if (!p->x0_32 || !p->x1_32) {
            free(p->x0_32), free(p->x1_32);
            p->x0_32 = p->x1_32 = NULL;
        }
        for (int64_t x = 0; p->x0_32 && x < wo; x++)
            p->x0_32[x] = (int32_t)p->x0[x], p->x1_32[x] = (int32_t)p->x1[x];
    }
    for (int64_t y = 0; y < ho; y++) {
        p->y0[y] = offset(s, 0, glnn_image_sampler_prep_of(&s->base)->ty[y].i0);
        p->y1[y] = offset(s, 0, glnn_image_sampler_prep_of(&s->base)->ty[y].i1);
        p->fy[y] = (float)glnn_image_sampler_prep_of(&s->base)->ty[y].f;
    }
    *out = p;
    return GLNN_OK;
}

void glnn_cpu_image_sampler_plan_run(const glnn_cpu_image_sampler_plan *p, glnn_cpu_pool *pool, const uint8_t *in,
                                     uint8_t *out) {
    run_rows(pool, ROWS_SAMPLER, p, in, out, p->ho, p->wo * 3 * (p->linear ? 8 : 1));
}

/* ---- Upsampling2D --------------------------------------------------------------------------------------- */

void glnn_cpu_upsampling2d_plan_free(glnn_cpu_upsampling2d_plan *p) {
    if (!p) return;
    free(p->i0);
    free(p->i1);
    free(p->f);
    free(p->j0);
    free(p->j1);
    free(p->g);
    free(p);
}

/* SPEC §5.5 along one axis of n input positions: output j samples p = (j + 0.5)/f − 0.5 clamped to
 * [0, n − 1], neighbours ⌊p⌋ and ⌊p⌋ + 1 (clamped), weight p − ⌊p⌋ on the second. */
static void bilinear_axis(int64_t n, int f, int64_t *i0, int64_t *i1, float *w) {
    for (int64_t j = 0; j < n * f; j++) {
        double p = ((double)j + 0.5) / f - 0.5;
        p = p < 0 ? 0 : p > (double)(n - 1) ? (double)(n - 1) : p;
        const double a = floor(p);
        i0[j] = (int64_t)a;
        i1[j] = i0[j] + 1 < n ? i0[j] + 1 : n - 1;
        w[j] = (float)(p - a);
    }
}

glnn_status glnn_cpu_upsampling2d_plan_create(const glnn_cpu_upsampling2d_params *params, glnn_cpu_isa isa,
                                              glnn_cpu_upsampling2d_plan **out, glnn_error *err) {
    if (!params || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Upsampling2D plan: no parameters or output");
    const glnn_cpu_upsampling2d_params q = *params;
    if (q.factor < 2 || q.factor > 16)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Upsampling2D plan: factor must be 2 to 16, got %d", q.factor);
    if (q.h < 1 || q.w < 1 || q.c < 4 || q.c % 4 != 0)
        return glnn_fail(
            err, GLNN_ERR_ARGUMENT,
            "CPU Upsampling2D plan: input must be H×W×C with C a positive multiple of 4, got %lld×%lld×%lld",
            (long long)q.h, (long long)q.w, (long long)q.c);
    const glnn_cpu_kernels *k = kernels(isa, "Upsampling2D", "upsampling2d", err);
    if (!k) return err ? err->status : GLNN_ERR_DEVICE;
    glnn_cpu_upsampling2d_plan *p = calloc(1, sizeof *p);
    if (!p) return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Upsampling2D plan: out of memory");
    p->kern = k;
    p->p = q;
    if (q.bilinear) {
        const size_t wo = (size_t)(q.w * q.factor), ho = (size_t)(q.h * q.factor);
        p->i0 = malloc(wo * sizeof(int64_t));
        p->i1 = malloc(wo * sizeof(int64_t));
        p->f = malloc(wo * sizeof(float));
        p->j0 = malloc(ho * sizeof(int64_t));
        p->j1 = malloc(ho * sizeof(int64_t));
        p->g = malloc(ho * sizeof(float));
        if (!p->i0 || !p->i1 || !p->f || !p->j0 || !p->j1 || !p->g) {
            glnn_cpu_upsampling2d_plan_free(p);
            return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Upsampling2D plan: out of memory");
        }
        bilinear_axis(q.w, q.factor, p->i0, p->i1, p->f);
        bilinear_axis(q.h, q.factor, p->j0, p->j1, p->g);
    }
    *out = p;
    return GLNN_OK;
}

void glnn_cpu_upsampling2d_plan_run(const glnn_cpu_upsampling2d_plan *p, glnn_cpu_pool *pool, const uint8_t *in,
                                    uint8_t *out) {
    const int64_t ho = p->p.h * p->p.factor, row = p->p.w * p->p.factor * p->p.c;
    run_rows(pool, ROWS_UPSAMPLING, p, in, out, ho, p->p.bilinear ? row * 4 : row);
}
