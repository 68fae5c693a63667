/* Tensors, images and vectors on any back end (their storage is the back end's), and the conversions of
 * SPEC §2. */
#include "backends/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t glnn_shape_count(glnn_shape s) {
    int64_t hw, n;
    if (!glnn_mul_i64(s.h, s.w, &hw) || !glnn_mul_i64(hw, s.c, &n)) return -1;
    return n;
}

int64_t glnn_storage_bytes(glnn_shape s) {
    int64_t n = glnn_shape_count(s);
    if (n < 0) return -1;
    if (s.kind == GLNN_KIND_IMAGE) return n / 3 * 4;
    return n * (s.kind == GLNN_KIND_VECTOR ? 4 : 1);
}

static const char *kind_name(glnn_data_kind k) {
    return k == GLNN_KIND_IMAGE ? "image" : k == GLNN_KIND_VECTOR ? "vector" : "tensor";
}

glnn_status glnn_check_tensor_shape(const glnn_context *ctx, glnn_shape shape, const char *what, glnn_error *err) {
    const char *kn = kind_name(shape.kind);
    if (shape.kind != GLNN_KIND_TENSOR && shape.kind != GLNN_KIND_IMAGE && shape.kind != GLNN_KIND_VECTOR)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: unknown kind %d", what, (int)shape.kind);
    if (shape.h < 1 || shape.w < 1 || shape.c < 1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: every dimension of a %s must be positive, got %lld×%lld×%lld",
                         what, kn, (long long)shape.h, (long long)shape.w, (long long)shape.c);
    if (shape.kind == GLNN_KIND_TENSOR && shape.c % 4 != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: tensor depth must be a multiple of 4, got %lld", what,
                         (long long)shape.c);
    if (shape.kind == GLNN_KIND_IMAGE && shape.c != 3)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: an image has 3 channels, got %lld", what, (long long)shape.c);
    if (shape.kind == GLNN_KIND_VECTOR && (shape.h != 1 || shape.w != 1))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: a vector is 1×1×N, got %lld×%lld×%lld", what, (long long)shape.h,
                         (long long)shape.w, (long long)shape.c);
    int64_t bytes = glnn_storage_bytes(shape);
    if (bytes < 0 || (uint64_t)bytes > SIZE_MAX / 2)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a %lld×%lld×%lld %s is too large (its size overflows)", what,
                         (long long)shape.h, (long long)shape.w, (long long)shape.c, kn);
    if (ctx && ctx->backend->check_shape) return ctx->backend->check_shape(ctx, shape, bytes, what, err);
    return GLNN_OK;
}

glnn_status glnn_tensor_create(glnn_context *ctx, glnn_shape shape, glnn_tensor **out, glnn_error *err) {
    if (!ctx || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create tensor: no context or output handle");
    const char *kn = kind_name(shape.kind);
    char what[32];
    snprintf(what, sizeof what, "create %s", kn);
    glnn_status check = glnn_check_tensor_shape(ctx, shape, what, err);
    if (check != GLNN_OK) return check;
    glnn_tensor *t = calloc(1, sizeof *t);
    if (!t) return glnn_fail(err, GLNN_ERR_MEMORY, "create %s: out of memory", kn);
    t->ctx = ctx;
    t->shape = shape;
    glnn_status s = ctx->backend->activate ? ctx->backend->activate(ctx, err) : GLNN_OK;
    if (s == GLNN_OK) s = ctx->backend->tensor_create(t, err);
    if (s != GLNN_OK) {
        glnn_tensor_free(t);
        return s;
    }
    *out = t;
    return GLNN_OK;
}

void glnn_tensor_free(glnn_tensor *t) {
    if (!t) return;
    t->ctx->backend->tensor_free(t);
    free(t);
}

glnn_shape glnn_tensor_shape(const glnn_tensor *t) {
    glnn_shape none = {0, 0, 0, 0};
    return t ? t->shape : none;
}

static glnn_status check_count(const char *what, const glnn_tensor *t, const void *data, int64_t count,
                               glnn_error *err) {
    if (!t || !data) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no tensor or data", what);
    int64_t n = glnn_shape_count(t->shape);
    if (count != n)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: %lld values given for a %lld×%lld×%lld %s (%lld values)", what,
                         (long long)count, (long long)t->shape.h, (long long)t->shape.w, (long long)t->shape.c,
                         kind_name(t->shape.kind), (long long)n);
    return GLNN_OK;
}

/* Writes HWC bytes (or floats, for vectors) into the tensor's storage. */
static glnn_status store(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what, glnn_error *err) {
    const glnn_backend *b = t->ctx->backend;
    glnn_status s = b->activate ? b->activate(t->ctx, err) : GLNN_OK;
    return s == GLNN_OK ? b->tensor_store(t, bytes, floats, what, err) : s;
}

/* Reads the tensor's storage as HWC bytes (or floats for vectors) into the caller's arrays. */
static glnn_status load(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what, glnn_error *err) {
    const glnn_backend *b = t->ctx->backend;
    glnn_status s = b->activate ? b->activate(t->ctx, err) : GLNN_OK;
    return s == GLNN_OK ? b->tensor_load(t, bytes, floats, what, err) : s;
}

glnn_status glnn_tensor_upload_u8(glnn_tensor *t, const uint8_t *data, int64_t count, glnn_error *err) {
    const char *what = "upload tensor";
    glnn_status s = check_count(what, t, data, count, err);
    if (s != GLNN_OK) return s;
    if (t->shape.kind != GLNN_KIND_VECTOR) return store(t, data, NULL, what, err);
    float *f = malloc((size_t)count * sizeof(float));
    if (!f) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t i = 0; i < count; i++)
        f[i] = data[i] / 255.0f;
    s = store(t, NULL, f, what, err);
    free(f);
    return s;
}

glnn_status glnn_tensor_upload_f32(glnn_tensor *t, const float *data, int64_t count, glnn_error *err) {
    const char *what = "upload tensor";
    glnn_status s = check_count(what, t, data, count, err);
    if (s != GLNN_OK) return s;
    for (int64_t i = 0; i < count; i++)
        if (isnan(data[i])) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: NaN at flat index %lld", what, (long long)i);
    if (t->shape.kind == GLNN_KIND_VECTOR) return store(t, NULL, data, what, err);
    uint8_t *q = malloc((size_t)count);
    if (!q) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t i = 0; i < count; i++)
        q[i] = glnn_quantize(data[i]);
    s = store(t, q, NULL, what, err);
    free(q);
    return s;
}

glnn_status glnn_tensor_download_u8(const glnn_tensor *t, uint8_t *data, int64_t count, glnn_error *err) {
    const char *what = "download tensor";
    glnn_status s = check_count(what, t, data, count, err);
    if (s != GLNN_OK) return s;
    if (t->shape.kind != GLNN_KIND_VECTOR) return load(t, data, NULL, what, err);
    float *f = malloc((size_t)count * sizeof(float));
    if (!f) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    s = load(t, NULL, f, what, err);
    for (int64_t i = 0; s == GLNN_OK && i < count; i++)
        data[i] = glnn_quantize(f[i]);
    free(f);
    return s;
}

glnn_status glnn_tensor_download_f32(const glnn_tensor *t, float *data, int64_t count, glnn_error *err) {
    const char *what = "download tensor";
    glnn_status s = check_count(what, t, data, count, err);
    if (s != GLNN_OK) return s;
    if (t->shape.kind == GLNN_KIND_VECTOR) return load(t, NULL, data, what, err);
    uint8_t *q = malloc((size_t)count);
    if (!q) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    s = load(t, q, NULL, what, err);
    for (int64_t i = 0; s == GLNN_OK && i < count; i++)
        data[i] = q[i] / 255.0f;
    free(q);
    return s;
}

glnn_status glnn_image_create(glnn_context *ctx, const uint8_t *pixels, int64_t h, int64_t w, int channels,
                              glnn_tensor **out, glnn_error *err) {
    if (!pixels) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create image: no pixels");
    if (channels != 1 && channels != 3 && channels != 4)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create image: %d channels per pixel; 1, 3 or 4 are supported",
                         channels);
    glnn_shape shape = {GLNN_KIND_IMAGE, h, w, 3};
    glnn_tensor *t;
    glnn_status s = glnn_tensor_create(ctx, shape, &t, err);
    if (s != GLNN_OK) return s;
    int64_t n = h * w;
    uint8_t *rgb = malloc((size_t)n * 3);
    if (!rgb) {
        glnn_tensor_free(t);
        return glnn_fail(err, GLNN_ERR_MEMORY, "create image: out of memory");
    }
    for (int64_t p = 0; p < n; p++)
        for (int c = 0; c < 3; c++)
            rgb[3 * p + c] = pixels[p * channels + (channels == 1 ? 0 : c)];
    s = glnn_tensor_upload_u8(t, rgb, n * 3, err);
    free(rgb);
    if (s != GLNN_OK) {
        glnn_tensor_free(t);
        return s;
    }
    *out = t;
    return GLNN_OK;
}
