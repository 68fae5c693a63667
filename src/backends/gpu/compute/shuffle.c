/* Channel shuffle of a connection (SPEC §6) on the GPU. */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"

#include <stdio.h>

glnn_status glnn_gpu_shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_shuffle(ctx, in, n, out, err);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    char defines[64];
    snprintf(defines, sizeof defines, "#define STEP %d\n", n);
    GLuint prog;
    s = glnn_gpu_program(ctx->gpu, "shuffle", defines, &prog, err);
    if (s != GLNN_OK) return s;
    int64_t quads = in->shape.c / 4, total = in->shape.h * in->shape.w * quads;
    glUseProgram(prog);
    glUniform1i(glGetUniformLocation(prog, "u_quads"), (GLint)quads);
    glUniform1i(glGetUniformLocation(prog, "u_total"), (GLint)total);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, in->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, out->buffer);
    return glnn_gpu_dispatch(ctx->gpu, total, 1, 1, 64, 1, 1, "channel shuffle", err);
}
