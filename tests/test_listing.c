/* The generic listing structure (SPEC §8.1–8.2). */
#include "testutil.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define REFERENCE_MODEL "../shared/models/dog_classifier.chunks"

/* SPEC §8.5, as glnn prints it (s = 1). */
static const char printed_example[] = "connections:\n"
                                      " - from: in\n"
                                      "   to: c1\n"
                                      " - from: c1\n"
                                      "   to: dw\n"
                                      " - from: c1\n"
                                      "   to: dw\n"
                                      "   to_input: 1\n"
                                      " - from: dw\n"
                                      "   to: gap\n"
                                      " - from: gap\n"
                                      "   shuffle: 2\n"
                                      "   to: fc\n"
                                      " - from: fc\n"
                                      "   to: prob\n"
                                      "ops:\n"
                                      " - _name: in\n"
                                      "   _type: image_sampler\n"
                                      "   center_crop: true\n"
                                      "   linear_interp: true\n"
                                      "   output_height: 64\n"
                                      "   output_width: 64\n"
                                      " - _name: c1\n"
                                      "   _type: conv2d\n"
                                      "   activation: brelu6\n"
                                      "   groups: 1\n"
                                      "   input_channels: 3\n"
                                      "   kernel_size: 3\n"
                                      "   output_channels: 16\n"
                                      "   padding: valid\n"
                                      "   stride: 2\n"
                                      "   use_bias: true\n"
                                      " - _name: dw\n"
                                      "   _type: conv2d\n"
                                      "   activation: sigmoid_like\n"
                                      "   groups: 16\n"
                                      "   input_channels: 16\n"
                                      "   kernel_size: 3\n"
                                      "   output_channels: 16\n"
                                      "   padding: same\n"
                                      "   stride: 1\n"
                                      "   use_bias: false\n"
                                      " - _name: gap\n"
                                      "   _type: pooling2d\n"
                                      "   operator: average\n"
                                      "   padding: valid\n"
                                      "   size: 31\n"
                                      "   stride: 1\n"
                                      " - _name: fc\n"
                                      "   _type: dense\n"
                                      "   output_dims: 8\n"
                                      "   use_bias: true\n"
                                      " - _name: prob\n"
                                      "   _type: softmax\n";

/* SPEC §8.5, hand-written (s = 2, a comment, defaults omitted, no connections). */
static const char handwritten_example[] = "ops:                  # a single 1×1 convolution, 4 → 4 channels\n"
                                          "  - _name: c\n"
                                          "    _type: conv2d\n"
                                          "    kernel_size: 1\n"
                                          "    input_channels: 4\n"
                                          "    output_channels: 4\n";

static glnn_status parse(const char *text, glnn_listing *l, glnn_error *err) {
    return glnn_listing_parse(text, strlen(text), l, err);
}

static void assert_kv(const glnn_block *b, int i, const char *key, const char *value, int line) {
    assert_true(i < b->count);
    assert_string_equal(b->kv[i].key, key);
    assert_string_equal(b->kv[i].value, value);
    assert_int_equal(b->kv[i].line, line);
}

static void assert_empty(const glnn_listing *l) {
    assert_null(l->ops);
    assert_int_equal(l->n_ops, 0);
    assert_null(l->connections);
    assert_int_equal(l->n_connections, 0);
}

/* Asserts that parsing fails with a format error whose message holds `fragment`, and leaves *out zeroed. */
static void assert_parse_error(const char *text, const char *fragment) {
    glnn_error err;
    glnn_listing l;
    memset(&l, 0xab, sizeof l);
    assert_error(parse(text, &l, &err), &err, GLNN_ERR_FORMAT, fragment);
    assert_empty(&l);
}

static void check_printed_example(const glnn_listing *l) {
    assert_int_equal(l->n_connections, 6);
    assert_int_equal(l->n_ops, 6);
    const glnn_block *c = l->connections;
    assert_int_equal(c[0].line, 2);
    assert_int_equal(c[0].count, 2);
    assert_kv(&c[0], 0, "from", "in", 2);
    assert_kv(&c[0], 1, "to", "c1", 3);
    assert_int_equal(c[2].count, 3);
    assert_kv(&c[2], 2, "to_input", "1", 8);
    assert_int_equal(c[4].line, 11);
    assert_kv(&c[4], 1, "shuffle", "2", 12);
    assert_int_equal(c[5].line, 14);

    const glnn_block *o = l->ops;
    assert_int_equal(o[0].line, 17);
    assert_int_equal(o[0].count, 6);
    assert_kv(&o[0], 0, "_name", "in", 17);
    assert_kv(&o[0], 1, "_type", "image_sampler", 18);
    assert_kv(&o[0], 5, "output_width", "64", 22);
    assert_int_equal(o[1].count, 10);
    assert_kv(&o[1], 2, "activation", "brelu6", 25);
    assert_kv(&o[2], 0, "_name", "dw", 33);
    assert_kv(&o[2], 9, "use_bias", "false", 42);
    assert_int_equal(o[3].count, 6);
    assert_int_equal(o[4].count, 4);
    assert_int_equal(o[5].line, 53);
    assert_int_equal(o[5].count, 2);
    assert_kv(&o[5], 1, "_type", "softmax", 54);
}

static void test_printed_example(void **state) {
    (void)state;
    glnn_error err;
    glnn_listing l;
    assert_ok(parse(printed_example, &l, &err));
    check_printed_example(&l);
    glnn_listing_free(&l);
    assert_empty(&l);
    glnn_listing_free(&l); /* twice is harmless */
}

static void test_handwritten_example(void **state) {
    (void)state;
    glnn_error err;
    glnn_listing l;
    assert_ok(parse(handwritten_example, &l, &err));
    assert_int_equal(l.n_ops, 1);
    assert_int_equal(l.n_connections, 0);
    assert_null(l.connections);
    assert_int_equal(l.ops[0].line, 2);
    assert_int_equal(l.ops[0].count, 5);
    assert_kv(&l.ops[0], 0, "_name", "c", 2);
    assert_kv(&l.ops[0], 1, "_type", "conv2d", 3);
    assert_kv(&l.ops[0], 2, "kernel_size", "1", 4);
    assert_kv(&l.ops[0], 4, "output_channels", "4", 6);
    glnn_listing_free(&l);
}

static void test_crlf(void **state) {
    (void)state;
    glnn_error err;
    size_t n = strlen(printed_example);
    char *text = malloc(2 * n);
    assert_non_null(text);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (printed_example[i] == '\n') text[m++] = '\r';
        text[m++] = printed_example[i];
    }
    glnn_listing l;
    assert_ok(glnn_listing_parse(text, m, &l, &err));
    check_printed_example(&l);
    glnn_listing_free(&l);
    /* Without the final line break, and a CR not before an LF is kept. */
    assert_ok(glnn_listing_parse(text, m - 2, &l, &err));
    check_printed_example(&l);
    glnn_listing_free(&l);
    assert_ok(parse("ops:\r\n - _name: a\rb\r\n", &l, &err));
    assert_kv(&l.ops[0], 0, "_name", "a\rb", 2);
    glnn_listing_free(&l);
    free(text);
}

static void test_comments_blanks_and_spaces(void **state) {
    (void)state;
    glnn_error err;
    glnn_listing l;
    const char *text = "# a model\n"
                       "\n"
                       "   \n"
                       "connections:   # none yet\n"
                       "    # an indented comment\n"
                       "ops:  \n"
                       "\n"
                       "  - _name: a   \n"
                       "#\n"
                       "    _type:    softmax  # trailing comment\n"
                       "    empty:\n"
                       "    tight:value\n"
                       "    colons: a:b: c\n"
                       "  - _name: b";
    assert_ok(parse(text, &l, &err));
    assert_int_equal(l.n_connections, 0);
    assert_int_equal(l.n_ops, 2);
    assert_int_equal(l.ops[0].line, 8);
    assert_int_equal(l.ops[0].count, 5);
    assert_kv(&l.ops[0], 0, "_name", "a", 8);
    assert_kv(&l.ops[0], 1, "_type", "softmax", 10);
    assert_kv(&l.ops[0], 2, "empty", "", 11);
    assert_kv(&l.ops[0], 3, "tight", "value", 12);
    assert_kv(&l.ops[0], 4, "colons", "a:b: c", 13);
    assert_kv(&l.ops[1], 0, "_name", "b", 14);
    glnn_listing_free(&l);
}

static void test_structure(void **state) {
    (void)state;
    glnn_error err;
    glnn_listing l;
    /* Other chapters are checked and ignored; the same key may appear in different blocks; s may be 0. */
    const char *text = "meta:\n"
                       "- author: me\n"
                       "  year: 2024\n"
                       "ops:\n"
                       "- _name: a\n"
                       "- _name: b\n"
                       "  _type: softmax\n"
                       "extra:\n";
    assert_ok(parse(text, &l, &err));
    assert_int_equal(l.n_ops, 2);
    assert_int_equal(l.n_connections, 0);
    assert_kv(&l.ops[1], 1, "_type", "softmax", 7);
    glnn_listing_free(&l);

    /* An empty ops chapter. */
    assert_ok(parse("ops:\nconnections:\n", &l, &err));
    assert_empty(&l);
    glnn_listing_free(&l);

    /* Arguments. */
    assert_error(glnn_listing_parse(NULL, 3, &l, &err), &err, GLNN_ERR_ARGUMENT, "parse listing");
    assert_error(glnn_listing_parse("ops:", 4, NULL, &err), &err, GLNN_ERR_ARGUMENT, "parse listing");
}

static void test_errors(void **state) {
    (void)state;
    /* Indentation. */
    assert_parse_error("ops:\n - a: 1\n  b: 2\n", "listing line 3: unexpected indent");
    assert_parse_error("ops:\n - a: 1\n    b: 2\n", "listing line 3: unexpected indent");
    assert_parse_error("ops:\n - a: 1\n  - b: 2\n", "listing line 3: unexpected indent");
    assert_parse_error("connections:\n - from: a\nops:\n  - _name: b\n", "listing line 4: unexpected indent");
    assert_parse_error("ops:\n   a: 1\n", "listing line 2: unexpected indent");
    assert_parse_error("ops:\n - a: 1\nconnections:\n   from: x\n", "listing line 4: unexpected indent");
    assert_parse_error("ops:\n - a: 1\n-  b: 2\n", "listing line 3: unexpected indent");
    /* Lines without "key: value". */
    assert_parse_error("ops:\n - abc\n", "listing line 2: expected 'key: value'");
    assert_parse_error("ops:\n - a: 1\n   b\n", "listing line 3: expected 'key: value'");
    assert_parse_error("ops:\n - a b: 1\n", "listing line 2: expected 'key: value'");
    assert_parse_error("ops:\n -  a: 1\n", "listing line 2: expected 'key: value'");
    assert_parse_error("ops:\n - : 1\n", "listing line 2: expected 'key: value'");
    assert_parse_error("ops:\n -a: 1\n", "listing line 2: expected '- key: value'");
    assert_parse_error("ops:\n -\n", "listing line 2: expected '- key: value'");
    /* Chapter headers. */
    assert_parse_error("ops: 1\n", "listing line 1: expected a chapter header");
    assert_parse_error("# c\nmy ops:\n", "listing line 2: expected a chapter header");
    assert_parse_error("ops\n", "listing line 1: expected a chapter header");
    assert_parse_error("ops:\n - a: 1\n:\n", "listing line 3: expected a chapter header");
    assert_parse_error("ops:\n - a: 1\nconnections::\n", "listing line 3: expected a chapter header");
    /* Order and repetition. */
    assert_parse_error("# c\n - a: 1\nops:\n", "listing line 2: entry before any chapter");
    assert_parse_error("ops:\n - a: 1\n   b: 2\n   a: 3\n", "listing line 4: repeated key 'a' (first at line 2)");
    assert_parse_error("ops:\n - a: 1\nconnections:\nops:\n",
                       "listing line 4: repeated chapter 'ops' (first at line 1)");
    assert_parse_error("meta:\n - a: 1\n   a: 2\nops:\n", "listing line 3: repeated key 'a'");
    /* No ops. */
    assert_parse_error("connections:\n - from: a\n   to: b\n", "no 'ops' chapter");
    assert_parse_error("", "no 'ops' chapter");
    assert_parse_error("# only a comment\n", "no 'ops' chapter");
    /* A NUL byte inside a line. */
    glnn_error err;
    glnn_listing l;
    assert_error(glnn_listing_parse("ops:\n - a: \0b\n", 13, &l, &err), &err, GLNN_ERR_FORMAT,
                 "listing line 2: contains a NUL byte");
    assert_empty(&l);
}

static void test_reference_model(void **state) {
    (void)state;
    if (!glnn_test_shared(REFERENCE_MODEL)) skip();
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_read_file(REFERENCE_MODEL, &c, &err));
    const void *text;
    size_t size;
    assert_true(glnn_chunks_get(c, "", 0, &text, &size));
    glnn_listing l;
    assert_ok(glnn_listing_parse(text, size, &l, &err));
    assert_int_equal(l.n_ops, 45);
    assert_int_equal(l.n_connections, 61);
    assert_string_equal(l.ops[0].kv[0].key, "_name");
    assert_string_equal(l.ops[0].kv[0].value, "input");
    const glnn_block *last = &l.ops[l.n_ops - 1];
    bool softmax = false;
    for (int i = 0; i < last->count; i++)
        if (strcmp(last->kv[i].key, "_type") == 0) softmax = strcmp(last->kv[i].value, "softmax") == 0;
    assert_true(softmax);
    for (int i = 0; i < l.n_connections; i++)
        assert_true(l.connections[i].count >= 2);
    glnn_listing_free(&l);
    glnn_chunks_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printed_example),
        cmocka_unit_test(test_handwritten_example),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_comments_blanks_and_spaces),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
