/* Dense on the fragment path (shaders/frag_dense.glsl): one fragment per output, the matrix and bias in a
 * byte-plane texture. */
#include "backends/gpu/fragment/frag.h"
#include "ops/dense.h"

#include <stdio.h>
#include <stdlib.h>

/* Groups of four floats per output: the row of the matrix (padded to a multiple of 4), then the bias. */
static int64_t dense_groups(const glnn_dense_prep *d) {
    return (d->n_in + 3) / 4 + 1;
}

typedef struct frag_dense_state {
    GLuint matrix, program;
} frag_dense_state;

static void release(glnn_context *ctx, void *state) {
    frag_dense_state *st = state;
    glnn_gpu_free_state(ctx, st, NULL, 0, &st->matrix, 1);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_dense_prep *d = glnn_dense_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, ": prepare");
    const int64_t n_in = d->n_in, n_out = glnn_dense_of(op)->p.num_output_dims, groups = dense_groups(d);
    glnn_frag_weights w;
    glnn_frag_layout out;
    glnn_status s = glnn_frag_weights_layout(gpu, n_out, groups, &w, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_out}, &out, what, err);
    if (s != GLNN_OK) return s;
    frag_dense_state *st = calloc(1, sizeof *st);
    float *v = calloc((size_t)(n_out * groups * 4), sizeof(float));
    *state = st;
    if (!st || !v) {
        free(v);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++)
            v[o * groups * 4 + i] = d->matrix[o * n_in + i];
        v[(o * groups + groups - 1) * 4] = d->bias[o];
    }
    s = glnn_frag_weights_create(gpu, v, n_out, groups, &st->matrix, what, err);
    free(v);
    char defines[128];
    snprintf(defines, sizeof defines, "#define VECTOR_INPUT %d\n#define MAX_ITERATIONS %lld\n", d->vector_input ? 1 : 0,
             (long long)glnn_frag_round_up(groups - 1, 256));
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_DENSE, defines, &st->program, err);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_dense_prep *d = glnn_dense_prep_of(op);
    const frag_dense_state *st = state;
    const int n_out = glnn_dense_of(op)->p.num_output_dims;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const GLuint prog = st->program;
    glnn_frag_layout in, out;
    glnn_frag_weights w;
    glnn_status s = glnn_frag_weights_layout(gpu, n_out, dense_groups(d), &w, what, err);
    if (s == GLNN_OK) s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glnn_frag_set_weights_layout(prog, &w);
    glUniform3f(glGetUniformLocation(prog, "u_out"), (float)out.width, (float)n_out, (float)(dense_groups(d) - 1));
    glnn_frag_bind_texture(prog, "u_matrix", 1, st->matrix);
    /* Per output: each group of four inputs (four matrix texels and one quad, or four vector texels), then the
     * bias (four texels). */
    glnn_frag_count(gpu, 1, (int64_t)n_out * ((dense_groups(d) - 1) * (d->vector_input ? 8 : 5) + 4));
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_dense = {.prepare = prepare, .run = run, .release = release};
