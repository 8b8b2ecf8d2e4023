/* The module functions behind gdlite's torch-shaped API. Each follows one
 * recipe: parse positional arguments, call the core, raise or wrap. The
 * keyword-rich signatures live in the Python package. */
#include "binding.h"

#include <limits.h>
#include <string.h>

/* Runs an in-place op (dst = in[0]) and returns None. */
static PyObject *call_(gd_op op, int n, gd_tensor *const *in, const gd_op_args *args) {
    gd_status st = gd_call_(op, n, in, args);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

static int parse_operands(PyObject *x, PyObject *y, gdpy_operand *ops,
                          const char *name) {
    int r = gdpy_operand_parse(x, &ops[0]);
    if (r > 0 && (r = gdpy_operand_parse(y, &ops[1])) <= 0)
        gdpy_operand_release(&ops[0]);
    if (r == 0)
        PyErr_Format(PyExc_TypeError, "%s(): expected Tensor or Number operands", name);
    return r > 0 ? 0 : -1;
}

/* ---- elementwise -------------------------------------------------------- */

/* alpha= of add/sub (None: not given), as a double: PyTorch's integral alpha
 * for integer tensors is within double's exact range in practice. */
static int set_alpha(gd_op_args *a, PyObject *alpha) {
    if (alpha == Py_None)
        return 0;
    double value = PyFloat_AsDouble(alpha);
    if (value == -1.0 && PyErr_Occurred())
        return -1;
    a->scaled = true;
    a->alpha = value;
    return 0;
}

static PyObject *fn_binary(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    PyObject *x, *y;
    gdpy_operand ops[2];
    int name = GD_DECOMP_DEFAULT; /* a caller-known node name (DivBackward1) */
    PyObject *alpha = Py_None;    /* add/sub's alpha=, fused */
    if (!PyArg_ParseTuple(args, "O&OO|O&O", gdpy_op_arg, &op, &x, &y,
                          gdpy_decomposition_arg, &name, &alpha) ||
        parse_operands(x, y, ops, gd_op_name(op)) < 0)
        return NULL;
    gd_op_args a;
    PyObject *result = NULL;
    if (gdpy_binary_args(&op, ops, &a) == 0 && set_alpha(&a, alpha) == 0) {
        if (name)
            a.decomposition = (gd_decomposition)name;
        gd_tensor *in[2] = {gdpy_operand_tensor(&ops[0], a.dtype),
                            gdpy_operand_tensor(&ops[1], a.dtype)};
        result = gdpy_call_result(op, 2, in, &a);
    }
    gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return result;
}

static PyObject *fn_binary_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    PyObject *self, *y, *alpha = Py_None;
    gdpy_operand ops[2];
    if (!PyArg_ParseTuple(args, "O&OO|O", gdpy_op_arg, &op, &self, &y, &alpha))
        return NULL;
    if (!gdpy_is_tensor(self)) {
        PyErr_SetString(PyExc_TypeError, "in-place op on a non-Tensor");
        return NULL;
    }
    if (parse_operands(self, y, ops, gd_op_name(op)) < 0)
        return NULL;
    gd_op_args a;
    PyObject *result = NULL;
    if (gdpy_binary_args(&op, ops, &a) == 0 && set_alpha(&a, alpha) == 0) {
        gd_tensor *in[2] = {ops[0].t, gdpy_operand_tensor(&ops[1], a.dtype)};
        result = call_(op, 2, in, &a);
    }
    gdpy_operand_release(&ops[1]);
    return result;
}

static PyObject *fn_unary(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[1];
    if (!PyArg_ParseTuple(args, "O&O&", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0]))
        return NULL;
    return gdpy_call_result(op, 1, in, NULL);
}

static PyObject *fn_unary_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[1];
    if (!PyArg_ParseTuple(args, "O&O&", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0]))
        return NULL;
    return call_(op, 1, in, NULL);
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
    gd_tensor *in[1];
    PyObject *lo, *hi;
    int inplace;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&OOp", gdpy_tensor_arg, &in[0], &lo, &hi, &inplace) ||
        bound_arg(lo, &a.has_min, &a.min) < 0 || bound_arg(hi, &a.has_max, &a.max) < 0)
        return NULL;
    return inplace ? call_(GD_OP_CLAMP, 1, in, &a)
                   : gdpy_call_result(GD_OP_CLAMP, 1, in, &a);
}

static PyObject *fn_where(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *cond;
    PyObject *x, *y;
    gdpy_operand ops[2];
    if (!PyArg_ParseTuple(args, "O&OO", gdpy_tensor_arg, &cond, &x, &y) ||
        parse_operands(x, y, ops, "where") < 0)
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.dtype = gdpy_result_type(ops, 2);
    gd_tensor *in[3] = {cond, gdpy_operand_tensor(&ops[0], a.dtype),
                        gdpy_operand_tensor(&ops[1], a.dtype)};
    PyObject *result = gdpy_call_result(GD_OP_WHERE, 3, in, &a);
    gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return result;
}

static PyObject *fn_to_dtype(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    gd_op_args a;
    gd_op_args_init(&a);
    int format = GD_FORMAT_PRESERVE;
    if (!PyArg_ParseTuple(args, "O&O&|i", gdpy_tensor_arg, &in[0], gdpy_dtype_arg,
                          &a.dtype, &format))
        return NULL;
    if (format < GD_FORMAT_PRESERVE || format > GD_FORMAT_CHANNELS_LAST_3D)
        return PyErr_Format(PyExc_ValueError, "unknown memory format %d", format);
    a.i[0] = format;
    return gdpy_call_result(GD_OP_TO_DTYPE, 1, in, &a);
}

static PyObject *fn_copy_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[2];
    int name = GD_DECOMP_DEFAULT; /* FillBackward3 for fill_ of a tensor value */
    gd_op_args a;
    if (!PyArg_ParseTuple(args, "O&O&|O&", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[1], gdpy_decomposition_arg, &name))
        return NULL;
    gd_op_args_init(&a);
    a.decomposition = (gd_decomposition)name;
    return call_(GD_OP_COPY, 2, in, &a);
}

static PyObject *fn_fill_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    gd_op_args a;
    int integral = -1; /* not given: a whole number counts as an integer */
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&d|p", gdpy_tensor_arg, &in[0], &a.param, &integral))
        return NULL;
    gd_status st =
        integral < 0 ? GD_OK : gd_check_scalar_of(in[0]->dtype, a.param, integral);
    if (st)
        return gdpy_raise(st);
    return call_(GD_OP_FILL, 1, in, &a);
}

/* ---- reductions and linear algebra -------------------------------------- */

static PyObject *fn_reduce(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[1];
    PyObject *dims_obj;
    int keepdim;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&O&Opd", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0],
                          &dims_obj, &keepdim, &a.param))
        return NULL;
    if (dims_obj != Py_None) {
        shape_arg_t dims;
        if (!gdpy_shape_arg(dims_obj, &dims))
            return NULL;
        a.ndims = dims.ndim;
        memcpy(a.dims, dims.v, sizeof(int64_t) * (size_t)dims.ndim);
    }
    a.keepdim = keepdim;
    return gdpy_call_result(op, 1, in, &a);
}

static PyObject *fn_promote_types(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_dtype a, b;
    if (!PyArg_ParseTuple(args, "O&O&", gdpy_dtype_arg, &a, gdpy_dtype_arg, &b))
        return NULL;
    return Py_NewRef(gdpy.dtypes[gd_promote_types(a, b)]);
}

static PyObject *fn_scan(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[1];
    long long dim;
    PyObject *dtype = Py_None;
    int inplace = 0;
    if (!PyArg_ParseTuple(args, "O&O&L|Op", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0],
                          &dim, &dtype, &inplace))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = dim;
    if (dtype != Py_None) { /* the result's dtype */
        if (!gdpy_dtype_arg(dtype, &a.dtype))
            return NULL;
        a.i[1] = 1;
    }
    if (inplace)
        return call_(op, 1, in, &a);
    return gdpy_call_result(op, 1, in, &a);
}

static PyObject *fn_reduce_index(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[1], *outs[2] = {NULL, NULL};
    long long dim;
    int keepdim;
    if (!PyArg_ParseTuple(args, "O&O&Lp", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0],
                          &dim, &keepdim))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = dim;
    a.keepdim = keepdim;
    gd_op which = op == GD_OP_MAX || op == GD_OP_ARGMAX ? GD_OP_MAX_DIM : GD_OP_MIN_DIM;
    a.i[1] = op; /* named in error messages */
    gd_status st = gd_call(which, 1, in, &a, outs);
    if (st)
        return gdpy_raise(st);
    PyObject *v = gdpy_wrap(outs[0]);
    PyObject *i = v ? gdpy_wrap(outs[1]) : (gd_tensor_decref(outs[1]), NULL);
    if (!v || !i) {
        Py_XDECREF(v);
        return NULL;
    }
    return Py_BuildValue("(NN)", v, i);
}

static PyObject *fn_matmul(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *b, *out = NULL;
    int reference = 0, name = GD_DECOMP_DEFAULT;
    if (!PyArg_ParseTuple(args, "O&O&|pO&", gdpy_tensor_arg, &a, gdpy_tensor_arg, &b,
                          &reference, gdpy_decomposition_arg, &name))
        return NULL;
    if (reference)
        return gdpy_result(gd_matmul_reference(a, b, &out), &out);
    return gdpy_matmul(a, b, name);
}

/* addmm(self, mat1, mat2, beta, alpha): one recorded call, nn.Linear's. */
static PyObject *fn_addmm(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[3];
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&O&O&dd", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[1], gdpy_tensor_arg, &in[2], &a.beta, &a.alpha))
        return NULL;
    return gdpy_call_result(GD_OP_ADDMM, 3, in, &a);
}

/* ---- views -------------------------------------------------------------- */

static PyObject *fn_view(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    shape_arg_t s;
    const char *kind;
    PyObject *shape_obj;
    gd_op op;
    int name = GD_DECOMP_DEFAULT;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "sO&O|O&", &kind, gdpy_tensor_arg, &in[0], &shape_obj,
                          gdpy_decomposition_arg, &name))
        return NULL;
    a.decomposition = (gd_decomposition)name;
    /* The argument's name in PyTorch's signature of each method. */
    const char *argname = strcmp(kind, "reshape") == 0   ? "shape"
                          : strcmp(kind, "permute") == 0 ? "dims"
                                                         : "size";
    /* squeeze's dims arrive as the int overload's, whose overflow is a
     * ValueError without names. */
    const char *fname = strcmp(kind, "squeeze") == 0 ? NULL : kind;
    PyObject *wrapped = PyTuple_Pack(1, shape_obj);
    if (!wrapped)
        return NULL;
    int parsed = gdpy_parse_shape_named(wrapped, fname, argname, &s.ndim, s.v);
    Py_DECREF(wrapped);
    if (parsed < 0)
        return NULL;
    a.ndims = s.ndim;
    memcpy(a.dims, s.v, sizeof(int64_t) * (size_t)s.ndim);
    if (strcmp(kind, "view") == 0) {
        op = GD_OP_VIEW;
    } else if (strcmp(kind, "reshape") == 0) {
        op = GD_OP_VIEW;
        a.i[0] = 1;
    } else if (strcmp(kind, "expand") == 0) {
        op = GD_OP_EXPAND;
    } else if (strcmp(kind, "permute") == 0) {
        op = GD_OP_PERMUTE;
    } else if (strcmp(kind, "squeeze") == 0) {
        op = GD_OP_SQUEEZE;
    } else {
        return gdpy_raise(gd_error(GD_ERR_VALUE, "unknown view kind %s", kind));
    }
    return gdpy_call_result(op, 1, in, &a);
}

static PyObject *fn_squeeze_all(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    if (!PyArg_ParseTuple(args, "O&", gdpy_tensor_arg, &in[0]))
        return NULL;
    return gdpy_call_result(GD_OP_SQUEEZE, 1, in, NULL);
}

static PyObject *fn_transpose(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    long long d0, d1;
    int name = GD_DECOMP_DEFAULT;
    if (!PyArg_ParseTuple(args, "O&LL|O&", gdpy_tensor_arg, &in[0], &d0, &d1,
                          gdpy_decomposition_arg, &name))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = d0;
    a.i[1] = d1;
    a.decomposition = (gd_decomposition)name;
    return gdpy_call_result(GD_OP_TRANSPOSE, 1, in, &a);
}

static PyObject *fn_unsqueeze(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    long long dim;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&L", gdpy_tensor_arg, &in[0], &dim))
        return NULL;
    a.i[0] = dim;
    return gdpy_call_result(GD_OP_UNSQUEEZE, 1, in, &a);
}

static PyObject *fn_select(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    long long dim, index;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&LL", gdpy_tensor_arg, &in[0], &dim, &index))
        return NULL;
    a.i[0] = dim;
    a.i[1] = index;
    return gdpy_call_result(GD_OP_SELECT, 1, in, &a);
}

static PyObject *fn_slice(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    long long v[4];
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&LLLL", gdpy_tensor_arg, &in[0], &v[0], &v[1], &v[2],
                          &v[3]))
        return NULL;
    for (int k = 0; k < 4; k++)
        a.i[k] = v[k];
    return gdpy_call_result(GD_OP_SLICE, 1, in, &a);
}

/* Views of `in` along dim, one per piece, each recorded as output k of one
 * multi-output function, as PyTorch records unbind and split: the node named
 * by the function (decomposition), in-place changes refused. sizes: the
 * pieces' lengths for split; NULL for unbind (one index each). */
static PyObject *multi_output_views(gd_tensor *in, gd_op op, int64_t dim, Py_ssize_t n,
                                    const int64_t *sizes, gd_decomposition name) {
    PyObject *views = PyTuple_New(n);
    int64_t start = 0;
    for (Py_ssize_t k = 0; views && k < n; k++) {
        gd_op_args a;
        gd_op_args_init(&a);
        a.decomposition = name;
        a.output = k;
        a.i[0] = dim;
        a.i[1] = sizes ? start : k;
        if (sizes) {
            a.i[2] = start + sizes[k];
            a.i[3] = 1;
            start += sizes[k];
        }
        PyObject *view = gdpy_call_result(op, 1, &in, &a);
        if (!view)
            Py_CLEAR(views);
        else
            PyTuple_SET_ITEM(views, k, view);
    }
    return views;
}

static PyObject *fn_unbind(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in;
    long long dim;
    if (!PyArg_ParseTuple(args, "O&L", gdpy_tensor_arg, &in, &dim))
        return NULL;
    if (dim < 0 || dim >= in->ndim)
        return PyErr_Format(PyExc_IndexError, "unbind: dim %lld out of range", dim);
    return multi_output_views(in, GD_OP_SELECT, dim, (Py_ssize_t)in->shape[dim], NULL,
                              GD_DECOMP_UNBIND);
}

static PyObject *fn_split(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in;
    long long dim;
    PyObject *sizes_obj;
    int with_sizes;
    if (!PyArg_ParseTuple(args, "O&LO!p", gdpy_tensor_arg, &in, &dim, &PyTuple_Type,
                          &sizes_obj, &with_sizes))
        return NULL;
    if (dim < 0 || dim >= in->ndim)
        return PyErr_Format(PyExc_IndexError, "split: dim %lld out of range", dim);
    Py_ssize_t n = PyTuple_GET_SIZE(sizes_obj);
    int64_t *sizes = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!sizes)
        return PyErr_NoMemory();
    int64_t total = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(sizes_obj, k));
        if (v == -1 && PyErr_Occurred()) {
            PyMem_Free(sizes);
            return NULL;
        }
        sizes[k] = v;
        total += v < 0 ? in->shape[dim] + 1 : v; /* a negative size fails the sum */
    }
    PyObject *views = NULL;
    if (total != in->shape[dim])
        PyErr_SetString(PyExc_RuntimeError,
                        "split: sizes do not sum to the dim's size");
    else
        views = multi_output_views(in, GD_OP_SLICE, dim, n, sizes,
                                   with_sizes ? GD_DECOMP_SPLIT_WITH_SIZES
                                              : GD_DECOMP_SPLIT);
    PyMem_Free(sizes);
    return views;
}

static PyObject *fn_as_strided(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *out = NULL;
    shape_arg_t shape, strides;
    long long offset;
    if (!PyArg_ParseTuple(args, "O&O&O&L", gdpy_tensor_arg, &a, gdpy_shape_arg, &shape,
                          gdpy_shape_arg, &strides, &offset))
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
    if (gd_requires_grad(a) && gd_grad_enabled())
        return gdpy_raise(
            gd_error(GD_ERR_NOTIMPL, "gdlite does not differentiate as_strided"));
    return gdpy_result(gd_as_strided(a, shape.ndim, shape.v, strides.v, offset, &out),
                       &out);
}

/* ---- joining and gathering ---------------------------------------------- */

int gdpy_tensor_list_parse(PyObject *obj, const char *name, int arg, int flags,
                           gdpy_tensor_list *out) {
    PyObject *fast = NULL;
    int rc = -1;
    out->v = NULL;
    out->n = 0;
    if ((flags & GDPY_TENSORS_SEQUENCE) && !PyList_Check(obj) && !PyTuple_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s(): argument 'tensors' (position %d) must be tuple of Tensors, "
                     "not %.200s",
                     name, arg + 1, Py_TYPE(obj)->tp_name);
        goto done;
    }
    /* A list or tuple comes back as itself; any other iterable is drained
     * into a new list, whose items die with it: hence the references. */
    if (!(fast = PySequence_Fast(obj, "expected an iterable of Tensors")))
        goto done;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s(): too many tensors", name);
        goto done;
    }
    if (!(out->v = PyMem_Calloc((size_t)(len ? len : 1), sizeof *out->v))) {
        PyErr_NoMemory();
        goto done;
    }
    out->n = (int)len;
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
        if (o == Py_None && (flags & GDPY_TENSORS_ALLOW_NONE))
            continue;
        if (!gdpy_is_tensor(o)) {
            PyErr_Format(
                PyExc_TypeError,
                "expected Tensor as element %zd in argument %d, but got %.200s", i, arg,
                Py_TYPE(o)->tp_name);
            goto done;
        }
        out->v[i] = gdpy_tensor(o);
        gd_tensor_incref(out->v[i]);
    }
    rc = 0;
done:
    Py_XDECREF(fast);
    return rc;
}

void gdpy_tensor_list_release(gdpy_tensor_list *list) {
    for (int i = 0; list->v && i < list->n; i++)
        gd_tensor_decref(list->v[i]);
    PyMem_Free(list->v);
    list->v = NULL;
    list->n = 0;
}

/* cat and stack: the tensors converted to their common dtype. */
static PyObject *join(PyObject *args, bool stack) {
    const char *name = stack ? "stack" : "cat";
    PyObject *seq, *result = NULL;
    gdpy_tensor_list ts = {NULL, 0};
    long long dim;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "OL", &seq, &dim))
        return NULL;
    a.i[0] = dim;
    if (gdpy_tensor_list_parse(seq, name, 0, GDPY_TENSORS_SEQUENCE, &ts) < 0)
        goto done;
    /* The core promotes the dtypes, as PyTorch does. */
    result = gdpy_call_result(stack ? GD_OP_STACK : GD_OP_CAT, ts.n, ts.v, &a);
done:
    gdpy_tensor_list_release(&ts);
    return result;
}

static PyObject *fn_cat(PyObject *mod, PyObject *args) {
    (void)mod;
    return join(args, false);
}

static PyObject *fn_stack(PyObject *mod, PyObject *args) {
    (void)mod;
    return join(args, true);
}

static PyObject *fn_put_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[3]; /* the op's order: (self, values, positions) */
    if (!PyArg_ParseTuple(args, "O&O&O&", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[2], gdpy_tensor_arg, &in[1]))
        return NULL;
    return call_(GD_OP_PUT, 3, in, NULL);
}

/* ---- gathering along dims ------------------------------------------------ */

/* op(a, dim, index) for index_select and gather. */
static PyObject *along_dim(gd_op op, PyObject *args) {
    gd_tensor *in[2];
    long long dim;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&LO&", gdpy_tensor_arg, &in[0], &dim, gdpy_tensor_arg,
                          &in[1]))
        return NULL;
    a.i[0] = dim;
    return gdpy_call_result(op, 2, in, &a);
}

static PyObject *fn_index_select(PyObject *mod, PyObject *args) {
    (void)mod;
    return along_dim(GD_OP_INDEX_SELECT, args);
}

static PyObject *fn_gather(PyObject *mod, PyObject *args) {
    (void)mod;
    return along_dim(GD_OP_GATHER, args);
}

static PyObject *fn_scatter_add(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[3]; /* self, src, index */
    long long dim;
    int inplace;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&LO&O&p", gdpy_tensor_arg, &in[0], &dim,
                          gdpy_tensor_arg, &in[2], gdpy_tensor_arg, &in[1], &inplace))
        return NULL;
    a.i[0] = dim;
    return inplace ? call_(GD_OP_SCATTER_ADD, 3, in, &a)
                   : gdpy_call_result(GD_OP_SCATTER_ADD, 3, in, &a);
}

/* index(a, dims, rows): advanced indexing by broadcast index rows. */
static PyObject *fn_index(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[2];
    shape_arg_t dims;
    gd_op_args a;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&O&O&", gdpy_tensor_arg, &in[0], gdpy_shape_arg,
                          &dims, gdpy_tensor_arg, &in[1]))
        return NULL;
    a.ndims = dims.ndim;
    memcpy(a.dims, dims.v, sizeof(int64_t) * (size_t)dims.ndim);
    return gdpy_call_result(GD_OP_INDEX, 2, in, &a);
}

/* index_put_(a, dims, rows, values): untracked assignment through an index. */
static PyObject *fn_index_put_(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *a, *ix, *values;
    shape_arg_t dims;
    if (!PyArg_ParseTuple(args, "O&O&O&O&", gdpy_tensor_arg, &a, gdpy_shape_arg, &dims,
                          gdpy_tensor_arg, &ix, gdpy_tensor_arg, &values))
        return NULL;
    gd_status st = gd_index_put_(a, dims.ndim, dims.v, ix, values, false);
    if (st)
        return gdpy_raise(st);
    gd_bump_version(a);
    Py_RETURN_NONE;
}

static PyObject *fn_mask_indices(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *mask, *out = NULL;
    if (!PyArg_ParseTuple(args, "O&", gdpy_tensor_arg, &mask))
        return NULL;
    return gdpy_result(gd_mask_indices(mask, &out), &out);
}

PyMethodDef gdpy_functions[] = {
    {"binary", fn_binary, METH_VARARGS,
     "binary(op, a, b[, decomposition]): elementwise op."},
    {"binary_", fn_binary_, METH_VARARGS, "binary_(op, dst, b): in-place op."},
    {"unary", fn_unary, METH_VARARGS, "unary(op, a)"},
    {"unary_", fn_unary_, METH_VARARGS, "unary_(op, a): in place"},
    {"clamp", fn_clamp, METH_VARARGS, "clamp(a, min|None, max|None, inplace)"},
    {"where", fn_where, METH_VARARGS, "where(cond, a, b)"},
    {"to_dtype", fn_to_dtype, METH_VARARGS,
     "to_dtype(a, dtype[, format]): converted copy"},
    {"copy_", fn_copy_, METH_VARARGS,
     "copy_(dst, src, decomposition=default): broadcast copy"},
    {"fill_", fn_fill_, METH_VARARGS, "fill_(dst, value)"},
    {"reduce", fn_reduce, METH_VARARGS, "reduce(op, a, dims|None, keepdim, param)"},
    {"scan", fn_scan, METH_VARARGS,
     "scan(op, a, dim, dtype=None, inplace=False): cumulative op along dim"},
    {"promote_types", fn_promote_types, METH_VARARGS,
     "promote_types(a, b): the dtype PyTorch promotes two tensor dtypes to"},
    {"reduce_index", fn_reduce_index, METH_VARARGS,
     "reduce_index(op, a, dim, keepdim) -> (values, indices)"},
    {"matmul", fn_matmul, METH_VARARGS, "matmul(a, b, reference=False)"},
    {"addmm", fn_addmm, METH_VARARGS, "addmm(self, mat1, mat2, beta, alpha)"},
    {"view", fn_view, METH_VARARGS,
     "view(kind, a, shape[, decomposition]): view/reshape/expand/permute/squeeze"},
    {"squeeze_all", fn_squeeze_all, METH_VARARGS, "squeeze_all(a)"},
    {"transpose", fn_transpose, METH_VARARGS, "transpose(a, d0, d1)"},
    {"unsqueeze", fn_unsqueeze, METH_VARARGS, "unsqueeze(a, dim)"},
    {"select", fn_select, METH_VARARGS, "select(a, dim, index)"},
    {"unbind", fn_unbind, METH_VARARGS, "unbind(a, dim): the views along dim"},
    {"split", fn_split, METH_VARARGS,
     "split(a, dim, sizes, with_sizes): views of these lengths along dim"},
    {"slice", fn_slice, METH_VARARGS, "slice(a, dim, start, stop, step)"},
    {"as_strided", fn_as_strided, METH_VARARGS,
     "as_strided(a, shape, strides, offset)"},
    {"cat", fn_cat, METH_VARARGS, "cat(tensors, dim)"},
    {"stack", fn_stack, METH_VARARGS, "stack(tensors, dim)"},
    {"put_", fn_put_, METH_VARARGS, "put_(a, flat_index, values)"},
    {"index_select", fn_index_select, METH_VARARGS, "index_select(a, dim, index)"},
    {"gather", fn_gather, METH_VARARGS, "gather(a, dim, index)"},
    {"scatter_add", fn_scatter_add, METH_VARARGS,
     "scatter_add(a, dim, index, src, inplace)"},
    {"index", fn_index, METH_VARARGS, "index(a, dims, rows): advanced indexing"},
    {"index_put_", fn_index_put_, METH_VARARGS,
     "index_put_(a, dims, rows, values): untracked assignment"},
    {"mask_indices", fn_mask_indices, METH_VARARGS,
     "mask_indices(mask): index rows of the true elements"},
    {NULL, NULL, 0, NULL},
};
