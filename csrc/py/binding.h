/* Shared declarations of the CPython binding (csrc/py). */
#ifndef GDPY_BINDING_H
#define GDPY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL gdlite_ARRAY_API
#ifndef GDPY_IMPORTS_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "gd.h"

/* A Python tensor holds exactly one core reference. */
typedef struct {
    PyObject_HEAD gd_tensor *t;
    PyObject *weakreflist;
} TensorObject;

typedef struct {
    PyObject_HEAD gd_dtype dtype;
} DtypeObject;

extern PyTypeObject gdpy_TensorBase_Type;
extern PyTypeObject gdpy_Dtype_Type;
extern PyTypeObject gdpy_Node_Type;
extern PyTypeObject gdpy_GradMode_Type;
extern PyTypeObject gdpy_Generator_Type;

/* Module state that the Python package registers at import. */
struct gdpy_globals {
    PyTypeObject *tensor_class;       /* gdlite.Tensor, the type of every result */
    PyObject *dtypes[GD_DTYPE_COUNT]; /* the dtype singletons */
    PyObject *advanced_getitem;       /* gdlite._indexing.getitem */
    PyObject *advanced_setitem;       /* gdlite._indexing.setitem */
    /* gdlite._tensor_function.slot_dispatch, set once a Tensor subclass
     * overrides __torch_function__ (NULL until then: operators skip the
     * check), and the __torch_function__ of classes that disable it. */
    PyObject *slot_dispatch;
    PyObject *disabled_torch_function;
    PyObject *node_types;    /* node name -> its Node subtype */
    PyObject *node_wrappers; /* node address -> its live wrapper's */
};
extern struct gdpy_globals gdpy;

/* errors.c: raises the exception for a failed core call; returns NULL. */
PyObject *gdpy_raise(gd_status st);
int gdpy_raise_int(gd_status st); /* same, returns -1 */

/* call.c: the path of a core call */
PyObject *gdpy_wrap(gd_tensor *t); /* steals t; NULL t means "raise" */
/* Raises for a failed status, else wraps *out (a new reference, stolen). */
PyObject *gdpy_result(gd_status st, gd_tensor **out);
/* The Python object already wrapping t if there is one, else a new one
 * (borrows t: takes its own reference). */
PyObject *gdpy_wrap_existing(gd_tensor *t);
/* gd_call (recording the op when gradients are needed), then gdpy_result on
 * its first output. Core calls keep the GIL: the core releases it around its
 * long numeric loops only (module.c installs the hooks). */
PyObject *gdpy_call_result(gd_op op, int n, gd_tensor *const *in,
                           const gd_op_args *args);

/* autograd_bind.c: Tensor attributes and methods, module functions */
PyObject *gdpy_get_requires_grad(PyObject *self, void *closure);
int gdpy_set_requires_grad(PyObject *self, PyObject *value, void *closure);
PyObject *gdpy_get_grad(PyObject *self, void *closure);
int gdpy_set_grad(PyObject *self, PyObject *value, void *closure);
PyObject *gdpy_get_grad_fn(PyObject *self, void *closure);
PyObject *gdpy_get_is_leaf(PyObject *self, void *closure);
PyObject *gdpy_get_retains_grad(PyObject *self, void *closure);
PyObject *gdpy_get_version(PyObject *self, void *closure);
PyObject *gdpy_retain_grad(PyObject *self, PyObject *unused);
PyObject *gdpy_tensor_backward(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *gdpy_requires_grad_(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *gdpy_detach(PyObject *self, PyObject *unused);
PyObject *gdpy_detach_(PyObject *self, PyObject *unused);
PyObject *gdpy_add_hook(PyObject *self, PyObject *fn); /* returns a handle */
bool gdpy_is_python_hook(const gd_hook *h);
/* tp_clear: drops a leaf's Python hooks when its Python object alone held them. */
void gdpy_clear_python_hooks(gd_tensor *t);
/* tp_traverse of a leaf's Python hooks (those no running backward holds). */
int gdpy_traverse_python_hooks(gd_tensor *t, visitproc visit, void *arg);
extern PyMethodDef gdpy_autograd_functions[];
extern PyMethodDef gdpy_function_functions[]; /* function_bind.c: autograd.Function */
/* A Node object for node (new reference; None for NULL); the node behind one. */
PyObject *gdpy_wrap_node(gd_node *node);
gd_node *gdpy_node_of(PyObject *node_obj);
/* Is this the node of an autograd.Function call (its context a Python ctx)? */
bool gdpy_is_function_node(const gd_node *node);
extern PyMethodDef gdpy_functions[];       /* functions.c: ops */
extern PyMethodDef gdpy_nn_functions[];    /* functions_nn.c: softmax, losses */
extern PyMethodDef gdpy_count_functions[]; /* functions_count.c: bincount, unique */
/* functions.c: tensors taken from a Python list, tuple or other iterable, as
 * owned references, so nothing the caller runs afterwards can free them. */
typedef struct {
    gd_tensor **v; /* n entries; NULL where a None was allowed */
    int n;
} gdpy_tensor_list;
#define GDPY_TENSORS_ALLOW_NONE 1 /* None items become NULL entries */
#define GDPY_TENSORS_SEQUENCE 2   /* only a list or tuple (cat, stack) */
/* Fills *out; `name` and `arg` (0-based argument index) word the TypeErrors.
 * Returns 0, or -1 with an exception set; release *out either way. */
int gdpy_tensor_list_parse(PyObject *obj, const char *name, int arg, int flags,
                           gdpy_tensor_list *out);
void gdpy_tensor_list_release(gdpy_tensor_list *list);
extern PyMethodDef gdpy_factory_functions[]; /* factories.c: creation, random */
extern PyMethodDef gdpy_dlpack_functions[];  /* dlpack.c: DLPack capsules */
extern PyMethodDef gdpy_optim_functions[];   /* optim_bind.c: optimizer steps */
/* indexing.c: t[idx] and t[idx] = value */
PyObject *gdpy_getitem(PyObject *self, PyObject *idx);
int gdpy_setitem(PyObject *self, PyObject *idx, PyObject *value);
/* tensor_type.c: matmul; `name` a gd_decomposition the caller knows (torch.bmm),
 * else GD_DECOMP_DEFAULT and the core names the node after the shapes. */
PyObject *gdpy_matmul(gd_tensor *a, gd_tensor *b, int name);
/* tensor_type.c: an operator with an operand (or an item of a tuple right
 * operand) that overrides __torch_function__ runs through it, as in PyTorch,
 * whichever operand's slot Python called (nn.Parameter's, a plain tensor's
 * in `t += sub`); `name` is the left operand's slot. NULL without an
 * exception when the caller computes the result: no operand overrides it,
 * or dispatch is disabled (the handler's own call). */
PyObject *gdpy_slot_torch_function(const char *name, PyObject *x, PyObject *y);
/* The check, made only once some subclass overrides __torch_function__ and
 * only when an operand is not a plain tensor. */
#define GDPY_TORCH_FUNCTION_CHECK(name, x, y)                                          \
    if (gdpy.slot_dispatch &&                                                          \
        (Py_TYPE(x) != gdpy.tensor_class || Py_TYPE(y) != gdpy.tensor_class)) {        \
        PyObject *dispatched = gdpy_slot_torch_function(name, x, y);                   \
        if (dispatched || PyErr_Occurred())                                            \
            return dispatched;                                                         \
    }
static inline int gdpy_is_tensor(PyObject *o) {
    /* Results are exactly gdlite.Tensor: test that before walking the MRO. */
    return Py_TYPE(o) == gdpy.tensor_class ||
           PyObject_TypeCheck(o, &gdpy_TensorBase_Type);
}
static inline gd_tensor *gdpy_tensor(PyObject *o) {
    return ((TensorObject *)o)->t;
}

/* convert.c */
int gdpy_dtype_from_object(PyObject *o, gd_dtype *out); /* dtype object -> gd_dtype */
/* Shape from ints, a tuple/list of ints, or a Size; -1 allowed when allow_neg. */
int gdpy_parse_shape(PyObject *args, int *ndim, int64_t *shape);
/* The same; an element outside int64 raises PyTorch's TypeError naming the
 * function and argument (ValueError when fname is NULL). */
int gdpy_parse_shape_named(PyObject *args, const char *fname, const char *argname,
                           int *ndim, int64_t *shape);
PyObject *gdpy_shape_tuple(int ndim, const int64_t *shape);
/* A NumPy array sharing the tensor's memory; its base keeps the storage alive. */
PyObject *gdpy_to_numpy(PyObject *owner);
/* Zero-copy tensor over a NumPy array (kept alive by the storage). */
gd_status gdpy_from_numpy(PyArrayObject *arr, gd_tensor **out);

/* PyArg_ParseTuple converters: a tensor (borrowed), a dtype, an op number,
 * a shape (ints, tuple or list). */
typedef struct {
    int ndim;
    int64_t v[GD_MAX_DIMS];
} shape_arg_t;
int gdpy_tensor_arg(PyObject *o, void *out);
int gdpy_dtype_arg(PyObject *o, void *out);
int gdpy_op_arg(PyObject *o, void *out);
int gdpy_decomposition_arg(PyObject *o, void *out); /* an int gd_decomposition */
int gdpy_shape_arg(PyObject *o, void *out);

/* An operand of a binary op: a tensor or a Python number. */
typedef struct {
    gd_tensor *t;    /* tensor operand (borrowed or owned) */
    bool owned;      /* t must be released */
    bool unsigned64; /* a Python int in [2^63, 2^64): ivalue wrapped, fvalue exact */
    int priority;    /* 2: tensor with dims, 1: 0-d tensor, 0: Python number */
    gd_dtype dtype;  /* tensor dtype, or the number's category default */
    double fvalue;
    int64_t ivalue;
    /* A Python number materialised as a 0-d tensor without heap allocation. */
    gd_storage stack_storage;
    gd_tensor stack_tensor;
    double stack_data;
} gdpy_operand;

/* t[...] = value into the view dst: PyTorch's refusals of a destination with
 * overlapping elements, of ints beyond int64 (ValueError) and of numbers the
 * integer dtype cannot hold (RuntimeError). 0 or -1 with an error set. */
int gdpy_check_assign(const gd_tensor *dst, PyObject *value);
/* 1: parsed, 0: not an operand type (NotImplemented), -1: error set. */
int gdpy_operand_parse(PyObject *o, gdpy_operand *op);
void gdpy_operand_release(gdpy_operand *op);
/* PyTorch's result_type over operands of different priorities. */
gd_dtype gdpy_result_type(const gdpy_operand *ops, int n);
/* The args of a binary op on two operands: the promoted dtype, the node's
 * name, and PyTorch's refusals (bool subtraction, ints to negative powers). */
int gdpy_binary_args(gd_op *op, const gdpy_operand *ops, gd_op_args *args);
/* The operand as a tensor: Python numbers become a 0-d tensor of `dtype`. */
gd_tensor *gdpy_operand_tensor(gdpy_operand *op, gd_dtype dtype);

/* generator.c: readies gdlite.Generator and adds it and default_generator. */
int gdpy_generator_module_init(PyObject *mod);
/* Converter for `generator=`: None gives the default generator; the result
 * is borrowed from the argument (draw with the GIL held). */
int gdpy_generator_arg(PyObject *o, void *out);

#endif
