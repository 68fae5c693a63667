/* Builds without the GPU back ends (cmake -DGLNN_GPU=OFF): what backends.c needs of backends/gpu/gpu.h, without EGL
 * or OpenGL ES headers.  glnn_gpu_create always answers GLNN_ERR_NOT_FOUND, so that "auto" takes the fast CPU back
 * end and the GPU devices are errors saying why (no_gpu.c).  Internal. */
#ifndef GLNN_NO_GPU_H
#define GLNN_NO_GPU_H

#include "backends/backend.h"

typedef struct glnn_gpu {
    bool fragment;
    char renderer[256];
} glnn_gpu;

glnn_status glnn_gpu_create(const char *device, const char *path, glnn_gpu **out, glnn_error *err);

#endif
