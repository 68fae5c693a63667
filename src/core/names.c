/* Operation names (rule V1) and enumeration words. */
#include "internal.h"

#include <string.h>
#include <strings.h>

glnn_status glnn_check_op_name(const char *what, const char *name, glnn_error *err) {
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

typedef struct {
    const char *word;
    int value;
} enum_word;

static const enum_word paddings[] = {{"valid", GLNN_PADDING_VALID}, {"same", GLNN_PADDING_SAME}, {NULL, 0}};
static const enum_word activations[] = {{"default", GLNN_ACTIVATION_DEFAULT},
                                        {"brelu6", GLNN_ACTIVATION_BRELU6},
                                        {"sigmoid_like", GLNN_ACTIVATION_SIGMOID_LIKE},
                                        {NULL, 0}};
static const enum_word operators[] = {{"max", GLNN_POOLING_MAX}, {"average", GLNN_POOLING_AVERAGE}, {NULL, 0}};

static glnn_status parse_word(const enum_word *words, const char *what, const char *text, int *out, glnn_error *err) {
    for (const enum_word *w = words; text && w->word; w++)
        if (strcasecmp(w->word, text) == 0) {
            *out = w->value;
            return GLNN_OK;
        }
    return glnn_fail(err, GLNN_ERR_ARGUMENT, "invalid %s '%s'", what, text ? text : "(null)");
}

static const char *word_of(const enum_word *words, int value) {
    for (const enum_word *w = words; w->word; w++)
        if (w->value == value) return w->word;
    return NULL;
}

glnn_status glnn_padding_parse(const char *text, glnn_padding *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse padding: no result pointer");
    int v;
    glnn_status s = parse_word(paddings, "padding", text, &v, err);
    if (s == GLNN_OK) *out = (glnn_padding)v;
    return s;
}
glnn_status glnn_activation_parse(const char *text, glnn_activation *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse activation function: no result pointer");
    int v;
    glnn_status s = parse_word(activations, "activation function", text, &v, err);
    if (s == GLNN_OK) *out = (glnn_activation)v;
    return s;
}
glnn_status glnn_pooling_operator_parse(const char *text, glnn_pooling_operator *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse pooling operator: no result pointer");
    int v;
    glnn_status s = parse_word(operators, "pooling operator", text, &v, err);
    if (s == GLNN_OK) *out = (glnn_pooling_operator)v;
    return s;
}
const char *glnn_padding_name(glnn_padding p) {
    return word_of(paddings, (int)p);
}
const char *glnn_activation_name(glnn_activation a) {
    return word_of(activations, (int)a);
}
const char *glnn_pooling_operator_name(glnn_pooling_operator o) {
    return word_of(operators, (int)o);
}
