/* libFuzzer: model preparation (and, when small, a run) on the CPU reference from an arbitrary listing and
 * arbitrary chunks.  Input: the listing text, a NUL byte, then a chunk file holding the weights (absent or
 * unreadable: no weights).  Every op input that has no connection gets data of a fitting kind and a small
 * size.  Weights that the model data lacks, or has with the wrong size, make preparation fail first; the
 * harness then supplies them (when small) and prepares again, so that the later ops are reached too.  Work
 * is bounded: sizes are capped by the library's limits (lowered in fuzzing builds), and the model runs
 * only when its counters and memory are small. */
#include "fuzz.h"
#include "internal.h"

#include <stdint.h>

#define MAX_OPS 512
#define MAX_SYNTHESIZED_BYTES (1 << 20)
/* Weights supplied in one execution, in bytes: keeps the reference model (211,672 floats) from taking most
 * of the time; its first ops are prepared, and the missing weights of the others end preparation. */
#define MAX_SYNTHESIZED_TOTAL (256 << 10)

static int64_t synthesized; /* bytes supplied so far in this execution */
#define MAX_RUN_WORK 4000000
#define MAX_RUN_MEMORY (8 << 20)

static glnn_context *cpu;
/* How far the inputs got: printed at exit when GLNN_FUZZ_STATS is set. */
static long n_inputs, n_loaded, n_prepared, n_ran;

static void print_stats(void) {
    fprintf(stderr, "fuzz_model: %ld inputs, %ld loaded as models, %ld prepared, %ld ran\n", n_inputs, n_loaded,
            n_prepared, n_ran);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (getenv("GLNN_FUZZ_STATS")) atexit(print_stats);
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = "cpu";
    glnn_error err;
    if (glnn_context_create(&o, &cpu, &err) != GLNN_OK) abort();
    return 0;
}

static uint32_t hash(const uint8_t *d, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 16777619u;
    return h;
}

static uint32_t next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Binds data of a fitting kind to input 0 of op (an error when it is connected: ignored). */
static void bind_input(glnn_model *m, glnn_op *op, uint32_t *seed) {
    glnn_error err;
    int64_t h = 1 + next(seed) % 24, w = 1 + next(seed) % 24, c = 4 * (1 + next(seed) % 4);
    bool image = false;
    switch (glnn_op_get_kind(op)) {
    case GLNN_OP_IMAGE_SAMPLER: image = true; break;
    case GLNN_OP_CONV2D: {
        glnn_conv2d_params p;
        glnn_conv2d_get_params(op, &p, &err);
        image = p.num_input_channels == 3;
        c = p.num_input_channels;
        if (p.kernel_size <= 24 && next(seed) % 4 != 0) { /* usually large enough for a VALID window */
            h = h < p.kernel_size ? p.kernel_size : h;
            w = w < p.kernel_size ? p.kernel_size : w;
        }
        break;
    }
    case GLNN_OP_DENSE:
    case GLNN_OP_SOFTMAX: h = w = 1; break;
    default: break;
    }
    if (image) c = 3;
    if (c < 1 || h * w * c > 1 << 16) return;
    uint8_t *bytes = malloc((size_t)(h * w * c));
    if (!bytes) return;
    for (int64_t i = 0; i < h * w * c; i++)
        bytes[i] = (uint8_t)next(seed);
    const char *name = glnn_op_name(op);
    if (image)
        glnn_model_bind_image(m, name, 0, bytes, h, w, 3, &err);
    else
        glnn_model_bind_tensor_u8(m, name, 0, bytes, h, w, c, &err);
    free(bytes);
}

/* After a failed preparation: supplies the chunk it names when absent (as an empty chunk, whose size
 * mismatch then tells the size) or of the wrong size (when small).  False when there is nothing to do. */
static bool supply_weights(glnn_chunks *ch, const glnn_error *e, uint32_t *seed) {
    const char *start = strstr(e->message, "chunk '");
    if (!start) return false;
    start += 7;
    const char *end = NULL;
    if (e->status == GLNN_ERR_NOT_FOUND) end = strstr(start, "' not found");
    if (e->status == GLNN_ERR_FORMAT) end = strstr(start, "' size mismatch: expected ");
    if (!end || end - start > 255) return false;
    size_t id_len = (size_t)(end - start);
    glnn_error err;
    if (e->status == GLNN_ERR_NOT_FOUND) return glnn_chunks_set(ch, start, id_len, "", 0, &err) == GLNN_OK;
    long long expected = strtoll(end + strlen("' size mismatch: expected "), NULL, 10);
    if (expected <= 0 || expected > MAX_SYNTHESIZED_BYTES || expected % 4 != 0 ||
        synthesized + expected > MAX_SYNTHESIZED_TOTAL)
        return false;
    synthesized += expected;
    float *values = malloc((size_t)expected);
    if (!values) return false;
    for (long long i = 0; i < expected / 4; i++)
        values[i] = (float)((int)(next(seed) % 2001) - 1000) / 1000.0f;
    bool ok = glnn_chunks_set(ch, start, id_len, values, (size_t)expected, &err) == GLNN_OK;
    free(values);
    return ok;
}

/* Sets chunk `<op><suffix>` to n pattern floats when it is absent and small. */
static void supply_floats(glnn_chunks *ch, const char *op, const char *suffix, int64_t n, uint32_t *seed) {
    char id[300];
    snprintf(id, sizeof id, "%s%s", op, suffix);
    if (n <= 0 || n > MAX_SYNTHESIZED_BYTES / 4 || synthesized + 4 * n > MAX_SYNTHESIZED_TOTAL ||
        glnn_chunks_get(ch, id, strlen(id), NULL, NULL))
        return;
    synthesized += 4 * n;
    float *values = malloc((size_t)n * sizeof(float));
    if (!values) return;
    for (int64_t i = 0; i < n; i++)
        values[i] = (float)((int)(next(seed) % 2001) - 1000) / 1000.0f;
    glnn_error err;
    glnn_chunks_set(ch, id, strlen(id), values, (size_t)n * sizeof(float), &err);
    free(values);
}

/* Conv2D weights follow from the parameters alone: supplied before preparing when absent (an input byte
 * decides), so that one preparation reaches the end of most graphs. */
static void supply_conv_weights(glnn_model *m, glnn_chunks *ch, uint32_t *seed) {
    for (int i = 0; i < glnn_model_op_count(m); i++) {
        glnn_op *op = glnn_model_op_at(m, i);
        glnn_conv2d_params p;
        glnn_error err;
        if (glnn_conv2d_get_params(op, &p, &err) != GLNN_OK || next(seed) % 16 == 0) continue;
        int64_t cg = p.num_input_channels == 3 ? 3
                     : p.num_input_channels == p.num_output_channels && p.num_groups == p.num_input_channels
                         ? 1
                         : p.num_input_channels / p.num_groups;
        int64_t k2 = (int64_t)p.kernel_size * p.kernel_size;
        if (k2 > MAX_SYNTHESIZED_BYTES || cg * p.num_output_channels > MAX_SYNTHESIZED_BYTES) continue;
        supply_floats(ch, p.name, "/w", k2 * cg * p.num_output_channels, seed);
        if (p.use_bias) supply_floats(ch, p.name, "/b", p.num_output_channels, seed);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    glnn_error err;
    const uint8_t *nul = memchr(data, 0, size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    glnn_model *m = NULL;
    n_inputs++;
    glnn_status s = glnn_model_deserialize(text_len ? (const char *)data : "", text_len, &m, &err);
    if (s != GLNN_OK) {
        fuzz_check_error(s, &err);
        return 0;
    }
    n_loaded++;
    if (glnn_model_op_count(m) > MAX_OPS) {
        glnn_model_free(m);
        return 0;
    }
    glnn_chunks *ch = NULL;
    if (!nul || glnn_chunks_read_memory(nul + 1, size - text_len - 1, &ch, &err) != GLNN_OK)
        if (glnn_chunks_create(&ch, &err) != GLNN_OK) abort();
    uint32_t seed = hash(data, size) | 1;
    synthesized = 0;

    int n = glnn_model_op_count(m);
    glnn_op *last_with_output = NULL;
    for (int i = 0; i < n; i++) {
        glnn_op *op = glnn_model_op_at(m, i);
        if (next(&seed) % 8 != 0) bind_input(m, op, &seed); /* sometimes left without data */
        if (glnn_op_output_count(op) > 0) last_with_output = op;
    }
    if (last_with_output) glnn_model_add_output(m, glnn_op_name(last_with_output), 0, &err);
    supply_conv_weights(m, ch, &seed);

    for (int attempt = 0; attempt < 64; attempt++) {
        s = glnn_model_prepare(m, cpu, ch, &err);
        if (s == GLNN_OK) break;
        fuzz_check_error(s, &err);
        if (!supply_weights(ch, &err, &seed)) break;
    }
    if (s == GLNN_OK) {
        n_prepared++;
        int64_t macs = 0, fetches = 0, memory = 0;
        FUZZ_CHECK(glnn_model_count_multiply_adds(m, &macs, &err) == GLNN_OK && macs >= 0, "macs");
        FUZZ_CHECK(glnn_model_count_texel_fetches(m, &fetches, &err) == GLNN_OK && fetches >= 0, "fetches");
        FUZZ_CHECK(glnn_model_memory_size(m, &memory, &err) == GLNN_OK && memory >= 0, "memory");
        if (macs <= MAX_RUN_WORK && fetches <= MAX_RUN_WORK && memory <= MAX_RUN_MEMORY) {
            s = glnn_model_run(m, cpu, ch, &err);
            FUZZ_CHECK(s == GLNN_OK, "a prepared model fails to run: %s", err.message);
            n_ran++;
            glnn_shape shape;
            if (last_with_output &&
                glnn_model_output_shape(m, glnn_op_name(last_with_output), 0, &shape, &err) == GLNN_OK) {
                int64_t count = glnn_shape_count(shape);
                float *out = malloc((size_t)count * sizeof(float));
                FUZZ_CHECK(out, "out of memory");
                s = glnn_model_get_output_f32(m, glnn_op_name(last_with_output), 0, out, count, &err);
                FUZZ_CHECK(s == GLNN_OK, "read output: %s", err.message);
                free(out);
            }
            int64_t count;
            if (glnn_model_probabilities_size(m, NULL, &count, &err) == GLNN_OK) {
                float *p = malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
                FUZZ_CHECK(p, "out of memory");
                s = glnn_model_get_probabilities(m, NULL, p, count, &err);
                FUZZ_CHECK(s == GLNN_OK, "probabilities: %s", err.message);
                for (int64_t i = 0; i < count; i++)
                    FUZZ_CHECK(!(p[i] < 0.0f) && !(p[i] > 1.0f), "probability %g", (double)p[i]);
                free(p);
            }
        }
    }
    glnn_model_free(m);
    glnn_chunks_free(ch);
    return 0;
}
