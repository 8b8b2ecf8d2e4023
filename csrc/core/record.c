/* Recording: running an op's kernel (by its kind in ops.def), the node a
 * differentiable call records (its name, edges and what it saves), the
 * protocol for in-place ops, and handing saved tensors to backward rules. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- recording ---------------------------------------------------------- */

/* The kernel of op: by its kind for the families, by the op for the rest. */
static gd_status forward(gd_op op, int n, gd_tensor *const *in, const gd_op_args *a,
                         gd_tensor **outs) {
    switch (gd_op_kind_of(op)) {
    case GD_KIND_BINARY:
    case GD_KIND_BINARY_BOOL:
        if (a->scaled)
            return gd_add_scaled(op, in[0], in[1], a->alpha, a->dtype, &outs[0]);
        if (op == GD_OP_POW && a->scalar_operand == 2 && a->dtype == GD_FLOAT32 &&
            in[0]->dtype == GD_FLOAT32)
            return gd_math_pow_number(in[0], in[1], a->param, &outs[0]);
        if (op == GD_OP_POW && a->scalar_operand)
            return gd_binary_number(op, in[0], in[1], a->scalar_operand, a->dtype,
                                    &outs[0]);
        return gd_binary(op, in[0], in[1], a->dtype, &outs[0]);
    case GD_KIND_UNARY:
    case GD_KIND_UNARY_BOOL:
        return gd_unary(op, in[0], &outs[0]);
    case GD_KIND_REDUCE:
        return gd_reduce(op, in[0], a->ndims, a->dims, a->keepdim, a->param, &outs[0]);
    case GD_KIND_REDUCE_INDEX:
        return gd_reduce_index(op == GD_OP_MAX_DIM ? GD_OP_MAX : GD_OP_MIN, in[0],
                               a->i[0], a->keepdim, &outs[0], &outs[1]);
    case GD_KIND_SCAN:
        return a->i[1] ? gd_scan_as(op, in[0], a->i[0], false, a->dtype, &outs[0])
                       : gd_scan(op, in[0], a->i[0], false, &outs[0]);
    default:
        break;
    }
    switch (op) {
    case GD_OP_CLAMP:
        return gd_clamp(in[0], a->has_min, a->min, a->has_max, a->max, &outs[0]);
    case GD_OP_WHERE:
        return gd_where(in[0], in[1], in[2], a->dtype, &outs[0]);
    case GD_OP_MATMUL:
        return gd_matmul_planned(in[0], in[1], (gd_matmul_plan)a->i[0], &outs[0]);
    case GD_OP_ADDMM:
        return gd_addmm(in[0], in[1], in[2], a->beta, a->alpha, &outs[0]);
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
    case GD_OP_CAT:
        return gd_cat(n, in, a->i[0], &outs[0]);
    case GD_OP_STACK:
        return gd_stack(n, in, a->i[0], &outs[0]);
    case GD_OP_TO_DTYPE:
        return gd_clone_as(in[0], a->dtype, (gd_memory_format)a->i[0], &outs[0]);
    case GD_OP_CLONE: /* i[0]: the gd_memory_format (contiguous: reshape's) */
        return gd_clone_as(in[0], in[0]->dtype, (gd_memory_format)a->i[0], &outs[0]);
    case GD_OP_INDEX_SELECT:
        return gd_index_select(in[0], a->i[0], in[1], &outs[0]);
    case GD_OP_GATHER:
        return gd_gather(in[0], a->i[0], in[1], &outs[0]);
    case GD_OP_SCATTER_ADD:
        return gd_scatter_add(in[0], a->i[0], in[2], in[1], &outs[0]);
    case GD_OP_INDEX:
        return gd_index(in[0], a->ndims, a->dims, in[1], &outs[0]);
    case GD_OP_SOFTMAX:
    case GD_OP_LOG_SOFTMAX:
        return gd_softmax(in[0], a->i[0], op == GD_OP_LOG_SOFTMAX, &outs[0]);
    case GD_OP_NLL_LOSS:
        return gd_nll_loss(in[0], in[1], n > 2 ? in[2] : NULL, (int)a->i[0], a->i[1],
                           &outs[0]);
    case GD_OP_MSE_LOSS:
    case GD_OP_HUBER_LOSS:
    case GD_OP_SMOOTH_L1_LOSS:
        return gd_pointwise_loss(op, in[0], in[1], (int)a->i[0], a->param, &outs[0]);
    case GD_OP_BINARY_CROSS_ENTROPY:
        return gd_binary_cross_entropy(in[0], in[1], n > 2 ? in[2] : NULL, (int)a->i[0],
                                       &outs[0]);
    case GD_OP_BCE_WITH_LOGITS:
        return gd_bce_with_logits(in[0], in[1], n > 2 ? in[2] : NULL,
                                  n > 3 ? in[3] : NULL, (int)a->i[0], &outs[0]);
    case GD_OP_UNIQUE:
    case GD_OP_UNIQUE_CONSECUTIVE:
    case GD_OP_UNIQUE_DIM:
    case GD_OP_BINCOUNT: /* computed beforehand: only its node is new */
        return gd_alias(in[1], &outs[0]);
    default:
        return gd_error(GD_ERR_RUNTIME, "%s has no out-of-place form", gd_op_name(op));
    }
}

static gd_status save(gd_node *node, int slot, gd_tensor *t, bool is_output) {
    gd_saved *s = &node->saved[slot];
    gd_status st = GD_OK;
    if (t->on_stack && t->numel == 1 && !is_output) {
        /* a Python number: kept as a number, no allocation */
        s->is_number = true;
        s->number = gd_get_flat(t, 0);
        s->number_dtype = t->dtype;
        return GD_OK;
    }
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
    return GD_OK;
}

/* What the rule reads besides shapes: the `saves` column of the op's row, or
 * of its decomposition's. An optional input not given (NULL, or beyond n) is
 * saved as nothing. */
static gd_status save_for(gd_node *node, gd_decomposition name, int n,
                          gd_tensor *const *in, gd_tensor **outs) {
    unsigned saves = name ? gd_decomposition_saves(name) : GD_SAVE_AS_OP;
    if (saves == GD_SAVE_AS_OP)
        saves = gd_op_saves(node->op);
    if (node->op == GD_OP_ADDMM) { /* mat1 serves mat2's gradient, mat2 mat1's */
        saves &= (gd_requires_grad(in[2]) ? GD_SAVE_OTHER : 0u) |
                 (gd_requires_grad(in[1]) ? GD_SAVE_INPUT2 : 0u);
        for (int j = 0; j < 2; j++) /* column-major: its rule transposes */
            node->args.i[j] = gd_is_column_major(in[j + 1]);
    }
    gd_status st = GD_OK;
    if (saves & GD_SAVE_SELF)
        st = save(node, GD_SAVED_SELF, in[0], false);
    if (!st && (saves & GD_SAVE_OTHER))
        st = save(node, GD_SAVED_OTHER, in[1], false);
    if (!st && (saves & GD_SAVE_RESULT))
        st = save(node, GD_SAVED_RESULT, outs[0], true);
    if (!st && (saves & GD_SAVE_INDICES))
        st = save(node, GD_SAVED_INDICES, outs[1], true);
    if (!st && (saves & GD_SAVE_INPUT2) && n > 2 && in[2])
        st = save(node, GD_SAVED_INPUT2, in[2], false);
    if (!st && (saves & GD_SAVE_INPUT3) && n > 3 && in[3])
        st = save(node, GD_SAVED_INPUT3, in[3], false);
    return st;
}

gd_status gd_edge_of(gd_tensor *t, gd_node **out) {
    *out = NULL;
    gd_status st = gd_view_stale(t) ? gd_view_refresh(t) : GD_OK;
    if (st || !gd_requires_grad(t))
        return st;
    if (t->autograd && t->autograd->grad_fn) {
        gd_node_incref(t->autograd->grad_fn);
        *out = t->autograd->grad_fn;
        return GD_OK;
    }
    return gd_grad_accumulator(t, out);
}

/* The decomposition PyTorch records for these operands (decompositions.def), or
 * GD_DECOMP_DEFAULT for the op's own node. */
static gd_decomposition decomposition_for(gd_op op, gd_tensor *const *in,
                                          const gd_op_args *a) {
    bool dims_given = a->ndims >= 0;
    if (a->decomposition && gd_decomposition_op(a->decomposition) == op)
        return a->decomposition;
    switch (op) {
    case GD_OP_SUB:
        return a->scalar_operand == 1 ? GD_DECOMP_RSUB_SCALAR : GD_DECOMP_DEFAULT;
    case GD_OP_POW:
        return a->scalar_operand == 2   ? GD_DECOMP_POW_TENSOR_SCALAR
               : a->scalar_operand == 1 ? GD_DECOMP_POW_SCALAR_TENSOR
                                        : GD_DECOMP_DEFAULT;
    case GD_OP_REMAINDER:
        return a->scalar_operand == 2 ? GD_DECOMP_REMAINDER_TENSOR_SCALAR
                                      : GD_DECOMP_DEFAULT;
    case GD_OP_MATMUL: {
        int da = in[0]->ndim, db = in[1]->ndim;
        if (da == 1 && db == 1)
            return GD_DECOMP_DOT;
        if (da == 2 && db == 1)
            return GD_DECOMP_MV;
        if (da == 1 && db == 2)
            return GD_DECOMP_VECTOR_MATRIX;
        if (da == 2 && db == 2)
            return GD_DECOMP_DEFAULT;
        if ((a->i[0] == GD_MATMUL_FOLD_B && da == 2) ||
            a->i[0] == GD_MATMUL_SQUEEZE_A) {
            int64_t m = in[0]->shape[da - 2], n = in[1]->shape[db - 1], rows = m * n;
            for (int d = 0; d < db - 2; d++)
                rows *= in[1]->shape[d];
            /* .contiguous() of a transposed result with one row or column,
             * or none, returns it as it is */
            return m == 1 || n == 1 || rows == 0 ? GD_DECOMP_FOLDED_B_VIEW
                                                 : GD_DECOMP_FOLDED_B;
        }
        return GD_DECOMP_BATCHED;
    }
    case GD_OP_SUM:
        return dims_given ? GD_DECOMP_SUM_DIM : GD_DECOMP_DEFAULT;
    case GD_OP_MEAN:
        return dims_given ? GD_DECOMP_MEAN_DIM : GD_DECOMP_DEFAULT;
    case GD_OP_PROD:
        return dims_given ? GD_DECOMP_PROD_DIM : GD_DECOMP_DEFAULT;
    case GD_OP_MAX:
        return dims_given ? GD_DECOMP_AMAX : GD_DECOMP_DEFAULT;
    case GD_OP_MIN:
        return dims_given ? GD_DECOMP_AMIN : GD_DECOMP_DEFAULT;
    case GD_OP_SQUEEZE:
        return dims_given ? GD_DECOMP_SQUEEZE_DIM : GD_DECOMP_DEFAULT;
    case GD_OP_NLL_LOSS:
        return in[0]->ndim > 2 ? GD_DECOMP_NLL_LOSS2D : GD_DECOMP_DEFAULT;
    default:
        return GD_DECOMP_DEFAULT;
    }
}

/* Records the node for outs[0] = op(in...). */
static gd_status record(gd_op op, int n, gd_tensor *const *in, const gd_op_args *args,
                        gd_tensor **outs) {
    gd_node *node;
    gd_autograd_meta *meta = NULL;
    gd_decomposition name = decomposition_for(op, in, args);
    int edges = name ? gd_decomposition_edges(name) : gd_op_edges(op);
    int n_edges = edges > 0 && edges < n ? edges : n;
    gd_status st = gd_node_new(op, n_edges, &node);
    if (st)
        return st;
    gd_op_args_copy(&node->args, args);
    if (name)
        node->name = gd_decomposition_name(name);
    for (int i = 0; i < n_edges && !st; i++) {
        gd_input_meta *m = &node->inputs[i];
        m->output_nr = gd_output_nr(in[i]);
        if (!(st = gd_input_meta_set(m, in[i])))
            st = gd_edge_of(in[i], &m->node);
    }
    if (!st)
        st = save_for(node, name, n, in, outs);
    if (!st)
        st = gd_autograd_meta_get(outs[0], &meta);
    if (st) {
        gd_node_decref(node);
        return st;
    }
    meta->grad_fn = node;
    meta->output_nr = 0;
    if (gd_op_kind_of(op) == GD_KIND_VIEW && outs[0]->is_view &&
        outs[0]->storage == in[0]->storage) {
        gd_autograd_meta *in_meta = in[0]->autograd;
        meta->is_view = true;
        meta->is_view_of_leaf =
            in_meta &&
            (gd_is_leaf(in[0]) ? in_meta->requires_grad : in_meta->is_view_of_leaf);
    }
    return GD_OK;
}

/* With grad mode `grad_on` (read once by the caller). */
static bool needs_record(bool grad_on, gd_op op, int n, gd_tensor *const *in) {
    if (!grad_on || !gd_backward_rule(op))
        return false;
    for (int i = 0; i < n; i++)
        if (in[i] && gd_requires_grad(in[i]))
            return true;
    return false;
}

/* A recorded reshape that no view fits, as PyTorch records it: a contiguous
 * clone (CloneBackward0), then an _unsafe_view of it (UnsafeViewBackward0),
 * which is not a view. */
static gd_status reshape_copy(gd_tensor *in, const gd_op_args *args, gd_tensor **outs) {
    gd_op_args a;
    gd_op_args_init(&a);
    a.i[0] = GD_FORMAT_CONTIGUOUS;
    gd_tensor *clone = NULL;
    gd_status st = gd_call(GD_OP_CLONE, 1, &in, &a, &clone);
    if (st)
        return st;
    gd_op_args_copy(&a, args);
    a.decomposition = GD_DECOMP_UNSAFE_VIEW;
    st = gd_call(GD_OP_VIEW, 1, &clone, &a, outs);
    gd_tensor_decref(clone);
    return st;
}

/* Kernels release the embedder's lock in their loops, and another thread
 * may give an input new data (`.data = ...`) meanwhile, rewriting its
 * header. A call big enough to unlock runs its kernel on private aliases of
 * the inputs (headers of their own on the same storages, which they keep
 * alive), so all a kernel reads, before a loop or after one, stays one
 * tensor. Recording still sees the inputs themselves. */
#define PRIVATE_LOCAL 8
typedef struct {
    int n;
    gd_tensor **t, *local[PRIVATE_LOCAL];
} private_inputs;

/* The elements a call's loops may run over, which decides whether they may
 * unlock: the largest input's, or less for an advanced index, whose loops
 * run over the index and the result only (a few rows of a large input).
 * Small calls, most of them, stop at the first test. */
static int64_t call_work(gd_op op, int n, gd_tensor *const *in,
                         const gd_op_args *args) {
    int64_t work = 0;
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->numel > work)
            work = in[i]->numel;
    if (!gd_loops_may_unlock(work) || op != GD_OP_INDEX || n != 2 || !args || !in[0] ||
        !in[1] || args->ndims < 1 || args->ndims > in[0]->ndim)
        return work;
    const gd_tensor *a = in[0], *ix = in[1];
    int64_t indexed = 1, result;
    for (int j = 0; j < args->ndims; j++) {
        int d;
        if (gd_wrap_dim(args->dims[j], a->ndim, &d))
            return work; /* the kernel reports it */
        indexed *= a->shape[d];
    }
    if (indexed == 0 ||
        __builtin_mul_overflow(ix->numel / args->ndims, a->numel / indexed, &result))
        return work;
    if (result < ix->numel)
        result = ix->numel;
    return result < work ? result : work;
}

static gd_status privatize(private_inputs *p, int64_t work, int n,
                           gd_tensor *const *in) {
    p->n = 0;
    p->t = p->local;
    if (!gd_loops_may_unlock(work))
        return GD_OK;
    if (n > PRIVATE_LOCAL && !(p->t = malloc(sizeof(gd_tensor *) * (size_t)n)))
        return gd_error(GD_ERR_NOMEM, "out of memory");
    for (; p->n < n; p->n++) {
        gd_tensor *t = in[p->n];
        p->t[p->n] = NULL;
        if (t && t->on_stack) { /* the caller's own, for this call only */
            gd_tensor_incref(t);
            p->t[p->n] = t;
        } else if (t) {
            gd_status st = gd_alias(t, &p->t[p->n]);
            if (st) {
                p->n++;
                return st;
            }
        }
    }
    return GD_OK;
}

/* What the kernel runs on: the aliases, or the inputs for a small call. */
static gd_tensor *const *kernel_inputs(const private_inputs *p, gd_tensor *const *in) {
    return p->n ? p->t : in;
}

static void private_free(private_inputs *p) {
    for (int i = 0; i < p->n; i++)
        gd_tensor_decref(p->t[i]);
    if (p->t != p->local)
        free(p->t);
    p->n = 0;
}

static gd_status call_on(gd_op op, int n, gd_tensor *const *inputs,
                         gd_tensor *const *kernel_in, const gd_op_args *args,
                         gd_tensor **outs);

gd_status gd_call(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args,
                  gd_tensor **outs) {
    private_inputs p;
    outs[0] = NULL;
    gd_status st = privatize(&p, call_work(op, n, inputs, args), n, inputs);
    if (!st)
        st = call_on(op, n, inputs, kernel_inputs(&p, inputs), args, outs);
    private_free(&p);
    return st;
}

static gd_status call_on(gd_op op, int n, gd_tensor *const *inputs,
                         gd_tensor *const *kernel_in, const gd_op_args *args,
                         gd_tensor **outs) {
    gd_op_args defaults;
    if (!args) {
        gd_op_args_init(&defaults);
        args = &defaults;
    }
    outs[0] = NULL;
    bool two_outputs = gd_op_kind_of(op) == GD_KIND_REDUCE_INDEX;
    if (two_outputs)
        outs[1] = NULL;
    bool grad_on = gd_grad_enabled();
    /* matmul's plan reads whether the inputs require grad, which the kernel's
     * private aliases do not carry; the node keeps it for the backward */
    gd_op_args planned;
    if (op == GD_OP_MATMUL && args->i[0] == GD_MATMUL_AUTO && n == 2 &&
        inputs[0]->ndim >= 1 && inputs[1]->ndim >= 1) {
        gd_op_args_copy(&planned, args);
        planned.i[0] = gd_matmul_plan_for(inputs[0], inputs[1]);
        args = &planned;
    }
    /* Unrecorded, gd_reshape's own copy is the same result without nodes. */
    if (op == GD_OP_VIEW && args->i[0] && args->decomposition == GD_DECOMP_DEFAULT &&
        needs_record(grad_on, op, n, inputs) &&
        gd_reshape_copies(inputs[0], args->ndims, args->dims))
        return reshape_copy(inputs[0], args, outs);
    gd_status st = forward(op, n, kernel_in, args, outs);
    if (st)
        return st;
    if (args->decomposition == GD_DECOMP_UNSAFE_VIEW)
        outs[0]->is_view = false; /* PyTorch's _unsafe_view of a private copy */
    else if (gd_op_kind_of(op) == GD_KIND_VIEW &&
             outs[0]->storage == inputs[0]->storage)
        gd_view_track(outs[0], inputs[0], grad_on);
    if (gd_decomposition_multi_output(args->decomposition) && outs[0]->view_base)
        gd_view_mark_multi_output(outs[0], args->output);
    if (!needs_record(grad_on, op, n, inputs) || !gd_dtype_is_floating(outs[0]->dtype))
        return st;
    if ((st = record(op, n, inputs, args, outs))) {
        gd_tensor_decref(outs[0]);
        outs[0] = NULL;
        if (two_outputs) {
            gd_tensor_decref(outs[1]);
            outs[1] = NULL;
        }
    }
    return st;
}

/* ---- in place ----------------------------------------------------------- */

static gd_status inplace_kernel(gd_op op, gd_tensor *const *in, const gd_op_args *a) {
    gd_tensor *dst = in[0];
    switch (gd_op_kind_of(op)) {
    case GD_KIND_BINARY:
    case GD_KIND_BINARY_BOOL:
        return a->scaled ? gd_add_scaled_(op, dst, in[1], a->alpha, a->dtype)
                         : gd_binary_(op, dst, in[1], a->dtype);
    case GD_KIND_UNARY:
    case GD_KIND_UNARY_BOOL:
        return gd_unary_(op, dst);
    case GD_KIND_SCAN: { /* in dst's dtype, then written back */
        gd_tensor *r = NULL;
        gd_status st = gd_scan_as(op, dst, a->i[0], false, dst->dtype, &r);
        if (!st)
            st = gd_copy_(dst, r);
        gd_tensor_decref(r);
        return st;
    }
    default:
        break;
    }
    switch (op) {
    case GD_OP_CLAMP:
        return gd_clamp_(dst, a->has_min, a->min, a->has_max, a->max);
    case GD_OP_FILL:
        return gd_fill_(dst, a->param);
    case GD_OP_PUT: /* (self, values, positions) */
        return gd_put_(dst, in[2], in[1]);
    case GD_OP_COPY:
        return gd_copy_(dst, in[1]);
    case GD_OP_SCATTER_ADD:
        return gd_scatter_add_(dst, a->i[0], in[2], in[1]);
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
        st = op == GD_OP_PUT ? gd_put_(t, in[2], in[1]) : gd_copy_(t, in[1]);
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
 * is dst itself: later in-place writes to dst must fail its version check,
 * which names `producer` (the node dst's history is on by then). */
static gd_status save_dst_as_output(gd_node *node, gd_tensor *dst,
                                    const char *producer) {
    for (int i = 0; i < GD_NODE_MAX_SAVED; i++) {
        gd_saved *s = &node->saved[i];
        if (!s->t || !s->is_output)
            continue;
        gd_tensor *alias = NULL;
        gd_status st = gd_alias(dst, &alias);
        if (st)
            return st;
        gd_tensor_decref(s->t);
        s->t = alias;
        s->version = dst->storage->version;
        s->producer = producer;
    }
    return GD_OK;
}

/* PyTorch's checks before an in-place op that grad mode records. */
static gd_status check_inplace(gd_tensor *dst) {
    if (!gd_requires_grad(dst))
        return GD_OK;
    bool view = gd_is_tracked_view(dst);
    if (view && dst->view_meta != GD_VIEW_DEFAULT)
        return gd_view_refused(dst, false);
    GD_CHECK(!(view ? gd_is_leaf(dst->view_base)
                    : dst->autograd && dst->autograd->is_view_of_leaf),
             GD_ERR_RUNTIME,
             "a view of a leaf Variable that requires grad is being used in an "
             "in-place operation.");
    GD_CHECK(!gd_is_leaf(dst), GD_ERR_RUNTIME,
             "a leaf Variable that requires grad is being used in an in-place "
             "operation.");
    GD_CHECK(view || !dst->autograd->is_view, GD_ERR_NOTIMPL,
             "gdlite does not differentiate in-place operations on this view; write "
             "into the tensor itself (t[index] = value) or use an out-of-place op");
    return GD_OK;
}

static gd_status call_on_(gd_op op, int n, gd_tensor *const *inputs,
                          gd_tensor *const *kernel_in, const gd_op_args *args);

gd_status gd_call_(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args) {
    private_inputs p;
    gd_status st = privatize(&p, call_work(op, n, inputs, args), n, inputs);
    if (!st)
        st = call_on_(op, n, inputs, kernel_inputs(&p, inputs), args);
    private_free(&p);
    return st;
}

static gd_status call_on_(gd_op op, int n, gd_tensor *const *inputs,
                          gd_tensor *const *kernel_in, const gd_op_args *args) {
    gd_op_args defaults;
    gd_tensor *dst = inputs[0];
    if (!args) {
        gd_op_args_init(&defaults);
        args = &defaults;
    }
    /* Filling writes one value to every element, so overlapping elements
     * are fine (PyTorch fills and zeroes expanded tensors). */
    gd_status st = op == GD_OP_FILL ? GD_OK : gd_check_writable(dst);
    if (st)
        return st;
    bool grad_on = gd_grad_enabled();
    if (grad_on && ((gd_view_stale(dst) && (st = gd_view_refresh(dst))) ||
                    (st = check_inplace(dst))))
        return st;
    if (!needs_record(grad_on, op, n, inputs) || !gd_dtype_is_floating(dst->dtype)) {
        if (!(st = inplace_kernel(op, kernel_in, args)))
            gd_bump_version(dst);
        return st;
    }
    /* Recorded: run out of place on a snapshot that carries dst's history,
     * write the result back, and move dst's history onto the new node (for a
     * view, the base's onto a CopySlices node around it). */
    gd_tensor *snapshot = NULL, *result = NULL, *in[GD_ITER_MAX_OPERANDS];
    gd_node *copy_slices = NULL;
    bool view = gd_is_tracked_view(dst);
    GD_CHECK(n <= GD_ITER_MAX_OPERANDS, GD_ERR_RUNTIME, "too many operands");
    if ((st = gd_clone(kernel_in[0], &snapshot)))
        return st;
    if (gd_requires_grad(dst) && dst->autograd && dst->autograd->grad_fn) {
        gd_autograd_meta *sm = NULL;
        if ((st = gd_autograd_meta_get(snapshot, &sm)))
            goto done;
        sm->grad_fn = dst->autograd->grad_fn;
        sm->output_nr = dst->autograd->output_nr;
        gd_node_incref(sm->grad_fn);
    }
    in[0] = snapshot;
    for (int i = 1; i < n; i++)
        in[i] = kernel_in[i];
    if ((st = inplace_result(op, n, in, args, &result)) ||
        (st = record(op, n, in, args, &result)))
        goto done;
    gd_node *fn = result->autograd->grad_fn;
    if ((view && (st = gd_view_copy_slices(dst, fn, n, inputs, &copy_slices))) ||
        (st = gd_copy_(kernel_in[0], result)))
        goto done;
    gd_bump_version(dst);
    /* a view's saved result names its regenerated node */
    if ((st = save_dst_as_output(fn, dst, view ? "AsStridedBackward0" : fn->name)))
        goto done;
    st = view ? gd_view_install_copy_slices(dst, copy_slices) : gd_set_history(dst, fn);
done:
    gd_node_decref(copy_slices);
    gd_tensor_decref(result);
    gd_tensor_decref(snapshot);
    return st;
}

/* ---- saved tensors ------------------------------------------------------ */

bool gd_saved_number(const gd_node *node, int slot, double *value, gd_dtype *dtype) {
    const gd_saved *s = &node->saved[slot];
    if (!s->is_number || node->saved_freed)
        return false;
    *value = s->number;
    *dtype = s->number_dtype;
    return true;
}

gd_status gd_unpack_saved(gd_node *node, int slot, gd_tensor **out) {
    *out = NULL;
    GD_CHECK(
        !node->saved_freed, GD_ERR_RUNTIME,
        "Trying to backward through the graph a second time (or directly access "
        "saved tensors after they have already been freed). Saved intermediate "
        "values of the graph are freed when you call .backward() or autograd.grad(). "
        "Specify retain_graph=True if you need to backward through the graph a "
        "second time or if you need to access saved tensors after calling backward.");
    gd_saved *s = &node->saved[slot];
    if (!s->t && s->is_number) { /* built once, when a rule needs a tensor */
        int64_t none[1] = {0};
        gd_status st = gd_full(s->number_dtype, 0, none, s->number, &s->t);
        if (st)
            return st;
        s->version = s->t->storage->version;
    }
    GD_CHECK(s->t, GD_ERR_RUNTIME, "%s saved nothing in slot %d", node->name, slot);
    if (s->t->storage->version != s->version) {
        char shape[256], producer[128] = "";
        const char *made_by = s->producer;
        gd_format_shape(shape, sizeof shape, s->t->ndim, s->t->shape);
        /* A saved view's grad_fn is read now, as PyTorch reads it: after its
         * base changed it names the regenerated node. */
        if (!s->is_output && gd_is_tracked_view(s->t) && !gd_view_refresh(s->t) &&
            gd_grad_fn(s->t))
            made_by = gd_grad_fn(s->t)->name;
        if (made_by) {
            /* PyTorch names the forward op: ExpBackward0 -> Exp */
            const char *cut = strstr(made_by, "Backward");
            int keep = cut ? (int)(cut - made_by) : (int)strlen(made_by);
            snprintf(producer, sizeof producer, ", which is output 0 of %.*s,", keep,
                     made_by);
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

gd_status gd_unpack_saved_ref(gd_node *node, int slot, gd_tensor **out) {
    gd_tensor *t = NULL, *alias = NULL;
    gd_autograd_meta *meta = NULL;
    *out = NULL;
    gd_status st = gd_unpack_saved(node, slot, &t);
    if (st)
        return st;
    if (!gd_grad_enabled() || !node->saved[slot].is_output ||
        !gd_dtype_is_floating(t->dtype)) {
        gd_tensor_incref(t);
        *out = t;
        return GD_OK;
    }
    /* The node owns this alias's history only while the rule runs: the
     * alias belongs to the new graph, which may own the node, never the
     * other way round. */
    if ((st = gd_alias(t, &alias)) || (st = gd_autograd_meta_get(alias, &meta))) {
        gd_tensor_decref(alias);
        return st;
    }
    gd_node_incref(node);
    meta->grad_fn = node;
    *out = alias;
    return GD_OK;
}
