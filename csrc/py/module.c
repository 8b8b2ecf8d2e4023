/* Module initialisation: the dtype objects, the Tensor base type, and the
 * one globals struct the Python package fills in at import. */
#define GDPY_IMPORTS_ARRAY
#include "binding.h"

struct gdpy_globals gdpy;

/* ---- dtype objects ------------------------------------------------------ */

static PyObject *dtype_repr(PyObject *self) {
    return PyUnicode_FromFormat("gdlite.%s",
                                gd_dtype_name(((DtypeObject *)self)->dtype));
}

static PyObject *dtype_is_floating_point(PyObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(gd_dtype_is_floating(((DtypeObject *)self)->dtype));
}

static PyObject *dtype_itemsize(PyObject *self, void *closure) {
    (void)closure;
    return PyLong_FromSize_t(gd_dtype_size(((DtypeObject *)self)->dtype));
}

static PyObject *dtype_is_signed(PyObject *self, void *closure) {
    (void)closure;
    gd_dtype_kind kind = gd_dtype_kind_of(((DtypeObject *)self)->dtype);
    return PyBool_FromLong(kind == GD_DTYPE_KIND_SIGNED ||
                           kind == GD_DTYPE_KIND_FLOATING);
}

/* The names the core's dtype table holds (dtypes.def), read by the Python
 * package instead of restated there; the getter's closure picks the column. */
static const char *(*const dtype_columns[])(gd_dtype) = {
    gd_dtype_name,     gd_dtype_legacy_name, gd_dtype_scalar_name,
    gd_dtype_cxx_name, gd_dtype_numpy_name,
};

static PyObject *dtype_text(PyObject *self, void *closure) {
    return PyUnicode_FromString(
        dtype_columns[(intptr_t)closure](((DtypeObject *)self)->dtype));
}

static PyObject *dtype_code(PyObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(((DtypeObject *)self)->dtype);
}

static PyObject *dtype_reduce(PyObject *self, PyObject *unused) {
    (void)unused;
    /* Pickled as the module attribute of the same name: singletons stay so. */
    return PyUnicode_FromString(gd_dtype_name(((DtypeObject *)self)->dtype));
}

static PyGetSetDef dtype_getset[] = {
    {"is_floating_point", dtype_is_floating_point, NULL, "floating kind?", NULL},
    {"itemsize", dtype_itemsize, NULL, "bytes per element", NULL},
    {"is_signed", dtype_is_signed, NULL, "signed kind?", NULL},
    {"_code", dtype_code, NULL, "the core's dtype number", NULL},
    {"_name", dtype_text, NULL, "gdlite.<name>: 'float32'", (void *)0},
    {"_legacy_name", dtype_text, NULL, "typed tensor name: 'FloatTensor'", (void *)1},
    {"_scalar_name", dtype_text, NULL, "PyTorch's ScalarType name: 'Float'", (void *)2},
    {"_cxx_name", dtype_text, NULL, "C++ type in messages: 'float'", (void *)3},
    {"_numpy", dtype_text, NULL, "NumPy type string: 'f4'", (void *)4},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef dtype_methods[] = {
    {"__reduce__", dtype_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject gdpy_Dtype_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite.dtype",
    .tp_basicsize = sizeof(DtypeObject),
    .tp_repr = dtype_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The element type of a tensor (gdlite.float32, gdlite.int64, ...).",
    .tp_getset = dtype_getset,
    .tp_methods = dtype_methods,
};

/* ---- registration from Python ------------------------------------------ */

static PyObject *set_tensor_class(PyObject *mod, PyObject *cls) {
    (void)mod;
    if (!PyType_Check(cls) ||
        !PyType_IsSubtype((PyTypeObject *)cls, &gdpy_TensorBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "expected a subclass of TensorBase");
        return NULL;
    }
    Py_XSETREF(gdpy.tensor_class, (PyTypeObject *)Py_NewRef(cls));
    Py_RETURN_NONE;
}

static PyObject *set_indexing_hooks(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *get, *set;
    if (!PyArg_ParseTuple(args, "OO", &get, &set))
        return NULL;
    Py_XSETREF(gdpy.advanced_getitem, Py_NewRef(get));
    Py_XSETREF(gdpy.advanced_setitem, Py_NewRef(set));
    Py_RETURN_NONE;
}

static PyObject *set_torch_function_hook(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *dispatch, *disabled;
    if (!PyArg_ParseTuple(args, "OO", &dispatch, &disabled))
        return NULL;
    Py_XSETREF(gdpy.disabled_torch_function, Py_NewRef(disabled));
    Py_XSETREF(gdpy.slot_dispatch, Py_NewRef(dispatch));
    Py_RETURN_NONE;
}

/* torch.set_default_dtype: process-wide, as in PyTorch; the Python side
 * checks the argument and keeps its own copy for tensor() inference. */
static PyObject *set_default_float(PyObject *mod, PyObject *arg) {
    (void)mod;
    gd_dtype dt;
    if (!gdpy_dtype_arg(arg, &dt))
        return NULL;
    gd_status st = gd_set_default_float(dt);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

/* Opens MKL (see gd.h); the package calls it once, at import. */
static PyObject *mkl_load(PyObject *mod, PyObject *arg) {
    (void)mod;
    PyObject *bytes;
    if (!PyUnicode_FSConverter(arg, &bytes))
        return NULL;
    gd_status st = gd_mkl_load(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

static PyObject *mkl_enable(PyObject *mod, PyObject *arg) {
    (void)mod;
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    gd_mkl_enable(on);
    Py_RETURN_NONE;
}

static PyObject *mkl_state(PyObject *mod, PyObject *unused) {
    (void)mod, (void)unused;
    return Py_BuildValue("(OO)", gd_mkl_loaded() ? Py_True : Py_False,
                         gd_mkl_active() ? Py_True : Py_False);
}

static PyMethodDef registration_methods[] = {
    {"_set_default_float", set_default_float, METH_O,
     "Sets the dtype Python floats become (gdlite.set_default_dtype)."},
    {"_set_tensor_class", set_tensor_class, METH_O,
     "Registers the Python Tensor class that results are created as."},
    {"_set_indexing_hooks", set_indexing_hooks, METH_VARARGS,
     "Registers the Python functions behind advanced indexing."},
    {"_set_torch_function_hook", set_torch_function_hook, METH_VARARGS,
     "Registers the function operators call when an operand's class overrides "
     "__torch_function__, and the disabled __torch_function__."},
    {"_mkl_load", mkl_load, METH_O,
     "Opens Intel MKL's libmkl_rt at the path given; the math and product "
     "kernels then call it, as PyTorch's do."},
    {"_mkl_enable", mkl_enable, METH_O,
     "Switches the kernels between MKL's routines and their own."},
    {"_mkl_state", mkl_state, METH_NOARGS, "(loaded, in use) for MKL."},
    {NULL, NULL, 0, NULL},
};

static void free_module(void *mod) {
    (void)mod;
    Py_CLEAR(gdpy.tensor_class);
    Py_CLEAR(gdpy.advanced_getitem);
    Py_CLEAR(gdpy.advanced_setitem);
    Py_CLEAR(gdpy.slot_dispatch);
    Py_CLEAR(gdpy.disabled_torch_function);
    for (int i = 0; i < GD_DTYPE_COUNT; i++)
        Py_CLEAR(gdpy.dtypes[i]);
}

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gdlite._C",
    .m_doc = "gdlite's C core: tensors, kernels and the generator.",
    .m_size = -1,
    .m_methods = registration_methods,
    .m_free = free_module,
};

static int add_ops_table(PyObject *mod) {
    PyObject *ops = PyDict_New();
    if (!ops)
        return -1;
    for (int op = 0; op < GD_OP_COUNT; op++) {
        PyObject *v = PyLong_FromLong(op);
        if (!v || PyDict_SetItemString(ops, gd_op_name((gd_op)op), v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(ops);
            return -1;
        }
        Py_DECREF(v);
    }
    int r = PyModule_AddObjectRef(mod, "ops", ops);
    Py_DECREF(ops);
    return r;
}

/* node_names: the decompositions.def ids ("T", "BMM") to pass where a call names its
 * node, as gd_decomposition values. */
static int add_decompositions(PyObject *mod) {
    static const char *const ids[] = {
#define GD_DECOMP(id, op, grad_fn, edges, saves) [GD_DECOMP_##id] = #id,
#include "decompositions.def"
#undef GD_DECOMP
    };
    PyObject *names = PyDict_New();
    if (!names)
        return -1;
    for (int i = GD_DECOMP_DEFAULT + 1; i < GD_DECOMP_COUNT; i++) {
        PyObject *v = PyLong_FromLong(i);
        if (!v || PyDict_SetItemString(names, ids[i], v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(names);
            return -1;
        }
        Py_DECREF(v);
    }
    int r = PyModule_AddObjectRef(mod, "decompositions", names);
    Py_DECREF(names);
    return r;
}

static int add_grad_fn_names(PyObject *mod) {
    PyObject *names = PyTuple_New(GD_OP_COUNT);
    if (!names)
        return -1;
    for (int op = 0; op < GD_OP_COUNT; op++) {
        PyObject *s = PyUnicode_FromString(gd_op_grad_fn_name((gd_op)op));
        if (!s) {
            Py_DECREF(names);
            return -1;
        }
        PyTuple_SET_ITEM(names, op, s);
    }
    int r = PyModule_AddObjectRef(mod, "grad_fn_names", names);
    Py_DECREF(names);
    return r;
}

/* The core lets other threads run during its long numeric loops, in which
 * it touches element data only (gd_set_loop_unlock). */
static void *release_gil(void) {
    return PyEval_SaveThread();
}

static void reacquire_gil(void *state) {
    PyEval_RestoreThread((PyThreadState *)state);
}

PyMODINIT_FUNC PyInit__C(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit__C(void) {
    import_array();
    if (PyType_Ready(&gdpy_Dtype_Type) < 0 || PyType_Ready(&gdpy_TensorBase_Type) < 0 ||
        PyType_Ready(&gdpy_Node_Type) < 0 || PyType_Ready(&gdpy_GradMode_Type) < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&module_def);
    if (!mod)
        return NULL;
    gd_set_loop_unlock(release_gil, reacquire_gil);
    if (PyModule_AddFunctions(mod, gdpy_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_nn_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_count_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_factory_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_dlpack_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_autograd_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_function_functions) < 0 ||
        PyModule_AddFunctions(mod, gdpy_optim_functions) < 0)
        goto fail;
    for (int i = 0; i < GD_DTYPE_COUNT; i++) {
        DtypeObject *d = PyObject_New(DtypeObject, &gdpy_Dtype_Type);
        if (!d)
            goto fail;
        d->dtype = (gd_dtype)i;
        gdpy.dtypes[i] = (PyObject *)d;
        if (PyModule_AddObjectRef(mod, gd_dtype_name((gd_dtype)i), (PyObject *)d) < 0)
            goto fail;
    }
    if (PyModule_AddObjectRef(mod, "TensorBase", (PyObject *)&gdpy_TensorBase_Type) <
            0 ||
        PyModule_AddObjectRef(mod, "dtype", (PyObject *)&gdpy_Dtype_Type) < 0 ||
        PyModule_AddObjectRef(mod, "Node", (PyObject *)&gdpy_Node_Type) < 0 ||
        PyModule_AddObjectRef(mod, "GradMode", (PyObject *)&gdpy_GradMode_Type) < 0 ||
        add_ops_table(mod) < 0 || add_grad_fn_names(mod) < 0 ||
        add_decompositions(mod) < 0 || gdpy_generator_module_init(mod) < 0 ||
        PyModule_AddIntConstant(mod, "MAX_DIMS", GD_MAX_DIMS) < 0)
        goto fail;
    return mod;
fail:
    Py_DECREF(mod);
    return NULL;
}
