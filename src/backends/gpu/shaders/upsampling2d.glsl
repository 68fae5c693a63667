// Upsampling2D (SPEC §5.5).  One invocation computes one output pixel × one quad.  Specialized with:
//   FACTOR     the integer factor f
//   BILINEAR   1: the taps computed by the host (neighbours i0, i1 and the weight of i1, one ivec4 per output
//              column, then per output row), blended on byte values x first, then y, result floor(v + 0.5);
//              0: nearest, output (y, x) = input (y / f, x / f)
// Tensors are arrays of uint, one per quad (channel 4i+j in byte j), in HWC order.

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
layout(std430, binding = 1) readonly buffer Taps { ivec4 taps[]; };
layout(std430, binding = 2) writeonly buffer Output { uint outp[]; };

uniform ivec3 u_in;  // input width, height, quads per pixel
uniform ivec3 u_out; // output width, height, quads per pixel

vec4 at(int x, int y, int q) { return vec4(unpack_bytes(inp[(y * u_in.x + x) * u_in.z + q])); }

void main() {
    ivec3 o = ivec3(gl_GlobalInvocationID);
    if (o.x >= u_out.x || o.y >= u_out.y || o.z >= u_out.z) return;
    int dst = (o.y * u_out.x + o.x) * u_out.z + o.z;
#if BILINEAR
    ivec4 tx = taps[o.x], ty = taps[u_out.x + o.y];
    float fx = intBitsToFloat(tx.z), fy = intBitsToFloat(ty.z);
    PRECISE vec4 top = (1.0 - fx) * at(tx.x, ty.x, o.z) + fx * at(tx.y, ty.x, o.z);
    PRECISE vec4 bottom = (1.0 - fx) * at(tx.x, ty.y, o.z) + fx * at(tx.y, ty.y, o.z);
    PRECISE vec4 v = floor((1.0 - fy) * top + fy * bottom + 0.5);
    outp[dst] = pack_bytes(uvec4(clamp(v, 0.0, 255.0)));
#else
    outp[dst] = inp[((o.y / FACTOR) * u_in.x + o.x / FACTOR) * u_in.z + o.z];
#endif
}
