/* glnn model: a model's operations, connections, shapes, counts, weights and memory, as a table, JSON or a Graphviz
 * graph. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Binds a zero input of the right kind to input 0 of the first op so that shapes can be computed. */
static glnn_status bind_probe_input(glnn_model *m, const cli_options *o, glnn_error *err) {
    glnn_op *first = glnn_model_op_at(m, 0);
    if (!first) return glnn_fail(err, GLNN_ERR_FORMAT, "model: the model has no operations");
    glnn_op_kind kind = glnn_op_get_kind(first);
    int64_t channels = 3;
    if (kind == GLNN_OP_CONV2D) {
        glnn_conv2d_params p;
        glnn_conv2d_get_params(first, &p, NULL);
        channels = p.num_input_channels;
    }
    bool sampler = kind == GLNN_OP_IMAGE_SAMPLER;
    int64_t h = o->input_h ? o->input_h : sampler ? 1 : 0, w = o->input_w ? o->input_w : sampler ? 1 : 0;
    if (!h || (kind != GLNN_OP_CONV2D && !sampler))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "model: '%s' does not start with an ImageSampler; give the input size with --input HxW",
                         glnn_op_name(first));
    uint8_t *zeros = calloc((size_t)(h * w * channels), 1);
    if (!zeros) return glnn_fail(err, GLNN_ERR_MEMORY, "model: out of memory");
    glnn_status s = channels == 3 ? glnn_model_bind_image(m, glnn_op_name(first), 0, zeros, h, w, 3, err)
                                  : glnn_model_bind_tensor_u8(m, glnn_op_name(first), 0, zeros, h, w, channels, err);
    free(zeros);
    return s;
}

static int print_summary(const glnn_model *m) {
    size_t n = glnn_model_summary(m, NULL, 0);
    char *text = malloc(n + 1);
    if (!text) {
        fputs("glnn: model: out of memory\n", stderr);
        return CLI_RUNTIME_ERROR;
    }
    glnn_model_summary(m, text, n + 1);
    fputs(text, stdout);
    free(text);
    return CLI_OK;
}

/* ---- JSON ---------------------------------------------------------------------------------------------- */

/* {"param": value, ...} from the op's description: enumerations as their words, booleans as true / false. */
static void json_params(const glnn_op *op) {
    const glnn_op_info *info = glnn_op_get_info(op);
    printf("{");
    for (int i = 0; i < info->n_params; i++) {
        const glnn_param_info *p = &info->params[i];
        int v = 0;
        glnn_op_get_param(op, i, &v, NULL);
        printf("%s\"%s\": ", i ? ", " : "", p->name);
        if (p->type == GLNN_PARAM_BOOL)
            printf("%s", v ? "true" : "false");
        else if (p->type == GLNN_PARAM_ENUM)
            cli_json_string(stdout, p->enumeration->words[v]);
        else
            printf("%d", v);
    }
    printf("}");
}

/* Where each input of op comes from: a connection, or the data the command bound to the first op. */
static void json_inputs(const glnn_model *m, int index) {
    const glnn_op *op = glnn_model_op_at(m, index);
    printf("[");
    bool any = false;
    for (int j = 0; j < glnn_model_connection_count(m); j++) {
        glnn_connection_info c;
        glnn_model_connection_at(m, j, &c, NULL);
        if (strcmp(c.dest, glnn_op_name(op)) != 0) continue;
        printf("%s{\"input\": %d, \"source\": ", any ? ", " : "", c.input);
        cli_json_string(stdout, c.source);
        printf(", \"output\": %d, \"shuffle\": %d}", c.output, c.shuffle);
        any = true;
    }
    if (index == 0) printf("%s{\"input\": 0, \"data\": true}", any ? ", " : "");
    printf("]");
}

static void print_json(const glnn_model *m, const char *path) {
    printf("{\"model\": ");
    cli_json_string(stdout, path);
    printf(", \"operations\": [");
    int64_t macs = 0, fetches = 0, weights = 0, memory = 0;
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        const glnn_op *op = glnn_model_op_at(m, i);
        glnn_op_stats st;
        char summary[256];
        glnn_model_op_stats(m, i, &st, NULL);
        glnn_op_describe(op, summary, sizeof summary);
        printf("%s\n  {\"index\": %d, \"name\": ", i ? "," : "", i);
        cli_json_string(stdout, glnn_op_name(op));
        printf(", \"type\": \"%s\", \"summary\": ", glnn_op_type_name(op));
        cli_json_string(stdout, summary);
        printf(", \"parameters\": ");
        json_params(op);
        printf(", \"inputs\": ");
        json_inputs(m, i);
        printf(", \"output\": ");
        if (st.output.kind)
            cli_json_shape(stdout, st.output);
        else
            printf("null");
        printf(", \"multiply_adds\": %lld, \"texel_fetches\": %lld, \"weights\": %lld}", (long long)st.multiply_adds,
               (long long)st.texel_fetches, (long long)st.weights);
        macs += st.multiply_adds;
        fetches += st.texel_fetches;
        weights += st.weights;
    }
    glnn_model_memory_size(m, &memory, NULL);
    printf("\n], \"connections\": %d, \"multiply_adds\": %lld, \"texel_fetches\": %lld, \"weights\": %lld, "
           "\"memory_bytes\": %lld}\n",
           glnn_model_connection_count(m), (long long)macs, (long long)fetches, (long long)weights, (long long)memory);
}

/* ---- Graphviz ------------------------------------------------------------------------------------------ */

/* A double-quoted DOT string. */
static void dot_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '\n') {
            fputs("\\n", stdout);
            continue;
        }
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

/* A node per op: its name, class and summary, and its output shape. */
static void print_dot_nodes(const glnn_model *m) {
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        const glnn_op *op = glnn_model_op_at(m, i);
        glnn_op_stats st;
        char summary[256], shape[64] = "", text[512];
        glnn_model_op_stats(m, i, &st, NULL);
        glnn_op_describe(op, summary, sizeof summary);
        if (st.output.kind)
            cli_shape_text(st.output, shape, sizeof shape);
        else if (glnn_op_get_kind(op) == GLNN_OP_SOFTMAX)
            snprintf(shape, sizeof shape, "probabilities");
        snprintf(text, sizeof text, "%s\n%s %s\n%s", glnn_op_name(op), glnn_op_get_info(op)->class_name, summary,
                 shape);
        printf("  ");
        dot_string(glnn_op_name(op));
        printf(" [label=");
        dot_string(text);
        printf("];\n");
    }
}

/* An edge per connection, labelled with the source's shape; a second input (a residual) dashed, a shuffled
 * connection coloured and labelled with its step. */
static void print_dot_edges(const glnn_model *m) {
    for (int j = 0; j < glnn_model_connection_count(m); j++) {
        glnn_connection_info c;
        glnn_op_stats st;
        char shape[64] = "", text[128];
        glnn_model_connection_at(m, j, &c, NULL);
        glnn_op *source = glnn_model_find(m, c.source);
        for (int i = 0; i < glnn_model_op_count(m); i++)
            if (glnn_model_op_at(m, i) == source && glnn_model_op_stats(m, i, &st, NULL) == GLNN_OK && st.output.kind)
                cli_shape_text(st.output, shape, sizeof shape);
        int n = snprintf(text, sizeof text, "%s%s", shape, c.input > 0 ? " (residual)" : "");
        if (c.shuffle > 1) snprintf(text + n, sizeof text - (size_t)n, "\nshuffle %d", c.shuffle);
        printf("  ");
        dot_string(c.source);
        printf(" -> ");
        dot_string(c.dest);
        printf(" [label=");
        dot_string(text);
        printf("%s%s];\n", c.input > 0 ? ", style=dashed" : "",
               c.shuffle > 1 ? ", color=\"#1f6fb4\", penwidth=1.6" : "");
    }
}

static void print_dot(const glnn_model *m, const char *path, const cli_options *o) {
    char stem[256], text[64] = "input picture";
    cli_stem(path, stem, sizeof stem);
    printf("digraph ");
    dot_string(stem);
    printf(" {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", "
           "fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    if (o->input_h) snprintf(text, sizeof text, "input data\n%dx%d", o->input_h, o->input_w);
    printf("  \"(input)\" [shape=ellipse, fillcolor=\"#dde8f4\", label=");
    dot_string(text);
    printf("];\n  \"(input)\" -> ");
    dot_string(glnn_op_name(glnn_model_op_at(m, 0)));
    printf(";\n");
    print_dot_nodes(m);
    print_dot_edges(m);
    printf("}\n");
}

int cmd_model(const cli_options *o) {
    const char *path = o->positional[0];
    if (o->dot && o->json) return cli_usage_error(o, "--dot and --json exclude each other");
    glnn_error err;
    glnn_chunks *chunks = NULL;
    glnn_model *m = NULL;
    glnn_context *ctx = NULL;
    cli_options co = *o;
    if (!co.device) co.device = "reference"; /* shapes and counts need no GPU */
    int rc = CLI_RUNTIME_ERROR;
    if (glnn_chunks_read_file(path, &chunks, &err) != GLNN_OK || glnn_model_from_chunks(chunks, &m, &err) != GLNN_OK ||
        bind_probe_input(m, o, &err) != GLNN_OK || cli_open_context(&co, &ctx, &err) != GLNN_OK ||
        glnn_model_prepare(m, ctx, chunks, &err) != GLNN_OK) {
        rc = cli_fail(&err);
    } else if (o->dot) {
        print_dot(m, path, o);
        rc = CLI_OK;
    } else if (o->json) {
        print_json(m, path);
        rc = CLI_OK;
    } else {
        rc = print_summary(m);
    }
    glnn_model_free(m);
    glnn_chunks_free(chunks);
    glnn_context_free(ctx);
    return rc;
}
