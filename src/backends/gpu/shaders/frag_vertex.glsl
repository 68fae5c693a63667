// The fragment path's vertex shader: a quad (two triangles) over the rectangle u_rect = (x, y, width, height) of
// the render target, in texels.  v_texel is the position in texels, so that fragment shaders find the texel they
// compute at highp (gl_FragCoord is only mediump in GLSL ES 1.00).
attribute vec2 a_pos;
uniform vec4 u_rect;
varying vec2 v_texel;

void main() {
    gl_Position = vec4(a_pos, 0.0, 1.0);
    v_texel = u_rect.xy + (a_pos * 0.5 + 0.5) * u_rect.zw;
}
