/* Pooling2D on the GPU: one compute program per operator, size, stride and work group shape. */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"
#include "ops/pooling2d.h"

#include <stdio.h>

glnn_status glnn_gpu_pooling2d_prepare(glnn_pooling2d *pl, glnn_context *ctx, glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_pooling2d_prepare(pl, ctx, err);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    /* 64 invocations per group, over the output pixels first (up to 8×8), then over the quads, so that
     * global pooling (1×1 output) still fills its groups. */
    int x = 1, y = 1, z = 1;
    while (x < 8 && x < pl->ax.n)
        x *= 2;
    while (y < 8 && y < pl->ay.n)
        y *= 2;
    while (x * y * z < 64 && z < pl->in_shape.c / 4)
        z *= 2;
    char defines[256];
    snprintf(defines, sizeof defines,
             "#define KSIZE %d\n#define STRIDE %d\n#define IS_MAX %d\n#define LX %d\n#define LY %d\n#define LZ %d\n",
             pl->p.size, pl->stride, pl->p.op == GLNN_POOLING_MAX ? 1 : 0, x, y, z);
    GLuint prog;
    s = glnn_gpu_program(ctx->gpu, "pooling2d", defines, &prog, err);
    if (s != GLNN_OK) return s;
    pl->gpu_program = prog;
    pl->group[0] = x;
    pl->group[1] = y;
    pl->group[2] = z;
    return GLNN_OK;
}

glnn_status glnn_gpu_pooling2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                               glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_pooling2d(op, ctx, inputs, output, err);
    glnn_pooling2d *pl = (glnn_pooling2d *)op;
    char what[300];
    snprintf(what, sizeof what, "Pooling2D '%s'", op->name);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    GLuint prog = pl->gpu_program;
    const int64_t quads = pl->in_shape.c / 4;
    glUseProgram(prog);
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)pl->in_shape.w, (GLint)pl->in_shape.h, (GLint)quads);
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)pl->ax.n, (GLint)pl->ay.n, (GLint)quads);
    glUniform2i(glGetUniformLocation(prog, "u_pad"), (GLint)pl->ax.before, (GLint)pl->ay.before);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, output->buffer);
    s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;
    return glnn_gpu_dispatch(ctx->gpu, pl->ax.n, pl->ay.n, quads, pl->group[0], pl->group[1], pl->group[2], what, err);
}
