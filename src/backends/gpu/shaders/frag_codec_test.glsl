// Context self-test of the fragment path (gpu/frag/context.c): every texel of the input, a float32 as IEEE bytes,
// is decoded and encoded again; the host checks that every byte comes back unchanged.
uniform sampler2D u_input;
uniform vec2 u_scale; // 1 / texture size

void main() { gl_FragColor = encode1(decode1(texture2D(u_input, (output_texel() + 0.5) * u_scale))); }
