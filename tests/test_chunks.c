/* Chunk collections and the chunk file format (SPEC §9). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, rmdir, setrlimit, opendir */
#include "testutil.h"
#include "internal.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define REFERENCE_MODEL "../shared/models/dog_classifier.chunks"

/* ---- helpers ---- */

typedef struct temp_dir {
    char path[64];
} temp_dir;

static void temp_dir_create(temp_dir *d) {
    strcpy(d->path, "/tmp/glnn-test-chunks-XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static void temp_dir_file(const temp_dir *d, const char *name, char *out, size_t size) {
    snprintf(out, size, "%s/%s", d->path, name);
}

static int temp_dir_entries(const temp_dir *d) {
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(dir);
    return n;
}

/* Removes the plain files and empty directories in d, then d. */
static void temp_dir_remove(temp_dir *d) {
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[512];
        temp_dir_file(d, e->d_name, path, sizeof path);
        if (remove(path) != 0) rmdir(path);
    }
    closedir(dir);
    assert_int_equal(rmdir(d->path), 0);
}

/* Reads a whole file; *size its length. */
static uint8_t *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    *size = n;
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void set_text(glnn_chunks *c, const char *id, const char *text) {
    glnn_error err;
    assert_ok(glnn_chunks_set(c, id, strlen(id), text, strlen(text), &err));
}

/* Asserts that id is present with exactly the given payload. */
static void assert_chunk(const glnn_chunks *c, const char *id, size_t id_len, const void *data, size_t size) {
    const void *got = NULL;
    size_t got_size = 12345;
    assert_true(glnn_chunks_get(c, id, id_len, &got, &got_size));
    assert_int_equal(got_size, size);
    assert_non_null(got);
    if (size > 0) assert_memory_equal(got, data, size);
}

static void assert_id_at(const glnn_chunks *c, size_t i, const char *id, size_t id_len) {
    const char *got;
    size_t got_len;
    glnn_chunks_id_at(c, i, &got, &got_len);
    assert_int_equal(got_len, id_len);
    if (id_len > 0) assert_memory_equal(got, id, id_len);
}

/* ---- the collection ---- */

static void test_set_get_remove(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c = NULL;
    assert_ok(glnn_chunks_create(&c, &err));
    assert_int_equal(glnn_chunks_count(c), 0);
    assert_false(glnn_chunks_get(c, "a", 1, NULL, NULL));

    set_text(c, "a", "first");
    assert_ok(glnn_chunks_set(c, "empty", 5, NULL, 0, &err));
    assert_ok(glnn_chunks_set(c, "", 0, "listing", 7, &err));
    assert_int_equal(glnn_chunks_count(c), 3);
    assert_chunk(c, "a", 1, "first", 5);
    assert_chunk(c, "", 0, "listing", 7);
    /* An empty chunk is present, unlike an absent one. */
    assert_chunk(c, "empty", 5, NULL, 0);
    assert_false(glnn_chunks_get(c, "absent", 6, NULL, NULL));
    assert_false(glnn_chunks_get(c, "emp", 3, NULL, NULL));

    /* Setting an id replaces it, also from its own payload. */
    set_text(c, "a", "second!");
    assert_int_equal(glnn_chunks_count(c), 3);
    assert_chunk(c, "a", 1, "second!", 7);
    const void *own;
    size_t own_size;
    assert_true(glnn_chunks_get(c, "a", 1, &own, &own_size));
    assert_ok(glnn_chunks_set(c, "a", 1, own, 6, &err));
    assert_chunk(c, "a", 1, "second", 6);

    assert_true(glnn_chunks_remove(c, "a", 1));
    assert_false(glnn_chunks_remove(c, "a", 1));
    assert_false(glnn_chunks_get(c, "a", 1, NULL, NULL));
    assert_true(glnn_chunks_remove(c, "", 0));
    assert_int_equal(glnn_chunks_count(c), 1);
    assert_id_at(c, 0, "empty", 5);
    glnn_chunks_free(c);
    glnn_chunks_free(NULL);
}

static void test_ids_are_byte_strings(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    /* Inserted out of order; NUL bytes and bytes ≥ 0x80 are ordinary bytes. */
    const char *ids[] = {"b", "a/w", "\xff", "a", "", "a\0x", "a/b", "\x7f", "B"};
    const size_t lens[] = {1, 3, 1, 1, 0, 3, 3, 1, 1};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        assert_ok(glnn_chunks_set(c, ids[i], lens[i], &i, sizeof i, &err));
    assert_int_equal(glnn_chunks_count(c), 9);
    /* Byte-wise ascending, a shorter prefix first. */
    assert_id_at(c, 0, "", 0);
    assert_id_at(c, 1, "B", 1);
    assert_id_at(c, 2, "a", 1);
    assert_id_at(c, 3, "a\0x", 3);
    assert_id_at(c, 4, "a/b", 3);
    assert_id_at(c, 5, "a/w", 3);
    assert_id_at(c, 6, "b", 1);
    assert_id_at(c, 7, "\x7f", 1);
    assert_id_at(c, 8, "\xff", 1);
    /* "a\0x" and "a" differ. */
    size_t v = 5;
    assert_chunk(c, "a\0x", 3, &v, sizeof v);
    v = 3;
    assert_chunk(c, "a", 1, &v, sizeof v);
    /* Out of range. */
    const char *id = "x";
    size_t id_len = 7;
    glnn_chunks_id_at(c, 9, &id, &id_len);
    assert_null(id);
    assert_int_equal(id_len, 0);
    glnn_chunks_free(c);
}

static void test_set_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    char id[256];
    memset(id, 'x', sizeof id);
    assert_ok(glnn_chunks_set(c, id, 255, "v", 1, &err));
    assert_error(glnn_chunks_set(c, id, 256, "v", 1, &err), &err, GLNN_ERR_ARGUMENT, "256 bytes", "255");
    assert_error(glnn_chunks_set(c, "a", 1, NULL, 4, &err), &err, GLNN_ERR_ARGUMENT, "set chunk 'a'", "NULL");
    assert_error(glnn_chunks_set(NULL, "a", 1, "v", 1, &err), &err, GLNN_ERR_ARGUMENT, "set chunk");
    assert_int_equal(glnn_chunks_count(c), 1);
    glnn_chunks_free(c);
}

/* ---- reading ---- */

static void test_read_byte_order(void **state) {
    (void)state;
    glnn_error err;
    /* Little-endian whatever the host: L = 3 "abc" N = 4, then L = 0 "" N = 0x102 (258 bytes). */
    const uint8_t payload[4] = {0x01, 0x02, 0x03, 0x04};
    uint8_t bytes[15 + 8 + 258];
    size_t n = 0;
    memcpy(bytes + n, (const uint8_t[]){3, 0, 0, 0, 'a', 'b', 'c', 4, 0, 0, 0}, 11);
    n += 11;
    memcpy(bytes + n, payload, 4);
    n += 4;
    memcpy(bytes + n, (const uint8_t[]){0, 0, 0, 0, 0x02, 0x01, 0, 0}, 8);
    n += 8;
    for (int i = 0; i < 258; i++)
        bytes[n++] = (uint8_t)i;
    assert_int_equal(n, sizeof bytes);

    glnn_chunks *c;
    assert_ok(glnn_chunks_read_memory(bytes, n, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 2);
    assert_chunk(c, "abc", 3, payload, 4);
    assert_chunk(c, "", 0, bytes + 23, 258);
    assert_id_at(c, 0, "", 0);
    assert_id_at(c, 1, "abc", 3);
    glnn_chunks_free(c);
}

static void test_read_empty(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c = NULL;
    assert_ok(glnn_chunks_read_memory(NULL, 0, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 0);
    glnn_chunks_free(c);
    assert_ok(glnn_chunks_read_memory("", 0, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 0);
    glnn_chunks_free(c);

    temp_dir d;
    temp_dir_create(&d);
    char path[128];
    temp_dir_file(&d, "empty.chunks", path, sizeof path);
    write_bytes(path, "", 0);
    assert_ok(glnn_chunks_read_file(path, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 0);
    glnn_chunks_free(c);
    temp_dir_remove(&d);
}

static void test_read_empty_id_and_empty_payload(void **state) {
    (void)state;
    glnn_error err;
    /* "" → "", then "e" → nothing. */
    const uint8_t bytes[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'e', 0, 0, 0, 0};
    glnn_chunks *c;
    assert_ok(glnn_chunks_read_memory(bytes, sizeof bytes, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 2);
    assert_chunk(c, "", 0, NULL, 0);
    assert_chunk(c, "e", 1, NULL, 0);
    assert_false(glnn_chunks_get(c, "f", 1, NULL, NULL));
    glnn_chunks_free(c);
}

static void test_read_duplicate_later_wins(void **state) {
    (void)state;
    glnn_error err;
    const uint8_t bytes[] = {
        1, 0, 0, 0, 'k', 2, 0, 0, 0, 'o', 'l',      /* k = "ol" */
        1, 0, 0, 0, 'a', 1, 0, 0, 0, 'A',           /* a = "A" */
        1, 0, 0, 0, 'k', 3, 0, 0, 0, 'n', 'e', 'w', /* k = "new" wins */
        1, 0, 0, 0, 'a', 0, 0, 0, 0,                /* a = "" wins */
        1, 0, 0, 0, 'k', 1, 0, 0, 0, '3',           /* k = "3" wins over both */
    };
    glnn_chunks *c;
    assert_ok(glnn_chunks_read_memory(bytes, sizeof bytes, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 2);
    assert_chunk(c, "k", 1, "3", 1);
    assert_chunk(c, "a", 1, NULL, 0);
    glnn_chunks_free(c);
}

/* A valid 10-byte record "a" → "x" followed by `tail`. */
static glnn_status read_with_tail(const uint8_t *tail, size_t tail_size, glnn_error *err) {
    uint8_t bytes[64];
    const uint8_t first[] = {1, 0, 0, 0, 'a', 1, 0, 0, 0, 'x'};
    memcpy(bytes, first, sizeof first);
    if (tail_size > 0) memcpy(bytes + sizeof first, tail, tail_size);
    glnn_chunks *c = NULL;
    glnn_status s = glnn_chunks_read_memory(bytes, sizeof first + tail_size, &c, err);
    assert_true(s == GLNN_OK || c == NULL);
    glnn_chunks_free(c);
    return s;
}

static void test_read_truncated(void **state) {
    (void)state;
    glnn_error err;
    assert_ok(read_with_tail(NULL, 0, &err));
    const uint8_t length_cut[] = {5, 0};
    assert_error(read_with_tail(length_cut, sizeof length_cut, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "length field cut");
    const uint8_t id_cut[] = {5, 0, 0, 0, 'a', 'b'};
    assert_error(read_with_tail(id_cut, sizeof id_cut, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "id cut");
    const uint8_t size_cut[] = {2, 0, 0, 0, 'a', 'b', 9, 0, 0};
    assert_error(read_with_tail(size_cut, sizeof size_cut, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "size field cut");
    const uint8_t size_missing[] = {2, 0, 0, 0, 'a', 'b'};
    assert_error(read_with_tail(size_missing, sizeof size_missing, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "size field cut");
    const uint8_t payload_cut[] = {2, 0, 0, 0, 'a', 'b', 9, 0, 0, 0, 1, 2, 3};
    assert_error(read_with_tail(payload_cut, sizeof payload_cut, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "payload cut", "3 of 9 bytes");
    /* A huge declared size is a truncation, not an allocation. */
    const uint8_t payload_huge[] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1};
    assert_error(read_with_tail(payload_huge, sizeof payload_huge, &err), &err, GLNN_ERR_FORMAT,
                 "truncated chunk record at byte offset 10", "payload cut", "4294967295");
}

static void test_read_id_too_long(void **state) {
    (void)state;
    glnn_error err;
    uint8_t tail[4 + 256 + 4];
    memset(tail, 'i', sizeof tail);
    memcpy(tail, (const uint8_t[]){0x00, 0x01, 0, 0}, 4); /* L = 256 */
    memcpy(tail + 260, (const uint8_t[]){0, 0, 0, 0}, 4);
    uint8_t bytes[10 + sizeof tail];
    memcpy(bytes, (const uint8_t[]){1, 0, 0, 0, 'a', 1, 0, 0, 0, 'x'}, 10);
    memcpy(bytes + 10, tail, sizeof tail);
    glnn_chunks *c = NULL;
    assert_error(glnn_chunks_read_memory(bytes, sizeof bytes, &c, &err), &err, GLNN_ERR_FORMAT, "byte offset 10",
                 "id length 256");
    assert_null(c);
    /* L = 255 is fine: 255 id bytes, then N = 0 one byte earlier. */
    bytes[10] = 0xff;
    bytes[11] = 0;
    bytes[10 + 4 + 255] = 0;
    assert_ok(glnn_chunks_read_memory(bytes, sizeof bytes - 1, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 2);
    glnn_chunks_free(c);
}

static void test_read_file_errors(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c = NULL;
    assert_error(glnn_chunks_read_file("/nonexistent-dir/model.chunks", &c, &err), &err, GLNN_ERR_NOT_FOUND,
                 "'/nonexistent-dir/model.chunks'", "No such file");
    assert_error(glnn_chunks_read_file("/tmp", &c, &err), &err, GLNN_ERR_IO, "'/tmp'", "not a regular file");
    assert_null(c);

    temp_dir d;
    temp_dir_create(&d);
    char path[128];
    temp_dir_file(&d, "cut.chunks", path, sizeof path);
    write_bytes(path, (const uint8_t[]){1, 0, 0, 0, 'a', 1, 0, 0, 0, 'x', 1, 0, 0}, 13);
    assert_error(glnn_chunks_read_file(path, &c, &err), &err, GLNN_ERR_FORMAT, path,
                 "truncated chunk record at byte offset 10", "length field cut");
    assert_null(c);
    temp_dir_remove(&d);
}

/* ---- writing ---- */

static void test_round_trip(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    char id200[200], id255[255];
    for (int i = 0; i < 200; i++)
        id200[i] = (char)(0x80 + i % 100);
    memset(id255, 'z', sizeof id255);
    uint8_t binary[1000];
    for (int i = 0; i < 1000; i++)
        binary[i] = (uint8_t)(i * 7);
    set_text(c, "", "connections:\nops:\n");
    assert_ok(glnn_chunks_set(c, id200, sizeof id200, binary, sizeof binary, &err));
    assert_ok(glnn_chunks_set(c, id255, sizeof id255, "255", 3, &err));
    assert_ok(glnn_chunks_set(c, "nothing", 7, NULL, 0, &err));
    assert_ok(glnn_chunks_set(c, "n\0l", 3, "\0\0", 2, &err));

    temp_dir d;
    temp_dir_create(&d);
    char path[128];
    temp_dir_file(&d, "model.chunks", path, sizeof path);
    assert_ok(glnn_chunks_write_file(c, path, &err));
    assert_int_equal(temp_dir_entries(&d), 1);

    glnn_chunks *r;
    assert_ok(glnn_chunks_read_file(path, &r, &err));
    assert_int_equal(glnn_chunks_count(r), 5);
    for (size_t i = 0; i < 5; i++) {
        const char *id;
        size_t id_len;
        const void *data;
        size_t size;
        glnn_chunks_id_at(c, i, &id, &id_len);
        assert_id_at(r, i, id, id_len);
        assert_true(glnn_chunks_get(c, id, id_len, &data, &size));
        assert_chunk(r, id, id_len, data, size);
    }
    /* The same bytes from memory. */
    size_t size;
    uint8_t *bytes = slurp(path, &size);
    assert_int_equal(size, 5 * 8 + (0 + 200 + 255 + 7 + 3) + (18 + 1000 + 3 + 0 + 2));
    glnn_chunks *m;
    assert_ok(glnn_chunks_read_memory(bytes, size, &m, &err));
    assert_int_equal(glnn_chunks_count(m), 5);
    assert_chunk(m, id200, sizeof id200, binary, sizeof binary);
    free(bytes);

    /* Overwriting with less leaves no stale tail. */
    glnn_chunks *small;
    assert_ok(glnn_chunks_create(&small, &err));
    set_text(small, "s", "1");
    assert_ok(glnn_chunks_write_file(small, path, &err));
    bytes = slurp(path, &size);
    assert_int_equal(size, 10);
    free(bytes);
    assert_int_equal(temp_dir_entries(&d), 1);

    glnn_chunks_free(small);
    glnn_chunks_free(m);
    glnn_chunks_free(r);
    glnn_chunks_free(c);
    temp_dir_remove(&d);
}

static void test_write_order_and_bytes(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    set_text(c, "b", "2");
    set_text(c, "\xc3\xa9", "e");
    set_text(c, "ab", "");
    set_text(c, "", "L");
    set_text(c, "a", "1");
    const uint8_t expected[] = {
        0, 0, 0, 0, 1,    0,    0, 0, 'L',           /* "" first */
        1, 0, 0, 0, 'a',  1,    0, 0, 0,   '1',      /* "a" */
        2, 0, 0, 0, 'a',  'b',  0, 0, 0,   0,        /* "ab" after its prefix */
        1, 0, 0, 0, 'b',  1,    0, 0, 0,   '2',      /* "b" */
        2, 0, 0, 0, 0xc3, 0xa9, 1, 0, 0,   0,   'e', /* 0xc3 sorts as unsigned */
    };
    temp_dir d;
    temp_dir_create(&d);
    char path[128];
    temp_dir_file(&d, "order.chunks", path, sizeof path);
    assert_ok(glnn_chunks_write_file(c, path, &err));
    size_t size;
    uint8_t *bytes = slurp(path, &size);
    assert_int_equal(size, sizeof expected);
    assert_memory_equal(bytes, expected, sizeof expected);
    free(bytes);
    glnn_chunks_free(c);
    temp_dir_remove(&d);
}

static void test_failed_write_keeps_file(void **state) {
    (void)state;
    glnn_error err;
    temp_dir d;
    temp_dir_create(&d);
    char path[128], missing[160];
    temp_dir_file(&d, "model.chunks", path, sizeof path);
    temp_dir_file(&d, "no-such-dir/model.chunks", missing, sizeof missing);

    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    set_text(c, "old", "content");
    assert_ok(glnn_chunks_write_file(c, path, &err));
    size_t old_size;
    uint8_t *old = slurp(path, &old_size);

    /* Into a directory that does not exist. */
    assert_error(glnn_chunks_write_file(c, missing, &err), &err, GLNN_ERR_IO, missing);

    /* Onto a directory: the temporary file is written, the rename fails and is cleaned up. */
    char sub[128];
    temp_dir_file(&d, "sub", sub, sizeof sub);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_error(glnn_chunks_write_file(c, sub, &err), &err, GLNN_ERR_IO, sub);
    assert_int_equal(temp_dir_entries(&d), 2);

    /* A write that runs out of room (file size limit, as a full disk would) leaves the old file. */
    uint8_t *big = calloc(1, 1 << 16);
    assert_non_null(big);
    assert_ok(glnn_chunks_set(c, "big", 3, big, 1 << 16, &err));
    struct rlimit saved, limit;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    limit = saved;
    limit.rlim_cur = 4096;
    void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    glnn_status s = glnn_chunks_write_file(c, path, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, saved_handler);
    assert_error(s, &err, GLNN_ERR_IO, path);
    free(big);

    size_t now_size;
    uint8_t *now = slurp(path, &now_size);
    assert_int_equal(now_size, old_size);
    assert_memory_equal(now, old, old_size);
    assert_int_equal(temp_dir_entries(&d), 2); /* model.chunks and sub, no temporary file */
    free(now);
    free(old);

    assert_error(glnn_chunks_write_file(c, "", &err), &err, GLNN_ERR_ARGUMENT, "write chunk file");
    glnn_chunks_free(c);
    temp_dir_remove(&d);
}

/* ---- float arrays ---- */

static void test_set_weights_layout(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    const float w[3] = {1.0f, -2.0f, 0.5f};
    const float b[1] = {1.0f};
    assert_ok(glnn_chunks_set_weights(c, "c1", w, 3, b, 1, &err));
    const uint8_t w_bytes[] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f};
    assert_chunk(c, "c1/w", 4, w_bytes, sizeof w_bytes);
    assert_chunk(c, "c1/b", 4, (const uint8_t[]){0, 0, 0x80, 0x3f}, 4);

    /* Without a bias only the filters are stored. */
    assert_ok(glnn_chunks_set_weights(c, "d", w, 2, NULL, 0, &err));
    assert_chunk(c, "d/w", 3, w_bytes, 8);
    assert_false(glnn_chunks_get(c, "d/b", 3, NULL, NULL));
    assert_int_equal(glnn_chunks_count(c), 3);

    assert_error(glnn_chunks_set_weights(c, "e", NULL, 2, NULL, 0, &err), &err, GLNN_ERR_ARGUMENT, "'e'");
    assert_error(glnn_chunks_set_weights(c, "e", w, 2, NULL, 3, &err), &err, GLNN_ERR_ARGUMENT, "'e'", "bias");
    assert_error(glnn_chunks_set_weights(c, "e", w, -1, NULL, 0, &err), &err, GLNN_ERR_ARGUMENT, "'e'");
    char long_name[260];
    memset(long_name, 'n', 254);
    long_name[254] = '\0';
    assert_error(glnn_chunks_set_weights(c, long_name, w, 1, NULL, 0, &err), &err, GLNN_ERR_ARGUMENT, "255");
    assert_int_equal(glnn_chunks_count(c), 3);
    glnn_chunks_free(c);
}

static void test_read_floats(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    const float w[4] = {1.5f, -0.25f, 1e-40f, 3.0e38f};
    assert_ok(glnn_chunks_set_weights(c, "c1", w, 4, NULL, 0, &err));

    float *got = NULL;
    assert_ok(glnn_chunks_read_floats(c, "c1", "/w", 4, "Conv2D 'c1'", &got, &err));
    assert_memory_equal(got, w, sizeof w);
    free(got);

    got = NULL;
    assert_error(glnn_chunks_read_floats(c, "c1", "/b", 4, "Conv2D 'c1'", &got, &err), &err, GLNN_ERR_NOT_FOUND,
                 "Conv2D 'c1': chunk 'c1/b' not found");
    assert_error(glnn_chunks_read_floats(c, "c1", "/w", 3, "Conv2D 'c1'", &got, &err), &err, GLNN_ERR_FORMAT,
                 "Conv2D 'c1': chunk 'c1/w' size mismatch: expected 12 bytes, got 16");
    assert_error(glnn_chunks_read_floats(c, "c1", "/w", 5, "Conv2D 'c1'", &got, &err), &err, GLNN_ERR_FORMAT,
                 "expected 20 bytes, got 16");
    assert_null(got);

    /* Raw little-endian bytes: NaN at index 2, +Inf at index 1, -Inf at index 0. */
    const uint8_t nan_bytes[] = {0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x3f, 0x01, 0, 0xc0, 0x7f};
    assert_ok(glnn_chunks_set(c, "n/w", 3, nan_bytes, sizeof nan_bytes, &err));
    assert_error(glnn_chunks_read_floats(c, "n", "/w", 3, "Dense 'n'", &got, &err), &err, GLNN_ERR_FORMAT,
                 "Dense 'n': non-finite value at index 2 of chunk 'n/w'");
    const uint8_t inf_bytes[] = {0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x7f};
    assert_ok(glnn_chunks_set(c, "i/b", 3, inf_bytes, sizeof inf_bytes, &err));
    assert_error(glnn_chunks_read_floats(c, "i", "/b", 2, "Conv2D 'i'", &got, &err), &err, GLNN_ERR_FORMAT,
                 "non-finite value at index 1 of chunk 'i/b'");
    const uint8_t minus_inf[] = {0, 0, 0x80, 0xff};
    assert_ok(glnn_chunks_set(c, "m/b", 3, minus_inf, sizeof minus_inf, &err));
    assert_error(glnn_chunks_read_floats(c, "m", "/b", 1, "Conv2D 'm'", &got, &err), &err, GLNN_ERR_FORMAT,
                 "non-finite value at index 0 of chunk 'm/b'");
    assert_null(got);

    /* An empty chunk holds zero floats. */
    assert_ok(glnn_chunks_set(c, "z/b", 3, NULL, 0, &err));
    assert_ok(glnn_chunks_read_floats(c, "z", "/b", 0, "Conv2D 'z'", &got, &err));
    free(got);
    glnn_chunks_free(c);
}

/* ---- the reference model ---- */

static void test_reference_model(void **state) {
    (void)state;
    if (!glnn_test_shared(REFERENCE_MODEL)) skip();
    glnn_error err;
    size_t file_size;
    uint8_t *file = slurp(REFERENCE_MODEL, &file_size);
    assert_int_equal(file_size, 861371);

    glnn_chunks *c;
    assert_ok(glnn_chunks_read_file(REFERENCE_MODEL, &c, &err));
    assert_int_equal(glnn_chunks_count(c), 86);
    const void *data;
    size_t size;
    assert_true(glnn_chunks_get(c, "", 0, &data, &size));
    assert_int_equal(size, 11168);
    assert_memory_equal(data, "connections:", 12);
    assert_true(glnn_chunks_get(c, "Dense/b", 7, &data, &size));
    assert_int_equal(size, 480);
    assert_true(glnn_chunks_get(c, "labels", 6, &data, &size));
    assert_memory_equal(data, "Chihuahua\n", 10);
    assert_id_at(c, 0, "", 0);
    /* The file starts as SPEC §9 says. */
    assert_memory_equal(file, "\0\0\0\0\xa0\x2b\0\0connections:", 20);
    assert_memory_equal(file + 0x2BA8, "\x07\0\0\0Dense/b\xe0\x01\0\0", 15);

    float *bias;
    assert_ok(glnn_chunks_read_floats(c, "Dense", "/b", 120, "Dense 'Dense'", &bias, &err));
    free(bias);
    float *filters;
    assert_ok(glnn_chunks_read_floats(c, "b1-stage1-dw", "/w", 1152, "Conv2D 'b1-stage1-dw'", &filters, &err));
    free(filters);

    /* Same records, rewritten in id order: same size, same content. */
    temp_dir d;
    temp_dir_create(&d);
    char path[128];
    temp_dir_file(&d, "copy.chunks", path, sizeof path);
    assert_ok(glnn_chunks_write_file(c, path, &err));
    glnn_chunks *copy;
    assert_ok(glnn_chunks_read_file(path, &copy, &err));
    assert_int_equal(glnn_chunks_count(copy), 86);
    size_t copy_size;
    uint8_t *copy_bytes = slurp(path, &copy_size);
    assert_int_equal(copy_size, 861371);
    free(copy_bytes);
    for (size_t i = 0; i < 86; i++) {
        const char *id;
        size_t id_len;
        glnn_chunks_id_at(c, i, &id, &id_len);
        assert_true(glnn_chunks_get(c, id, id_len, &data, &size));
        assert_chunk(copy, id, id_len, data, size);
    }
    glnn_chunks_free(copy);
    temp_dir_remove(&d);
    glnn_chunks_free(c);
    free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_remove),
        cmocka_unit_test(test_ids_are_byte_strings),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_read_byte_order),
        cmocka_unit_test(test_read_empty),
        cmocka_unit_test(test_read_empty_id_and_empty_payload),
        cmocka_unit_test(test_read_duplicate_later_wins),
        cmocka_unit_test(test_read_truncated),
        cmocka_unit_test(test_read_id_too_long),
        cmocka_unit_test(test_read_file_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_write_order_and_bytes),
        cmocka_unit_test(test_failed_write_keeps_file),
        cmocka_unit_test(test_set_weights_layout),
        cmocka_unit_test(test_read_floats),
        cmocka_unit_test(test_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
