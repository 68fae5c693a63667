/* What the two GPU back ends share (the compute path, backends/gpu/compute, and the fragment path,
 * backends/gpu/fragment): the EGL context, programs and their cache, buffers, timers.  Internal. */
#ifndef GLNN_GPU_H
#define GLNN_GPU_H

#include "backends/backend.h"
#include "shaders.h" /* generated: GLNN_SHADER_<NAME> for every src/backends/gpu/shaders/<name>.glsl */

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl31.h>

#ifndef GL_TEXTURE_BUFFER
#define GL_TEXTURE_BUFFER 0x8C2A
#endif
#ifndef GL_MAX_TEXTURE_BUFFER_SIZE
#define GL_MAX_TEXTURE_BUFFER_SIZE 0x8C2B
#endif

typedef struct glnn_program {
    char *key; /* shader name + defines */
    GLuint program;
    struct glnn_program *next;
} glnn_program;

typedef struct glnn_gpu glnn_gpu;
struct glnn_gpu {
    EGLDisplay display;
    EGLContext context;
    EGLSurface surface; /* EGL_NO_SURFACE when surfaceless contexts are supported */
    bool software;
    char vendor[128], renderer[256], version[128], glsl_version[128], egl_info[256];
    GLint max_invocations, max_group_size[3], max_group_count[3], max_ssbo_size, max_shared_memory, max_texture_size,
        max_ubo_size, max_ssbo_blocks;
    glnn_program *programs;
    /* EXT_disjoint_timer_query: GPU time of queued work (gpu/context.c); has_timer false without it. */
    bool has_timer;
    GLuint timer_query;
    void(GL_APIENTRY *gen_queries)(GLsizei n, GLuint *ids);
    void(GL_APIENTRY *delete_queries)(GLsizei n, const GLuint *ids);
    void(GL_APIENTRY *begin_query)(GLenum target, GLuint id);
    void(GL_APIENTRY *end_query)(GLenum target);
    void(GL_APIENTRY *get_query_u64)(GLuint id, GLenum pname, GLuint64 *value);
    /* The fragment path (gpu/frag/): a GLES 2.0 context, every op a fragment shader into RGBA8 textures. */
    bool fragment;
    struct glnn_frag *frag;
    /* A display opened on GBM over a DRM render node (gpu/context.c), else NULL. */
    void *gbm_lib, *gbm_device;
    int gbm_fd;
    /* Texture buffers (GLES 3.2, EXT_ or OES_texture_buffer), looked up on first use by
     * glnn_gpu_texture_buffers: tbo_state 1 available, -1 not, 0 not looked up yet. */
    int tbo_state;
    GLint max_texture_buffer_size;
    void(GL_APIENTRY *tex_buffer)(GLenum target, GLenum internal_format, GLuint buffer);
};

/* The GPU state of a context of either GPU back end. */
static inline glnn_gpu *glnn_gpu_of(const glnn_context *ctx) {
    return (glnn_gpu *)ctx->impl;
}

/* The back-end hooks both GPU back ends use (gpu/context.c): make current, timers, finish, asynchronous errors,
 * destruction. */
glnn_status glnn_gpu_activate(glnn_context *ctx, glnn_error *err);
bool glnn_gpu_timer_begin_hook(glnn_context *ctx);
double glnn_gpu_timer_end_hook(glnn_context *ctx);
void glnn_gpu_finish_hook(glnn_context *ctx);
glnn_status glnn_gpu_check_hook(glnn_context *ctx, const char *what, glnn_error *err);
const char *glnn_gpu_no_timer(const glnn_context *ctx);
void glnn_gpu_destroy(glnn_context *ctx);
/* The fields of a GPU back end's table that both paths share. */
#define GLNN_GPU_BACKEND_HOOKS                                                                                         \
    .is_gpu = true, .sampling_limit = true, .activate = glnn_gpu_activate, .timer_begin = glnn_gpu_timer_begin_hook,   \
    .timer_end = glnn_gpu_timer_end_hook, .finish = glnn_gpu_finish_hook, .check = glnn_gpu_check_hook,                \
    .no_timer = glnn_gpu_no_timer, .destroy = glnn_gpu_destroy

/* Creates the EGL display and context for `device` ("auto", "software", or an index) and `path`
 * ("compute", "fragment", or "auto": compute when the context offers GLES 3.1, else fragment). */
glnn_status glnn_gpu_create(const char *device, const char *path, glnn_gpu **out, glnn_error *err);
void glnn_gpu_free(glnn_gpu *gpu);
/* Makes gpu's context current on the calling thread (cheap when it already is). */
glnn_status glnn_gpu_make_current(glnn_gpu *gpu, glnn_error *err);
/* Whether the current context lists the OpenGL ES extension `name`. */
bool glnn_gpu_has_extension(const char *name);
/* Converts a pending GL error into a glnn error naming `what`. */
glnn_status glnn_gpu_check(const char *what, glnn_error *err);

/* Compiles the shader of `type` from the `n` source strings `parts`; the error names shader `name` and
 * carries the driver's log. */
glnn_status glnn_gpu_compile_shader(GLenum type, const char *name, const char *const *parts, int n, GLuint *out,
                                    glnn_error *err);
/* Links `program` (shaders attached); on failure deletes it and returns the driver's log. */
glnn_status glnn_gpu_link_program(GLuint program, const char *name, glnn_error *err);
/* Returns the compute program of shader `id` specialized with `defines` ("#define A 1\n..."), compiled once per
 * context: "#version 310 es", the defines, the shared prelude (shaders/prelude.glsl), then the shader. */
glnn_status glnn_gpu_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err);
/* The per-context program cache behind glnn_gpu_program and the fragment path's glnn_frag_program: returns
 * the program keyed by the shader and `defines`, building it with `build` the first time. */
typedef glnn_status (*glnn_program_builder)(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out,
                                            glnn_error *err);
glnn_status glnn_gpu_program_cached(glnn_gpu *gpu, glnn_shader id, const char *defines, glnn_program_builder build,
                                    GLuint *out, glnn_error *err);

/* Texture buffers: whether the current context has them (looked up once per context).  Kernels read
 * tensors and weights through them where they can: on llvmpipe a texel fetch is a vector gather, while a
 * storage buffer read with a lane-varying address is a loop over the lanes. */
bool glnn_gpu_texture_buffers(glnn_gpu *gpu);
/* Binds `texture` to texture unit `unit` as a view of `buffer` in `format` (buffer 0: the texture lets go
 * of the buffer it viewed). */
void glnn_gpu_buffer_view(glnn_gpu *gpu, int unit, GLuint texture, GLenum format, GLuint buffer);
/* Binds `texture`, a view made once (weights), to texture unit `unit` as it is. */
void glnn_gpu_bind_view(int unit, GLuint texture);

/* Frees a back end's state for an op: with its context current, the GL buffers and textures it names (0 entries
 * are skipped), then the state itself. */
void glnn_gpu_free_state(glnn_context *ctx, void *state, const GLuint *buffers, int n_buffers, const GLuint *textures,
                         int n_textures);
/* Frees a state that holds no GL object of its own (programs belong to the device): an op's `release`. */
void glnn_gpu_release_state(glnn_context *ctx, void *state);

/* Buffers */
glnn_status glnn_gpu_buffer_create(int64_t size, const void *data, GLuint *out, const char *what, glnn_error *err);
void glnn_gpu_buffer_free(GLuint buffer);

/* Dispatches the bound program over (x, y, z) invocations in groups of (lx, ly, lz). */
glnn_status glnn_gpu_dispatch(glnn_gpu *gpu, int64_t x, int64_t y, int64_t z, int lx, int ly, int lz, const char *what,
                              glnn_error *err);

/* Waits for every queued command (per-op timing). */
void glnn_gpu_finish(glnn_gpu *gpu);

/* GPU timing of the commands queued between the two calls: begin returns false where the device has no
 * timer queries; end waits for the result and returns milliseconds, or -1 when the driver reports the
 * measurement disjoint (a clock change, a context switch) or failed.  Software renderers get no timer (their
 * GPU is the CPU; llvmpipe also times compute work as 0). */
bool glnn_gpu_timer_begin(glnn_gpu *gpu);
double glnn_gpu_timer_end(glnn_gpu *gpu);

#endif
