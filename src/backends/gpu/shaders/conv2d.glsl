// Conv2D (SPEC §4.5).  One invocation computes one output pixel × one output quad (4 channels).
// Specialized by the host with:
//   KSIZE, STRIDE          kernel size and stride
//   CG_QUADS               input quads read per output quad (Cg/4; 1 for image and depthwise)
//   OUT_QUADS_PER_GROUP    output quads in one group
//   DEPTHWISE              1: output quad q reads input quad q with one vec4 of weights per tap
//   HAS_RESIDUAL           1: input #1 is added before the bias
//   ACTIVATION             0 default, 1 brelu6, 2 sigmoid_like
// Exactness: prelude.glsl.
// Tensors are arrays of uint, one per quad (channel 4i+j in byte j), in HWC order; an image has one
// uint per pixel (R, G, B, 0).  Weights: for each output quad, tap and input quad, four vec4 columns
// (input channel j of the quad -> the four output channels); depthwise: one vec4 per output quad and tap.

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
layout(std430, binding = 2) readonly buffer Weights { vec4 wts[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 bias[]; };
layout(std430, binding = 4) writeonly buffer Output { uint outp[]; };
#if HAS_RESIDUAL
layout(std430, binding = 1) readonly buffer Residual { uint res[]; };
#endif

uniform ivec3 u_in;  // input width, height, quads per pixel
uniform ivec3 u_out; // output width, height, quads per pixel
uniform ivec2 u_pad; // padding before: x, y
void main() {
    ivec3 o = ivec3(gl_GlobalInvocationID);
    if (o.x >= u_out.x || o.y >= u_out.y) return;
    int oq = o.z;
    int x0 = o.x * STRIDE - u_pad.x;
    int y0 = o.y * STRIDE - u_pad.y;
#if DEPTHWISE
    int iq0 = oq;
#else
    int iq0 = (oq / OUT_QUADS_PER_GROUP) * CG_QUADS;
#endif
    PRECISE vec4 acc = vec4(0.0);
    for (int ky = 0; ky < KSIZE; ky++) {
        int y = y0 + ky;
        if (y < 0 || y >= u_in.y) continue;
        for (int kx = 0; kx < KSIZE; kx++) {
            int x = x0 + kx;
            if (x < 0 || x >= u_in.x) continue;
            int src = (y * u_in.x + x) * u_in.z + iq0;
#if DEPTHWISE
            acc += wts[(oq * KSIZE + ky) * KSIZE + kx] * unpack_quad(inp[src]);
#else
            int w = ((oq * KSIZE + ky) * KSIZE + kx) * CG_QUADS * 4;
            for (int iq = 0; iq < CG_QUADS; iq++, w += 4) {
                vec4 v = unpack_quad(inp[src + iq]);
                acc += wts[w] * v.x;
                acc += wts[w + 1] * v.y;
                acc += wts[w + 2] * v.z;
                acc += wts[w + 3] * v.w;
            }
#endif
        }
    }
    int dst = (o.y * u_out.x + o.x) * u_out.z + oq;
#if HAS_RESIDUAL
    outp[dst] = finish_quad(acc, res[dst], bias[oq]);
#else
    outp[dst] = finish_quad(acc, 0u, bias[oq]);
#endif
}
