/* The CPU reference back end (device "reference"): plain C whose results define every operation (SPEC §1, §2.5).
 * Tensors live in memory as HWC bytes, images as H×W×3 bytes, vectors as floats; the storage functions are
 * shared with the other back ends that keep tensors in memory. */
#include "backends/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

glnn_status glnn_host_tensor_create(glnn_tensor *t, glnn_error *err) {
    const int64_t n = glnn_shape_count(t->shape);
    if (t->shape.kind == GLNN_KIND_VECTOR)
        t->floats = calloc((size_t)n, sizeof(float));
    else
        t->bytes = calloc((size_t)n, 1);
    if (!t->floats && !t->bytes)
        return glnn_fail(err, GLNN_ERR_MEMORY, "create %s: out of memory",
                         t->shape.kind == GLNN_KIND_VECTOR  ? "vector"
                         : t->shape.kind == GLNN_KIND_IMAGE ? "image"
                                                            : "tensor");
    return GLNN_OK;
}

void glnn_host_tensor_free(glnn_tensor *t) {
    free(t->bytes);
    free(t->floats);
}

glnn_status glnn_host_tensor_store(glnn_tensor *t, const uint8_t *bytes, const float *floats, const char *what,
                                   glnn_error *err) {
    (void)what;
    (void)err;
    const int64_t n = glnn_shape_count(t->shape);
    if (t->shape.kind == GLNN_KIND_VECTOR)
        memcpy(t->floats, floats, (size_t)n * sizeof(float));
    else
        memcpy(t->bytes, bytes, (size_t)n);
    return GLNN_OK;
}

glnn_status glnn_host_tensor_load(const glnn_tensor *t, uint8_t *bytes, float *floats, const char *what,
                                  glnn_error *err) {
    (void)what;
    (void)err;
    const int64_t n = glnn_shape_count(t->shape);
    if (t->shape.kind == GLNN_KIND_VECTOR)
        memcpy(floats, t->floats, (size_t)n * sizeof(float));
    else
        memcpy(bytes, t->bytes, (size_t)n);
    return GLNN_OK;
}

glnn_status glnn_host_check_shape(const glnn_context *ctx, glnn_shape shape, int64_t bytes, const char *what,
                                  glnn_error *err) {
    if (bytes <= GLNN_CPU_MAX_TENSOR_BYTES) return GLNN_OK;
    return glnn_fail(err, GLNN_ERR_MEMORY,
                     "%s: a %lld×%lld×%lld %s needs %lld bytes, above the %s's limit of %lld bytes", what,
                     (long long)shape.h, (long long)shape.w, (long long)shape.c,
                     shape.kind == GLNN_KIND_IMAGE    ? "image"
                     : shape.kind == GLNN_KIND_VECTOR ? "vector"
                                                      : "tensor",
                     (long long)bytes, ctx->backend == &glnn_reference_backend ? "CPU reference" : "CPU",
                     (long long)GLNN_CPU_MAX_TENSOR_BYTES);
}

static size_t describe(const glnn_context *ctx, char *buf, size_t size) {
    return (size_t)snprintf(buf, size,
                            "device: cpu reference\n"
                            "max_sampled_channels: %d (not enforced on the CPU)\n",
                            ctx->max_sampled_channels);
}

static const char *no_timer(const glnn_context *ctx) {
    (void)ctx;
    return "CPU context";
}

#define GLNN_BACKEND_PREFIX glnn_reference
GLNN_BACKEND_DECLARE_OPS
#undef GLNN_BACKEND_PREFIX

#define GLNN_BACKEND_PREFIX glnn_reference
const glnn_backend glnn_reference_backend = {
    .name = "reference",
    .is_gpu = false,
    GLNN_BACKEND_OPS,
    .check_shape = glnn_host_check_shape,
    GLNN_STORAGE(glnn_host),
    .shuffle = glnn_host_shuffle,
    .no_timer = no_timer,
    .describe = describe,
};
