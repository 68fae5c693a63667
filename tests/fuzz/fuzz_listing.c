/* libFuzzer: the listing parser (SPEC §8) and the model built from it, on arbitrary text.  A listing that
 * loads must print (§8.4) as text that loads again and prints identically. */
#include "fuzz.h"
#include "internal.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    glnn_error err;
    const char *text = size ? (const char *)data : "";

    glnn_listing l;
    glnn_status s = glnn_listing_parse(text, size, &l, &err);
    if (s != GLNN_OK)
        fuzz_check_error(s, &err);
    else
        glnn_listing_free(&l);

    glnn_model *m = (glnn_model *)&err;
    s = glnn_model_deserialize(text, size, &m, &err);
    if (s != GLNN_OK) {
        fuzz_check_error(s, &err);
        FUZZ_CHECK(m == (glnn_model *)&err, "output handle changed by a failed load");
        return 0;
    }
    char *printed = NULL, *again = NULL;
    size_t printed_len = 0, again_len = 0;
    s = glnn_model_serialize(m, &printed, &printed_len, &err);
    FUZZ_CHECK(s == GLNN_OK, "serialize: %s", err.message);
    FUZZ_CHECK(strlen(printed) == printed_len, "length");
    glnn_model *m2 = NULL;
    s = glnn_model_deserialize(printed, printed_len, &m2, &err);
    FUZZ_CHECK(s == GLNN_OK, "a printed listing does not load: %s\n%s", err.message, printed);
    FUZZ_CHECK(glnn_model_op_count(m2) == glnn_model_op_count(m), "op count");
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        glnn_op *a = glnn_model_op_at(m, i), *b = glnn_model_op_at(m2, i);
        FUZZ_CHECK(strcmp(glnn_op_name(a), glnn_op_name(b)) == 0, "op %d name", i);
        FUZZ_CHECK(glnn_op_get_kind(a) == glnn_op_get_kind(b), "op %d kind", i);
        FUZZ_CHECK(glnn_model_find(m2, glnn_op_name(a)) == b, "op %d lookup", i);
    }
    s = glnn_model_serialize(m2, &again, &again_len, &err);
    FUZZ_CHECK(s == GLNN_OK, "serialize again: %s", err.message);
    FUZZ_CHECK(again_len == printed_len && memcmp(again, printed, printed_len) == 0,
               "printing a printed listing changes it:\n%s\n----\n%s", printed, again);
    glnn_free(printed);
    glnn_free(again);
    glnn_model_free(m2);
    glnn_model_free(m);
    return 0;
}
