/* Conv2D on the fragment path (shaders/frag_conv2d.glsl): one draw per output quad over its tile of the output.
 * The bias and weights of a quad are 1 + k²·Cg groups of four floats (the quad's four channels), passed as
 * uniforms when they fit the device's budget (exact float32), else read from a byte-plane texture holding one
 * block per output quad. */
#include "backends/gpu/fragment/frag.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>

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

glnn_status glnn_frag_conv2d_prepare(glnn_conv2d *c, glnn_context *ctx, glnn_error *err) {
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s': prepare", c->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg, qout = cout / 4;
    const int64_t groups = weight_groups(c);
    const bool uniforms = in_uniforms(c, gpu);
    float *v = malloc((size_t)(qout * groups * 4) * sizeof(float));
    if (!v) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int oq = 0; oq < qout; oq++) {
        float *block = v + (int64_t)oq * groups * 4;
        for (int j = 0; j < 4; j++) {
            block[j] = c->bias[4 * oq + j];
            for (int64_t t = 0; t < (int64_t)k * k; t++)
                for (int ci = 0; ci < cg; ci++)
                    block[(1 + t * cg + ci) * 4 + j] = c->weights[(t * cg + ci) * cout + 4 * oq + j];
        }
    }
    if (uniforms) {
        c->frag_uniforms = v;
    } else {
        s = glnn_frag_weights_create(gpu, v, qout, groups, &c->frag_weights, what, err);
        free(v);
        if (s != GLNN_OK) return s;
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
    GLuint program;
    s = glnn_frag_program(gpu, "frag_conv2d", defines, &program, err);
    if (s != GLNN_OK) return s;
    c->frag_program = program;
    return GLNN_OK;
}

void glnn_frag_conv2d_release(glnn_conv2d *c, glnn_context *ctx) {
    if (c->frag_weights && ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK)
        glnn_frag_texture_free(c->frag_weights);
    free(c->frag_uniforms);
    c->frag_uniforms = NULL;
    c->frag_weights = c->frag_program = 0; /* programs belong to the context's cache */
}

glnn_status glnn_frag_conv2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                             glnn_error *err) {
    glnn_conv2d *c = (glnn_conv2d *)op;
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s'", op->name);
    const int qout = c->p.num_output_channels / 4;
    const int64_t groups = weight_groups(c);
    glnn_frag_layout in, out;
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s != GLNN_OK) return s;
    GLuint prog = c->frag_program;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u_in", &in);
    glUniform2f(glGetUniformLocation(prog, "u_out_scale"), 1.0f / (float)out.width, 1.0f / (float)out.height);
    glUniform4f(glGetUniformLocation(prog, "u_geometry"), (float)c->p.kernel_size, (float)c->p.stride,
                (float)quads_per_tap(c), (float)iterations(c));
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    glUniform2f(glGetUniformLocation(prog, "u_options"), c->has_residual ? 1.0f : 0.0f, (float)c->p.activation);
    /* Without a residual the branch reading it is not taken; the unit still holds a valid texture. */
    glnn_frag_bind_texture(prog, "u_residual", 1, c->has_residual ? inputs[1]->texture : inputs[0]->texture);
    if (!c->frag_uniforms) {
        glnn_frag_weights w;
        s = glnn_frag_weights_layout(gpu, qout, groups, &w, what, err);
        if (s != GLNN_OK) return s;
        glnn_frag_set_weights_layout(prog, &w);
        glnn_frag_bind_texture(prog, "u_weights", 2, c->frag_weights);
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
        glUniform4f(quads, (float)oq, (float)iq0, (float)c->ax.before, (float)c->ay.before);
        /* The tile of input quad iq0: its texel offset and its row in its column of tiles. */
        glUniform3f(tile, (float)(iq0 / in.rows * in.tile_w), (float)(iq0 % in.rows * in.tile_h),
                    (float)(iq0 % in.rows));
        if (c->frag_uniforms) glUniform4fv(weights, (GLsizei)groups, c->frag_uniforms + (int64_t)oq * groups * 4);
        glnn_frag_draw_rect(rect, oq / out.rows * out.tile_w, oq % out.rows * out.tile_h, out.tile_w, out.tile_h);
    }
    return glnn_gpu_check(what, err);
}

glnn_status glnn_conv2d_run_gpu(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                                glnn_error *err) {
    return ctx->gpu->fragment ? glnn_frag_conv2d(op, ctx, inputs, output, err)
                              : glnn_gpu_conv2d(op, ctx, inputs, output, err);
}
