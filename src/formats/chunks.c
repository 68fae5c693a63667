/* Chunk collections and chunk files (SPEC §9): named binary records, kept sorted by id. */
#define _POSIX_C_SOURCE 200809L /* open, fdopen, fstat, fsync, getpid */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ID_LENGTH 255
#define MAX_PAYLOAD_SIZE UINT32_MAX
#define TEMP_NAME_ATTEMPTS 100

_Static_assert(SIZE_MAX >= UINT32_MAX, "a chunk payload size must fit in size_t");

typedef struct chunk {
    char *id; /* id_len bytes followed by a NUL */
    size_t id_len;
    uint8_t *data; /* size bytes; never NULL */
    size_t size;
    size_t seq; /* record number while reading a file: the later of two equal ids wins */
} chunk;

struct glnn_chunks {
    chunk *items; /* ids unique, byte-wise ascending, a shorter prefix first */
    size_t count, capacity;
};

/* ---- the collection ---- */

static int compare_ids(const char *a, size_t a_len, const char *b, size_t b_len) {
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n > 0 ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return a_len < b_len ? -1 : (a_len > b_len ? 1 : 0);
}

/* Binary search: true and the index when present, else false and the insertion point. */
static bool find(const glnn_chunks *c, const char *id, size_t id_len, size_t *pos) {
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = compare_ids(c->items[mid].id, c->items[mid].id_len, id, id_len);
        if (cmp == 0) {
            *pos = mid;
            return true;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

/* Makes room for `extra` more items; false when out of memory. */
static bool reserve(glnn_chunks *c, size_t extra) {
    if (c->capacity - c->count >= extra) return true;
    size_t capacity = c->capacity > 0 ? c->capacity : 16;
    while (capacity - c->count < extra) {
        if (capacity > SIZE_MAX / 2 / sizeof(chunk)) return false;
        capacity *= 2;
    }
    chunk *items = realloc(c->items, capacity * sizeof *items);
    if (!items) return false;
    c->items = items;
    c->capacity = capacity;
    return true;
}

/* Allocates an item with a copy of id and room for `size` payload bytes; false when out of memory. */
static bool chunk_alloc(const char *id, size_t id_len, size_t size, chunk *out) {
    out->id = malloc(id_len + 1);
    out->data = malloc(size > 0 ? size : 1);
    if (!out->id || !out->data) {
        free(out->id);
        free(out->data);
        return false;
    }
    if (id_len > 0) memcpy(out->id, id, id_len);
    out->id[id_len] = '\0';
    out->id_len = id_len;
    out->size = size;
    out->seq = 0;
    return true;
}

static void chunk_free(chunk *item) {
    free(item->id);
    free(item->data);
}

/* Inserts or replaces; takes ownership of item.  Room must have been reserved. */
static void put(glnn_chunks *c, chunk item) {
    size_t pos;
    if (find(c, item.id, item.id_len, &pos)) {
        chunk_free(&c->items[pos]);
        c->items[pos] = item;
        return;
    }
    memmove(&c->items[pos + 1], &c->items[pos], (c->count - pos) * sizeof *c->items);
    c->items[pos] = item;
    c->count++;
}

glnn_status glnn_chunks_create(glnn_chunks **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create chunks: no output handle");
    glnn_chunks *c = calloc(1, sizeof *c);
    if (!c) return glnn_fail(err, GLNN_ERR_MEMORY, "create chunks: out of memory");
    *out = c;
    glnn_ok(err);
    return GLNN_OK;
}

void glnn_chunks_free(glnn_chunks *c) {
    if (!c) return;
    for (size_t i = 0; i < c->count; i++)
        chunk_free(&c->items[i]);
    free(c->items);
    free(c);
}

glnn_status glnn_chunks_set(glnn_chunks *c, const char *id, size_t id_len, const void *data, size_t size,
                            glnn_error *err) {
    if (!c) return glnn_fail(err, GLNN_ERR_ARGUMENT, "set chunk: no chunk collection");
    if (!id && id_len > 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "set chunk: id is NULL");
    if (id_len > MAX_ID_LENGTH)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set chunk '%.*s...': id of %zu bytes is longer than %d bytes", 32, id,
                         id_len, MAX_ID_LENGTH);
    if (!data && size > 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set chunk '%.*s': data is NULL for %zu bytes", (int)id_len, id, size);
    chunk item;
    if (!reserve(c, 1) || !chunk_alloc(id, id_len, size, &item))
        return glnn_fail(err, GLNN_ERR_MEMORY, "set chunk '%.*s': out of memory for %zu bytes", (int)id_len, id, size);
    if (size > 0) memcpy(item.data, data, size);
    put(c, item);
    glnn_ok(err);
    return GLNN_OK;
}

bool glnn_chunks_get(const glnn_chunks *c, const char *id, size_t id_len, const void **data, size_t *size) {
    size_t pos;
    if (!c || (!id && id_len > 0) || !find(c, id, id_len, &pos)) return false;
    if (data) *data = c->items[pos].data;
    if (size) *size = c->items[pos].size;
    return true;
}

bool glnn_chunks_remove(glnn_chunks *c, const char *id, size_t id_len) {
    size_t pos;
    if (!c || (!id && id_len > 0) || !find(c, id, id_len, &pos)) return false;
    chunk_free(&c->items[pos]);
    memmove(&c->items[pos], &c->items[pos + 1], (c->count - pos - 1) * sizeof *c->items);
    c->count--;
    return true;
}

size_t glnn_chunks_count(const glnn_chunks *c) {
    return c ? c->count : 0;
}

void glnn_chunks_id_at(const glnn_chunks *c, size_t i, const char **id, size_t *id_len) {
    bool valid = c && i < c->count;
    if (id) *id = valid ? c->items[i].id : NULL;
    if (id_len) *id_len = valid ? c->items[i].id_len : 0;
}

/* ---- little-endian helpers ---- */

static uint32_t load_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_u32le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- reading ---- */

/* Where records come from: a memory block or an open file, whose total size is known up front. */
typedef struct reader {
    FILE *file; /* NULL: read from mem */
    const uint8_t *mem;
    uint64_t size, pos;
    const char *what; /* message prefix */
} reader;

static glnn_status reader_read(reader *r, void *dst, size_t n, glnn_error *err) {
    if (n == 0) return GLNN_OK;
    if (!r->file) {
        memcpy(dst, r->mem + r->pos, n);
    } else if (fread(dst, 1, n, r->file) != n) {
        if (ferror(r->file))
            return glnn_fail(err, GLNN_ERR_IO, "%s: read error at byte offset %llu: %s", r->what,
                             (unsigned long long)r->pos, strerror(errno));
        return glnn_fail(err, GLNN_ERR_IO, "%s: the file shrank while being read (at byte offset %llu)", r->what,
                         (unsigned long long)r->pos);
    }
    r->pos += n;
    return GLNN_OK;
}

static glnn_status truncated(const reader *r, uint64_t start, const char *field, uint64_t need, uint64_t have,
                             glnn_error *err) {
    return glnn_fail(err, GLNN_ERR_FORMAT,
                     "%s: truncated chunk record at byte offset %llu: %s cut (%llu of %llu bytes present)", r->what,
                     (unsigned long long)start, field, (unsigned long long)have, (unsigned long long)need);
}

/* Sorts by id, equal ids in record order. */
static int compare_items(const void *pa, const void *pb) {
    const chunk *a = pa, *b = pb;
    int c = compare_ids(a->id, a->id_len, b->id, b->id_len);
    if (c != 0) return c;
    return a->seq < b->seq ? -1 : (a->seq > b->seq ? 1 : 0);
}

/* Sorts the items read in file order and keeps the last record of each id. */
static void sort_and_deduplicate(glnn_chunks *c) {
    if (c->count < 2) return;
    qsort(c->items, c->count, sizeof *c->items, compare_items);
    size_t kept = 0;
    for (size_t i = 0; i < c->count; i++) {
        bool superseded = i + 1 < c->count && compare_ids(c->items[i].id, c->items[i].id_len, c->items[i + 1].id,
                                                          c->items[i + 1].id_len) == 0;
        if (superseded)
            chunk_free(&c->items[i]);
        else
            c->items[kept++] = c->items[i];
    }
    c->count = kept;
}

/* Reads every record into the empty collection c, which is left sorted. */
static glnn_status read_records(reader *r, glnn_chunks *c, glnn_error *err) {
    glnn_status s = GLNN_OK;
    while (r->pos < r->size) {
        uint64_t start = r->pos, left = r->size - r->pos;
        uint8_t field[4];
        char id[MAX_ID_LENGTH];
        if (c->count >= GLNN_MAX_CHUNK_RECORDS)
            return glnn_fail(err, GLNN_ERR_FORMAT,
                             "%s: more than %d chunk records (the next starts at byte offset %llu)", r->what,
                             GLNN_MAX_CHUNK_RECORDS, (unsigned long long)start);
        if (left < 4) return truncated(r, start, "length field", 4, left, err);
        if ((s = reader_read(r, field, 4, err)) != GLNN_OK) return s;
        uint32_t id_len = load_u32le(field);
        if (id_len > MAX_ID_LENGTH && start == 0)
            return glnn_fail(err, GLNN_ERR_FORMAT,
                             "%s: not a chunk file: chunk record at byte offset 0: id length %lu is greater than %d (a "
                             "chunk file is a series of records: id length, id, payload size, payload; a model file "
                             "starts with the record of its listing, bytes 00 00 00 00)",
                             r->what, (unsigned long)id_len, MAX_ID_LENGTH);
        if (id_len > MAX_ID_LENGTH)
            return glnn_fail(err, GLNN_ERR_FORMAT,
                             "%s: chunk record at byte offset %llu: id length %lu is greater than %d (a corrupt chunk "
                             "file)",
                             r->what, (unsigned long long)start, (unsigned long)id_len, MAX_ID_LENGTH);
        left -= 4;
        if (left < id_len) return truncated(r, start, "id", id_len, left, err);
        if ((s = reader_read(r, id, id_len, err)) != GLNN_OK) return s;
        left -= id_len;
        if (left < 4) return truncated(r, start, "size field", 4, left, err);
        if ((s = reader_read(r, field, 4, err)) != GLNN_OK) return s;
        uint32_t size = load_u32le(field);
        left -= 4;
        if (left < size) return truncated(r, start, "payload", size, left, err);
        chunk item;
        if (!reserve(c, 1) || !chunk_alloc(id, id_len, size, &item))
            return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory for the chunk record at byte offset %llu",
                             r->what, (unsigned long long)start);
        item.seq = c->count;
        c->items[c->count++] = item;
        if ((s = reader_read(r, item.data, size, err)) != GLNN_OK) return s;
    }
    sort_and_deduplicate(c);
    return GLNN_OK;
}

static glnn_status read_all(reader *r, glnn_chunks **out, glnn_error *err) {
    glnn_chunks *c = calloc(1, sizeof *c);
    if (!c) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", r->what);
    glnn_status s = read_records(r, c, err);
    if (s != GLNN_OK) {
        glnn_chunks_free(c);
        return s;
    }
    *out = c;
    glnn_ok(err);
    return GLNN_OK;
}

glnn_status glnn_chunks_read_memory(const void *data, size_t size, glnn_chunks **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "read chunks: no output handle");
    if (!data && size > 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "read chunks: data is NULL for %zu bytes", size);
    reader r = {.file = NULL, .mem = data, .size = size, .pos = 0, .what = "read chunks"};
    return read_all(&r, out, err);
}

glnn_status glnn_chunks_read_file(const char *path, glnn_chunks **out, glnn_error *err) {
    if (!path || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "read chunk file: no path or output handle");
    char what[320];
    snprintf(what, sizeof what, "read chunk file '%s'", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return glnn_fail(err, e == ENOENT ? GLNN_ERR_NOT_FOUND : GLNN_ERR_IO, "%s: %s", what, strerror(e));
    }
    struct stat st;
    glnn_status s = GLNN_OK;
    if (fstat(fileno(f), &st) != 0)
        s = glnn_fail(err, GLNN_ERR_IO, "%s: %s", what, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = glnn_fail(err, GLNN_ERR_IO, "%s: not a regular file", what);
    if (s == GLNN_OK) {
        reader r = {.file = f, .mem = NULL, .size = (uint64_t)st.st_size, .pos = 0, .what = what};
        s = read_all(&r, out, err);
    }
    fclose(f); /* read-only: nothing to lose */
    return s;
}

/* ---- writing ---- */

static bool write_all(FILE *f, const void *data, size_t size) {
    return size == 0 || fwrite(data, 1, size, f) == size;
}

static bool write_records(const glnn_chunks *c, FILE *f) {
    for (size_t i = 0; i < c->count; i++) {
        const chunk *item = &c->items[i];
        uint8_t field[4];
        store_u32le(field, (uint32_t)item->id_len);
        if (!write_all(f, field, 4) || !write_all(f, item->id, item->id_len)) return false;
        store_u32le(field, (uint32_t)item->size);
        if (!write_all(f, field, 4) || !write_all(f, item->data, item->size)) return false;
    }
    return true;
}

/* Creates a new file next to path, named "<path>.tmp-<pid>-<n>"; -1 with errno on failure. */
static int create_temp(const char *path, char *name, size_t name_size) {
    for (int attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
        snprintf(name, name_size, "%s.tmp-%ld-%d", path, (long)getpid(), attempt);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

glnn_status glnn_chunks_write_file(const glnn_chunks *c, const char *path, glnn_error *err) {
    if (!c || !path || !*path) return glnn_fail(err, GLNN_ERR_ARGUMENT, "write chunk file: no chunks or path");
    char what[320];
    snprintf(what, sizeof what, "write chunk file '%s'", path);
    for (size_t i = 0; i < c->count; i++) {
        const chunk *item = &c->items[i];
        if (item->id_len > MAX_ID_LENGTH)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: id of %zu bytes is longer than %d bytes", what, item->id_len,
                             MAX_ID_LENGTH);
        if ((uint64_t)item->size > MAX_PAYLOAD_SIZE)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: chunk '%s' has %zu bytes, 2^32 or more", what, item->id,
                             item->size);
    }

    size_t name_size = strlen(path) + 64;
    char *temp = malloc(name_size);
    if (!temp) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    int fd = create_temp(path, temp, name_size);
    if (fd < 0) {
        glnn_status s = glnn_fail(err, GLNN_ERR_IO, "%s: cannot create a temporary file: %s", what, strerror(errno));
        free(temp);
        return s;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        glnn_status s = glnn_fail(err, GLNN_ERR_IO, "%s: %s", what, strerror(errno));
        close(fd);
        remove(temp);
        free(temp);
        return s;
    }

    glnn_status s = GLNN_OK;
    if (!write_records(c, f) || fflush(f) != 0)
        s = glnn_fail(err, GLNN_ERR_IO, "%s: write failed: %s", what, strerror(errno));
    else if (fsync(fileno(f)) != 0)
        s = glnn_fail(err, GLNN_ERR_IO, "%s: sync failed: %s", what, strerror(errno));
    if (fclose(f) != 0 && s == GLNN_OK) s = glnn_fail(err, GLNN_ERR_IO, "%s: close failed: %s", what, strerror(errno));
    if (s == GLNN_OK && rename(temp, path) != 0)
        s = glnn_fail(err, GLNN_ERR_IO, "%s: cannot replace the file: %s", what, strerror(errno));
    if (s != GLNN_OK) remove(temp);
    free(temp);
    if (s == GLNN_OK) glnn_ok(err);
    return s;
}

/* ---- float32 arrays ---- */

/* Builds the item `<op_name><suffix>` holding n little-endian float32 values. */
static glnn_status make_float_chunk(const char *op_name, const char *suffix, const float *values, int64_t n, chunk *out,
                                    glnn_error *err) {
    size_t name_len = strlen(op_name), suffix_len = strlen(suffix);
    if (name_len > MAX_ID_LENGTH - suffix_len)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set weights of '%s': chunk id longer than %d bytes", op_name,
                         MAX_ID_LENGTH);
    if (n < 0 || (uint64_t)n > SIZE_MAX / 4)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set weights of '%s': invalid count %lld for chunk '%s%s'", op_name,
                         (long long)n, op_name, suffix);
    char id[MAX_ID_LENGTH + 1];
    memcpy(id, op_name, name_len);
    memcpy(id + name_len, suffix, suffix_len);
    if (!chunk_alloc(id, name_len + suffix_len, (size_t)n * 4, out))
        return glnn_fail(err, GLNN_ERR_MEMORY, "set weights of '%s': out of memory", op_name);
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        store_u32le(out->data + i * 4, bits);
    }
    return GLNN_OK;
}

glnn_status glnn_chunks_set_weights(glnn_chunks *c, const char *op_name, const float *weights, int64_t n_weights,
                                    const float *bias, int64_t n_bias, glnn_error *err) {
    if (!c || !op_name) return glnn_fail(err, GLNN_ERR_ARGUMENT, "set weights: no chunk collection or op name");
    if (!weights && n_weights != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set weights of '%s': weights are NULL", op_name);
    if (!bias && n_bias != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "set weights of '%s': bias is NULL but has %lld values", op_name,
                         (long long)n_bias);
    chunk w, b;
    glnn_status s = make_float_chunk(op_name, GLNN_FILTERS_CHUNK_SUFFIX, weights, n_weights, &w, err);
    if (s != GLNN_OK) return s;
    if (bias) {
        s = make_float_chunk(op_name, GLNN_BIAS_CHUNK_SUFFIX, bias, n_bias, &b, err);
        if (s != GLNN_OK) {
            chunk_free(&w);
            return s;
        }
    }
    if (!reserve(c, 2)) {
        chunk_free(&w);
        if (bias) chunk_free(&b);
        return glnn_fail(err, GLNN_ERR_MEMORY, "set weights of '%s': out of memory", op_name);
    }
    put(c, w);
    if (bias) put(c, b);
    glnn_ok(err);
    return GLNN_OK;
}

glnn_status glnn_chunks_read_floats(const glnn_chunks *c, const char *op_name, const char *suffix, int64_t expected,
                                    const char *what, float **out, glnn_error *err) {
    if (!what) what = "read weights";
    if (!c || !op_name || !suffix || !out)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no chunks, op name, suffix or output", what);
    int64_t expected_bytes;
    if (!glnn_mul_i64(expected, 4, &expected_bytes) || (uint64_t)expected_bytes > SIZE_MAX)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid float count %lld", what, (long long)expected);
    size_t name_len = strlen(op_name), suffix_len = strlen(suffix);
    if (name_len > SIZE_MAX - 1 - suffix_len) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: op name too long", what);
    char *id = malloc(name_len + suffix_len + 1);
    if (!id) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    memcpy(id, op_name, name_len);
    memcpy(id + name_len, suffix, suffix_len + 1);

    const void *data;
    size_t size;
    glnn_status s = GLNN_OK;
    float *values = NULL;
    if (!glnn_chunks_get(c, id, name_len + suffix_len, &data, &size))
        s = glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: chunk '%s' not found", what, id);
    else if ((uint64_t)size != (uint64_t)expected_bytes)
        s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: chunk '%s' size mismatch: expected %lld bytes, got %zu", what, id,
                      (long long)expected_bytes, size);
    else if (!(values = malloc(size > 0 ? size : 1)))
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory for chunk '%s'", what, id);
    for (int64_t i = 0; s == GLNN_OK && i < expected; i++) {
        uint32_t bits = load_u32le((const uint8_t *)data + i * 4);
        memcpy(&values[i], &bits, 4);
        if (!isfinite(values[i]))
            s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: non-finite value at index %lld of chunk '%s'", what, (long long)i,
                          id);
    }
    free(id);
    if (s != GLNN_OK) {
        free(values);
        return s;
    }
    *out = values;
    glnn_ok(err);
    return GLNN_OK;
}

/* ---- labels (SPEC §9) ---- */

/* Walks the names of the `labels` chunk: with stop_at below their count, sets *name and *length to name stop_at and
 * returns stop_at + 1; otherwise returns the count. */
static size_t each_label(const glnn_chunks *c, size_t stop_at, const char **name, size_t *length) {
    const void *data;
    size_t size, n = 0;
    if (!c || !glnn_chunks_get(c, "labels", 6, &data, &size)) return 0;
    const char *p = data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - p);
        if (nl && len > 0 && stop[-1] == '\r') len--;
        if (n == stop_at) {
            *name = p;
            *length = len;
            return n + 1;
        }
        n++;
        p = nl ? nl + 1 : end;
    }
    return n;
}

size_t glnn_chunks_label_count(const glnn_chunks *chunks) {
    return each_label(chunks, SIZE_MAX, NULL, NULL);
}

bool glnn_chunks_label_at(const glnn_chunks *chunks, size_t index, const char **name, size_t *length) {
    const char *n = NULL;
    size_t len = 0;
    if (index == SIZE_MAX || each_label(chunks, index, &n, &len) != index + 1) return false;
    if (name) *name = n;
    if (length) *length = len;
    return true;
}
