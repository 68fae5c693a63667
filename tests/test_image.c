/* Image files: PNG, JPEG and BMP decoding (glnn_image_load / glnn_image_decode). */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#define IMAGES "../shared/images/"

/* ---- helpers ---------------------------------------------------------------------------------------- */

typedef struct buffer {
    uint8_t *data;
    size_t size, capacity;
} buffer;

static void buffer_append(buffer *b, const void *data, size_t n) {
    if (b->size + n > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 256;
        while (cap < b->size + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        assert_non_null(b->data);
        b->capacity = cap;
    }
    memcpy(b->data + b->size, data, n);
    b->size += n;
}

static uint8_t *read_whole_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    buffer b = {0};
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buffer_append(&b, chunk, n);
    fclose(f);
    *size = b.size;
    return b.data;
}

/* Writes data to a new temporary file; path receives its name. */
static void write_temp_file(const void *data, size_t size, char path[64]) {
    snprintf(path, 64, "/tmp/glnn_test_image_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    if (size) assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed) {
    glnn_rng rng = {seed};
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(glnn_rng_u32(&rng) >> 24);
}

/* Decodes and checks the size and every byte. */
static void expect_decode(const void *data, size_t size, int64_t h, int64_t w, const uint8_t *expected) {
    glnn_error err;
    uint8_t *pixels = NULL;
    int64_t gh = 0, gw = 0;
    assert_ok(glnn_image_decode(data, size, &pixels, &gh, &gw, &err));
    assert_int_equal(err.status, GLNN_OK);
    assert_int_equal(gh, h);
    assert_int_equal(gw, w);
    assert_memory_equal(pixels, expected, (size_t)(h * w * 3));
    glnn_free(pixels);
}

/* Decoding must fail with `status` and leave the outputs as they were. */
#define expect_decode_error(data, size, status, ...)                                                                   \
    do {                                                                                                               \
        glnn_error err_;                                                                                               \
        uint8_t sentinel_, *pixels_ = &sentinel_;                                                                      \
        int64_t h_ = -7, w_ = -7;                                                                                      \
        assert_error(glnn_image_decode((data), (size), &pixels_, &h_, &w_, &err_), &err_, (status), "decode image",    \
                     __VA_ARGS__);                                                                                     \
        assert_ptr_equal(pixels_, &sentinel_);                                                                         \
        assert_int_equal(h_, -7);                                                                                      \
        assert_int_equal(w_, -7);                                                                                      \
    } while (0)

/* ---- BMP builder ------------------------------------------------------------------------------------ */

static void put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
    put_u16(p, v);
    put_u16(p + 2, v >> 16);
}

/* A BMP of `rgb` (top-down H×W×3), stored bottom-up unless top_down.  compression 0 (BI_RGB) or 3
 * (BI_BITFIELDS, standard masks).  The 4th byte of 32-bit pixels is set to junk that must be ignored. */
static uint8_t *make_bmp(const uint8_t *rgb, int w, int h, bool top_down, int bpp, uint32_t compression,
                         uint32_t header_size, size_t *size) {
    size_t masks = compression == 3 && header_size == 40 ? 12 : 0;
    size_t offset = 14 + header_size + masks;
    size_t stride = ((size_t)w * (size_t)bpp + 31) / 32 * 4;
    *size = offset + stride * (size_t)h;
    uint8_t *b = calloc(1, *size);
    assert_non_null(b);
    b[0] = 'B';
    b[1] = 'M';
    put_u32(b + 2, (uint32_t)*size);
    put_u32(b + 10, (uint32_t)offset);
    put_u32(b + 14, header_size);
    put_u32(b + 18, (uint32_t)w);
    put_u32(b + 22, (uint32_t)(top_down ? -h : h));
    put_u16(b + 26, 1);
    put_u16(b + 28, (uint32_t)bpp);
    put_u32(b + 30, compression);
    put_u32(b + 34, (uint32_t)(stride * (size_t)h));
    if (compression == 3) {
        put_u32(b + 54, 0x00ff0000u);
        put_u32(b + 58, 0x0000ff00u);
        put_u32(b + 62, 0x000000ffu);
        if (header_size >= 56) put_u32(b + 66, 0xff000000u);
    }
    if (header_size >= 108) memcpy(b + 70, "BGRs", 4);
    for (int y = 0; y < h; y++) {
        uint8_t *row = b + offset + stride * (size_t)(top_down ? y : h - 1 - y);
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            uint8_t *q = row + (size_t)x * (size_t)(bpp / 8);
            q[0] = p[2];
            q[1] = p[1];
            q[2] = p[0];
            if (bpp == 32) q[3] = (uint8_t)(0x5a + x);
        }
        /* Padding bytes hold junk too. */
        for (size_t i = (size_t)w * (size_t)(bpp / 8); i < stride; i++)
            row[i] = 0xee;
    }
    return b;
}

/* ---- PNG and JPEG encoders (independent of the decoder under test) ---------------------------------- */

static void png_write_to_buffer(png_structp png, png_bytep data, size_t n) {
    buffer_append(png_get_io_ptr(png), data, n);
}
static void png_flush_nothing(png_structp png) {
    (void)png;
}

/* Encodes rows of `rowbytes` bytes each. */
static uint8_t *encode_png(const uint8_t *rows, size_t rowbytes, int w, int h, int color_type, int depth,
                           bool interlace, const png_color *palette, int n_palette, const uint8_t *trns, int n_trns,
                           size_t *size) {
    buffer out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    assert_non_null(png);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed to encode the test image");
    png_set_write_fn(png, &out, png_write_to_buffer, png_flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette) png_set_PLTE(png, info, palette, n_palette);
    if (trns) png_set_tRNS(png, info, trns, n_trns, NULL);
    png_write_info(png, info);
    png_bytep *ptrs = malloc((size_t)h * sizeof *ptrs);
    assert_non_null(ptrs);
    for (int y = 0; y < h; y++)
        ptrs[y] = (png_bytep)rows + (size_t)y * rowbytes;
    png_write_image(png, ptrs);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(ptrs);
    *size = out.size;
    return out.data;
}

/* Encodes H×W×components samples at the given quality, every component at full resolution. */
static uint8_t *encode_jpeg(const uint8_t *samples, int w, int h, int components, J_COLOR_SPACE space, int quality,
                            size_t *size) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long out_size = 0;
    jpeg_mem_dest(&c, &out, &out_size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = space;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    for (int i = 0; i < c.num_components; i++)
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)c.next_scanline * (size_t)w * (size_t)components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    uint8_t *copy = malloc(out_size);
    assert_non_null(copy);
    memcpy(copy, out, out_size);
    free(out);
    *size = out_size;
    return copy;
}

/* A smooth test picture (JPEG-friendly). */
static void smooth_rgb(uint8_t *p, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
            q[0] = (uint8_t)(20 + 200 * x / (w - 1));
            q[1] = (uint8_t)(30 + 180 * y / (h - 1));
            q[2] = (uint8_t)(120 + (x + y) * 60 / (w + h - 2));
        }
}

/* CRC-32 of PNG chunks (ISO 3309). */
static uint32_t png_crc(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

/* Rewrites the CRC of the IHDR chunk after its fields were edited. */
static void fix_ihdr_crc(uint8_t *png) {
    uint32_t crc = png_crc(png + 12, 17);
    png[29] = (uint8_t)(crc >> 24);
    png[30] = (uint8_t)(crc >> 16);
    png[31] = (uint8_t)(crc >> 8);
    png[32] = (uint8_t)crc;
}

static void expect_close(const uint8_t *got, const uint8_t *want, size_t n, int tolerance) {
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        if (d > worst) worst = d;
    }
    if (worst > tolerance) fail_msg("largest difference %d above the tolerance %d", worst, tolerance);
}

/* ---- shared pictures -------------------------------------------------------------------------------- */

/* Expected pixels of a 24-bit bottom-up BMP, read directly from the file. */
static void check_shared_bmp(const char *name, int64_t want_w, int64_t want_h) {
    char path[256];
    snprintf(path, sizeof path, IMAGES "%s", name);
    size_t size;
    uint8_t *file = read_whole_file(path, &size);
    uint32_t offset = file[10] | file[11] << 8 | (uint32_t)file[12] << 16 | (uint32_t)file[13] << 24;
    assert_int_equal(file[28], 24);
    size_t stride = ((size_t)want_w * 3 + 3) / 4 * 4;
    assert_true(offset + stride * (size_t)want_h <= size);
    uint8_t *want = malloc((size_t)(want_w * want_h * 3));
    assert_non_null(want);
    for (int64_t y = 0; y < want_h; y++)
        for (int64_t x = 0; x < want_w; x++)
            for (int c = 0; c < 3; c++)
                want[(y * want_w + x) * 3 + c] =
                    file[offset + (size_t)(want_h - 1 - y) * stride + (size_t)x * 3 + 2 - c];

    glnn_error err;
    uint8_t *pixels = NULL;
    int64_t h = 0, w = 0;
    assert_ok(glnn_image_load(path, &pixels, &h, &w, &err));
    assert_int_equal(h, want_h);
    assert_int_equal(w, want_w);
    assert_memory_equal(pixels, want, (size_t)(want_w * want_h * 3));
    glnn_free(pixels);
    /* The same bytes from memory. */
    expect_decode(file, size, want_h, want_w, want);
    free(want);
    free(file);
}

static void test_shared_bmp(void **state) {
    (void)state;
    if (!glnn_test_shared(IMAGES "bg.bmp")) skip();
    check_shared_bmp("bg.bmp", 32, 32);
    check_shared_bmp("butterfly.bmp", 256, 256);
    check_shared_bmp("fecamp.bmp", 1024, 683);
    check_shared_bmp("spiral.bmp", 640, 602);
}

static void test_shared_png(void **state) {
    (void)state;
    if (!glnn_test_shared(IMAGES "heart.png")) skip();
    glnn_error err;
    uint8_t *pixels = NULL;
    int64_t h = 0, w = 0;
    assert_ok(glnn_image_load(IMAGES "heart.png", &pixels, &h, &w, &err));
    assert_int_equal(h, 1787);
    assert_int_equal(w, 1781);

    /* Independent decode with libpng's simplified API, keeping alpha (no gamma chunk: values untouched). */
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, IMAGES "heart.png"));
    img.format = PNG_FORMAT_RGBA;
    uint8_t *rgba = malloc(PNG_IMAGE_SIZE(img));
    assert_non_null(rgba);
    assert_true(png_image_finish_read(&img, NULL, rgba, 0, NULL));
    size_t n = (size_t)(h * w);
    size_t translucent = 0;
    for (size_t i = 0; i < n; i++) {
        if (rgba[i * 4 + 3] != 255) translucent++;
        for (int c = 0; c < 3; c++)
            if (pixels[i * 3 + c] != rgba[i * 4 + c])
                fail_msg("pixel %zu channel %d: %d, expected %d", i, c, pixels[i * 3 + c], rgba[i * 4 + c]);
    }
    assert_true(translucent > 0); /* the test does exercise dropping alpha */
    free(rgba);
    glnn_free(pixels);
}

/* ---- hand-built BMPs -------------------------------------------------------------------------------- */

static const uint8_t rgb_2x2[12] = {255, 0, 0,   0,  255, 0, /* row 0: red, green */
                                    0,   0, 255, 10, 20,  30 /* row 1: blue, (10,20,30) */};

static void test_bmp_24_bottom_up(void **state) {
    (void)state;
    size_t size;
    uint8_t *b = make_bmp(rgb_2x2, 2, 2, false, 24, 0, 40, &size);
    assert_int_equal(size, 54 + 2 * 8); /* 6 bytes a row, padded to 8 */
    /* The first stored row is the bottom one: blue, then (10, 20, 30), as B, G, R. */
    assert_int_equal(b[54], 255);
    assert_int_equal(b[56], 0);
    assert_int_equal(b[57], 30);
    assert_int_equal(b[59], 10);
    expect_decode(b, size, 2, 2, rgb_2x2);
    free(b);
}

static void test_bmp_24_top_down(void **state) {
    (void)state;
    size_t size;
    uint8_t *b = make_bmp(rgb_2x2, 2, 2, true, 24, 0, 40, &size);
    assert_int_equal(b[54], 0); /* blue of the red pixel: row 0 stored first */
    assert_int_equal(b[56], 255);
    expect_decode(b, size, 2, 2, rgb_2x2);
    free(b);
}

static void test_bmp_32(void **state) {
    (void)state;
    size_t size;
    uint8_t *b = make_bmp(rgb_2x2, 2, 2, false, 32, 0, 40, &size);
    assert_int_equal(size, 54 + 16);
    expect_decode(b, size, 2, 2, rgb_2x2);
    free(b);
    b = make_bmp(rgb_2x2, 2, 2, true, 32, 0, 124, &size);
    expect_decode(b, size, 2, 2, rgb_2x2);
    free(b);
}

static void test_bmp_32_bitfields(void **state) {
    (void)state;
    size_t size;
    static const uint32_t headers[] = {40, 56, 108, 124};
    for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
        uint8_t *b = make_bmp(rgb_2x2, 2, 2, i % 2 == 1, 32, 3, headers[i], &size);
        expect_decode(b, size, 2, 2, rgb_2x2);
        free(b);
    }
    /* Other masks are refused. */
    uint8_t *b = make_bmp(rgb_2x2, 2, 2, false, 32, 3, 108, &size);
    put_u32(b + 54, 0x000000ffu);
    put_u32(b + 62, 0x00ff0000u);
    expect_decode_error(b, size, GLNN_ERR_FORMAT, "BMP", "unsupported bit field masks");
    free(b);
}

static void test_bmp_row_padding(void **state) {
    (void)state;
    /* Width 3: 9 bytes of pixels, 3 of padding per row. */
    uint8_t rgb[3 * 3 * 3];
    for (int i = 0; i < 27; i++)
        rgb[i] = (uint8_t)(i * 9 + 1);
    size_t size;
    uint8_t *b = make_bmp(rgb, 3, 3, false, 24, 0, 40, &size);
    assert_int_equal(size, 54 + 3 * 12);
    expect_decode(b, size, 3, 3, rgb);
    /* The padding of the last stored row may be missing. */
    expect_decode(b, size - 3, 3, 3, rgb);
    free(b);

    /* A larger odd size with the V5 header, through a file. */
    uint8_t big[37 * 13 * 3];
    fill_random(big, sizeof big, 11);
    b = make_bmp(big, 37, 13, false, 24, 0, 124, &size);
    char path[64];
    write_temp_file(b, size, path);
    glnn_error err;
    uint8_t *pixels = NULL;
    int64_t h = 0, w = 0;
    assert_ok(glnn_image_load(path, &pixels, &h, &w, &err));
    unlink(path);
    assert_int_equal(h, 13);
    assert_int_equal(w, 37);
    assert_memory_equal(pixels, big, sizeof big);
    glnn_free(pixels);
    free(b);
}

/* ---- PNG -------------------------------------------------------------------------------------------- */

static void test_png_rgb_and_rgba(void **state) {
    (void)state;
    enum { W = 5, H = 3 };
    uint8_t rgb[H * W * 3], rgba[H * W * 4];
    fill_random(rgb, sizeof rgb, 1);
    fill_random(rgba, sizeof rgba, 2);
    size_t size;
    uint8_t *png = encode_png(rgb, W * 3, W, H, PNG_COLOR_TYPE_RGB, 8, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, rgb);
    free(png);

    /* Alpha is dropped, colour kept as is (no premultiplication). */
    rgba[3] = 0;
    rgba[7] = 255;
    uint8_t want[H * W * 3];
    for (int i = 0; i < H * W; i++)
        memcpy(want + i * 3, rgba + i * 4, 3);
    png = encode_png(rgba, W * 4, W, H, PNG_COLOR_TYPE_RGBA, 8, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, want);
    free(png);

    /* Interlaced (Adam7). */
    enum { IW = 11, IH = 7 };
    uint8_t inter[IH * IW * 3];
    fill_random(inter, sizeof inter, 3);
    png = encode_png(inter, IW * 3, IW, IH, PNG_COLOR_TYPE_RGB, 8, true, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, IH, IW, inter);
    free(png);
}

static void test_png_grey_palette_16bit(void **state) {
    (void)state;
    enum { W = 9, H = 2 };
    size_t size;
    uint8_t want[H * W * 3];

    /* Grey 8-bit and grey + alpha. */
    uint8_t grey[H * W], ga[H * W * 2];
    fill_random(grey, sizeof grey, 4);
    fill_random(ga, sizeof ga, 5);
    for (int i = 0; i < H * W; i++)
        want[i * 3] = want[i * 3 + 1] = want[i * 3 + 2] = grey[i];
    uint8_t *png = encode_png(grey, W, W, H, PNG_COLOR_TYPE_GRAY, 8, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, want);
    free(png);
    for (int i = 0; i < H * W; i++)
        want[i * 3] = want[i * 3 + 1] = want[i * 3 + 2] = ga[i * 2];
    png = encode_png(ga, W * 2, W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, want);
    free(png);

    /* Grey 1-bit: 9 pixels a row, packed into 2 bytes. */
    uint8_t bits[H * 2] = {0xA5, 0x80, 0x3C, 0x00};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t v = (bits[y * 2 + x / 8] >> (7 - x % 8)) & 1 ? 255 : 0;
            memset(want + (y * W + x) * 3, v, 3);
        }
    png = encode_png(bits, 2, W, H, PNG_COLOR_TYPE_GRAY, 1, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, want);
    free(png);

    /* Palette with transparency: the palette colours, alpha dropped. */
    png_color palette[4] = {{255, 0, 0}, {0, 128, 0}, {1, 2, 3}, {250, 251, 252}};
    uint8_t trns[4] = {0, 128, 255, 7};
    uint8_t index[H * W];
    for (int i = 0; i < H * W; i++) {
        index[i] = (uint8_t)((i * 7 + 1) % 4);
        want[i * 3] = palette[index[i]].red;
        want[i * 3 + 1] = palette[index[i]].green;
        want[i * 3 + 2] = palette[index[i]].blue;
    }
    png = encode_png(index, W, W, H, PNG_COLOR_TYPE_PALETTE, 8, false, palette, 4, trns, 4, &size);
    expect_decode(png, size, H, W, want);
    free(png);

    /* 16-bit RGB: each sample a·257 + d with |d| ≤ 100 reads back as a. */
    uint8_t wide[H * W * 6], narrow[H * W * 3];
    fill_random(narrow, sizeof narrow, 6);
    glnn_rng rng = {7};
    for (int i = 0; i < H * W * 3; i++) {
        int v = narrow[i] * 257 + (int)(glnn_rng_u32(&rng) % 201) - 100;
        v = v < 0 ? 0 : v > 65535 ? 65535 : v;
        wide[i * 2] = (uint8_t)(v >> 8); /* big-endian */
        wide[i * 2 + 1] = (uint8_t)v;
    }
    png = encode_png(wide, W * 6, W, H, PNG_COLOR_TYPE_RGB, 16, false, NULL, 0, NULL, 0, &size);
    expect_decode(png, size, H, W, narrow);
    free(png);
}

/* ---- JPEG ------------------------------------------------------------------------------------------- */

static void test_jpeg(void **state) {
    (void)state;
    enum { W = 24, H = 16 };
    uint8_t rgb[H * W * 3];
    smooth_rgb(rgb, W, H);
    size_t size;
    uint8_t *jpg = encode_jpeg(rgb, W, H, 3, JCS_RGB, 100, &size);
    glnn_error err;
    uint8_t *pixels = NULL;
    int64_t h = 0, w = 0;
    assert_ok(glnn_image_decode(jpg, size, &pixels, &h, &w, &err));
    assert_int_equal(h, H);
    assert_int_equal(w, W);
    expect_close(pixels, rgb, sizeof rgb, 6);
    glnn_free(pixels);
    free(jpg);

    /* Grey: R = G = B, close to the original. */
    uint8_t grey[H * W];
    for (int i = 0; i < H * W; i++)
        grey[i] = rgb[i * 3 + 1];
    jpg = encode_jpeg(grey, W, H, 1, JCS_GRAYSCALE, 100, &size);
    assert_ok(glnn_image_decode(jpg, size, &pixels, &h, &w, &err));
    assert_int_equal(h, H);
    assert_int_equal(w, W);
    uint8_t want[H * W * 3];
    for (int i = 0; i < H * W; i++) {
        assert_int_equal(pixels[i * 3], pixels[i * 3 + 1]);
        assert_int_equal(pixels[i * 3], pixels[i * 3 + 2]);
        memset(want + i * 3, grey[i], 3);
    }
    expect_close(pixels, want, sizeof want, 2);
    glnn_free(pixels);
    free(jpg);

    /* CMYK (Adobe, inverted): R = C·K/255 and so on. */
    uint8_t cmyk[H * W * 4];
    for (int i = 0; i < H * W; i++) {
        memcpy(cmyk + i * 4, rgb + i * 3, 3);
        cmyk[i * 4 + 3] = (uint8_t)(200 + i % 40);
        for (int c = 0; c < 3; c++)
            want[i * 3 + c] = (uint8_t)((rgb[i * 3 + c] * cmyk[i * 4 + 3] + 127) / 255);
    }
    jpg = encode_jpeg(cmyk, W, H, 4, JCS_CMYK, 100, &size);
    assert_ok(glnn_image_decode(jpg, size, &pixels, &h, &w, &err));
    expect_close(pixels, want, sizeof want, 4);
    glnn_free(pixels);
    free(jpg);
}

/* ---- errors ----------------------------------------------------------------------------------------- */

static void test_missing_and_empty_files(void **state) {
    (void)state;
    glnn_error err;
    uint8_t sentinel, *pixels = &sentinel;
    int64_t h = -1, w = -1;
    assert_error(glnn_image_load("tests/no-such-picture.png", &pixels, &h, &w, &err), &err, GLNN_ERR_NOT_FOUND,
                 "load image", "no-such-picture.png", "No such file");
    assert_ptr_equal(pixels, &sentinel);
    assert_error(glnn_image_load("tests/", &pixels, &h, &w, &err), &err, GLNN_ERR_IO, "load image", "tests/");

    char path[64];
    write_temp_file("", 0, path);
    assert_error(glnn_image_load(path, &pixels, &h, &w, &err), &err, GLNN_ERR_FORMAT, path, "empty");
    unlink(path);
    write_temp_file("hello, world", 12, path);
    assert_error(glnn_image_load(path, &pixels, &h, &w, &err), &err, GLNN_ERR_FORMAT, path, "unsupported format");
    unlink(path);
    assert_ptr_equal(pixels, &sentinel);
    assert_int_equal(h, -1);

    expect_decode_error("", 0, GLNN_ERR_FORMAT, "empty");
    expect_decode_error(NULL, 0, GLNN_ERR_FORMAT, "empty");
    assert_error(glnn_image_decode(NULL, 4, &pixels, &h, &w, &err), &err, GLNN_ERR_ARGUMENT, "decode image");
    assert_error(glnn_image_decode("BM", 2, NULL, &h, &w, &err), &err, GLNN_ERR_ARGUMENT, "decode image");
    assert_error(glnn_image_load(NULL, &pixels, &h, &w, &err), &err, GLNN_ERR_ARGUMENT, "load image");
    /* err may be NULL. */
    assert_int_equal(glnn_image_decode("x", 1, &pixels, &h, &w, NULL), GLNN_ERR_FORMAT);
}

static void test_unknown_formats(void **state) {
    (void)state;
    expect_decode_error("hello, world", 12, GLNN_ERR_FORMAT, "unsupported format");
    expect_decode_error("GIF89a\x01\x00\x01\x00", 10, GLNN_ERR_FORMAT, "unsupported format", "GIF");
    expect_decode_error("RIFF\x10\0\0\0WEBPVP8 ", 16, GLNN_ERR_FORMAT, "unsupported format", "WebP");
    expect_decode_error("\x89PN", 3, GLNN_ERR_FORMAT, "unsupported format");
}

static void test_bad_bmp(void **state) {
    (void)state;
    uint8_t rgb[4 * 4 * 3];
    fill_random(rgb, sizeof rgb, 9);
    size_t size;
    uint8_t *b = make_bmp(rgb, 4, 4, false, 24, 0, 40, &size);

    /* Truncated headers. */
    expect_decode_error(b, 2, GLNN_ERR_FORMAT, "BMP", "truncated header");
    expect_decode_error(b, 14, GLNN_ERR_FORMAT, "BMP", "truncated header");
    expect_decode_error(b, 30, GLNN_ERR_FORMAT, "BMP", "truncated header");
    /* Truncated pixel data: the last stored row cut short, or the offset beyond the end. */
    expect_decode_error(b, size - 4, GLNN_ERR_FORMAT, "BMP", "truncated pixel data");
    expect_decode_error(b, 54, GLNN_ERR_FORMAT, "BMP", "truncated pixel data");
    uint8_t *c = malloc(size);
    assert_non_null(c);

    /* Absurd and invalid dimensions. */
    memcpy(c, b, size);
    put_u32(c + 18, 100000);
    put_u32(c + 22, 100000);
    expect_decode_error(c, size, GLNN_ERR_MEMORY, "BMP", "100000×100000", "too large");
    put_u32(c + 18, 4);
    put_u32(c + 22, 0x80000000u); /* INT32_MIN */
    expect_decode_error(c, size, GLNN_ERR_MEMORY, "BMP", "too large");
    put_u32(c + 18, 0x7fffffffu);
    put_u32(c + 22, 0x7fffffffu);
    expect_decode_error(c, size, GLNN_ERR_MEMORY, "BMP", "too large");
    put_u32(c + 18, 0);
    put_u32(c + 22, 4);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "invalid dimensions");
    put_u32(c + 18, (uint32_t)-4);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "invalid dimensions");
    put_u32(c + 18, 4);
    put_u32(c + 22, 0);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "invalid dimensions");

    /* Unsupported variants. */
    memcpy(c, b, size);
    put_u16(c + 28, 8);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "bit depth 8");
    memcpy(c, b, size);
    put_u32(c + 30, 1); /* BI_RLE8 */
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "compression 1");
    memcpy(c, b, size);
    put_u32(c + 14, 12);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "BITMAPCOREHEADER");
    memcpy(c, b, size);
    put_u32(c + 14, 1000);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "header size 1000");
    memcpy(c, b, size);
    put_u32(c + 10, 20); /* pixel data inside the header */
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "offset");
    memcpy(c, b, size);
    put_u32(c + 10, 0xfffffff0u);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "BMP", "truncated pixel data");
    free(c);
    free(b);

    /* Bit fields whose masks are cut off. */
    b = make_bmp(rgb, 4, 4, false, 32, 3, 40, &size);
    expect_decode_error(b, 60, GLNN_ERR_FORMAT, "BMP", "truncated header");
    free(b);
}

static void test_bad_png(void **state) {
    (void)state;
    enum { W = 64, H = 64 };
    uint8_t *rgb = malloc(W * H * 3);
    assert_non_null(rgb);
    fill_random(rgb, W * H * 3, 10);
    size_t size;
    uint8_t *png = encode_png(rgb, W * 3, W, H, PNG_COLOR_TYPE_RGB, 8, false, NULL, 0, NULL, 0, &size);
    free(rgb);
    expect_decode_error(png, size / 2, GLNN_ERR_FORMAT, "PNG", "truncated");
    expect_decode_error(png, 8, GLNN_ERR_FORMAT, "PNG", "truncated");
    expect_decode_error(png, 20, GLNN_ERR_FORMAT, "PNG", "truncated");
    expect_decode_error(png, size - 12, GLNN_ERR_FORMAT, "PNG", "truncated"); /* without IEND */

    uint8_t *c = malloc(size);
    assert_non_null(c);
    memcpy(c, png, size);
    c[size / 2] ^= 0x55; /* inside IDAT: CRC error */
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "PNG", "CRC");
    memcpy(c, png, size);
    c[16] = c[17] = c[18] = c[19] = 0; /* width 0 (CRC fixed below) */
    fix_ihdr_crc(c);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "PNG");
    /* Huge dimensions with a valid CRC: refused before allocating. */
    memcpy(c, png, size);
    c[16] = c[20] = 0;
    c[17] = c[21] = 0x01; /* 65536×65536 */
    c[18] = c[19] = c[22] = c[23] = 0;
    fix_ihdr_crc(c);
    expect_decode_error(c, size, GLNN_ERR_MEMORY, "PNG", "too large");
    free(c);
    free(png);
}

static void test_bad_jpeg(void **state) {
    (void)state;
    enum { W = 32, H = 32 };
    uint8_t rgb[H * W * 3];
    smooth_rgb(rgb, W, H);
    size_t size;
    uint8_t *jpg = encode_jpeg(rgb, W, H, 3, JCS_RGB, 90, &size);
    /* Truncated: a partial image is an error. */
    expect_decode_error(jpg, size / 2, GLNN_ERR_FORMAT, "JPEG", "Premature end");
    expect_decode_error(jpg, size - 2, GLNN_ERR_FORMAT, "JPEG");
    expect_decode_error(jpg, 3, GLNN_ERR_FORMAT, "JPEG");

    uint8_t *c = malloc(size);
    assert_non_null(c);
    /* A frame header with 12-bit precision (unsupported). */
    memcpy(c, jpg, size);
    size_t sof = 2;
    while (sof + 4 < size && !(c[sof] == 0xff && c[sof + 1] == 0xc0))
        sof++;
    assert_true(sof + 4 < size);
    c[sof + 4] = 12;
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "JPEG", "precision");
    /* Garbage after the start-of-image marker. */
    memcpy(c, jpg, size);
    memset(c + 3, 0x11, size - 3);
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "JPEG");
    /* Entropy-coded data replaced by a marker: premature end of the data segment. */
    memcpy(c, jpg, size);
    size_t sos = 2;
    while (sos + 1 < size && !(c[sos] == 0xff && c[sos + 1] == 0xda))
        sos++;
    assert_true(sos + 40 < size);
    size_t data = sos + 2 + (size_t)(c[sos + 2] << 8 | c[sos + 3]);
    c[data + 8] = 0xff;
    c[data + 9] = 0xd0; /* RST0 where none is expected */
    expect_decode_error(c, size, GLNN_ERR_FORMAT, "JPEG");
    free(c);
    free(jpg);
}

/* Bad input is reported through the error only: nothing reaches stderr. */
static void test_silent(void **state) {
    (void)state;
    size_t png_size, jpg_size;
    uint8_t rgb[16 * 16 * 3];
    smooth_rgb(rgb, 16, 16);
    uint8_t *png = encode_png(rgb, 48, 16, 16, PNG_COLOR_TYPE_RGB, 8, false, NULL, 0, NULL, 0, &png_size);
    uint8_t *jpg = encode_jpeg(rgb, 16, 16, 3, JCS_RGB, 90, &jpg_size);
    /* An ancillary chunk with a bad CRC makes libpng warn. */
    uint8_t *png2 = malloc(png_size + 16);
    assert_non_null(png2);
    memcpy(png2, png, 33);
    memcpy(png2 + 33, "\0\0\0\4tEXt", 8);
    memcpy(png2 + 41, "a\0bc\x12\x34\x56\x78", 8); /* bad CRC */
    memcpy(png2 + 49, png + 33, png_size - 33);
    uint8_t *jpg2 = malloc(jpg_size + 8);
    assert_non_null(jpg2);
    /* Extraneous bytes between the first segment and the next marker: a libjpeg warning. */
    assert_true(jpg[2] == 0xff && jpg[3] == 0xe0);
    size_t app0_end = 4 + (size_t)(jpg[4] << 8 | jpg[5]);
    memcpy(jpg2, jpg, app0_end);
    memcpy(jpg2 + app0_end, "\x11\x22\x33", 3);
    memcpy(jpg2 + app0_end + 3, jpg + app0_end, jpg_size - app0_end);

    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    assert_true(dup2(fileno(capture), 2) >= 0);
    glnn_error err;
    uint8_t *pixels;
    int64_t h, w;
    glnn_status s[6];
    s[0] = glnn_image_decode(png, png_size / 2, &pixels, &h, &w, &err);
    s[1] = glnn_image_decode(jpg, jpg_size / 2, &pixels, &h, &w, &err);
    s[2] = glnn_image_decode(png2, png_size + 16, &pixels, &h, &w, &err);
    if (s[2] == GLNN_OK) glnn_free(pixels);
    s[3] = glnn_image_decode(jpg2, jpg_size + 3, &pixels, &h, &w, &err);
    if (s[3] == GLNN_OK) glnn_free(pixels);
    memset(jpg2 + 3, 0x11, jpg_size - 3);
    s[4] = glnn_image_decode(jpg2, jpg_size, &pixels, &h, &w, &err);
    s[5] = glnn_image_decode("BM", 2, &pixels, &h, &w, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long printed = (fseek(capture, 0, SEEK_END), ftell(capture));
    if (printed > 0) {
        char text[256] = {0};
        rewind(capture);
        size_t n = fread(text, 1, sizeof text - 1, capture);
        print_error("printed %zu bytes: '%s'\n", n, text);
    }
    fclose(capture);

    assert_int_equal(printed, 0);
    assert_int_equal(s[0], GLNN_ERR_FORMAT);
    assert_int_equal(s[1], GLNN_ERR_FORMAT);
    assert_int_equal(s[2], GLNN_OK); /* an ancillary chunk's CRC error is only a warning */
    assert_int_equal(s[3], GLNN_OK); /* extraneous bytes leave the image whole */
    assert_int_equal(s[4], GLNN_ERR_FORMAT);
    assert_int_equal(s[5], GLNN_ERR_FORMAT);
    free(png);
    free(png2);
    free(jpg);
    free(jpg2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_bmp),
        cmocka_unit_test(test_shared_png),
        cmocka_unit_test(test_bmp_24_bottom_up),
        cmocka_unit_test(test_bmp_24_top_down),
        cmocka_unit_test(test_bmp_32),
        cmocka_unit_test(test_bmp_32_bitfields),
        cmocka_unit_test(test_bmp_row_padding),
        cmocka_unit_test(test_png_rgb_and_rgba),
        cmocka_unit_test(test_png_grey_palette_16bit),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_missing_and_empty_files),
        cmocka_unit_test(test_unknown_formats),
        cmocka_unit_test(test_bad_bmp),
        cmocka_unit_test(test_bad_png),
        cmocka_unit_test(test_bad_jpeg),
        cmocka_unit_test(test_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
