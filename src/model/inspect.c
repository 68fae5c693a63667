/* What a model tells about itself: its connections, per-op figures of the last preparation and run, and the op
 * table of `glnn model` and Python's Model.summary(). */
#include "model/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int glnn_model_connection_count(const glnn_model *m) {
    return m ? m->n_conns : 0;
}

glnn_status glnn_model_connection_at(const glnn_model *m, int index, glnn_connection_info *out, glnn_error *err) {
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "connection: no model or result");
    if (index < 0 || index >= m->n_conns)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "connection: no connection at position %d (the model has %d)", index,
                         m->n_conns);
    const glnn_connection *c = &m->conns[index];
    *out = (glnn_connection_info){c->source->name, c->dest->name, c->output, c->input, c->shuffle};
    return GLNN_OK;
}

/* Float32 values the op read from the model data: Conv2D's filters and Dense's matrix, and their bias when used.
 * Preparation checked that the chunks hold exactly what the op needs. */
static int64_t weight_count(const glnn_op *op, const glnn_chunks *data) {
    bool bias;
    glnn_conv2d_params cp;
    glnn_dense_params dp;
    if (glnn_conv2d_get_params(op, &cp, NULL) == GLNN_OK)
        bias = cp.use_bias;
    else if (glnn_dense_get_params(op, &dp, NULL) == GLNN_OK)
        bias = dp.use_bias;
    else
        return 0;
    static const char *const suffixes[2] = {GLNN_FILTERS_CHUNK_SUFFIX, GLNN_BIAS_CHUNK_SUFFIX};
    int64_t total = 0;
    for (int i = 0; i < (bias ? 2 : 1); i++) {
        char id[300];
        const void *payload;
        size_t size = 0;
        int n = snprintf(id, sizeof id, "%s%s", op->name, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof id && glnn_chunks_get(data, id, (size_t)n, &payload, &size))
            total += (int64_t)(size / 4);
    }
    return total;
}

glnn_status glnn_model_op_stats(const glnn_model *m, int index, glnn_op_stats *out, glnn_error *err) {
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "op stats: no model or result");
    if (index < 0 || index >= m->n_ops)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "op stats: no operation at position %d (the model has %d)", index,
                         m->n_ops);
    if (!m->prepared) return glnn_fail(err, GLNN_ERR_STATE, "op stats: the model is not prepared");
    const glnn_op *op = m->ops[index];
    glnn_op_stats s = {{0, 0, 0, 0}, op->multiply_adds, op->texel_fetches, weight_count(op, m->data), -1, -1};
    if (op->cls->info.output_count > 0) s.output = op->out_shape;
    if (m->ran) {
        s.ms = m->op_ms[index];
        s.gpu_ms = m->op_gpu_ms[index];
    }
    *out = s;
    return GLNN_OK;
}

/* ---- the op table ---- */

/* Text written snprintf-style: as much as fits in buf, the full length counted. */
typedef struct {
    char *buf;
    size_t size, len;
} text_out;

static void put(text_out *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL, o->len < o->size ? o->size - o->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

enum { COL_INDEX, COL_NAME, COL_TYPE, COL_PARAMS, COL_INPUTS, COL_OUTPUT, COL_MACS, COL_WEIGHTS, N_COLS };
static const char *const headers[N_COLS] = {"#",      "name",   "type",          "parameters",
                                            "inputs", "output", "multiply-adds", "weights"};

/* Where each input of the op at p comes from: the source op (":o" for an output other than #0, "(shuffle n)"), bound
 * data, or "-"; inputs after the last given one are left out. */
static void inputs_cell(const glnn_model *m, int p, text_out *o) {
    const glnn_op *op = m->ops[p];
    int last = -1;
    for (int i = 0; i < op->cls->info.input_count; i++)
        if (glnn_model_connection_to(m, op, i) >= 0 || glnn_model_binding_of(m, op, i) >= 0) last = i;
    if (last < 0) put(o, "-");
    for (int i = 0; i <= last; i++) {
        int j = glnn_model_connection_to(m, op, i);
        if (i > 0) put(o, ", ");
        if (j < 0) {
            put(o, glnn_model_binding_of(m, op, i) >= 0 ? "(data)" : "-");
            continue;
        }
        const glnn_connection *c = &m->conns[j];
        put(o, "%s", c->source->name);
        if (c->output != 0) put(o, ":%d", c->output);
        if (c->shuffle > 1) put(o, " (shuffle %d)", c->shuffle);
    }
}

static void shape_cell(glnn_shape s, text_out *o) {
    if (s.kind == GLNN_KIND_VECTOR)
        put(o, "%lld", (long long)s.c);
    else
        put(o, "%lldx%lldx%lld", (long long)s.h, (long long)s.w, (long long)s.c);
}

/* The text of one cell; the header for p < 0. */
static void cell(const glnn_model *m, int p, int col, char *buf, size_t size) {
    text_out o = {buf, size, 0};
    buf[0] = '\0';
    if (p < 0) {
        put(&o, "%s", headers[col]);
        return;
    }
    const glnn_op *op = m->ops[p];
    glnn_op_stats st;
    bool known = glnn_model_op_stats(m, p, &st, NULL) == GLNN_OK;
    switch (col) {
    case COL_INDEX: put(&o, "%d", p); break;
    case COL_NAME: put(&o, "%s", op->name); break;
    case COL_TYPE: put(&o, "%s", op->cls->info.type_name); break;
    case COL_PARAMS: glnn_op_describe(op, buf, size); break;
    case COL_INPUTS: inputs_cell(m, p, &o); break;
    case COL_OUTPUT:
        if (!known || st.output.kind == 0)
            put(&o, "-");
        else
            shape_cell(st.output, &o);
        break;
    case COL_MACS: put(&o, known ? "%lld" : "-", (long long)st.multiply_adds); break;
    case COL_WEIGHTS: put(&o, known ? "%lld" : "-", (long long)st.weights); break;
    }
}

static void totals(const glnn_model *m, text_out *o) {
    int residual = 0, shuffled = 0;
    for (int j = 0; j < m->n_conns; j++) {
        residual += m->conns[j].input > 0;
        shuffled += m->conns[j].shuffle > 1;
    }
    put(o, "%d operation%s, %d connection%s (%d into a second input, %d shuffled)", m->n_ops, m->n_ops == 1 ? "" : "s",
        m->n_conns, m->n_conns == 1 ? "" : "s", residual, shuffled);
    if (!m->prepared) {
        put(o, "; not prepared: shapes and counts come with preparation\n");
        return;
    }
    int64_t macs = 0, fetches = 0, weights = 0;
    for (int p = 0; p < m->n_ops; p++) {
        glnn_op_stats st;
        if (glnn_model_op_stats(m, p, &st, NULL) != GLNN_OK) continue;
        macs += st.multiply_adds;
        fetches += st.texel_fetches;
        weights += st.weights;
    }
    put(o,
        "\n%lld multiply-adds (%.1f M); %lld texel fetches; %lld weights (%.2f MiB as float32); memory %.2f MiB "
        "(tensors and weights)\n",
        (long long)macs, (double)macs / 1e6, (long long)fetches, (long long)weights, (double)weights * 4.0 / 1048576.0,
        (double)m->memory_bytes / 1048576.0);
}

size_t glnn_model_summary(const glnn_model *m, char *buf, size_t size) {
    if (!buf) size = 0;
    if (size) buf[0] = '\0';
    if (!m) return 0;
    char text[1024];
    size_t width[N_COLS] = {0};
    for (int p = -1; p < m->n_ops; p++)
        for (int c = 0; c < N_COLS; c++) {
            cell(m, p, c, text, sizeof text);
            size_t n = strlen(text);
            if (n > width[c]) width[c] = n;
        }
    text_out o = {buf, size, 0};
    for (int p = -1; p < m->n_ops; p++) {
        for (int c = 0; c < N_COLS; c++) {
            cell(m, p, c, text, sizeof text);
            bool number = c == COL_MACS || c == COL_WEIGHTS;
            if (c == N_COLS - 1)
                put(&o, "%*s\n", (int)width[c], text);
            else
                put(&o, number ? "%*s  " : "%-*s  ", (int)width[c], text);
        }
    }
    totals(m, &o);
    return o.len;
}
