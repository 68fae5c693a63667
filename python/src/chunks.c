/* glnn Python module: chunk collections (SPEC §9).  ChunkFile is a read-only mapping over a chunk file
 * read into memory; WritableChunkCollection a mutable one that can be saved.  Ids are str (UTF-8) or
 * bytes; values are bytes. */
#include "glnnpy.h"

#include <stdlib.h>
#include <string.h>

static unsigned long long version_counter;

unsigned long long glnnpy_next_version(void) {
    return ++version_counter;
}

int glnnpy_is_chunks(PyObject *obj) {
    return PyObject_TypeCheck(obj, &glnnpy_ChunkCollectionType);
}

glnn_chunks *glnnpy_chunks_get(glnnpy_ChunksObject *c) {
    if (c->chunks) return c->chunks;
    if (c->path)
        glnnpy_argument_error("ChunkFile %R is closed", c->path);
    else
        glnnpy_argument_error("the chunk collection is closed");
    return NULL;
}

/* The bytes of a chunk id: a new bytes object, or NULL with TypeError. */
static PyObject *chunk_id(PyObject *key) {
    if (PyUnicode_Check(key)) return PyUnicode_AsEncodedString(key, "utf-8", "surrogateescape");
    if (PyBytes_Check(key)) {
        Py_INCREF(key);
        return key;
    }
    PyErr_Format(PyExc_TypeError, "chunk ids are str or bytes, not %.100s", Py_TYPE(key)->tp_name);
    return NULL;
}

static PyObject *id_str(const char *id, size_t len) {
    return PyUnicode_DecodeUTF8(id, (Py_ssize_t)len, "surrogateescape");
}

static void chunks_dealloc(glnnpy_ChunksObject *self) {
    if (self->chunks) {
        glnnpy_lock();
        glnn_chunks_free(self->chunks);
        self->chunks = NULL;
        glnnpy_unlock();
    }
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- mapping protocol ---- */

static Py_ssize_t chunks_length(glnnpy_ChunksObject *self) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    return c ? (Py_ssize_t)glnn_chunks_count(c) : -1;
}

/* 1 and a new bytes object holding the payload, 0 when absent, -1 on error. */
static int lookup(glnnpy_ChunksObject *self, PyObject *key, PyObject **payload) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    if (!c) return -1;
    PyObject *id = chunk_id(key);
    if (!id) return -1;
    const void *data = NULL;
    size_t size = 0;
    bool found = glnn_chunks_get(c, PyBytes_AS_STRING(id), (size_t)PyBytes_GET_SIZE(id), &data, &size);
    Py_DECREF(id);
    if (!found) return 0;
    if (payload) {
        *payload = PyBytes_FromStringAndSize(size ? data : "", (Py_ssize_t)size);
        if (!*payload) return -1;
    }
    return 1;
}

static PyObject *chunks_subscript(glnnpy_ChunksObject *self, PyObject *key) {
    PyObject *payload = NULL;
    int r = lookup(self, key, &payload);
    if (r == 0) PyErr_SetObject(PyExc_KeyError, key);
    return r > 0 ? payload : NULL;
}

static int chunks_contains(glnnpy_ChunksObject *self, PyObject *key) {
    if (!PyUnicode_Check(key) && !PyBytes_Check(key)) return 0;
    return lookup(self, key, NULL);
}

/* The ids (labels 0) or the class names of the chunk 'labels' (SPEC §9; labels 1) as a list of str. */
static PyObject *string_list(glnnpy_ChunksObject *self, int labels) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    if (!c) return NULL;
    size_t n = labels ? glnn_chunks_label_count(c) : glnn_chunks_count(c);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const char *text = "";
        size_t len = 0;
        if (labels)
            glnn_chunks_label_at(c, i, &text, &len);
        else
            glnn_chunks_id_at(c, i, &text, &len);
        PyObject *s = labels ? PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace") : id_str(text, len);
        if (!s)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

GLNNPY_NOARGS_METHOD(chunks_keys, glnnpy_ChunksObject, string_list, 0)

static PyObject *chunks_iter(glnnpy_ChunksObject *self) {
    PyObject *keys = chunks_keys(self, NULL);
    if (!keys) return NULL;
    PyObject *it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return it;
}

static PyObject *chunks_items_or_values(glnnpy_ChunksObject *self, int items) {
    PyObject *keys = chunks_keys(self, NULL);
    if (!keys) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(keys);
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *k = PyList_GET_ITEM(keys, i), *v = chunks_subscript(self, k);
        PyObject *item = v && items ? PyTuple_Pack(2, k, v) : v;
        if (items) Py_XDECREF(v);
        if (!item) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    Py_DECREF(keys);
    return list;
}

GLNNPY_NOARGS_METHOD(chunks_items, glnnpy_ChunksObject, chunks_items_or_values, 1)
GLNNPY_NOARGS_METHOD(chunks_values, glnnpy_ChunksObject, chunks_items_or_values, 0)

static PyObject *chunks_get_method(glnnpy_ChunksObject *self, PyObject *args) {
    PyObject *key, *dflt = Py_None, *payload = NULL;
    if (!PyArg_ParseTuple(args, "O|O:get", &key, &dflt)) return NULL;
    int r = lookup(self, key, &payload);
    if (r < 0) return NULL;
    if (r == 0) {
        Py_INCREF(dflt);
        return dflt;
    }
    return payload;
}

static PyObject *chunks_chunk_exists(glnnpy_ChunksObject *self, PyObject *key) {
    int r = lookup(self, key, NULL);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyObject *chunks_chunk_size(glnnpy_ChunksObject *self, PyObject *key) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    if (!c) return NULL;
    PyObject *id = chunk_id(key);
    if (!id) return NULL;
    size_t size = 0;
    bool found = glnn_chunks_get(c, PyBytes_AS_STRING(id), (size_t)PyBytes_GET_SIZE(id), NULL, &size);
    Py_DECREF(id);
    if (!found) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return PyLong_FromSize_t(size);
}

static PyObject *chunks_read_floats(glnnpy_ChunksObject *self, PyObject *key) {
    PyObject *payload = chunks_subscript(self, key);
    if (!payload) return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(payload);
    if (n % 4 != 0) {
        Py_DECREF(payload);
        return glnnpy_argument_error("chunk %R has %zd bytes, not a whole number of float32 values", key, n);
    }
    npy_intp dims[1] = {(npy_intp)(n / 4)};
    PyArrayObject *a = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_FLOAT32);
    if (a) {
        const unsigned char *src = (const unsigned char *)PyBytes_AS_STRING(payload);
        float *dst = PyArray_DATA(a);
        for (npy_intp i = 0; i < dims[0]; i++) {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 | (uint32_t)src[4 * i + 2] << 16 |
                         (uint32_t)src[4 * i + 3] << 24;
            memcpy(&dst[i], &u, 4);
        }
    }
    Py_DECREF(payload);
    return (PyObject *)a;
}

static PyObject *chunks_repr(glnnpy_ChunksObject *self) {
    const char *type = Py_TYPE(self)->tp_name;
    if (!self->chunks)
        return self->path ? PyUnicode_FromFormat("<%s %R (closed)>", type, self->path)
                          : PyUnicode_FromFormat("<%s (closed)>", type);
    size_t n = glnn_chunks_count(self->chunks);
    return self->path ? PyUnicode_FromFormat("<%s %R: %zu chunks>", type, self->path, n)
                      : PyUnicode_FromFormat("<%s: %zu chunks>", type, n);
}

/* The class names of the chunk 'labels' (SPEC §9), [] without one. */
static PyObject *chunks_get_labels(glnnpy_ChunksObject *self, void *closure) {
    (void)closure;
    return string_list(self, 1);
}

/* A ChunkFile's path as given; None for a collection in memory. */
static PyObject *chunks_get_path(glnnpy_ChunksObject *self, void *closure) {
    (void)closure;
    PyObject *path = self->path ? self->path : Py_None;
    Py_INCREF(path);
    return path;
}

static PyObject *chunks_get_closed(glnnpy_ChunksObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->chunks == NULL);
}

static PyMappingMethods chunks_as_mapping = {
    .mp_length = (lenfunc)chunks_length,
    .mp_subscript = (binaryfunc)chunks_subscript,
};

static PySequenceMethods chunks_as_sequence = {
    .sq_contains = (objobjproc)chunks_contains,
};

PyDoc_STRVAR(chunks_keys_doc, "keys($self, /)\n--\n\n-> list of str\n\nChunk ids in byte-wise ascending order.");
PyDoc_STRVAR(chunks_values_doc, "values($self, /)\n--\n\n-> list of bytes\n\nPayloads, in id order.");
PyDoc_STRVAR(chunks_items_doc, "items($self, /)\n--\n\n-> list of (str, bytes)\n\n(id, payload) pairs.");
PyDoc_STRVAR(chunks_get_method_doc, "get($self, id, default=None, /)\n--\n\n-> bytes\n\nThe payload or default.");
PyDoc_STRVAR(chunks_chunk_exists_doc,
             "chunk_exists($self, id, /)\n--\n\n-> bool\n\nWhether the chunk is present (an empty chunk is).");
PyDoc_STRVAR(chunks_chunk_size_doc,
             "chunk_size($self, id, /)\n--\n\n-> int\n\nPayload size in bytes; KeyError when absent (an empty "
             "chunk has size 0).");
PyDoc_STRVAR(chunks_read_floats_doc,
             "read_floats($self, id, /)\n--\n\n-> numpy.ndarray\n\nThe payload as little-endian float32 values "
             "(weights, biases).");

static PyMethodDef chunks_methods[] = {
    {"keys", (PyCFunction)chunks_keys, METH_NOARGS, chunks_keys_doc},
    {"values", (PyCFunction)chunks_values, METH_NOARGS, chunks_values_doc},
    {"items", (PyCFunction)chunks_items, METH_NOARGS, chunks_items_doc},
    {"get", (PyCFunction)chunks_get_method, METH_VARARGS, chunks_get_method_doc},
    {"chunk_exists", (PyCFunction)chunks_chunk_exists, METH_O, chunks_chunk_exists_doc},
    {"chunk_size", (PyCFunction)chunks_chunk_size, METH_O, chunks_chunk_size_doc},
    {"read_floats", (PyCFunction)chunks_read_floats, METH_O, chunks_read_floats_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(chunks_get_path_doc, "The file's path for a ChunkFile (read-only); None for a collection in memory.");
PyDoc_STRVAR(chunks_get_closed_doc, "True once closed.");
PyDoc_STRVAR(chunks_get_labels_doc,
             "The class names of the chunk 'labels' (SPEC §9) as a list of str, one per line: a final newline adds "
             "no name, a CR before a newline is dropped; [] without such a chunk.");

static PyGetSetDef chunks_getset[] = {
    {"closed", (getter)chunks_get_closed, NULL, chunks_get_closed_doc, NULL},
    {"path", (getter)chunks_get_path, NULL, chunks_get_path_doc, NULL},
    {"labels", (getter)chunks_get_labels, NULL, chunks_get_labels_doc, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(chunkcollection_type_doc,
             "Base class of ChunkFile and WritableChunkCollection: a mapping from chunk ids (str, or bytes)\n"
             "to payloads (bytes), in byte-wise ascending id order (SPEC §9).  Not instantiable.");

PyTypeObject glnnpy_ChunkCollectionType = {
    GLNNPY_TYPE_HEAD("glnn.ChunkCollection", glnnpy_ChunksObject, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                     chunkcollection_type_doc),
    .tp_dealloc = (destructor)chunks_dealloc,
    .tp_repr = (reprfunc)chunks_repr,
    .tp_as_mapping = &chunks_as_mapping,
    .tp_as_sequence = &chunks_as_sequence,
    .tp_iter = (getiterfunc)chunks_iter,
    .tp_methods = chunks_methods,
    .tp_getset = chunks_getset,
};

/* ---------------------------------------------------------------------------------------------------- */
/* ChunkFile                                                                                            */

/* Reads the file at self->path; replaces the chunks on success. */
static int chunkfile_read(glnnpy_ChunksObject *self) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(self->path, &path)) return -1;
    glnn_chunks *chunks = NULL;
    glnn_error err;
    glnn_status s;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    s = glnn_chunks_read_file(p, &chunks, &err);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (s != GLNN_OK) {
        glnnpy_raise_file(&err, self->path);
        return -1;
    }
    glnnpy_lock();
    glnn_chunks *old = self->chunks;
    self->chunks = chunks;
    self->version = glnnpy_next_version();
    glnn_chunks_free(old);
    glnnpy_unlock();
    return 0;
}

PyDoc_STRVAR(chunkfile_type_doc,
             "ChunkFile(path, open_now=True)\n"
             "--\n"
             "\n"
             "A chunk file (SPEC §9), read into memory: a read-only mapping from ids to bytes.  The model\n"
             "listing is the chunk '' (empty id).  A truncated or malformed file raises glnn.ArgumentError\n"
             "naming the byte offset.  close() (or leaving a `with` block) releases it; open() reads it again.");

static PyObject *chunkfile_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"path", "open_now", NULL};
    PyObject *path_obj;
    int open_now = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:ChunkFile", kwlist, &path_obj, &open_now)) return NULL;
    PyObject *path = PyOS_FSPath(path_obj);
    if (!path) return NULL;
    if (PyBytes_Check(path)) {
        PyObject *decoded = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(path));
        Py_DECREF(path);
        if (!(path = decoded)) return NULL;
    }
    glnnpy_ChunksObject *self = (glnnpy_ChunksObject *)type->tp_alloc(type, 0);
    if (!self) {
        Py_DECREF(path);
        return NULL;
    }
    self->path = path;
    self->version = glnnpy_next_version();
    if (open_now && chunkfile_read(self) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *chunkfile_open(glnnpy_ChunksObject *self, PyObject *noargs) {
    (void)noargs;
    if (chunkfile_read(self) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *chunkfile_close(glnnpy_ChunksObject *self, PyObject *noargs) {
    (void)noargs;
    glnnpy_lock();
    glnn_chunks_free(self->chunks);
    self->chunks = NULL;
    self->version = glnnpy_next_version();
    glnnpy_unlock();
    Py_RETURN_NONE;
}

static PyObject *chunkfile_enter(glnnpy_ChunksObject *self, PyObject *noargs) {
    (void)noargs;
    if (!glnnpy_chunks_get(self)) return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *chunkfile_exit(glnnpy_ChunksObject *self, PyObject *args) {
    (void)args;
    return chunkfile_close(self, NULL);
}

PyDoc_STRVAR(chunkfile_open_doc, "open($self, /)\n--\n\n(Re)reads the file.");
PyDoc_STRVAR(chunkfile_close_doc,
             "close($self, /)\n--\n\nReleases the content; any later access raises glnn.ArgumentError until open().");
PyDoc_STRVAR(chunkfile_enter_doc, "__enter__($self, /)\n--\n\nThe open file itself.");
PyDoc_STRVAR(chunkfile_exit_doc, "__exit__($self, *exc_info, /)\n--\n\nCloses the file.");

static PyMethodDef chunkfile_methods[] = {
    {"open", (PyCFunction)chunkfile_open, METH_NOARGS, chunkfile_open_doc},
    {"close", (PyCFunction)chunkfile_close, METH_NOARGS, chunkfile_close_doc},
    {"__enter__", (PyCFunction)chunkfile_enter, METH_NOARGS, chunkfile_enter_doc},
    {"__exit__", (PyCFunction)chunkfile_exit, METH_VARARGS, chunkfile_exit_doc},
    {NULL, NULL, 0, NULL},
};

PyTypeObject glnnpy_ChunkFileType = {
    GLNNPY_TYPE_HEAD("glnn.ChunkFile", glnnpy_ChunksObject, Py_TPFLAGS_DEFAULT, chunkfile_type_doc),
    .tp_base = &glnnpy_ChunkCollectionType,
    .tp_new = chunkfile_new,
    .tp_methods = chunkfile_methods,
};

/* ---------------------------------------------------------------------------------------------------- */
/* WritableChunkCollection                                                                              */

/* The payload bytes for a value: str as UTF-8, float arrays as little-endian float32, other arrays and
 * bytes-like objects as their raw bytes, anything else through numpy.asarray(value, float32).  A new
 * bytes object or NULL. */
static PyObject *payload_of(PyObject *value) {
    if (PyUnicode_Check(value)) return PyUnicode_AsUTF8String(value);
    if (PyBytes_Check(value)) {
        Py_INCREF(value);
        return value;
    }
    PyArrayObject *a = NULL;
    if (PyArray_Check(value)) {
        PyArrayObject *v = (PyArrayObject *)value;
        if (PyArray_ISFLOAT(v)) {
            PyArray_Descr *le = PyArray_DescrNewByteorder(PyArray_DescrFromType(NPY_FLOAT32), NPY_LITTLE);
            if (!le) return NULL;
            a = (PyArrayObject *)PyArray_FromAny(value, le, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_FORCECAST, NULL);
        } else if (PyArray_ISNUMBER(v) || PyArray_ISBOOL(v)) {
            a = (PyArrayObject *)PyArray_FROM_OF(value, NPY_ARRAY_C_CONTIGUOUS);
        } else {
            PyObject *dtype = PyObject_Str((PyObject *)PyArray_DESCR(v));
            if (dtype) glnnpy_argument_error("chunk payloads cannot be made of dtype %U", dtype);
            Py_XDECREF(dtype);
            return NULL;
        }
    } else if (PyObject_CheckBuffer(value)) {
        return PyBytes_FromObject(value);
    } else {
        PyArray_Descr *le = PyArray_DescrNewByteorder(PyArray_DescrFromType(NPY_FLOAT32), NPY_LITTLE);
        if (!le) return NULL;
        a = (PyArrayObject *)PyArray_FromAny(value, le, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_FORCECAST, NULL);
        if (!a) {
            PyErr_Clear();
            return glnnpy_argument_error("a chunk payload is str, bytes, a numpy array or a sequence of numbers, "
                                         "not %.100s",
                                         Py_TYPE(value)->tp_name);
        }
    }
    if (!a) return NULL;
    PyObject *b = PyBytes_FromStringAndSize(PyArray_DATA(a), (Py_ssize_t)PyArray_NBYTES(a));
    Py_DECREF(a);
    return b;
}

static int writable_set(glnnpy_ChunksObject *self, PyObject *key, PyObject *value) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    if (!c) return -1;
    PyObject *id = chunk_id(key);
    if (!id) return -1;
    if (!value) {
        glnnpy_lock();
        bool removed = glnn_chunks_remove(c, PyBytes_AS_STRING(id), (size_t)PyBytes_GET_SIZE(id));
        if (removed) self->version = glnnpy_next_version();
        glnnpy_unlock();
        Py_DECREF(id);
        if (!removed) PyErr_SetObject(PyExc_KeyError, key);
        return removed ? 0 : -1;
    }
    PyObject *payload = payload_of(value);
    if (!payload) {
        Py_DECREF(id);
        return -1;
    }
    glnn_error err;
    glnnpy_lock();
    glnn_status s = glnn_chunks_set(c, PyBytes_AS_STRING(id), (size_t)PyBytes_GET_SIZE(id), PyBytes_AS_STRING(payload),
                                    (size_t)PyBytes_GET_SIZE(payload), &err);
    if (s == GLNN_OK) self->version = glnnpy_next_version();
    glnnpy_unlock();
    Py_DECREF(id);
    Py_DECREF(payload);
    if (s != GLNN_OK) {
        glnnpy_raise(&err);
        return -1;
    }
    return 0;
}

static int writable_update(glnnpy_ChunksObject *self, PyObject *mapping) {
    if (!PyMapping_Check(mapping) || PyUnicode_Check(mapping) || PyBytes_Check(mapping)) {
        PyErr_Format(PyExc_TypeError, "expected a mapping of chunk ids to values, not %.100s",
                     Py_TYPE(mapping)->tp_name);
        return -1;
    }
    PyObject *items = PyMapping_Items(mapping);
    if (!items) return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2 ||
            writable_set(self, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1)) < 0) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "items must be (id, value) pairs");
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);
    return 0;
}

PyDoc_STRVAR(writablechunkcollection_type_doc,
             "WritableChunkCollection(chunks=None)\n"
             "--\n"
             "\n"
             "An in-memory chunk collection: a mutable mapping from ids to bytes, optionally filled from another\n"
             "mapping (e.g. a ChunkFile).  Values set may be bytes, str (stored as UTF-8: the listing under\n"
             "the id '', 'labels'), numpy float arrays (stored as little-endian float32: weights '<op>/w',\n"
             "biases '<op>/b'), other numpy arrays (raw bytes) or sequences of numbers (float32).\n"
             "save(path) writes a chunk file.");

static PyObject *writable_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"chunks", NULL};
    PyObject *init = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:WritableChunkCollection", kwlist, &init)) return NULL;
    glnnpy_ChunksObject *self = (glnnpy_ChunksObject *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->writable = 1;
    self->version = glnnpy_next_version();
    glnn_error err;
    if (glnn_chunks_create(&self->chunks, &err) != GLNN_OK) {
        Py_DECREF(self);
        return glnnpy_raise(&err);
    }
    if (init && init != Py_None && writable_update(self, init) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *writable_update_method(glnnpy_ChunksObject *self, PyObject *mapping) {
    if (writable_update(self, mapping) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *writable_save(glnnpy_ChunksObject *self, PyObject *arg) {
    glnn_chunks *c = glnnpy_chunks_get(self);
    if (!c) return NULL;
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    glnn_error err;
    glnn_status s;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    glnnpy_lock_nogil();
    s = glnn_chunks_write_file(c, p, &err);
    glnnpy_unlock_nogil();
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (s != GLNN_OK) return glnnpy_raise(&err);
    Py_RETURN_NONE;
}

static PyMappingMethods writable_as_mapping = {
    .mp_length = (lenfunc)chunks_length,
    .mp_subscript = (binaryfunc)chunks_subscript,
    .mp_ass_subscript = (objobjargproc)writable_set,
};

PyDoc_STRVAR(writable_save_doc,
             "save($self, path, /)\n--\n\nWrites a chunk file, records in ascending id order; a failed write "
             "leaves an existing file intact.");
PyDoc_STRVAR(writable_update_method_doc, "update($self, mapping, /)\n--\n\nSets every (id, value) of mapping.");

static PyMethodDef writable_methods[] = {
    {"save", (PyCFunction)writable_save, METH_O, writable_save_doc},
    {"update", (PyCFunction)writable_update_method, METH_O, writable_update_method_doc},
    {NULL, NULL, 0, NULL},
};

PyTypeObject glnnpy_WritableChunkCollectionType = {
    GLNNPY_TYPE_HEAD("glnn.WritableChunkCollection", glnnpy_ChunksObject, Py_TPFLAGS_DEFAULT,
                     writablechunkcollection_type_doc),
    .tp_base = &glnnpy_ChunkCollectionType,
    .tp_new = writable_new,
    .tp_as_mapping = &writable_as_mapping,
    .tp_methods = writable_methods,
};

/* ---------------------------------------------------------------------------------------------------- */

static int register_abc(const char *abc, PyTypeObject *type) {
    PyObject *mod = PyImport_ImportModule("collections.abc");
    if (!mod) return -1;
    PyObject *r, *cls = PyObject_GetAttrString(mod, abc);
    Py_DECREF(mod);
    if (!cls) return -1;
    r = PyObject_CallMethod(cls, "register", "O", (PyObject *)type);
    Py_DECREF(cls);
    if (!r) return -1;
    Py_DECREF(r);
    return 0;
}

int glnnpy_chunks_init(PyObject *module) {
    PyTypeObject *types[] = {&glnnpy_ChunkCollectionType, &glnnpy_ChunkFileType, &glnnpy_WritableChunkCollectionType};
    const char *names[] = {"ChunkCollection", "ChunkFile", "WritableChunkCollection"};
    for (int i = 0; i < 3; i++) {
        if (PyType_Ready(types[i]) < 0) return -1;
        Py_INCREF(types[i]);
        if (PyModule_AddObject(module, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    if (register_abc("Mapping", &glnnpy_ChunkFileType) < 0 ||
        register_abc("MutableMapping", &glnnpy_WritableChunkCollectionType) < 0)
        return -1;
    return 0;
}
