/* Channel shuffle of a connection (SPEC §6) on tensors kept in memory (the CPU back ends). */
#include "backends/backend.h"

#include <string.h>

glnn_status glnn_host_shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    (void)ctx;
    (void)err;
    const int64_t quads = in->shape.c / 4, pixels = in->shape.h * in->shape.w;
    for (int64_t p = 0; p < pixels; p++)
        for (int64_t i = 0; i < quads; i++)
            memcpy(out->bytes + (p * quads + i) * 4,
                   in->bytes + (p * quads + glnn_shuffle_source_quad(i, n, quads)) * 4, 4);
    return GLNN_OK;
}
