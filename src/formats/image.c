/* Image files: PNG (libpng), JPEG (libjpeg) and BMP (parsed here), decoded to H×W×3 RGB bytes with row 0 at
 * the top (SPEC §2.3).  Bad input is an error, never a crash, a partial image or a message on the console. */
#include "internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* Largest image decoded, in pixels (768 MiB of RGB).  Fuzzing builds lower it so that one input cannot ask
 * for gigabytes. */
#ifndef GLNN_IMAGE_MAX_PIXELS
#define GLNN_IMAGE_MAX_PIXELS ((int64_t)1 << 28)
#endif
#define IMAGE_MAX_PIXELS ((int64_t)(GLNN_IMAGE_MAX_PIXELS))
/* A progressive JPEG with more scans than this is treated as hostile (each scan rereads the whole image). */
#define JPEG_MAX_SCANS 1000

typedef struct decoded {
    uint8_t *pixels;
    int64_t h, w;
} decoded;

/* The end of a decode: on success out takes the image, on failure its pixels are freed. */
static glnn_status keep_decoded(glnn_status s, decoded *img, decoded *out) {
    if (s == GLNN_OK)
        *out = *img;
    else
        free(img->pixels);
    return s;
}

/* Checks the dimensions of an image about to be decoded.  `format` names the format in messages. */
static glnn_status check_dimensions(const char *format, int64_t w, int64_t h, glnn_error *e) {
    if (w < 1 || h < 1)
        return glnn_fail(e, GLNN_ERR_FORMAT, "%s: invalid dimensions %lld×%lld", format, (long long)w, (long long)h);
    if (w > IMAGE_MAX_PIXELS / h)
        return glnn_fail(e, GLNN_ERR_MEMORY, "%s: %lld×%lld pixels is too large (the limit is %lld pixels)", format,
                         (long long)w, (long long)h, (long long)IMAGE_MAX_PIXELS);
    return GLNN_OK;
}

/* Allocates the H×W×3 output of an image whose dimensions passed check_dimensions(). */
static uint8_t *alloc_pixels(int64_t w, int64_t h) {
    return malloc((size_t)(w * h * 3));
}

/* ---------------------------------------------------------------------------------------------------- */
/* BMP                                                                                                  */

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t read_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static int64_t read_i32(const uint8_t *p) {
    uint32_t u = read_u32(p);
    return u <= 0x7fffffffu ? (int64_t)u : (int64_t)u - ((int64_t)1 << 32);
}

#define BMP_FILE_HEADER 14
#define BMP_BI_RGB 0
#define BMP_BI_BITFIELDS 3
#define BMP_BI_ALPHABITFIELDS 6

static glnn_status decode_bmp(const uint8_t *d, size_t size, decoded *out, glnn_error *e) {
    if (size < BMP_FILE_HEADER + 4) return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: truncated header (%zu bytes)", size);
    uint32_t offset = read_u32(d + 10);
    uint32_t header_size = read_u32(d + 14);
    if (header_size == 12) return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: unsupported OS/2 header (BITMAPCOREHEADER)");
    if (header_size != 40 && header_size != 52 && header_size != 56 && header_size != 108 && header_size != 124)
        return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: unsupported info header size %lu", (unsigned long)header_size);
    if (size < BMP_FILE_HEADER + (size_t)header_size)
        return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: truncated header (%zu bytes, the header needs %lu)", size,
                         (unsigned long)(BMP_FILE_HEADER + header_size));
    int64_t w = read_i32(d + 18), h_raw = read_i32(d + 22);
    unsigned bpp = read_u16(d + 28);
    uint32_t compression = read_u32(d + 30);

    if (bpp != 24 && bpp != 32)
        return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: unsupported bit depth %u (only 24- and 32-bit images are supported)",
                         bpp);
    size_t header_end = BMP_FILE_HEADER + (size_t)header_size;
    if (compression == BMP_BI_BITFIELDS || compression == BMP_BI_ALPHABITFIELDS) {
        if (bpp != 32)
            return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: bit field masks with %u bits per pixel are not supported", bpp);
        /* The masks follow a 40-byte header; later headers hold them at the same place. */
        size_t masks_end = BMP_FILE_HEADER + 40 + (compression == BMP_BI_ALPHABITFIELDS ? 16 : 12);
        if (size < masks_end)
            return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: truncated header (%zu bytes, the bit field masks need %zu)",
                             size, masks_end);
        if (header_end < masks_end) header_end = masks_end;
        uint32_t r = read_u32(d + 54), g = read_u32(d + 58), b = read_u32(d + 62);
        if (r != 0x00ff0000u || g != 0x0000ff00u || b != 0x000000ffu)
            return glnn_fail(e, GLNN_ERR_FORMAT,
                             "BMP: unsupported bit field masks R %08lx G %08lx B %08lx (only 8-bit B, G, R, A are "
                             "supported)",
                             (unsigned long)r, (unsigned long)g, (unsigned long)b);
    } else if (compression != BMP_BI_RGB) {
        return glnn_fail(e, GLNN_ERR_FORMAT,
                         "BMP: unsupported compression %lu (only uncompressed BI_RGB and BI_BITFIELDS are supported)",
                         (unsigned long)compression);
    }

    /* Positive height: rows stored bottom-up; negative: top-down. */
    bool top_down = h_raw < 0;
    int64_t h = top_down ? -h_raw : h_raw;
    glnn_status s = check_dimensions("BMP", w, h, e);
    if (s != GLNN_OK) return s;

    int64_t pixel_bytes = bpp / 8;
    int64_t stride = (w * bpp + 31) / 32 * 4;
    if (offset < header_end)
        return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: pixel data offset %lu lies inside the header",
                         (unsigned long)offset);
    /* The padding of the last row is not required. */
    int64_t needed = stride * (h - 1) + w * pixel_bytes;
    if (offset > size || (uint64_t)(size - offset) < (uint64_t)needed)
        return glnn_fail(e, GLNN_ERR_FORMAT, "BMP: truncated pixel data (the file has %zu bytes, %lld needed)", size,
                         (long long)(offset + needed));

    uint8_t *pixels = alloc_pixels(w, h);
    if (!pixels)
        return glnn_fail(e, GLNN_ERR_MEMORY, "BMP: out of memory for %lld×%lld pixels", (long long)w, (long long)h);
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *src = d + offset + (top_down ? y : h - 1 - y) * stride;
        uint8_t *dst = pixels + y * w * 3;
        for (int64_t x = 0; x < w; x++, src += pixel_bytes, dst += 3) {
            dst[0] = src[2];
            dst[1] = src[1];
            dst[2] = src[0];
        }
    }
    out->pixels = pixels;
    out->h = h;
    out->w = w;
    return GLNN_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* PNG                                                                                                  */

/* Everything the PNG decoder changes lives here, outside the function that calls setjmp. */
typedef struct png_state {
    const uint8_t *data;
    size_t size, pos;
    bool truncated;
    char message[256];
    decoded img;
    png_bytep *rows;
} png_state;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_state *st = png_get_error_ptr(png);
    snprintf(st->message, sizeof st->message, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_on_read(png_structp png, png_bytep buf, size_t n) {
    png_state *st = png_get_io_ptr(png);
    if (st->size - st->pos < n) {
        st->truncated = true;
        png_error(png, "truncated data");
    }
    memcpy(buf, st->data + st->pos, n);
    st->pos += n;
}

static glnn_status decode_png_run(png_structp png, png_infop info, png_state *st, glnn_error *e) {
    if (setjmp(png_jmpbuf(png))) {
        if (st->truncated) return glnn_fail(e, GLNN_ERR_FORMAT, "PNG: truncated data");
        return glnn_fail(e, GLNN_ERR_FORMAT, "PNG: %s", st->message);
    }
    png_set_read_fn(png, st, png_on_read);
    /* Sizes are limited by check_dimensions(), with a clearer message than libpng's. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    int64_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    glnn_status s = check_dimensions("PNG", w, h, e);
    if (s != GLNN_OK) return s;
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png); /* alpha, including a palette's or a tRNS chunk's, is dropped (SPEC §2.3) */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != (size_t)w * 3)
        return glnn_fail(e, GLNN_ERR_FORMAT, "PNG: cannot convert color type %d, bit depth %d to 8-bit RGB", color,
                         depth);

    st->img.pixels = alloc_pixels(w, h);
    st->rows = malloc((size_t)h * sizeof *st->rows);
    if (!st->img.pixels || !st->rows)
        return glnn_fail(e, GLNN_ERR_MEMORY, "PNG: out of memory for %lld×%lld pixels", (long long)w, (long long)h);
    for (int64_t y = 0; y < h; y++)
        st->rows[y] = st->img.pixels + y * w * 3;
    png_read_image(png, st->rows);
    png_read_end(png, NULL);
    st->img.w = w;
    st->img.h = h;
    return GLNN_OK;
}

static glnn_status decode_png(const uint8_t *d, size_t size, decoded *out, glnn_error *e) {
    png_state st;
    memset(&st, 0, sizeof st);
    st.data = d;
    st.size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st, png_on_error, png_on_warning);
    if (!png) return glnn_fail(e, GLNN_ERR_MEMORY, "PNG: cannot create the decoder");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return glnn_fail(e, GLNN_ERR_MEMORY, "PNG: cannot create the decoder");
    }
    glnn_status s = decode_png_run(png, info, &st, e);
    png_destroy_read_struct(&png, &info, NULL);
    free(st.rows);
    return keep_decoded(s, &st.img, out);
}

/* ---------------------------------------------------------------------------------------------------- */
/* JPEG                                                                                                 */

/* Everything the JPEG decoder changes lives here, outside the function that calls setjmp. */
typedef struct jpeg_state {
    struct jpeg_error_mgr mgr; /* first: libjpeg hands back a pointer to it */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    struct jpeg_progress_mgr progress;
    decoded img;
    uint8_t *row; /* one CMYK row */
} jpeg_state;

static void jpeg_on_error(j_common_ptr c) {
    jpeg_state *st = (jpeg_state *)c->err;
    c->err->format_message(c, st->message);
    longjmp(st->jump, 1);
}

/* Warnings that leave the image whole; every other warning means lost data and fails the decode. */
static bool jpeg_benign_warning(int code) {
    return code == JWRN_ADOBE_XFORM || code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR ||
           code == JWRN_BOGUS_ICC;
}

static void jpeg_on_message(j_common_ptr c, int level) {
    if (level >= 0) return; /* trace messages */
    if (jpeg_benign_warning(c->err->msg_code)) {
        c->err->num_warnings++;
        return;
    }
    jpeg_on_error(c);
}

static void jpeg_on_output(j_common_ptr c) {
    (void)c;
}

static void jpeg_on_progress(j_common_ptr c) {
    if (!c->is_decompressor || ((j_decompress_ptr)c)->input_scan_number <= JPEG_MAX_SCANS) return;
    jpeg_state *st = (jpeg_state *)c->err;
    snprintf(st->message, sizeof st->message, "more than %d scans", JPEG_MAX_SCANS);
    longjmp(st->jump, 1);
}

/* x·y/255 rounded, for x, y in 0..255. */
static uint8_t mul255(unsigned x, unsigned y) {
    unsigned t = x * y + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

static glnn_status decode_jpeg_run(j_decompress_ptr cinfo, jpeg_state *st, const uint8_t *d, size_t size,
                                   glnn_error *e) {
    if (setjmp(st->jump)) return glnn_fail(e, GLNN_ERR_FORMAT, "JPEG: %s", st->message);
    jpeg_create_decompress(cinfo);
    cinfo->progress = &st->progress;
    jpeg_mem_src(cinfo, d, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);

    glnn_status s = check_dimensions("JPEG", cinfo->image_width, cinfo->image_height, e);
    if (s != GLNN_OK) return s;
    bool cmyk = false;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        cmyk = true;
        break;
    default:
        return glnn_fail(e, GLNN_ERR_FORMAT, "JPEG: unsupported color space with %d components", cinfo->num_components);
    }
    jpeg_start_decompress(cinfo);
    int64_t w = cinfo->output_width, h = cinfo->output_height;
    if (cinfo->output_components != (cmyk ? 4 : 3) || w != (int64_t)cinfo->image_width ||
        h != (int64_t)cinfo->image_height)
        return glnn_fail(e, GLNN_ERR_FORMAT, "JPEG: unexpected output layout (%d components)",
                         cinfo->output_components);
    st->img.pixels = alloc_pixels(w, h);
    if (cmyk) st->row = malloc((size_t)w * 4);
    if (!st->img.pixels || (cmyk && !st->row))
        return glnn_fail(e, GLNN_ERR_MEMORY, "JPEG: out of memory for %lld×%lld pixels", (long long)w, (long long)h);
    /* Adobe CMYK files store inverted values (Photoshop's convention). */
    bool inverted = cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < cinfo->output_height) {
        int64_t y = cinfo->output_scanline;
        uint8_t *dst = st->img.pixels + y * w * 3;
        JSAMPROW row = cmyk ? st->row : dst;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1)
            return glnn_fail(e, GLNN_ERR_FORMAT, "JPEG: decoding stopped at row %lld of %lld", (long long)y,
                             (long long)h);
        if (cmyk) {
            for (int64_t x = 0; x < w; x++) {
                const uint8_t *p = st->row + x * 4;
                unsigned k = inverted ? p[3] : 255u - p[3];
                for (int i = 0; i < 3; i++)
                    dst[x * 3 + i] = mul255(inverted ? p[i] : 255u - p[i], k);
            }
        }
    }
    jpeg_finish_decompress(cinfo);
    st->img.w = w;
    st->img.h = h;
    return GLNN_OK;
}

static glnn_status decode_jpeg(const uint8_t *d, size_t size, decoded *out, glnn_error *e) {
    jpeg_state st;
    struct jpeg_decompress_struct cinfo;
    memset(&st, 0, sizeof st);
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&st.mgr);
    st.mgr.error_exit = jpeg_on_error;
    st.mgr.emit_message = jpeg_on_message;
    st.mgr.output_message = jpeg_on_output;
    st.progress.progress_monitor = jpeg_on_progress;
    glnn_status s = decode_jpeg_run(&cinfo, &st, d, size, e);
    jpeg_destroy_decompress(&cinfo);
    free(st.row);
    return keep_decoded(s, &st.img, out);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Detection and entry points                                                                           */

static bool has_prefix(const uint8_t *d, size_t size, const char *magic, size_t n) {
    return size >= n && memcmp(d, magic, n) == 0;
}

/* Decodes any supported format; messages name the cause only. */
static glnn_status decode_any(const uint8_t *d, size_t size, decoded *out, glnn_error *e) {
    if (size == 0) return glnn_fail(e, GLNN_ERR_FORMAT, "empty data");
    if (has_prefix(d, size, "\x89PNG\r\n\x1a\n", 8)) return decode_png(d, size, out, e);
    if (has_prefix(d, size, "\xff\xd8\xff", 3)) return decode_jpeg(d, size, out, e);
    if (has_prefix(d, size, "BM", 2)) return decode_bmp(d, size, out, e);
    const char *known = NULL;
    if (has_prefix(d, size, "GIF8", 4))
        known = "GIF";
    else if (has_prefix(d, size, "RIFF", 4) && size >= 12 && memcmp(d + 8, "WEBP", 4) == 0)
        known = "WebP";
    else if (has_prefix(d, size, "II*\0", 4) || has_prefix(d, size, "MM\0*", 4))
        known = "TIFF";
    if (known) return glnn_fail(e, GLNN_ERR_FORMAT, "unsupported format %s (PNG, JPEG and BMP are supported)", known);
    return glnn_fail(e, GLNN_ERR_FORMAT, "unsupported format (not PNG, JPEG or BMP)");
}

glnn_status glnn_image_decode(const void *data, size_t size, uint8_t **pixels, int64_t *h, int64_t *w,
                              glnn_error *err) {
    if (!pixels || !h || !w) return glnn_fail(err, GLNN_ERR_ARGUMENT, "decode image: no output pointer");
    if (!data && size > 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "decode image: no data");
    glnn_error cause;
    decoded img;
    glnn_status s = decode_any(data, size, &img, &cause);
    if (s != GLNN_OK) return glnn_fail(err, s, "decode image: %s", cause.message);
    *pixels = img.pixels;
    *h = img.h;
    *w = img.w;
    glnn_ok(err);
    return GLNN_OK;
}

/* Reads a whole file; messages name the cause only. */
static glnn_status read_file(const char *path, uint8_t **data, size_t *size, glnn_error *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int code = errno;
        return glnn_fail(e, code == ENOENT || code == ENOTDIR ? GLNN_ERR_NOT_FOUND : GLNN_ERR_IO, "cannot open: %s",
                         strerror(code));
    }
    size_t capacity = 0, length = 0;
    uint8_t *buf = NULL;
    glnn_status s = GLNN_OK;
    for (;;) {
        if (length == capacity) {
            if (capacity > SIZE_MAX / 4) {
                s = glnn_fail(e, GLNN_ERR_MEMORY, "the file is too large");
                break;
            }
            size_t next = capacity ? capacity * 2 : (size_t)1 << 16;
            uint8_t *grown = realloc(buf, next);
            if (!grown) {
                s = glnn_fail(e, GLNN_ERR_MEMORY, "out of memory reading %zu bytes", next);
                break;
            }
            buf = grown;
            capacity = next;
        }
        errno = 0;
        length += fread(buf + length, 1, capacity - length, f);
        if (length < capacity) { /* end of file or error */
            int code = errno;
            if (ferror(f)) s = glnn_fail(e, GLNN_ERR_IO, "read failed: %s", code ? strerror(code) : "unknown error");
            break;
        }
    }
    fclose(f);
    if (s != GLNN_OK) {
        free(buf);
        return s;
    }
    *data = buf;
    *size = length;
    return GLNN_OK;
}

glnn_status glnn_image_load(const char *path, uint8_t **pixels, int64_t *h, int64_t *w, glnn_error *err) {
    if (!path) return glnn_fail(err, GLNN_ERR_ARGUMENT, "load image: no path");
    if (!pixels || !h || !w) return glnn_fail(err, GLNN_ERR_ARGUMENT, "load image '%s': no output pointer", path);
    glnn_error cause;
    uint8_t *data = NULL;
    size_t size = 0;
    glnn_status s = read_file(path, &data, &size, &cause);
    if (s != GLNN_OK) return glnn_fail(err, s, "load image '%s': %s", path, cause.message);
    if (size == 0) {
        free(data);
        return glnn_fail(err, GLNN_ERR_FORMAT, "load image '%s': the file is empty", path);
    }
    decoded img;
    s = decode_any(data, size, &img, &cause);
    free(data);
    if (s != GLNN_OK) return glnn_fail(err, s, "load image '%s': %s", path, cause.message);
    *pixels = img.pixels;
    *h = img.h;
    *w = img.w;
    glnn_ok(err);
    return GLNN_OK;
}
