/* The fast CPU back end (device "cpu", SPEC §1): the plans and kernels of this folder (cpu.h) behind the back-end
 * table.  Tensors live in memory as the reference keeps them (backends/reference/backend.c: host storage); a
 * context holds one thread pool and the instruction set its plans use. */
#include "backends/cpu/cpu.h"
#include "ops/conv2d.h"
#include "ops/dense.h"
#include "ops/image_sampler.h"
#include "ops/pooling2d.h"
#include "ops/upsampling2d.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct cpu_device {
    glnn_cpu_pool *pool;
    glnn_cpu_isa isa;
} cpu_device;

static cpu_device *device_of(const glnn_context *ctx) {
    return (cpu_device *)ctx->impl;
}

glnn_status glnn_cpu_device_open(glnn_context *ctx, glnn_error *err) {
    cpu_device *d = calloc(1, sizeof *d);
    if (!d) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    /* GLNN_CPU_ISA (tests, comparisons): c, avx2 or avx512 instead of the best this CPU runs. */
    const char *isa = getenv("GLNN_CPU_ISA");
    glnn_error cause;
    glnn_status s = GLNN_OK;
    d->isa = glnn_cpu_isa_best();
    if (isa && *isa && glnn_cpu_isa_parse(isa, &d->isa, &cause) != GLNN_OK)
        s = glnn_fail(err, GLNN_ERR_ARGUMENT, "create context: %s (from GLNN_CPU_ISA)", cause.message);
    if (s == GLNN_OK) s = glnn_cpu_pool_create(0, &d->pool, err);
    if (s != GLNN_OK) {
        free(d);
        return s;
    }
    ctx->impl = d;
    snprintf(ctx->device_name, sizeof ctx->device_name, "cpu (%s, %d threads)", glnn_cpu_isa_name(d->isa),
             glnn_cpu_pool_size(d->pool));
    return GLNN_OK;
}

static void destroy(glnn_context *ctx) {
    cpu_device *d = device_of(ctx);
    if (d) glnn_cpu_pool_free(d->pool);
    free(d);
    ctx->impl = NULL;
}

static size_t describe(const glnn_context *ctx, char *buf, size_t size) {
    const cpu_device *d = device_of(ctx);
    return (size_t)snprintf(buf, size,
                            "device: %s\n"
                            "path: cpu (SIMD kernels chosen by CPU features, a thread pool; GLNN_THREADS, "
                            "GLNN_CPU_ISA override)\n"
                            "instruction set: %s\n"
                            "threads: %d\n"
                            "max_sampled_channels: %d (not enforced on the CPU)\n",
                            ctx->device_name, glnn_cpu_isa_name(d->isa), glnn_cpu_pool_size(d->pool),
                            ctx->max_sampled_channels);
}

static const char *no_timer(const glnn_context *ctx) {
    (void)ctx;
    return "CPU context";
}

static glnn_status shuffle(glnn_context *ctx, const glnn_tensor *in, int n, glnn_tensor *out, glnn_error *err) {
    (void)err;
    glnn_cpu_shuffle_run(device_of(ctx)->pool, in->bytes, in->shape.h * in->shape.w, in->shape.c, n, out->bytes);
    return GLNN_OK;
}

/* ---- the ops: plans made at preparation, run on the tensors' bytes ---- */

static glnn_status conv2d_prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    return glnn_cpu_conv2d_plan_create(glnn_conv2d_of(op), device_of(ctx)->isa, (glnn_cpu_conv2d_plan **)state, err);
}
static glnn_status conv2d_run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                              glnn_tensor *output, glnn_error *err) {
    (void)op;
    return glnn_cpu_conv2d_plan_run(state, device_of(ctx)->pool, inputs[0]->bytes, inputs[1] ? inputs[1]->bytes : NULL,
                                    output->bytes, err);
}
static void conv2d_release(glnn_context *ctx, void *state) {
    (void)ctx;
    glnn_cpu_conv2d_plan_free(state);
}

static glnn_status pooling2d_prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    return glnn_cpu_pooling2d_plan_create(glnn_pooling2d_of(op), device_of(ctx)->isa, (glnn_cpu_pooling2d_plan **)state,
                                          err);
}
static glnn_status pooling2d_run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                                 glnn_tensor *output, glnn_error *err) {
    (void)op;
    (void)err;
    glnn_cpu_pooling2d_plan_run(state, device_of(ctx)->pool, inputs[0]->bytes, output->bytes);
    return GLNN_OK;
}
static void pooling2d_release(glnn_context *ctx, void *state) {
    (void)ctx;
    glnn_cpu_pooling2d_plan_free(state);
}

static glnn_status dense_prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    return glnn_cpu_dense_plan_create(glnn_dense_of(op), device_of(ctx)->isa, (glnn_cpu_dense_plan **)state, err);
}
static glnn_status dense_run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                             glnn_tensor *output, glnn_error *err) {
    (void)err;
    const void *in = glnn_dense_prep_of(op)->vector_input ? (const void *)inputs[0]->floats : inputs[0]->bytes;
    glnn_cpu_dense_plan_run(state, device_of(ctx)->pool, in, output->floats);
    return GLNN_OK;
}
static void dense_release(glnn_context *ctx, void *state) {
    (void)ctx;
    glnn_cpu_dense_plan_free(state);
}

static glnn_status image_sampler_prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    return glnn_cpu_image_sampler_plan_create(glnn_image_sampler_of(op), device_of(ctx)->isa,
                                              (glnn_cpu_image_sampler_plan **)state, err);
}
static glnn_status image_sampler_run(glnn_context *ctx, const glnn_op *op, void *state,
                                     const glnn_tensor *const *inputs, glnn_tensor *output, glnn_error *err) {
    (void)op;
    (void)err;
    glnn_cpu_image_sampler_plan_run(state, device_of(ctx)->pool, inputs[0]->bytes, output->bytes);
    return GLNN_OK;
}
static void image_sampler_release(glnn_context *ctx, void *state) {
    (void)ctx;
    glnn_cpu_image_sampler_plan_free(state);
}

static glnn_status upsampling2d_prepare(glnn_context *ctx, const glnn_op *op, void **state, glnn_error *err) {
    const glnn_shape is = glnn_upsampling2d_prep_of(op)->in_shape;
    const glnn_upsampling2d_params *p = &glnn_upsampling2d_of(op)->p;
    const glnn_cpu_upsampling2d_params q = {is.h, is.w, is.c, p->factor,
                                            p->interpolation == GLNN_INTERPOLATION_BILINEAR};
    return glnn_cpu_upsampling2d_plan_create(&q, device_of(ctx)->isa, (glnn_cpu_upsampling2d_plan **)state, err);
}
static glnn_status upsampling2d_run(glnn_context *ctx, const glnn_op *op, void *state, const glnn_tensor *const *inputs,
                                    glnn_tensor *output, glnn_error *err) {
    (void)op;
    (void)err;
    glnn_cpu_upsampling2d_plan_run(state, device_of(ctx)->pool, inputs[0]->bytes, output->bytes);
    return GLNN_OK;
}
static void upsampling2d_release(glnn_context *ctx, void *state) {
    (void)ctx;
    glnn_cpu_upsampling2d_plan_free(state);
}

/* impl_conv2d, impl_pooling2d, ...: each op kind's three functions above. */
#define GLNN_CPU_IMPL_(KIND, type)                                                                                     \
    static const glnn_op_impl impl_##type = {.prepare = type##_prepare, .run = type##_run, .release = type##_release};
GLNN_BACKEND_OP_KINDS(GLNN_CPU_IMPL_)

#define GLNN_BACKEND_PREFIX impl
const glnn_backend glnn_cpu_backend = {
    .name = "cpu",
    GLNN_BACKEND_OPS,
    .check_shape = glnn_host_check_shape,
    GLNN_STORAGE(glnn_host),
    .shuffle = shuffle,
    .no_timer = no_timer,
    .describe = describe,
    .destroy = destroy,
};
