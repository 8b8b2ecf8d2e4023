/* Module functions that make tensors: filled, from NumPy, ranges, and draws
 * from the generator in PyTorch's order. */
#include "binding.h"

#include <math.h>
#include <string.h>

/* ---- creation ----------------------------------------------------------- */

/* full(shape, value, dtype[, like[, format]]): value None leaves the
 * elements uninitialised; `like`, a tensor of that shape, makes it a *_like
 * result, laid out in `format` (a gd_memory_format, default preserve) with
 * PyTorch's size error for explicit strides. */
static PyObject *fn_full(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    PyObject *value, *like = Py_None;
    gd_dtype dt;
    gd_tensor *out = NULL;
    int format = GD_FORMAT_PRESERVE;
    if (!PyArg_ParseTuple(args, "O&OO&|Oi", gdpy_shape_arg, &s, &value, gdpy_dtype_arg,
                          &dt, &like, &format))
        return NULL;
    if (format < GD_FORMAT_PRESERVE || format > GD_FORMAT_CHANNELS_LAST_3D)
        return PyErr_Format(PyExc_ValueError, "unknown memory format %d", format);
    int64_t numel, strides[GD_MAX_DIMS], exact = 0;
    size_t nbytes;
    double v = 0;
    /* Integers beyond 2^53 would not survive a trip through double. */
    bool integer = PyLong_Check(value) && !PyBool_Check(value) && dt == GD_INT64;
    if (value == Py_None) {
    } else if (integer) {
        exact = PyLong_AsLongLong(value);
        if (exact == -1 && PyErr_Occurred())
            return NULL;
    } else {
        v = PyFloat_AsDouble(value);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        /* Integers (Python's, NumPy's) may wrap into uint8, floats not. */
        gd_status st = gd_check_scalar_of(dt, v, PyIndex_Check(value));
        if (st)
            return gdpy_raise(st);
    }
    gd_status st;
    if (like == Py_None) {
        st = gd_empty(dt, s.ndim, s.v, &out);
    } else {
        if (!gdpy_is_tensor(like))
            return PyErr_Format(PyExc_TypeError, "like must be a tensor");
        gd_tensor *ref = gdpy_tensor(like);
        if (ref->ndim != s.ndim ||
            memcmp(ref->shape, s.v, sizeof(int64_t) * (size_t)s.ndim) != 0)
            return PyErr_Format(PyExc_ValueError, "like's shape differs");
        st = gd_format_strides((gd_memory_format)format, ref, strides);
        if (!st)
            st = gd_shape_nbytes_strided(dt, s.ndim, s.v, &numel, &nbytes);
        if (!st)
            st = gd_empty_dense(dt, s.ndim, s.v, strides, &out);
    }
    if (!st && integer) {
        /* numel consecutive slots, in any dense layout */
        for (int64_t i = 0; i < out->numel; i++)
            ((int64_t *)gd_data_ptr(out))[i] = exact;
    } else if (!st && value != Py_None && (st = gd_fill_(out, v))) {
        gd_tensor_decref(out);
        out = NULL;
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

/* logspace's values; the Python wrapper made torch's checks (steps, overflow
 * of start and end in the output type, no bool unless steps < 2). */
static PyObject *fn_logspace(PyObject *mod, PyObject *args) {
    (void)mod;
    double start, end, base;
    long long steps;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "ddO&dO&", &start, &end, count_arg, &steps, &base,
                          gdpy_dtype_arg, &dt))
        return NULL;
    if (steps < 0)
        return gdpy_raise(
            gd_error(GD_ERR_RUNTIME, "number of steps must be non-negative"));
    int64_t n = steps;
    gd_tensor *out = NULL;
    gd_status st = gd_empty(dt, 1, &n, &out);
    if (st)
        return gdpy_raise(st);
    gd_fill_logspace(dt, gd_data_ptr(out), n, start, end, base);
    return gdpy_wrap(out);
}

/* ---- random ------------------------------------------------------------- */

/* One fill of a buffer of the target's dtype; checks ran before. */
typedef struct {
    enum {
        FILL_UNIFORM,
        FILL_NORMAL,
        FILL_NORMAL_SERIAL,
        FILL_RANDOM,
        FILL_FROM_TO
    } kind;
    gd_generator *gen;
    double a, b;      /* uniform bounds; normal mean and std */
    int64_t from, to; /* random_(from, to) */
    bool has_to;
    int warn; /* out: GD_RANDOM_WARN_* bits */
} fill_job;

static gd_status run_fill(gd_tensor *buf, fill_job *job) {
    void *p = gd_data_ptr(buf);
    switch (job->kind) {
    case FILL_UNIFORM:
        gd_fill_uniform(job->gen, buf->dtype, p, buf->numel, job->a, job->b);
        return GD_OK;
    case FILL_NORMAL:
        gd_fill_normal(job->gen, buf->dtype, p, buf->numel, job->a, job->b);
        return GD_OK;
    case FILL_NORMAL_SERIAL:
        gd_fill_normal_serial(job->gen, buf->dtype, p, buf->numel, job->a, job->b);
        return GD_OK;
    case FILL_RANDOM:
        return gd_fill_random(job->gen, buf->dtype, p, buf->numel);
    default:
        return gd_fill_random_from_to(job->gen, buf->dtype, p, buf->numel, job->from,
                                      job->has_to, job->to, &job->warn);
    }
}

/* Fills `t` in PyTorch's traversal order: memory order for strided tensors,
 * through a contiguous buffer. */
static gd_status fill_in_memory_order(gd_tensor *t, fill_job *job) {
    if (gd_is_contiguous(t))
        return run_fill(t, job);
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
    if (!st)
        st = run_fill(buf, job);
    if (!st)
        st = gd_copy_(view, buf);
    gd_tensor_decref(view);
    gd_tensor_decref(buf);
    return st;
}

/* PyTorch's warning for integer bounds a floating dtype cannot hold. */
static int warn_random_bounds(const fill_job *job, gd_dtype dtype) {
    static const char *names[2] = {"from", "to - 1"};
    int digits = dtype == GD_FLOAT32 ? 24 : 53;
    for (int i = 0; i < 2; i++)
        if (job->warn & (1 << i) &&
            PyErr_WarnFormat(
                PyExc_UserWarning, 1,
                "%s is out of bounds [-(2^%d), 2^%d]. Due to precision limitations %s "
                "can support discrete uniform distribution only within this range. "
                "This warning will become an error in version 1.7 release, please fix "
                "the code in advance",
                names[i], digits, digits, dtype == GD_FLOAT32 ? "float" : "double") < 0)
            return -1;
    return 0;
}

static PyObject *fill_and_finish(gd_tensor *t, fill_job *job) {
    gd_status st = fill_in_memory_order(t, job);
    if (st)
        return gdpy_raise(st);
    gd_bump_version(t);
    if (warn_random_bounds(job, t->dtype) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* random_fill(kind, t, a, b, generator): "uniform" in [a, b) or "normal" with
 * mean a and std b, in place, with PyTorch's checks. */
static PyObject *fn_random_fill(PyObject *mod, PyObject *args) {
    (void)mod;
    const char *kind;
    gd_tensor *t;
    fill_job job = {.gen = NULL, .a = 0, .b = 1};
    if (!PyArg_ParseTuple(args, "sO&|ddO&", &kind, gdpy_tensor_arg, &t, &job.a, &job.b,
                          gdpy_generator_arg, &job.gen))
        return NULL;
    if (job.gen == NULL)
        job.gen = gd_default_generator();
    gd_status st;
    if (strcmp(kind, "uniform") == 0) {
        if ((st = gd_check_uniform_bounds(t->dtype, &job.a, &job.b)))
            return gdpy_raise(st);
        job.kind = FILL_UNIFORM;
    } else if (strcmp(kind, "normal") == 0) {
        if ((st = gd_check_normal_std(job.b)))
            return gdpy_raise(st);
        if (t->numel == 0)
            Py_RETURN_NONE;
        if (!gd_dtype_is_floating(t->dtype))
            return gdpy_raise(gd_error(GD_ERR_NOTIMPL,
                                       "\"normal_kernel_cpu\" not implemented for '%s'",
                                       gd_dtype_scalar_name(t->dtype)));
        /* The 16-block kernel serves contiguous tensors of 16 or more. */
        job.kind =
            gd_is_contiguous(t) && t->numel >= 16 ? FILL_NORMAL : FILL_NORMAL_SERIAL;
    } else {
        return gdpy_raise(gd_error(GD_ERR_VALUE, "unknown random fill %s", kind));
    }
    if (t->numel == 0)
        Py_RETURN_NONE;
    return fill_and_finish(t, &job);
}

/* random_(t, from, to, generator): from None is random_() without bounds;
 * to None is random_(from, None). */
static PyObject *fn_random_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *t;
    PyObject *ofrom, *oto;
    fill_job job = {.gen = NULL};
    if (!PyArg_ParseTuple(args, "O&OO|O&", gdpy_tensor_arg, &t, &ofrom, &oto,
                          gdpy_generator_arg, &job.gen))
        return NULL;
    if (job.gen == NULL)
        job.gen = gd_default_generator();
    if (ofrom == Py_None) {
        job.kind = FILL_RANDOM;
        if (t->numel == 0)
            Py_RETURN_NONE;
        return fill_and_finish(t, &job);
    }
    job.kind = FILL_FROM_TO;
    job.from = PyLong_AsLongLong(ofrom);
    if (job.from == -1 && PyErr_Occurred())
        return NULL;
    job.has_to = oto != Py_None;
    if (job.has_to) {
        job.to = PyLong_AsLongLong(oto);
        if (job.to == -1 && PyErr_Occurred())
            return NULL;
    }
    return fill_and_finish(t, &job);
}

static PyObject *fn_randint(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    gd_dtype dt;
    gd_tensor *out = NULL;
    fill_job job = {.kind = FILL_FROM_TO, .gen = NULL, .has_to = true};
    if (!PyArg_ParseTuple(args, "LLO&O&|O&", &job.from, &job.to, gdpy_shape_arg, &s,
                          gdpy_dtype_arg, &dt, gdpy_generator_arg, &job.gen))
        return NULL;
    if (job.gen == NULL)
        job.gen = gd_default_generator();
    gd_status st = gd_empty(dt, s.ndim, s.v, &out);
    if (!st)
        st = run_fill(out, &job);
    if (st) {
        gd_tensor_decref(out);
        return gdpy_raise(st);
    }
    if (warn_random_bounds(&job, dt) < 0) {
        gd_tensor_decref(out);
        return NULL;
    }
    return gdpy_wrap(out);
}

static PyObject *fn_randperm(PyObject *mod, PyObject *args) {
    (void)mod;
    long long n;
    gd_dtype dt;
    gd_generator *gen = NULL;
    if (!PyArg_ParseTuple(args, "O&O&|O&", count_arg, &n, gdpy_dtype_arg, &dt,
                          gdpy_generator_arg, &gen))
        return NULL;
    if (gen == NULL)
        gen = gd_default_generator();
    if (n < 0)
        return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                   "Trying to create tensor with negative dimension "
                                   "%lld: [%lld]",
                                   n, n));
    if (dt == GD_BOOL)
        return gdpy_raise(
            gd_error(GD_ERR_NOTIMPL, "\"randperm\" not implemented for 'Bool'"));
    if (dt == GD_FLOAT32 && n > (1ll << 24) + 1)
        return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                   "n cannot be greater than 2^24+1 for Float type."));
    if (dt == GD_FLOAT64 && n > (1ll << 53) + 1)
        return gdpy_raise(gd_error(GD_ERR_RUNTIME,
                                   "n cannot be greater than 2^53+1 for Double type."));
    int64_t len = n;
    gd_tensor *perm = NULL, *out = NULL;
    gd_status st = gd_empty(GD_INT64, 1, &len, &perm);
    if (st)
        return gdpy_raise(st);
    gd_randperm(gen, (int64_t *)gd_data_ptr(perm), len);
    if (dt == GD_INT64)
        return gdpy_wrap(perm);
    st = gd_to_dtype(perm, dt, &out);
    gd_tensor_decref(perm);
    return gdpy_result(st, &out);
}

/* is_sequence(obj): whether tensor(data) reads obj element by element, as
 * PyTorch does for whatever passes CPython's sequence check (a pandas Series,
 * array.array, memoryview, ...; never a dict). */
static PyObject *fn_is_sequence(PyObject *mod, PyObject *obj) {
    (void)mod;
    return PyBool_FromLong(PySequence_Check(obj));
}

PyMethodDef gdpy_factory_functions[] = {
    {"is_sequence", fn_is_sequence, METH_O,
     "is_sequence(obj): read element by element by tensor(data)"},
    {"full", fn_full, METH_VARARGS, "full(shape, value|None, dtype)"},
    {"from_numpy", fn_from_numpy, METH_O, "from_numpy(array): shares memory"},
    {"arange", fn_arange, METH_VARARGS, "arange(start, end, step, dtype)"},
    {"linspace", fn_linspace, METH_VARARGS, "linspace(start, end, steps, dtype)"},
    {"logspace", fn_logspace, METH_VARARGS, "logspace(start, end, steps, base, dtype)"},
    {"random_fill", fn_random_fill, METH_VARARGS,
     "random_fill(kind, t, a, b, generator=None): uniform/normal in place"},
    {"random_", fn_random_, METH_VARARGS,
     "random_(t, from|None, to|None, generator=None): integers in place"},
    {"randint", fn_randint, METH_VARARGS,
     "randint(low, high, shape, dtype, generator=None)"},
    {"randperm", fn_randperm, METH_VARARGS, "randperm(n, dtype, generator=None)"},
    {NULL, NULL, 0, NULL},
};
