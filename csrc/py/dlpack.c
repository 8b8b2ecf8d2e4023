/* DLPack: zero-copy exchange of tensors with NumPy, PyTorch and any other
 * library speaking the DLPack C ABI (versioned and legacy capsules).
 *
 * Export: a capsule named "dltensor" (legacy DLManagedTensor) or
 * "dltensor_versioned" (DLManagedTensorVersioned) owning one reference to the
 * tensor's storage, so the memory outlives the Python tensor and any later
 * `x.data = ...`. The consumer renames the capsule to "used_..." and calls
 * the deleter when done; an unconsumed capsule calls it when collected.
 *
 * Import: the consumed producer's struct becomes the release context of a
 * foreign storage; its deleter runs when the last gdlite reference goes.
 *
 * Deleters may be called on any thread; they take the GIL because storage
 * reference counts are only touched under it. */
#include "binding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the DLPack ABI (dlpack.h, version 1.x), as the standard lays it out */

enum { DL_CPU = 1 };
enum { DL_INT = 0, DL_UINT = 1, DL_FLOAT = 2, DL_BOOL = 6 };
#define DL_FLAG_READ_ONLY (UINT64_C(1) << 0)
#define DL_FLAG_IS_COPIED (UINT64_C(1) << 1)
#define DL_MAJOR_VERSION 1
#define DL_MINOR_VERSION 0

typedef struct {
    int32_t device_type;
    int32_t device_id;
} dl_device;

typedef struct {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
} dl_data_type;

typedef struct {
    void *data;
    dl_device device;
    int32_t ndim;
    dl_data_type dtype;
    int64_t *shape;
    int64_t *strides; /* in elements; NULL means compact row-major */
    uint64_t byte_offset;
} dl_tensor;

typedef struct dl_managed_tensor {
    dl_tensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct dl_managed_tensor *self);
} dl_managed_tensor;

typedef struct {
    uint32_t major;
    uint32_t minor;
} dl_version;

typedef struct dl_managed_tensor_versioned {
    dl_version version;
    void *manager_ctx;
    void (*deleter)(struct dl_managed_tensor_versioned *self);
    uint64_t flags;
    dl_tensor dl_tensor;
} dl_managed_tensor_versioned;

static const char LEGACY_NAME[] = "dltensor";
static const char VERSIONED_NAME[] = "dltensor_versioned";
static const char USED_LEGACY_NAME[] = "used_dltensor";
static const char USED_VERSIONED_NAME[] = "used_dltensor_versioned";

/* ---- export ------------------------------------------------------------- */

/* One allocation holds the managed struct and its shape and strides, so one
 * free releases everything the capsule owns besides the storage reference. */
typedef struct {
    dl_managed_tensor_versioned versioned;
    dl_managed_tensor legacy;
    int64_t dims[]; /* shape, then strides */
} export_block;

static void release_storage(gd_storage *storage) {
    if (!Py_IsInitialized())
        return; /* interpreter gone: nothing can be released safely */
    PyGILState_STATE g = PyGILState_Ensure();
    gd_storage_decref(storage);
    PyGILState_Release(g);
}

static void delete_versioned(dl_managed_tensor_versioned *self) {
    if (!self)
        return;
    export_block *block = (export_block *)self;
    release_storage(block->versioned.manager_ctx);
    free(block);
}

static void delete_legacy(dl_managed_tensor *self) {
    if (!self)
        return;
    export_block *block =
        (export_block *)((char *)self - offsetof(export_block, legacy));
    release_storage(block->legacy.manager_ctx);
    free(block);
}

/* Capsule destructor: runs the deleter only if no consumer took the tensor. */
static void capsule_destructor(PyObject *capsule) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb); /* keep an exception being raised */
    if (PyCapsule_IsValid(capsule, VERSIONED_NAME)) {
        dl_managed_tensor_versioned *m = PyCapsule_GetPointer(capsule, VERSIONED_NAME);
        if (m && m->deleter)
            m->deleter(m);
    } else if (PyCapsule_IsValid(capsule, LEGACY_NAME)) {
        dl_managed_tensor *m = PyCapsule_GetPointer(capsule, LEGACY_NAME);
        if (m && m->deleter)
            m->deleter(m);
    }
    PyErr_Restore(type, value, tb);
}

static dl_data_type dl_type_of(gd_dtype dtype) {
    dl_data_type t = {DL_FLOAT, (uint8_t)(8 * gd_dtype_size(dtype)), 1};
    switch (gd_dtype_kind_of(dtype)) {
    case GD_DTYPE_KIND_BOOL:
        t.code = DL_BOOL;
        break;
    case GD_DTYPE_KIND_UNSIGNED:
        t.code = DL_UINT;
        break;
    case GD_DTYPE_KIND_SIGNED:
        t.code = DL_INT;
        break;
    case GD_DTYPE_KIND_FLOATING:
        t.code = DL_FLOAT;
        break;
    }
    return t;
}

/* _to_dlpack(tensor, versioned, copied): the capsule of a tensor's memory
 * (argument checks are the Python caller's). `copied` only sets the flag. */
static PyObject *fn_to_dlpack(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *obj;
    int versioned, copied;
    if (!PyArg_ParseTuple(args, "O!pp", &gdpy_TensorBase_Type, &obj, &versioned,
                          &copied))
        return NULL;
    gd_tensor *t = gdpy_tensor(obj);
    size_t dims_bytes = 2 * (size_t)(t->ndim > 0 ? t->ndim : 1) * sizeof(int64_t);
    export_block *block = calloc(1, sizeof(export_block) + dims_bytes);
    if (!block)
        return PyErr_NoMemory();
    int64_t *shape = block->dims, *strides = block->dims + (t->ndim > 0 ? t->ndim : 1);
    for (int d = 0; d < t->ndim; d++) {
        shape[d] = t->shape[d];
        strides[d] = t->strides[d];
    }
    dl_tensor dl = {
        .data = gd_data_ptr(t),
        .device = {DL_CPU, 0},
        .ndim = t->ndim,
        .dtype = dl_type_of(t->dtype),
        .shape = shape,
        .strides = strides,
        .byte_offset = 0,
    };
    void *managed;
    const char *name;
    if (versioned) {
        block->versioned = (dl_managed_tensor_versioned){
            .version = {DL_MAJOR_VERSION, DL_MINOR_VERSION},
            .manager_ctx = t->storage,
            .deleter = delete_versioned,
            .flags = copied ? DL_FLAG_IS_COPIED : 0,
            .dl_tensor = dl,
        };
        managed = &block->versioned;
        name = VERSIONED_NAME;
    } else {
        block->legacy = (dl_managed_tensor){
            .dl_tensor = dl, .manager_ctx = t->storage, .deleter = delete_legacy};
        managed = &block->legacy;
        name = LEGACY_NAME;
    }
    PyObject *capsule = PyCapsule_New(managed, name, capsule_destructor);
    if (!capsule) {
        free(block);
        return NULL;
    }
    gd_storage_incref(t->storage); /* owned by the block from here on */
    return capsule;
}

/* ---- import ------------------------------------------------------------- */

/* The producer's struct, kept until the last storage reference goes. */
typedef struct {
    void *managed;
    bool versioned;
} import_context;

static void release_import(void *context) {
    import_context *ctx = context;
    if (Py_IsInitialized()) {
        PyGILState_STATE g = PyGILState_Ensure();
        if (ctx->versioned) {
            dl_managed_tensor_versioned *m = ctx->managed;
            if (m->deleter)
                m->deleter(m);
        } else {
            dl_managed_tensor *m = ctx->managed;
            if (m->deleter)
                m->deleter(m);
        }
        PyGILState_Release(g);
    }
    free(ctx);
}

static int dtype_from_dl(dl_data_type t, gd_dtype *out) {
    if (t.lanes == 1) {
        for (int d = 0; d < GD_DTYPE_COUNT; d++) {
            dl_data_type mine = dl_type_of((gd_dtype)d);
            if (mine.code == t.code && mine.bits == t.bits) {
                *out = (gd_dtype)d;
                return 0;
            }
        }
    }
    static const char *const codes[] = {"int",    "uint",    "float", "opaque handle",
                                        "bfloat", "complex", "bool"};
    const char *code = t.code < sizeof codes / sizeof codes[0] ? codes[t.code] : "?";
    PyErr_Format(PyExc_BufferError,
                 "gdlite does not support the DLPack dtype %s%d (code %d, %d lanes); "
                 "supported: bool, uint8, int32, int64, float32, float64",
                 code, (int)t.bits, (int)t.code, (int)t.lanes);
    return -1;
}

/* A producer's tensor, checked and read into gdlite's layout. */
typedef struct {
    gd_dtype dtype;
    int ndim;
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    char *data;
    size_t nbytes;
} import_layout;

static int buffer_error(const char *message) {
    PyErr_SetString(PyExc_BufferError, message);
    return -1;
}

/* Checks everything gd_from_memory cannot: device, dtype, sizes, strides and
 * byte size; raises BufferError and returns -1 when the tensor is refused. */
static int read_dl_tensor(const dl_tensor *dl, import_layout *out) {
    if (dl->device.device_type != DL_CPU) {
        PyErr_Format(
            PyExc_BufferError,
            "gdlite only imports CPU memory through DLPack, got device type %d",
            (int)dl->device.device_type);
        return -1;
    }
    if (dtype_from_dl(dl->dtype, &out->dtype) < 0)
        return -1;
    if (dl->ndim < 0 || dl->ndim > GD_MAX_DIMS) {
        PyErr_Format(PyExc_BufferError,
                     "DLPack tensor has %d dimensions; gdlite supports 0 to %d",
                     (int)dl->ndim, GD_MAX_DIMS);
        return -1;
    }
    if (dl->ndim > 0 && !dl->shape)
        return buffer_error("DLPack tensor has no shape");
    out->ndim = dl->ndim;
    int64_t compact = 1;
    for (int d = dl->ndim - 1; d >= 0; d--) {
        out->shape[d] = dl->shape[d];
        if (out->shape[d] < 0)
            return buffer_error("DLPack tensor has a negative size");
        out->strides[d] = dl->strides ? dl->strides[d] : compact;
        if (out->strides[d] < 0)
            return buffer_error("DLPack tensors with negative strides are not "
                                "supported: pass copy=True to import a copy");
        if (__builtin_mul_overflow(compact, out->shape[d] ? out->shape[d] : 1,
                                   &compact))
            return buffer_error("DLPack tensor's size overflows");
    }
    /* The elements span [0, extent): 1 + sum of (size - 1) * stride. */
    int64_t extent = 1;
    for (int d = 0; d < dl->ndim; d++) {
        int64_t step;
        if (out->shape[d] == 0) {
            extent = 0;
            break;
        }
        if (__builtin_mul_overflow(out->shape[d] - 1, out->strides[d], &step) ||
            __builtin_add_overflow(extent, step, &extent))
            return buffer_error("DLPack tensor's size overflows");
    }
    uint64_t nbytes;
    if (__builtin_mul_overflow((uint64_t)extent, (uint64_t)gd_dtype_size(out->dtype),
                               &nbytes) ||
        nbytes > (uint64_t)INT64_MAX)
        return buffer_error("DLPack tensor's size overflows");
    if (!dl->data && nbytes)
        return buffer_error("DLPack tensor has no data");
    out->nbytes = (size_t)nbytes;
    out->data = (char *)dl->data + dl->byte_offset;
    return 0;
}

/* _from_dlpack(capsule): consumes a DLPack capsule; shares its memory. */
static PyObject *fn_from_dlpack(PyObject *mod, PyObject *capsule) {
    (void)mod;
    bool versioned;
    if (PyCapsule_IsValid(capsule, VERSIONED_NAME))
        versioned = true;
    else if (PyCapsule_IsValid(capsule, LEGACY_NAME))
        versioned = false;
    else {
        PyErr_SetString(PyExc_RuntimeError,
                        "from_dlpack received an invalid capsule. Note that DLTensor "
                        "capsules can be consumed only once, so you might have already "
                        "constructed a tensor from it once.");
        return NULL;
    }
    void *managed =
        PyCapsule_GetPointer(capsule, versioned ? VERSIONED_NAME : LEGACY_NAME);
    if (!managed)
        return NULL;
    const dl_tensor *dl;
    if (versioned) {
        dl_managed_tensor_versioned *m = managed;
        if (m->version.major > DL_MAJOR_VERSION) {
            PyErr_Format(PyExc_BufferError,
                         "DLPack version %u.%u is newer than gdlite reads (%d.x)",
                         (unsigned)m->version.major, (unsigned)m->version.minor,
                         DL_MAJOR_VERSION);
            return NULL;
        }
        if (m->flags & DL_FLAG_READ_ONLY) {
            PyErr_SetString(PyExc_BufferError,
                            "the DLPack tensor is read-only and gdlite tensors are "
                            "always writable: pass copy=True to import a copy");
            return NULL;
        }
        dl = &m->dl_tensor;
    } else {
        dl = &((dl_managed_tensor *)managed)->dl_tensor;
    }
    import_layout layout;
    if (read_dl_tensor(dl, &layout) < 0)
        return NULL; /* refused: the capsule stays the producer's */
    import_context *ctx = malloc(sizeof *ctx);
    if (!ctx)
        return PyErr_NoMemory();
    *ctx = (import_context){managed, versioned};
    if (PyCapsule_SetName(capsule, versioned ? USED_VERSIONED_NAME : USED_LEGACY_NAME) <
        0) {
        free(ctx);
        return NULL;
    }
    /* Consumed: the producer's struct belongs to ctx, which gd_from_memory
     * releases (running the producer's deleter) also when it fails. */
    gd_tensor *out = NULL;
    gd_status st =
        gd_from_memory(layout.data, layout.nbytes, layout.dtype, layout.ndim,
                       layout.shape, layout.strides, 0, release_import, ctx, &out);
    return gdpy_result(st, &out);
}

PyMethodDef gdpy_dlpack_functions[] = {
    {"_to_dlpack", fn_to_dlpack, METH_VARARGS,
     "_to_dlpack(tensor, versioned, copied): a DLPack capsule sharing the memory"},
    {"_from_dlpack", fn_from_dlpack, METH_O,
     "_from_dlpack(capsule): consumes a DLPack capsule, sharing its memory"},
    {NULL, NULL, 0, NULL},
};
