/* glnn command-line tool: files other than models and pictures: NumPy .npy arrays in and out, PNG out, and where the
 * data shipped with glnn are. */
#include "cli.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef GLNN_DATA_DIR
#define GLNN_DATA_DIR "/usr/local/share/glnn"
#endif
#ifndef GLNN_SOURCE_DIR
#define GLNN_SOURCE_DIR "."
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER 65535

int64_t cli_array_count(const cli_array *a) {
    int64_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        n *= a->dims[i];
    return n;
}

bool cli_is_npy(const char *path) {
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".npy") == 0;
}

void cli_stem(const char *path, char *buf, size_t size) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(buf, size, "%.*s", (int)n, base);
}

bool cli_find_data(const char *relative, char *buf, size_t size) {
    const char *const roots[] = {GLNN_DATA_DIR, GLNN_SOURCE_DIR, GLNN_SOURCE_DIR "/../shared"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        struct stat st;
        int n = snprintf(buf, size, "%s/%s", roots[i], relative);
        if (n > 0 && (size_t)n < size && stat(buf, &st) == 0 && S_ISREG(st.st_mode)) return true;
    }
    return false;
}

/* ---- .npy ---------------------------------------------------------------------------------------------- */

/* The text after `'key':` in a .npy header, spaces skipped; NULL when absent. */
static const char *header_value(const char *header, const char *key) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(header, quoted);
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ' || *p == ':')
        p++;
    return p;
}

/* The dtype, order and shape of a version 1–3 .npy header. */
static glnn_status parse_header(const char *what, const char *header, cli_array *a, int *item_size, glnn_error *err) {
    const char *descr = header_value(header, "descr"), *order = header_value(header, "fortran_order"),
               *shape = header_value(header, "shape");
    if (!descr || !order || !shape || *shape != '(')
        return glnn_fail(err, GLNN_ERR_FORMAT, "%s: not a NumPy .npy header: %.80s", what, header);
    if (strncmp(order, "False", 5) != 0)
        return glnn_fail(err, GLNN_ERR_FORMAT, "%s: Fortran-ordered arrays are not read; save a C-ordered copy", what);
    static const struct {
        const char *descr;
        bool is_float;
        int size;
    } types[] = {{"'|u1'", false, 1}, {"'<u1'", false, 1}, {"'u1'", false, 1}, {"'<f4'", true, 4}, {"'<f8'", true, 8}};
    *item_size = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strncmp(descr, types[i].descr, strlen(types[i].descr)) == 0) {
            a->is_float = types[i].is_float;
            *item_size = types[i].size;
        }
    if (!*item_size) {
        const char *end = strchr(descr + 1, '\'');
        return glnn_fail(err, GLNN_ERR_FORMAT,
                         "%s: dtype %.*s is not read; save uint8 bytes or float32 values in [0, 1] "
                         "(array.astype(numpy.uint8) or array.astype(numpy.float32) / 255)",
                         what, end ? (int)(end - descr + 1) : 8, descr);
    }
    a->ndim = 0;
    for (const char *p = shape + 1; *p != ')';) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 1 || d > INT32_MAX || a->ndim == 3)
            return glnn_fail(err, GLNN_ERR_FORMAT, "%s: shape %.40s is not 1 to 3 positive dimensions", what, shape);
        a->dims[a->ndim++] = d;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (a->ndim == 0) return glnn_fail(err, GLNN_ERR_FORMAT, "%s: a scalar, not an array", what);
    return GLNN_OK;
}

/* Reads the whole file at f's position into data: exactly `size` bytes, or an error. */
static glnn_status read_exactly(FILE *f, const char *what, void *data, size_t size, glnn_error *err) {
    if (fread(data, 1, size, f) != size)
        return glnn_fail(err, GLNN_ERR_FORMAT, "%s: the file ends before its %zu bytes of data", what, size);
    if (fgetc(f) != EOF) return glnn_fail(err, GLNN_ERR_FORMAT, "%s: bytes after the data of the array", what);
    return GLNN_OK;
}

glnn_status cli_npy_read(const char *path, cli_array *out, glnn_error *err) {
    char what[300];
    snprintf(what, sizeof what, "read .npy file '%s'", path);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: %s", what, strerror(errno));
    unsigned char pre[12];
    char *header = NULL;
    void *raw = NULL;
    int item_size = 0;
    glnn_status s = GLNN_OK;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, 6) != 0 || pre[6] < 1 || pre[6] > 3)
        s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: not a NumPy .npy file (no \\x93NUMPY version 1-3 magic)", what);
    size_t header_len = 0;
    if (s == GLNN_OK && pre[6] == 1) {
        header_len = pre[8] | (size_t)pre[9] << 8;
    } else if (s == GLNN_OK) {
        if (fread(pre + 10, 1, 2, f) != 2) s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: truncated header", what);
        header_len = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (s == GLNN_OK && header_len > NPY_MAX_HEADER)
        s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: header of %zu bytes", what, header_len);
    if (s == GLNN_OK && !(header = calloc(header_len + 1, 1)))
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (s == GLNN_OK && fread(header, 1, header_len, f) != header_len)
        s = glnn_fail(err, GLNN_ERR_FORMAT, "%s: truncated header", what);
    if (s == GLNN_OK) s = parse_header(what, header, out, &item_size, err);
    int64_t n = s == GLNN_OK ? cli_array_count(out) : 0;
    if (s == GLNN_OK && n > (int64_t)1 << 31)
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: %lld values", what, (long long)n);
    if (s == GLNN_OK && !(raw = malloc((size_t)n * (size_t)item_size)))
        s = glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (s == GLNN_OK) s = read_exactly(f, what, raw, (size_t)n * (size_t)item_size, err);
    fclose(f);
    free(header);
    if (s == GLNN_OK && item_size == 8) { /* float64 to float32, in place */
        float *dst = raw;
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, (const char *)raw + i * 8, 8);
            dst[i] = (float)v;
        }
    }
    if (s != GLNN_OK) {
        free(raw);
        memset(out, 0, sizeof *out);
        return s;
    }
    out->data = raw;
    return GLNN_OK;
}

glnn_status cli_npy_write(const char *path, const cli_array *a, glnn_error *err) {
    char header[256];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     a->is_float ? "<f4" : "|u1");
    for (int i = 0; i < a->ndim; i++)
        n += snprintf(header + n, sizeof header - (size_t)n, "%lld%s", (long long)a->dims[i],
                      a->ndim == 1      ? ","
                      : i + 1 < a->ndim ? ", "
                                        : "");
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    /* Spaces and a newline bring magic, version, length and header to a multiple of 64 bytes. */
    int total = (10 + n + 1 + 63) / 64 * 64;
    memset(header + n, ' ', (size_t)(total - 10 - n - 1));
    header[total - 10 - 1] = '\n';
    int header_len = total - 10;
    unsigned char pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(header_len & 0xff), (unsigned char)(header_len >> 8)};
    size_t bytes = (size_t)cli_array_count(a) * (a->is_float ? 4 : 1);
    FILE *f = fopen(path, "wb");
    if (!f) return glnn_fail(err, GLNN_ERR_IO, "write '%s': %s", path, strerror(errno));
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)header_len, f) == (size_t)header_len &&
              fwrite(a->data, 1, bytes, f) == bytes;
    if (fclose(f) != 0) ok = false;
    return ok ? GLNN_OK : glnn_fail(err, GLNN_ERR_IO, "write '%s': %s", path, strerror(errno));
}

/* ---- PNG ----------------------------------------------------------------------------------------------- */

glnn_status cli_png_write(const char *path, const uint8_t *rgb, int64_t h, int64_t w, glnn_error *err) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)w;
    image.height = (png_uint_32)h;
    image.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&image, path, 0, rgb, 0, NULL))
        return glnn_fail(err, GLNN_ERR_IO, "write PNG '%s': %s", path, image.message);
    return GLNN_OK;
}
