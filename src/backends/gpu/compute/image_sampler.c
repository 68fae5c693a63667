/* ImageSampler on the GPU: the taps computed at preparation are uploaded once; one invocation per output
 * pixel, reading the image and the taps through texture buffer views where the device has them and they
 * fit (else as storage buffers). */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"
#include "ops/image_sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void glnn_image_sampler_force_storage_buffers(glnn_op *op, bool on) {
    if (op && glnn_op_get_kind(op) == GLNN_OP_IMAGE_SAMPLER) ((glnn_image_sampler *)op)->gpu_storage_only = on;
}

glnn_status glnn_gpu_image_sampler_prepare(glnn_image_sampler *sm, glnn_context *ctx, glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_image_sampler_prepare(sm, ctx, err);
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s': prepare", sm->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    const int64_t wo = sm->p.output_width, ho = sm->p.output_height, n = wo + ho;
    if (sm->in_shape.w > INT32_MAX || sm->in_shape.h > INT32_MAX || n * 16 > gpu->max_ssbo_size)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's limits", what);
    int32_t *t = malloc((size_t)n * 4 * sizeof(int32_t));
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t j = 0; j < n; j++) {
        const glnn_sampler_tap *tap = j < wo ? &sm->tx[j] : &sm->ty[j - wo];
        const float f = (float)tap->f;
        t[4 * j] = (int32_t)tap->i0;
        t[4 * j + 1] = (int32_t)tap->i1;
        memcpy(&t[4 * j + 2], &f, 4);
        t[4 * j + 3] = 0;
    }
    s = glnn_gpu_buffer_create(n * 16, t, &sm->gpu_taps, what, err);
    free(t);
    if (s != GLNN_OK) return s;
    const bool views = !sm->gpu_storage_only && glnn_gpu_texture_buffers(gpu) && n <= gpu->max_texture_buffer_size &&
                       sm->in_shape.h * sm->in_shape.w <= gpu->max_texture_buffer_size;
    if (views) {
        glGenTextures(2, sm->gpu_textures);
        glnn_gpu_buffer_view(gpu, 1, sm->gpu_textures[1], GL_RGBA32I, sm->gpu_taps);
        s = glnn_gpu_check(what, err);
        if (s != GLNN_OK) return s;
    }
    char defines[128];
    snprintf(defines, sizeof defines, "#define LINEAR %d\n#define ROTATION %d\n#define TEXEL_FETCH %d\n",
             sm->p.linear_interp ? 1 : 0, sm->p.rotation & 3, views ? 1 : 0);
    GLuint program;
    s = glnn_gpu_program(gpu, "image_sampler", defines, &program, err);
    if (s != GLNN_OK) return s;
    sm->gpu_program = program;
    return GLNN_OK;
}

void glnn_gpu_image_sampler_release(glnn_image_sampler *sm, glnn_context *ctx) {
    if (!sm->gpu_taps && !sm->gpu_textures[0]) return;
    if (ctx && ctx->gpu && ctx->gpu->fragment) {
        glnn_frag_image_sampler_release(sm, ctx);
        return;
    }
    if (ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK) {
        glDeleteTextures(2, sm->gpu_textures);
        glnn_gpu_buffer_free(sm->gpu_taps);
    }
    sm->gpu_taps = 0;
    sm->gpu_textures[0] = sm->gpu_textures[1] = 0;
}

glnn_status glnn_gpu_image_sampler(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs,
                                   glnn_tensor *output, glnn_error *err) {
    if (ctx->gpu->fragment) return glnn_frag_image_sampler(op, ctx, inputs, output, err);
    glnn_image_sampler *sm = (glnn_image_sampler *)op;
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s'", op->name);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    GLuint prog = sm->gpu_program;
    glUseProgram(prog);
    glUniform2i(glGetUniformLocation(prog, "u_in"), (GLint)sm->in_shape.w, (GLint)sm->in_shape.h);
    glUniform2i(glGetUniformLocation(prog, "u_out"), (GLint)sm->p.output_width, (GLint)sm->p.output_height);
    const bool views = sm->gpu_textures[0] != 0;
    if (views) {
        glnn_gpu_buffer_view(ctx->gpu, 0, sm->gpu_textures[0], GL_R32UI, inputs[0]->buffer);
        glnn_gpu_bind_view(1, sm->gpu_textures[1]); /* the taps' view, made at preparation */
    } else {
        glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
        glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, sm->gpu_taps);
    }
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, output->buffer);
    s = glnn_gpu_check(what, err);
    if (s == GLNN_OK) s = glnn_gpu_dispatch(ctx->gpu, sm->p.output_width, sm->p.output_height, 1, 8, 8, 1, what, err);
    /* The view lets go of the input, which may be freed before this op runs again. */
    if (views) glnn_gpu_buffer_view(ctx->gpu, 0, sm->gpu_textures[0], GL_R32UI, 0);
    return s;
}
