/* Threads (include/glnn.h, "Threads"): several threads at once, each with its own CPU context and, when
 * a GPU is available, its own GPU context, run convolutions and a small model, decode images and parse
 * listings, sharing one read-only chunk collection; every result is checked against results computed
 * beforehand on the main thread.  A GPU context used from a thread it is not current on gives an error,
 * not a crash.  GLNN_TEST_NO_GPU=1 runs the CPU part alone. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 3
#define H 10
#define W 10
#define C 8
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char listing[] = "ops:\n"
                              " - _name: c\n   _type: conv2d\n   kernel_size: 3\n   input_channels: 8\n"
                              "   output_channels: 8\n   padding: same\n   activation: sigmoid_like\n"
                              " - _name: p\n   _type: pooling2d\n   operator: max\n   size: 2\n   stride: 2\n"
                              " - _name: g\n   _type: pooling2d\n   operator: average\n   size: 5\n"
                              " - _name: d\n   _type: dense\n   output_dims: 4\n"
                              " - _name: s\n   _type: softmax\n"
                              "connections:\n"
                              " - from: c\n   to: p\n - from: p\n   to: g\n   shuffle: 2\n"
                              " - from: g\n   to: d\n - from: d\n   to: s\n";

/* What every thread needs, read-only once the threads start. */
static glnn_chunks *weights;
static uint8_t inputs[THREADS][H * W * C];
static uint8_t want_conv[THREADS][H * W * C];
static float want_probs[THREADS][4];
static uint8_t *bmp;
static size_t bmp_size;
static pthread_barrier_t start;

typedef struct {
    int index;
    bool gpu;
    int failures;
    int64_t values, gpu_values, gpu_exact;
    char message[512];
} worker;

static void failf(worker *w, const char *what, const glnn_error *err) {
    w->failures++;
    snprintf(w->message, sizeof w->message, "thread %d: %s%s%.400s", w->index, what, err ? ": " : "",
             err ? err->message : "");
}

static glnn_op *make_conv(void) {
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    p.name = "c";
    p.kernel_size = 3;
    p.num_input_channels = C;
    p.num_output_channels = C;
    p.padding = GLNN_PADDING_SAME;
    p.activation = GLNN_ACTIVATION_SIGMOID_LIKE;
    glnn_op *op = NULL;
    glnn_error err;
    if (glnn_conv2d_create(&p, &op, &err) != GLNN_OK) return NULL;
    return op;
}

/* Conv "c" on `input` through glnn_op_run; false with a message on failure. */
static bool run_conv(glnn_context *ctx, const uint8_t *input, uint8_t *out, glnn_error *err) {
    glnn_op *op = make_conv();
    glnn_tensor *in = NULL, *o = NULL;
    glnn_shape s = {GLNN_KIND_TENSOR, H, W, C};
    bool ok = op && glnn_tensor_create(ctx, s, &in, err) == GLNN_OK &&
              glnn_tensor_upload_u8(in, input, H * W * C, err) == GLNN_OK &&
              glnn_op_run(ctx, op, weights, &in, 1, &o, err) == GLNN_OK &&
              glnn_tensor_download_u8(o, out, H * W * C, err) == GLNN_OK;
    glnn_tensor_free(in);
    glnn_tensor_free(o);
    glnn_op_release(op);
    return ok;
}

/* The listing's model on `input`; false with a message on failure. */
static bool run_model(glnn_context *ctx, const uint8_t *input, float *probs, glnn_error *err) {
    glnn_model *m = NULL;
    bool ok = glnn_model_deserialize(listing, strlen(listing), &m, err) == GLNN_OK &&
              glnn_model_bind_tensor_u8(m, "c", 0, input, H, W, C, err) == GLNN_OK &&
              glnn_model_run(m, ctx, weights, err) == GLNN_OK &&
              glnn_model_get_probabilities(m, NULL, probs, 4, err) == GLNN_OK;
    glnn_model_free(m);
    return ok;
}

static glnn_context *make_context(const char *device, glnn_error *err) {
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = device;
    glnn_context *ctx = NULL;
    if (glnn_context_create(&o, &ctx, err) != GLNN_OK) return NULL;
    return ctx;
}

static const char *gpu_device(void) {
    const char *dev = getenv("GLNN_DEVICE");
    return dev && *dev && strcmp(dev, "cpu") != 0 && strcmp(dev, "reference") != 0 ? dev : "gpu";
}

static void *work(void *arg) {
    worker *w = arg;
    glnn_error err;
    const int t = w->index;
    glnn_context *cpu = make_context("reference", &err);
    if (!cpu) failf(w, "create CPU context", &err);
    /* The fast CPU back end (its own thread pool per context) within the same budget as the GPU, on the GPU's
     * thread when there is one, else alone. */
    glnn_context *gpu = NULL;
    if (w->gpu && !(gpu = make_context(gpu_device(), &err))) failf(w, "create GPU context", &err);
    if (!w->gpu && !(gpu = make_context("cpu", &err))) failf(w, "create fast CPU context", &err);
    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS && w->failures == 0; round++) {
        uint8_t out[H * W * C];
        float probs[4];
        /* Convolutions: bit for bit on the reference, within 1 LSB on the GPU or the fast CPU (SPEC §2.5). */
        if (cpu && run_conv(cpu, inputs[t], out, &err)) {
            if (memcmp(out, want_conv[t], sizeof out) != 0) failf(w, "CPU convolution differs", NULL);
            w->values += COUNT(out);
        } else if (cpu) {
            failf(w, "CPU convolution", &err);
        }
        if (gpu && run_conv(gpu, inputs[t], out, &err)) {
            for (int i = 0; i < COUNT(out); i++) {
                int d = abs((int)out[i] - (int)want_conv[t][i]);
                if (d > 1) failf(w, "GPU convolution differs by more than 1 LSB", NULL);
                w->gpu_exact += d == 0;
            }
            w->gpu_values += COUNT(out);
        } else if (gpu) {
            failf(w, "GPU convolution", &err);
        }
        /* A small model, whose listing is parsed here and whose weights come from the shared chunks. */
        if (cpu && run_model(cpu, inputs[t], probs, &err)) {
            if (memcmp(probs, want_probs[t], sizeof probs) != 0) failf(w, "CPU model differs", NULL);
        } else if (cpu) {
            failf(w, "CPU model", &err);
        }
        if (gpu && run_model(gpu, inputs[t], probs, &err)) {
            for (int i = 0; i < 4; i++)
                if (probs[i] < want_probs[t][i] - 0.01f || probs[i] > want_probs[t][i] + 0.01f)
                    failf(w, "GPU model differs", NULL);
        } else if (gpu) {
            failf(w, "GPU model", &err);
        }
        /* Image decoding. */
        uint8_t *px = NULL;
        int64_t h = 0, wd = 0;
        if (glnn_image_decode(bmp, bmp_size, &px, &h, &wd, &err) != GLNN_OK)
            failf(w, "decode image", &err);
        else if (h != H || wd != W || memcmp(px, inputs[0], H * W * 3) != 0)
            failf(w, "decoded image differs", NULL);
        glnn_free(px);
    }
    glnn_context_free(gpu);
    glnn_context_free(cpu);
    return NULL;
}

static uint8_t *make_bmp(const uint8_t *rgb, size_t *size) {
    const int stride = (W * 3 + 3) / 4 * 4;
    *size = 54 + (size_t)stride * H;
    uint8_t *b = calloc(*size, 1);
    b[0] = 'B';
    b[1] = 'M';
    b[10] = 54;
    b[14] = 40;
    b[18] = W;
    b[22] = H;
    b[26] = 1;
    b[28] = 24;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                b[54 + (H - 1 - y) * stride + x * 3 + 2 - c] = rgb[(y * W + x) * 3 + c];
    return b;
}

static void run_threads(bool gpu) {
    worker workers[THREADS];
    pthread_t ids[THREADS];
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof workers[t]);
        workers[t].index = t;
        workers[t].gpu = gpu;
        assert_int_equal(pthread_create(&ids[t], NULL, work, &workers[t]), 0);
    }
    int failures = 0;
    int64_t values = 0, gpu_values = 0, gpu_exact = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(ids[t], NULL), 0);
        if (workers[t].failures) print_error("%s\n", workers[t].message);
        failures += workers[t].failures;
        values += workers[t].values;
        gpu_values += workers[t].gpu_values;
        gpu_exact += workers[t].gpu_exact;
    }
    pthread_barrier_destroy(&start);
    printf("%d threads × %d rounds: %lld reference values bit-exact", THREADS, ROUNDS, (long long)values);
    printf(", %lld %s values (%.3f%% exact, all within 1 LSB)", (long long)gpu_values, gpu ? "GPU" : "fast CPU",
           gpu_values ? 100.0 * (double)gpu_exact / (double)gpu_values : 0.0);
    printf("\n");
    assert_int_equal(failures, 0);
}

static int setup(void **state) {
    (void)state;
    glnn_error err;
    glnn_rng rng = {2024};
    float w[3 * 3 * C * C], b[C], d[4 * C], db[4];
    for (int i = 0; i < COUNT(w); i++)
        w[i] = glnn_rng_uniform(&rng, -1.0f, 1.0f);
    for (int i = 0; i < COUNT(b); i++)
        b[i] = glnn_rng_uniform(&rng, -0.5f, 0.5f);
    for (int i = 0; i < COUNT(d); i++)
        d[i] = glnn_rng_uniform(&rng, -3.0f, 3.0f);
    for (int i = 0; i < COUNT(db); i++)
        db[i] = glnn_rng_uniform(&rng, -1.0f, 1.0f);
    if (glnn_chunks_create(&weights, &err) != GLNN_OK ||
        glnn_chunks_set_weights(weights, "c", w, COUNT(w), b, COUNT(b), &err) != GLNN_OK ||
        glnn_chunks_set_weights(weights, "d", d, COUNT(d), db, COUNT(db), &err) != GLNN_OK)
        return -1;
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < H * W * C; i++)
            inputs[t][i] = (uint8_t)(glnn_rng_u32(&rng) >> 24);
        if (!run_conv(glnn_test_cpu(), inputs[t], want_conv[t], &err) ||
            !run_model(glnn_test_cpu(), inputs[t], want_probs[t], &err)) {
            fprintf(stderr, "setup: %s\n", err.message);
            return -1;
        }
    }
    bmp = make_bmp(inputs[0], &bmp_size);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    glnn_chunks_free(weights);
    free(bmp);
    return 0;
}

static void test_cpu_threads(void **state) {
    (void)state;
    run_threads(false);
}

static void test_gpu_threads(void **state) {
    (void)state;
    if (!glnn_test_gpu()) {
        printf("no GPU: skipped\n");
        return;
    }
    run_threads(true);
}

/* The main thread's GPU context is current here; another thread using it gets an error. */
static void *use_foreign_context(void *arg) {
    glnn_error *err = arg;
    glnn_tensor *t = NULL;
    glnn_shape s = {GLNN_KIND_TENSOR, 2, 2, 4};
    if (glnn_tensor_create(glnn_test_gpu(), s, &t, err) == GLNN_OK) {
        glnn_tensor_free(t);
        err->status = GLNN_OK;
    }
    return NULL;
}

static void test_context_of_another_thread(void **state) {
    (void)state;
    glnn_context *gpu = glnn_test_gpu();
    if (!gpu) {
        printf("no GPU: skipped\n");
        return;
    }
    glnn_error err;
    glnn_tensor *t;
    glnn_shape s = {GLNN_KIND_TENSOR, 2, 2, 4};
    assert_ok(glnn_tensor_create(gpu, s, &t, &err)); /* makes it current on this thread */
    glnn_error other;
    pthread_t id;
    assert_int_equal(pthread_create(&id, NULL, use_foreign_context, &other), 0);
    assert_int_equal(pthread_join(id, NULL), 0);
    assert_error(other.status, &other, GLNN_ERR_DEVICE, "current on another thread");
    /* The context still works here. */
    uint8_t data[16] = {1, 2, 3}, back[16];
    assert_ok(glnn_tensor_upload_u8(t, data, 16, &err));
    assert_ok(glnn_tensor_download_u8(t, back, 16, &err));
    assert_memory_equal(data, back, 16);
    glnn_tensor_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_threads),
        cmocka_unit_test(test_gpu_threads),
        cmocka_unit_test(test_context_of_another_thread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
