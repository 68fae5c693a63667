/* glnn Python module: Model, DeserializedModel (SPEC §7, §8) and InferenceTask (binding inputs and
 * running a model on a device). */
#include "glnnpy.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    glnn_model *model;
    /* The last preparation made through an InferenceTask (written under the library lock): the
     * context and the version of the data.  A run with another context, other data or changed data
     * prepares the model again. */
    int prep_valid;
    glnn_context *prep_ctx;
    unsigned long long prep_version;
} ModelObject;

/* ---------------------------------------------------------------------------------------------------- */
/* Operation arguments                                                                                  */

/* The name (new bytes object) of an op given by name or as an op object.  An op object must be the
 * model's op of that name when it is in the model (the library then looks names up). */
static PyObject *op_ref(ModelObject *self, PyObject *obj, const char *what) {
    if (PyUnicode_Check(obj)) {
        PyObject *b = PyUnicode_AsEncodedString(obj, "utf-8", "surrogateescape");
        if (b && memchr(PyBytes_AS_STRING(b), '\0', (size_t)PyBytes_GET_SIZE(b))) {
            Py_DECREF(b);
            return glnnpy_argument_error("%s: operation %R not found", what, obj);
        }
        return b;
    }
    if (glnnpy_is_op(obj)) {
        glnn_op *op = ((glnnpy_OpObject *)obj)->op;
        const char *name = glnn_op_name(op);
        glnnpy_lock();
        glnn_op *found = glnn_model_find(self->model, name);
        glnnpy_unlock();
        if (found && found != op)
            return glnnpy_argument_error("%s: %R is not in the model (another operation there has its name)", what,
                                         obj);
        return PyBytes_FromString(name);
    }
    PyErr_Format(PyExc_TypeError, "%s: expected an operation or its name, not %.100s", what, Py_TYPE(obj)->tp_name);
    return NULL;
}

static int check_op_object(PyObject *obj, const char *what) {
    if (glnnpy_is_op(obj)) return 0;
    PyErr_Format(PyExc_TypeError, "%s: expected an operation (glnn.nnets.Conv2D, ...), not %.100s", what,
                 Py_TYPE(obj)->tp_name);
    return -1;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Model                                                                                                */

/* A model object (allocated first, so that its dealloc frees whatever the library makes), or NULL. */
static ModelObject *model_alloc(PyTypeObject *type) {
    return (ModelObject *)type->tp_alloc(type, 0);
}

/* The object when the library made its model, else NULL with the library's error (the object is freed). */
static PyObject *model_made(ModelObject *self, glnn_status s, const glnn_error *err) {
    if (s == GLNN_OK) return (PyObject *)self;
    Py_DECREF(self);
    return glnnpy_raise(err);
}

PyDoc_STRVAR(model_type_doc,
             "Model()\n"
             "--\n"
             "\n"
             "A neural network (SPEC §7): ops in execution order (the order they are added; never reordered),\n"
             "connections between their outputs and inputs, and registered outputs.  Ops may be given by\n"
             "object or by name.  Run it with an InferenceTask; len(model), iteration, `name in model` and\n"
             "model[name or index] give access to the ops.");

static PyObject *model_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":Model", kwlist)) return NULL;
    ModelObject *self = model_alloc(type);
    glnn_error err;
    return self ? model_made(self, glnn_model_create(&self->model, &err), &err) : NULL;
}

static void model_dealloc(ModelObject *self) {
    if (self->model) {
        glnnpy_lock();
        glnn_model_free(self->model);
        self->model = NULL;
        glnnpy_unlock();
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *status_result(glnn_status s, const glnn_error *err) {
    if (s != GLNN_OK) return glnnpy_raise(err);
    Py_RETURN_NONE;
}

static PyObject *model_append(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"op", "connect", NULL};
    PyObject *op;
    int connect = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:append", kwlist, &op, &connect)) return NULL;
    if (check_op_object(op, "append") < 0) return NULL;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_append(self->model, ((glnnpy_OpObject *)op)->op, connect != 0, &err);
    glnnpy_unlock();
    return status_result(s, &err);
}

static PyObject *model_add_operation(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"before_op_name", "op", NULL};
    PyObject *before, *op;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:add_operation", kwlist, &before, &op)) return NULL;
    if (check_op_object(op, "add_operation") < 0) return NULL;
    PyObject *name = op_ref(self, before, "add_operation");
    if (!name) return NULL;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_add_operation(self->model, PyBytes_AS_STRING(name), ((glnnpy_OpObject *)op)->op, &err);
    glnnpy_unlock();
    Py_DECREF(name);
    return status_result(s, &err);
}

static PyObject *model_add_connection(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"source", "dest", "output", "input", "shuffle", NULL};
    PyObject *source, *dest;
    int output = 0, input = 0, shuffle = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|iii:add_connection", kwlist, &source, &dest, &output, &input,
                                     &shuffle))
        return NULL;
    PyObject *src = op_ref(self, source, "add_connection");
    if (!src) return NULL;
    PyObject *dst = op_ref(self, dest, "add_connection");
    if (!dst) {
        Py_DECREF(src);
        return NULL;
    }
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_add_connection(self->model, PyBytes_AS_STRING(src), PyBytes_AS_STRING(dst), output,
                                              input, shuffle, &err);
    glnnpy_unlock();
    Py_DECREF(src);
    Py_DECREF(dst);
    return status_result(s, &err);
}

/* The arguments (op, output=0) of a method; `format` ends with its name ("O|i:add_output").  The op's name (new
 * bytes), or NULL. */
static PyObject *op_and_output(ModelObject *self, PyObject *args, PyObject *kw, const char *format, int *output) {
    static char *kwlist[] = {"op", "output", NULL};
    PyObject *op;
    *output = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, format, kwlist, &op, output)) return NULL;
    return op_ref(self, op, strchr(format, ':') + 1);
}

static PyObject *model_add_output(ModelObject *self, PyObject *args, PyObject *kw) {
    int output;
    PyObject *name = op_and_output(self, args, kw, "O|i:add_output", &output);
    if (!name) return NULL;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_add_output(self->model, PyBytes_AS_STRING(name), output, &err);
    glnnpy_unlock();
    Py_DECREF(name);
    return status_result(s, &err);
}

static PyObject *model_get_output_data(ModelObject *self, PyObject *args, PyObject *kw) {
    int output;
    PyObject *name = op_and_output(self, args, kw, "O|i:get_output_data", &output);
    if (!name) return NULL;
    const char *n = PyBytes_AS_STRING(name);
    glnn_error err;
    glnn_shape shape;
    float probe;
    glnnpy_lock();
    /* The reading rules first (op known, output registered, model run): with an impossible count, the
     * read fails on the count only when those hold. */
    glnn_status s = glnn_model_get_output_f32(self->model, n, output, &probe, -1, &err);
    if (s == GLNN_ERR_NOT_FOUND || s == GLNN_ERR_STATE)
        ;
    else
        s = glnn_model_output_shape(self->model, n, output, &shape, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) {
        Py_DECREF(name);
        return glnnpy_raise(&err);
    }
    npy_intp dims[3] = {(npy_intp)shape.h, (npy_intp)shape.w, (npy_intp)shape.c};
    PyArrayObject *a = shape.kind == GLNN_KIND_VECTOR ? (PyArrayObject *)PyArray_SimpleNew(1, dims + 2, NPY_FLOAT32)
                                                      : (PyArrayObject *)PyArray_SimpleNew(3, dims, NPY_FLOAT32);
    if (!a) {
        Py_DECREF(name);
        return NULL;
    }
    glnnpy_lock();
    s = glnn_model_get_output_f32(self->model, n, output, PyArray_DATA(a), (int64_t)PyArray_SIZE(a), &err);
    glnnpy_unlock();
    Py_DECREF(name);
    if (s != GLNN_OK) {
        Py_DECREF(a);
        return glnnpy_raise(&err);
    }
    return (PyObject *)a;
}

static PyObject *model_get_probabilities(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"op", NULL};
    PyObject *op = Py_None, *name = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:get_probabilities", kwlist, &op)) return NULL;
    if (op != Py_None && !(name = op_ref(self, op, "get_probabilities"))) return NULL;
    const char *n = name ? PyBytes_AS_STRING(name) : NULL;
    glnn_error err;
    int64_t count = 0;
    float probe;
    glnnpy_lock();
    glnn_status s = glnn_model_probabilities_size(self->model, n, &count, &err);
    /* Before a run, the reading error says so. */
    if (s != GLNN_OK && glnn_model_get_probabilities(self->model, n, &probe, 0, &err) == GLNN_OK) s = GLNN_OK;
    glnnpy_unlock();
    PyArrayObject *a = NULL;
    if (s != GLNN_OK) {
        glnnpy_raise(&err);
    } else {
        npy_intp dims[1] = {(npy_intp)count};
        a = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_FLOAT32);
        if (a) {
            glnnpy_lock();
            s = glnn_model_get_probabilities(self->model, n, PyArray_DATA(a), count, &err);
            glnnpy_unlock();
            if (s != GLNN_OK) {
                Py_CLEAR(a);
                glnnpy_raise(&err);
            }
        }
    }
    Py_XDECREF(name);
    return (PyObject *)a;
}

static PyObject *model_serialize(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    char *text = NULL;
    size_t length = 0;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_serialize(self->model, &text, &length, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) return glnnpy_raise(&err);
    PyObject *r = PyUnicode_DecodeUTF8(text, (Py_ssize_t)length, "surrogateescape");
    glnn_free(text);
    return r;
}

static PyObject *model_count(ModelObject *self, glnnpy_counter which) {
    return glnnpy_count(self->model, NULL, which);
}

GLNNPY_COUNTER_METHODS(model, ModelObject, model_count,
                       "of one run, summed over the ops (SPEC §4.8, §5); available once the model is prepared "
                       "(after a run or InferenceTask.prepare()).")

static PyObject *model_memory_size(ModelObject *self, void *closure) {
    (void)closure;
    return model_count(self, GLNNPY_MEMORY_SIZE);
}

/* The op at `index` (negative counts from the end), or NULL with IndexError. */
static PyObject *model_op_at(ModelObject *self, Py_ssize_t index) {
    glnnpy_lock();
    int n = glnn_model_op_count(self->model);
    if (index < 0) index += n;
    glnn_op *op = index >= 0 && index < n ? glnn_model_op_at(self->model, (int)index) : NULL;
    if (op) glnn_op_retain(op);
    glnnpy_unlock();
    if (!op) {
        PyErr_SetString(PyExc_IndexError, n ? "operation index out of range" : "the model has no operations");
        return NULL;
    }
    return glnnpy_op_take(op);
}

/* The op named `name`: a new object, or NULL and *absent = 1 (no exception) when not found. */
static PyObject *model_find(ModelObject *self, PyObject *key, int *absent) {
    *absent = 0;
    PyObject *name = op_ref(self, key, "get_operation");
    if (!name) return NULL;
    glnnpy_lock();
    glnn_op *op = glnn_model_find(self->model, PyBytes_AS_STRING(name));
    if (op) glnn_op_retain(op);
    glnnpy_unlock();
    Py_DECREF(name);
    if (!op) {
        *absent = 1;
        return NULL;
    }
    return glnnpy_op_take(op);
}

static PyObject *model_get_operation(ModelObject *self, PyObject *key) {
    int absent;
    PyObject *op = model_find(self, key, &absent);
    if (absent) glnnpy_argument_error("get_operation: operation %R not found", key);
    return op;
}

GLNNPY_NOARGS_METHOD(model_get_first_operation, ModelObject, model_op_at, 0)
GLNNPY_NOARGS_METHOD(model_get_last_operation, ModelObject, model_op_at, -1)

static Py_ssize_t model_length(ModelObject *self) {
    glnnpy_lock();
    int n = glnn_model_op_count(self->model);
    glnnpy_unlock();
    return n;
}

static PyObject *model_subscript(ModelObject *self, PyObject *key) {
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred()) return NULL;
        return model_op_at(self, i);
    }
    int absent;
    PyObject *op = model_find(self, key, &absent);
    if (absent) PyErr_SetObject(PyExc_KeyError, key);
    return op;
}

static int model_contains(ModelObject *self, PyObject *key) {
    if (!PyUnicode_Check(key) && !glnnpy_is_op(key)) return 0;
    int absent;
    PyObject *op = model_find(self, key, &absent);
    if (!op) {
        if (absent) return 0;
        if (PyErr_ExceptionMatches(glnnpy_ArgumentError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    int same = !glnnpy_is_op(key) || ((glnnpy_OpObject *)op)->op == ((glnnpy_OpObject *)key)->op;
    Py_DECREF(op);
    return same;
}

static PyObject *model_operations(ModelObject *self) {
    glnnpy_lock();
    int n = glnn_model_op_count(self->model);
    glnn_op **ops = malloc(sizeof *ops * (size_t)(n > 0 ? n : 1));
    for (int i = 0; ops && i < n; i++) {
        ops[i] = glnn_model_op_at(self->model, i);
        glnn_op_retain(ops[i]);
    }
    glnnpy_unlock();
    if (!ops) return PyErr_NoMemory();
    PyObject *list = PyList_New(n);
    for (int i = 0; i < n; i++) {
        PyObject *item = list ? glnnpy_op_take(ops[i]) : NULL;
        if (!item) {
            if (list) Py_CLEAR(list);
            for (int j = i + (list ? 1 : 0); j < n; j++) {
                glnnpy_lock();
                glnn_op_release(ops[j]);
                glnnpy_unlock();
            }
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    free(ops);
    return list;
}

static PyObject *model_iter(ModelObject *self) {
    PyObject *list = model_operations(self);
    if (!list) return NULL;
    PyObject *it = PyObject_GetIter(list);
    Py_DECREF(list);
    return it;
}

static PyObject *model_get_operations(ModelObject *self, void *closure) {
    (void)closure;
    return model_operations(self);
}

/* The op table of glnn_model_summary (as `glnn model` prints it), without its last newline. */
static PyObject *model_repr(ModelObject *self) {
    glnnpy_lock();
    size_t n = glnn_model_summary(self->model, NULL, 0);
    char *text = malloc(n + 1);
    if (text) glnn_model_summary(self->model, text, n + 1);
    glnnpy_unlock();
    if (!text) return PyErr_NoMemory();
    PyObject *r = PyUnicode_DecodeUTF8(text, (Py_ssize_t)(n > 0 && text[n - 1] == '\n' ? n - 1 : n), "replace");
    free(text);
    return r;
}

/* summary(file=None): prints the op table to file (sys.stdout when None). */
static PyObject *model_summary(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"file", NULL};
    PyObject *file = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:summary", kwlist, &file)) return NULL;
    if (file == Py_None && !(file = PySys_GetObject("stdout"))) {
        PyErr_SetString(PyExc_RuntimeError, "summary: no sys.stdout");
        return NULL;
    }
    PyObject *text = model_repr(self);
    int failed = !text || PyFile_WriteObject(text, file, Py_PRINT_RAW) < 0 || PyFile_WriteString("\n", file) < 0;
    Py_XDECREF(text);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

/* ---- what glnn.InferenceTask (python/glnn/_task.py) asks of a model: binding data, preparing and running on a
 * device, the figures of the last run ---- */

/* Opens the context of dev for the calling thread (contexts are kept); its description into buf. */
static int open_device(const glnnpy_device *dev, char *description, size_t size) {
    glnn_error err;
    glnn_status s;
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    glnn_context *ctx = NULL;
    s = glnnpy_context_get(dev, &ctx, &err);
    if (s == GLNN_OK) snprintf(description, size, "%s", glnn_context_device_name(ctx));
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    if (s == GLNN_OK) return 0;
    glnnpy_raise(&err);
    return -1;
}

/* _open_device(device, max_sampled_channels): (the device's name, its description) once its context is open, so that
 * a device that does not exist is an error when a task is made, not when it first runs. */
static PyObject *open_device_function(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *device;
    int limit;
    glnnpy_device dev;
    char description[256] = "";
    if (!PyArg_ParseTuple(args, "Oi:InferenceTask", &device, &limit) ||
        glnnpy_device_from_object(device, limit, &dev) < 0 || open_device(&dev, description, sizeof description) < 0)
        return NULL;
    return Py_BuildValue("(ss)", dev.name, description);
}

/* Whether input #input of the op named n takes an image (input #0 of an ImageSampler or of an image Conv2D); -1 with
 * ArgumentError when the model has no such op. */
static int takes_image(ModelObject *self, const char *n, int input, PyObject *op) {
    glnnpy_lock();
    glnn_op *target = glnn_model_find(self->model, n);
    glnn_conv2d_params p;
    int image = target && input == 0 &&
                (glnn_op_get_kind(target) == GLNN_OP_IMAGE_SAMPLER ||
                 (glnn_conv2d_get_params(target, &p, NULL) == GLNN_OK && p.num_input_channels == 3));
    glnnpy_unlock();
    if (!target) glnnpy_argument_error("connect: operation %R not found in the model", op);
    return target ? image : -1;
}

/* _bind(image, op, input_index): binds user data to an op input (InferenceTask.connect). */
static PyObject *model_bind(ModelObject *self, PyObject *args) {
    PyObject *image, *op;
    int input = 0, is_float = 0;
    if (!PyArg_ParseTuple(args, "OOi:connect", &image, &op, &input)) return NULL;
    PyObject *name = op_ref(self, op, "connect");
    int image_input = name ? takes_image(self, PyBytes_AS_STRING(name), input, op) : -1;
    PyArrayObject *a = image_input < 0 ? NULL
                       : image_input   ? glnnpy_data_array(image, "connect: the image", 2, 3, &is_float)
                                       : glnnpy_data_array(image, "connect: the tensor", 3, 3, &is_float);
    if (a && image_input && is_float) { /* images are bytes: floats are quantized here, by the library's rule */
        PyArrayObject *q = glnnpy_quantize_array(a, "connect: the image");
        Py_DECREF(a);
        a = q;
        is_float = 0;
    }
    if (!a) {
        Py_XDECREF(name);
        return NULL;
    }
    const char *n = PyBytes_AS_STRING(name);
    npy_intp *d = PyArray_DIMS(a);
    int64_t h = d[0], w = d[1], c = PyArray_NDIM(a) == 3 ? d[2] : 1;
    glnn_error err;
    glnn_status s;
    glnnpy_lock();
    if (image_input)
        s = glnn_model_bind_image(self->model, n, input, PyArray_DATA(a), h, w, (int)(c > 1000 ? 1000 : c), &err);
    else if (is_float)
        s = glnn_model_bind_tensor_f32(self->model, n, input, PyArray_DATA(a), h, w, c, &err);
    else
        s = glnn_model_bind_tensor_u8(self->model, n, input, PyArray_DATA(a), h, w, c, &err);
    glnnpy_unlock();
    Py_DECREF(a);
    Py_DECREF(name);
    return status_result(s, &err);
}

/* Prepares the model on ctx when needed (always when not running): another context, other data or changed data
 * prepare it again.  Under the lock. */
static glnn_status prepare_for(ModelObject *mo, glnn_context *ctx, glnn_chunks *chunks, unsigned long long version,
                               int run, glnn_error *err) {
    if (run && mo->prep_valid && mo->prep_ctx == ctx && mo->prep_version == version) return GLNN_OK;
    mo->prep_valid = 0;
    glnn_status s = glnn_model_prepare(mo->model, ctx, chunks, err);
    if (s == GLNN_OK) {
        mo->prep_valid = 1;
        mo->prep_ctx = ctx;
        mo->prep_version = version;
    }
    return s;
}

/* _execute(data, device, max_sampled_channels, run): prepares (when needed) and, with run, runs the model on the
 * device, with the GIL released. */
static PyObject *model_execute(ModelObject *self, PyObject *args) {
    PyObject *data_obj, *device;
    int limit, run;
    glnnpy_device dev;
    if (!PyArg_ParseTuple(args, "OOip:_execute", &data_obj, &device, &limit, &run) ||
        glnnpy_device_from_object(device, limit, &dev) < 0)
        return NULL;
    if (data_obj != Py_None && !glnnpy_is_chunks(data_obj))
        return PyErr_Format(PyExc_TypeError, "_execute: data is not a chunk collection");
    glnnpy_ChunksObject *data = data_obj == Py_None ? NULL : (glnnpy_ChunksObject *)data_obj;
    glnn_status s = GLNN_OK;
    glnn_error err;
    int closed;
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    glnn_chunks *chunks = data ? data->chunks : NULL;
    glnn_context *ctx = NULL;
    closed = data && !chunks;
    if (!closed) s = glnnpy_context_get(&dev, &ctx, &err);
    if (!closed && s == GLNN_OK) s = prepare_for(self, ctx, chunks, data ? data->version : 0, run, &err);
    if (!closed && s == GLNN_OK && run) s = glnn_model_run(self->model, ctx, chunks, &err);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    if (closed) {
        glnnpy_chunks_get(data); /* raises "closed" */
        return NULL;
    }
    return status_result(s, &err);
}

/* _profile(): per op of the last run, (name, type, ms, gpu_ms, multiply_adds, texel_fetches, weights); ms is -1
 * before a run, gpu_ms where no timer query measured the op. */
static PyObject *model_profile(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    glnn_error err;
    glnn_status s = GLNN_OK;
    glnnpy_lock();
    int n = glnn_model_op_count(self->model);
    glnn_op_stats *st = calloc((size_t)(n > 0 ? n : 1), sizeof *st);
    glnn_op **ops = calloc((size_t)(n > 0 ? n : 1), sizeof *ops);
    for (int p = 0; st && ops && s == GLNN_OK && p < n; p++) {
        s = glnn_model_op_stats(self->model, p, &st[p], &err);
        ops[p] = glnn_model_op_at(self->model, p);
        glnn_op_retain(ops[p]); /* the names stay valid once the lock is released */
    }
    glnnpy_unlock();
    PyObject *list = !st || !ops ? PyErr_NoMemory() : s != GLNN_OK ? glnnpy_raise(&err) : PyList_New(n);
    for (int p = 0; list && p < n; p++) {
        PyObject *item =
            Py_BuildValue("(ssddLLL)", glnn_op_name(ops[p]), glnn_op_type_name(ops[p]), st[p].ms, st[p].gpu_ms,
                          (long long)st[p].multiply_adds, (long long)st[p].texel_fetches, (long long)st[p].weights);
        if (!item)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, p, item);
    }
    glnnpy_lock();
    for (int p = 0; ops && p < n; p++)
        glnn_op_release(ops[p]); /* NULL for the ops not reached */
    glnnpy_unlock();
    free(st);
    free(ops);
    return list;
}

PyDoc_STRVAR(model_append_doc,
             "append($self, /, op, connect=False)\n--\n\nAdds op at the end; with connect, also connects output #0 "
             "of the previous last op to input #0 of op.  The model keeps its own reference to op.");
PyDoc_STRVAR(model_add_operation_doc,
             "add_operation($self, /, before_op_name, op)\n--\n\nInserts op just before another op (given by name "
             "or object).");
PyDoc_STRVAR(model_add_connection_doc,
             "add_connection($self, /, source, dest, output=0, input=0, shuffle=0)\n--\n\nConnects output #output "
             "of source to input #input of dest (ops given by name or object), with an optional channel shuffle "
             "(SPEC §6).");
PyDoc_STRVAR(model_add_output_doc,
             "add_output($self, /, op, output=0)\n--\n\nKeeps an output readable after a run (repeats are ignored).");
PyDoc_STRVAR(model_get_output_data_doc,
             "get_output_data($self, /, op, output=0)\n--\n\n-> numpy.ndarray\n\nA registered output after a run, "
             "as float32 q/255: shape (H, W, C) for tensors and images, (N,) for Dense vectors (their float "
             "values).");
PyDoc_STRVAR(model_get_probabilities_doc,
             "get_probabilities($self, /, op=None)\n--\n\n-> numpy.ndarray\n\nThe float32 probabilities of a "
             "Softmax (default: the model's last Softmax) after a run.");
PyDoc_STRVAR(model_serialize_doc,
             "serialize($self, /)\n--\n\n-> str\n\nThe model listing (SPEC §8.4); DeserializedModel(text) rebuilds "
             "the same model.");
PyDoc_STRVAR(model_get_first_operation_doc,
             "get_first_operation($self, /)\n--\n\n-> Operation\n\nThe first op in execution order.");
PyDoc_STRVAR(model_get_last_operation_doc,
             "get_last_operation($self, /)\n--\n\n-> Operation\n\nThe last op in execution order.");
PyDoc_STRVAR(model_summary_doc,
             "summary($self, /, file=None)\n--\n\nPrints the op table to file (default sys.stdout), as `glnn "
             "model` does: each op's type, parameters, inputs (with shuffle steps), output shape, multiply-adds "
             "and weights, then the totals; shapes and counts once the model is prepared.  repr(model) is the same "
             "table.");
PyDoc_STRVAR(model_get_operation_doc,
             "get_operation($self, name, /)\n--\n\n-> Operation\n\nThe op of that name (model[name] and "
             "model[index] work too).");

static PyMethodDef model_methods[] = {
    {"_bind", (PyCFunction)model_bind, METH_VARARGS, NULL},
    {"_execute", (PyCFunction)model_execute, METH_VARARGS, NULL},
    {"_profile", (PyCFunction)model_profile, METH_NOARGS, NULL},
    {"append", (PyCFunction)(void (*)(void))model_append, METH_VARARGS | METH_KEYWORDS, model_append_doc},
    {"add_operation", (PyCFunction)(void (*)(void))model_add_operation, METH_VARARGS | METH_KEYWORDS,
     model_add_operation_doc},
    {"add_connection", (PyCFunction)(void (*)(void))model_add_connection, METH_VARARGS | METH_KEYWORDS,
     model_add_connection_doc},
    {"add_output", (PyCFunction)(void (*)(void))model_add_output, METH_VARARGS | METH_KEYWORDS, model_add_output_doc},
    {"get_output_data", (PyCFunction)(void (*)(void))model_get_output_data, METH_VARARGS | METH_KEYWORDS,
     model_get_output_data_doc},
    {"get_probabilities", (PyCFunction)(void (*)(void))model_get_probabilities, METH_VARARGS | METH_KEYWORDS,
     model_get_probabilities_doc},
    {"serialize", (PyCFunction)model_serialize, METH_NOARGS, model_serialize_doc},
    {"count_multiply_adds", (PyCFunction)model_count_multiply_adds, METH_NOARGS, model_count_multiply_adds_doc},
    {"count_texel_fetches", (PyCFunction)model_count_texel_fetches, METH_NOARGS, model_count_texel_fetches_doc},
    {"get_first_operation", (PyCFunction)model_get_first_operation, METH_NOARGS, model_get_first_operation_doc},
    {"get_last_operation", (PyCFunction)model_get_last_operation, METH_NOARGS, model_get_last_operation_doc},
    {"summary", (PyCFunction)(void (*)(void))model_summary, METH_VARARGS | METH_KEYWORDS, model_summary_doc},
    {"get_operation", (PyCFunction)model_get_operation, METH_O, model_get_operation_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(model_memory_size_doc,
             "Bytes of device memory held by the prepared model's tensors and weights (read-only; the model must "
             "be prepared).");
PyDoc_STRVAR(model_get_operations_doc, "The ops in execution order (a new list).");

static PyGetSetDef model_getset[] = {
    {"memory_size", (getter)model_memory_size, NULL, model_memory_size_doc, NULL},
    {"operations", (getter)model_get_operations, NULL, model_get_operations_doc, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods model_as_mapping = {
    .mp_length = (lenfunc)model_length,
    .mp_subscript = (binaryfunc)model_subscript,
};

static PySequenceMethods model_as_sequence = {
    .sq_contains = (objobjproc)model_contains,
};

PyTypeObject glnnpy_ModelType = {
    GLNNPY_TYPE_HEAD("glnn.nnets.Model", ModelObject, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, model_type_doc),
    .tp_new = model_new,
    .tp_dealloc = (destructor)model_dealloc,
    .tp_repr = (reprfunc)model_repr,
    .tp_methods = model_methods,
    .tp_getset = model_getset,
    .tp_as_mapping = &model_as_mapping,
    .tp_as_sequence = &model_as_sequence,
    .tp_iter = (getiterfunc)model_iter,
};

/* ---------------------------------------------------------------------------------------------------- */
PyDoc_STRVAR(deserializedmodel_type_doc,
             "DeserializedModel(listing)\n"
             "--\n"
             "\n"
             "A Model built from its listing text (SPEC §8): a str or bytes, or a chunk collection whose chunk ''"
             "\n"
             "holds the listing.  Syntax errors raise glnn.ArgumentError naming the line.");

/* DeserializedModel                                                                                    */

static PyObject *deserialized_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"listing", NULL};
    PyObject *listing;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:DeserializedModel", kwlist, &listing)) return NULL;
    if (glnnpy_is_chunks(listing)) {
        glnn_chunks *c = glnnpy_chunks_get((glnnpy_ChunksObject *)listing);
        ModelObject *self = c ? model_alloc(type) : NULL;
        if (!self) return NULL;
        glnn_error err;
        glnnpy_lock();
        glnn_status s = glnn_model_from_chunks(c, &self->model, &err);
        glnnpy_unlock();
        return model_made(self, s, &err);
    }
    PyObject *text = PyUnicode_Check(listing) ? PyUnicode_AsEncodedString(listing, "utf-8", "surrogateescape")
                     : PyBytes_Check(listing) ? (Py_INCREF(listing), listing)
                                              : NULL;
    if (!text && !PyErr_Occurred())
        PyErr_Format(PyExc_TypeError,
                     "DeserializedModel: the listing is a str, bytes or a chunk collection, not %.100s",
                     Py_TYPE(listing)->tp_name);
    ModelObject *self = text ? model_alloc(type) : NULL;
    glnn_error err;
    glnn_status s =
        self ? glnn_model_deserialize(PyBytes_AS_STRING(text), (size_t)PyBytes_GET_SIZE(text), &self->model, &err)
             : GLNN_OK;
    Py_XDECREF(text);
    return self ? model_made(self, s, &err) : NULL;
}

PyTypeObject glnnpy_DeserializedModelType = {
    GLNNPY_TYPE_HEAD("glnn.nnets.DeserializedModel", ModelObject, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                     deserializedmodel_type_doc),
    .tp_base = &glnnpy_ModelType,
    .tp_new = deserialized_new,
};

/* ---------------------------------------------------------------------------------------------------- */

int glnnpy_model_init(PyObject *module, PyObject *nnets) {
    if (PyType_Ready(&glnnpy_ModelType) < 0 || PyType_Ready(&glnnpy_DeserializedModelType) < 0) return -1;
    Py_INCREF(&glnnpy_ModelType);
    if (PyModule_AddObject(nnets, "Model", (PyObject *)&glnnpy_ModelType) < 0) return -1;
    Py_INCREF(&glnnpy_DeserializedModelType);
    if (PyModule_AddObject(nnets, "DeserializedModel", (PyObject *)&glnnpy_DeserializedModelType) < 0) return -1;
    static PyMethodDef open_device_def = {"_open_device", open_device_function, METH_VARARGS, NULL};
    PyObject *f = PyCFunction_NewEx(&open_device_def, NULL, NULL);
    if (!f || PyModule_AddObject(module, "_open_device", f) < 0) {
        Py_XDECREF(f);
        return -1;
    }
    return 0;
}
