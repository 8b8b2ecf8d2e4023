/* The autograd surface of the binding: Tensor attributes (requires_grad,
 * grad, grad_fn, is_leaf, ...), hooks, the Node type behind grad_fn, grad
 * mode and the backward entry points. */
#include "binding.h"

/* ---- Node objects ------------------------------------------------------- */

typedef struct {
    PyObject_HEAD gd_node *node;
} NodeObject;

static void node_dealloc(PyObject *self);

/* The type of a node named `name` (a borrowed reference): as in PyTorch,
 * each name is its own type (MulBackward0, AccumulateGrad, ...), which is
 * what tools such as torchviz print. Made on first use, a subclass of Node
 * adding nothing, and kept for the life of the process. */
static PyTypeObject *node_type(const char *name) {
    if (!gdpy.node_types && !(gdpy.node_types = PyDict_New()))
        return NULL;
    PyObject *type = PyDict_GetItemString(gdpy.node_types, name);
    if (type)
        return (PyTypeObject *)type;
    /* "builtins." gives PyTorch's __module__, and the printed name is then
     * the bare one, as PyTorch's. The type may point at its spec's name
     * (Python 3.11), so that lives as long as the type: for good. */
    static const char module[] = "builtins.";
    size_t len = sizeof module + strlen(name);
    char *qualified = PyMem_RawMalloc(len);
    if (!qualified)
        return (PyTypeObject *)PyErr_NoMemory();
    snprintf(qualified, len, "%s%s", module, name);
    PyType_Slot slots[] = {{Py_tp_dealloc, (void *)node_dealloc},
                           {Py_tp_doc, (void *)"A node of the autograd graph."},
                           {0, NULL}};
    PyType_Spec spec = {
        .name = qualified,
        .basicsize = (int)sizeof(NodeObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION |
                 Py_TPFLAGS_IMMUTABLETYPE,
        .slots = slots,
    };
    type = PyType_FromSpecWithBases(&spec, (PyObject *)&gdpy_Node_Type);
    if (!type) {
        PyMem_RawFree(qualified);
        return NULL;
    }
    ((PyTypeObject *)type)->tp_name = qualified + sizeof module - 1;
    int r = PyDict_SetItemString(gdpy.node_types, name, type);
    Py_DECREF(type); /* the dictionary holds it (and so its name) for good */
    if (r < 0) {
        PyMem_RawFree(qualified); /* the type went with the reference */
        return NULL;
    }
    return (PyTypeObject *)type;
}

/* A node is one Python object while that object lives, as in PyTorch
 * (y.grad_fn is y.grad_fn; torchviz keys nodes by id()): node_wrappers maps
 * a node's address to its wrapper's, and the wrapper removes its entry when
 * it goes. The wrapper holds the node, so no other node can take the
 * address meanwhile. */
PyObject *gdpy_wrap_node(gd_node *node) {
    if (!node)
        Py_RETURN_NONE;
    PyObject *key = PyLong_FromVoidPtr(node), *result = NULL, *addr = NULL;
    NodeObject *obj = NULL;
    if (!key || (!gdpy.node_wrappers && !(gdpy.node_wrappers = PyDict_New())))
        goto done;
    PyObject *known = PyDict_GetItemWithError(gdpy.node_wrappers, key);
    if (known) {
        result = Py_NewRef((PyObject *)PyLong_AsVoidPtr(known));
        goto done;
    }
    if (PyErr_Occurred())
        goto done;
    PyTypeObject *type = node_type(gd_node_name(node));
    if (!type || !(obj = PyObject_New(NodeObject, type)))
        goto done;
    gd_node_incref(node);
    obj->node = node;
    if (!(addr = PyLong_FromVoidPtr(obj)) ||
        PyDict_SetItem(gdpy.node_wrappers, key, addr) < 0) {
        Py_DECREF(obj);
        goto done;
    }
    result = (PyObject *)obj;
done:
    Py_XDECREF(key);
    Py_XDECREF(addr);
    return result;
}

/* Drops self's entry in node_wrappers; called from dealloc, which must
 * neither raise nor lose an exception already set. */
static void forget_wrapper(PyObject *self) {
    if (!gdpy.node_wrappers)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *pending = PyErr_GetRaisedException();
#else
    PyObject *pending_type, *pending, *pending_tb;
    PyErr_Fetch(&pending_type, &pending, &pending_tb);
#endif
    PyObject *key = PyLong_FromVoidPtr(((NodeObject *)self)->node);
    PyObject *known = key ? PyDict_GetItemWithError(gdpy.node_wrappers, key) : NULL;
    if (known && PyLong_AsVoidPtr(known) == (void *)self)
        PyDict_DelItem(gdpy.node_wrappers, key);
    Py_XDECREF(key);
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(pending);
#else
    PyErr_Restore(pending_type, pending, pending_tb);
#endif
}

static void node_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    forget_wrapper(self);
    gd_node_decref(((NodeObject *)self)->node);
    PyObject_Free(self);
    if (type->tp_flags & Py_TPFLAGS_HEAPTYPE) /* an instance owns its heap type */
        Py_DECREF(type);
}

gd_node *gdpy_node_of(PyObject *node_obj) {
    return ((NodeObject *)node_obj)->node;
}

/* An autograd.Function's node is named as torch names its class's */
static PyObject *node_repr(PyObject *self) {
    gd_node *node = ((NodeObject *)self)->node;
    return PyUnicode_FromFormat(gdpy_is_function_node(node)
                                    ? "<gdlite.autograd.function.%s object at %p>"
                                    : "<%s object at %p>",
                                gd_node_name(node), self);
}

/* A Function's node is its ctx in torch: attributes not found on the node
 * (saved_tensors, needs_input_grad, the user's own) are the ctx's. */
static PyObject *node_getattro(PyObject *self, PyObject *name) {
    PyObject *r = PyObject_GenericGetAttr(self, name);
    void *ctx = gd_custom_node_context(((NodeObject *)self)->node);
    if (r || !ctx || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear();
    return PyObject_GetAttr((PyObject *)ctx, name);
}

static PyObject *node_name(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyUnicode_FromString(gd_node_name(((NodeObject *)self)->node));
}

static PyObject *node_next_functions(PyObject *self, void *closure) {
    (void)closure;
    gd_node *node = ((NodeObject *)self)->node;
    int n = gd_node_num_inputs(node);
    PyObject *tup = PyTuple_New(n);
    for (int i = 0; tup && i < n; i++) {
        PyObject *next = gdpy_wrap_node(gd_node_next(node, i));
        PyObject *pair =
            next ? Py_BuildValue("(Ni)", next, gd_node_next_output_nr(node, i)) : NULL;
        if (!pair) {
            Py_CLEAR(tup);
            break;
        }
        PyTuple_SET_ITEM(tup, i, pair);
    }
    return tup;
}

static PyObject *node_variable(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gd_node_variable(((NodeObject *)self)->node);
    if (!t) {
        PyErr_SetString(PyExc_AttributeError,
                        "only AccumulateGrad nodes have a variable");
        return NULL;
    }
    return gdpy_wrap_existing(t);
}

static PyObject *node_richcompare(PyObject *a, PyObject *b, int op) {
    if (!PyObject_TypeCheck(b, &gdpy_Node_Type) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    bool same = ((NodeObject *)a)->node == ((NodeObject *)b)->node;
    return PyBool_FromLong(op == Py_EQ ? same : !same);
}

static Py_hash_t node_hash(PyObject *self) {
    return _Py_HashPointer(((NodeObject *)self)->node);
}

static PyMethodDef node_methods[] = {
    {"name", node_name, METH_NOARGS, "The node's name, e.g. 'MulBackward0'."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef node_getset[] = {
    {"next_functions", node_next_functions, NULL,
     "(node, 0) pairs for each input; None where no gradient flows", NULL},
    {"variable", node_variable, NULL, "the leaf an AccumulateGrad node feeds", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject gdpy_Node_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C.Node",
    .tp_basicsize = sizeof(NodeObject),
    .tp_dealloc = node_dealloc,
    .tp_repr = node_repr,
    .tp_getattro = node_getattro,
    .tp_hash = node_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, /* one subtype per name */
    .tp_doc = "A node of the autograd graph (a tensor's grad_fn).",
    .tp_richcompare = node_richcompare,
    .tp_methods = node_methods,
    .tp_getset = node_getset,
};

/* ---- tensor attributes -------------------------------------------------- */

PyObject *gdpy_get_requires_grad(PyObject *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(gd_requires_grad(gdpy_tensor(self)));
}

int gdpy_set_requires_grad(PyObject *self, PyObject *value, void *closure) {
    (void)closure;
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "can't delete requires_grad");
        return -1;
    }
    int flag = PyObject_IsTrue(value);
    if (flag < 0)
        return -1;
    gd_tensor *t = gdpy_tensor(self);
    gd_status refreshed = gd_view_refresh(t);
    if (refreshed)
        return gdpy_raise_int(refreshed);
    /* The attribute is stricter than requires_grad_(): any change on a
     * non-leaf is refused, and its dtype message names complex too. */
    if (!gd_is_leaf(t))
        return gdpy_raise_int(gd_set_requires_grad(t, false));
    if (flag && !gd_dtype_is_floating(t->dtype)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "only Tensors of floating point and complex "
                        "dtype can require gradients");
        return -1;
    }
    gd_status st = gd_set_requires_grad(t, flag);
    return st ? gdpy_raise_int(st) : 0;
}

PyObject *gdpy_requires_grad_(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    int flag = 1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "requires_grad_() takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1 && (flag = PyObject_IsTrue(args[0])) < 0)
        return NULL;
    gd_status st = gd_set_requires_grad(gdpy_tensor(self), flag);
    return st ? gdpy_raise(st) : Py_NewRef(self);
}

static const char non_leaf_grad_warning[] =
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
    ".grad attribute won't be populated during autograd.backward(). If you indeed want "
    "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
    "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
    "access "
    "the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more "
    "information.";

PyObject *gdpy_get_grad(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self);
    gd_status st = gd_view_refresh(t);
    if (st)
        return gdpy_raise(st);
    gd_node *fn = gd_grad_fn(t);
    gd_tensor *grad;
    if (fn) {
        if (!t->autograd->retains_grad &&
            PyErr_WarnEx(PyExc_UserWarning, non_leaf_grad_warning, 1) < 0)
            return NULL;
        grad = gd_node_retained_grad(fn);
    } else {
        grad = gd_get_grad(t);
    }
    if (!grad)
        Py_RETURN_NONE;
    return gdpy_wrap_existing(grad);
}

int gdpy_set_grad(PyObject *self, PyObject *value, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self), *grad = NULL;
    if (value && value != Py_None) {
        if (!gdpy_is_tensor(value)) {
            PyErr_Format(
                PyExc_TypeError,
                "assigned grad expected to be a Tensor or None but got grad of "
                "type %.200s",
                Py_TYPE(value)->tp_name);
            return -1;
        }
        grad = gdpy_tensor(value);
    }
    gd_status st = gd_set_grad(t, grad);
    return st ? gdpy_raise_int(st) : 0;
}

PyObject *gdpy_get_grad_fn(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self);
    gd_status st = gd_view_refresh(t);
    return st ? gdpy_raise(st) : gdpy_wrap_node(gd_grad_fn(t));
}

PyObject *gdpy_get_is_leaf(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self);
    gd_status st = gd_view_refresh(t);
    return st ? gdpy_raise(st) : PyBool_FromLong(gd_is_leaf(t));
}

PyObject *gdpy_get_retains_grad(PyObject *self, void *closure) {
    (void)closure;
    gd_tensor *t = gdpy_tensor(self);
    return PyBool_FromLong(t->autograd && t->autograd->retains_grad);
}

PyObject *gdpy_get_version(PyObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLongLong(gdpy_tensor(self)->storage->version);
}

/* ---- tensor methods ----------------------------------------------------- */

PyObject *gdpy_retain_grad(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_tensor *t = gdpy_tensor(self);
    if (!gd_requires_grad(t)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "can't retain_grad on Tensor that has requires_grad=False");
        return NULL;
    }
    gd_status st = gd_view_refresh(t);
    if (!st)
        st = gd_check_first_output(t, "retain_grad on");
    if (st)
        return gdpy_raise(st);
    gd_node *fn = gd_grad_fn(t);
    if (fn) { /* leaves keep their grad anyway */
        t->autograd->retains_grad = true;
        gd_node_retain_grad(fn);
    }
    Py_RETURN_NONE;
}

PyObject *gdpy_detach(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_tensor *out = NULL;
    return gdpy_result(gd_alias(gdpy_tensor(self), &out), &out);
}

PyObject *gdpy_detach_(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_status st = gd_detach_(gdpy_tensor(self));
    return st ? gdpy_raise(st) : Py_NewRef(self);
}

/* PyTorch names a hook by its __name__, or "<unknown>" (a new reference). */
static PyObject *hook_name(PyObject *hook) {
    PyObject *name = PyObject_GetAttrString(hook, "__name__");
    if (!name)
        PyErr_Clear();
    if (name && PyUnicode_Check(name))
        return name;
    Py_XDECREF(name);
    return PyUnicode_FromString("<unknown>");
}

/* A hook may return None or a tensor of the gradient's dtype and shape. */
static int check_hook_result(PyObject *hook, PyObject *r, const gd_tensor *grad) {
    PyObject *name = NULL;
    int ok = -1;
    if (!gdpy_is_tensor(r)) {
        PyErr_Format(PyExc_TypeError, "expected Variable, but hook returned '%.200s'",
                     Py_TYPE(r)->tp_name);
        goto done;
    }
    const gd_tensor *got = gdpy_tensor(r);
    bool same_type = got->dtype == grad->dtype;
    bool same_size =
        got->ndim == grad->ndim &&
        memcmp(got->shape, grad->shape, sizeof(int64_t) * (size_t)grad->ndim) == 0;
    if (same_type && same_size) {
        ok = 0;
        goto done;
    }
    if (!(name = hook_name(hook)))
        goto done;
    if (!same_type)
        PyErr_Format(PyExc_RuntimeError,
                     "hook '%U' has changed the type of value (was gdlite.%s got "
                     "gdlite.%s)",
                     name, gd_dtype_legacy_name(grad->dtype),
                     gd_dtype_legacy_name(got->dtype));
    else
        PyErr_Format(PyExc_RuntimeError, "hook '%U' has changed the size of value",
                     name);
done:
    Py_XDECREF(name);
    return ok;
}

static gd_status call_python_hook(void *context, gd_tensor *grad,
                                  gd_tensor **replacement) {
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *hook = (PyObject *)context, *arg = NULL, *r = NULL;
    gd_status st = GD_ERR_EXTERNAL;
    gd_tensor_incref(grad);
    if (!(arg = gdpy_wrap(grad)) || !(r = PyObject_CallOneArg(hook, arg)))
        goto done;
    if (r != Py_None) {
        if (check_hook_result(hook, r, grad) < 0)
            goto done;
        *replacement = gdpy_tensor(r);
        gd_tensor_incref(*replacement);
    }
    st = GD_OK;
done:
    Py_XDECREF(arg);
    Py_XDECREF(r);
    PyGILState_Release(g);
    return st;
}

static void release_python_hook(void *context) {
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF((PyObject *)context);
    PyGILState_Release(g);
}

bool gdpy_is_python_hook(const gd_hook *h) {
    return h->fn == call_python_hook;
}

/* The collector may only see hooks the Python object alone keeps alive: not
 * while the core holds the tensor too (its graph: the hooks must still run
 * when the graph is walked, as in PyTorch), and not a hook a running
 * backward holds (its callable must not be cleared before it runs). */
static bool hooks_owned_by_object(const gd_tensor *t) {
    return t && t->autograd && t->refcount == 1;
}

int gdpy_traverse_python_hooks(gd_tensor *t, visitproc visit, void *arg) {
    if (!hooks_owned_by_object(t))
        return 0;
    for (gd_hook *h = t->autograd->hooks; h; h = h->next)
        if (gdpy_is_python_hook(h) && h->refcount == 1)
            Py_VISIT((PyObject *)h->context);
    return 0;
}

/* Unlinks the Python hooks first, then drops them: dropping runs user code
 * (finalizers) that may edit the tensor's list. */
void gdpy_clear_python_hooks(gd_tensor *t) {
    if (!hooks_owned_by_object(t))
        return;
    gd_hook *dropped = NULL, *h = t->autograd->hooks;
    while (h) {
        gd_hook *next = h->next;
        if (gdpy_is_python_hook(h)) {
            gd_hook_incref(h); /* held past the unlink: no user code runs here */
            gd_hook_unlink(h);
            h->next = dropped;
            dropped = h;
        }
        h = next;
    }
    while (dropped) {
        h = dropped;
        dropped = h->next;
        h->next = NULL;
        gd_hook_decref(h);
    }
}

/* ---- hook handles ------------------------------------------------------- */

/* What register_hook returns: removes its hook whatever became of the
 * tensor since, and keeps neither the hook nor the tensor alive. */
typedef struct {
    PyObject_HEAD gd_hook_token *token;
} HookHandleObject;

static void hookhandle_dealloc(PyObject *self) {
    gd_hook_token_decref(((HookHandleObject *)self)->token);
    PyObject_Free(self);
}

static PyObject *hookhandle_remove(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_hook_token_remove(((HookHandleObject *)self)->token);
    Py_RETURN_NONE;
}

static PyObject *hookhandle_enter(PyObject *self, PyObject *unused) {
    (void)unused;
    return Py_NewRef(self);
}

static PyObject *hookhandle_exit(PyObject *self, PyObject *const *args,
                                 Py_ssize_t nargs) {
    (void)args;
    (void)nargs;
    gd_hook_token_remove(((HookHandleObject *)self)->token);
    Py_RETURN_FALSE;
}

static PyObject *hookhandle_id(PyObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLongLong(gd_hook_token_id(((HookHandleObject *)self)->token));
}

static PyMethodDef hookhandle_methods[] = {
    {"remove", hookhandle_remove, METH_NOARGS, "Unregisters the hook."},
    {"__enter__", hookhandle_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))hookhandle_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef hookhandle_getset[] = {
    {"id", hookhandle_id, NULL, "the hook's number", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject hookhandle_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C.RemovableHandle",
    .tp_basicsize = sizeof(HookHandleObject),
    .tp_dealloc = hookhandle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Returned by register_hook; remove() unregisters the hook.",
    .tp_methods = hookhandle_methods,
    .tp_getset = hookhandle_getset,
};

PyObject *gdpy_add_hook(PyObject *self, PyObject *fn) {
    gd_hook_token *token = NULL;
    HookHandleObject *handle = NULL;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "hook must be callable");
        return NULL;
    }
    if (PyType_Ready(&hookhandle_type) < 0 ||
        !(handle = PyObject_New(HookHandleObject, &hookhandle_type)))
        return NULL;
    handle->token = NULL;
    Py_INCREF(fn); /* the hook's reference, dropped by release_python_hook */
    gd_status st = gd_add_hook(gdpy_tensor(self), call_python_hook, release_python_hook,
                               fn, &token);
    if (st) {
        Py_DECREF(handle);
        return gdpy_raise(st);
    }
    handle->token = token;
    return (PyObject *)handle;
}

/* ---- grad-mode context managers ----------------------------------------- */

/* The base of no_grad and enable_grad: entering sets grad mode to the
 * class's _enabled, leaving restores what it was. In C, so that a
 * `with no_grad():` in a training loop costs no Python frame. */
typedef struct {
    PyObject_HEAD int enabled;
    int previous;
} GradModeObject;

static PyObject *gradmode_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args;
    (void)kwds;
    PyObject *flag = PyObject_GetAttrString((PyObject *)type, "_enabled");
    int enabled = flag ? PyObject_IsTrue(flag) : -1;
    Py_XDECREF(flag);
    if (enabled < 0)
        return NULL;
    GradModeObject *self = (GradModeObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->enabled = enabled;
    self->previous = gd_grad_enabled();
    return (PyObject *)self;
}

static PyObject *gradmode_enter(PyObject *self, PyObject *unused) {
    (void)unused;
    GradModeObject *g = (GradModeObject *)self;
    g->previous = gd_grad_enabled();
    gd_set_grad_enabled(g->enabled);
    Py_RETURN_NONE;
}

static PyObject *gradmode_exit(PyObject *self, PyObject *const *args,
                               Py_ssize_t nargs) {
    (void)args;
    (void)nargs;
    gd_set_grad_enabled(((GradModeObject *)self)->previous);
    Py_RETURN_FALSE;
}

static PyMethodDef gradmode_methods[] = {
    {"__enter__", gradmode_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))gradmode_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

PyTypeObject gdpy_GradMode_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C.GradMode",
    .tp_basicsize = sizeof(GradModeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Sets grad mode to the class's _enabled inside a with block.",
    .tp_methods = gradmode_methods,
    .tp_new = gradmode_new,
};

/* ---- module functions --------------------------------------------------- */

static PyObject *fn_is_grad_enabled(PyObject *mod, PyObject *unused) {
    (void)mod;
    (void)unused;
    return PyBool_FromLong(gd_grad_enabled());
}

static PyObject *fn_set_grad_enabled(PyObject *mod, PyObject *flag) {
    (void)mod;
    if (!PyBool_Check(flag)) { /* PyTorch takes a bool, not anything truthy */
        PyErr_Format(PyExc_TypeError,
                     "set_grad_enabled(): argument 'enabled' (position 1) must be "
                     "bool, not %.200s",
                     Py_TYPE(flag)->tp_name);
        return NULL;
    }
    gd_set_grad_enabled(flag == Py_True);
    Py_RETURN_NONE;
}

/* run_backward(roots, grads, retain_graph, inputs|None, allow_unused,
 * create_graph=False): the
 * tensors are held for the whole backward, whatever its hooks do to the
 * sequences they came from. */
static PyObject *fn_run_backward(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *roots_obj, *seeds_obj, *inputs_obj, *result = NULL;
    int retain = 0, allow_unused = 0, create_graph = 0;
    gdpy_tensor_list roots = {NULL, 0}, seeds = {NULL, 0}, inputs = {NULL, 0};
    gd_tensor **grads = NULL;
    if (!PyArg_ParseTuple(args, "OOpOp|p", &roots_obj, &seeds_obj, &retain, &inputs_obj,
                          &allow_unused, &create_graph))
        return NULL;
    if (gdpy_tensor_list_parse(roots_obj, "run_backward", 0, 0, &roots) < 0 ||
        gdpy_tensor_list_parse(seeds_obj, "run_backward", 1, GDPY_TENSORS_ALLOW_NONE,
                               &seeds) < 0 ||
        (inputs_obj != Py_None &&
         gdpy_tensor_list_parse(inputs_obj, "run_backward", 3, 0, &inputs) < 0))
        goto done;
    if (seeds.n != roots.n) {
        PyErr_Format(PyExc_RuntimeError, "got %d tensors and %d gradients", roots.n,
                     seeds.n);
        goto done;
    }
    grads = PyMem_Calloc((size_t)(inputs.n ? inputs.n : 1), sizeof *grads);
    if (!grads) {
        PyErr_NoMemory();
        goto done;
    }
    gd_status st = gd_backward(roots.n, roots.v, seeds.v, retain, create_graph,
                               inputs.n, inputs.v, allow_unused, grads);
    if (st) {
        gdpy_raise(st);
        goto done;
    }
    if (inputs_obj == Py_None) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    result = PyTuple_New(inputs.n);
    for (int j = 0; result && j < inputs.n; j++) {
        PyObject *g = grads[j] ? gdpy_wrap(grads[j]) : Py_NewRef(Py_None);
        grads[j] = NULL; /* gdpy_wrap stole it */
        if (!g)
            Py_CLEAR(result);
        else
            PyTuple_SET_ITEM(result, j, g);
    }
done:
    for (int j = 0; grads && j < inputs.n; j++)
        gd_tensor_decref(grads[j]);
    PyMem_Free(grads);
    gdpy_tensor_list_release(&roots);
    gdpy_tensor_list_release(&seeds);
    gdpy_tensor_list_release(&inputs);
    return result;
}

/* Tensor.backward(gradient=None, retain_graph=None, create_graph=False,
 * inputs=None): in C, so a training loop's backward() costs no Python frame.
 * The other cases go to gdlite.autograd.backward. */
PyObject *gdpy_tensor_backward(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"gradient", "retain_graph", "create_graph", "inputs", NULL};
    PyObject *gradient = Py_None, *retain = Py_None, *create = Py_False,
             *inputs = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOO:backward", names, &gradient,
                                     &retain, &create, &inputs))
        return NULL;
    int create_graph = PyObject_IsTrue(create);
    if (create_graph < 0)
        return NULL;
    /* The rest, and a gradient that is no tensor (torch reads it as a
     * sequence of gradients), go to gdlite.autograd.backward. */
    if (create_graph || inputs != Py_None ||
        (gradient != Py_None && !gdpy_is_tensor(gradient))) {
        PyObject *mod = PyImport_ImportModule("gdlite.autograd");
        PyObject *fn = mod ? PyObject_GetAttrString(mod, "backward") : NULL;
        Py_XDECREF(mod);
        if (!fn)
            return NULL;
        PyObject *r = PyObject_CallFunctionObjArgs(fn, self, gradient, retain, create,
                                                   inputs, NULL);
        Py_DECREF(fn);
        return r;
    }
    int retain_graph = retain == Py_None ? 0 : PyObject_IsTrue(retain);
    if (retain_graph < 0)
        return NULL;
    gd_tensor *root = gdpy_tensor(self);
    gd_tensor *seed = gradient == Py_None ? NULL : gdpy_tensor(gradient);
    gd_status st =
        gd_backward(1, &root, &seed, retain_graph, false, 0, NULL, false, NULL);
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

PyMethodDef gdpy_autograd_functions[] = {
    {"is_grad_enabled", fn_is_grad_enabled, METH_NOARGS,
     "Is grad mode on (this thread)?"},
    {"set_grad_enabled", fn_set_grad_enabled, METH_O, "Turns grad mode on or off."},
    {"run_backward", fn_run_backward, METH_VARARGS,
     "run_backward(roots, grads, retain_graph, inputs|None, allow_unused, "
     "create_graph=False)"},
    {NULL, NULL, 0, NULL},
};
