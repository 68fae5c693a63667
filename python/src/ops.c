/* glnn Python module: the operations of glnn.nnets (SPEC §4, §5), each a Python object holding a
 * reference to a glnn_op. */
#include "glnnpy.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------------------- */
/* Operation: what every op shares                                                                      */

static void op_dealloc(glnnpy_OpObject *self) {
    if (self->op) {
        glnnpy_lock();
        glnn_op_release(self->op);
        glnnpy_unlock();
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *op_name_str(const glnn_op *op) {
    const char *name = glnn_op_name(op);
    return PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "surrogateescape");
}

static PyObject *op_get_name(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return op_name_str(self->op);
}

static PyObject *op_get_input_count(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(glnn_op_input_count(self->op));
}

static PyObject *op_get_output_count(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(glnn_op_output_count(self->op));
}

static PyObject *op_count(glnnpy_OpObject *self, int macs) {
    int64_t n = 0;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = macs ? glnn_op_count_multiply_adds(self->op, &n, &err)
                         : glnn_op_count_texel_fetches(self->op, &n, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return PyLong_FromLongLong((long long)n);
}

static PyObject *op_count_multiply_adds(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    return op_count(self, 1);
}

static PyObject *op_count_texel_fetches(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    return op_count(self, 0);
}

static PyObject *op_richcompare(PyObject *a, PyObject *b, int opid) {
    if ((opid != Py_EQ && opid != Py_NE) || !glnnpy_is_op(a) || !glnnpy_is_op(b)) Py_RETURN_NOTIMPLEMENTED;
    int same = ((glnnpy_OpObject *)a)->op == ((glnnpy_OpObject *)b)->op;
    if (opid == Py_NE) same = !same;
    return PyBool_FromLong(same);
}

static Py_hash_t op_hash(glnnpy_OpObject *self) { return _Py_HashPointer(self->op); }

static PyGetSetDef op_getset[] = {
    {"name", (getter)op_get_name, NULL, "The operation's name (read-only).", NULL},
    {"input_count", (getter)op_get_input_count, NULL, "Number of inputs (read-only).", NULL},
    {"output_count", (getter)op_get_output_count, NULL, "Number of outputs (read-only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef op_methods[] = {
    {"count_multiply_adds", (PyCFunction)op_count_multiply_adds, METH_NOARGS,
     "count_multiply_adds($self, /)\n--\n\n-> int\n\nMultiply-adds of one run (SPEC §4.8, §5); an error before the op is "
     "prepared (it needs the output size)."},
    {"count_texel_fetches", (PyCFunction)op_count_texel_fetches, METH_NOARGS,
     "count_texel_fetches($self, /)\n--\n\n-> int\n\nTexel fetches of one run (SPEC §4.8, §5); an error before the op is "
     "prepared."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject glnnpy_OperationType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Operation",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Base class of the operations of glnn.nnets (Beatmup's AbstractOperation); not instantiable.\n\n"
              "Operations compare equal when they are the same library object, e.g. an op and the object "
              "returned for it by Model.get_operation().",
    .tp_dealloc = (destructor)op_dealloc,
    .tp_richcompare = op_richcompare,
    .tp_hash = (hashfunc)op_hash,
    .tp_getset = op_getset,
    .tp_methods = op_methods,
};

int glnnpy_is_op(PyObject *obj) { return PyObject_TypeCheck(obj, &glnnpy_OperationType); }

/* Allocates the Python object of `type` for a new op (which it takes over). */
static PyObject *op_new_object(PyTypeObject *type, glnn_op *op) {
    glnnpy_OpObject *self = (glnnpy_OpObject *)type->tp_alloc(type, 0);
    if (!self) {
        glnnpy_lock();
        glnn_op_release(op);
        glnnpy_unlock();
        return NULL;
    }
    self->op = op;
    return (PyObject *)self;
}

PyObject *glnnpy_op_wrap(glnn_op *op) {
    glnnpy_lock();
    glnn_op_retain(op);
    glnnpy_unlock();
    return glnnpy_op_take(op);
}

PyObject *glnnpy_op_take(glnn_op *op) {
    PyTypeObject *type;
    switch (glnn_op_get_kind(op)) {
    case GLNN_OP_CONV2D: type = &glnnpy_Conv2DType; break;
    case GLNN_OP_POOLING2D: type = &glnnpy_Pooling2DType; break;
    case GLNN_OP_DENSE: type = &glnnpy_DenseType; break;
    case GLNN_OP_SOFTMAX: type = &glnnpy_SoftmaxType; break;
    case GLNN_OP_IMAGE_SAMPLER: type = &glnnpy_ImageSamplerType; break;
    default: type = &glnnpy_OperationType; break;
    }
    return op_new_object(type, op);
}

/* Reports an invalid enumeration value, after the name check that comes first (rule V1): `probe` is the
 * status of creating the same op with valid enumeration values.  Returns NULL. */
static PyObject *enum_failure(glnn_status probe, glnn_op *probe_op, const glnn_error *probe_err, const char *type,
                              const char *name, const char *what, PyObject *bad, const char *expected) {
    if (probe_op) {
        glnnpy_lock();
        glnn_op_release(probe_op);
        glnnpy_unlock();
    }
    if (probe != GLNN_OK) return glnnpy_raise(probe_err);
    return glnnpy_argument_error("%s '%s': invalid %s %U (expected %s)", type, name, what, bad, expected);
}

static const char *bool_text(bool b) { return b ? "True" : "False"; }

/* ---------------------------------------------------------------------------------------------------- */
/* Conv2D                                                                                               */

static PyObject *conv2d_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"name",    "kernel_size", "num_input_channels", "num_output_channels", "stride",
                             "padding", "use_bias",    "num_groups",         "activation",          NULL};
    PyObject *name_obj, *padding_obj = NULL, *activation_obj = NULL;
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    int use_bias = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Oiii|iOpiO:Conv2D", kwlist, &name_obj, &p.kernel_size,
                                     &p.num_input_channels, &p.num_output_channels, &p.stride, &padding_obj, &use_bias,
                                     &p.num_groups, &activation_obj))
        return NULL;
    PyObject *name = glnnpy_utf8(name_obj, "Conv2D");
    if (!name) return NULL;
    p.name = PyBytes_AS_STRING(name);
    p.use_bias = use_bias != 0;
    int padding = GLNN_PADDING_VALID, activation = GLNN_ACTIVATION_DEFAULT;
    PyObject *bad = NULL, *result = NULL;
    glnn_error err;
    glnn_op *op = NULL;
    const char *what = NULL, *expected = NULL;
    if (padding_obj && glnnpy_enum_value(GLNNPY_ENUM_PADDING, padding_obj, &padding, &bad) < 0) {
        what = "padding";
        expected = "Padding.VALID or Padding.SAME";
    } else if (!bad && !PyErr_Occurred() && activation_obj &&
               glnnpy_enum_value(GLNNPY_ENUM_ACTIVATION, activation_obj, &activation, &bad) < 0) {
        what = "activation function";
        expected = "ActivationFunction.DEFAULT, .BRELU6 or .SIGMOID_LIKE";
    }
    if (bad) {
        glnn_conv2d_params q;
        glnn_conv2d_params_init(&q);
        q.name = p.name;
        q.kernel_size = 1;
        q.num_input_channels = q.num_output_channels = 4;
        glnn_status s = glnn_conv2d_create(&q, &op, &err);
        result = enum_failure(s, s == GLNN_OK ? op : NULL, &err, "Conv2D", p.name, what, bad, expected);
    } else if (!PyErr_Occurred()) {
        p.padding = (glnn_padding)padding;
        p.activation = (glnn_activation)activation;
        if (glnn_conv2d_create(&p, &op, &err) != GLNN_OK)
            glnnpy_raise(&err);
        else
            result = op_new_object(type, op);
    }
    Py_XDECREF(bad);
    Py_DECREF(name);
    return result;
}

static glnn_conv2d_params conv2d_params(glnnpy_OpObject *self) {
    glnn_conv2d_params p;
    glnn_conv2d_params_init(&p);
    glnn_conv2d_get_params(self->op, &p, NULL);
    return p;
}

#define INT_GETTER(fn, params, field)                                                                               \
    static PyObject *fn(glnnpy_OpObject *self, void *closure) {                                                    \
        (void)closure;                                                                                              \
        return PyLong_FromLong((long)params(self).field);                                                           \
    }
#define BOOL_GETTER(fn, params, field)                                                                              \
    static PyObject *fn(glnnpy_OpObject *self, void *closure) {                                                    \
        (void)closure;                                                                                              \
        return PyBool_FromLong(params(self).field);                                                                 \
    }

INT_GETTER(conv2d_kernel_size, conv2d_params, kernel_size)
INT_GETTER(conv2d_num_input_channels, conv2d_params, num_input_channels)
INT_GETTER(conv2d_num_output_channels, conv2d_params, num_output_channels)
INT_GETTER(conv2d_stride, conv2d_params, stride)
INT_GETTER(conv2d_num_groups, conv2d_params, num_groups)
BOOL_GETTER(conv2d_use_bias, conv2d_params, use_bias)

static PyObject *conv2d_padding(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return glnnpy_enum_member(GLNNPY_ENUM_PADDING, conv2d_params(self).padding);
}

static PyObject *conv2d_activation(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return glnnpy_enum_member(GLNNPY_ENUM_ACTIVATION, conv2d_params(self).activation);
}

static PyObject *conv2d_sampled_channels(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    return PyLong_FromLongLong((long long)glnn_conv2d_sampled_channels(self->op));
}

static PyObject *conv2d_repr(glnnpy_OpObject *self) {
    glnn_conv2d_params p = conv2d_params(self);
    PyObject *name = op_name_str(self->op);
    if (!name) return NULL;
    PyObject *r = PyUnicode_FromFormat(
        "Conv2D(%R, kernel_size=%d, num_input_channels=%d, num_output_channels=%d, stride=%d, padding=%s, "
        "use_bias=%s, num_groups=%d, activation=%s)",
        name, p.kernel_size, p.num_input_channels, p.num_output_channels, p.stride,
        glnnpy_enum_label(GLNNPY_ENUM_PADDING, p.padding), bool_text(p.use_bias), p.num_groups,
        glnnpy_enum_label(GLNNPY_ENUM_ACTIVATION, p.activation));
    Py_DECREF(name);
    return r;
}

static PyGetSetDef conv2d_getset[] = {
    {"kernel_size", (getter)conv2d_kernel_size, NULL, "k: the kernel is k×k (read-only).", NULL},
    {"num_input_channels", (getter)conv2d_num_input_channels, NULL, "Cin, the input depth (read-only).", NULL},
    {"num_output_channels", (getter)conv2d_num_output_channels, NULL, "Cout, the output depth (read-only).", NULL},
    {"stride", (getter)conv2d_stride, NULL, "Stride along x and y (read-only).", NULL},
    {"padding", (getter)conv2d_padding, NULL, "Padding.VALID or Padding.SAME (read-only).", NULL},
    {"use_bias", (getter)conv2d_use_bias, NULL, "Whether the bias chunk '<name>/b' is added (read-only).", NULL},
    {"num_groups", (getter)conv2d_num_groups, NULL, "Number of convolution groups (read-only).", NULL},
    {"activation", (getter)conv2d_activation, NULL, "The ActivationFunction (read-only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef conv2d_methods[] = {
    {"sampled_channels", (PyCFunction)conv2d_sampled_channels, METH_NOARGS,
     "sampled_channels($self, /)\n--\n\n-> int\n\nInput channels read per output value (SPEC §4.10): 3k² for an image input, "
     "4k² depthwise, k²·Cin/groups otherwise."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject glnnpy_Conv2DType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Conv2D",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc =
        "Conv2D(name, kernel_size, num_input_channels, num_output_channels, stride=1, padding=Padding.VALID,\n"
        "       use_bias=True, num_groups=1, activation=ActivationFunction.DEFAULT)\n\n"
        "2D convolution with 8-bit inputs and outputs (SPEC §4).  num_input_channels is 3 (an image input:\n"
        "then num_groups=1 and VALID padding) or a multiple of 4; num_output_channels a multiple of 4.\n"
        "Filters are read from the chunk '<name>/w' (float32, HWIO: shape (k, k, Cin/groups, Cout)), the\n"
        "bias from '<name>/b' (Cout float32) when use_bias.  Input #0 is the main input, input #1 an\n"
        "optional residual of the output's shape, added before the activation.  padding and activation\n"
        "also accept their names as text ('same', 'sigmoid_like', any case).  Invalid parameters raise\n"
        "glnn.ArgumentError with the first failing rule of SPEC §4.3.",
    .tp_base = &glnnpy_OperationType,
    .tp_new = conv2d_new,
    .tp_repr = (reprfunc)conv2d_repr,
    .tp_getset = conv2d_getset,
    .tp_methods = conv2d_methods,
};

/* ---------------------------------------------------------------------------------------------------- */
/* Pooling2D                                                                                            */

static PyObject *pooling2d_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"name", "operator", "size", "stride", "padding", NULL};
    PyObject *name_obj, *operator_obj, *padding_obj = NULL;
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOi|iO:Pooling2D", kwlist, &name_obj, &operator_obj, &p.size,
                                     &p.stride, &padding_obj))
        return NULL;
    PyObject *name = glnnpy_utf8(name_obj, "Pooling2D");
    if (!name) return NULL;
    p.name = PyBytes_AS_STRING(name);
    int oper = GLNN_POOLING_MAX, padding = GLNN_PADDING_VALID;
    PyObject *bad = NULL, *result = NULL;
    glnn_error err;
    glnn_op *op = NULL;
    const char *what = NULL, *expected = NULL;
    if (glnnpy_enum_value(GLNNPY_ENUM_POOLING, operator_obj, &oper, &bad) < 0) {
        what = "pooling operator";
        expected = "Pooling2D.Operator.MAX or Pooling2D.Operator.AVERAGE";
    } else if (!PyErr_Occurred() && padding_obj &&
               glnnpy_enum_value(GLNNPY_ENUM_PADDING, padding_obj, &padding, &bad) < 0) {
        what = "padding";
        expected = "Padding.VALID or Padding.SAME";
    }
    if (bad) {
        glnn_pooling2d_params q;
        glnn_pooling2d_params_init(&q);
        q.name = p.name;
        q.size = 2;
        glnn_status s = glnn_pooling2d_create(&q, &op, &err);
        result = enum_failure(s, s == GLNN_OK ? op : NULL, &err, "Pooling2D", p.name, what, bad, expected);
    } else if (!PyErr_Occurred()) {
        p.op = (glnn_pooling_operator)oper;
        p.padding = (glnn_padding)padding;
        if (glnn_pooling2d_create(&p, &op, &err) != GLNN_OK)
            glnnpy_raise(&err);
        else
            result = op_new_object(type, op);
    }
    Py_XDECREF(bad);
    Py_DECREF(name);
    return result;
}

static glnn_pooling2d_params pooling2d_params(glnnpy_OpObject *self) {
    glnn_pooling2d_params p;
    glnn_pooling2d_params_init(&p);
    glnn_pooling2d_get_params(self->op, &p, NULL);
    return p;
}

INT_GETTER(pooling2d_size, pooling2d_params, size)
INT_GETTER(pooling2d_stride, pooling2d_params, stride)

static PyObject *pooling2d_operator(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return glnnpy_enum_member(GLNNPY_ENUM_POOLING, pooling2d_params(self).op);
}

static PyObject *pooling2d_padding(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    return glnnpy_enum_member(GLNNPY_ENUM_PADDING, pooling2d_params(self).padding);
}

static PyObject *pooling2d_repr(glnnpy_OpObject *self) {
    glnn_pooling2d_params p = pooling2d_params(self);
    PyObject *name = op_name_str(self->op);
    if (!name) return NULL;
    PyObject *r = PyUnicode_FromFormat("Pooling2D(%R, %s, %d, stride=%d, padding=%s)", name,
                                       glnnpy_enum_label(GLNNPY_ENUM_POOLING, p.op), p.size, p.stride,
                                       glnnpy_enum_label(GLNNPY_ENUM_PADDING, p.padding));
    Py_DECREF(name);
    return r;
}

static PyGetSetDef pooling2d_getset[] = {
    {"operator", (getter)pooling2d_operator, NULL, "Pooling2D.Operator.MAX or .AVERAGE (read-only).", NULL},
    {"size", (getter)pooling2d_size, NULL, "Pool size: the window is size×size (read-only).", NULL},
    {"stride", (getter)pooling2d_stride, NULL, "Stride as given; 0 means the pool size (read-only).", NULL},
    {"padding", (getter)pooling2d_padding, NULL, "Padding.VALID or Padding.SAME (read-only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject glnnpy_Pooling2DType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Pooling2D",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Pooling2D(name, operator, size, stride=0, padding=Padding.VALID)\n\n"
              "2D max or average pooling (SPEC §5.1); operator is Pooling2D.Operator.MAX or .AVERAGE (or\n"
              "'max' / 'average').  stride 0 means the pool size.  AVERAGE supports VALID padding only.\n"
              "Global pooling of an H×H input: size=H, stride=1.",
    .tp_base = &glnnpy_OperationType,
    .tp_new = pooling2d_new,
    .tp_repr = (reprfunc)pooling2d_repr,
    .tp_getset = pooling2d_getset,
};

/* ---------------------------------------------------------------------------------------------------- */
/* Dense                                                                                                */

static PyObject *dense_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"name", "num_output_dims", "use_bias", NULL};
    PyObject *name_obj;
    glnn_dense_params p;
    glnn_dense_params_init(&p);
    int use_bias = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Oi|p:Dense", kwlist, &name_obj, &p.num_output_dims, &use_bias))
        return NULL;
    PyObject *name = glnnpy_utf8(name_obj, "Dense");
    if (!name) return NULL;
    p.name = PyBytes_AS_STRING(name);
    p.use_bias = use_bias != 0;
    glnn_op *op = NULL;
    glnn_error err;
    PyObject *result = glnn_dense_create(&p, &op, &err) == GLNN_OK ? op_new_object(type, op) : glnnpy_raise(&err);
    Py_DECREF(name);
    return result;
}

static glnn_dense_params dense_params(glnnpy_OpObject *self) {
    glnn_dense_params p;
    glnn_dense_params_init(&p);
    glnn_dense_get_params(self->op, &p, NULL);
    return p;
}

INT_GETTER(dense_num_output_dims, dense_params, num_output_dims)
BOOL_GETTER(dense_use_bias, dense_params, use_bias)

static PyObject *dense_repr(glnnpy_OpObject *self) {
    glnn_dense_params p = dense_params(self);
    PyObject *name = op_name_str(self->op);
    if (!name) return NULL;
    PyObject *r =
        PyUnicode_FromFormat("Dense(%R, num_output_dims=%d, use_bias=%s)", name, p.num_output_dims, bool_text(p.use_bias));
    Py_DECREF(name);
    return r;
}

static PyGetSetDef dense_getset[] = {
    {"num_output_dims", (getter)dense_num_output_dims, NULL, "Output length (read-only).", NULL},
    {"use_bias", (getter)dense_use_bias, NULL, "Whether the bias chunk '<name>/b' is added (read-only).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject glnnpy_DenseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Dense",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Dense(name, num_output_dims, use_bias=True)\n\n"
              "Fully connected layer (SPEC §5.2): y = A·x + b in float32, no activation.  Input: a 1×1×N tensor\n"
              "or another Dense's vector.  Matrix chunk '<name>/w': num_output_dims×N float32, row-major; bias\n"
              "chunk '<name>/b'.  num_output_dims is any count from 1.",
    .tp_base = &glnnpy_OperationType,
    .tp_new = dense_new,
    .tp_repr = (reprfunc)dense_repr,
    .tp_getset = dense_getset,
};

/* ---------------------------------------------------------------------------------------------------- */
/* Softmax                                                                                              */

static PyObject *softmax_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"name", NULL};
    PyObject *name_obj;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Softmax", kwlist, &name_obj)) return NULL;
    PyObject *name = glnnpy_utf8(name_obj, "Softmax");
    if (!name) return NULL;
    glnn_op *op = NULL;
    glnn_error err;
    PyObject *result =
        glnn_softmax_create(PyBytes_AS_STRING(name), &op, &err) == GLNN_OK ? op_new_object(type, op) : glnnpy_raise(&err);
    Py_DECREF(name);
    return result;
}

static PyObject *softmax_repr(glnnpy_OpObject *self) {
    PyObject *name = op_name_str(self->op);
    if (!name) return NULL;
    PyObject *r = PyUnicode_FromFormat("Softmax(%R)", name);
    Py_DECREF(name);
    return r;
}

PyTypeObject glnnpy_SoftmaxType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.Softmax",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Softmax(name)\n\n"
              "Softmax of a 1×1×C tensor or a vector (SPEC §5.3), computed on the CPU in float32.  It has no\n"
              "outputs: read the result with Model.get_probabilities() or InferenceTask.get_probabilities().",
    .tp_base = &glnnpy_OperationType,
    .tp_new = softmax_new,
    .tp_repr = (reprfunc)softmax_repr,
};

/* ---------------------------------------------------------------------------------------------------- */
/* ImageSampler                                                                                         */

/* (width, height) from a pair of integers; -1 without an exception when obj is not such a pair. */
static int size_pair(PyObject *obj, int *w, int *h) {
    if (!PySequence_Check(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj) || PySequence_Size(obj) != 2) {
        PyErr_Clear();
        return -1;
    }
    long v[2];
    for (int i = 0; i < 2; i++) {
        PyObject *item = PySequence_GetItem(obj, i);
        PyObject *index = item && !PyBool_Check(item) ? PyNumber_Index(item) : NULL;
        Py_XDECREF(item);
        int overflow = 0;
        v[i] = index ? PyLong_AsLongAndOverflow(index, &overflow) : -1;
        Py_XDECREF(index);
        if (!index || overflow || v[i] < -2147483647L || v[i] > 2147483647L) {
            PyErr_Clear();
            return -1;
        }
    }
    *w = (int)v[0];
    *h = (int)v[1];
    return 0;
}

static PyObject *image_sampler_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"name", "size", "center_crop", "linear_interp", NULL};
    PyObject *name_obj, *size_obj;
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    int center_crop = 1, linear_interp = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp:ImageSampler", kwlist, &name_obj, &size_obj, &center_crop,
                                     &linear_interp))
        return NULL;
    PyObject *name = glnnpy_utf8(name_obj, "ImageSampler");
    if (!name) return NULL;
    p.name = PyBytes_AS_STRING(name);
    p.center_crop = center_crop != 0;
    p.linear_interp = linear_interp != 0;
    glnn_op *op = NULL;
    glnn_error err;
    PyObject *result = NULL;
    if (size_pair(size_obj, &p.output_width, &p.output_height) < 0) {
        glnn_image_sampler_params q = p;
        q.output_width = q.output_height = 1;
        if (glnn_image_sampler_create(&q, &op, &err) != GLNN_OK) {
            glnnpy_raise(&err);
        } else {
            glnnpy_lock();
            glnn_op_release(op);
            glnnpy_unlock();
            glnnpy_argument_error("ImageSampler '%s': size must be a (width, height) pair of integers, got %R", p.name,
                                  size_obj);
        }
    } else if (glnn_image_sampler_create(&p, &op, &err) != GLNN_OK) {
        glnnpy_raise(&err);
    } else {
        result = op_new_object(type, op);
    }
    Py_DECREF(name);
    return result;
}

static glnn_image_sampler_params image_sampler_params(glnnpy_OpObject *self) {
    glnn_image_sampler_params p;
    glnn_image_sampler_params_init(&p);
    glnnpy_lock();
    glnn_image_sampler_get_params(self->op, &p, NULL);
    glnnpy_unlock();
    return p;
}

BOOL_GETTER(image_sampler_center_crop, image_sampler_params, center_crop)
BOOL_GETTER(image_sampler_linear_interp, image_sampler_params, linear_interp)
INT_GETTER(image_sampler_rotation, image_sampler_params, rotation)

static PyObject *image_sampler_size(glnnpy_OpObject *self, void *closure) {
    (void)closure;
    glnn_image_sampler_params p = image_sampler_params(self);
    return Py_BuildValue("(ii)", p.output_width, p.output_height);
}

static int image_sampler_set_rotation(glnnpy_OpObject *self, PyObject *value, void *closure) {
    (void)closure;
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete the rotation");
        return -1;
    }
    if (!PyLong_Check(value) || PyBool_Check(value)) {
        PyErr_Format(PyExc_TypeError, "rotation must be an int (quarter turns clockwise, 0..3), not %.100s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    int overflow = 0;
    long r = PyLong_AsLongAndOverflow(value, &overflow);
    if (r == -1 && PyErr_Occurred()) return -1;
    if (overflow || r < -2147483647L || r > 2147483647L) {
        glnnpy_argument_error("ImageSampler '%s': rotation must be 0, 1, 2 or 3 quarter turns, got %R",
                              glnn_op_name(self->op), value);
        return -1;
    }
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_image_sampler_set_rotation(self->op, (int)r, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) {
        glnnpy_raise(&err);
        return -1;
    }
    return 0;
}

static PyObject *image_sampler_repr(glnnpy_OpObject *self) {
    glnn_image_sampler_params p = image_sampler_params(self);
    PyObject *name = op_name_str(self->op);
    if (!name) return NULL;
    PyObject *r = p.rotation
                      ? PyUnicode_FromFormat("ImageSampler(%R, (%d, %d), center_crop=%s, linear_interp=%s; rotation=%d)",
                                             name, p.output_width, p.output_height, bool_text(p.center_crop),
                                             bool_text(p.linear_interp), p.rotation)
                      : PyUnicode_FromFormat("ImageSampler(%R, (%d, %d), center_crop=%s, linear_interp=%s)", name,
                                             p.output_width, p.output_height, bool_text(p.center_crop),
                                             bool_text(p.linear_interp));
    Py_DECREF(name);
    return r;
}

static PyGetSetDef image_sampler_getset[] = {
    {"size", (getter)image_sampler_size, NULL, "Output size (width, height) (read-only).", NULL},
    {"center_crop", (getter)image_sampler_center_crop, NULL, "Whether the input is cropped to the output's aspect "
                                                             "ratio around its center (read-only).", NULL},
    {"linear_interp", (getter)image_sampler_linear_interp, NULL, "Bilinear (True) or nearest (False) sampling "
                                                                 "(read-only).", NULL},
    {"rotation", (getter)image_sampler_rotation, (setter)image_sampler_set_rotation,
     "Quarter turns clockwise applied to the input before cropping, 0..3 (default 0; not stored in "
     "listings).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject glnnpy_ImageSamplerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "glnn.nnets.ImageSampler",
    .tp_basicsize = sizeof(glnnpy_OpObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "ImageSampler(name, size, center_crop=True, linear_interp=True)\n\n"
              "Resamples an input image of any size to size = (width, height) (SPEC §5.4): optional rotation,\n"
              "center crop to the output's aspect ratio, bilinear or nearest sampling.",
    .tp_base = &glnnpy_OperationType,
    .tp_new = image_sampler_new,
    .tp_repr = (reprfunc)image_sampler_repr,
    .tp_getset = image_sampler_getset,
};

/* ---------------------------------------------------------------------------------------------------- */

static int set_class_attr(PyTypeObject *type, const char *name, PyObject *value) {
    if (!value) return -1;
    int r = PyDict_SetItemString(type->tp_dict, name, value);
    Py_DECREF(value);
    PyType_Modified(type);
    return r;
}

int glnnpy_ops_init(PyObject *nnets) {
    PyTypeObject *types[] = {&glnnpy_OperationType, &glnnpy_Conv2DType,      &glnnpy_Pooling2DType,
                             &glnnpy_DenseType,     &glnnpy_SoftmaxType,     &glnnpy_ImageSamplerType};
    const char *names[] = {"Operation", "Conv2D", "Pooling2D", "Dense", "Softmax", "ImageSampler"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0) return -1;
    if (set_class_attr(&glnnpy_Conv2DType, "filters_chunk_suffix", PyUnicode_FromString(GLNN_FILTERS_CHUNK_SUFFIX)) <
            0 ||
        set_class_attr(&glnnpy_Conv2DType, "bias_chunk_suffix", PyUnicode_FromString(GLNN_BIAS_CHUNK_SUFFIX)) < 0 ||
        set_class_attr(&glnnpy_DenseType, "matrix_chunk_suffix", PyUnicode_FromString(GLNN_FILTERS_CHUNK_SUFFIX)) < 0 ||
        set_class_attr(&glnnpy_DenseType, "bias_chunk_suffix", PyUnicode_FromString(GLNN_BIAS_CHUNK_SUFFIX)) < 0)
        return -1;
    Py_INCREF(glnnpy_PoolingOperator);
    if (set_class_attr(&glnnpy_Pooling2DType, "Operator", glnnpy_PoolingOperator) < 0) return -1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        Py_INCREF(types[i]);
        if (PyModule_AddObject(nnets, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    Py_INCREF(&glnnpy_OperationType);
    if (PyModule_AddObject(nnets, "AbstractOperation", (PyObject *)&glnnpy_OperationType) < 0) {
        Py_DECREF(&glnnpy_OperationType);
        return -1;
    }
    return 0;
}
