/* What issue #16 added to the library for its users: float user data outside [0, 1] refused (SPEC §2.2), labels of
 * a chunk collection, messages that say what is wrong (a file that is not a chunk file, a device from the
 * environment, an input nobody provides), a model's connections, per-op figures and its op table.  Everything runs
 * on the CPU reference; the device-name checks open no GPU. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOG_MODEL "../shared/models/dog_classifier.chunks"

static glnn_context *reference(void) {
    static glnn_context *ctx;
    if (!ctx) {
        glnn_error err;
        glnn_context_options o;
        glnn_context_options_init(&o);
        o.device = "reference";
        assert_ok(glnn_context_create(&o, &ctx, &err));
    }
    return ctx;
}

/* Two pooling ops, the second reading the first through shuffle 2. */
static const char SHUFFLED[] =
    "ops:\n"
    "  - _name: a\n    _type: pooling2d\n    operator: max\n    size: 2\n    stride: 1\n    padding: same\n"
    "  - _name: b\n    _type: pooling2d\n    operator: max\n    size: 2\n    stride: 1\n    padding: same\n"
    "connections:\n  - from: a\n    to: b\n    shuffle: 2\n";

static int teardown(void **state) {
    (void)state;
    glnn_context_free(reference());
    return 0;
}

static void assert_contains(const char *text, const char *part) {
    if (!strstr(text, part)) fail_msg("'%s' not in:\n%s", part, text);
}

/* ---- SPEC §2.2: float user data must lie in [0, 1] ---------------------------------------------------- */

static void test_quantize_f32(void **state) {
    (void)state;
    glnn_error err;
    /* Half a step of slack on either side: −1/510 and 1 + 1/510 are still Q's 0 and 255. */
    const float ok[6] = {0.0f, 0.25f, 0.5f, 1.0f, -1.0f / 511.0f, 1.0f + 1.0f / 511.0f};
    const uint8_t want[6] = {0, 64, 128, 255, 0, 255};
    uint8_t got[6];
    assert_ok(glnn_quantize_f32(ok, got, 6, &err));
    assert_memory_equal(got, want, 6);

    /* 8-bit data as floats: the message names the first value out of range, its flat index and the fix. */
    const float bytes[5] = {0.0f, 1.0f, 200.0f, 255.0f, 3.0f};
    uint8_t untouched[5] = {7, 7, 7, 7, 7};
    assert_error(glnn_quantize_f32(bytes, untouched, 5, &err), &err, GLNN_ERR_ARGUMENT, "values must be in [0, 1]",
                 "got 200 at flat index 2", "max 255", "divide 8-bit data by 255", "uint8");
    for (int i = 0; i < 5; i++)
        assert_int_equal(untouched[i], 7);
    const float low[3] = {0.5f, -0.01f, 0.5f};
    assert_error(glnn_quantize_f32(low, got, 3, &err), &err, GLNN_ERR_ARGUMENT, "flat index 1", "min -0.01");
    const float just_out[2] = {0.0f, 1.0f + 1.0f / 500.0f};
    assert_error(glnn_quantize_f32(just_out, got, 2, &err), &err, GLNN_ERR_ARGUMENT, "flat index 1");
    const float special[4] = {0.5f, INFINITY, NAN, -INFINITY};
    assert_error(glnn_quantize_f32(special, got, 4, &err), &err, GLNN_ERR_ARGUMENT, "+infinity at flat index 1");
    assert_error(glnn_quantize_f32(special + 2, got, 2, &err), &err, GLNN_ERR_ARGUMENT, "NaN at flat index 0");
    assert_error(glnn_quantize_f32(NULL, got, 2, &err), &err, GLNN_ERR_ARGUMENT, "quantize");
    assert_ok(glnn_quantize_f32(NULL, NULL, 0, &err));
}

static void test_float_uploads_checked(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx = reference();
    glnn_tensor *t;
    assert_ok(glnn_tensor_create(ctx, (glnn_shape){GLNN_KIND_TENSOR, 1, 2, 4}, &t, &err));
    const float good[8] = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 1};
    assert_ok(glnn_tensor_upload_f32(t, good, 8, &err));
    float bad[8];
    memcpy(bad, good, sizeof bad);
    bad[6] = 153.0f;
    assert_error(glnn_tensor_upload_f32(t, bad, 8, &err), &err, GLNN_ERR_ARGUMENT, "upload tensor", "flat index 6",
                 "153");
    bad[6] = -INFINITY;
    assert_error(glnn_tensor_upload_f32(t, bad, 8, &err), &err, GLNN_ERR_ARGUMENT, "-infinity at flat index 6");
    uint8_t back[8];
    assert_ok(glnn_tensor_download_u8(t, back, 8, &err)); /* the refused uploads left the tensor as it was */
    for (int i = 0; i < 8; i++)
        assert_int_equal(back[i], glnn_quantize(good[i]));
    glnn_tensor_free(t);

    /* Vectors hold floats as they are: any finite value. */
    assert_ok(glnn_tensor_create(ctx, (glnn_shape){GLNN_KIND_VECTOR, 1, 1, 3}, &t, &err));
    const float v[3] = {-7.5f, 255.0f, 1e6f};
    float vb[3];
    assert_ok(glnn_tensor_upload_f32(t, v, 3, &err));
    assert_ok(glnn_tensor_download_f32(t, vb, 3, &err));
    assert_memory_equal(v, vb, sizeof v);
    glnn_tensor_free(t);

    /* Bound tensors: the same rule, and the binding keeps its earlier data (read back through an identity 1×1
     * convolution). */
    glnn_model *m;
    glnn_chunks *data;
    assert_ok(glnn_model_create(&m, &err));
    assert_ok(glnn_chunks_create(&data, &err));
    glnn_op *c = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    assert_ok(glnn_model_append(m, c, false, &err));
    glnn_op_release(c);
    float w[16] = {0}, b[4] = {0};
    for (int i = 0; i < 4; i++)
        w[i * 4 + i] = 1.0f;
    assert_ok(glnn_chunks_set_weights(data, "c", w, 16, b, 4, &err));
    assert_ok(glnn_model_add_output(m, "c", 0, &err));
    assert_ok(glnn_model_bind_tensor_f32(m, "c", 0, good, 1, 2, 4, &err));
    assert_error(glnn_model_bind_tensor_f32(m, "c", 0, bad, 1, 2, 4, &err), &err, GLNN_ERR_ARGUMENT, "bind tensor",
                 "infinity at flat index 6");
    bad[6] = 2.0f;
    assert_error(glnn_model_bind_tensor_f32(m, "c", 0, bad, 1, 2, 4, &err), &err, GLNN_ERR_ARGUMENT, "bind tensor",
                 "got 2 at flat index 6");
    assert_ok(glnn_model_run(m, ctx, data, &err));
    assert_ok(glnn_model_get_output_u8(m, "c", 0, back, 8, &err));
    for (int i = 0; i < 8; i++)
        assert_int_equal(back[i], glnn_quantize(good[i]));
    glnn_chunks_free(data);
    glnn_model_free(m);
}

/* ---- labels ---------------------------------------------------------------------------------------- */

static void expect_label(const glnn_chunks *c, size_t i, const char *want) {
    const char *name = NULL;
    size_t len = 99;
    assert_true(glnn_chunks_label_at(c, i, &name, &len));
    assert_int_equal(len, strlen(want));
    assert_memory_equal(name, want, len);
}

static void test_labels(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c;
    assert_ok(glnn_chunks_create(&c, &err));
    assert_int_equal(glnn_chunks_label_count(c), 0);
    assert_false(glnn_chunks_label_at(c, 0, NULL, NULL));
    /* One name a line; a final LF adds none; CR before LF dropped; an empty line is an empty name. */
    const char text[] = "Chihuahua\r\nJapanese spaniel\n\nbasenji\n";
    assert_ok(glnn_chunks_set(c, "labels", 6, text, strlen(text), &err));
    assert_int_equal(glnn_chunks_label_count(c), 4);
    expect_label(c, 0, "Chihuahua");
    expect_label(c, 1, "Japanese spaniel");
    expect_label(c, 2, "");
    expect_label(c, 3, "basenji");
    assert_false(glnn_chunks_label_at(c, 4, NULL, NULL));
    assert_false(glnn_chunks_label_at(c, SIZE_MAX, NULL, NULL));
    /* Without a final LF the last line is a name too. */
    assert_ok(glnn_chunks_set(c, "labels", 6, "a\nb", 3, &err));
    assert_int_equal(glnn_chunks_label_count(c), 2);
    expect_label(c, 1, "b");
    glnn_chunks_free(c);
    assert_int_equal(glnn_chunks_label_count(NULL), 0);

    if (glnn_chunks_read_file(DOG_MODEL, &c, &err) == GLNN_OK) {
        assert_int_equal(glnn_chunks_label_count(c), 120); /* SPEC §10 */
        expect_label(c, 0, "Chihuahua");
        glnn_chunks_free(c);
    }
}

/* ---- messages ------------------------------------------------------------------------------------- */

static void test_not_a_chunk_file(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *c = NULL;
    const char listing[] = "connections:\n  - from: a\n";
    assert_error(glnn_chunks_read_memory(listing, strlen(listing), &c, &err), &err, GLNN_ERR_FORMAT, "not a chunk file",
                 "greater than 255");
    assert_null(c);
    /* A later record with a bad length: a corrupt chunk file, at its offset. */
    uint8_t data[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    assert_error(glnn_chunks_read_memory(data, sizeof data, &c, &err), &err, GLNN_ERR_FORMAT, "byte offset 8",
                 "greater than 255", "corrupt");
}

static void test_device_from_environment(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *ctx = NULL;
    char *saved_device = getenv("GLNN_DEVICE") ? strdup(getenv("GLNN_DEVICE")) : NULL;
    char *saved_path = getenv("GLNN_PATH") ? strdup(getenv("GLNN_PATH")) : NULL;
    setenv("GLNN_PATH", "vertex", 1);
    assert_error(glnn_context_create(NULL, &ctx, &err), &err, GLNN_ERR_ARGUMENT, "unknown path 'vertex'", "GLNN_PATH");
    unsetenv("GLNN_PATH");
    setenv("GLNN_DEVICE", "gpu0", 1);
    assert_error(glnn_context_create(NULL, &ctx, &err), &err, GLNN_ERR_ARGUMENT, "unknown device 'gpu0'",
                 "GLNN_DEVICE");
    /* Given as an option, the name is the caller's own: no mention of the variable. */
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "gpu1";
    assert_error(glnn_context_create(&o, &ctx, &err), &err, GLNN_ERR_ARGUMENT, "unknown device 'gpu1'");
    assert_null(strstr(err.message, "GLNN_DEVICE"));
    assert_null(ctx);
    /* A GPU path asked for by name with the device left to "auto" runs on a GPU (the software renderer without
     * a hardware one), not silently on the CPU back end. */
    unsetenv("GLNN_DEVICE");
    if (!getenv("GLNN_TEST_NO_GPU")) {
        glnn_context_options_init(&o);
        o.path = "fragment";
        if (glnn_context_create(&o, &ctx, &err) == GLNN_OK) {
            assert_string_equal(glnn_context_path(ctx), "fragment");
            assert_true(glnn_context_is_gpu(ctx));
            glnn_context_free(ctx);
        } else {
            print_message("no EGL device: %s\n", err.message);
        }
    }
    if (saved_device)
        setenv("GLNN_DEVICE", saved_device, 1);
    else
        unsetenv("GLNN_DEVICE");
    if (saved_path) setenv("GLNN_PATH", saved_path, 1);
    free(saved_device);
    free(saved_path);
}

/* A model c1 -> c2 of 1×1 convolutions on 2×2×4 tensors, weights 0.5 on the diagonal and bias 0.25. */
static void small_model(bool connect, glnn_model **m, glnn_chunks **data) {
    glnn_error err;
    assert_ok(glnn_model_create(m, &err));
    assert_ok(glnn_chunks_create(data, &err));
    const char *names[2] = {"c1", "c2"};
    for (int i = 0; i < 2; i++) {
        glnn_op *op = glnn_test_conv(names[i], 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
        assert_ok(glnn_model_append(*m, op, connect, &err));
        glnn_op_release(op);
        float w[16] = {0}, b[4] = {0.25f, 0.25f, 0.25f, 0.25f};
        for (int c = 0; c < 4; c++)
            w[c * 4 + c] = 0.5f;
        assert_ok(glnn_chunks_set_weights(*data, names[i], w, 16, b, 4, &err));
    }
    uint8_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint8_t)(i * 16);
    assert_ok(glnn_model_bind_tensor_u8(*m, "c1", 0, x, 2, 2, 4, &err));
}

static void test_input_not_provided(void **state) {
    (void)state;
    glnn_error err;
    glnn_model *m;
    glnn_chunks *data;
    small_model(false, &m, &data); /* appended without connect=True: c2 reads nothing */
    assert_error(glnn_model_run(m, reference(), data, &err), &err, GLNN_ERR_STATE, "input #0 of 'c2' is not provided",
                 "add_connection('c1', 'c2')", "append(op, connect=True)");
    glnn_model_free(m);
    glnn_model *empty;
    assert_ok(glnn_model_create(&empty, &err));
    glnn_op *op = glnn_test_conv("first", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    assert_ok(glnn_model_append(empty, op, false, &err));
    glnn_op_release(op);
    assert_error(glnn_model_prepare(empty, reference(), data, &err), &err, GLNN_ERR_STATE,
                 "input #0 of 'first' is not provided", "bind an image or a tensor");
    glnn_model_free(empty);
    glnn_chunks_free(data);
}

/* ---- connections, per-op figures, the op table ------------------------------------------------------- */

static void test_connections(void **state) {
    (void)state;
    glnn_error err;
    glnn_model *m;
    glnn_chunks *data;
    small_model(true, &m, &data);
    glnn_op *c3 = glnn_test_conv("c3", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    assert_ok(glnn_model_append(m, c3, true, &err));
    glnn_op_release(c3);
    assert_ok(glnn_model_add_connection(m, "c1", "c3", 0, 1, 0, &err));
    assert_int_equal(glnn_model_connection_count(m), 3);
    const glnn_connection_info want[3] = {{"c1", "c2", 0, 0, 0}, {"c2", "c3", 0, 0, 0}, {"c1", "c3", 0, 1, 0}};
    for (int i = 0; i < 3; i++) {
        glnn_connection_info c;
        assert_ok(glnn_model_connection_at(m, i, &c, &err));
        assert_string_equal(c.source, want[i].source);
        assert_string_equal(c.dest, want[i].dest);
        assert_int_equal(c.output, want[i].output);
        assert_int_equal(c.input, want[i].input);
        assert_int_equal(c.shuffle, want[i].shuffle);
    }
    glnn_connection_info c;
    assert_error(glnn_model_connection_at(m, 3, &c, &err), &err, GLNN_ERR_ARGUMENT, "position 3", "has 3");
    assert_error(glnn_model_connection_at(m, -1, &c, &err), &err, GLNN_ERR_ARGUMENT, "position -1");
    assert_error(glnn_model_connection_at(NULL, 0, &c, &err), &err, GLNN_ERR_ARGUMENT, "connection");
    assert_error(glnn_model_connection_at(m, 0, NULL, &err), &err, GLNN_ERR_ARGUMENT, "connection");
    assert_int_equal(glnn_model_connection_count(NULL), 0);
    glnn_model_free(m);
    glnn_chunks_free(data);

    /* Shuffle steps read back from a listing. */
    assert_ok(glnn_model_deserialize(SHUFFLED, strlen(SHUFFLED), &m, &err));
    assert_int_equal(glnn_model_connection_count(m), 1);
    assert_ok(glnn_model_connection_at(m, 0, &c, &err));
    assert_string_equal(c.source, "a");
    assert_string_equal(c.dest, "b");
    assert_int_equal(c.shuffle, 2);
    glnn_model_free(m);
}

static void test_op_stats(void **state) {
    (void)state;
    glnn_error err;
    glnn_model *m;
    glnn_chunks *data;
    small_model(true, &m, &data);
    glnn_op_stats st;
    assert_error(glnn_model_op_stats(m, 0, &st, &err), &err, GLNN_ERR_STATE, "not prepared");
    assert_ok(glnn_model_prepare(m, reference(), data, &err));
    for (int i = 0; i < 2; i++) {
        assert_ok(glnn_model_op_stats(m, i, &st, &err));
        assert_int_equal(st.output.kind, GLNN_KIND_TENSOR);
        assert_int_equal(st.output.h, 2);
        assert_int_equal(st.output.w, 2);
        assert_int_equal(st.output.c, 4);
        assert_int_equal(st.multiply_adds, 2 * 2 * 4 * 4); /* V·k²·Cg (SPEC §4.8) */
        assert_int_equal(st.texel_fetches, 4 * 1 * 1);     /* (V/4)·k²·Cg/4 */
        assert_int_equal(st.weights, 16 + 4);              /* 1·1·4·4 filters and 4 biases */
        assert_true(st.ms == -1.0 && st.gpu_ms == -1.0);   /* not run yet */
    }
    assert_ok(glnn_model_run(m, reference(), data, &err));
    double ms;
    assert_ok(glnn_model_op_stats(m, 1, &st, &err));
    assert_ok(glnn_model_op_time(m, 1, &ms, &err));
    assert_true(st.ms >= 0 && st.ms == ms);
    assert_true(st.gpu_ms == -1.0); /* the reference has no timer queries */
    assert_error(glnn_model_op_stats(m, 2, &st, &err), &err, GLNN_ERR_ARGUMENT, "position 2");
    assert_error(glnn_model_op_stats(m, 0, NULL, &err), &err, GLNN_ERR_ARGUMENT, "op stats");
    glnn_model_free(m);
    glnn_chunks_free(data);
}

static char *summary(const glnn_model *m) {
    size_t n = glnn_model_summary(m, NULL, 0);
    char *text = malloc(n + 1);
    assert_int_equal(glnn_model_summary(m, text, n + 1), n);
    assert_int_equal(strlen(text), n);
    return text;
}

static void test_summary(void **state) {
    (void)state;
    glnn_error err;
    glnn_model *m;
    glnn_chunks *data;
    small_model(true, &m, &data);
    glnn_op *c3 = glnn_test_conv("c3", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    assert_ok(glnn_model_append(m, c3, false, &err));
    glnn_op_release(c3);
    float w[16] = {0}, b[4] = {0};
    assert_ok(glnn_chunks_set_weights(data, "c3", w, 16, b, 4, &err));
    assert_ok(glnn_model_add_connection(m, "c2", "c3", 0, 0, 1, &err));
    assert_ok(glnn_model_add_connection(m, "c1", "c3", 0, 1, 0, &err));

    char *text = summary(m); /* unprepared: the table without shapes and counts */
    assert_contains(text, "name");
    assert_contains(text, "inputs");
    assert_contains(text, "c3");
    assert_contains(text, "c2, c1");
    assert_contains(text, "(data)");
    assert_contains(text, "3 operations, 3 connections (1 into a second input, 0 shuffled)");
    assert_contains(text, "not prepared");
    free(text);

    assert_ok(glnn_model_prepare(m, reference(), data, &err));
    text = summary(m);
    assert_contains(text, "2x2x4");
    assert_contains(text, "192 multiply-adds"); /* 3 × 64 */
    assert_contains(text, "60 weights");
    assert_null(strstr(text, "not prepared"));
    /* Truncated like snprintf: the full length whatever the room. */
    char small[16];
    assert_int_equal(glnn_model_summary(m, small, sizeof small), strlen(text));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, text, sizeof small - 1);
    free(text);
    assert_int_equal(glnn_model_summary(NULL, small, sizeof small), 0);
    assert_string_equal(small, "");
    glnn_model_free(m);
    glnn_chunks_free(data);

    /* A shuffled connection shows its step. */
    assert_ok(glnn_model_deserialize(SHUFFLED, strlen(SHUFFLED), &m, &err));
    text = summary(m);
    assert_contains(text, "a (shuffle 2)");
    assert_contains(text, "1 shuffled");
    free(text);
    glnn_model_free(m);
}

/* SPEC §10's figures of the reference model, through the op table. */
static void test_dog_classifier_summary(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *data;
    if (glnn_chunks_read_file(DOG_MODEL, &data, &err) != GLNN_OK) skip();
    glnn_model *m;
    assert_ok(glnn_model_from_chunks(data, &m, &err));
    static uint8_t pixels[16 * 16 * 3];
    assert_ok(glnn_model_bind_image(m, "input", 0, pixels, 16, 16, 3, &err));
    assert_ok(glnn_model_prepare(m, reference(), data, &err));
    char *text = summary(m);
    assert_contains(text, "45 operations, 61 connections");
    assert_contains(text, "398405856 multiply-adds");
    assert_contains(text, "27880551 texel fetches");
    assert_contains(text, "211672 weights");
    assert_contains(text, "b2-stage1-dw");
    int64_t weights = 0;
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        glnn_op_stats st;
        assert_ok(glnn_model_op_stats(m, i, &st, &err));
        weights += st.weights;
    }
    assert_int_equal(weights, 211672);
    glnn_op_stats st;
    assert_ok(glnn_model_op_stats(m, 3, &st, &err)); /* b1-stage1-dw: 1,152 filters and 32 biases (SPEC §4.7) */
    assert_int_equal(st.weights, 1152 + 32);
    free(text);
    glnn_model_free(m);
    glnn_chunks_free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_f32),
        cmocka_unit_test(test_float_uploads_checked),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_not_a_chunk_file),
        cmocka_unit_test(test_device_from_environment),
        cmocka_unit_test(test_input_not_provided),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_op_stats),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_dog_classifier_summary),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
