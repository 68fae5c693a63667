/* Upsampling2D on the fragment path (shaders/frag_upsampling2d.glsl): one draw over the output; the bilinear taps
 * of the op's preparation in a texture laid out as ImageSampler's. */
#include "backends/gpu/fragment/frag.h"
#include "ops/upsampling2d.h"

#include <stdio.h>
#include <stdlib.h>

static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_upsampling2d_prep *pp = glnn_upsampling2d_prep_of(op);
    GLNN_OP_WHAT(op, ": prepare");
    return glnn_frag_taps_prepare(glnn_gpu_of(ctx), pp->tx, op->out_shape.w, pp->ty, op->out_shape.h, pp->in_shape.w,
                                  pp->in_shape.h, GLNN_SHADER_FRAG_UPSAMPLING2D,
                                  pp->tx ? "#define BILINEAR 1\n" : "#define BILINEAR 0\n", state, what, err);
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_frag_taps_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const GLuint prog = st->program;
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glnn_frag_set_layout(prog, "u_out", &out);
    glUniform1f(glGetUniformLocation(prog, "u_factor"), (float)glnn_upsampling2d_of(op)->p.factor);
    glnn_frag_taps_bind(prog, st, inputs[0]->texture);
    /* Per output texel: one quad (nearest), or the x and y taps and weights and four quads (bilinear). */
    glnn_frag_count(gpu, 1, out.tile_w * out.tile_h * out.tiles * (st->taps ? 8 : 1));
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_upsampling2d = {.prepare = prepare, .run = run, .release = glnn_frag_taps_release};
