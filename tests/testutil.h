/* Shared helpers for the C tests. */
#ifndef GLNN_TESTUTIL_H
#define GLNN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "glnn.h"

/* Asserts that a call failed with `status` and that its message contains every NULL-terminated
 * fragment given. */
#define assert_error(call_status, err, expected_status, ...)                                                           \
    glnn_test_assert_error((call_status), (err), (expected_status), __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)
void glnn_test_assert_error(glnn_status got, const glnn_error *err, glnn_status expected, const char *file, int line,
                            ...);
/* Fails the test with the message when s != GLNN_OK. */
#define assert_ok(call) glnn_test_assert_ok((call), &err, __FILE__, __LINE__)
void glnn_test_assert_ok(glnn_status s, const glnn_error *err, const char *file, int line);

/* Whether a file of ../shared (Beatmup's dog classifier, the test pictures) that a test needs is there; when it
 * is not, says so on stdout and the test calls skip(): the repository's tests pass without ../shared. */
bool glnn_test_shared(const char *path);

/* Deterministic pseudo-random numbers (xorshift). */
typedef struct {
    uint64_t s;
} glnn_rng;
uint32_t glnn_rng_u32(glnn_rng *r);
float glnn_rng_uniform(glnn_rng *r, float lo, float hi);

/* A GPU context shared by all tests of a program (software renderer unless GLNN_DEVICE says otherwise);
 * NULL with a skip message when none can be created and GLNN_REQUIRE_GPU is unset, and NULL when
 * GLNN_TEST_NO_GPU is set (CPU-only runs under valgrind or leak checking). */
glnn_context *glnn_test_gpu(void);
/* The CPU reference, shared likewise: device "reference" (device "cpu" becomes the fast CPU back end, issue 13). */
glnn_context *glnn_test_cpu(void);

/* Ops with the parameters the tests vary (the rest as glnn_*_params_init leaves them); failing the test when
 * creation fails. */
glnn_op *glnn_test_conv(const char *name, int k, int cin, int cout, int groups, glnn_padding pad, glnn_activation act);
glnn_op *glnn_test_pool(const char *name, glnn_pooling_operator o, int size, int stride, glnn_padding pad);

/* ---- Op cases: one operation on generated data, run on any back end and compared with the reference ----------
 *
 * A case is one line of text (the rows of tests/test_backends.c, the grids below):
 *
 *     "<type> key=value ... | <input> [option ...]"
 *
 * <type> and the keys are the listing's (SPEC §8.3) and the values as listings write them (integers, true / false,
 * enumeration words); parameters left out take their defaults; the op is made by glnn_op_create from its
 * description, so any op of GLNN_OPS can be written.  <input>: "HxWxC" (a tensor), "image HxW", "vector N".
 * Options: "residual" (Conv2D input #1: a tensor of the output's shape), "shuffle=N" and "residual_shuffle=N" (the
 * channel shuffle of SPEC §6 on input #0 / #1, done by the back end as a model's connection does it),
 * "rotation=R" (ImageSampler), "kernel_hint=N" (a back end's kernel, glnn_op.kernel_hint; ImageSampler 1: storage
 * buffers on the compute path).  Input bytes, vector values, weights and biases are random, from a generator
 * seeded with the row's text: the same row gives the same data in every program. */
typedef struct glnn_test_case glnn_test_case;

/* Parses row and makes its op, data and weights; fails the test on a malformed row. */
glnn_test_case *glnn_test_case_create(const char *row);
void glnn_test_case_free(glnn_test_case *c);
const char *glnn_test_case_row(const glnn_test_case *c);
glnn_op *glnn_test_case_op(const glnn_test_case *c);
/* What the budget of SPEC §2.5 is given for, and the exact-match shares are reported by: the op's class name and,
 * where the budget depends on it, the parameter ("Pooling2D MAX", "ImageSampler bilinear", "Conv2D"). */
const char *glnn_test_case_label(const glnn_test_case *c);

/* One result: the output's bytes (tensors, images) or floats (vectors; Softmax: its probabilities). */
typedef struct glnn_test_output {
    int64_t count;
    uint8_t *bytes;
    float *floats;
} glnn_test_output;
void glnn_test_output_free(glnn_test_output *o);

/* Runs the case on ctx: inputs made there, shuffled by the back end (the shuffled tensor must equal SPEC §6's
 * permutation, else the test fails), then glnn_op_run.  A failing run returns its status (err filled): the caller
 * tells "not supported by the back end" from an error. */
glnn_status glnn_test_case_run(glnn_test_case *c, glnn_context *ctx, glnn_test_output *out, glnn_error *err);
/* Whether err says that the back end does not compute the op or the shape (glnn_op_impl.supports). */
bool glnn_test_unsupported(glnn_status s, const glnn_error *err);

/* Comparison with the reference under SPEC §2.5. */
typedef struct glnn_test_tally {
    int64_t cases, values, exact; /* exact: bit-identical values */
    int64_t max_lsb;              /* bytes: the largest difference */
    double worst;                 /* floats: the largest difference as a share of its bound */
} glnn_test_tally;
/* Whether value i of got is within the budget of the case's op against ref (Conv2D, AVERAGE, bilinear: 1 LSB; MAX,
 * nearest: 0, ImageSampler nearest allowing either neighbour within 10⁻³ pixel of a midpoint; Dense: its relative
 * bound; Softmax: 10⁻⁵ from the exact softmax of its input).  *share: the difference over the bound (bytes: in
 * LSB). */
bool glnn_test_value_ok(const glnn_test_case *c, const glnn_test_output *ref, const glnn_test_output *got, int64_t i,
                        double *share);
/* Checks every value of got against ref (counts must agree); fails the test naming the row, `where`, the value and
 * both results at the first value beyond the budget; adds the values to t. */
void glnn_test_compare(const glnn_test_case *c, const glnn_test_output *ref, const glnn_test_output *got,
                       const char *where, glnn_test_tally *t);
/* Percentage of bit-identical values (100 when there are none). */
double glnn_test_tally_share(const glnn_test_tally *t);
/* "what: N cases, N values, P% identical, largest difference D LSB" (or "... of the bound"). */
void glnn_test_tally_print(const char *what, const glnn_test_tally *t);
void glnn_test_tally_add(glnn_test_tally *into, const glnn_test_tally *t);

/* The Conv2D grids as rows, through emit: 0 geometry (every kernel size 1–5 and 7 × stride 1–3 × padding, four
 * channel configurations each), 1 channels (image, regular, grouped, depthwise × activation × residual × bias), 2
 * sizes (1×1, 1×N, N×1, odd and non-square, × stride × padding).  Shared by test_backends (every back end) and
 * test_conv2d_grid (every compute kernel variant). */
#define GLNN_TEST_CONV_GRIDS 3
void glnn_test_conv_grid(int grid, void (*emit)(void *user, const char *row), void *user);

#endif
