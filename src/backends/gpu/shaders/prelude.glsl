// Prelude of every compute program: the host puts it after the program's #defines and before its body
// (gpu/program.c), as frag_common.glsl is for the fragment path.  What every kernel shares is written here once:
// exactness, texture buffers, the 8-bit codec of SPEC §2.2 and the end of a Conv2D output value.
//
// Exactness: results must match the CPU reference bit for bit where the driver allows.  `precise` (GLES 3.2,
// EXT_gpu_shader5) forbids fused multiply-adds and reordering in whatever feeds a precise variable; kernels
// declare their accumulators PRECISE, unpack values as float(q) / 255.0 and sum in the reference order
// (ky, kx, ci), then residual, then bias.
#ifdef GL_EXT_gpu_shader5
#extension GL_EXT_gpu_shader5 : enable
#define PRECISE precise
#else
#define PRECISE
#endif
// Texture buffers (GLES 3.2, EXT_ or OES_texture_buffer): on llvmpipe a texel fetch is a vector gather, while a
// storage buffer read with a lane-varying address is a loop over the lanes.
#ifdef GL_EXT_texture_buffer
#extension GL_EXT_texture_buffer : enable
#elif defined(GL_OES_texture_buffer)
#extension GL_OES_texture_buffer : enable
#endif

// Storage: a tensor quad is one uint (channel 4i + j in byte j); an image pixel is one uint (R, G, B, 0).
uvec4 unpack_bytes(uint u) { return uvec4(u, u >> 8u, u >> 16u, u >> 24u) & 0xFFu; }
uint pack_bytes(uvec4 q) { return q.x | (q.y << 8u) | (q.z << 16u) | (q.w << 24u); }

// The values q/255 of a quad.
vec4 unpack_quad(uint u) { return vec4(unpack_bytes(u)) / 255.0; }

// Q of SPEC §2.2: floor(255·clamp(v) + 1/2).  The argument lies in 1/2 ... 255.5, so truncation (the signed
// conversion, one vector instruction on x86, where the unsigned one goes lane by lane) is the floor.
uint pack_quad(vec4 v) {
    PRECISE vec4 f = 255.0 * clamp(v, 0.0, 1.0) + 0.5;
    ivec4 q = ivec4(f);
    return uint(q.x | (q.y << 8) | (q.z << 16) | (q.w << 24));
}

#ifdef ACTIVATION
// ACTIVATE(z): z = act(z) of SPEC §4.6 in place (z PRECISE).  ACTIVATION is a specialization, 0 default,
// 1 brelu6, 2 sigmoid_like (as a uniform, llvmpipe ran every branch and blended the results).
#if ACTIVATION == 1
#define ACTIVATE(z) z = 0.167 * z
#elif ACTIVATION == 2
#define ACTIVATE(z) z = clamp(0.1 * z, -0.05, 0.05) + clamp(0.05 * z, -0.125, 0.125) + 0.05 * z + 0.5
#else
#define ACTIVATE(z)
#endif

// The end of a Conv2D output quad (SPEC §4.5): the sum acc, then the residual quad r (with HAS_RESIDUAL), then
// the bias b, activation, Q.
uint finish_quad(vec4 acc, uint r, vec4 b) {
    PRECISE vec4 z = acc;
#if HAS_RESIDUAL
    z += unpack_quad(r);
#endif
    z += b;
    ACTIVATE(z);
    return pack_quad(z);
}
#endif
