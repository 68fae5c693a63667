/* Upsampling2D on the compute path: one invocation per output quad; the bilinear taps of the op's preparation
 * uploaded once. */
#include "backends/gpu/compute/compute.h"
#include "ops/upsampling2d.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct upsampling_state {
    GLuint taps, program;
} upsampling_state;

static void release(glnn_context *ctx, void *state) {
    upsampling_state *st = state;
    glnn_gpu_free_state(ctx, st, &st->taps, 1, NULL, 0);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_upsampling2d_params *p = &glnn_upsampling2d_of(op)->p;
    const glnn_upsampling2d_prep *pp = glnn_upsampling2d_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, ": prepare");
    upsampling_state *st = calloc(1, sizeof *st);
    *state = st;
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    /* Bilinear: the taps; nearest: one unused tap, since a buffer is never empty. */
    const glnn_sampler_tap none = {0, 0, 0.0};
    const bool bilinear = pp->tx != NULL;
    glnn_status s = bilinear
                        ? glnn_compute_taps(gpu, pp->tx, op->out_shape.w, pp->ty, op->out_shape.h, &st->taps, what, err)
                        : glnn_compute_taps(gpu, &none, 1, NULL, 0, &st->taps, what, err);
    char defines[64];
    snprintf(defines, sizeof defines, "#define FACTOR %d\n#define BILINEAR %d\n", p->factor, bilinear ? 1 : 0);
    if (s == GLNN_OK) s = glnn_gpu_program(gpu, GLNN_SHADER_UPSAMPLING2D, defines, &st->program, err);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_shape is = glnn_upsampling2d_prep_of(op)->in_shape, os = op->out_shape;
    const upsampling_state *st = state;
    GLNN_OP_WHAT(op, "");
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
