/* Model (SPEC §7): ops in execution order, connections, outputs, bound data; preparation checks the
 * whole graph and plans tensor memory; a run executes every op once in order. */
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Grows an array to hold at least n + 1 items. */
/* After a change: the next run prepares again, and earlier results are no longer readable. */
static void invalidate(glnn_model *m) {
    m->prepared = false;
    m->ran = false;
}

static bool reserve(void **items, int *cap, int n, size_t item_size) {
    if (n < *cap) return true;
    int next = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, (size_t)next * item_size);
    if (!p) return false;
    *items = p;
    *cap = next;
    return true;
}

glnn_status glnn_model_create(glnn_model **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create model: no output handle");
    *out = calloc(1, sizeof **out);
    if (!*out) return glnn_fail(err, GLNN_ERR_MEMORY, "create model: out of memory");
    glnn_ok(err);
    return GLNN_OK;
}

static void unprepare(glnn_model *m) {
    for (int i = 0; i < m->n_pool; i++)
        glnn_tensor_free(m->pool[i]);
    for (int i = 0; i < m->n_bindings; i++) {
        glnn_tensor_free(m->bindings[i].tensor);
        m->bindings[i].tensor = NULL;
        m->bindings[i].dirty = true;
    }
    free(m->pool);
    free(m->op_out);
    free(m->conn_view);
    free(m->op_ms);
    free(m->op_gpu_ms);
    free(m->op_serial);
    m->pool = NULL;
    m->op_out = m->conn_view = NULL;
    m->op_ms = NULL;
    m->op_gpu_ms = NULL;
    m->op_serial = NULL;
    m->n_pool = 0;
    m->prepared = m->ran = false;
    m->ctx = NULL;
    m->data = NULL;
    m->memory_bytes = 0;
}

void glnn_model_free(glnn_model *m) {
    if (!m) return;
    unprepare(m);
    for (int i = 0; i < m->n_ops; i++)
        glnn_op_release(m->ops[i]);
    for (int i = 0; i < m->n_bindings; i++)
        free(m->bindings[i].bytes);
    free(m->ops);
    free(m->conns);
    free(m->outputs);
    free(m->bindings);
    free(m);
}

int glnn_model_position(const glnn_model *m, const glnn_op *op) {
    for (int i = 0; i < m->n_ops; i++)
        if (m->ops[i] == op) return i;
    return -1;
}

glnn_op *glnn_model_find(const glnn_model *m, const char *name) {
    if (!m || !name) return NULL;
    for (int i = 0; i < m->n_ops; i++)
        if (strcmp(m->ops[i]->name, name) == 0) return m->ops[i];
    return NULL;
}

int glnn_model_op_count(const glnn_model *m) {
    return m ? m->n_ops : 0;
}
glnn_op *glnn_model_op_at(const glnn_model *m, int index) {
    return m && index >= 0 && index < m->n_ops ? m->ops[index] : NULL;
}

static glnn_status check_new_op(const glnn_model *m, const glnn_op *op, const char *what, glnn_error *err) {
    if (!m || !op) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model or operation", what);
    if (glnn_model_position(m, op) >= 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' is already in the model", what, op->name);
    if (glnn_model_find(m, op->name))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: an operation named '%s' is already in the model", what, op->name);
    return GLNN_OK;
}

static glnn_status insert_op(glnn_model *m, int pos, glnn_op *op, const char *what, glnn_error *err) {
    if (m->n_ops >= GLNN_MAX_OPS)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: '%s' would be operation %d; a model holds at most %d", what,
                         op->name, m->n_ops + 1, GLNN_MAX_OPS);
    if (!reserve((void **)&m->ops, &m->cap_ops, m->n_ops, sizeof *m->ops))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    memmove(m->ops + pos + 1, m->ops + pos, (size_t)(m->n_ops - pos) * sizeof *m->ops);
    m->ops[pos] = op;
    m->n_ops++;
    glnn_op_retain(op);
    invalidate(m);
    return GLNN_OK;
}

int glnn_model_connection_to(const glnn_model *m, const glnn_op *dest, int input) {
    for (int j = 0; j < m->n_conns; j++)
        if (m->conns[j].dest == dest && m->conns[j].input == input) return j;
    return -1;
}

int glnn_model_binding_of(const glnn_model *m, const glnn_op *op, int input) {
    for (int j = 0; j < m->n_bindings; j++)
        if (m->bindings[j].op == op && m->bindings[j].input == input) return j;
    return -1;
}

static glnn_status connect_ops(glnn_model *m, glnn_op *source, glnn_op *dest, int output, int input, int shuffle,
                               const char *what, glnn_error *err) {
    if (output < 0 || output >= source->cls->info.output_count)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' has no output #%d (it has %d)", what, source->name, output,
                         source->cls->info.output_count);
    if (input < 0 || input >= dest->cls->info.input_count)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' has no input #%d (it has %d)", what, dest->name, input,
                         dest->cls->info.input_count);
    if (shuffle < 0) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: shuffle must be 0 or more, got %d", what, shuffle);
    if (glnn_model_connection_to(m, dest, input) >= 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input #%d of '%s' is already connected", what, input, dest->name);
    if (glnn_model_binding_of(m, dest, input) >= 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input #%d of '%s' already has bound data", what, input,
                         dest->name);
    if (m->n_conns >= GLNN_MAX_CONNECTIONS)
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a model holds at most %d connections", what, GLNN_MAX_CONNECTIONS);
    if (!reserve((void **)&m->conns, &m->cap_conns, m->n_conns, sizeof *m->conns))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    m->conns[m->n_conns++] = (glnn_connection){source, dest, output, input, shuffle};
    invalidate(m);
    return GLNN_OK;
}

glnn_status glnn_model_append(glnn_model *m, glnn_op *op, bool connect, glnn_error *err) {
    const char *what = "append";
    glnn_status s = check_new_op(m, op, what, err);
    if (s != GLNN_OK) return s;
    glnn_op *last = m->n_ops ? m->ops[m->n_ops - 1] : NULL;
    if (connect && last) {
        if (last->cls->info.output_count < 1)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: cannot connect '%s', which has no output, to '%s'", what,
                             last->name, op->name);
        if (op->cls->info.input_count < 1)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' has no input", what, op->name);
        if (m->n_conns >= GLNN_MAX_CONNECTIONS)
            return glnn_fail(err, GLNN_ERR_MEMORY, "%s: a model holds at most %d connections", what,
                             GLNN_MAX_CONNECTIONS);
        if (!reserve((void **)&m->conns, &m->cap_conns, m->n_conns, sizeof *m->conns))
            return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    s = insert_op(m, m->n_ops, op, what, err);
    if (s != GLNN_OK) return s;
    if (connect && last) m->conns[m->n_conns++] = (glnn_connection){last, op, 0, 0, 0};
    return GLNN_OK;
}

glnn_status glnn_model_add_operation(glnn_model *m, const char *before, glnn_op *op, glnn_error *err) {
    const char *what = "add_operation";
    glnn_status s = check_new_op(m, op, what, err);
    if (s != GLNN_OK) return s;
    glnn_op *b = glnn_model_find(m, before);
    if (!b)
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: no operation named '%s' to insert '%s' before", what,
                         before ? before : "(null)", op->name);
    return insert_op(m, glnn_model_position(m, b), op, what, err);
}

glnn_status glnn_model_add_connection(glnn_model *m, const char *source, const char *dest, int output, int input,
                                      int shuffle, glnn_error *err) {
    const char *what = "add_connection";
    if (!m) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model", what);
    glnn_op *src = glnn_model_find(m, source), *dst = glnn_model_find(m, dest);
    if (!src)
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: source operation '%s' not found", what,
                         source ? source : "(null)");
    if (!dst)
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: destination operation '%s' not found", what,
                         dest ? dest : "(null)");
    return connect_ops(m, src, dst, output, input, shuffle, what, err);
}

glnn_status glnn_model_add_output(glnn_model *m, const char *op_name, int output, glnn_error *err) {
    const char *what = "add_output";
    if (!m) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model", what);
    glnn_op *op = glnn_model_find(m, op_name);
    if (!op)
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: operation '%s' not found", what, op_name ? op_name : "(null)");
    if (output < 0 || output >= op->cls->info.output_count)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' has no output #%d (it has %d)", what, op->name, output,
                         op->cls->info.output_count);
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i].op == op && m->outputs[i].output == output) return GLNN_OK;
    if (!reserve((void **)&m->outputs, &m->cap_outputs, m->n_outputs, sizeof *m->outputs))
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    m->outputs[m->n_outputs++] = (glnn_output_ref){op, output};
    invalidate(m); /* the memory plan keeps registered outputs */
    return GLNN_OK;
}

/* ---- bound data ---- */

static glnn_status bind(glnn_model *m, const char *op_name, int input, glnn_shape shape, uint8_t *bytes,
                        glnn_error *err) {
    const char *what = "bind input data";
    glnn_op *op = glnn_model_find(m, op_name);
    if (!op) {
        free(bytes);
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: operation '%s' not found", what, op_name ? op_name : "(null)");
    }
    if (input < 0 || input >= op->cls->info.input_count) {
        free(bytes);
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' has no input #%d", what, op->name, input);
    }
    if (glnn_model_connection_to(m, op, input) >= 0) {
        free(bytes);
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: input #%d of '%s' is connected to another operation", what, input,
                         op->name);
    }
    int j = glnn_model_binding_of(m, op, input);
    if (j < 0) {
        if (!reserve((void **)&m->bindings, &m->cap_bindings, m->n_bindings, sizeof *m->bindings)) {
            free(bytes);
            return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
        }
        j = m->n_bindings++;
        m->bindings[j] = (glnn_binding){op, input, {0, 0, 0, 0}, NULL, NULL, true};
        invalidate(m);
    }
    glnn_binding *b = &m->bindings[j];
    glnn_shape old = b->shape;
    if (old.kind != shape.kind || old.h != shape.h || old.w != shape.w || old.c != shape.c) invalidate(m);
    free(b->bytes);
    b->bytes = bytes;
    b->shape = shape;
    b->dirty = true;
    return GLNN_OK;
}

static glnn_status check_dims(const char *what, int64_t h, int64_t w, int64_t c, int64_t *count, glnn_error *err) {
    if (h < 1 || w < 1 || c < 1 || !glnn_mul_i64(h, w, count) || !glnn_mul_i64(*count, c, count) || *count <= 0 ||
        (uint64_t)*count > SIZE_MAX / 8)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: invalid size %lld×%lld×%lld", what, (long long)h, (long long)w,
                         (long long)c);
    /* Data no context could hold is refused before it is copied (an image takes 4 bytes a pixel). */
    int64_t bytes = c == 3 ? *count / 3 * 4 : *count;
    if (bytes > GLNN_CPU_MAX_TENSOR_BYTES)
        return glnn_fail(
            err, GLNN_ERR_MEMORY, "%s: %lld×%lld×%lld needs %lld bytes, above the largest tensor (%lld bytes)", what,
            (long long)h, (long long)w, (long long)c, (long long)bytes, (long long)GLNN_CPU_MAX_TENSOR_BYTES);
    return GLNN_OK;
}

glnn_status glnn_model_bind_image(glnn_model *m, const char *op, int input, const uint8_t *pixels, int64_t h, int64_t w,
                                  int channels, glnn_error *err) {
    const char *what = "bind image";
    int64_t n;
    if (!m || !pixels) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model or pixels", what);
    if (channels != 1 && channels != 3 && channels != 4)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: %d channels per pixel; 1, 3 or 4 are supported", what, channels);
    glnn_status s = check_dims(what, h, w, 3, &n, err);
    if (s != GLNN_OK) return s;
    uint8_t *rgb = malloc((size_t)n);
    if (!rgb) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    for (int64_t p = 0; p < h * w; p++)
        for (int c = 0; c < 3; c++)
            rgb[3 * p + c] = pixels[p * channels + (channels == 1 ? 0 : c)];
    glnn_shape shape = {GLNN_KIND_IMAGE, h, w, 3};
    return bind(m, op, input, shape, rgb, err);
}

/* Binds a tensor given as bytes (u8) or as floats quantized with Q (f32). */
static glnn_status bind_tensor(glnn_model *m, const char *op, int input, const uint8_t *u8, const float *f32, int64_t h,
                               int64_t w, int64_t c, glnn_error *err) {
    const char *what = "bind tensor";
    int64_t n;
    if (!m || (!u8 && !f32)) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model or data", what);
    glnn_status s = check_dims(what, h, w, c, &n, err);
    if (s != GLNN_OK) return s;
    if (c % 4 != 0)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: depth must be a multiple of 4, got %lld", what, (long long)c);
    uint8_t *q = malloc((size_t)n);
    if (!q) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (u8) {
        memcpy(q, u8, (size_t)n);
    } else if ((s = glnn_quantize_user(what, f32, q, n, err)) != GLNN_OK) {
        free(q);
        return s;
    }
    glnn_shape shape = {GLNN_KIND_TENSOR, h, w, c};
    return bind(m, op, input, shape, q, err);
}

glnn_status glnn_model_bind_tensor_u8(glnn_model *m, const char *op, int input, const uint8_t *data, int64_t h,
                                      int64_t w, int64_t c, glnn_error *err) {
    return bind_tensor(m, op, input, data, NULL, h, w, c, err);
}

glnn_status glnn_model_bind_tensor_f32(glnn_model *m, const char *op, int input, const float *data, int64_t h,
                                       int64_t w, int64_t c, glnn_error *err) {
    return bind_tensor(m, op, input, NULL, data, h, w, c, err);
}

/* ---- preparation ---- */

static bool is_identity_shuffle(int n, int64_t quads) {
    return n <= 1 || n == quads;
}

/* Position after which the tensor produced by op p (or a shuffled view) is no longer read. */
static int last_reader(const glnn_model *m, int p) {
    int last = p;
    for (int j = 0; j < m->n_conns; j++)
        if (m->conns[j].source == m->ops[p]) {
            int d = glnn_model_position(m, m->conns[j].dest);
            if (d > last) last = d;
        }
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i].op == m->ops[p]) return m->n_ops; /* registered: kept */
    return last;
}

typedef struct {
    glnn_tensor *t;
    int free_after; /* position after which it may be reused */
} pool_entry;

/* Takes a tensor of this shape whose last reader ran before position p, or allocates one.  Errors name
 * `what` (the op and the tensor's role). */
static glnn_status take_tensor(glnn_model *m, pool_entry *entries, glnn_shape shape, int p, int keep_until,
                               const char *what, glnn_tensor **out, glnn_error *err) {
    for (int i = 0; i < m->n_pool; i++) {
        glnn_shape s = entries[i].t->shape;
        if (entries[i].free_after < p && s.kind == shape.kind && s.h == shape.h && s.w == shape.w && s.c == shape.c) {
            entries[i].free_after = keep_until;
            *out = entries[i].t;
            return GLNN_OK;
        }
    }
    glnn_tensor *t;
    glnn_error cause;
    glnn_status s = glnn_tensor_create(m->ctx, shape, &t, &cause);
    if (s != GLNN_OK) return glnn_fail(err, s, "prepare model: %s: %s", what, cause.message);
    entries[m->n_pool] = (pool_entry){t, keep_until};
    m->pool[m->n_pool++] = t;
    m->memory_bytes += glnn_storage_bytes(shape);
    *out = t;
    return GLNN_OK;
}

static glnn_status check_order(const glnn_model *m, glnn_error *err) {
    if (m->n_ops == 0) return glnn_fail(err, GLNN_ERR_STATE, "prepare model: the model has no operations");
    for (int j = 0; j < m->n_conns; j++) {
        const glnn_connection *c = &m->conns[j];
        int q = glnn_model_position(m, c->source), p = glnn_model_position(m, c->dest);
        if (q >= p)
            return glnn_fail(err, GLNN_ERR_STATE,
                             "prepare model: '%s' (position %d) reads output #%d of '%s' (position %d), which runs "
                             "later; move '%s' before '%s'",
                             c->dest->name, p, c->output, c->source->name, q, c->source->name, c->dest->name);
    }
    return GLNN_OK;
}

/* Describes input i of op p from its connection or bound data; checks the connection's shuffle. */
static glnn_status describe_input(const glnn_model *m, int p, int i, glnn_input_desc *d, glnn_error *err) {
    glnn_op *op = m->ops[p];
    int j = glnn_model_connection_to(m, op, i);
    if (j >= 0) {
        const glnn_connection *c = &m->conns[j];
        d->present = true;
        d->shape = c->source->out_shape;
        if (c->shuffle > 1) {
            if (d->shape.kind != GLNN_KIND_TENSOR)
                return glnn_fail(err, GLNN_ERR_ARGUMENT,
                                 "prepare model: shuffle %d on the connection from '%s' to '%s' needs a tensor; "
                                 "output #%d of '%s' is %s",
                                 c->shuffle, c->source->name, op->name, c->output, c->source->name,
                                 d->shape.kind == GLNN_KIND_IMAGE ? "an image" : "a vector");
            int64_t quads = d->shape.c / 4;
            if (quads % c->shuffle != 0)
                return glnn_fail(err, GLNN_ERR_ARGUMENT,
                                 "prepare model: shuffle %d does not divide the %lld quads of '%s' output #%d",
                                 c->shuffle, (long long)quads, c->source->name, c->output);
        }
        return GLNN_OK;
    }
    int b = glnn_model_binding_of(m, op, i);
    if (b >= 0) {
        d->present = true;
        d->shape = m->bindings[b].shape;
    }
    return GLNN_OK;
}

/* Input #0 of the op at p has neither a connection nor data (SPEC §7.2): the error says how to give it one. */
static glnn_status missing_input(const glnn_model *m, int p, glnn_error *err) {
    const glnn_op *op = m->ops[p];
    char what[300];
    glnn_op_what(op, what, sizeof what);
    if (p == 0)
        return glnn_fail(err, GLNN_ERR_STATE,
                         "%s: input #0 of '%s' is not provided: bind an image or a tensor to it (glnn_model_bind_*; "
                         "InferenceTask.connect in Python)",
                         what, op->name);
    return glnn_fail(err, GLNN_ERR_STATE,
                     "%s: input #0 of '%s' is not provided: connect it to an earlier op (add_connection('%s', '%s'), "
                     "or append(op, connect=True)) or bind data to it",
                     what, op->name, m->ops[p - 1]->name, op->name);
}

static glnn_status prepare(glnn_model *m, glnn_context *ctx, const glnn_chunks *data, glnn_error *err) {
    unprepare(m);
    glnn_status s = check_order(m, err);
    if (s != GLNN_OK) return s;
    m->ctx = ctx;
    m->data = data;
    int n_slots = m->n_ops + m->n_conns + 1;
    m->op_out = calloc((size_t)m->n_ops, sizeof *m->op_out);
    m->conn_view = calloc((size_t)m->n_conns + 1, sizeof *m->conn_view);
    m->pool = calloc((size_t)n_slots, sizeof *m->pool);
    m->op_ms = calloc((size_t)m->n_ops, sizeof *m->op_ms);
    m->op_gpu_ms = calloc((size_t)m->n_ops, sizeof *m->op_gpu_ms);
    m->op_serial = calloc((size_t)m->n_ops, sizeof *m->op_serial);
    pool_entry *entries = calloc((size_t)n_slots, sizeof *entries);
    if (!m->op_out || !m->conn_view || !m->pool || !m->op_ms || !m->op_gpu_ms || !m->op_serial || !entries) {
        free(entries);
        unprepare(m);
        return glnn_fail(err, GLNN_ERR_MEMORY, "prepare model: out of memory");
    }
    for (int p = 0; s == GLNN_OK && p < m->n_ops; p++) {
        glnn_op *op = m->ops[p];
        glnn_input_desc in[GLNN_MAX_INPUTS] = {{0}};
        for (int i = 0; s == GLNN_OK && i < op->cls->info.input_count; i++)
            s = describe_input(m, p, i, &in[i], err);
        if (s == GLNN_OK && op->cls->info.input_count > 0 && !in[0].present) s = missing_input(m, p, err);
        if (s == GLNN_OK) s = glnn_op_prepare(op, ctx, in, data, err);
        if (s != GLNN_OK) break;
        m->memory_bytes += op->weight_bytes;
        char what[320];
        /* Shuffled views of this op's inputs live only while it runs. */
        for (int j = 0; s == GLNN_OK && j < m->n_conns; j++) {
            const glnn_connection *c = &m->conns[j];
            if (c->dest != op || is_identity_shuffle(c->shuffle, c->source->out_shape.c / 4)) continue;
            snprintf(what, sizeof what, "shuffled input #%d of '%s'", c->input, op->name);
            s = take_tensor(m, entries, c->source->out_shape, p, p, what, &m->conn_view[j], err);
        }
        snprintf(what, sizeof what, "output of '%s'", op->name);
        if (s == GLNN_OK && op->cls->info.output_count > 0)
            s = take_tensor(m, entries, op->out_shape, p, last_reader(m, p), what, &m->op_out[p], err);
    }
    for (int b = 0; s == GLNN_OK && b < m->n_bindings; b++) {
        glnn_error cause;
        s = glnn_tensor_create(ctx, m->bindings[b].shape, &m->bindings[b].tensor, &cause);
        if (s != GLNN_OK)
            s = glnn_fail(err, s, "prepare model: data bound to input #%d of '%s': %s", m->bindings[b].input,
                          m->bindings[b].op->name, cause.message);
        if (s == GLNN_OK) m->memory_bytes += glnn_storage_bytes(m->bindings[b].shape);
        m->bindings[b].dirty = true;
    }
    for (int p = 0; s == GLNN_OK && p < m->n_ops; p++)
        m->op_serial[p] = m->ops[p]->prepare_serial;
    free(entries);
    if (s != GLNN_OK) {
        unprepare(m);
        return s;
    }
    m->prepared = true;
    return GLNN_OK;
}

glnn_status glnn_model_prepare(glnn_model *m, glnn_context *ctx, const glnn_chunks *data, glnn_error *err) {
    if (!m || !ctx) return glnn_fail(err, GLNN_ERR_ARGUMENT, "prepare model: no model or context");
    return prepare(m, ctx, data, err);
}

/* ---- execution ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const glnn_tensor *input_tensor(glnn_model *m, glnn_op *op, int i, glnn_error *err, glnn_status *s) {
    int j = glnn_model_connection_to(m, op, i);
    if (j >= 0) {
        const glnn_connection *c = &m->conns[j];
        const glnn_tensor *src = m->op_out[glnn_model_position(m, c->source)];
        if (!m->conn_view[j]) return src;
        *s = m->ctx->backend->shuffle(m->ctx, src, c->shuffle, m->conn_view[j], err);
        return m->conn_view[j];
    }
    int b = glnn_model_binding_of(m, op, i);
    return b >= 0 ? m->bindings[b].tensor : NULL;
}

/* True when an op was prepared again, or unprepared, since the model prepared it: by glnn_op_run, by
 * another model holding the same op, or by a parameter change such as an ImageSampler rotation.  Its
 * state then no longer matches the model's tensors. */
static bool ops_changed(const glnn_model *m) {
    for (int p = 0; p < m->n_ops; p++)
        if (!m->ops[p]->prepared || m->ops[p]->prepare_serial != m->op_serial[p]) return true;
    return false;
}

glnn_status glnn_model_run(glnn_model *m, glnn_context *ctx, const glnn_chunks *data, glnn_error *err) {
    if (!m || !ctx) return glnn_fail(err, GLNN_ERR_ARGUMENT, "run model: no model or context");
    glnn_status s = GLNN_OK;
    if (!m->prepared || m->ctx != ctx || m->data != data || ops_changed(m)) s = prepare(m, ctx, data, err);
    if (s != GLNN_OK) return s;
    m->ran = false;
    for (int b = 0; s == GLNN_OK && b < m->n_bindings; b++) {
        glnn_binding *bd = &m->bindings[b];
        if (bd->dirty) s = glnn_tensor_upload_u8(bd->tensor, bd->bytes, glnn_shape_count(bd->shape), err);
        if (s == GLNN_OK) bd->dirty = false;
    }
    const glnn_backend *b = ctx->backend;
    if (s == GLNN_OK && b->activate) s = b->activate(ctx, err);
    for (int p = 0; s == GLNN_OK && p < m->n_ops; p++) {
        glnn_op *op = m->ops[p];
        double t0 = now_ms();
        bool timed = b->timer_begin && b->timer_begin(ctx);
        const glnn_tensor *in[GLNN_MAX_INPUTS] = {NULL};
        for (int i = 0; s == GLNN_OK && i < op->cls->info.input_count; i++)
            in[i] = input_tensor(m, op, i, err, &s);
        if (s == GLNN_OK) s = glnn_op_execute(op, in, m->op_out[p], err);
        m->op_gpu_ms[p] = timed ? b->timer_end(ctx) : -1.0;
        if (b->finish) b->finish(ctx);
        m->op_ms[p] = now_ms() - t0;
    }
    /* An error the device raised while finishing (out of memory, a lost context) fails the run. */
    if (s == GLNN_OK && b->check) s = b->check(ctx, "run model", err);
    if (s != GLNN_OK) return s;
    m->ran = true;
    return GLNN_OK;
}

/* ---- reading results ---- */

static glnn_status find_output(const glnn_model *m, const char *op_name, int output, const glnn_tensor **t,
                               glnn_error *err) {
    const char *what = "get_output_data";
    if (!m) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model", what);
    glnn_op *op = glnn_model_find(m, op_name);
    if (!op)
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: operation '%s' not found", what, op_name ? op_name : "(null)");
    bool registered = false;
    for (int i = 0; i < m->n_outputs; i++)
        registered |= m->outputs[i].op == op && m->outputs[i].output == output;
    if (!registered)
        return glnn_fail(err, GLNN_ERR_STATE, "%s: output #%d of '%s' is not registered; call add_output first", what,
                         output, op->name);
    if (!m->ran) return glnn_fail(err, GLNN_ERR_STATE, "%s: the model has not run successfully", what);
    *t = m->op_out[glnn_model_position(m, op)];
    return GLNN_OK;
}

glnn_status glnn_model_output_shape(const glnn_model *m, const char *op, int output, glnn_shape *out, glnn_error *err) {
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "output shape: no model or result");
    glnn_op *o = glnn_model_find(m, op);
    if (!o) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "output shape: operation '%s' not found", op ? op : "(null)");
    if (!m->prepared) return glnn_fail(err, GLNN_ERR_STATE, "output shape of '%s': the model is not prepared", o->name);
    return glnn_op_output_shape(o, output, out, err);
}

glnn_status glnn_model_get_output_u8(const glnn_model *m, const char *op, int output, uint8_t *data, int64_t count,
                                     glnn_error *err) {
    const glnn_tensor *t;
    glnn_status s = find_output(m, op, output, &t, err);
    return s == GLNN_OK ? glnn_tensor_download_u8(t, data, count, err) : s;
}

glnn_status glnn_model_get_output_f32(const glnn_model *m, const char *op, int output, float *data, int64_t count,
                                      glnn_error *err) {
    const glnn_tensor *t;
    glnn_status s = find_output(m, op, output, &t, err);
    return s == GLNN_OK ? glnn_tensor_download_f32(t, data, count, err) : s;
}

/* The Softmax named op, or the last Softmax of the model when op is NULL. */
static glnn_status find_softmax(const glnn_model *m, const char *op, const char *what, glnn_op **out, glnn_error *err) {
    if (!m) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model", what);
    glnn_op *o = NULL;
    if (op) {
        o = glnn_model_find(m, op);
        if (!o) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: operation '%s' not found", what, op);
        if (o->cls->info.kind != GLNN_OP_SOFTMAX)
            return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: '%s' is not a Softmax", what, o->name);
    } else {
        for (int i = 0; i < m->n_ops; i++)
            if (m->ops[i]->cls->info.kind == GLNN_OP_SOFTMAX) o = m->ops[i];
        if (!o) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "%s: the model has no Softmax", what);
    }
    *out = o;
    return GLNN_OK;
}

glnn_status glnn_model_probabilities_size(const glnn_model *m, const char *op, int64_t *count, glnn_error *err) {
    glnn_op *o;
    if (!count) return glnn_fail(err, GLNN_ERR_ARGUMENT, "probabilities size: no result pointer");
    glnn_status s = find_softmax(m, op, "probabilities size", &o, err);
    if (s != GLNN_OK) return s;
    if (!m->prepared) return glnn_fail(err, GLNN_ERR_STATE, "probabilities size: the model is not prepared");
    *count = o->out_shape.c;
    return GLNN_OK;
}

glnn_status glnn_model_get_probabilities(const glnn_model *m, const char *op, float *out, int64_t count,
                                         glnn_error *err) {
    glnn_op *o;
    glnn_status s = find_softmax(m, op, "get_probabilities", &o, err);
    if (s != GLNN_OK) return s;
    if (!m->ran) return glnn_fail(err, GLNN_ERR_STATE, "get_probabilities: the model has not run successfully");
    return glnn_op_get_probabilities(o, out, count, err);
}

static glnn_status sum_counter(const glnn_model *m, bool macs, int64_t *out, glnn_error *err) {
    const char *what = macs ? "count_multiply_adds" : "count_texel_fetches";
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model or result", what);
    if (!m->prepared) return glnn_fail(err, GLNN_ERR_STATE, "%s: the model is not prepared", what);
    int64_t total = 0;
    for (int i = 0; i < m->n_ops; i++)
        total += macs ? m->ops[i]->multiply_adds : m->ops[i]->texel_fetches;
    *out = total;
    return GLNN_OK;
}

glnn_status glnn_model_count_multiply_adds(const glnn_model *m, int64_t *out, glnn_error *err) {
    return sum_counter(m, true, out, err);
}

glnn_status glnn_model_count_texel_fetches(const glnn_model *m, int64_t *out, glnn_error *err) {
    return sum_counter(m, false, out, err);
}

glnn_status glnn_model_memory_size(const glnn_model *m, int64_t *out, glnn_error *err) {
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "memory_size: no model or result");
    if (!m->prepared) return glnn_fail(err, GLNN_ERR_STATE, "memory_size: the model is not prepared");
    *out = m->memory_bytes;
    return GLNN_OK;
}

/* The checks of the per-op results of the last run. */
static glnn_status check_op_result(const glnn_model *m, int index, const void *out, const char *what, glnn_error *err) {
    if (!m || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no model or result", what);
    if (!m->ran) return glnn_fail(err, GLNN_ERR_STATE, "%s: the model has not run successfully", what);
    if (index < 0 || index >= m->n_ops)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no operation at position %d", what, index);
    return GLNN_OK;
}

glnn_status glnn_model_op_time(const glnn_model *m, int index, double *ms, glnn_error *err) {
    glnn_status s = check_op_result(m, index, ms, "op time", err);
    if (s == GLNN_OK) *ms = m->op_ms[index];
    return s;
}

glnn_status glnn_model_op_gpu_time(const glnn_model *m, int index, double *ms, glnn_error *err) {
    glnn_status s = check_op_result(m, index, ms, "op GPU time", err);
    if (s != GLNN_OK) return s;
    if (m->op_gpu_ms[index] < 0)
        return glnn_fail(err, GLNN_ERR_DEVICE, "op GPU time: '%s' was not timed on the GPU (%s)", m->ops[index]->name,
                         m->ctx->backend->no_timer ? m->ctx->backend->no_timer(m->ctx) : "no timer");
    *ms = m->op_gpu_ms[index];
    return GLNN_OK;
}
