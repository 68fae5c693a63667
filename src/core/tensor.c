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

/* Moves count values between the caller and a tensor's storage: bytes or floats on the caller's side, the
 * storage's type on the other (floats for vectors, bytes otherwise), converting where they differ: bytes to
 * floats as q/255, floats to bytes with Q (SPEC §2.2). */
static glnn_status transfer(const glnn_tensor *t, bool upload, const uint8_t *in_u8, const float *in_f32,
                            uint8_t *out_u8, float *out_f32, int64_t count, glnn_error *err) {
    const char *what = upload ? "upload tensor" : "download tensor";
    glnn_status s = check_count(what, t,
                                upload ? (const void *)(in_u8 ? (const void *)in_u8 : in_f32)
                                       : (const void *)(out_u8 ? (const void *)out_u8 : out_f32),
                                count, err);
    if (s != GLNN_OK) return s;
    const bool floats = t->shape.kind == GLNN_KIND_VECTOR, caller_floats = upload ? in_f32 != NULL : out_f32 != NULL;
    /* Floats that become bytes must lie in [0, 1]; a vector takes any number but NaN. */
    if (in_f32 && !floats) s = glnn_check_user_floats(what, in_f32, count, err);
    for (int64_t i = 0; s == GLNN_OK && in_f32 && floats && i < count; i++)
        if (isnan(in_f32[i])) s = glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: NaN at flat index %lld", what, (long long)i);
    if (s != GLNN_OK) return s;
    if (floats == caller_floats)
        return upload ? store((glnn_tensor *)t, in_u8, in_f32, what, err) : load(t, out_u8, out_f32, what, err);
    /* The storage's type differs from the caller's: convert through a buffer of it. */
    void *buf = malloc((size_t)count * (floats ? sizeof(float) : 1));
    if (!buf) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    float *f = floats ? buf : NULL;
    uint8_t *q = floats ? NULL : buf;
    if (upload) {
        for (int64_t i = 0; i < count; i++)
            if (f)
                f[i] = in_u8[i] / 255.0f;
            else
                q[i] = glnn_quantize(in_f32[i]);
        s = store((glnn_tensor *)t, q, f, what, err);
    } else {
        s = load(t, q, f, what, err);
        for (int64_t i = 0; s == GLNN_OK && i < count; i++)
            if (f)
                out_u8[i] = glnn_quantize(f[i]);
            else
                out_f32[i] = q[i] / 255.0f;
    }
    free(buf);
    return s;
}

glnn_status glnn_tensor_upload_u8(glnn_tensor *t, const uint8_t *data, int64_t count, glnn_error *err) {
    return transfer(t, true, data, NULL, NULL, NULL, count, err);
}

glnn_status glnn_tensor_upload_f32(glnn_tensor *t, const float *data, int64_t count, glnn_error *err) {
    return transfer(t, true, NULL, data, NULL, NULL, count, err);
}

glnn_status glnn_tensor_download_u8(const glnn_tensor *t, uint8_t *data, int64_t count, glnn_error *err) {
    return transfer(t, false, NULL, NULL, data, NULL, count, err);
}

glnn_status glnn_tensor_download_f32(const glnn_tensor *t, float *data, int64_t count, glnn_error *err) {
    return transfer(t, false, NULL, NULL, NULL, data, count, err);
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
