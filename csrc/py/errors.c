/* Core status codes to Python exceptions, with PyTorch's exception types. */
#include "binding.h"

PyObject *gdpy_raise(gd_status st) {
    PyObject *type;
    if (st == GD_ERR_EXTERNAL) {
        /* A Python callback (a hook) failed: keep its exception. The core
         * recorded no message for it, so never surface an older one. */
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError,
                            "a Python callback failed without setting an exception");
        return NULL;
    }
    switch (st) {
    case GD_ERR_INDEX:
        type = PyExc_IndexError;
        break;
    case GD_ERR_VALUE:
        type = PyExc_ValueError;
        break;
    case GD_ERR_TYPE:
        type = PyExc_TypeError;
        break;
    case GD_ERR_NOMEM:
        type = PyExc_MemoryError;
        break;
    case GD_ERR_NOTIMPL:
        type = PyExc_NotImplementedError;
        break;
    default:
        type = PyExc_RuntimeError;
    }
    PyErr_SetString(type, gd_last_error());
    return NULL;
}

int gdpy_raise_int(gd_status st) {
    gdpy_raise(st);
    return -1;
}
