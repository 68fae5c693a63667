/* glnn command-line tool: shared helpers. */
#ifndef GLNN_CLI_H
#define GLNN_CLI_H

#include "glnn.h"
#include "internal.h" /* glnn_fail: the library's error formatting */

#include <stdio.h>

/* Options common to the commands. */
typedef struct cli_options {
    const char *device;       /* --device */
    const char *path;         /* --path: compute, fragment or auto (NULL: $GLNN_PATH or auto) */
    int max_sampled_channels; /* --max-sampled-channels, -1 = device default */
    bool json;                /* --json */
    int runs;                 /* --runs */
    const char *filter;       /* --filter */
    int top;                  /* --top */
    int input_h, input_w;     /* --input HxW */
    const char *positional[64];
    int n_positional;
} cli_options;

/* Prints "glnn: <message>" on stderr and returns 1. */
int cli_fail(const glnn_error *err);
int cli_usage_error(const char *fmt, ...);
glnn_status cli_open_context(const cli_options *o, glnn_context **ctx, glnn_error *err);
double cli_now_ms(void);
void cli_json_string(FILE *f, const char *s);

int cmd_info(const cli_options *o);
int cmd_run(const cli_options *o);
int cmd_model(const cli_options *o);
int cmd_conv(const cli_options *o);
int cmd_bench(const cli_options *o);

#endif
