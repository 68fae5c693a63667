/* Conv2D on the fast CPU back end: the plan (arithmetic, blocking, weight packing) and the run (work items
 * over the pool).  The kernels are in kernels_<isa>.c; cpu.h explains the arithmetic and its bounds. */
#define _GNU_SOURCE /* syscall */
#include "backends/cpu/kernels.h"
#include "ops/conv2d.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define GLNN_AMX_LINUX 1
#endif

/* Expected share of bytes flipped by the weight planes that a plan accepts, and the largest difference from
 * the reference before quantization, in LSB at the activation's steepest slope, that keeps every output
 * within 1 LSB (the rest of the unit covers float rounding in the activation and in Q). */
#define FLIP_BUDGET 5e-4
#define BOUND_BUDGET 0.9
/* The kernels' activation and Q work on 255·act(z) in float (conv_template.h): a few roundings of values
 * below 256 where an output is not saturated, far below this. */
#define EPILOGUE_LSB 1e-3
/* Largest window (k²·Cg) of the integer kernels: 32-bit plane accumulators cannot overflow below it. */
#define INT_MAX_WINDOW 60000

static const double U = 1.0 / 16777216.0; /* float32 unit roundoff, 2^-24 */

static double gamma_n(double n) {
    return n * U / (1.0 - n * U);
}

static double steepest_slope(glnn_activation a) {
    switch (a) {
    case GLNN_ACTIVATION_BRELU6: return 0.167;
    case GLNN_ACTIVATION_SIGMOID_LIKE: return 0.2;
    default: return 1.0;
    }
}

/* The factor of z in 255·act(z) on its linear part through 0: the kernels compute y = act_k·z. */
static double act_scale(glnn_activation a) {
    switch (a) {
    case GLNN_ACTIVATION_BRELU6: return 255.0 * 0.167;
    case GLNN_ACTIVATION_SIGMOID_LIKE: return 255.0 * 0.05;
    default: return 255.0;
    }
}

/* Linux hands AMX tile data to a process that asks for it (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
 * asked once, the answer cached in one atomic word (0: not asked yet, 1: granted, 2: refused). */
static bool amx_granted(void) {
#if GLNN_AMX_LINUX
    static atomic_int state;
    int v = atomic_load_explicit(&state, memory_order_acquire);
    if (v == 0) {
        v = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0 ? 1 : 2;
        atomic_store_explicit(&state, v, memory_order_release); /* a race only asks twice, with the same answer */
    }
    return v == 1;
#else
    return false;
#endif
}

bool glnn_cpu_amx_available(void) {
    const char *e = getenv("GLNN_CPU_AMX");
    if (e && strcmp(e, "0") == 0) return false;
    return (glnn_cpu_features() & GLNN_CPU_HAS_AMX_INT8) && glnn_cpu_isa_supported(GLNN_CPU_ISA_AVX512) &&
           amx_granted();
}

static void *aligned(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    return posix_memalign(&p, 64, bytes) == 0 ? memset(p, 0, bytes) : NULL;
}

void glnn_cpu_conv2d_plan_free(glnn_cpu_conv2d_plan *p) {
    if (!p) return;
    free(p->wpack);
    free(p->scale);
    free(p->bias);
    free(p->bias_k);
    free(p->expand_index);
    free(p->weights);
    free(p->zero_row);
    free(p);
}

/* Weight of tap (ky, kx), input channel ci of the group, output channel co. */
static float weight(const glnn_conv2d *c, int ky, int kx, int ci, int64_t co) {
    const int k = c->p.kernel_size, cout = c->p.num_output_channels;
    return glnn_conv2d_prep_of(&c->base)->weights[((int64_t)(ky * k + kx) * c->cg + ci) * cout + co];
}

/* Per output channel: the integer weights at `planes` 8-bit planes and their scale, and the error terms of
 * cpu.h.  Returns the worst bound (LSB) and, in *flip, the worst expected flipped share. */
static double int_bound(const glnn_conv2d *c, int planes, double *flip) {
    const int n = c->p.kernel_size * c->p.kernel_size * c->cg;
    const int64_t cout = c->p.num_output_channels;
    const double lim = 127.0 * (ldexp(1.0, 8 * planes) - 1.0) / 255.0;
    const double slope = steepest_slope(c->p.activation);
    double worst = 0, worst_flip = 0;
    for (int64_t co = 0; co < cout; co++) {
        double wmax = 0, l1 = 0;
        for (int i = 0; i < n; i++) {
            double w = fabs((double)glnn_conv2d_prep_of(&c->base)->weights[(int64_t)i * cout + co]);
            wmax = w > wmax ? w : wmax;
            l1 += w;
        }
        const double sc = wmax > 0 ? wmax / lim : 1.0;
        double e1 = 0, e2 = 0;
        for (int i = 0; i < n; i++) {
            double w = glnn_conv2d_prep_of(&c->base)->weights[(int64_t)i * cout + co],
                   e = fabs(w - sc * nearbyint(w / sc));
            e1 += e;
            e2 += e * e;
        }
        const double b = fabs((double)glnn_conv2d_prep_of(&c->base)->bias[co]);
        /* reference: products, n − 1 additions and the input rounding; then residual and bias additions.
         * ours: weight rounding (x ≤ 1), the plane conversions, scales and fused additions. */
        const double e_ref = gamma_n(n + 1) * l1 + 3 * U * (l1 + 1 + b);
        const double e_ours = e1 + 8 * U * (l1 + 1 + b);
        const double bound = 255 * slope * (e_ref + e_ours) + EPILOGUE_LSB;
        const double f = 0.8 * 255 * slope * sqrt(e2);
        worst = bound > worst ? bound : worst;
        worst_flip = f > worst_flip ? f : worst_flip;
    }
    *flip = worst_flip;
    return worst;
}

/* The float kernels: products of q (exact in float) and w, fused and summed in another order, then ·1/255. */
static double float_bound(const glnn_conv2d *c) {
    const int n = c->p.kernel_size * c->p.kernel_size * c->cg;
    const int64_t cout = c->p.num_output_channels;
    const double slope = steepest_slope(c->p.activation);
    double worst = 0;
    for (int64_t co = 0; co < cout; co++) {
        double l1 = 0;
        for (int i = 0; i < n; i++)
            l1 += fabs((double)glnn_conv2d_prep_of(&c->base)->weights[(int64_t)i * cout + co]);
        const double b = fabs((double)glnn_conv2d_prep_of(&c->base)->bias[co]);
        const double e_ref = gamma_n(n + 1) * l1 + 3 * U * (l1 + 1 + b);
        const double e_ours = gamma_n(n + 3) * l1 + 6 * U * (l1 + 1 + b);
        const double bound = 255 * slope * (e_ref + e_ours) + EPILOGUE_LSB;
        worst = bound > worst ? bound : worst;
    }
    return worst;
}

/* The constant of DEFAULT and BRELU6 in y = act_k·z + centre (conv_template.h, store_block). */
static double centre(glnn_activation a) {
    return a == GLNN_ACTIVATION_SIGMOID_LIKE ? 0.0 : -127.5;
}

/* Packs the integer planes: [nb][k (ky)][steps][planes][lanes][4] int8.  For kernels that take the inputs as
 * x − 128 (int_signed), bias_k gets 128·Σ_p scale_p·D_p back, D_p the sum of plane p's bytes of the channel over the
 * whole window (padding included: staged as 0x80, it reads x − 128 = −128 for x = 0 like every other tap), so that
 * Σ_p scale_p·Σ d·(x − 128) + bias_k is the VNNI kernels' Σ_p scale_p·Σ d·x + bias_k: the same exact integer
 * sums, evaluated in float on magnitudes at most 256/255 of the unsigned kernels' largest. */
static void pack_int(const glnn_conv2d *c, glnn_cpu_conv2d_plan *p) {
    const int k = p->k, planes = p->planes, lanes = p->lanes, steps = p->steps;
    const int64_t cout = p->cout;
    const int n = k * k * c->cg;
    const double lim = 127.0 * (ldexp(1.0, 8 * planes) - 1.0) / 255.0;
    int8_t *wp = p->wpack;
    for (int64_t co = 0; co < (int64_t)p->nb * lanes; co++) {
        const int b = (int)(co / lanes), l = (int)(co % lanes);
        double wmax = 0;
        for (int i = 0; co < cout && i < n; i++) {
            double w = fabs((double)glnn_conv2d_prep_of(&c->base)->weights[(int64_t)i * cout + co]);
            wmax = w > wmax ? w : wmax;
        }
        const double sc = wmax > 0 ? wmax / lim : 1.0;
        for (int pl = 0; pl < planes; pl++)
            p->scale[(int64_t)pl * p->nb * lanes + co] =
                co < cout ? (float)(p->act_k * sc * ldexp(1.0, 8 * pl) / 255.0) : 0.0f;
        if (co >= cout) continue;
        if (p->amx_span) { /* AMX, blocks reading several groups: [nb][kpad / 4][planes][lanes][4] (kernels.h) */
            const int span = p->amx_span, g = (int)(co / p->cout_g);
            const int64_t in0 = (int64_t)b * 16 / p->cout_g * c->cg; /* the block's first input channel */
            for (int q = 0; q < p->amx_kpad / 4; q++)
                for (int i = 0; i < 4; i++) {
                    const int kk = 4 * q + i, tap = kk / span;
                    const int64_t ci = in0 + kk % span; /* input channel of the layer */
                    int64_t wq = 0;
                    if (tap < k * k && ci < p->c && ci / c->cg == g)
                        wq = (int64_t)nearbyint(weight(c, tap / k, tap % k, (int)(ci % c->cg), co) / sc);
                    for (int pl = 0; pl < planes; pl++) {
                        int64_t d = ((wq % 256) + 256 + 128) % 256 - 128;
                        wq = (wq - d) / 256;
                        wp[(((size_t)b * (p->amx_kpad / 4) + q) * planes + pl) * lanes * 4 + (size_t)l * 4 + i] =
                            (int8_t)d;
                    }
                }
            continue;
        }
        int64_t digit_sum[3] = {0, 0, 0};
        for (int ky = 0; ky < k; ky++)
            for (int t = 0; t < steps; t++)
                for (int i = 0; i < 4; i++) {
                    /* The byte this lane meets at step t, byte i: which tap and channel. */
                    int kx, ci;
                    if (p->image) {
                        const int byte = 4 * t + i;
                        kx = byte / 3;
                        ci = byte % 3;
                    } else {
                        kx = t / (c->cg / 4);
                        ci = 4 * (t % (c->cg / 4)) + i;
                    }
                    int64_t wq = 0;
                    if (kx < k) wq = (int64_t)nearbyint(weight(c, ky, kx, ci, co) / sc);
                    for (int pl = 0; pl < planes; pl++) {
                        int64_t d = ((wq % 256) + 256 + 128) % 256 - 128; /* balanced digit in −128 … 127 */
                        wq = (wq - d) / 256;
                        size_t at = ((((size_t)b * k + ky) * steps + t) * planes + pl) * lanes * 4 + (size_t)l * 4 + i;
                        wp[at] = (int8_t)d;
                        digit_sum[pl] += d;
                    }
                }
        if (p->kern->int_signed) {
            double k_sum = (double)p->act_k * (double)glnn_conv2d_prep_of(&c->base)->bias[co] + centre(p->act);
            for (int pl = 0; pl < planes; pl++)
                k_sum += 128.0 * (double)p->scale[(int64_t)pl * p->nb * lanes + co] * (double)digit_sum[pl];
            p->bias_k[co] = (float)k_sum;
        }
    }
}

/* Packs float weights times act_k/255: [nb][k (ky)][steps][lanes], steps = k·Cg (kx, ci), or k for
 * depthwise. */
static void pack_float(const glnn_conv2d *c, glnn_cpu_conv2d_plan *p) {
    const int k = p->k, lanes = p->lanes, steps = p->steps;
    float *wp = p->wpack;
    for (int64_t co = 0; co < p->cout; co++) {
        const int b = (int)(co / lanes), l = (int)(co % lanes);
        p->scale[co] = 1.0f;
        for (int ky = 0; ky < k; ky++)
            for (int t = 0; t < steps; t++) {
                const int kx = p->depthwise ? t : t / c->cg, ci = p->depthwise ? 0 : t % c->cg;
                /* act_k/255 folded in: the sums start at bias_k and end as y (conv_template.h) */
                wp[(((size_t)b * k + ky) * steps + t) * lanes + l] =
                    (float)((double)weight(c, ky, kx, ci, co) * p->act_k / 255.0);
            }
    }
}

/* SRC_EXPANDED: for block b, step-in-pixel j and lane l, the element of the pixel that lane reads: a quad
 * (CONV_INT, j over Cg/4) or a channel (CONV_FLOAT, j over Cg).  Lanes past Cout read what channel Cout − 1 reads. */
static void fill_expand_index(glnn_cpu_conv2d_plan *p) {
    const int per_px = p->method == CONV_INT ? p->cg / 4 : p->cg;
    for (int b = 0; b < p->nb; b++)
        for (int j = 0; j < per_px; j++)
            for (int l = 0; l < p->lanes; l++) {
                /* Lanes past Cout read what the last channel reads: every lane of a block stays in its window. */
                const int64_t co = (int64_t)b * p->lanes + l < p->cout ? (int64_t)b * p->lanes + l : p->cout - 1;
                const int64_t g = co / p->cout_g;
                p->expand_index[((size_t)b * per_px + j) * p->lanes + l] = (int32_t)(g * per_px + j);
            }
}

static glnn_status layout(glnn_cpu_conv2d_plan *p, glnn_error *err) {
    const int lanes = p->lanes;
    p->nb = (int)((p->cout + lanes - 1) / lanes);
    const int64_t span = (p->wo - 1) * p->s + p->k; /* input columns the windows cover, padding included */
    const int64_t pad_right = span - p->pad_left - p->w > 0 ? span - p->pad_left - p->w : 0;
    if (p->method == CONV_EXACT) {
        p->rows = ROWS_DIRECT;
        p->nv = p->m = 1;
        p->row_px = p->w;
        p->row_bytes = 0;
        p->scratch_bytes = (size_t)p->cout * sizeof(float) + 64;
        return GLNN_OK;
    }
    p->row_px = span;
    if (p->method == CONV_INT) {
        if (p->image) {
            p->source = SRC_BROADCAST;
            p->steps = (3 * p->k + 3) / 4;
            p->rows = ROWS_COPY;
            p->px_bytes = 3;
        } else {
            p->source = p->groups == 1 || p->cout_g % lanes == 0 ? SRC_BROADCAST : SRC_EXPANDED;
            p->steps = p->k * (p->cg / 4);
            if (p->source == SRC_EXPANDED) {
                p->rows = ROWS_EXPANDED;
                p->px_bytes = (p->cg / 4) * lanes * 4;
            } else {
                /* Signed-input kernels read staged rows only (kernels.h, int_signed). */
                p->rows = p->pad_left == 0 && pad_right == 0 && !p->kern->int_signed ? ROWS_DIRECT : ROWS_COPY;
                p->px_bytes = (int)p->c;
            }
        }
        const bool two =
            p->source == SRC_BROADCAST && p->nb >= 2 && (p->image || p->groups == 1 || p->cout_g % (2 * lanes) == 0);
        p->nv = two ? 2 : 1;
        if (p->kern->regs32)
            p->m = p->planes == 2 ? (p->nv == 2 ? 6 : 12) : (p->nv == 2 ? 4 : 8);
        else
            p->m = p->planes == 2 ? (p->nv == 2 ? 2 : 5) : (p->nv == 2 ? 1 : 3);
    } else { /* CONV_FLOAT */
        if (p->depthwise) {
            p->source = SRC_DEPTHWISE;
            p->steps = p->k;
            p->rows = ROWS_FLOAT;
            p->px_bytes = lanes * 4; /* rows staged as one plane of VL channels per block */
            p->nv = 1;
            p->m = p->kern->regs32 ? 8 : 4;
        } else {
            p->source = p->image || p->groups == 1 || p->cout_g % lanes == 0 ? SRC_BROADCAST : SRC_EXPANDED;
            p->steps = p->k * p->cg;
            p->rows = p->source == SRC_EXPANDED ? ROWS_EXPANDED : ROWS_FLOAT;
            p->px_bytes = p->source == SRC_EXPANDED ? p->cg * lanes * 4 : (int)p->c * 4;
            const bool two = p->source == SRC_BROADCAST && p->nb >= 2 &&
                             (p->image || p->groups == 1 || p->cout_g % (2 * lanes) == 0);
            p->nv = two ? 2 : 1;
            p->m = p->kern->regs32 ? (p->nv == 2 ? 12 : 14) : (p->nv == 2 ? 5 : 6);
        }
    }
    /* Work items are chosen per run, for the pool's size (glnn_cpu_conv2d_plan_run); the scratch allows a
     * work item of every block. */
    /* Staged row: pixels × bytes per pixel (per block for expanded rows), slack for vector over-reads. */
    const int blocks = p->rows == ROWS_EXPANDED || p->source == SRC_DEPTHWISE ? p->nb : 1;
    if (p->rows == ROWS_DIRECT) {
        p->row_bytes = (size_t)(p->w * p->c) + 64;
    } else {
        int64_t bytes = 0;
        if (!glnn_mul_i64(span, p->px_bytes, &bytes) || !glnn_mul_i64(bytes, blocks, &bytes) ||
            bytes > ((int64_t)1 << 40))
            return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Conv2D '%s': staged rows too large", p->name);
        p->row_bytes = (size_t)bytes + 128;
    }
    p->row_bytes = (p->row_bytes + 63) & ~(size_t)63;
    p->scratch_bytes = p->rows == ROWS_DIRECT ? 64 : sizeof(glnn_cpu_row_ring) + 64 + (size_t)p->k * p->row_bytes;
    if (p->source == SRC_DEPTHWISE && p->k == 3 && p->s <= 2 && p->kern->isa == GLNN_CPU_ISA_AVX512 && p->wo >= 4) {
        /* Chunks whose three staged rows of every block fit in 32 KiB: (xc − 1)·s + 3 pixels × 64 bytes per block. */
        const int64_t per_px = (int64_t)3 * p->nb * lanes * 4, in_px = 32768 / per_px;
        int64_t xc = (in_px - 3) / p->s + 1;
        xc = xc / 4 * 4;
        xc = xc < 4 ? 4 : xc > p->wo ? p->wo : xc;
        p->dw_xc = (int)xc;
        const size_t ring = (size_t)3 * p->nb * (size_t)(((xc - 1) * p->s + 3) * lanes * 4);
        const size_t need = sizeof(glnn_cpu_row_ring) + 64 + ring + 64;
        p->scratch_bytes = need > p->scratch_bytes ? need : p->scratch_bytes;
    }
    return GLNN_OK;
}

/* AMX tiles for the integer sums (kernels.h): layers whose 16-channel blocks each read one group (the broadcast
 * source, images included).  A straight from the rows when a tap of a group is 32 or 64·n bytes, else from im2col
 * rows of at most 1 KiB; anything else keeps the VNNI tiles.  The sums are the VNNI tiles' sums, exactly. */
static void plan_amx(glnn_cpu_conv2d_plan *p) {
    /* Outputs of fewer than 64 pixels: the tiles' configuration and stores outweigh the products (the dog
     * classifier's 3×3 b6-conv: 0.014 ms against 0.010 with VNNI). */
    if (p->method != CONV_INT || p->kern->isa != GLNN_CPU_ISA_AVX512 || p->lanes != 16 || p->ho * p->wo < 64) return;
    int kc, kpad = 0, chunks, span = 0;
    if (p->source == SRC_EXPANDED) {
        /* Blocks that read several groups: each block's groups' input channels (a contiguous span) for every tap
         * in its im2col rows, the weights of other groups zero.  Worth it from two quads per lane (Cg ≥ 8): with
         * Cg = 4 the tile products spend 3/4 of their work on those zeros and the VNNI tiles are as fast. */
        if (p->cg < 8) return;
        for (int b = 0; b < p->nb; b++) {
            const int64_t g0 = (int64_t)b * 16 / p->cout_g,
                          last = (int64_t)b * 16 + 15 < p->cout ? b * 16 + 15 : p->cout - 1;
            const int64_t groups = last / p->cout_g - g0 + 1;
            span = groups * p->cg > span ? (int)(groups * p->cg) : span;
        }
        const int64_t window = (int64_t)p->k * p->k * span;
        if (span > 64 || window > 1024 || p->k * p->k > 64) return;
        kpad = (int)((window + 63) / 64 * 64);
        kc = 64;
        chunks = kpad / 64;
        /* Rows copied with zero margins (the im2col pieces read up to a span past a pixel's channels: slack). */
        p->rows = ROWS_COPY;
        p->px_bytes = (int)p->c;
        p->row_bytes = ((size_t)(p->row_px * p->c) + 128 + 63) & ~(size_t)63;
        p->scratch_bytes = sizeof(glnn_cpu_row_ring) + 64 + (size_t)p->k * p->row_bytes;
    } else if (p->source != SRC_BROADCAST) {
        return;
    } else if (!p->image && p->cg % 32 == 0) {
        kc = p->cg % 64 == 0 ? 64 : 32;
        chunks = p->k * p->k * (p->cg / kc);
    } else {
        /* im2col: per kernel row the bytes of its steps (an image row's 3k bytes and the zeros after them), or
         * per tap the group's Cg bytes; each copied by one masked load of at most 64 bytes. */
        const int piece = p->image ? 4 * p->steps : p->cg;
        const int64_t window = p->image ? (int64_t)p->k * piece : (int64_t)p->k * p->k * piece;
        if (piece > 64 || window > 1024 || (!p->image && p->k * p->k > 64)) return;
        kpad = (int)((window + 63) / 64 * 64);
        kc = 64;
        chunks = kpad / 64;
    }
    p->amx = true;
    /* Strips as even as the row allows (23 pixels: 12 + 11, not 16 + 7 recomputing 9): a tile product costs by
     * its rows above eight. */
    const int64_t strips = (p->wo + 15) / 16;
    p->amx_m = (int)((p->wo + strips - 1) / strips);
    p->amx_kc = kc;
    p->amx_kpad = kpad;
    p->amx_chunks = chunks;
    p->amx_span = span;
    /* After the row ring: the sums of six tiles (16 pixels × 16 lanes each, six slots per pixel as the VNNI tiles
     * keep them), im2col rows (one set per block of a pass when blocks read different groups), the tile
     * configuration. */
    p->amx_scratch = (p->scratch_bytes + 63) & ~(size_t)63;
    p->scratch_bytes = p->amx_scratch + 6 * 16 * 64 + (size_t)16 * kpad * (span ? 3 : 1) + 64;
}

static glnn_status make_plan(const glnn_conv2d *c, const glnn_cpu_kernels *kern, glnn_cpu_precision want,
                             bool allow_amx, glnn_cpu_conv2d_plan **out, glnn_error *err) {
    glnn_cpu_conv2d_plan *p = calloc(1, sizeof *p);
    if (!p) return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Conv2D '%s': out of memory", c->base.name);
    snprintf(p->name, sizeof p->name, "%s", c->base.name);
    p->kern = kern;
    p->k = c->p.kernel_size;
    p->s = c->p.stride;
    p->image = c->kind == CONV_IMAGE;
    p->depthwise = c->kind == CONV_DEPTHWISE;
    p->groups = p->image ? 1 : c->p.num_groups;
    p->cg = c->cg;
    p->cout = c->p.num_output_channels;
    p->cout_g = (int)(p->cout / p->groups);
    p->h = glnn_conv2d_prep_of(&c->base)->in_shape.h;
    p->w = glnn_conv2d_prep_of(&c->base)->in_shape.w;
    p->c = glnn_conv2d_prep_of(&c->base)->in_shape.c;
    p->ho = glnn_conv2d_prep_of(&c->base)->ay.n;
    p->wo = glnn_conv2d_prep_of(&c->base)->ax.n;
    p->pad_top = glnn_conv2d_prep_of(&c->base)->ay.before;
    p->pad_left = glnn_conv2d_prep_of(&c->base)->ax.before;
    p->residual = glnn_conv2d_prep_of(&c->base)->has_residual;
    p->act = c->p.activation;
    for (int q = 0; q < 256; q++)
        p->q_table[q] = (float)q / 255.0f;

    /* The arithmetic: the first candidate from `want` on that this ISA has and that keeps the bounds. */
    const int64_t window = (int64_t)p->k * p->k * p->cg;
    const bool small_kernel = p->k <= 32;
    const bool int_ok = kern->int_lanes > 0 && !p->depthwise && window <= INT_MAX_WINDOW && small_kernel;
    const bool float_ok = kern->float_lanes > 0 && small_kernel && window <= 1 << 20;
    const bool auto_mode = want == GLNN_CPU_PRECISION_AUTO;
    p->method = CONV_EXACT;
    p->precision = GLNN_CPU_PRECISION_EXACT;
    p->bound_lsb = 0;
    double flip = 0;
    /* ISAs whose integer dot products cost more than float (kernels.h, float_first): float first when automatic. */
    if (auto_mode && kern->float_first && float_ok) {
        double b = float_bound(c);
        if (b <= BOUND_BUDGET) p->method = CONV_FLOAT, p->precision = GLNN_CPU_PRECISION_FLOAT, p->bound_lsb = b;
    }
    if (p->method == CONV_EXACT && int_ok && want <= GLNN_CPU_PRECISION_INT16) {
        double b = int_bound(c, 2, &flip);
        if (b <= BOUND_BUDGET && (!auto_mode || flip <= FLIP_BUDGET)) {
            p->method = CONV_INT, p->planes = 2, p->precision = GLNN_CPU_PRECISION_INT16, p->bound_lsb = b;
            p->flip_share = flip;
        }
    }
    if (p->method == CONV_EXACT && int_ok && want <= GLNN_CPU_PRECISION_INT24) {
        double b = int_bound(c, 3, &flip);
        if (b <= BOUND_BUDGET && (!auto_mode || flip <= FLIP_BUDGET)) {
            p->method = CONV_INT, p->planes = 3, p->precision = GLNN_CPU_PRECISION_INT24, p->bound_lsb = b;
            p->flip_share = flip;
        }
    }
    if (p->method == CONV_EXACT && float_ok && want <= GLNN_CPU_PRECISION_FLOAT) {
        double b = float_bound(c);
        if (b <= BOUND_BUDGET) {
            p->method = CONV_FLOAT, p->precision = GLNN_CPU_PRECISION_FLOAT, p->bound_lsb = b;
            p->flip_share = 0;
        }
    }
    p->plane_bits = 8;
    p->lanes = p->method == CONV_INT ? kern->int_lanes : p->method == CONV_FLOAT ? kern->float_lanes : (int)p->cout;
    glnn_status s = layout(p, err);
    if (s != GLNN_OK) {
        glnn_cpu_conv2d_plan_free(p);
        return s;
    }
    if (allow_amx && glnn_cpu_amx_available()) plan_amx(p);

    const size_t nbl = (size_t)p->nb * p->lanes;
    bool ok = true;
    p->act_k = (float)act_scale(p->act);
    p->res_k = (float)(p->act_k / 255.0);
    p->bias = aligned(nbl * sizeof(float));
    p->bias_k = aligned(nbl * sizeof(float));
    ok = ok && p->bias && p->bias_k;
    for (int64_t co = 0; ok && co < p->cout; co++) {
        p->bias[co] = glnn_conv2d_prep_of(&c->base)->bias[co];
        /* DEFAULT, BRELU6: y = 255·act(z) + 0.5 − 128 (conv_template.h, store_block) */
        p->bias_k[co] = (float)(p->act_k * (double)glnn_conv2d_prep_of(&c->base)->bias[co] + centre(p->act));
    }
    if (p->method == CONV_EXACT) {
        const size_t n = (size_t)window * (size_t)p->cout;
        p->weights = malloc(n * sizeof(float));
        ok = ok && p->weights;
        if (ok) memcpy(p->weights, glnn_conv2d_prep_of(&c->base)->weights, n * sizeof(float));
    } else {
        const size_t per = p->method == CONV_INT ? (size_t)p->planes * p->lanes * 4 : (size_t)p->lanes * sizeof(float);
        /* AMX B tiles of im2col chunks read up to 16 quads past a block's last one (times zeros of A). */
        const size_t slack = p->amx ? (size_t)16 * p->planes * 64 : 0;
        const size_t packed =
            p->amx_span ? (size_t)p->nb * (p->amx_kpad / 4) * p->planes * 64 : (size_t)p->nb * p->k * p->steps * per;
        p->wpack = aligned(packed + slack);
        p->scale = aligned((size_t)(p->method == CONV_INT ? p->planes : 1) * nbl * sizeof(float));
        p->zero_row = aligned(p->row_bytes);
        ok = ok && p->wpack && p->scale && p->zero_row;
        /* The image of a zero input row for signed-input integer kernels (kernels.h, int_signed). */
        if (ok && p->method == CONV_INT && kern->int_signed) memset(p->zero_row, 0x80, p->row_bytes);
        if (ok && p->source == SRC_EXPANDED && !p->amx) {
            const int per_px = p->method == CONV_INT ? p->cg / 4 : p->cg;
            p->expand_index = aligned((size_t)p->nb * per_px * p->lanes * sizeof(int32_t));
            ok = p->expand_index != NULL;
            if (ok) fill_expand_index(p);
        }
        if (ok && p->method == CONV_INT) pack_int(c, p);
        if (ok && p->method == CONV_FLOAT) pack_float(c, p);
    }
    if (!ok) {
        glnn_cpu_conv2d_plan_free(p);
        return glnn_fail(err, GLNN_ERR_MEMORY, "CPU Conv2D '%s': out of memory for the packed weights", c->base.name);
    }
    static const char *const methods[] = {"exact", "int", "float"};
    static const char *const sources[] = {"broadcast", "expanded", "depthwise"};
    static const char *const rows[] = {"direct", "copy", "expanded", "float"};
    if (p->method == CONV_EXACT)
        snprintf(p->desc, sizeof p->desc, "%s exact", glnn_cpu_isa_name(kern->isa));
    else if (p->amx)
        snprintf(p->desc, sizeof p->desc, "%s %s%d amx %s rows-%s M%d K%d%s bound %.3f LSB flips %.1e",
                 glnn_cpu_isa_name(kern->isa), methods[p->method], 8 * p->planes, sources[p->source], rows[p->rows],
                 p->amx_m, p->amx_kpad ? p->amx_kpad : p->amx_kc, p->amx_kpad ? " im2col" : "", p->bound_lsb,
                 p->flip_share);
    else
        snprintf(p->desc, sizeof p->desc, "%s %s%d %s rows-%s NV%d M%d bound %.3f LSB flips %.1e",
                 glnn_cpu_isa_name(kern->isa), methods[p->method], p->method == CONV_INT ? 8 * p->planes : 32,
                 sources[p->source], rows[p->rows], p->nv, p->m, p->bound_lsb, p->flip_share);
    *out = p;
    return GLNN_OK;
}

glnn_status glnn_cpu_conv2d_plan_create_opts(const glnn_conv2d *c, glnn_cpu_isa isa,
                                             const glnn_cpu_conv2d_options *options, glnn_cpu_conv2d_plan **out,
                                             glnn_error *err) {
    const glnn_cpu_precision precision = options ? options->precision : GLNN_CPU_PRECISION_AUTO;
    if (!c || !out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Conv2D plan: no operation or output handle");
    if (!c->base.prep || !glnn_conv2d_prep_of(&c->base)->weights || !glnn_conv2d_prep_of(&c->base)->bias)
        return glnn_fail(err, GLNN_ERR_STATE, "CPU Conv2D plan of '%s': the operation is not prepared", c->base.name);
    if (isa == GLNN_CPU_ISA_AUTO) isa = glnn_cpu_isa_best();
    if (!glnn_cpu_isa_supported(isa))
        return glnn_fail(err, GLNN_ERR_DEVICE, "CPU Conv2D plan of '%s': instruction set '%s' not available",
                         c->base.name, glnn_cpu_isa_name(isa) ? glnn_cpu_isa_name(isa) : "?");
    switch (precision) {
    case GLNN_CPU_PRECISION_AUTO:
    case GLNN_CPU_PRECISION_INT16:
    case GLNN_CPU_PRECISION_INT24:
    case GLNN_CPU_PRECISION_FLOAT:
    case GLNN_CPU_PRECISION_EXACT: break;
    default:
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Conv2D plan of '%s': unknown precision %d", c->base.name,
                         (int)precision);
    }
    return make_plan(c, glnn_cpu_kernels_for(isa), precision, !(options && options->no_amx), out, err);
}

glnn_status glnn_cpu_conv2d_plan_create_ex(const glnn_conv2d *c, glnn_cpu_isa isa, glnn_cpu_precision precision,
                                           glnn_cpu_conv2d_plan **out, glnn_error *err) {
    const glnn_cpu_conv2d_options o = {precision, false};
    return glnn_cpu_conv2d_plan_create_opts(c, isa, &o, out, err);
}

glnn_status glnn_cpu_conv2d_plan_create(const glnn_conv2d *c, glnn_cpu_isa isa, glnn_cpu_conv2d_plan **out,
                                        glnn_error *err) {
    return glnn_cpu_conv2d_plan_create_ex(c, isa, GLNN_CPU_PRECISION_AUTO, out, err);
}

glnn_cpu_precision glnn_cpu_conv2d_plan_precision(const glnn_cpu_conv2d_plan *p) {
    return p ? p->precision : GLNN_CPU_PRECISION_AUTO;
}

bool glnn_cpu_conv2d_plan_amx(const glnn_cpu_conv2d_plan *p) {
    return p && p->amx;
}

glnn_cpu_isa glnn_cpu_conv2d_plan_isa(const glnn_cpu_conv2d_plan *p) {
    return p ? p->kern->isa : GLNN_CPU_ISA_AUTO;
}

const char *glnn_cpu_conv2d_plan_describe(const glnn_cpu_conv2d_plan *p) {
    return p ? p->desc : "";
}

static void run_items(void *arg, int64_t begin, int64_t end, int thread) {
    const glnn_cpu_conv2d_job *job = arg;
    const glnn_cpu_conv2d_plan *p = job->plan;
    void *scratch = glnn_cpu_pool_scratch(job->pool, thread);
    for (int64_t i = begin; i < end; i++) {
        const int64_t r = i / job->block_items, bi = i % job->block_items;
        const int64_t r0 = r * job->row_grain, r1 = r0 + job->row_grain < p->ho ? r0 + job->row_grain : p->ho;
        const int b0 = (int)(bi * job->block_grain), b1 = b0 + job->block_grain < p->nb ? b0 + job->block_grain : p->nb;
        if (p->method == CONV_EXACT)
            glnn_cpu_conv2d_exact(job, r0, r1, b0, b1, scratch);
        else
            p->kern->conv2d(job, r0, r1, b0, b1, scratch);
    }
}

glnn_status glnn_cpu_conv2d_plan_run(const glnn_cpu_conv2d_plan *p, glnn_cpu_pool *pool, const uint8_t *in,
                                     const uint8_t *residual, uint8_t *out, glnn_error *err) {
    if (!p || !pool || !in || !out || (p->residual && !residual))
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "CPU Conv2D%s%s: missing plan, pool, input or output", p ? " " : "",
                         p ? p->name : "");
    glnn_error cause;
    glnn_status s = glnn_cpu_pool_reserve(pool, p->scratch_bytes, "per-thread scratch", &cause);
    if (s != GLNN_OK) return glnn_fail(err, s, "CPU Conv2D '%s': %s", p->name, cause.message);
    glnn_cpu_conv2d_job job = {p, in, p->residual ? residual : NULL, out, pool, 0, 0, 1, p->nb};
    /* Work items: about four per thread, from whole rows of every block when there are enough rows (each
     * item stages the k − s rows above its first row again), else from channel blocks of fewer rows.  Expanded
     * rows hold a plane per block: items take as many blocks as keep the k staged rows within 32 KiB, so that
     * the tiles read them from the first-level cache. */
    const int64_t want = 4 * (int64_t)glnn_cpu_pool_size(pool);
    if (p->method != CONV_EXACT) {
        int cap = p->nb;
        if (p->rows == ROWS_EXPANDED) {
            const int64_t plane = p->row_px * p->px_bytes * p->k;
            cap = plane > 0 ? (int)(32768 / plane) : p->nb;
            cap = cap < p->nv ? p->nv : cap > p->nb ? p->nb : cap;
        }
        job.block_grain = cap;
        const int64_t block_items = (p->nb + cap - 1) / cap;
        if (p->ho * block_items >= want || p->nb < 2 * p->nv) {
            job.row_grain = (p->ho * block_items + want - 1) / want;
        } else {
            const int64_t per_row = (want + p->ho - 1) / p->ho; /* items wanted per row */
            int64_t g = (p->nb + per_row - 1) / per_row;
            g = (g + p->nv - 1) / p->nv * p->nv;
            job.block_grain = (int)(g < p->nv ? p->nv : g > cap ? cap : g);
        }
    }
    job.row_items = (p->ho + job.row_grain - 1) / job.row_grain;
    job.block_items = (p->nb + job.block_grain - 1) / job.block_grain;
    glnn_cpu_parallel_for(pool, job.row_items * job.block_items, 1, run_items, &job);
    return GLNN_OK;
}
