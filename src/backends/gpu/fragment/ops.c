/* Pooling2D, Dense, ImageSampler and the channel shuffle on the fragment path (shaders/frag_*.glsl). */
#include "backends/gpu/fragment/frag.h"
#include "ops/dense.h"
#include "ops/image_sampler.h"
#include "ops/pooling2d.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- Pooling2D ---- */

glnn_status glnn_frag_pooling2d_prepare(glnn_pooling2d *pl, glnn_context *ctx, glnn_error *err) {
    glnn_status s = glnn_gpu_make_current(ctx->gpu, err);
    if (s != GLNN_OK) return s;
    char defines[128];
    snprintf(defines, sizeof defines, "#define IS_MAX %d\n#define MAX_ITERATIONS %lld\n",
             pl->p.op == GLNN_POOLING_MAX ? 1 : 0,
             (long long)glnn_frag_round_up((int64_t)pl->p.size * pl->p.size, 256));
    GLuint prog;
    s = glnn_frag_program(ctx->gpu, "frag_pooling2d", defines, &prog, err);
    if (s == GLNN_OK) pl->gpu_program = prog;
    return s;
}

glnn_status glnn_frag_pooling2d(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                                glnn_error *err) {
    glnn_pooling2d *pl = (glnn_pooling2d *)op;
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Pooling2D '%s'", op->name);
    glnn_frag_layout in, out;
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s != GLNN_OK) return s;
    GLuint prog = pl->gpu_program;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u_in", &in);
    glnn_frag_set_layout(prog, "u_out", &out);
    glUniform2f(glGetUniformLocation(prog, "u_pad"), (float)pl->ax.before, (float)pl->ay.before);
    glUniform4f(glGetUniformLocation(prog, "u_window"), (float)pl->p.size, (float)pl->stride,
                (float)pl->p.size * (float)pl->p.size, 0.0f);
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

/* ---- Dense ---- */

/* Groups of four floats per output: the row of the matrix (padded to a multiple of 4), then the bias. */
static int64_t dense_groups(const glnn_dense *d) {
    return (d->n_in + 3) / 4 + 1;
}

glnn_status glnn_frag_dense_prepare(glnn_dense *d, glnn_context *ctx, glnn_error *err) {
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Dense '%s': prepare", d->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    const int64_t n_in = d->n_in, n_out = d->p.num_output_dims, groups = dense_groups(d);
    glnn_frag_weights w;
    glnn_frag_layout out;
    s = glnn_frag_weights_layout(gpu, n_out, groups, &w, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, (glnn_shape){GLNN_KIND_VECTOR, 1, 1, n_out}, &out, what, err);
    if (s != GLNN_OK) return s;
    float *v = calloc((size_t)(n_out * groups * 4), sizeof(float));
    if (!v) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++)
            v[o * groups * 4 + i] = d->matrix[o * n_in + i];
        v[(o * groups + groups - 1) * 4] = d->bias[o];
    }
    s = glnn_frag_weights_create(gpu, v, n_out, groups, &d->gpu_matrix, what, err);
    free(v);
    if (s != GLNN_OK) return s;
    char defines[128];
    snprintf(defines, sizeof defines, "#define VECTOR_INPUT %d\n#define MAX_ITERATIONS %lld\n", d->vector_input ? 1 : 0,
             (long long)glnn_frag_round_up(groups - 1, 256));
    GLuint program;
    s = glnn_frag_program(gpu, "frag_dense", defines, &program, err);
    if (s == GLNN_OK) d->gpu_program = program;
    return s;
}

void glnn_frag_dense_release(glnn_dense *d, glnn_context *ctx) {
    if (d->gpu_matrix && ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK)
        glnn_frag_texture_free(d->gpu_matrix);
    d->gpu_matrix = d->gpu_bias = 0;
}

glnn_status glnn_frag_dense(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs, glnn_tensor *output,
                            glnn_error *err) {
    glnn_dense *d = (glnn_dense *)op;
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "Dense '%s'", op->name);
    glnn_frag_layout in, out;
    glnn_frag_weights w;
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s == GLNN_OK) s = glnn_frag_weights_layout(gpu, d->p.num_output_dims, dense_groups(d), &w, what, err);
    if (s != GLNN_OK) return s;
    GLuint prog = d->gpu_program;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u_in", &in);
    glnn_frag_set_weights_layout(prog, &w);
    glUniform3f(glGetUniformLocation(prog, "u_out"), (float)out.width, (float)d->p.num_output_dims,
                (float)(dense_groups(d) - 1));
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    glnn_frag_bind_texture(prog, "u_matrix", 1, d->gpu_matrix);
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

/* ---- ImageSampler ---- */

glnn_status glnn_frag_image_sampler_prepare(glnn_image_sampler *sm, glnn_context *ctx, glnn_error *err) {
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s': prepare", sm->base.name);
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s != GLNN_OK) return s;
    const int64_t wo = sm->p.output_width, ho = sm->p.output_height, n = wo > ho ? wo : ho;
    if (n > gpu->frag->max_size || sm->in_shape.w > 65535 || sm->in_shape.h > 65535)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's texture size limit of %d", what,
                         gpu->frag->max_size);
    /* Rows 0 and 1: x taps (i0, i1 as 16-bit integers) and weights f (float32); rows 2 and 3: y. */
    uint8_t *t = calloc((size_t)n * 4, 4);
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
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
    s = glnn_frag_texture_create(n, 4, t, &sm->gpu_taps, what, err);
    free(t);
    if (s != GLNN_OK) return s;
    char defines[64];
    snprintf(defines, sizeof defines, "#define LINEAR %d\n#define ROTATION %d\n", sm->p.linear_interp ? 1 : 0,
             sm->p.rotation);
    GLuint program;
    s = glnn_frag_program(gpu, "frag_image_sampler", defines, &program, err);
    if (s == GLNN_OK) sm->gpu_program = program;
    return s;
}

void glnn_frag_image_sampler_release(glnn_image_sampler *sm, glnn_context *ctx) {
    if (sm->gpu_taps && ctx && ctx->gpu && glnn_gpu_make_current(ctx->gpu, NULL) == GLNN_OK)
        glnn_frag_texture_free(sm->gpu_taps);
    sm->gpu_taps = 0;
}

glnn_status glnn_frag_image_sampler(glnn_op *op, glnn_context *ctx, const glnn_tensor *const *inputs,
                                    glnn_tensor *output, glnn_error *err) {
    glnn_image_sampler *sm = (glnn_image_sampler *)op;
    glnn_gpu *gpu = ctx->gpu;
    char what[300];
    snprintf(what, sizeof what, "ImageSampler '%s'", op->name);
    glnn_frag_layout in, out;
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
    if (s != GLNN_OK) return s;
    const int64_t n = sm->p.output_width > sm->p.output_height ? sm->p.output_width : sm->p.output_height;
    GLuint prog = sm->gpu_program;
    glUseProgram(prog);
    glUniform2f(glGetUniformLocation(prog, "u_in"), (float)sm->in_shape.w, (float)sm->in_shape.h);
    glUniform2f(glGetUniformLocation(prog, "u_in_scale"), 1.0f / (float)in.width, 1.0f / (float)in.height);
    glUniform2f(glGetUniformLocation(prog, "u_taps_scale"), 1.0f / (float)n, 0.25f);
    glnn_frag_bind_texture(prog, "u_input", 0, inputs[0]->texture);
    glnn_frag_bind_texture(prog, "u_taps", 1, sm->gpu_taps);
    return glnn_frag_draw(gpu, prog, output->texture, out.width, out.height, what, err);
}

/* ---- channel shuffle ---- */

glnn_status glnn_frag_shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    const char *what = "channel shuffle";
    glnn_gpu *gpu = ctx->gpu;
    glnn_frag_layout l;
    char defines[64];
    snprintf(defines, sizeof defines, "#define STEP %d\n", n);
    GLuint prog;
    glnn_status s = glnn_gpu_make_current(gpu, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, in->shape, &l, what, err);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, "frag_shuffle", defines, &prog, err);
    if (s != GLNN_OK) return s;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u", &l);
    glnn_frag_bind_texture(prog, "u_input", 0, in->texture);
    return glnn_frag_draw(gpu, prog, out->texture, l.width, l.height, what, err);
}
