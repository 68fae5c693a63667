/* Pooling2D on the fragment path (shaders/frag_pooling2d.glsl): one draw over the whole output. */
#include "backends/gpu/fragment/frag.h"
#include "ops/pooling2d.h"

#include <stdio.h>
#include <stdlib.h>

/* The program: the context's cache owns it, and it is the whole state. */
static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_pooling2d *pl = glnn_pooling2d_of(op);
    char defines[128];
    snprintf(defines, sizeof defines, "#define IS_MAX %d\n#define MAX_ITERATIONS %lld\n",
             pl->p.op == GLNN_POOLING_MAX ? 1 : 0,
             (long long)glnn_frag_round_up((int64_t)pl->p.size * pl->p.size, 256));
    GLuint *prog = malloc(sizeof *prog);
    *state = prog;
    if (!prog) return glnn_fail(err, GLNN_ERR_MEMORY, "Pooling2D '%s': out of memory", op->name);
    return glnn_frag_program(glnn_gpu_of(ctx), GLNN_SHADER_FRAG_POOLING2D, defines, prog, err);
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_pooling2d *pl = glnn_pooling2d_of(op);
    const glnn_pooling2d_prep *pp = glnn_pooling2d_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const GLuint prog = *(const GLuint *)state;
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glnn_frag_set_layout(prog, "u_out", &out);
    glUniform2f(glGetUniformLocation(prog, "u_pad"), (float)pp->ax.before, (float)pp->ay.before);
    glUniform4f(glGetUniformLocation(prog, "u_window"), (float)pl->p.size, (float)pl->stride,
                (float)pl->p.size * (float)pl->p.size, 0.0f);
    glnn_frag_count(gpu, 1, out.tile_w * out.tile_h * out.tiles * pl->p.size * pl->p.size);
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

const glnn_op_impl glnn_fragment_pooling2d = {.prepare = prepare, .run = run, .release = glnn_gpu_release_state};
