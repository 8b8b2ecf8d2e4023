/* Autograd state: grad mode, each tensor's autograd metadata (requires_grad,
 * .grad, .data, detach), and node lifetime. Recording is in record.c, hooks
 * in hooks.c, the backward engine in engine.c, the rules in backward.c. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local bool grad_disabled; /* zero-initialised: grad mode on */
/* Process-wide, as PyTorch's AnomalyMode; written under the embedder's lock. */
static bool anomaly_on, anomaly_nan = true;
static gd_anomaly_hooks anomaly_hooks;

void gd_set_anomaly_enabled(bool enabled, bool check_nan) {
    anomaly_on = enabled;
    anomaly_nan = check_nan;
}

bool gd_anomaly_enabled(void) {
    return anomaly_on;
}

bool gd_anomaly_check_nan(void) {
    return anomaly_nan;
}

void gd_set_anomaly_hooks(const gd_anomaly_hooks *hooks) {
    anomaly_hooks = *hooks;
}

void gd_anomaly_report(const gd_node *node) {
    if (node->trace && anomaly_hooks.report)
        anomaly_hooks.report(node->trace, node->name);
}
static _Thread_local uint64_t next_seq;

bool gd_grad_enabled(void) {
    return !grad_disabled;
}

void gd_set_grad_enabled(bool enabled) {
    grad_disabled = !enabled;
}

uint64_t gd_node_next_seq(void) {
    return next_seq;
}

void gd_op_args_init(gd_op_args *args) {
    memset(args, 0, offsetof(gd_op_args, dims));
    args->ndims = -1;
}

void gd_op_args_copy(gd_op_args *dst, const gd_op_args *src) {
    memcpy(dst, src, offsetof(gd_op_args, dims));
    if (src->ndims > 0)
        memcpy(dst->dims, src->dims, sizeof(int64_t) * (size_t)src->ndims);
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
    if (t->autograd && (t->autograd->requires_grad || t->autograd->grad_fn))
        return true;
    return gd_is_tracked_view(t) && gd_requires_grad(t->view_base);
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
                 gd_dtype_cxx_name(grad->dtype), gd_dtype_scalar_name(t->dtype));
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
    /* The view would stop sharing its base's history while sharing its data;
     * PyTorch refuses every view, whether or not autograd tracks it. */
    GD_CHECK(!t->is_view && !(t->autograd && t->autograd->is_view), GD_ERR_RUNTIME,
             "Can't detach views in-place. Use detach() instead. If you are using "
             "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view "
             "is set as True, gradients are views of DDP buckets, and hence detach_() "
             "cannot be called on these gradients. To fix this error, please refer to "
             "the Optimizer.zero_grad() function in torch/optim/optimizer.py as the "
             "solution.");
    if (!t->autograd)
        return GD_OK;
    gd_node_decref(t->autograd->grad_fn);
    t->autograd->grad_fn = NULL;
    t->autograd->output_nr = 0;
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
    memcpy(t->shape, src->shape, sizeof(int64_t) * (size_t)src->ndim);
    memcpy(t->strides, src->strides, sizeof(int64_t) * (size_t)src->ndim);
    return GD_OK;
}

/* ---- nodes -------------------------------------------------------------- */

/* Nodes of up to two inputs (most of them) share one block size, so that
 * freed ones can be reused through the per-thread cache. */
#define NODE_CACHED_INPUTS 2

static size_t node_size(int n_inputs) {
    int slots = n_inputs <= NODE_CACHED_INPUTS ? NODE_CACHED_INPUTS : n_inputs;
    return sizeof(gd_node) + sizeof(gd_input_meta) * (size_t)slots;
}

gd_status gd_node_new(gd_op op, int n_inputs, gd_node **out) {
    gd_node *node =
        n_inputs <= NODE_CACHED_INPUTS ? gd_cache_take(GD_CACHE_NODE) : NULL;
    if (!node)
        node = malloc(node_size(n_inputs));
    *out = node;
    if (!node)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    /* Everything but the dims arrays, which are read only up to their counts. */
    memset(node, 0, offsetof(gd_node, args) + offsetof(gd_op_args, dims));
    node->refcount = 1;
    node->op = op;
    node->name = gd_op_grad_fn_name(op);
    node->seq = next_seq++;
    node->args.ndims = -1; /* gd_op_args_init's one nonzero field */
    if (anomaly_on && anomaly_hooks.capture)
        node->trace = anomaly_hooks.capture();
    node->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) {
        gd_input_meta *m = &node->inputs[i];
        m->node = NULL;
        m->output_nr = 0;
        m->ndim = 0;
        m->dtype = (gd_dtype)0;
        m->shape = m->inline_shape;
    }
    return GD_OK;
}

gd_status gd_input_meta_set(gd_input_meta *m, const gd_tensor *t) {
    if (t->ndim > GD_NODE_INLINE_DIMS) {
        int64_t *heap = malloc(sizeof *heap * (size_t)t->ndim);
        if (!heap)
            return gd_error(GD_ERR_NOMEM, "out of memory");
        m->shape = heap;
    }
    m->ndim = t->ndim;
    m->dtype = t->dtype;
    memcpy(m->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    return GD_OK;
}

void gd_node_release_saved(gd_node *node) {
    for (int i = 0; i < GD_NODE_MAX_SAVED; i++) {
        gd_saved *s = &node->saved[i];
        if (!s->t && !s->is_number)
            continue;
        gd_tensor_decref(s->t);
        s->t = NULL;
        s->is_number = false;
        node->saved_freed = true;
    }
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
            gd_input_meta *m = &n->inputs[i];
            if (m->shape != m->inline_shape)
                free(m->shape);
            gd_node *next = m->node;
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
        if (n->custom)
            gd_custom_free(n->custom);
        if (n->trace && anomaly_hooks.release)
            anomaly_hooks.release(n->trace);
        gd_hook *hooks = n->hooks;
        n->hooks = NULL;
        gd_hooks_free(hooks);
        if (n->n_inputs > NODE_CACHED_INPUTS || !gd_cache_give(GD_CACHE_NODE, n))
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

int gd_node_next_output_nr(const gd_node *node, int i) {
    return node->inputs[i].output_nr;
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
    if ((st = gd_node_new(GD_OP_ACCUMULATE_GRAD, 0, out)))
        return st;
    (*out)->seq = UINT64_MAX; /* leaves accumulate as soon as they are ready */
    gd_tensor_incref(leaf);
    (*out)->variable = leaf;
    meta->accumulator = *out;
    return GD_OK;
}

/* ---- custom nodes ------------------------------------------------------- */

gd_status gd_check_first_output(const gd_tensor *t, const char *what) {
    if (gd_output_nr(t) == 0)
        return GD_OK;
    return gd_error(GD_ERR_NOTIMPL,
                    "gdlite does not support %s output %d of %s (an autograd.Function "
                    "with several outputs): only its first output",
                    what, gd_output_nr(t), gd_grad_fn(t)->name);
}

void gd_custom_free(gd_custom *c) {
    for (int k = 1; k < c->n_outputs; k++)
        gd_tensor_decref(c->buffers[k]);
    free(c->buffers);
    if (c->release)
        c->release(c->context);
    free(c);
}

gd_status gd_custom_node_new(const char *name, int n_inputs, gd_tensor *const *inputs,
                             int n_outputs, gd_custom_backward_fn fn,
                             gd_release_fn release, void *context, gd_node **out) {
    gd_node *node = NULL;
    gd_custom *c = NULL;
    size_t len = strlen(name);
    gd_status st = GD_OK;
    *out = NULL;
    GD_CHECK(n_inputs >= 0 && n_outputs >= 1, GD_ERR_VALUE,
             "a custom node needs at least one output");
    if (!(c = calloc(1, sizeof *c + len + 1)) ||
        !(c->buffers = calloc((size_t)n_outputs, sizeof *c->buffers))) {
        free(c);
        if (release)
            release(context);
        return gd_error(GD_ERR_NOMEM, "out of memory");
    }
    c->fn = fn;
    c->release = release;
    c->context = context;
    c->n_outputs = n_outputs;
    memcpy(c->name, name, len + 1);
    if ((st = gd_node_new(GD_OP_CUSTOM, n_inputs, &node))) {
        gd_custom_free(c);
        return st;
    }
    node->custom = c;
    node->name = c->name;
    for (int i = 0; i < n_inputs && !st; i++) {
        gd_input_meta *m = &node->inputs[i];
        m->output_nr = gd_output_nr(inputs[i]);
        if (!(st = gd_input_meta_set(m, inputs[i])))
            st = gd_edge_of(inputs[i], &m->node);
    }
    if (st) {
        gd_node_decref(node);
        return st;
    }
    *out = node;
    return GD_OK;
}

gd_status gd_custom_node_set_output(gd_node *node, int output_nr, gd_tensor *t) {
    gd_autograd_meta *meta = NULL;
    GD_CHECK(node->custom && output_nr >= 0 && output_nr < node->custom->n_outputs,
             GD_ERR_VALUE, "no output %d of this node", output_nr);
    GD_CHECK(gd_dtype_is_floating(t->dtype), GD_ERR_RUNTIME,
             "only Tensors of floating point dtype can require gradients");
    gd_status st = gd_autograd_meta_get(t, &meta);
    if (st)
        return st;
    gd_node_incref(node);
    gd_node_decref(meta->grad_fn);
    meta->grad_fn = node;
    meta->output_nr = output_nr;
    meta->requires_grad = false;
    return GD_OK;
}

gd_status gd_set_history(gd_tensor *t, gd_node *node) {
    gd_autograd_meta *meta = NULL;
    gd_status st = gd_autograd_meta_get(t, &meta);
    if (st)
        return st;
    gd_node_incref(node);
    gd_node_decref(meta->grad_fn);
    meta->grad_fn = node;
    meta->output_nr = 0;
    if (meta->retains_grad) /* retain_grad() follows the tensor, as in PyTorch */
        gd_node_retain_grad(node);
    return GD_OK;
}

gd_status gd_core_node_new(const char *name, int n_inputs, gd_tensor *const *inputs,
                           gd_custom_backward_fn fn, gd_release_fn release,
                           void *context, gd_node **out) {
    gd_status st =
        gd_custom_node_new(name, n_inputs, inputs, 1, fn, release, context, out);
    if (!st)
        (*out)->custom->core = true;
    return st;
}

void *gd_custom_node_context(const gd_node *node) {
    return node->custom && !node->custom->core ? node->custom->context : NULL;
}
