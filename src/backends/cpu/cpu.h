/* The fast CPU back end (SPEC §1, device `cpu`; issue 14): SIMD kernels chosen at run time by CPU features,
 * and a thread pool.  Internal API, ready to be wired into the back-end table.
 *
 * Every operation is "plan at preparation, run many times": a plan reads the op's parameters and prepared
 * fields (shapes, geometry, float32 weights), repacks the weights for the kernels, and chooses the kernel and
 * the arithmetic; running it reads the reference's tensor storage (HWC bytes, C a multiple of 4; images
 * H×W×3 bytes; vectors float32) and writes the output in the same storage.  A plan is immutable once made:
 * several threads may run one plan at the same time, each with its own pool.  Plans never print, exit or
 * abort; planning fails with a glnn_error naming the op and the cause and leaves the op untouched.
 *
 * Results (SPEC §2.5): every 8-bit output within 1 LSB of the reference (src/cpu/), and in practice all but
 * a few bytes in 100,000 identical; Pooling2D, ImageSampler, the shuffle and Upsampling2D nearest bit for bit,
 * Dense within SPEC's Dense bound.  Conv2D picks its arithmetic per layer at plan time (`precision`):
 *  - int16 / int24 (AVX-512 VNNI, AArch64 NEON): the weights of each output channel become integers at a
 *    per-channel scale, split into two or three signed 8-bit planes; `vpdpbusd` multiplies 4 input bytes by 4
 *    plane bytes into 32-bit sums, exact (NEON: `sdot`, or smull and pairwise adds without DotProd, on the
 *    inputs as signed x − 128, the plan adding 128·Σ plane bytes back through the bias: the same sums); the
 *    planes' sums are then scaled, biased, activated and quantized in float.
 *  - float (AVX2 everywhere, NEON without DotProd first, depthwise on AVX-512 and NEON): float32 fused
 *    multiply-adds of the input bytes in another order than the reference.
 *  - exact (portable C; the fallback of every ISA): the reference's operations in its order, bit for bit.
 * The plan computes from the weights (a) a rigorous bound on |result − reference| before quantization: the
 * weight rounding (Σ|residual|, inputs at most 1), the reference's own float32 rounding (γ_(n+1)·Σ|w|) and
 * ours, in LSB through the activation's steepest slope; (b) for the integer planes, the expected share of
 * flipped bytes, 0.8·σ of the weight-rounding error in LSB (σ with every input at 1, so an overestimate).  It
 * takes the cheapest arithmetic whose bound stays within 0.9 LSB (no output more than 1 LSB off) and whose
 * expected flips stay within 5·10⁻⁴ (half of SPEC's 10⁻³; the reference's own rounding flips about 10⁻⁵
 * against exact arithmetic).  Measured (tests/test_cpu_kernels.c): 99.999 % identical on the dog classifier
 * op by op, 99.99 % on random layers, int16 on the benchmark's layers, int24 on the dog classifier's (its
 * weights reach 45: int16 would flip 0.3 % of its bytes).
 *
 * Instruction sets (one binary per architecture): x86-64 AVX-512 (F, BW, DQ, VL and VNNI) and AVX2 + FMA;
 * AArch64 NEON with the dot-product extension (ARMv8.2 DotProd: Raspberry Pi 5) and plain NEON (Pi 3, 4);
 * portable C everywhere.  features.c probes the CPU (CPUID and XGETBV; getauxval(AT_HWCAP) HWCAP_ASIMD and
 * HWCAP_ASIMDDP on AArch64 Linux) and takes the best; GLNN_CPU_ISA names another (c, avx2, avx512, neon,
 * neondot).  Where an x86-64 processor also has AMX-INT8 (and Linux grants the tile data,
 * glnn_cpu_amx_available; GLNN_CPU_AMX=0 or the plan option no_amx turn it off), the AVX-512 integer plans of
 * layers of at least 64 output pixels whose channel blocks read one group (dense, 1×1, image input, groups of
 * 16·n outputs), or several groups of at least 8 channels, compute their plane sums as AMX tile products
 * (tdpbusd) instead of vpdpbusd: the same exact sums, the same epilogue, the same bytes (tests/test_cpu_kernels.c
 * compares each such plan with its VNNI twin).  Each ISA's kernels live in their own file compiled with that
 * ISA's flags (kernels_<isa>.c: vector layer and ISA-only kernels, then the shared templates conv_template.h and
 * ops_template.h) and export one glnn_cpu_kernels table (kernels.h); a plan takes the table of the ISA asked
 * for, or the best one present.
 * Threads come from a pool made once per context (glnn_cpu_pool); the run functions split their work into
 * items of output rows and channel blocks, about four per thread, handed out dynamically.
 *
 * Files:
 *   cpu.h, kernels.h   this interface; the plans' layout, the kernel table and what each ISA asks of the plans
 *   conv2d.c           Conv2D plans: the arithmetic and its bound, blocking, weight packing, the run over the pool
 *   ops.c, dense.c     Pooling2D, ImageSampler, Upsampling2D plans; Dense and the connection shuffle
 *   pool.c, features.c the thread pool; the CPU probe and the ISA names;  backend.c: the back end's table
 *   conv_template.h    Conv2D register tiles and row staging over a vector layer, compiled once per ISA
 *   ops_template.h     Pooling2D, ImageSampler, Upsampling2D in C, compiled (vectorized by GCC) once per ISA
 *   kernels_c.c        the portable kernels (Conv2D: the exact arithmetic)
 *   kernels_avx2.c, kernels_avx512.c     x86-64: vector layers, ImageSampler with gathers, VNNI row staging,
 *                                        connection shuffle; AVX-512: depthwise 3×3 rows, AMX tiles
 *   neon_vec.h         the AArch64 vector layer (4 lanes, 32 registers; vi_dot on sdot or smull; signed inputs)
 *   kernels_neon.c, kernels_neondot.c    AArch64: neon_vec.h with the templates, plain and -march=armv8.2-a+dotprod
 * AArch64 is tested under qemu-user by `make test-aarch64` (cmake/aarch64-linux-gnu.cmake, tests/CMakeLists.txt).
 */
#ifndef GLNN_BACKENDS_CPU_H
#define GLNN_BACKENDS_CPU_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

struct glnn_conv2d;
struct glnn_pooling2d;
struct glnn_dense;
struct glnn_image_sampler;

/* ---- CPU features and instruction sets (features.c) ---------------------------------------------------- */

typedef enum glnn_cpu_isa {
    GLNN_CPU_ISA_AUTO = -1, /* the best one the CPU and the OS support */
    GLNN_CPU_ISA_C = 0,     /* portable C, any CPU */
    GLNN_CPU_ISA_AVX2,      /* x86-64 AVX2 + FMA */
    GLNN_CPU_ISA_AVX512,    /* x86-64 AVX-512 F, BW, DQ, VL and VNNI */
    GLNN_CPU_ISA_NEON,      /* AArch64 Advanced SIMD */
    GLNN_CPU_ISA_NEONDOT,   /* AArch64 Advanced SIMD with the dot-product extension (ARMv8.2 DotProd) */
    GLNN_CPU_ISA_COUNT
} glnn_cpu_isa;

/* Feature bits found by the probe (CPUID and XGETBV on x86-64; getauxval(AT_HWCAP) on AArch64 Linux, Advanced SIMD
 * alone on other AArch64 systems; 0 elsewhere). */
enum {
    GLNN_CPU_HAS_AVX2 = 1u << 0,   /* with FMA, and the OS saving YMM state */
    GLNN_CPU_HAS_AVX512 = 1u << 1, /* F, BW, DQ, VL, and the OS saving ZMM state */
    GLNN_CPU_HAS_AVX512VNNI = 1u << 2,
    GLNN_CPU_HAS_AVXVNNI = 1u << 3,
    GLNN_CPU_HAS_AMX_INT8 = 1u << 4,
    GLNN_CPU_HAS_NEON = 1u << 5,    /* AArch64 Advanced SIMD (HWCAP_ASIMD) */
    GLNN_CPU_HAS_DOTPROD = 1u << 6, /* AArch64 SDOT/UDOT (HWCAP_ASIMDDP) */
};

/* The probed feature bits; probed once, thread-safe (the only global state of the back end). */
unsigned glnn_cpu_features(void);
/* Whether this binary has kernels for `isa` and the CPU can run them. */
bool glnn_cpu_isa_supported(glnn_cpu_isa isa);
/* The best supported ISA. */
glnn_cpu_isa glnn_cpu_isa_best(void);
/* "c", "avx2", "avx512", "neon", "neondot"; "auto" for GLNN_CPU_ISA_AUTO; NULL when out of range. */
const char *glnn_cpu_isa_name(glnn_cpu_isa isa);
/* Parses a name as above (case-insensitive); an unknown or unsupported ISA is an error naming it. */
glnn_status glnn_cpu_isa_parse(const char *name, glnn_cpu_isa *out, glnn_error *err);

/* ---- thread pool (pool.c) --------------------------------------------------------------------------------- */

typedef struct glnn_cpu_pool glnn_cpu_pool;

/* Creates a pool of `threads` threads counting the caller (threads − 1 workers are started now and live
 * until glnn_cpu_pool_free; no thread is created per run).  threads ≤ 0: the environment variable
 * GLNN_THREADS when it holds a positive number, else the number of online processors.  At most 256. */
glnn_status glnn_cpu_pool_create(int threads, glnn_cpu_pool **out, glnn_error *err);
void glnn_cpu_pool_free(glnn_cpu_pool *pool);
/* Number of threads, the caller included; 1 for NULL. */
int glnn_cpu_pool_size(const glnn_cpu_pool *pool);

/* fn(arg, begin, end, thread) over [0, n) split into ranges, each range run once, `thread` in
 * 0 … size − 1 identifying the thread (for its scratch memory).  grain > 0: ranges of `grain` items handed
 * out dynamically as threads become free; grain ≤ 0: one contiguous range per thread (static split).  The
 * caller takes part and returns when every range is done.  A NULL pool runs everything on the caller as
 * thread 0.  Not reentrant: fn must not call back into the same pool. */
typedef void (*glnn_cpu_range_fn)(void *arg, int64_t begin, int64_t end, int thread);
void glnn_cpu_parallel_for(glnn_cpu_pool *pool, int64_t n, int64_t grain, glnn_cpu_range_fn fn, void *arg);

/* Makes sure every thread has at least `bytes` of scratch memory (64-byte aligned); fails with an error
 * naming `what` when memory runs out, leaving the scratch as it was.  Called by the run functions. */
glnn_status glnn_cpu_pool_reserve(glnn_cpu_pool *pool, size_t bytes, const char *what, glnn_error *err);
/* The scratch memory of one thread (NULL before any reserve). */
void *glnn_cpu_pool_scratch(glnn_cpu_pool *pool, int thread);

/* ---- Conv2D (conv2d.c) ------------------------------------------------------------------------------------ */

typedef struct glnn_cpu_conv2d_plan glnn_cpu_conv2d_plan;

typedef enum glnn_cpu_precision {
    GLNN_CPU_PRECISION_AUTO = 0, /* the cheapest arithmetic within the budget (above) */
    GLNN_CPU_PRECISION_INT16 = 16,
    GLNN_CPU_PRECISION_INT24 = 24,
    GLNN_CPU_PRECISION_FLOAT = 31,
    GLNN_CPU_PRECISION_EXACT = 32,
} glnn_cpu_precision;

/* Plans a prepared Conv2D (its parameters, kind, cg, in_shape, has_residual, ax, ay, weights, bias) for
 * `isa` (GLNN_CPU_ISA_AUTO: the best).  The plan keeps no pointer into the op. */
glnn_status glnn_cpu_conv2d_plan_create(const struct glnn_conv2d *c, glnn_cpu_isa isa, glnn_cpu_conv2d_plan **out,
                                        glnn_error *err);
/* Tests and benchmarks: asks for an arithmetic.  A request the ISA has no kernel for, or that would break
 * the 1 LSB bound for these weights, moves to the next one that keeps it (int16 → int24 → float → exact);
 * glnn_cpu_conv2d_plan_precision tells which was taken. */
glnn_status glnn_cpu_conv2d_plan_create_ex(const struct glnn_conv2d *c, glnn_cpu_isa isa, glnn_cpu_precision precision,
                                           glnn_cpu_conv2d_plan **out, glnn_error *err);
/* Tests and benchmarks: the arithmetic as above, and whether the integer sums may be computed by AMX tiles. */
typedef struct glnn_cpu_conv2d_options {
    glnn_cpu_precision precision;
    bool no_amx; /* VNNI tiles where AMX tiles would be taken */
} glnn_cpu_conv2d_options;
glnn_status glnn_cpu_conv2d_plan_create_opts(const struct glnn_conv2d *c, glnn_cpu_isa isa,
                                             const glnn_cpu_conv2d_options *options, glnn_cpu_conv2d_plan **out,
                                             glnn_error *err);
/* Whether AMX-INT8 tiles serve this process: the CPU and the OS have them, Linux granted the tile data
 * (asked once, thread-safe), and the environment variable GLNN_CPU_AMX is not "0" (read every time). */
bool glnn_cpu_amx_available(void);
/* Computes the Conv2D: `in` H×W×Cin bytes (an image H×W×3 for the image kind), `residual` the
 * Ho×Wo×Cout bytes of input #1 when the op was prepared with one (else ignored, may be NULL), `out`
 * Ho×Wo×Cout bytes.  Fails only when the pool's scratch memory cannot grow. */
glnn_status glnn_cpu_conv2d_plan_run(const glnn_cpu_conv2d_plan *plan, glnn_cpu_pool *pool, const uint8_t *in,
                                     const uint8_t *residual, uint8_t *out, glnn_error *err);
void glnn_cpu_conv2d_plan_free(glnn_cpu_conv2d_plan *plan);
glnn_cpu_precision glnn_cpu_conv2d_plan_precision(const glnn_cpu_conv2d_plan *plan);
glnn_cpu_isa glnn_cpu_conv2d_plan_isa(const glnn_cpu_conv2d_plan *plan);
/* Whether the plan computes its integer sums with AMX tiles. */
bool glnn_cpu_conv2d_plan_amx(const glnn_cpu_conv2d_plan *plan);
/* One line: ISA, arithmetic, source and rows of the kernel, blocking, the bound in LSB and the flip estimate
 * ("avx512 int16 broadcast rows-copy NV2 M6 bound 0.006 LSB flips 6.3e-05"). */
const char *glnn_cpu_conv2d_plan_describe(const glnn_cpu_conv2d_plan *plan);

/* ---- Pooling2D (ops.c): MAX and AVERAGE, bit for bit ------------------------------------------------------ */

typedef struct glnn_cpu_pooling2d_plan glnn_cpu_pooling2d_plan;
glnn_status glnn_cpu_pooling2d_plan_create(const struct glnn_pooling2d *p, glnn_cpu_isa isa,
                                           glnn_cpu_pooling2d_plan **out, glnn_error *err);
void glnn_cpu_pooling2d_plan_run(const glnn_cpu_pooling2d_plan *plan, glnn_cpu_pool *pool, const uint8_t *in,
                                 uint8_t *out);
void glnn_cpu_pooling2d_plan_free(glnn_cpu_pooling2d_plan *plan);

/* ---- Dense (dense.c): float32, within SPEC §2.5's Dense bound -------------------------------------------- */

typedef struct glnn_cpu_dense_plan glnn_cpu_dense_plan;
glnn_status glnn_cpu_dense_plan_create(const struct glnn_dense *d, glnn_cpu_isa isa, glnn_cpu_dense_plan **out,
                                       glnn_error *err);
/* `in`: N_in bytes (a 1×1×N_in tensor, x = q/255) or N_in floats (a vector input), as the op was prepared;
 * `out`: N_out floats. */
void glnn_cpu_dense_plan_run(const glnn_cpu_dense_plan *plan, glnn_cpu_pool *pool, const void *in, float *out);
void glnn_cpu_dense_plan_free(glnn_cpu_dense_plan *plan);

/* ---- ImageSampler (ops.c): bit for bit -------------------------------------------------------------------- */

typedef struct glnn_cpu_image_sampler_plan glnn_cpu_image_sampler_plan;
glnn_status glnn_cpu_image_sampler_plan_create(const struct glnn_image_sampler *s, glnn_cpu_isa isa,
                                               glnn_cpu_image_sampler_plan **out, glnn_error *err);
/* `in`: the H×W×3 image the op was prepared for; `out`: output_height × output_width × 3. */
void glnn_cpu_image_sampler_plan_run(const glnn_cpu_image_sampler_plan *plan, glnn_cpu_pool *pool, const uint8_t *in,
                                     uint8_t *out);
void glnn_cpu_image_sampler_plan_free(glnn_cpu_image_sampler_plan *plan);

/* ---- Upsampling2D (ops.c), SPEC §5.5 ------------------------------------------------------------------------ */

/* The op does not exist yet: the plan takes its parameters and input shape directly. */
typedef struct glnn_cpu_upsampling2d_params {
    int64_t h, w, c; /* input tensor H×W×C, C a multiple of 4 */
    int factor;      /* 2 … 16 */
    bool bilinear;   /* false: nearest */
} glnn_cpu_upsampling2d_params;

typedef struct glnn_cpu_upsampling2d_plan glnn_cpu_upsampling2d_plan;
glnn_status glnn_cpu_upsampling2d_plan_create(const glnn_cpu_upsampling2d_params *p, glnn_cpu_isa isa,
                                              glnn_cpu_upsampling2d_plan **out, glnn_error *err);
/* `in` H×W×C bytes, `out` (f·H)×(f·W)×C bytes. */
void glnn_cpu_upsampling2d_plan_run(const glnn_cpu_upsampling2d_plan *plan, glnn_cpu_pool *pool, const uint8_t *in,
                                    uint8_t *out);
void glnn_cpu_upsampling2d_plan_free(glnn_cpu_upsampling2d_plan *plan);

/* Softmax (SPEC §5.3) needs no kernel here: glnn_softmax_compute (ops/softmax.h) on the input floats. */

/* ---- connection shuffle (dense.c), SPEC §6 ------------------------------------------------------------------ */

/* out (pixels × C bytes) receives in's quads in the shuffled order: consumer quad i reads producer quad
 * glnn_shuffle_source_quad(i, n, C/4); n ≥ 2 divides C/4. */
void glnn_cpu_shuffle_run(glnn_cpu_pool *pool, const uint8_t *in, int64_t pixels, int64_t c, int n, uint8_t *out);
/* The same with the kernels of `isa` (tests; GLNN_CPU_ISA_AUTO or one not supported: the best). */
void glnn_cpu_shuffle_run_isa(glnn_cpu_pool *pool, glnn_cpu_isa isa, const uint8_t *in, int64_t pixels, int64_t c,
                              int n, uint8_t *out);

#endif
