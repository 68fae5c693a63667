/* The fragment path's storage: tensors, images and vectors as RGBA8 textures (layouts in frag.h), and float32
 * weights as byte-plane textures. */
#include "backends/gpu/fragment/frag.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(glnn_data_kind k) {
    return k == GLNN_KIND_IMAGE ? "image" : k == GLNN_KIND_VECTOR ? "vector" : "tensor";
}

glnn_status glnn_frag_layout_of(const glnn_gpu *gpu, glnn_shape s, glnn_frag_layout *l, const char *what,
                                glnn_error *err) {
    const int64_t max = gpu->frag->max_size;
    memset(l, 0, sizeof *l);
    if (s.kind == GLNN_KIND_VECTOR) {
        l->width = s.c < max ? s.c : max;
        l->height = (s.c + l->width - 1) / l->width;
        l->tile_w = l->width;
        l->tile_h = l->height;
        l->tiles = l->rows = 1;
    } else {
        l->tile_w = s.w;
        l->tile_h = s.h;
        l->tiles = s.kind == GLNN_KIND_IMAGE ? 1 : s.c / 4;
        int64_t per_column = s.h <= max ? max / s.h : 0;
        if (per_column > 0) {
            int64_t cols = (l->tiles + per_column - 1) / per_column;
            l->rows = (l->tiles + cols - 1) / cols;
            l->width = cols <= max ? cols * s.w : max + 1;
            l->height = l->rows * s.h;
        }
    }
    if (l->rows == 0 || l->width > max || l->height > max)
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: a %lld×%lld×%lld %s does not fit in a texture of this device (at most %lld×%lld texels)",
                         what, (long long)s.h, (long long)s.w, (long long)s.c, kind_name(s.kind), (long long)max,
                         (long long)max);
    return GLNN_OK;
}

void glnn_frag_set_layout(GLuint program, const char *prefix, const glnn_frag_layout *l) {
    char name[64];
    snprintf(name, sizeof name, "%s_layout", prefix);
    glUniform4f(glGetUniformLocation(program, name), (float)l->tile_w, (float)l->tile_h, (float)l->rows,
                (float)l->tiles);
    snprintf(name, sizeof name, "%s_scale", prefix);
    glUniform2f(glGetUniformLocation(program, name), 1.0f / (float)l->width, 1.0f / (float)l->height);
}

glnn_status glnn_frag_texture_create(int64_t width, int64_t height, const uint8_t *texels, GLuint *out,
                                     const char *what, glnn_error *err) {
    uint8_t *zeros = NULL;
    if (!texels) {
        texels = zeros = calloc((size_t)(width * height), 4);
        if (!zeros) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    GLuint t = 0;
    glGenTextures(1, &t);
    glBindTexture(GL_TEXTURE_2D, t);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, (GLsizei)width, (GLsizei)height, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels);
    free(zeros);
    glnn_status s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) {
        glDeleteTextures(1, &t);
        return s;
    }
    *out = t;
    return GLNN_OK;
}

void glnn_frag_texture_free(GLuint texture) {
    if (texture) glDeleteTextures(1, &texture);
}

void glnn_frag_float_bytes(float f, uint8_t b[4]) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
}

static float float_of_bytes(const uint8_t b[4]) {
    uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

glnn_status glnn_frag_tensor_create(glnn_tensor *t, glnn_error *err) {
    glnn_frag_layout l;
    char what[32];
    snprintf(what, sizeof what, "create %s", kind_name(t->shape.kind));
    glnn_status s = glnn_frag_layout_of(glnn_gpu_of(t->ctx), t->shape, &l, what, err);
    if (s == GLNN_OK) s = glnn_frag_texture_create(l.width, l.height, NULL, &t->texture, what, err);
    return s;
}

void glnn_frag_tensor_free(glnn_tensor *t) {
    if (t->texture && glnn_gpu_make_current(glnn_gpu_of(t->ctx), NULL) == GLNN_OK) glnn_frag_texture_free(t->texture);
    t->texture = 0;
}

/* Byte offset of texel (x, y) of pixel (x, y), quad q, in the texture of layout l. */
static size_t texel_offset(const glnn_frag_layout *l, int64_t x, int64_t y, int64_t q) {
    int64_t col = q / l->rows, row = q % l->rows;
    return (size_t)(((row * l->tile_h + y) * l->width + col * l->tile_w + x) * 4);
}

glnn_status glnn_frag_tensor_store(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what,
                                   glnn_error *err) {
    const glnn_shape s = t->shape;
    glnn_frag_layout l;
    glnn_status st = glnn_frag_layout_of(glnn_gpu_of(t->ctx), s, &l, what, err);
    if (st != GLNN_OK) return st;
    uint8_t *tex = calloc((size_t)(l.width * l.height), 4);
    if (!tex) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (s.kind == GLNN_KIND_VECTOR)
        for (int64_t n = 0; n < s.c; n++)
            glnn_frag_float_bytes(floats[n], tex + n * 4);
    else
        for (int64_t y = 0; y < s.h; y++)
            for (int64_t x = 0; x < s.w; x++) {
                const uint8_t *px = bytes + (y * s.w + x) * s.c;
                if (s.kind == GLNN_KIND_IMAGE)
                    memcpy(tex + texel_offset(&l, x, y, 0), px, 3);
                else
                    for (int64_t q = 0; q < l.tiles; q++)
                        memcpy(tex + texel_offset(&l, x, y, q), px + 4 * q, 4);
            }
    glBindTexture(GL_TEXTURE_2D, t->texture);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, (GLsizei)l.width, (GLsizei)l.height, GL_RGBA, GL_UNSIGNED_BYTE, tex);
    free(tex);
    return glnn_gpu_check(what, err);
}

glnn_status glnn_frag_tensor_load(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what,
                                  glnn_error *err) {
    const glnn_shape s = t->shape;
    glnn_frag_layout l;
    glnn_status st = glnn_frag_layout_of(glnn_gpu_of(t->ctx), s, &l, what, err);
    if (st != GLNN_OK) return st;
    uint8_t *tex = malloc((size_t)(l.width * l.height) * 4);
    if (!tex) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    st = glnn_frag_read(glnn_gpu_of(t->ctx), t->texture, l.width, l.height, tex, what, err);
    if (st == GLNN_OK && s.kind == GLNN_KIND_VECTOR)
        for (int64_t n = 0; n < s.c; n++)
            floats[n] = float_of_bytes(tex + n * 4);
    else if (st == GLNN_OK)
        for (int64_t y = 0; y < s.h; y++)
            for (int64_t x = 0; x < s.w; x++) {
                uint8_t *px = bytes + (y * s.w + x) * s.c;
                if (s.kind == GLNN_KIND_IMAGE)
                    memcpy(px, tex + texel_offset(&l, x, y, 0), 3);
                else
                    for (int64_t q = 0; q < l.tiles; q++)
                        memcpy(px + 4 * q, tex + texel_offset(&l, x, y, q), 4);
            }
    free(tex);
    return st;
}

void glnn_frag_taps_release(glnn_context *ctx, void *state) {
    glnn_frag_taps_state *st = state;
    glnn_gpu_free_state(ctx, st, NULL, 0, &st->taps, 1);
}

glnn_status glnn_frag_taps_create(const glnn_gpu *gpu, const glnn_sampler_tap *tx, int64_t nx,
                                  const glnn_sampler_tap *ty, int64_t ny, int64_t in_w, int64_t in_h, GLuint *texture,
                                  int64_t *width, const char *what, glnn_error *err) {
    const int64_t n = nx > ny ? nx : ny;
    if (n > gpu->frag->max_size || in_w > 65535 || in_h > 65535)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: the sizes exceed the device's texture size limit of %d", what,
                         gpu->frag->max_size);
    uint8_t *t = calloc((size_t)n * 4, 4);
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int axis = 0; axis < 2; axis++)
        for (int64_t j = 0; j < (axis ? ny : nx); j++) {
            const glnn_sampler_tap *tap = axis ? &ty[j] : &tx[j];
            uint8_t *idx = t + ((2 * axis) * n + j) * 4;
            idx[0] = (uint8_t)(tap->i0 & 0xFF);
            idx[1] = (uint8_t)(tap->i0 >> 8);
            idx[2] = (uint8_t)(tap->i1 & 0xFF);
            idx[3] = (uint8_t)(tap->i1 >> 8);
            glnn_frag_float_bytes((float)tap->f, t + ((2 * axis + 1) * n + j) * 4);
        }
    glnn_status s = glnn_frag_texture_create(n, 4, t, texture, what, err);
    free(t);
    *width = n;
    return s;
}

glnn_status glnn_frag_taps_prepare(glnn_gpu *gpu, const glnn_sampler_tap *tx, int64_t nx, const glnn_sampler_tap *ty,
                                   int64_t ny, int64_t in_w, int64_t in_h, glnn_shader shader, const char *defines,
                                   void **state, const char *what, glnn_error *err) {
    glnn_frag_taps_state *st = calloc(1, sizeof *st);
    *state = st;
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    glnn_status s =
        tx ? glnn_frag_taps_create(gpu, tx, nx, ty, ny, in_w, in_h, &st->taps, &st->taps_width, what, err) : GLNN_OK;
    if (s == GLNN_OK) s = glnn_frag_program(gpu, shader, defines, &st->program, err);
    return s;
}

void glnn_frag_taps_bind(GLuint prog, const glnn_frag_taps_state *st, GLuint fallback) {
    if (st->taps) glUniform2f(glGetUniformLocation(prog, "u_taps_scale"), 1.0f / (float)st->taps_width, 0.25f);
    glnn_frag_bind_texture(prog, "u_taps", 1, st->taps ? st->taps : fallback);
}

glnn_status glnn_frag_weights_layout(const glnn_gpu *gpu, int64_t blocks, int64_t groups, glnn_frag_weights *out,
                                     const char *what, glnn_error *err) {
    const int64_t max = gpu->frag->max_size, texels = 4 * groups, per_row = (max < 4096 ? max : 4096) / 4 * 4;
    out->width = texels < per_row ? texels : per_row;
    out->rows = (texels + out->width - 1) / out->width;
    out->height = blocks * out->rows;
    if (out->height > max)
        return glnn_fail(
            err, GLNN_ERR_MEMORY,
            "%s: %lld float32 parameters need a %lld×%lld texture, above this device's limit of %lld texels", what,
            (long long)(blocks * texels), (long long)out->width, (long long)out->height, (long long)max);
    return GLNN_OK;
}

glnn_status glnn_frag_weights_create(const glnn_gpu *gpu, const float *values, int64_t blocks, int64_t groups,
                                     GLuint *texture, const char *what, glnn_error *err) {
    glnn_frag_weights w;
    glnn_status s = glnn_frag_weights_layout(gpu, blocks, groups, &w, what, err);
    if (s != GLNN_OK) return s;
    uint8_t *tex = calloc((size_t)(w.width * w.height), 4);
    if (!tex) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t g = 0; g < groups; g++) {
            const int64_t n = 4 * g, y = b * w.rows + n / w.width, x = n % w.width;
            for (int j = 0; j < 4; j++) {
                uint8_t v[4];
                glnn_frag_float_bytes(values[(b * groups + g) * 4 + j], v);
                for (int i = 0; i < 4; i++)
                    tex[((y * w.width) + x + i) * 4 + j] = v[i];
            }
        }
    s = glnn_frag_texture_create(w.width, w.height, tex, texture, what, err);
    free(tex);
    return s;
}

void glnn_frag_set_weights_layout(GLuint program, const glnn_frag_weights *w) {
    glUniform4f(glGetUniformLocation(program, "u_w_layout"), (float)w->width, (float)w->rows, 1.0f / (float)w->width,
                1.0f / (float)w->height);
}
