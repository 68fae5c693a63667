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

typedef struct {
    PyObject_HEAD
    ModelObject *model;
    glnnpy_ChunksObject *data; /* NULL: no model data */
    glnnpy_device dev;
} TaskObject;

static int is_model(PyObject *obj) { return PyObject_TypeCheck(obj, &glnnpy_ModelType); }

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

static ModelObject *model_alloc(PyTypeObject *type, glnn_model *m) {
    ModelObject *self = (ModelObject *)type->tp_alloc(type, 0);
    if (!self) {
        glnnpy_lock();
        glnn_model_free(m);
        glnnpy_unlock();
        return NULL;
    }
    self->model = m;
    return self;
}

static PyObject *model_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, ":Model", kwlist)) return NULL;
    glnn_model *m = NULL;
    glnn_error err;
    if (glnn_model_create(&m, &err) != GLNN_OK) return glnnpy_raise(&err);
    return (PyObject *)model_alloc(type, m);
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

static PyObject *model_add_output(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"op", "output", NULL};
    PyObject *op;
    int output = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|i:add_output", kwlist, &op, &output)) return NULL;
    PyObject *name = op_ref(self, op, "add_output");
    if (!name) return NULL;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_model_add_output(self->model, PyBytes_AS_STRING(name), output, &err);
    glnnpy_unlock();
    Py_DECREF(name);
    return status_result(s, &err);
}

static PyObject *model_get_output_data(ModelObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"op", "output", NULL};
    PyObject *op;
    int output = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|i:get_output_data", kwlist, &op, &output)) return NULL;
    PyObject *name = op_ref(self, op, "get_output_data");
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

static PyObject *model_counter(ModelObject *self, int which) {
    int64_t n = 0;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = which == 0   ? glnn_model_count_multiply_adds(self->model, &n, &err)
                    : which == 1 ? glnn_model_count_texel_fetches(self->model, &n, &err)
                                 : glnn_model_memory_size(self->model, &n, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return PyLong_FromLongLong((long long)n);
}

static PyObject *model_count_multiply_adds(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    return model_counter(self, 0);
}

static PyObject *model_count_texel_fetches(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    return model_counter(self, 1);
}

static PyObject *model_memory_size(ModelObject *self, void *closure) {
    (void)closure;
    return model_counter(self, 2);
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

static PyObject *model_get_first_operation(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    return model_op_at(self, 0);
}

static PyObject *model_get_last_operation(ModelObject *self, PyObject *noargs) {
    (void)noargs;
    return model_op_at(self, -1);
}

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

static PyObject *model_repr(ModelObject *self) {
    Py_ssize_t n = model_length(self);
    return PyUnicode_FromFormat("<%s with %zd operation%s>", Py_TYPE(self)->tp_name, n, n == 1 ? "" : "s");
}

static PyMethodDef model_methods[] = {
    {"append", (PyCFunction)(void (*)(void))model_append, METH_VARARGS | METH_KEYWORDS,
     "append($self, /, op, connect=False)\n--\n\nAdds op at the end; with connect, also connects output #0 of the previous last "
     "op to input #0 of op.  The model keeps its own reference to op."},
    {"add_operation", (PyCFunction)(void (*)(void))model_add_operation, METH_VARARGS | METH_KEYWORDS,
     "add_operation($self, /, before_op_name, op)\n--\n\nInserts op just before another op (given by name or object)."},
    {"add_connection", (PyCFunction)(void (*)(void))model_add_connection, METH_VARARGS | METH_KEYWORDS,
     "add_connection($self, /, source, dest, output=0, input=0, shuffle=0)\n--\n\nConnects output #output of source to input "
     "#input of dest (ops given by name or object), with an optional channel shuffle (SPEC §6)."},
    {"add_output", (PyCFunction)(void (*)(void))model_add_output, METH_VARARGS | METH_KEYWORDS,
     "add_output($self, /, op, output=0)\n--\n\nKeeps an output readable after a run (repeats are ignored)."},
    {"get_output_data", (PyCFunction)(void (*)(void))model_get_output_data, METH_VARARGS | METH_KEYWORDS,
     "get_output_data($self, /, op, output=0)\n--\n\n-> numpy.ndarray\n\nA registered output after a run, as float32 q/255: shape "
     "(H, W, C) for tensors and images, (N,) for Dense vectors (their float values)."},
    {"get_probabilities", (PyCFunction)(void (*)(void))model_get_probabilities, METH_VARARGS | METH_KEYWORDS,
     "get_probabilities($self, /, op=None)\n--\n\n-> numpy.ndarray\n\nThe float32 probabilities of a Softmax (default: the model's "
     "last Softmax) after a run."},
    {"serialize", (PyCFunction)model_serialize, METH_NOARGS,
     "serialize($self, /)\n--\n\n-> str\n\nThe model listing (SPEC §8.4); DeserializedModel(text) rebuilds the same model."},
    {"count_multiply_adds", (PyCFunction)model_count_multiply_adds, METH_NOARGS,
     "count_multiply_adds($self, /)\n--\n\n-> int\n\nSum over all ops; available once the model is prepared (after a run or "
     "InferenceTask.prepare())."},
    {"count_texel_fetches", (PyCFunction)model_count_texel_fetches, METH_NOARGS,
     "count_texel_fetches($self, /)\n--\n\n-> int\n\nSum over all ops; available once the model is prepared."},
    {"get_first_operation", (PyCFunction)model_get_first_operation, METH_NOARGS, "get_first_operation($self, /)\n--\n\n-> Operation\n\nThe first op in execution order."},
    {"get_last_operation", (PyCFunction)model_get_last_operation, METH_NOARGS, "get_last_operation($self, /)\n--\n\n-> Operation\n\nThe last op in execution order."},
    {"get_operation", (PyCFunction)model_get_operation, METH_O,
     "get_operation($self, name, /)\n--\n\n-> Operation\n\nThe op of that name (model[name] and model[index] work too)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef model_getset[] = {
    {"memory_size", (getter)model_memory_size, NULL,
     "Bytes of device memory held by the prepared model's tensors and weights (read-only; the model must "
     "be prepared).",
     NULL},
    {"operations", (getter)model_get_operations, NULL, "The ops in execution order (a new list).", NULL},
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
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Model",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Model()\n\n"
              "A neural network (SPEC §7): ops in execution order (the order they are added; never reordered),\n"
              "connections between their outputs and inputs, and registered outputs.  Ops may be given by\n"
              "object or by name.  Run it with an InferenceTask; len(model), iteration, `name in model` and\n"
              "model[name or index] give access to the ops.",
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
/* DeserializedModel                                                                                    */

static PyObject *deserialized_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"listing", NULL};
    PyObject *listing;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:DeserializedModel", kwlist, &listing)) return NULL;
    glnn_model *m = NULL;
    glnn_error err;
    glnn_status s;
    if (glnnpy_is_chunks(listing)) {
        glnn_chunks *c = glnnpy_chunks_get((glnnpy_ChunksObject *)listing);
        if (!c) return NULL;
        glnnpy_lock();
        s = glnn_model_from_chunks(c, &m, &err);
        glnnpy_unlock();
    } else {
        PyObject *text = PyUnicode_Check(listing) ? PyUnicode_AsEncodedString(listing, "utf-8", "surrogateescape")
                         : PyBytes_Check(listing) ? (Py_INCREF(listing), listing)
                                                  : NULL;
        if (!text) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError,
                             "DeserializedModel: the listing is a str, bytes or a chunk collection, not %.100s",
                             Py_TYPE(listing)->tp_name);
            return NULL;
        }
        s = glnn_model_deserialize(PyBytes_AS_STRING(text), (size_t)PyBytes_GET_SIZE(text), &m, &err);
        Py_DECREF(text);
    }
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return (PyObject *)model_alloc(type, m);
}

PyTypeObject glnnpy_DeserializedModelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.DeserializedModel",
    .tp_basicsize = sizeof(ModelObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "DeserializedModel(listing)\n\n"
              "A Model built from its listing text (SPEC §8): a str or bytes, or a chunk collection whose chunk ''\n"
              "holds the listing.  Syntax errors raise glnn.ArgumentError naming the line.",
    .tp_base = &glnnpy_ModelType,
    .tp_new = deserialized_new,
};

/* ---------------------------------------------------------------------------------------------------- */
/* InferenceTask                                                                                        */

static PyObject *task_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"model", "data", "device", "max_sampled_channels", NULL};
    PyObject *model, *data = Py_None, *device = Py_None;
    int limit = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOi:InferenceTask", kwlist, &model, &data, &device, &limit))
        return NULL;
    if (!is_model(model)) {
        PyErr_Format(PyExc_TypeError, "InferenceTask: model must be a glnn.nnets.Model, not %.100s",
                     Py_TYPE(model)->tp_name);
        return NULL;
    }
    if (data != Py_None && !glnnpy_is_chunks(data)) {
        PyErr_Format(PyExc_TypeError,
                     "InferenceTask: data must be a ChunkFile, a WritableChunkCollection or None, not %.100s",
                     Py_TYPE(data)->tp_name);
        return NULL;
    }
    glnnpy_device dev;
    if (glnnpy_device_from_object(device, limit, &dev) < 0) return NULL;
    TaskObject *self = (TaskObject *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    Py_INCREF(model);
    self->model = (ModelObject *)model;
    if (data != Py_None) {
        Py_INCREF(data);
        self->data = (glnnpy_ChunksObject *)data;
    }
    self->dev = dev;
    return (PyObject *)self;
}

static void task_dealloc(TaskObject *self) {
    Py_XDECREF(self->model);
    Py_XDECREF(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *task_connect(TaskObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"image", "op", "input_index", NULL};
    PyObject *image, *op;
    int input = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|i:connect", kwlist, &image, &op, &input)) return NULL;
    ModelObject *mo = self->model;
    PyObject *name = op_ref(mo, op, "connect");
    if (!name) return NULL;
    const char *n = PyBytes_AS_STRING(name);
    glnnpy_lock();
    glnn_op *target = glnn_model_find(mo->model, n);
    int takes_image = 0;
    if (target && input == 0) {
        glnn_op_kind kind = glnn_op_get_kind(target);
        glnn_conv2d_params p;
        takes_image = kind == GLNN_OP_IMAGE_SAMPLER ||
                      (kind == GLNN_OP_CONV2D && glnn_conv2d_get_params(target, &p, NULL) == GLNN_OK &&
                       p.num_input_channels == 3);
    }
    glnnpy_unlock();
    if (!target) {
        Py_DECREF(name);
        return glnnpy_argument_error("connect: operation %R not found in the model", op);
    }
    int is_float = 0;
    PyArrayObject *a = glnnpy_data_array(image, takes_image ? "connect: the image" : "connect: the tensor",
                                         takes_image ? 2 : 3, 3, &is_float);
    if (!a) {
        Py_DECREF(name);
        return NULL;
    }
    if (takes_image && is_float) {
        PyArrayObject *q = glnnpy_quantize_array(a, "connect: the image");
        Py_DECREF(a);
        if (!q) {
            Py_DECREF(name);
            return NULL;
        }
        a = q;
        is_float = 0;
    }
    npy_intp *d = PyArray_DIMS(a);
    int64_t h = d[0], w = d[1], c = PyArray_NDIM(a) == 3 ? d[2] : 1;
    glnn_error err;
    glnn_status s;
    glnnpy_lock();
    if (takes_image)
        s = glnn_model_bind_image(mo->model, n, input, PyArray_DATA(a), h, w, (int)(c > 1000 ? 1000 : c), &err);
    else if (is_float)
        s = glnn_model_bind_tensor_f32(mo->model, n, input, PyArray_DATA(a), h, w, c, &err);
    else
        s = glnn_model_bind_tensor_u8(mo->model, n, input, PyArray_DATA(a), h, w, c, &err);
    glnnpy_unlock();
    Py_DECREF(a);
    Py_DECREF(name);
    return status_result(s, &err);
}

/* Prepares (when needed, or always with force) and, with run, runs the model.  The GIL is released. */
static int task_execute(TaskObject *self, int run) {
    ModelObject *mo = self->model;
    glnnpy_ChunksObject *data = self->data;
    glnn_status s = GLNN_OK;
    glnn_error err;
    int closed = 0;
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    glnn_chunks *chunks = data ? data->chunks : NULL;
    unsigned long long version = data ? data->version : 0;
    glnn_context *ctx = NULL;
    if (data && !chunks) {
        closed = 1;
    } else {
        s = glnnpy_context_get(&self->dev, &ctx, &err);
        if (s == GLNN_OK && (!run || !mo->prep_valid || mo->prep_ctx != ctx || mo->prep_version != version)) {
            mo->prep_valid = 0;
            s = glnn_model_prepare(mo->model, ctx, chunks, &err);
            if (s == GLNN_OK) {
                mo->prep_valid = 1;
                mo->prep_ctx = ctx;
                mo->prep_version = version;
            }
        }
        if (s == GLNN_OK && run) s = glnn_model_run(mo->model, ctx, chunks, &err);
    }
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    if (closed) {
        glnnpy_chunks_get(data);
        return -1;
    }
    if (s != GLNN_OK) {
        glnnpy_raise(&err);
        return -1;
    }
    return 0;
}

static PyObject *task_run(TaskObject *self, PyObject *noargs) {
    (void)noargs;
    if (task_execute(self, 1) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *task_prepare(TaskObject *self, PyObject *noargs) {
    (void)noargs;
    if (task_execute(self, 0) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *task_get_probabilities(TaskObject *self, PyObject *args, PyObject *kw) {
    return model_get_probabilities(self->model, args, kw);
}

static PyObject *task_get_output_data(TaskObject *self, PyObject *args, PyObject *kw) {
    return model_get_output_data(self->model, args, kw);
}

static PyObject *task_get_model(TaskObject *self, void *closure) {
    (void)closure;
    Py_INCREF(self->model);
    return (PyObject *)self->model;
}

static PyObject *task_get_data(TaskObject *self, void *closure) {
    (void)closure;
    PyObject *d = self->data ? (PyObject *)self->data : Py_None;
    Py_INCREF(d);
    return d;
}

static PyObject *task_get_device(TaskObject *self, void *closure) {
    (void)closure;
    glnn_error err;
    glnn_status s;
    char name[256] = "";
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    glnn_context *ctx = NULL;
    s = glnnpy_context_get(&self->dev, &ctx, &err);
    if (s == GLNN_OK) snprintf(name, sizeof name, "%s", glnn_context_device_name(ctx));
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "replace");
}

static PyObject *task_repr(TaskObject *self) {
    return PyUnicode_FromFormat("<glnn.InferenceTask on device '%s'>", self->dev.name);
}

static PyMethodDef task_methods[] = {
    {"connect", (PyCFunction)(void (*)(void))task_connect, METH_VARARGS | METH_KEYWORDS,
     "connect($self, /, image, op, input_index=0)\n--\n\n"
     "Binds user data to an op input that has no connection.  Input #0 of an ImageSampler or of an image "
     "Conv2D takes an image: uint8 (H, W, 3), (H, W, 4) (alpha dropped), (H, W, 1) or (H, W) (grey), or "
     "floats in [0, 1].  Other inputs take a tensor (H, W, C), C a multiple of 4, as uint8 or floats "
     "(quantized with Q).  The data are copied."},
    {"run", (PyCFunction)task_run, METH_NOARGS,
     "run($self, /)\n--\n\nRuns the model on the task's device (prepared first when needed), with the GIL released."},
    {"prepare", (PyCFunction)task_prepare, METH_NOARGS,
     "prepare($self, /)\n--\n\nChecks the model, computes shapes and reads the weights without running (counters become "
     "available)."},
    {"get_probabilities", (PyCFunction)(void (*)(void))task_get_probabilities, METH_VARARGS | METH_KEYWORDS,
     "get_probabilities($self, /, op=None)\n--\n\n-> numpy.ndarray\n\nSame as model.get_probabilities()."},
    {"get_output_data", (PyCFunction)(void (*)(void))task_get_output_data, METH_VARARGS | METH_KEYWORDS,
     "get_output_data($self, /, op, output=0)\n--\n\n-> numpy.ndarray\n\nSame as model.get_output_data()."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef task_getset[] = {
    {"model", (getter)task_get_model, NULL, "The model (read-only).", NULL},
    {"data", (getter)task_get_data, NULL, "The model data (read-only).", NULL},
    {"device", (getter)task_get_device, NULL,
     "Description of the device the task runs on, e.g. 'cpu reference' (creates its context).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject glnnpy_InferenceTaskType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.InferenceTask",
    .tp_basicsize = sizeof(TaskObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "InferenceTask(model, data, device=None, max_sampled_channels=-1)\n\n"
              "Runs `model` with the weights of `data` (a ChunkFile or WritableChunkCollection, or None for a\n"
              "model without weights) on a device: None (the GLNN_DEVICE environment variable, else 'auto'),\n"
              "'auto', 'cpu', 'software' or a device index (see glnn.devices()).  max_sampled_channels sets\n"
              "the GPU sampling limit (SPEC §4.10; -1: the device's default, 0: none).  The device's context\n"
              "is created on first use and belongs to the calling thread: run a task from the thread that\n"
              "created its context.",
    .tp_new = task_new,
    .tp_dealloc = (destructor)task_dealloc,
    .tp_repr = (reprfunc)task_repr,
    .tp_methods = task_methods,
    .tp_getset = task_getset,
};

/* ---------------------------------------------------------------------------------------------------- */

int glnnpy_model_init(PyObject *module, PyObject *nnets) {
    if (PyType_Ready(&glnnpy_ModelType) < 0 || PyType_Ready(&glnnpy_DeserializedModelType) < 0 ||
        PyType_Ready(&glnnpy_InferenceTaskType) < 0)
        return -1;
    Py_INCREF(&glnnpy_ModelType);
    if (PyModule_AddObject(nnets, "Model", (PyObject *)&glnnpy_ModelType) < 0) return -1;
    Py_INCREF(&glnnpy_DeserializedModelType);
    if (PyModule_AddObject(nnets, "DeserializedModel", (PyObject *)&glnnpy_DeserializedModelType) < 0) return -1;
    Py_INCREF(&glnnpy_InferenceTaskType);
    if (PyModule_AddObject(module, "InferenceTask", (PyObject *)&glnnpy_InferenceTaskType) < 0) return -1;
    return 0;
}
