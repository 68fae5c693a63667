/* The GPU compute back end (OpenGL ES 3.1 compute shaders): tensors in shader storage buffers — one uint32 per
 * quad of a tensor (channel 4q + j in byte j), one per pixel of an image (R, G, B, 0), one float per element of
 * a vector — and one compute program per op (the op files beside this one). */
#include "backends/gpu/compute/compute.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(glnn_data_kind k) {
    return k == GLNN_KIND_IMAGE ? "image" : k == GLNN_KIND_VECTOR ? "vector" : "tensor";
}

static glnn_status check_shape(const glnn_context *ctx, glnn_shape shape, int64_t bytes, const char *what,
                               glnn_error *err) {
    const glnn_gpu *gpu = glnn_gpu_of(ctx);
    if (bytes <= gpu->max_ssbo_size) return GLNN_OK;
    return glnn_fail(err, GLNN_ERR_MEMORY,
                     "%s: a %lld×%lld×%lld %s needs %lld bytes, above the device's storage block limit of %d bytes",
                     what, (long long)shape.h, (long long)shape.w, (long long)shape.c, kind_name(shape.kind),
                     (long long)bytes, gpu->max_ssbo_size);
}

static glnn_status compute_tensor_create(glnn_tensor *t, glnn_error *err) {
    const int64_t bytes = glnn_storage_bytes(t->shape);
    void *zeros = calloc(1, (size_t)bytes);
    if (!zeros) return glnn_fail(err, GLNN_ERR_MEMORY, "create %s: out of memory", kind_name(t->shape.kind));
    glnn_status s = glnn_gpu_buffer_create(bytes, zeros, &t->buffer, "create tensor", err);
    free(zeros);
    t->buffer_size = bytes;
    return s;
}

static void compute_tensor_free(glnn_tensor *t) {
    if (t->buffer && glnn_gpu_make_current(glnn_gpu_of(t->ctx), NULL) == GLNN_OK) glnn_gpu_buffer_free(t->buffer);
}

static glnn_status compute_tensor_store(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what,
                                        glnn_error *err) {
    const int64_t n = glnn_shape_count(t->shape);
    const void *src = t->shape.kind == GLNN_KIND_VECTOR ? (const void *)floats : (const void *)bytes;
    uint8_t *staging = NULL;
    if (t->shape.kind == GLNN_KIND_IMAGE) {
        staging = calloc(1, (size_t)t->buffer_size);
        if (!staging) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
        for (int64_t p = 0; p < n / 3; p++)
            memcpy(staging + 4 * p, bytes + 3 * p, 3);
        src = staging;
    }
    glBindBuffer(GL_SHADER_STORAGE_BUFFER, t->buffer);
    glBufferSubData(GL_SHADER_STORAGE_BUFFER, 0, (GLsizeiptr)t->buffer_size, src);
    free(staging);
    return glnn_gpu_check(what, err);
}

static glnn_status compute_tensor_load(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what,
                                       glnn_error *err) {
    const int64_t n = glnn_shape_count(t->shape);
    glMemoryBarrier(GL_BUFFER_UPDATE_BARRIER_BIT);
    glBindBuffer(GL_SHADER_STORAGE_BUFFER, t->buffer);
    const uint8_t *map = glMapBufferRange(GL_SHADER_STORAGE_BUFFER, 0, (GLsizeiptr)t->buffer_size, GL_MAP_READ_BIT);
    if (!map)
        return glnn_gpu_check(what, err) != GLNN_OK ? GLNN_ERR_DEVICE
                                                    : glnn_fail(err, GLNN_ERR_DEVICE, "%s: cannot map buffer", what);
    if (t->shape.kind == GLNN_KIND_VECTOR)
        memcpy(floats, map, (size_t)n * sizeof(float));
    else if (t->shape.kind == GLNN_KIND_IMAGE)
        for (int64_t p = 0; p < n / 3; p++)
            memcpy(bytes + 3 * p, map + 4 * p, 3);
    else
        memcpy(bytes, map, (size_t)n);
    glUnmapBuffer(GL_SHADER_STORAGE_BUFFER);
    return glnn_gpu_check(what, err);
}

glnn_status glnn_compute_taps(glnn_gpu *gpu, const glnn_sampler_tap *tx, int64_t nx, const glnn_sampler_tap *ty,
                              int64_t ny, GLuint *buffer, const char *what, glnn_error *err) {
    const int64_t n = nx + ny;
    if (n * 16 > gpu->max_ssbo_size)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's limits", what);
    int32_t *t = malloc((size_t)n * 4 * sizeof(int32_t));
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t j = 0; j < n; j++) {
        const glnn_sampler_tap *tap = j < nx ? &tx[j] : &ty[j - nx];
        const float f = (float)tap->f;
        t[4 * j] = (int32_t)tap->i0;
        t[4 * j + 1] = (int32_t)tap->i1;
        memcpy(&t[4 * j + 2], &f, 4);
        t[4 * j + 3] = 0;
    }
    glnn_status s = glnn_gpu_buffer_create(n * 16, t, buffer, what, err);
    free(t);
    return s;
}

/* Channel shuffle of a connection (SPEC §6). */
static glnn_status shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    char defines[64];
    snprintf(defines, sizeof defines, "#define STEP %d\n", n);
    GLuint prog;
    glnn_status s = glnn_gpu_program(gpu, GLNN_SHADER_SHUFFLE, defines, &prog, err);
    if (s != GLNN_OK) return s;
    int64_t quads = in->shape.c / 4, total = in->shape.h * in->shape.w * quads;
    glUseProgram(prog);
    glUniform1i(glGetUniformLocation(prog, "u_quads"), (GLint)quads);
    glUniform1i(glGetUniformLocation(prog, "u_total"), (GLint)total);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, in->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, out->buffer);
    return glnn_gpu_dispatch(gpu, total, 1, 1, 64, 1, 1, "channel shuffle", err);
}

static size_t describe(const glnn_context *ctx, char *buf, size_t size) {
    const glnn_gpu *g = glnn_gpu_of(ctx);
    return (size_t)snprintf(buf, size,
                            "device: %s\n"
                            "path: compute (OpenGL ES 3.1 compute shaders)\n"
                            "egl device: %s\n"
                            "vendor: %s\n"
                            "renderer: %s\n"
                            "gl version: %s\n"
                            "glsl version: %s\n"
                            "max compute work group invocations: %d\n"
                            "max compute work group size: %d %d %d\n"
                            "max compute work group count: %d %d %d\n"
                            "max compute shared memory: %d bytes\n"
                            "max shader storage block size: %d bytes\n"
                            "max compute shader storage blocks: %d\n"
                            "max uniform block size: %d bytes\n"
                            "max texture size: %d\n"
                            "max_sampled_channels: %d%s\n",
                            ctx->device_name, g->egl_info, g->vendor, g->renderer, g->version, g->glsl_version,
                            g->max_invocations, g->max_group_size[0], g->max_group_size[1], g->max_group_size[2],
                            g->max_group_count[0], g->max_group_count[1], g->max_group_count[2], g->max_shared_memory,
                            g->max_ssbo_size, g->max_ssbo_blocks, g->max_ubo_size, g->max_texture_size,
                            ctx->max_sampled_channels, ctx->max_sampled_channels ? "" : " (no limit)");
}

#define GLNN_BACKEND_PREFIX glnn_compute
const glnn_backend glnn_compute_backend = {
    .name = "compute",
    GLNN_GPU_BACKEND_HOOKS,
    GLNN_BACKEND_OPS,
    .check_shape = check_shape,
    GLNN_STORAGE(compute),
    .shuffle = shuffle,
    .describe = describe,
};
