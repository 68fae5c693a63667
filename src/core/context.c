/* Contexts: the device a computation runs on. */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void glnn_context_options_init(glnn_context_options *o) {
    if (!o) return;
    o->device = NULL;
    o->max_sampled_channels = -1;
    o->path = NULL;
}

static bool contains_nocase(const char *text, const char *word) {
    size_t n = strlen(word);
    for (; *text; text++)
        if (strncasecmp(text, word, n) == 0) return true;
    return false;
}

static bool is_videocore_iv(const char *renderer) {
    return contains_nocase(renderer, "VideoCore IV") || contains_nocase(renderer, "VC4");
}

glnn_status glnn_context_create(const glnn_context_options *options, glnn_context **out, glnn_error *err) {
    glnn_context_options defaults;
    if (!options) {
        glnn_context_options_init(&defaults);
        options = &defaults;
    }
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create context: no output handle");
    if (options->max_sampled_channels < -1)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create context: max_sampled_channels must be 0 or more, got %d",
                         options->max_sampled_channels);
    const char *device = options->device;
    if (!device || !*device) device = getenv("GLNN_DEVICE");
    if (!device || !*device) device = "auto";
    const char *given = options->path, *path = NULL;
    if (!given || !*given) given = getenv("GLNN_PATH");
    if (!given || !*given) given = "auto";
    static const char *const paths[] = {"auto", "compute", "fragment"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (strcasecmp(given, paths[i]) == 0) path = paths[i];
    if (!path)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create context: unknown path '%s'; use compute, fragment or auto",
                         given);

    glnn_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    if (strcasecmp(device, "cpu") == 0) {
        snprintf(ctx->device_name, sizeof ctx->device_name, "cpu reference");
        ctx->max_sampled_channels = options->max_sampled_channels < 0 ? 0 : options->max_sampled_channels;
    } else {
        glnn_status s = glnn_gpu_create(device, path, &ctx->gpu, err);
        if (s != GLNN_OK) {
            free(ctx);
            return s;
        }
        ctx->is_gpu = true;
        snprintf(ctx->device_name, sizeof ctx->device_name, "%s", ctx->gpu->renderer);
        ctx->max_sampled_channels = options->max_sampled_channels >= 0    ? options->max_sampled_channels
                                    : is_videocore_iv(ctx->gpu->renderer) ? 256
                                                                          : 0;
    }
    *out = ctx;
    glnn_ok(err);
    return GLNN_OK;
}

void glnn_context_free(glnn_context *ctx) {
    if (!ctx) return;
    glnn_gpu_free(ctx->gpu);
    free(ctx);
}

bool glnn_context_is_gpu(const glnn_context *ctx) {
    return ctx && ctx->is_gpu;
}
const char *glnn_context_path(const glnn_context *ctx) {
    return !ctx || !ctx->is_gpu ? "cpu" : ctx->gpu->fragment ? "fragment" : "compute";
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

size_t glnn_context_describe(const glnn_context *ctx, char *buf, size_t size) {
    if (!ctx) return 0;
    if (!buf) size = 0;
    if (!ctx->is_gpu)
        return (size_t)snprintf(buf, size,
                                "device: cpu reference\n"
                                "max_sampled_channels: %d (not enforced on the CPU)\n",
                                ctx->max_sampled_channels);
    const glnn_gpu *g = ctx->gpu;
    if (g->fragment) return glnn_frag_describe(ctx, buf, size);
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
