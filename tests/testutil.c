#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void glnn_test_assert_error(glnn_status got, const glnn_error *err, glnn_status expected, const char *file, int line,
                            ...) {
    if (got != expected) {
        print_error("%s:%d: expected status '%s', got '%s' (%s)\n", file, line, glnn_status_name(expected),
                    glnn_status_name(got), err ? err->message : "");
        _fail(file, line);
    }
    va_list ap;
    va_start(ap, line);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
        if (!strstr(err->message, frag)) {
            print_error("%s:%d: message '%s' lacks '%s'\n", file, line, err->message, frag);
            va_end(ap);
            _fail(file, line);
        }
    va_end(ap);
}

void glnn_test_assert_ok(glnn_status s, const glnn_error *err, const char *file, int line) {
    if (s != GLNN_OK) {
        print_error("%s:%d: call failed: %s\n", file, line, err ? err->message : glnn_status_name(s));
        _fail(file, line);
    }
}

uint32_t glnn_rng_u32(glnn_rng *r) {
    uint64_t x = r->s ? r->s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->s = x;
    return (uint32_t)(x >> 32);
}

float glnn_rng_uniform(glnn_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(glnn_rng_u32(r) >> 8) / (float)(1u << 24);
}

static glnn_context *gpu_ctx, *cpu_ctx;
static bool gpu_tried;

glnn_context *glnn_test_gpu(void) {
    if (!gpu_tried) {
        gpu_tried = true;
        if (getenv("GLNN_TEST_NO_GPU")) return NULL; /* CPU-only runs (valgrind, leak checks) */
        glnn_error err;
        glnn_context_options o;
        glnn_context_options_init(&o);
        const char *dev = getenv("GLNN_DEVICE");
        o.device = dev && *dev && strcmp(dev, "cpu") != 0 ? dev : "auto";
        if (glnn_context_create(&o, &gpu_ctx, &err) != GLNN_OK) {
            fprintf(stderr, "no GPU context: %s\n", err.message);
            if (getenv("GLNN_REQUIRE_GPU")) abort();
            gpu_ctx = NULL;
        }
    }
    return gpu_ctx;
}

bool glnn_test_shared(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return true;
    }
    printf("skipped: needs %s (../shared: Beatmup's dog classifier and the test pictures), which is not there\n", path);
    return false;
}

glnn_context *glnn_test_cpu(void) {
    if (!cpu_ctx) {
        glnn_context_options o;
        glnn_context_options_init(&o);
        o.device = "cpu";
        if (glnn_context_create(&o, &cpu_ctx, NULL) != GLNN_OK) abort();
    }
    return cpu_ctx;
}

glnn_op *glnn_test_conv(const char *name, int k, int cin, int cout, int groups, glnn_padding pad, glnn_activation act) {
    glnn_error err;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = name;
    p.kernel_size = k;
    p.num_input_channels = cin;
    p.num_output_channels = cout;
    p.num_groups = groups;
    p.padding = pad;
    p.activation = act;
    glnn_op *op;
    assert_ok(glnn_conv2d_create(&p, &op, &err));
    return op;
}

glnn_op *glnn_test_pool(const char *name, glnn_pooling_operator o, int size, int stride, glnn_padding pad) {
    glnn_error err;
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    p.name = name;
    p.op = o;
    p.size = size;
    p.stride = stride;
    p.padding = pad;
    glnn_op *op;
    assert_ok(glnn_pooling2d_create(&p, &op, &err));
    return op;
}
