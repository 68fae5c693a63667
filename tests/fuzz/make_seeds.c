/* Writes the seed corpora of the fuzz harnesses, at build time, from ../shared (the reference model and the
 * pictures) and from the listings the tests use:
 *   OUT/chunks   chunk files: the reference model, small models, edge cases
 *   OUT/listing  listing texts: the reference model's, the SPEC examples, the tests' graphs
 *   OUT/image    the small pictures of ../shared as they are, and every picture re-encoded small as PNG
 *                (RGB, grey, palette, RGBA, 16-bit, interlaced), JPEG (baseline, progressive, grey) and BMP
 *                (24-bit bottom-up, 32-bit top-down, bit fields)
 *   OUT/model    listing, NUL, chunk file: the inputs of the model-preparation harness
 * Usage: fuzz_seeds SHARED_DIR OUT_DIR */
#include "glnn.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h> /* after stdio.h */
#include <png.h>

static const char *out_dir;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_seeds: %s: %s\n", what, detail);
    exit(1);
}

static void write_seed(const char *corpus, const char *name, const void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, corpus);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, corpus, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) die(path, strerror(errno));
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) die(path, "read failed");
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* ---- chunk files in memory ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die("seeds", "out of memory");
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void buf_u32(buf *b, uint32_t v) {
    uint8_t f[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_add(b, f, 4);
}

static void record(buf *b, const char *id, const void *data, size_t n) {
    buf_u32(b, (uint32_t)strlen(id));
    buf_add(b, id, strlen(id));
    buf_u32(b, (uint32_t)n);
    buf_add(b, data, n);
}

/* Float32 weights (little-endian hosts) of n values, a deterministic pattern. */
static void float_record(buf *b, const char *op, const char *suffix, int n) {
    float *v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = (float)((i * 7919) % 2001 - 1000) / 2000.0f;
    char id[300];
    snprintf(id, sizeof id, "%s%s", op, suffix);
    record(b, id, v, (size_t)n * sizeof *v);
    free(v);
}

/* ---- listings ---- */

static const char spec_example[] = "connections:\n"
                                   " - from: in\n   to: c1\n"
                                   " - from: c1\n   to: dw\n"
                                   " - from: c1\n   to: dw\n   to_input: 1\n"
                                   " - from: dw\n   to: gap\n"
                                   " - from: gap\n   shuffle: 2\n   to: fc\n"
                                   " - from: fc\n   to: prob\n"
                                   "ops:\n"
                                   " - _name: in\n   _type: image_sampler\n   center_crop: true\n"
                                   "   linear_interp: true\n   output_height: 64\n   output_width: 64\n"
                                   " - _name: c1\n   _type: conv2d\n   activation: brelu6\n   groups: 1\n"
                                   "   input_channels: 3\n   kernel_size: 3\n   output_channels: 16\n"
                                   "   padding: valid\n   stride: 2\n   use_bias: true\n"
                                   " - _name: dw\n   _type: conv2d\n   activation: sigmoid_like\n   groups: 16\n"
                                   "   input_channels: 16\n   kernel_size: 3\n   output_channels: 16\n"
                                   "   padding: same\n   stride: 1\n   use_bias: false\n"
                                   " - _name: gap\n   _type: pooling2d\n   operator: average\n   padding: valid\n"
                                   "   size: 31\n   stride: 1\n"
                                   " - _name: fc\n   _type: dense\n   output_dims: 8\n   use_bias: true\n"
                                   " - _name: prob\n   _type: softmax\n";

static const char hand_written[] = "ops:                  # a single 1×1 convolution, 4 → 4 channels\n"
                                   "  - _name: c\n"
                                   "    _type: conv2d\n"
                                   "    kernel_size: 1\n"
                                   "    input_channels: 4\n"
                                   "    output_channels: 4\n";

static const char small_graph[] = "ops:\r\n"
                                  " - _name: in\n   _type: image_sampler\n   output_width: 6\n   output_height: 6\n"
                                  "   center_crop: false\n   linear_interp: false\n"
                                  " - _name: c1\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 3\n"
                                  "   output_channels: 8\n   activation: BReLU6\n"
                                  " - _name: gap\n   _type: pooling2d\n   operator: average\n   size: 4\n"
                                  " - _name: fc\n   _type: dense\n   output_dims: 4\n"
                                  " - _name: prob\n   _type: softmax\n"
                                  "connections:   # comment\n"
                                  " - from: in\n   to: c1\n - from: c1\n   to: gap\n"
                                  " - from: gap\n   to: fc\n - from: fc\n   to: prob\n";

static const char residual_graph[] = "ops:\n"
                                     " - _name: a\n   _type: conv2d\n   kernel_size: 1\n   input_channels: 8\n"
                                     "   output_channels: 16\n   use_bias: false\n"
                                     " - _name: b\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 16\n"
                                     "   output_channels: 16\n   groups: 4\n   padding: same\n"
                                     "   activation: sigmoid_like\n"
                                     " - _name: p\n   _type: pooling2d\n   operator: max\n   size: 2\n"
                                     "   padding: same\n   stride: 0\n"
                                     " - _name: g\n   _type: pooling2d\n   operator: average\n   size: 3\n"
                                     " - _name: d\n   _type: dense\n   output_dims: 8\n   use_bias: false\n"
                                     " - _name: d2\n   _type: dense\n   output_dims: 4\n"
                                     " - _name: s\n   _type: softmax\n"
                                     "connections:\n"
                                     " - from: a\n   to: b\n - from: a\n   to: b\n   to_input: 1\n   shuffle: 2\n"
                                     " - from: b\n   to: p\n   shuffle: 4\n - from: p\n   to: g\n"
                                     " - from: g\n   to: d\n - from: d\n   to: d2\n - from: d2\n   to: s\n";

/* Writes `listing` as a listing seed, and as a model seed with weights for the named ops. */
typedef struct {
    const char *op;
    int weights, bias;
} weight_spec;

static void listing_seeds(const char *name, const char *listing, const weight_spec *w, int n_w) {
    write_seed("listing", name, listing, strlen(listing));
    buf model = {0}, chunks = {0};
    record(&chunks, "", listing, strlen(listing));
    for (int i = 0; i < n_w; i++) {
        float_record(&chunks, w[i].op, "/w", w[i].weights);
        if (w[i].bias) float_record(&chunks, w[i].op, "/b", w[i].bias);
    }
    write_seed("chunks", name, chunks.p, chunks.n);
    buf_add(&model, listing, strlen(listing));
    buf_add(&model, "", 1);
    buf_add(&model, chunks.p + 8 + strlen(listing), chunks.n - 8 - strlen(listing)); /* the weights only */
    write_seed("model", name, model.p, model.n);
    free(model.p);
    free(chunks.p);
}

/* ---- images ---- */

static void png_write(png_structp png, png_bytep data, size_t n) {
    buf_add(png_get_io_ptr(png), data, n);
}
static void png_flush(png_structp png) {
    (void)png;
}

/* rgb is w×h×3; writes the image as `color` (PNG_COLOR_TYPE_*) with `depth` bits. */
static void png_seed(const char *name, const uint8_t *rgb, int w, int h, int color, int depth, bool interlace) {
    buf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!png || !info || setjmp(png_jmpbuf(png))) die(name, "libpng");
    png_set_write_fn(png, &b, png_write, png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_color palette[256];
    png_byte alpha[256];
    if (color == PNG_COLOR_TYPE_PALETTE) {
        for (int i = 0; i < 256; i++) {
            palette[i].red = (png_byte)(i & 0xe0);
            palette[i].green = (png_byte)((i << 3) & 0xe0);
            palette[i].blue = (png_byte)((i << 6) & 0xc0);
            alpha[i] = (png_byte)(255 - i);
        }
        png_set_PLTE(png, info, palette, 256);
        png_set_tRNS(png, info, alpha, 256, NULL);
    }
    png_write_info(png, info);
    int channels = color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_PALETTE ? 1
                   : color == PNG_COLOR_TYPE_RGB_ALPHA                             ? 4
                   : color == PNG_COLOR_TYPE_GRAY_ALPHA                            ? 2
                                                                                   : 3;
    int bytes = depth / 8;
    uint8_t *row = malloc((size_t)w * (size_t)channels * (size_t)bytes);
    int passes = interlace ? png_set_interlace_handling(png) : 1;
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                const uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
                uint8_t v[4] = {p[0], p[1], p[2], (uint8_t)(x * 16)};
                if (channels == 1 && color == PNG_COLOR_TYPE_GRAY) v[0] = (uint8_t)((p[0] + p[1] + p[2]) / 3);
                if (color == PNG_COLOR_TYPE_PALETTE)
                    v[0] = (uint8_t)((p[0] & 0xe0) | ((p[1] >> 3) & 0x1c) | (p[2] >> 6));
                if (channels == 2) v[1] = v[3];
                for (int c = 0; c < channels; c++)
                    for (int k = 0; k < bytes; k++)
                        row[((size_t)x * (size_t)channels + (size_t)c) * (size_t)bytes + (size_t)k] = v[c];
            }
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    write_seed("image", name, b.p, b.n);
    free(b.p);
}

static void jpeg_seed(const char *name, const uint8_t *rgb, int w, int h, bool progressive, bool grey) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &out, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = grey ? 1 : 3;
    c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 75, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    while (c.next_scanline < c.image_height) {
        const uint8_t *src = rgb + (size_t)c.next_scanline * (size_t)w * 3;
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)((src[3 * x] + src[3 * x + 1] + src[3 * x + 2]) / 3);
        JSAMPROW r = grey ? row : (JSAMPROW)src;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    write_seed("image", name, out, size);
    free(out);
}

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void bmp_seed(const char *name, const uint8_t *rgb, int w, int h, int bpp, bool top_down, bool bitfields) {
    int header = 54 + (bitfields ? 12 : 0);
    int stride = (w * bpp / 8 + 3) / 4 * 4;
    size_t size = (size_t)header + (size_t)stride * (size_t)h;
    uint8_t *b = calloc(size, 1);
    b[0] = 'B';
    b[1] = 'M';
    put32(b + 2, (uint32_t)size);
    put32(b + 10, (uint32_t)header);
    put32(b + 14, 40);
    put32(b + 18, (uint32_t)w);
    put32(b + 22, (uint32_t)(top_down ? -h : h));
    put16(b + 26, 1);
    put16(b + 28, (uint32_t)bpp);
    put32(b + 30, bitfields ? 3 : 0);
    if (bitfields) {
        put32(b + 54, 0x00ff0000u);
        put32(b + 58, 0x0000ff00u);
        put32(b + 62, 0x000000ffu);
    }
    for (int y = 0; y < h; y++) {
        uint8_t *dst = b + header + (size_t)(top_down ? y : h - 1 - y) * (size_t)stride;
        for (int x = 0; x < w; x++, dst += bpp / 8) {
            const uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            dst[0] = p[2];
            dst[1] = p[1];
            dst[2] = p[0];
            if (bpp == 32) dst[3] = 255;
        }
    }
    write_seed("image", name, b, size);
    free(b);
}

/* A small picture (sw×sh RGB) re-encoded in every PNG, JPEG and BMP variant the decoders handle. */
static void variant_seeds(const char *base, const uint8_t *small, int sw, int sh) {
    char name[512];
    struct {
        const char *suffix;
        int kind;
    } variants[] = {{"rgb.png", 0},         {"grey.png", 1},       {"palette.png", 2},   {"rgba.png", 3},
                    {"16bit.png", 4},       {"interlaced.png", 5}, {"greyalpha.png", 6}, {"baseline.jpg", 7},
                    {"progressive.jpg", 8}, {"grey.jpg", 9},       {"24.bmp", 10},       {"32-top-down.bmp", 11},
                    {"bitfields.bmp", 12}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        snprintf(name, sizeof name, "%s-%s", base, variants[v].suffix);
        switch (variants[v].kind) {
        case 0: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_RGB, 8, false); break;
        case 1: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_GRAY, 8, false); break;
        case 2: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_PALETTE, 8, false); break;
        case 3: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_RGB_ALPHA, 8, false); break;
        case 4: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_RGB, 16, false); break;
        case 5: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_RGB, 8, true); break;
        case 6: png_seed(name, small, sw, sh, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false); break;
        case 7: jpeg_seed(name, small, sw, sh, false, false); break;
        case 8: jpeg_seed(name, small, sw, sh, true, false); break;
        case 9: jpeg_seed(name, small, sw, sh, false, true); break;
        case 10: bmp_seed(name, small, sw, sh, 24, false, false); break;
        case 11: bmp_seed(name, small, sw, sh, 32, true, false); break;
        case 12: bmp_seed(name, small, sw, sh, 32, false, true); break;
        }
    }
}

/* Every picture of SHARED/images: as it is when small, and re-encoded at most 24×24 in every variant. */
static void image_seeds(const char *shared) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/images", shared);
    DIR *d = opendir(dir);
    if (!d) {
        /* Without ../shared: the variants of a synthetic 24×16 picture (colour gradients). */
        printf("fuzz_seeds: %s: %s (../shared is not there); picture seeds from a synthetic picture\n", dir,
               strerror(errno));
        uint8_t px[24 * 16 * 3];
        for (int i = 0; i < 24 * 16; i++) {
            px[3 * i] = (uint8_t)(i % 24 * 10);
            px[3 * i + 1] = (uint8_t)(i / 24 * 15);
            px[3 * i + 2] = (uint8_t)(i * 7);
        }
        variant_seeds("synthetic", px, 24, 16);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[8192], name[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        uint8_t *bytes = read_file(path, &size);
        if (!bytes) continue;
        if (size <= 200000) {
            snprintf(name, sizeof name, "shared-%s", e->d_name);
            write_seed("image", name, bytes, size);
        }
        free(bytes);
        uint8_t *px;
        int64_t h, w;
        glnn_error err;
        if (glnn_image_load(path, &px, &h, &w, &err) != GLNN_OK) die(path, err.message);
        int sw = w < 24 ? (int)w : 24, sh = h < 24 ? (int)h : 24;
        uint8_t *small = malloc((size_t)sw * (size_t)sh * 3);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                memcpy(small + ((size_t)y * (size_t)sw + (size_t)x) * 3,
                       px + (((int64_t)y * h / sh) * w + (int64_t)x * w / sw) * 3, 3);
        glnn_free(px);
        variant_seeds(e->d_name, small, sw, sh);
        free(small);
    }
    closedir(d);
}

/* The reference model: its chunk file, its listing, and the listing with no weights for the model
 * harness (which supplies weights itself). */
static void reference_model_seeds(const char *shared) {
    char path[4096];
    snprintf(path, sizeof path, "%s/models/dog_classifier.chunks", shared);
    size_t size;
    uint8_t *model = read_file(path, &size);
    if (!model) {
        printf("fuzz_seeds: no seeds from the dog classifier: %s: %s (../shared is not there)\n", path,
               strerror(errno));
        return;
    }
    write_seed("chunks", "dog_classifier.chunks", model, size);
    glnn_chunks *ch;
    glnn_error err;
    if (glnn_chunks_read_memory(model, size, &ch, &err) != GLNN_OK) die(path, err.message);
    const void *listing;
    size_t listing_size;
    if (!glnn_chunks_get(ch, "", 0, &listing, &listing_size)) die(path, "no listing");
    write_seed("listing", "dog_classifier.txt", listing, listing_size);
    buf b = {0};
    buf_add(&b, listing, listing_size);
    buf_add(&b, "", 1);
    write_seed("model", "dog_classifier", b.p, b.n);
    /* ... and with the weights of its last ops (the rest is supplied by the harness). */
    const char *tail_ops[] = {"b6-conv", "Dense"};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            char id[64];
            snprintf(id, sizeof id, "%s%s", tail_ops[i], k ? "/b" : "/w");
            const void *p;
            size_t n;
            if (glnn_chunks_get(ch, id, strlen(id), &p, &n)) record(&b, id, p, n);
        }
    write_seed("model", "dog_classifier_tail", b.p, b.n);
    free(b.p);
    glnn_chunks_free(ch);
    free(model);
}

int main(int argc, char **argv) {
    if (argc != 3) die("usage", "fuzz_seeds SHARED_DIR OUT_DIR");
    const char *shared = argv[1];
    out_dir = argv[2];
    mkdir(out_dir, 0777);

    reference_model_seeds(shared);

    /* Small chunk files: empty, one empty-id record, a repeated id, a long id. */
    write_seed("chunks", "empty", "", 0);
    buf c = {0};
    record(&c, "", "", 0);
    write_seed("chunks", "empty-id", c.p, c.n);
    record(&c, "a/w", "\0\0\x80\x3f", 4);
    record(&c, "a/w", "\0\0\0\0\0\0\x80\x3f", 8);
    write_seed("chunks", "repeated", c.p, c.n);
    char long_id[256];
    memset(long_id, 'x', 255);
    long_id[255] = '\0';
    record(&c, long_id, "labels", 6);
    write_seed("chunks", "long-id", c.p, c.n);
    free(c.p);

    /* Listings with weights. */
    const weight_spec spec_w[] = {{"c1", 3 * 3 * 3 * 16, 16}, {"dw", 3 * 3 * 16, 0}, {"fc", 16 * 8, 8}};
    listing_seeds("spec_example", spec_example, spec_w, 3);
    const weight_spec hand_w[] = {{"c", 16, 4}};
    listing_seeds("hand_written", hand_written, hand_w, 1);
    const weight_spec small_w[] = {{"c1", 3 * 3 * 3 * 8, 8}, {"fc", 8 * 4, 4}};
    listing_seeds("small_graph", small_graph, small_w, 2);
    const weight_spec residual_w[] = {{"a", 8 * 16, 0}, {"b", 3 * 3 * 4 * 16, 16}, {"d", 16 * 8, 0}, {"d2", 8 * 4, 4}};
    listing_seeds("residual_graph", residual_graph, residual_w, 4);

    image_seeds(shared);
    return 0;
}
