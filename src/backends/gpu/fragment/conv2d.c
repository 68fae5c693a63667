/* Conv2D on the fragment path (shaders/frag_conv2d.glsl): one draw per output quad over its tile of the output.
 * The bias and weights of a quad are 1 + k²·Cg groups of four floats (the quad's four channels), passed as
 * uniforms when they fit the device's budget (exact float32), else read from a byte-plane texture holding one
 * block per output quad. */
#include "backends/gpu/fragment/frag.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>

/* The back end's state for one prepared Conv2D: the program (the context's cache owns it) and the weights, as
 * a byte-plane texture or as a host copy passed as uniforms. */
typedef struct frag_conv_state {
    GLuint program, weights;
    float *uniforms;
} frag_conv_state;

/* Groups of four floats per output quad: the bias, then one per tap and input channel of the group. */
static int64_t weight_groups(const glnn_conv2d *c) {
    return 1 + (int64_t)c->p.kernel_size * c->p.kernel_size * c->cg;
}

/* Loop iterations per output value: taps × input quads read per tap. */
static int64_t quads_per_tap(const glnn_conv2d *c) {
    return c->kind == CONV_IMAGE || c->kind == CONV_DEPTHWISE ? 1 : c->cg / 4;
}
static int64_t iterations(const glnn_conv2d *c) {
    return (int64_t)c->p.kernel_size * c->p.kernel_size * quads_per_tap(c);
}

static bool in_uniforms(const glnn_conv2d *c, const glnn_gpu *gpu) {
    return weight_groups(c) <= gpu->frag->weight_uniforms;
}

static void release(glnn_context *ctx, void *state) {
    frag_conv_state *st = state;
    free(st->uniforms);
    glnn_gpu_free_state(ctx, st, NULL, 0, &st->weights, 1);
}

/* The weights as uniforms or a texture, the program. */
static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    glnn_status s = GLNN_OK;
    GLNN_OP_WHAT(op, ": prepare");
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg, qout = cout / 4;
    const int64_t groups = weight_groups(c);
    const bool uniforms = in_uniforms(c, gpu);
    frag_conv_state *st = calloc(1, sizeof *st);
    float *v = malloc((size_t)(qout * groups * 4) * sizeof(float));
    *state = st;
    if (!st || !v) {
        free(v);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    for (int oq = 0; oq < qout; oq++) {
        float *block = v + (int64_t)oq * groups * 4;
        for (int j = 0; j < 4; j++) {
            block[j] = pp->bias[4 * oq + j];
            for (int64_t t = 0; t < (int64_t)k * k; t++)
                for (int ci = 0; ci < cg; ci++)
                    block[(1 + t * cg + ci) * 4 + j] = pp->weights[(t * cg + ci) * cout + 4 * oq + j];
        }
    }
    if (uniforms) {
        st->uniforms = v;
    } else {
        s = glnn_frag_weights_create(gpu, v, qout, groups, &st->weights, what, err);
        free(v);
    }
    /* Few programs: the loop count, kernel size, stride and channels are uniforms, and the array of weights is
     * rounded up to a power of two when the budget allows.  With weights in uniforms, the loop bound keeps every
     * index the loop can form within the array, as strict GLSL ES 1.00 compilers check. */
    const int kind = c->kind == CONV_IMAGE ? 1 : c->kind == CONV_DEPTHWISE ? 2 : 0, step = kind == 0 ? 4 : kind;
    int64_t array = glnn_frag_round_up(groups, 256);
    if (array > gpu->frag->weight_uniforms) array = groups;
    const int64_t bound = uniforms ? (array - 1) / step : glnn_frag_round_up(iterations(c), 256);
    char defines[256];
    snprintf(defines, sizeof defines,
             "#define KIND %d\n#define MAX_ITERATIONS %lld\n#define WEIGHT_UNIFORMS %d\n#define WEIGHT_GROUPS %lld\n",
             kind, (long long)bound, uniforms ? 1 : 0, (long long)(uniforms ? array : 1));
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_CONV2D, defines, &st->program, err);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    const frag_conv_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const int qout = c->p.num_output_channels / 4;
    const int64_t groups = weight_groups(c);
    const GLuint prog = st->program;
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glUniform2f(glGetUniformLocation(prog, "u_out_scale"), 1.0f / (float)out.width, 1.0f / (float)out.height);
    glUniform4f(glGetUniformLocation(prog, "u_geometry"), (float)c->p.kernel_size, (float)c->p.stride,
                (float)quads_per_tap(c), (float)iterations(c));
    glUniform2f(glGetUniformLocation(prog, "u_options"), pp->has_residual ? 1.0f : 0.0f, (float)c->p.activation);
    /* Without a residual the branch reading it is not taken; the unit still holds a valid texture. */
    glnn_frag_bind_texture(prog, "u_residual", 1, pp->has_residual ? inputs[1]->texture : inputs[0]->texture);
    if (!st->uniforms) {
        glnn_frag_weights w;
        s = glnn_frag_weights_layout(gpu, qout, groups, &w, what, err);
        if (s != GLNN_OK) return s;
        glnn_frag_set_weights_layout(prog, &w);
        glnn_frag_bind_texture(prog, "u_weights", 2, st->weights);
    }
    s = glnn_frag_target(gpu, output->texture, what, err);
    if (s != GLNN_OK) return s;
    const GLint quads = glGetUniformLocation(prog, "u_quads"), tile = glGetUniformLocation(prog, "u_tile"),
                weights = glGetUniformLocation(prog, "u_w"), rect = glGetUniformLocation(prog, "u_rect");
    const int groups_per_conv = c->kind == CONV_IMAGE ? 1 : c->p.num_groups;
    for (int oq = 0; oq < qout; oq++) {
        /* The first input quad read: the quad itself (depthwise), else the first quad of its group. */
        const int iq0 = c->kind == CONV_DEPTHWISE ? oq
                        : c->kind == CONV_IMAGE   ? 0
                                                  : oq / (qout / groups_per_conv) * (c->cg / 4);
        glUniform4f(quads, (float)oq, (float)iq0, (float)pp->ax.before, (float)pp->ay.before);
        /* The tile of input quad iq0: its texel offset and its row in its column of tiles. */
        glUniform3f(tile, (float)(iq0 / in.rows * in.tile_w), (float)(iq0 % in.rows * in.tile_h),
                    (float)(iq0 % in.rows));
        if (st->uniforms) glUniform4fv(weights, (GLsizei)groups, st->uniforms + (int64_t)oq * groups * 4);
        glnn_frag_draw_rect(rect, oq / out.rows * out.tile_w, oq % out.rows * out.tile_h, out.tile_w, out.tile_h);
    }
    return glnn_gpu_check(what, err);
}

const glnn_op_impl glnn_fragment_conv2d = {.prepare = prepare, .run = run, .release = release};
