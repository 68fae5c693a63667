/* Dense on the compute path: the matrix is uploaded transposed once at preparation; one invocation per
 * output. */
#include "backends/gpu/compute/compute.h"
#include "ops/dense.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct dense_state {
    GLuint matrix, bias, program;
} dense_state;

static void release(glnn_context *ctx, void *state) {
    dense_state *st = state;
    glnn_gpu_free_state(ctx, st, (const GLuint[]){st->matrix, st->bias}, 2, NULL, 0);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_dense_prep *d = glnn_dense_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, ": prepare");
    const int64_t n_in = d->n_in, n_out = glnn_dense_of(op)->p.num_output_dims, n = n_in * n_out;
    if (n * 4 > gpu->max_ssbo_size)
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: the %lld×%lld matrix (%lld bytes) exceeds the device's storage block limit of %d", what,
                         (long long)n_out, (long long)n_in, (long long)n * 4, gpu->max_ssbo_size);
    dense_state *st = calloc(1, sizeof *st);
    float *t = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    *state = st;
    if (!st || !t) {
        free(t);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    for (int64_t o = 0; o < n_out; o++)
        for (int64_t i = 0; i < n_in; i++)
            t[i * n_out + o] = d->matrix[o * n_in + i];
    glnn_status s = glnn_gpu_buffer_create(n * 4, t, &st->matrix, what, err);
    free(t);
    if (s == GLNN_OK) s = glnn_gpu_buffer_create(n_out * 4, d->bias, &st->bias, what, err);
    if (s == GLNN_OK)
        s = glnn_gpu_program(gpu, GLNN_SHADER_DENSE,
                             d->vector_input ? "#define VECTOR_INPUT 1\n" : "#define VECTOR_INPUT 0\n", &st->program,
                             err);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const dense_state *st = state;
    const int n_out = glnn_dense_of(op)->p.num_output_dims;
    GLNN_OP_WHAT(op, "");
    GLuint prog = st->program;
    glUseProgram(prog);
    glUniform1i(glGetUniformLocation(prog, "u_n_in"), (GLint)glnn_dense_prep_of(op)->n_in);
    glUniform1i(glGetUniformLocation(prog, "u_n_out"), (GLint)n_out);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, st->matrix);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, st->bias);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 3, output->buffer);
    glnn_status s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;
    return glnn_gpu_dispatch(glnn_gpu_of(ctx), n_out, 1, 1, 64, 1, 1, what, err);
}

const glnn_op_impl glnn_compute_dense = {.prepare = prepare, .run = run, .release = release};
