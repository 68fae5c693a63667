/* glnn model: every operation with its kind, parameters, output shape and multiply-adds. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Binds a zero input of the right kind to input 0 of the first op so that shapes can be computed. */
static glnn_status bind_probe_input(glnn_model *m, const cli_options *o, glnn_error *err) {
    glnn_op *first = glnn_model_op_at(m, 0);
    if (!first) return glnn_fail(err, GLNN_ERR_FORMAT, "model: the model has no operations");
    glnn_op_kind kind = glnn_op_get_kind(first);
    int64_t channels = 3;
    if (kind == GLNN_OP_CONV2D) {
        glnn_conv2d_params p;
        glnn_conv2d_get_params(first, &p, NULL);
        channels = p.num_input_channels;
    }
    bool sampler = kind == GLNN_OP_IMAGE_SAMPLER;
    int64_t h = o->input_h ? o->input_h : sampler ? 1 : 0, w = o->input_w ? o->input_w : sampler ? 1 : 0;
    if (!h || (kind != GLNN_OP_CONV2D && !sampler))
        return glnn_fail(err, GLNN_ERR_ARGUMENT,
                         "model: '%s' does not start with an ImageSampler; give the input size with --input HxW",
                         glnn_op_name(first));
    uint8_t *zeros = calloc((size_t)(h * w * channels), 1);
    if (!zeros) return glnn_fail(err, GLNN_ERR_MEMORY, "model: out of memory");
    glnn_status s = channels == 3 ? glnn_model_bind_image(m, glnn_op_name(first), 0, zeros, h, w, 3, err)
                                  : glnn_model_bind_tensor_u8(m, glnn_op_name(first), 0, zeros, h, w, channels, err);
    free(zeros);
    return s;
}

int cmd_model(const cli_options *o) {
    if (o->n_positional != 1) return cli_usage_error("model needs one MODEL.chunks");
    glnn_error err;
    glnn_chunks *chunks = NULL;
    glnn_model *m = NULL;
    glnn_context *ctx = NULL;
    cli_options co = *o;
    if (!co.device) co.device = "cpu"; /* shapes and counts need no GPU */
    int rc = 1;
    if (glnn_chunks_read_file(o->positional[0], &chunks, &err) != GLNN_OK ||
        glnn_model_from_chunks(chunks, &m, &err) != GLNN_OK || bind_probe_input(m, o, &err) != GLNN_OK ||
        cli_open_context(&co, &ctx, &err) != GLNN_OK || glnn_model_prepare(m, ctx, chunks, &err) != GLNN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("%-4s %-16s %-14s %-44s %-14s %14s %12s\n", "#", "name", "type", "parameters", "output", "multiply-adds",
           "fetches");
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        glnn_op *op = glnn_model_op_at(m, i);
        char shape[64] = "-";
        glnn_shape s;
        if (glnn_op_output_count(op) > 0 && glnn_op_output_shape(op, 0, &s, NULL) == GLNN_OK) {
            if (s.kind == GLNN_KIND_VECTOR)
                snprintf(shape, sizeof shape, "%lld", (long long)s.c);
            else
                snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)s.h, (long long)s.w, (long long)s.c);
        }
        int64_t macs = 0, fetches = 0;
        glnn_op_count_multiply_adds(op, &macs, NULL);
        glnn_op_count_texel_fetches(op, &fetches, NULL);
        printf("%-4d %-16s %-14s ", i, glnn_op_name(op), glnn_op_type_name(op));
        char params[128];
        glnn_op_describe(op, params, sizeof params);
        printf("%-44s %-14s %14lld %12lld\n", params, shape, (long long)macs, (long long)fetches);
    }
    int64_t macs, fetches, bytes;
    glnn_model_count_multiply_adds(m, &macs, NULL);
    glnn_model_count_texel_fetches(m, &fetches, NULL);
    glnn_model_memory_size(m, &bytes, NULL);
    printf("%d operations; %lld multiply-adds (%.1f M); %lld texel fetches; memory %.2f MiB (tensors and weights)\n",
           glnn_model_op_count(m), (long long)macs, (double)macs / 1e6, (long long)fetches, (double)bytes / 1048576.0);
    rc = 0;
done:
    glnn_model_free(m);
    glnn_chunks_free(chunks);
    glnn_context_free(ctx);
    return rc;
}
