/* A model as listing text (SPEC §8): building a model from parsed blocks, printing it back. */
#include "model/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---- */

typedef enum { KEY_INT, KEY_BOOL, KEY_WORD } key_type;

typedef struct {
    const char *key;
    key_type type;
    bool required;
} key_spec;

typedef struct {
    bool present;
    int i;            /* KEY_INT, KEY_BOOL */
    const char *text; /* KEY_WORD */
} key_value;

#define MAX_KEYS 16

static glnn_status parse_int(const glnn_kv *kv, int *out, glnn_error *err) {
    const char *v = kv->value;
    const char *digits = v[0] == '-' ? v + 1 : v;
    bool ok = digits[0] != '\0';
    for (const char *p = digits; ok && *p; p++)
        ok = *p >= '0' && *p <= '9';
    long long x = 0;
    if (ok) {
        errno = 0;
        x = strtoll(v, NULL, 10);
        ok = errno == 0 && x >= INT32_MIN && x <= INT32_MAX;
    }
    if (!ok)
        return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: key '%s': '%s' is not a 32-bit decimal integer",
                         kv->line, kv->key, v);
    *out = (int)x;
    return GLNN_OK;
}

/* Reads a block's keys against its specification: unknown keys, bad values and missing required keys
 * are errors naming the line. */
static glnn_status read_keys(const glnn_block *b, const key_spec *specs, key_value *values, const char *type,
                             glnn_error *err) {
    int n_specs = 0;
    while (specs[n_specs].key)
        n_specs++;
    memset(values, 0, sizeof(key_value) * MAX_KEYS);
    for (int i = 0; i < b->count; i++) {
        const glnn_kv *kv = &b->kv[i];
        if (strcmp(kv->key, "_type") == 0) continue;
        int k = 0;
        while (k < n_specs && strcmp(specs[k].key, kv->key) != 0)
            k++;
        if (k == n_specs)
            return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: unknown key '%s' (value '%s') for %s", kv->line,
                             kv->key, kv->value, type);
        values[k].present = true;
        values[k].text = kv->value;
        if (specs[k].type == KEY_INT) {
            glnn_status s = parse_int(kv, &values[k].i, err);
            if (s != GLNN_OK) return s;
        } else if (specs[k].type == KEY_BOOL) {
            if (strcmp(kv->value, "true") != 0 && strcmp(kv->value, "false") != 0)
                return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: key '%s': '%s' is not 'true' or 'false'",
                                 kv->line, kv->key, kv->value);
            values[k].i = strcmp(kv->value, "true") == 0;
        }
    }
    for (int k = 0; k < n_specs; k++)
        if (specs[k].required && !values[k].present)
            return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: %s block lacks the required key '%s'", b->line,
                             type, specs[k].key);
    return GLNN_OK;
}

/* Prefixes a construction error with the block's line. */
static glnn_status at_line(glnn_status s, int line, const glnn_error *inner, glnn_error *err) {
    if (s == GLNN_OK) return s;
    return glnn_fail(err, s, "listing line %d: %s", line, inner->message);
}

static int value_line(const glnn_block *b, const char *key) {
    for (int i = 0; i < b->count; i++)
        if (strcmp(b->kv[i].key, key) == 0) return b->kv[i].line;
    return b->line;
}

/* An op block, read from the op's description: "_name", then every parameter under its listing key with its
 * type, default and the listing's own default; the op is then created as by its constructor. */
static glnn_status op_from_block(const glnn_block *b, glnn_op **op, glnn_error *err) {
    const char *type = NULL;
    for (int i = 0; i < b->count; i++)
        if (strcmp(b->kv[i].key, "_type") == 0) type = b->kv[i].value;
    if (!type) return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: operation block lacks '_type'", b->line);
    const glnn_op_info *info = glnn_op_info_find(type);
    if (!info) return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: unknown operation type '%s'", b->line, type);
    key_spec specs[MAX_KEYS + 1];
    int n = 0;
    specs[n++] = (key_spec){"_name", KEY_WORD, true};
    for (int i = 0; i < info->n_params && n < MAX_KEYS; i++) {
        const glnn_param_info *p = &info->params[i];
        specs[n++] = (key_spec){p->key,
                                p->type == GLNN_PARAM_INT    ? KEY_INT
                                : p->type == GLNN_PARAM_BOOL ? KEY_BOOL
                                                             : KEY_WORD,
                                p->required};
    }
    specs[n] = (key_spec){NULL, 0, false};
    key_value v[MAX_KEYS];
    glnn_status s = read_keys(b, specs, v, type, err);
    if (s != GLNN_OK) return s;
    int values[MAX_KEYS];
    for (int i = 0; i < info->n_params; i++) {
        const glnn_param_info *p = &info->params[i];
        const key_value *kv = &v[i + 1];
        values[i] = kv->present ? kv->i : p->listing_default;
        if (p->type != GLNN_PARAM_ENUM || !kv->present) continue;
        glnn_error inner;
        if (glnn_enum_parse(p->enumeration, kv->text, &values[i], &inner) != GLNN_OK)
            return glnn_fail(err, GLNN_ERR_FORMAT, "listing line %d: key '%s': %s", value_line(b, p->key), p->key,
                             inner.message);
    }
    glnn_error inner;
    return at_line(glnn_op_create(type, v[0].text, values, info->n_params, op, &inner), b->line, &inner, err);
}

static glnn_status connection_from_block(glnn_model *m, const glnn_block *b, glnn_error *err) {
    static const key_spec specs[] = {{"from", KEY_WORD, true},        {"to", KEY_WORD, true},
                                     {"from_output", KEY_INT, false}, {"to_input", KEY_INT, false},
                                     {"shuffle", KEY_INT, false},     {NULL, 0, false}};
    key_value v[MAX_KEYS];
    glnn_status s = read_keys(b, specs, v, "connection", err);
    if (s != GLNN_OK) return s;
    glnn_error inner;
    s = glnn_model_add_connection(m, v[0].text, v[1].text, v[2].i, v[3].i, v[4].i, &inner);
    return at_line(s, b->line, &inner, err);
}

glnn_status glnn_model_deserialize(const char *text, size_t length, glnn_model **out, glnn_error *err) {
    if (!text || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "read listing: no text or output handle");
    glnn_listing l;
    glnn_status s = glnn_listing_parse(text, length, &l, err);
    if (s != GLNN_OK) return s;
    glnn_model *m = NULL;
    s = glnn_model_create(&m, err);
    for (int i = 0; s == GLNN_OK && i < l.n_ops; i++) {
        glnn_op *op = NULL;
        s = op_from_block(&l.ops[i], &op, err);
        if (s == GLNN_OK) {
            glnn_error inner;
            s = at_line(glnn_model_append(m, op, false, &inner), l.ops[i].line, &inner, err);
        }
        glnn_op_release(op);
    }
    for (int i = 0; s == GLNN_OK && i < l.n_connections; i++)
        s = connection_from_block(m, &l.connections[i], err);
    glnn_listing_free(&l);
    if (s != GLNN_OK) {
        glnn_model_free(m);
        return s;
    }
    *out = m;
    return GLNN_OK;
}

glnn_status glnn_model_from_chunks(const glnn_chunks *chunks, glnn_model **out, glnn_error *err) {
    const void *text;
    size_t size;
    if (!chunks) return glnn_fail(err, GLNN_ERR_ARGUMENT, "load model: no chunks");
    if (!glnn_chunks_get(chunks, "", 0, &text, &size))
        return glnn_fail(err, GLNN_ERR_NOT_FOUND,
                         "load model: the chunk file has no model listing (no chunk with the empty id)");
    return glnn_model_deserialize(text, size, out, err);
}

/* ---- printing ---- */

static void append_kv(glnn_strbuf *t, bool first, const char *key, const char *value) {
    glnn_strbuf_add(t, "%s%s: %s\n", first ? " - " : "   ", key, value);
}

static void emit_key(void *user, const char *key, const char *value) {
    append_kv(user, false, key, value);
}

glnn_status glnn_model_serialize(const glnn_model *m, char **text, size_t *length, glnn_error *err) {
    if (!m || !text) return glnn_fail(err, GLNN_ERR_ARGUMENT, "serialize: no model or output");
    glnn_strbuf t = {0};
    char num[32];
    glnn_strbuf_add(&t, "connections:\n");
    for (int j = 0; j < m->n_conns; j++) {
        const glnn_connection *c = &m->conns[j];
        append_kv(&t, true, "from", c->source->name);
        if (c->output) {
            snprintf(num, sizeof num, "%d", c->output);
            append_kv(&t, false, "from_output", num);
        }
        if (c->shuffle) {
            snprintf(num, sizeof num, "%d", c->shuffle);
            append_kv(&t, false, "shuffle", num);
        }
        append_kv(&t, false, "to", c->dest->name);
        if (c->input) {
            snprintf(num, sizeof num, "%d", c->input);
            append_kv(&t, false, "to_input", num);
        }
    }
    glnn_strbuf_add(&t, "ops:\n");
    for (int i = 0; i < m->n_ops; i++) {
        const glnn_op *op = m->ops[i];
        append_kv(&t, true, "_name", op->name);
        append_kv(&t, false, "_type", op->cls->info.type_name);
        glnn_op_write_keys(op, emit_key, &t);
    }
    if (t.oom) {
        free(t.s);
        return glnn_fail(err, GLNN_ERR_MEMORY, "serialize: out of memory");
    }
    *text = t.s;
    if (length) *length = t.len;
    return GLNN_OK;
}
