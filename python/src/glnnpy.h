/* glnn Python module: declarations shared by the C files of the extension.  Only the public C API
 * (glnn.h) is used.
 *
 * Locking.  Every call into the library that reads or changes shared state runs under one global lock
 * (glnnpy_lock).  Long work (running a model, a convolution, creating a context, reading a file) runs
 * with the GIL released and the lock held, so other Python threads keep running, and an object can
 * never be changed or freed by another thread while the library works on it.  Code holding the lock
 * never calls back into Python (no object is created or released there), so the lock is never taken
 * twice by one thread. */
#ifndef GLNNPY_H
#define GLNNPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PY_ARRAY_UNIQUE_SYMBOL glnnpy_ARRAY_API
#ifndef GLNNPY_MAIN
#define NO_IMPORT_ARRAY
#endif
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "glnn.h"

/* ---- errors (module.c) ---- */
extern PyObject *glnnpy_Error;         /* glnn.Error(RuntimeError) */
extern PyObject *glnnpy_ArgumentError; /* glnn.ArgumentError(glnn.Error, ValueError) */

/* Raises the Python exception for a library error; returns NULL. */
PyObject *glnnpy_raise(const glnn_error *err);
/* The same for a call that read the file `path` (may be NULL): a missing file raises FileNotFoundError. */
PyObject *glnnpy_raise_file(const glnn_error *err, PyObject *path);
/* Raises the exception of a library status (GLNN_ERR_ARGUMENT: glnn.ArgumentError, GLNN_ERR_STATE: glnn.Error) with
 * a formatted message (PyUnicode_FromFormat syntax); returns NULL. */
PyObject *glnnpy_error(glnn_status status, const char *fmt, ...);
#define glnnpy_argument_error(...) glnnpy_error(GLNN_ERR_ARGUMENT, __VA_ARGS__)
#define glnnpy_state_error(...) glnnpy_error(GLNN_ERR_STATE, __VA_ARGS__)

/* The first fields of a static type of the extension: its name, the size of its objects, flags and docstring (a
 * text signature first for instantiable types: "Name(args)\n--\n\n..."). */
#define GLNNPY_TYPE_HEAD(name, object_type, flags, doc)                                                                \
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = name, .tp_basicsize = sizeof(object_type), .tp_flags = (flags),           \
                                .tp_doc = doc

/* Defines the METH_NOARGS method `name` of objects of `type` as call(self, arg): one function serving several
 * methods (items and values, the counters, ...). */
#define GLNNPY_NOARGS_METHOD(name, type, call, arg)                                                                    \
    static PyObject *name(type *self, PyObject *noargs) {                                                              \
        (void)noargs;                                                                                                  \
        return call(self, arg);                                                                                        \
    }

/* ---- the library lock (module.c) ---- */
/* Takes the lock while holding the GIL (the GIL is released while waiting for another thread). */
void glnnpy_lock(void);
void glnnpy_unlock(void);
/* Lock taken / released without the GIL (inside Py_BEGIN_ALLOW_THREADS). */
void glnnpy_lock_nogil(void);
void glnnpy_unlock_nogil(void);

/* ---- devices (module.c) ---- */
/* A device request: the device text given by the user ("auto", "cpu", "software", "N"; "" for
 * GLNN_DEVICE or auto) and the sampling limit (-1: the device's default). */
typedef struct glnnpy_device {
    char name[64];
    int max_sampled_channels;
    int from_env; /* the name came from GLNN_DEVICE: errors say so */
} glnnpy_device;
/* Fills dev from a Python value: None, a str ("N: description" is accepted and means "N"). */
int glnnpy_device_from_object(PyObject *obj, int max_sampled_channels, glnnpy_device *dev);
/* The cached context of the calling thread for dev, created on first use.  Call with the lock held and
 * without the GIL.  Contexts are kept for the life of the process: ops and models keep device
 * resources on the context they ran on. */
glnn_status glnnpy_context_get(const glnnpy_device *dev, glnn_context **out, glnn_error *err);

/* ---- enumerations (module.c): a Python enum.Enum class per enumeration of the op descriptions ---- */
/* The class of an enumeration, NULL when unknown; the enumeration of a class, NULL when not one of glnn's. */
PyObject *glnnpy_enum_class(const glnn_enum_info *e);
const glnn_enum_info *glnnpy_enum_info_of(PyObject *cls);
/* The enumeration of parameter `param` of op type `type_name` ("conv2d", "padding"). */
const glnn_enum_info *glnnpy_param_enum(const char *type_name, const char *param);
/* Converts a member of the enumeration or its name (any case); integers are refused.  Returns 0 and
 * *out, or -1 with *bad set to a new str describing the value (no exception set), or -1 with an
 * exception set and *bad NULL. */
int glnnpy_enum_value(const glnn_enum_info *e, PyObject *obj, int *out, PyObject **bad);
/* The enumeration member of a value (new reference). */
PyObject *glnnpy_enum_member(const glnn_enum_info *e, int value);

/* ---- operations (ops.c; the classes are built from the op descriptions by python/glnn/_ops.py) ---- */
typedef struct {
    PyObject_HEAD
    glnn_op *op;
} glnnpy_OpObject;

extern PyTypeObject glnnpy_OperationType;
/* Operation, the op descriptions and their helpers, in the extension module and glnn.nnets. */
int glnnpy_ops_init(PyObject *module, PyObject *nnets);
/* A new object of `type` (a subclass of Operation) holding op, taking over the caller's reference (released on
 * failure). */
PyObject *glnnpy_op_object(PyTypeObject *type, glnn_op *op);
/* A new Python object for op (takes a new reference to op). */
PyObject *glnnpy_op_wrap(glnn_op *op);
/* The same, taking over a reference the caller holds (released on failure). */
PyObject *glnnpy_op_take(glnn_op *op);
int glnnpy_is_op(PyObject *obj);

/* count_multiply_adds and count_texel_fetches, the methods <prefix>_count_multiply_adds and
 * <prefix>_count_texel_fetches of objects of `type`, through call(self, GLNNPY_MULTIPLY_ADDS or
 * GLNNPY_TEXEL_FETCHES); `what` ends their docstrings (what is counted and when). */
#define GLNNPY_COUNTER_METHODS(prefix, type, call, what)                                                               \
    PyDoc_STRVAR(prefix##_count_multiply_adds_doc,                                                                     \
                 "count_multiply_adds($self, /)\n--\n\n-> int\n\nMultiply-adds " what);                                \
    PyDoc_STRVAR(prefix##_count_texel_fetches_doc,                                                                     \
                 "count_texel_fetches($self, /)\n--\n\n-> int\n\nTexel fetches " what);                                \
    GLNNPY_NOARGS_METHOD(prefix##_count_multiply_adds, type, call, GLNNPY_MULTIPLY_ADDS)                               \
    GLNNPY_NOARGS_METHOD(prefix##_count_texel_fetches, type, call, GLNNPY_TEXEL_FETCHES)

/* The counters of SPEC §4.8 and a model's memory, read under the lock: an int, or the library's error. */
typedef enum { GLNNPY_MULTIPLY_ADDS, GLNNPY_TEXEL_FETCHES, GLNNPY_MEMORY_SIZE } glnnpy_counter;
/* Of the model m, or of the op when m is NULL (ops have no memory size). */
PyObject *glnnpy_count(const glnn_model *m, const glnn_op *op, glnnpy_counter which);

/* Text of a Python str as UTF-8 without NUL bytes: a new bytes object, or NULL with an exception
 * (TypeError for a non-str, ArgumentError naming `what` for a NUL). */
PyObject *glnnpy_utf8(PyObject *obj, const char *what);

/* ---- chunk collections (chunks.c) ---- */
typedef struct {
    PyObject_HEAD
    glnn_chunks *chunks; /* NULL once closed */
    PyObject *path;      /* ChunkFile: the path as given (str); NULL otherwise */
    int writable;
    unsigned long long version; /* changes whenever the content may have changed */
} glnnpy_ChunksObject;

extern PyTypeObject glnnpy_ChunkCollectionType, glnnpy_ChunkFileType, glnnpy_WritableChunkCollectionType;
int glnnpy_chunks_init(PyObject *module);
int glnnpy_is_chunks(PyObject *obj);
/* A new, process-wide unique version number. */
unsigned long long glnnpy_next_version(void);
/* The chunks of an open collection, or NULL with an exception ("closed"). */
glnn_chunks *glnnpy_chunks_get(glnnpy_ChunksObject *c);

/* ---- models, and what glnn.InferenceTask (python/glnn/_task.py) needs of them (model.c) ---- */
extern PyTypeObject glnnpy_ModelType, glnnpy_DeserializedModelType;
int glnnpy_model_init(PyObject *module, PyObject *nnets);

/* ---- numpy helpers (module.c) ---- */
/* Converts obj to a C-contiguous aligned array of bytes or float32 (a copy when needed): integer data
 * must lie in 0..255; floats are converted to float32 (NaN kept).  ndim must be within [min_nd,
 * max_nd].  *is_float tells which.  `what` names the argument in messages.  New reference or NULL. */
PyArrayObject *glnnpy_data_array(PyObject *obj, const char *what, int min_nd, int max_nd, int *is_float);
/* Quantizes float32 data to bytes with Q (SPEC §2.2, glnn_quantize_f32): a value outside [0, 1], a NaN or ±∞
 * raises ArgumentError naming its flat index and how to fix it.  Returns a new uint8 array of the same shape, or
 * NULL. */
PyArrayObject *glnnpy_quantize_array(PyArrayObject *a, const char *what);

#endif
