/* A program that uses an installed glnn, as a user's would (tests/consumer/run.sh builds it with pkg-config and with
 * CMake's find_package, against the shared and the static library): a 1×1 Conv2D, 4 -> 4 channels, weights 0.5 on
 * the diagonal and bias 0.25, on the reference; byte q must become floor(q/2 + 64.25). */
#include <glnn.h>

#include <math.h>
#include <stdio.h>

static int failed(const glnn_error *err) {
    fprintf(stderr, "consumer: %s\n", err->message);
    return 1;
}

int main(void) {
    glnn_error err;
    glnn_context_options options;
    glnn_context_options_init(&options);
    options.device = "reference";
    glnn_context *ctx = NULL;
    if (glnn_context_create(&options, &ctx, &err) != GLNN_OK) return failed(&err);

    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "c";
    p.kernel_size = 1;
    p.num_input_channels = 4;
    p.num_output_channels = 4;
    float w[16] = {0}, b[4] = {0.25f, 0.25f, 0.25f, 0.25f};
    for (int i = 0; i < 4; i++)
        w[i * 4 + i] = 0.5f;
    uint8_t x[2 * 3 * 4], y[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        x[i] = (uint8_t)(i * 11);
    glnn_op *op = NULL;
    glnn_chunks *data = NULL;
    glnn_tensor *in = NULL, *out = NULL;
    glnn_shape shape = {GLNN_KIND_TENSOR, 2, 3, 4};
    int rc = 0;
    if (glnn_conv2d_create(&p, &op, &err) != GLNN_OK || glnn_chunks_create(&data, &err) != GLNN_OK ||
        glnn_chunks_set_weights(data, "c", w, 16, b, 4, &err) != GLNN_OK ||
        glnn_tensor_create(ctx, shape, &in, &err) != GLNN_OK || glnn_tensor_upload_u8(in, x, 24, &err) != GLNN_OK ||
        glnn_op_run(ctx, op, data, &in, 1, &out, &err) != GLNN_OK || glnn_tensor_download_u8(out, y, 24, &err) != GLNN_OK)
        rc = failed(&err);
    for (int i = 0; rc == 0 && i < 24; i++)
        if (y[i] != (uint8_t)floor(x[i] / 2.0 + 64.25)) {
            fprintf(stderr, "consumer: value %d is %d, expected %d\n", i, y[i], (int)floor(x[i] / 2.0 + 64.25));
            rc = 1;
        }
    /* SPEC §2.2: 8-bit data given as floats is refused with a hint. */
    const float bytes[2] = {0.5f, 255.0f};
    uint8_t q[2];
    if (rc == 0 && glnn_quantize_f32(bytes, q, 2, &err) != GLNN_ERR_ARGUMENT) {
        fprintf(stderr, "consumer: 255.0 was accepted as a float value\n");
        rc = 1;
    }
    glnn_tensor_free(in);
    glnn_tensor_free(out);
    glnn_chunks_free(data);
    glnn_op_release(op);
    glnn_context_free(ctx);
    if (rc == 0) printf("glnn %s consumer: ok\n", GLNN_VERSION);
    return rc;
}
