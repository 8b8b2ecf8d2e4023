/* The optimizers' _C calls: one per algorithm, each one step of a whole
 * parameter group. The binding gathers the parameters that have a gradient
 * and their state tensors from the optimizer's `state` dict (creating them
 * on a parameter's first step, in torch's key order), then the core updates
 * everything in one pass (csrc/core/optim.c). */
#include "binding.h"

#define MAX_STATES 4

/* How a state entry starts. */
typedef enum {
    STATE_LIKE,    /* the parameter's shape and dtype, filled with `init` */
    STATE_COUNTER, /* 0-d, the scalar dtype, holding `init` (step, mu_product) */
    STATE_FRESH,   /* SGD's momentum_buffer: absent or None until a first step
                      fills it with the gradient (zeros until then, should the
                      step fail) */
} state_kind;

typedef struct {
    const char *key;
    state_kind kind;
    double init;
    bool used; /* the group's options need it */
} state_spec;

/* The parameters with a gradient and their state, as owned references. */
typedef struct {
    int n;
    gd_tensor **params, **grads;
    gd_tensor **states[MAX_STATES]; /* by spec; NULL for an unused spec */
    bool *fresh;
    void *block; /* the one allocation behind the arrays */
} group_t;

static void group_release(group_t *g, int nspecs) {
    for (int i = 0; i < g->n; i++) {
        gd_tensor_decref(g->params[i]);
        gd_tensor_decref(g->grads[i]);
        for (int k = 0; k < nspecs; k++)
            if (g->states[k])
                gd_tensor_decref(g->states[k][i]);
    }
    PyMem_Free(g->block);
    g->block = NULL;
    g->n = 0;
}

/* A new state tensor for `param` as the spec says, stored in the parameter's
 * state dict under `key`; *out is an owned reference. 0 or -1. */
static int create_state(PyObject *pstate, const state_spec *spec, PyObject *key,
                        const gd_tensor *param, gd_dtype scalar_dtype,
                        gd_tensor **out) {
    gd_tensor *t = NULL;
    gd_status st;
    *out = NULL;
    static const int64_t no_dims[1] = {0}; /* a 0-d shape, never read */
    if (spec->kind == STATE_COUNTER)
        st = gd_full(scalar_dtype, 0, no_dims, spec->init, &t);
    else if (spec->kind == STATE_FRESH)
        st = gd_zeros(param->dtype, param->ndim, param->shape, &t);
    else
        st = gd_full(param->dtype, param->ndim, param->shape, spec->init, &t);
    if (st)
        return gdpy_raise_int(st);
    gd_tensor_incref(t);
    PyObject *obj = gdpy_wrap(t); /* steals one reference */
    if (!obj || PyDict_SetItem(pstate, key, obj) < 0) {
        Py_XDECREF(obj);
        gd_tensor_decref(t);
        return -1;
    }
    Py_DECREF(obj);
    *out = t;
    return 0;
}

/* The state dict of one parameter, created when missing (state is a
 * defaultdict(dict) in Python; this is what indexing it does). Borrowed. */
static PyObject *param_state(PyObject *state, PyObject *param) {
    PyObject *d = PyDict_GetItemWithError(state, param);
    if (d || PyErr_Occurred())
        return d;
    if (!(d = PyDict_New()))
        return NULL;
    int rc = PyDict_SetItem(state, param, d);
    Py_DECREF(d); /* the state dict holds it */
    return rc < 0 ? NULL : d;
}

/* Fills *g from the group's parameter list and the optimizer's state dict:
 * parameters whose grad is None are left out, as torch does. 0 or -1. */
static int gather(PyObject *params_obj, PyObject *state, int nspecs,
                  const state_spec *specs, gd_dtype scalar_dtype, group_t *g) {
    PyObject *fast = NULL, *keys[MAX_STATES] = {NULL};
    int rc = -1;
    bool any_state = false;
    memset(g, 0, sizeof *g);
    for (int k = 0; k < nspecs; k++)
        any_state = any_state || specs[k].used;
    /* The keys as str objects once per call, not once per lookup. */
    for (int k = 0; k < nspecs; k++)
        if (!(keys[k] = PyUnicode_InternFromString(specs[k].key)))
            goto done;
    if (any_state && !PyDict_Check(state)) {
        PyErr_Format(PyExc_TypeError, "optimizer state must be a dict, not %.200s",
                     Py_TYPE(state)->tp_name);
        goto done;
    }
    if (!(fast = PySequence_Fast(params_obj, "params must be a list of Tensors")))
        goto done;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > INT_MAX / 8) {
        PyErr_SetString(PyExc_ValueError, "too many parameters in one group");
        goto done;
    }
    size_t cap = (size_t)(len ? len : 1);
    size_t nptr = cap * (size_t)(2 + nspecs);
    if (!(g->block =
              PyMem_Calloc(1, nptr * sizeof(gd_tensor *) + cap * sizeof(bool)))) {
        PyErr_NoMemory();
        goto done;
    }
    gd_tensor **ptrs = g->block;
    g->params = ptrs;
    g->grads = ptrs + cap;
    for (int k = 0; k < nspecs; k++)
        g->states[k] = specs[k].used ? ptrs + cap * (size_t)(2 + k) : NULL;
    g->fresh = (bool *)(ptrs + nptr);
    for (Py_ssize_t j = 0; j < len; j++) {
        PyObject *o = PySequence_Fast_GET_ITEM(fast, j);
        if (!gdpy_is_tensor(o)) {
            PyErr_Format(PyExc_TypeError,
                         "optimizer can only optimize Tensors, but one of the params "
                         "is %.200s",
                         Py_TYPE(o)->tp_name);
            goto done;
        }
        gd_tensor *p = gdpy_tensor(o), *grad = gd_get_grad(p);
        if (!grad)
            continue;
        int i = g->n;
        /* Counted first: group_release then frees whatever this entry holds. */
        g->params[i] = p;
        gd_tensor_incref(p);
        g->grads[i] = grad;
        gd_tensor_incref(grad);
        g->n++;
        if (!any_state)
            continue;
        PyObject *pstate = param_state(state, o);
        if (!pstate)
            goto done;
        if (!PyDict_Check(pstate)) {
            PyErr_Format(PyExc_TypeError, "optimizer state must hold dicts, not %.200s",
                         Py_TYPE(pstate)->tp_name);
            goto done;
        }
        bool empty = PyDict_GET_SIZE(pstate) == 0;
        for (int k = 0; k < nspecs; k++) {
            const state_spec *spec = &specs[k];
            if (!spec->used)
                continue;
            PyObject *v = empty ? NULL : PyDict_GetItemWithError(pstate, keys[k]);
            if (!v && PyErr_Occurred())
                goto done;
            if (spec->kind == STATE_FRESH && v == Py_None)
                v = NULL;
            if (!v && (empty || spec->kind == STATE_FRESH)) {
                if (create_state(pstate, spec, keys[k], p, scalar_dtype,
                                 &g->states[k][i]) < 0)
                    goto done;
                g->fresh[i] = spec->kind == STATE_FRESH;
                continue;
            }
            if (!v) {
                PyErr_SetString(PyExc_KeyError, spec->key);
                goto done;
            }
            if (!gdpy_is_tensor(v)) {
                PyErr_Format(PyExc_TypeError,
                             "optimizer state '%s' must be a Tensor, not %.200s",
                             spec->key, Py_TYPE(v)->tp_name);
                goto done;
            }
            g->states[k][i] = gdpy_tensor(v);
            gd_tensor_incref(g->states[k][i]);
        }
    }
    rc = 0;
done:
    Py_XDECREF(fast);
    for (int k = 0; k < nspecs; k++)
        Py_XDECREF(keys[k]);
    return rc;
}

/* The state column of spec k (NULL when unused). */
#define COL(g, k) ((gd_tensor *const *)(g).states[k])

/* Releases the group; raises for a failed core call (GD_ERR_EXTERNAL: the
 * Python error is already set), else returns None. */
static PyObject *finish(gd_status st, group_t *g, int nspecs) {
    group_release(g, nspecs);
    if (st == GD_ERR_EXTERNAL)
        return NULL;
    if (st)
        return gdpy_raise(st);
    Py_RETURN_NONE;
}

/* sgd(params, state, lr, momentum, dampening, weight_decay, nesterov, maximize) */
static PyObject *fn_sgd(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_sgd_options o;
    int nesterov, maximize;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOddddpp", &params, &state, &o.lr, &o.momentum,
                          &o.dampening, &o.weight_decay, &nesterov, &maximize))
        return NULL;
    o.nesterov = nesterov;
    o.maximize = maximize;
    state_spec specs[] = {{"momentum_buffer", STATE_FRESH, 0, o.momentum != 0}};
    if (gather(params, state, 1, specs, GD_FLOAT32, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 1);
    return finish(gd_sgd_step(g.n, g.params, g.grads, COL(g, 0), g.fresh, &o), &g, 1);
}

/* adagrad(params, state, lr, lr_decay, weight_decay, eps, maximize,
 *         initial_accumulator_value, step_dtype) */
static PyObject *fn_adagrad(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_adagrad_options o;
    int maximize;
    double init;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOddddpdO&", &params, &state, &o.lr, &o.lr_decay,
                          &o.weight_decay, &o.eps, &maximize, &init, gdpy_dtype_arg,
                          &scalar))
        return NULL;
    o.maximize = maximize;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"sum", STATE_LIKE, init, true}};
    if (gather(params, state, 2, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 2);
    return finish(gd_adagrad_step(g.n, g.params, g.grads, COL(g, 1), COL(g, 0), &o), &g,
                  2);
}

/* rmsprop(params, state, lr, alpha, eps, weight_decay, momentum, centered,
 *         maximize, step_dtype) */
static PyObject *fn_rmsprop(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_rmsprop_options o;
    int centered, maximize;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOdddddppO&", &params, &state, &o.lr, &o.alpha, &o.eps,
                          &o.weight_decay, &o.momentum, &centered, &maximize,
                          gdpy_dtype_arg, &scalar))
        return NULL;
    o.centered = centered;
    o.maximize = maximize;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"square_avg", STATE_LIKE, 0, true},
                          {"momentum_buffer", STATE_LIKE, 0, o.momentum > 0},
                          {"grad_avg", STATE_LIKE, 0, o.centered}};
    if (gather(params, state, 4, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 4);
    return finish(gd_rmsprop_step(g.n, g.params, g.grads, COL(g, 1), COL(g, 2),
                                  COL(g, 3), COL(g, 0), &o),
                  &g, 4);
}

/* adam(params, state, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
 *      decoupled_weight_decay, step_dtype): Adam and AdamW */
static PyObject *fn_adam(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_adam_options o;
    int amsgrad, maximize, decoupled;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOdddddpppO&", &params, &state, &o.lr, &o.beta1,
                          &o.beta2, &o.eps, &o.weight_decay, &amsgrad, &maximize,
                          &decoupled, gdpy_dtype_arg, &scalar))
        return NULL;
    o.amsgrad = amsgrad;
    o.maximize = maximize;
    o.decoupled_weight_decay = decoupled;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"exp_avg", STATE_LIKE, 0, true},
                          {"exp_avg_sq", STATE_LIKE, 0, true},
                          {"max_exp_avg_sq", STATE_LIKE, 0, o.amsgrad}};
    if (gather(params, state, 4, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 4);
    return finish(gd_adam_step(g.n, g.params, g.grads, COL(g, 1), COL(g, 2), COL(g, 3),
                               COL(g, 0), &o),
                  &g, 4);
}

/* adadelta(params, state, lr, rho, eps, weight_decay, maximize, step_dtype) */
static PyObject *fn_adadelta(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_adadelta_options o;
    int maximize;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOddddpO&", &params, &state, &o.lr, &o.rho, &o.eps,
                          &o.weight_decay, &maximize, gdpy_dtype_arg, &scalar))
        return NULL;
    o.maximize = maximize;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"square_avg", STATE_LIKE, 0, true},
                          {"acc_delta", STATE_LIKE, 0, true}};
    if (gather(params, state, 3, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 3);
    return finish(
        gd_adadelta_step(g.n, g.params, g.grads, COL(g, 1), COL(g, 2), COL(g, 0), &o),
        &g, 3);
}

/* nadam(params, state, lr, beta1, beta2, eps, weight_decay, momentum_decay,
 *       decoupled_weight_decay, maximize, step_dtype) */
static PyObject *fn_nadam(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_nadam_options o;
    int decoupled, maximize;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOddddddppO&", &params, &state, &o.lr, &o.beta1,
                          &o.beta2, &o.eps, &o.weight_decay, &o.momentum_decay,
                          &decoupled, &maximize, gdpy_dtype_arg, &scalar))
        return NULL;
    o.decoupled_weight_decay = decoupled;
    o.maximize = maximize;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"mu_product", STATE_COUNTER, 1, true},
                          {"exp_avg", STATE_LIKE, 0, true},
                          {"exp_avg_sq", STATE_LIKE, 0, true}};
    if (gather(params, state, 4, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 4);
    return finish(gd_nadam_step(g.n, g.params, g.grads, COL(g, 2), COL(g, 3), COL(g, 1),
                                COL(g, 0), &o),
                  &g, 4);
}

/* adamax(params, state, lr, beta1, beta2, eps, weight_decay, maximize, step_dtype) */
static PyObject *fn_adamax(PyObject *mod, PyObject *args) {
    (void)mod;
    PyObject *params, *state;
    gd_adamax_options o;
    int maximize;
    gd_dtype scalar;
    group_t g;
    if (!PyArg_ParseTuple(args, "OOdddddpO&", &params, &state, &o.lr, &o.beta1,
                          &o.beta2, &o.eps, &o.weight_decay, &maximize, gdpy_dtype_arg,
                          &scalar))
        return NULL;
    o.maximize = maximize;
    state_spec specs[] = {{"step", STATE_COUNTER, 0, true},
                          {"exp_avg", STATE_LIKE, 0, true},
                          {"exp_inf", STATE_LIKE, 0, true}};
    if (gather(params, state, 3, specs, scalar, &g) < 0)
        return finish(GD_ERR_EXTERNAL, &g, 3);
    return finish(
        gd_adamax_step(g.n, g.params, g.grads, COL(g, 1), COL(g, 2), COL(g, 0), &o), &g,
        3);
}

PyMethodDef gdpy_optim_functions[] = {
    {"sgd", fn_sgd, METH_VARARGS,
     "sgd(params, state, lr, momentum, dampening, weight_decay, nesterov, maximize)"},
    {"adagrad", fn_adagrad, METH_VARARGS,
     "adagrad(params, state, lr, lr_decay, weight_decay, eps, maximize, "
     "initial_accumulator_value, step_dtype)"},
    {"rmsprop", fn_rmsprop, METH_VARARGS,
     "rmsprop(params, state, lr, alpha, eps, weight_decay, momentum, centered, "
     "maximize, step_dtype)"},
    {"adam", fn_adam, METH_VARARGS,
     "adam(params, state, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, "
     "decoupled_weight_decay, step_dtype)"},
    {"adadelta", fn_adadelta, METH_VARARGS,
     "adadelta(params, state, lr, rho, eps, weight_decay, maximize, step_dtype)"},
    {"nadam", fn_nadam, METH_VARARGS,
     "nadam(params, state, lr, beta1, beta2, eps, weight_decay, momentum_decay, "
     "decoupled_weight_decay, maximize, step_dtype)"},
    {"adamax", fn_adamax, METH_VARARGS,
     "adamax(params, state, lr, beta1, beta2, eps, weight_decay, maximize, "
     "step_dtype)"},
    {NULL, NULL, 0, NULL},
};
