/* The fragment path: every operation as a GLSL ES 1.00 fragment shader rendering into RGBA8 textures, within the
 * OpenGL ES 2.0 minimum limits (8 texture units, 16 fragment uniform vectors, no float render targets), for the
 * Raspberry Pi Zero–3 (VideoCore IV) and other GLES 2.0 GPUs.  Internal.
 *
 * Storage: one RGBA8 texture per tensor, image or vector (NEAREST, CLAMP_TO_EDGE, no mipmaps).
 *  - Tensor H×W×C: Q = C/4 tiles of W×H texels, tile q holding quad q (channel 4q + j in component j).  Tiles
 *    are stacked in columns of `rows` tiles: tile q starts at texel ((q / rows)·W, (q mod rows)·H).  rows = Q
 *    unless H·Q exceeds the texture size limit.
 *  - Image H×W×3: one tile, texel (x, y) = (R, G, B, 0).
 *  - Vector of N float32: texel n at (n mod T, n / T), T = min(N, limit), holding the IEEE bytes of the value
 *    (least significant in R).
 * Float32 weights live in RGBA8 textures as well, by groups of four values in four texels ("byte planes":
 * texel i of a group holds byte i of each of the four values), decoded exactly by the shaders
 * (shaders/frag_common.glsl).  A context checks at creation that this codec is exact on the device.
 *
 * Each op implementation keeps its resources in its own state (weights and taps textures, a host copy of weights
 * passed as uniforms); programs belong to the context's cache. */
#ifndef GLNN_GPU_FRAG_H
#define GLNN_GPU_FRAG_H

#include "backends/gpu/gpu.h"

struct glnn_frag {
    GLint max_size; /* largest texture side usable as a render target: GL_MAX_TEXTURE_SIZE, GL_MAX_VIEWPORT_DIMS */
    GLint max_texture_units, max_fragment_uniforms;
    GLint highp_bits;    /* mantissa bits of highp float in fragment shaders */
    bool exact_pow2;     /* exp2() is not exact at integers: shaders build powers of two by multiplication */
    int unorm;           /* how shaders get q/255 from a sampled byte (frag_common.glsl, unorm()): 3 as sampled,
                          * 2 the sample corrected, 1 from q without division, 0 by division; the cheapest the
                          * context's self-test found exact */
    int weight_uniforms; /* most vec4 uniforms of weights per program (Conv2D); beyond, weights in textures */
    int bake_weights;    /* Conv2D weights as literals, one program per output quad: -1 where it pays (software
                          * renderers, large layers), 0 never, 1 wherever the sum unrolls */
    /* Test hooks, read at context creation: GLNN_FRAG_UNIFORMS=N lowers weight_uniforms to N (0: every Conv2D
     * reads its weights from a texture); GLNN_FRAG_EXACT_POW2=1 sets exact_pow2; GLNN_FRAG_UNORM=N caps unorm;
     * GLNN_FRAG_BAKED=0 or 1 sets bake_weights. */
    int64_t passes, fetches; /* draws and the texels their fragments read, since the context was created */
    GLuint fbo;              /* render target and readback framebuffer */
    GLuint quad;             /* full-screen quad: two triangles */
    GLuint vertex_shader;
};

/* Context (fragment/context.c) */
/* Queries the limits, checks highp floats, builds the shared objects and runs the float codec self-test on the
 * current GLES 2.0 context. */
glnn_status glnn_frag_init(glnn_gpu *gpu, glnn_error *err);
/* Frees the shared objects (context current); safe when init failed or never ran. */
void glnn_frag_release(glnn_gpu *gpu);
size_t glnn_frag_describe(const glnn_context *ctx, char *buf, size_t size);
/* The program of fragment shader `name` (shaders/<name>.glsl after frag_common.glsl) specialized with `defines`,
 * compiled once per context. */
glnn_status glnn_frag_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err);
/* The same with `generated` code (a main() written by the host) after the shader's source, also compiled once
 * per context (the generated code is part of the key). */
glnn_status glnn_frag_program_generated(glnn_gpu *gpu, glnn_shader id, const char *defines, const char *generated,
                                        GLuint *out, glnn_error *err);
/* The smallest power of two ≥ n and ≥ least (shader array sizes and loop bounds: few specializations). */
int64_t glnn_frag_round_up(int64_t n, int64_t least);
/* Binds `texture` to texture unit `unit` and the sampler uniform `name` of the bound program to it. */
void glnn_frag_bind_texture(GLuint program, const char *name, int unit, GLuint texture);
/* Renders the bound program over the whole target texture (width × height texels). */
glnn_status glnn_frag_draw(glnn_gpu *gpu, GLuint program, GLuint target, int64_t width, int64_t height,
                           const char *what, glnn_error *err);
/* The same in steps: glnn_frag_target makes `target` the render target, then each glnn_frag_draw_rect renders
 * the bound program over one rectangle of it, `rect` being the location of its uniform u_rect (the caller
 * checks GL errors afterwards). */
glnn_status glnn_frag_target(glnn_gpu *gpu, GLuint target, const char *what, glnn_error *err);
void glnn_frag_draw_rect(GLint rect, int64_t x, int64_t y, int64_t width, int64_t height);
/* Counts `passes` draws reading `fetches` texels in all (glnn_frag_counters). */
void glnn_frag_count(glnn_gpu *gpu, int64_t passes, int64_t fetches);
/* The draws (passes) and texel fetches of ops (inputs, residuals, weights and taps read from textures) on the
 * fragment path of ctx since it was created; false when ctx is not on the fragment path.  For benchmarks. */
bool glnn_frag_counters(const glnn_context *ctx, int64_t *passes, int64_t *fetches);
/* Reads the whole of `texture` (width × height RGBA8 texels) into texels. */
glnn_status glnn_frag_read(glnn_gpu *gpu, GLuint texture, int64_t width, int64_t height, uint8_t *texels,
                           const char *what, glnn_error *err);

/* Storage (fragment/tensor.c) */
typedef struct glnn_frag_layout {
    int64_t tile_w, tile_h; /* W×H (tensor, image); the texture size (vector) */
    int64_t tiles, rows;    /* quads (1 for images and vectors); tiles per column */
    int64_t width, height;  /* the texture */
} glnn_frag_layout;

/* The layout of `shape`; an error naming the shape when it exceeds the device's texture size. */
glnn_status glnn_frag_layout_of(const glnn_gpu *gpu, glnn_shape shape, glnn_frag_layout *out, const char *what,
                                glnn_error *err);
/* The start of an op's run: the layouts of input and output, and `program` in use with the input's layout as
 * u_in_layout / u_in_scale and the input bound to texture unit 0 as u_input. */
glnn_status glnn_frag_begin(glnn_gpu *gpu, GLuint program, const glnn_tensor *input, const glnn_tensor *output,
                            glnn_frag_layout *in, glnn_frag_layout *out, const char *what, glnn_error *err);
/* Sets the uniforms <prefix>_layout = (tile_w, tile_h, rows, tiles) and <prefix>_scale = 1 / texture size. */
void glnn_frag_set_layout(GLuint program, const char *prefix, const glnn_frag_layout *l);
GLNN_STORAGE_FUNCTIONS(glnn_frag)

/* A byte-plane float texture: `blocks` blocks of `groups` groups of four floats.  Each block takes `rows`
 * texture rows of `width` texels (a multiple of 4), block after block. */
typedef struct glnn_frag_weights {
    int64_t width, rows, height;
} glnn_frag_weights;
/* The size of such a texture; an error naming `what` when it exceeds the device's texture size. */
glnn_status glnn_frag_weights_layout(const glnn_gpu *gpu, int64_t blocks, int64_t groups, glnn_frag_weights *out,
                                     const char *what, glnn_error *err);
/* Uploads values[(b·groups + g)·4 …] as group g of block b. */
glnn_status glnn_frag_weights_create(const glnn_gpu *gpu, const float *values, int64_t blocks, int64_t groups,
                                     GLuint *texture, const char *what, glnn_error *err);
/* Sets the program's uniform u_w_layout = (width, rows, 1/width, 1/height). */
void glnn_frag_set_weights_layout(GLuint program, const glnn_frag_weights *w);
/* The state of a resampling op (ImageSampler, Upsampling2D): its program and taps texture; release frees it. */
typedef struct glnn_frag_taps_state {
    GLuint taps, program;
    int64_t taps_width;
} glnn_frag_taps_state;
void glnn_frag_taps_release(glnn_context *ctx, void *state);
struct glnn_sampler_tap;
/* The taps of a resampling op (ImageSampler, Upsampling2D) as a texture of max(nx, ny) × 4 texels: row 0, the x
 * taps (i0 in R + 256·G, i1 in B + 256·A), row 1 their weights f as float32 texels, rows 2 and 3 the same along y;
 * *width is the texture's width.  An error when an index exceeds 16 bits or the width the device's limit. */
glnn_status glnn_frag_taps_create(const glnn_gpu *gpu, const struct glnn_sampler_tap *tx, int64_t nx,
                                  const struct glnn_sampler_tap *ty, int64_t ny, int64_t in_w, int64_t in_h,
                                  GLuint *texture, int64_t *width, const char *what, glnn_error *err);
/* A resampling op's preparation: a new state in *state, its taps texture (tx NULL: none, nearest sampling) and
 * its program `shader` with `defines`. */
glnn_status glnn_frag_taps_prepare(glnn_gpu *gpu, const struct glnn_sampler_tap *tx, int64_t nx,
                                   const struct glnn_sampler_tap *ty, int64_t ny, int64_t in_w, int64_t in_h,
                                   glnn_shader shader, const char *defines, void **state, const char *what,
                                   glnn_error *err);
/* Binds the taps texture as u_taps (texture unit 1) with u_taps_scale; without taps, `fallback` (unread: the
 * unit must hold a valid texture). */
void glnn_frag_taps_bind(GLuint prog, const glnn_frag_taps_state *st, GLuint fallback);
/* An RGBA8 texture of width × height texels from `texels` (NULL: zeros). */
glnn_status glnn_frag_texture_create(int64_t width, int64_t height, const uint8_t *texels, GLuint *out,
                                     const char *what, glnn_error *err);
void glnn_frag_texture_free(GLuint texture);
/* The IEEE bytes of f, least significant first. */
void glnn_frag_float_bytes(float f, uint8_t b[4]);

/* Operations (one file each beside this one) */
#define GLNN_BACKEND_PREFIX glnn_fragment
GLNN_BACKEND_DECLARE_OPS
#undef GLNN_BACKEND_PREFIX

#endif
