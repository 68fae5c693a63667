/* ImageSampler on the compute path: the taps computed at preparation are uploaded once; one invocation per output
 * pixel, reading the image and the taps through texture buffer views where the device has them and they fit
 * (else as storage buffers). */
#include "backends/gpu/compute/compute.h"
#include "ops/image_sampler.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sampler_state {
    GLuint taps, program;
    GLuint textures[2]; /* texture buffer views of the input and the taps; 0 without them */
} sampler_state;

void glnn_image_sampler_force_storage_buffers(glnn_op *op, bool on) {
    if (glnn_op_is(op, &glnn_image_sampler_class)) op->kernel_hint = on ? 1 : -1;
}

static void release(glnn_context *ctx, void *state) {
    sampler_state *st = state;
    glnn_gpu_free_state(ctx, st, &st->taps, 1, st->textures, 2);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, ": prepare");
    const int64_t wo = p->output_width, ho = p->output_height, n = wo + ho;
    if (sm->in_shape.w > INT32_MAX || sm->in_shape.h > INT32_MAX)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's limits", what);
    sampler_state *st = calloc(1, sizeof *st);
    *state = st;
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    glnn_status s = glnn_compute_taps(gpu, sm->tx, wo, sm->ty, ho, &st->taps, what, err);
    /* Texture buffer views unless the op asks for storage buffers (kernel hint 1, tests). */
    const bool views = s == GLNN_OK && op->kernel_hint != 1 && glnn_gpu_texture_buffers(gpu) &&
                       n <= gpu->max_texture_buffer_size &&
                       sm->in_shape.h * sm->in_shape.w <= gpu->max_texture_buffer_size;
    if (views) {
        glGenTextures(2, st->textures);
        glnn_gpu_buffer_view(gpu, 1, st->textures[1], GL_RGBA32I, st->taps);
        s = glnn_gpu_check(what, err);
    }
    char defines[128];
    snprintf(defines, sizeof defines, "#define LINEAR %d\n#define ROTATION %d\n#define TEXEL_FETCH %d\n",
             p->linear_interp ? 1 : 0, p->rotation & 3, views ? 1 : 0);
    if (s == GLNN_OK) s = glnn_gpu_program(gpu, GLNN_SHADER_IMAGE_SAMPLER, defines, &st->program, err);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    const sampler_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    GLuint prog = st->program;
    glUseProgram(prog);
    glUniform2i(glGetUniformLocation(prog, "u_in"), (GLint)sm->in_shape.w, (GLint)sm->in_shape.h);
    glUniform2i(glGetUniformLocation(prog, "u_out"), (GLint)p->output_width, (GLint)p->output_height);
    const bool views = st->textures[0] != 0;
    if (views) {
        glnn_gpu_buffer_view(gpu, 0, st->textures[0], GL_R32UI, inputs[0]->buffer);
        glnn_gpu_bind_view(1, st->textures[1]); /* the taps' view, made at preparation */
    } else {
        glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
        glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, st->taps);
    }
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, output->buffer);
    glnn_status s = glnn_gpu_check(what, err);
    if (s == GLNN_OK) s = glnn_gpu_dispatch(gpu, p->output_width, p->output_height, 1, 8, 8, 1, what, err);
    /* The view lets go of the input, which may be freed before this op runs again. */
    if (views) glnn_gpu_buffer_view(gpu, 0, st->textures[0], GL_R32UI, 0);
    return s;
}

const glnn_op_impl glnn_compute_image_sampler = {.prepare = prepare, .run = run, .release = release};
