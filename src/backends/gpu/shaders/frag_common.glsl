// The fragment path (GLSL ES 1.00): what every fragment shader of gpu/frag/ shares.  Prepended by the host after
// "#version 100" and the shader's #defines (gpu/frag/context.c).
//
// Bytes: an RGBA8 texel reads back as b/255 in each component; bytes() recovers the integers b exactly,
// whatever the sampler's unorm-to-float conversion, and values are then b/255 as on the CPU.  A shader writes
// bytes b as (b + 0.25)/255 (times 1/255 rounded: b + 0.25 within 10^-4 after the conversion's ·255), which any
// conversion to 8 bits (rounding or truncating) stores as b.
//
// Float32 data (weights, Dense vectors) live in RGBA8 textures as their IEEE bytes, decoded exactly with highp
// arithmetic: sign · (1 + m/2^23) · 2^(e − 127), where 2^(e − 127) comes from exp2(), or, where the context's
// self-test found exp2() inexact at integers (EXACT_POW2 1), from exact multiplications.  Zero exponents
// (zero and denormals) read as 0.

// Everything at highp: drivers may compute mediump and lowp in 16 bits (Mesa does), which holds integers up to
// 2048 only.  gl_FragCoord is mediump in GLSL ES 1.00, so the texel being computed comes from a highp varying.
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
precision highp int;
precision highp sampler2D;
varying highp vec2 v_texel; // the output texel's centre, in texels
#else
precision mediump float; // refused at context creation: glnn needs highp floats in fragment shaders
varying vec2 v_texel;
#endif

uniform vec4 u_rect; // the rectangle being drawn: x, y, width, height in texels of the target

// Exactness.  The reference rounds every operation in the order its formula states; GLSL ES 1.00 has no `precise`,
// and compilers may reassociate sums with constants (Mesa moves them up add chains), recognize (1 − f)·a + f·b as
// a lerp or fuse a product into a sum.  gl_FragColor is declared invariant: compilers then keep every computation
// that contributes to it as written (Mesa marks them exact, which turns off all its value-changing rewrites),
// so that the shaders below can use literal constants in order-sensitive formulas.
invariant gl_FragColor;

// The output texel being written: its integer coordinates in the target.
vec2 output_texel() { return floor(v_texel); }

vec4 bytes(vec4 texel) { return floor(texel * 255.0 + 0.5); }

// The values q/255 of a sampled RGBA8 texel, exactly as the CPU reference computes them (the float32 nearest
// q/255), by the cheapest method the context's self-test (frag_unorm_test.glsl) found exact on the device (UNORM):
//   3  the sampled value itself (the sampler returns q/255 correctly rounded);
//   2  t + fract(t)·c for the sample t: a sampler that multiplies, t = q·(1/255 rounded) rounded (Mesa's),
//      returns q/255 one unit in the last place too high exactly where t's significand is 1.5 or more (t < 1);
//      t·c, c = −0.3329·2^-23, is more than half a unit there and less elsewhere, so t + t·c rounds to q/255.
//      At t = 1 (q = 255, exact) the unit below is half as large and the sum would round down: fract(t) is t
//      below 1 and 0 there.  Any c in [−0.33376, −0.33204]·2^-23 works; four operations;
//   1  q·(2^-8 + 2^-16 + 2^-24) + t·2^-24: q/255 = 0.qqqq… in base 256, whose first three bytes are the exact
//      product and whose tail (q/255)·2^-24 is the sampled t scaled, close enough that the sum rounds as q/255
//      does; no division (on llvmpipe a vector division costs about as much as the rest of a fetch);
//   0  q / 255.
vec4 unorm(vec4 t) {
#if UNORM == 3
    return t;
#elif UNORM == 2
    return t + fract(t) * -3.96848243e-8;
#elif UNORM == 1
    return floor(t * 255.0 + 0.5) * 0.003921568393707275390625 + t * 5.9604644775390625e-8;
#else
    return bytes(t) / 255.0;
#endif
}

// A quantized value v (SPEC §2.2: Q(v) = floor(255·clamp(v, 0, 1) + 0.5)) written as an RGBA8 texel.  The clamp is
// the render target's: a fragment colour is clamped to [0, 1] before it is stored, and floor(255·v + 0.5) is at
// least 255 above 1 and at most 0 below 0.
vec4 quantize(vec4 v) { return (floor(255.0 * v + 0.5) + 0.25) * 0.00392156863; }
vec4 store_bytes(vec4 b) { return (b + 0.25) * 0.00392156863; }

// Integer quotient and remainder of non-negative integers held in floats, safe with inexact division.
float idiv(float a, float b) { return floor((a + 0.5) / b); }

// 2^k for integers k in [-126, 127], exactly.
vec4 pow2(vec4 k) {
#if EXACT_POW2
    vec4 a = abs(k), p = vec4(1.0);
    vec4 f = mix(vec4(2.0), vec4(0.5), step(k, vec4(-0.5)));
    for (int i = 0; i < 7; i++) {
        vec4 h = floor(a * 0.5);
        p *= mix(vec4(1.0), f, a - 2.0 * h);
        f *= f;
        a = h;
    }
    return p;
#else
    return exp2(k);
#endif
}

// Four float32 values stored as byte planes: texel i holds byte i (least significant first) of each value.
vec4 decode4(vec4 t0, vec4 t1, vec4 t2, vec4 t3) {
    vec4 b0 = bytes(t0), b1 = bytes(t1), b2 = bytes(t2), b3 = bytes(t3);
    vec4 sign = floor(b3 / 128.0), elow = floor(b2 / 128.0);
    vec4 e = (b3 - 128.0 * sign) * 2.0 + elow;
    vec4 m = b0 + 256.0 * b1 + 65536.0 * (b2 - 128.0 * elow);
    vec4 v = (1.0 + m / 8388608.0) * pow2(max(e, 1.0) - 127.0);
    return (1.0 - 2.0 * sign) * v * step(0.5, e);
}

// One float32 value stored as one texel (bytes in R, G, B, A).
float decode1(vec4 t) { return decode4(vec4(t.x), vec4(t.y), vec4(t.z), vec4(t.w)).x; }

// The texel holding the IEEE bytes of v (denormals and -0 as 0, beyond the float range as infinity).
vec4 encode1(float v) {
    float a = abs(v), s = v < 0.0 ? 128.0 : 0.0;
    if (!(a >= 1.17549435e-38)) return vec4(0.0);
    if (a > 3.40282347e38) return store_bytes(vec4(0.0, 0.0, 128.0, s + 127.0));
    float e = clamp(floor(log2(a)), -126.0, 127.0);
    float p = pow2(vec4(e)).x;
    if (a < p) {
        e -= 1.0;
        p *= 0.5;
    } else if (a >= 2.0 * p) {
        e += 1.0;
        p *= 2.0;
    }
    float m = (a / p - 1.0) * 8388608.0;
    float b2 = floor(m / 65536.0), r = m - 65536.0 * b2;
    float b1 = floor(r / 256.0), b0 = r - 256.0 * b1;
    float be = e + 127.0, ehigh = floor(be / 2.0);
    return store_bytes(vec4(b0, b1, b2 + 128.0 * (be - 2.0 * ehigh), s + ehigh));
}

// Quad q at pixel (x, y) of a tensor: layout = (W, H, rows of tiles per column, quads), scale = 1/texture size.
vec4 fetch_quad(sampler2D s, vec4 layout, vec2 scale, float x, float y, float q) {
    float col = idiv(q, layout.z);
    vec2 t = vec2(x + col * layout.x, y + (q - col * layout.z) * layout.y);
    return texture2D(s, (t + 0.5) * scale);
}

// The output texel being computed: pixel (x, y) of tile (quad) q of a tensor of this layout.
vec3 output_position(vec4 layout) {
    vec2 f = output_texel();
    float col = idiv(f.x, layout.x), row = idiv(f.y, layout.y);
    return vec3(f.x - col * layout.x, f.y - row * layout.y, col * layout.z + row);
}

// Group g of four floats in block b of a byte-plane weight texture: layout = (width, rows per block,
// 1/width, 1/height); width is a multiple of 4.
vec4 weights4(sampler2D s, vec4 layout, float b, float g) {
    float n = 4.0 * g;
    float r = idiv(n, layout.x);
    vec2 c = vec2(n - r * layout.x + 0.5, b * layout.y + r + 0.5) * layout.zw;
    vec2 dx = vec2(layout.z, 0.0);
    return decode4(texture2D(s, c), texture2D(s, c + dx), texture2D(s, c + 2.0 * dx), texture2D(s, c + 3.0 * dx));
}
