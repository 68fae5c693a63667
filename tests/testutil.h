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
glnn_context *glnn_test_cpu(void);

/* Ops with the parameters the tests vary (the rest as glnn_*_params_init leaves them); failing the test when
 * creation fails. */
glnn_op *glnn_test_conv(const char *name, int k, int cin, int cout, int groups, glnn_padding pad, glnn_activation act);
glnn_op *glnn_test_pool(const char *name, glnn_pooling_operator o, int size, int stride, glnn_padding pad);

#endif
