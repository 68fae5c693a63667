/* glnn Python module: glnn.nnets.Operation, the base of every operation object (it holds a reference to a
 * glnn_op), and what the classes built from the library's op descriptions (python/glnn/_ops.py) need from C:
 * the descriptions themselves, creation from parameter values, parameter values read back, and the class to
 * give an op the library returns (a model's ops). */
#include "glnnpy.h"

#include <string.h>

static PyObject *op_classes; /* dict: listing type ("conv2d") -> Python class, filled by _register_op_class */

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

static PyObject *op_count(glnnpy_OpObject *self, glnnpy_counter which) {
    return glnnpy_count(NULL, self->op, which);
}

GLNNPY_COUNTER_METHODS(op, glnnpy_OpObject, op_count,
                       "of one run (SPEC §4.8, §5); an error before the op is prepared (they need the output size).")

/* _param(i): the value of parameter i of the op's description (an int; booleans 0 / 1). */
static PyObject *op_param(glnnpy_OpObject *self, PyObject *index) {
    long i = PyLong_AsLong(index);
    if (i == -1 && PyErr_Occurred()) return NULL;
    int value = 0;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_op_get_param(self->op, (int)i, &value, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return PyLong_FromLong(value);
}

/* _describe(): the one-line summary of the op (glnn_op_describe), as `glnn model` prints it. */
static PyObject *op_describe(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    char buf[256];
    glnnpy_lock();
    glnn_op_describe(self->op, buf, sizeof buf);
    glnnpy_unlock();
    return PyUnicode_FromString(buf);
}

/* _create(type_name, name, values): a new op of the calling class (a subclass of Operation). */
static PyObject *op_create(PyTypeObject *cls, PyObject *args) {
    const char *type_name;
    PyObject *name_obj, *values_obj;
    if (!PyArg_ParseTuple(args, "sOO!:_create", &type_name, &name_obj, &PyTuple_Type, &values_obj)) return NULL;
    PyObject *name = glnnpy_utf8(name_obj, type_name);
    if (!name) return NULL;
    int values[32];
    Py_ssize_t n = PyTuple_GET_SIZE(values_obj);
    if (n > (Py_ssize_t)(sizeof values / sizeof values[0])) {
        Py_DECREF(name);
        return glnnpy_argument_error("%s: too many parameter values", type_name);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(PyTuple_GET_ITEM(values_obj, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(name);
            return NULL;
        }
        values[i] = (int)v;
    }
    glnn_op *op = NULL;
    glnn_error err;
    glnn_status s = glnn_op_create(type_name, PyBytes_AS_STRING(name), values, (int)n, &op, &err);
    Py_DECREF(name);
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return glnnpy_op_object(cls, op);
}

/* Op-specific accessors the classes of _ops.py use: Conv2D's sampled channels, ImageSampler's rotation. */
static PyObject *op_sampled_channels(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    return PyLong_FromLongLong((long long)glnn_conv2d_sampled_channels(self->op));
}

static PyObject *op_rotation(glnnpy_OpObject *self, PyObject *noargs) {
    (void)noargs;
    glnn_image_sampler_params p;
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_image_sampler_get_params(self->op, &p, &err);
    glnnpy_unlock();
    return s == GLNN_OK ? PyLong_FromLong(p.rotation) : glnnpy_raise(&err);
}

static PyObject *op_set_rotation(glnnpy_OpObject *self, PyObject *value) {
    if (!PyLong_Check(value) || PyBool_Check(value)) {
        PyErr_Format(PyExc_TypeError, "rotation must be an int (quarter turns clockwise, 0..3), not %.100s",
                     Py_TYPE(value)->tp_name);
        return NULL;
    }
    int overflow = 0;
    long r = PyLong_AsLongAndOverflow(value, &overflow);
    if (r == -1 && PyErr_Occurred()) return NULL;
    if (overflow || r < -2147483647L || r > 2147483647L)
        return glnnpy_argument_error("ImageSampler '%s': rotation must be 0, 1, 2 or 3 quarter turns, got %R",
                                     glnn_op_name(self->op), value);
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_image_sampler_set_rotation(self->op, (int)r, &err);
    glnnpy_unlock();
    if (s != GLNN_OK) return glnnpy_raise(&err);
    Py_RETURN_NONE;
}

static PyObject *op_richcompare(PyObject *a, PyObject *b, int opid) {
    if ((opid != Py_EQ && opid != Py_NE) || !glnnpy_is_op(a) || !glnnpy_is_op(b)) Py_RETURN_NOTIMPLEMENTED;
    int same = ((glnnpy_OpObject *)a)->op == ((glnnpy_OpObject *)b)->op;
    if (opid == Py_NE) same = !same;
    return PyBool_FromLong(same);
}

static Py_hash_t op_hash(glnnpy_OpObject *self) {
    return _Py_HashPointer(self->op);
}

PyDoc_STRVAR(op_get_name_doc, "The operation's name (read-only).");
PyDoc_STRVAR(op_get_input_count_doc, "Number of inputs (read-only).");
PyDoc_STRVAR(op_get_output_count_doc, "Number of outputs (read-only).");

static PyGetSetDef op_getset[] = {
    {"name", (getter)op_get_name, NULL, op_get_name_doc, NULL},
    {"input_count", (getter)op_get_input_count, NULL, op_get_input_count_doc, NULL},
    {"output_count", (getter)op_get_output_count, NULL, op_get_output_count_doc, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(op_param_doc, "_param($self, index, /)\n--\n\nThe value of parameter `index`.");
PyDoc_STRVAR(op_describe_doc, "_describe($self, /)\n--\n\nThe op's one-line summary.");
PyDoc_STRVAR(op_create_doc,
             "_create(type_name, name, values, /)\n--\n\nA new op of this class from its parameter values.");

static PyMethodDef op_methods[] = {
    {"count_multiply_adds", (PyCFunction)op_count_multiply_adds, METH_NOARGS, op_count_multiply_adds_doc},
    {"count_texel_fetches", (PyCFunction)op_count_texel_fetches, METH_NOARGS, op_count_texel_fetches_doc},
    {"_param", (PyCFunction)op_param, METH_O, op_param_doc},
    {"_describe", (PyCFunction)op_describe, METH_NOARGS, op_describe_doc},
    {"_create", (PyCFunction)op_create, METH_VARARGS | METH_CLASS, op_create_doc},
    {"_sampled_channels", (PyCFunction)op_sampled_channels, METH_NOARGS, NULL},
    {"_rotation", (PyCFunction)op_rotation, METH_NOARGS, NULL},
    {"_set_rotation", (PyCFunction)op_set_rotation, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(operation_type_doc,
             "Base class of the operations of glnn.nnets (Beatmup's AbstractOperation); not instantiable.\n"
             "\n"
             "Operations compare equal when they are the same library object, e.g. an op and the object returned "
             "for it by Model.get_operation().");

static PyObject *op_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    (void)args;
    (void)kw;
    PyErr_Format(PyExc_TypeError, "cannot create '%.100s' instances: use an operation class (glnn.nnets.Conv2D, ...)",
                 type->tp_name);
    return NULL;
}

PyTypeObject glnnpy_OperationType = {
    GLNNPY_TYPE_HEAD("glnn.nnets.Operation", glnnpy_OpObject, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                     operation_type_doc),
    .tp_new = op_new,
    .tp_dealloc = (destructor)op_dealloc,
    .tp_richcompare = op_richcompare,
    .tp_hash = (hashfunc)op_hash,
    .tp_getset = op_getset,
    .tp_methods = op_methods,
};

int glnnpy_is_op(PyObject *obj) {
    return PyObject_TypeCheck(obj, &glnnpy_OperationType);
}

PyObject *glnnpy_op_wrap(glnn_op *op) {
    glnnpy_lock();
    glnn_op_retain(op);
    glnnpy_unlock();
    return glnnpy_op_take(op);
}

PyObject *glnnpy_op_take(glnn_op *op) {
    PyObject *cls = op_classes ? PyDict_GetItemString(op_classes, glnn_op_type_name(op)) : NULL;
    return glnnpy_op_object(cls && PyType_Check(cls) ? (PyTypeObject *)cls : &glnnpy_OperationType, op);
}

PyObject *glnnpy_op_object(PyTypeObject *type, glnn_op *op) {
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

/* ---- the descriptions, for _ops.py ---- */

static PyObject *param_dict(const glnn_param_info *p) {
    static const char *const types[] = {"", "int", "bool", "enum"};
    return Py_BuildValue("{s:s,s:s,s:s,s:z,s:z,s:O,s:i,s:i,s:z,s:s}", "name", p->name, "key", p->key, "type",
                         types[p->type], "enum", p->enumeration ? p->enumeration->name : NULL, "enum_what",
                         p->enumeration ? p->enumeration->what : NULL, "required", p->required ? Py_True : Py_False,
                         "default", p->default_value, "listing_default", p->listing_default, "group", p->group, "doc",
                         p->doc ? p->doc : "");
}

/* _op_types(): every op description as a dict (type_name, class_name, counts, doc, summary, params). */
static PyObject *py_op_types(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    PyObject *list = PyList_New(0);
    for (int i = 0; list && glnn_op_info_at(i); i++) {
        const glnn_op_info *info = glnn_op_info_at(i);
        PyObject *params = PyList_New(0), *d = NULL;
        for (int j = 0; params && j < info->n_params; j++) {
            PyObject *p = param_dict(&info->params[j]);
            if (!p || PyList_Append(params, p) < 0) Py_CLEAR(params);
            Py_XDECREF(p);
        }
        if (params)
            d = Py_BuildValue("{s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:O}", "type_name", info->type_name, "class_name",
                              info->class_name, "input_count", info->input_count, "output_count", info->output_count,
                              "repr_positional", info->repr_positional, "summary", info->summary, "doc", info->doc,
                              "params", params);
        Py_XDECREF(params);
        if (!d || PyList_Append(list, d) < 0) Py_CLEAR(list);
        Py_XDECREF(d);
    }
    return list;
}

/* _register_op_class(type_name, cls): the class ops of that type get when the library returns them. */
static PyObject *py_register_op_class(PyObject *self, PyObject *args) {
    (void)self;
    const char *type_name;
    PyObject *cls;
    if (!PyArg_ParseTuple(args, "sO!:_register_op_class", &type_name, &PyType_Type, &cls)) return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)cls, &glnnpy_OperationType)) {
        PyErr_SetString(PyExc_TypeError, "_register_op_class: not a subclass of glnn.nnets.Operation");
        return NULL;
    }
    if (PyDict_SetItemString(op_classes, type_name, cls) < 0) return NULL;
    Py_RETURN_NONE;
}

/* _check_name(what, name): rule V1, raising the library's error. */
static PyObject *py_check_name(PyObject *self, PyObject *args) {
    (void)self;
    const char *what;
    PyObject *name_obj;
    if (!PyArg_ParseTuple(args, "sO:_check_name", &what, &name_obj)) return NULL;
    PyObject *name = glnnpy_utf8(name_obj, what);
    if (!name) return NULL;
    glnn_error err;
    glnn_status s = glnn_op_check_name(what, PyBytes_AS_STRING(name), &err);
    Py_DECREF(name);
    if (s != GLNN_OK) return glnnpy_raise(&err);
    Py_RETURN_NONE;
}

/* _enum_value(enum_class, value): the value of a member, of its name (any case) or of its int value; None when
 * the value is none of these. */
static PyObject *py_enum_value(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cls, *value, *bad = NULL;
    if (!PyArg_ParseTuple(args, "OO:_enum_value", &cls, &value)) return NULL;
    const glnn_enum_info *e = glnnpy_enum_info_of(cls);
    if (!e) {
        PyErr_SetString(PyExc_TypeError, "_enum_value: not an enumeration of glnn");
        return NULL;
    }
    int v;
    if (glnnpy_enum_value(e, value, &v, &bad) < 0) {
        if (!bad) return NULL;
        Py_DECREF(bad);
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(v);
}

PyDoc_STRVAR(py_op_types_doc, "_op_types()\n--\n\nThe library's op descriptions.");

static PyMethodDef functions[] = {
    {"_op_types", py_op_types, METH_NOARGS, py_op_types_doc},
    {"_register_op_class", py_register_op_class, METH_VARARGS, NULL},
    {"_check_name", py_check_name, METH_VARARGS, NULL},
    {"_enum_value", py_enum_value, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

int glnnpy_ops_init(PyObject *module, PyObject *nnets) {
    if (PyType_Ready(&glnnpy_OperationType) < 0) return -1;
    if (!op_classes && !(op_classes = PyDict_New())) return -1;
    if (PyModule_AddFunctions(module, functions) < 0) return -1;
    if (PyModule_AddObjectRef(module, "_op_classes", op_classes) < 0) return -1;
    if (PyModule_AddObjectRef(nnets, "Operation", (PyObject *)&glnnpy_OperationType) < 0 ||
        PyModule_AddObjectRef(nnets, "AbstractOperation", (PyObject *)&glnnpy_OperationType) < 0)
        return -1;
    return 0;
}
