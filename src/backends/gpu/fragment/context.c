/* The fragment path's context: limits, shared objects (framebuffer, quad, vertex shader), programs, drawing,
 * and the self-test of the float32 codec. */
#include "backends/gpu/fragment/frag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_string(char *dst, size_t size, GLenum name) {
    const GLubyte *s = glGetString(name);
    snprintf(dst, size, "%s", s ? (const char *)s : "?");
}

static glnn_status link_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    const char *name = glnn_shader_name(id), *body = glnn_shader_source(id);
    if (!body) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "compile shader: no shader number %d", (int)id);
    const char *parts[] = {"#version 100\n", defines, glnn_shader_source(GLNN_SHADER_FRAG_COMMON), "#line 1\n", body};
    GLuint fs;
    glnn_status s = glnn_gpu_compile_shader(GL_FRAGMENT_SHADER, name, parts, 5, &fs, err);
    if (s != GLNN_OK) return s;
    GLuint program = glCreateProgram();
    glAttachShader(program, gpu->frag->vertex_shader);
    glAttachShader(program, fs);
    glBindAttribLocation(program, 0, "a_pos");
    s = glnn_gpu_link_program(program, name, err);
    glDeleteShader(fs);
    if (s != GLNN_OK) return s;
    glUseProgram(program);
    glUniform4f(glGetUniformLocation(program, "u_const"), 0.5f, 1.0f, 255.0f, 0.0f);
    *out = program;
    return GLNN_OK;
}

glnn_status glnn_frag_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    /* The key holds every define the source is compiled with, so that it cannot meet a compute program. */
    size_t n = strlen(defines) + 64;
    char *all = malloc(n);
    if (!all) return glnn_fail(err, GLNN_ERR_MEMORY, "compile shader '%s': out of memory", glnn_shader_name(id));
    snprintf(all, n, "#define EXACT_POW2 %d\n%s", gpu->frag->exact_pow2 ? 1 : 0, defines);
    glnn_status s = glnn_gpu_program_cached(gpu, id, all, link_program, out, err);
    free(all);
    return s;
}

int64_t glnn_frag_round_up(int64_t n, int64_t least) {
    int64_t r = least;
    while (r < n)
        r *= 2;
    return r;
}

void glnn_frag_bind_texture(GLuint program, const char *name, int unit, GLuint texture) {
    glActiveTexture(GL_TEXTURE0 + (GLenum)unit);
    glBindTexture(GL_TEXTURE_2D, texture);
    glUniform1i(glGetUniformLocation(program, name), unit);
}

static glnn_status attach(struct glnn_frag *f, GLuint target, const char *what, glnn_error *err) {
    glBindFramebuffer(GL_FRAMEBUFFER, f->fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target, 0);
    GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    if (status != GL_FRAMEBUFFER_COMPLETE)
        return glnn_fail(err, GLNN_ERR_DEVICE, "%s: the device cannot render into an RGBA8 texture (status 0x%x)", what,
                         status);
    return GLNN_OK;
}

glnn_status glnn_frag_target(glnn_gpu *gpu, GLuint target, const char *what, glnn_error *err) {
    glnn_status s = attach(gpu->frag, target, what, err);
    if (s != GLNN_OK) return s;
    glBindBuffer(GL_ARRAY_BUFFER, gpu->frag->quad);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
    return GLNN_OK;
}

void glnn_frag_draw_rect(GLint rect, int64_t x, int64_t y, int64_t width, int64_t height) {
    glUniform4f(rect, (float)x, (float)y, (float)width, (float)height);
    glViewport((GLint)x, (GLint)y, (GLsizei)width, (GLsizei)height);
    glDrawArrays(GL_TRIANGLES, 0, 6);
}

glnn_status glnn_frag_draw(glnn_gpu *gpu, GLuint program, GLuint target, int64_t width, int64_t height,
                           const char *what, glnn_error *err) {
    glnn_status s = glnn_frag_target(gpu, target, what, err);
    if (s != GLNN_OK) return s;
    glnn_frag_draw_rect(glGetUniformLocation(program, "u_rect"), 0, 0, width, height);
    return glnn_gpu_check(what, err);
}

/* Reads the whole of `texture` (width × height RGBA8 texels) into texels. */
glnn_status glnn_frag_begin(glnn_gpu *gpu, GLuint program, const glnn_tensor *input, const glnn_tensor *output,
                            glnn_frag_layout *in, glnn_frag_layout *out, const char *what, glnn_error *err) {
    glnn_status s = glnn_frag_layout_of(gpu, input->shape, in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, out, what, err);
    if (s != GLNN_OK) return s;
    glUseProgram(program);
    glnn_frag_set_layout(program, "u_in", in);
    glnn_frag_bind_texture(program, "u_input", 0, input->texture);
    return GLNN_OK;
}

glnn_status glnn_frag_read(glnn_gpu *gpu, GLuint texture, int64_t width, int64_t height, uint8_t *texels,
                           const char *what, glnn_error *err) {
    glnn_status s = attach(gpu->frag, texture, what, err);
    if (s != GLNN_OK) return s;
    glReadPixels(0, 0, (GLsizei)width, (GLsizei)height, GL_RGBA, GL_UNSIGNED_BYTE, texels);
    return glnn_gpu_check(what, err);
}

/* ---- the float32 codec self-test ---- */

#define TEST_W 64
#define TEST_H 41

/* Every exponent with several mantissas and both signs, decoded and encoded again by a shader: true when every
 * byte comes back. */
static glnn_status codec_test(glnn_gpu *gpu, bool *exact, glnn_error *err) {
    static const uint32_t mantissas[] = {0, 1, 0x400000, 0x7FFFFF, 0x2AAAAB};
    uint8_t *in = calloc(TEST_W * TEST_H, 4), *out = calloc(TEST_W * TEST_H, 4);
    GLuint src = 0, dst = 0, prog = 0;
    glnn_status s = in && out ? GLNN_OK : glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    int n = 1; /* texel 0: zero */
    for (uint32_t e = 1; e < 255; e++)
        for (int m = 0; m < 5; m++)
            for (uint32_t sign = 0; sign < 2; sign++, n++) {
                uint32_t bits = sign << 31 | e << 23 | (mantissas[m] ^ (e * 0x1357u & 0x7FFFFF));
                for (int i = 0; i < 4; i++)
                    in[4 * n + i] = (uint8_t)(bits >> (8 * i));
            }
    if (s == GLNN_OK) s = glnn_frag_texture_create(TEST_W, TEST_H, in, &src, "create context", err);
    if (s == GLNN_OK) s = glnn_frag_texture_create(TEST_W, TEST_H, NULL, &dst, "create context", err);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_CODEC_TEST, "", &prog, err);
    if (s == GLNN_OK) {
        glUseProgram(prog);
        glUniform2f(glGetUniformLocation(prog, "u_scale"), 1.0f / TEST_W, 1.0f / TEST_H);
        glnn_frag_bind_texture(prog, "u_input", 0, src);
        s = glnn_frag_draw(gpu, prog, dst, TEST_W, TEST_H, "create context: float codec test", err);
    }
    if (s == GLNN_OK) s = glnn_frag_read(gpu, dst, TEST_W, TEST_H, out, "create context: float codec test", err);
    if (s == GLNN_OK) *exact = memcmp(in, out, TEST_W * TEST_H * 4) == 0;
    glnn_frag_texture_free(src);
    glnn_frag_texture_free(dst);
    free(in);
    free(out);
    return s;
}

glnn_status glnn_frag_init(glnn_gpu *gpu, glnn_error *err) {
    copy_string(gpu->vendor, sizeof gpu->vendor, GL_VENDOR);
    copy_string(gpu->renderer, sizeof gpu->renderer, GL_RENDERER);
    copy_string(gpu->version, sizeof gpu->version, GL_VERSION);
    copy_string(gpu->glsl_version, sizeof gpu->glsl_version, GL_SHADING_LANGUAGE_VERSION);
    struct glnn_frag *f = calloc(1, sizeof *f);
    if (!f) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    gpu->frag = f;
    GLint viewport[2] = {0, 0}, range[2] = {0, 0};
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &gpu->max_texture_size);
    glGetIntegerv(GL_MAX_VIEWPORT_DIMS, viewport);
    glGetIntegerv(GL_MAX_TEXTURE_IMAGE_UNITS, &f->max_texture_units);
    glGetIntegerv(GL_MAX_FRAGMENT_UNIFORM_VECTORS, &f->max_fragment_uniforms);
    glGetShaderPrecisionFormat(GL_FRAGMENT_SHADER, GL_HIGH_FLOAT, range, &f->highp_bits);
    /* Conv2D weights go to uniforms when they fit, with room for the other uniforms; GLNN_FRAG_UNIFORMS lowers
     * the budget (tests set 0 to run every Conv2D on weight textures). */
    f->weight_uniforms = f->max_fragment_uniforms > 16 ? f->max_fragment_uniforms - 16 : 0;
    const char *budget = getenv("GLNN_FRAG_UNIFORMS");
    if (budget && *budget && atoi(budget) >= 0 && atoi(budget) < f->weight_uniforms) f->weight_uniforms = atoi(budget);
    f->max_size = gpu->max_texture_size;
    if (viewport[0] < f->max_size) f->max_size = viewport[0];
    if (viewport[1] < f->max_size) f->max_size = viewport[1];
    glnn_status s = glnn_gpu_check("create context", err);
    if (s != GLNN_OK) return s;
    if (f->highp_bits < 23)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: %s has no 32-bit (highp) floats in fragment shaders (%d-bit mantissa); the "
                         "fragment path needs them (use GLNN_DEVICE=cpu for the CPU reference)",
                         gpu->renderer, f->highp_bits);
    if (f->max_texture_units < 3 || f->max_size < 64)
        return glnn_fail(err, GLNN_ERR_DEVICE, "create context: %s offers %d texture units and %d-texel textures",
                         gpu->renderer, f->max_texture_units, f->max_size);

    const char *vs_parts[] = {"#version 100\n", glnn_shader_source(GLNN_SHADER_FRAG_VERTEX)};
    s = glnn_gpu_compile_shader(GL_VERTEX_SHADER, "frag_vertex", vs_parts, 2, &f->vertex_shader, err);
    if (s != GLNN_OK) return s;
    static const GLfloat quad[] = {-1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, 1};
    glGenBuffers(1, &f->quad);
    glBindBuffer(GL_ARRAY_BUFFER, f->quad);
    glBufferData(GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
    glGenFramebuffers(1, &f->fbo);
    /* Plain writes: every output byte is exactly what the shader computed. */
    glDisable(GL_DITHER);
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_STENCIL_TEST);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_CULL_FACE);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    s = glnn_gpu_check("create context", err);
    if (s != GLNN_OK) return s;

    /* exp2() of integers is exact on most GPUs; where it is not, powers of two are built by multiplication
     * (GLNN_FRAG_EXACT_POW2=1 forces that, for tests). */
    bool exact = false;
    const char *force = getenv("GLNN_FRAG_EXACT_POW2");
    f->exact_pow2 = force && strcmp(force, "1") == 0;
    s = codec_test(gpu, &exact, err);
    if (s == GLNN_OK && !exact && !f->exact_pow2) {
        f->exact_pow2 = true;
        s = codec_test(gpu, &exact, err);
    }
    if (s == GLNN_OK && !exact)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: %s cannot decode float32 weights exactly in fragment shaders (its highp "
                         "arithmetic is not exact on integers); use GLNN_DEVICE=cpu for the CPU reference",
                         gpu->renderer);
    return s;
}

void glnn_frag_release(glnn_gpu *gpu) {
    struct glnn_frag *f = gpu->frag;
    if (!f) return;
    if (f->fbo) glDeleteFramebuffers(1, &f->fbo);
    if (f->quad) glDeleteBuffers(1, &f->quad);
    if (f->vertex_shader) glDeleteShader(f->vertex_shader);
    free(f);
    gpu->frag = NULL;
}

size_t glnn_frag_describe(const glnn_context *ctx, char *buf, size_t size) {
    const glnn_gpu *g = glnn_gpu_of(ctx);
    const struct glnn_frag *f = g->frag;
    return (size_t)snprintf(buf, size,
                            "device: %s\n"
                            "path: fragment (OpenGL ES 2.0 fragment shaders into RGBA8 textures)\n"
                            "egl device: %s\n"
                            "vendor: %s\n"
                            "renderer: %s\n"
                            "gl version: %s\n"
                            "glsl version: %s\n"
                            "max texture size: %d (render targets up to %d)\n"
                            "max texture image units: %d\n"
                            "max fragment uniform vectors: %d\n"
                            "fragment highp float: %d-bit mantissa\n"
                            "float32 weights: exact, powers of two from %s\n"
                            "Conv2D weights: in uniforms up to %d vec4 per output quad, else in textures\n"
                            "max_sampled_channels: %d%s\n",
                            ctx->device_name, g->egl_info, g->vendor, g->renderer, g->version, g->glsl_version,
                            g->max_texture_size, f->max_size, f->max_texture_units, f->max_fragment_uniforms,
                            f->highp_bits, f->exact_pow2 ? "multiplications (exp2 is inexact here)" : "exp2",
                            f->weight_uniforms, ctx->max_sampled_channels,
                            ctx->max_sampled_channels ? "" : " (no limit)");
}
