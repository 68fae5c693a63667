// Channel shuffle of a connection (SPEC §6): consumer quad i reads producer quad (n·i mod Q) + n·i / Q.
// One invocation per quad of the output.  Specialized by STEP (n).
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
layout(std430, binding = 1) writeonly buffer Output { uint outp[]; };
uniform int u_quads;  // quads per pixel
uniform int u_total;  // pixels × quads

void main() {
    int idx = int(gl_GlobalInvocationID.x);
    if (idx >= u_total) return;
    int pixel = idx / u_quads, i = idx - pixel * u_quads;
    int src = (STEP * i) % u_quads + (STEP * i) / u_quads;
    outp[idx] = inp[pixel * u_quads + src];
}
