/* Module functions that make tensors: filled, from NumPy, ranges, and draws
 * from the generator in PyTorch's order. */
#include "binding.h"

#include <math.h>
#include <string.h>

/* ---- creation ----------------------------------------------------------- */

static PyObject *fn_full(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    PyObject *value;
    gd_dtype dt;
    gd_tensor *out = NULL;
    int like = 0; /* *_like: PyTorch allocates with strides, naming them on error */
    if (!PyArg_ParseTuple(args, "O&OO&|p", gdpy_shape_arg, &s, &value, gdpy_dtype_arg,
                          &dt, &like))
        return NULL;
    int64_t numel;
    size_t nbytes;
    gd_status st =
        like ? gd_shape_nbytes_strided(dt, s.ndim, s.v, &numel, &nbytes) : GD_OK;
    if (st) {
        return gdpy_raise(st);
    } else if (value == Py_None) {
        st = gd_empty(dt, s.ndim, s.v, &out);
    } else if (PyLong_Check(value) && !PyBool_Check(value) && dt == GD_INT64) {
        /* Integers beyond 2^53 would not survive a trip through double. */
        long long v = PyLong_AsLongLong(value);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        st = gd_empty(dt, s.ndim, s.v, &out);
        for (int64_t i = 0; !st && i < out->numel; i++)
            ((int64_t *)gd_data_ptr(out))[i] = v;
    } else {
        double v = PyFloat_AsDouble(value);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        st = gd_full(dt, s.ndim, s.v, v, &out);
    }
    return gdpy_result(st, &out);
}

static PyObject *fn_from_numpy(PyObject *mod, PyObject *arr) {
    (void)mod;
    if (!PyArray_Check(arr)) {
        PyErr_Format(PyExc_TypeError, "expected np.ndarray (got %.200s)",
                     Py_TYPE(arr)->tp_name);
        return NULL;
    }
    gd_tensor *out = NULL;
    return gdpy_result(gdpy_from_numpy((PyArrayObject *)arr, &out), &out);
}

/* A count argument (linspace's steps, randperm's n): PyTorch reports one
 * beyond int64 as a ValueError. */
static int count_arg(PyObject *o, void *out) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
        PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
        return 0;
    }
    if (v == -1 && PyErr_Occurred())
        return 0;
    *(long long *)out = v;
    return 1;
}

static PyObject *fn_arange(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *ostart, *oend, *ostep;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "OOOO&", &ostart, &oend, &ostep, gdpy_dtype_arg, &dt))
        return NULL;
    double start = PyFloat_AsDouble(ostart), end = PyFloat_AsDouble(oend),
           step = PyFloat_AsDouble(ostep);
    if (PyErr_Occurred())
        return NULL;
    if (dt == GD_BOOL)
        return gdpy_raise(
            gd_error(GD_ERR_NOTIMPL, "\"arange_cpu\" not implemented for 'Bool'"));
    int64_t n = 0;
    gd_status st = gd_arange_check(start, end, step);
    if (st)
        return gdpy_raise(st);
    gd_tensor *out = NULL;
    if (dt == GD_INT64) {
        int64_t s[3];
        PyObject *objs[3] = {ostart, oend, ostep};
        for (int i = 0; i < 3; i++) {
            if (PyLong_Check(objs[i])) {
                int overflow = 0;
                s[i] = PyLong_AsLongLongAndOverflow(objs[i], &overflow);
                if (overflow)
                    return gdpy_raise(gd_error(
                        GD_ERR_RUNTIME, "value cannot be converted to type int64_t "
                                        "without overflow"));
                if (s[i] == -1 && PyErr_Occurred())
                    return NULL;
            } else {
                double v = PyFloat_AsDouble(objs[i]);
                if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
                    return gdpy_raise(gd_error(
                        GD_ERR_RUNTIME, "value cannot be converted to type int64_t "
                                        "without overflow"));
                s[i] = (int64_t)v;
            }
        }
        if (s[2] == 0)
            return gdpy_raise(gd_error(GD_ERR_VALUE, "step must be nonzero"));
        if ((st = gd_arange_size_int64(s[0], s[1], s[2], &n)) ||
            (st = gd_empty(dt, 1, &n, &out)))
            return gdpy_raise(st);
        gd_fill_arange_int64((int64_t *)gd_data_ptr(out), n, s[0], s[2]);
        return gdpy_wrap(out);
    }
    if ((st = gd_arange_size(start, end, step, &n)) || (st = gd_empty(dt, 1, &n, &out)))
        return gdpy_raise(st);
    gd_fill_arange(dt, gd_data_ptr(out), n, start, step);
    return gdpy_wrap(out);
}

static PyObject *fn_linspace(PyObject *mod, PyObject *args) {
    (void)mod;
    double start, end;
    long long steps;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "ddO&O&", &start, &end, count_arg, &steps,
                          gdpy_dtype_arg, &dt))
        return NULL;
    if (steps < 0)
        return gdpy_raise(
            gd_error(GD_ERR_RUNTIME, "number of steps must be non-negative"));
    if (dt == GD_FLOAT32 && ((isfinite(start) && fabs(start) > 3.4028234663852886e38) ||
                             (isfinite(end) && fabs(end) > 3.4028234663852886e38)))
        return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                   "value cannot be converted to type float without "
                                   "overflow"));
    int64_t n = steps;
    gd_tensor *out = NULL;
    gd_status st = gd_empty(dt, 1, &n, &out);
    if (st)
        return gdpy_raise(st);
    gd_fill_linspace(dt, gd_data_ptr(out), n, start, end);
    return gdpy_wrap(out);
}

/* ---- random ------------------------------------------------------------- */

static PyObject *fn_manual_seed(PyObject *mod, PyObject *arg) {
    (void)mod;
    /* Negative seeds wrap to 64 bits as PyTorch's do. */
    unsigned long long seed = PyLong_AsUnsignedLongLongMask(arg);
    if (seed == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    gd_generator_seed(gd_default_generator(), seed);
    Py_RETURN_NONE;
}

static PyObject *fn_initial_seed(PyObject *mod, PyObject *unused) {
    (void)mod;
    (void)unused;
    return PyLong_FromUnsignedLongLong(gd_default_generator()->seed);
}

/* Fills `t` in PyTorch's traversal order: memory order for strided tensors,
 * through a contiguous buffer. */
typedef void (*fill_fn)(gd_tensor *buf, const double *params);

static void fill_uniform(gd_tensor *buf, const double *p) {
    gd_fill_uniform(gd_default_generator(), buf->dtype, gd_data_ptr(buf), buf->numel,
                    p[0], p[1]);
}
static void fill_normal(gd_tensor *buf, const double *p) {
    gd_fill_normal(gd_default_generator(), buf->dtype, gd_data_ptr(buf), buf->numel,
                   p[0], p[1]);
}
static void fill_normal_serial(gd_tensor *buf, const double *p) {
    gd_fill_normal_serial(gd_default_generator(), buf->dtype, gd_data_ptr(buf),
                          buf->numel, p[0], p[1]);
}
static void fill_random64(gd_tensor *buf, const double *p) {
    (void)p;
    gd_fill_random_int64(gd_default_generator(), (int64_t *)gd_data_ptr(buf),
                         buf->numel);
}

static gd_status fill_in_memory_order(gd_tensor *t, fill_fn fill,
                                      const double *params) {
    if (gd_is_contiguous(t)) {
        fill(t, params);
        return GD_OK;
    }
    /* Order dims by decreasing stride, so the smallest stride is innermost. */
    int64_t perm[GD_MAX_DIMS];
    for (int d = 0; d < t->ndim; d++)
        perm[d] = d;
    for (int i = 1; i < t->ndim; i++)
        for (int j = i; j > 0 && t->strides[perm[j - 1]] < t->strides[perm[j]]; j--) {
            int64_t tmp = perm[j];
            perm[j] = perm[j - 1];
            perm[j - 1] = tmp;
        }
    gd_tensor *view = NULL, *buf = NULL;
    gd_status st = gd_permute(t, t->ndim, perm, &view);
    if (!st)
        st = gd_empty(t->dtype, view->ndim, view->shape, &buf);
    if (!st) {
        fill(buf, params);
        st = gd_copy_(view, buf);
    }
    gd_tensor_decref(view);
    gd_tensor_decref(buf);
    return st;
}

static PyObject *fn_random_fill(PyObject *mod, PyObject *args) {
    (void)mod;
    const char *kind;
    gd_tensor *t;
    double params[2] = {0, 1};
    if (!PyArg_ParseTuple(args, "sO&|dd", &kind, gdpy_tensor_arg, &t, &params[0],
                          &params[1]))
        return NULL;
    gd_status st;
    bool is_float = gd_dtype_is_floating(t->dtype);
    if (strcmp(kind, "uniform") == 0) {
        if (!is_float)
            return gdpy_raise(gd_error(
                GD_ERR_RUNTIME, "\"check_uniform_bounds\" not implemented for '%s'",
                gd_dtype_scalar_name(t->dtype)));
        double lim =
            t->dtype == GD_FLOAT32 ? 3.4028234663852886e38 : 1.7976931348623157e308;
        if (params[0] > params[1])
            return gdpy_raise(
                gd_error(GD_ERR_RUNTIME,
                         "uniform_ expects to return a [from, to) range, but "
                         "found from=%g > to=%g",
                         params[0], params[1]));
        if (params[1] - params[0] > lim)
            return gdpy_raise(gd_error(
                GD_ERR_RUNTIME,
                "uniform_ expects to-from <= std::numeric_limits<%s>::max(), but found "
                "to=%g and from=%g which result in to-from to exceed the limit",
                t->dtype == GD_FLOAT32 ? "float" : "double", params[1], params[0]));
        st = fill_in_memory_order(t, fill_uniform, params);
    } else if (strcmp(kind, "normal") == 0) {
        if (!is_float)
            return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                       "\"normal_kernel_cpu\" not implemented for '%s'",
                                       gd_dtype_scalar_name(t->dtype)));
        if (params[1] < 0)
            return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                       "normal expects std >= 0.0, but found std %g",
                                       params[1]));
        st = fill_in_memory_order(
            t, gd_is_contiguous(t) && t->numel >= 16 ? fill_normal : fill_normal_serial,
            params);
    } else if (strcmp(kind, "random64") == 0 && t->dtype == GD_INT64) {
        st = fill_in_memory_order(t, fill_random64, params);
    } else {
        st = gd_error(GD_ERR_VALUE, "unknown random fill %s", kind);
    }
    if (st)
        return gdpy_raise(st);
    gd_bump_version(t);
    Py_RETURN_NONE;
}

static PyObject *fn_randint(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    long long low, high;
    gd_dtype dt;
    gd_tensor *out = NULL;
    if (!PyArg_ParseTuple(args, "LLO&O&", &low, &high, gdpy_shape_arg, &s,
                          gdpy_dtype_arg, &dt))
        return NULL;
    gd_status st = gd_empty(dt, s.ndim, s.v, &out);
    if (!st)
        st = gd_fill_randint(gd_default_generator(), dt, gd_data_ptr(out), out->numel,
                             low, high);
    if (st) {
        gd_tensor_decref(out);
        return gdpy_raise(st);
    }
    return gdpy_wrap(out);
}

static PyObject *fn_randperm(PyObject *mod, PyObject *args) {
    (void)mod;
    long long n;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "O&O&", count_arg, &n, gdpy_dtype_arg, &dt))
        return NULL;
    if (n < 0)
        return gdpy_raise(
            gd_error(GD_ERR_RUNTIME,
                     "randperm is only implemented for nonnegative n, got "
                     "n=%lld",
                     n));
    int64_t len = n;
    gd_tensor *perm = NULL, *out = NULL;
    gd_status st = gd_empty(GD_INT64, 1, &len, &perm);
    if (st)
        return gdpy_raise(st);
    gd_randperm(gd_default_generator(), (int64_t *)gd_data_ptr(perm), len);
    if (dt == GD_INT64)
        return gdpy_wrap(perm);
    st = gd_to_dtype(perm, dt, &out);
    gd_tensor_decref(perm);
    return gdpy_result(st, &out);
}

PyMethodDef gdpy_factory_functions[] = {
    {"full", fn_full, METH_VARARGS, "full(shape, value|None, dtype)"},
    {"from_numpy", fn_from_numpy, METH_O, "from_numpy(array): shares memory"},
    {"arange", fn_arange, METH_VARARGS, "arange(start, end, step, dtype)"},
    {"linspace", fn_linspace, METH_VARARGS, "linspace(start, end, steps, dtype)"},
    {"manual_seed", fn_manual_seed, METH_O, "Seeds the default generator."},
    {"initial_seed", fn_initial_seed, METH_NOARGS, "The default generator's seed."},
    {"random_fill", fn_random_fill, METH_VARARGS,
     "random_fill(kind, t, a, b): uniform/normal/random64 in place"},
    {"randint", fn_randint, METH_VARARGS, "randint(low, high, shape, dtype)"},
    {"randperm", fn_randperm, METH_VARARGS, "randperm(n, dtype)"},
    {NULL, NULL, 0, NULL},
};
