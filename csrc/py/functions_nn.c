/* The _C functions behind gdlite.nn.functional's softmax and losses: parse
 * positional arguments (the keyword signatures live in Python), run the core
 * op, raise or wrap. Optional tensors are passed as None. */
#include "binding.h"

/* None, or a tensor (borrowed). */
static int optional_tensor_arg(PyObject *o, void *out) {
    if (o == Py_None) {
        *(gd_tensor **)out = NULL;
        return 1;
    }
    return gdpy_tensor_arg(o, out);
}

static PyObject *fn_softmax(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[1];
    long long dim;
    int log;
    if (!PyArg_ParseTuple(args, "O&Lp", gdpy_tensor_arg, &in[0], &dim, &log))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = dim;
    return gdpy_call_result(log ? GD_OP_LOG_SOFTMAX : GD_OP_SOFTMAX, 1, in, &a);
}

static PyObject *fn_nll_loss(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[3];
    int reduction;
    long long ignore_index;
    if (!PyArg_ParseTuple(args, "O&O&O&iL", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[1], optional_tensor_arg, &in[2], &reduction,
                          &ignore_index))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = reduction;
    a.i[1] = ignore_index;
    return gdpy_call_result(GD_OP_NLL_LOSS, in[2] ? 3 : 2, in, &a);
}

static PyObject *fn_pointwise_loss(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_op op;
    gd_tensor *in[2];
    gd_op_args a;
    int reduction;
    gd_op_args_init(&a);
    if (!PyArg_ParseTuple(args, "O&O&O&id", gdpy_op_arg, &op, gdpy_tensor_arg, &in[0],
                          gdpy_tensor_arg, &in[1], &reduction, &a.param))
        return NULL;
    if (op != GD_OP_MSE_LOSS && op != GD_OP_HUBER_LOSS && op != GD_OP_SMOOTH_L1_LOSS)
        return gdpy_raise(
            gd_error(GD_ERR_VALUE, "%s is no pointwise loss", gd_op_name(op)));
    a.i[0] = reduction;
    return gdpy_call_result(op, 2, in, &a);
}

static PyObject *fn_binary_cross_entropy(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[3];
    int reduction;
    if (!PyArg_ParseTuple(args, "O&O&O&i", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[1], optional_tensor_arg, &in[2], &reduction))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = reduction;
    return gdpy_call_result(GD_OP_BINARY_CROSS_ENTROPY, 3, in, &a);
}

static PyObject *fn_bce_with_logits(PyObject *mod, PyObject *args) {
    (void)mod;
    gd_tensor *in[4];
    int reduction;
    if (!PyArg_ParseTuple(args, "O&O&O&O&i", gdpy_tensor_arg, &in[0], gdpy_tensor_arg,
                          &in[1], optional_tensor_arg, &in[2], optional_tensor_arg,
                          &in[3], &reduction))
        return NULL;
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = reduction;
    return gdpy_call_result(GD_OP_BCE_WITH_LOGITS, 4, in, &a);
}

PyMethodDef gdpy_nn_functions[] = {
    {"softmax", fn_softmax, METH_VARARGS,
     "softmax(a, dim, log): (log_)softmax along dim"},
    {"nll_loss", fn_nll_loss, METH_VARARGS,
     "nll_loss(input, target, weight|None, reduction, ignore_index)"},
    {"pointwise_loss", fn_pointwise_loss, METH_VARARGS,
     "pointwise_loss(op, input, target, reduction, param): mse/huber/smooth_l1"},
    {"binary_cross_entropy", fn_binary_cross_entropy, METH_VARARGS,
     "binary_cross_entropy(input, target, weight|None, reduction)"},
    {"binary_cross_entropy_with_logits", fn_bce_with_logits, METH_VARARGS,
     "binary_cross_entropy_with_logits(input, target, weight|None, pos_weight|None, "
     "reduction)"},
    {NULL, NULL, 0, NULL},
};
