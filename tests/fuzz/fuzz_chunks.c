/* libFuzzer: the chunk-file reader (SPEC §9) on arbitrary bytes.  A successful read must describe the input
 * exactly: ids in ascending byte-wise order, each id's payload the last record with that id, and the
 * records re-encoded in id order read back to the same collection.  Float chunks go through the weight
 * reader (size and finiteness checks). */
#include "fuzz.h"
#include "internal.h"

#include <stdint.h>

static int compare_ids(const char *a, size_t an, const char *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (an < bn ? -1 : an > bn);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    glnn_error err;
    glnn_chunks *c = (glnn_chunks *)&err; /* must stay untouched on failure */
    glnn_status s = glnn_chunks_read_memory(data, size, &c, &err);
    if (s != GLNN_OK) {
        fuzz_check_error(s, &err);
        FUZZ_CHECK(c == (glnn_chunks *)&err, "output handle changed by a failed read");
        return 0;
    }
    size_t n = glnn_chunks_count(c), total = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id;
        size_t id_len;
        glnn_chunks_id_at(c, i, &id, &id_len);
        FUZZ_CHECK(id && id_len <= 255, "id %zu", i);
        FUZZ_CHECK(!prev || compare_ids(prev, prev_len, id, id_len) < 0, "ids out of order at %zu", i);
        const void *payload;
        size_t payload_size;
        FUZZ_CHECK(glnn_chunks_get(c, id, id_len, &payload, &payload_size), "id %zu not found", i);
        FUZZ_CHECK(payload != NULL, "NULL payload");
        total += 8 + id_len + payload_size;
        prev = id;
        prev_len = id_len;
        /* Weights: "<op>/w" and "<op>/b" read as float32 arrays of their own size. */
        if (id_len >= 2 && id[id_len - 2] == '/' && (id[id_len - 1] == 'w' || id[id_len - 1] == 'b') &&
            payload_size % 4 == 0 && memchr(id, '\0', id_len) == NULL) {
            char name[256];
            memcpy(name, id, id_len - 2);
            name[id_len - 2] = '\0';
            float *values = NULL;
            glnn_status fs = glnn_chunks_read_floats(c, name, id[id_len - 1] == 'w' ? "/w" : "/b",
                                                     (int64_t)(payload_size / 4), "fuzz", &values, &err);
            if (fs == GLNN_OK) /* little-endian hosts: the same bits */
                FUZZ_CHECK(payload_size == 0 || memcmp(values, payload, payload_size) == 0, "floats");
            else
                fuzz_check_error(fs, &err);
            free(values);
        }
    }
    FUZZ_CHECK(total <= size, "records add up to %zu bytes, the input has %zu", total, size);

    /* Re-encode in id order and read back: the same collection. */
    uint8_t *bytes = malloc(total ? total : 1);
    FUZZ_CHECK(bytes, "out of memory");
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id;
        size_t id_len, payload_size;
        const void *payload;
        glnn_chunks_id_at(c, i, &id, &id_len);
        glnn_chunks_get(c, id, id_len, &payload, &payload_size);
        put_u32(bytes + pos, (uint32_t)id_len);
        memcpy(bytes + pos + 4, id, id_len);
        put_u32(bytes + pos + 4 + id_len, (uint32_t)payload_size);
        if (payload_size) memcpy(bytes + pos + 8 + id_len, payload, payload_size);
        pos += 8 + id_len + payload_size;
    }
    glnn_chunks *again = NULL;
    s = glnn_chunks_read_memory(bytes, total, &again, &err);
    FUZZ_CHECK(s == GLNN_OK, "re-encoded chunks do not read back: %s", err.message);
    FUZZ_CHECK(glnn_chunks_count(again) == n, "count");
    for (size_t i = 0; i < n; i++) {
        const char *a, *b;
        size_t al, bl, as, bs;
        const void *ap, *bp;
        glnn_chunks_id_at(c, i, &a, &al);
        glnn_chunks_id_at(again, i, &b, &bl);
        FUZZ_CHECK(al == bl && memcmp(a, b, al) == 0, "id %zu", i);
        glnn_chunks_get(c, a, al, &ap, &as);
        glnn_chunks_get(again, b, bl, &bp, &bs);
        FUZZ_CHECK(as == bs && (as == 0 || memcmp(ap, bp, as) == 0), "payload %zu", i);
    }
    /* Edit the copy: remove every other chunk, set one. */
    for (size_t i = 0; i < n; i += 2) {
        const char *id;
        size_t id_len;
        glnn_chunks_id_at(c, i, &id, &id_len);
        FUZZ_CHECK(glnn_chunks_remove(again, id, id_len), "remove");
    }
    FUZZ_CHECK(glnn_chunks_set(again, "", 0, data, size > 64 ? 64 : size, &err) == GLNN_OK, "set");
    glnn_chunks_free(again);
    free(bytes);
    glnn_chunks_free(c);
    return 0;
}
