/* What every backward rule file shares: the temporaries of one rule, named
 * access to what its node saved, small op helpers, and the rules defined
 * outside backward.c (whose table lists them all). Internal to the core. */
#ifndef GD_BACKWARD_RULES_H
#define GD_BACKWARD_RULES_H

#include "internal.h"

#include <string.h>

/* Temporaries of one rule, released together. A failed step records its
 * status and makes every later step a no-op returning NULL. */
typedef struct {
    gd_status st;
    bool graph; /* grad mode on (create_graph): the helpers record */
    int n;
    gd_tensor *tmp[40]; /* entries below n only: not zeroed up front */
} rule_ctx;
#define RULE_CTX_AS(c, record)                                                         \
    rule_ctx c;                                                                        \
    c.st = GD_OK;                                                                      \
    c.graph = (record);                                                                \
    c.n = 0
/* In a rule: records when the engine runs the node under create_graph. */
#define RULE_CTX(c) RULE_CTX_AS(c, node->graph)
/* In a forward kernel built from the helpers: never records. */
#define KERNEL_CTX(c) RULE_CTX_AS(c, false)

/* Takes the result by address: it is read after the call that fills it. */
static inline gd_tensor *track(rule_ctx *c, gd_status st, gd_tensor **result) {
    gd_tensor *t = *result;
    if (st && !c->st)
        c->st = st;
    if (!t)
        return NULL;
    if (c->n == (int)(sizeof c->tmp / sizeof c->tmp[0])) {
        gd_tensor_decref(t);
        if (!c->st)
            c->st =
                gd_error(GD_ERR_RUNTIME, "backward rule needs too many temporaries");
        return NULL;
    }
    return c->tmp[c->n++] = t;
}

static inline gd_status finish(rule_ctx *c) {
    for (int i = 0; i < c->n; i++)
        gd_tensor_decref(c->tmp[i]);
    return c->st;
}

/* Hands t to the engine as a gradient (a new reference). */
static inline void give(rule_ctx *c, gd_tensor *t, gd_tensor **slot) {
    if (c->st || !t)
        return;
    gd_tensor_incref(t);
    *slot = t;
}

#define NEED(i) ((i) < node->n_inputs && node->inputs[(i)].node != NULL)

/* Borrowed from the node; under create_graph a new alias, tracked, carrying
 * the node as its grad_fn when it is the node's output (gd_unpack_saved_ref). */
static inline gd_tensor *saved(rule_ctx *c, gd_node *node, int slot) {
    gd_tensor *t = NULL;
    if (c->st)
        return NULL;
    if (c->graph)
        return track(c, gd_unpack_saved_ref(node, slot, &t), &t);
    if ((c->st = gd_unpack_saved(node, slot, &t)))
        return NULL;
    return t;
}

/* What the node saved, as its row's `saves` column names it; inside a rule
 * (whose context is `c` and whose node is `node`). */
#define SAVED_SELF saved(&c, node, GD_SAVED_SELF)
#define SAVED_OTHER saved(&c, node, GD_SAVED_OTHER)
#define SAVED_RESULT saved(&c, node, GD_SAVED_RESULT)
#define SAVED_INDICES saved(&c, node, GD_SAVED_INDICES)
#define SAVED_INPUT2 saved(&c, node, GD_SAVED_INPUT2)
#define SAVED_INPUT3 saved(&c, node, GD_SAVED_INPUT3)
/* An optional input that was not given is saved as nothing: NULL. */
#define SAVED_OPTIONAL(slot) (node->saved[(slot)].t ? saved(&c, node, (slot)) : NULL)

static inline gd_tensor *bin(rule_ctx *c, gd_op op, gd_tensor *a, gd_tensor *b) {
    gd_tensor *out = NULL;
    if (c->st || !a || !b)
        return NULL;
    if (!c->graph)
        return track(c, gd_binary(op, a, b, gd_promote_types(a->dtype, b->dtype), &out),
                     &out);
    return track(c, gd_g_binary(op, a, b, &out), &out);
}

static inline gd_tensor *num(rule_ctx *c, gd_dtype dt, double v) {
    gd_tensor *out = NULL;
    int64_t none[1] = {0};
    if (c->st)
        return NULL;
    return track(c, gd_full(dt, 0, none, v, &out), &out);
}

/* a op v and v op a, v taken in a's dtype as PyTorch takes Python scalars;
 * recorded under create_graph with the names PyTorch's formulas give them
 * (a * v is MulBackward1, a / v DivBackward1, v - a RsubBackward1). */
static inline gd_tensor *bin_num(rule_ctx *c, gd_op op, gd_tensor *a, double v) {
    gd_tensor *b = a ? num(c, a->dtype, v) : NULL, *out = NULL;
    gd_decomposition name = op == GD_OP_MUL   ? GD_DECOMP_MUL_SCALAR
                            : op == GD_OP_DIV ? GD_DECOMP_DIV_SCALAR
                                              : GD_DECOMP_DEFAULT;
    if (c->st || !b)
        return NULL;
    if (!c->graph)
        return track(c, gd_binary(op, a, b, a->dtype, &out), &out);
    return track(c, gd_g_binary_as(op, a, b, name, &out), &out);
}
static inline gd_tensor *num_bin(rule_ctx *c, gd_op op, double v, gd_tensor *a) {
    gd_tensor *b = a ? num(c, a->dtype, v) : NULL, *out = NULL;
    if (c->st || !b)
        return NULL;
    if (!c->graph)
        return track(c, gd_binary(op, b, a, a->dtype, &out), &out);
    if (op == GD_OP_MUL) /* v * a == a * v, bit for bit */
        return track(c, gd_g_binary_as(op, a, b, GD_DECOMP_MUL_SCALAR, &out), &out);
    gd_decomposition name = op == GD_OP_SUB ? GD_DECOMP_RSUB_SCALAR : GD_DECOMP_DEFAULT;
    return track(c, gd_g_binary_as(op, b, a, name, &out), &out);
}

static inline gd_tensor *un(rule_ctx *c, gd_op op, gd_tensor *a) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, c->graph ? gd_g_unary(op, a, &out) : gd_unary(op, a, &out), &out);
}

static inline gd_tensor *where0(rule_ctx *c, gd_tensor *cond, gd_tensor *a,
                                bool zero_if_true) {
    gd_tensor *out = NULL;
    if (c->st || !cond || !a)
        return NULL;
    gd_tensor *zero = num(c, a->dtype, 0.0);
    if (!zero)
        return NULL;
    return track(c,
                 zero_if_true ? gd_g_where(cond, zero, a, a->dtype, &out)
                              : gd_g_where(cond, a, zero, a->dtype, &out),
                 &out);
}

/* where(cond, a, b) in `dtype` */
static inline gd_tensor *where3(rule_ctx *c, gd_tensor *cond, gd_tensor *a,
                                gd_tensor *b, gd_dtype dtype) {
    gd_tensor *out = NULL;
    if (c->st || !cond || !a || !b)
        return NULL;
    return track(c, gd_g_where(cond, a, b, dtype, &out), &out);
}

static inline gd_tensor *transposed(rule_ctx *c, gd_tensor *a, int64_t d0, int64_t d1) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_transpose(a, d0, d1, &out), &out);
}

static inline gd_tensor *unsqueezed(rule_ctx *c, gd_tensor *a, int64_t dim) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_unsqueeze(a, dim, &out), &out);
}

static inline gd_tensor *squeezed(rule_ctx *c, gd_tensor *a, int64_t dim) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_squeeze(a, dim, &out), &out);
}

static inline gd_tensor *mm(rule_ctx *c, gd_tensor *a, gd_tensor *b) {
    gd_tensor *out = NULL;
    if (c->st || !a || !b)
        return NULL;
    return track(c, gd_g_matmul(a, b, &out), &out);
}

static inline gd_tensor *zeros_of(rule_ctx *c, gd_node *node, int i, gd_dtype dt) {
    gd_tensor *out = NULL;
    if (c->st)
        return NULL;
    const gd_input_meta *m = &node->inputs[i];
    return track(c, gd_zeros(dt, m->ndim, m->shape, &out), &out);
}

static inline gd_tensor *reshaped(rule_ctx *c, gd_tensor *a, int ndim,
                                  const int64_t *shape) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_reshape(a, ndim, shape, &out), &out);
}

/* grad of a reduction, viewed with the reduced dims kept as size 1 and
 * expanded back to the input's shape. */
static inline gd_tensor *unreduce(rule_ctx *c, gd_node *node, gd_tensor *g,
                                  bool expand) {
    const gd_input_meta *m = &node->inputs[0];
    int64_t keep[GD_MAX_DIMS];
    memcpy(keep, m->shape, sizeof(int64_t) * (size_t)m->ndim);
    if (node->args.ndims < 0) {
        for (int d = 0; d < m->ndim; d++)
            keep[d] = 1;
    } else {
        for (int k = 0; k < node->args.ndims; k++) {
            int d;
            if (!c->st && gd_wrap_dim(node->args.dims[k], m->ndim, &d) == GD_OK &&
                m->ndim > 0)
                keep[d] = 1;
        }
    }
    gd_tensor *kept = reshaped(c, g, m->ndim, keep), *out = NULL;
    if (!expand || !kept)
        return kept;
    return track(c, gd_g_expand(kept, m->ndim, m->shape, &out), &out);
}

static inline gd_tensor *reduce_keep(rule_ctx *c, gd_node *node, gd_op op,
                                     gd_tensor *a) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_reduce(op, a, node->args.ndims, node->args.dims, true, &out),
                 &out);
}

/* Rules for views, data movement and gathering (backward_shape.c). */
gd_status bw_reshape(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_transpose(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_permute(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_select(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_slice(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_cat(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_stack(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_put(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_copy(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_index_select(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_not_implemented(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_gather(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_scatter_add(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_index(gd_node *node, gd_tensor *g, gd_tensor **gi);

/* Rules for softmax and the losses (backward_nn.c). */
gd_status bw_softmax(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_log_softmax(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_nll_loss(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_pointwise_loss(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_binary_cross_entropy(gd_node *node, gd_tensor *g, gd_tensor **gi);
gd_status bw_bce_with_logits(gd_node *node, gd_tensor *g, gd_tensor **gi);

/* The rule of cumprod (backward_scan.c). */
gd_status bw_cumprod(gd_node *node, gd_tensor *g, gd_tensor **gi);

/* The node of a gradient computed under create_graph (backward_graph.c). */
gd_status bw_replay(gd_node *node, gd_tensor *g, gd_tensor **gi);

#endif
