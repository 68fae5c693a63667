/* The generic structure of model listings (SPEC §8.1–8.2): chapters of blocks of "key: value" lines.
 * Which keys mean what is the model code's business; this file only checks the layout. */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct chapter {
    char *name;
    int line;
    glnn_block *blocks;
    int count, capacity;
} chapter;

typedef struct parser {
    chapter *chapters;
    int count, capacity;
    bool has_indent; /* s is fixed by the first entry line */
    size_t indent;
    int line; /* current line number */
    glnn_error *err;
} parser;

static void free_blocks(glnn_block *blocks, int count) {
    for (int i = 0; i < count; i++) {
        for (int j = 0; j < blocks[i].count; j++) {
            free(blocks[i].kv[j].key);
            free(blocks[i].kv[j].value);
        }
        free(blocks[i].kv);
    }
    free(blocks);
}

static void free_chapters(parser *p) {
    for (int i = 0; i < p->count; i++) {
        free(p->chapters[i].name);
        free_blocks(p->chapters[i].blocks, p->chapters[i].count);
    }
    free(p->chapters);
    p->chapters = NULL;
    p->count = p->capacity = 0;
}

void glnn_listing_free(glnn_listing *l) {
    if (!l) return;
    free_blocks(l->ops, l->n_ops);
    free_blocks(l->connections, l->n_connections);
    memset(l, 0, sizeof *l);
}

static glnn_status out_of_memory(parser *p) {
    return glnn_fail(p->err, GLNN_ERR_MEMORY, "listing line %d: out of memory", p->line);
}

static char *copy_text(const char *text, size_t length) {
    char *s = malloc(length + 1);
    if (!s) return NULL;
    memcpy(s, text, length);
    s[length] = '\0';
    return s;
}

static bool has_blank(const char *text, size_t length) {
    return memchr(text, ' ', length) != NULL || memchr(text, '\t', length) != NULL;
}

/* Returns the array of `count` items grown to hold one more (items itself when there is room), or NULL
 * when out of memory. */
static void *grow(void *items, int count, int *capacity, size_t item_size) {
    if (count < *capacity) return items;
    if (*capacity > INT_MAX / 2) return NULL;
    int new_capacity = *capacity > 0 ? *capacity * 2 : 8;
    if ((size_t)new_capacity > SIZE_MAX / item_size) return NULL;
    void *grown = realloc(items, (size_t)new_capacity * item_size);
    if (grown) *capacity = new_capacity;
    return grown;
}

/* "NAME:" at column 0. */
static glnn_status parse_header(parser *p, const char *text, size_t length) {
    size_t name_length = length - 1;
    if (text[length - 1] != ':' || name_length == 0 || memchr(text, ':', name_length) || has_blank(text, name_length))
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: expected a chapter header 'NAME:', got '%.*s'",
                         p->line, (int)(length < 64 ? length : 64), text);
    if (p->count >= GLNN_MAX_CHAPTERS)
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: more than %d chapters", p->line, GLNN_MAX_CHAPTERS);
    for (int i = 0; i < p->count; i++)
        if (strlen(p->chapters[i].name) == name_length && memcmp(p->chapters[i].name, text, name_length) == 0)
            return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: repeated chapter '%s' (first at line %d)",
                             p->line, p->chapters[i].name, p->chapters[i].line);
    chapter *chapters = grow(p->chapters, p->count, &p->capacity, sizeof *chapters);
    if (!chapters) return out_of_memory(p);
    p->chapters = chapters;
    chapter *c = &chapters[p->count];
    memset(c, 0, sizeof *c);
    c->line = p->line;
    if (!(c->name = copy_text(text, name_length))) return out_of_memory(p);
    p->count++;
    return GLNN_OK;
}

/* "key: value" into the block; a new block first when `entry`. */
static glnn_status parse_pair(parser *p, const char *text, size_t length, bool entry) {
    const char *colon = memchr(text, ':', length);
    size_t key_length = colon ? (size_t)(colon - text) : 0;
    if (key_length == 0 || has_blank(text, key_length))
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: expected 'key: value', got '%.*s'", p->line,
                         (int)(length < 64 ? length : 64), text);
    size_t value_start = key_length + 1;
    while (value_start < length && text[value_start] == ' ')
        value_start++;

    chapter *c = &p->chapters[p->count - 1];
    if (entry) {
        glnn_block *blocks = grow(c->blocks, c->count, &c->capacity, sizeof *blocks);
        if (!blocks) return out_of_memory(p);
        c->blocks = blocks;
        glnn_block *b = &blocks[c->count++];
        memset(b, 0, sizeof *b);
        b->line = p->line;
    }
    glnn_block *b = &c->blocks[c->count - 1];
    if (b->count >= GLNN_MAX_BLOCK_KEYS)
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: more than %d keys in the block of line %d", p->line,
                         GLNN_MAX_BLOCK_KEYS, b->line);
    for (int i = 0; i < b->count; i++)
        if (strlen(b->kv[i].key) == key_length && memcmp(b->kv[i].key, text, key_length) == 0)
            return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: repeated key '%s' (first at line %d)", p->line,
                             b->kv[i].key, b->kv[i].line);
    glnn_kv *kv = realloc(b->kv, ((size_t)b->count + 1) * sizeof *kv);
    if (!kv) return out_of_memory(p);
    b->kv = kv;
    kv = &b->kv[b->count];
    kv->key = copy_text(text, key_length);
    kv->value = copy_text(text + value_start, length - value_start);
    kv->line = p->line;
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return out_of_memory(p);
    }
    b->count++;
    return GLNN_OK;
}

/* One line without its end of line, comment and trailing spaces; not empty. */
static glnn_status parse_line(parser *p, const char *text, size_t length) {
    if (memchr(text, '\0', length))
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: contains a NUL byte", p->line);
    size_t indent = 0;
    while (indent < length && text[indent] == ' ')
        indent++;
    if (indent == 0 && text[0] != '-') return parse_header(p, text, length);

    bool entry = text[indent] == '-' && (!p->has_indent || indent == p->indent);
    bool continuation = !entry && p->has_indent && indent == p->indent + 2;
    if (!entry && !continuation)
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: unexpected indent", p->line);
    if (p->count == 0) return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: entry before any chapter", p->line);
    if (continuation) {
        if (p->chapters[p->count - 1].count == 0)
            return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: unexpected indent (no entry to continue)",
                             p->line);
        return parse_pair(p, text + indent, length - indent, false);
    }
    if (indent + 1 >= length || text[indent + 1] != ' ')
        return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing line %d: expected '- key: value', got '%.*s'", p->line,
                         (int)(length < 64 ? length : 64), text);
    p->has_indent = true;
    p->indent = indent;
    return parse_pair(p, text + indent + 2, length - indent - 2, true);
}

static glnn_status parse_lines(parser *p, const char *text, size_t length) {
    size_t pos = 0;
    while (pos < length) {
        size_t start = pos;
        const char *lf = memchr(text + pos, '\n', length - pos);
        size_t end = lf ? (size_t)(lf - text) : length;
        pos = lf ? end + 1 : length;
        if (p->line == INT_MAX) return glnn_fail(p->err, GLNN_ERR_FORMAT, "listing: more than %d lines", INT_MAX);
        p->line++;
        if (lf && end > start && text[end - 1] == '\r') end--;
        const char *hash = memchr(text + start, '#', end - start);
        if (hash) end = (size_t)(hash - text);
        while (end > start && text[end - 1] == ' ')
            end--;
        if (end == start) continue;
        glnn_status s = parse_line(p, text + start, end - start);
        if (s != GLNN_OK) return s;
    }
    return GLNN_OK;
}

static chapter *find_chapter(parser *p, const char *name) {
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->chapters[i].name, name) == 0) return &p->chapters[i];
    return NULL;
}

glnn_status glnn_listing_parse(const char *text, size_t length, glnn_listing *out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse listing: no output");
    memset(out, 0, sizeof *out);
    if (!text && length > 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "parse listing: text is NULL");

    parser p = {.err = err};
    glnn_status s = parse_lines(&p, text, length);
    chapter *ops = s == GLNN_OK ? find_chapter(&p, "ops") : NULL;
    if (s == GLNN_OK && !ops) s = glnn_fail(err, GLNN_ERR_FORMAT, "listing: no 'ops' chapter");
    if (s != GLNN_OK) {
        free_chapters(&p);
        return s;
    }
    /* Move the two chapters that matter out of the parser; the others go. */
    out->ops = ops->blocks;
    out->n_ops = ops->count;
    ops->blocks = NULL;
    ops->count = 0;
    chapter *connections = find_chapter(&p, "connections");
    if (connections) {
        out->connections = connections->blocks;
        out->n_connections = connections->count;
        connections->blocks = NULL;
        connections->count = 0;
    }
    free_chapters(&p);
    glnn_ok(err);
    return GLNN_OK;
}
