#include "testutil.h"

#include "backends/backend.h"
#include "ops/op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void glnn_test_assert_error(glnn_status got, const glnn_error *err, glnn_status expected, const char *file, int line,
                            ...) {
    if (got != expected) {
        print_error("%s:%d: expected status '%s', got '%s' (%s)\n", file, line, glnn_status_name(expected),
                    glnn_status_name(got), err ? err->message : "");
        _fail(file, line);
    }
    va_list ap;
    va_start(ap, line);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        if (!strstr(err->message, frag)) {
            print_error("%s:%d: message '%s' lacks '%s'\n", file, line, err->message, frag);
            va_end(ap);
            _fail(file, line);
        }
    va_end(ap);
}

void glnn_test_assert_ok(glnn_status s, const glnn_error *err, const char *file, int line) {
    if (s != GLNN_OK) {
        print_error("%s:%d: call failed: %s\n", file, line, err ? err->message : glnn_status_name(s));
        _fail(file, line);
    }
}

uint32_t glnn_rng_u32(glnn_rng *r) {
    uint64_t x = r->s ? r->s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->s = x;
    return (uint32_t)(x >> 32);
}

float glnn_rng_uniform(glnn_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(glnn_rng_u32(r) >> 8) / (float)(1u << 24);
}

static glnn_context *gpu_ctx, *cpu_ctx;
static bool gpu_tried;

glnn_context *glnn_test_gpu(void) {
    if (!gpu_tried) {
        gpu_tried = true;
        if (getenv("GLNN_TEST_NO_GPU")) return NULL; /* CPU-only runs (valgrind, leak checks) */
        glnn_error err;
        glnn_context_options o;
        glnn_context_options_init(&o);
        const char *dev = getenv("GLNN_DEVICE");
        o.device = dev && *dev && strcmp(dev, "cpu") != 0 && strcmp(dev, "reference") != 0 ? dev : "gpu";
        if (glnn_context_create(&o, &gpu_ctx, &err) != GLNN_OK) {
            fprintf(stderr, "no GPU context: %s\n", err.message);
            if (getenv("GLNN_REQUIRE_GPU")) abort();
            gpu_ctx = NULL;
        }
    }
    return gpu_ctx;
}

bool glnn_test_shared(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return true;
    }
    printf("skipped: needs %s (../shared: Beatmup's dog classifier and the test pictures), which is not there\n", path);
    return false;
}

glnn_context *glnn_test_cpu(void) {
    if (!cpu_ctx) {
        glnn_context_options o;
        glnn_context_options_init(&o);
        o.device = "reference";
        if (glnn_context_create(&o, &cpu_ctx, NULL) != GLNN_OK) abort();
    }
    return cpu_ctx;
}

glnn_op *glnn_test_conv(const char *name, int k, int cin, int cout, int groups, glnn_padding pad, glnn_activation act) {
    glnn_error err;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = name;
    p.kernel_size = k;
    p.num_input_channels = cin;
    p.num_output_channels = cout;
    p.num_groups = groups;
    p.padding = pad;
    p.activation = act;
    glnn_op *op;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    return op;
}

glnn_op *glnn_test_pool(const char *name, glnn_pooling_operator o, int size, int stride, glnn_padding pad) {
    glnn_error err;
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = name;
    p.op = o;
    p.size = size;
    p.stride = stride;
    p.padding = pad;
    glnn_op *op;
    assert_ok(glnn_pooling2d_create(&p, &op, &err));
    return op;
}

/* ---- Op cases ------------------------------------------------------------------------------------------------ */

#define CASE_MAX_PARAMS 16

struct glnn_test_case {
    char row[256];
    char label[64];
    glnn_op *op;
    const glnn_op_info *info;
    int values[CASE_MAX_PARAMS];
    int n_inputs; /* 1, or 2 with a residual */
    glnn_shape shapes[2];
    int shuffles[2];
    uint8_t *bytes[2]; /* input data as given (tensors, images) */
    uint8_t *seen[2];  /* as the op sees it, after the shuffle */
    float *floats;     /* vector input */
    glnn_chunks *data; /* weights */
    float *w, *b;      /* Dense: the matrix and the bias, for its bound */
    int rotation;
};

const char *glnn_test_case_row(const glnn_test_case *c) {
    return c->row;
}

glnn_op *glnn_test_case_op(const glnn_test_case *c) {
    return c->op;
}

const char *glnn_test_case_label(const glnn_test_case *c) {
    return c->label;
}

/* The value of the parameter with listing key `key` (the row's or the default). */
static int param(const glnn_test_case *c, const char *key) {
    for (int i = 0; i < c->info->n_params; i++)
        if (strcmp(c->info->params[i].key, key) == 0) return c->values[i];
    fail_msg("%s: %s has no parameter '%s'", c->row, c->info->class_name, key);
    return 0;
}

static uint64_t hash_text(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static void random_bytes(glnn_rng *r, uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n; i += 4) {
        const uint32_t v = glnn_rng_u32(r);
        for (int64_t k = 0; k < 4 && i + k < n; k++)
            p[i + k] = (uint8_t)(v >> (8 * k));
    }
}

/* SPEC §6: consumer quad i reads producer quad (n·i mod Q) + ⌊n·i/Q⌋, at every pixel. */
static void shuffle_bytes(const uint8_t *in, uint8_t *out, glnn_shape s, int n) {
    const int64_t q = s.c / 4, pixels = s.h * s.w;
    for (int64_t p = 0; p < pixels; p++)
        for (int64_t i = 0; i < q; i++)
            memcpy(out + (p * q + i) * 4, in + (p * q + (n * i) % q + (n * i) / q) * 4, 4);
}

/* Parses "HxWxC", "HxW" or "N" into dims; returns how many were read. */
static int parse_dims(const char *text, int64_t *dims) {
    int n = 0;
    for (const char *p = text; n < 3;) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) return -1;
        dims[n++] = v;
        if (*end == '\0') return n;
        if (*end != 'x') return -1;
        p = end + 1;
    }
    return -1;
}

/* Random weights for the ops that read them: Conv2D scaled so that outputs spread over the activation's range,
 * Dense as the old GPU-against-CPU tests made them. */
static void make_weights(glnn_test_case *c, glnn_rng *r) {
    glnn_error err;
    const glnn_op_kind kind = c->info->kind;
    if (kind == GLNN_OP_CONV2D) {
        const int k = param(c, "kernel_size"), cin = param(c, "input_channels"), cout = param(c, "output_channels");
        const int groups = param(c, "groups"), act = param(c, "activation");
        const bool image = cin == 3, dw = !image && cin == cout && cout == groups;
        const int cg = image ? 3 : dw ? 1 : cin / groups;
        const int64_t nw = (int64_t)k * k * cg * cout;
        c->w = malloc((size_t)nw * sizeof(float));
        c->b = malloc((size_t)cout * sizeof(float));
        const float scale = 2.5f / (float)(k * k * cg);
        const float lo = act == GLNN_ACTIVATION_SIGMOID_LIKE ? -6.0f : act == GLNN_ACTIVATION_BRELU6 ? -3.0f : -0.8f;
        for (int64_t i = 0; i < nw; i++)
            c->w[i] = glnn_rng_uniform(r, lo, -lo + 0.6f) * scale * 2.0f;
        for (int i = 0; i < cout; i++)
            c->b[i] = glnn_rng_uniform(r, -0.3f, 0.5f);
        const bool bias = param(c, "use_bias");
        assert_ok(glnn_chunks_set_weights(c->data, "op", c->w, nw, bias ? c->b : NULL, bias ? cout : 0, &err));
    } else if (kind == GLNN_OP_DENSE) {
        const int64_t n_in = c->shapes[0].c, n_out = param(c, "output_dims");
        c->w = malloc((size_t)(n_in * n_out) * sizeof(float));
        c->b = malloc((size_t)n_out * sizeof(float));
        for (int64_t i = 0; i < n_in * n_out; i++)
            c->w[i] = glnn_rng_uniform(r, -1, 1);
        for (int64_t i = 0; i < n_out; i++)
            c->b[i] = glnn_rng_uniform(r, -2, 2);
        assert_ok(glnn_chunks_set_weights(c->data, "op", c->w, n_in * n_out, c->b, n_out, &err));
    }
}

/* The budget's label: the class name, and the parameter the budget depends on. */
static void make_label(glnn_test_case *c) {
    const char *detail = "";
    switch (c->info->kind) {
    case GLNN_OP_POOLING2D: detail = param(c, "operator") == GLNN_POOLING_MAX ? " MAX" : " AVERAGE"; break;
    case GLNN_OP_IMAGE_SAMPLER: detail = param(c, "linear_interp") ? " bilinear" : " nearest"; break;
    case GLNN_OP_UPSAMPLING2D:
        detail = param(c, "interpolation") == GLNN_INTERPOLATION_BILINEAR ? " bilinear" : " nearest";
        break;
    default: break;
    }
    snprintf(c->label, sizeof c->label, "%s%s", c->info->class_name, detail);
}

glnn_test_case *glnn_test_case_create(const char *row) {
    glnn_error err;
    glnn_test_case *c = calloc(1, sizeof *c);
    assert_non_null(c);
    if (strlen(row) >= sizeof c->row) fail_msg("case '%s': longer than %zu bytes", row, sizeof c->row - 1);
    snprintf(c->row, sizeof c->row, "%s", row);
    char text[256];
    snprintf(text, sizeof text, "%s", row);
    char *save = NULL, *tok = strtok_r(text, " ", &save);
    c->info = tok ? glnn_op_info_find(tok) : NULL;
    if (!c->info) fail_msg("case '%s': unknown operation type", row);
    if (c->info->n_params > CASE_MAX_PARAMS) fail_msg("case '%s': too many parameters", row);
    bool given[CASE_MAX_PARAMS] = {false};
    for (int i = 0; i < c->info->n_params; i++)
        c->values[i] = c->info->params[i].default_value;
    /* Parameters, up to "|". */
    while ((tok = strtok_r(NULL, " ", &save)) && strcmp(tok, "|") != 0) {
        char *eq = strchr(tok, '=');
        if (!eq) fail_msg("case '%s': '%s' is not key=value", row, tok);
        *eq = '\0';
        const char *value = eq + 1;
        int i = 0;
        while (i < c->info->n_params && strcmp(c->info->params[i].key, tok) != 0)
            i++;
        if (i == c->info->n_params) fail_msg("case '%s': %s has no key '%s'", row, c->info->class_name, tok);
        const glnn_param_info *p = &c->info->params[i];
        if (p->type == GLNN_PARAM_ENUM) {
            assert_ok(glnn_enum_parse(p->enumeration, value, &c->values[i], &err));
        } else if (p->type == GLNN_PARAM_BOOL) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                fail_msg("case '%s': %s is true or false", row, tok);
            c->values[i] = strcmp(value, "true") == 0;
        } else {
            char *end;
            c->values[i] = (int)strtol(value, &end, 10);
            if (*end || end == value) fail_msg("case '%s': %s is an integer", row, tok);
        }
        given[i] = true;
    }
    for (int i = 0; i < c->info->n_params; i++)
        if (c->info->params[i].required && !given[i])
            fail_msg("case '%s': the required key '%s' is missing", row, c->info->params[i].key);
    assert_ok(glnn_op_create(c->info->type_name, "op", c->values, c->info->n_params, &c->op, &err));
    make_label(c);

    /* The input, then options. */
    tok = strtok_r(NULL, " ", &save);
    int64_t dims[3];
    if (tok && strcmp(tok, "image") == 0) {
        tok = strtok_r(NULL, " ", &save);
        if (!tok || parse_dims(tok, dims) != 2) fail_msg("case '%s': image HxW expected", row);
        c->shapes[0] = (glnn_shape){GLNN_KIND_IMAGE, dims[0], dims[1], 3};
    } else if (tok && strcmp(tok, "vector") == 0) {
        tok = strtok_r(NULL, " ", &save);
        if (!tok || parse_dims(tok, dims) != 1) fail_msg("case '%s': vector N expected", row);
        c->shapes[0] = (glnn_shape){GLNN_KIND_VECTOR, 1, 1, dims[0]};
    } else {
        if (!tok || parse_dims(tok, dims) != 3) fail_msg("case '%s': an input HxWxC expected", row);
        c->shapes[0] = (glnn_shape){GLNN_KIND_TENSOR, dims[0], dims[1], dims[2]};
    }
    c->n_inputs = 1;
    int hint = -1;
    while ((tok = strtok_r(NULL, " ", &save))) {
        if (strcmp(tok, "residual") == 0)
            c->n_inputs = 2;
        else if (strncmp(tok, "shuffle=", 8) == 0)
            c->shuffles[0] = atoi(tok + 8);
        else if (strncmp(tok, "residual_shuffle=", 17) == 0)
            c->shuffles[1] = atoi(tok + 17);
        else if (strncmp(tok, "rotation=", 9) == 0)
            c->rotation = atoi(tok + 9);
        else if (strncmp(tok, "kernel_hint=", 12) == 0)
            hint = atoi(tok + 12);
        else
            fail_msg("case '%s': unknown option '%s'", row, tok);
    }
    if (c->rotation) assert_ok(glnn_image_sampler_set_rotation(c->op, c->rotation, &err));
    c->op->kernel_hint = hint;
    if (c->n_inputs == 2) {
        const glnn_input_desc desc[GLNN_MAX_INPUTS] = {{true, c->shapes[0]}};
        if (!c->op->cls->infer_shape || !c->op->cls->infer_shape(c->op, desc, &c->shapes[1]))
            fail_msg("case '%s': no output shape for the residual", row);
    }

    /* Data. */
    glnn_rng r = {hash_text(row)};
    for (int i = 0; i < c->n_inputs; i++) {
        const glnn_shape s = c->shapes[i];
        const int64_t n = glnn_shape_count(s);
        if (s.kind == GLNN_KIND_VECTOR) {
            c->floats = malloc((size_t)n * sizeof(float));
            for (int64_t k = 0; k < n; k++)
                c->floats[k] = glnn_rng_uniform(&r, -3, 3);
            continue;
        }
        c->bytes[i] = malloc((size_t)n);
        c->seen[i] = malloc((size_t)n);
        random_bytes(&r, c->bytes[i], n);
        const int sh = c->shuffles[i];
        if (sh > 1 && (s.kind != GLNN_KIND_TENSOR || (s.c / 4) % sh != 0))
            fail_msg("case '%s': shuffle %d does not fit input #%d", row, sh, i);
        if (sh > 1)
            shuffle_bytes(c->bytes[i], c->seen[i], s, sh);
        else
            memcpy(c->seen[i], c->bytes[i], (size_t)n);
    }
    assert_ok(glnn_chunks_create(&c->data, &err));
    make_weights(c, &r);
    return c;
}

void glnn_test_case_free(glnn_test_case *c) {
    if (!c) return;
    glnn_op_release(c->op);
    for (int i = 0; i < 2; i++) {
        free(c->bytes[i]);
        free(c->seen[i]);
    }
    free(c->floats);
    free(c->w);
    free(c->b);
    glnn_chunks_free(c->data);
    free(c);
}

void glnn_test_output_free(glnn_test_output *o) {
    free(o->bytes);
    free(o->floats);
    memset(o, 0, sizeof *o);
}

bool glnn_test_unsupported(glnn_status s, const glnn_error *err) {
    return s == GLNN_ERR_DEVICE && err && strstr(err->message, "not supported by the");
}

glnn_status glnn_test_case_run(glnn_test_case *c, glnn_context *ctx, glnn_test_output *out, glnn_error *err) {
    memset(out, 0, sizeof *out);
    glnn_tensor *made[2] = {NULL, NULL}, *ins[2] = {NULL, NULL}, *res = NULL;
    glnn_status s = GLNN_OK;
    for (int i = 0; i < c->n_inputs && s == GLNN_OK; i++) {
        const glnn_shape sh = c->shapes[i];
        const int64_t n = glnn_shape_count(sh);
        s = glnn_tensor_create(ctx, sh, &made[i], err);
        if (s == GLNN_OK && c->floats && i == 0) s = glnn_tensor_upload_f32(made[i], c->floats, n, err);
        if (s == GLNN_OK && c->bytes[i]) s = glnn_tensor_upload_u8(made[i], c->bytes[i], n, err);
        ins[i] = made[i];
        if (s != GLNN_OK || c->shuffles[i] <= 1) continue;
        /* The shuffled view a model's connection gives the op (model/model.c), made by the back end. */
        glnn_tensor *view = NULL;
        s = glnn_tensor_create(ctx, sh, &view, err);
        if (s == GLNN_OK) s = ctx->backend->shuffle(ctx, made[i], c->shuffles[i], view, err);
        if (s == GLNN_OK) {
            uint8_t *got = malloc((size_t)n);
            s = glnn_tensor_download_u8(view, got, n, err);
            if (s == GLNN_OK && memcmp(got, c->seen[i], (size_t)n) != 0)
                fail_msg("%s on %s: the shuffle by %d of input #%d differs from SPEC §6's", c->row,
                         glnn_context_path(ctx), c->shuffles[i], i);
            free(got);
        }
        glnn_tensor_free(made[i]);
        made[i] = ins[i] = view;
    }
    if (s == GLNN_OK && glnn_op_output_count(c->op) == 0) {
        /* Softmax: probabilities, one per input value. */
        s = glnn_op_run(ctx, c->op, c->data, ins, c->n_inputs, NULL, err);
        out->count = c->shapes[0].c;
        out->floats = malloc((size_t)out->count * sizeof(float));
        if (s == GLNN_OK) s = glnn_op_get_probabilities(c->op, out->floats, out->count, err);
    } else if (s == GLNN_OK) {
        s = glnn_op_run(ctx, c->op, c->data, ins, c->n_inputs, &res, err);
        if (s == GLNN_OK) {
            const glnn_shape os = glnn_tensor_shape(res);
            out->count = glnn_shape_count(os);
            if (os.kind == GLNN_KIND_VECTOR) {
                out->floats = malloc((size_t)out->count * sizeof(float));
                s = glnn_tensor_download_f32(res, out->floats, out->count, err);
            } else {
                out->bytes = malloc((size_t)out->count);
                s = glnn_tensor_download_u8(res, out->bytes, out->count, err);
            }
        }
    }
    glnn_tensor_free(res);
    glnn_tensor_free(made[0]);
    glnn_tensor_free(made[1]);
    if (s != GLNN_OK) glnn_test_output_free(out);
    return s;
}

/* ImageSampler nearest (SPEC §2.5, §5.4): whether `got` is the pixel of a neighbour that output value i may pick,
 * its source coordinate being within 10⁻³ pixel of a midpoint on an axis. */
static bool sampler_midpoint_ok(const glnn_test_case *c, int64_t i, uint8_t got) {
    const int64_t W = c->shapes[0].w, H = c->shapes[0].h, wo = param(c, "output_width"), ho = param(c, "output_height");
    const int rot = c->rotation;
    const int64_t wr = rot & 1 ? H : W, hr = rot & 1 ? W : H;
    double ax = 0, bx = (double)(wr - 1), ay = 0, by = (double)(hr - 1);
    if (param(c, "center_crop")) {
        if (wr * ho > hr * wo) {
            ax = ((double)wr - (double)hr * (double)wo / (double)ho) / 2;
            bx = (double)(wr - 1) - ax;
        } else if (wr * ho < hr * wo) {
            ay = ((double)hr - (double)wr * (double)ho / (double)wo) / 2;
            by = (double)(hr - 1) - ay;
        }
    }
    const int64_t x = i / 3 % wo, y = i / 3 / wo, ch = i % 3;
    const double px = wo == 1 ? (ax + bx) / 2 : ax + (double)x * (bx - ax) / (double)(wo - 1);
    const double py = ho == 1 ? (ay + by) / 2 : ay + (double)y * (by - ay) / (double)(ho - 1);
    int64_t cx[2], cy[2];
    int nx = 1, ny = 1;
    cx[0] = (int64_t)floor(px + 0.5);
    cy[0] = (int64_t)floor(py + 0.5);
    if (fabs(px - floor(px) - 0.5) <= 1e-3) cx[nx++] = (int64_t)floor(px);
    if (fabs(py - floor(py) - 0.5) <= 1e-3) cy[ny++] = (int64_t)floor(py);
    for (int a = 0; a < nx; a++)
        for (int b = 0; b < ny; b++) {
            const int64_t xr = cx[a] < 0 ? 0 : cx[a] >= wr ? wr - 1 : cx[a];
            const int64_t yr = cy[b] < 0 ? 0 : cy[b] >= hr ? hr - 1 : cy[b];
            /* Back from the rotated image (quarter turns clockwise) to the input. */
            const int64_t xs = rot == 0 ? xr : rot == 1 ? yr : rot == 2 ? W - 1 - xr : W - 1 - yr;
            const int64_t ys = rot == 0 ? yr : rot == 1 ? H - 1 - xr : rot == 2 ? H - 1 - yr : xr;
            if (c->bytes[0][(ys * W + xs) * 3 + ch] == got) return true;
        }
    return false;
}

/* Bytes: the budget in LSB. */
static int byte_budget(const glnn_test_case *c) {
    switch (c->info->kind) {
    case GLNN_OP_CONV2D: return 1;
    case GLNN_OP_POOLING2D: return param(c, "operator") == GLNN_POOLING_MAX ? 0 : 1;
    case GLNN_OP_IMAGE_SAMPLER: return param(c, "linear_interp") ? 1 : 0;
    case GLNN_OP_UPSAMPLING2D: return param(c, "interpolation") == GLNN_INTERPOLATION_BILINEAR ? 1 : 0;
    default: fail_msg("%s: SPEC §2.5 gives no byte budget for %s (tests/testutil.c)", c->row, c->info->class_name);
    }
    return 0;
}

/* Input value k as the op sees it: q/255 through the shuffle, or the vector's float. */
static double seen_input(const glnn_test_case *c, int64_t k) {
    return c->floats ? (double)c->floats[k] : c->seen[0][k] / 255.0;
}

bool glnn_test_value_ok(const glnn_test_case *c, const glnn_test_output *ref, const glnn_test_output *got, int64_t i,
                        double *share) {
    if (ref->bytes) {
        const int d = abs((int)got->bytes[i] - (int)ref->bytes[i]), budget = byte_budget(c);
        *share = d;
        if (d <= budget) return true;
        return c->info->kind == GLNN_OP_IMAGE_SAMPLER && budget == 0 && sampler_midpoint_ok(c, i, got->bytes[i]);
    }
    const double y = got->floats[i];
    double bound, d;
    if (c->info->kind == GLNN_OP_DENSE) {
        const int64_t n_in = c->shapes[0].c;
        bound = param(c, "use_bias") ? fabs((double)c->b[i]) : 0;
        for (int64_t k = 0; k < n_in; k++)
            bound += fabs((double)c->w[i * n_in + k] * seen_input(c, k));
        bound = 1e-4 * bound + 1e-6;
        d = fabs(y - (double)ref->floats[i]);
    } else if (c->info->kind == GLNN_OP_SOFTMAX) {
        /* From the exact softmax of the input (SPEC §2.5), whatever the reference gave. */
        const int64_t n = c->shapes[0].c;
        double m = seen_input(c, 0), sum = 0;
        for (int64_t k = 1; k < n; k++)
            m = fmax(m, seen_input(c, k));
        for (int64_t k = 0; k < n; k++)
            sum += exp(seen_input(c, k) - m);
        bound = 1e-5;
        d = fabs(y - exp(seen_input(c, i) - m) / sum);
    } else {
        fail_msg("%s: SPEC §2.5 gives no float budget for %s (tests/testutil.c)", c->row, c->info->class_name);
        return false;
    }
    *share = d / bound;
    return d <= bound;
}

void glnn_test_compare(const glnn_test_case *c, const glnn_test_output *ref, const glnn_test_output *got,
                       const char *where, glnn_test_tally *t) {
    if (got->count != ref->count)
        fail_msg("%s on %s: %lld values, the reference %lld", c->row, where, (long long)got->count,
                 (long long)ref->count);
    const int budget = ref->bytes ? byte_budget(c) : 0;
    if (ref->bytes && memcmp(got->bytes, ref->bytes, (size_t)ref->count) == 0) {
        t->exact += ref->count;
    } else if (ref->bytes) {
        for (int64_t i = 0; i < ref->count; i++) {
            const int d = abs((int)got->bytes[i] - (int)ref->bytes[i]);
            if (d == 0) {
                t->exact++;
                continue;
            }
            double share;
            if (d > budget && !glnn_test_value_ok(c, ref, got, i, &share))
                fail_msg("%s on %s: value %lld is %d, the reference %d", c->row, where, (long long)i, got->bytes[i],
                         ref->bytes[i]);
            if (d > t->max_lsb) t->max_lsb = d;
        }
    } else {
        for (int64_t i = 0; i < ref->count; i++) {
            double share;
            if (!glnn_test_value_ok(c, ref, got, i, &share))
                fail_msg("%s on %s: value %lld is %.9g, the reference %.9g (%.3g of the bound)", c->row, where,
                         (long long)i, got->floats[i], ref->floats[i], share);
            t->exact += memcmp(&got->floats[i], &ref->floats[i], sizeof(float)) == 0;
            if (share > t->worst) t->worst = share;
        }
    }
    t->values += ref->count;
    t->cases++;
}

double glnn_test_tally_share(const glnn_test_tally *t) {
    return t->values ? 100.0 * (double)t->exact / (double)t->values : 100.0;
}

void glnn_test_tally_print(const char *what, const glnn_test_tally *t) {
    printf("%s: %lld cases, %lld values, %.4f%% identical, largest difference ", what, (long long)t->cases,
           (long long)t->values, glnn_test_tally_share(t));
    if (t->worst > 0)
        printf("%.3f of the bound\n", t->worst);
    else
        printf("%lld LSB\n", (long long)t->max_lsb);
}

void glnn_test_tally_add(glnn_test_tally *into, const glnn_test_tally *t) {
    into->cases += t->cases;
    into->values += t->values;
    into->exact += t->exact;
    if (t->max_lsb > into->max_lsb) into->max_lsb = t->max_lsb;
    if (t->worst > into->worst) into->worst = t->worst;
}

/* ---- the Conv2D grids ------------------------------------------------------------------------------------------ */

static const int grid_kernels[] = {1, 2, 3, 4, 5, 7};
static const int grid_strides[] = {1, 2, 3};
/* (Cin, Cout, groups): image, regular, grouped (G 2 and 4) and depthwise. */
static const int grid_kinds[][3] = {{3, 4, 1},   {3, 8, 1},  {3, 32, 1},  {4, 4, 1},    {4, 8, 1},   {8, 32, 1},
                                    {16, 8, 1},  {64, 4, 1}, {64, 32, 1}, {8, 8, 2},    {16, 8, 2},  {16, 32, 4},
                                    {64, 32, 4}, {4, 4, 4},  {8, 8, 8},   {32, 32, 32}, {64, 64, 64}};
static const int grid_sizes[][2] = {{1, 1}, {1, 9}, {7, 1}, {5, 5}, {7, 9}, {12, 10}, {16, 16}, {9, 6}, {13, 17}};
#define GRID_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct {
    int k, s;
    glnn_padding pad;
    int cin, cout, groups;
    int h, w;
    bool residual, bias;
    glnn_activation act;
} grid_conv;

static void emit_conv(const grid_conv *g, void (*emit)(void *, const char *), void *user) {
    char row[256], input[64];
    if (g->cin == 3)
        snprintf(input, sizeof input, "image %dx%d", g->h, g->w);
    else
        snprintf(input, sizeof input, "%dx%dx%d%s", g->h, g->w, g->cin, g->residual ? " residual" : "");
    snprintf(row, sizeof row,
             "conv2d kernel_size=%d input_channels=%d output_channels=%d groups=%d stride=%d padding=%s use_bias=%s "
             "activation=%s | %s",
             g->k, g->cin, g->cout, g->groups, g->s, glnn_padding_name(g->pad), g->bias ? "true" : "false",
             glnn_activation_name(g->act), input);
    emit(user, row);
}

void glnn_test_conv_grid(int grid, void (*emit)(void *user, const char *row), void *user) {
    if (grid == 0) {
        /* Every kernel × stride × padding, each with four channel configurations and sizes picked in turn.  Two
         * ways of making an image input fit were written (test_conv2d_grid's, test_fragment's): both are kept. */
        int n = 0;
        for (int ki = 0; ki < GRID_COUNT(grid_kernels); ki++)
            for (int si = 0; si < GRID_COUNT(grid_strides); si++)
                for (int pi = 0; pi < 2; pi++)
                    for (int v = 0; v < 4; v++, n++) {
                        const int *kd = grid_kinds[(n * 7 + v) % GRID_COUNT(grid_kinds)];
                        const int *sz = grid_sizes[(n * 5 + v * 3) % GRID_COUNT(grid_sizes)];
                        grid_conv a = {grid_kernels[ki],
                                       grid_strides[si],
                                       pi ? GLNN_PADDING_SAME : GLNN_PADDING_VALID,
                                       kd[0],
                                       kd[1],
                                       kd[2],
                                       sz[0],
                                       sz[1],
                                       kd[0] != 3 && (n + v) % 2 == 0,
                                       (n + v) % 3 != 0,
                                       (glnn_activation)((n + v) % 3)};
                        grid_conv b = a;
                        if (a.pad == GLNN_PADDING_VALID && (a.h < a.k || a.w < a.k)) {
                            a.h += a.k;
                            a.w += a.k + 1;
                        }
                        if (a.cin == 3 && a.pad == GLNN_PADDING_SAME) a.pad = GLNN_PADDING_VALID;
                        if (a.pad == GLNN_PADDING_VALID && (a.h < a.k || a.w < a.k)) {
                            a.h += a.k;
                            a.w += a.k;
                        }
                        if (b.cin == 3) b.pad = GLNN_PADDING_VALID;
                        if (b.pad == GLNN_PADDING_VALID && (b.h < b.k || b.w < b.k)) {
                            b.h += b.k;
                            b.w += b.k + 1;
                        }
                        emit_conv(&a, emit, user);
                        if (a.pad != b.pad || a.h != b.h || a.w != b.w) emit_conv(&b, emit, user);
                    }
    } else if (grid == 1) {
        /* Every channel configuration × activation × residual × bias, at a fixed geometry. */
        for (int kd = 0; kd < GRID_COUNT(grid_kinds); kd++)
            for (int a = 0; a < 3; a++)
                for (int rb = 0; rb < 4; rb++) {
                    grid_conv g = {3, 1, GLNN_PADDING_SAME, grid_kinds[kd][0], grid_kinds[kd][1], grid_kinds[kd][2],
                                   6, 7, (rb & 1) != 0,     (rb & 2) != 0,     (glnn_activation)a};
                    if (g.cin == 3) {
                        g.pad = GLNN_PADDING_VALID;
                        if (g.residual) continue; /* an image input takes no residual */
                    }
                    emit_conv(&g, emit, user);
                }
    } else if (grid == 2) {
        /* Every size, including 1×1, 1×N and N×1, with strides and both paddings (VALID on a small input: 1×1). */
        for (int sz = 0; sz < GRID_COUNT(grid_sizes); sz++)
            for (int si = 0; si < GRID_COUNT(grid_strides); si++)
                for (int pi = 0; pi < 2; pi++) {
                    grid_conv g = {3,
                                   grid_strides[si],
                                   pi ? GLNN_PADDING_SAME : GLNN_PADDING_VALID,
                                   8,
                                   8,
                                   2,
                                   grid_sizes[sz][0],
                                   grid_sizes[sz][1],
                                   si == 1,
                                   true,
                                   GLNN_ACTIVATION_SIGMOID_LIKE};
                    if (g.pad == GLNN_PADDING_VALID && (g.h < g.k || g.w < g.k)) g.k = 1;
                    emit_conv(&g, emit, user);
                }
    }
}
