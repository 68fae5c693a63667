/* Conv2D on the fragment path: one draw per output quad over its tile of the output, in one of three forms chosen at
 * preparation (frag_conv_state):
 *  - BAKED (shaders/frag_conv2d_unrolled.glsl, main() written here): one program per output quad, every tap and
 *    input quad a statement with its texture offset, and the weights, bias and output tile as literals.  On
 *    software renderers, for layers large enough to repay the compile: llvmpipe reads every uniform as a gather
 *    over the lanes, which made the weights cost more than the texel fetches.
 *  - UNROLLED (the same shader): one program per layer shape, the weights of the quad drawn in uniforms.
 *  - LOOP (shaders/frag_conv2d.glsl): one loop over taps and input quads with runtime bounds, shared by every
 *    Conv2D of the same kind; the weights in uniforms when the device's budget holds them (exact float32), else
 *    in a byte-plane texture holding one block per output quad.  For sums too long to unroll, inputs whose tiles
 *    span several columns, and devices with few uniforms.
 * The bias and weights of a quad are 1 + k²·Cg groups of four floats (the quad's four channels).  Every form sums
 * in the reference's order (taps ky, kx, input channels ci, then residual, bias) and is bit-identical to the CPU
 * reference where the device's arithmetic is IEEE (llvmpipe). */
#include "backends/gpu/fragment/frag.h"
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FORM_LOOP, FORM_UNROLLED, FORM_BAKED };

/* Most texel fetches per fragment of an unrolled program (BAKED, UNROLLED). */
#define MAX_UNROLLED 256
/* Fewest output pixels per quad for BAKED programs where chosen automatically: below, the compile of one program
 * per output quad costs more than many runs of the layer gain. */
#define MIN_BAKED_PIXELS 2048

/* The back end's state for one prepared Conv2D. */
typedef struct frag_conv_state {
    int form;
    GLuint weights;    /* LOOP: the weights' byte-plane texture, 0 when they are in uniforms */
    float *uniforms;   /* LOOP and UNROLLED with uniforms: per output quad, its groups of four floats */
    GLuint programs[]; /* BAKED: one per output quad; else one (the context's cache owns them) */
} frag_conv_state;

/* Groups of four floats per output quad: the bias, then one per tap and input channel of the group. */
static int64_t weight_groups(const glnn_conv2d *c) {
    return 1 + (int64_t)c->p.kernel_size * c->p.kernel_size * c->cg;
}

/* Loop iterations per output value: taps × input quads read per tap. */
static int64_t quads_per_tap(const glnn_conv2d *c) {
    return c->kind == CONV_IMAGE || c->kind == CONV_DEPTHWISE ? 1 : c->cg / 4;
}
static int64_t iterations(const glnn_conv2d *c) {
    return (int64_t)c->p.kernel_size * c->p.kernel_size * quads_per_tap(c);
}

/* The first input quad read by output quad oq: the quad itself (depthwise), else the first quad of its group. */
static int first_input_quad(const glnn_conv2d *c, int oq) {
    const int qout = c->p.num_output_channels / 4;
    return c->kind == CONV_DEPTHWISE ? oq
           : c->kind == CONV_IMAGE   ? 0
                                     : oq / (qout / glnn_conv2d_groups(c)) * (c->cg / 4);
}

/* The form for c reading an input of layout `in` into `pixels` output pixels per quad.  Software renderers:
 * BAKED for large layers, else LOOP (an unrolled program reading uniforms is a long run of lane gathers there,
 * slow to compile for little gain); other devices: UNROLLED where the weights fit in uniforms.  The test hook
 * GLNN_FRAG_BAKED: 1 every Conv2D that unrolls BAKED, 0 none (UNROLLED where the weights fit in uniforms, also
 * on software renderers). */
static int choose_form(const glnn_conv2d *c, const glnn_gpu *gpu, const glnn_frag_layout *in, int64_t pixels) {
    const bool uniforms = weight_groups(c) <= gpu->frag->weight_uniforms;
    const bool unrollable = in->rows >= in->tiles && iterations(c) <= MAX_UNROLLED;
    const int bake = gpu->frag->bake_weights;
    if (!unrollable) return FORM_LOOP;
    if (bake == 1) return FORM_BAKED;
    if (bake < 0 && gpu->software) return pixels >= MIN_BAKED_PIXELS ? FORM_BAKED : FORM_LOOP;
    return uniforms ? FORM_UNROLLED : FORM_LOOP;
}

/* ---- unrolled programs ---- */

/* A GLSL float literal that reads back as exactly f (nine significant digits, with a point or an exponent so
 * that it is not an integer literal). */
static void add_float(glnn_strbuf *t, float f) {
    char b[32];
    snprintf(b, sizeof b, "%.9g", (double)f);
    glnn_strbuf_add(t, "%s%s", b, strpbrk(b, ".en") ? "" : ".0");
}

/* Group g of the weights of one output quad: a literal from w, or (w NULL) the uniform u_w[g]. */
static void add_weight(glnn_strbuf *t, const float *w, int64_t g) {
    if (!w) {
        glnn_strbuf_add(t, "u_w[%lld]", (long long)g);
        return;
    }
    glnn_strbuf_add(t, "vec4(");
    for (int i = 0; i < 4; i++) {
        if (i) glnn_strbuf_add(t, ", ");
        add_float(t, w[4 * g + i]);
    }
    glnn_strbuf_add(t, ")");
}

/* The mask of tap offset `t` along one axis (input length `len`, `n` outputs, stride `s`, padding `before`): a
 * GLSL expression of the tap's position `pos` that is 1 inside the input and 0 outside, or NULL where no output
 * reads outside the input. */
static const char *axis_mask(char *buf, size_t size, const char *pos, int64_t t, int64_t len, int64_t n, int s,
                             int64_t before) {
    const bool lo = t<before, hi = (n - 1) * s - before + t> len - 1;
    if (lo && hi)
        snprintf(buf, size, "step(%.1f, %s) * step(%s, %.1f)", (double)-t, pos, pos, (double)(len - 1 - t));
    else if (lo)
        snprintf(buf, size, "step(%.1f, %s)", (double)-t, pos);
    else if (hi)
        snprintf(buf, size, "step(%s, %.1f)", pos, (double)(len - 1 - t));
    else
        return NULL;
    return buf;
}

/* main() of an unrolled program for c reading input layout `in` and writing output layout `out`: with w the
 * weights of output quad oq as literals (and its output tile and first input tile), or, w NULL, reading the
 * weights from uniforms u_w, the drawn tile from u_rect and the first input tile from u_tile.  NULL when out of
 * memory. */
static char *unrolled_main(const glnn_conv2d *c, const glnn_conv2d_prep *pp, const glnn_frag_layout *in,
                           const glnn_frag_layout *out, const float *w, int oq) {
    const int k = c->p.kernel_size, st = c->p.stride, q = (int)quads_per_tap(c);
    const int step = c->kind == CONV_IMAGE ? 3 : c->kind == CONV_DEPTHWISE ? 1 : 4;
    const double sx = 1.0 / (double)in->width, sy = 1.0 / (double)in->height;
    glnn_strbuf t = {0};
    if (!w) glnn_strbuf_add(&t, "uniform vec4 u_w[%lld];\nuniform vec2 u_tile;\n\n", (long long)weight_groups(c));
    /* Masks of the taps that fall outside the input for some outputs, from the output position p. */
    bool mx[MAX_UNROLLED] = {false}, my[MAX_UNROLLED] = {false}, masked = false;
    char m[128];
    for (int i = 0; i < k; i++) {
        mx[i] = axis_mask(m, sizeof m, "p.x", i, in->tile_w, pp->ax.n, st, pp->ax.before);
        my[i] = axis_mask(m, sizeof m, "p.y", i, in->tile_h, pp->ay.n, st, pp->ay.before);
        masked = masked || mx[i] || my[i];
    }
    glnn_strbuf_add(&t, "void main() {\n");
    /* The output pixel p (and the input texel c of its tap (0, 0)): its tile's origin subtracted from the texel being
     * written, times the stride, less the padding. */
    const int64_t ox = oq / out->rows * out->tile_w, oy = oq % out->rows * out->tile_h,
                  iy = first_input_quad(c, oq) * in->tile_h;
    if (masked || !w) {
        glnn_strbuf_add(&t, "    vec2 p = (output_texel() - ");
        if (w)
            glnn_strbuf_add(&t, "vec2(%lld.0, %lld.0)", (long long)ox, (long long)oy);
        else
            glnn_strbuf_add(&t, "u_rect.xy");
        glnn_strbuf_add(&t, ") * %d.0 - vec2(%lld.0, %lld.0);\n", st, (long long)pp->ax.before,
                        (long long)pp->ay.before);
    }
    if (w) {
        /* The same affine map applied to the texel's centre v_texel, which the rasterizer interpolates: within
         * 10^-4 texels of the texel centre at any texture size, where nearest sampling reads that texel. */
        glnn_strbuf_add(&t, "    vec2 c = v_texel * vec2(%.9g, %.9g) + vec2(%.9g, %.9g);\n", st * sx, st * sy,
                        ((-0.5 - (double)ox) * st - (double)pp->ax.before + 0.5) * sx,
                        ((-0.5 - (double)oy) * st - (double)pp->ay.before + 0.5 + (double)iy) * sy);
    } else {
        glnn_strbuf_add(&t, "    vec2 c = (p + u_tile + 0.5) * vec2(%.9g, %.9g);\n", sx, sy);
    }
    glnn_strbuf_add(&t, "    vec4 acc = vec4(0.0), v;\n");
    for (int i = 0; i < k; i++) {
        if (axis_mask(m, sizeof m, "p.x", i, in->tile_w, pp->ax.n, st, pp->ax.before))
            glnn_strbuf_add(&t, "    float mx%d = %s;\n", i, m);
        if (axis_mask(m, sizeof m, "p.y", i, in->tile_h, pp->ay.n, st, pp->ay.before))
            glnn_strbuf_add(&t, "    float my%d = %s;\n", i, m);
    }
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            m[0] = '\0';
            if (mx[kx] && my[ky])
                snprintf(m, sizeof m, " * (mx%d * my%d)", kx, ky);
            else if (mx[kx])
                snprintf(m, sizeof m, " * mx%d", kx);
            else if (my[ky])
                snprintf(m, sizeof m, " * my%d", ky);
            for (int j = 0; j < q; j++) {
                /* The tap's texel relative to tap (0, 0) of the first input quad: kx along x; ky and j tiles down
                 * along y (the tiles of one column follow each other). */
                const int64_t dy = ky + (int64_t)j * in->tile_h;
                if (kx == 0 && dy == 0) {
                    glnn_strbuf_add(&t, "    v = unorm(texture2D(u_input, c))%s;\n", m);
                } else {
                    glnn_strbuf_add(&t, "    v = unorm(texture2D(u_input, c + vec2(");
                    add_float(&t, (float)(kx * sx));
                    glnn_strbuf_add(&t, ", ");
                    add_float(&t, (float)((double)dy * sy));
                    glnn_strbuf_add(&t, ")))%s;\n", m);
                }
                const int64_t g = 1 + (int64_t)step * ((ky * k + kx) * q + j);
                for (int i = 0; i < step; i++) {
                    glnn_strbuf_add(&t, "    acc += ");
                    add_weight(&t, w, g + i);
                    if (step == 1)
                        glnn_strbuf_add(&t, " * v;\n");
                    else
                        glnn_strbuf_add(&t, " * v.%c;\n", "xyzw"[i]);
                }
            }
        }
    glnn_strbuf_add(&t, "    finish(acc, ");
    add_weight(&t, w, 0);
    glnn_strbuf_add(&t, ", vec2(%.9g, %.9g));\n}\n", 1.0 / (double)out->width, 1.0 / (double)out->height);
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

/* The unrolled program of output quad oq with its weights w as literals (BAKED), or, w NULL, the one of the layer's
 * shape with weights in uniforms (UNROLLED).  Both in the context's cache: a model prepared again (another input
 * size) finds its programs there. */
static glnn_status unrolled_program(const glnn_conv2d *c, const glnn_conv2d_prep *pp, glnn_gpu *gpu,
                                    const glnn_frag_layout *in, const glnn_frag_layout *out, const float *w, int oq,
                                    GLuint *program, const char *what, glnn_error *err) {
    char *body = unrolled_main(c, pp, in, out, w, oq), defines[96];
    if (!body) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    snprintf(defines, sizeof defines, "#define BAKED %d\n#define RESIDUAL %d\n#define ACTIVATION %d\n", w ? 1 : 0,
             pp->has_residual ? 1 : 0, (int)c->p.activation);
    glnn_status s = glnn_frag_program_generated(gpu, GLNN_SHADER_FRAG_CONV2D_UNROLLED, defines, body, program, err);
    free(body);
    if (s != GLNN_OK) return s;
    glUseProgram(*program);
    glUniform1i(glGetUniformLocation(*program, "u_input"), 0);
    glUniform1i(glGetUniformLocation(*program, "u_residual"), 1);
    return glnn_gpu_check(what, err);
}

/* ---- preparation ---- */

static void release(glnn_context *ctx, void *state) {
    frag_conv_state *st = state;
    if (!st) return;
    free(st->uniforms);
    glnn_gpu_free_state(ctx, st, NULL, 0, &st->weights, 1);
}

/* The form, the weights as literals, uniforms or a texture, the programs. */
static glnn_status prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, ": prepare");
    const int k = c->p.kernel_size, cout = c->p.num_output_channels, cg = c->cg, qout = cout / 4;
    const int64_t groups = weight_groups(c);
    glnn_frag_layout in, out;
    glnn_status s = glnn_frag_layout_of(gpu, pp->in_shape, &in, what, err);
    if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, op->out_shape, &out, what, err);
    if (s != GLNN_OK) return s;
    const int form = choose_form(c, gpu, &in, out.tile_w * out.tile_h), n_programs = form == FORM_BAKED ? qout : 1;
    frag_conv_state *st = calloc(1, sizeof *st + (size_t)n_programs * sizeof(GLuint));
    float *v = malloc((size_t)(qout * groups * 4) * sizeof(float));
    *state = st;
    if (!st || !v) {
        free(v);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    }
    st->form = form;
    for (int oq = 0; oq < qout; oq++) {
        float *block = v + (int64_t)oq * groups * 4;
        for (int j = 0; j < 4; j++) {
            block[j] = pp->bias[4 * oq + j];
            for (int64_t t = 0; t < (int64_t)k * k; t++)
                for (int ci = 0; ci < cg; ci++)
                    block[(1 + t * cg + ci) * 4 + j] = pp->weights[(t * cg + ci) * cout + 4 * oq + j];
        }
    }
    if (form == FORM_BAKED) {
        for (int oq = 0; s == GLNN_OK && oq < qout; oq++)
            s = unrolled_program(c, pp, gpu, &in, &out, v + (int64_t)oq * groups * 4, oq, &st->programs[oq], what, err);
        free(v);
        return s;
    }
    const bool uniforms = groups <= gpu->frag->weight_uniforms;
    if (uniforms) {
        st->uniforms = v;
    } else {
        s = glnn_frag_weights_create(gpu, v, qout, groups, &st->weights, what, err);
        free(v);
        if (s != GLNN_OK) return s;
    }
    if (form == FORM_UNROLLED) return unrolled_program(c, pp, gpu, &in, &out, NULL, 0, &st->programs[0], what, err);
    /* LOOP: few programs, the loop count, kernel size, stride and channels are uniforms, and the array of weights
     * is rounded up to a power of two when the budget allows.  With weights in uniforms, the loop bound keeps
     * every index the loop can form within the array, as strict GLSL ES 1.00 compilers check. */
    const int kind = c->kind == CONV_IMAGE ? 1 : c->kind == CONV_DEPTHWISE ? 2 : 0, step = kind == 0 ? 4 : kind;
    int64_t array = glnn_frag_round_up(groups, 256);
    if (array > gpu->frag->weight_uniforms) array = groups;
    const int64_t bound = uniforms ? (array - 1) / step : glnn_frag_round_up(iterations(c), 256);
    char defines[256];
    snprintf(defines, sizeof defines,
             "#define KIND %d\n#define MAX_ITERATIONS %lld\n#define WEIGHT_UNIFORMS %d\n#define WEIGHT_GROUPS %lld\n",
             kind, (long long)bound, uniforms ? 1 : 0, (long long)(uniforms ? array : 1));
    return glnn_frag_program(gpu, GLNN_SHADER_FRAG_CONV2D, defines, &st->programs[0], err);
}

/* ---- running ---- */

static glnn_status run_unrolled(const glnn_conv2d *c, const glnn_conv2d_prep *pp, const frag_conv_state *st,
                                glnn_gpu *gpu, const glnn_tensor *const *inputs, glnn_tensor *output,
                                const glnn_frag_layout *in, const glnn_frag_layout *out, const char *what,
                                glnn_error *err) {
    const int qout = c->p.num_output_channels / 4;
    const int64_t groups = weight_groups(c);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, inputs[0]->texture);
    if (pp->has_residual) {
        glActiveTexture(GL_TEXTURE1);
        glBindTexture(GL_TEXTURE_2D, inputs[1]->texture);
    }
    glnn_status s = glnn_frag_target(gpu, output->texture, what, err);
    if (s != GLNN_OK) return s;
    GLuint program = 0;
    GLint rect = -1, weights = -1, tile = -1;
    int last = -1;
    for (int oq = 0; oq < qout; oq++) {
        const GLuint p = st->programs[st->form == FORM_BAKED ? oq : 0];
        if (p != program) {
            program = p;
            glUseProgram(p);
            rect = glGetUniformLocation(p, "u_rect");
            weights = glGetUniformLocation(p, "u_w");
            tile = glGetUniformLocation(p, "u_tile");
        }
        if (st->form == FORM_UNROLLED) {
            const int iq0 = first_input_quad(c, oq);
            if (iq0 != last) glUniform2f(tile, 0.0f, (float)(iq0 * in->tile_h));
            last = iq0;
            glUniform4fv(weights, (GLsizei)groups, st->uniforms + (int64_t)oq * groups * 4);
        }
        glnn_frag_draw_rect(rect, oq / out->rows * out->tile_w, oq % out->rows * out->tile_h, out->tile_w, out->tile_h);
    }
    glnn_frag_count(gpu, qout, qout * out->tile_w * out->tile_h * (iterations(c) + (pp->has_residual ? 1 : 0)));
    return glnn_gpu_check(what, err);
}

static glnn_status run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                       glnn_tensor *output, glnn_error *err) {
    const glnn_conv2d *c = glnn_conv2d_of(op);
    const glnn_conv2d_prep *pp = glnn_conv2d_prep_of(op);
    const frag_conv_state *st = state;
    glnn_gpu *gpu = glnn_gpu_of(ctx);
    GLNN_OP_WHAT(op, "");
    const int qout = c->p.num_output_channels / 4;
    const int64_t groups = weight_groups(c);
    const GLuint prog = st->programs[0];
    glnn_frag_layout in, out;
    if (st->form != FORM_LOOP) {
        glnn_status s = glnn_frag_layout_of(gpu, inputs[0]->shape, &in, what, err);
        if (s == GLNN_OK) s = glnn_frag_layout_of(gpu, output->shape, &out, what, err);
        if (s == GLNN_OK) s = run_unrolled(c, pp, st, gpu, inputs, output, &in, &out, what, err);
        return s;
    }
    glnn_status s = glnn_frag_begin(gpu, prog, inputs[0], output, &in, &out, what, err);
    if (s != GLNN_OK) return s;
    glUniform2f(glGetUniformLocation(prog, "u_out_scale"), 1.0f / (float)out.width, 1.0f / (float)out.height);
    glUniform4f(glGetUniformLocation(prog, "u_geometry"), (float)c->p.kernel_size, (float)c->p.stride,
                (float)quads_per_tap(c), (float)iterations(c));
    glUniform2f(glGetUniformLocation(prog, "u_options"), pp->has_residual ? 1.0f : 0.0f, (float)c->p.activation);
    /* Without a residual the branch reading it is not taken; the unit still holds a valid texture. */
    glnn_frag_bind_texture(prog, "u_residual", 1, pp->has_residual ? inputs[1]->texture : inputs[0]->texture);
    if (!st->uniforms) {
        glnn_frag_weights w;
        s = glnn_frag_weights_layout(gpu, qout, groups, &w, what, err);
        if (s != GLNN_OK) return s;
        glnn_frag_set_weights_layout(prog, &w);
        glnn_frag_bind_texture(prog, "u_weights", 2, st->weights);
    }
    s = glnn_frag_target(gpu, output->texture, what, err);
    if (s != GLNN_OK) return s;
    const GLint quads = glGetUniformLocation(prog, "u_quads"), tile = glGetUniformLocation(prog, "u_tile"),
                weights = glGetUniformLocation(prog, "u_w"), rect = glGetUniformLocation(prog, "u_rect");
    for (int oq = 0; oq < qout; oq++) {
        const int iq0 = first_input_quad(c, oq);
        glUniform4f(quads, (float)oq, (float)iq0, (float)pp->ax.before, (float)pp->ay.before);
        /* The tile of input quad iq0: its texel offset and its row in its column of tiles. */
        glUniform3f(tile, (float)(iq0 / in.rows * in.tile_w), (float)(iq0 % in.rows * in.tile_h),
                    (float)(iq0 % in.rows));
        if (st->uniforms) glUniform4fv(weights, (GLsizei)groups, st->uniforms + (int64_t)oq * groups * 4);
        glnn_frag_draw_rect(rect, oq / out.rows * out.tile_w, oq % out.rows * out.tile_h, out.tile_w, out.tile_h);
    }
    /* Per output texel: the input quad of each iteration, with weights in a texture four texels per group of four
     * weights (S groups per iteration) and per bias; the residual. */
    const int64_t per_iteration = 1 + (st->uniforms ? 0
                                                    : 4 * (c->kind == CONV_IMAGE       ? 3
                                                           : c->kind == CONV_DEPTHWISE ? 1
                                                                                       : 4));
    glnn_frag_count(gpu, qout,
                    qout * out.tile_w * out.tile_h *
                        (iterations(c) * per_iteration + (st->uniforms ? 0 : 4) + (pp->has_residual ? 1 : 0)));
    return glnn_gpu_check(what, err);
}

const glnn_op_impl glnn_fragment_conv2d = {.prepare = prepare, .run = run, .release = release};
