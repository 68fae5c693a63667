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

/* In a program's key, generated code (glnn_frag_program_generated) follows this line: the defines come before the
 * common part and the shader's body in the source, the generated code after them. */
#define GENERATED_MARK "// ---- generated ----\n"

static glnn_status link_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    const char *name = glnn_shader_name(id), *body = glnn_shader_source(id);
    if (!body) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "compile shader: no shader number %d", (int)id);
    const char *mark = strstr(defines, GENERATED_MARK);
    char *head = NULL;
    if (mark) {
        head = malloc((size_t)(mark - defines) + 1);
        if (!head) return glnn_fail(err, GLNN_ERR_MEMORY, "compile shader '%s': out of memory", name);
        memcpy(head, defines, (size_t)(mark - defines));
        head[mark - defines] = '\0';
    }
    const char *parts[] = {
        "#version 100\n", head ? head : defines, glnn_shader_source(GLNN_SHADER_FRAG_COMMON), "#line 1\n", body,
        mark ? mark : ""};
    GLuint fs;
    glnn_status s = glnn_gpu_compile_shader(GL_FRAGMENT_SHADER, name, parts, 6, &fs, err);
    free(head);
    if (s != GLNN_OK) return s;
    GLuint program = glCreateProgram();
    glAttachShader(program, gpu->frag->vertex_shader);
    glAttachShader(program, fs);
    glBindAttribLocation(program, 0, "a_pos");
    s = glnn_gpu_link_program(program, name, err);
    glDeleteShader(fs);
    if (s != GLNN_OK) return s;
    glUseProgram(program);
    *out = program;
    return GLNN_OK;
}

/* The key of a program: every define the source is compiled with (so that it cannot meet a compute program in
 * the context's cache), then the generated code after GENERATED_MARK. */
static char *program_key(const glnn_gpu *gpu, const char *defines, const char *generated) {
    size_t n = strlen(defines) + (generated ? strlen(generated) + strlen(GENERATED_MARK) : 0) + 128;
    char *all = malloc(n);
    if (all)
        snprintf(all, n, "#define EXACT_POW2 %d\n#define UNORM %d\n%s%s%s", gpu->frag->exact_pow2 ? 1 : 0,
                 gpu->frag->unorm, defines, generated ? GENERATED_MARK : "", generated ? generated : "");
    return all;
}

glnn_status glnn_frag_program_generated(glnn_gpu *gpu, glnn_shader id, const char *defines, const char *generated,
                                        GLuint *out, glnn_error *err) {
    char *all = program_key(gpu, defines, generated);
    if (!all) return glnn_fail(err, GLNN_ERR_MEMORY, "compile shader '%s': out of memory", glnn_shader_name(id));
    glnn_status s = glnn_gpu_program_cached(gpu, id, all, link_program, out, err);
    free(all);
    return s;
}

glnn_status glnn_frag_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    return glnn_frag_program_generated(gpu, id, defines, NULL, out, err);
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

void glnn_frag_count(glnn_gpu *gpu, int64_t passes, int64_t fetches) {
    gpu->frag->passes += passes;
    gpu->frag->fetches += fetches;
}

bool glnn_frag_counters(const glnn_context *ctx, int64_t *passes, int64_t *fetches) {
    if (!ctx || ctx->backend != &glnn_fragment_backend) return false;
    const struct glnn_frag *f = glnn_gpu_of(ctx)->frag;
    *passes = f->passes;
    *fetches = f->fetches;
    return true;
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

/* Whether unorm() (frag_common.glsl) with method gpu->frag->unorm turns every byte q of every component of a
 * sampled RGBA8 texel into the float32 nearest q/255. */
static glnn_status unorm_test(glnn_gpu *gpu, bool *exact, glnn_error *err) {
    uint8_t in[256 * 4], out[256 * 4 * 4];
    for (int x = 0; x < 256; x++) {
        in[4 * x] = (uint8_t)x;
        in[4 * x + 1] = (uint8_t)(x + 85);
        in[4 * x + 2] = (uint8_t)(x + 170);
        in[4 * x + 3] = (uint8_t)(255 - x);
    }
    GLuint src = 0, dst = 0, prog = 0;
    glnn_status s = glnn_frag_texture_create(256, 1, in, &src, "create context", err);
    if (s == GLNN_OK) s = glnn_frag_texture_create(256, 4, NULL, &dst, "create context", err);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_UNORM_TEST, "", &prog, err);
    if (s == GLNN_OK) {
        glUseProgram(prog);
        glnn_frag_bind_texture(prog, "u_input", 0, src);
        s = glnn_frag_draw(gpu, prog, dst, 256, 4, "create context: sampler test", err);
    }
    if (s == GLNN_OK) s = glnn_frag_read(gpu, dst, 256, 4, out, "create context: sampler test", err);
    if (s == GLNN_OK) {
        *exact = true;
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 256; x++) {
                uint8_t want[4];
                glnn_frag_float_bytes((float)in[4 * x + y] / 255.0f, want);
                *exact = *exact && memcmp(want, out + (y * 256 + x) * 4, 4) == 0;
            }
    }
    glnn_frag_texture_free(src);
    glnn_frag_texture_free(dst);
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
    /* Conv2D weights as literals in one program per output quad (fragment/conv2d.c) on large layers of software
     * renderers; GLNN_FRAG_BAKED=1 on every Conv2D that unrolls, 0 never (tests). */
    const char *bake = getenv("GLNN_FRAG_BAKED");
    f->bake_weights = bake && (strcmp(bake, "0") == 0 || strcmp(bake, "1") == 0) ? *bake - '0' : -1;
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
    /* The cheapest exact way from a sampled byte to q/255 (frag_common.glsl, unorm()): the sampled value, else the
     * sample corrected, else q without division, else the division.  GLNN_FRAG_UNORM=N caps the method (tests). */
    const char *cap = getenv("GLNN_FRAG_UNORM");
    for (f->unorm = cap && *cap >= '0' && *cap <= '3' && !cap[1] ? *cap - '0' : 3; s == GLNN_OK && f->unorm > 0;
         f->unorm--) {
        bool ok = false;
        s = unorm_test(gpu, &ok, err);
        if (ok) break;
    }
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
                            "sampled bytes: %s\n"
                            "Conv2D weights: in uniforms up to %d vec4 per output quad, else in textures%s\n"
                            "max_sampled_channels: %d%s\n",
                            ctx->device_name, g->egl_info, g->vendor, g->renderer, g->version, g->glsl_version,
                            g->max_texture_size, f->max_size, f->max_texture_units, f->max_fragment_uniforms,
                            f->highp_bits, f->exact_pow2 ? "multiplications (exp2 is inexact here)" : "exp2",
                            f->unorm == 3   ? "q/255 exactly, used as sampled"
                            : f->unorm == 2 ? "q/255 from the sample with a correction, without division"
                            : f->unorm == 1 ? "q/255 from q and the sample, without division"
                                            : "q, divided by 255",
                            f->weight_uniforms,
                            f->bake_weights == 1   ? "; literals in the source wherever unrolled (forced)"
                            : f->bake_weights == 0 ? ""
                            : g->software          ? "; literals in the source on large layers"
                                                   : "",
                            ctx->max_sampled_channels, ctx->max_sampled_channels ? "" : " (no limit)");
}
