/* ImageSampler on the fragment path (shaders/frag_image_sampler.glsl): the taps computed at preparation in a
 * texture (16-bit indices, float32 weights as bytes); one draw over the output. */
#include "backends/gpu/fragment/frag.h"
#include "ops/image_sampler.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct frag_sampler_state {
    GLuint taps, program;
} frag_sampler_state;

static void release(glnn_context *ctx, void *state) {
    frag_sampler_state *st = state;
    if (st->taps && glnn_gpu_make_current(glnn_gpu_of(ctx), NULL) == GLNN_OK) glnn_frag_texture_free(st->taps);
    free(st);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s': prepare", op->name);
    const int64_t wo = p->output_width, ho = p->output_height, n = wo > ho ? wo : ho;
    if (n > gpu->frag->max_size || sm->in_shape.w > 65535 || sm->in_shape.h > 65535)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's texture size limit of %d", what,
                         gpu->frag->max_size);
    /* Rows 0 and 1: x taps (i0, i1 as 16-bit integers) and weights f (float32); rows 2 and 3: y. */
    frag_sampler_state *st = calloc(1, sizeof *st);
    uint8_t *t = calloc((size_t)n * 4, 4);
    if (!st || !t) {
        free(st);
        free(t);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    for (int axis = 0; axis < 2; axis++)
        for (int64_t j = 0; j < (axis ? ho : wo); j++) {
            const glnn_sampler_tap *tap = axis ? &sm->ty[j] : &sm->tx[j];
            uint8_t *idx = t + ((2 * axis) * n + j) * 4;
            idx[0] = (uint8_t)(tap->i0 & 0xFF);
            idx[1] = (uint8_t)(tap->i0 >> 8);
            idx[2] = (uint8_t)(tap->i1 & 0xFF);
            idx[3] = (uint8_t)(tap->i1 >> 8);
            glnn_frag_float_bytes((float)tap->f, t + ((2 * axis + 1) * n + j) * 4);
        }
    glnn_status s = glnn_frag_texture_create(n, 4, t, &st->taps, what, err);
    free(t);
    char defines[64];
    snprintf(defines, sizeof defines, "#define LINEAR %d\n#define ROTATION %d\n", p->linear_interp ? 1 : 0,
             p->rotation);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_IMAGE_SAMPLER, defines, &st->program, err);
    if (s != GLNN_OK) {
        release(ctx, st);
        return s;
    }
    *state = st;
    return GLNN_OK;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    const frag_sampler_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s'", op->name);
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s != GLNN_OK) return s;
    const int64_t n = p->output_width > p->output_height ? p->output_width : p->output_height;
    GLuint prog = st->program;
    glUseProgram(prog);
    glUniform2f(glGetUniformLocation(prog, "u_in"), (float)sm->in_shape.w, (float)sm->in_shape.h);
    glUniform2f(glGetUniformLocation(prog, "u_in_scale"), 1.0f / (float)in.width, 1.0f / (float)in.height);
    glUniform2f(glGetUniformLocation(prog, "u_taps_scale"), 1.0f / (float)n, 0.25f);
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    glnn_frag_bind_texture(prog, "u_taps", 1, st->taps);
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_image_sampler = {.prepare = prepare, .run = run, .release = release};
