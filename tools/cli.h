/* glnn command-line tool: the options of the commands, and the helpers they share. */
#ifndef GLNN_CLI_H
#define GLNN_CLI_H

#include "glnn.h"
#include "internal.h" /* glnn_fail: the library's error formatting */

#include <stdio.h>

/* Exit statuses (SPEC §1): a usage error (unknown command or option, an option the command does not take, a missing
 * or malformed argument) is 2; a runtime error (a file, the device, a result out of budget) is 1. */
#define CLI_OK 0
#define CLI_RUNTIME_ERROR 1
#define CLI_USAGE_ERROR 2

#define CLI_MAX_ARGS 64

/* Everything the command line gives a command.  Each option is taken by the commands that list it (glnn.c); the
 * others refuse it. */
typedef struct cli_options {
    const char *command;      /* "run", ... */
    const char *device;       /* --device (NULL: $GLNN_DEVICE or auto) */
    const char *path;         /* --path: compute, fragment or auto (NULL: $GLNN_PATH or auto) */
    int max_sampled_channels; /* --max-sampled-channels, -1 = the device's default */
    bool json;                /* --json */
    bool devices;             /* info --devices */
    int runs, warmup;         /* run, bench, conv --runs; run --warmup */
    bool runs_given;          /* --runs on the command line */
    int top;                  /* run --top */
    bool profile;             /* run --profile */
    const char *output;       /* run --output OP */
    const char *output_dir;   /* run --output-dir DIR */
    const char *input_size;   /* model --input HxW */
    int input_h, input_w;
    bool dot;           /* model --dot */
    const char *filter; /* bench --filter */
    bool list;          /* bench --list */
    const char *model;  /* bench --model */
    const char *image;  /* bench --image */
    const char *positional[CLI_MAX_ARGS];
    int n_positional;
} cli_options;

/* Prints "glnn: <message>" on stderr and returns CLI_RUNTIME_ERROR. */
int cli_fail(const glnn_error *err);
/* Prints "glnn <command>: <message>" and where to find the command's usage; returns CLI_USAGE_ERROR. */
int cli_usage_error(const cli_options *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
glnn_status cli_open_context(const cli_options *o, glnn_context **ctx, glnn_error *err);
/* The plain-C reference, whatever the command line says. */
glnn_status cli_open_reference(glnn_context **ctx, glnn_error *err);
double cli_now_ms(void);
void cli_json_string(FILE *f, const char *s);
/* A JSON string of `length` bytes (not NUL-terminated). */
void cli_json_bytes(FILE *f, const char *s, size_t length);
/* [h, w, c], or [n] for a vector. */
void cli_json_shape(FILE *f, glnn_shape s);
/* "HxWxC", or "N" for a vector. */
void cli_shape_text(glnn_shape s, char *buf, size_t size);
double cli_median(double *values, int n); /* sorts values */

/* ---- files (files.c) ---- */
/* An array read from or written to a NumPy .npy file: uint8 or float32, 1 to 3 dimensions, C order. */
typedef struct cli_array {
    bool is_float;
    int ndim;
    int64_t dims[3];
    void *data; /* malloc'ed: uint8_t or float */
} cli_array;
int64_t cli_array_count(const cli_array *a);
/* Reads a .npy file of uint8, float32 or float64 values (float64 converted to float32). */
glnn_status cli_npy_read(const char *path, cli_array *out, glnn_error *err);
glnn_status cli_npy_write(const char *path, const cli_array *a, glnn_error *err);
/* Writes H×W×3 RGB bytes as a PNG file. */
glnn_status cli_png_write(const char *path, const uint8_t *rgb, int64_t h, int64_t w, glnn_error *err);
/* Whether a path names a .npy file (by its extension). */
bool cli_is_npy(const char *path);
/* The file name of a path without its directories and its last extension. */
void cli_stem(const char *path, char *buf, size_t size);
/* Finds a data file shipped with glnn ("models/dog_classifier.chunks"): under the installed data directory, the
 * source tree, then the ../shared folder next to it.  False when none exists. */
bool cli_find_data(const char *relative, char *buf, size_t size);

int cmd_info(const cli_options *o);
int cmd_run(const cli_options *o);
int cmd_model(const cli_options *o);
int cmd_conv(const cli_options *o);
int cmd_bench(const cli_options *o);

#endif
