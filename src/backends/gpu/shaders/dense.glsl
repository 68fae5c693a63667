// Dense (SPEC §5.2).  One invocation computes one output y_o = Σ_i A(o, i)·x_i + b_o, summed in ascending i,
// bias last.  Specialized by the host with:
//   VECTOR_INPUT    1: the input is N_in floats (x_i as is); 0: a 1×1×N_in tensor, one uint per quad
//                   (channel 4i+j in byte j), x_i = q/255
// The matrix is stored transposed, A(o, i) at i·N_out + o, so that neighbouring invocations read
// neighbouring floats.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if VECTOR_INPUT
layout(std430, binding = 0) readonly buffer Input { float inp[]; };
#else
layout(std430, binding = 0) readonly buffer Input { uint inp[]; };
#endif
layout(std430, binding = 1) readonly buffer Matrix { float mat[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Output { float outp[]; };

uniform int u_n_in;
uniform int u_n_out;

void main() {
    int o = int(gl_GlobalInvocationID.x);
    if (o >= u_n_out) return;
    float acc = 0.0;
    for (int i = 0; i < u_n_in; i++) {
#if VECTOR_INPUT
        float x = inp[i];
#else
        float x = unpack_quad(inp[i >> 2])[i & 3];
#endif
        acc += mat[i * u_n_out + o] * x;
    }
    outp[o] = acc + bias[o];
}
