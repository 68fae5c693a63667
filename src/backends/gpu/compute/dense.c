/* Dense on the GPU: the matrix is uploaded transposed once at preparation; one invocation per output. */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"
#include "ops/dense.h"

#include <stdio.h>
#include <stdlib.h>

glnn_status glnn_gpu_dense_prepare(glnn_dense *d, glnn_context *ctx, glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_dense_prepare(d, ctx, err);
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Dense '%s': prepare", d->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    const int64_t n_in = d->n_in, n_out = d->p.num_output_dims, n = n_in * n_out;
    if (n * 4 > gpu->max_ssbo_size)
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: the %lld×%lld matrix (%lld bytes) exceeds the device's storage block limit of %d", what,
                         (long long)n_out, (long long)n_in, (long long)n * 4, gpu->max_ssbo_size);
    float *t = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t o = 0; o < n_out; o++)
        for (int64_t i = 0; i < n_in; i++)
            t[i * n_out + o] = d->matrix[o * n_in + i];
    s = glnn_gpu_buffer_create(n * 4, t, &d->gpu_matrix, what, err);
    free(t);
    if (s == GLNN_OK) s = glnn_gpu_buffer_create(n_out * 4, d->bias, &d->gpu_bias, what, err);
    if (s != GLNN_OK) return s;
    GLuint program;
    s = glnn_gpu_program(gpu, "dense", d->vector_input ? "#define VECTOR_INPUT 1\n" : "#define VECTOR_INPUT 0\n",
                         &program, err);
    if (s != GLNN_OK) return s;
    d->gpu_program = program;
    return GLNN_OK;
}

void glnn_gpu_dense_release(glnn_dense *d, glnn_context *ctx) {
    if (!d->gpu_matrix && !d->gpu_bias) return;
    if (ctx && ctx->gpu && ctx->gpu->fragment) {
        glnn_frag_dense_release(d, ctx);
        return;
    }
    if (ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK) {
        glnn_gpu_buffer_free(d->gpu_matrix);
        glnn_gpu_buffer_free(d->gpu_bias);
    }
    d->gpu_matrix = d->gpu_bias = 0;
}

glnn_status glnn_gpu_dense(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                           glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_dense(op, ctx, inputs, output, err);
    glnn_dense *d = (glnn_dense *)op;
    char what[300];
    snprintf(what, sizeof what, "Dense '%s'", op->name);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    GLuint prog = d->gpu_program;
    glUseProgram(prog);
    glUniform1i(glGetUniformLocation(prog, "u_n_in"), (GLint)d->n_in);
    glUniform1i(glGetUniformLocation(prog, "u_n_out"), (GLint)d->p.num_output_dims);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, d->gpu_matrix);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, d->gpu_bias);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 3, output->buffer);
    s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;
    return glnn_gpu_dispatch(ctx->gpu, d->p.num_output_dims, 1, 1, 64, 1, 1, what, err);
}
