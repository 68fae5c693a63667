/* glnn's benchmark layers on XNNPACK (Debian's libxnnpack-dev, operator API), in three data types:
 *   f32  float tensors q/255, float weights; conv output clamped to [0, 1] (fused min/max);
 *   qs8  int8 tensors (scale 1/255, zero point -128), int8 weights (one scale per layer), int32 bias;
 *   qu8  uint8 tensors (scale 1/255, zero point 0: a byte q stands for q/255 as in glnn), uint8 weights
 *        (zero point 128), int32 bias.
 * The quantized outputs are requantized to [0, 1] by the operator itself (the clamp is their range). */
#include "peers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#define TYPES "f32,qs8,qu8"

typedef enum { F32, QS8, QU8 } dtype;
static const char *const type_names[] = {"f32", "qs8", "qu8"};

/* Quantization of a tensor: real = scale · (q − zero_point). */
typedef struct {
    float scale;
    int zero_point;
} quant;

typedef struct {
    const peer_case *c;
    dtype t;
    pthreadpool_t pool;
    xnn_operator_t ops[64];
    void *slots[64];
    int slot[64];
    quant q[64]; /* each layer's output */
    void *input; /* the case's input */
    quant input_q;
    float *deq_w[64]; /* weights and bias as the operator sees them, dequantized, HWIO (for --check) */
    float *deq_b[64];
} net;

static size_t elem_size(dtype t) {
    return t == F32 ? sizeof(float) : 1;
}

static const quant unit_q[3] = {{1.0f, 0}, {1.0f / 255, -128}, {1.0f / 255, 0}};
/* a conv output that feeds an add, before the clamp: [-1, 1] */
static const quant wide_q[3] = {{1.0f, 0}, {2.0f / 255, 0}, {2.0f / 255, 128}};
static const quant dense_q[3] = {{1.0f, 0}, {1.0f / 32, 0}, {1.0f / 32, 128}};

static int qmin(dtype t) {
    return t == QS8 ? -128 : 0;
}
static int qmax(dtype t) {
    return t == QS8 ? 127 : 255;
}

static void store_q(void *buf, int64_t i, int v, dtype t) {
    if (t == QS8)
        ((int8_t *)buf)[i] = (int8_t)v;
    else
        ((uint8_t *)buf)[i] = (uint8_t)v;
}

static float load_real(const void *buf, int64_t i, quant q, dtype t) {
    if (t == F32) return ((const float *)buf)[i];
    int v = t == QS8 ? ((const int8_t *)buf)[i] : ((const uint8_t *)buf)[i];
    return q.scale * (float)(v - q.zero_point);
}

static const char *status_name(enum xnn_status s) {
    switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
    }
    return "unknown status";
}

/* Weights of a conv layer in XNNPACK's layout [groups][group outputs][k][k][group inputs], quantized per layer
 * for qs8/qu8; deq receives what the operator multiplies by, in HWIO. */
static void *conv_weights(const peer_layer *l, dtype t, float *kscale, float *deq) {
    int k = l->k, cg = peer_group_inputs(l), cog = l->cout / l->groups;
    int64_t n = (int64_t)k * k * cg * l->cout;
    float m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fabsf(l->weights[i]) > m ? fabsf(l->weights[i]) : m;
    *kscale = m > 0 ? m / 127 : 1;
    void *w = malloc((size_t)n * elem_size(t));
    if (!w) return NULL;
    for (int g = 0; g < l->groups; g++)
        for (int o = 0; o < cog; o++)
            for (int tap = 0; tap < k * k; tap++)
                for (int ci = 0; ci < cg; ci++) {
                    int64_t src = ((int64_t)tap * cg + ci) * l->cout + g * cog + o;
                    int64_t dst = (((int64_t)g * cog + o) * k * k + tap) * cg + ci;
                    float v = l->weights[src];
                    if (t == F32) {
                        ((float *)w)[dst] = v;
                        deq[src] = v;
                    } else {
                        int q = (int)lrintf(v / *kscale);
                        store_q(w, dst, t == QU8 ? q + 128 : q, t);
                        deq[src] = (float)q * *kscale;
                    }
                }
    return w;
}

/* Bias quantized to int32 at scale in_scale·kernel_scale; deq receives its value. */
static int32_t *int_bias(const peer_layer *l, float scale, float *deq) {
    int32_t *b = malloc((size_t)l->cout * sizeof *b);
    if (!b) return NULL;
    for (int i = 0; i < l->cout; i++) {
        b[i] = (int32_t)lrintf(l->bias[i] / scale);
        deq[i] = (float)b[i] * scale;
    }
    return b;
}

static enum xnn_status create_conv(net *nt, int j) {
    const peer_layer *l = &nt->c->layers[j];
    dtype t = nt->t;
    int cg = peer_group_inputs(l), cog = l->cout / l->groups;
    quant in_q = l->input < 0 ? nt->input_q : nt->q[l->input];
    quant out_q = nt->q[j];
    float kscale;
    int64_t nw = (int64_t)l->k * l->k * cg * l->cout;
    nt->deq_w[j] = malloc((size_t)nw * sizeof(float));
    nt->deq_b[j] = malloc((size_t)l->cout * sizeof(float));
    if (!nt->deq_w[j] || !nt->deq_b[j]) return xnn_status_out_of_memory;
    void *w = conv_weights(l, t, &kscale, nt->deq_w[j]);
    if (!w) return xnn_status_out_of_memory;
    enum xnn_status s;
    if (t == F32) {
        memcpy(nt->deq_b[j], l->bias, (size_t)l->cout * sizeof(float));
        s = xnn_create_convolution2d_nhwc_f32(l->pad_top, l->pad_right, l->pad_bottom, l->pad_left, l->k, l->k, l->s,
                                              l->s, 1, 1, l->groups, cg, cog, l->cin, l->cout, w, l->bias,
                                              l->clamp ? 0.0f : -INFINITY, l->clamp ? 1.0f : INFINITY, 0, &nt->ops[j]);
    } else {
        int32_t *b = int_bias(l, in_q.scale * kscale, nt->deq_b[j]);
        if (!b) {
            free(w);
            return xnn_status_out_of_memory;
        }
        if (t == QS8)
            s = xnn_create_convolution2d_nhwc_qs8(l->pad_top, l->pad_right, l->pad_bottom, l->pad_left, l->k, l->k,
                                                  l->s, l->s, 1, 1, l->groups, cg, cog, l->cin, l->cout,
                                                  (int8_t)in_q.zero_point, in_q.scale, kscale, w, b,
                                                  (int8_t)out_q.zero_point, out_q.scale, -128, 127, 0, &nt->ops[j]);
        else
            s = xnn_create_convolution2d_nhwc_qu8(l->pad_top, l->pad_right, l->pad_bottom, l->pad_left, l->k, l->k,
                                                  l->s, l->s, 1, 1, l->groups, cg, cog, l->cin, l->cout,
                                                  (uint8_t)in_q.zero_point, in_q.scale, 128, kscale, w, b,
                                                  (uint8_t)out_q.zero_point, out_q.scale, 0, 255, 0, &nt->ops[j]);
        free(b);
    }
    free(w); /* XNNPACK packs the weights at creation */
    return s;
}

static enum xnn_status create_dense(net *nt, int j) {
    const peer_layer *l = &nt->c->layers[j];
    dtype t = nt->t;
    quant in_q = nt->q[l->input], out_q = nt->q[j];
    nt->deq_w[j] = malloc((size_t)l->cin * l->cout * sizeof(float));
    nt->deq_b[j] = malloc((size_t)l->cout * sizeof(float));
    void *w = malloc((size_t)l->cin * l->cout * elem_size(t));
    if (!nt->deq_w[j] || !nt->deq_b[j] || !w) {
        free(w);
        return xnn_status_out_of_memory;
    }
    float m = 0;
    for (int i = 0; i < l->cin * l->cout; i++)
        m = fabsf(l->weights[i]) > m ? fabsf(l->weights[i]) : m;
    float kscale = m > 0 ? m / 127 : 1;
    /* XNNPACK's layout: [outputs][inputs] */
    for (int i = 0; i < l->cin; i++)
        for (int o = 0; o < l->cout; o++) {
            float v = l->weights[i * l->cout + o];
            if (t == F32) {
                ((float *)w)[o * l->cin + i] = v;
                nt->deq_w[j][i * l->cout + o] = v;
            } else {
                int q = (int)lrintf(v / kscale);
                store_q(w, o * l->cin + i, t == QU8 ? q + 128 : q, t);
                nt->deq_w[j][i * l->cout + o] = (float)q * kscale;
            }
        }
    enum xnn_status s;
    if (t == F32) {
        memcpy(nt->deq_b[j], l->bias, (size_t)l->cout * sizeof(float));
        s = xnn_create_fully_connected_nc_f32(l->cin, l->cout, l->cin, l->cout, w, l->bias, -INFINITY, INFINITY, 0,
                                              &nt->ops[j]);
    } else {
        int32_t *b = int_bias(l, in_q.scale * kscale, nt->deq_b[j]);
        if (!b) {
            free(w);
            return xnn_status_out_of_memory;
        }
        if (t == QS8)
            s = xnn_create_fully_connected_nc_qs8(l->cin, l->cout, l->cin, l->cout, (int8_t)in_q.zero_point, in_q.scale,
                                                  kscale, w, b, (int8_t)out_q.zero_point, out_q.scale, -128, 127, 0,
                                                  &nt->ops[j]);
        else
            s = xnn_create_fully_connected_nc_qu8(l->cin, l->cout, l->cin, l->cout, (uint8_t)in_q.zero_point,
                                                  in_q.scale, 128, kscale, w, b, (uint8_t)out_q.zero_point, out_q.scale,
                                                  0, 255, 0, &nt->ops[j]);
        free(b);
    }
    free(w);
    return s;
}

static enum xnn_status create_op(net *nt, int j) {
    const peer_layer *l = &nt->c->layers[j];
    dtype t = nt->t;
    quant a = l->input < 0 ? nt->input_q : nt->q[l->input], o = nt->q[j];
    switch (l->kind) {
    case PEER_CONV: return create_conv(nt, j);
    case PEER_DENSE: return create_dense(nt, j);
    case PEER_ADD: {
        quant b = nt->q[l->other];
        if (t == F32) return xnn_create_add_nd_f32(0.0f, 1.0f, 0, &nt->ops[j]);
        if (t == QS8)
            return xnn_create_add_nd_qs8((int8_t)a.zero_point, a.scale, (int8_t)b.zero_point, b.scale,
                                         (int8_t)o.zero_point, o.scale, -128, 127, 0, &nt->ops[j]);
        return xnn_create_add_nd_qu8((uint8_t)a.zero_point, a.scale, (uint8_t)b.zero_point, b.scale,
                                     (uint8_t)o.zero_point, o.scale, 0, 255, 0, &nt->ops[j]);
    }
    case PEER_RESIZE:
        if (t == F32) return xnn_create_resize_bilinear2d_nhwc_f32(l->cin, l->cin, l->cin, 0, &nt->ops[j]);
        if (t == QS8) return xnn_create_resize_bilinear2d_nhwc_s8(l->cin, l->cin, l->cin, 0, &nt->ops[j]);
        return xnn_create_resize_bilinear2d_nhwc_u8(l->cin, l->cin, l->cin, 0, &nt->ops[j]);
    case PEER_POOL:
        if (t == F32)
            return xnn_create_global_average_pooling_nwc_f32(l->cin, l->cin, l->cin, -INFINITY, INFINITY, 0,
                                                             &nt->ops[j]);
        if (t == QS8)
            return xnn_create_global_average_pooling_nwc_qs8(l->cin, l->cin, l->cin, (int8_t)a.zero_point, a.scale,
                                                             (int8_t)o.zero_point, o.scale, -128, 127, 0, &nt->ops[j]);
        return xnn_create_global_average_pooling_nwc_qu8(l->cin, l->cin, l->cin, (uint8_t)a.zero_point, a.scale,
                                                         (uint8_t)o.zero_point, o.scale, 0, 255, 0, &nt->ops[j]);
    }
    return xnn_status_invalid_parameter;
}

static enum xnn_status setup_op(net *nt, int j) {
    const peer_layer *l = &nt->c->layers[j];
    dtype t = nt->t;
    xnn_operator_t op = nt->ops[j];
    pthreadpool_t p = nt->pool;
    const void *in = l->input < 0 ? nt->input : nt->slots[nt->slot[l->input]];
    void *out = nt->slots[nt->slot[j]];
    switch (l->kind) {
    case PEER_CONV:
        if (t == F32) return xnn_setup_convolution2d_nhwc_f32(op, 1, l->in_h, l->in_w, in, out, p);
        if (t == QS8) return xnn_setup_convolution2d_nhwc_qs8(op, 1, l->in_h, l->in_w, in, out, p);
        return xnn_setup_convolution2d_nhwc_qu8(op, 1, l->in_h, l->in_w, in, out, p);
    case PEER_ADD: {
        const size_t shape[4] = {1, (size_t)l->out_h, (size_t)l->out_w, (size_t)l->cout};
        const void *other = nt->slots[nt->slot[l->other]];
        if (t == F32) return xnn_setup_add_nd_f32(op, 4, shape, 4, shape, in, other, out, p);
        if (t == QS8) return xnn_setup_add_nd_qs8(op, 4, shape, 4, shape, in, other, out, p);
        return xnn_setup_add_nd_qu8(op, 4, shape, 4, shape, in, other, out, p);
    }
    case PEER_RESIZE:
        if (t == F32)
            return xnn_setup_resize_bilinear2d_nhwc_f32(op, 1, l->in_h, l->in_w, l->out_h, l->out_w, in, out, p);
        if (t == QS8)
            return xnn_setup_resize_bilinear2d_nhwc_s8(op, 1, l->in_h, l->in_w, l->out_h, l->out_w, in, out, p);
        return xnn_setup_resize_bilinear2d_nhwc_u8(op, 1, l->in_h, l->in_w, l->out_h, l->out_w, in, out, p);
    case PEER_POOL:
        if (t == F32) return xnn_setup_global_average_pooling_nwc_f32(op, 1, l->in_h * l->in_w, in, out, p);
        if (t == QS8) return xnn_setup_global_average_pooling_nwc_qs8(op, 1, l->in_h * l->in_w, in, out, p);
        return xnn_setup_global_average_pooling_nwc_qu8(op, 1, l->in_h * l->in_w, in, out, p);
    case PEER_DENSE:
        if (t == F32) return xnn_setup_fully_connected_nc_f32(op, 1, in, out, p);
        if (t == QS8) return xnn_setup_fully_connected_nc_qs8(op, 1, in, out, p);
        return xnn_setup_fully_connected_nc_qu8(op, 1, in, out, p);
    }
    return xnn_status_invalid_parameter;
}

static void net_free(net *nt) {
    for (int j = 0; j < 64; j++) {
        if (nt->ops[j]) xnn_delete_operator(nt->ops[j]);
        free(nt->slots[j]);
        free(nt->deq_w[j]);
        free(nt->deq_b[j]);
    }
    free(nt->input);
}

static bool net_build(net *nt, const peer_case *c, dtype t, pthreadpool_t pool) {
    memset(nt, 0, sizeof *nt);
    nt->c = c, nt->t = t, nt->pool = pool;
    nt->input_q = unit_q[t];
    for (int j = 0; j < c->n_layers; j++) {
        const peer_layer *l = &c->layers[j];
        nt->q[j] = l->kind == PEER_DENSE ? dense_q[t] : l->kind == PEER_CONV && !l->clamp ? wide_q[t] : unit_q[t];
    }
    /* the case's input: q/255 as floats, or the byte q as the quantized type stores q/255 */
    int64_t n_in = (int64_t)c->in_h * c->in_w * c->in_c;
    nt->input = malloc((size_t)n_in * elem_size(t) + XNN_EXTRA_BYTES);
    if (!nt->input) return false;
    for (int64_t i = 0; i < n_in; i++) {
        if (t == F32)
            ((float *)nt->input)[i] = (float)c->input[i] / 255.0f;
        else
            store_q(nt->input, i, c->input[i] + nt->input_q.zero_point, t);
    }
    int n_slots = peer_plan_slots(c, nt->slot);
    for (int s = 0; s < n_slots; s++) {
        int64_t size = 0;
        for (int j = 0; j < c->n_layers; j++)
            if (nt->slot[j] == s && peer_output_count(&c->layers[j]) > size) size = peer_output_count(&c->layers[j]);
        nt->slots[s] = calloc(1, (size_t)size * elem_size(t) + XNN_EXTRA_BYTES);
        if (!nt->slots[s]) return false;
    }
    for (int j = 0; j < c->n_layers; j++) {
        enum xnn_status s = create_op(nt, j);
        if (s == xnn_status_success) s = setup_op(nt, j);
        if (s != xnn_status_success) {
            fprintf(stderr, "peer_xnnpack: %s %s layer %s: %s\n", c->name, type_names[t], c->layers[j].name,
                    status_name(s));
            return false;
        }
    }
    return true;
}

static bool net_run(void *ctx) {
    net *nt = ctx;
    for (int j = 0; j < nt->c->n_layers; j++) {
        enum xnn_status s = xnn_run_operator(nt->ops[j], nt->pool);
        if (s != xnn_status_success) {
            fprintf(stderr, "peer_xnnpack: running %s: %s\n", nt->c->layers[j].name, status_name(s));
            return false;
        }
    }
    return true;
}

typedef struct {
    net *nt;
    int j;
} layer_run;

static bool layer_run_fn(void *ctx) {
    layer_run *r = ctx;
    return xnn_run_operator(r->nt->ops[r->j], r->nt->pool) == xnn_status_success;
}

/* --layers: each layer of the case timed alone (its inputs as the last whole run left them). */
static bool report_layers(net *nt, const peer_options *o, const char *peer) {
    const peer_case *c = nt->c;
    for (int j = 0; j < c->n_layers; j++) {
        layer_run r = {nt, j};
        double median, min;
        if (!peer_time_warm(layer_run_fn, &r, o->runs, 20, &median, &min)) return false;
        peer_case row = *c;
        snprintf(row.name, sizeof row.name, "%.18s/%.20s", c->name, c->layers[j].name);
        row.multiply_adds = c->layers[j].multiply_adds;
        peer_report(o, &row, peer, median, min, -1, "");
    }
    return true;
}

/* Runs the layers one at a time and compares each output with the reference run on the same (dequantized)
 * inputs and weights: the largest difference, in output LSB for 8-bit types, absolute for f32. */
static bool net_check(net *nt, double *max_diff) {
    const peer_case *c = nt->c;
    dtype t = nt->t;
    *max_diff = 0;
    for (int j = 0; j < c->n_layers; j++) {
        const peer_layer *l = &c->layers[j];
        if (xnn_run_operator(nt->ops[j], nt->pool) != xnn_status_success) return false;
        int64_t n_in = l->input < 0 ? (int64_t)c->in_h * c->in_w * c->in_c : peer_output_count(&c->layers[l->input]);
        int64_t n_out = peer_output_count(l);
        float *in = malloc((size_t)n_in * sizeof(float)), *other = NULL;
        float *want = malloc((size_t)n_out * sizeof(float));
        bool ok = in && want;
        const void *src = l->input < 0 ? nt->input : nt->slots[nt->slot[l->input]];
        quant src_q = l->input < 0 ? nt->input_q : nt->q[l->input];
        for (int64_t i = 0; ok && i < n_in; i++)
            in[i] = load_real(src, i, src_q, t);
        if (ok && l->kind == PEER_ADD) {
            other = malloc((size_t)n_out * sizeof(float));
            ok = other != NULL;
            for (int64_t i = 0; ok && i < n_out; i++)
                other[i] = load_real(nt->slots[nt->slot[l->other]], i, nt->q[l->other], t);
        }
        double layer_diff = 0;
        if (ok) {
            peer_reference_layer(l, nt->deq_w[j], nt->deq_b[j], in, other, want);
            /* an 8-bit output saturates at the ends of its range */
            double lo = t == F32 ? -INFINITY : nt->q[j].scale * (qmin(t) - nt->q[j].zero_point);
            double hi = t == F32 ? INFINITY : nt->q[j].scale * (qmax(t) - nt->q[j].zero_point);
            for (int64_t i = 0; i < n_out; i++) {
                double w = want[i] < lo ? lo : want[i] > hi ? hi : want[i];
                double d = fabs((double)load_real(nt->slots[nt->slot[j]], i, nt->q[j], t) - w);
                if (t != F32) d /= nt->q[j].scale;
                if (d > layer_diff) layer_diff = d;
            }
            if (layer_diff > *max_diff) *max_diff = layer_diff;
        }
        free(in);
        free(other);
        free(want);
        if (!ok) return false;
        if (layer_diff > (t == F32 ? 1e-4 : 1.0))
            fprintf(stderr, "peer_xnnpack: %s %s layer %s: %g %s from the reference\n", c->name, type_names[t], l->name,
                    layer_diff, t == F32 ? "abs" : "LSB");
    }
    return true;
}

int main(int argc, char **argv) {
    peer_options o;
    if (!peer_parse_args(argc, argv, "peer_xnnpack", TYPES, &o)) return 2;
    if (o.list) return peer_list_cases();
    enum xnn_status s = xnn_initialize(NULL);
    if (s != xnn_status_success) {
        fprintf(stderr, "peer_xnnpack: xnn_initialize: %s\n", status_name(s));
        return 1;
    }
    pthreadpool_t pool = pthreadpool_create((size_t)o.threads);
    if (!pool) {
        fprintf(stderr, "peer_xnnpack: cannot create a pool of %d threads\n", o.threads);
        return 1;
    }
    int rc = 0;
    peer_report_header(&o);
    for (int i = 0; i < peer_case_count(); i++) {
        if (!peer_case_selected(i, &o)) continue;
        peer_case c;
        if (!peer_case_build(i, &c)) {
            fprintf(stderr, "peer_xnnpack: out of memory\n");
            rc = 1;
            break;
        }
        for (int t = F32; t <= QU8; t++) {
            if (!peer_type_selected(type_names[t], &o)) continue;
            net nt;
            double median, min, diff = -1;
            char peer[32];
            snprintf(peer, sizeof peer, "xnnpack-%s", type_names[t]);
            bool ok = net_build(&nt, &c, (dtype)t, pool);
            if (ok && o.check) {
                ok = net_check(&nt, &diff);
                if (ok && diff > (t == F32 ? 1e-4 : 1.0)) rc = 1;
            }
            if (ok) ok = peer_time(net_run, &nt, o.runs, &median, &min);
            if (ok) peer_report(&o, &c, peer, median, min, diff, t == F32 ? "abs" : "LSB");
            if (ok && o.layers && c.n_layers > 1) ok = report_layers(&nt, &o, peer);
            if (!ok) rc = 1;
            net_free(&nt);
        }
        peer_case_free(&c);
    }
    pthreadpool_destroy(pool);
    xnn_deinitialize();
    return rc;
}
