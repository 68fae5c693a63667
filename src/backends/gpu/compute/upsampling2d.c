/* Upsampling2D on the compute path: one invocation per output quad; bilinear taps (ops/upsampling2d.h, the one
 * definition of the sampling positions) uploaded once at preparation. */
#include "backends/gpu/compute/compute.h"
#include "ops/upsampling2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct upsampling_state {
    GLuint taps, program;
} upsampling_state;

static void release(glnn_context *ctx, void *state) {
    upsampling_state *st = state;
    if (glnn_gpu_make_current(glnn_gpu_of(ctx), NULL) == GLNN_OK) glnn_gpu_buffer_free(st->taps);
    free(st);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_upsampling2d_params *p = &glnn_upsampling2d_of(op)->p;
    const glnn_shape is = glnn_upsampling2d_prep_of(op)->in_shape;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char what[300];
    snprintf(what, sizeof what, "Upsampling2D '%s': prepare", op->name);
    const bool bilinear = p->interpolation == GLNN_INTERPOLATION_BILINEAR;
    /* One tap per output column, then per output row (one unused tap for nearest: a buffer is never empty). */
    const int64_t wo = is.w * p->factor, n = bilinear ? wo + is.h * p->factor : 1;
    if (n * 16 > gpu->max_ssbo_size || wo > INT32_MAX)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's limits", what);
    upsampling_state *st = calloc(1, sizeof *st);
    int32_t *t = calloc((size_t)n * 4, sizeof(int32_t));
    if (!st || !t) {
        free(st);
        free(t);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    for (int64_t j = 0; bilinear && j < n; j++) {
        int64_t i0, i1;
        float w;
        glnn_upsampling2d_tap(j < wo ? j : j - wo, p->factor, j < wo ? is.w : is.h, &i0, &i1, &w);
        t[4 * j] = (int32_t)i0;
        t[4 * j + 1] = (int32_t)i1;
        memcpy(&t[4 * j + 2], &w, 4);
    }
    glnn_status s = glnn_gpu_buffer_create(n * 16, t, &st->taps, what, err);
    free(t);
    char defines[64];
    snprintf(defines, sizeof defines, "#define FACTOR %d\n#define BILINEAR %d\n", p->factor, bilinear ? 1 : 0);
    if (s == GLNN_OK) s = glnn_gpu_program(gpu, GLNN_SHADER_UPSAMPLING2D, defines, &st->program, err);
    if (s != GLNN_OK) {
        release(ctx, st);
        return s;
    }
    *state = st;
    return GLNN_OK;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_shape is = glnn_upsampling2d_prep_of(op)->in_shape, os = op->out_shape;
    const upsampling_state *st = state;
    char what[300];
    snprintf(what, sizeof what, "Upsampling2D '%s'", op->name);
    GLuint prog = st->program;
    glUseProgram(prog);
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)is.w, (GLint)is.h, (GLint)(is.c / 4));
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)os.w, (GLint)os.h, (GLint)(os.c / 4));
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, st->taps);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, output->buffer);
    glnn_status s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;
    return glnn_gpu_dispatch(glnn_gpu_of(ctx), os.w, os.h, os.c / 4, 8, 8, 1, what, err);
}

const glnn_op_impl glnn_compute_upsampling2d = {.prepare = prepare, .run = run, .release = release};
