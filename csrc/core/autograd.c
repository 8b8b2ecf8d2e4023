/* The autograd graph: grad mode, recording nodes as ops run, in-place
 * history and saved tensors. Hooks are in hooks.c, the backward engine in
 * engine.c, the rules themselves in backward.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local bool grad_disabled; /* zero-initialised: grad mode on */
static _Thread_local uint64_t next_seq;

bool gd_grad_enabled(void) {
    return !grad_disabled;
}

void gd_set_grad_enabled(bool enabled) {
    grad_disabled = !enabled;
}

void gd_op_args_init(gd_op_args *args) {
    memset(args, 0, sizeof *args);
    args->ndims = -1;
}

/* ---- per-tensor state --------------------------------------------------- */

gd_status gd_autograd_meta_get(gd_tensor *t, gd_autograd_meta **out) {
    if (!t->autograd) {
        t->autograd = calloc(1, sizeof *t->autograd);
        if (!t->autograd)
            return gd_error(GD_ERR_NOMEM, "out of memory");
    }
    *out = t->autograd;
    return GD_OK;
}

void gd_autograd_meta_free(gd_autograd_meta *meta) {
    if (!meta)
        return;
    gd_tensor_decref(meta->grad);
    gd_node_decref(meta->grad_fn);
    gd_hook *hooks = meta->hooks;
    meta->hooks = NULL;
    gd_hooks_free(hooks);
    free(meta);
}

bool gd_requires_grad(const gd_tensor *t) {
    return t->autograd && (t->autograd->requires_grad || t->autograd->grad_fn);
}

bool gd_is_leaf(const gd_tensor *t) {
    return !t->autograd || !t->autograd->grad_fn;
}

gd_node *gd_grad_fn(const gd_tensor *t) {
    return t->autograd ? t->autograd->grad_fn : NULL;
}

gd_status gd_set_requires_grad(gd_tensor *t, bool flag) {
    GD_CHECK(
        gd_is_leaf(t) || flag, GD_ERR_RUNTIME,
        "you can only change requires_grad flags of leaf variables. If you want to "
        "use a computed variable in a subgraph that doesn't require differentiation "
        "use var_no_grad = var.detach().");
    if (!gd_is_leaf(t))
        return GD_OK;
    GD_CHECK(!flag || gd_dtype_is_floating(t->dtype), GD_ERR_RUNTIME,
             "only Tensors of floating point dtype can require gradients");
    if (!flag && !t->autograd)
        return GD_OK;
    gd_autograd_meta *meta = NULL;
    gd_status st = gd_autograd_meta_get(t, &meta);
    if (!st)
        meta->requires_grad = flag;
    return st;
}

gd_tensor *gd_get_grad(const gd_tensor *t) {
    return t->autograd ? t->autograd->grad : NULL;
}

/* The C++ type name PyTorch prints for a gradient's dtype. */
static const char *cpp_type_name(gd_dtype dtype) {
    static const char *const names[GD_DTYPE_COUNT] = {"bool", "int", "long int",
                                                      "float", "double"};
    return names[dtype];
}

gd_status gd_set_grad(gd_tensor *t, gd_tensor *grad) {
    gd_autograd_meta *meta = NULL;
    gd_node *fn = gd_grad_fn(t);
    if (grad) {
        char have[256], want[256];
        GD_CHECK(grad != t, GD_ERR_RUNTIME, "can't assign Variable as its own grad");
        GD_CHECK(grad->dtype == t->dtype, GD_ERR_RUNTIME,
                 "attempting to assign a gradient with dtype '%s' to a tensor with "
                 "grad_dtype '%s'. The gradient must match the tensor's grad_dtype "
                 "(defaults to the tensor's dtype). You can set the tensor's "
                 "grad_dtype attribute with a specific dtype, or None to allow any "
                 "dtype. Set grad_dtype with caution. Diverging the dtypes of a "
                 "tensor and its gradient may break downstream systems that assume "
                 "they match.",
                 cpp_type_name(grad->dtype), gd_dtype_scalar_name(t->dtype));
        GD_CHECK(grad->ndim == t->ndim &&
                     memcmp(grad->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim) ==
                         0,
                 GD_ERR_RUNTIME,
                 "attempting to assign a gradient of size '%s' to a tensor of size "
                 "'%s'. Please ensure that the gradient and the tensor are the same "
                 "size",
                 gd_format_shape(have, sizeof have, grad->ndim, grad->shape),
                 gd_format_shape(want, sizeof want, t->ndim, t->shape));
    }
    if (fn) { /* a non-leaf's grad is the one retain_grad() keeps */
        gd_node_set_retained_grad(fn, grad);
        return GD_OK;
    }
    if (!grad && !t->autograd)
        return GD_OK;
    gd_status st = gd_autograd_meta_get(t, &meta);
    if (st)
        return st;
    if (grad)
        gd_tensor_incref(grad);
    gd_tensor *old = meta->grad;
    meta->grad = grad;
    gd_tensor_decref(old);
    return GD_OK;
}

gd_status gd_detach_(gd_tensor *t) {
    if (!t->autograd)
        return GD_OK;
    /* The view would stop sharing its base's history while sharing its data. */
    GD_CHECK(!t->autograd->is_view, GD_ERR_RUNTIME,
             "Can't detach views in-place. Use detach() instead. If you are using "
             "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view "
             "is set as True, gradients are views of DDP buckets, and hence detach_() "
             "cannot be called on these gradients. To fix this error, please refer to "
             "the Optimizer.zero_grad() function in torch/optim/optimizer.py as the "
             "solution.");
    gd_node_decref(t->autograd->grad_fn);
    t->autograd->grad_fn = NULL;
    t->autograd->requires_grad = false;
    t->autograd->is_view = t->autograd->is_view_of_leaf = false;
    return GD_OK;
}

gd_status gd_set_data(gd_tensor *t, const gd_tensor *src) {
    gd_storage_incref(src->storage);
    gd_storage_decref(t->storage);
    t->storage = src->storage;
    t->dtype = src->dtype;
    t->ndim = src->ndim;
    t->numel = src->numel;
    t->offset = src->offset;
    memcpy(t->shape, src->shape, sizeof t->shape);
    memcpy(t->strides, src->strides, sizeof t->strides);
    return GD_OK;
}

/* ---- nodes -------------------------------------------------------------- */

static gd_status node_new(gd_op op, int n_inputs, gd_node **out) {
    gd_node *node = calloc(1, sizeof *node + sizeof(gd_input_meta) * (size_t)n_inputs);
    *out = node;
    if (!node)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    node->refcount = 1;
    node->op = op;
    node->name = gd_op_grad_fn_name(op);
    node->seq = next_seq++;
    node->n_inputs = n_inputs;
    gd_op_args_init(&node->args);
    return GD_OK;
}

void gd_node_release_saved(gd_node *node) {
    for (int i = 0; i < node->n_saved; i++) {
        gd_tensor_decref(node->saved[i].t);
        node->saved[i].t = NULL;
    }
    if (node->n_saved)
        node->saved_freed = true;
}

void gd_node_incref(gd_node *node) {
    node->refcount++;
}

void gd_node_decref(gd_node *node) {
    /* Chains of nodes are released with an explicit stack, not recursion:
     * a 100,000-op graph must not overflow the C stack. */
    gd_node *stack_local[64], **stack = stack_local;
    int64_t top = 0, cap = 64;
    if (!node)
        return;
    stack[top++] = node;
    while (top > 0) {
        gd_node *n = stack[--top];
        if (--n->refcount > 0)
            continue;
        for (int i = 0; i < n->n_inputs; i++) {
            gd_node *next = n->inputs[i].node;
            if (!next)
                continue;
            if (top == cap) {
                gd_node **bigger = malloc(sizeof *bigger * (size_t)cap * 2);
                if (!bigger) { /* cannot grow: release this branch recursively */
                    gd_node_decref(next);
                    continue;
                }
                memcpy(bigger, stack, sizeof *bigger * (size_t)top);
                if (stack != stack_local)
                    free(stack);
                stack = bigger;
                cap *= 2;
            }
            stack[top++] = next;
        }
        gd_node_release_saved(n);
        if (n->variable) {
            if (n->variable->autograd && n->variable->autograd->accumulator == n)
                n->variable->autograd->accumulator = NULL;
            gd_tensor_decref(n->variable);
        }
        gd_tensor_decref(n->retained_grad);
        gd_tensor_decref(n->buffer);
        gd_hook *hooks = n->hooks;
        n->hooks = NULL;
        gd_hooks_free(hooks);
        free(n);
    }
    if (stack != stack_local)
        free(stack);
}

const char *gd_node_name(const gd_node *node) {
    return node->name;
}

int gd_node_num_inputs(const gd_node *node) {
    return node->n_inputs;
}

gd_node *gd_node_next(const gd_node *node, int i) {
    return node->inputs[i].node;
}

gd_tensor *gd_node_variable(const gd_node *node) {
    return node->variable;
}

gd_tensor *gd_node_retained_grad(const gd_node *node) {
    return node->retained_grad;
}

void gd_node_retain_grad(gd_node *node) {
    node->retains_grad = true;
}

void gd_node_set_retained_grad(gd_node *node, gd_tensor *grad) {
    if (grad)
        gd_tensor_incref(grad);
    gd_tensor_decref(node->retained_grad);
    node->retained_grad = grad;
}

gd_status gd_grad_accumulator(gd_tensor *leaf, gd_node **out) {
    gd_autograd_meta *meta = NULL;
    *out = NULL;
    gd_status st = gd_autograd_meta_get(leaf, &meta);
    if (st)
        return st;
    if (meta->accumulator) {
        gd_node_incref(meta->accumulator);
        *out = meta->accumulator;
        return GD_OK;
    }
    if ((st = node_new(GD_OP_ACCUMULATE_GRAD, 0, out)))
        return st;
    (*out)->seq = UINT64_MAX; /* leaves accumulate as soon as they are ready */
    gd_tensor_incref(leaf);
    (*out)->variable = leaf;
    meta->accumulator = *out;
    return GD_OK;
}

/* ---- recording ---------------------------------------------------------- */

static gd_status forward(gd_op op, int n, gd_tensor *const *in, const gd_op_args *a,
                         gd_tensor **outs) {
    if (op <= GD_OP_LOGICAL_XOR)
        return gd_binary(op, in[0], in[1], a->dtype, &outs[0]);
    if (op >= GD_OP_NEG && op <= GD_OP_BITWISE_NOT)
        return gd_unary(op, in[0], &outs[0]);
    switch (op) {
    case GD_OP_CLAMP:
        return gd_clamp(in[0], a->has_min, a->min, a->has_max, a->max, &outs[0]);
    case GD_OP_WHERE:
        return gd_where(in[0], in[1], in[2], a->dtype, &outs[0]);
    case GD_OP_SUM:
    case GD_OP_MEAN:
    case GD_OP_PROD:
    case GD_OP_MAX:
    case GD_OP_MIN:
    case GD_OP_ARGMAX:
    case GD_OP_ARGMIN:
    case GD_OP_VAR:
    case GD_OP_STD:
    case GD_OP_NORM:
        return gd_reduce(op, in[0], a->ndims, a->dims, a->keepdim, a->param, &outs[0]);
    case GD_OP_MAX_DIM:
    case GD_OP_MIN_DIM:
        return gd_reduce_index(op == GD_OP_MAX_DIM ? GD_OP_MAX : GD_OP_MIN, in[0],
                               a->i[0], a->keepdim, &outs[0], &outs[1]);
    case GD_OP_MATMUL:
        return gd_matmul(in[0], in[1], &outs[0]);
    case GD_OP_VIEW: /* i[0] set: reshape, which copies when no view fits */
        return a->i[0] ? gd_reshape(in[0], a->ndims, a->dims, &outs[0])
                       : gd_view(in[0], a->ndims, a->dims, &outs[0]);
    case GD_OP_TRANSPOSE:
        return gd_transpose(in[0], a->i[0], a->i[1], &outs[0]);
    case GD_OP_PERMUTE:
        return gd_permute(in[0], a->ndims, a->dims, &outs[0]);
    case GD_OP_EXPAND:
        return gd_expand(in[0], a->ndims, a->dims, &outs[0]);
    case GD_OP_SQUEEZE:
        return gd_squeeze(in[0], a->ndims, a->dims, &outs[0]);
    case GD_OP_UNSQUEEZE:
        return gd_unsqueeze(in[0], a->i[0], &outs[0]);
    case GD_OP_SELECT:
        return gd_select(in[0], a->i[0], a->i[1], &outs[0]);
    case GD_OP_SLICE:
        return gd_slice(in[0], a->i[0], a->i[1], a->i[2], a->i[3], &outs[0]);
    case GD_OP_AS_STRIDED:
        return gd_as_strided(in[0], a->ndims, a->dims, a->strides, a->i[0], &outs[0]);
    case GD_OP_CAT:
        return gd_cat(n, in, a->i[0], &outs[0]);
    case GD_OP_STACK:
        return gd_stack(n, in, a->i[0], &outs[0]);
    case GD_OP_TAKE:
        return gd_take(in[0], in[1], &outs[0]);
    case GD_OP_TO_DTYPE:
        return gd_to_dtype(in[0], a->dtype, &outs[0]);
    case GD_OP_CLONE:
        return gd_clone(in[0], &outs[0]);
    default:
        return gd_error(GD_ERR_RUNTIME, "%s has no out-of-place form", gd_op_name(op));
    }
}

static bool is_view_op(gd_op op) {
    return op == GD_OP_TRANSPOSE || op == GD_OP_PERMUTE || op == GD_OP_EXPAND ||
           op == GD_OP_SQUEEZE || op == GD_OP_UNSQUEEZE || op == GD_OP_SELECT ||
           op == GD_OP_SLICE || op == GD_OP_AS_STRIDED || op == GD_OP_VIEW;
}

static gd_status save(gd_node *node, gd_tensor *t, bool is_output) {
    gd_saved *s = &node->saved[node->n_saved];
    gd_status st = GD_OK;
    if (t->on_stack)
        st = gd_clone(t, &s->t); /* the caller's stack memory goes away */
    else if (is_output)
        st = gd_alias(t, &s->t); /* never the output itself: no cycle */
    else {
        gd_tensor_incref(t);
        s->t = t;
    }
    if (st)
        return st;
    s->version = t->storage->version;
    s->producer = is_output ? node->name : (gd_grad_fn(t) ? gd_grad_fn(t)->name : NULL);
    s->is_output = is_output;
    node->n_saved++;
    return GD_OK;
}

/* What each rule needs besides shapes: inputs (by index) and the output. */
static gd_status save_for(gd_node *node, gd_tensor *const *in, gd_tensor **outs) {
    gd_status st = GD_OK;
    switch (node->op) {
    case GD_OP_MUL:
    case GD_OP_DIV:
    case GD_OP_REMAINDER:
    case GD_OP_MAXIMUM:
    case GD_OP_MINIMUM:
    case GD_OP_MATMUL:
        if (!(st = save(node, in[0], false)))
            st = save(node, in[1], false);
        break;
    case GD_OP_POW:
        if (!(st = save(node, in[0], false)) && !(st = save(node, in[1], false)))
            st = save(node, outs[0], true);
        break;
    case GD_OP_ABS:
    case GD_OP_LOG:
    case GD_OP_LOG1P:
    case GD_OP_SIN:
    case GD_OP_COS:
    case GD_OP_SINH:
    case GD_OP_COSH:
    case GD_OP_SQUARE:
    case GD_OP_CLAMP:
    case GD_OP_WHERE: /* the condition */
    case GD_OP_VAR:
        st = save(node, in[0], false);
        break;
    case GD_OP_EXP:
    case GD_OP_SQRT:
    case GD_OP_RECIPROCAL:
    case GD_OP_TAN:
    case GD_OP_TANH:
    case GD_OP_SIGMOID:
    case GD_OP_RELU:
        st = save(node, outs[0], true);
        break;
    case GD_OP_PROD:
    case GD_OP_MAX:
    case GD_OP_MIN:
    case GD_OP_STD:
    case GD_OP_NORM:
        if (!(st = save(node, in[0], false)))
            st = save(node, outs[0], true);
        break;
    case GD_OP_MAX_DIM:
    case GD_OP_MIN_DIM:
        st = save(node, outs[1], true); /* the indices */
        break;
    case GD_OP_TAKE:
    case GD_OP_PUT:
        st = save(node, in[1], false); /* the flat positions */
        break;
    default:
        break;
    }
    return st;
}

gd_status gd_edge_of(gd_tensor *t, gd_node **out) {
    *out = NULL;
    if (!gd_requires_grad(t))
        return GD_OK;
    if (t->autograd->grad_fn) {
        gd_node_incref(t->autograd->grad_fn);
        *out = t->autograd->grad_fn;
        return GD_OK;
    }
    return gd_grad_accumulator(t, out);
}

/* Records the node for outs[0] = op(in...). */
static gd_status record(gd_op op, int n, gd_tensor *const *in, const gd_op_args *args,
                        gd_tensor **outs) {
    gd_node *node;
    gd_autograd_meta *meta = NULL;
    int n_edges = args && args->n_edges > 0 && args->n_edges < n ? args->n_edges : n;
    gd_status st = node_new(op, n_edges, &node);
    if (st)
        return st;
    if (args) {
        node->args = *args;
        if (args->name)
            node->name = args->name;
    }
    for (int i = 0; i < n_edges && !st; i++) {
        gd_input_meta *m = &node->inputs[i];
        m->ndim = in[i]->ndim;
        memcpy(m->shape, in[i]->shape, sizeof(int64_t) * (size_t)in[i]->ndim);
        m->dtype = in[i]->dtype;
        st = gd_edge_of(in[i], &m->node);
    }
    if (!st)
        st = save_for(node, in, outs);
    if (!st)
        st = gd_autograd_meta_get(outs[0], &meta);
    if (st) {
        gd_node_decref(node);
        return st;
    }
    node->out_ndim = outs[0]->ndim;
    memcpy(node->out_shape, outs[0]->shape, sizeof node->out_shape);
    node->out_dtype = outs[0]->dtype;
    meta->grad_fn = node;
    if (is_view_op(op) && outs[0]->storage == in[0]->storage) {
        gd_autograd_meta *in_meta = in[0]->autograd;
        meta->is_view = true;
        meta->is_view_of_leaf =
            in_meta &&
            (gd_is_leaf(in[0]) ? in_meta->requires_grad : in_meta->is_view_of_leaf);
    }
    return GD_OK;
}

static bool needs_record(gd_op op, int n, gd_tensor *const *in) {
    if (!gd_grad_enabled() || !gd_backward_rule(op))
        return false;
    for (int i = 0; i < n; i++)
        if (gd_requires_grad(in[i]))
            return true;
    return false;
}

gd_status gd_call(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args,
                  gd_tensor **outs) {
    gd_op_args defaults;
    if (!args) {
        gd_op_args_init(&defaults);
        args = &defaults;
    }
    outs[0] = NULL;
    if (op == GD_OP_MAX_DIM || op == GD_OP_MIN_DIM)
        outs[1] = NULL;
    gd_status st = forward(op, n, inputs, args, outs);
    if (st || !needs_record(op, n, inputs) || !gd_dtype_is_floating(outs[0]->dtype))
        return st;
    if ((st = record(op, n, inputs, args, outs))) {
        gd_tensor_decref(outs[0]);
        outs[0] = NULL;
        if (op == GD_OP_MAX_DIM || op == GD_OP_MIN_DIM) {
            gd_tensor_decref(outs[1]);
            outs[1] = NULL;
        }
    }
    return st;
}

/* ---- in place ----------------------------------------------------------- */

static gd_status inplace_kernel(gd_op op, gd_tensor *const *in, const gd_op_args *a) {
    gd_tensor *dst = in[0];
    if (op <= GD_OP_LOGICAL_XOR)
        return gd_binary_(op, dst, in[1], a->dtype);
    if (op >= GD_OP_NEG && op <= GD_OP_BITWISE_NOT)
        return gd_unary_(op, dst);
    switch (op) {
    case GD_OP_CLAMP:
        return gd_clamp_(dst, a->has_min, a->min, a->has_max, a->max);
    case GD_OP_FILL:
        return gd_fill_(dst, a->param);
    case GD_OP_PUT:
        return gd_put_(dst, in[1], in[2]);
    case GD_OP_COPY:
        return gd_copy_(dst, in[1]);
    default:
        return gd_error(GD_ERR_RUNTIME, "%s has no in-place form", gd_op_name(op));
    }
}

/* The out-of-place result an in-place op writes into dst, for recording. */
static gd_status inplace_result(gd_op op, int n, gd_tensor *const *in,
                                const gd_op_args *a, gd_tensor **out) {
    gd_tensor *outs[2] = {NULL, NULL};
    gd_status st;
    *out = NULL;
    switch (op) {
    case GD_OP_FILL: {
        gd_tensor *t = NULL;
        if ((st = gd_full(in[0]->dtype, in[0]->ndim, in[0]->shape, a->param, &t)))
            return st;
        *out = t;
        return GD_OK;
    }
    case GD_OP_PUT:
    case GD_OP_COPY: {
        gd_tensor *t = NULL;
        if ((st = gd_clone(in[0], &t)))
            return st;
        st = op == GD_OP_PUT ? gd_put_(t, in[1], in[2]) : gd_copy_(t, in[1]);
        if (st)
            gd_tensor_decref(t);
        else
            *out = t;
        return st;
    }
    default:
        st = forward(op, n, in, a, outs);
        *out = outs[0];
        return st;
    }
}

gd_status gd_check_writable(const gd_tensor *t) {
    for (int d = 0; d < t->ndim && t->numel > 0; d++)
        GD_CHECK(
            t->strides[d] != 0 || t->shape[d] <= 1, GD_ERR_RUNTIME,
            "unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before "
            "performing the operation.");
    return GD_OK;
}

/* After an in-place op wrote its result into dst, the node's saved output
 * is dst itself: later in-place writes to dst must fail its version check. */
static gd_status save_dst_as_output(gd_node *node, gd_tensor *dst) {
    for (int i = 0; i < node->n_saved; i++) {
        gd_saved *s = &node->saved[i];
        if (!s->is_output)
            continue;
        gd_tensor *alias = NULL;
        gd_status st = gd_alias(dst, &alias);
        if (st)
            return st;
        gd_tensor_decref(s->t);
        s->t = alias;
        s->version = dst->storage->version;
    }
    return GD_OK;
}

gd_status gd_call_(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args) {
    gd_op_args defaults;
    gd_tensor *dst = inputs[0];
    if (!args) {
        gd_op_args_init(&defaults);
        args = &defaults;
    }
    gd_status check = gd_check_writable(dst);
    if (check)
        return check;
    if (gd_grad_enabled() && gd_requires_grad(dst)) {
        gd_autograd_meta *m = dst->autograd;
        GD_CHECK(!gd_is_leaf(dst), GD_ERR_RUNTIME,
                 "a leaf Variable that requires grad is being used in an in-place "
                 "operation.");
        GD_CHECK(!m->is_view_of_leaf, GD_ERR_RUNTIME,
                 "a view of a leaf Variable that requires grad is being used in an "
                 "in-place operation.");
        GD_CHECK(!m->is_view, GD_ERR_NOTIMPL,
                 "gdlite does not differentiate in-place operations on views; write "
                 "into the tensor itself (t[index] = value) or use an out-of-place op");
    }
    gd_status st;
    if (!needs_record(op, n, inputs) || !gd_dtype_is_floating(dst->dtype)) {
        if (!(st = inplace_kernel(op, inputs, args)))
            gd_bump_version(dst);
        return st;
    }
    /* Recorded: run out of place on a snapshot that carries dst's history,
     * write the result back, and move dst's history onto the new node. */
    gd_tensor *snapshot = NULL, *result = NULL, *in[GD_ITER_MAX_OPERANDS];
    GD_CHECK(n <= GD_ITER_MAX_OPERANDS, GD_ERR_RUNTIME, "too many operands");
    if ((st = gd_clone(dst, &snapshot)))
        return st;
    if (gd_requires_grad(dst)) {
        gd_autograd_meta *sm = NULL;
        if ((st = gd_autograd_meta_get(snapshot, &sm)))
            goto done;
        sm->grad_fn = dst->autograd->grad_fn;
        gd_node_incref(sm->grad_fn);
    }
    in[0] = snapshot;
    for (int i = 1; i < n; i++)
        in[i] = inputs[i];
    if ((st = inplace_result(op, n, in, args, &result)) ||
        (st = record(op, n, in, args, &result)) || (st = gd_copy_(dst, result)))
        goto done;
    gd_bump_version(dst);
    gd_autograd_meta *dm = NULL;
    if ((st = gd_autograd_meta_get(dst, &dm)) ||
        (st = save_dst_as_output(result->autograd->grad_fn, dst)))
        goto done;
    gd_node_decref(dm->grad_fn);
    dm->grad_fn = result->autograd->grad_fn;
    gd_node_incref(dm->grad_fn);
done:
    gd_tensor_decref(result);
    gd_tensor_decref(snapshot);
    return st;
}

/* ---- saved tensors ------------------------------------------------------ */

gd_status gd_unpack_saved(gd_node *node, int i, gd_tensor **out) {
    *out = NULL;
    GD_CHECK(
        !node->saved_freed, GD_ERR_RUNTIME,
        "Trying to backward through the graph a second time (or directly access "
        "saved tensors after they have already been freed). Saved intermediate "
        "values of the graph are freed when you call .backward() or autograd.grad(). "
        "Specify retain_graph=True if you need to backward through the graph a "
        "second time or if you need to access saved tensors after calling backward.");
    gd_saved *s = &node->saved[i];
    if (s->t->storage->version != s->version) {
        char shape[256], producer[128] = "";
        gd_format_shape(shape, sizeof shape, s->t->ndim, s->t->shape);
        if (s->producer) {
            /* PyTorch names the forward op: ExpBackward0 -> Exp */
            const char *cut = strstr(s->producer, "Backward");
            int keep = cut ? (int)(cut - s->producer) : (int)strlen(s->producer);
            snprintf(producer, sizeof producer, ", which is output 0 of %.*s,", keep,
                     s->producer);
        }
        return gd_error(
            GD_ERR_RUNTIME,
            "one of the variables needed for gradient computation has been "
            "modified by an inplace operation: [gdlite.%s %s]%s is at version %lld; "
            "expected version %lld instead.",
            gd_dtype_legacy_name(s->t->dtype), shape, producer,
            (long long)s->t->storage->version, (long long)s->version);
    }
    *out = s->t;
    return GD_OK;
}
