/* Shared by the libFuzzer harnesses: a check that survives NDEBUG and reports through the sanitizer's
 * crash path, so that libFuzzer saves the input. */
#ifndef GLNN_FUZZ_H
#define GLNN_FUZZ_H

#include "glnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* A failed call must fill the error with its status and a message. */
static inline void fuzz_check_error(glnn_status s, const glnn_error *err) {
    FUZZ_CHECK(s != GLNN_OK, "status");
    FUZZ_CHECK(err->status == s, "error status %d, returned %d", (int)err->status, (int)s);
    FUZZ_CHECK(err->message[0] != '\0' && memchr(err->message, '\0', sizeof err->message) != NULL,
               "empty or unterminated message");
}

#endif
