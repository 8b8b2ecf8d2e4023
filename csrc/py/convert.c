/* Python and NumPy values to core tensors and back: dtypes, shapes, zero-copy
 * NumPy sharing, and the operands of arithmetic with PyTorch's promotion. */
#include "binding.h"

#include <string.h>

int gdpy_dtype_from_object(PyObject *o, gd_dtype *out) {
    if (PyObject_TypeCheck(o, &gdpy_Dtype_Type)) {
        *out = ((DtypeObject *)o)->dtype;
        return 0;
    }
    /* PyTorch accepts Python's own types as dtypes. */
    if (o == (PyObject *)&PyFloat_Type) {
        *out = GD_FLOAT64;
        return 0;
    }
    if (o == (PyObject *)&PyLong_Type) {
        *out = GD_INT64;
        return 0;
    }
    if (o == (PyObject *)&PyBool_Type) {
        *out = GD_BOOL;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "dtype must be a gdlite.dtype, got %.200s",
                 Py_TYPE(o)->tp_name);
    return -1;
}

/* 1 when `item` is an integer outside int64 (no error set), -1 on another
 * error (set), 0 with *out filled. */
static int parse_dim_value(PyObject *item, int64_t *out) {
    if (PyFloat_Check(item)) {
        PyErr_Format(PyExc_TypeError,
                     "expected a sequence of integers or a single integer, got '%S'",
                     item);
        return -1;
    }
    PyObject *index = PyNumber_Index(item);
    if (!index)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (overflow)
        return 1;
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = (int64_t)v;
    return 0;
}

int gdpy_parse_shape_named(PyObject *args, const char *fname, const char *argname,
                           int *ndim, int64_t *shape) {
    PyObject *seq = args;
    /* f(2, 3) arrives as (2, 3); f((2, 3)) and f([2, 3]) as ((2, 3),). */
    if (PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1 &&
        (PyTuple_Check(PyTuple_GET_ITEM(args, 0)) ||
         PyList_Check(PyTuple_GET_ITEM(args, 0))))
        seq = PyTuple_GET_ITEM(args, 0);
    PyObject *fast = PySequence_Fast(seq, "shape must be a sequence of integers");
    if (!fast)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n > GD_MAX_DIMS) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_RuntimeError,
                     "gdlite supports at most %d dimensions, got %zd", GD_MAX_DIMS, n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int r = parse_dim_value(PySequence_Fast_GET_ITEM(fast, i), &shape[i]);
        if (r == 1) {
            /* PyTorch's wording: an int list argument whose element does not
             * fit int64 fails to unpack (positions count from 1). */
            if (fname)
                PyErr_Format(PyExc_TypeError,
                             "%s(): argument '%s' failed to unpack the object at pos "
                             "%zd with error \"Overflow when unpacking long long\"",
                             fname, argname, i + 1);
            else
                PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
        }
        if (r) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    *ndim = (int)n;
    return 0;
}

int gdpy_parse_shape(PyObject *args, int *ndim, int64_t *shape) {
    return gdpy_parse_shape_named(args, NULL, NULL, ndim, shape);
}

PyObject *gdpy_shape_tuple(int ndim, const int64_t *shape) {
    PyObject *tup = PyTuple_New(ndim);
    if (!tup)
        return NULL;
    for (int d = 0; d < ndim; d++) {
        PyObject *v = PyLong_FromLongLong(shape[d]);
        if (!v) {
            Py_DECREF(tup);
            return NULL;
        }
        PyTuple_SET_ITEM(tup, d, v);
    }
    return tup;
}

static const int npy_types[GD_DTYPE_COUNT] = {
    [GD_BOOL] = NPY_BOOL,   [GD_UINT8] = NPY_UINT8,     [GD_INT32] = NPY_INT32,
    [GD_INT64] = NPY_INT64, [GD_FLOAT32] = NPY_FLOAT32, [GD_FLOAT64] = NPY_FLOAT64};

/* The base object of an exported NumPy array: one core storage reference, so
 * the array outlives its tensor, `t.data = ...` and `del t` alike. */
typedef struct {
    PyObject_HEAD gd_storage *storage;
} StorageRefObject;

static void storage_ref_dealloc(PyObject *self) {
    gd_storage_decref(((StorageRefObject *)self)->storage);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject storage_ref_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C._StorageRef",
    .tp_basicsize = sizeof(StorageRefObject),
    .tp_dealloc = storage_ref_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Keeps a tensor storage alive for a NumPy array over its memory.",
};

static PyObject *storage_ref_new(gd_storage *s) {
    if (PyType_Ready(&storage_ref_type) < 0)
        return NULL;
    StorageRefObject *ref = PyObject_New(StorageRefObject, &storage_ref_type);
    if (!ref)
        return NULL;
    gd_storage_incref(s);
    ref->storage = s;
    return (PyObject *)ref;
}

PyObject *gdpy_to_numpy(PyObject *owner) {
    gd_tensor *t = gdpy_tensor(owner);
    npy_intp dims[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    size_t elsize = gd_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++) {
        dims[d] = (npy_intp)t->shape[d];
        strides[d] = (npy_intp)(t->strides[d] * (int64_t)elsize);
    }
    PyObject *base = storage_ref_new(t->storage);
    if (!base)
        return NULL;
    PyArray_Descr *descr = PyArray_DescrFromType(npy_types[t->dtype]);
    if (!descr) {
        Py_DECREF(base);
        return NULL;
    }
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, t->ndim, dims, strides,
                                         gd_data_ptr(t), NPY_ARRAY_WRITEABLE, NULL);
    if (!arr) {
        Py_DECREF(base);
        return NULL;
    }
    /* Steals base, also on failure. */
    if (PyArray_SetBaseObject((PyArrayObject *)arr, base) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* Storage release for NumPy-backed memory; may run on any thread. */
static void release_numpy(void *context) {
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF((PyObject *)context);
    PyGILState_Release(g);
}

static int dtype_from_numpy(PyArray_Descr *descr, gd_dtype *out) {
    switch (descr->type_num) {
    case NPY_BOOL:
        *out = GD_BOOL;
        return 0;
    case NPY_UINT8:
        *out = GD_UINT8;
        return 0;
    case NPY_FLOAT32:
        *out = GD_FLOAT32;
        return 0;
    case NPY_FLOAT64:
        *out = GD_FLOAT64;
        return 0;
    default:
        break;
    }
    if (PyDataType_ISSIGNED(descr) && PyDataType_ISINTEGER(descr)) {
        if (PyDataType_ELSIZE(descr) == 8) {
            *out = GD_INT64;
            return 0;
        }
        if (PyDataType_ELSIZE(descr) == 4) {
            *out = GD_INT32;
            return 0;
        }
    }
    return -1;
}

/* Visits every byte-sized element of an array; stops when `visit` says so. */
static bool any_element(PyArrayObject *arr, bool (*visit)(uint8_t *)) {
    int nd = PyArray_NDIM(arr);
    npy_intp idx[NPY_MAXDIMS] = {0};
    const npy_intp *shape = PyArray_DIMS(arr), *strides = PyArray_STRIDES(arr);
    if (PyArray_SIZE(arr) == 0)
        return false;
    for (;;) {
        char *p = PyArray_DATA(arr);
        for (int d = 0; d < nd; d++)
            p += idx[d] * strides[d];
        if (visit((uint8_t *)p))
            return true;
        int d = nd - 1;
        while (d >= 0 && ++idx[d] == shape[d])
            idx[d--] = 0;
        if (d < 0)
            return false;
    }
}

static bool byte_above_one(uint8_t *p) {
    return *p > 1;
}

static bool make_canonical_bool(uint8_t *p) {
    *p = *p != 0;
    return false;
}

/* NumPy bools are bytes where any nonzero value is true (a bool view of other
 * data); the core reads them as 0 or 1. */
static bool has_odd_bools(PyArrayObject *arr) {
    return PyArray_TYPE(arr) == NPY_BOOL && any_element(arr, byte_above_one);
}

gd_status gdpy_from_numpy(PyArrayObject *arr, gd_tensor **out) {
    gd_dtype dtype;
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    int nd = PyArray_NDIM(arr);
    *out = NULL;
    if (dtype_from_numpy(PyArray_DESCR(arr), &dtype) < 0)
        return gd_error(GD_ERR_TYPE,
                        "can't convert np.ndarray of type %s. The only supported "
                        "types are: float64, float32, int64, int32, and bool.",
                        PyArray_DESCR(arr)->typeobj->tp_name);
    GD_CHECK(PyArray_ISNBO(PyArray_DESCR(arr)->byteorder), GD_ERR_VALUE,
             "given numpy array has byte order different from the native byte order. "
             "Conversion between byte orders is currently not supported.");
    GD_CHECK(nd <= GD_MAX_DIMS, GD_ERR_RUNTIME, "gdlite supports at most %d dimensions",
             GD_MAX_DIMS);
    int64_t elsize = (int64_t)gd_dtype_size(dtype), extent = 1;
    for (int d = 0; d < nd; d++) {
        shape[d] = PyArray_DIM(arr, d);
        int64_t s = PyArray_STRIDE(arr, d);
        GD_CHECK(
            s >= 0, GD_ERR_VALUE,
            "At least one stride in the given numpy array is negative, and tensors "
            "with negative strides are not currently supported. (You can probably "
            "work around this by making a copy of your array  with array.copy().) ");
        GD_CHECK(s % elsize == 0, GD_ERR_VALUE,
                 "given numpy array strides not a multiple of the element byte size. "
                 "Copy the numpy array to reallocate the memory.");
        strides[d] = s / elsize;
        extent += (shape[d] - 1) * strides[d];
    }
    for (int d = 0; d < nd; d++)
        if (shape[d] == 0)
            extent = 0;
    if (has_odd_bools(arr)) {
        /* Shared memory stays shared: the bytes are rewritten to 0 or 1, which
         * NumPy reads as the same truth values. A read-only array is copied. */
        if (!PyArray_ISWRITEABLE(arr)) {
            PyArrayObject *copy = (PyArrayObject *)PyArray_NewCopy(arr, NPY_CORDER);
            if (!copy)
                return GD_ERR_EXTERNAL;
            any_element(copy, make_canonical_bool);
            gd_status st = gdpy_from_numpy(copy, out);
            Py_DECREF(copy);
            return st;
        }
        any_element(arr, make_canonical_bool);
    }
    Py_INCREF(arr);
    return gd_from_memory(PyArray_DATA(arr), (size_t)(extent * elsize), dtype, nd,
                          shape, strides, 0, release_numpy, arr, out);
}

/* An array operand as PyTorch reads it through NumPy: other byte orders
 * converted, odd bool bytes read as true, the caller's array left alone. */
static gd_status operand_from_numpy(PyArrayObject *arr, gd_tensor **out) {
    PyArray_Descr *descr = PyArray_DESCR(arr);
    gd_dtype dtype;
    if (dtype_from_numpy(descr, &dtype) == 0 &&
        (!PyArray_ISNBO(descr->byteorder) || has_odd_bools(arr))) {
        PyArray_Descr *native = PyArray_DescrNewByteorder(descr, NPY_NATIVE);
        if (!native)
            return GD_ERR_EXTERNAL;
        /* Steals native. */
        PyArrayObject *copy = (PyArrayObject *)PyArray_FromArray(
            arr, native, NPY_ARRAY_DEFAULT | NPY_ARRAY_ENSURECOPY);
        if (!copy)
            return GD_ERR_EXTERNAL;
        gd_status st = gdpy_from_numpy(copy, out);
        Py_DECREF(copy);
        return st;
    }
    return gdpy_from_numpy(arr, out);
}

/* ---- operands ----------------------------------------------------------- */

/* Python ints beyond int64 but below 2^64 are unsigned 64-bit numbers to
 * PyTorch: exact in floating results, wrapped in integer ones. */
static int parse_big_int(PyObject *o, gdpy_operand *op) {
    unsigned long long u = PyLong_AsUnsignedLongLong(o);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        int negative = PyObject_RichCompareBool(o, Py_False, Py_LT);
        PyErr_Clear();
        PyErr_SetString(PyExc_OverflowError,
                        negative > 0 ? "can't convert negative int to unsigned"
                                     : "int too big to convert");
        return -1;
    }
    op->dtype = GD_INT64;
    op->unsigned64 = true;
    op->ivalue = (int64_t)u; /* two's complement wrap, as a C++ cast does */
    op->fvalue = (double)u;
    return 1;
}

static int parse_number(PyObject *o, gdpy_operand *op) {
    if (PyBool_Check(o)) {
        op->dtype = GD_BOOL;
        op->ivalue = o == Py_True;
        op->fvalue = (double)op->ivalue;
        return 1;
    }
    if (PyLong_Check(o)) {
        int overflow = 0;
        op->ivalue = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow)
            return parse_big_int(o, op);
        if (op->ivalue == -1 && PyErr_Occurred())
            return -1;
        op->dtype = GD_INT64;
        op->fvalue = (double)op->ivalue;
        return 1;
    }
    if (PyFloat_Check(o)) {
        op->dtype = gd_default_float(); /* Python floats take the default dtype */
        op->fvalue = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    return 0;
}

int gdpy_check_assign(const gd_tensor *dst, PyObject *value) {
    /* PyTorch's copy_ refuses a destination whose elements share memory (a
     * broadcast dimension); a number fills it the same way. */
    gd_status st = gd_check_writable(dst);
    if (st)
        return gdpy_raise_int(st);
    double v;
    if (PyBool_Check(value)) {
        return 0;
    } else if (PyLong_Check(value)) {
        /* Assignment unpacks Python ints as int64, whatever the tensor. */
        int overflow = 0;
        long long i = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            return -1;
        }
        if (i == -1 && PyErr_Occurred())
            return -1;
        v = (double)i;
    } else if (PyFloat_Check(value)) {
        v = PyFloat_AS_DOUBLE(value);
    } else {
        return 0;
    }
    st = gd_check_scalar_of(dst->dtype, v, !PyFloat_Check(value));
    return st ? gdpy_raise_int(st) : 0;
}

int gdpy_operand_parse(PyObject *o, gdpy_operand *op) {
    op->t = NULL;
    op->owned = false;
    op->unsigned64 = false;
    op->fvalue = 0;
    op->ivalue = 0;
    if (gdpy_is_tensor(o)) {
        op->t = gdpy_tensor(o);
        op->priority = op->t->ndim > 0 ? 2 : 1;
        op->dtype = op->t->dtype;
        return 1;
    }
    op->priority = 0;
    int r = parse_number(o, op);
    if (r != 0)
        return r;
    if (PyArray_IsScalar(o, Bool) || PyArray_IsScalar(o, Integer) ||
        PyArray_IsScalar(o, Floating)) {
        /* PyTorch reads a NumPy bool scalar as a floating number (any nonzero
         * byte is 1.0). */
        PyObject *num = PyArray_IsScalar(o, Floating) ? PyNumber_Float(o)
                        : PyArray_IsScalar(o, Bool)
                            ? PyFloat_FromDouble(PyObject_IsTrue(o) ? 1.0 : 0.0)
                            : PyNumber_Long(o);
        if (!num)
            return -1;
        r = parse_number(num, op);
        Py_DECREF(num);
        return r;
    }
    if (PyArray_Check(o)) {
        gd_status st = operand_from_numpy((PyArrayObject *)o, &op->t);
        if (st) {
            gdpy_raise(st);
            return -1;
        }
        op->owned = true;
        op->priority = op->t->ndim > 0 ? 2 : 1;
        op->dtype = op->t->dtype;
        return 1;
    }
    return 0;
}

void gdpy_operand_release(gdpy_operand *op) {
    if (op->owned)
        gd_tensor_decref(op->t);
    op->t = NULL;
    op->owned = false;
}

/* PyTorch's combine_categories: a higher-priority result keeps its dtype
 * unless the lower one is of a higher kind (bool < integer < floating). */
static int combine(int higher, int lower) {
    if (higher < 0)
        return lower;
    if (lower < 0 || gd_dtype_is_floating((gd_dtype)higher))
        return higher;
    if (higher == GD_BOOL || gd_dtype_is_floating((gd_dtype)lower))
        return gd_promote_types((gd_dtype)higher, (gd_dtype)lower);
    return higher;
}

gd_dtype gdpy_result_type(const gdpy_operand *ops, int n) {
    int by_priority[3] = {-1, -1, -1};
    for (int i = 0; i < n; i++) {
        int *slot = &by_priority[ops[i].priority];
        *slot = *slot < 0 ? (int)ops[i].dtype
                          : (int)gd_promote_types((gd_dtype)*slot, ops[i].dtype);
    }
    return (gd_dtype)combine(by_priority[2], combine(by_priority[1], by_priority[0]));
}

gd_tensor *gdpy_operand_tensor(gdpy_operand *op, gd_dtype dtype) {
    if (op->t)
        return op->t;
    /* Lives in the operand: the core borrows it for one call and never keeps
     * a reference, so its refcount never reaches zero. */
    gd_storage *s = &op->stack_storage;
    s->refcount = 1;
    s->data = &op->stack_data;
    s->nbytes = sizeof op->stack_data;
    s->release = NULL;
    s->release_context = NULL;
    s->version = 0;
    gd_tensor *t = &op->stack_tensor;
    /* A 0-d header: shape and strides have no entries to set. */
    t->refcount = 1;
    t->on_stack = true;
    t->dtype = dtype;
    t->ndim = 0;
    t->numel = 1;
    t->offset = 0;
    t->storage = s;
    t->autograd = NULL;
    t->handle = NULL;
    t->untracked_version = false;
    t->is_view = false;
    t->view_base = NULL;
    bool from_float = gd_dtype_is_floating(op->dtype) || op->unsigned64;
    switch (dtype) {
    case GD_BOOL:
        *(uint8_t *)s->data = from_float ? op->fvalue != 0 : op->ivalue != 0;
        break;
    case GD_UINT8:
        *(uint8_t *)s->data = (uint8_t)op->ivalue;
        break;
    case GD_INT32:
        *(int32_t *)s->data = (int32_t)op->ivalue;
        break;
    case GD_INT64:
        *(int64_t *)s->data = op->ivalue;
        break;
    case GD_FLOAT32:
        *(float *)s->data = from_float ? (float)op->fvalue : (float)op->ivalue;
        break;
    default:
        *(double *)s->data = from_float ? op->fvalue : (double)op->ivalue;
    }
    return t;
}

/* Which operand, if any, is a Python number: PyTorch's node for it differs
 * (1 - x is RsubBackward1; the core picks the name, decompositions.def). */
static int scalar_operand(const gdpy_operand *ops) {
    return ops[0].priority == 0 ? 1 : ops[1].priority == 0 ? 2 : 0;
}

int gdpy_binary_args(gd_op *op, const gdpy_operand *ops, gd_op_args *args) {
    gd_op_args_init(args);
    args->dtype = gdpy_result_type(ops, 2);
    if (ops[0].unsigned64 || ops[1].unsigned64) {
        if (ops[0].dtype == GD_BOOL || ops[1].dtype == GD_BOOL) {
            PyErr_SetString(
                PyExc_RuntimeError,
                "Promotion for uint16, uint32, uint64 types is not supported, "
                "attempted to promote Bool and UInt64");
            return -1;
        }
        if (*op == GD_OP_POW && ops[1].unsigned64 &&
            gd_dtype_is_integral(args->dtype, false)) {
            PyErr_SetString(
                PyExc_RuntimeError,
                "value cannot be converted to type int64_t without overflow");
            return -1;
        }
        /* True division computes in floating point: the number stays exact
         * rather than wrapping through int64. */
        if (*op == GD_OP_DIV && gd_dtype_is_integral(args->dtype, true))
            args->dtype = gd_default_float();
    }
    if (*op == GD_OP_SUB && (ops[0].dtype == GD_BOOL || ops[1].dtype == GD_BOOL)) {
        bool both = ops[0].dtype == GD_BOOL && ops[1].dtype == GD_BOOL;
        PyErr_SetString(
            PyExc_RuntimeError,
            both ? "Subtraction, the `-` operator, with two bool tensors is "
                   "not supported. Use the `^` or `logical_xor()` operator "
                   "instead."
                 : "Subtraction, the `-` operator, with a bool tensor is not "
                   "supported. If you are trying to invert a mask, use the "
                   "`~` or `logical_not()` operator instead.");
        return -1;
    }
    if (*op == GD_OP_POW && gd_dtype_is_integral(args->dtype, false) &&
        ops[1].priority == 0 && !gd_dtype_is_floating(ops[1].dtype) &&
        ops[1].ivalue < 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "Integers to negative integer powers are not allowed.");
        return -1;
    }
    if (*op == GD_OP_POW && args->dtype == GD_BOOL && ops[1].priority == 0 &&
        (ops[1].fvalue == 0 || ops[1].fvalue == 1)) {
        /* PyTorch answers x ** 1 with x and x ** 0 with ones, even for bools
         * (whose pow kernel it lacks): x & 1 and x >= 0 give the same. */
        *op = ops[1].fvalue == 1 ? GD_OP_MUL : GD_OP_GE;
        return 0;
    }
    args->scalar_operand = scalar_operand(ops);
    if (*op == GD_OP_POW && args->scalar_operand == 2)
        args->param = ops[1].fvalue; /* the exponent unrounded (kernels_math.c) */
    return 0;
}

/* ---- PyArg_ParseTuple converters ---------------------------------------- */

int gdpy_tensor_arg(PyObject *o, void *out) {
    if (!gdpy_is_tensor(o)) {
        PyErr_Format(PyExc_TypeError, "expected Tensor as argument, but got %.200s",
                     Py_TYPE(o)->tp_name);
        return 0;
    }
    *(gd_tensor **)out = gdpy_tensor(o);
    return 1;
}

int gdpy_dtype_arg(PyObject *o, void *out) {
    return gdpy_dtype_from_object(o, (gd_dtype *)out) == 0;
}

int gdpy_op_arg(PyObject *o, void *out) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return 0;
    if (v < 0 || v >= GD_OP_COUNT) {
        PyErr_SetString(PyExc_ValueError, "unknown op");
        return 0;
    }
    *(gd_op *)out = (gd_op)v;
    return 1;
}

int gdpy_decomposition_arg(PyObject *o, void *out) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return 0;
    if (v < 0 || v >= GD_DECOMP_COUNT) {
        PyErr_SetString(PyExc_ValueError, "unknown node name");
        return 0;
    }
    *(int *)out = (int)v;
    return 1;
}

int gdpy_shape_arg(PyObject *o, void *out) {
    shape_arg_t *s = out;
    PyObject *tup = PyTuple_Pack(1, o);
    if (!tup)
        return 0;
    int r = gdpy_parse_shape(tup, &s->ndim, s->v);
    Py_DECREF(tup);
    return r == 0;
}
