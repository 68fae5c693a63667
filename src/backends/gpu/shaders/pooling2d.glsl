// Pooling2D (SPEC §5.1).  One invocation computes one output pixel × one quad (4 channels), in integers:
// MAX is the largest byte (padding reads 0), AVERAGE is floor(S/size² + 1/2) computed exactly.
// Specialized by the host with:
//   KSIZE, STRIDE          pool size and effective stride
//   IS_MAX                 1: MAX, 0: AVERAGE
//   LX, LY, LZ             work group size (x, y over output pixels, z over quads)
// Tensors are arrays of uint, one per quad (channel 4i+j in byte j), in HWC order.

layout(local_size_x = LX, local_size_y = LY, local_size_z = LZ) in;

layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
layout(std430, binding = 1) writeonly buffer Output { uint outp[]; };

uniform ivec3 u_in;  // input width, height, quads per pixel
uniform ivec3 u_out; // output width, height, quads per pixel
uniform ivec2 u_pad; // padding before: x, y

void main() {
    ivec3 o = ivec3(gl_GlobalInvocationID);
    if (o.x >= u_out.x || o.y >= u_out.y || o.z >= u_out.z) return;
    int x0 = o.x * STRIDE - u_pad.x;
    int y0 = o.y * STRIDE - u_pad.y;
#if IS_MAX
    // Only the taps inside the input (padding reads 0, which cannot raise the maximum): a SAME window far
    // larger than the input costs no more than the input.
    uvec4 acc = uvec4(0u);
    int ky0 = max(0, -y0), ky1 = min(KSIZE, u_in.y - y0);
    int kx0 = max(0, -x0), kx1 = min(KSIZE, u_in.x - x0);
    for (int ky = ky0; ky < ky1; ky++) {
        int y = y0 + ky;
        for (int kx = kx0; kx < kx1; kx++) {
            int x = x0 + kx;
            acc = max(acc, unpack_bytes(inp[(y * u_in.x + x) * u_in.z + o.z]));
        }
    }
    uvec4 q = acc;
#else
    // S = quot·AREA + rem at every row, so that no sum can overflow whatever the pool size.
    const uint AREA = uint(KSIZE) * uint(KSIZE);
    uvec4 quot = uvec4(0u), rem = uvec4(0u);
    for (int ky = 0; ky < KSIZE; ky++) {
        int y = y0 + ky;
        if (y < 0 || y >= u_in.y) continue;
        uvec4 row = uvec4(0u);
        for (int kx = 0; kx < KSIZE; kx++) {
            int x = x0 + kx;
            if (x < 0 || x >= u_in.x) continue;
            row += unpack_bytes(inp[(y * u_in.x + x) * u_in.z + o.z]);
        }
        rem += row;
        quot += rem / AREA;
        rem = rem % AREA;
    }
    uvec4 q = quot + (2u * rem + AREA) / (2u * AREA);
#endif
    q = min(q, uvec4(255u));
    outp[(o.y * u_out.x + o.x) * u_out.z + o.z] = pack_bytes(q);
}
