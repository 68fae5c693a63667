/* Plans and per-ISA kernel tables of the fast CPU back end.  Internal to src/backends/cpu/.
 *
 * A plan (conv2d.c, pooling2d.c, …) is portable C: it checks the op, chooses the arithmetic and the blocking
 * for one ISA, packs the weights in that ISA's layout and keeps the table of that ISA's kernels.  The kernels
 * (kernels_c.c, kernels_avx2.c, kernels_avx512.c, kernels_neon.c, kernels_neondot.c) compute one work item — a range of
 * output rows and of channel blocks — with the thread's scratch memory; the run functions hand the items to
 * the pool.  A new ISA adds one file exporting a glnn_cpu_kernels table and one line in features.c. */
#ifndef GLNN_BACKENDS_CPU_KERNELS_H
#define GLNN_BACKENDS_CPU_KERNELS_H

#include "backends/cpu/cpu.h"

/* ---- Conv2D ---------------------------------------------------------------------------------------------- */

typedef enum {
    CONV_EXACT, /* the reference's arithmetic in its order (portable C) */
    CONV_INT,   /* integer planes of the weights, dot products of 4 bytes (VNNI) */
    CONV_FLOAT, /* float32 FMA, lanes = output channels */
} glnn_cpu_conv_method;

/* How the kernel finds the input bytes of one k-step (4 input channels for CONV_INT, 1 for CONV_FLOAT). */
typedef enum {
    SRC_BROADCAST, /* every lane of a channel block reads the same input value(s): broadcast from the row */
    SRC_EXPANDED,  /* lanes read different groups: rows staged with each lane's value in place */
    SRC_DEPTHWISE, /* lane = channel = input channel (float rows) */
} glnn_cpu_conv_source;

/* How input rows reach the kernel. */
typedef enum {
    ROWS_DIRECT,   /* pointers into the input (no horizontal padding); a zero row above and below */
    ROWS_COPY,     /* copied with zero margins left and right (and slack after the last pixel) */
    ROWS_EXPANDED, /* SRC_EXPANDED staging (bytes for CONV_INT, floats for CONV_FLOAT) */
    ROWS_FLOAT,    /* converted to float (q, not q/255) with zero margins: CONV_FLOAT broadcast, depthwise */
} glnn_cpu_conv_rows;

struct glnn_cpu_conv2d_plan {
    const struct glnn_cpu_kernels *kern;
    glnn_cpu_precision precision;
    glnn_cpu_conv_method method;
    glnn_cpu_conv_source source;
    glnn_cpu_conv_rows rows;
    /* Geometry (SPEC §3, §4.5) */
    char name[256];
    int k, s, groups, cg, cout_g;
    int64_t h, w, c;      /* input; c = 3 for an image */
    int64_t ho, wo, cout; /* output */
    int64_t pad_top, pad_left;
    bool image, depthwise, residual;
    glnn_activation act;
    /* Blocking */
    int lanes;            /* output channels per block (int32 or float lanes of the ISA's vectors) */
    int nb;               /* blocks: ⌈Cout / lanes⌉ */
    int nv;               /* blocks per register tile */
    int m;                /* pixels per register tile */
    int planes;           /* CONV_INT: 2 (int16) or 3 (int24) */
    int plane_bits;       /* CONV_INT: 8 */
    int steps;            /* k-steps per kernel row: quads (CONV_INT) or channels (CONV_FLOAT) of the k pixels */
    int px_bytes;         /* bytes (or floats) from one pixel to the next in a staged or direct row */
    int64_t row_px;       /* pixels of a staged row (margins included) */
    size_t row_bytes;     /* one staged row, slack included */
    size_t scratch_bytes; /* per thread */
    /* Weights in the kernel's layout */
    void *wpack;   /* CONV_INT: [nb][k][steps][planes][lanes·4] int8; CONV_FLOAT: [nb][k][steps][lanes] float */
    float *scale;  /* CONV_INT: [planes][nb·lanes] act_k·s_c·2^(bits·p)/255; CONV_FLOAT: [nb·lanes] act_k/255 */
    float *bias;   /* [nb·lanes], zeros past Cout */
    float *bias_k; /* bias times act_k: the kernels compute y = act_k·z (conv_template.h, store_block) */
    float act_k;   /* 255 (DEFAULT), 255·0.167 (BRELU6), 255·0.05 (SIGMOID_LIKE) */
    float res_k;   /* act_k / 255, the residual's factor */
    int32_t *expand_index; /* SRC_EXPANDED: [nb][steps/k][lanes] source element of each lane (quad or byte) */
    float *weights;        /* CONV_EXACT: the op's weights [k][k][Cg][Cout] */
    uint8_t *zero_row;     /* row_bytes of zeros (rows above and below the input) */
    float q_table[256];    /* q/255 as the reference rounds it */
    /* Depthwise 3×3 (stride 1 or 2) on ISAs with 32 vector registers (conv_template.h, dw3_chunked): output rows in
     * chunks of dw_xc pixels, the input rows of a chunk staged for the item's blocks into a ring that stays in the
     * first-level cache; 0 when the plan stages whole rows. */
    int dw_xc;
    /* AMX (x86-64 with AMX-INT8, the AVX-512 table; kernels_avx512.c): the same integer plane sums as tile products of
     * M output pixels × 16 channels per plane and block, the same epilogue, so the same bytes as the VNNI tiles.
     * A (the tile of input bytes) comes straight from the rows, one chunk per tap and kc bytes of its group
     * (amx_kpad = 0), or from an im2col row of amx_kpad bytes per pixel (window bytes in wpack's quad order,
     * zeros after); B from wpack, rows amx_kc / 4 quads apart by planes·64 bytes. */
    bool amx;
    int amx_m;          /* output pixels per strip (tile rows): min(16, Wo) */
    int amx_kc;         /* bytes of A per pixel and chunk (tile colsb) */
    int amx_chunks;     /* chunks of K per group */
    int amx_kpad;       /* im2col bytes per pixel, a multiple of 64; 0: A read from the rows */
    int amx_span;       /* grouped layers whose blocks read several groups: input channels of a block's groups (each
                         * block its own im2col rows, tap by tap; wpack [nb][amx_kpad / 4][planes][16][4] with zeros
                         * where a lane's group does not read); 0 otherwise */
    size_t amx_scratch; /* offset of the AMX scratch (sums, im2col rows, tile configuration) in the thread's scratch */
    double bound_lsb;   /* rigorous bound on |this − reference| before quantization, in LSB at the steepest slope */
    double flip_share;  /* expected share of bytes that differ from the reference because of the weight planes */
    char desc[160];
};

/* One run of a Conv2D plan. */
typedef struct {
    const struct glnn_cpu_conv2d_plan *plan;
    const uint8_t *in, *residual;
    uint8_t *out;
    glnn_cpu_pool *pool;
    int64_t row_items, block_items;
    int64_t row_grain; /* output rows per work item */
    int block_grain;   /* channel blocks per work item */
} glnn_cpu_conv2d_job;

/* ---- Pooling2D, ImageSampler, Upsampling2D ---------------------------------------------------------------- */

struct glnn_cpu_pooling2d_plan {
    const struct glnn_cpu_kernels *kern;
    bool is_max;
    int k, s;
    int64_t h, w, c, ho, wo, pad_top, pad_left;
    uint64_t avg_mul; /* AVERAGE with k ≤ 181: q = (2S + k²)·avg_mul >> 40, exact for every window sum */
};

struct glnn_cpu_image_sampler_plan {
    const struct glnn_cpu_kernels *kern;
    bool linear;
    int64_t h, w, ho, wo;
    /* The byte offset of rotated pixel (xr, yr) in the unrotated image is affine in xr and yr separately:
     * x0/x1 hold the column parts of an output column's two neighbours, y0/y1 the row parts of an output
     * row's; fx, fy the weights of the second neighbours as the reference rounds them to float. */
    int64_t *x0, *x1, *y0, *y1;
    float *fx, *fy;
    int32_t *x0_32, *x1_32; /* x0, x1 as 32-bit offsets for gathers; NULL when an image is too large */
    int64_t max_x;          /* the largest of x0 and x1 */
};

struct glnn_cpu_upsampling2d_plan {
    const struct glnn_cpu_kernels *kern;
    glnn_cpu_upsampling2d_params p;
    int64_t *i0, *i1; /* bilinear, per output column: the two input columns */
    float *f;         /* and the weight of i1 */
    int64_t *j0, *j1; /* per output row: the two input rows */
    float *g;         /* and the weight of j1 */
};

struct glnn_cpu_dense_plan {
    const struct glnn_cpu_kernels *kern;
    int64_t n_in, n_out;
    bool vector_input;
    float *matrix; /* [n_out][n_in], tensor input: divided by 255 */
    float *bias;
};

/* ---- per-ISA kernel tables -------------------------------------------------------------------------------- */

typedef struct glnn_cpu_kernels {
    glnn_cpu_isa isa;
    int int_lanes;   /* lanes of CONV_INT kernels; 0: none */
    int float_lanes; /* lanes of CONV_FLOAT kernels; 0: none */
    /* 32 vector registers: the wide register tiles (conv_template.h, CONV_REGS32); the plan's description only. */
    bool regs32;
    /* CONV_INT kernels take each input byte x as the signed byte x − 128 (NEON's sdot multiplies signed bytes):
     * their rows are always staged (ROWS_COPY, never ROWS_DIRECT) with the sign bit flipped, padding and the zero
     * row are 0x80, and the plan adds 128·Σ(weight bytes of each plane) back through bias_k (conv2d.c). */
    bool int_signed;
    /* The automatic arithmetic tries float before the integer planes: their dot products cost this ISA more than
     * its float multiply-adds (plain NEON: 6 instructions per 16 byte products, and 2 or 3 planes per weight). */
    bool float_first;
    /* Conv2D: output rows [r0, r1) × channel blocks [b0, b1) with this thread's scratch. */
    void (*conv2d)(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch);
    /* Pooling2D: output rows [r0, r1). */
    void (*pooling2d)(const struct glnn_cpu_pooling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0, int64_t r1);
    /* ImageSampler and Upsampling2D: output rows [r0, r1). */
    void (*image_sampler)(const struct glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                          int64_t r1);
    void (*upsampling2d)(const struct glnn_cpu_upsampling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                         int64_t r1);
    /* Connection shuffle (SPEC §6) of `pixels` pixels of `quads` quads: out quad i = in quad src[i]; NULL: the
     * portable loop of dense.c. */
    void (*shuffle)(const uint8_t *in, uint8_t *out, int64_t pixels, int64_t quads, const int32_t *src);
} glnn_cpu_kernels;

extern const glnn_cpu_kernels glnn_cpu_kernels_c;
#if defined(__x86_64__)
extern const glnn_cpu_kernels glnn_cpu_kernels_avx2;
extern const glnn_cpu_kernels glnn_cpu_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const glnn_cpu_kernels glnn_cpu_kernels_neon;
extern const glnn_cpu_kernels glnn_cpu_kernels_neondot;
#endif

/* The table of an ISA this binary has, NULL otherwise. */
const glnn_cpu_kernels *glnn_cpu_kernels_for(glnn_cpu_isa isa);

/* The portable kernels, shared by every table for what an ISA does not specialize. */
void glnn_cpu_conv2d_exact(const glnn_cpu_conv2d_job *job, int64_t r0, int64_t r1, int b0, int b1, void *scratch);
void glnn_cpu_pooling2d_c(const struct glnn_cpu_pooling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                          int64_t r1);
void glnn_cpu_image_sampler_c(const struct glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                              int64_t r1);
void glnn_cpu_upsampling2d_c(const struct glnn_cpu_upsampling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                             int64_t r1);

/* Staged rows of a Conv2D work item: the pointer to input row `iy` in the form plan->rows asks for, staging it
 * into the thread's ring (k slots after a small header) when not there yet.  Kernels call it per output row. */
typedef struct {
    int64_t tag[32]; /* input row held by each slot, −1 when none */
    uint8_t *slots;
} glnn_cpu_row_ring;

/* Activation and Q of SPEC §2.2, §4.6 for one value, as the reference computes them. */
static inline uint8_t glnn_cpu_act_q(glnn_activation a, float z) {
    return glnn_quantize(glnn_activate(a, z));
}

#endif
