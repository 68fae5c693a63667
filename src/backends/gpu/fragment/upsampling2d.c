/* Upsampling2D on the fragment path (shaders/frag_upsampling2d.glsl): one draw over the output; bilinear taps
 * (ops/upsampling2d.h, the one definition of the sampling positions) in a texture laid out as ImageSampler's. */
#include "backends/gpu/fragment/frag.h"
#include "ops/upsampling2d.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct frag_upsampling_state {
    GLuint taps, program;
    int64_t taps_width;
} frag_upsampling_state;

static void release(glnn_context *ctx, void *state) {
    frag_upsampling_state *st = state;
    if (st->taps && glnn_gpu_make_current(glnn_gpu_of(ctx), NULL) == GLNN_OK) glnn_frag_texture_free(st->taps);
    free(st);
}

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_upsampling2d_params *p = &glnn_upsampling2d_of(op)->p;
    const glnn_shape is = glnn_upsampling2d_prep_of(op)->in_shape;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char what[300];
    snprintf(what, sizeof what, "Upsampling2D '%s': prepare", op->name);
    const bool bilinear = p->interpolation == GLNN_INTERPOLATION_BILINEAR;
    const int64_t wo = is.w * p->factor, ho = is.h * p->factor, n = wo > ho ? wo : ho;
    frag_upsampling_state *st = calloc(1, sizeof *st);
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    glnn_status s = GLNN_OK;
    if (bilinear) {
        /* Rows 0 and 1: x taps (i0, i1 as 16-bit integers) and weights (float32); rows 2 and 3: y. */
        uint8_t *t = n <= gpu->frag->max_size && is.w <= 65535 && is.h <= 65535 ? calloc((size_t)n * 4, 4) : NULL;
        if (!t) {
            free(st);
            return n > gpu->frag->max_size || is.w > 65535 || is.h > 65535
                       ? glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's texture size limit of %d",
                                   what, gpu->frag->max_size)
                       : glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
        }
        for (int axis = 0; axis < 2; axis++)
            for (int64_t j = 0; j < (axis ? ho : wo); j++) {
                int64_t i0, i1;
                float w;
                glnn_upsampling2d_tap(j, p->factor, axis ? is.h : is.w, &i0, &i1, &w);
                uint8_t *idx = t + ((2 * axis) * n + j) * 4;
                idx[0] = (uint8_t)(i0 & 0xFF);
                idx[1] = (uint8_t)(i0 >> 8);
                idx[2] = (uint8_t)(i1 & 0xFF);
                idx[3] = (uint8_t)(i1 >> 8);
                glnn_frag_float_bytes(w, t + ((2 * axis + 1) * n + j) * 4);
            }
        s = glnn_frag_texture_create(n, 4, t, &st->taps, what, err);
        free(t);
        st->taps_width = n;
    }
    char defines[64];
    snprintf(defines, sizeof defines, "#define BILINEAR %d\n", bilinear ? 1 : 0);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_UPSAMPLING2D, defines, &st->program, err);
    if (s != GLNN_OK) {
        release(ctx, st);
        return s;
    }
    *state = st;
    return GLNN_OK;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const frag_upsampling_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char what[300];
    snprintf(what, sizeof what, "Upsampling2D '%s'", op->name);
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s != GLNN_OK) return s;
    GLuint prog = st->program;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u_in", &in);
    glnn_frag_set_layout(prog, "u_out", &out);
    glUniform1f(glGetUniformLocation(prog, "u_factor"), (float)glnn_upsampling2d_of(op)->p.factor);
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    if (st->taps) {
        glUniform2f(glGetUniformLocation(prog, "u_taps_scale"), 1.0f / (float)st->taps_width, 0.25f);
        glnn_frag_bind_texture(prog, "u_taps", 1, st->taps);
    } else {
        glnn_frag_bind_texture(prog, "u_taps", 1, inputs[0]->texture); /* unread; the unit holds a valid texture */
    }
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_upsampling2d = {.prepare = prepare, .run = run, .release = release};
