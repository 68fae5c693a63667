/* Contexts: the device a computation runs on.  Created by backends/backends.c, which picks the back end;
 * everything here goes through the back end's table. */
#include "backends/backend.h"

#include <stdio.h>
#include <stdlib.h>

void glnn_context_options_init(glnn_context_options *o) {
    if (!o) return;
    o->device = NULL;
    o->max_sampled_channels = -1;
    o->path = NULL;
}

void glnn_context_free(glnn_context *ctx) {
    if (!ctx) return;
    if (ctx->backend->destroy) ctx->backend->destroy(ctx);
    free(ctx);
}

bool glnn_context_is_gpu(const glnn_context *ctx) {
    return ctx && ctx->backend->is_gpu;
}
const char *glnn_context_path(const glnn_context *ctx) {
    return ctx ? ctx->backend->name : "cpu";
}
const char *glnn_context_device_name(const glnn_context *ctx) {
    return ctx ? ctx->device_name : "";
}
int glnn_context_max_sampled_channels(const glnn_context *ctx) {
    return ctx ? ctx->max_sampled_channels : 0;
}

glnn_status glnn_context_set_max_sampled_channels(glnn_context *ctx, int limit, glnn_error *err) {
    if (!ctx) return glnn_fail(err, GLNN_ERR_ARGUMENT, "set max_sampled_channels: no context");
    if (limit < 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set max_sampled_channels: the limit must be 0 or more, got %d",
                         limit);
    ctx->max_sampled_channels = limit;
    return GLNN_OK;
}

glnn_status glnn_context_counters(const glnn_context *ctx, int64_t *passes, int64_t *texel_fetches, glnn_error *err) {
    if (!ctx || !passes || !texel_fetches)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "context counters: no %s", ctx ? "result pointer" : "context");
    if (!ctx->backend->counters || !ctx->backend->counters(ctx, passes, texel_fetches))
        return glnn_fail(err, GLNN_ERR_STATE, "context counters: the %s path does not count passes and texel fetches",
                         ctx->backend->name);
    return GLNN_OK;
}

size_t glnn_context_describe(const glnn_context *ctx, char *buf, size_t size) {
    if (!ctx) return 0;
    if (!buf) size = 0;
    return ctx->backend->describe(ctx, buf, size);
}
