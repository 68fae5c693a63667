/* glnn command-line tool: argument parsing and command dispatch. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: glnn COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "commands:\n"
    "  info                      the device, driver, GL/GLSL versions and the limits glnn relies on\n"
    "  run MODEL.chunks IMAGE... classify images: top-5 classes, time per image, multiply-adds per second\n"
    "  model MODEL.chunks        every operation with its kind, parameters, output shape, multiply-adds\n"
    "  conv                      a Conv2D on random data on the device, checked against the CPU reference\n"
    "  bench                     benchmark suite of Conv2D layers and whole models\n"
    "\n"
    "options:\n"
    "  --device D                device: auto, software, cpu or an EGL device index (default: $GLNN_DEVICE or auto)\n"
    "  --path P                  GPU path: compute (GLES 3.1), fragment (GLES 2.0) or auto (default: $GLNN_PATH\n"
    "                            or auto: compute when the device offers it)\n"
    "  --devices                 (info) list the EGL devices\n"
    "  --max-sampled-channels N  sampling limit per output value (SPEC §4.10); 0 disables\n"
    "  --json                    machine-readable output (run, bench)\n"
    "  --top K                   (run) number of classes shown (default 5)\n"
    "  --input HxW               (model) input size for a model without an ImageSampler\n"
    "  --runs N                  (bench) timed runs per case (default 10)\n"
    "  --filter TEXT[,TEXT...]   (bench) only cases whose name contains one of the TEXTs\n"
    "  -h, --help                this help\n";

int cli_fail(const glnn_error *err) {
    fprintf(stderr, "glnn: %s\n", err->message);
    return 1;
}

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("glnn: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(see 'glnn --help')\n", stderr);
    va_end(ap);
    return 2;
}

glnn_status cli_open_context(const cli_options *o, glnn_context **ctx, glnn_error *err) {
    glnn_context_options co;
    glnn_context_options_init(&co);
    co.device = o->device;
    co.path = o->path;
    co.max_sampled_channels = o->max_sampled_channels;
    return glnn_context_create(&co, ctx, err);
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static bool parse_int_arg(const char *text, int *out) {
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < -1 || v > 1000000000) return false;
    *out = (int)v;
    return true;
}

int main(int argc, char **argv) {
    cli_options o = {.max_sampled_channels = -1, .runs = 10, .top = 5};
    bool devices = false;
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (strcmp(a, "--devices") == 0) {
            devices = true;
        } else if (strcmp(a, "--device") == 0 || strcmp(a, "--filter") == 0 || strcmp(a, "--path") == 0) {
            if (!next) return cli_usage_error("%s needs a value", a);
            *(a[2] == 'd' ? &o.device : a[2] == 'p' ? &o.path : &o.filter) = next;
            i++;
        } else if (strcmp(a, "--runs") == 0 || strcmp(a, "--top") == 0 || strcmp(a, "--max-sampled-channels") == 0) {
            int *dst = a[2] == 'r' ? &o.runs : a[2] == 't' ? &o.top : &o.max_sampled_channels;
            if (!next || !parse_int_arg(next, dst) || *dst < (dst == &o.max_sampled_channels ? 0 : 1))
                return cli_usage_error("%s needs a %s integer", a,
                                       dst == &o.max_sampled_channels ? "non-negative" : "positive");
            i++;
        } else if (strcmp(a, "--input") == 0) {
            if (!next || sscanf(next, "%dx%d", &o.input_h, &o.input_w) != 2 || o.input_h < 1 || o.input_w < 1)
                return cli_usage_error("--input needs HxW, e.g. 224x224");
            i++;
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error("unknown option '%s'", a);
        } else {
            if (o.n_positional == (int)(sizeof o.positional / sizeof o.positional[0]))
                return cli_usage_error("too many arguments");
            o.positional[o.n_positional++] = a;
        }
    }
    if (strcmp(cmd, "info") == 0) {
        if (devices) {
            char buf[4096];
            glnn_error err;
            if (glnn_list_devices(buf, sizeof buf, NULL, &err) != GLNN_OK) return cli_fail(&err);
            fputs(buf, stdout);
            return 0;
        }
        return cmd_info(&o);
    }
    if (strcmp(cmd, "run") == 0) return cmd_run(&o);
    if (strcmp(cmd, "model") == 0) return cmd_model(&o);
    if (strcmp(cmd, "conv") == 0) return cmd_conv(&o);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(&o);
    return cli_usage_error("unknown command '%s'", cmd);
}
