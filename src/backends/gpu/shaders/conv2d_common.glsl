// What the fast Conv2D kernels share (conv2d_tiled, conv2d_rows, conv2d_gemm): the host puts it after the
// kernel's #defines (IMAGE, HAS_RESIDUAL, WIDE_IN, WIDE_OUT, ACTIVATION and the kernel's own) and the prelude,
// and before its body.  Tensors are read through texture buffer views (R32UI, one uint
// per quad: channel 4i+j in byte j), weights and bias through an RGBA32F view; on llvmpipe a texel fetch
// is a vector gather, while a storage buffer read is a loop over the lanes.
//
// Exactness (prelude.glsl): every accumulator and everything feeding it is `precise`, and each output value sums
// its terms in the reference order ky, kx, ci (gemm_fma alone fuses its multiply-adds).

// CH3(s) is s, the multiply-add of an input quad's fourth channel, except for an image, whose fourth channel is 0.
#if IMAGE
#define CH3(s)
#else
#define CH3(s) s
#endif

// Unrolling by the preprocessor: a constant-trip loop in GLSL may stay a loop, and then arrays indexed by
// its counter (the accumulators) are no longer registers.  Token pasting is not allowed in GLSL ES, so
// each counter has its own chain.

// FOR_P(M) expands to M(0) M(1) ... M(P - 1), P <= 16.
#ifdef P
#define FOR_P(M) M(0) FOR_P_1(M)
#if P > 1
#define FOR_P_1(M) M(1) FOR_P_2(M)
#else
#define FOR_P_1(M)
#endif
#if P > 2
#define FOR_P_2(M) M(2) FOR_P_3(M)
#else
#define FOR_P_2(M)
#endif
#if P > 3
#define FOR_P_3(M) M(3) FOR_P_4(M)
#else
#define FOR_P_3(M)
#endif
#if P > 4
#define FOR_P_4(M) M(4) FOR_P_5(M)
#else
#define FOR_P_4(M)
#endif
#if P > 5
#define FOR_P_5(M) M(5) FOR_P_6(M)
#else
#define FOR_P_5(M)
#endif
#if P > 6
#define FOR_P_6(M) M(6) FOR_P_7(M)
#else
#define FOR_P_6(M)
#endif
#if P > 7
#define FOR_P_7(M) M(7) FOR_P_8(M)
#else
#define FOR_P_7(M)
#endif
#if P > 8
#define FOR_P_8(M) M(8) FOR_P_9(M)
#else
#define FOR_P_8(M)
#endif
#if P > 9
#define FOR_P_9(M) M(9) FOR_P_10(M)
#else
#define FOR_P_9(M)
#endif
#if P > 10
#define FOR_P_10(M) M(10) FOR_P_11(M)
#else
#define FOR_P_10(M)
#endif
#if P > 11
#define FOR_P_11(M) M(11) FOR_P_12(M)
#else
#define FOR_P_11(M)
#endif
#if P > 12
#define FOR_P_12(M) M(12) FOR_P_13(M)
#else
#define FOR_P_12(M)
#endif
#if P > 13
#define FOR_P_13(M) M(13) FOR_P_14(M)
#else
#define FOR_P_13(M)
#endif
#if P > 14
#define FOR_P_14(M) M(14) FOR_P_15(M)
#else
#define FOR_P_14(M)
#endif
#if P > 15
#define FOR_P_15(M) M(15)
#else
#define FOR_P_15(M)
#endif
#endif

// FOR_Q(M) expands to M(0) M(1) ... M(QQ - 1), QQ <= 8.
#ifdef QQ
#define FOR_Q(M) M(0) FOR_Q_1(M)
#if QQ > 1
#define FOR_Q_1(M) M(1) FOR_Q_2(M)
#else
#define FOR_Q_1(M)
#endif
#if QQ > 2
#define FOR_Q_2(M) M(2) FOR_Q_3(M)
#else
#define FOR_Q_2(M)
#endif
#if QQ > 3
#define FOR_Q_3(M) M(3) FOR_Q_4(M)
#else
#define FOR_Q_3(M)
#endif
#if QQ > 4
#define FOR_Q_4(M) M(4) FOR_Q_5(M)
#else
#define FOR_Q_4(M)
#endif
#if QQ > 5
#define FOR_Q_5(M) M(5) FOR_Q_6(M)
#else
#define FOR_Q_5(M)
#endif
#if QQ > 6
#define FOR_Q_6(M) M(6) FOR_Q_7(M)
#else
#define FOR_Q_6(M)
#endif
#if QQ > 7
#define FOR_Q_7(M) M(7)
#else
#define FOR_Q_7(M)
#endif
#endif

// FOR_K(M) expands to M(0) M(1) ... M(KSIZE - 1), KSIZE <= 8.
#ifdef KSIZE
#define FOR_K(M) M(0) FOR_K_1(M)
#if KSIZE > 1
#define FOR_K_1(M) M(1) FOR_K_2(M)
#else
#define FOR_K_1(M)
#endif
#if KSIZE > 2
#define FOR_K_2(M) M(2) FOR_K_3(M)
#else
#define FOR_K_2(M)
#endif
#if KSIZE > 3
#define FOR_K_3(M) M(3) FOR_K_4(M)
#else
#define FOR_K_3(M)
#endif
#if KSIZE > 4
#define FOR_K_4(M) M(4) FOR_K_5(M)
#else
#define FOR_K_4(M)
#endif
#if KSIZE > 5
#define FOR_K_5(M) M(5) FOR_K_6(M)
#else
#define FOR_K_5(M)
#endif
#if KSIZE > 6
#define FOR_K_6(M) M(6) FOR_K_7(M)
#else
#define FOR_K_6(M)
#endif
#if KSIZE > 7
#define FOR_K_7(M) M(7)
#else
#define FOR_K_7(M)
#endif
#endif

// FOR_Y(M) expands to M(0) M(1) ... M(KSIZE - 1), KSIZE <= 8.
#ifdef KSIZE
#define FOR_Y(M) M(0) FOR_Y_1(M)
#if KSIZE > 1
#define FOR_Y_1(M) M(1) FOR_Y_2(M)
#else
#define FOR_Y_1(M)
#endif
#if KSIZE > 2
#define FOR_Y_2(M) M(2) FOR_Y_3(M)
#else
#define FOR_Y_2(M)
#endif
#if KSIZE > 3
#define FOR_Y_3(M) M(3) FOR_Y_4(M)
#else
#define FOR_Y_3(M)
#endif
#if KSIZE > 4
#define FOR_Y_4(M) M(4) FOR_Y_5(M)
#else
#define FOR_Y_4(M)
#endif
#if KSIZE > 5
#define FOR_Y_5(M) M(5) FOR_Y_6(M)
#else
#define FOR_Y_5(M)
#endif
#if KSIZE > 6
#define FOR_Y_6(M) M(6) FOR_Y_7(M)
#else
#define FOR_Y_6(M)
#endif
#if KSIZE > 7
#define FOR_Y_7(M) M(7)
#else
#define FOR_Y_7(M)
#endif
#endif

// FOR_C(M) expands to M(0) M(1) ... M(NCOLS - 1), NCOLS <= 32.
#ifdef NCOLS
#define FOR_C(M) M(0) FOR_C_1(M)
#if NCOLS > 1
#define FOR_C_1(M) M(1) FOR_C_2(M)
#else
#define FOR_C_1(M)
#endif
#if NCOLS > 2
#define FOR_C_2(M) M(2) FOR_C_3(M)
#else
#define FOR_C_2(M)
#endif
#if NCOLS > 3
#define FOR_C_3(M) M(3) FOR_C_4(M)
#else
#define FOR_C_3(M)
#endif
#if NCOLS > 4
#define FOR_C_4(M) M(4) FOR_C_5(M)
#else
#define FOR_C_4(M)
#endif
#if NCOLS > 5
#define FOR_C_5(M) M(5) FOR_C_6(M)
#else
#define FOR_C_5(M)
#endif
#if NCOLS > 6
#define FOR_C_6(M) M(6) FOR_C_7(M)
#else
#define FOR_C_6(M)
#endif
#if NCOLS > 7
#define FOR_C_7(M) M(7) FOR_C_8(M)
#else
#define FOR_C_7(M)
#endif
#if NCOLS > 8
#define FOR_C_8(M) M(8) FOR_C_9(M)
#else
#define FOR_C_8(M)
#endif
#if NCOLS > 9
#define FOR_C_9(M) M(9) FOR_C_10(M)
#else
#define FOR_C_9(M)
#endif
#if NCOLS > 10
#define FOR_C_10(M) M(10) FOR_C_11(M)
#else
#define FOR_C_10(M)
#endif
#if NCOLS > 11
#define FOR_C_11(M) M(11) FOR_C_12(M)
#else
#define FOR_C_11(M)
#endif
#if NCOLS > 12
#define FOR_C_12(M) M(12) FOR_C_13(M)
#else
#define FOR_C_12(M)
#endif
#if NCOLS > 13
#define FOR_C_13(M) M(13) FOR_C_14(M)
#else
#define FOR_C_13(M)
#endif
#if NCOLS > 14
#define FOR_C_14(M) M(14) FOR_C_15(M)
#else
#define FOR_C_14(M)
#endif
#if NCOLS > 15
#define FOR_C_15(M) M(15) FOR_C_16(M)
#else
#define FOR_C_15(M)
#endif
#if NCOLS > 16
#define FOR_C_16(M) M(16) FOR_C_17(M)
#else
#define FOR_C_16(M)
#endif
#if NCOLS > 17
#define FOR_C_17(M) M(17) FOR_C_18(M)
#else
#define FOR_C_17(M)
#endif
#if NCOLS > 18
#define FOR_C_18(M) M(18) FOR_C_19(M)
#else
#define FOR_C_18(M)
#endif
#if NCOLS > 19
#define FOR_C_19(M) M(19) FOR_C_20(M)
#else
#define FOR_C_19(M)
#endif
#if NCOLS > 20
#define FOR_C_20(M) M(20) FOR_C_21(M)
#else
#define FOR_C_20(M)
#endif
#if NCOLS > 21
#define FOR_C_21(M) M(21) FOR_C_22(M)
#else
#define FOR_C_21(M)
#endif
#if NCOLS > 22
#define FOR_C_22(M) M(22) FOR_C_23(M)
#else
#define FOR_C_22(M)
#endif
#if NCOLS > 23
#define FOR_C_23(M) M(23) FOR_C_24(M)
#else
#define FOR_C_23(M)
#endif
#if NCOLS > 24
#define FOR_C_24(M) M(24) FOR_C_25(M)
#else
#define FOR_C_24(M)
#endif
#if NCOLS > 25
#define FOR_C_25(M) M(25) FOR_C_26(M)
#else
#define FOR_C_25(M)
#endif
#if NCOLS > 26
#define FOR_C_26(M) M(26) FOR_C_27(M)
#else
#define FOR_C_26(M)
#endif
#if NCOLS > 27
#define FOR_C_27(M) M(27) FOR_C_28(M)
#else
#define FOR_C_27(M)
#endif
#if NCOLS > 28
#define FOR_C_28(M) M(28) FOR_C_29(M)
#else
#define FOR_C_28(M)
#endif
#if NCOLS > 29
#define FOR_C_29(M) M(29) FOR_C_30(M)
#else
#define FOR_C_29(M)
#endif
#if NCOLS > 30
#define FOR_C_30(M) M(30) FOR_C_31(M)
#else
#define FOR_C_30(M)
#endif
#if NCOLS > 31
#define FOR_C_31(M) M(31)
#else
#define FOR_C_31(M)
#endif
#endif

// FOR_G(M) expands to M(0) M(1) ... M(CGQ - 1), CGQ <= 16.
#ifdef CGQ
#define FOR_G(M) M(0) FOR_G_1(M)
#if CGQ > 1
#define FOR_G_1(M) M(1) FOR_G_2(M)
#else
#define FOR_G_1(M)
#endif
#if CGQ > 2
#define FOR_G_2(M) M(2) FOR_G_3(M)
#else
#define FOR_G_2(M)
#endif
#if CGQ > 3
#define FOR_G_3(M) M(3) FOR_G_4(M)
#else
#define FOR_G_3(M)
#endif
#if CGQ > 4
#define FOR_G_4(M) M(4) FOR_G_5(M)
#else
#define FOR_G_4(M)
#endif
#if CGQ > 5
#define FOR_G_5(M) M(5) FOR_G_6(M)
#else
#define FOR_G_5(M)
#endif
#if CGQ > 6
#define FOR_G_6(M) M(6) FOR_G_7(M)
#else
#define FOR_G_6(M)
#endif
#if CGQ > 7
#define FOR_G_7(M) M(7) FOR_G_8(M)
#else
#define FOR_G_7(M)
#endif
#if CGQ > 8
#define FOR_G_8(M) M(8) FOR_G_9(M)
#else
#define FOR_G_8(M)
#endif
#if CGQ > 9
#define FOR_G_9(M) M(9) FOR_G_10(M)
#else
#define FOR_G_9(M)
#endif
#if CGQ > 10
#define FOR_G_10(M) M(10) FOR_G_11(M)
#else
#define FOR_G_10(M)
#endif
#if CGQ > 11
#define FOR_G_11(M) M(11) FOR_G_12(M)
#else
#define FOR_G_11(M)
#endif
#if CGQ > 12
#define FOR_G_12(M) M(12) FOR_G_13(M)
#else
#define FOR_G_12(M)
#endif
#if CGQ > 13
#define FOR_G_13(M) M(13) FOR_G_14(M)
#else
#define FOR_G_13(M)
#endif
#if CGQ > 14
#define FOR_G_14(M) M(14) FOR_G_15(M)
#else
#define FOR_G_14(M)
#endif
#if CGQ > 15
#define FOR_G_15(M) M(15)
#else
#define FOR_G_15(M)
#endif
#endif

// WIDE_IN 1: input #0 is viewed as RGBA32UI, four quads per texel; WIDE_OUT 1: the output and input #1 hold
// four quads per element (uvec4), so that one gather or one store serves four quads.
layout(binding = 0) uniform highp usamplerBuffer u_input;    // input #0: R32UI (or RGBA32UI with WIDE_IN)
layout(binding = 1) uniform highp samplerBuffer u_weights;   // RGBA32F: weights in the kernel's layout, then bias
#if HAS_RESIDUAL
layout(binding = 2) uniform highp usamplerBuffer u_residual; // input #1: R32UI (or RGBA32UI with WIDE_OUT)
#endif
#if WIDE_OUT
layout(std430, binding = 4) writeonly buffer Output { uvec4 outp[]; };
#else
layout(std430, binding = 4) writeonly buffer Output { uint outp[]; };
#endif

uniform ivec3 u_in;       // input width, height, uints per pixel
uniform ivec3 u_out;      // output width, height, quads per pixel
uniform ivec2 u_pad;      // padding before: x, y
uniform int u_bias;       // texel index of the bias of output quad 0

// Every stored value is also folded into g_keep, which is written out only where it never is (u_bias, a
// texel index, below 0).  llvmpipe stores a lane-varying address lane by lane; a value used by the store
// alone has its packing (conversions, shifts) sunk into that loop and repeated for each lane, where a
// second use keeps it in vector form: about 20% of a depthwise layer.  A GPU pays one XOR per store.
uvec4 g_keep = uvec4(0u);
#if WIDE_OUT
#define KEEP(v) g_keep ^= (v)
#define KEEP_FLUSH                                                                                               \
    if (u_bias < 0) outp[0] = g_keep;
#else
#define KEEP(v) g_keep.x ^= (v)
#define KEEP_FLUSH                                                                                               \
    if (u_bias < 0) outp[0] = g_keep.x;
#endif

// A fixed chain of four, for the quads of a WIDE_IN texel.
#define FOR_4(M) M(0) M(1) M(2) M(3)

// The bias of the QQ output quads from oq0 on, into bias[].
#define LOAD_BIAS(q) bias[q] = texelFetch(u_weights, u_bias + oq0 + q);

// Stores the QQ quads acc[p * QQ + 0 ...] at flat quad index dst (the first of them is output quad oq0).
#if WIDE_OUT
#if HAS_RESIDUAL
#define RESIDUAL4(dst) texelFetch(u_residual, (dst) >> 2)
#else
#define RESIDUAL4(dst) uvec4(0u)
#endif
#define STORE_4(i)                                                                                               \
    {                                                                                                            \
        uvec4 r = RESIDUAL4(dst + 4 * i);                                                                        \
        uvec4 o = uvec4(finish_quad(acc[p * QQ + 4 * i], r.x, bias[4 * i]),                                      \
                        finish_quad(acc[p * QQ + 4 * i + 1], r.y, bias[4 * i + 1]),                              \
                        finish_quad(acc[p * QQ + 4 * i + 2], r.z, bias[4 * i + 2]),                              \
                        finish_quad(acc[p * QQ + 4 * i + 3], r.w, bias[4 * i + 3]));                             \
        outp[(dst >> 2) + i] = o;                                                                                \
        KEEP(o);                                                                                                 \
    }
#if QQ == 4
#define STORE_QUADS STORE_4(0)
#else
#define STORE_QUADS STORE_4(0) STORE_4(1)
#endif
#else
#if HAS_RESIDUAL
#define RESIDUAL1(i) texelFetch(u_residual, i).x
#else
#define RESIDUAL1(i) 0u
#endif
#define STORE_1(q)                                                                                               \
    {                                                                                                            \
        uint o = finish_quad(acc[p * QQ + q], RESIDUAL1(dst + q), bias[q]);                                      \
        outp[dst + q] = o;                                                                                       \
        KEEP(o);                                                                                                 \
    }
#define STORE_QUADS FOR_Q(STORE_1)
#endif
