/* Resource limits and device errors: sizes are checked before anything is allocated, on the CPU reference
 * (2^31 − 1 bytes per tensor) and on a GPU (its shader storage block limit), with errors naming the
 * operation and the shape; GL errors, GL_OUT_OF_MEMORY included, become glnn errors naming the operation.
 * The GPU cases skip without a GPU (GLNN_TEST_NO_GPU=1 runs the CPU cases alone). */
#include "testutil.h"

#include "backends/gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_model *sampler_model(int out_w, int out_h, glnn_op **op) {
    glnn_error err;
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    p.name = "big";
    p.output_width = out_w;
    p.output_height = out_h;
    assert_ok(glnn_image_sampler_create(&p, op, &err));
    glnn_model *m;
    assert_ok(glnn_model_create(&m, &err));
    assert_ok(glnn_model_append(m, *op, false, &err));
    uint8_t px[4 * 4 * 3] = {0};
    assert_ok(glnn_model_bind_image(m, "big", 0, px, 4, 4, 3, &err));
    return m;
}

/* CPU: tensors at and beyond 2^31 − 1 bytes. */
static void test_cpu_limits(void **state) {
    (void)state;
    glnn_error err;
    glnn_context *cpu = glnn_test_cpu();
    glnn_tensor *t = NULL;
    glnn_shape s = {GLNN_KIND_TENSOR, 32768, 16384, 4}; /* 2^31 bytes */
    assert_error(glnn_tensor_create(cpu, s, &t, &err), &err, GLNN_ERR_MEMORY, "32768×16384×4", "2147483648 bytes",
                 "above the CPU reference's limit of 2147483647 bytes");
    assert_null(t);
    glnn_shape v = {GLNN_KIND_VECTOR, 1, 1, (int64_t)1 << 29}; /* 2^31 bytes of floats */
    assert_error(glnn_tensor_create(cpu, v, &t, &err), &err, GLNN_ERR_MEMORY, "create vector", "2147483648 bytes");
    glnn_shape img = {GLNN_KIND_IMAGE, INT64_MAX / 2, 3, 3};
    assert_error(glnn_tensor_create(cpu, img, &t, &err), &err, GLNN_ERR_MEMORY, "create image", "overflows");
    /* In a model, the op is named. */
    glnn_op *op;
    glnn_model *m = sampler_model(40000, 40000, &op);
    assert_error(glnn_model_run(m, cpu, NULL, &err), &err, GLNN_ERR_MEMORY, "ImageSampler 'big': output",
                 "40000×40000×3 image", "6400000000 bytes");
    int64_t n;
    assert_error(glnn_model_memory_size(m, &n, &err), &err, GLNN_ERR_STATE, "not prepared");
    glnn_model_free(m);
    glnn_op_release(op);
}

static void test_gpu_tensor_limit(void **state) {
    (void)state;
    glnn_context *gpu = glnn_test_gpu();
    if (!gpu || gpu->backend != &glnn_compute_backend) {
        printf("no GPU compute context: skipped\n");
        return;
    }
    glnn_error err;
    const int64_t limit = glnn_gpu_of(gpu)->max_ssbo_size;
    glnn_tensor *t = NULL;
    /* A tensor of exactly the limit (when it is a multiple of 16 bytes) is accepted; 16 bytes more are not. */
    glnn_shape at = {GLNN_KIND_TENSOR, 1, limit / 16, 16};
    glnn_shape over = {GLNN_KIND_TENSOR, 1, limit / 16 + 1, 16};
    char words[64];
    snprintf(words, sizeof words, "limit of %lld bytes", (long long)limit);
    assert_error(glnn_tensor_create(gpu, over, &t, &err), &err, GLNN_ERR_MEMORY, "create tensor",
                 "above the device's storage block", words);
    assert_null(t);
    if (limit <= (int64_t)1 << 28) { /* keep the allocation reasonable */
        assert_ok(glnn_tensor_create(gpu, at, &t, &err));
        glnn_tensor_free(t);
    }
    /* An op whose output would exceed the limit fails at preparation, naming the op and the shape. */
    int side = 1;
    while ((int64_t)side * side * 4 <= limit)
        side *= 2;
    glnn_op *op;
    glnn_model *m = sampler_model(side, side, &op);
    char shape[64];
    snprintf(shape, sizeof shape, "%d×%d×3 image", side, side);
    assert_error(glnn_model_run(m, gpu, NULL, &err), &err, GLNN_ERR_MEMORY, "ImageSampler 'big': output", shape,
                 "above the device's storage block limit");
    glnn_model_free(m);
    glnn_op_release(op);
}

/* GL errors reach the caller as glnn errors naming the operation. */
static void test_gl_errors(void **state) {
    (void)state;
    glnn_context *gpu = glnn_test_gpu();
    if (!gpu || gpu->backend != &glnn_compute_backend) {
        printf("no GPU compute context: skipped\n");
        return;
    }
    glnn_error err;
    assert_ok(glnn_gpu_make_current(glnn_gpu_of(gpu), &err));
    assert_ok(glnn_gpu_check("nothing pending", &err));
    glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 1u << 30, 0); /* index beyond the binding points */
    assert_error(glnn_gpu_check("bind a buffer", &err), &err, GLNN_ERR_DEVICE, "bind a buffer: GL_INVALID_VALUE");
    assert_ok(glnn_gpu_check("after the error", &err)); /* the flag was cleared */
    /* A buffer far beyond the memory of the machine: GL_OUT_OF_MEMORY, as GLNN_ERR_MEMORY. */
    GLuint b = 0;
    glnn_status s = glnn_gpu_buffer_create((int64_t)1 << 42, NULL, &b, "create a 4 TiB buffer", &err);
    if (s == GLNN_OK) {
        glnn_gpu_buffer_free(b);
        fail_msg("a 4 TiB buffer was created");
    }
    assert_error(s, &err, GLNN_ERR_MEMORY, "create a 4 TiB buffer: GL_OUT_OF_MEMORY");
    /* The context still works. */
    glnn_tensor *t;
    glnn_shape sh = {GLNN_KIND_TENSOR, 2, 2, 4};
    assert_ok(glnn_tensor_create(gpu, sh, &t, &err));
    uint8_t data[16] = {9, 8, 7}, back[16];
    assert_ok(glnn_tensor_upload_u8(t, data, 16, &err));
    assert_ok(glnn_tensor_download_u8(t, back, 16, &err));
    assert_memory_equal(data, back, 16);
    glnn_tensor_free(t);
}

/* A context that is gone (destroyed behind glnn's back, as after a GPU reset): every call on it fails with
 * GLNN_ERR_DEVICE naming the operation, and freeing its objects and itself is safe. */
static void test_lost_context(void **state) {
    (void)state;
    if (!glnn_test_gpu() || glnn_test_gpu()->backend != &glnn_compute_backend) {
        printf("no GPU compute context: skipped\n");
        return;
    }
    glnn_error err;
    glnn_context_options o;
    glnn_context_options_init(&o);
    const char *dev = getenv("GLNN_DEVICE");
    o.device = dev && *dev && strcmp(dev, "cpu") != 0 && strcmp(dev, "reference") != 0 ? dev : "gpu";
    glnn_context *ctx;
    assert_ok(glnn_context_create(&o, &ctx, &err));
    glnn_tensor *t;
    glnn_shape sh = {GLNN_KIND_TENSOR, 4, 4, 4};
    assert_ok(glnn_tensor_create(ctx, sh, &t, &err));
    glnn_op *op;
    glnn_model *m = sampler_model(3, 3, &op);
    assert_ok(glnn_model_add_output(m, "big", 0, &err));
    assert_ok(glnn_model_run(m, ctx, NULL, &err));

    /* The context goes away. */
    glnn_gpu *g = glnn_gpu_of(ctx);
    assert_true(eglDestroyContext(g->display, g->context));
    assert_true(eglMakeCurrent(g->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT));

    uint8_t data[64] = {0};
    assert_error(glnn_tensor_upload_u8(t, data, 64, &err), &err, GLNN_ERR_DEVICE, "no longer exists");
    assert_error(glnn_tensor_download_u8(t, data, 64, &err), &err, GLNN_ERR_DEVICE, "no longer exists");
    glnn_tensor *t2 = NULL;
    assert_error(glnn_tensor_create(ctx, sh, &t2, &err), &err, GLNN_ERR_DEVICE, "no longer exists");
    assert_null(t2);
    assert_int_not_equal(glnn_model_run(m, ctx, NULL, &err), GLNN_OK);
    assert_int_equal(err.status, GLNN_ERR_DEVICE);
    uint8_t out[27];
    assert_error(glnn_model_get_output_u8(m, "big", 0, out, 27, &err), &err, GLNN_ERR_STATE, "has not run");
    glnn_model_free(m);
    glnn_op_release(op);
    glnn_tensor_free(t);
    glnn_context_free(ctx);
    /* Other contexts are unaffected. */
    assert_ok(glnn_tensor_create(glnn_test_gpu(), sh, &t, &err));
    glnn_tensor_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_limits),
        cmocka_unit_test(test_gpu_tensor_limit),
        cmocka_unit_test(test_gl_errors),
        cmocka_unit_test(test_lost_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
