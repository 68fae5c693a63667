/* AArch64 Advanced SIMD (NEON) kernels of the fast CPU back end, for every AArch64 CPU (Raspberry Pi 3 and 4:
 * Cortex-A53, A72).  The vector layer is neon_vec.h; without the dot-product extension its vi_dot is six
 * instructions per 16 byte products (smull, smull2, two saddlp, addp, add), so that the automatic arithmetic takes
 * float32 fused multiply-adds first (float_first) and the integer planes where float's bound fails, or when asked.
 * kernels_neondot.c is the same with one `sdot`. */
#if defined(__aarch64__)
#define NEON_DOTPROD 0
#define ISA_FN(name) name##_neon
#include "backends/cpu/neon_vec.h"

#include "backends/cpu/conv_template.h"

#define POOL_FN(name) name##_neon
#include "backends/cpu/ops_template.h"

const glnn_cpu_kernels glnn_cpu_kernels_neon = {
    .isa = GLNN_CPU_ISA_NEON,
    .int_lanes = VL,
    .float_lanes = VL,
    .regs32 = true,
    .int_signed = true,
    .float_first = true,
    .conv2d = conv2d_neon,
    .pooling2d = glnn_cpu_pooling2d_neon,
    .image_sampler = glnn_cpu_image_sampler_neon,
    .upsampling2d = glnn_cpu_upsampling2d_neon,
};
#endif
