/* Backward under create_graph: gradients that carry their own graph, so they
 * can be differentiated again (Hessian-vector products, Newton's method).
 *
 * With grad mode on, most rules need nothing special: their helpers record
 * (graph_ops.c) and saved outputs come back with their grad_fn. Three kinds
 * of rule are handled here:
 *  - rules linear in the gradient whose saved tensors are indices (select,
 *    slice, gathering, cumsum, max along a dim, nll_loss) run their fast
 *    kernels; their result gets a REPLAY node whose backward is the adjoint
 *    of the rule, which for a linear op is the op's own forward;
 *  - fused kernels with differentiable saved tensors (softmax, the pointwise
 *    losses) run a composite of recorded ops, holding the numbers the fused
 *    kernel gives;
 *  - index_put's rule has no graph form and refuses.
 * The first node of a gradient takes PyTorch's name for it
 * (TanhBackwardBackward0), as its own backward op is named there. */
#include "backward_rules.h"

#include <stdlib.h>

/* The name PyTorch gives the node of a gradient computed by op's rule, when
 * it differs from the last op the rule records; NULL otherwise. */
static const char *graph_name(gd_op op) {
    switch (op) {
    case GD_OP_TANH:
        return "TanhBackwardBackward0";
    case GD_OP_SIGMOID:
        return "SigmoidBackwardBackward0";
    case GD_OP_RELU:
        return "ThresholdBackwardBackward0";
    case GD_OP_SOFTMAX:
        return "SoftmaxBackwardDataBackward0";
    case GD_OP_LOG_SOFTMAX:
        return "LogSoftmaxBackwardDataBackward0";
    case GD_OP_MSE_LOSS:
        return "MseLossBackwardBackward0";
    case GD_OP_HUBER_LOSS:
        return "HuberLossBackwardBackward0";
    case GD_OP_SMOOTH_L1_LOSS:
        return "SmoothL1LossBackwardBackward0";
    case GD_OP_NLL_LOSS:
        return "NllLossBackwardBackward0";
    case GD_OP_SELECT:
        return "SelectBackwardBackward0";
    case GD_OP_SLICE:
        return "SliceBackwardBackward0";
    case GD_OP_INDEX_SELECT:
        return "IndexAddBackward0";
    case GD_OP_GATHER:
        return "ScatterAddBackward0";
    case GD_OP_INDEX:
        return "IndexPutImplBackward0";
    case GD_OP_CUMSUM:
        return "FlipBackward0";
    case GD_OP_MAX_DIM:
    case GD_OP_MIN_DIM:
        return "ScatterBackward0";
    case GD_OP_MEAN:
        return "DivBackward1";
    case GD_OP_MAX:
    case GD_OP_MIN:
        return "MaskedFillBackward1";
    case GD_OP_UNSQUEEZE:
        return "SqueezeBackward1";
    case GD_OP_SQUEEZE:
        return "UnsqueezeBackward0";
    default:
        return NULL;
    }
}

typedef enum { PLAIN, REPLAY, COMPOSITE, NO_GRAPH } graph_kind;

static graph_kind kind_of(gd_op op) {
    switch (op) {
    case GD_OP_SELECT:
    case GD_OP_SLICE:
    case GD_OP_INDEX_SELECT:
    case GD_OP_GATHER:
    case GD_OP_INDEX:
    case GD_OP_CUMSUM:
    case GD_OP_MAX_DIM:
    case GD_OP_MIN_DIM:
    case GD_OP_NLL_LOSS:
        return REPLAY;
    case GD_OP_SOFTMAX:
    case GD_OP_LOG_SOFTMAX:
    case GD_OP_MSE_LOSS:
    case GD_OP_HUBER_LOSS:
    case GD_OP_SMOOTH_L1_LOSS:
        return COMPOSITE;
    case GD_OP_PUT:
        return NO_GRAPH;
    default:
        return PLAIN;
    }
}

static gd_status run_without_graph(gd_backward_fn rule, gd_node *node, gd_tensor *g,
                                   gd_tensor **gi) {
    gd_set_grad_enabled(false);
    node->graph = false;
    gd_status st = rule(node, g, gi);
    node->graph = true;
    gd_set_grad_enabled(true);
    return st;
}

/* ---- REPLAY nodes ------------------------------------------------------- */

/* gathers gg at the saved indices along the reduced dim: the adjoint of
 * max/min along a dim's rule (which scatters the gradient there) */
static gd_tensor *gather_at(rule_ctx *c, gd_node *node, gd_tensor *gg) {
    gd_tensor *idx = saved(c, node, GD_SAVED_INDICES), *out = NULL;
    const gd_input_meta *m = &node->inputs[0];
    int d = 0;
    if (c->st || !idx)
        return NULL;
    if (gg->ndim == 0)
        return reshaped(c, gg, m->ndim, m->shape);
    if ((c->st = gd_wrap_dim(node->args.i[0], gg->ndim, &d)))
        return NULL;
    if (!node->args.keepdim)
        idx = unsqueezed(c, idx, d);
    gd_tensor *r = idx ? track(c, gd_g_gather(gg, d, idx, &out), &out) : NULL;
    return node->args.keepdim ? r : squeezed(c, r, d);
}

/* grad of the rule's input: the replayed op's forward on it */
gd_status bw_replay(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *in[3] = {g, NULL, NULL}, *out = NULL;
    int n = 1;
    if (NEED(1)) /* the zero dependency */
        give(&c, zeros_of(&c, node, 1, g->dtype), &gi[1]);
    if (!NEED(0))
        return finish(&c);
    switch (node->replays) {
    case GD_OP_RELU:
        give(&c, where0(&c, bin_num(&c, GD_OP_LE, SAVED_RESULT, 0.0), g, true), &gi[0]);
        return finish(&c);
    case GD_OP_MAX_DIM:
    case GD_OP_MIN_DIM:
        give(&c, gather_at(&c, node, g), &gi[0]);
        return finish(&c);
    case GD_OP_INDEX_SELECT:
    case GD_OP_GATHER:
    case GD_OP_INDEX:
        in[1] = SAVED_OTHER;
        n = 2;
        break;
    case GD_OP_NLL_LOSS:
        in[1] = SAVED_OTHER;
        in[2] = SAVED_OPTIONAL(GD_SAVED_INPUT2);
        n = 3;
        break;
    default:
        break;
    }
    if (!c.st)
        give(&c, track(&c, gd_call(node->replays, n, in, &node->args, &out), &out),
             &gi[0]);
    return finish(&c);
}

/* The node a gradient computed by src's rule also depends on without a
 * derivative, as PyTorch's backward op takes it as an input (relu's result
 * in threshold_backward, nll_loss's input): its edge gets zeros. NULL if none. */
static gd_node *zero_dependency(gd_node *src, const gd_input_meta **meta) {
    *meta = &src->inputs[0];
    if (src->op == GD_OP_RELU)
        return src; /* the result: src's own output, shaped as its input */
    if (src->op == GD_OP_NLL_LOSS)
        return src->inputs[0].node;
    return NULL;
}

static gd_status copy_meta(gd_input_meta *m, const gd_input_meta *from) {
    if (from->ndim > GD_NODE_INLINE_DIMS) {
        int64_t *heap = malloc(sizeof *heap * (size_t)from->ndim);
        if (!heap)
            return gd_error(GD_ERR_NOMEM, "out of memory");
        m->shape = heap;
    }
    m->ndim = from->ndim;
    m->dtype = from->dtype;
    m->output_nr = from->output_nr;
    memcpy(m->shape, from->shape, sizeof(int64_t) * (size_t)from->ndim);
    return GD_OK;
}

/* *slot (a gradient the rule made from g) gets a REPLAY node for src's op
 * as its grad_fn, with an edge to g (and to src's zero dependency). */
static gd_status attach_replay(gd_node *src, gd_tensor *g, gd_tensor **slot) {
    gd_tensor *t = *slot;
    gd_node *node = NULL;
    gd_autograd_meta *meta = NULL;
    const gd_input_meta *dep_meta = NULL;
    gd_node *dep = zero_dependency(src, &dep_meta);
    gd_status st = GD_OK;
    if (t->refcount != 1 || t->storage->refcount != 1 || t->autograd || t->on_stack) {
        gd_tensor *own = NULL;
        if ((st = gd_clone(t, &own)))
            return st;
        gd_tensor_decref(t);
        *slot = t = own;
    }
    if ((st = gd_node_new(GD_OP_REPLAY, dep ? 2 : 1, &node)))
        return st;
    node->replays = src->op;
    node->name = graph_name(src->op);
    gd_op_args_copy(&node->args, &src->args);
    for (int i = 0; i < GD_NODE_MAX_SAVED; i++) {
        node->saved[i] = src->saved[i];
        node->saved[i].is_output = false; /* read as data, not src's history */
        if (node->saved[i].t)
            gd_tensor_incref(node->saved[i].t);
    }
    if (dep && !(st = copy_meta(&node->inputs[1], dep_meta))) {
        node->inputs[1].output_nr = 0;
        gd_node_incref(dep);
        node->inputs[1].node = dep;
    }
    /* REPLAY's own input is g, whose shape max/min along a dim reads */
    node->inputs[0].output_nr = gd_output_nr(g);
    if (!st && !(st = gd_input_meta_set(&node->inputs[0], g)) &&
        !(st = gd_edge_of(g, &node->inputs[0].node)) &&
        !(st = gd_autograd_meta_get(t, &meta))) {
        meta->grad_fn = node;
        meta->output_nr = 0;
        return GD_OK;
    }
    gd_node_decref(node);
    return st;
}

static gd_status replay_rule(gd_backward_fn rule, gd_node *node, gd_tensor *g,
                             gd_tensor **gi) {
    const gd_input_meta *dep_meta = NULL;
    gd_status st = run_without_graph(rule, node, g, gi);
    if (st || (!gd_requires_grad(g) && !zero_dependency(node, &dep_meta)))
        return st;
    for (int i = 0; i < node->n_inputs && !st; i++)
        if (gi[i])
            st = attach_replay(node, g, &gi[i]);
    return st;
}

/* ---- composites of fused rules ----------------------------------------- */

static gd_tensor *sum_along(rule_ctx *c, gd_tensor *a, int64_t dim) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_reduce(GD_OP_SUM, a, 1, &dim, true, &out), &out);
}

static gd_tensor *clamped(rule_ctx *c, gd_tensor *a, double lo, double hi) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_clamp(a, lo, hi, &out), &out);
}

/* softmax: result * (grad - (grad * result).sum(dim, keepdim=True))
 * log_softmax: grad - result.exp() * grad.sum(dim, keepdim=True) */
static gd_status softmax_graph(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *y = SAVED_RESULT, *r;
    int64_t dim = node->args.i[0];
    if (!NEED(0))
        return finish(&c);
    if (node->op == GD_OP_SOFTMAX)
        r = bin(&c, GD_OP_MUL, y,
                bin(&c, GD_OP_SUB, g, sum_along(&c, bin(&c, GD_OP_MUL, g, y), dim)));
    else
        r = bin(&c, GD_OP_SUB, g,
                bin(&c, GD_OP_MUL, un(&c, GD_OP_EXP, y), sum_along(&c, g, dim)));
    give(&c, r, &gi[0]);
    return finish(&c);
}

/* self: norm * d'(self - target) * grad, target: the negative, where d' is
 * 2x (mse), x clamped to [-delta, delta] (huber), x / beta clamped to [-1, 1]
 * (smooth_l1), and norm 1 / numel for a mean */
static gd_status pointwise_loss_graph(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER, *t = NULL;
    double p = node->args.param;
    gd_tensor *d = bin(&c, GD_OP_SUB, a, b);
    if (node->op == GD_OP_MSE_LOSS)
        t = bin_num(&c, GD_OP_MUL, d, 2.0);
    else if (node->op == GD_OP_HUBER_LOSS)
        t = clamped(&c, d, -p, p);
    else
        t = p == 0 ? un(&c, GD_OP_SIGN, d)
                   : clamped(&c, bin_num(&c, GD_OP_DIV, d, p), -1, 1);
    if (node->args.i[0] == GD_REDUCTION_MEAN && d)
        t = bin_num(&c, GD_OP_DIV, t, (double)d->numel);
    gd_tensor *r = bin(&c, GD_OP_MUL, t, g);
    if (NEED(0))
        give(&c, r, &gi[0]);
    if (NEED(1))
        give(&c, un(&c, GD_OP_NEG, r), &gi[1]);
    return finish(&c);
}

static bool same_shape(const gd_tensor *a, const gd_tensor *b) {
    return a->ndim == b->ndim && a->dtype == b->dtype &&
           memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
}

/* The composite's graph with the fused kernel's numbers: each gradient the
 * composite made (a fresh product no node saved) takes the exact values. */
static gd_status composite_rule(gd_backward_fn rule, gd_node *node, gd_tensor *g,
                                gd_tensor **gi) {
    gd_tensor *exact_local[4] = {NULL}, **exact = exact_local;
    gd_status st = GD_OK;
    if (node->n_inputs > 4)
        return gd_error(GD_ERR_RUNTIME, "%s has too many inputs", node->name);
    if ((st = run_without_graph(rule, node, g, exact)))
        goto done;
    st = node->op == GD_OP_SOFTMAX || node->op == GD_OP_LOG_SOFTMAX
             ? softmax_graph(node, g, gi)
             : pointwise_loss_graph(node, g, gi);
    for (int i = 0; i < node->n_inputs && !st; i++) {
        gd_tensor *t = gi[i];
        if (t && exact[i] && same_shape(t, exact[i]) && gd_is_contiguous(t) &&
            t->storage->refcount == 1 && !t->is_view)
            st = gd_copy_(t, exact[i]);
    }
done:
    for (int i = 0; i < node->n_inputs; i++)
        gd_tensor_decref(exact[i]);
    return st;
}

/* ---- entry -------------------------------------------------------------- */

gd_status gd_run_backward_rule(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    gd_backward_fn rule = gd_backward_rule(node->op);
    if (!gd_grad_enabled())
        return rule(node, g, gi);
    uint64_t first = gd_node_next_seq();
    gd_status st;
    switch (kind_of(node->op)) {
    case REPLAY:
        st = replay_rule(rule, node, g, gi);
        break;
    case COMPOSITE:
        st = composite_rule(rule, node, g, gi);
        break;
    case NO_GRAPH:
        GD_CHECK(!gd_requires_grad(g), GD_ERR_NOTIMPL,
                 "gdlite cannot differentiate the gradient of %s (create_graph=True "
                 "through an indexed assignment)",
                 node->name);
        st = run_without_graph(rule, node, g, gi);
        break;
    default:
        st = rule(node, g, gi);
        /* relu's gradient depends on its result as torch's threshold_backward
         * does, with a zero derivative, even when g has no history */
        if (!st && node->op == GD_OP_RELU && gi[0] && !gd_requires_grad(gi[0]))
            st = attach_replay(node, g, &gi[0]);
        break;
    }
    const char *name = graph_name(node->op);
    for (int i = 0; i < node->n_inputs && !st && name; i++) {
        gd_node *fn = gi[i] ? gd_grad_fn(gi[i]) : NULL;
        if (fn && fn->seq >= first)
            fn->name = name;
    }
    return st;
}
