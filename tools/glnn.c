/* glnn command-line tool: the commands, their options, parsing (--opt value and --opt=value), help and dispatch. */
#include "cli.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- commands and options ---------------------------------------------------------------------------- */

enum { C_INFO = 1, C_RUN = 2, C_MODEL = 4, C_CONV = 8, C_BENCH = 16, C_DEVICE = 31 };

typedef struct command_spec {
    const char *name, *args, *summary, *details;
    unsigned bit;
    int min_args, max_args; /* positional arguments; max -1: any number */
    int (*run)(const cli_options *o);
} command_spec;

static const command_spec commands[] = {
    {"info", "", "the device, driver, GL/GLSL versions and the limits glnn relies on",
     "Opens the device (--device) and reports what glnn uses of it; with --devices, lists the EGL devices instead.",
     C_INFO, 0, 0, cmd_info},
    {"run", "MODEL.chunks INPUT...", "run a model on pictures or .npy tensors: top classes, times, outputs",
     "Runs the model on each INPUT, a picture (PNG, JPEG, BMP) or a NumPy .npy array (uint8, or floats in [0, 1]; "
     "HxWxC), bound to input #0 of its first operation.  Prints the time of a run (median and minimum over "
     "--runs runs after --warmup runs), the multiply-adds per second and, for a classifier (a model with a Softmax), "
     "the top classes with the labels of the model file.  --output writes an operation's output; --profile adds the "
     "time of every operation.",
     C_RUN, 2, -1, cmd_run},
    {"model", "MODEL.chunks", "the operations, connections, shapes, counts, weights and memory of a model",
     "Prepares the model on the reference (or --device) and prints a table of its operations: parameters, the "
     "inputs each reads (shuffle steps shown), output shape, multiply-adds and weights, then the totals.  A model "
     "whose first operation is not an ImageSampler needs --input HxW.  --dot writes a Graphviz graph instead:\n"
     "    glnn model MODEL.chunks --dot | dot -Tsvg > model.svg",
     C_MODEL, 1, 1, cmd_model},
    {"conv", "", "a Conv2D on random data on the device, checked against the reference",
     "Runs a 3x3 Conv2D, 32->32 channels, SAME, on 256x256 random data, times it and compares it with the reference "
     "(1 LSB allowed, SPEC 2.5); exits 1 when the result is outside that budget.",
     C_CONV, 0, 0, cmd_conv},
    {"bench", "", "the benchmark suite: Conv2D layers and a whole model, checked against the reference",
     "Times each case (median and minimum over --runs runs after a 200 ms warm-up) and compares its result with the "
     "reference; a Conv2D layer more than 1 LSB off is refused.  The model case runs --model on --image (default: "
     "the dog classifier, else the project's models/fashion_mnist.chunks, where glnn finds them: installed, in the "
     "source tree or in ../shared; on butterfly.bmp, else on a synthetic picture).",
     C_BENCH, 0, 0, cmd_bench},
};

typedef enum { OPT_FLAG, OPT_TEXT, OPT_POSITIVE, OPT_NONNEG } option_kind;

typedef struct option_spec {
    const char *name, *value; /* "--runs", "N" (NULL for a flag) */
    option_kind kind;
    size_t offset; /* of the field in cli_options: bool (flag), const char * (text) or int */
    unsigned commands;
    const char *help;
} option_spec;

#define OPTION(name, value, kind, field, commands, help)                                                               \
    { name, value, kind, offsetof(cli_options, field), commands, help }

static const option_spec options[] = {
    OPTION("--json", NULL, OPT_FLAG, json, C_DEVICE, "machine-readable output"),
    OPTION("--devices", NULL, OPT_FLAG, devices, C_INFO, "list the EGL devices (index: description)"),
    OPTION("--top", "K", OPT_POSITIVE, top, C_RUN, "number of classes shown for a classifier (default 5)"),
    OPTION("--runs", "N", OPT_POSITIVE, runs, C_RUN | C_CONV | C_BENCH,
           "timed runs (run: 1; conv and bench: 10); run reports the median and the minimum"),
    OPTION("--warmup", "N", OPT_NONNEG, warmup, C_RUN, "untimed runs before the timed ones (default 0)"),
    OPTION("--profile", NULL, OPT_FLAG, profile, C_RUN,
           "time every operation: milliseconds (median over the runs), share, G multiply-adds/s, texel fetches; GPU "
           "timer queries where the driver has them, else the wall clock with the device finished after each op"),
    OPTION("--output", "OP", OPT_TEXT, output, C_RUN,
           "write output #0 of operation OP for each input: INPUT-STEM.OP.npy (uint8 HxWxC, or float32 for a "
           "vector or a Softmax's probabilities), and INPUT-STEM.OP.png for an image"),
    OPTION("--output-dir", "DIR", OPT_TEXT, output_dir, C_RUN, "where --output writes (default: the current folder)"),
    OPTION("--input", "HxW", OPT_TEXT, input_size, C_MODEL,
           "input size for a model that does not start with an ImageSampler (shapes depend on it)"),
    OPTION("--dot", NULL, OPT_FLAG, dot, C_MODEL,
           "write a Graphviz graph of the model (ops, shapes, residual and shuffled connections) instead of the table"),
    OPTION("--filter", "TEXT[,TEXT...]", OPT_TEXT, filter, C_BENCH,
           "only the cases whose name contains one of the TEXTs (an error when none does)"),
    OPTION("--list", NULL, OPT_FLAG, list, C_BENCH, "print the names of the cases and exit"),
    OPTION("--model", "MODEL.chunks", OPT_TEXT, model, C_BENCH, "the model of the model case"),
    OPTION("--image", "PICTURE", OPT_TEXT, image, C_BENCH, "the picture the model case runs on"),
    OPTION("--device", "D", OPT_TEXT, device, C_DEVICE,
           "auto (the first hardware GPU, else cpu; else the software renderer with --path compute or fragment), cpu "
           "(the fast CPU back end: SIMD kernels and threads), "
           "reference (the plain-C reference that defines every result), gpu (the first hardware GPU, else Mesa's "
           "software renderer), software, or an EGL device index (glnn info --devices); default $GLNN_DEVICE, else "
           "auto (model: reference)"),
    OPTION("--path", "P", OPT_TEXT, path, C_DEVICE,
           "GPU path: compute (OpenGL ES 3.1 compute shaders), fragment (OpenGL ES 2.0 fragment shaders) or auto "
           "(compute where the device has it); default $GLNN_PATH, else auto"),
    OPTION("--max-sampled-channels", "N", OPT_NONNEG, max_sampled_channels, C_DEVICE,
           "input channels one output value may read on the GPU (SPEC 4.10); 0: no limit; default: the device's "
           "(256 on VideoCore IV, else none)"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char global_usage[] =
    "usage: glnn COMMAND [OPTIONS] [ARGS]\n"
    "       glnn help COMMAND, glnn COMMAND --help   the arguments and options of a command\n"
    "       glnn --version\n";

static const char global_notes[] =
    "Options are written --opt VALUE or --opt=VALUE; each command takes its own (glnn help COMMAND).\n"
    "Exit status: 0 on success, 1 on a runtime error (a file, the device, a result outside its budget), 2 on a "
    "usage error (an unknown command or option, an option the command does not take, a missing or malformed "
    "argument).\n"
    "Environment: GLNN_DEVICE and GLNN_PATH (defaults of --device and --path), GLNN_CACHE_DIR (compiled GPU "
    "programs).  On Mesa's software renderer (llvmpipe) set MESA_GLES_VERSION_OVERRIDE=3.1 for the compute path "
    "(2.0 to try the fragment path).\n";

/* Prints text wrapped at 110 columns, continuation lines indented by `indent`. */
static void print_wrapped(FILE *f, const char *text, int indent, int column) {
    const int width = 110;
    while (*text) {
        size_t n = strcspn(text, " \n");
        if (column > indent && column + 1 + (int)n > width) {
            fprintf(f, "\n%*s", indent, "");
            column = indent;
        } else if (column > indent) {
            fputc(' ', f);
            column++;
        }
        fwrite(text, 1, n, f);
        column += (int)n;
        text += n;
        if (*text == '\n') {
            fprintf(f, "\n%*s", indent, "");
            column = indent;
        }
        while (*text == ' ' || *text == '\n')
            text++;
    }
    fputc('\n', f);
}

static void print_global_help(FILE *f) {
    fputs(global_usage, f);
    fputs("\ncommands:\n", f);
    for (size_t i = 0; i < COUNT(commands); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputc('\n', f);
    for (const char *p = global_notes; *p;) {
        const char *nl = strchr(p, '\n');
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        print_wrapped(f, line, 2, 0);
        p = nl + 1;
    }
}

static void print_command_help(FILE *f, const command_spec *c) {
    fprintf(f, "usage: glnn %s [OPTIONS]%s%s\n\n", c->name, *c->args ? " " : "", c->args);
    print_wrapped(f, c->details, 0, 0);
    fputs("\noptions:\n", f);
    for (size_t i = 0; i < COUNT(options); i++) {
        const option_spec *s = &options[i];
        if (!(s->commands & c->bit)) continue;
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", s->name, s->value ? " " : "", s->value ? s->value : "");
        fprintf(f, "  %-26s", head);
        print_wrapped(f, s->help, 28, 28);
    }
    fprintf(f, "  %-26s", "-h, --help");
    print_wrapped(f, "this help", 28, 28);
    fputs("\nExit status: 0 on success, 1 on a runtime error, 2 on a usage error.\n", f);
}

/* ---- helpers shared by the commands --------------------------------------------------------------------- */

int cli_fail(const glnn_error *err) {
    fprintf(stderr, "glnn: %s\n", err->message);
    return CLI_RUNTIME_ERROR;
}

int cli_usage_error(const cli_options *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "glnn%s%s: ", o && o->command ? " " : "", o && o->command ? o->command : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (o && o->command)
        fprintf(stderr, "\n(see 'glnn %s --help')\n", o->command);
    else
        fputs("\n(see 'glnn --help')\n", stderr);
    return CLI_USAGE_ERROR;
}

glnn_status cli_open_context(const cli_options *o, glnn_context **ctx, glnn_error *err) {
    glnn_context_options co;
    glnn_context_options_init(&co);
    co.device = o->device;
    co.path = o->path;
    co.max_sampled_channels = o->max_sampled_channels;
    return glnn_context_create(&co, ctx, err);
}

glnn_status cli_open_reference(glnn_context **ctx, glnn_error *err) {
    glnn_context_options co;
    glnn_context_options_init(&co);
    co.device = "reference";
    return glnn_context_create(&co, ctx, err);
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void cli_json_bytes(FILE *f, const char *s, size_t length) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s, *end = p + length; p < end; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void cli_json_string(FILE *f, const char *s) {
    cli_json_bytes(f, s, strlen(s));
}

void cli_json_shape(FILE *f, glnn_shape s) {
    if (s.kind == GLNN_KIND_VECTOR)
        fprintf(f, "[%lld]", (long long)s.c);
    else
        fprintf(f, "[%lld, %lld, %lld]", (long long)s.h, (long long)s.w, (long long)s.c);
}

void cli_shape_text(glnn_shape s, char *buf, size_t size) {
    if (s.kind == GLNN_KIND_VECTOR)
        snprintf(buf, size, "%lld", (long long)s.c);
    else
        snprintf(buf, size, "%lldx%lldx%lld", (long long)s.h, (long long)s.w, (long long)s.c);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_median(double *v, int n) {
    if (n < 1) return 0;
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- parsing ------------------------------------------------------------------------------------------ */

static const command_spec *find_command(const char *name) {
    for (size_t i = 0; i < COUNT(commands); i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static const option_spec *find_option(const char *name, size_t length) {
    for (size_t i = 0; i < COUNT(options); i++)
        if (strlen(options[i].name) == length && strncmp(options[i].name, name, length) == 0) return &options[i];
    return NULL;
}

/* Stores an option's value in o; a usage error for a malformed one. */
static int set_option(cli_options *o, const option_spec *s, const char *value) {
    char *field = (char *)o + s->offset;
    if (s->kind == OPT_FLAG) {
        *(bool *)field = true;
        return CLI_OK;
    }
    if (s->kind == OPT_TEXT) {
        if (!*value) return cli_usage_error(o, "%s needs a non-empty %s", s->name, s->value);
        *(const char **)field = value;
        return CLI_OK;
    }
    char *end;
    long v = strtol(value, &end, 10);
    int least = s->kind == OPT_POSITIVE ? 1 : 0;
    if (!*value || *end || v < least || v > 1000000000)
        return cli_usage_error(o, "%s needs a %s integer, got '%s'", s->name, least ? "positive" : "non-negative",
                               value);
    *(int *)field = (int)v;
    return CLI_OK;
}

/* Parses the arguments after the command name.  Returns CLI_OK, CLI_USAGE_ERROR, or -1 when help was asked for. */
static int parse_arguments(int argc, char **argv, const command_spec *c, cli_options *o) {
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            return -1;
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            const option_spec *s = find_option(a, n);
            if (!s) return cli_usage_error(o, "unknown option '%.*s'", (int)n, a);
            if (!(s->commands & c->bit))
                return cli_usage_error(o, "option '%s' does not apply to '%s'", s->name, c->name);
            if (s->kind == OPT_FLAG && eq) return cli_usage_error(o, "option '%s' takes no value", s->name);
            const char *value = eq ? eq + 1 : NULL;
            if (s->kind != OPT_FLAG && !value) {
                if (i + 1 >= argc) return cli_usage_error(o, "option '%s' needs a value (%s)", s->name, s->value);
                value = argv[++i];
            }
            if (s->offset == offsetof(cli_options, runs)) o->runs_given = true;
            int rc = set_option(o, s, value);
            if (rc != CLI_OK) return rc;
        } else {
            if (o->n_positional == CLI_MAX_ARGS) return cli_usage_error(o, "more than %d arguments", CLI_MAX_ARGS);
            o->positional[o->n_positional++] = a;
        }
    }
    if (o->n_positional < c->min_args || (c->max_args >= 0 && o->n_positional > c->max_args)) {
        if (c->max_args == 0) return cli_usage_error(o, "unexpected argument '%s'", o->positional[0]);
        if (c->max_args >= 0 && o->n_positional > c->max_args)
            return cli_usage_error(o, "unexpected argument '%s' (usage: glnn %s %s)", o->positional[c->max_args],
                                   c->name, c->args);
        return cli_usage_error(o, "missing arguments (usage: glnn %s %s)", c->name, c->args);
    }
    if (o->input_size && (sscanf(o->input_size, "%dx%d", &o->input_h, &o->input_w) != 2 || o->input_h < 1 ||
                          o->input_w < 1 || strspn(o->input_size, "0123456789x") != strlen(o->input_size)))
        return cli_usage_error(o, "--input needs HxW, e.g. 224x224, got '%s'", o->input_size);
    return CLI_OK;
}

int main(int argc, char **argv) {
    cli_options o = {.max_sampled_channels = -1, .runs = 1, .top = 5};
    if (argc < 2) {
        print_global_help(stderr);
        return CLI_USAGE_ERROR;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_global_help(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        if (argc > 2) return cli_usage_error(NULL, "--version takes no arguments");
        printf("glnn %s\n", GLNN_VERSION);
        return CLI_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            print_global_help(stdout);
            return CLI_OK;
        }
        if (argc > 3) return cli_usage_error(NULL, "help takes one COMMAND");
        const command_spec *c = find_command(argv[2]);
        if (!c) return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        print_command_help(stdout, c);
        return CLI_OK;
    }
    const command_spec *c = find_command(name);
    if (!c) return cli_usage_error(NULL, "unknown command '%s'", name);
    o.command = c->name;
    if (c->bit != C_RUN) o.runs = 10;
    int rc = parse_arguments(argc - 2, argv + 2, c, &o);
    if (rc < 0) {
        print_command_help(stdout, c);
        return CLI_OK;
    }
    return rc == CLI_OK ? c->run(&o) : rc;
}
