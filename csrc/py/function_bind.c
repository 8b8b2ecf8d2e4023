/* The graph node of a gdlite.autograd.Function: a core custom node whose
 * callback calls back into Python (ctx._run_backward) with the GIL held.
 * gdlite/autograd/function.py does the rest (ctx, checks, apply). */
#include "binding.h"

/* ctx._run_backward(grads, retain_graph, node) -> a tuple of one Tensor or None
 * per input, already checked by the Python side. */
static gd_status call_python_backward(void *context, gd_node *node, bool retain_graph,
                                      int n_outputs, gd_tensor *const *grads,
                                      int n_inputs, gd_tensor **grad_inputs) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *ctx = (PyObject *)context, *args = NULL, *r = NULL, *node_obj = NULL;
    gd_status st = GD_ERR_EXTERNAL;
    if (!(args = PyTuple_New(n_outputs)))
        goto done;
    for (int k = 0; k < n_outputs; k++) {
        PyObject *g = Py_NewRef(Py_None);
        if (grads[k]) {
            Py_DECREF(g);
            gd_tensor_incref(grads[k]);
            if (!(g = gdpy_wrap(grads[k])))
                goto done;
        }
        PyTuple_SET_ITEM(args, k, g);
    }
    if (!(node_obj = gdpy_wrap_node(node)))
        goto done;
    r = PyObject_CallMethod(ctx, "_run_backward", "OOO", args,
                            retain_graph ? Py_True : Py_False, node_obj);
    if (!r)
        goto done;
    if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != n_inputs) {
        PyErr_SetString(PyExc_RuntimeError,
                        "_run_backward must give one gradient per input");
        goto done;
    }
    for (int i = 0; i < n_inputs; i++) {
        PyObject *g = PyTuple_GET_ITEM(r, i);
        if (g == Py_None)
            continue;
        if (!gdpy_is_tensor(g)) {
            PyErr_SetString(PyExc_TypeError, "gradients must be Tensors or None");
            goto done;
        }
    }
    for (int i = 0; i < n_inputs; i++) {
        PyObject *g = PyTuple_GET_ITEM(r, i);
        if (g != Py_None) {
            grad_inputs[i] = gdpy_tensor(g);
            gd_tensor_incref(grad_inputs[i]);
        }
    }
    st = GD_OK;
done:
    Py_XDECREF(args);
    Py_XDECREF(r);
    Py_XDECREF(node_obj);
    PyGILState_Release(gil);
    return st;
}

static void release_python_context(void *context) {
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_DECREF((PyObject *)context);
    PyGILState_Release(gil);
}

bool gdpy_is_function_node(const gd_node *node) {
    return gd_custom_node_context(node) != NULL;
}

/* _function_node(name, inputs, n_outputs, ctx) -> Node */
static PyObject *fn_function_node(PyObject *mod, PyObject *args) {
    (void)mod;
    const char *name;
    PyObject *inputs_obj, *ctx, *result = NULL;
    int n_outputs;
    gdpy_tensor_list inputs = {NULL, 0};
    gd_node *node = NULL;
    if (!PyArg_ParseTuple(args, "sOiO", &name, &inputs_obj, &n_outputs, &ctx) ||
        gdpy_tensor_list_parse(inputs_obj, "_function_node", 1, 0, &inputs) < 0)
        goto done;
    Py_INCREF(ctx); /* the node owns it; released by release_python_context */
    gd_status st =
        gd_custom_node_new(name, inputs.n, inputs.v, n_outputs, call_python_backward,
                           release_python_context, ctx, &node);
    if (st) {
        gdpy_raise(st);
        goto done;
    }
    result = gdpy_wrap_node(node);
done:
    gd_node_decref(node);
    gdpy_tensor_list_release(&inputs);
    return result;
}

/* _function_set_output(node, output_nr, tensor, dirty=False): a dirty
 * tensor (changed in place by forward) counts one more write, as in torch */
static PyObject *fn_function_set_output(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *node_obj, *t;
    int nr, dirty = 0;
    if (!PyArg_ParseTuple(args, "O!iO|p", &gdpy_Node_Type, &node_obj, &nr, &t, &dirty))
        return NULL;
    if (!gdpy_is_tensor(t)) {
        PyErr_SetString(PyExc_TypeError, "expected a Tensor");
        return NULL;
    }
    gd_status st =
        gd_custom_node_set_output(gdpy_node_of(node_obj), nr, gdpy_tensor(t));
    if (st)
        return gdpy_raise(st);
    if (dirty)
        gd_bump_version(gdpy_tensor(t));
    Py_RETURN_NONE;
}

/* ---- anomaly detection -------------------------------------------------- */

/* The Python stack where a node is made (anomaly_mode._forward_trace). */
static void *capture_trace(void) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *exc_type, *exc, *tb, *mod = NULL, *text = NULL;
    PyErr_Fetch(&exc_type, &exc, &tb);
    if ((mod = PyImport_ImportModule("gdlite.autograd.anomaly_mode")))
        text = PyObject_CallMethod(mod, "_forward_trace", NULL);
    if (text && !PyUnicode_Check(text))
        Py_CLEAR(text);
    PyErr_Clear(); /* no trace is no reason to fail the op */
    Py_XDECREF(mod);
    PyErr_Restore(exc_type, exc, tb);
    PyGILState_Release(gil);
    return text;
}

/* PyTorch's warning for a failed node, keeping the error that is on its way */
static void report_trace(void *trace, const char *node) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *exc_type, *exc, *tb;
    PyErr_Fetch(&exc_type, &exc, &tb);
    PyObject *msg = PyUnicode_FromFormat(
        "Error detected in %s. Traceback of forward call that caused the error:\n%U",
        node, (PyObject *)trace);
    if (!msg || PyErr_WarnEx(PyExc_UserWarning, PyUnicode_AsUTF8(msg), 1) < 0)
        PyErr_Clear();
    Py_XDECREF(msg);
    PyErr_Restore(exc_type, exc, tb);
    PyGILState_Release(gil);
}

static void release_trace(void *trace) {
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_DECREF((PyObject *)trace);
    PyGILState_Release(gil);
}

/* set_anomaly_enabled(enabled, check_nan=True) */
static PyObject *fn_set_anomaly_enabled(PyObject *mod, PyObject *args) {
    (void)mod;
    int enabled, check_nan = 1;
    if (!PyArg_ParseTuple(args, "p|p", &enabled, &check_nan))
        return NULL;
    static const gd_anomaly_hooks hooks = {capture_trace, report_trace, release_trace};
    gd_set_anomaly_hooks(&hooks);
    gd_set_anomaly_enabled(enabled, check_nan);
    Py_RETURN_NONE;
}

static PyObject *fn_is_anomaly_enabled(PyObject *mod, PyObject *unused) {
    (void)mod;
    (void)unused;
    return PyBool_FromLong(gd_anomaly_enabled());
}

static PyObject *fn_is_anomaly_check_nan_enabled(PyObject *mod, PyObject *unused) {
    (void)mod;
    (void)unused;
    return PyBool_FromLong(gd_anomaly_check_nan());
}

PyMethodDef gdpy_function_functions[] = {
    {"_function_node", fn_function_node, METH_VARARGS,
     "_function_node(name, inputs, n_outputs, ctx): the node of an "
     "autograd.Function call"},
    {"_function_set_output", fn_function_set_output, METH_VARARGS,
     "_function_set_output(node, output_nr, tensor, dirty=False): tensor becomes "
     "that output"},
    {"set_anomaly_enabled", fn_set_anomaly_enabled, METH_VARARGS,
     "set_anomaly_enabled(enabled, check_nan=True): anomaly detection on or off"},
    {"is_anomaly_enabled", fn_is_anomaly_enabled, METH_NOARGS,
     "Is anomaly detection on?"},
    {"is_anomaly_check_nan_enabled", fn_is_anomaly_check_nan_enabled, METH_NOARGS,
     "Does anomaly detection check gradients for NaN?"},
    {NULL, NULL, 0, NULL},
};
