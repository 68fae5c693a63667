/* Dense (SPEC §5.2): description, parameters and their validation, op-level preparation (shapes, matrix and
 * bias), counters. */
#include "ops/dense.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const glnn_param_info params[] = {
    {"num_output_dims", "output_dims", GLNN_PARAM_INT, NULL, true, 0, 0, NULL, "output length, any count from 1"},
    {"use_bias", "use_bias", GLNN_PARAM_BOOL, NULL, false, 1, 1, NULL, "whether the bias chunk '<name>/b' is added"},
};
static const size_t offsets[] = {offsetof(glnn_dense_params, num_output_dims), offsetof(glnn_dense_params, use_bias)};

void glnn_dense_params_init(glnn_dense_params *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->use_bias = true;
}

static glnn_status validate(const void *params, const char *what, glnn_error *err) {
    const glnn_dense_params *p = params;
    if (p->num_output_dims < 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: number of output dims must be positive, got %d", what,
                         p->num_output_dims);
    return GLNN_OK;
}

static void free_prep(void *prep) {
    glnn_dense_prep *pp = prep;
    free(pp->matrix);
    free(pp->bias);
    free(pp);
}

/* Input checks, matrix and bias, counters. */
static glnn_status prepare(const glnn_op *op, glnn_context *ctx, const glnn_input_desc *in, const glnn_chunks *data,
                           const char *what, glnn_prepared *out, glnn_error *err) {
    const glnn_dense *d = glnn_dense_of(op);
    const char *name = op->name;
    const int64_t n_out = d->p.num_output_dims;
    glnn_status s = glnn_op_check_flat_input(op, in, what, err);
    if (s != GLNN_OK) return s;
    glnn_shape is = in[0].shape;
    const int64_t n_in = is.c;
    int64_t n_matrix;
    if (!glnn_mul_i64(n_in, n_out, &n_matrix))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a %lld×%lld matrix is too large", what, (long long)n_out,
                         (long long)n_in);
    char size_what[320];
    snprintf(size_what, sizeof size_what, "%s: output", what);
    out->out_shape = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_out};
    s = glnn_check_tensor_shape(ctx, out->out_shape, size_what, err);
    if (s != GLNN_OK) return s;
    if (n_matrix > (int64_t)(UINT32_MAX / 4))
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: a %lld×%lld matrix is too large for a chunk (at most %lu float32 values)", what,
                         (long long)n_out, (long long)n_in, (unsigned long)(UINT32_MAX / 4));
    if (!data)
        return glnn_fail(err, GLNN_ERR_STATE, "%s: no model data given to read the matrix '%s%s' from", what, name,
                         GLNN_FILTERS_CHUNK_SUFFIX);
    glnn_dense_prep pp = {.n_in = n_in, .vector_input = is.kind == GLNN_KIND_VECTOR};
    s = glnn_op_read_weights(op, data, GLNN_FILTERS_CHUNK_SUFFIX, "matrix", n_matrix, &pp.matrix, err);
    if (s == GLNN_OK && d->p.use_bias)
        s = glnn_op_read_weights(op, data, GLNN_BIAS_CHUNK_SUFFIX, "bias", n_out, &pp.bias, err);
    else if (s == GLNN_OK && !(pp.bias = calloc((size_t)n_out, sizeof(float))))
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (s == GLNN_OK) s = glnn_op_keep_prep(&pp, sizeof pp, out, what, err);
    if (s != GLNN_OK) {
        free(pp.matrix);
        free(pp.bias);
        return s;
    }
    const int64_t out_quads = (n_out + 3) / 4; /* SPEC §5.2 */
    out->multiply_adds = n_matrix;
    out->texel_fetches = n_in * out_quads + n_in / 4 + (d->p.use_bias ? out_quads : 0);
    out->weight_bytes = (n_matrix + n_out) * (int64_t)sizeof(float);
    return GLNN_OK;
}

static bool infer_shape(const glnn_op *op, const glnn_input_desc *in, glnn_shape *out) {
    (void)in;
    *out = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, glnn_dense_of(op)->p.num_output_dims};
    return true;
}

GLNN_OP_DEFINE(dense,
               .info = {
                   GLNN_OP_DENSE, "dense", "Dense", 1, 1, (int)(sizeof params / sizeof params[0]), params, 0,
                   "{num_output_dims} outputs{use_bias? bias}",
                   "Fully connected layer (SPEC §5.2): y = A·x + b in float32, no activation.  Input: a 1×1×N tensor\n"
                   "or another Dense's vector.  Matrix chunk '<name>/w': num_output_dims×N float32, row-major; bias\n"
                   "chunk '<name>/b'.  num_output_dims is any count from 1."})
