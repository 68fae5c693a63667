// Conv2D (SPEC §4.5) on the fragment path, unrolled: the host (fragment/conv2d.c) writes main() for one layer
// shape after this file, every tap and input quad a statement with its texture offset and weights as constants.
// One fragment computes one pixel of the output quad being drawn, in the reference's order: taps ky, kx, input
// channels ci into one accumulator, then residual, bias, activation and Q.  The weights are either the
// uniforms u_w (one program per layer shape, the quad's weights set before each draw) or literals in the source
// (one program per output quad: where uniform reads are expensive, as on llvmpipe, which reads a uniform as a
// gather over the lanes).  Specialized with:
//   BAKED          1: weights, bias and output tile as literals (one program per output quad); 0: uniforms
//   RESIDUAL       1: input #1 (same layout as the output) is added
//   ACTIVATION     0 default, 1 brelu6, 2 sigmoid_like
// A tap outside the input reads whatever texel lies there, times 0: it adds nothing, as the reference's skipped
// padding does (only the sign of a zero sum can differ, which Q does not see).  Where the weights are literals
// (BAKED), so is the bias, added last as the reference does: the invariant gl_FragColor (frag_common.glsl) keeps
// compilers from moving a constant addend up the chain of additions, as Mesa otherwise does.

uniform sampler2D u_input;
#if RESIDUAL
uniform sampler2D u_residual;
#endif

void finish(vec4 acc, vec4 bias, vec2 out_scale) {
    vec4 z = acc;
#if RESIDUAL
    z += unorm(texture2D(u_residual, (output_texel() + 0.5) * out_scale));
#endif
    z += bias;
#if ACTIVATION == 1
    z = 0.167 * z;
#elif ACTIVATION == 2
    vec4 p = 0.05 * z;
    z = clamp(0.1 * z, -0.05, 0.05) + clamp(p, -0.125, 0.125) + p + 0.5;
#endif
    gl_FragColor = quantize(z);
}
