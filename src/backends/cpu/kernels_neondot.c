/* AArch64 NEON kernels with the dot-product extension (ARMv8.2 DotProd: Raspberry Pi 5's Cortex-A76, Neoverse),
 * compiled with -march=armv8.2-a+dotprod (CMakeLists.txt) and called only when the probe found HWCAP_ASIMDDP
 * (features.c).  The integer Conv2D kernels use `sdot`: 4 input bytes (as x − 128) times 4 signed weight bytes
 * summed into each of 4 int32 lanes (neon_vec.h); Pooling2D, ImageSampler and Upsampling2D are kernels_neon.c's. */
#if defined(__aarch64__)
#define NEON_DOTPROD 1
#define ISA_FN(name) name##_neondot
#include "backends/cpu/neon_vec.h"

#include "backends/cpu/conv_template.h"

/* kernels_neon.c's (ops_template.h): nothing in them gains from the dot product. */
void glnn_cpu_pooling2d_neon(const glnn_cpu_pooling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0, int64_t r1);
void glnn_cpu_image_sampler_neon(const glnn_cpu_image_sampler_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                 int64_t r1);
void glnn_cpu_upsampling2d_neon(const glnn_cpu_upsampling2d_plan *p, const uint8_t *in, uint8_t *out, int64_t r0,
                                int64_t r1);

const glnn_cpu_kernels glnn_cpu_kernels_neondot = {
    .isa = GLNN_CPU_ISA_NEONDOT,
    .int_lanes = VL,
    .float_lanes = VL,
    .regs32 = true,
    .int_signed = true,
    .conv2d = conv2d_neondot,
    .pooling2d = glnn_cpu_pooling2d_neon,
    .image_sampler = glnn_cpu_image_sampler_neon,
    .upsampling2d = glnn_cpu_upsampling2d_neon,
};
#endif
