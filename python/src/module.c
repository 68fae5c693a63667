/* glnn Python module: module set-up, errors, the library lock, device contexts, enumerations, numpy
 * helpers and the module-level functions (devices, conv2d, load_image, device_info). */
#define GLNNPY_MAIN
#include "glnnpy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pythread.h"

/* ---------------------------------------------------------------------------------------------------- */
/* Errors                                                                                               */

PyObject *glnnpy_Error, *glnnpy_ArgumentError;

/* Sets `cls(*args)` (a message, or a tuple of arguments) with a `status` attribute naming the library status. */
static PyObject *raise_with_status(PyObject *cls, PyObject *args, const char *status) {
    if (!args) return NULL;
    PyObject *exc = PyTuple_Check(args) ? PyObject_Call(cls, args, NULL) : PyObject_CallOneArg(cls, args);
    Py_DECREF(args);
    if (!exc) return NULL;
    PyObject *st = PyUnicode_FromString(status);
    if (!st || PyObject_SetAttrString(exc, "status", st) < 0) {
        Py_XDECREF(st);
        Py_DECREF(exc);
        return NULL;
    }
    Py_DECREF(st);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *glnnpy_raise(const glnn_error *err) {
    /* Arguments, malformed values given by the user and names or files that do not exist are the
     * caller's values: ArgumentError (a ValueError).  Everything else is a glnn.Error (a RuntimeError). */
    glnn_status s = err->status == GLNN_OK ? GLNN_ERR_STATE : err->status;
    PyObject *cls = (s == GLNN_ERR_ARGUMENT || s == GLNN_ERR_FORMAT || s == GLNN_ERR_NOT_FOUND) ? glnnpy_ArgumentError
                                                                                                : glnnpy_Error;
    const char *msg = err->message[0] ? err->message : "unknown error";
    size_t n = strnlen(msg, sizeof err->message);
    return raise_with_status(cls, PyUnicode_DecodeUTF8(msg, (Py_ssize_t)n, "replace"), glnn_status_name(s));
}

PyObject *glnnpy_raise_file(const glnn_error *err, PyObject *path) {
    if (err->status != GLNN_ERR_NOT_FOUND) return glnnpy_raise(err);
    /* FileNotFoundError(ENOENT, message, path), as open() raises it. */
    size_t n = strnlen(err->message, sizeof err->message);
    return raise_with_status(PyExc_FileNotFoundError,
                             Py_BuildValue("(iNO)", ENOENT,
                                           PyUnicode_DecodeUTF8(err->message, (Py_ssize_t)n, "replace"),
                                           path ? path : Py_None),
                             glnn_status_name(err->status));
}

PyObject *glnnpy_error(glnn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    return raise_with_status(status == GLNN_ERR_ARGUMENT ? glnnpy_ArgumentError : glnnpy_Error, msg,
                             glnn_status_name(status));
}

/* ---------------------------------------------------------------------------------------------------- */
/* The library lock                                                                                     */

static PyThread_type_lock library_lock;

void glnnpy_lock(void) {
    if (PyThread_acquire_lock(library_lock, NOWAIT_LOCK)) return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(library_lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}

void glnnpy_unlock(void) {
    PyThread_release_lock(library_lock);
}
void glnnpy_lock_nogil(void) {
    PyThread_acquire_lock(library_lock, WAIT_LOCK);
}
void glnnpy_unlock_nogil(void) {
    PyThread_release_lock(library_lock);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Devices and contexts                                                                                 */

int glnnpy_device_from_object(PyObject *obj, int max_sampled_channels, glnnpy_device *dev) {
    memset(dev, 0, sizeof *dev);
    if (max_sampled_channels < -1) {
        glnnpy_argument_error("max_sampled_channels must be 0 or more (or -1 for the device's default), got %d",
                              max_sampled_channels);
        return -1;
    }
    dev->max_sampled_channels = max_sampled_channels;
    const char *text = NULL;
    Py_ssize_t n = 0;
    if (obj && obj != Py_None) {
        if (!PyUnicode_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "device must be a str such as 'auto', 'cpu', 'software' or '0', not %.100s",
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
        text = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!text) return -1;
    } else {
        text = getenv("GLNN_DEVICE");
        n = text ? (Py_ssize_t)strlen(text) : 0;
        dev->from_env = n > 0;
    }
    if (!text || n == 0) {
        text = "auto";
        n = 4;
    }
    /* "N: description", as glnn.devices() lists them, means device N. */
    const char *colon = memchr(text, ':', (size_t)n);
    if (colon) n = colon - text;
    while (n > 0 && (text[0] == ' ' || text[0] == '\t'))
        text++, n--;
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= (Py_ssize_t)sizeof dev->name || memchr(text, '\0', (size_t)n)) {
        glnnpy_argument_error("invalid device %R: use 'auto', 'cpu', 'reference', 'gpu', 'software' or a device index",
                              obj ? obj : Py_None);
        return -1;
    }
    memcpy(dev->name, text, (size_t)n);
    dev->name[n] = '\0';
    return 0;
}

typedef struct context_entry {
    unsigned long thread;
    glnnpy_device dev;
    glnn_context *ctx;
    struct context_entry *next;
} context_entry;

static context_entry *contexts; /* guarded by the library lock */

glnn_status glnnpy_context_get(const glnnpy_device *dev, glnn_context **out, glnn_error *err) {
    unsigned long thread = PyThread_get_thread_ident();
    for (context_entry *e = contexts; e; e = e->next)
        if (e->thread == thread && e->dev.max_sampled_channels == dev->max_sampled_channels &&
            strcasecmp(e->dev.name, dev->name) == 0) {
            *out = e->ctx;
            return GLNN_OK;
        }
    context_entry *e = calloc(1, sizeof *e);
    if (!e) {
        err->status = GLNN_ERR_MEMORY;
        snprintf(err->message, sizeof err->message, "create context: out of memory");
        return GLNN_ERR_MEMORY;
    }
    glnn_context_options o;
    glnn_context_options_init(&o);
    o.device = dev->name;
    o.max_sampled_channels = dev->max_sampled_channels;
    glnn_status s = glnn_context_create(&o, &e->ctx, err);
    if (s != GLNN_OK) {
        free(e);
        size_t n = strnlen(err->message, sizeof err->message);
        if (dev->from_env) snprintf(err->message + n, sizeof err->message - n, " (device from GLNN_DEVICE)");
        return s;
    }
    e->thread = thread;
    e->dev = *dev;
    e->next = contexts;
    contexts = e;
    *out = e->ctx;
    return GLNN_OK;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Enumerations                                                                                         */

static PyObject *enum_base; /* enum.Enum */

/* The Python class of each enumeration the op descriptions use (made at import, make_enums). */
typedef struct {
    const glnn_enum_info *info;
    PyObject *cls;
} enum_entry;
static enum_entry enums[16];
static int n_enums;

PyObject *glnnpy_enum_class(const glnn_enum_info *e) {
    for (int i = 0; i < n_enums; i++)
        if (enums[i].info == e) return enums[i].cls;
    return NULL;
}

const glnn_enum_info *glnnpy_enum_info_of(PyObject *cls) {
    for (int i = 0; i < n_enums; i++)
        if (enums[i].cls == cls) return enums[i].info;
    return NULL;
}

const glnn_enum_info *glnnpy_param_enum(const char *type_name, const char *param) {
    const glnn_op_info *info = glnn_op_info_find(type_name);
    for (int i = 0; info && i < info->n_params; i++)
        if (strcmp(info->params[i].name, param) == 0) return info->params[i].enumeration;
    return NULL;
}

PyObject *glnnpy_enum_member(const glnn_enum_info *e, int value) {
    return PyObject_CallFunction(glnnpy_enum_class(e), "i", value);
}

int glnnpy_enum_value(const glnn_enum_info *e, PyObject *obj, int *out, PyObject **bad) {
    *bad = NULL;
    PyObject *cls = glnnpy_enum_class(e);
    int r = cls ? PyObject_IsInstance(obj, cls) : 0;
    if (r < 0) return -1;
    if (r) {
        /* An interned name: a new string per call would be kept, one per call, by the type's attribute cache. */
        static PyObject *value_name;
        if (!value_name && !(value_name = PyUnicode_InternFromString("value"))) return -1;
        PyObject *v = PyObject_GetAttr(obj, value_name);
        if (!v) return -1;
        long value = PyLong_AsLong(v);
        Py_DECREF(v);
        if (value == -1 && PyErr_Occurred()) return -1;
        *out = (int)value;
        return 0;
    }
    if (PyUnicode_Check(obj)) {
        Py_ssize_t n = 0;
        const char *text = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!text) {
            PyErr_Clear();
        } else if ((size_t)n == strlen(text)) {
            for (int i = 0; e->words[i]; i++)
                if (strcasecmp(e->words[i], text) == 0) {
                    *out = i;
                    return 0;
                }
        }
    }
    /* Integers are refused: padding=1 reads as one pixel of padding, not as SAME. */
    *bad = PyObject_Repr(obj);
    return -1;
}

/* enum.Enum(name, [(MEMBER, value), ...], module="glnn.nnets", qualname=e->name) for an enumeration of the op
 * descriptions, members named after its words in upper case, with its docstring. */
static PyObject *make_enum(const glnn_enum_info *e) {
    PyObject *list = PyList_New(0), *cls = NULL, *args = NULL, *kwargs = NULL;
    if (!list) return NULL;
    for (int i = 0; e->words[i]; i++) {
        char upper[64];
        snprintf(upper, sizeof upper, "%s", e->words[i]);
        for (char *c = upper; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        PyObject *item = Py_BuildValue("(si)", upper, i);
        if (!item || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto done;
        }
        Py_DECREF(item);
    }
    const char *dot = strrchr(e->name, '.');
    args = Py_BuildValue("(sO)", dot ? dot + 1 : e->name, list);
    kwargs = Py_BuildValue("{s:s,s:s}", "module", "glnn.nnets", "qualname", e->name);
    if (!args || !kwargs) goto done;
    cls = PyObject_Call(enum_base, args, kwargs);
    if (cls) {
        PyObject *d = PyUnicode_FromString(e->doc);
        if (!d || PyObject_SetAttrString(cls, "__doc__", d) < 0) Py_CLEAR(cls);
        Py_XDECREF(d);
    }
done:
    Py_XDECREF(list);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    return cls;
}

/* Every enumeration the op descriptions use, as a class of glnn.nnets (those named "Class.Name" are attached to
 * their op's class by python/glnn/_ops.py) and in the extension's _enums dict. */
static int make_enums(PyObject *module, PyObject *nnets) {
    PyObject *all = PyDict_New();
    if (!all || PyModule_AddObjectRef(module, "_enums", all) < 0) {
        Py_XDECREF(all);
        return -1;
    }
    Py_DECREF(all);
    for (int i = 0; glnn_op_info_at(i); i++)
        for (int j = 0; j < glnn_op_info_at(i)->n_params; j++) {
            const glnn_enum_info *e = glnn_op_info_at(i)->params[j].enumeration;
            if (!e || glnnpy_enum_class(e)) continue;
            if (n_enums == (int)(sizeof enums / sizeof enums[0])) {
                PyErr_SetString(PyExc_RuntimeError, "glnn: too many enumerations");
                return -1;
            }
            PyObject *cls = make_enum(e);
            if (!cls || PyDict_SetItemString(all, e->name, cls) < 0 ||
                (!strchr(e->name, '.') && PyModule_AddObjectRef(nnets, e->name, cls) < 0)) {
                Py_XDECREF(cls);
                return -1;
            }
            enums[n_enums++] = (enum_entry){e, cls}; /* kept for the life of the process */
        }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Text and numpy helpers                                                                               */

PyObject *glnnpy_utf8(PyObject *obj, const char *what) {
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: the name must be a str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyObject *b = PyUnicode_AsEncodedString(obj, "utf-8", "surrogateescape");
    if (!b) return NULL;
    const char *s = PyBytes_AS_STRING(b);
    Py_ssize_t n = PyBytes_GET_SIZE(b);
    const char *nul = memchr(s, '\0', (size_t)n);
    if (nul) {
        Py_DECREF(b);
        return glnnpy_argument_error("%s: invalid operation name: byte 0x00 at position %zd is not allowed", what,
                                     (Py_ssize_t)(nul - s));
    }
    return b;
}

PyObject *glnnpy_count(const glnn_model *m, const glnn_op *op, glnnpy_counter which) {
    int64_t n = 0;
    glnn_error err;
    glnn_status s;
    glnnpy_lock();
    if (which == GLNNPY_MEMORY_SIZE)
        s = glnn_model_memory_size(m, &n, &err);
    else if (which == GLNNPY_MULTIPLY_ADDS)
        s = m ? glnn_model_count_multiply_adds(m, &n, &err) : glnn_op_count_multiply_adds(op, &n, &err);
    else
        s = m ? glnn_model_count_texel_fetches(m, &n, &err) : glnn_op_count_texel_fetches(op, &n, &err);
    glnnpy_unlock();
    return s == GLNN_OK ? PyLong_FromLongLong((long long)n) : glnnpy_raise(&err);
}

static PyObject *shape_text(PyArrayObject *a) {
    PyObject *shape = PyObject_GetAttrString((PyObject *)a, "shape");
    if (!shape) return NULL;
    PyObject *r = PyObject_Repr(shape);
    Py_DECREF(shape);
    return r;
}

PyArrayObject *glnnpy_data_array(PyObject *obj, const char *what, int min_nd, int max_nd, int *is_float) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(obj);
    if (!a) {
        if (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            return (PyArrayObject *)glnnpy_argument_error("%s must be an array of numbers, got %.100s", what,
                                                          Py_TYPE(obj)->tp_name);
        }
        return NULL;
    }
    int nd = PyArray_NDIM(a);
    if (nd < min_nd || nd > max_nd) {
        PyObject *shape = shape_text(a);
        Py_DECREF(a);
        if (!shape) return NULL;
        if (min_nd == max_nd)
            glnnpy_argument_error("%s must be a %d-dimensional array, got shape %U", what, min_nd, shape);
        else
            glnnpy_argument_error("%s must be a %d- to %d-dimensional array, got shape %U", what, min_nd, max_nd,
                                  shape);
        Py_DECREF(shape);
        return NULL;
    }
    if (PyArray_SIZE(a) == 0) {
        PyObject *shape = shape_text(a);
        Py_DECREF(a);
        if (shape) glnnpy_argument_error("%s is empty (shape %U)", what, shape);
        Py_XDECREF(shape);
        return NULL;
    }
    char kind = PyArray_DESCR(a)->kind;
    PyArrayObject *out = NULL;
    if (kind == 'f') {
        *is_float = 1;
        out = (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    } else if (kind == 'u' || kind == 'i') {
        *is_float = 0;
        if (PyArray_TYPE(a) != NPY_UINT8) {
            /* Other integer types are accepted when every value is a byte. */
            PyArrayObject *wide =
                (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_INT64, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
            if (!wide) {
                Py_DECREF(a);
                return NULL;
            }
            const int64_t *v = PyArray_DATA(wide);
            for (npy_intp i = 0, n = PyArray_SIZE(wide); i < n; i++)
                if (v[i] < 0 || v[i] > 255) { /* uint64 values beyond int64 read as negative */
                    glnnpy_argument_error("%s: integer data must lie in 0..255 (uint8), got %lld at flat index %zd",
                                          what, (long long)v[i], (Py_ssize_t)i);
                    Py_DECREF(wide);
                    Py_DECREF(a);
                    return NULL;
                }
            Py_DECREF(wide);
        }
        out = (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_UINT8, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    } else {
        PyObject *dtype = PyObject_Str((PyObject *)PyArray_DESCR(a));
        if (dtype) glnnpy_argument_error("%s must hold uint8 or floating-point values, got dtype %U", what, dtype);
        Py_XDECREF(dtype);
    }
    Py_DECREF(a);
    return out;
}

PyArrayObject *glnnpy_quantize_array(PyArrayObject *a, const char *what) {
    PyArrayObject *q = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(a), PyArray_DIMS(a), NPY_UINT8);
    if (!q) return NULL;
    glnn_error err;
    if (glnn_quantize_f32(PyArray_DATA(a), PyArray_DATA(q), (int64_t)PyArray_SIZE(a), &err) == GLNN_OK) return q;
    Py_DECREF(q);
    /* The library's message names itself ("quantize: ..."); ours names the argument. */
    const char *cause = strncmp(err.message, "quantize: ", 10) == 0 ? err.message + 10 : err.message;
    return (PyArrayObject *)glnnpy_argument_error("%s: %s", what, cause);
}

/* ---------------------------------------------------------------------------------------------------- */
/* Module functions                                                                                     */

PyDoc_STRVAR(devices_doc,
             "devices($module, /)\n--\n\n-> list of str\n\n"
             "The devices glnn can run on: one entry 'N: description' per EGL device (pass N, or the whole\n"
             "entry, as device=...), then 'cpu' (the fast CPU back end) and 'reference' (the plain-C reference).\n"
             "'auto' (the default, or the GLNN_DEVICE environment variable) picks the first hardware GPU, else\n"
             "'cpu' (the software renderer when GLNN_PATH names a GPU path); 'gpu' the first hardware GPU, else\n"
             "Mesa's software renderer; 'software' the latter.");

static PyObject *py_devices(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    size_t size = 4096, length = 0;
    char *buf = NULL;
    glnn_status s = GLNN_OK;
    glnn_error err;
    for (int attempt = 0; attempt < 3; attempt++) {
        char *next = realloc(buf, size);
        if (!next) {
            free(buf);
            return PyErr_NoMemory();
        }
        buf = next;
        Py_BEGIN_ALLOW_THREADS
        glnnpy_lock_nogil();
        s = glnn_list_devices(buf, size, &length, &err);
        glnnpy_unlock_nogil();
        Py_END_ALLOW_THREADS
        if (s != GLNN_OK || length < size) break;
        size = length + 1;
    }
    PyObject *list = PyList_New(0);
    if (!list) {
        free(buf);
        return NULL;
    }
    if (s == GLNN_OK) {
        for (char *line = buf; *line;) {
            char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            if (n > 0) {
                PyObject *item = PyUnicode_DecodeUTF8(line, (Py_ssize_t)n, "replace");
                if (!item || PyList_Append(list, item) < 0) {
                    Py_XDECREF(item);
                    Py_DECREF(list);
                    free(buf);
                    return NULL;
                }
                Py_DECREF(item);
            }
            if (!nl) break;
            line = nl + 1;
        }
    }
    free(buf);
    for (int i = 0; i < 2; i++) {
        PyObject *name = PyUnicode_FromString(i ? "reference" : "cpu");
        if (!name || PyList_Append(list, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(name);
    }
    return list;
}

PyDoc_STRVAR(device_info_doc,
             "device_info($module, /, device=None, max_sampled_channels=-1)\n--\n\n-> str\n\n"
             "A multi-line report on the device: renderer, driver, GL and GLSL versions and the limits glnn\n"
             "relies on.  Creates (and caches, for the calling thread) the device's context.");

static PyObject *py_device_info(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    static char *kwlist[] = {"device", "max_sampled_channels", NULL};
    PyObject *device = Py_None;
    int limit = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Oi:device_info", kwlist, &device, &limit)) return NULL;
    glnnpy_device dev;
    if (glnnpy_device_from_object(device, limit, &dev) < 0) return NULL;
    char text[4096];
    glnn_error err;
    glnn_status s;
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    glnn_context *ctx = NULL;
    s = glnnpy_context_get(&dev, &ctx, &err);
    if (s == GLNN_OK) glnn_context_describe(ctx, text, sizeof text);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    if (s != GLNN_OK) return glnnpy_raise(&err);
    return PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
}

PyDoc_STRVAR(load_image_doc,
             "load_image($module, path, /)\n--\n\n-> numpy.ndarray\n\n"
             "Decodes a PNG, JPEG or BMP file into a uint8 array of shape (H, W, 3), RGB, row 0 at the top.");

static PyObject *py_load_image(PyObject *self, PyObject *arg) {
    (void)self;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    uint8_t *pixels = NULL;
    int64_t h = 0, w = 0;
    glnn_error err;
    glnn_status s;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    s = glnn_image_load(p, &pixels, &h, &w, &err);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (s != GLNN_OK) return glnnpy_raise_file(&err, arg);
    npy_intp dims[3] = {(npy_intp)h, (npy_intp)w, 3};
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(3, dims, NPY_UINT8);
    if (a) memcpy(PyArray_DATA(a), pixels, (size_t)(h * w * 3));
    glnn_free(pixels);
    return (PyObject *)a;
}

PyDoc_STRVAR(conv2d_doc,
             "conv2d($module, /, input, weights, bias=None, residual=None, stride=1, padding='valid', groups=1, "
             "activation='default', device=None)\n--\n\n-> numpy.ndarray\n\n"
             "One Conv2D (SPEC §4) on its own, on the chosen device.\n\n"
             "input     (H, W, C) uint8, or floats in [0, 1] (quantized with Q); C = 3 means an image input\n"
             "          (then groups=1 and padding 'valid'), otherwise C is a multiple of 4.\n"
             "weights   float32 HWIO array (k, k, C/groups, Cout); a Keras depthwise kernel (k, k, C, 1) is\n"
             "          accepted with groups=C.\n"
             "bias      None (no bias) or (Cout,) floats.\n"
             "residual  None or (H', W', Cout) uint8 or floats, added before the activation.\n"
             "padding   'valid' / 'same' or glnn.nnets.Padding; activation 'default' / 'brelu6' /\n"
             "          'sigmoid_like' or glnn.nnets.ActivationFunction.\n"
             "device    None (GLNN_DEVICE, else 'auto'), 'cpu', 'software', 'auto' or a device index.\n\n"
             "Returns the uint8 output (H', W', Cout).  Non-contiguous or other-typed arrays are copied.\n"
             "The GIL is released while the device works.");

/* What one call of conv2d works on. */
typedef struct conv_call {
    PyArrayObject *input, *weights, *bias, *residual; /* weights and bias float32 */
    int in_float, res_float;
    glnn_conv2d_params p;
    glnnpy_device dev;
} conv_call;

static void conv_call_clear(conv_call *c) {
    Py_XDECREF(c->input);
    Py_XDECREF(c->weights);
    Py_XDECREF(c->bias);
    Py_XDECREF(c->residual);
}

/* padding and activation: a member of their enumeration or its name; -1 with ArgumentError otherwise. */
static int conv_enums(PyObject *padding, PyObject *activation, conv_call *c) {
    struct {
        PyObject *obj;
        const char *param, *expected;
        int *out;
    } e[2] = {{padding, "padding", "'valid' or 'same', or glnn.nnets.Padding", (int *)&c->p.padding},
              {activation, "activation", "'default', 'brelu6' or 'sigmoid_like', or glnn.nnets.ActivationFunction",
               (int *)&c->p.activation}};
    for (int i = 0; i < 2; i++) {
        PyObject *bad = NULL;
        const glnn_enum_info *info = glnnpy_param_enum("conv2d", e[i].param);
        if (!e[i].obj || glnnpy_enum_value(info, e[i].obj, e[i].out, &bad) == 0) continue;
        if (bad) glnnpy_argument_error("conv2d: invalid %s %U (expected %s)", info->what, bad, e[i].expected);
        Py_XDECREF(bad);
        return -1;
    }
    return 0;
}

/* An array of numbers converted to float32, or NULL with ArgumentError: "conv2d: <what> must be <expected>". */
static PyArrayObject *float_array(PyObject *obj, const char *what, const char *expected) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(obj);
    if (a && (PyArray_ISFLOAT(a) || PyArray_ISINTEGER(a))) {
        PyArrayObject *f =
            (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
        Py_DECREF(a);
        return f;
    }
    Py_XDECREF(a);
    if (a || PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        glnnpy_argument_error("conv2d: %s must be %s, got %.100s", what, expected, Py_TYPE(obj)->tp_name);
    }
    return NULL;
}

/* The HWIO filters (k, k, C/groups, Cout), or a Keras depthwise kernel (k, k, C, 1) with groups = C; fills the
 * kernel size and channel counts. */
static int conv_weights(PyObject *obj, int groups, conv_call *c) {
    if (!(c->weights = float_array(obj, "weights", "an array of numbers"))) return -1;
    npy_intp *wd = PyArray_DIMS(c->weights);
    if (PyArray_NDIM(c->weights) != 4 || PyArray_SIZE(c->weights) == 0) {
        PyObject *shape = shape_text(c->weights);
        if (shape)
            glnnpy_argument_error("conv2d: weights must be a non-empty float32 array (k, k, C/groups, Cout), got "
                                  "shape %U",
                                  shape);
        Py_XDECREF(shape);
        return -1;
    }
    int64_t k = wd[0], cg = wd[2], cout = wd[3], cin = PyArray_DIMS(c->input)[2];
    if (wd[0] != wd[1]) {
        glnnpy_argument_error("conv2d: the kernel must be square (k, k, C/groups, Cout), got %zdx%zd",
                              (Py_ssize_t)wd[0], (Py_ssize_t)wd[1]);
        return -1;
    }
    if (groups > 1 && groups == cin && cg == cin && cout == 1 && cin > 1) {
        cg = 1; /* a Keras DepthwiseConv2D kernel (k, k, C, 1) has the flat order of (k, k, 1, C) */
        cout = cin;
    }
    if (groups >= 1 && cg * groups != cin) {
        glnnpy_argument_error("conv2d: the input has %lld channels, but weights of shape (%lld, %lld, %lld, %lld) "
                              "with groups=%d need %lld",
                              (long long)cin, (long long)wd[0], (long long)wd[1], (long long)wd[2], (long long)wd[3],
                              groups, (long long)(cg * groups));
        return -1;
    }
    if (k > 1000000 || cin > 1000000 || cout > 1000000) {
        glnnpy_argument_error("conv2d: sizes out of range");
        return -1;
    }
    c->p.kernel_size = (int)k;
    c->p.num_input_channels = (int)cin;
    c->p.num_output_channels = (int)cout;
    c->p.num_groups = groups;
    return 0;
}

/* None, or Cout float values. */
static int conv_bias(PyObject *obj, conv_call *c) {
    c->p.use_bias = obj != Py_None;
    if (obj == Py_None) return 0;
    char expected[64];
    snprintf(expected, sizeof expected, "None or %d numbers", c->p.num_output_channels);
    if (!(c->bias = float_array(obj, "bias", expected))) return -1;
    if (PyArray_NDIM(c->bias) == 1 && PyArray_DIMS(c->bias)[0] == c->p.num_output_channels) return 0;
    PyObject *shape = shape_text(c->bias);
    if (shape) glnnpy_argument_error("conv2d: bias must have shape (%d,), got %U", c->p.num_output_channels, shape);
    Py_XDECREF(shape);
    return -1;
}

/* Uploads a (H, W, C) array as a tensor (or, for image=1, an image) on ctx.  Runs without the GIL. */
static glnn_status upload(glnn_context *ctx, PyArrayObject *a, int is_float, int image, glnn_tensor **out,
                          glnn_error *err) {
    npy_intp *d = PyArray_DIMS(a);
    if (image) return glnn_image_create(ctx, PyArray_DATA(a), d[0], d[1], (int)d[2], out, err);
    glnn_shape shape = {GLNN_KIND_TENSOR, d[0], d[1], d[2]};
    glnn_status s = glnn_tensor_create(ctx, shape, out, err);
    if (s != GLNN_OK) return s;
    s = is_float ? glnn_tensor_upload_f32(*out, PyArray_DATA(a), (int64_t)PyArray_SIZE(a), err)
                 : glnn_tensor_upload_u8(*out, PyArray_DATA(a), (int64_t)PyArray_SIZE(a), err);
    if (s != GLNN_OK) {
        glnn_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

/* Runs op on the call's inputs on its device and downloads the output into a new malloc'ed *bytes.  Called with
 * the lock held and without the GIL. */
static glnn_status conv_execute(const conv_call *c, glnn_op *op, const glnn_chunks *chunks, uint8_t **bytes,
                                glnn_shape *shape, glnn_error *err) {
    glnn_context *ctx = NULL;
    glnn_tensor *in[2] = {NULL, NULL}, *out = NULL;
    glnn_status s = glnnpy_context_get(&c->dev, &ctx, err);
    if (s == GLNN_OK) s = upload(ctx, c->input, c->in_float, c->p.num_input_channels == 3, &in[0], err);
    if (s == GLNN_OK && c->residual) s = upload(ctx, c->residual, c->res_float, 0, &in[1], err);
    if (s == GLNN_OK) s = glnn_op_run(ctx, op, chunks, in, 2, &out, err);
    int64_t n = s == GLNN_OK ? glnn_shape_count(*shape = glnn_tensor_shape(out)) : 0;
    if (s == GLNN_OK && !(*bytes = malloc((size_t)(n > 0 ? n : 1)))) {
        s = err->status = GLNN_ERR_MEMORY;
        snprintf(err->message, sizeof err->message, "conv2d: out of memory");
    }
    if (s == GLNN_OK) s = glnn_tensor_download_u8(out, *bytes, n, err);
    glnn_tensor_free(out);
    glnn_tensor_free(in[0]);
    glnn_tensor_free(in[1]);
    return s;
}

/* Creates the op and its weights, runs it with the GIL released, and returns the uint8 output array. */
static PyObject *conv_run(conv_call *c) {
    glnn_op *op = NULL;
    glnn_chunks *chunks = NULL;
    glnn_error err;
    glnn_status s = glnn_conv2d_create(&c->p, &op, &err);
    if (s == GLNN_OK) s = glnn_chunks_create(&chunks, &err);
    if (s == GLNN_OK)
        s = glnn_chunks_set_weights(chunks, "conv2d", PyArray_DATA(c->weights), (int64_t)PyArray_SIZE(c->weights),
                                    c->bias ? PyArray_DATA(c->bias) : NULL,
                                    c->bias ? (int64_t)PyArray_SIZE(c->bias) : 0, &err);
    uint8_t *bytes = NULL;
    glnn_shape shape = {0, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    if (s == GLNN_OK) s = conv_execute(c, op, chunks, &bytes, &shape, &err);
    glnn_op_release(op);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    glnn_chunks_free(chunks);
    PyObject *result = NULL;
    if (s != GLNN_OK) {
        glnnpy_raise(&err);
    } else {
        npy_intp dims[3] = {(npy_intp)shape.h, (npy_intp)shape.w, (npy_intp)shape.c};
        result = PyArray_SimpleNew(3, dims, NPY_UINT8);
        if (result) memcpy(PyArray_DATA((PyArrayObject *)result), bytes, (size_t)glnn_shape_count(shape));
    }
    free(bytes);
    return result;
}

static PyObject *py_conv2d(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    static char *kwlist[] = {"input",   "weights", "bias",       "residual", "stride",
                             "padding", "groups",  "activation", "device",   NULL};
    PyObject *input, *weights, *bias = Py_None, *residual = Py_None, *padding = NULL, *activation = NULL,
                               *device = Py_None;
    conv_call c = {0};
    glnn_conv2d_params_init(&c.p);
    c.p.name = "conv2d";
    int groups = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOiOiOO:conv2d", kwlist, &input, &weights, &bias, &residual,
                                     &c.p.stride, &padding, &groups, &activation, &device))
        return NULL;
    PyObject *result = NULL;
    if (conv_enums(padding, activation, &c) == 0 && glnnpy_device_from_object(device, -1, &c.dev) == 0 &&
        (c.input = glnnpy_data_array(input, "conv2d: input", 3, 3, &c.in_float)) &&
        conv_weights(weights, groups, &c) == 0 && conv_bias(bias, &c) == 0 &&
        (residual == Py_None || (c.residual = glnnpy_data_array(residual, "conv2d: residual", 3, 3, &c.res_float)))) {
        if (c.p.num_input_channels == 3 && c.in_float) {
            /* Images are bytes: a float image is quantized here, with the same rule as tensors. */
            PyArrayObject *q = glnnpy_quantize_array(c.input, "conv2d: input");
            Py_DECREF(c.input);
            c.input = q;
            c.in_float = 0;
        }
        if (c.input) result = conv_run(&c);
    }
    conv_call_clear(&c);
    return result;
}

static PyMethodDef module_methods[] = {
    {"devices", py_devices, METH_NOARGS, devices_doc},
    {"device_info", (PyCFunction)(void (*)(void))py_device_info, METH_VARARGS | METH_KEYWORDS, device_info_doc},
    {"conv2d", (PyCFunction)(void (*)(void))py_conv2d, METH_VARARGS | METH_KEYWORDS, conv2d_doc},
    {"load_image", py_load_image, METH_O, load_image_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(module_doc,
             "glnn: 8-bit convolutional networks on GPUs through OpenGL ES, and on a CPU reference.\n\n"
             "The operations live in glnn.nnets (Conv2D, Pooling2D, Dense, Softmax, ImageSampler, Model,\n"
             "DeserializedModel).  Model data come in ChunkFile / WritableChunkCollection objects; an\n"
             "InferenceTask binds inputs and runs a model on a device.  glnn.conv2d runs one convolution.\n\n"
             "Values: a byte q stands for q/255; images and tensors are numpy arrays (H, W, C).\n"
             "Errors raise glnn.Error (a RuntimeError); bad arguments raise glnn.ArgumentError, which is both a\n"
             "glnn.Error and a ValueError.  The exception's `status` attribute names the library status.\n\n"
             "Threads: the GIL is released while a device works, and calls into the library are serialized by\n"
             "one lock.  A GPU context is bound to the thread that created it: glnn keeps one context per\n"
             "thread and device; run a model from the thread that prepared it.");

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "glnn._glnn", module_doc, -1, module_methods, NULL, NULL, NULL, NULL};

PyDoc_STRVAR(nnets_doc, "glnn.nnets: neural network operations and models, with Beatmup's Python names.");

static struct PyModuleDef nnets_def = {
    PyModuleDef_HEAD_INIT, "glnn.nnets", nnets_doc, -1, NULL, NULL, NULL, NULL, NULL};

static int add_object(PyObject *module, const char *name, PyObject *obj) {
    Py_INCREF(obj);
    if (PyModule_AddObject(module, name, obj) < 0) {
        Py_DECREF(obj);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__glnn(void) {
    import_array();
    if (!library_lock && !(library_lock = PyThread_allocate_lock())) return PyErr_NoMemory();
    PyObject *m = PyModule_Create(&module_def), *nnets = NULL, *enum_mod = NULL;
    if (!m) return NULL;
    nnets = PyModule_Create(&nnets_def);
    if (!nnets) goto fail;

    glnnpy_Error = PyErr_NewExceptionWithDoc(
        "glnn.Error",
        "A glnn call failed: the message names the operation and the cause; `status` names the library status "
        "(e.g. 'device error', 'invalid argument').",
        PyExc_RuntimeError, NULL);
    if (!glnnpy_Error) goto fail;
    PyObject *bases = PyTuple_Pack(2, glnnpy_Error, PyExc_ValueError);
    if (!bases) goto fail;
    glnnpy_ArgumentError = PyErr_NewExceptionWithDoc(
        "glnn.ArgumentError", "An argument or a value given to glnn is invalid (a glnn.Error and a ValueError).", bases,
        NULL);
    Py_DECREF(bases);
    if (!glnnpy_ArgumentError) goto fail;
    if (add_object(m, "Error", glnnpy_Error) < 0 || add_object(m, "ArgumentError", glnnpy_ArgumentError) < 0) goto fail;

    enum_mod = PyImport_ImportModule("enum");
    if (!enum_mod) goto fail;
    enum_base = PyObject_GetAttrString(enum_mod, "Enum");
    if (!enum_base) goto fail;
    if (make_enums(m, nnets) < 0) goto fail;
    if (glnnpy_ops_init(m, nnets) < 0 || glnnpy_chunks_init(m) < 0 || glnnpy_model_init(m, nnets) < 0) goto fail;
    if (PyModule_AddStringConstant(m, "__version__", GLNN_VERSION) < 0) goto fail;
    /* Chunk collections and the inference task are also reachable from glnn.nnets. */
    const char *shared[] = {"ChunkCollection", "ChunkFile", "WritableChunkCollection", NULL};
    for (int i = 0; shared[i]; i++) {
        PyObject *t = PyObject_GetAttrString(m, shared[i]);
        if (!t || PyModule_AddObject(nnets, shared[i], t) < 0) {
            Py_XDECREF(t);
            goto fail;
        }
    }
    if (add_object(m, "nnets", nnets) < 0) goto fail;
    if (PyDict_SetItemString(PyImport_GetModuleDict(), "glnn.nnets", nnets) < 0) goto fail;
    Py_DECREF(nnets);
    Py_DECREF(enum_mod);
    return m;
fail:
    Py_XDECREF(enum_mod);
    Py_XDECREF(nnets);
    Py_DECREF(m);
    return NULL;
}
