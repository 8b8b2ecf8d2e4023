/* Tensor indexing: ints, slices, None and Ellipsis as recorded views in C.
 * Index tensors, int lists, ranges and masks on the leading dims take a fast
 * path straight to the core's gd_index / gd_index_put_; every other index
 * form, and assignments autograd must record, go through gdlite._indexing. */
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
                       bool in_tuple, gd_tensor **out) {
    /* Each Ellipsis skips the dims no other item consumes (PyTorch takes
     * several; the later ones skip past the end). */
    int consuming = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (items[i] != Py_Ellipsis && items[i] != Py_None)
            consuming++;
    *out = NULL;
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
                    PyErr_SetString(PyExc_ValueError,
                                    "Overflow when unpacking long long");
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
            /* In a tuple, PyTorch skips slices that keep the whole dim. */
            if (in_tuple && start == 0 && step == 1 && stop >= cur->shape[d]) {
                d++;
                continue;
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
        args.decomposition = GD_DECOMP_ALIAS;
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

/* ---- the fast path of advanced indexing ---------------------------------- */

/* An index tensor the fast path takes as it is: int64 or int32, with dims. */
static bool is_index_tensor(PyObject *o) {
    if (!gdpy_is_tensor(o))
        return false;
    gd_tensor *t = gdpy_tensor(o);
    return t->ndim > 0 && (t->dtype == GD_INT64 || t->dtype == GD_INT32);
}

/* Writes a list of Python ints or a range as int64 into `out` (n entries).
 * 1: done; 0: not that kind of object; -1: error set. */
static int fill_positions(PyObject *o, int64_t *out, Py_ssize_t n) {
    if (PyRange_Check(o)) {
        PyObject *start = PyObject_GetAttrString(o, "start");
        PyObject *step = start ? PyObject_GetAttrString(o, "step") : NULL;
        long long a = start ? PyLong_AsLongLong(start) : -1;
        long long d = step ? PyLong_AsLongLong(step) : -1;
        Py_XDECREF(start);
        Py_XDECREF(step);
        if (PyErr_Occurred())
            return -1;
        for (Py_ssize_t i = 0; i < n; i++)
            out[i] = (int64_t)(a + d * (long long)i);
        return 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(o, i);
        if (!PyLong_CheckExact(item))
            return 0;
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            return -1;
        }
        out[i] = v;
    }
    return 1;
}

/* Items of the fast path: index tensors, lists of ints and ranges, on the
 * leading dims, all of one shape. Builds the index rows (k == 1: the index
 * itself; else [k, n] stacked). 1: done; 0: leave it to Python; -1: error. */
static int fast_rows(gd_tensor *t, PyObject *const *items, Py_ssize_t k,
                     gd_tensor **rows) {
    *rows = NULL;
    if (k < 1 || k > t->ndim || k > GD_MAX_DIMS)
        return 0;
    if (k == 1 && gdpy_is_tensor(items[0]) && gdpy_tensor(items[0])->dtype == GD_BOOL) {
        /* a mask over the leading dims: the positions of its true elements */
        gd_tensor *mask = gdpy_tensor(items[0]);
        if (mask->ndim == 0 || mask->ndim > t->ndim ||
            memcmp(mask->shape, t->shape, sizeof(int64_t) * (size_t)mask->ndim))
            return 0;
        gd_status st = gd_mask_indices(mask, rows);
        return st ? gdpy_raise_int(st) : 1;
    }
    int64_t n = -1;
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *o = items[j];
        int64_t len;
        if (is_index_tensor(o)) {
            gd_tensor *ix = gdpy_tensor(o);
            if (k > 1 && ix->ndim != 1)
                return 0;
            len = ix->ndim == 1 ? ix->shape[0] : -2;
        } else if (PyList_CheckExact(o) || PyRange_Check(o)) {
            len = PyList_CheckExact(o) ? PyList_GET_SIZE(o) : PyObject_Length(o);
            if (len < 0) {
                PyErr_Clear();
                return 0;
            }
            if (len == 0 ||
                (PyList_CheckExact(o) && !PyLong_CheckExact(PyList_GET_ITEM(o, 0))))
                return 0;
        } else {
            return 0;
        }
        if (n != -1 && len != n)
            return 0; /* broadcasting: Python's business */
        n = len;
    }
    if (k == 1 && gdpy_is_tensor(items[0])) {
        gd_tensor_incref(gdpy_tensor(items[0]));
        *rows = gdpy_tensor(items[0]);
        return 1;
    }
    int64_t shape[2] = {k, n};
    gd_status st = gd_empty(GD_INT64, k == 1 ? 1 : 2, k == 1 ? &shape[1] : shape, rows);
    if (st)
        return gdpy_raise_int(st);
    int64_t *out = (int64_t *)gd_data_ptr(*rows);
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *o = items[j];
        int r = 1;
        if (gdpy_is_tensor(o)) {
            gd_tensor *ix = gdpy_tensor(o);
            if (ix->dtype == GD_INT64 && gd_is_contiguous(ix))
                memcpy(out + j * n, gd_data_ptr(ix), sizeof(int64_t) * (size_t)n);
            else
                for (int64_t i = 0; i < n; i++)
                    out[j * n + i] = gd_get_flat_int(ix, i);
        } else {
            r = fill_positions(o, out + j * n, (Py_ssize_t)n);
        }
        if (r <= 0) {
            gd_tensor_decref(*rows);
            *rows = NULL;
            return r;
        }
    }
    return 1;
}

/* The number of dims the fast path's rows index: a mask's dimensionality. */
static Py_ssize_t mask_dims(PyObject *first, Py_ssize_t k) {
    if (gdpy_is_tensor(first) && gdpy_tensor(first)->dtype == GD_BOOL)
        return gdpy_tensor(first)->ndim;
    return k;
}

/* The items of an index for the fast paths (a tuple's elements, or the
 * index itself); false when the fast paths do not apply. `*idx_slot` must
 * outlive the items. */
static bool fast_items(PyObject *const *idx_slot, PyObject *const **items,
                       Py_ssize_t *k) {
    PyObject *idx = *idx_slot;
    *items = idx_slot;
    *k = 1;
    if (PyTuple_CheckExact(idx)) {
        *items = &PyTuple_GET_ITEM(idx, 0);
        *k = PyTuple_GET_SIZE(idx);
    } else if (PyList_CheckExact(idx) && PyList_GET_SIZE(idx) < 32) {
        /* a short list holding sequences is a tuple to PyTorch */
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(idx); i++)
            if (!PyLong_CheckExact(PyList_GET_ITEM(idx, i)))
                return false;
    }
    return true;
}

/* t[idx] by the fast path; NULL with no error set: not taken. */
static PyObject *fast_getitem(PyObject *self, PyObject *idx) {
    PyObject *const *items;
    Py_ssize_t k;
    if (!fast_items(&idx, &items, &k))
        return NULL;
    gd_tensor *t = gdpy_tensor(self), *rows = NULL, *outs[2] = {NULL, NULL};
    int r = fast_rows(t, items, k, &rows);
    if (r <= 0)
        return NULL;
    k = mask_dims(items[0], k);
    gd_op_args args;
    gd_op_args_init(&args);
    args.ndims = (int)k;
    for (Py_ssize_t j = 0; j < k; j++)
        args.dims[j] = j;
    gd_tensor *in[2] = {t, rows};
    gd_status st = gd_call(GD_OP_INDEX, 2, in, &args, outs);
    gd_tensor_decref(rows);
    return gdpy_result(st, &outs[0]);
}

PyObject *gdpy_getitem(PyObject *self, PyObject *idx) {
    GDPY_TORCH_FUNCTION_CHECK("__getitem__", self, idx)
    PyObject *const *items;
    PyObject *holder;
    Py_ssize_t n;
    if (!index_items(idx, &items, &n, &holder)) {
        PyObject *fast = fast_getitem(self, idx);
        if (fast || PyErr_Occurred())
            return fast;
        if (!gdpy.advanced_getitem) {
            PyErr_SetString(PyExc_IndexError, "advanced indexing is unavailable");
            return NULL;
        }
        return PyObject_CallFunctionObjArgs(gdpy.advanced_getitem, self, idx, NULL);
    }
    gd_tensor *out = NULL;
    if (basic_index(gdpy_tensor(self), items, n, PyTuple_Check(idx), &out) < 0)
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
    gd_status st = gd_check_writable(dst);
    if (st) {
        gdpy_operand_release(&v);
        return gdpy_raise_int(st);
    }
    if (!v.t) {
        st = gd_copy_(dst,
                      gdpy_operand_tensor(&v, gd_dtype_is_floating(v.dtype) ? GD_FLOAT64
                                                                            : v.dtype));
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

/* t[idx] = value by the fast path (untracked, a number or a tensor of t's
 * dtype); 1: done, 0: not taken, -1: error set. */
static int fast_setitem(PyObject *self, PyObject *idx, PyObject *value) {
    PyObject *const *items;
    Py_ssize_t k;
    if (!fast_items(&idx, &items, &k))
        return 0;
    gd_tensor *t = gdpy_tensor(self), *rows = NULL, *stripped = NULL;
    bool number = PyFloat_CheckExact(value) || PyLong_CheckExact(value);
    if (!number && !(gdpy_is_tensor(value) && gdpy_tensor(value)->dtype == t->dtype))
        return 0;
    int r = fast_rows(t, items, k, &rows);
    if (r <= 0)
        return r;
    k = mask_dims(items[0], k);
    if (gd_check_writable(t) &&
        PyErr_WarnEx(PyExc_UserWarning,
                     "Use of index_put_ on expanded tensors is deprecated. Please "
                     "clone() the tensor before performing this operation. This also "
                     "applies to advanced indexing e.g. tensor[indices] = tensor",
                     1) < 0) {
        gd_tensor_decref(rows);
        return -1;
    }
    gdpy_operand v;
    if (gdpy_operand_parse(value, &v) < 0) {
        gd_tensor_decref(rows);
        return -1;
    }
    if (!v.t) { /* a Python number: refused where it does not fit, as torch does */
        bool integral = !gd_dtype_is_floating(v.dtype);
        gd_status bad = gd_check_scalar_of(
            t->dtype, integral && !v.unsigned64 ? (double)v.ivalue : v.fvalue,
            integral);
        if (bad) {
            gd_tensor_decref(rows);
            return gdpy_raise_int(bad);
        }
    }
    gd_tensor *src =
        gdpy_operand_tensor(&v, gd_dtype_is_floating(v.dtype) ? GD_FLOAT64 : v.dtype);
    int64_t dims[GD_MAX_DIMS];
    for (Py_ssize_t j = 0; j < k; j++)
        dims[j] = j;
    /* PyTorch drops the value's leading size-1 dims first */
    int lead = 0;
    while (lead < src->ndim && src->shape[lead] == 1)
        lead++;
    gd_status st =
        lead ? gd_view(src, src->ndim - lead, src->shape + lead, &stripped) : GD_OK;
    if (!st)
        st = gd_index_put_(t, (int)k, dims, rows, stripped ? stripped : src, false);
    if (!st)
        gd_bump_version(t);
    gd_tensor_decref(stripped);
    gd_tensor_decref(rows);
    gdpy_operand_release(&v);
    return st ? gdpy_raise_int(st) : 1;
}

int gdpy_setitem(PyObject *self, PyObject *idx, PyObject *value) {
    PyObject *const *items;
    PyObject *holder;
    Py_ssize_t n;
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "Tensor does not support item deletion");
        return -1;
    }
    if (gdpy.slot_dispatch && Py_TYPE(value) != gdpy.tensor_class &&
        gdpy_is_tensor(value)) {
        /* a plain tensor given a subclass's values (a subclass's own
         * __setitem__ dispatches in Python): its __torch_function__ runs */
        PyObject *key_value = PyTuple_Pack(2, idx, value);
        PyObject *done =
            key_value ? gdpy_slot_torch_function("__setitem__", self, key_value) : NULL;
        Py_XDECREF(key_value);
        if (done || PyErr_Occurred()) {
            Py_XDECREF(done);
            return done ? 0 : -1;
        }
    }
    /* With gradients to track, assignment is recorded as index_put. */
    bool tracked = gd_grad_enabled() &&
                   (gd_requires_grad(gdpy_tensor(self)) ||
                    (gdpy_is_tensor(value) && gd_requires_grad(gdpy_tensor(value))));
    if (!tracked && !index_items(idx, &items, &n, &holder)) {
        int r = fast_setitem(self, idx, value);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
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
    if (basic_index(gdpy_tensor(self), items, n, PyTuple_Check(idx), &view) < 0)
        return -1;
    int r = assign(view, value);
    gd_tensor_decref(view);
    return r;
}
