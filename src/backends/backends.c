/* Context creation: the one place where a device name becomes a back end.
 *   "auto"       a hardware GPU when there is one, else the fast CPU back end — or, when a GPU path (compute or
 *                fragment) is asked for, Mesa's software renderer, as "gpu" does
 *   "cpu"        the fast CPU back end (backends/cpu)
 *   "reference"  the plain-C reference that defines every result (backends/reference)
 *   "gpu", "software", "N"  a GPU through EGL (backends/gpu): "gpu" the first hardware device, else Mesa's software
 *                renderer; "software" the latter; "N" the N-th EGL device.  The compute path (GLES 3.1) or the
 *                fragment path (GLES 2.0), as `path` asks or the device allows. */
#include "backends/backend.h"
#ifdef GLNN_NO_GPU
#include "backends/no_gpu.h" /* built without the GPU back ends (GLNN_GPU=OFF) */
#else
#include "backends/gpu/gpu.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool contains_nocase(const char *text, const char *word) {
    size_t n = strlen(word);
    for (; *text; text++)
        if (strncasecmp(text, word, n) == 0) return true;
    return false;
}

static bool is_videocore_iv(const char *renderer) {
    return contains_nocase(renderer, "VideoCore IV") || contains_nocase(renderer, "VC4");
}

/* The option as given, else the environment variable `env` (then *from is its name, for messages: the user may not
 * know it is set; else ""), else "auto". */
static const char *option_or_env(const char *given, const char *env, const char **from) {
    *from = "";
    if (given && *given) return given;
    const char *value = getenv(env);
    if (!value || !*value) return "auto";
    *from = env;
    return value;
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
    const char *device_env, *path_env;
    const char *device = option_or_env(options->device, "GLNN_DEVICE", &device_env);
    const char *given = option_or_env(options->path, "GLNN_PATH", &path_env), *path = NULL;
    static const char *const paths[] = {"auto", "compute", "fragment"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (strcasecmp(given, paths[i]) == 0) path = paths[i];
    if (!path)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create context: unknown path '%s'%s%s; use compute, fragment or auto",
                         given, *path_env ? " from " : "", path_env);

    glnn_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    glnn_status s = GLNN_OK;
    glnn_error cause;
    glnn_gpu *gpu = NULL;
    /* A GPU path asked for by name needs a GPU: "auto" then means "gpu" (the software renderer where no hardware
     * GPU is found) rather than the CPU back end, on which the path would be silently ignored. */
    if (strcasecmp(device, "auto") == 0 && strcmp(path, "auto") != 0) device = "gpu";
    const bool cpu = strcasecmp(device, "cpu") == 0, reference = strcasecmp(device, "reference") == 0;
    if (!cpu && !reference) {
        s = glnn_gpu_create(device, path, &gpu, &cause);
        /* "auto" without a hardware GPU: the fast CPU back end. */
        if (s == GLNN_ERR_NOT_FOUND && strcasecmp(device, "auto") == 0)
            s = GLNN_OK;
        else if (s != GLNN_OK && *device_env)
            glnn_fail(err, s, "%s (device from %s)", cause.message, device_env);
        else if (s != GLNN_OK)
            glnn_fail(err, s, "%s", cause.message);
    }
    if (s == GLNN_OK && gpu) {
        ctx->impl = gpu;
        ctx->backend = gpu->fragment ? &glnn_fragment_backend : &glnn_compute_backend;
        snprintf(ctx->device_name, sizeof ctx->device_name, "%s", gpu->renderer);
    } else if (s == GLNN_OK && reference) {
        ctx->backend = &glnn_reference_backend;
        snprintf(ctx->device_name, sizeof ctx->device_name, "cpu reference");
    } else if (s == GLNN_OK) {
        ctx->backend = &glnn_cpu_backend;
        s = glnn_cpu_device_open(ctx, err);
    }
    if (s != GLNN_OK) {
        free(ctx);
        return s;
    }
    ctx->max_sampled_channels = options->max_sampled_channels >= 0      ? options->max_sampled_channels
                                : gpu && is_videocore_iv(gpu->renderer) ? 256
                                                                        : 0;
    *out = ctx;
    glnn_ok(err);
    return GLNN_OK;
}
