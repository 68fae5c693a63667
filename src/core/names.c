/* Operation names (rule V1) and enumeration words. */
#include "internal.h"

#include <string.h>
#include <strings.h>

glnn_status glnn_op_check_name(const char *what, const char *name, glnn_error *err) {
    if (!what) what = "operation";
    if (!name) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid operation name: no name given", what);
    size_t n = strlen(name);
    if (n == 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid operation name: the name is empty", what);
    if (n > 253)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid operation name: %zu bytes long, at most 253 allowed",
                         what, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7F || c == '#')
            return glnn_fail(err, GLNN_ERR_ARGUMENT,
                             "%s: invalid operation name '%s': byte 0x%02X at position %zu is not allowed", what,
                             c == '#' ? name : "", c, i);
    }
    if (name[0] == ' ' || name[n - 1] == ' ')
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid operation name '%s': starts or ends with a space", what,
                         name);
    return GLNN_OK;
}

static const char *const padding_words[] = {"valid", "same", NULL};
static const char *const activation_words[] = {"default", "brelu6", "sigmoid_like", NULL};
static const char *const operator_words[] = {"max", "average", NULL};
static const char *const interpolation_words[] = {"nearest", "bilinear", NULL};

const glnn_enum_info glnn_padding_enum = {
    "Padding", "padding", padding_words,
    "Padding of Conv2D and Pooling2D (SPEC §3): VALID (no padding) or SAME (output size ceil(W/stride), "
    "TensorFlow rule)."};
const glnn_enum_info glnn_activation_enum = {
    "ActivationFunction", "activation function", activation_words,
    "Activation of a Conv2D (SPEC §4.6): DEFAULT (ReLU bounded at 1), BRELU6 (0.167·z, bounded) or SIGMOID_LIKE "
    "(piecewise-linear sigmoid)."};
const glnn_enum_info glnn_pooling_operator_enum = {"Pooling2D.Operator", "pooling operator", operator_words,
                                                   "Pooling2D operator (SPEC §5.1): MAX or AVERAGE."};
const glnn_enum_info glnn_interpolation_enum = {
    "Interpolation", "interpolation", interpolation_words,
    "Upsampling2D interpolation (SPEC §5.5): NEAREST or BILINEAR (half-pixel centres, as PyTorch's "
    "align_corners=False)."};

const char *glnn_enum_word(const glnn_enum_info *e, int value) {
    for (int i = 0; e && e->words[i]; i++)
        if (i == value) return e->words[i];
    return NULL;
}

glnn_status glnn_enum_parse(const glnn_enum_info *e, const char *text, int *out, glnn_error *err) {
    if (!e || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse enumeration: no enumeration or result pointer");
    for (int i = 0; text && e->words[i]; i++)
        if (strcasecmp(e->words[i], text) == 0) {
            *out = i;
            return GLNN_OK;
        }
    return glnn_fail(err, GLNN_ERR_ARGUMENT, "invalid %s '%s'", e->what, text ? text : "(null)");
}

/* The typed forms of the generic functions. */
#define GLNN_ENUM_FUNCTIONS_(type, prefix, info)                                                                       \
    glnn_status prefix##_parse(const char *text, type *out, glnn_error *err) {                                         \
        if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse %s: no result pointer", (info).what);                \
        int v;                                                                                                         \
        glnn_status s = glnn_enum_parse(&(info), text, &v, err);                                                       \
        if (s == GLNN_OK) *out = (type)v;                                                                              \
        return s;                                                                                                      \
    }                                                                                                                  \
    const char *prefix##_name(type value) {                                                                            \
        return glnn_enum_word(&(info), (int)value);                                                                    \
    }
GLNN_ENUM_FUNCTIONS_(glnn_padding, glnn_padding, glnn_padding_enum)
GLNN_ENUM_FUNCTIONS_(glnn_activation, glnn_activation, glnn_activation_enum)
GLNN_ENUM_FUNCTIONS_(glnn_pooling_operator, glnn_pooling_operator, glnn_pooling_operator_enum)
GLNN_ENUM_FUNCTIONS_(glnn_interpolation, glnn_interpolation, glnn_interpolation_enum)
