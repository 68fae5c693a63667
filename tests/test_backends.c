/* Every operation on every back end against the CPU reference, from one table (issue 13).
 *
 * Rows are op cases (tests/testutil.h: "<type> key=value ... | <input> [options]"): the rows written out below and
 * those the grids expand to (the Conv2D grids of testutil.c, the Pooling2D, Dense, ImageSampler and Upsampling2D
 * sweeps here), each with random inputs and weights seeded by its text.  A new op adds rows (and its budget in
 * testutil.c); every op kind of GLNN_OPS gets a test here and must have rows.
 *
 * Columns are back ends (`columns` below): each row runs on the reference, then on every column that opens on this
 * machine (one that does not is skipped with a message) and runs its op kind (a column may be about one kind, as
 * the fragment path's weights in textures are about Conv2D; rows asking for a kernel by kernel_hint run on the back
 * ends that have kernels to choose), and every value is checked against SPEC §2.5's budget:
 * Conv2D, Pooling2D AVERAGE, ImageSampler and Upsampling2D bilinear within 1 LSB; MAX and nearest exact (ImageSampler
 * nearest may pick either neighbour within 10⁻³ pixel of a midpoint); Dense within its relative bound; Softmax within
 * 10⁻⁵ of the exact softmax.  For each op kind and back end the share of identical values is reported and must be at
 * least 99.9 % (the fast CPU back end's target).  On Mesa's llvmpipe both GPU paths give 100 % today: every value of
 * every row bit-exact (bytes and Dense's floats alike).
 *
 * ctest runs this program under MESA_GLES_VERSION_OVERRIDE=3.1 (compute and fragment columns) and again under 2.0
 * (the fragment columns alone, as on a Raspberry Pi Zero–3).  GLNN_TEST_NO_GPU=1 leaves the CPU columns. */
#include "testutil.h"

#include "backends/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- columns ----------------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *device; /* NULL: a GPU (GLNN_DEVICE unless it says "cpu", else "auto") */
    const char *path;
    const char *env;   /* "NAME=value" set while the context is created */
    const char *kinds; /* the op kinds (class names, ", "-separated) it runs; NULL: every kind */
    bool hints;        /* whether it has kernels to choose (rows with kernel_hint=N run only here) */
    const char *exact; /* budget labels this back end computes exactly beyond SPEC §2.5 (", "-separated) */
} column;

/* The GPU kernels compute pooling in integers and take sampling positions from the host: exact on any GPU. */
#define GPU_EXACT "Pooling2D MAX, Pooling2D AVERAGE, ImageSampler nearest, Upsampling2D nearest"

static const column columns[] = {
    {"compute", NULL, "compute", NULL, NULL, true, GPU_EXACT},
    {"fragment", NULL, "fragment", NULL, NULL, false, GPU_EXACT},
    /* Where Conv2D weights are (the only op that has the choice), the other ops being the same as above. */
    {"fragment, weights in textures", NULL, "fragment", "GLNN_FRAG_UNIFORMS=0", "Conv2D", false, GPU_EXACT},
    /* The fast CPU back end: device "cpu" once the reference is device "reference" (issue 13); skipped while "cpu"
     * opens the reference itself. */
    {"cpu", "cpu", NULL, NULL, NULL, false, NULL},
};

static glnn_context *reference, *contexts[COUNT(columns)];

static glnn_context *open_column(const column *col) {
    glnn_error err;
    glnn_context_options o;
    glnn_context_options_init(&o);
    const char *dev = getenv("GLNN_DEVICE");
    if (col->device)
        o.device = col->device;
    else if (getenv("GLNN_TEST_NO_GPU")) {
        printf("column '%s' skipped: GLNN_TEST_NO_GPU is set\n", col->name);
        return NULL;
    } else
        o.device = dev && *dev && strcmp(dev, "cpu") != 0 && strcmp(dev, "reference") != 0 ? dev : "gpu";
    o.path = col->path;
    char name[64] = "";
    if (col->env) {
        snprintf(name, sizeof name, "%s", col->env);
        char *eq = strchr(name, '=');
        *eq = '\0';
        setenv(name, eq + 1, 1);
    }
    glnn_context *ctx = NULL;
    glnn_status s = glnn_context_create(&o, &ctx, &err);
    if (col->env) unsetenv(name);
    if (s != GLNN_OK) {
        printf("column '%s' skipped: %s\n", col->name, err.message);
        return NULL;
    }
    if (ctx->backend == reference->backend) {
        printf("column '%s' skipped: device '%s' is the reference\n", col->name, o.device);
        glnn_context_free(ctx);
        return NULL;
    }
    printf("column '%s': %s, path %s\n", col->name, glnn_context_device_name(ctx), glnn_context_path(ctx));
    return ctx;
}

/* ---- rows -------------------------------------------------------------------------------------------------- */

static const char *const rows[] = {
    /* Conv2D beyond the grids: kernel size 6, kernels 6 and 7 without bias, stride 3 on a depthwise kernel. */
    "conv2d kernel_size=6 input_channels=8 output_channels=8 padding=same | 11x13x8",
    "conv2d kernel_size=6 input_channels=16 output_channels=8 groups=2 stride=2 activation=brelu6 | 14x9x16 residual",
    "conv2d kernel_size=6 input_channels=3 output_channels=8 stride=3 use_bias=false | image 15x12",
    "conv2d kernel_size=6 input_channels=16 output_channels=16 groups=16 stride=3 padding=same | 13x10x16",
    "conv2d kernel_size=7 input_channels=32 output_channels=16 groups=4 stride=3 use_bias=false activation=sigmoid_like"
    " | 17x15x32",
    /* Conv2D with shuffled inputs (SPEC §6: input #0 and the residual; n = Q is the identity). */
    "conv2d kernel_size=3 input_channels=16 output_channels=16 padding=same | 9x7x16 shuffle=2 residual "
    "residual_shuffle=4",
    "conv2d kernel_size=1 input_channels=32 output_channels=32 groups=2 padding=same activation=sigmoid_like | 5x6x32 "
    "shuffle=4",
    "conv2d kernel_size=3 input_channels=32 output_channels=32 groups=32 padding=same | 8x8x32 shuffle=8 residual",
    "conv2d kernel_size=5 input_channels=64 output_channels=32 groups=4 stride=2 activation=brelu6 | 11x12x64 "
    "shuffle=2",
    "conv2d kernel_size=1 input_channels=64 output_channels=64 padding=same | 4x4x64 shuffle=16 residual "
    "residual_shuffle=2",
    /* Pooling2D, Dense, Softmax and Upsampling2D reading shuffled tensors. */
    "pooling2d operator=max size=3 stride=2 padding=same | 9x9x16 shuffle=2",
    "pooling2d operator=average size=2 | 8x6x32 shuffle=4",
    "pooling2d operator=average size=5 stride=1 | 5x5x64 shuffle=8",
    "dense output_dims=10 | 1x1x32 shuffle=2",
    "dense output_dims=3 use_bias=false | 1x1x64 shuffle=8",
    "dense output_dims=120 | 1x1x192 shuffle=4",
    "upsampling2d factor=2 interpolation=bilinear | 6x5x32 shuffle=4",
    "upsampling2d factor=3 | 4x7x16 shuffle=2",
    /* Softmax: vectors and 1×1 tensors (computed on the host on every back end). */
    "softmax | vector 1",
    "softmax | vector 4",
    "softmax | vector 120",
    "softmax | vector 1000",
    "softmax | 1x1x4",
    "softmax | 1x1x192",
    "softmax | 1x1x16 shuffle=2",
    "softmax | 1x1x120 shuffle=6",
};

/* The table: the rows above and the grids' rows, without repeats. */
static char (*table)[256];
static int table_size, table_capacity;

static void add_row(void *user, const char *row) {
    (void)user;
    for (int i = 0; i < table_size; i++)
        if (strcmp(table[i], row) == 0) return;
    if (table_size == table_capacity) {
        table_capacity = table_capacity ? 2 * table_capacity : 1024;
        table = realloc(table, (size_t)table_capacity * sizeof *table);
        assert_non_null(table);
    }
    if (strlen(row) >= sizeof table[0]) fail_msg("row too long: %s", row);
    snprintf(table[table_size++], sizeof table[0], "%s", row);
}

static void add_rowf(const char *format, ...) {
    char row[256];
    va_list ap;
    va_start(ap, format);
    vsnprintf(row, sizeof row, format, ap);
    va_end(ap);
    add_row(NULL, row);
}

static const char *const pool_ops[] = {"max", "average"};
static const char *const paddings[] = {"valid", "same"};

/* Pooling2D: every shape × operator × padding × size 2–5 × stride 0–3 (AVERAGE takes VALID only; VALID needs the
 * window inside the input), and global pooling (SPEC §8.5's 31×31×16, the reference model's 3×3×192, a 100×100
 * window: S up to 2,550,000). */
static void pooling_grid(void) {
    static const int shapes[][3] = {{1, 1, 4},    {4, 4, 4},   {7, 9, 8},    {9, 6, 12}, {13, 17, 4},
                                    {16, 16, 32}, {2, 11, 16}, {31, 31, 16}, {5, 5, 64}};
    for (int si = 0; si < COUNT(shapes); si++)
        for (int o = 0; o < 2; o++)
            for (int pad = 0; pad < 2; pad++)
                for (int size = 2; size <= 5; size++)
                    for (int stride = 0; stride <= 3; stride++) {
                        const int h = shapes[si][0], w = shapes[si][1], c = shapes[si][2];
                        if (o == GLNN_POOLING_AVERAGE && pad == GLNN_PADDING_SAME) continue;
                        if (pad == GLNN_PADDING_VALID && (h < size || w < size)) continue;
                        add_rowf("pooling2d operator=%s size=%d stride=%d padding=%s | %dx%dx%d", pool_ops[o], size,
                                 stride, paddings[pad], h, w, c);
                    }
    static const int globals[][2] = {{31, 16}, {3, 192}, {100, 8}};
    for (int gi = 0; gi < COUNT(globals); gi++)
        for (int o = 0; o < 2; o++)
            add_rowf("pooling2d operator=%s size=%d stride=1 | %dx%dx%d", pool_ops[o], globals[gi][0], globals[gi][0],
                     globals[gi][0], globals[gi][1]);
}

/* Dense: N_in → N_out, output counts that are not multiples of 4 among them, on a vector and (N_in a multiple of 4)
 * on a 1×1 tensor, with and without bias. */
static void dense_grid(void) {
    static const int dims[][2] = {{4, 4},   {16, 8}, {192, 120}, {1000, 12}, {8, 256},
                                  {64, 64}, {6, 8},  {16, 10},   {10, 3},    {7, 1}};
    for (int di = 0; di < COUNT(dims); di++)
        for (int vec = 0; vec < 2; vec++)
            for (int bias = 0; bias < 2; bias++) {
                const int n_in = dims[di][0], n_out = dims[di][1];
                if (!vec && n_in % 4) continue; /* tensors have a multiple of 4 channels */
                if (vec)
                    add_rowf("dense output_dims=%d use_bias=%s | vector %d", n_out, bias ? "true" : "false", n_in);
                else
                    add_rowf("dense output_dims=%d use_bias=%s | 1x1x%d", n_out, bias ? "true" : "false", n_in);
            }
}

/* ImageSampler: input sizes × output sizes × crop × interpolation × rotation; every other case also through storage
 * buffers on the compute path (kernel_hint=1: the kernel of devices without texture buffers).  The union of two sweeps:
 * a wide one that keeps half of the large inputs' cases, and one that keeps them all on fewer sizes. */
static void sampler_rows(const int (*ins)[2], int n_ins, const int (*outs)[2], int n_outs, bool thin) {
    for (int ii = 0; ii < n_ins; ii++)
        for (int oi = 0; oi < n_outs; oi++)
            for (int crop = 0; crop < 2; crop++)
                for (int linear = 0; linear < 2; linear++)
                    for (int rot = 0; rot < 4; rot++) {
                        const int h = ins[ii][0], w = ins[ii][1], ho = outs[oi][0], wo = outs[oi][1];
                        if (thin && (ii + oi + rot) % 2 && h * w > 10000) continue;
                        for (int storage = 0; storage < 1 + (thin ? (ii + oi + crop + linear + rot) % 2 : 0); storage++)
                            add_rowf("image_sampler output_width=%d output_height=%d center_crop=%s linear_interp=%s "
                                     "| image %dx%d rotation=%d%s",
                                     wo, ho, crop ? "true" : "false", linear ? "true" : "false", h, w, rot,
                                     storage ? " kernel_hint=1" : "");
                    }
}

static void sampler_grid(void) {
    static const int ins[][2] = {{1, 1}, {2, 2}, {5, 5}, {23, 37}, {61, 100}, {240, 320}, {385, 385}};
    static const int outs[][2] = {{1, 1}, {3, 3}, {16, 16}, {17, 31}, {40, 64}, {385, 385}, {7, 200}};
    sampler_rows(ins, COUNT(ins), outs, COUNT(outs), true);
    static const int ins2[][2] = {{1, 1}, {5, 5}, {23, 37}, {240, 320}};
    static const int outs2[][2] = {{1, 1}, {3, 3}, {17, 31}, {64, 40}, {7, 200}};
    sampler_rows(ins2, COUNT(ins2), outs2, COUNT(outs2), false);
}

/* Upsampling2D: factors 2, 3, 4, 5, 7 and 16 × nearest / bilinear on shapes from 1×1 to 16×16, 4 to 64 channels
 * (factor 16 on the small ones). */
static void upsampling_grid(void) {
    static const int shapes[][3] = {{1, 1, 4}, {2, 3, 4}, {5, 7, 8}, {9, 6, 12}, {3, 2, 64}, {16, 16, 32}, {1, 9, 16}};
    static const int factors[] = {2, 3, 4, 5, 7, 16};
    for (int si = 0; si < COUNT(shapes); si++)
        for (int fi = 0; fi < COUNT(factors); fi++)
            for (int bil = 0; bil < 2; bil++) {
                const int h = shapes[si][0], w = shapes[si][1], c = shapes[si][2], f = factors[fi];
                if (f * f * h * w * c > 200000) continue; /* 16×16×32 by 7 or 16 */
                add_rowf("upsampling2d factor=%d interpolation=%s | %dx%dx%d", f, bil ? "bilinear" : "nearest", h, w,
                         c);
            }
}

static int setup(void **state) {
    (void)state;
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "reference";
    if (glnn_context_create(&o, &reference, NULL) != GLNN_OK) return -1;
    int opened = 0;
    for (int i = 0; i < COUNT(columns); i++)
        opened += (contexts[i] = open_column(&columns[i])) != NULL;
    if (getenv("GLNN_REQUIRE_GPU") && !opened) {
        fprintf(stderr, "GLNN_REQUIRE_GPU: no back end besides the reference could be opened\n");
        return -1;
    }
    for (int i = 0; i < COUNT(rows); i++)
        add_row(NULL, rows[i]);
    for (int g = 0; g < GLNN_TEST_CONV_GRIDS; g++)
        glnn_test_conv_grid(g, add_row, NULL);
    pooling_grid();
    dense_grid();
    sampler_grid();
    upsampling_grid();
    printf("%d rows × %d columns\n", table_size, opened);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < COUNT(columns); i++)
        glnn_context_free(contexts[i]);
    glnn_context_free(reference);
    free(table);
    return 0;
}

/* ---- one test per op kind ------------------------------------------------------------------------------------- */

#define MAX_LABELS 4

static bool in_list(const char *list, const char *label) {
    const size_t n = strlen(label);
    for (const char *p = list; p && (p = strstr(p, label)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

/* Whether column k is open and runs the op kind (and the row, when given). */
static bool runs(int k, const glnn_op_info *info, const char *row) {
    if (!contexts[k] || (columns[k].kinds && !in_list(columns[k].kinds, info->class_name))) return false;
    return !row || columns[k].hints || !strstr(row, "kernel_hint=");
}

/* Every row of one op kind on the reference and on every column that runs it. */
static void test_op_kind(void **state) {
    const glnn_op_info *info = *state;
    char labels[MAX_LABELS][64];
    glnn_test_tally tallies[MAX_LABELS][COUNT(columns)];
    int unsupported[COUNT(columns)] = {0}, n_labels = 0, n_rows = 0;
    memset(tallies, 0, sizeof tallies);
    const size_t type_len = strlen(info->type_name);
    for (int r = 0; r < table_size; r++) {
        if (strncmp(table[r], info->type_name, type_len) != 0 || table[r][type_len] != ' ') continue;
        n_rows++;
        glnn_error err;
        glnn_test_case *c = glnn_test_case_create(table[r]);
        int l = 0;
        while (l < n_labels && strcmp(labels[l], glnn_test_case_label(c)) != 0)
            l++;
        if (l == n_labels) {
            assert_true(n_labels < MAX_LABELS);
            snprintf(labels[n_labels++], sizeof labels[0], "%s", glnn_test_case_label(c));
        }
        glnn_test_output ref, got;
        glnn_status s = glnn_test_case_run(c, reference, &ref, &err);
        if (s != GLNN_OK) fail_msg("%s on the reference: %s", table[r], err.message);
        for (int k = 0; k < COUNT(columns); k++) {
            if (!runs(k, info, table[r])) continue;
            s = glnn_test_case_run(c, contexts[k], &got, &err);
            if (glnn_test_unsupported(s, &err)) {
                if (unsupported[k]++ < 5) printf("%s on %s: %s\n", table[r], columns[k].name, err.message);
                continue;
            }
            if (s != GLNN_OK) fail_msg("%s on %s: %s", table[r], columns[k].name, err.message);
            glnn_test_compare(c, &ref, &got, columns[k].name, &tallies[l][k]);
            glnn_test_output_free(&got);
        }
        glnn_test_output_free(&ref);
        glnn_test_case_free(c);
    }
    printf("%s: %d rows\n", info->class_name, n_rows);
    if (n_rows == 0) fail_msg("no rows for %s in the table", info->class_name);
    for (int k = 0; k < COUNT(columns); k++) {
        if (!runs(k, info, NULL)) continue;
        if (unsupported[k])
            printf("%s on %s: %d rows not supported\n", info->class_name, columns[k].name, unsupported[k]);
        for (int l = 0; l < n_labels; l++) {
            const glnn_test_tally *t = &tallies[l][k];
            char what[384];
            snprintf(what, sizeof what, "%s on %s", labels[l], columns[k].name);
            glnn_test_tally_print(what, t);
            /* 8-bit outputs: at least 99.9 % identical bytes (issue 14's budget for the fast CPU back end, which
             * the GPU paths meet with 100 % on llvmpipe).  Float outputs (Dense's vector, Softmax's
             * probabilities) have SPEC §2.5's bound on every value: a sum in another order rounds differently
             * in the last bits without being less right. */
            const bool floats = info->kind == GLNN_OP_DENSE || info->kind == GLNN_OP_SOFTMAX;
            if (!floats && glnn_test_tally_share(t) < 99.9) fail_msg("%s: fewer than 99.9%% identical values", what);
            if (in_list(columns[k].exact, labels[l]) && t->exact != t->values)
                fail_msg("%s: this back end computes it exactly, yet %lld values differ", what,
                         (long long)(t->values - t->exact));
        }
    }
}

/* ---- the checker itself ----------------------------------------------------------------------------------------- */

/* The budget accepts what SPEC §2.5 allows and refuses the rest: 1 LSB on Conv2D, 0 on MAX pooling, the midpoint
 * case of ImageSampler nearest, Dense's relative bound, Softmax's 10⁻⁵. */
static void test_budget(void **state) {
    (void)state;
    glnn_error err;
    glnn_test_output ref, got;
    double share;

    glnn_test_case *c = glnn_test_case_create("conv2d kernel_size=3 input_channels=4 output_channels=4 | 5x5x4");
    assert_ok(glnn_test_case_run(c, reference, &ref, &err));
    assert_ok(glnn_test_case_run(c, reference, &got, &err));
    assert_memory_equal(ref.bytes, got.bytes, (size_t)ref.count); /* the reference is deterministic */
    got.bytes[0] = (uint8_t)(ref.bytes[0] < 255 ? ref.bytes[0] + 1 : 254);
    assert_true(glnn_test_value_ok(c, &ref, &got, 0, &share));
    got.bytes[0] = (uint8_t)(ref.bytes[0] < 128 ? ref.bytes[0] + 2 : ref.bytes[0] - 2);
    assert_false(glnn_test_value_ok(c, &ref, &got, 0, &share));
    assert_true(share == 2);
    glnn_test_output_free(&ref);
    glnn_test_output_free(&got);
    glnn_test_case_free(c);

    c = glnn_test_case_create("pooling2d operator=max size=2 | 4x4x4");
    assert_ok(glnn_test_case_run(c, reference, &ref, &err));
    assert_ok(glnn_test_case_run(c, reference, &got, &err));
    got.bytes[3] ^= 1;
    assert_false(glnn_test_value_ok(c, &ref, &got, 3, &share));
    assert_string_equal(glnn_test_case_label(c), "Pooling2D MAX");
    glnn_test_output_free(&ref);
    glnn_test_output_free(&got);
    glnn_test_case_free(c);

    /* 2×2 -> 3×3 nearest: output column 1 samples x = 0.5, a midpoint: pixel 1 (the reference's ⌊p + 0.5⌋) or
     * pixel 0; output column 0 samples x = 0: pixel 0 only.  In every rotation. */
    for (int rot = 0; rot < 4; rot++) {
        char row[160];
        snprintf(row, sizeof row,
                 "image_sampler output_width=3 output_height=3 linear_interp=false | image 2x2 rotation=%d", rot);
        c = glnn_test_case_create(row);
        assert_ok(glnn_test_case_run(c, reference, &ref, &err));
        assert_ok(glnn_test_case_run(c, reference, &got, &err));
        /* Output (1, 2), channel 1, value 10: x = 0.5 (either of the bottom row's two pixels of the rotated image),
         * y = 1.  Output (0, 2), value 7: x = 0, y = 1, one pixel. */
        const int64_t mid = (2 * 3 + 1) * 3 + 1, corner = (2 * 3 + 0) * 3 + 1;
        got.bytes[mid] = ref.bytes[corner]; /* the left neighbour of the midpoint: allowed */
        assert_true(glnn_test_value_ok(c, &ref, &got, mid, &share));
        got.bytes[mid] = (uint8_t)(ref.bytes[mid] + 128); /* neither neighbour */
        if (got.bytes[mid] != ref.bytes[corner]) assert_false(glnn_test_value_ok(c, &ref, &got, mid, &share));
        got.bytes[corner] = ref.bytes[mid];
        if (ref.bytes[mid] != ref.bytes[corner]) assert_false(glnn_test_value_ok(c, &ref, &got, corner, &share));
        glnn_test_output_free(&ref);
        glnn_test_output_free(&got);
        glnn_test_case_free(c);
    }

    c = glnn_test_case_create("dense output_dims=3 | vector 8");
    assert_ok(glnn_test_case_run(c, reference, &ref, &err));
    assert_ok(glnn_test_case_run(c, reference, &got, &err));
    got.floats[1] = ref.floats[1] * (1 + 1e-6f) + 1e-7f; /* within 10⁻⁴ of the sum of magnitudes */
    assert_true(glnn_test_value_ok(c, &ref, &got, 1, &share));
    assert_true(share > 0 && share < 1);
    got.floats[1] = ref.floats[1] + 0.01f * (1 + fabsf(ref.floats[1]));
    assert_false(glnn_test_value_ok(c, &ref, &got, 1, &share));
    glnn_test_output_free(&ref);
    glnn_test_output_free(&got);
    glnn_test_case_free(c);

    c = glnn_test_case_create("softmax | 1x1x8 shuffle=2");
    assert_ok(glnn_test_case_run(c, reference, &ref, &err));
    assert_ok(glnn_test_case_run(c, reference, &got, &err));
    assert_true(glnn_test_value_ok(c, &ref, &got, 5, &share));
    got.floats[5] += 2e-5f;
    assert_false(glnn_test_value_ok(c, &ref, &got, 5, &share));
    glnn_test_output_free(&ref);
    glnn_test_output_free(&got);
    glnn_test_case_free(c);
}

int main(void) {
    struct CMUnitTest tests[GLNN_OP_KIND_COUNT + 1];
    int n = 0;
    tests[n++] = (struct CMUnitTest){"budget", test_budget, NULL, NULL, NULL};
    for (const glnn_op_info *info; (info = glnn_op_info_at(n - 1)) != NULL; n++)
        tests[n] = (struct CMUnitTest){info->class_name, test_op_kind, NULL, NULL, (void *)info};
    if (getenv("GLNN_TEST_FILTER")) cmocka_set_test_filter(getenv("GLNN_TEST_FILTER"));
    return _cmocka_run_group_tests("test_backends", tests, (size_t)n, setup, teardown);
}
