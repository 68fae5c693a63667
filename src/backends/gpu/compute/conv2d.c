/* Conv2D on the GPU: weights reordered once at preparation into the layout of the kernel chosen for the op,
 * one compute program per specialization (cached per context and on disk, see program.c).
 *
 * Kernels (variants):
 *   generic    shaders/conv2d.glsl: one output pixel × one output quad per invocation, storage buffers only;
 *              every Conv2D on every GLES 3.1 device.
 *   tiled      shaders/conv2d_tiled.glsl: P pixels × QQ output quads per invocation in registers, any
 *              kernel, stride and group size (not depthwise); for long sums (3×3 over many channels).
 *   rows       shaders/conv2d_rows.glsl MODE 0: image input, 1×1 over up to 64 channels per group, small
 *              groups; an invocation fetches the weights of its quads once and runs over a strip of blocks
 *              of P pixels of a row, reusing each input column for every kernel column.
 *   quad       conv2d_rows.glsl MODE 1: groups of 4 input and 4 output channels.
 *   depthwise  conv2d_rows.glsl MODE 2.
 *   gemm       shaders/conv2d_gemm.glsl: 16·n input and 64·n output channels per group; a work group stages
 *              128 pixels × 16 input channels and their weights in shared memory for each tap, every
 *              invocation computes 8 pixels × 8 channels; for GPUs with real shared memory and registers
 *              (the kernels above keep whole sums unrolled in registers, which suits llvmpipe only).
 *   gemm_fma   the same with fused multiply-adds: not bit-exact, within SPEC §2.5's 1 LSB; the choice on
 *              hardware GPUs, whose peak counts fused multiply-adds.
 * The texture kernels read tensors and weights through texture buffer views: on llvmpipe a texel fetch is
 * a vector gather (a function call), while a storage buffer read with a lane-varying address is a loop over
 * the lanes.  Every kernel sums each output value in the reference order (ky, kx, ci), with `precise`
 * arithmetic (but gemm_fma), so that results match the CPU reference bit for bit where the driver honours
 * `precise` and divides exactly (llvmpipe does; NVIDIA's q / 255 may differ in the last bit). */
#include "backends/gpu/compute/compute.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    VARIANT_GENERIC,
    VARIANT_TILED,
    VARIANT_ROWS,
    VARIANT_QUAD,
    VARIANT_DEPTHWISE,
    VARIANT_GEMM,
    VARIANT_GEMM_FMA,
    VARIANT_COUNT
};

static const char *const variant_names[VARIANT_COUNT] = {"generic",   "tiled", "rows",    "quad",
                                                         "depthwise", "gemm",  "gemm_fma"};

/* The back end's state for one prepared Conv2D: the kernel, its program and specialization, the weights in the
 * kernel's layout, and texture buffer views (input #0, weights and bias, input #1). */
typedef struct conv_state {
    int kernel;
    GLuint program, weights, bias;
    GLuint textures[3];
    /* pixels and output quads per invocation (per block for the rows kernels), rows per block (depthwise), blocks
     * per invocation (rows kernels), texel index of the bias, whether input #0 and the output (with input #1) are
     * accessed four quads at a time */
    int block_pixels, block_quads, block_rows, strip, bias_texel;
    bool wide_in, wide_out;
} conv_state;

/* Kernel sizes and strides of the rows kernels (each pair is a specialization: the columns of a row are
 * unrolled). */
#define ROWS_MAX_KSIZE 5
#define ROWS_MAX_STRIDE 2
/* The rows kernel unrolls the whole sum of an output value: up to 16 input quads per group (FOR_G in
 * conv2d_common.glsl) and k²·Cg/4 ≤ 144 (3×3 over 64 channels, 5×5 over 16). */
#define ROWS_MAX_QUADS 16
#define ROWS_MAX_TAP_QUADS 144

int glnn_gpu_conv2d_variant_count(void) {
    return VARIANT_COUNT;
}

const char *glnn_gpu_conv2d_variant_name(int variant) {
    return variant >= 0 && variant < VARIANT_COUNT ? variant_names[variant] : NULL;
}

int glnn_gpu_conv2d_variant_by_name(const char *name) {
    for (int v = 0; name && v < VARIANT_COUNT; v++)
        if (strcmp(name, variant_names[v]) == 0) return v;
    return -1;
}

/* Output quads per group (all of them for an image input, 1 for depthwise). */
static int out_quads_per_group(const glnn_conv2d *c) {
    return c->kind == CONV_DEPTHWISE ? 1 : c->p.num_output_channels / glnn_conv2d_groups(c) / 4;
}

/* Input quads per group: 1 for an image input (R, G, B, 0) and for depthwise. */
static int in_quads_per_group(const glnn_conv2d *c) {
    return c->kind == CONV_DEPTHWISE ? 1 : (c->cg + 3) / 4;
}

/* Whether the tensors and weights of c fit the device's texture buffers (true before its shapes are known). */
static bool fits_texture_buffers(const glnn_conv2d *c, const glnn_gpu *gpu) {
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(&c->base);
    if (!pp) return true; /* not prepared yet: checked again at preparation */
    const int64_t limit = gpu->max_texture_buffer_size, oq = c->p.num_output_channels / 4;
    const int64_t taps = (int64_t)c->p.kernel_size * c->p.kernel_size;
    const int64_t in = pp->in_shape.h * pp->in_shape.w * (c->kind == CONV_IMAGE ? 1 : pp->in_shape.c / 4);
    const int64_t out = pp->ax.n * pp->ay.n * oq;
    const int64_t weights = taps * (c->kind == CONV_DEPTHWISE ? 1 : 4 * in_quads_per_group(c)) * oq + oq;
    return in <= limit && out <= limit && weights <= limit;
}

static bool variant_supports(const glnn_conv2d *c, glnn_context *ctx, int variant) {
    if (variant < 0 || variant >= VARIANT_COUNT) return false;
    if (variant != VARIANT_GENERIC && ctx) {
        if (ctx->backend != &glnn_compute_backend) return false;
        glnn_gpu *gpu = glnn_gpu_of(ctx);
        if (glnn_gpu_make_current(gpu, NULL) != GLNN_OK || !glnn_gpu_texture_buffers(gpu)) return false;
        if (!fits_texture_buffers(c, gpu)) return false;
    }
    const bool rows_geometry = c->p.kernel_size <= ROWS_MAX_KSIZE && c->p.stride <= ROWS_MAX_STRIDE;
    switch (variant) {
    case VARIANT_GENERIC: return true;
    case VARIANT_TILED: return c->kind != CONV_DEPTHWISE;
    case VARIANT_ROWS:
        return c->kind != CONV_DEPTHWISE && rows_geometry && in_quads_per_group(c) <= ROWS_MAX_QUADS &&
               c->p.kernel_size * c->p.kernel_size * in_quads_per_group(c) <= ROWS_MAX_TAP_QUADS;
    case VARIANT_QUAD:
        return (c->kind == CONV_REGULAR || c->kind == CONV_GROUPED) && c->cg == 4 && out_quads_per_group(c) == 1 &&
               rows_geometry;
    case VARIANT_DEPTHWISE: return c->kind == CONV_DEPTHWISE && rows_geometry;
    case VARIANT_GEMM:
    case VARIANT_GEMM_FMA:
        return (c->kind == CONV_REGULAR || c->kind == CONV_GROUPED) && c->cg % 16 == 0 &&
               out_quads_per_group(c) % 16 == 0;
    default: return false;
    }
}

bool glnn_gpu_conv2d_variant_supports(const glnn_op *op, glnn_context *ctx, int variant) {
    return glnn_op_is(op, &glnn_conv2d_class) && variant_supports(glnn_conv2d_of(op), ctx, variant);
}

void glnn_conv2d_force_variant(glnn_op *op, int variant) {
    if (glnn_op_is(op, &glnn_conv2d_class)) op->kernel_hint = variant >= 0 && variant < VARIANT_COUNT ? variant : -1;
}

/* The state of op when it is a Conv2D prepared on a compute context, else NULL. */
static const conv_state *prepared_state(const glnn_op *op) {
    if (!glnn_op_is(op, &glnn_conv2d_class) || !op->prepared || op->prepared_ctx->backend != &glnn_compute_backend)
        return NULL;
    return op->state;
}

int glnn_conv2d_prepared_variant(const glnn_op *op) {
    const conv_state *st = prepared_state(op);
    return st ? st->kernel : -1;
}

void glnn_conv2d_prepared_kernel(const glnn_op *op, char *buf, size_t size) {
    const conv_state *st = prepared_state(op);
    if (!buf || !size) return;
    buf[0] = '\0';
    if (!st) return;
    const int v = st->kernel;
    if (v == VARIANT_GENERIC || v == VARIANT_GEMM || v == VARIANT_GEMM_FMA)
        snprintf(buf, size, "%s", variant_names[v]);
    else
        snprintf(buf, size, "%s P%d QQ%d R%d NB%d%s%s", variant_names[v], st->block_pixels, st->block_quads,
                 st->block_rows, st->strip, st->wide_in ? " wide-in" : "", st->wide_out ? " wide-out" : "");
}

/* The automatic choice, from measurements on llvmpipe and an NVIDIA H200 (bench/RESULTS.md). */
static int choose_variant(const glnn_conv2d *c, glnn_context *ctx) {
    /* GLNN_CONV_VARIANT=<name> (benchmarks, tests): that kernel wherever it supports the layer. */
    int wanted = glnn_gpu_conv2d_variant_by_name(getenv("GLNN_CONV_VARIANT"));
    if (wanted >= 0 && variant_supports(c, ctx, wanted)) return wanted;
    /* Hardware GPUs: gemm_fma where it applies, else the generic kernel (the others unroll whole sums into
     * per-invocation arrays, which real GPUs spill to memory: 10-100× slower on an H200). */
    if (!glnn_gpu_of(ctx)->software)
        return variant_supports(c, ctx, VARIANT_GEMM_FMA) ? VARIANT_GEMM_FMA : VARIANT_GENERIC;
    if (!variant_supports(c, ctx, VARIANT_TILED) && !variant_supports(c, ctx, VARIANT_DEPTHWISE))
        return VARIANT_GENERIC;
    if (c->kind == CONV_DEPTHWISE)
        return variant_supports(c, ctx, VARIANT_DEPTHWISE) ? VARIANT_DEPTHWISE : VARIANT_GENERIC;
    if (c->p.kernel_size > 1 && variant_supports(c, ctx, VARIANT_QUAD)) return VARIANT_QUAD;
    /* rows (weights fetched once per strip) beats tiled wherever it applies: 1.3× to 2× on llvmpipe. */
    if (variant_supports(c, ctx, VARIANT_ROWS)) return VARIANT_ROWS;
    return VARIANT_TILED;
}

/* Largest of the candidates (descending, ending with 1) that divides n. */
static int largest_divisor(int n, const int *candidates) {
    for (;; candidates++)
        if (*candidates <= 1 || n % *candidates == 0) return *candidates > 1 ? *candidates : 1;
}

/* Block sizes.  Larger blocks reuse more of what each invocation fetches but make longer programs: LLVM's
 * compile time grows with the size of the unrolled block, and a block larger than the instruction cache runs
 * slower.  Small layers get small blocks so that they still spread over enough invocations (which also keeps
 * the tests' small cases quick to compile). */

/* tiled: pixels (P) and output quads (QQ) per invocation. */
static void tiled_block(const glnn_conv2d *c, const glnn_conv2d_prep *pp, conv_state *st) {
    static const int quads4[] = {4, 2, 1};
    const int oq = c->p.num_output_channels / 4;
    /* 16 pixels share each weight texel on large layers (about 20% faster than 8 on llvmpipe). */
    int p = 8, q = largest_divisor(out_quads_per_group(c), quads4);
    const int64_t npix = pp->ax.n * pp->ay.n;
    if ((npix + 15) / 16 * (oq / q) >= 512) p = 16;
    while (q > 1 && (npix + p - 1) / p * (oq / q) < 512)
        q /= 2;
    if ((npix + p - 1) / p * (oq / q) < 512) p = 4;
    st->block_pixels = p;
    st->block_quads = q;
    st->block_rows = st->strip = 1;
}

/* rows, quad and depthwise: pixels (P), output quads (QQ) and output rows per block, blocks per invocation. */
static void strip_block(const glnn_conv2d *c, const glnn_conv2d_prep *pp, int variant, conv_state *st) {
    static const int quads8[] = {8, 4, 2, 1}, quads4[] = {4, 2, 1};
    const int oq = c->p.num_output_channels / 4, k = c->p.kernel_size;
    /* Vector multiply-adds per output quad and pixel in one block. */
    const int per_quad = k * k *
                         (variant == VARIANT_ROWS   ? (c->kind == CONV_IMAGE ? 3 : 4 * in_quads_per_group(c))
                          : variant == VARIANT_QUAD ? 4
                                                    : 1);
    int p = 8;
    int q = variant == VARIANT_ROWS ? largest_divisor(out_quads_per_group(c), quads8) : largest_divisor(oq, quads4);
    const bool flat = k == 1 && c->p.stride == 1;
    const int64_t width = flat ? pp->ax.n * pp->ay.n : pp->ax.n;
    /* Depthwise with stride 1: blocks of up to 4 output rows share the input rows between them (four rows of
     * a 3×3 read 6 input rows instead of 12). */
    int r = variant != VARIANT_DEPTHWISE || c->p.stride != 1 || k == 1 ? 1 : pp->ay.n >= 8 ? 4 : pp->ay.n >= 2 ? 2 : 1;
    if (width <= 4) p = 4;
    /* Blocks of at most 768 vector multiply-adds where possible: fewer pixels first (down to 4; four quads
     * share one fetch), then fewer quads; on small layers (where compiling costs more than running, as in
     * the tests) down to one pixel.  An image input (one layer per model) gets 1200: the 5×5 first layer of
     * the dog classifier then runs 4 × 4 blocks instead of 4 × 2, 10% faster on llvmpipe (raising the limit
     * for the quad kernel as well gained 6% on its layers but doubled the model's compile time). */
    const bool small = pp->ax.n * pp->ay.n * oq <= 8192;
    /* 1×1 layers run as one row: four quads with one pixel per block measured 20% faster than 4 × 2
     * (conv1x1_64_128 on llvmpipe). */
    const bool prefer_quads = flat && variant == VARIANT_ROWS;
    const int limit = c->kind == CONV_IMAGE ? 1200 : 768;
    while (p * q * r * per_quad > limit) {
        if (prefer_quads && q > 4)
            q /= 2;
        else if (prefer_quads && p > 1)
            p = 1;
        else if (p > 4)
            p = 4;
        else if (r > 2)
            r = 2;
        else if (q > 1)
            q /= 2;
        else if (small && p > 1)
            p /= 2;
        else
            break;
    }
    const int64_t height = flat ? 1 : (pp->ay.n + r - 1) / r;
    /* Small layers: at least 128 invocations (two work groups) where possible. */
    while ((width + p - 1) / p * height * (oq / q) < 128 && (q > 1 || p > 4)) {
        if (q > 2 || p <= 4)
            q /= 2;
        else
            p = 4;
    }
    const int64_t blocks = (width + p - 1) / p * height;
    /* Strips of up to 32 blocks, leaving about 256 invocations (4 work groups): each strip fetches its
     * weights once, and the two threads of llvmpipe still share the work evenly enough. */
    int64_t nb = blocks * (oq / q) / 256;
    st->strip = nb < 1 ? 1 : nb > 32 ? 32 : (int)nb;
    st->block_pixels = p;
    st->block_quads = q;
    st->block_rows = r;
}

/* Reorders [k][k][Cg][Cout] weights into the generic kernel's layout (see shaders/conv2d.glsl). */
static float *generic_weights(const glnn_conv2d *c, const float *weights, int64_t *n_floats) {
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg;
    const int qout = cout / 4;
    if (c->kind == CONV_DEPTHWISE) {
        int64_t n = (int64_t)qout * k * k * 4;
        float *w = calloc((size_t)n, sizeof(float));
        if (!w) return NULL;
        for (int oq = 0; oq < qout; oq++)
            for (int t = 0; t < k * k; t++)
                for (int j = 0; j < 4; j++)
                    w[((int64_t)oq * k * k + t) * 4 + j] = weights[(int64_t)t * cout + oq * 4 + j];
        *n_floats = n;
        return w;
    }
    const int cg_quads = (cg + 3) / 4;
    int64_t n = (int64_t)qout * k * k * cg_quads * 16;
    float *w = calloc((size_t)n, sizeof(float));
    if (!w) return NULL;
    for (int oq = 0; oq < qout; oq++)
        for (int t = 0; t < k * k; t++)
            for (int ci = 0; ci < cg; ci++)
                for (int j = 0; j < 4; j++) {
                    /* column ci%4 of matrix (oq, t, ci/4), row j = output channel 4·oq + j */
                    int64_t dst = (((int64_t)oq * k * k + t) * cg_quads + ci / 4) * 16 + (ci % 4) * 4 + j;
                    w[dst] = weights[((int64_t)t * cg + ci) * cout + oq * 4 + j];
                }
    *n_floats = n;
    return w;
}

/* Weights of the texture kernels, as RGBA32F texels, followed by the bias (one texel per output quad).
 * For each block of QQ output quads and tap t: tiled, rows and quad: for each input quad iq of the group and
 * channel j, QQ texels holding w(t, 4·iq + j, 4·oq + 0..3) of output quads oq of the block (0 past the
 * group's channels: the fourth channel of an image); depthwise: QQ texels w(t, 0, 4·oq + 0..3). */
static float *blocked_weights(const glnn_conv2d *c, const glnn_conv2d_prep *pp, int quads, int64_t *n_texels,
                              int64_t *bias_texel) {
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg;
    const int64_t blocks = cout / 4 / quads, taps = (int64_t)k * k;
    const int cgq = in_quads_per_group(c), channels = c->kind == CONV_DEPTHWISE ? 1 : 4 * cgq;
    const int64_t nw = blocks * taps * channels * quads, n = nw + cout / 4;
    float *w = calloc((size_t)n * 4, sizeof(float));
    if (!w) return NULL;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t t = 0; t < taps; t++)
            for (int ci = 0; ci < channels; ci++)
                for (int q = 0; q < quads; q++)
                    for (int j = 0; j < 4; j++) {
                        int64_t co = (b * quads + q) * 4 + j;
                        int64_t texel = ((b * taps + t) * channels + ci) * quads + q;
                        if (ci < cg) w[texel * 4 + j] = pp->weights[(t * cg + ci) * cout + co];
                    }
    memcpy(w + nw * 4, pp->bias, (size_t)cout * sizeof(float));
    *n_texels = n;
    *bias_texel = nw;
    return w;
}

static glnn_status prepare_generic(const glnn_conv2d *c, const glnn_conv2d_prep *pp, glnn_gpu *gpu, conv_state *st,
                                   const char *what, glnn_error *err) {
    int64_t n = 0;
    float *w = generic_weights(c, pp->weights, &n);
    if (!w) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    if (n * 4 > gpu->max_ssbo_size) {
        free(w);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: %lld bytes of weights exceed the device's storage block limit",
                         what, (long long)n * 4);
    }
    glnn_status s = glnn_gpu_buffer_create(n * 4, w, &st->weights, what, err);
    free(w);
    if (s == GLNN_OK) s = glnn_gpu_buffer_create((int64_t)c->p.num_output_channels * 4, pp->bias, &st->bias, what, err);
    if (s != GLNN_OK) return s;
    const int cout = c->p.num_output_channels;
    char defines[512];
    snprintf(defines, sizeof defines,
             "#define KSIZE %d\n#define STRIDE %d\n#define CG_QUADS %d\n#define OUT_QUADS_PER_GROUP %d\n"
             "#define DEPTHWISE %d\n#define HAS_RESIDUAL %d\n#define ACTIVATION %d\n",
             c->p.kernel_size, c->p.stride, c->kind == CONV_DEPTHWISE ? 1 : (c->cg + 3) / 4,
             c->kind == CONV_DEPTHWISE ? 1 : cout / glnn_conv2d_groups(c) / 4, c->kind == CONV_DEPTHWISE ? 1 : 0,
             pp->has_residual ? 1 : 0, (int)c->p.activation);
    return glnn_gpu_program(gpu, GLNN_SHADER_CONV2D, defines, &st->program, err);
}

static glnn_status prepare_texture_kernel(const glnn_conv2d *c, const glnn_conv2d_prep *pp, glnn_gpu *gpu,
                                          conv_state *st, const char *what, glnn_error *err) {
    const int variant = st->kernel;
    const bool gemm = variant == VARIANT_GEMM || variant == VARIANT_GEMM_FMA;
    if (gemm) {
        st->block_pixels = 8;
        st->block_quads = 16;
        st->block_rows = st->strip = 1;
    } else if (variant == VARIANT_TILED) {
        tiled_block(c, pp, st);
    } else {
        strip_block(c, pp, variant, st);
    }
    int64_t n = 0, bias_texel = 0;
    float *w = blocked_weights(c, pp, st->block_quads, &n, &bias_texel);
    if (!w) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    /* Every tensor is read through a texture buffer: each must fit the device's limit. */
    int64_t in_texels = pp->in_shape.h * pp->in_shape.w * (c->kind == CONV_IMAGE ? 1 : pp->in_shape.c / 4);
    int64_t out_texels = pp->ax.n * pp->ay.n * (c->p.num_output_channels / 4);
    int64_t limit = gpu->max_texture_buffer_size;
    if (n > limit || in_texels > limit || out_texels > limit) {
        free(w);
        return glnn_fail(err, GLNN_ERR_MEMORY,
                         "%s: the %s kernel reads %lld, %lld and %lld texels, above the device's texture buffer "
                         "limit of %lld",
                         what, variant_names[variant], (long long)n, (long long)in_texels, (long long)out_texels,
                         (long long)limit);
    }
    glnn_status s = glnn_gpu_buffer_create(n * 16, w, &st->weights, what, err);
    free(w);
    if (s != GLNN_OK) return s;
    glGenTextures(3, st->textures);
    glnn_gpu_buffer_view(gpu, 1, st->textures[1], GL_RGBA32F, st->weights);
    s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) return s;

    const int in_quads = c->kind == CONV_IMAGE ? 1 : (int)(pp->in_shape.c / 4), cgq = in_quads_per_group(c);
    st->wide_out = !gemm && st->block_quads % 4 == 0;
    st->wide_in = !gemm && c->kind != CONV_IMAGE && in_quads % 4 == 0 &&
                  (variant == VARIANT_TILED  ? cgq % 4 == 0
                   : variant == VARIANT_ROWS ? cgq == 4 || cgq == 8 || cgq == 16
                                             : st->wide_out);
    char defines[512];
    int used = snprintf(defines, sizeof defines,
                        "#define P %d\n#define QQ %d\n#define IMAGE %d\n#define HAS_RESIDUAL %d\n#define WIDE_IN %d\n"
                        "#define WIDE_OUT %d\n#define ACTIVATION %d\n",
                        st->block_pixels, st->block_quads, c->kind == CONV_IMAGE ? 1 : 0, pp->has_residual ? 1 : 0,
                        st->wide_in ? 1 : 0, st->wide_out ? 1 : 0, (int)c->p.activation);
    if (gemm)
        snprintf(defines + used, sizeof defines - (size_t)used,
                 "#define KSIZE %d\n#define STRIDE %d\n#define CG %d\n#define FUSED %d\n", c->p.kernel_size,
                 c->p.stride, c->cg, variant == VARIANT_GEMM_FMA ? 1 : 0);
    else if (variant != VARIANT_TILED)
        snprintf(defines + used, sizeof defines - (size_t)used,
                 "#define KSIZE %d\n#define STRIDE %d\n#define NCOLS %d\n#define MODE %d\n#define CGQ %d\n"
                 "#define NB %d\n#define DW_ROWS %d\n",
                 c->p.kernel_size, c->p.stride, (st->block_pixels - 1) * c->p.stride + c->p.kernel_size,
                 variant == VARIANT_ROWS   ? 0
                 : variant == VARIANT_QUAD ? 1
                                           : 2,
                 cgq, st->strip, st->block_rows);
    s = glnn_gpu_program(gpu,
                         gemm                       ? GLNN_SHADER_CONV2D_GEMM
                         : variant == VARIANT_TILED ? GLNN_SHADER_CONV2D_TILED
                                                    : GLNN_SHADER_CONV2D_ROWS,
                         defines, &st->program, err);
    if (s != GLNN_OK) return s;
    st->bias_texel = (int)bias_texel;
    return GLNN_OK;
}

static void release(glnn_context *ctx, void *state) {
    conv_state *st = state;
    glnn_gpu_free_state(ctx, st, (const GLuint[]){st->weights, st->bias}, 2, st->textures, 3);
}

/* The kernel (the op's kernel hint, else the automatic choice), the weights in
 * its layout, its program. */
static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    glnn_status s = GLNN_OK;
    GLNN_OP_WHAT(op, ": prepare");
    int variant = op->kernel_hint;
    if (variant < 0) {
        variant = choose_variant(c, ctx);
    } else if (!variant_supports(c, ctx, variant)) {
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: the '%s' kernel does not support this convolution%s", what,
                         variant_names[variant],
                         glnn_gpu_texture_buffers(gpu) ? "" : " on this device (no texture buffers)");
    }
    conv_state *st = calloc(1, sizeof *st);
    *state = st;
    if (!st) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    st->kernel = variant;
    s = variant == VARIANT_GENERIC ? prepare_generic(c, pp, gpu, st, what, err)
                                   : prepare_texture_kernel(c, pp, gpu, st, what, err);
    return s;
}

static glnn_status run_generic(const glnn_conv2d *c, const glnn_conv2d_prep *pp, const conv_state *st, glnn_gpu *gpu,
                               const glnn_tensor *const *inputs, glnn_tensor *output, const char *what,
                               glnn_error *err) {
    GLuint prog = st->program;
    glUseProgram(prog);
    int64_t in_quads = c->kind == CONV_IMAGE ? 1 : pp->in_shape.c / 4;
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)pp->in_shape.w, (GLint)pp->in_shape.h, (GLint)in_quads);
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)pp->ax.n, (GLint)pp->ay.n,
                (GLint)(c->p.num_output_channels / 4));
    glUniform2i(glGetUniformLocation(prog, "u_pad"), (GLint)pp->ax.before, (GLint)pp->ay.before);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, inputs[0]->buffer);
    if (pp->has_residual) glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1, inputs[1]->buffer);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 2, st->weights);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 3, st->bias);
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 4, output->buffer);
    return glnn_gpu_dispatch(gpu, pp->ax.n, pp->ay.n, c->p.num_output_channels / 4, 8, 8, 1, what, err);
}

static glnn_status run_texture_kernel(const glnn_conv2d *c, const glnn_conv2d_prep *pp, const conv_state *st,
                                      glnn_gpu *gpu, const glnn_tensor *const *inputs, glnn_tensor *output,
                                      const char *what, glnn_error *err) {
    GLuint prog = st->program;
    const int oq = c->p.num_output_channels / 4, pixels = st->block_pixels, quads = st->block_quads;
    /* The rows kernels run a 1×1 convolution with stride 1 as one row of pixels. */
    const bool flat = st->kernel != VARIANT_TILED && c->p.kernel_size == 1 && c->p.stride == 1;
    const int64_t in_w = flat ? pp->in_shape.w * pp->in_shape.h : pp->in_shape.w, in_h = flat ? 1 : pp->in_shape.h;
    const int64_t out_w = flat ? pp->ax.n * pp->ay.n : pp->ax.n, out_h = flat ? 1 : pp->ay.n;
    glUseProgram(prog);
    glUniform3i(glGetUniformLocation(prog, "u_in"), (GLint)in_w, (GLint)in_h,
                (GLint)(c->kind == CONV_IMAGE ? 1 : pp->in_shape.c / 4));
    glUniform3i(glGetUniformLocation(prog, "u_out"), (GLint)out_w, (GLint)out_h, (GLint)oq);
    glUniform2i(glGetUniformLocation(prog, "u_pad"), (GLint)pp->ax.before, (GLint)pp->ay.before);
    glUniform1i(glGetUniformLocation(prog, "u_bias"), st->bias_texel);
    glUniform1i(glGetUniformLocation(prog, "u_out_quads_per_group"), out_quads_per_group(c));
    int64_t blocks;
    const bool gemm = st->kernel == VARIANT_GEMM || st->kernel == VARIANT_GEMM_FMA;
    if (gemm) {
        glUniform1i(glGetUniformLocation(prog, "u_pixels"), (GLint)(out_w * out_h));
        blocks = (out_w * out_h + 127) / 128;
        glUniform1i(glGetUniformLocation(prog, "u_pixel_blocks"), (GLint)blocks);
    } else if (st->kernel == VARIANT_TILED) {
        glUniform1i(glGetUniformLocation(prog, "u_ksize"), c->p.kernel_size);
        glUniform1i(glGetUniformLocation(prog, "u_stride"), c->p.stride);
        glUniform1i(glGetUniformLocation(prog, "u_cg_quads"), in_quads_per_group(c));
        blocks = (pp->ax.n * pp->ay.n + pixels - 1) / pixels;
    } else {
        int64_t row_blocks = (out_w + pixels - 1) / pixels;
        glUniform1i(glGetUniformLocation(prog, "u_row_blocks"), (GLint)row_blocks);
        blocks = row_blocks * ((out_h + st->block_rows - 1) / st->block_rows);
    }
    glUniform1i(glGetUniformLocation(prog, "u_blocks"), (GLint)blocks);
    /* One dimension: blocks (strips of st->strip blocks for the rows kernels) of pixels, then blocks of output
     * quads. */
    int64_t invocations = (blocks + st->strip - 1) / st->strip * (oq / quads);
    const GLuint views[3] = {inputs[0]->buffer, 0, pp->has_residual ? inputs[1]->buffer : 0};
    const GLenum formats[3] = {st->wide_in ? GL_RGBA32UI : GL_R32UI, 0, st->wide_out ? GL_RGBA32UI : GL_R32UI};
    for (int i = 0; i < 3; i += 2)
        if (views[i]) glnn_gpu_buffer_view(gpu, i, st->textures[i], formats[i], views[i]);
    glnn_gpu_bind_view(1, st->textures[1]); /* the weights' view, made at preparation */
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 4, output->buffer);
    glnn_status s;
    if (gemm) {
        /* Work groups of 128 invocations: x (then z) over the blocks of 128 pixels, y over the blocks of 16
         * output quads. */
        int64_t layers = (blocks + gpu->max_group_count[0] - 1) / gpu->max_group_count[0];
        s = glnn_gpu_dispatch(gpu, (blocks + layers - 1) / layers * 128, oq / 16, layers, 128, 1, 1, what, err);
    } else {
        int64_t groups = (invocations + 63) / 64,
                rows = (groups + gpu->max_group_count[0] - 1) / gpu->max_group_count[0];
        s = glnn_gpu_dispatch(gpu, (groups + rows - 1) / rows * 64, rows, 1, 64, 1, 1, what, err);
    }
    /* The views let go of the tensors, which may be freed before this op runs again. */
    for (int i = 0; i < 3; i += 2)
        if (views[i]) glnn_gpu_buffer_view(gpu, i, st->textures[i], formats[i], 0);
    return s;
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    const conv_state *st = state;
    GLNN_OP_WHAT(op, "");
    return st->kernel == VARIANT_GENERIC ? run_generic(c, pp, st, glnn_gpu_of(ctx), inputs, output, what, err)
                                         : run_texture_kernel(c, pp, st, glnn_gpu_of(ctx), inputs, output, what, err);
}

const glnn_op_impl glnn_compute_conv2d = {.prepare = prepare, .run = run, .release = release};
