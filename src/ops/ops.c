/* The list of operations (GLNN_OPS) and the generic work on their descriptions: lookup, creation from parameter
 * values, reading parameters back, one-line descriptions.  Listing text is read and written from the same
 * descriptions (model/text.c). */
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLNN_OP_CLASS_ENTRY_(KIND, type, Class) [GLNN_OP_##KIND] = &glnn_##type##_class,
static const glnn_op_class *const classes[GLNN_OP_KIND_COUNT] = {GLNN_OPS(GLNN_OP_CLASS_ENTRY_)};

const glnn_op_class *glnn_op_class_of(glnn_op_kind kind) {
    return kind > GLNN_OP_NONE && kind < GLNN_OP_KIND_COUNT ? classes[kind] : NULL;
}

const glnn_op_info *glnn_op_info_at(int index) {
    const glnn_op_class *cls = glnn_op_class_of((glnn_op_kind)(index + 1));
    return cls ? &cls->info : NULL;
}

static const glnn_op_class *class_named(const char *type_name) {
    for (int k = GLNN_OP_NONE + 1; type_name && k < GLNN_OP_KIND_COUNT; k++)
        if (strcmp(classes[k]->info.type_name, type_name) == 0) return classes[k];
    return NULL;
}

const glnn_op_info *glnn_op_info_find(const char *type_name) {
    const glnn_op_class *cls = class_named(type_name);
    return cls ? &cls->info : NULL;
}

const glnn_op_info *glnn_op_get_info(const glnn_op *op) {
    return op ? &op->cls->info : NULL;
}

/* The int, bool or enumeration at parameter i of a typed parameter struct. */
static int load_param(const glnn_op_class *cls, const void *params, int i) {
    const char *at = (const char *)params + cls->offsets[i];
    if (cls->info.params[i].type == GLNN_PARAM_BOOL) return *(const bool *)at;
    int v;
    memcpy(&v, at, sizeof v); /* enumerations are int-sized */
    return v;
}

static void store_param(const glnn_op_class *cls, void *params, int i, int value) {
    char *at = (char *)params + cls->offsets[i];
    if (cls->info.params[i].type == GLNN_PARAM_BOOL)
        *(bool *)at = value != 0;
    else
        memcpy(at, &value, sizeof value);
}

glnn_status glnn_op_create(const char *type_name, const char *name, const int *values, int n_values, glnn_op **out,
                           glnn_error *err) {
    const glnn_op_class *cls = class_named(type_name);
    if (!cls)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create operation: unknown operation type '%s'",
                         type_name ? type_name : "(null)");
    if (!out || (n_values > 0 && !values) || n_values != cls->info.n_params)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create %s: %d parameter values given for %d parameters, or no output",
                         cls->info.class_name, n_values, cls->info.n_params);
    void *params = calloc(1, cls->params_size);
    if (!params) return glnn_fail(err, GLNN_ERR_MEMORY, "create %s: out of memory", cls->info.class_name);
    if (cls->params_init) cls->params_init(params);
    memcpy(params, &name, sizeof name); /* every parameter struct starts with its name */
    for (int i = 0; i < n_values; i++)
        store_param(cls, params, i, values[i]);
    glnn_status s = glnn_op_create_typed(cls, params, out, err);
    free(params);
    return s;
}

/* Parameter i of op as given at creation, or its effective value (what listings show). */
static int param_value(const glnn_op *op, int i, bool effective) {
    const glnn_op_class *cls = op->cls;
    int v = load_param(cls, (const char *)op + cls->params_offset, i);
    return effective && cls->effective ? cls->effective(op, i, v) : v;
}

glnn_status glnn_op_get_param(const glnn_op *op, int index, int *value, glnn_error *err) {
    if (!op || !value) return glnn_fail(err, GLNN_ERR_ARGUMENT, "get parameter: no operation or result pointer");
    if (index < 0 || index >= op->cls->info.n_params)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "get parameter of '%s': no parameter #%d (%s has %d)", op->name, index,
                         op->cls->info.class_name, op->cls->info.n_params);
    *value = param_value(op, index, false);
    return GLNN_OK;
}

/* The text of a parameter value as listings print it. */
static void value_text(const glnn_param_info *p, int v, char *buf, size_t size) {
    if (p->type == GLNN_PARAM_BOOL)
        snprintf(buf, size, "%s", v ? "true" : "false");
    else if (p->type == GLNN_PARAM_ENUM)
        snprintf(buf, size, "%s", glnn_enum_word(p->enumeration, v) ? glnn_enum_word(p->enumeration, v) : "?");
    else
        snprintf(buf, size, "%d", v);
}

void glnn_op_write_keys(const glnn_op *op, void (*emit)(void *user, const char *key, const char *value), void *user) {
    const glnn_op_info *info = &op->cls->info;
    bool done[64] = {false};
    for (int n = 0; n < info->n_params && n < 64; n++) {
        int next = -1; /* keys in byte-wise ascending order (SPEC §8.4) */
        for (int i = 0; i < info->n_params && i < 64; i++)
            if (!done[i] && (next < 0 || strcmp(info->params[i].key, info->params[next].key) < 0)) next = i;
        done[next] = true;
        char buf[32];
        value_text(&info->params[next], param_value(op, next, true), buf, sizeof buf);
        emit(user, info->params[next].key, buf);
    }
}

size_t glnn_op_describe(const glnn_op *op, char *buf, size_t size) {
    if (!buf) size = 0;
    if (size) buf[0] = '\0';
    if (!op || !op->cls->info.summary) return 0;
    const glnn_op_info *info = &op->cls->info;
    size_t len = 0;
    for (const char *p = info->summary; *p;) {
        char piece[64] = "";
        if (*p != '{') {
            piece[0] = *p++;
        } else {
            /* {param} is the value; {param?yes} is `yes` when the value is true; {param?yes|no}. */
            const char *close = strchr(p, '}'), *q = memchr(p, '?', close ? (size_t)(close - p) : 0);
            if (!close) break;
            const char *bar = q ? memchr(q, '|', (size_t)(close - q)) : NULL, *end = bar ? bar : close;
            size_t name_len = (size_t)((q ? q : close) - p - 1);
            for (int i = 0; i < info->n_params; i++) {
                if (strlen(info->params[i].name) != name_len || strncmp(info->params[i].name, p + 1, name_len))
                    continue;
                int v = param_value(op, i, true);
                if (q && v)
                    snprintf(piece, sizeof piece, "%.*s", (int)(end - q - 1), q + 1);
                else if (q && bar)
                    snprintf(piece, sizeof piece, "%.*s", (int)(close - bar - 1), bar + 1);
                else if (!q)
                    value_text(&info->params[i], v, piece, sizeof piece);
            }
            p = close + 1;
        }
        size_t n = strlen(piece);
        if (len + n < size)
            memcpy(buf + len, piece, n + 1);
        else if (len < size)
            buf[size - 1] = '\0';
        len += n;
    }
    return len;
}
