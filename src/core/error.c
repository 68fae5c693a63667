/* Error reporting and checked arithmetic. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

glnn_status glnn_fail(glnn_error *err, glnn_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void glnn_ok(glnn_error *err) {
    if (err) {
        err->status = GLNN_OK;
        err->message[0] = '\0';
    }
}

const char *glnn_status_name(glnn_status status) {
    switch (status) {
    case GLNN_OK: return "ok";
    case GLNN_ERR_ARGUMENT: return "invalid argument";
    case GLNN_ERR_STATE: return "invalid state";
    case GLNN_ERR_NOT_FOUND: return "not found";
    case GLNN_ERR_FORMAT: return "format error";
    case GLNN_ERR_IO: return "i/o error";
    case GLNN_ERR_DEVICE: return "device error";
    case GLNN_ERR_MEMORY: return "out of memory";
    }
    return "unknown status";
}

void glnn_free(void *ptr) {
    free(ptr);
}

bool glnn_mul_i64(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > INT64_MAX / a) return false;
    *out = a * b;
    return true;
}
