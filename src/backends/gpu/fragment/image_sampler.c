/* ImageSampler on the fragment path (shaders/frag_image_sampler.glsl): the taps computed at preparation in a
 * texture (16-bit indices, float32 weights as bytes); one draw over the output. */
#include "backends/gpu/fragment/frag.h"
#include "ops/image_sampler.h"

#include <stdio.h>
#include <stdlib.h>

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_image_sampler_params *p = &glnn_image_sampler_of(op)->p;
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    GLNN_OP_WHAT(op, ": prepare");
    char defines[64];
    snprintf(defines, sizeof defines, "#define LINEAR %d\n#define ROTATION %d\n", p->linear_interp ? 1 : 0,
             p->rotation);
    return glnn_frag_taps_prepare(glnn_gpu_of(ctx), sm->tx, p->output_width, sm->ty, p->output_height, sm->in_shape.w,
                                  sm->in_shape.h, GLNN_SHADER_FRAG_IMAGE_SAMPLER, defines, state, what, err);
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_image_sampler_prep *sm = glnn_image_sampler_prep_of(op);
    const glnn_frag_taps_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const GLuint prog = st->program;
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glUniform2f(glGetUniformLocation(prog, "u_in"), (float)sm->in_shape.w, (float)sm->in_shape.h);
    glnn_frag_taps_bind(prog, st, 0);
    /* Per output pixel: the x and y taps, then one pixel (nearest) or the two weights and four pixels. */
    glnn_frag_count(gpu, 1, out.width * out.height * (glnn_image_sampler_of(op)->p.linear_interp ? 8 : 3));
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_image_sampler = {.prepare = prepare, .run = run, .release = glnn_frag_taps_release};
