/* The GPU side of a build without the GPU back ends (cmake -DGLNN_GPU=OFF; compiled only then): no EGL device ever
 * opens, so "auto" is the fast CPU back end and "gpu", "software" or an index is an error naming the build option. */
#include "backends/no_gpu.h"

#include <stdlib.h>
#include <string.h>

glnn_status glnn_gpu_create(const char *device, const char *path, glnn_gpu **out, glnn_error *err) {
    (void)path;
    *out = NULL;
    /* Names the GPU build would not know either are the same error as there (backends/gpu/context.c). */
    char *end;
    const long index = strtol(device, &end, 10);
    const bool known = strcmp(device, "auto") == 0 || strcmp(device, "gpu") == 0 || strcmp(device, "software") == 0 ||
                       (*device != '\0' && *end == '\0' && index >= 0);
    if (!known)
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "create context: unknown device '%s'; use 'auto', 'cpu', 'reference', 'gpu', 'software' or "
                         "an EGL device index",
                         device);
    return glnn_fail(err, GLNN_ERR_NOT_FOUND,
                     "device '%s': this glnn was built without the GPU back ends (GLNN_GPU=OFF); use cpu or reference",
                     device);
}

glnn_status glnn_list_devices(char *buf, size_t size, size_t *length, glnn_error *err) {
    if (buf && size) buf[0] = '\0';
    if (length) *length = 0;
    return glnn_fail(err, GLNN_ERR_DEVICE,
                     "list devices: this glnn was built without the GPU back ends (GLNN_GPU=OFF)");
}

/* Named by backends.c, never used: no GPU context is ever made. */
const glnn_backend glnn_compute_backend = {.name = "compute"}, glnn_fragment_backend = {.name = "fragment"};
