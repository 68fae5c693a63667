/* Pooling2D on the compute path: one program per operator, size, stride and work group shape. */
#include "backends/gpu/compute/compute.h"
#include "ops/pooling2d.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct pool_state {
    GLuint program; /* the context's cache owns it */
    int group[3];   /* its work group shape */
} pool_state;

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_pooling2d *pl = glnn_pooling2d_of(op);
    const glnn_pooling2d_prep *pp = glnn_pooling2d_prep_of(op);
    /* 64 invocations per group, over the output pixels first (up to 8×8), then over the quads, so that
     * global pooling (1×1 output) still fills its groups. */
    int x = 1, y = 1, z = 1;
    while (x < 8 && x < pp->ax.n)
        x *= 2;
    while (y < 8 && y < pp->ay.n)
        y *= 2;
    while (x * y * z < 64 && z < pp->in_shape.c / 4)
        z *= 2;
    char defines[256];
    snprintf(defines, sizeof defines,
             "#define KSIZE %d\n#define STRIDE %d\n#define IS_MAX %d\n#define LX %d\n#define LY %d\n#define LZ %d\n",
             pl->p.size, pl->stride, pl->p.op == GLNN_POOLING_MAX ? 1 : 0, x, y, z);
    pool_state *st = calloc(1, sizeof *st);
    *state = st;
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "Pooling2D '%s': out of memory", op->name);
    glnn_status s = glnn_gpu_program(glnn_gpu_of(ctx), GLNN_SHADER_POOLING2D, defines, &st->program, err);
    if (s != GLNN_OK) return s;
    st->group[0] = x;
    st->group[1] = y;
    st->group[2] = z;
    return GLNN_OK;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_pooling2d_prep *pp = glnn_pooling2d_prep_of(op);
    const pool_state *st = state;
    GLNN_OP_WHAT(op, "");
    GLuint prog = st->program;
    const int64_t quads = pp->in_shape.c / 4;
    glUseProgram(prog);
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)pp->in_shape.w, (GLint)pp->in_shape.h, (GLint)quads);
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)pp->ax.n, (GLint)pp->ay.n, (GLint)quads);
    glUniform2i(glGetUniformLocation(prog, "u_pad"), (GLint)pp->ax.before, (GLint)pp->ay.before);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, output->buffer);
    glnn_status s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;
    return glnn_gpu_dispatch(glnn_gpu_of(ctx), pp->ax.n, pp->ay.n, quads, st->group[0], st->group[1], st->group[2],
                             what, err);
}

const glnn_op_impl glnn_compute_pooling2d = {.prepare = prepare, .run = run, .release = glnn_gpu_release_state};
