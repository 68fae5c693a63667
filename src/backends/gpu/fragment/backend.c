/* The GPU fragment back end (OpenGL ES 2.0 fragment shaders into RGBA8 textures, frag.h): storage, the channel
 * shuffle, and the table of its op implementations (the op files beside this one). */
#include "backends/gpu/fragment/frag.h"

#include <stdio.h>

static glnn_status check_shape(const glnn_context *ctx, glnn_shape shape, int64_t bytes, const char *what,
                               glnn_error *err) {
    (void)bytes;
    glnn_frag_layout layout; /* textures within the device's size limit */
    return glnn_frag_layout_of(glnn_gpu_of(ctx), shape, &layout, what, err);
}

/* Channel shuffle of a connection (SPEC §6). */
static glnn_status shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    const char *what = "channel shuffle";
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    glnn_frag_layout l;
    char defines[64];
    snprintf(defines, sizeof defines, "#define STEP %d\n", n);
    GLuint prog;
    glnn_status s = glnn_frag_layout_of(gpu, in->shape, &l, what, err);
    if (s == GLNN_OK) s = glnn_frag_program(gpu, GLNN_SHADER_FRAG_SHUFFLE, defines, &prog, err);
    if (s != GLNN_OK) return s;
    glUseProgram(prog);
    glnn_frag_set_layout(prog, "u", &l);
    glnn_frag_bind_texture(prog, "u_input", 0, in->texture);
    glnn_frag_count(gpu, 1, l.tile_w * l.tile_h * l.tiles);
    return glnn_frag_draw(gpu, prog, out->texture, l.width, l.height, what, err);
}

#define GLNN_BACKEND_PREFIX glnn_fragment
const glnn_backend glnn_fragment_backend = {
    .name = "fragment",
    GLNN_GPU_BACKEND_HOOKS,
    GLNN_BACKEND_OPS,
    .check_shape = check_shape,
    GLNN_STORAGE(glnn_frag),
    .shuffle = shuffle,
    .describe = glnn_frag_describe,
    .counters = glnn_frag_counters,
};
