// Channel shuffle of a connection (SPEC §6) on the fragment path: output quad i at a pixel is input quad
// (n·i mod Q) + n·i / Q of the same pixel.  Specialized by STEP (n).

uniform sampler2D u_input;
uniform vec4 u_layout; // input and output: tile width, height, rows of tiles, quads
uniform vec2 u_scale;  // 1 / texture size

void main() {
    vec3 o = output_position(u_layout);
    if (o.z >= u_layout.w) {
        gl_FragColor = vec4(0.0);
        return;
    }
    float ni = float(STEP) * o.z;
    float hi = idiv(ni, u_layout.w);
    float src = ni - hi * u_layout.w + hi;
    gl_FragColor = store_bytes(bytes(fetch_quad(u_input, u_layout, u_scale, o.x, o.y, src)));
}
