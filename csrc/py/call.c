/* The path of every core call from the binding: run the op (recording it
 * when gradients are needed), then raise the core's error or wrap the result
 * in a gdlite.Tensor. */
#include "binding.h"

PyObject *gdpy_result(gd_status st, gd_tensor **out) {
    /* Takes `out` by address: reading it after the call that fills it. */
    return st ? gdpy_raise(st) : gdpy_wrap(*out);
}

PyObject *gdpy_wrap(gd_tensor *t) {
    if (!t)
        return NULL;
    PyTypeObject *cls = gdpy.tensor_class ? gdpy.tensor_class : &gdpy_TensorBase_Type;
    TensorObject *obj = (TensorObject *)cls->tp_alloc(cls, 0);
    if (!obj) {
        gd_tensor_decref(t);
        return NULL;
    }
    obj->t = t;
    if (!t->handle)
        t->handle = obj;
    return (PyObject *)obj;
}

PyObject *gdpy_wrap_existing(gd_tensor *t) {
    if (t->handle)
        return Py_NewRef((PyObject *)t->handle);
    gd_tensor_incref(t);
    return gdpy_wrap(t);
}

PyObject *gdpy_call_result(gd_op op, int n, gd_tensor *const *in,
                           const gd_op_args *args) {
    gd_tensor *outs[2] = {NULL, NULL};
    return gdpy_result(gd_call(op, n, in, args, outs), &outs[0]);
}
