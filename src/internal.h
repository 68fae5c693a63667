/* Internal interfaces shared by the library's parts.  Not installed. */
#ifndef GLNN_INTERNAL_H
#define GLNN_INTERNAL_H

#include "glnn.h"

#include <stdarg.h>
#include <stdint.h>

/* ---- errors (core/error.c) ---- */
/* Fills err (if not NULL) and returns status. */
glnn_status glnn_fail(glnn_error *err, glnn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void glnn_ok(glnn_error *err);

/* ---- growing strings (core/strbuf.c) ---- */
/* Text built by appending; {0} is empty.  `oom` is set, and further additions ignored, when memory runs out;
 * the owner frees `s`. */
typedef struct glnn_strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} glnn_strbuf;
void glnn_strbuf_add(glnn_strbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- checked arithmetic (core/error.c) ---- */
/* a·b into *out; false on overflow or negative operands. */
bool glnn_mul_i64(int64_t a, int64_t b, int64_t *out);

/* ---- quantization and activations: the one place (core/quant.c) ---- */
/* act(z) of SPEC §4.6, before Q's clamp. */
static inline float glnn_activate(glnn_activation a, float z) {
    switch (a) {
    case GLNN_ACTIVATION_BRELU6: return 0.167f * z;
    case GLNN_ACTIVATION_SIGMOID_LIKE: {
        float t1 = 0.1f * z, t2 = 0.05f * z;
        t1 = t1 < -0.05f ? -0.05f : (t1 > 0.05f ? 0.05f : t1);
        t2 = t2 < -0.125f ? -0.125f : (t2 > 0.125f ? 0.125f : t2);
        return t1 + t2 + 0.05f * z + 0.5f;
    }
    default: return z;
    }
}

/* SPEC §2.2 on float user data: an error unless every value lies in [−1/510, 1 + 1/510] (NaN and ±∞ included),
 * naming `what`, the flat index and the value of the first one and how to fix it. */
glnn_status glnn_check_user_floats(const char *what, const float *data, int64_t count, glnn_error *err);
/* The check, then Q of every value into out. */
glnn_status glnn_quantize_user(const char *what, const float *data, uint8_t *out, int64_t count, glnn_error *err);

/* ---- geometry: the one place (core/geometry.c) ---- */
typedef struct glnn_axis {
    int64_t n;      /* output length; ≤ 0 means empty (VALID with input < k) */
    int64_t before; /* padding before (left/top) */
} glnn_axis;
/* SPEC §3 along one axis. */
glnn_axis glnn_axis_geometry(int64_t input, int k, int s, glnn_padding padding);

/* ---- chunks helpers (formats/chunks.c) ---- */
/* Reads the float32 chunk `<op_name><suffix>`: NOT_FOUND when absent.  Checks the size (expected floats)
 * and that every value is finite; *out is malloc'ed. `what` names the op in messages. */
glnn_status glnn_chunks_read_floats(const glnn_chunks *chunks, const char *op_name, const char *suffix,
                                    int64_t expected, const char *what, float **out, glnn_error *err);

/* ---- storage size ---- */
/* Bytes a tensor of this shape takes in the layout every back end can hold: one byte per value of a tensor,
 * four per pixel of an image (RGB + one unused), four per element of a vector; -1 on overflow.  Memory
 * accounting and the size limits use it. */
int64_t glnn_storage_bytes(glnn_shape shape);

/* ---- resource limits ---- */
/* Largest tensor on the CPU reference, in bytes of storage (a GPU context uses its shader storage block
 * limit).  Fuzzing builds lower it so that one input cannot ask for gigabytes. */
#ifndef GLNN_CPU_MAX_TENSOR_BYTES
#define GLNN_CPU_MAX_TENSOR_BYTES ((int64_t)INT32_MAX)
#endif
/* Records in one chunk file; operations and connections in one model; keys in one listing block and
 * chapters in one listing.  Far above any real model, low enough that no input makes glnn quadratic
 * for long. */
#define GLNN_MAX_CHUNK_RECORDS (1 << 20)
#define GLNN_MAX_OPS 4096
#define GLNN_MAX_CONNECTIONS 16384
#define GLNN_MAX_BLOCK_KEYS 1024
#define GLNN_MAX_CHAPTERS 1024

/* Checks that a tensor of this shape can exist on ctx (valid kind and dimensions, size within the
 * back end's limits) without allocating anything.  `what` prefixes the message. */
glnn_status glnn_check_tensor_shape(const glnn_context *ctx, glnn_shape shape, const char *what, glnn_error *err);

/* ---- names (core/names.c) ---- */
/* The enumerations of the op parameters (SPEC §4.1, §5). */
extern const glnn_enum_info glnn_padding_enum, glnn_activation_enum, glnn_pooling_operator_enum,
    glnn_interpolation_enum;
/* The word of an enumeration value, NULL when out of range. */
const char *glnn_enum_word(const glnn_enum_info *e, int value);

/* ---- channel shuffle on connections (SPEC §6) ---- */
/* Consumer quad i reads producer quad (n·i mod Q) + n·i / Q. */
static inline int64_t glnn_shuffle_source_quad(int64_t i, int64_t n, int64_t quads) {
    return (n * i) % quads + (n * i) / quads;
}

/* ---- model listings (formats/listing.c) ---- */
/* A parsed listing: chapters of blocks of key/value pairs with line numbers. */
typedef struct glnn_kv {
    char *key, *value;
    int line;
} glnn_kv;
typedef struct glnn_block {
    glnn_kv *kv;
    int count;
    int line; /* line of the "- " entry */
} glnn_block;
typedef struct glnn_listing {
    glnn_block *ops;
    int n_ops;
    glnn_block *connections;
    int n_connections;
} glnn_listing;
glnn_status glnn_listing_parse(const char *text, size_t length, glnn_listing *out, glnn_error *err);
void glnn_listing_free(glnn_listing *l);

#endif
