// Context self-test of the fragment path (fragment/context.c): whether unorm() (frag_common.glsl), compiled with
// the UNORM method under test, turns every byte q of every component of a sampled RGBA8 texel into the float32
// nearest q/255, the value the CPU reference computes.  Input: 256 texels, texel x holding bytes
// (x, x + 85, x + 170, 255 − x) mod 256; output texel (x, y) is the IEEE bytes of component y of unorm() of input
// texel x, which the host compares with q/255.0f.
uniform sampler2D u_input;

void main() {
    vec2 f = output_texel();
    vec4 t = unorm(texture2D(u_input, vec2((f.x + 0.5) / 256.0, 0.5)));
    float v = f.y < 0.5 ? t.x : f.y < 1.5 ? t.y : f.y < 2.5 ? t.z : t.w;
    gl_FragColor = encode1(v);
}
