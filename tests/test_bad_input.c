/* Bad input, one table: files (chunk files, listings, images), parameters and API misuse (NULL handles,
 * results asked before preparing or running, tensors of the wrong shape, objects reused where they do not
 * belong, sizes beyond the limits).  Every case asserts its status and the words of its message.  Then the
 * "no silent corruption" sweeps: every truncation of a model file, of a PNG, a JPEG and a BMP fails, and
 * regressions for ops whose state changed behind a prepared model's back.  CPU only. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Setup steps inside the cases, which must succeed whatever `err` the case was given (even NULL). */
static glnn_error setup_err;
#define SETUP(call) glnn_test_assert_ok((call), &setup_err, __FILE__, __LINE__)

/* ---- helpers --------------------------------------------------------------------------------------------- */

static glnn_tensor *make_tensor(glnn_context *ctx, glnn_data_kind kind, int64_t h, int64_t w, int64_t c) {
    glnn_error err;
    glnn_tensor *t;
    glnn_shape s = {kind, h, w, c};
    assert_ok(glnn_tensor_create(ctx, s, &t, &err));
    return t;
}

/* Chunks holding zero weights (and bias) of n floats for op `name`. */
static glnn_chunks *zero_weights(const char *name, int64_t n, int64_t n_bias) {
    glnn_error err;
    glnn_chunks *ch;
    assert_ok(glnn_chunks_create(&ch, &err));
    float *w = calloc((size_t)(n > n_bias ? n : n_bias) + 1, sizeof(float));
    assert_ok(glnn_chunks_set_weights(ch, name, w, n, n_bias ? w : NULL, n_bias, &err));
    free(w);
    return ch;
}

static glnn_status read_chunks(const void *bytes, size_t size, glnn_error *err) {
    glnn_chunks *c = NULL;
    glnn_status s = glnn_chunks_read_memory(bytes, size, &c, err);
    glnn_chunks_free(c);
    return s;
}

static glnn_status parse_listing(const char *text, glnn_error *err) {
    glnn_model *m = NULL;
    glnn_status s = glnn_model_deserialize(text, strlen(text), &m, err);
    glnn_model_free(m);
    return s;
}

static glnn_status decode(const void *bytes, size_t size, glnn_error *err) {
    uint8_t *px = NULL;
    int64_t h, w;
    glnn_status s = glnn_image_decode(bytes, size, &px, &h, &w, err);
    glnn_free(px);
    return s;
}

static void put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
    put_u16(p, v & 0xffff);
    put_u16(p + 2, v >> 16);
}

/* A BMP header (40-byte info header) for a w×h image of bpp bits; the pixel data is not included. */
static void bmp_header(uint8_t *b, int32_t w, int32_t h, int bpp, uint32_t file_size) {
    memset(b, 0, 54);
    b[0] = 'B';
    b[1] = 'M';
    put_u32(b + 2, file_size);
    put_u32(b + 10, 54);
    put_u32(b + 14, 40);
    put_u32(b + 18, (uint32_t)w);
    put_u32(b + 22, (uint32_t)h);
    put_u16(b + 26, 1);
    put_u16(b + 28, (uint32_t)bpp);
}

/* ---- files: chunk files ------------------------------------------------------------------------------------ */

static glnn_status chunk_length_cut(glnn_error *err) {
    const uint8_t b[] = {1, 0, 0};
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_id_cut(glnn_error *err) {
    const uint8_t b[] = {4, 0, 0, 0, 'a', 'b'};
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_size_cut(glnn_error *err) {
    const uint8_t b[] = {1, 0, 0, 0, 'a', 9, 0};
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_payload_beyond_file(glnn_error *err) {
    const uint8_t b[] = {1, 0, 0, 0, 'a', 0xff, 0xff, 0xff, 0xff, 'x', 'y'};
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_second_record_cut(glnn_error *err) {
    const uint8_t b[] = {1, 0, 0, 0, 'a', 1, 0, 0, 0, 'x', 1, 0, 0, 0, 'b', 5, 0, 0, 0, 'y'};
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_id_too_long(glnn_error *err) {
    uint8_t b[300] = {0};
    put_u32(b, 256);
    return read_chunks(b, sizeof b, err);
}
static glnn_status chunk_too_many_records(glnn_error *err) {
    size_t n = ((size_t)1 << 20) + 1, size = n * 8; /* empty id, empty payload: 8 bytes each */
    uint8_t *b = calloc(size, 1);
    assert_non_null(b);
    glnn_status s = read_chunks(b, size, err);
    free(b);
    return s;
}
static glnn_status chunk_file_missing(glnn_error *err) {
    glnn_chunks *c = NULL;
    glnn_status s = glnn_chunks_read_file("tests/no-such-file.chunks", &c, err);
    glnn_chunks_free(c);
    return s;
}
static glnn_status chunk_file_is_directory(glnn_error *err) {
    glnn_chunks *c = NULL;
    glnn_status s = glnn_chunks_read_file("tests", &c, err);
    glnn_chunks_free(c);
    return s;
}
static glnn_status chunk_id_too_long_to_set(glnn_error *err) {
    glnn_chunks *c;
    SETUP(glnn_chunks_create(&c, &setup_err));
    char id[300];
    memset(id, 'x', sizeof id);
    glnn_status s = glnn_chunks_set(c, id, sizeof id, "", 0, err);
    glnn_chunks_free(c);
    return s;
}
static glnn_status model_file_without_listing(glnn_error *err) {
    glnn_chunks *c;
    SETUP(glnn_chunks_create(&c, &setup_err));
    SETUP(glnn_chunks_set(c, "labels", 6, "a\nb\n", 4, &setup_err));
    glnn_model *m = NULL;
    glnn_status s = glnn_model_from_chunks(c, &m, err);
    glnn_model_free(m);
    glnn_chunks_free(c);
    return s;
}

/* ---- files: listings ------------------------------------------------------------------------------------ */

#define CONV_BLOCK " - _name: c\n   _type: conv2d\n   kernel_size: 1\n   input_channels: 4\n   output_channels: 4\n"

static glnn_status listing_no_ops(glnn_error *err) {
    return parse_listing("connections:\n - from: a\n   to: b\n", err);
}
static glnn_status listing_bad_indent(glnn_error *err) {
    return parse_listing("ops:\n - _name: c\n    _type: conv2d\n", err);
}
static glnn_status listing_no_colon(glnn_error *err) {
    return parse_listing("ops:\n - _name c\n", err);
}
static glnn_status listing_repeated_key(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "   kernel_size: 3\n", err);
}
static glnn_status listing_repeated_chapter(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "ops:\n", err);
}
static glnn_status listing_unknown_type(glnn_error *err) {
    return parse_listing("ops:\n - _name: c\n   _type: conv3d\n", err);
}
static glnn_status listing_int_overflow(glnn_error *err) {
    return parse_listing("ops:\n - _name: c\n   _type: conv2d\n   kernel_size: 99999999999\n   input_channels: 4\n"
                         "   output_channels: 4\n",
                         err);
}
static glnn_status listing_bad_boolean(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "   use_bias: yes\n", err);
}
static glnn_status listing_unknown_key(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "   dilation: 2\n", err);
}
static glnn_status listing_missing_key(glnn_error *err) {
    return parse_listing("ops:\n - _name: c\n   _type: conv2d\n   input_channels: 4\n   output_channels: 4\n", err);
}
static glnn_status listing_invalid_parameter(glnn_error *err) {
    return parse_listing("ops:\n - _name: c\n   _type: conv2d\n   kernel_size: 0\n   input_channels: 4\n"
                         "   output_channels: 4\n",
                         err);
}
static glnn_status listing_unknown_destination(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "connections:\n - from: c\n   to: zz\n", err);
}
static glnn_status listing_nul_byte(glnn_error *err) {
    static const char text[] = "ops:\n - _name: c\0\n";
    glnn_model *m = NULL;
    glnn_status s = glnn_model_deserialize(text, sizeof text - 1, &m, err);
    glnn_model_free(m);
    return s;
}
static glnn_status listing_too_many_keys(glnn_error *err) {
    size_t cap = 1100 * 16 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "misc:\n - k0: v\n");
    for (int i = 1; i <= 1024; i++)
        n += (size_t)snprintf(text + n, cap - n, "   k%d: v\n", i);
    snprintf(text + n, cap - n, "ops:\n");
    glnn_status s = parse_listing(text, err);
    free(text);
    return s;
}
static glnn_status listing_too_many_ops(glnn_error *err) {
    size_t cap = 4200 * 48, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "ops:\n");
    for (int i = 0; i <= 4096; i++)
        n += (size_t)snprintf(text + n, cap - n, " - _name: s%d\n   _type: softmax\n", i);
    glnn_status s = parse_listing(text, err);
    free(text);
    return s;
}
static glnn_status listing_enumeration(glnn_error *err) {
    return parse_listing("ops:\n" CONV_BLOCK "   padding: diagonal\n", err);
}
static glnn_status listing_upsampling_factor(glnn_error *err) {
    return parse_listing("ops:\n - _name: u\n   _type: upsampling2d\n   factor: 20\n", err);
}
static glnn_status listing_upsampling_interpolation(glnn_error *err) {
    return parse_listing("ops:\n - _name: u\n   _type: upsampling2d\n   factor: 4\n   interpolation: cubic\n", err);
}

/* ---- files: images ---------------------------------------------------------------------------------------- */

static glnn_status image_empty(glnn_error *err) {
    return decode("", 0, err);
}
static glnn_status image_gif(glnn_error *err) {
    return decode("GIF89a\x01\x00\x01\x00", 10, err);
}
static glnn_status image_unknown(glnn_error *err) {
    return decode("hello, world", 12, err);
}
static glnn_status image_png_cut_header(glnn_error *err) {
    static const uint8_t b[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0};
    return decode(b, sizeof b, err);
}
static glnn_status image_bmp_16bit(glnn_error *err) {
    uint8_t b[54 + 8];
    bmp_header(b, 2, 2, 16, sizeof b);
    return decode(b, sizeof b, err);
}
static glnn_status image_bmp_huge(glnn_error *err) {
    uint8_t b[54 + 16];
    bmp_header(b, 100000, 100000, 24, sizeof b);
    return decode(b, sizeof b, err);
}
static glnn_status image_bmp_cut_pixels(glnn_error *err) {
    uint8_t b[54 + 20];
    bmp_header(b, 4, 4, 24, sizeof b);
    return decode(b, sizeof b, err);
}
static glnn_status image_bmp_negative_width(glnn_error *err) {
    uint8_t b[54 + 16];
    bmp_header(b, -4, 4, 24, sizeof b);
    return decode(b, sizeof b, err);
}
static glnn_status image_jpeg_garbage(glnn_error *err) {
    static const uint8_t b[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',  0,
                                1,    1,    0,    0,    1, 0,  1,   0,   0,   0xff, 0x00};
    return decode(b, sizeof b, err);
}
static glnn_status image_file_missing(glnn_error *err) {
    uint8_t *px = NULL;
    int64_t h, w;
    glnn_status s = glnn_image_load("tests/no-such-picture.png", &px, &h, &w, err);
    glnn_free(px);
    return s;
}

/* ---- parameters ------------------------------------------------------------------------------------------- */

static glnn_status conv_params(int k, int stride, int cin, int cout, int groups, glnn_padding padding, const char *name,
                               glnn_error *err) {
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = name;
    p.kernel_size = k;
    p.stride = stride;
    p.num_input_channels = cin;
    p.num_output_channels = cout;
    p.num_groups = groups;
    p.padding = padding;
    glnn_op *op = NULL;
    glnn_status s = glnn_conv2d_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status conv_kernel_zero(glnn_error *err) {
    return conv_params(0, 1, 4, 4, 1, GLNN_PADDING_VALID, "c", err);
}
static glnn_status conv_negative_stride(glnn_error *err) {
    return conv_params(3, -1, 4, 4, 1, GLNN_PADDING_VALID, "c", err);
}
static glnn_status conv_odd_channels(glnn_error *err) {
    return conv_params(3, 1, 5, 4, 1, GLNN_PADDING_VALID, "c", err);
}
static glnn_status conv_bad_name(glnn_error *err) {
    return conv_params(3, 1, 4, 4, 1, GLNN_PADDING_VALID, "a#b", err);
}
static glnn_status conv_no_name(glnn_error *err) {
    return conv_params(3, 1, 4, 4, 1, GLNN_PADDING_VALID, NULL, err);
}
static glnn_status conv_groups(glnn_error *err) {
    return conv_params(3, 1, 8, 8, 3, GLNN_PADDING_VALID, "c", err);
}
static glnn_status conv_image_same(glnn_error *err) {
    return conv_params(3, 1, 3, 8, 1, GLNN_PADDING_SAME, "c", err);
}
static glnn_status conv_bad_padding_value(glnn_error *err) {
    return conv_params(3, 1, 4, 4, 1, (glnn_padding)7, "c", err);
}
static glnn_status pooling_size_one(glnn_error *err) {
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = "p";
    p.size = 1;
    glnn_op *op = NULL;
    glnn_status s = glnn_pooling2d_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status pooling_average_same(glnn_error *err) {
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = "p";
    p.size = 2;
    p.op = GLNN_POOLING_AVERAGE;
    p.padding = GLNN_PADDING_SAME;
    glnn_op *op = NULL;
    glnn_status s = glnn_pooling2d_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status dense_dims(glnn_error *err) {
    glnn_dense_params p;
    glnn_dense_params_init(&p);
    p.name = "d";
    p.num_output_dims = 0;
    glnn_op *op = NULL;
    glnn_status s = glnn_dense_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status sampler_size(glnn_error *err) {
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "s";
    p.output_width = 0;
    p.output_height = 4;
    glnn_op *op = NULL;
    glnn_status s = glnn_image_sampler_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status sampler_rotation(glnn_error *err) {
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "s";
    p.output_width = p.output_height = 4;
    glnn_op *op;
    SETUP(glnn_image_sampler_create(&p, &op, &setup_err));
    glnn_status s = glnn_image_sampler_set_rotation(op, 4, err);
    glnn_op_release(op);
    return s;
}
static glnn_status upsampling_params(int factor, int interpolation, glnn_error *err) {
    glnn_upsampling2d_params p;
    glnn_upsampling2d_params_init(&p);
    p.name = "u";
    p.factor = factor;
    p.interpolation = (glnn_interpolation)interpolation;
    glnn_op *op = NULL;
    glnn_status s = glnn_upsampling2d_create(&p, &op, err);
    glnn_op_release(op);
    return s;
}
static glnn_status upsampling_factor_one(glnn_error *err) {
    return upsampling_params(1, GLNN_INTERPOLATION_BILINEAR, err);
}
static glnn_status upsampling_factor_17(glnn_error *err) {
    return upsampling_params(17, GLNN_INTERPOLATION_NEAREST, err);
}
static glnn_status upsampling_interpolation(glnn_error *err) {
    return upsampling_params(2, 5, err);
}
static glnn_status interpolation_word(glnn_error *err) {
    glnn_interpolation i;
    return glnn_interpolation_parse("cubic", &i, err);
}
static glnn_status padding_word(glnn_error *err) {
    glnn_padding p;
    return glnn_padding_parse("diagonal", &p, err);
}
static glnn_status context_limit(glnn_error *err) {
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    o.max_sampled_channels = -5;
    glnn_context *ctx = NULL;
    glnn_status s = glnn_context_create(&o, &ctx, err);
    glnn_context_free(ctx);
    return s;
}
static glnn_status context_set_limit(glnn_error *err) {
    return glnn_context_set_max_sampled_channels(glnn_test_cpu(), -1, err);
}

/* ---- API misuse: NULL handles and result pointers ---------------------------------------------------------- */

static glnn_status null_tensor_context(glnn_error *err) {
    glnn_tensor *t;
    glnn_shape s = {GLNN_KIND_TENSOR, 1, 1, 4};
    return glnn_tensor_create(NULL, s, &t, err);
}
static glnn_status null_tensor_upload(glnn_error *err) {
    uint8_t b[4] = {0};
    return glnn_tensor_upload_u8(NULL, b, 4, err);
}
static glnn_status null_tensor_download_buffer(glnn_error *err) {
    glnn_tensor *t = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 1, 1, 4);
    glnn_status s = glnn_tensor_download_f32(t, NULL, 4, err);
    glnn_tensor_free(t);
    return s;
}
static glnn_status null_image_pixels(glnn_error *err) {
    glnn_tensor *t = NULL;
    return glnn_image_create(glnn_test_cpu(), NULL, 2, 2, 3, &t, err);
}
static glnn_status null_chunks_set(glnn_error *err) {
    return glnn_chunks_set(NULL, "a", 1, "x", 1, err);
}
static glnn_status null_chunks_data(glnn_error *err) {
    glnn_chunks *c = NULL;
    return glnn_chunks_read_memory(NULL, 10, &c, err);
}
static glnn_status null_chunks_output(glnn_error *err) {
    return glnn_chunks_read_memory("", 0, NULL, err);
}
static glnn_status null_conv_params(glnn_error *err) {
    glnn_op *op;
    return glnn_conv2d_create(NULL, &op, err);
}
static glnn_status null_op_run(glnn_error *err) {
    glnn_tensor *out = NULL;
    return glnn_op_run(glnn_test_cpu(), NULL, NULL, NULL, 0, &out, err);
}
static glnn_status null_op_run_context(glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *out = NULL;
    glnn_status s = glnn_op_run(NULL, op, NULL, NULL, 0, &out, err);
    glnn_op_release(op);
    return s;
}
static glnn_status null_op_run_inputs(glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *out = NULL;
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, NULL, 1, &out, err);
    glnn_op_release(op);
    return s;
}
static glnn_status null_op_counter(glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_status s = glnn_op_count_multiply_adds(op, NULL, err);
    glnn_op_release(op);
    return s;
}
static glnn_status null_op_shape(glnn_error *err) {
    return glnn_op_output_shape(NULL, 0, NULL, err);
}
static glnn_status null_model_run(glnn_error *err) {
    return glnn_model_run(NULL, glnn_test_cpu(), NULL, err);
}
static glnn_status null_model_run_context(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_status s = glnn_model_run(m, NULL, NULL, err);
    glnn_model_free(m);
    return s;
}
static glnn_status null_model_append(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_status s = glnn_model_append(m, NULL, false, err);
    glnn_model_free(m);
    return s;
}
static glnn_status null_model_bind(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_status s = glnn_model_bind_image(m, "x", 0, NULL, 2, 2, 3, err);
    glnn_model_free(m);
    return s;
}
static glnn_status null_model_probabilities(glnn_error *err) {
    float p[4];
    return glnn_model_get_probabilities(NULL, NULL, p, 4, err);
}
static glnn_status null_probabilities_size(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_status s = glnn_model_probabilities_size(m, NULL, NULL, err);
    glnn_model_free(m);
    return s;
}
static glnn_status null_model_serialize(glnn_error *err) {
    char *text;
    return glnn_model_serialize(NULL, &text, NULL, err);
}
static glnn_status null_model_text(glnn_error *err) {
    glnn_model *m;
    return glnn_model_deserialize(NULL, 10, &m, err);
}
static glnn_status null_model_chunks(glnn_error *err) {
    glnn_model *m;
    return glnn_model_from_chunks(NULL, &m, err);
}
static glnn_status null_parse_result(glnn_error *err) {
    return glnn_activation_parse("brelu6", NULL, err);
}
static glnn_status null_decode_output(glnn_error *err) {
    return glnn_image_decode("BM", 2, NULL, NULL, NULL, err);
}
static glnn_status null_image_path(glnn_error *err) {
    uint8_t *px;
    int64_t h, w;
    return glnn_image_load(NULL, &px, &h, &w, err);
}
static glnn_status null_context_output(glnn_error *err) {
    return glnn_context_create(NULL, NULL, err);
}
static glnn_status null_set_weights(glnn_error *err) {
    float w[4] = {0};
    return glnn_chunks_set_weights(NULL, "c", w, 4, NULL, 0, err);
}

/* ---- API misuse: results before preparing or running ------------------------------------------------------ */

static glnn_status early_op_counter(glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    int64_t n;
    glnn_status s = glnn_op_count_texel_fetches(op, &n, err);
    glnn_op_release(op);
    return s;
}
static glnn_status early_op_shape(glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_shape sh;
    glnn_status s = glnn_op_output_shape(op, 0, &sh, err);
    glnn_op_release(op);
    return s;
}
static glnn_status early_op_probabilities(glnn_error *err) {
    glnn_op *op;
    SETUP(glnn_softmax_create("s", &op, &setup_err));
    float p[4];
    glnn_status s = glnn_op_get_probabilities(op, p, 4, err);
    glnn_op_release(op);
    return s;
}
/* A one-conv model "c" with its input bound; not prepared. */
static glnn_model *conv_model(void) {
    glnn_error err;
    glnn_model *m;
    assert_ok(glnn_model_create(&m, &err));
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    assert_ok(glnn_model_append(m, op, false, &err));
    glnn_op_release(op);
    uint8_t zeros[16] = {0};
    assert_ok(glnn_model_bind_tensor_u8(m, "c", 0, zeros, 2, 2, 4, &err));
    assert_ok(glnn_model_add_output(m, "c", 0, &err));
    return m;
}
static glnn_status early_model_counter(glnn_error *err) {
    glnn_model *m = conv_model();
    int64_t n;
    glnn_status s = glnn_model_count_multiply_adds(m, &n, err);
    glnn_model_free(m);
    return s;
}
static glnn_status early_model_memory(glnn_error *err) {
    glnn_model *m = conv_model();
    int64_t n;
    glnn_status s = glnn_model_memory_size(m, &n, err);
    glnn_model_free(m);
    return s;
}
static glnn_status early_model_output(glnn_error *err) {
    glnn_model *m = conv_model();
    uint8_t out[16];
    glnn_status s = glnn_model_get_output_u8(m, "c", 0, out, 16, err);
    glnn_model_free(m);
    return s;
}
static glnn_status early_model_output_after_prepare(glnn_error *err) {
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 16, 4);
    SETUP(glnn_model_prepare(m, glnn_test_cpu(), ch, &setup_err));
    uint8_t out[16];
    glnn_status s = glnn_model_get_output_u8(m, "c", 0, out, 16, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status early_model_op_time(glnn_error *err) {
    glnn_model *m = conv_model();
    double ms;
    glnn_status s = glnn_model_op_time(m, 0, &ms, err);
    glnn_model_free(m);
    return s;
}
static glnn_status early_model_op_gpu_time(glnn_error *err) {
    glnn_model *m = conv_model();
    double ms;
    glnn_status s = glnn_model_op_gpu_time(m, 0, &ms, err);
    glnn_model_free(m);
    return s;
}
static glnn_status null_model_op_gpu_time(glnn_error *err) {
    return glnn_model_op_gpu_time(NULL, 0, NULL, err);
}
/* After a run on the CPU reference: a bad position, then an op that no GPU timed. */
static glnn_status ran_model_op_gpu_time(int index, glnn_error *err) {
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 16, 4);
    SETUP(glnn_model_run(m, glnn_test_cpu(), ch, &setup_err));
    double ms;
    glnn_status s = glnn_model_op_gpu_time(m, index, &ms, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status bad_index_op_gpu_time(glnn_error *err) {
    return ran_model_op_gpu_time(3, err);
}
static glnn_status cpu_op_gpu_time(glnn_error *err) {
    return ran_model_op_gpu_time(0, err);
}
static glnn_status early_empty_model(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_status s = glnn_model_run(m, glnn_test_cpu(), NULL, err);
    glnn_model_free(m);
    return s;
}
static glnn_status early_model_no_softmax(glnn_error *err) {
    glnn_model *m = conv_model();
    float p[4];
    glnn_status s = glnn_model_get_probabilities(m, NULL, p, 4, err);
    glnn_model_free(m);
    return s;
}

/* ---- API misuse: wrong shapes ------------------------------------------------------------------------------ */

static glnn_status shape_upload_count(glnn_error *err) {
    glnn_tensor *t = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4);
    uint8_t b[16] = {0};
    glnn_status s = glnn_tensor_upload_u8(t, b, 7, err);
    glnn_tensor_free(t);
    return s;
}
static glnn_status shape_tensor_depth(glnn_error *err) {
    glnn_tensor *t = NULL;
    glnn_shape sh = {GLNN_KIND_TENSOR, 2, 2, 6};
    return glnn_tensor_create(glnn_test_cpu(), sh, &t, err);
}
static glnn_status shape_vector(glnn_error *err) {
    glnn_tensor *t = NULL;
    glnn_shape sh = {GLNN_KIND_VECTOR, 2, 1, 6};
    return glnn_tensor_create(glnn_test_cpu(), sh, &t, err);
}
/* Runs conv "c" (1×1, 4→4) on `in` into `out` (NULL: created) with zero weights. */
static glnn_status run_conv(glnn_context *ctx, glnn_tensor *in, glnn_tensor *out, glnn_error *err) {
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *ch = zero_weights("c", 16, 4);
    glnn_tensor *o = out;
    glnn_status s = glnn_op_run(ctx, op, ch, &in, 1, &o, err);
    if (!out) glnn_tensor_free(o);
    glnn_op_release(op);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status shape_op_output(glnn_error *err) {
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4);
    glnn_tensor *out = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 8);
    glnn_status s = run_conv(glnn_test_cpu(), in, out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    return s;
}
static glnn_status shape_op_input_depth(glnn_error *err) {
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 8);
    glnn_status s = run_conv(glnn_test_cpu(), in, NULL, err);
    glnn_tensor_free(in);
    return s;
}
static glnn_status shape_op_image_for_tensor(glnn_error *err) {
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_IMAGE, 2, 2, 3);
    glnn_status s = run_conv(glnn_test_cpu(), in, NULL, err);
    glnn_tensor_free(in);
    return s;
}
static glnn_status shape_output_is_input(glnn_error *err) {
    glnn_tensor *t = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4);
    glnn_status s = run_conv(glnn_test_cpu(), t, t, err);
    glnn_tensor_free(t);
    return s;
}
static glnn_status shape_too_many_inputs(glnn_error *err) {
    glnn_op *op;
    SETUP(glnn_softmax_create("s", &op, &setup_err));
    glnn_tensor *in[2] = {NULL, NULL};
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, in, 2, NULL, err);
    glnn_op_release(op);
    return s;
}
static glnn_status shape_bound_depth(glnn_error *err) {
    glnn_model *m = conv_model();
    uint8_t zeros[32] = {0};
    SETUP(glnn_model_bind_tensor_u8(m, "c", 0, zeros, 2, 2, 8, &setup_err));
    glnn_chunks *ch = zero_weights("c", 16, 4);
    glnn_status s = glnn_model_run(m, glnn_test_cpu(), ch, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status shape_output_count(glnn_error *err) {
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 16, 4);
    SETUP(glnn_model_run(m, glnn_test_cpu(), ch, &setup_err));
    uint8_t out[32];
    glnn_status s = glnn_model_get_output_u8(m, "c", 0, out, 32, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status shape_weights_size(glnn_error *err) {
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 12, 4);
    glnn_status s = glnn_model_run(m, glnn_test_cpu(), ch, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status shape_bind_overflow(glnn_error *err) {
    glnn_model *m = conv_model();
    uint8_t b[4] = {0};
    glnn_status s = glnn_model_bind_tensor_u8(m, "c", 0, b, INT64_MAX / 2, 4, 4, err);
    glnn_model_free(m);
    return s;
}

/* ---- API misuse: objects reused where they do not belong ------------------------------------------------- */

static glnn_status reuse_op_twice(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_op *op = glnn_test_conv("c", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    SETUP(glnn_model_append(m, op, false, &setup_err));
    glnn_status s = glnn_model_append(m, op, false, err);
    glnn_op_release(op);
    glnn_model_free(m);
    return s;
}
static glnn_status reuse_input_of_other_context(glnn_error *err) {
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    glnn_context *other;
    SETUP(glnn_context_create(&o, &other, &setup_err));
    glnn_tensor *in = make_tensor(other, GLNN_KIND_TENSOR, 2, 2, 4);
    glnn_status s = run_conv(glnn_test_cpu(), in, NULL, err);
    glnn_tensor_free(in);
    glnn_context_free(other);
    return s;
}
static glnn_status reuse_output_of_other_context(glnn_error *err) {
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    glnn_context *other;
    SETUP(glnn_context_create(&o, &other, &setup_err));
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4);
    glnn_tensor *out = make_tensor(other, GLNN_KIND_TENSOR, 2, 2, 4);
    glnn_status s = run_conv(glnn_test_cpu(), in, out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_context_free(other);
    return s;
}
static glnn_status reuse_connected_input(glnn_error *err) {
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    glnn_op *a = glnn_test_conv("a", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT),
            *b = glnn_test_conv("b", 1, 4, 4, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    SETUP(glnn_model_append(m, a, false, &setup_err));
    SETUP(glnn_model_append(m, b, true, &setup_err));
    uint8_t zeros[16] = {0};
    glnn_status s = glnn_model_bind_tensor_u8(m, "b", 0, zeros, 2, 2, 4, err);
    glnn_op_release(a);
    glnn_op_release(b);
    glnn_model_free(m);
    return s;
}
static glnn_status reuse_model_with_other_data(glnn_error *err) {
    /* A model that ran with one chunk collection runs again with another, lacking the weights: it prepares
     * again and fails rather than reusing the old weights. */
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 16, 4), *other = zero_weights("d", 16, 4);
    SETUP(glnn_model_run(m, glnn_test_cpu(), ch, &setup_err));
    glnn_status s = glnn_model_run(m, glnn_test_cpu(), other, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    glnn_chunks_free(other);
    return s;
}
static glnn_status reuse_results_after_failed_run(glnn_error *err) {
    glnn_model *m = conv_model();
    glnn_chunks *ch = zero_weights("c", 16, 4);
    SETUP(glnn_model_run(m, glnn_test_cpu(), ch, &setup_err));
    glnn_error ignored;
    assert_int_not_equal(glnn_model_run(m, glnn_test_cpu(), NULL, &ignored), GLNN_OK);
    uint8_t out[16];
    glnn_status s = glnn_model_get_output_u8(m, "c", 0, out, 16, err);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}
static glnn_status reuse_sampled_channels_of_other_op(glnn_error *err) {
    glnn_op *op;
    SETUP(glnn_softmax_create("s", &op, &setup_err));
    int64_t n = glnn_conv2d_sampled_channels(op);
    glnn_conv2d_params p;
    glnn_status s = glnn_conv2d_get_params(op, &p, err);
    glnn_op_release(op);
    assert_int_equal(n, -1);
    return s;
}

/* ---- limits ---------------------------------------------------------------------------------------------- */

static glnn_status limit_tensor(glnn_error *err) {
    glnn_tensor *t = NULL;
    glnn_shape sh = {GLNN_KIND_TENSOR, 1 << 20, 1 << 20, 4};
    return glnn_tensor_create(glnn_test_cpu(), sh, &t, err);
}
static glnn_status limit_tensor_overflow(glnn_error *err) {
    glnn_tensor *t = NULL;
    glnn_shape sh = {GLNN_KIND_TENSOR, (int64_t)1 << 40, (int64_t)1 << 40, 4};
    return glnn_tensor_create(glnn_test_cpu(), sh, &t, err);
}
static glnn_status limit_sampler_output(glnn_error *err) {
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "s";
    p.output_width = p.output_height = 50000;
    glnn_op *op;
    SETUP(glnn_image_sampler_create(&p, &op, &setup_err));
    glnn_model *m;
    SETUP(glnn_model_create(&m, &setup_err));
    SETUP(glnn_model_append(m, op, false, &setup_err));
    uint8_t px[4 * 4 * 3] = {0};
    SETUP(glnn_model_bind_image(m, "s", 0, px, 4, 4, 3, &setup_err));
    glnn_status s = glnn_model_run(m, glnn_test_cpu(), NULL, err);
    glnn_model_free(m);
    glnn_op_release(op);
    return s;
}
static glnn_status limit_conv_filters(glnn_error *err) {
    /* k² · Cg · Cout overflows 64 bits: the filters can never be read. */
    glnn_op *op = glnn_test_conv("c", 2147483647, 4, 4, 1, GLNN_PADDING_SAME, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4), *out = NULL;
    glnn_chunks *ch = zero_weights("c", 16, 4);
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, ch, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_chunks_free(ch);
    glnn_op_release(op);
    return s;
}
static glnn_status limit_conv_channels(glnn_error *err) {
    /* An absurd channel count: the output would exceed the CPU's tensor limit. */
    glnn_op *op = glnn_test_conv("c", 1, 4, 1 << 30, 1, GLNN_PADDING_VALID, GLNN_ACTIVATION_DEFAULT);
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 4), *out = NULL;
    glnn_chunks *ch = zero_weights("c", 16, 4);
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, ch, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_chunks_free(ch);
    glnn_op_release(op);
    return s;
}
static glnn_status limit_dense_dims(glnn_error *err) {
    glnn_dense_params p;
    glnn_dense_params_init(&p);
    p.name = "d";
    p.num_output_dims = 1 << 30;
    p.use_bias = false;
    glnn_op *op;
    SETUP(glnn_dense_create(&p, &op, &setup_err));
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 1, 1, 4), *out = NULL;
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_op_release(op);
    return s;
}
static glnn_status limit_pool_counter(glnn_error *err) {
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = "p";
    p.size = 2147483647;
    p.padding = GLNN_PADDING_SAME;
    glnn_op *op;
    SETUP(glnn_pooling2d_create(&p, &op, &setup_err));
    /* 3 quads × (2^31 − 1)² texel fetches: more than 2^63. */
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 2, 2, 12), *out = NULL;
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_op_release(op);
    return s;
}

static glnn_status shape_upsampling_image(glnn_error *err) {
    glnn_upsampling2d_params p;
    glnn_upsampling2d_params_init(&p);
    p.name = "u";
    glnn_op *op;
    SETUP(glnn_upsampling2d_create(&p, &op, &setup_err));
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_IMAGE, 4, 4, 3), *out = NULL;
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_op_release(op);
    return s;
}
static glnn_status limit_upsampling_output(glnn_error *err) {
    /* 1024×1024×12 upsampled 16 times: 3 GiB, above the CPU reference's tensor limit. */
    glnn_upsampling2d_params p;
    glnn_upsampling2d_params_init(&p);
    p.name = "u";
    p.factor = 16;
    glnn_op *op;
    SETUP(glnn_upsampling2d_create(&p, &op, &setup_err));
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 1024, 1024, 12), *out = NULL;
    glnn_status s = glnn_op_run(glnn_test_cpu(), op, NULL, &in, 1, &out, err);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_op_release(op);
    return s;
}

static glnn_status limit_bind_image(glnn_error *err) {
    /* Refused before the pixels are read or copied. */
    glnn_model *m = conv_model();
    uint8_t px[3] = {0};
    glnn_status s = glnn_model_bind_image(m, "c", 0, px, 50000, 50000, 3, err);
    glnn_model_free(m);
    return s;
}

/* ---- the table --------------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    glnn_status (*run)(glnn_error *err);
    glnn_status status;
    const char *words[3]; /* every one must appear in the message */
} bad_case;

#define C(fn, st, ...)                                                                                                 \
    {                                                                                                                  \
#fn, fn, st, {                                                                                                 \
            __VA_ARGS__                                                                                                \
        }                                                                                                              \
    }
#define ARG GLNN_ERR_ARGUMENT
#define FMT GLNN_ERR_FORMAT
#define STATE GLNN_ERR_STATE
#define MEM GLNN_ERR_MEMORY
#define NF GLNN_ERR_NOT_FOUND

static const bad_case cases[] = {
    /* files: chunk files */
    C(chunk_length_cut, FMT, "truncated chunk record at byte offset 0", "length field cut"),
    C(chunk_id_cut, FMT, "truncated chunk record at byte offset 0", "id cut", "2 of 4 bytes"),
    C(chunk_size_cut, FMT, "byte offset 0", "size field cut"),
    C(chunk_payload_beyond_file, FMT, "byte offset 0", "payload cut", "2 of 4294967295 bytes"),
    C(chunk_second_record_cut, FMT, "truncated chunk record at byte offset 10", "payload cut"),
    C(chunk_id_too_long, FMT, "byte offset 0", "id length 256 is greater than 255"),
    C(chunk_too_many_records, FMT, "more than 1048576 chunk records", "byte offset 8388608"),
    C(chunk_file_missing, NF, "read chunk file 'tests/no-such-file.chunks'", "No such file"),
    C(chunk_file_is_directory, GLNN_ERR_IO, "read chunk file 'tests'", "not a regular file"),
    C(chunk_id_too_long_to_set, ARG, "set chunk", "300 bytes is longer than 255"),
    C(model_file_without_listing, NF, "load model", "no model listing"),
    /* files: listings */
    C(listing_no_ops, FMT, "no 'ops' chapter"),
    C(listing_bad_indent, FMT, "listing line 3", "unexpected indent"),
    C(listing_no_colon, FMT, "listing line 2", "expected 'key: value'"),
    C(listing_repeated_key, FMT, "listing line 7", "repeated key 'kernel_size'", "first at line 4"),
    C(listing_repeated_chapter, FMT, "listing line 7", "repeated chapter 'ops'"),
    C(listing_unknown_type, FMT, "listing line 2", "unknown operation type 'conv3d'"),
    C(listing_int_overflow, FMT, "listing line 4", "'99999999999' is not a 32-bit decimal integer"),
    C(listing_bad_boolean, FMT, "listing line 7", "'yes' is not 'true' or 'false'"),
    C(listing_unknown_key, FMT, "listing line 7", "unknown key 'dilation'"),
    C(listing_missing_key, FMT, "listing line 2", "lacks the required key 'kernel_size'"),
    C(listing_invalid_parameter, ARG, "listing line 2", "Conv2D 'c'", "kernel size must be positive, got 0"),
    C(listing_unknown_destination, NF, "listing line 8", "destination operation 'zz' not found"),
    C(listing_nul_byte, FMT, "listing line 2", "NUL byte"),
    C(listing_too_many_keys, FMT, "listing line 1026", "more than 1024 keys", "block of line 2"),
    C(listing_too_many_ops, MEM, "listing line 8194", "operation 4097", "at most 4096"),
    C(listing_enumeration, FMT, "listing line 7", "key 'padding'", "invalid padding 'diagonal'"),
    C(listing_upsampling_factor, ARG, "listing line 2", "Upsampling2D 'u'", "factor must be between 2 and 16, got 20"),
    C(listing_upsampling_interpolation, FMT, "listing line 5", "key 'interpolation'", "invalid interpolation 'cubic'"),
    /* files: images */
    C(image_empty, FMT, "decode image", "empty data"),
    C(image_gif, FMT, "decode image", "unsupported format GIF"),
    C(image_unknown, FMT, "decode image", "not PNG, JPEG or BMP"),
    C(image_png_cut_header, FMT, "decode image", "PNG", "truncated"),
    C(image_bmp_16bit, FMT, "BMP", "unsupported bit depth 16"),
    C(image_bmp_huge, MEM, "BMP", "100000×100000", "too large"),
    C(image_bmp_cut_pixels, FMT, "BMP", "truncated pixel data"),
    C(image_bmp_negative_width, FMT, "BMP", "invalid dimensions -4×4"),
    C(image_jpeg_garbage, FMT, "decode image", "JPEG"),
    C(image_file_missing, NF, "load image 'tests/no-such-picture.png'", "cannot open"),
    /* parameters */
    C(conv_kernel_zero, ARG, "Conv2D 'c'", "kernel size must be positive, got 0"),
    C(conv_negative_stride, ARG, "Conv2D 'c'", "stride must be positive, got -1"),
    C(conv_odd_channels, ARG, "input channels must be 3 or a positive multiple of 4, got 5"),
    C(conv_bad_name, ARG, "invalid operation name 'a#b'", "byte 0x23 at position 1"),
    C(conv_no_name, ARG, "invalid operation name", "no name given"),
    C(conv_groups, ARG, "cannot split 8 input channels into 3 groups"),
    C(conv_image_same, ARG, "an image input supports VALID padding only"),
    C(conv_bad_padding_value, ARG, "invalid padding '7'"),
    C(pooling_size_one, ARG, "Pooling2D 'p'", "pool size must be at least 2, got 1"),
    C(pooling_average_same, ARG, "AVERAGE pooling supports VALID padding only"),
    C(dense_dims, ARG, "Dense 'd'", "number of output dims must be positive, got 0"),
    C(sampler_size, ARG, "ImageSampler 's'", "output size must be positive, got 0×4"),
    C(sampler_rotation, ARG, "ImageSampler 's'", "rotation must be 0, 1, 2 or 3", "got 4"),
    C(upsampling_factor_one, ARG, "Upsampling2D 'u'", "factor must be between 2 and 16, got 1"),
    C(upsampling_factor_17, ARG, "Upsampling2D 'u'", "factor must be between 2 and 16, got 17"),
    C(upsampling_interpolation, ARG, "Upsampling2D 'u'", "invalid interpolation '5'"),
    C(interpolation_word, ARG, "invalid interpolation 'cubic'"),
    C(padding_word, ARG, "invalid padding 'diagonal'"),
    C(context_limit, ARG, "create context", "max_sampled_channels must be 0 or more, got -5"),
    C(context_set_limit, ARG, "set max_sampled_channels", "0 or more, got -1"),
    /* API misuse: NULL handles and result pointers */
    C(null_tensor_context, ARG, "create tensor", "no context"),
    C(null_tensor_upload, ARG, "upload tensor", "no tensor or data"),
    C(null_tensor_download_buffer, ARG, "download tensor", "no tensor or data"),
    C(null_image_pixels, ARG, "create image", "no pixels"),
    C(null_chunks_set, ARG, "set chunk", "no chunk collection"),
    C(null_chunks_data, ARG, "read chunks", "data is NULL for 10 bytes"),
    C(null_chunks_output, ARG, "read chunks", "no output handle"),
    C(null_conv_params, ARG, "create Conv2D", "no parameters"),
    C(null_op_run, ARG, "run op", "no context or operation"),
    C(null_op_run_context, ARG, "run op", "no context or operation"),
    C(null_op_run_inputs, ARG, "run 'c'", "1 inputs given"),
    C(null_op_counter, ARG, "count_multiply_adds", "no result pointer"),
    C(null_op_shape, ARG, "output shape", "no result pointer"),
    C(null_model_run, ARG, "run model", "no model or context"),
    C(null_model_run_context, ARG, "run model", "no model or context"),
    C(null_model_append, ARG, "append", "no model or operation"),
    C(null_model_bind, ARG, "bind image", "no model or pixels"),
    C(null_model_probabilities, ARG, "get_probabilities", "no model"),
    C(null_probabilities_size, ARG, "probabilities size", "no result pointer"),
    C(null_model_serialize, ARG, "serialize", "no model or output"),
    C(null_model_text, ARG, "read listing", "no text or output handle"),
    C(null_model_chunks, ARG, "load model", "no chunks"),
    C(null_parse_result, ARG, "parse activation function", "no result pointer"),
    C(null_decode_output, ARG, "decode image", "no output pointer"),
    C(null_image_path, ARG, "load image", "no path"),
    C(null_context_output, ARG, "create context", "no output handle"),
    C(null_set_weights, ARG, "set weights", "no chunk collection or op name"),
    /* API misuse: results before preparing or running */
    C(early_op_counter, STATE, "count_texel_fetches of 'c'", "until the op is prepared"),
    C(early_op_shape, STATE, "output shape of 'c'", "until the op is prepared"),
    C(early_op_probabilities, STATE, "get_probabilities of 's'", "no successful run yet"),
    C(early_model_counter, STATE, "count_multiply_adds", "not prepared"),
    C(early_model_memory, STATE, "memory_size", "not prepared"),
    C(early_model_output, STATE, "get_output_data", "has not run successfully"),
    C(early_model_output_after_prepare, STATE, "get_output_data", "has not run successfully"),
    C(early_model_op_time, STATE, "op time", "has not run successfully"),
    C(early_model_op_gpu_time, STATE, "op GPU time", "has not run successfully"),
    C(null_model_op_gpu_time, ARG, "op GPU time", "no model or result"),
    C(bad_index_op_gpu_time, ARG, "op GPU time", "no operation at position 3"),
    C(cpu_op_gpu_time, GLNN_ERR_DEVICE, "op GPU time", "'c' was not timed on the GPU (CPU context)"),
    C(early_empty_model, STATE, "prepare model", "no operations"),
    C(early_model_no_softmax, NF, "get_probabilities", "has no Softmax"),
    /* API misuse: wrong shapes */
    C(shape_upload_count, ARG, "upload tensor", "7 values given for a 2×2×4 tensor (16 values)"),
    C(shape_tensor_depth, ARG, "create tensor", "depth must be a multiple of 4, got 6"),
    C(shape_vector, ARG, "create vector", "a vector is 1×1×N, got 2×1×6"),
    C(shape_op_output, ARG, "run 'c'", "the output tensor must be 2×2×4"),
    C(shape_op_input_depth, ARG, "Conv2D 'c'", "input depth 8 does not match num_input_channels 4"),
    C(shape_op_image_for_tensor, ARG, "Conv2D 'c'", "expects a tensor on input #0"),
    C(shape_output_is_input, ARG, "run 'c'", "the output tensor is also input #0"),
    C(shape_too_many_inputs, ARG, "run 's'", "2 inputs given, the op has 1"),
    C(shape_bound_depth, ARG, "Conv2D 'c'", "input depth 8"),
    C(shape_output_count, ARG, "download tensor", "32 values given for a 2×2×4 tensor"),
    C(shape_weights_size, FMT, "Conv2D 'c': filters", "size mismatch", "expected 64 bytes, got 48"),
    C(shape_bind_overflow, ARG, "bind tensor", "invalid size"),
    C(shape_upsampling_image, ARG, "Upsampling2D 'u'", "expects a tensor on input #0, got an image"),
    /* API misuse: objects reused where they do not belong */
    C(reuse_op_twice, ARG, "append", "'c' is already in the model"),
    C(reuse_input_of_other_context, ARG, "run 'c'", "input #0 belongs to another context"),
    C(reuse_output_of_other_context, ARG, "run 'c'", "on the same context"),
    C(reuse_connected_input, ARG, "bind input data", "input #0 of 'b' is connected to another operation"),
    C(reuse_model_with_other_data, NF, "Conv2D 'c'", "chunk 'c/w' not found"),
    C(reuse_results_after_failed_run, STATE, "get_output_data", "has not run successfully"),
    C(reuse_sampled_channels_of_other_op, ARG, "Conv2D parameters", "not a Conv2D operation"),
    /* limits: sizes checked before anything is allocated */
    C(limit_tensor, MEM, "create tensor", "1048576×1048576×4", "above the CPU reference's limit"),
    C(limit_tensor_overflow, MEM, "create tensor", "too large", "overflows"),
    C(limit_sampler_output, MEM, "ImageSampler 's': output", "50000×50000×3 image", "above the CPU reference's limit"),
    C(limit_conv_filters, MEM, "Conv2D 'c'", "2147483647×2147483647×4×4 filters are too large"),
    C(limit_conv_channels, MEM, "Conv2D 'c': output", "2×2×1073741824 tensor", "above the CPU reference's limit"),
    C(limit_dense_dims, MEM, "Dense 'd': output", "1×1×1073741824 vector", "above the CPU reference's limit"),
    C(limit_bind_image, MEM, "bind image", "50000×50000×3 needs 10000000000 bytes", "above the largest tensor"),
    C(limit_pool_counter, ARG, "Pooling2D 'p'", "pool size 2147483647 is too large", "overflows 64 bits"),
    C(limit_upsampling_output, MEM, "Upsampling2D 'u': output", "16384×16384×12 tensor",
      "above the CPU reference's limit"),
};

static void test_bad_input_table(void **state) {
    (void)state;
    assert_true(COUNT(cases) >= 30);
    for (int i = 0; i < COUNT(cases); i++) {
        const bad_case *c = &cases[i];
        glnn_error err;
        memset(&err, 0, sizeof err);
        glnn_status s = c->run(&err);
        bool ok = s == c->status && err.status == c->status;
        for (int w = 0; ok && w < 3 && c->words[w]; w++)
            ok = strstr(err.message, c->words[w]) != NULL;
        if (!ok) {
            print_error("case %s: expected '%s' with", c->name, glnn_status_name(c->status));
            for (int w = 0; w < 3 && c->words[w]; w++)
                print_error(" '%s'", c->words[w]);
            print_error("; got '%s': %s\n", glnn_status_name(s), err.message);
            fail();
        }
    }
    printf("%d bad-input cases, each with its status and message\n", COUNT(cases));
}

/* The same calls with err = NULL: the status alone, no crash. */
static void test_bad_input_without_error_struct(void **state) {
    (void)state;
    for (int i = 0; i < COUNT(cases); i++) {
        glnn_status s = cases[i].run(NULL);
        if (s != cases[i].status)
            fail_msg("case %s: status '%s' without an error struct, '%s' with one", cases[i].name, glnn_status_name(s),
                     glnn_status_name(cases[i].status));
    }
}

/* Getters without a status accept NULL. */
static void test_null_getters(void **state) {
    (void)state;
    assert_int_equal(glnn_op_get_kind(NULL), 0);
    assert_null(glnn_op_type_name(NULL));
    assert_null(glnn_op_name(NULL));
    assert_int_equal(glnn_op_input_count(NULL), 0);
    assert_int_equal(glnn_op_output_count(NULL), 0);
    assert_int_equal(glnn_conv2d_sampled_channels(NULL), -1);
    assert_int_equal(glnn_model_op_count(NULL), 0);
    assert_null(glnn_model_op_at(NULL, 0));
    assert_null(glnn_model_find(NULL, "x"));
    assert_int_equal(glnn_chunks_count(NULL), 0);
    assert_false(glnn_chunks_get(NULL, "", 0, NULL, NULL));
    assert_false(glnn_chunks_remove(NULL, "", 0));
    assert_false(glnn_context_is_gpu(NULL));
    assert_string_equal(glnn_context_device_name(NULL), "");
    assert_int_equal(glnn_context_describe(NULL, NULL, 0), 0);
    char buf[8];
    assert_true(glnn_context_describe(glnn_test_cpu(), NULL, 100) > 0); /* NULL buffer: length only */
    assert_true(glnn_context_describe(glnn_test_cpu(), buf, sizeof buf) > sizeof buf);
    assert_int_equal(glnn_shape_count(glnn_tensor_shape(NULL)), 0);
    glnn_conv2d_params_init(NULL);
    glnn_pooling2d_params_init(NULL);
    glnn_dense_params_init(NULL);
    glnn_image_sampler_params_init(NULL);
    glnn_context_options_init(NULL);
    glnn_op_retain(NULL);
    glnn_op_release(NULL);
    glnn_tensor_free(NULL);
    glnn_model_free(NULL);
    glnn_chunks_free(NULL);
    glnn_context_free(NULL);
    glnn_free(NULL);
    const char *id = "x";
    size_t len = 9;
    glnn_chunks_id_at(NULL, 0, &id, &len);
    assert_null(id);
    assert_int_equal(len, 0);
}

/* ---- no silent corruption ---------------------------------------------------------------------------------- */

static const char sweep_listing[] = "ops:\n"
                                    " - _name: in\n   _type: image_sampler\n   output_width: 6\n   output_height: 6\n"
                                    " - _name: c1\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 3\n"
                                    "   output_channels: 8\n"
                                    " - _name: gap\n   _type: pooling2d\n   operator: average\n   size: 4\n"
                                    " - _name: fc\n   _type: dense\n   output_dims: 4\n"
                                    " - _name: prob\n   _type: softmax\n"
                                    "connections:\n"
                                    " - from: in\n   to: c1\n - from: c1\n   to: gap\n"
                                    " - from: gap\n   to: fc\n - from: fc\n   to: prob\n";

/* Runs the sweep model on `bytes` (a chunk file); GLNN_OK only if every step succeeded. */
static glnn_status run_model_file(const uint8_t *bytes, size_t size, float *probs) {
    glnn_error err;
    glnn_chunks *ch = NULL;
    glnn_model *m = NULL;
    glnn_status s = glnn_chunks_read_memory(bytes, size, &ch, &err);
    if (s == GLNN_OK) s = glnn_model_from_chunks(ch, &m, &err);
    uint8_t px[5 * 7 * 3];
    for (int i = 0; i < COUNT(px); i++)
        px[i] = (uint8_t)(i * 37);
    if (s == GLNN_OK) s = glnn_model_bind_image(m, "in", 0, px, 5, 7, 3, &err);
    if (s == GLNN_OK) s = glnn_model_run(m, glnn_test_cpu(), ch, &err);
    if (s == GLNN_OK) s = glnn_model_get_probabilities(m, NULL, probs, 4, &err);
    if (s != GLNN_OK) assert_true(strlen(err.message) > 0);
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return s;
}

/* Every truncation of a model file (listing and weights) fails somewhere before a result: a cut inside a
 * record at reading, a cut at a record boundary at preparation (missing weights). */
static void test_truncated_model_file(void **state) {
    (void)state;
    glnn_error err;
    glnn_chunks *ch;
    assert_ok(glnn_chunks_create(&ch, &err));
    assert_ok(glnn_chunks_set(ch, "", 0, sweep_listing, strlen(sweep_listing), &err));
    glnn_rng rng = {42};
    float w[3 * 3 * 3 * 8], b[8], d[8 * 4], db[4];
    for (int i = 0; i < COUNT(w); i++)
        w[i] = glnn_rng_uniform(&rng, -0.5f, 0.5f);
    for (int i = 0; i < COUNT(b); i++)
        b[i] = glnn_rng_uniform(&rng, 0.0f, 0.3f);
    for (int i = 0; i < COUNT(d); i++)
        d[i] = glnn_rng_uniform(&rng, -2.0f, 2.0f);
    for (int i = 0; i < COUNT(db); i++)
        db[i] = glnn_rng_uniform(&rng, -1.0f, 1.0f);
    assert_ok(glnn_chunks_set_weights(ch, "c1", w, COUNT(w), b, COUNT(b), &err));
    assert_ok(glnn_chunks_set_weights(ch, "fc", d, COUNT(d), db, COUNT(db), &err));
    char path[] = "/tmp/glnn-bad-input-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_ok(glnn_chunks_write_file(ch, path, &err));
    glnn_chunks_free(ch);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t bytes[8192];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    remove(path);
    assert_true(n > 1000 && n < sizeof bytes);

    float probs[4];
    assert_ok(run_model_file(bytes, n, probs));
    float sum = 0;
    for (int i = 0; i < 4; i++)
        sum += probs[i];
    assert_true(sum > 0.999f && sum < 1.001f);
    for (size_t cut = 0; cut < n; cut++)
        if (run_model_file(bytes, cut, probs) == GLNN_OK) {
            print_error("a model file cut to %zu of %zu bytes gave a result\n", cut, n);
            fail();
        }
    printf("model file: all %zu truncations fail\n", n);
}

/* ---- images in memory ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} membuf;

static void png_write(png_structp png, png_bytep data, size_t n) {
    membuf *b = png_get_io_ptr(png);
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void png_flush(png_structp png) {
    (void)png;
}

static membuf encode_png(const uint8_t *rgb, int w, int h, bool interlaced) {
    membuf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail();
    png_set_write_fn(png, &b, png_write, png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int passes = interlaced ? png_set_interlace_handling(png) : 1;
    for (int y = 0; y < passes; y++)
        for (int r = 0; r < h; r++)
            png_write_row(png, (png_const_bytep)(rgb + (size_t)r * (size_t)w * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return b;
}

static membuf encode_jpeg(const uint8_t *rgb, int w, int h, bool progressive) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &out, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * (size_t)w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf b = {malloc(size), size, size};
    memcpy(b.p, out, size);
    free(out);
    return b;
}

static membuf encode_bmp(const uint8_t *rgb, int w, int h) {
    int stride = (w * 3 + 3) / 4 * 4;
    size_t size = 54 + (size_t)stride * (size_t)h;
    membuf b = {calloc(size, 1), size, size};
    bmp_header(b.p, w, h, 24, (uint32_t)size);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                b.p[54 + (size_t)(h - 1 - y) * (size_t)stride + (size_t)x * 3 + (size_t)(2 - c)] =
                    rgb[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c];
    return b;
}

/* Every truncation of a complete image is an error, except cuts that leave the whole pixel data in place
 * (BMP: the padding of the last row). */
static void sweep_image(const char *what, membuf b, size_t complete_from) {
    uint8_t *px = NULL;
    int64_t h = 0, w = 0;
    glnn_error err;
    assert_ok(glnn_image_decode(b.p, b.n, &px, &h, &w, &err));
    glnn_free(px);
    int failures = 0;
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exactly `cut` bytes, so that reading past them is caught */
        memcpy(copy, b.p, cut);
        px = NULL;
        glnn_status s = glnn_image_decode(copy, cut, &px, &h, &w, &err);
        free(copy);
        glnn_free(px);
        if (s == GLNN_OK && cut < complete_from) {
            print_error("%s: cut to %zu of %zu bytes decoded as a %lld×%lld image\n", what, cut, b.n, (long long)w,
                        (long long)h);
            failures++;
        }
        if (s != GLNN_OK) assert_int_equal(err.status, s);
    }
    assert_int_equal(failures, 0);
    printf("%s: all %zu truncations fail\n", what, complete_from < b.n ? complete_from : b.n);
    free(b.p);
}

static void test_truncated_images(void **state) {
    (void)state;
    enum { W = 13, H = 9 };
    uint8_t rgb[W * H * 3];
    glnn_rng rng = {7};
    for (int i = 0; i < COUNT(rgb); i++)
        rgb[i] = (uint8_t)(glnn_rng_u32(&rng) >> 24);
    sweep_image("PNG", encode_png(rgb, W, H, false), (size_t)-1);
    sweep_image("interlaced PNG", encode_png(rgb, W, H, true), (size_t)-1);
    sweep_image("JPEG", encode_jpeg(rgb, W, H, false), (size_t)-1);
    sweep_image("progressive JPEG", encode_jpeg(rgb, W, H, true), (size_t)-1);
    membuf bmp = encode_bmp(rgb, W, H);
    sweep_image("BMP", bmp, bmp.n - 1); /* 13·3 = 39 bytes a row: one byte of padding after the last row */
}

/* A listing that names weights absent from the model data fails at preparation, naming the chunk, and
 * leaves nothing readable. */
static void test_missing_weights(void **state) {
    (void)state;
    glnn_error err;
    glnn_model *m;
    assert_ok(glnn_model_deserialize(sweep_listing, strlen(sweep_listing), &m, &err));
    glnn_chunks *ch = zero_weights("c1", 3 * 3 * 3 * 8, 8); /* fc's weights are missing */
    uint8_t px[8 * 8 * 3] = {0};
    assert_ok(glnn_model_bind_image(m, "in", 0, px, 8, 8, 3, &err));
    assert_error(glnn_model_run(m, glnn_test_cpu(), ch, &err), &err, GLNN_ERR_NOT_FOUND, "Dense 'fc'",
                 "chunk 'fc/w' not found");
    float p[4];
    assert_error(glnn_model_get_probabilities(m, NULL, p, 4, &err), &err, GLNN_ERR_STATE, "has not run");
    int64_t n;
    assert_error(glnn_model_count_multiply_adds(m, &n, &err), &err, GLNN_ERR_STATE, "not prepared");
    /* A bias of the wrong size. */
    float w[16 * 4] = {0};
    assert_ok(glnn_chunks_set_weights(ch, "fc", w, 8 * 4, w, 3, &err));
    assert_error(glnn_model_run(m, glnn_test_cpu(), ch, &err), &err, GLNN_ERR_FORMAT, "Dense 'fc': bias",
                 "expected 16 bytes, got 12");
    glnn_model_free(m);
    glnn_chunks_free(ch);
}

/* ---- ops changed behind a prepared model's back ------------------------------------------------------------ */

/* An ImageSampler's rotation changed after the model was prepared: the model prepares again (the op's taps
 * were freed), and the output follows the new rotation. */
static void test_rotation_after_preparation(void **state) {
    (void)state;
    glnn_error err;
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "s";
    p.output_width = 3;
    p.output_height = 2;
    p.center_crop = false;
    p.linear_interp = false;
    glnn_op *op;
    assert_ok(glnn_image_sampler_create(&p, &op, &err));
    glnn_model *m;
    assert_ok(glnn_model_create(&m, &err));
    assert_ok(glnn_model_append(m, op, false, &err));
    assert_ok(glnn_model_add_output(m, "s", 0, &err));
    uint8_t px[2 * 3 * 3];
    for (int i = 0; i < COUNT(px); i++)
        px[i] = (uint8_t)(10 * i);
    assert_ok(glnn_model_bind_image(m, "s", 0, px, 2, 3, 3, &err));
    uint8_t out[2 * 3 * 3];
    assert_ok(glnn_model_run(m, glnn_test_cpu(), NULL, &err));
    assert_ok(glnn_model_get_output_u8(m, "s", 0, out, COUNT(out), &err));
    assert_memory_equal(out, px, sizeof px);
    assert_ok(glnn_image_sampler_set_rotation(op, 2, &err));
    assert_ok(glnn_model_run(m, glnn_test_cpu(), NULL, &err));
    assert_ok(glnn_model_get_output_u8(m, "s", 0, out, COUNT(out), &err));
    for (int i = 0; i < 6; i++) /* half a turn: pixel i is pixel 5 − i */
        assert_memory_equal(out + 3 * i, px + 3 * (5 - i), 3);
    glnn_model_free(m);
    glnn_op_release(op);
}

/* One op in two models with inputs of different sizes, and run on its own in between: each model prepares
 * again when the op's state is not the one it planned for, so no run reads or writes past a tensor. */
static void test_op_shared_between_models(void **state) {
    (void)state;
    glnn_error err;
    glnn_op *op = glnn_test_conv("c", 3, 4, 4, 1, GLNN_PADDING_SAME, GLNN_ACTIVATION_DEFAULT);
    glnn_chunks *ch;
    assert_ok(glnn_chunks_create(&ch, &err));
    float w[3 * 3 * 4 * 4], b[4] = {0};
    for (int i = 0; i < COUNT(w); i++)
        w[i] = (i % 5) * 0.05f;
    assert_ok(glnn_chunks_set_weights(ch, "c", w, COUNT(w), b, 4, &err));
    glnn_model *small, *large;
    assert_ok(glnn_model_create(&small, &err));
    assert_ok(glnn_model_create(&large, &err));
    assert_ok(glnn_model_append(small, op, false, &err));
    assert_ok(glnn_model_append(large, op, false, &err));
    assert_ok(glnn_model_add_output(small, "c", 0, &err));
    assert_ok(glnn_model_add_output(large, "c", 0, &err));
    static uint8_t in_small[2 * 2 * 4], in_large[16 * 16 * 4], out_small[2 * 2 * 4], out_large[16 * 16 * 4];
    for (int i = 0; i < COUNT(in_large); i++)
        in_large[i] = (uint8_t)(i * 13);
    memcpy(in_small, in_large, sizeof in_small);
    assert_ok(glnn_model_bind_tensor_u8(small, "c", 0, in_small, 2, 2, 4, &err));
    assert_ok(glnn_model_bind_tensor_u8(large, "c", 0, in_large, 16, 16, 4, &err));
    uint8_t first_small[sizeof out_small], first_large[sizeof out_large];
    assert_ok(glnn_model_run(small, glnn_test_cpu(), ch, &err));
    assert_ok(glnn_model_get_output_u8(small, "c", 0, first_small, COUNT(first_small), &err));
    assert_ok(glnn_model_run(large, glnn_test_cpu(), ch, &err));
    assert_ok(glnn_model_get_output_u8(large, "c", 0, first_large, COUNT(first_large), &err));
    for (int round = 0; round < 3; round++) {
        assert_ok(glnn_model_run(small, glnn_test_cpu(), ch, &err));
        assert_ok(glnn_model_get_output_u8(small, "c", 0, out_small, COUNT(out_small), &err));
        assert_memory_equal(out_small, first_small, sizeof out_small);
        /* The op on its own, on yet another size. */
        glnn_tensor *t = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 5, 7, 4), *o = NULL;
        assert_ok(glnn_op_run(glnn_test_cpu(), op, ch, &t, 1, &o, &err));
        glnn_tensor_free(t);
        glnn_tensor_free(o);
        assert_ok(glnn_model_run(large, glnn_test_cpu(), ch, &err));
        assert_ok(glnn_model_get_output_u8(large, "c", 0, out_large, COUNT(out_large), &err));
        assert_memory_equal(out_large, first_large, sizeof out_large);
    }
    glnn_model_free(small);
    glnn_model_free(large);
    glnn_op_release(op);
    glnn_chunks_free(ch);
}

/* A huge SAME max pooling window costs no more than the input: the result is the maximum of the input. */
static void test_huge_pooling_window(void **state) {
    (void)state;
    glnn_error err;
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = "p";
    p.size = 1 << 30;
    p.padding = GLNN_PADDING_SAME;
    glnn_op *op;
    assert_ok(glnn_pooling2d_create(&p, &op, &err));
    glnn_tensor *in = make_tensor(glnn_test_cpu(), GLNN_KIND_TENSOR, 3, 5, 4), *out = NULL;
    uint8_t data[3 * 5 * 4];
    for (int i = 0; i < COUNT(data); i++)
        data[i] = (uint8_t)((i * 71) % 251);
    assert_ok(glnn_tensor_upload_u8(in, data, COUNT(data), &err));
    assert_ok(glnn_op_run(glnn_test_cpu(), op, NULL, &in, 1, &out, &err));
    glnn_shape s = glnn_tensor_shape(out);
    assert_true(s.h == 1 && s.w == 1 && s.c == 4);
    uint8_t got[4], want[4] = {0};
    for (int i = 0; i < COUNT(data); i++)
        if (data[i] > want[i % 4]) want[i % 4] = data[i];
    assert_ok(glnn_tensor_download_u8(out, got, 4, &err));
    assert_memory_equal(got, want, 4);
    int64_t fetches;
    assert_ok(glnn_op_count_texel_fetches(op, &fetches, &err));
    assert_int_equal(fetches, (int64_t)1 << 60);
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_op_release(op);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input_table),
        cmocka_unit_test(test_bad_input_without_error_struct),
        cmocka_unit_test(test_null_getters),
        cmocka_unit_test(test_truncated_model_file),
        cmocka_unit_test(test_truncated_images),
        cmocka_unit_test(test_missing_weights),
        cmocka_unit_test(test_rotation_after_preparation),
        cmocka_unit_test(test_op_shared_between_models),
        cmocka_unit_test(test_huge_pooling_window),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    glnn_context_free(glnn_test_cpu());
    return failed;
}
