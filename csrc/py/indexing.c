/* Tensor indexing: ints, slices, None and Ellipsis as recorded views in C;
 * index arrays and masks through gdlite._indexing (NumPy computes the flat
 * positions), as are assignments that autograd must record. */
#include "binding.h"

#include <string.h>

/* Integers index by selecting (a view), whether Python ints, NumPy integer
 * scalars or 0-d integer tensors, as in PyTorch. */
static bool is_integer_item(PyObject *o) {
    if (PyLong_CheckExact(o) || PyArray_IsScalar(o, Integer))
        return true;
    if (!gdpy_is_tensor(o))
        return false;
    gd_tensor *t = gdpy_tensor(o);
    return t->ndim == 0 && gd_dtype_is_integral(t->dtype, false);
}

static bool is_basic_item(PyObject *o) {
    return is_integer_item(o) || PySlice_Check(o) || o == Py_None || o == Py_Ellipsis;
}

/* Applies ints, slices, None and one Ellipsis as a view. */
static int basic_index(gd_tensor *t, PyObject *const *items, Py_ssize_t n,
                       gd_tensor **out) {
    int consuming = 0, ellipses = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == Py_Ellipsis)
            ellipses++;
        else if (items[i] != Py_None)
            consuming++;
    }
    *out = NULL;
    if (ellipses > 1) {
        PyErr_SetString(PyExc_IndexError,
                        "an index can only have a single ellipsis ('...')");
        return -1;
    }
    if (consuming > t->ndim) {
        bool slice_first = false;
        for (Py_ssize_t i = 0; i < n && !slice_first; i++)
            if (items[i] != Py_None && items[i] != Py_Ellipsis) {
                slice_first = PySlice_Check(items[i]);
                break;
            }
        if (t->ndim == 0 && slice_first)
            PyErr_SetString(PyExc_IndexError,
                            "slice() cannot be applied to a 0-dim tensor.");
        else if (t->ndim == 0)
            PyErr_SetString(PyExc_IndexError,
                            "invalid index of a 0-dim tensor. Use `tensor.item()` in "
                            "Python or `tensor.item<T>()` in C++ to convert a 0-dim "
                            "tensor to a number");
        else
            PyErr_Format(PyExc_IndexError,
                         "too many indices for tensor of dimension %d", t->ndim);
        return -1;
    }
    /* Each step is a recorded view, so gradients flow through indexing. */
    gd_tensor *cur = t, *next = NULL, *outs[2];
    gd_status st = GD_OK;
    gd_op_args args;
    gd_tensor_incref(cur);
    int64_t d = 0, real = 0; /* dim in the view so far; dim PyTorch reports */
    bool stepped = false;
    for (Py_ssize_t i = 0; i < n && !st; i++) {
        PyObject *item = items[i];
        if (item == Py_Ellipsis) {
            d += t->ndim - consuming;
            real += t->ndim - consuming;
            continue;
        }
        real++;
        gd_op_args_init(&args);
        gd_op op;
        if (item == Py_None) {
            op = GD_OP_UNSQUEEZE;
            args.i[0] = d++;
        } else if (is_integer_item(item)) {
            PyObject *as_int = PyNumber_Index(item);
            int overflow = 0;
            long long v = as_int ? PyLong_AsLongLongAndOverflow(as_int, &overflow) : -1;
            Py_XDECREF(as_int);
            if (!as_int || overflow) {
                gd_tensor_decref(cur);
                if (overflow)
                    PyErr_SetString(PyExc_IndexError, "index out of range");
                return -1;
            }
            int64_t size = cur->shape[d];
            if (v < -size || v >= size) {
                gd_tensor_decref(cur);
                PyErr_Format(
                    PyExc_IndexError,
                    "index %lld is out of bounds for dimension %lld with size %lld", v,
                    (long long)(real - 1), (long long)size);
                return -1;
            }
            op = GD_OP_SELECT;
            args.i[0] = d;
            args.i[1] = v;
        } else {
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(item, &start, &stop, &step) < 0) {
                gd_tensor_decref(cur);
                return -1;
            }
            if (step <= 0) {
                gd_tensor_decref(cur);
                PyErr_SetString(PyExc_ValueError, "step must be greater than zero");
                return -1;
            }
            op = GD_OP_SLICE;
            args.i[0] = d++;
            args.i[1] = start;
            args.i[2] = stop;
            args.i[3] = step;
        }
        st = gd_call(op, 1, &cur, &args, outs);
        next = outs[0];
        gd_tensor_decref(cur);
        cur = next;
        stepped = true;
    }
    if (!st && !stepped) { /* t[...] and t[()] give a view of the whole tensor */
        gd_op_args_init(&args);
        args.ndims = cur->ndim;
        memcpy(args.dims, cur->shape, sizeof(int64_t) * (size_t)cur->ndim);
        st = gd_call(GD_OP_VIEW, 1, &cur, &args, outs);
        gd_tensor_decref(cur);
        cur = outs[0];
    }
    if (st) {
        gd_tensor_decref(cur);
        return gdpy_raise_int(st);
    }
    *out = cur;
    return 0;
}

/* Index items as an array; 0 if the index needs the advanced path. */
static int index_items(PyObject *idx, PyObject *const **items, Py_ssize_t *n,
                       PyObject **holder) {
    *holder = NULL;
    if (PyTuple_Check(idx)) {
        *items = &PyTuple_GET_ITEM(idx, 0);
        *n = PyTuple_GET_SIZE(idx);
    } else {
        *holder = idx;
        *items = holder;
        *n = 1;
    }
    for (Py_ssize_t i = 0; i < *n; i++)
        if (!is_basic_item((*items)[i]))
            return 0;
    return 1;
}

PyObject *gdpy_getitem(PyObject *self, PyObject *idx) {
    PyObject *const *items;
    PyObject *holder;
    Py_ssize_t n;
    if (!index_items(idx, &items, &n, &holder)) {
        if (!gdpy.advanced_getitem) {
            PyErr_SetString(PyExc_IndexError, "advanced indexing is unavailable");
            return NULL;
        }
        return PyObject_CallFunctionObjArgs(gdpy.advanced_getitem, self, idx, NULL);
    }
    gd_tensor *out = NULL;
    if (basic_index(gdpy_tensor(self), items, n, &out) < 0)
        return NULL;
    return gdpy_wrap(out);
}

static int assign(gd_tensor *dst, PyObject *value) {
    gdpy_operand v;
    if (gdpy_check_assign(dst, value) < 0)
        return -1;
    int r = gdpy_operand_parse(value, &v);
    if (r < 0)
        return -1;
    if (r == 0) {
        PyErr_Format(PyExc_TypeError, "can't assign a %.200s to a gdlite.%s",
                     Py_TYPE(value)->tp_name, gd_dtype_legacy_name(dst->dtype));
        return -1;
    }
    gd_status st;
    if (!v.t) {
        st = gd_copy_(
            dst, gdpy_operand_tensor(&v, v.dtype == GD_FLOAT32 ? GD_FLOAT64 : v.dtype));
    } else {
        /* Leading size-1 dims of the value are dropped, then it expands to the
         * indexed shape (PyTorch's messages come from expand). */
        gd_tensor *src = v.t, *stripped = NULL, *expanded = NULL;
        int lead = 0;
        while (src->ndim - lead > dst->ndim && src->shape[lead] == 1)
            lead++;
        st = gd_view(src, src->ndim - lead, src->shape + lead, &stripped);
        if (!st)
            st = gd_expand(stripped, dst->ndim, dst->shape, &expanded);
        if (!st)
            st = gd_copy_(dst, expanded);
        gd_tensor_decref(stripped);
        gd_tensor_decref(expanded);
    }
    if (!st)
        gd_bump_version(dst);
    gdpy_operand_release(&v);
    return st ? gdpy_raise_int(st) : 0;
}

int gdpy_setitem(PyObject *self, PyObject *idx, PyObject *value) {
    PyObject *const *items;
    PyObject *holder;
    Py_ssize_t n;
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "Tensor does not support item deletion");
        return -1;
    }
    /* With gradients to track, assignment is recorded as index_put. */
    bool tracked = gd_grad_enabled() &&
                   (gd_requires_grad(gdpy_tensor(self)) ||
                    (gdpy_is_tensor(value) && gd_requires_grad(gdpy_tensor(value))));
    /* Lists are values too (converted in Python), beyond what PyTorch takes. */
    if (tracked || !index_items(idx, &items, &n, &holder) || PyList_Check(value) ||
        PyTuple_Check(value)) {
        if (!gdpy.advanced_setitem) {
            PyErr_SetString(PyExc_IndexError, "advanced indexing is unavailable");
            return -1;
        }
        PyObject *r =
            PyObject_CallFunctionObjArgs(gdpy.advanced_setitem, self, idx, value, NULL);
        Py_XDECREF(r);
        return r ? 0 : -1;
    }
    gd_tensor *view = NULL;
    if (basic_index(gdpy_tensor(self), items, n, &view) < 0)
        return -1;
    int r = assign(view, value);
    gd_tensor_decref(view);
    return r;
}
