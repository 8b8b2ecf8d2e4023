/* The module functions behind gdlite's torch-shaped API. Each follows one
 * recipe: parse positional arguments, call the core, raise or wrap. The
 * keyword-rich signatures live in the Python package. */
#include "binding.h"

#include <math.h>
#include <string.h>

static int tensor_arg(PyObject *o, void *out) {
    if (!gdpy_is_tensor(o)) {
        PyErr_Format(PyExc_TypeError, "expected Tensor as argument, but got %.200s",
                     Py_TYPE(o)->tp_name);
        return 0;
    }
    *(gd_tensor **)out = gdpy_tensor(o);
    return 1;
}

static int dtype_arg(PyObject *o, void *out) {
    return gdpy_dtype_from_object(o, (gd_dtype *)out) == 0;
}

static int op_arg(PyObject *o, void *out) {
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

typedef struct {
    int ndim;
    int64_t v[GD_MAX_DIMS];
} shape_arg_t;

static int shape_arg(PyObject *o, void *out) {
    shape_arg_t *s = out;
    PyObject *tup = PyTuple_Pack(1, o);
    if (!tup)
        return 0;
    int r = gdpy_parse_shape(tup, &s->ndim, s->v);
    Py_DECREF(tup);
    return r == 0;
}

/* ---- elementwise -------------------------------------------------------- */

static PyObject *fn_binary(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    PyObject *x, *y;
    if (!PyArg_ParseTuple(args, "O&OO", op_arg, &op, &x, &y))
        return NULL;
    gdpy_operand ops[2];
    int r = gdpy_operand_parse(x, &ops[0]);
    if (r <= 0)
        goto not_operand;
    r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0) {
        gdpy_operand_release(&ops[0]);
        goto not_operand;
    }
    gd_dtype common = gdpy_result_type(ops, 2);
    gd_tensor *out = NULL;
    gd_tensor *a = gdpy_operand_tensor(&ops[0], common);
    gd_tensor *b = gdpy_operand_tensor(&ops[1], common);
    gd_status st;
    Py_BEGIN_ALLOW_THREADS st = gd_binary(op, a, b, common, &out);
    Py_END_ALLOW_THREADS gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return gdpy_result(st, &out);
not_operand:
    if (r == 0)
        PyErr_Format(PyExc_TypeError,
                     "%s(): expected Tensor or Number operands, got %.200s",
                     gd_op_name(op), Py_TYPE(r == 0 ? y : x)->tp_name);
    return NULL;
}

static PyObject *fn_binary_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *dst;
    PyObject *y;
    if (!PyArg_ParseTuple(args, "O&O&O", op_arg, &op, tensor_arg, &dst, &y))
        return NULL;
    gdpy_operand ops[2];
    int r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0) {
        if (r == 0)
            PyErr_Format(PyExc_TypeError,
                         "%s_(): expected Tensor or Number, got %.200s", gd_op_name(op),
                         Py_TYPE(y)->tp_name);
        return NULL;
    }
    ops[0].t = dst;
    ops[0].owned = false;
    ops[0].priority = dst->ndim > 0 ? 2 : 1;
    ops[0].dtype = dst->dtype;
    gd_dtype common = gdpy_result_type(ops, 2);
    gd_tensor *b = gdpy_operand_tensor(&ops[1], common);
    gd_status st;
    Py_BEGIN_ALLOW_THREADS st = gd_binary_(op, dst, b, common);
    Py_END_ALLOW_THREADS gdpy_operand_release(&ops[1]);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

static PyObject *fn_unary(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *a, *out = NULL;
    gd_status st;
    if (!PyArg_ParseTuple(args, "O&O&", op_arg, &op, tensor_arg, &a))
        return NULL;
    Py_BEGIN_ALLOW_THREADS st = gd_unary(op, a, &out);
    Py_END_ALLOW_THREADS return gdpy_result(st, &out);
}

static PyObject *fn_unary_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *a;
    gd_status st;
    if (!PyArg_ParseTuple(args, "O&O&", op_arg, &op, tensor_arg, &a))
        return NULL;
    Py_BEGIN_ALLOW_THREADS st = gd_unary_(op, a);
    Py_END_ALLOW_THREADS if (st) return gdpy_raise(st);
    Py_RETURN_NONE;
}

/* Optional bound: None, or a number. */
static int bound_arg(PyObject *o, bool *has, double *v) {
    *has = o != Py_None;
    if (!*has)
        return 0;
    if (gdpy_is_tensor(o)) {
        gd_tensor *t = gdpy_tensor(o);
        if (t->numel != 1) {
            PyErr_SetString(PyExc_RuntimeError,
                            "clamp: tensor bounds must have one element in gdlite");
            return -1;
        }
        *v = gd_get_flat(t, 0);
        return 0;
    }
    *v = PyFloat_AsDouble(o);
    return (*v == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *fn_clamp(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    PyObject *lo, *hi;
    int inplace;
    bool has_lo, has_hi;
    double vlo = 0, vhi = 0;
    if (!PyArg_ParseTuple(args, "O&OOp", tensor_arg, &a, &lo, &hi, &inplace))
        return NULL;
    if (bound_arg(lo, &has_lo, &vlo) < 0 || bound_arg(hi, &has_hi, &vhi) < 0)
        return NULL;
    if (inplace) {
        gd_status st = gd_clamp_(a, has_lo, vlo, has_hi, vhi);
        if (st)
            return gdpy_raise(st);
        Py_RETURN_NONE;
    }
    return gdpy_result(gd_clamp(a, has_lo, vlo, has_hi, vhi, &out), &out);
}

static PyObject *fn_where(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *cond;
    PyObject *x, *y;
    if (!PyArg_ParseTuple(args, "O&OO", tensor_arg, &cond, &x, &y))
        return NULL;
    gdpy_operand ops[2];
    int r = gdpy_operand_parse(x, &ops[0]);
    if (r <= 0) {
        if (r == 0)
            PyErr_SetString(PyExc_TypeError, "where(): expected Tensor or Number");
        return NULL;
    }
    r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0) {
        gdpy_operand_release(&ops[0]);
        if (r == 0)
            PyErr_SetString(PyExc_TypeError, "where(): expected Tensor or Number");
        return NULL;
    }
    gd_dtype common = gdpy_result_type(ops, 2);
    gd_tensor *out = NULL;
    gd_status st = gd_where(cond, gdpy_operand_tensor(&ops[0], common),
                            gdpy_operand_tensor(&ops[1], common), common, &out);
    gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return gdpy_result(st, &out);
}

static PyObject *fn_to_dtype(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "O&O&", tensor_arg, &a, dtype_arg, &dt))
        return NULL;
    return gdpy_result(gd_to_dtype(a, dt, &out), &out);
}

static PyObject *fn_copy_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *dst, *src;
    gd_status st;
    if (!PyArg_ParseTuple(args, "O&O&", tensor_arg, &dst, tensor_arg, &src))
        return NULL;
    Py_BEGIN_ALLOW_THREADS st = gd_copy_(dst, src);
    Py_END_ALLOW_THREADS if (st) return gdpy_raise(st);
    Py_RETURN_NONE;
}

static PyObject *fn_fill_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *dst;
    double v;
    if (!PyArg_ParseTuple(args, "O&d", tensor_arg, &dst, &v))
        return NULL;
    gd_status st = gd_fill_(dst, v);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

/* ---- reductions and linear algebra -------------------------------------- */

static PyObject *fn_reduce(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *a, *out = NULL;
    PyObject *dims_obj;
    int keepdim;
    double param;
    shape_arg_t dims = {-1, {0}};
    gd_status st;
    if (!PyArg_ParseTuple(args, "O&O&Opd", op_arg, &op, tensor_arg, &a, &dims_obj,
                          &keepdim, &param))
        return NULL;
    if (dims_obj != Py_None && !shape_arg(dims_obj, &dims))
        return NULL;
    Py_BEGIN_ALLOW_THREADS st =
        gd_reduce(op, a, dims.ndim, dims.v, keepdim, param, &out);
    Py_END_ALLOW_THREADS return gdpy_result(st, &out);
}

static PyObject *fn_reduce_index(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *a, *values = NULL, *indices = NULL;
    long long dim;
    int keepdim;
    if (!PyArg_ParseTuple(args, "O&O&Lp", op_arg, &op, tensor_arg, &a, &dim, &keepdim))
        return NULL;
    gd_status st = gd_reduce_index(op, a, dim, keepdim, &values, &indices);
    if (st)
        return gdpy_raise(st);
    PyObject *v = gdpy_wrap(values);
    PyObject *i = v ? gdpy_wrap(indices) : (gd_tensor_decref(indices), NULL);
    if (!v || !i) {
        Py_XDECREF(v);
        return NULL;
    }
    return Py_BuildValue("(NN)", v, i);
}

static PyObject *fn_matmul(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *b, *out = NULL;
    int reference = 0;
    gd_status st;
    if (!PyArg_ParseTuple(args, "O&O&|p", tensor_arg, &a, tensor_arg, &b, &reference))
        return NULL;
    Py_BEGIN_ALLOW_THREADS st =
        reference ? gd_matmul_reference(a, b, &out) : gd_matmul(a, b, &out);
    Py_END_ALLOW_THREADS return gdpy_result(st, &out);
}

/* ---- views -------------------------------------------------------------- */

static PyObject *fn_view(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    shape_arg_t s;
    const char *kind;
    if (!PyArg_ParseTuple(args, "sO&O&", &kind, tensor_arg, &a, shape_arg, &s))
        return NULL;
    gd_status st;
    if (strcmp(kind, "view") == 0)
        st = gd_view(a, s.ndim, s.v, &out);
    else if (strcmp(kind, "reshape") == 0)
        st = gd_reshape(a, s.ndim, s.v, &out);
    else if (strcmp(kind, "expand") == 0)
        st = gd_expand(a, s.ndim, s.v, &out);
    else if (strcmp(kind, "permute") == 0)
        st = gd_permute(a, s.ndim, s.v, &out);
    else if (strcmp(kind, "squeeze") == 0)
        st = gd_squeeze(a, s.ndim, s.v, &out);
    else
        st = gd_error(GD_ERR_VALUE, "unknown view kind %s", kind);
    return gdpy_result(st, &out);
}

static PyObject *fn_squeeze_all(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    if (!PyArg_ParseTuple(args, "O&", tensor_arg, &a))
        return NULL;
    return gdpy_result(gd_squeeze(a, -1, NULL, &out), &out);
}

static PyObject *fn_transpose(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long d0, d1;
    if (!PyArg_ParseTuple(args, "O&LL", tensor_arg, &a, &d0, &d1))
        return NULL;
    return gdpy_result(gd_transpose(a, d0, d1, &out), &out);
}

static PyObject *fn_unsqueeze(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long d;
    if (!PyArg_ParseTuple(args, "O&L", tensor_arg, &a, &d))
        return NULL;
    return gdpy_result(gd_unsqueeze(a, d, &out), &out);
}

static PyObject *fn_flatten(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long s, e;
    if (!PyArg_ParseTuple(args, "O&LL", tensor_arg, &a, &s, &e))
        return NULL;
    return gdpy_result(gd_flatten(a, s, e, &out), &out);
}

static PyObject *fn_select(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long d, i;
    if (!PyArg_ParseTuple(args, "O&LL", tensor_arg, &a, &d, &i))
        return NULL;
    return gdpy_result(gd_select(a, d, i, &out), &out);
}

static PyObject *fn_slice(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    long long d, start, stop, step;
    if (!PyArg_ParseTuple(args, "O&LLLL", tensor_arg, &a, &d, &start, &stop, &step))
        return NULL;
    return gdpy_result(gd_slice(a, d, start, stop, step, &out), &out);
}

static PyObject *fn_as_strided(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    shape_arg_t shape, strides;
    long long offset;
    if (!PyArg_ParseTuple(args, "O&O&O&L", tensor_arg, &a, shape_arg, &shape, shape_arg,
                          &strides, &offset))
        return NULL;
    if (shape.ndim != strides.ndim) {
        PyErr_Format(PyExc_RuntimeError, "mismatch in length of strides and shape");
        return NULL;
    }
    int64_t extent = offset;
    for (int d = 0; d < shape.ndim; d++) {
        if (shape.v[d] == 0) {
            extent = -1;
            break;
        }
        if (strides.v[d] < 0) {
            PyErr_SetString(
                PyExc_RuntimeError,
                "as_strided: Negative strides are not supported at the moment");
            return NULL;
        }
        extent += (shape.v[d] - 1) * strides.v[d];
    }
    if (offset < 0 || (int64_t)((extent + 1) * (int64_t)gd_dtype_size(a->dtype)) >
                          (int64_t)a->storage->nbytes) {
        PyErr_SetString(PyExc_RuntimeError,
                        "as_strided: view would reach outside the tensor's storage");
        return NULL;
    }
    return gdpy_result(gd_as_strided(a, shape.ndim, shape.v, strides.v, offset, &out),
                       &out);
}

/* ---- joining and gathering ---------------------------------------------- */

/* Converts a sequence of tensors to a common dtype: new references in `ts`. */
static int tensor_list(PyObject *seq, const char *name, gd_tensor **ts, int *n) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of Tensors");
    if (!fast)
        return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > 256) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_RuntimeError, "%s: gdlite joins at most 256 tensors at once",
                     name);
        return -1;
    }
    gd_dtype common = GD_BOOL;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
        if (!gdpy_is_tensor(o)) {
            Py_DECREF(fast);
            PyErr_Format(
                PyExc_TypeError,
                "%s(): argument 'tensors' must be tuple of Tensors, not %.200s", name,
                Py_TYPE(o)->tp_name);
            return -1;
        }
        common = gd_promote_types(common, gdpy_tensor(o)->dtype);
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        gd_tensor *t = gdpy_tensor(PySequence_Fast_GET_ITEM(fast, i));
        gd_status st = GD_OK;
        if (t->dtype == common) {
            gd_tensor_incref(t);
            ts[i] = t;
        } else {
            st = gd_to_dtype(t, common, &ts[i]);
        }
        if (st) {
            for (Py_ssize_t j = 0; j < i; j++)
                gd_tensor_decref(ts[j]);
            Py_DECREF(fast);
            return gdpy_raise_int(st);
        }
    }
    Py_DECREF(fast);
    *n = (int)len;
    return 0;
}

static PyObject *join(PyObject *args, bool stack) {
    PyObject *seq;
    long long dim;
    gd_tensor *ts[256], *out = NULL;
    int n = 0;
    if (!PyArg_ParseTuple(args, "OL", &seq, &dim))
        return NULL;
    if (tensor_list(seq, stack ? "stack" : "cat", ts, &n) < 0)
        return NULL;
    gd_status st = stack ? gd_stack(n, ts, dim, &out) : gd_cat(n, ts, dim, &out);
    for (int i = 0; i < n; i++)
        gd_tensor_decref(ts[i]);
    return gdpy_result(st, &out);
}

static PyObject *fn_cat(PyObject *mod, PyObject *args) {
    (void)mod;
    return join(args, false);
}

static PyObject *fn_stack(PyObject *mod, PyObject *args) {
    (void)mod;
    return join(args, true);
}

static PyObject *fn_take(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *index, *out = NULL;
    if (!PyArg_ParseTuple(args, "O&O&", tensor_arg, &a, tensor_arg, &index))
        return NULL;
    return gdpy_result(gd_take(a, index, &out), &out);
}

static PyObject *fn_put_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *index, *values;
    if (!PyArg_ParseTuple(args, "O&O&O&", tensor_arg, &a, tensor_arg, &index,
                          tensor_arg, &values))
        return NULL;
    gd_status st = gd_put_(a, index, values);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

/* ---- creation ----------------------------------------------------------- */

static PyObject *fn_full(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    PyObject *value;
    gd_dtype dt;
    gd_tensor *out = NULL;
    if (!PyArg_ParseTuple(args, "O&OO&", shape_arg, &s, &value, dtype_arg, &dt))
        return NULL;
    gd_status st;
    if (value == Py_None) {
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

static PyObject *fn_arange(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *ostart, *oend, *ostep;
    gd_dtype dt;
    if (!PyArg_ParseTuple(args, "OOOO&", &ostart, &oend, &ostep, dtype_arg, &dt))
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
                s[i] = PyLong_AsLongLong(objs[i]);
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
    if (!PyArg_ParseTuple(args, "ddLO&", &start, &end, &steps, dtype_arg, &dt))
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
    if (!PyArg_ParseTuple(args, "sO&|dd", &kind, tensor_arg, &t, &params[0],
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
    Py_RETURN_NONE;
}

static PyObject *fn_randint(PyObject *mod, PyObject *args) {
    (void)mod;
    shape_arg_t s;
    long long low, high;
    gd_dtype dt;
    gd_tensor *out = NULL;
    if (!PyArg_ParseTuple(args, "LLO&O&", &low, &high, shape_arg, &s, dtype_arg, &dt))
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
    if (!PyArg_ParseTuple(args, "LO&", &n, dtype_arg, &dt))
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

PyMethodDef gdpy_functions[] = {
    {"binary", fn_binary, METH_VARARGS, "binary(op, a, b): elementwise op."},
    {"binary_", fn_binary_, METH_VARARGS, "binary_(op, dst, b): in-place op."},
    {"unary", fn_unary, METH_VARARGS, "unary(op, a)"},
    {"unary_", fn_unary_, METH_VARARGS, "unary_(op, a): in place"},
    {"clamp", fn_clamp, METH_VARARGS, "clamp(a, min|None, max|None, inplace)"},
    {"where", fn_where, METH_VARARGS, "where(cond, a, b)"},
    {"to_dtype", fn_to_dtype, METH_VARARGS, "to_dtype(a, dtype): converted copy"},
    {"copy_", fn_copy_, METH_VARARGS, "copy_(dst, src): broadcast copy"},
    {"fill_", fn_fill_, METH_VARARGS, "fill_(dst, value)"},
    {"reduce", fn_reduce, METH_VARARGS, "reduce(op, a, dims|None, keepdim, param)"},
    {"reduce_index", fn_reduce_index, METH_VARARGS,
     "reduce_index(op, a, dim, keepdim) -> (values, indices)"},
    {"matmul", fn_matmul, METH_VARARGS, "matmul(a, b, reference=False)"},
    {"view", fn_view, METH_VARARGS,
     "view(kind, a, shape): view/reshape/expand/permute"},
    {"squeeze_all", fn_squeeze_all, METH_VARARGS, "squeeze_all(a)"},
    {"transpose", fn_transpose, METH_VARARGS, "transpose(a, d0, d1)"},
    {"unsqueeze", fn_unsqueeze, METH_VARARGS, "unsqueeze(a, dim)"},
    {"flatten", fn_flatten, METH_VARARGS, "flatten(a, start, end)"},
    {"select", fn_select, METH_VARARGS, "select(a, dim, index)"},
    {"slice", fn_slice, METH_VARARGS, "slice(a, dim, start, stop, step)"},
    {"as_strided", fn_as_strided, METH_VARARGS,
     "as_strided(a, shape, strides, offset)"},
    {"cat", fn_cat, METH_VARARGS, "cat(tensors, dim)"},
    {"stack", fn_stack, METH_VARARGS, "stack(tensors, dim)"},
    {"take", fn_take, METH_VARARGS, "take(a, flat_index)"},
    {"put_", fn_put_, METH_VARARGS, "put_(a, flat_index, values)"},
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
