/*
 * glnn — 8-bit convolutional networks on any GPU through OpenGL ES, and on the CPU through a plain-C
 * reference of the same arithmetic.  The contract is SPEC.md; names follow it behind the glnn_ prefix.
 *
 * Conventions
 *  - Every handle is opaque.  Every fallible call returns a glnn_status and, when `err` is not NULL,
 *    fills it with the status and a message naming the operation and the cause.  A failed call leaves
 *    every object as it was.  The library never prints and never exits.
 *  - Sizes and counters are 64-bit.  Tensors are H×W×C bytes in HWC order, byte q meaning q/255.
 *  - NULL handles and NULL result pointers are errors (GLNN_ERR_ARGUMENT), never crashes; getters that
 *    return no status return 0, NULL or an empty string for a NULL handle.
 *  - Threads: glnn keeps no global mutable state, and objects are not internally locked.  Several threads
 *    may use glnn at the same time, each with its own glnn_context (CPU or GPU), created, used and freed
 *    on that thread, and its own objects (tensors, ops, models) used with that context: a GPU context
 *    stays current on the thread that uses it (EGL allows a context on one thread only; another thread
 *    gets a GLNN_ERR_DEVICE error, not a crash).  A chunk collection that nobody modifies may be shared
 *    as model data by several threads.  tests/test_threads.c checks this.
 *  - Limits: sizes are checked before anything is allocated.  A tensor holds at most 2^31 − 1 bytes on the
 *    CPU reference and at most GL_MAX_SHADER_STORAGE_BLOCK_SIZE bytes on a GPU; a decoded image at most
 *    2^28 pixels; a chunk file at most 2^20 records; a model at most 4096 operations and 16384
 *    connections; a listing at most 1024 chapters and 1024 keys per block.  Beyond them, and where a
 *    size or counter would overflow 64 bits, calls fail with GLNN_ERR_MEMORY (or GLNN_ERR_FORMAT for
 *    files) naming the operation and the size.  GL errors (GL_OUT_OF_MEMORY included) become glnn errors
 *    naming the operation; a lost GPU context is a GLNN_ERR_DEVICE error, and the context must then be
 *    freed and created again.
 */
#ifndef GLNN_H
#define GLNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GLNN_VERSION "0.1.0"

/* ---------------------------------------------------------------------------------------------------- */
/* Errors                                                                                               */

typedef enum glnn_status {
    GLNN_OK = 0,
    GLNN_ERR_ARGUMENT,  /* a parameter or argument is invalid (Python: ValueError) */
    GLNN_ERR_STATE,     /* the call is not valid in the object's current state */
    GLNN_ERR_NOT_FOUND, /* a named object, chunk or file is absent */
    GLNN_ERR_FORMAT,    /* malformed file or text */
    GLNN_ERR_IO,        /* reading or writing a file failed */
    GLNN_ERR_DEVICE,    /* EGL / OpenGL ES failure, missing capability */
    GLNN_ERR_MEMORY,    /* allocation failed or a size is beyond the limits */
} glnn_status;

#define GLNN_ERROR_MESSAGE_SIZE 512

typedef struct glnn_error {
    glnn_status status;
    char message[GLNN_ERROR_MESSAGE_SIZE];
} glnn_error;

const char *glnn_status_name(glnn_status status);
/* Frees memory that glnn returned to the caller (serialized text, decoded images). */
void glnn_free(void *ptr);

/* ---------------------------------------------------------------------------------------------------- */
/* Context: a device to run on (a GPU through EGL, the fast CPU back end, or the CPU reference)          */

typedef struct glnn_context glnn_context;

typedef struct glnn_context_options {
    /* NULL: the environment variable GLNN_DEVICE, else "auto".  "auto": the first hardware EGL device, else
     * "cpu" — else Mesa's software renderer when `path` names a GPU path.  "cpu": the fast CPU back end (SIMD kernels
     * chosen by CPU features, a thread pool of the processors or GLNN_THREADS; GLNN_CPU_ISA=c, avx2 or avx512 picks the
     * kernels).  "reference": the plain-C reference that defines every result.  "gpu": the first hardware EGL device,
     * else Mesa's software renderer.  "software": Mesa's surfaceless platform.  "N": the N-th EGL device as listed by
     * glnn_list_devices(). */
    const char *device;
    /* SPEC §4.10.  -1: the device's default (256 on VideoCore IV, else 0); 0: no limit. */
    int max_sampled_channels;
    /* GPU path.  NULL: the environment variable GLNN_PATH, else "auto".  "compute": OpenGL ES 3.1 compute
     * shaders.  "fragment": OpenGL ES 2.0 fragment shaders rendering into RGBA8 textures (Raspberry Pi
     * Zero–3 and other GLES 2.0 GPUs).  "auto": compute when the device offers it, else fragment. */
    const char *path;
} glnn_context_options;

void glnn_context_options_init(glnn_context_options *options);
glnn_status glnn_context_create(const glnn_context_options *options, glnn_context **out, glnn_error *err);
void glnn_context_free(glnn_context *ctx);
bool glnn_context_is_gpu(const glnn_context *ctx);
/* Short device description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)", "cpu (avx512, 2 threads)" or
 * "cpu reference". */
const char *glnn_context_device_name(const glnn_context *ctx);
/* The path ops run on: "compute", "fragment", "cpu" or "reference". */
const char *glnn_context_path(const glnn_context *ctx);
/* Multi-line report: device, driver, GL and GLSL versions, every limit glnn relies on.  Writes at most
 * `size` bytes including the terminator; returns the full length. */
size_t glnn_context_describe(const glnn_context *ctx, char *buf, size_t size);
int glnn_context_max_sampled_channels(const glnn_context *ctx);
/* Draw passes and texels read so far by ops run on ctx, counted by the GPU fragment path (`glnn bench --path
 * fragment` reports them per run): GLNN_ERR_STATE on the other paths, which do not count them. */
glnn_status glnn_context_counters(const glnn_context *ctx, int64_t *passes, int64_t *texel_fetches, glnn_error *err);
glnn_status glnn_context_set_max_sampled_channels(glnn_context *ctx, int limit, glnn_error *err);
/* Lists the EGL devices, one line each "N: description", into buf (same contract as describe). */
glnn_status glnn_list_devices(char *buf, size_t size, size_t *length, glnn_error *err);

/* ---------------------------------------------------------------------------------------------------- */
/* Tensors, images and vectors                                                                          */

typedef struct glnn_tensor glnn_tensor;

typedef enum glnn_data_kind {
    GLNN_KIND_TENSOR = 1, /* H×W×C bytes, C a positive multiple of 4 */
    GLNN_KIND_IMAGE = 2,  /* H×W×3 bytes, RGB */
    GLNN_KIND_VECTOR = 3, /* N float32 (1×1×N) */
} glnn_data_kind;

typedef struct glnn_shape {
    glnn_data_kind kind;
    int64_t h, w, c;
} glnn_shape;

/* Creates a zero-filled tensor on ctx.  Images have c = 3; vectors h = w = 1. */
glnn_status glnn_tensor_create(glnn_context *ctx, glnn_shape shape, glnn_tensor **out, glnn_error *err);
void glnn_tensor_free(glnn_tensor *t);
glnn_shape glnn_tensor_shape(const glnn_tensor *t);
int64_t glnn_shape_count(glnn_shape shape); /* h·w·c */
/* `count` must equal h·w·c.  Float data is quantized with Q (SPEC §2.2) and must lie in [0, 1]: a value outside
 * [−1/510, 1 + 1/510], a NaN or ±∞ is an error naming its flat index (glnn_quantize_f32).  Vectors take float
 * data as is (a NaN is still an error) and bytes as q/255. */
glnn_status glnn_tensor_upload_u8(glnn_tensor *t, const uint8_t *data, int64_t count, glnn_error *err);
glnn_status glnn_tensor_upload_f32(glnn_tensor *t, const float *data, int64_t count, glnn_error *err);
glnn_status glnn_tensor_download_u8(const glnn_tensor *t, uint8_t *data, int64_t count, glnn_error *err);
glnn_status glnn_tensor_download_f32(const glnn_tensor *t, float *data, int64_t count, glnn_error *err);
/* Image from H×W×channels pixels, channels 1 (grey), 3 (RGB) or 4 (RGBA, alpha dropped). */
glnn_status glnn_image_create(glnn_context *ctx, const uint8_t *pixels, int64_t h, int64_t w, int channels,
                              glnn_tensor **out, glnn_error *err);

/* SPEC §2.2: Q(v) = floor(255·clamp(v, 0, 1) + 0.5), Q(NaN) = 0. */
uint8_t glnn_quantize(float v);
/* Quantizes `count` floats of user data with Q into bytes, as every float upload does (tensors, bound tensors,
 * float images in bindings): values must lie in [0, 1] (within half a step: [−1/510, 1 + 1/510]); anything else,
 * NaN and ±∞ included, is a GLNN_ERR_ARGUMENT naming the flat index and the value of the first one and saying how
 * to fix it (8-bit data divided by 255, or passed as bytes).  `out` is untouched on error. */
glnn_status glnn_quantize_f32(const float *data, uint8_t *out, int64_t count, glnn_error *err);

/* ---------------------------------------------------------------------------------------------------- */
/* Chunk collections (SPEC §9)                                                                          */

typedef struct glnn_chunks glnn_chunks;

glnn_status glnn_chunks_create(glnn_chunks **out, glnn_error *err);
glnn_status glnn_chunks_read_file(const char *path, glnn_chunks **out, glnn_error *err);
glnn_status glnn_chunks_read_memory(const void *data, size_t size, glnn_chunks **out, glnn_error *err);
/* Records in byte-wise ascending id order; a failed write leaves an existing file intact. */
glnn_status glnn_chunks_write_file(const glnn_chunks *chunks, const char *path, glnn_error *err);
void glnn_chunks_free(glnn_chunks *chunks);
/* Ids are byte strings of at most 255 bytes; the empty id is valid.  Setting an id replaces it. */
glnn_status glnn_chunks_set(glnn_chunks *chunks, const char *id, size_t id_len, const void *data, size_t size,
                            glnn_error *err);
/* Returns true and the payload when the id is present (an empty chunk has size 0), false when absent. */
bool glnn_chunks_get(const glnn_chunks *chunks, const char *id, size_t id_len, const void **data, size_t *size);
bool glnn_chunks_remove(glnn_chunks *chunks, const char *id, size_t id_len);
size_t glnn_chunks_count(const glnn_chunks *chunks);
/* The i-th id in ascending byte-wise order. */
void glnn_chunks_id_at(const glnn_chunks *chunks, size_t i, const char **id, size_t *id_len);
/* Class names of the chunk `labels` (SPEC §9): one per line, a final LF adds no name, a CR before an LF is dropped.
 * The count is 0 without such a chunk.  label_at points into the chunk (no terminator); false past the last. */
size_t glnn_chunks_label_count(const glnn_chunks *chunks);
bool glnn_chunks_label_at(const glnn_chunks *chunks, size_t index, const char **name, size_t *length);

/* ---------------------------------------------------------------------------------------------------- */
/* Operations                                                                                           */

typedef struct glnn_op glnn_op;

/* Every operation glnn knows, in the order of their kind values: X(KIND, listing type, class name).  This
 * list is the one place that names the operations: the kind enumeration below, listing reading and
 * writing, the command-line tool and the Python classes are all derived from it and from each op's
 * description (glnn_op_info_at). */
#define GLNN_OPS(X)                                                                                                    \
    X(CONV2D, conv2d, Conv2D)                                                                                          \
    X(POOLING2D, pooling2d, Pooling2D)                                                                                 \
    X(DENSE, dense, Dense)                                                                                             \
    X(SOFTMAX, softmax, Softmax)                                                                                       \
    X(IMAGE_SAMPLER, image_sampler, ImageSampler)                                                                      \
    X(UPSAMPLING2D, upsampling2d, Upsampling2D)

#define GLNN_OP_KIND_ENTRY_(KIND, type, Class) GLNN_OP_##KIND,
typedef enum glnn_op_kind {
    GLNN_OP_NONE = 0,
    GLNN_OPS(GLNN_OP_KIND_ENTRY_) /* GLNN_OP_CONV2D = 1, GLNN_OP_POOLING2D, ... */
    GLNN_OP_KIND_COUNT            /* one past the last kind */
} glnn_op_kind;

typedef enum glnn_padding { GLNN_PADDING_VALID = 0, GLNN_PADDING_SAME = 1 } glnn_padding;
typedef enum glnn_activation {
    GLNN_ACTIVATION_DEFAULT = 0,
    GLNN_ACTIVATION_BRELU6 = 1,
    GLNN_ACTIVATION_SIGMOID_LIKE = 2,
} glnn_activation;
typedef enum glnn_pooling_operator { GLNN_POOLING_MAX = 0, GLNN_POOLING_AVERAGE = 1 } glnn_pooling_operator;
typedef enum glnn_interpolation { GLNN_INTERPOLATION_NEAREST = 0, GLNN_INTERPOLATION_BILINEAR = 1 } glnn_interpolation;

/* Enumeration words, case-insensitive on input, lowercase on output ("valid", "sigmoid_like", ...). */
glnn_status glnn_padding_parse(const char *text, glnn_padding *out, glnn_error *err);
glnn_status glnn_activation_parse(const char *text, glnn_activation *out, glnn_error *err);
glnn_status glnn_pooling_operator_parse(const char *text, glnn_pooling_operator *out, glnn_error *err);
glnn_status glnn_interpolation_parse(const char *text, glnn_interpolation *out, glnn_error *err);
const char *glnn_padding_name(glnn_padding p);
const char *glnn_activation_name(glnn_activation a);
const char *glnn_pooling_operator_name(glnn_pooling_operator o);
const char *glnn_interpolation_name(glnn_interpolation i);

/* ---- Operation descriptions: what each op is, its parameters with their one listing key, type, default and
 * documentation.  Bindings and tools build on these instead of repeating them. */

typedef enum glnn_param_type { GLNN_PARAM_INT = 1, GLNN_PARAM_BOOL, GLNN_PARAM_ENUM } glnn_param_type;

typedef struct glnn_enum_info {
    const char *name;         /* Python class name: "Padding", "ActivationFunction", "Pooling2D.Operator", ... */
    const char *what;         /* in messages: "padding", "activation function", "pooling operator", ... */
    const char *const *words; /* lowercase words by value (0, 1, ...), NULL-terminated: "valid", "same" */
    const char *doc;
} glnn_enum_info;

typedef struct glnn_param_info {
    const char *name;                  /* C field and Python keyword: "num_input_channels" */
    const char *key;                   /* listing key: "input_channels" */
    glnn_param_type type;              /* ints and enumeration values are C ints, booleans 0 / 1 */
    const glnn_enum_info *enumeration; /* GLNN_PARAM_ENUM */
    bool required;                     /* in constructors and listings */
    int default_value;                 /* when not required */
    int listing_default;               /* when a listing omits the key (usually default_value) */
    const char *group;                 /* non-NULL: consecutive parameters given together as one tuple of this name
                                        * in Python, e.g. ImageSampler's size = (output_width, output_height) */
    const char *doc;
} glnn_param_info;

typedef struct glnn_op_info {
    glnn_op_kind kind;
    const char *type_name;  /* listing _type: "conv2d" */
    const char *class_name; /* "Conv2D" (messages, Python) */
    int input_count, output_count;
    int n_params; /* the name is not counted */
    const glnn_param_info *params;
    int repr_positional; /* how many leading parameters a Python repr gives without their keyword */
    const char *summary; /* one-line description, parameters in braces: "{kernel_size}x{kernel_size} s{stride}" */
    const char *doc;
} glnn_op_info;

/* The descriptions in kind order (index 0 is GLNN_OP_CONV2D); NULL past the last. */
const glnn_op_info *glnn_op_info_at(int index);
/* By listing type ("conv2d"); NULL when unknown. */
const glnn_op_info *glnn_op_info_find(const char *type_name);
const glnn_op_info *glnn_op_get_info(const glnn_op *op);
/* Creates an op of any kind: values[i] is the value of info->params[i] (n_values = info->n_params).  The same
 * validation, in the same order and with the same messages, as the op's own create function. */
glnn_status glnn_op_create(const char *type_name, const char *name, const int *values, int n_values, glnn_op **out,
                           glnn_error *err);
/* The value of parameter `index` as given at creation. */
glnn_status glnn_op_get_param(const glnn_op *op, int index, int *value, glnn_error *err);
/* Rule V1 on an operation name; `what` prefixes the message ("Conv2D"). */
glnn_status glnn_op_check_name(const char *what, const char *name, glnn_error *err);
/* The op's summary (glnn_op_info.summary with its values), as snprintf: returns the full length. */
size_t glnn_op_describe(const glnn_op *op, char *buf, size_t size);
/* An enumeration word (any case) to its value; the message names e->what. */
glnn_status glnn_enum_parse(const glnn_enum_info *e, const char *text, int *out, glnn_error *err);

/* Ops are reference counted: create gives one reference; a model holds its own. */
void glnn_op_retain(glnn_op *op);
void glnn_op_release(glnn_op *op);
glnn_op_kind glnn_op_get_kind(const glnn_op *op);
const char *glnn_op_type_name(const glnn_op *op); /* listing _type: "conv2d", ... */
const char *glnn_op_name(const glnn_op *op);
int glnn_op_input_count(const glnn_op *op);
int glnn_op_output_count(const glnn_op *op);
/* Counters need the output size: an error until the op has been prepared (SPEC §4.8). */
glnn_status glnn_op_count_multiply_adds(const glnn_op *op, int64_t *out, glnn_error *err);
glnn_status glnn_op_count_texel_fetches(const glnn_op *op, int64_t *out, glnn_error *err);
/* Output shape once prepared. */
glnn_status glnn_op_output_shape(const glnn_op *op, int output, glnn_shape *out, glnn_error *err);

/* Conv2D (SPEC §4) */
#define GLNN_FILTERS_CHUNK_SUFFIX "/w"
#define GLNN_BIAS_CHUNK_SUFFIX "/b"

typedef struct glnn_conv2d_params {
    const char *name;
    int kernel_size;
    int num_input_channels;
    int num_output_channels;
    int stride;                 /* default 1 */
    glnn_padding padding;       /* default VALID */
    bool use_bias;              /* default true */
    int num_groups;             /* default 1 */
    glnn_activation activation; /* default DEFAULT */
} glnn_conv2d_params;

/* Sets the defaults; name, kernel size and channel counts are left 0 / NULL. */
void glnn_conv2d_params_init(glnn_conv2d_params *p);
/* Validates V1–V13 in order; the first failing rule is reported. */
glnn_status glnn_conv2d_create(const glnn_conv2d_params *p, glnn_op **out, glnn_error *err);
/* Parameters read back unchanged; p->name points into the op. */
glnn_status glnn_conv2d_get_params(const glnn_op *op, glnn_conv2d_params *p, glnn_error *err);
/* SPEC §4.10: 3k² (image input), 4k² (depthwise), k²·Cg otherwise. */
int64_t glnn_conv2d_sampled_channels(const glnn_op *op);

/* Pooling2D (SPEC §5.1) */
typedef struct glnn_pooling2d_params {
    const char *name;
    glnn_pooling_operator op;
    int size;
    int stride; /* default 0 = size */
    glnn_padding padding;
} glnn_pooling2d_params;
void glnn_pooling2d_params_init(glnn_pooling2d_params *p);
glnn_status glnn_pooling2d_create(const glnn_pooling2d_params *p, glnn_op **out, glnn_error *err);
glnn_status glnn_pooling2d_get_params(const glnn_op *op, glnn_pooling2d_params *p, glnn_error *err);

/* Dense (SPEC §5.2) */
typedef struct glnn_dense_params {
    const char *name;
    int num_output_dims;
    bool use_bias; /* default true */
} glnn_dense_params;
void glnn_dense_params_init(glnn_dense_params *p);
glnn_status glnn_dense_create(const glnn_dense_params *p, glnn_op **out, glnn_error *err);
glnn_status glnn_dense_get_params(const glnn_op *op, glnn_dense_params *p, glnn_error *err);

/* Softmax (SPEC §5.3) */
glnn_status glnn_softmax_create(const char *name, glnn_op **out, glnn_error *err);

/* ImageSampler (SPEC §5.4) */
typedef struct glnn_image_sampler_params {
    const char *name;
    int output_width, output_height;
    bool center_crop;   /* default true */
    bool linear_interp; /* default true */
    int rotation;       /* quarter turns clockwise, 0..3, default 0 */
} glnn_image_sampler_params;
void glnn_image_sampler_params_init(glnn_image_sampler_params *p);
glnn_status glnn_image_sampler_create(const glnn_image_sampler_params *p, glnn_op **out, glnn_error *err);
glnn_status glnn_image_sampler_get_params(const glnn_op *op, glnn_image_sampler_params *p, glnn_error *err);
glnn_status glnn_image_sampler_set_rotation(glnn_op *op, int rotation, glnn_error *err);

/* Upsampling2D (SPEC §5.5, a glnn extension) */
typedef struct glnn_upsampling2d_params {
    const char *name;
    int factor;                       /* 2 … 16, default 2 */
    glnn_interpolation interpolation; /* default NEAREST */
} glnn_upsampling2d_params;
void glnn_upsampling2d_params_init(glnn_upsampling2d_params *p);
glnn_status glnn_upsampling2d_create(const glnn_upsampling2d_params *p, glnn_op **out, glnn_error *err);
glnn_status glnn_upsampling2d_get_params(const glnn_op *op, glnn_upsampling2d_params *p, glnn_error *err);

/* Runs one op on its own: inputs[i] may be NULL for an unconnected input (n_inputs ≤ input_count).
 * Weights come from `data` (chunks <name>/w, <name>/b), which may be NULL for ops without weights.
 * The op is prepared for these input shapes (all checks of SPEC §4.3 P1–P11 / §5), then run.
 * *output is created on ctx when NULL, else must have the output shape.  Softmax has no output:
 * use glnn_op_get_probabilities(). */
glnn_status glnn_op_run(glnn_context *ctx, glnn_op *op, const glnn_chunks *data, glnn_tensor *const *inputs,
                        int n_inputs, glnn_tensor **output, glnn_error *err);
glnn_status glnn_op_get_probabilities(const glnn_op *op, float *out, int64_t count, glnn_error *err);

/* Convenience: stores float arrays as the chunks `<name>/w` and `<name>/b` (bias may be NULL). */
glnn_status glnn_chunks_set_weights(glnn_chunks *chunks, const char *op_name, const float *weights, int64_t n_weights,
                                    const float *bias, int64_t n_bias, glnn_error *err);

/* ---------------------------------------------------------------------------------------------------- */
/* Models (SPEC §7, §8)                                                                                 */

typedef struct glnn_model glnn_model;

glnn_status glnn_model_create(glnn_model **out, glnn_error *err);
void glnn_model_free(glnn_model *m);
/* The model takes its own reference to op. */
glnn_status glnn_model_append(glnn_model *m, glnn_op *op, bool connect, glnn_error *err);
glnn_status glnn_model_add_operation(glnn_model *m, const char *before, glnn_op *op, glnn_error *err);
glnn_status glnn_model_add_connection(glnn_model *m, const char *source, const char *dest, int output, int input,
                                      int shuffle, glnn_error *err);
glnn_status glnn_model_add_output(glnn_model *m, const char *op, int output, glnn_error *err);
int glnn_model_op_count(const glnn_model *m);
glnn_op *glnn_model_op_at(const glnn_model *m, int index);
glnn_op *glnn_model_find(const glnn_model *m, const char *name);
/* Binds user data to an op input that has no connection: an image (1, 3 or 4 channels of bytes) or a tensor as bytes
 * or as floats, which must lie in [0, 1] (SPEC §2.2, glnn_quantize_f32).  The data are copied. */
glnn_status glnn_model_bind_image(glnn_model *m, const char *op, int input, const uint8_t *pixels, int64_t h, int64_t w,
                                  int channels, glnn_error *err);
glnn_status glnn_model_bind_tensor_u8(glnn_model *m, const char *op, int input, const uint8_t *data, int64_t h,
                                      int64_t w, int64_t c, glnn_error *err);
glnn_status glnn_model_bind_tensor_f32(glnn_model *m, const char *op, int input, const float *data, int64_t h,
                                       int64_t w, int64_t c, glnn_error *err);
/* Checks the whole graph, computes shapes, reads weights from data, creates device resources. */
glnn_status glnn_model_prepare(glnn_model *m, glnn_context *ctx, const glnn_chunks *data, glnn_error *err);
/* Prepares when needed, then runs every op once in execution order. */
glnn_status glnn_model_run(glnn_model *m, glnn_context *ctx, const glnn_chunks *data, glnn_error *err);
glnn_status glnn_model_output_shape(const glnn_model *m, const char *op, int output, glnn_shape *out, glnn_error *err);
glnn_status glnn_model_get_output_u8(const glnn_model *m, const char *op, int output, uint8_t *data, int64_t count,
                                     glnn_error *err);
glnn_status glnn_model_get_output_f32(const glnn_model *m, const char *op, int output, float *data, int64_t count,
                                      glnn_error *err);
/* Probabilities of the Softmax op `op` (NULL: the last Softmax of the model). */
glnn_status glnn_model_get_probabilities(const glnn_model *m, const char *op, float *out, int64_t count,
                                         glnn_error *err);
/* Number of probabilities of that Softmax (NULL: the last), once prepared. */
glnn_status glnn_model_probabilities_size(const glnn_model *m, const char *op, int64_t *count, glnn_error *err);
glnn_status glnn_model_count_multiply_adds(const glnn_model *m, int64_t *out, glnn_error *err);
glnn_status glnn_model_count_texel_fetches(const glnn_model *m, int64_t *out, glnn_error *err);
/* Bytes of device memory held by the prepared model's tensors and weights. */
glnn_status glnn_model_memory_size(const glnn_model *m, int64_t *out, glnn_error *err);
/* Milliseconds the op at `index` took in the last run. */
glnn_status glnn_model_op_time(const glnn_model *m, int index, double *ms, glnn_error *err);
/* GPU milliseconds of the op at `index` in the last run, from timer queries (EXT_disjoint_timer_query);
 * GLNN_ERR_DEVICE on a CPU context, a driver without timer queries or a disjoint measurement. */
glnn_status glnn_model_op_gpu_time(const glnn_model *m, int index, double *ms, glnn_error *err);
/* The connections, in the order they were added. */
typedef struct glnn_connection_info {
    const char *source, *dest; /* op names, valid while the model holds these ops */
    int output, input;         /* output of source, input of dest */
    int shuffle;               /* SPEC §6; 0 and 1 mean none */
} glnn_connection_info;
int glnn_model_connection_count(const glnn_model *m);
glnn_status glnn_model_connection_at(const glnn_model *m, int index, glnn_connection_info *out, glnn_error *err);
/* What the prepared model knows of the op at `index`, and its times in the last run (a per-op profile). */
typedef struct glnn_op_stats {
    glnn_shape output; /* output #0; kind 0 for an op without outputs (Softmax) */
    int64_t multiply_adds, texel_fetches;
    int64_t weights; /* float32 values read from the model data: filters or matrix, and the bias when used */
    double ms;       /* last run: milliseconds from the op's start until the device finished it; -1 before */
    double gpu_ms;   /* last run: GPU milliseconds from timer queries; -1 where none was measured */
} glnn_op_stats;
/* GLNN_ERR_STATE until the model is prepared. */
glnn_status glnn_model_op_stats(const glnn_model *m, int index, glnn_op_stats *out, glnn_error *err);
/* The op table (index, name, type, parameters, inputs with their shuffle steps, output shape, multiply-adds,
 * weights) and a line of totals (connections, counters, weights, memory), as `glnn model` prints it; shapes and
 * counts only once prepared.  Writes at most `size` bytes including the terminator; returns the full length. */
size_t glnn_model_summary(const glnn_model *m, char *buf, size_t size);
/* Listing text (SPEC §8.4), NUL-terminated, freed with glnn_free(). */
glnn_status glnn_model_serialize(const glnn_model *m, char **text, size_t *length, glnn_error *err);
glnn_status glnn_model_deserialize(const char *text, size_t length, glnn_model **out, glnn_error *err);
/* Reads the listing from the empty-id chunk of `chunks`. */
glnn_status glnn_model_from_chunks(const glnn_chunks *chunks, glnn_model **out, glnn_error *err);

/* ---------------------------------------------------------------------------------------------------- */
/* Images from files: PNG, JPEG, BMP (24/32-bit).  Returns H×W×3 RGB, freed with glnn_free().           */

glnn_status glnn_image_load(const char *path, uint8_t **pixels, int64_t *h, int64_t *w, glnn_error *err);
glnn_status glnn_image_decode(const void *data, size_t size, uint8_t **pixels, int64_t *h, int64_t *w, glnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
