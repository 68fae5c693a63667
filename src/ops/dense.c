/* Dense (SPEC §5.2): parameters, validation, preparation (shapes, matrix and bias), counters, listing keys. */
#include "ops/dense.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_dense *as_dense(const glnn_op *op) {
    return (glnn_dense *)op;
}

void glnn_dense_params_init(glnn_dense_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->use_bias = true;
}

static glnn_status validate(const glnn_dense_params *p, glnn_error *err) {
    glnn_status s = glnn_check_op_name("Dense", p->name, err);
    if (s != GLNN_OK) return s;
    if (p->num_output_dims < 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Dense '%s': number of output dims must be positive, got %d", p->name,
                         p->num_output_dims);
    return GLNN_OK;
}

static void release_prepared(glnn_dense *d, glnn_context *ctx) {
    glnn_gpu_dense_release(d, ctx);
    free(d->matrix);
    free(d->bias);
    d->matrix = d->bias = NULL;
}

static void unprepare(glnn_op *op) {
    release_prepared(as_dense(op), op->prepared_ctx);
}

static void destroy(glnn_op *op) {
    free(op);
}

/* Input checks, matrix and bias, counters, GPU resources.  The op changes only on success. */
static glnn_status prepare(glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           glnn_error *err) {
    glnn_dense *d = as_dense(op);
    const char *name = op->name;
    const int64_t n_out = d->p.num_output_dims;
    char what[300];
    snprintf(what, sizeof what, "Dense '%s'", name);
    if (!in[0].present) return glnn_fail(err, GLNN_ERR_STATE, "%s: input #0 of '%s' is not provided", what, name);
    glnn_shape is = in[0].shape;
    if (is.kind == GLNN_KIND_IMAGE)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' expects a 1×1 tensor or a vector on input #0, got an image",
                         what, name);
    if (is.h != 1 || is.w != 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: Dense expects a 1×1×C input, got %lld×%lld×%lld", what,
                         (long long)is.h, (long long)is.w, (long long)is.c);
    const int64_t n_in = is.c;
    int64_t n_matrix;
    if (!glnn_mul_i64(n_in, n_out, &n_matrix))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a %lld×%lld matrix is too large", what, (long long)n_out,
                         (long long)n_in);
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    glnn_status size_s = glnn_check_tensor_shape(ctx, (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_out}, size_what, err);
    if (size_s != GLNN_OK) return size_s;
    if (n_matrix > (int64_t)(UINT32_MAX / 4))
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: a %lld×%lld matrix is too large for a chunk (at most %lu float32 values)", what,
                         (long long)n_out, (long long)n_in, (unsigned long)(UINT32_MAX / 4));
    if (!data)
        return glnn_fail(err, GLNN_ERR_STATE, "%s: no model data given to read the matrix '%s%s' from", what, name,
                         GLNN_FILTERS_CHUNK_SUFFIX);
    float *matrix = NULL, *bias = NULL;
    char chunk_what[320];
    snprintf(chunk_what, sizeof chunk_what, "%s: matrix", what);
    glnn_status s = glnn_chunks_read_floats(data, name, GLNN_FILTERS_CHUNK_SUFFIX, n_matrix, chunk_what, &matrix, err);
    if (s == GLNN_OK && d->p.use_bias) {
        snprintf(chunk_what, sizeof chunk_what, "%s: bias", what);
        s = glnn_chunks_read_floats(data, name, GLNN_BIAS_CHUNK_SUFFIX, n_out, chunk_what, &bias, err);
    } else if (s == GLNN_OK) {
        bias = calloc((size_t)n_out, sizeof(float));
        if (!bias) s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    if (s != GLNN_OK) {
        free(matrix);
        free(bias);
        return s;
    }

    /* Build the new state beside the old one; swap on success. */
    glnn_dense next = *d;
    next.n_in = n_in;
    next.vector_input = is.kind == GLNN_KIND_VECTOR;
    next.matrix = matrix;
    next.bias = bias;
    next.gpu_matrix = next.gpu_bias = next.gpu_program = 0;
    if (ctx->is_gpu) {
        s = glnn_gpu_dense_prepare(&next, ctx, err);
        if (s != GLNN_OK) {
            release_prepared(&next, ctx);
            return s;
        }
    }
    release_prepared(d, op->prepared_ctx);
    d->n_in = next.n_in;
    d->vector_input = next.vector_input;
    d->matrix = next.matrix;
    d->bias = next.bias;
    d->gpu_matrix = next.gpu_matrix;
    d->gpu_bias = next.gpu_bias;
    d->gpu_program = next.gpu_program;
    op->multiply_adds = n_matrix;
    const int64_t out_quads = (n_out + 3) / 4; /* SPEC §5.2 */
    op->texel_fetches = n_in * out_quads + n_in / 4 + (d->p.use_bias ? out_quads : 0);
    op->out_shape = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_out};
    op->prepared = true;
    op->prepared_ctx = ctx;
    return GLNN_OK;
}

static void write_keys(const glnn_op *op, void (*emit)(void *, const char *, const char *), void *user) {
    const glnn_dense_params *p = &as_dense(op)->p;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", p->num_output_dims);
    emit(user, "output_dims", buf);
    emit(user, "use_bias", p->use_bias ? "true" : "false");
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    (void)in;
    *out = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, ((const glnn_dense *)op)->p.num_output_dims};
    return true;
}

static const glnn_op_class dense_class = {
    .kind = GLNN_OP_DENSE,
    .type_name = "dense",
    .input_count = 1,
    .output_count = 1,
    .prepare = prepare,
    .infer_shape = infer_shape,
    .run_cpu = glnn_cpu_dense,
    .run_gpu = glnn_gpu_dense,
    .write_keys = write_keys,
    .unprepare = unprepare,
    .destroy = destroy,
};

glnn_status glnn_dense_create(const glnn_dense_params *p, glnn_op **out, glnn_error *err) {
    if (!p || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create Dense: no parameters or output handle");
    glnn_status s = validate(p, err);
    if (s != GLNN_OK) return s;
    glnn_dense *d = calloc(1, sizeof *d);
    if (!d) return glnn_fail(err, GLNN_ERR_MEMORY, "create Dense '%s': out of memory", p->name);
    s = glnn_op_init(&d->base, &dense_class, p->name, err);
    if (s != GLNN_OK) {
        free(d);
        return s;
    }
    d->p = *p;
    d->p.name = d->base.name;
    *out = &d->base;
    return GLNN_OK;
}

glnn_status glnn_dense_get_params(const glnn_op *op, glnn_dense_params *p, glnn_error *err) {
    if (!op || !p || op->cls != &dense_class)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "Dense parameters: not a Dense operation");
    *p = as_dense(op)->p;
    return GLNN_OK;
}
