/* The Tensor base type: lifetime, attributes, arithmetic slots, indexing and
 * the few methods that must be fast. The torch-shaped methods with keyword
 * arguments live in the Python subclass gdlite.Tensor. */
#include "binding.h"

#include <math.h>
#include <string.h>

static void tensor_dealloc(PyObject *self) {
    TensorObject *obj = (TensorObject *)self;
    PyObject_GC_UnTrack(self);
    if (obj->weakreflist)
        PyObject_ClearWeakRefs(self);
    if (obj->t && obj->t->handle == self)
        obj->t->handle = NULL;
    gd_tensor_decref(obj->t);
    obj->t = NULL;
    /* A Python subclass's dealloc releases its heap type after this. */
    Py_TYPE(self)->tp_free(self);
}

/* Python hooks can refer back to their tensor: the collector must see them
 * to break such cycles. */
static int tensor_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    return gdpy_traverse_python_hooks(gdpy_tensor(self), visit, arg);
}

static int tensor_clear(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (t && t->autograd)
        gdpy_clear_python_hooks(t);
    return 0;
}

static PyObject *tensor_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    /* Direct construction gives an empty float32 tensor; the Python class
     * handles torch.Tensor(data) forms before calling this. */
    int64_t shape[1] = {0};
    gd_tensor *t = NULL;
    gd_status st = gd_empty(gd_default_float(), 1, shape, &t);
    if (st)
        return gdpy_raise(st);
    TensorObject *obj = (TensorObject *)type->tp_alloc(type, 0);
    if (!obj) {
        gd_tensor_decref(t);
        return NULL;
    }
    obj->t = t;
    return (PyObject *)obj;
}

/* ---- __torch_function__ of operands ------------------------------------ */

/* Whether o may override __torch_function__: an instance of a Tensor subclass
 * other than gdlite.Tensor whose __torch_function__ is not the disabled one
 * (nn.Parameter's). slot_dispatch makes the final decision. -1 on error. */
static int may_override(PyObject *o) {
    static PyObject *name = NULL; /* kept for the process */
    PyTypeObject *type = Py_TYPE(o);
    if (type == gdpy.tensor_class || !PyType_IsSubtype(type, &gdpy_TensorBase_Type))
        return 0;
    if (!name && !(name = PyUnicode_InternFromString("__torch_function__")))
        return -1;
    return _PyType_Lookup(type, name) != gdpy.disabled_torch_function;
}

PyObject *gdpy_slot_torch_function(const char *name, PyObject *x, PyObject *y) {
    int ox = may_override(x);
    int oy = ox ? 0 : may_override(y);
    if (!ox && !oy && PyTuple_Check(y)) { /* t[i, sub] */
        for (Py_ssize_t i = 0; !oy && i < PyTuple_GET_SIZE(y); i++)
            oy = may_override(PyTuple_GET_ITEM(y, i));
    }
    if (ox < 0 || oy < 0 || (!ox && !oy))
        return NULL;
    PyObject *r = PyObject_CallFunction(gdpy.slot_dispatch, "sOO", name, x, y);
    if (!r || r == Py_None) {
        Py_XDECREF(r);
        return NULL;
    }
    /* (result,): the result may itself be None. */
    PyObject *result = NULL;
    if (PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 1)
        result = Py_NewRef(PyTuple_GET_ITEM(r, 0));
    else
        PyErr_SetString(PyExc_SystemError, "slot_dispatch must return (result,)");
    Py_DECREF(r);
    return result;
}

/* ---- binary and unary arithmetic --------------------------------------- */

static PyObject *binary_op(gd_op op, const char *name, PyObject *x, PyObject *y) {
    GDPY_TORCH_FUNCTION_CHECK(name, x, y)
    gdpy_operand ops[2];
    int r = gdpy_operand_parse(x, &ops[0]);
    if (r <= 0)
        return r < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0) {
        gdpy_operand_release(&ops[0]);
        return r < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    gd_op_args args;
    PyObject *result = NULL;
    if (gdpy_binary_args(&op, ops, &args) == 0) {
        gd_tensor *in[2] = {gdpy_operand_tensor(&ops[0], args.dtype),
                            gdpy_operand_tensor(&ops[1], args.dtype)};
        result = gdpy_call_result(op, 2, in, &args);
    }
    gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return result;
}

static PyObject *inplace_op(gd_op op, const char *name, PyObject *self, PyObject *y) {
    gdpy_operand ops[2];
    if (!gdpy_is_tensor(self))
        Py_RETURN_NOTIMPLEMENTED;
    GDPY_TORCH_FUNCTION_CHECK(name, self, y)
    gdpy_operand_parse(self, &ops[0]);
    int r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0)
        return r < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    gd_op_args args;
    if (gdpy_binary_args(&op, ops, &args) < 0) {
        gdpy_operand_release(&ops[1]);
        return NULL;
    }
    gd_tensor *in[2] = {ops[0].t, gdpy_operand_tensor(&ops[1], args.dtype)};
    gd_status st = gd_call_(op, 2, in, &args);
    gdpy_operand_release(&ops[1]);
    if (st)
        return gdpy_raise(st);
    return Py_NewRef(self);
}

#define BINARY_SLOT(name, op, slot)                                                    \
    static PyObject *name(PyObject *x, PyObject *y) {                                  \
        return binary_op(op, slot, x, y);                                              \
    }
#define INPLACE_SLOT(name, op, slot)                                                   \
    static PyObject *name(PyObject *x, PyObject *y) {                                  \
        return inplace_op(op, slot, x, y);                                             \
    }
BINARY_SLOT(tensor_add, GD_OP_ADD, "__add__")
BINARY_SLOT(tensor_sub, GD_OP_SUB, "__sub__")
BINARY_SLOT(tensor_mul, GD_OP_MUL, "__mul__")
/* A Python number over a tensor is reciprocal(tensor) * number in PyTorch
 * (Tensor.__rtruediv__): it rounds twice, and its node is MulBackward0. */
static PyObject *tensor_truediv(PyObject *x, PyObject *y) {
    GDPY_TORCH_FUNCTION_CHECK("__truediv__", x, y)
    if (!gdpy_is_tensor(x) && gdpy_is_tensor(y) &&
        (PyFloat_Check(x) || PyLong_Check(x))) {
        gd_tensor *in[1] = {gdpy_tensor(y)};
        if (gd_dtype_is_floating(in[0]->dtype) &&
            !(gd_grad_enabled() && gd_requires_grad(in[0]))) {
            /* no graph: the same two roundings in one pass */
            double number = PyFloat_AsDouble(x);
            if (number == -1.0 && PyErr_Occurred())
                return NULL;
            gd_tensor *out = NULL;
            gd_status st = gd_number_over(number, in[0], &out);
            return st ? gdpy_raise(st) : gdpy_wrap(out);
        }
        PyObject *r = gdpy_call_result(GD_OP_RECIPROCAL, 1, in, NULL);
        if (!r)
            return NULL;
        PyObject *result = binary_op(GD_OP_MUL, "__mul__", r, x);
        Py_DECREF(r);
        return result;
    }
    return binary_op(GD_OP_DIV, "__truediv__", x, y);
}
BINARY_SLOT(tensor_floordiv, GD_OP_FLOOR_DIVIDE, "__floordiv__")
BINARY_SLOT(tensor_remainder, GD_OP_REMAINDER, "__mod__")
BINARY_SLOT(tensor_and, GD_OP_BITWISE_AND, "__and__")
BINARY_SLOT(tensor_or, GD_OP_BITWISE_OR, "__or__")
BINARY_SLOT(tensor_xor, GD_OP_BITWISE_XOR, "__xor__")
INPLACE_SLOT(tensor_iadd, GD_OP_ADD, "__iadd__")
INPLACE_SLOT(tensor_isub, GD_OP_SUB, "__isub__")
INPLACE_SLOT(tensor_imul, GD_OP_MUL, "__imul__")
INPLACE_SLOT(tensor_itruediv, GD_OP_DIV, "__itruediv__")
INPLACE_SLOT(tensor_ifloordiv, GD_OP_FLOOR_DIVIDE, "__ifloordiv__")
INPLACE_SLOT(tensor_iremainder, GD_OP_REMAINDER, "__imod__")

static PyObject *tensor_pow(PyObject *x, PyObject *y, PyObject *mod) {
    if (mod != Py_None)
        Py_RETURN_NOTIMPLEMENTED;
    return binary_op(GD_OP_POW, "__pow__", x, y);
}

static PyObject *tensor_ipow(PyObject *x, PyObject *y, PyObject *mod) {
    if (mod != Py_None)
        Py_RETURN_NOTIMPLEMENTED;
    return inplace_op(GD_OP_POW, "__ipow__", x, y);
}

PyObject *gdpy_matmul(gd_tensor *a, gd_tensor *b, int name) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.decomposition = (gd_decomposition)name;
    gd_tensor *in[2] = {a, b};
    return gdpy_call_result(GD_OP_MATMUL, 2, in, &args);
}

static PyObject *tensor_matmul(PyObject *x, PyObject *y) {
    GDPY_TORCH_FUNCTION_CHECK("__matmul__", x, y)
    gdpy_operand ops[2];
    int r = gdpy_operand_parse(x, &ops[0]);
    if (r <= 0)
        return r < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    r = gdpy_operand_parse(y, &ops[1]);
    if (r <= 0 || !ops[0].t || !ops[1].t) {
        gdpy_operand_release(&ops[0]);
        if (r > 0)
            gdpy_operand_release(&ops[1]);
        return r < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    PyObject *result = gdpy_matmul(ops[0].t, ops[1].t, GD_DECOMP_DEFAULT);
    gdpy_operand_release(&ops[0]);
    gdpy_operand_release(&ops[1]);
    return result;
}

static PyObject *unary_slot(gd_op op, PyObject *self) {
    gd_tensor *in[1] = {gdpy_tensor(self)};
    return gdpy_call_result(op, 1, in, NULL);
}
static PyObject *tensor_neg(PyObject *self) {
    return unary_slot(GD_OP_NEG, self);
}
static PyObject *tensor_abs(PyObject *self) {
    return unary_slot(GD_OP_ABS, self);
}
static PyObject *tensor_invert(PyObject *self) {
    if (gd_dtype_is_floating(gdpy_tensor(self)->dtype)) {
        PyErr_SetString(PyExc_TypeError, "~ (operator.invert) is only implemented on "
                                         "integer and Boolean-type tensors");
        return NULL;
    }
    return unary_slot(GD_OP_BITWISE_NOT, self);
}
static PyObject *tensor_pos(PyObject *self) {
    return Py_NewRef(self);
}

/* ---- conversions to Python numbers ------------------------------------- */

static int check_single(gd_tensor *t, const char *what) {
    if (t->numel == 1)
        return 0;
    PyErr_Format(PyExc_RuntimeError,
                 "a Tensor with %lld elements cannot be converted to %s",
                 (long long)t->numel, what);
    return -1;
}

static PyObject *scalar_value(gd_tensor *t) {
    switch (t->dtype) {
    case GD_BOOL:
        return PyBool_FromLong((long)gd_get_flat_int(t, 0));
    case GD_UINT8:
    case GD_INT32:
    case GD_INT64:
        return PyLong_FromLongLong(gd_get_flat_int(t, 0));
    default:
        return PyFloat_FromDouble(gd_get_flat(t, 0));
    }
}

static PyObject *tensor_item(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_tensor *t = gdpy_tensor(self);
    if (check_single(t, "Scalar") < 0)
        return NULL;
    return scalar_value(t);
}

/* float(t) and int(t) use Python's conversion message, item() PyTorch's. */
static int check_python_scalar(gd_tensor *t) {
    if (t->numel == 1)
        return 0;
    PyErr_SetString(PyExc_ValueError,
                    "only one element tensors can be converted to Python scalars");
    return -1;
}

/* PyTorch's warning, once per process, for float() of a tensor that
 * requires grad while grad mode is on (int() and item() do not warn). */
static bool float_of_grad_warned;

static PyObject *tensor_float(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (check_python_scalar(t) < 0)
        return NULL;
    if (!float_of_grad_warned && gd_requires_grad(t) && gd_grad_enabled()) {
        float_of_grad_warned = true;
        if (PyErr_WarnEx(PyExc_UserWarning,
                         "Converting a tensor with requires_grad=True to a scalar may "
                         "lead to unexpected behavior.\nConsider using tensor.detach() "
                         "first.",
                         1) < 0)
            return NULL;
    }
    return PyFloat_FromDouble(gd_get_flat(t, 0));
}

static PyObject *tensor_int(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (check_python_scalar(t) < 0)
        return NULL;
    if (gd_dtype_is_floating(t->dtype)) {
        PyObject *f = PyFloat_FromDouble(gd_get_flat(t, 0));
        if (!f)
            return NULL;
        PyObject *i = PyNumber_Long(f);
        Py_DECREF(f);
        return i;
    }
    return PyLong_FromLongLong(gd_get_flat_int(t, 0));
}

static PyObject *tensor_index(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (t->numel != 1 || !gd_dtype_is_integral(t->dtype, true)) {
        PyErr_SetString(
            PyExc_TypeError,
            "only integer tensors of a single element can be converted to an "
            "index");
        return NULL;
    }
    return PyLong_FromLongLong(gd_get_flat_int(t, 0));
}

static int tensor_bool(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (t->numel != 1) {
        PyErr_Format(PyExc_RuntimeError, "Boolean value of Tensor with %s is ambiguous",
                     t->numel == 0 ? "no values" : "more than one value");
        return -1;
    }
    return gd_get_flat(t, 0) != 0;
}

static PyNumberMethods tensor_as_number = {
    .nb_add = tensor_add,
    .nb_subtract = tensor_sub,
    .nb_multiply = tensor_mul,
    .nb_remainder = tensor_remainder,
    .nb_power = tensor_pow,
    .nb_negative = tensor_neg,
    .nb_positive = tensor_pos,
    .nb_absolute = tensor_abs,
    .nb_bool = tensor_bool,
    .nb_invert = tensor_invert,
    .nb_and = tensor_and,
    .nb_xor = tensor_xor,
    .nb_or = tensor_or,
    .nb_int = tensor_int,
    .nb_float = tensor_float,
    .nb_inplace_add = tensor_iadd,
    .nb_inplace_subtract = tensor_isub,
    .nb_inplace_multiply = tensor_imul,
    .nb_inplace_remainder = tensor_iremainder,
    .nb_inplace_power = tensor_ipow,
    .nb_floor_divide = tensor_floordiv,
    .nb_true_divide = tensor_truediv,
    .nb_inplace_floor_divide = tensor_ifloordiv,
    .nb_inplace_true_divide = tensor_itruediv,
    .nb_index = tensor_index,
    .nb_matrix_multiply = tensor_matmul,
};

static PyObject *tensor_richcompare(PyObject *self, PyObject *other, int cmp) {
    static const gd_op ops[] = {[Py_LT] = GD_OP_LT, [Py_LE] = GD_OP_LE,
                                [Py_EQ] = GD_OP_EQ, [Py_NE] = GD_OP_NE,
                                [Py_GT] = GD_OP_GT, [Py_GE] = GD_OP_GE};
    static const char *const names[] = {[Py_LT] = "__lt__", [Py_LE] = "__le__",
                                        [Py_EQ] = "__eq__", [Py_NE] = "__ne__",
                                        [Py_GT] = "__gt__", [Py_GE] = "__ge__"};
    return binary_op(ops[cmp], names[cmp], self, other);
}

static Py_ssize_t tensor_len(PyObject *self) {
    gd_tensor *t = gdpy_tensor(self);
    if (t->ndim == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
        return -1;
    }
    return (Py_ssize_t)t->shape[0];
}

static PyMappingMethods tensor_as_mapping = {
    .mp_length = tensor_len,
    .mp_subscript = gdpy_getitem,
    .mp_ass_subscript = gdpy_setitem,
};

/* ---- attributes --------------------------------------------------------- */

static PyObject *get_shape_tuple(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self);
    return gdpy_shape_tuple(t->ndim, t->shape);
}

/* gdlite.Size, looked up once: shapes come out as Size without a Python
 * frame, its element checks skipped (the core's sizes are ints). */
static PyObject *get_size(PyObject *self, void *closure) {
    (void)closure;
    static PyTypeObject *size_type = NULL;
    if (!size_type) {
        PyObject *mod = PyImport_ImportModule("gdlite._types");
        PyObject *cls = mod ? PyObject_GetAttrString(mod, "Size") : NULL;
        Py_XDECREF(mod);
        if (!cls)
            return NULL;
        if (!PyType_Check(cls) ||
            !PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type)) {
            Py_DECREF(cls);
            PyErr_SetString(PyExc_TypeError, "gdlite._types.Size must be a tuple type");
            return NULL;
        }
        size_type = (PyTypeObject *)cls; /* kept for the process */
    }
    gd_tensor *t = gdpy_tensor(self);
    PyObject *size = size_type->tp_alloc(size_type, t->ndim);
    if (!size)
        return NULL;
    for (int d = 0; d < t->ndim; d++) {
        PyObject *v = PyLong_FromLongLong(t->shape[d]);
        if (!v) {
            Py_DECREF(size);
            return NULL;
        }
        PyTuple_SET_ITEM(size, d, v);
    }
    return size;
}

static PyObject *get_dtype(PyObject *self, void *closure) {
    (void)closure;
    return Py_NewRef(gdpy.dtypes[gdpy_tensor(self)->dtype]);
}

static PyObject *get_ndim(PyObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(gdpy_tensor(self)->ndim);
}

static PyObject *get_data(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *out = NULL;
    gd_status st = gd_alias(gdpy_tensor(self), &out);
    if (!st)
        out->untracked_version = true; /* .data writes escape version checks */
    return gdpy_result(st, &out);
}

static int set_data(PyObject *self, PyObject *value, void *closure) {
    (void)closure;
    if (!value || !gdpy_is_tensor(value)) {
        PyErr_SetString(PyExc_TypeError, "data must be a Tensor");
        return -1;
    }
    gd_status st = gd_set_data(gdpy_tensor(self), gdpy_tensor(value));
    return st ? gdpy_raise_int(st) : 0;
}

/* PyTorch's _base: the tensor a view shares its data with, else None. */
static PyObject *get_base(PyObject *self, void *closure) {
    (void)closure;
    const gd_tensor *t = gdpy_tensor(self);
    if (t->view_base && t->view_base->storage == t->storage)
        return gdpy_wrap_existing(t->view_base);
    Py_RETURN_NONE;
}

static PyGetSetDef tensor_getset[] = {
    {"_shape", get_shape_tuple, NULL, "the shape as a tuple", NULL},
    {"shape", get_size, NULL, "the size of each dimension (a gdlite.Size)", NULL},
    {"dtype", get_dtype, NULL, "the element type", NULL},
    {"ndim", get_ndim, NULL, "number of dimensions", NULL},
    {"data", get_data, set_data, "the tensor's values, detached", NULL},
    {"requires_grad", gdpy_get_requires_grad, gdpy_set_requires_grad,
     "whether gradients are computed for this tensor", NULL},
    {"grad", gdpy_get_grad, gdpy_set_grad, "the gradient accumulated by backward()",
     NULL},
    {"grad_fn", gdpy_get_grad_fn, NULL, "the node that made this tensor, or None",
     NULL},
    {"is_leaf", gdpy_get_is_leaf, NULL, "made by the user rather than by an op", NULL},
    {"retains_grad", gdpy_get_retains_grad, NULL, "set by retain_grad()", NULL},
    {"_version", gdpy_get_version, NULL, "count of in-place writes to the storage",
     NULL},
    {"_base", get_base, NULL, "the tensor this view shares its data with, or None",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* ---- methods ------------------------------------------------------------ */

static PyObject *tensor_numpy_method(PyObject *self, PyObject *unused) {
    (void)unused;
    if (gd_requires_grad(gdpy_tensor(self))) {
        PyErr_SetString(PyExc_RuntimeError,
                        "Can't call numpy() on Tensor that requires grad. Use "
                        "tensor.detach().numpy() instead.");
        return NULL;
    }
    return gdpy_to_numpy(self);
}

static PyObject *tensor_numpy_view(PyObject *self, PyObject *unused) {
    (void)unused;
    return gdpy_to_numpy(self);
}

static PyObject *tensor_dim(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromLong(gdpy_tensor(self)->ndim);
}

static PyObject *tensor_numel(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromLongLong(gdpy_tensor(self)->numel);
}

static PyObject *tensor_is_contiguous(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyBool_FromLong(gd_is_contiguous(gdpy_tensor(self)));
}

static PyObject *tensor_contiguous(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_tensor *t = gdpy_tensor(self);
    if (gd_is_contiguous(t))
        return Py_NewRef(self);
    /* Unlike clone's, contiguous's size error names no strides. */
    int64_t numel;
    size_t nbytes;
    gd_status st = gd_shape_nbytes(t->dtype, t->ndim, t->shape, &numel, &nbytes);
    if (st)
        return gdpy_raise(st);
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = GD_FORMAT_CONTIGUOUS;
    return gdpy_call_result(GD_OP_CLONE, 1, &t, &args);
}

static PyObject *tensor_zero_(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_op_args args;
    gd_op_args_init(&args); /* param 0: the fill value */
    args.decomposition = GD_DECOMP_ZERO;
    gd_tensor *in[1] = {gdpy_tensor(self)};
    gd_status st = gd_call_(GD_OP_FILL, 1, in, &args);
    return st ? gdpy_raise(st) : Py_NewRef(self);
}

/* _clone([format]): format a gd_memory_format (default: preserve). */
static PyObject *tensor_clone(PyObject *self, PyObject *args) {
    gd_op_args a;
    gd_op_args_init(&a);
    int format = GD_FORMAT_PRESERVE;
    if (!PyArg_ParseTuple(args, "|i", &format))
        return NULL;
    if (format < GD_FORMAT_PRESERVE || format > GD_FORMAT_CHANNELS_LAST_3D)
        return PyErr_Format(PyExc_ValueError, "unknown memory format %d", format);
    a.i[0] = format;
    gd_tensor *in[1] = {gdpy_tensor(self)};
    return gdpy_call_result(GD_OP_CLONE, 1, in, &a);
}

static PyObject *tensor_strides(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_tensor *t = gdpy_tensor(self);
    return gdpy_shape_tuple(t->ndim, t->strides);
}

static PyObject *tensor_storage_offset(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromLongLong(gdpy_tensor(self)->offset);
}

static PyObject *tensor_data_ptr(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromVoidPtr(gd_data_ptr(gdpy_tensor(self)));
}

static PyObject *tensor_element_size(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(gd_dtype_size(gdpy_tensor(self)->dtype));
}

static PyObject *tensor_shares_storage(PyObject *self, PyObject *other) {
    if (!gdpy_is_tensor(other)) {
        PyErr_SetString(PyExc_TypeError, "expected a Tensor");
        return NULL;
    }
    return PyBool_FromLong(gdpy_tensor(self)->storage == gdpy_tensor(other)->storage);
}

static PyObject *tensor_storage_id(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromVoidPtr(gdpy_tensor(self)->storage);
}

static PyObject *tensor_storage_nbytes(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(gdpy_tensor(self)->storage->nbytes);
}

/* Tensor._make_subclass(cls, data, require_grad=False): a new `cls` object
 * over data's storage (shared memory and version counter, no history), as
 * nn.Parameter-style subclasses are built. */
static PyObject *tensor_make_subclass(PyObject *unused, PyObject *args,
                                      PyObject *kwargs) {
    (void)unused;
    static char *kwlist[] = {"cls", "data", "require_grad", NULL};
    PyObject *cls, *data;
    int require_grad = 0;
    gd_tensor *t = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|p:_make_subclass", kwlist, &cls,
                                     &data, &require_grad))
        return NULL;
    if (!PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "cls must be a type (got %.200s)",
                     Py_TYPE(cls)->tp_name);
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)cls, &gdpy_TensorBase_Type)) {
        PyErr_SetString(
            PyExc_TypeError,
            "Creating a Tensor subclass from a class that does not inherit "
            "from Tensor is not possible. Make sure your class inherits from "
            "Tensor.");
        return NULL;
    }
    if (!gdpy_is_tensor(data)) {
        PyErr_Format(PyExc_TypeError,
                     "_make_subclass(): argument 'data' (position 2) must be Tensor, "
                     "not %.200s",
                     Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (require_grad && !gd_dtype_is_floating(gdpy_tensor(data)->dtype)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "Only Tensors of floating point and complex "
                        "dtype can require gradients");
        return NULL;
    }
    gd_status st = gd_alias(gdpy_tensor(data), &t);
    if (!st && require_grad)
        st = gd_set_requires_grad(t, true);
    if (st) {
        gd_tensor_decref(t);
        return gdpy_raise(st);
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    TensorObject *obj = (TensorObject *)type->tp_alloc(type, 0);
    if (!obj) {
        gd_tensor_decref(t);
        return NULL;
    }
    obj->t = t;
    t->handle = obj;
    return (PyObject *)obj;
}

/* Tensors hash by identity, as PyTorch's do (== is elementwise). */
static Py_hash_t tensor_hash(PyObject *self) {
    return _Py_HashPointer(self);
}

static PyMethodDef tensor_methods[] = {
    {"numpy", tensor_numpy_method, METH_NOARGS,
     "A NumPy array sharing this tensor's memory (no autograd checks)."},
    {"_numpy", tensor_numpy_view, METH_NOARGS,
     "A NumPy array sharing this tensor's memory, even if it requires grad."},
    {"item", tensor_item, METH_NOARGS, "The value of a one-element tensor."},
    {"requires_grad_", (PyCFunction)(void (*)(void))gdpy_requires_grad_, METH_FASTCALL,
     "Sets requires_grad on a leaf (True by default); returns the tensor."},
    {"backward", (PyCFunction)(void (*)(void))gdpy_tensor_backward,
     METH_VARARGS | METH_KEYWORDS,
     "backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)\n"
     "Accumulates d(self)/d(leaf) into each leaf's .grad; a tensor with more than\n"
     "one element needs `gradient`.\n\n"
     ">>> x = gdlite.tensor(2.0, requires_grad=True)\n"
     ">>> (x ** 2).backward()\n"
     ">>> x.grad\n"
     "tensor(4.)"},
    {"zero_", tensor_zero_, METH_NOARGS, "Sets every element to zero; returns self."},
    {"retain_grad", gdpy_retain_grad, METH_NOARGS,
     "Keep this non-leaf tensor's gradient in .grad during backward()."},
    {"detach", gdpy_detach, METH_NOARGS,
     "A new leaf sharing this tensor's data (and version counter)."},
    {"detach_", gdpy_detach_, METH_NOARGS, "Stop recording history; becomes a leaf."},
    {"_add_hook", gdpy_add_hook, METH_O, "Adds a gradient hook; returns its handle."},
    {"dim", tensor_dim, METH_NOARGS, "Number of dimensions."},
    {"ndimension", tensor_dim, METH_NOARGS, "Number of dimensions."},
    {"numel", tensor_numel, METH_NOARGS, "Number of elements."},
    {"nelement", tensor_numel, METH_NOARGS, "Number of elements."},
    {"is_contiguous", tensor_is_contiguous, METH_NOARGS, "Row-major and dense?"},
    {"contiguous", tensor_contiguous, METH_NOARGS,
     "This tensor if contiguous, else a contiguous copy."},
    {"_clone", tensor_clone, METH_VARARGS, "A copy in a memory format."},
    {"_strides", tensor_strides, METH_NOARGS, "Strides in elements."},
    {"storage_offset", tensor_storage_offset, METH_NOARGS,
     "Offset of the first element in the storage, in elements."},
    {"data_ptr", tensor_data_ptr, METH_NOARGS, "Address of the first element."},
    {"element_size", tensor_element_size, METH_NOARGS, "Bytes per element."},
    {"_shares_storage", tensor_shares_storage, METH_O,
     "Whether both tensors view the same storage."},
    {"_make_subclass", (PyCFunction)(void (*)(void))tensor_make_subclass,
     METH_VARARGS | METH_KEYWORDS | METH_STATIC,
     "_make_subclass(cls, data, require_grad=False): a `cls` instance sharing data's "
     "storage, without its history."},
    {"_storage_id", tensor_storage_id, METH_NOARGS,
     "An identity of the storage, unique while it lives (deepcopy's memo key)."},
    {"_storage_nbytes", tensor_storage_nbytes, METH_NOARGS,
     "Size of the whole storage in bytes."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject gdpy_TensorBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C.TensorBase",
    .tp_basicsize = sizeof(TensorObject),
    .tp_dealloc = tensor_dealloc,
    .tp_as_number = &tensor_as_number,
    .tp_as_mapping = &tensor_as_mapping,
    .tp_hash = tensor_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C base of gdlite.Tensor.",
    .tp_traverse = tensor_traverse,
    .tp_clear = tensor_clear,
    .tp_richcompare = tensor_richcompare,
    .tp_weaklistoffset = offsetof(TensorObject, weakreflist),
    .tp_methods = tensor_methods,
    .tp_getset = tensor_getset,
    .tp_new = tensor_new,
};
