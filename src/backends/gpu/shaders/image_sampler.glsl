// ImageSampler (SPEC §5.4).  One invocation computes one output pixel.  The host computes, in double, where
// every output column and row samples the rotated input (taps: neighbours i0, i1 and the weight f of i1);
// the shader maps rotated pixels back to the input and blends in float.  Specialized by the host with:
//   LINEAR       1: bilinear, result floor(v + 0.5) on byte values; 0: nearest (the pixel i0)
//   ROTATION     quarter turns clockwise, 0 ... 3
//   TEXEL_FETCH  1: the image and the taps are read through texture buffer views (R32UI, RGBA32I), 0: as
//                storage buffers (on llvmpipe a texel fetch is a vector gather, a storage buffer read a
//                loop over the lanes: 8× slower here)
// Images are arrays of uint, one per pixel (R, G, B, 0 in bytes 0..3).

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

// Taps: output_width x taps, then y taps.
#if TEXEL_FETCH
layout(binding = 0) uniform highp usamplerBuffer u_input;
layout(binding = 1) uniform highp isamplerBuffer u_taps;
#define INPUT(i) texelFetch(u_input, i).x
#define TAP(i) texelFetch(u_taps, i)
#else
layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
layout(std430, binding = 1) readonly buffer Taps { ivec4 taps[]; };
#define INPUT(i) inp[i]
#define TAP(i) taps[i]
#endif
layout(std430, binding = 2) writeonly buffer Output { uint outp[]; };

uniform ivec2 u_in;  // input (unrotated) width, height
uniform ivec2 u_out; // output width, height

uint fetch(int xr, int yr) {
#if ROTATION == 1
    ivec2 s = ivec2(yr, u_in.y - 1 - xr);
#elif ROTATION == 2
    ivec2 s = ivec2(u_in.x - 1 - xr, u_in.y - 1 - yr);
#elif ROTATION == 3
    ivec2 s = ivec2(u_in.x - 1 - yr, xr);
#else
    ivec2 s = ivec2(xr, yr);
#endif
    return INPUT(s.y * u_in.x + s.x);
}

vec3 rgb(uint u) { return vec3(unpack_bytes(u).xyz); }

void main() {
    ivec2 o = ivec2(gl_GlobalInvocationID.xy);
    if (o.x >= u_out.x || o.y >= u_out.y) return;
    ivec4 tx = TAP(o.x);
    ivec4 ty = TAP(u_out.x + o.y);
#if LINEAR
    float fx = intBitsToFloat(tx.z), fy = intBitsToFloat(ty.z);
    PRECISE vec3 top = (1.0 - fx) * rgb(fetch(tx.x, ty.x)) + fx * rgb(fetch(tx.y, ty.x));
    PRECISE vec3 bottom = (1.0 - fx) * rgb(fetch(tx.x, ty.y)) + fx * rgb(fetch(tx.y, ty.y));
    PRECISE vec3 v = floor((1.0 - fy) * top + fy * bottom + 0.5);
    uvec3 q = uvec3(clamp(v, 0.0, 255.0));
    outp[o.y * u_out.x + o.x] = pack_bytes(uvec4(q, 0u));
#else
    outp[o.y * u_out.x + o.x] = fetch(tx.x, ty.x) & 0xFFFFFFu;
#endif
}
