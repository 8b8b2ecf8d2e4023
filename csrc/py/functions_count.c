/* The _C functions behind bincount, histc, nonzero and unique: parse
 * positional arguments (PyTorch's keyword signatures and argument checks live
 * in gdlite/_counting.py), run the core kernel, raise or wrap. */
#include "binding.h"

/* None, or a tensor (borrowed). */
static int optional_tensor_arg(PyObject *o, void *out) {
    if (o == Py_None) {
        *(gd_tensor **)out = NULL;
        return 1;
    }
    return gdpy_tensor_arg(o, out);
}

static PyObject *fn_bincount(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *weights, *out = NULL;
    long long minlength;
    if (!PyArg_ParseTuple(args, "O&O&L", gdpy_tensor_arg, &a, optional_tensor_arg,
                          &weights, &minlength))
        return NULL;
    return gdpy_result(gd_bincount(a, weights, minlength, &out), &out);
}

static PyObject *fn_histc(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long bins;
    double min, max;
    if (!PyArg_ParseTuple(args, "O&Ldd", gdpy_tensor_arg, &a, &bins, &min, &max))
        return NULL;
    return gdpy_result(gd_histc(a, bins, min, max, &out), &out);
}

static PyObject *fn_nonzero(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    if (!PyArg_ParseTuple(args, "O&", gdpy_tensor_arg, &a))
        return NULL;
    return gdpy_result(gd_nonzero(a, &out), &out);
}

/* unique(a, consecutive) -> (values, inverse, counts) */
static PyObject *fn_unique(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *values = NULL, *inverse = NULL, *counts = NULL;
    int consecutive;
    if (!PyArg_ParseTuple(args, "O&p", gdpy_tensor_arg, &a, &consecutive))
        return NULL;
    gd_status st = gd_unique(a, consecutive, &values, &inverse, &counts);
    if (st)
        return gdpy_raise(st);
    /* each wrap steals its tensor, even when it fails */
    PyObject *v = gdpy_wrap(values), *i = gdpy_wrap(inverse), *c = gdpy_wrap(counts);
    if (!v || !i || !c) {
        Py_XDECREF(v);
        Py_XDECREF(i);
        Py_XDECREF(c);
        return NULL;
    }
    return Py_BuildValue("(NNN)", v, i, c);
}

/* track(op, input, result): `result` with the node of a non-differentiable op
 * (its backward raises) when `input` requires grad, as PyTorch records one. */
static PyObject *fn_track(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    PyObject *result;
    gd_tensor *in[2];
    if (!PyArg_ParseTuple(args, "O&O&O", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0],
                          &result) ||
        gdpy_tensor_arg(result, &in[1]) == 0)
        return NULL;
    if (op != GD_OP_UNIQUE && op != GD_OP_UNIQUE_CONSECUTIVE &&
        op != GD_OP_UNIQUE_DIM && op != GD_OP_BINCOUNT) {
        PyErr_SetString(PyExc_ValueError,
                        "track: not a recorded non-differentiable op");
        return NULL;
    }
    if (!gd_grad_enabled() || !gd_requires_grad(in[0]) ||
        !gd_dtype_is_floating(in[1]->dtype))
        return Py_NewRef(result);
    return gdpy_call_result(op, 2, in, NULL);
}

PyMethodDef gdpy_count_functions[] = {
    {"bincount", fn_bincount, METH_VARARGS, "bincount(a, weights|None, minlength)"},
    {"histc", fn_histc, METH_VARARGS, "histc(a, bins, min, max)"},
    {"nonzero", fn_nonzero, METH_VARARGS, "nonzero(a): int64 [nnz, ndim] coordinates"},
    {"unique", fn_unique, METH_VARARGS,
     "unique(a, consecutive) -> (values, inverse, counts)"},
    {"track", fn_track, METH_VARARGS,
     "track(op, input, result): result recorded under op's refusing node"},
    {NULL, NULL, 0, NULL},
};
