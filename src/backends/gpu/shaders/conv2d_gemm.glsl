// Conv2D, "gemm" kernel (SPEC §4.5) for GPUs with real shared memory: regular and grouped convolutions with
// 16·n input channels and 64·n output channels per group, any kernel size and stride.  The convolution is a
// matrix product (pixels × taps·channels) · (taps·channels × output channels) computed without building
// the first matrix: a work group of 128 invocations owns 128 consecutive output pixels (row-major, across
// rows) × 64 output channels of one group.  For each tap and each slice of 16 input channels, it stages the
// 128 pixels' inputs and the 16 × 64 weights in shared memory; each invocation then computes 8 pixels × 8
// output channels in registers (64 sums), reading 4 vec4 from shared memory per 64 multiply-adds.
// Each output value still sums its terms in the reference order ky, kx, ci.
// Specialized with (besides conv2d_common.glsl's):
//   KSIZE, STRIDE  kernel size and stride
//   CG             input channels per group (a multiple of 16)
//   FUSED          1: fused multiply-adds (one rounding per term: within SPEC §2.5's 1 LSB, not bit-exact);
//                  0: `precise` multiply then add, as the reference
// Weights (RGBA32F texels): for each block of 16 output quads, tap and input channel ci of the group, 16
// texels (the 64 output channels); then the bias.

layout(local_size_x = 128, local_size_y = 1, local_size_z = 1) in;

uniform int u_out_quads_per_group; // a multiple of 16
uniform int u_pixels;              // output pixels: u_out.x · u_out.y
uniform int u_pixel_blocks;        // ceil(u_pixels / 128)

#if FUSED && defined(GL_EXT_gpu_shader5)
#define MAD(w, x, acc) acc = fma(w, vec4(x), acc);
#else
#define MAD(w, x, acc) acc = acc + w * x;
#endif

shared vec4 xs[16 * 32]; // [k][pixel / 4]: input channel c0 + k of the 128 pixels, four pixels per vec4
shared vec4 ws[16 * 16]; // [k][quad]: the weights of input channel c0 + k for the 64 output channels

void main() {
    // Work groups: x (and z, past the device's x limit) over the blocks of 128 pixels, y over the blocks of
    // 16 output quads.  The test is uniform over the work group, so returning keeps barriers legal.
    int pixel_block = int(gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x);
    if (pixel_block >= u_pixel_blocks) return;
    int l = int(gl_LocalInvocationID.x);
    int m0 = pixel_block * 128;
    int oq0 = int(gl_WorkGroupID.y) * 16;
    int iq0 = (oq0 / u_out_quads_per_group) * (CG / 4);

    // Staging role: pixels m0 + 4·lp ... + 3, input quad lq of the slice.
    int lp = l & 31, lq = l >> 5;
    ivec4 lm = m0 + 4 * lp + ivec4(0, 1, 2, 3);
    bvec4 lm_ok = lessThan(lm, ivec4(u_pixels));
    ivec4 oy = lm / u_out.x;
    ivec4 iy0 = oy * STRIDE - u_pad.y, ix0 = (lm - oy * u_out.x) * STRIDE - u_pad.x;

    // Compute role: pixels 4·tx ... + 3 and 64 + 4·tx ... + 3 of the block, output quads ty and 8 + ty.
    int tx = l & 15, ty = l >> 4;

    PRECISE vec4 acc[16]; // acc[2·i + j]: pixel i (0-3: 4·tx + i, 4-7: 64 + 4·tx + i - 4), quad j (ty, 8 + ty)
    for (int i = 0; i < 16; i++)
        acc[i] = vec4(0.0);

    int wstage = int(gl_WorkGroupID.y) * KSIZE * KSIZE * CG * 16 + l;
    for (int t = 0; t < KSIZE * KSIZE; t++) {
        int ky = t / KSIZE;
        ivec4 iy = iy0 + ky, ix = ix0 + (t - ky * KSIZE);
        bvec4 ok = bvec4(uvec4(lm_ok) & uvec4(greaterThanEqual(iy, ivec4(0))) & uvec4(lessThan(iy, ivec4(u_in.y))) &
                         uvec4(greaterThanEqual(ix, ivec4(0))) & uvec4(lessThan(ix, ivec4(u_in.x))));
        ivec4 src = ((iy * u_in.x + ix) * u_in.z + iq0 + lq) * ivec4(ok);
        for (int c0 = 0; c0 < CG; c0 += 16, wstage += 256) {
            uvec4 u = uvec4(texelFetch(u_input, src.x).x, texelFetch(u_input, src.y).x, texelFetch(u_input, src.z).x,
                            texelFetch(u_input, src.w).x) *
                      uvec4(ok);
            vec4 w0 = texelFetch(u_weights, wstage), w1 = texelFetch(u_weights, wstage + 128);
            src += 4 * ivec4(ok);
            barrier(); // the previous slice is no longer read
            vec4 p0 = unpack_quad(u.x), p1 = unpack_quad(u.y), p2 = unpack_quad(u.z), p3 = unpack_quad(u.w);
            xs[(4 * lq) * 32 + lp] = vec4(p0.x, p1.x, p2.x, p3.x);
            xs[(4 * lq + 1) * 32 + lp] = vec4(p0.y, p1.y, p2.y, p3.y);
            xs[(4 * lq + 2) * 32 + lp] = vec4(p0.z, p1.z, p2.z, p3.z);
            xs[(4 * lq + 3) * 32 + lp] = vec4(p0.w, p1.w, p2.w, p3.w);
            ws[l] = w0;
            ws[l + 128] = w1;
            barrier();
#define SLICE_K(k)                                                                                               \
    {                                                                                                            \
        vec4 x0 = xs[(k) * 32 + tx], x1 = xs[(k) * 32 + 16 + tx];                                                \
        vec4 wa = ws[(k) * 16 + ty], wb = ws[(k) * 16 + 8 + ty];                                                 \
        MAD(wa, x0.x, acc[0]) MAD(wb, x0.x, acc[1]) MAD(wa, x0.y, acc[2]) MAD(wb, x0.y, acc[3])                  \
        MAD(wa, x0.z, acc[4]) MAD(wb, x0.z, acc[5]) MAD(wa, x0.w, acc[6]) MAD(wb, x0.w, acc[7])                  \
        MAD(wa, x1.x, acc[8]) MAD(wb, x1.x, acc[9]) MAD(wa, x1.y, acc[10]) MAD(wb, x1.y, acc[11])                \
        MAD(wa, x1.z, acc[12]) MAD(wb, x1.z, acc[13]) MAD(wa, x1.w, acc[14]) MAD(wb, x1.w, acc[15])              \
    }
            SLICE_K(0) SLICE_K(1) SLICE_K(2) SLICE_K(3) SLICE_K(4) SLICE_K(5) SLICE_K(6) SLICE_K(7)
            SLICE_K(8) SLICE_K(9) SLICE_K(10) SLICE_K(11) SLICE_K(12) SLICE_K(13) SLICE_K(14) SLICE_K(15)
        }
    }

    vec4 b0 = texelFetch(u_weights, u_bias + oq0 + ty), b1 = texelFetch(u_weights, u_bias + oq0 + 8 + ty);
    for (int i = 0; i < 8; i++) {
        int m = m0 + (i < 4 ? 4 * tx + i : 60 + 4 * tx + i);
        if (m < u_pixels) {
            int dst = m * u_out.z + oq0 + ty;
#if HAS_RESIDUAL
            uint r0 = texelFetch(u_residual, dst).x, r1 = texelFetch(u_residual, dst + 8).x;
#else
            uint r0 = 0u, r1 = 0u;
#endif
            uint o0 = finish_quad(acc[2 * i], r0, b0), o1 = finish_quad(acc[2 * i + 1], r1, b1);
            outp[dst] = o0;
            outp[dst + 8] = o1;
            KEEP(o0 ^ o1);
        }
    }
    KEEP_FLUSH
}
