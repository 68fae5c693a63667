/* Conv2D on the GPU: weights reordered once at preparation, one compute program per specialization. */
#include "gpu/gpu.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>

/* Reorders [k][k][Cg][Cout] weights into the kernel's layout (see shaders/conv2d.glsl). */
static float *reorder_weights(const glnn_conv2d *c, int64_t *n_floats) {
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg;
    const int qout = cout / 4;
    if (c->kind == CONV_DEPTHWISE) {
        int64_t n = (int64_t)qout * k * k * 4;
        float *w = calloc((size_t)n, sizeof(float));
        if (!w) return NULL;
        for (int oq = 0; oq < qout; oq++)
            for (int t = 0; t < k * k; t++)
                for (int j = 0; j < 4; j++) w[((int64_t)oq * k * k + t) * 4 + j] = c->weights[(int64_t)t * cout + oq * 4 + j];
        *n_floats = n;
        return w;
    }
    const int cg_quads = (cg + 3) / 4;
    const int groups = c->kind == CONV_IMAGE ? 1 : c->p.num_groups;
    const int qout_g = qout / groups;
    (void)qout_g;
    int64_t n = (int64_t)qout * k * k * cg_quads * 16;
    float *w = calloc((size_t)n, sizeof(float));
    if (!w) return NULL;
    for (int oq = 0; oq < qout; oq++)
        for (int t = 0; t < k * k; t++)
            for (int ci = 0; ci < cg; ci++)
                for (int j = 0; j < 4; j++) {
                    /* column ci%4 of matrix (oq, t, ci/4), row j = output channel 4·oq + j */
                    int64_t dst = (((int64_t)oq * k * k + t) * cg_quads + ci / 4) * 16 + (ci % 4) * 4 + j;
                    w[dst] = c->weights[((int64_t)t * cg + ci) * cout + oq * 4 + j];
                }
    *n_floats = n;
    return w;
}

glnn_status glnn_gpu_conv2d_prepare(glnn_conv2d *c, glnn_context *ctx, glnn_error *err) {
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s': prepare", c->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    int64_t n = 0;
    float *w = reorder_weights(c, &n);
    if (!w) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (n * 4 > gpu->max_ssbo_size) {
        free(w);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: %lld bytes of weights exceed the device's storage block limit",
                         what, (long long)n * 4);
    }
    s = glnn_gpu_buffer_create(n * 4, w, &c->gpu_weights, what, err);
    free(w);
    if (s == GLNN_OK)
        s = glnn_gpu_buffer_create((int64_t)c->p.num_output_channels * 4, c->bias, &c->gpu_bias, what, err);
    if (s != GLNN_OK) return s;

    const int cout = c->p.num_output_channels;
    const int groups = c->kind == CONV_IMAGE ? 1 : c->p.num_groups;
    char defines[512];
    snprintf(defines, sizeof defines,
             "#define KSIZE %d\n#define STRIDE %d\n#define CG_QUADS %d\n#define OUT_QUADS_PER_GROUP %d\n"
             "#define DEPTHWISE %d\n#define HAS_RESIDUAL %d\n#define ACTIVATION %d\n",
             c->p.kernel_size, c->p.stride, c->kind == CONV_DEPTHWISE ? 1 : (c->cg + 3) / 4,
             c->kind == CONV_DEPTHWISE ? 1 : cout / groups / 4, c->kind == CONV_DEPTHWISE ? 1 : 0,
             c->has_residual ? 1 : 0, (int)c->p.activation);
    GLuint program;
    s = glnn_gpu_program(gpu, "conv2d", defines, &program, err);
    if (s != GLNN_OK) return s;
    c->gpu_program = program;
    return GLNN_OK;
}

void glnn_gpu_conv2d_release(glnn_conv2d *c, glnn_context *ctx) {
    if (!c->gpu_weights && !c->gpu_bias) return;
    if (ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK) {
        glnn_gpu_buffer_free(c->gpu_weights);
        glnn_gpu_buffer_free(c->gpu_bias);
    }
    c->gpu_weights = c->gpu_bias = 0;
}

glnn_status glnn_gpu_conv2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                            glnn_error *err) {
    glnn_conv2d *c = (glnn_conv2d *)op;
    char what[300];
    snprintf(what, sizeof what, "Conv2D '%s'", op->name);
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    GLuint prog = c->gpu_program;
    glUseProgram(prog);
    int64_t in_quads = c->kind == CONV_IMAGE ? 1 : c->in_shape.c / 4;
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)c->in_shape.w, (GLint)c->in_shape.h, (GLint)in_quads);
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)c->ax.n, (GLint)c->ay.n,
                (GLint)(c->p.num_output_channels / 4));
    glUniform2i(glGetUniformLocation(prog, "u_pad"), (GLint)c->ax.before, (GLint)c->ay.before);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    if (c->has_residual) glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, inputs[1]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, c->gpu_weights);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 3, c->gpu_bias);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 4, output->buffer);
    return glnn_gpu_dispatch(ctx->gpu, c->ax.n, c->ay.n, c->p.num_output_channels / 4, 8, 8, 1, what, err);
}
