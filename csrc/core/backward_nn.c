/* Backward rules of softmax and the losses (kernels_nn.c, kernels_loss.c).
 * Each comment gives the formula in derivatives.yaml style; the fused
 * kernels compute them in PyTorch's order of operations. */
#include "backward_rules.h"

/* self: _softmax_backward_data(grad, result, dim) */
static gd_status softmax_rule(gd_node *node, gd_tensor *g, gd_tensor **gi, bool log) {
    RULE_CTX(c);
    gd_tensor *y = SAVED_RESULT, *out = NULL;
    if (NEED(0) && !c.st)
        give(&c, track(&c, gd_softmax_backward(g, y, node->args.i[0], log, &out), &out),
             &gi[0]);
    return finish(&c);
}

gd_status bw_softmax(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return softmax_rule(node, g, gi, false);
}

/* self: _log_softmax_backward_data(grad, result, dim) */
gd_status bw_log_softmax(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return softmax_rule(node, g, gi, true);
}

/* self: nll_loss_backward(grad, self, target, weight, reduction, ignore_index,
 * total_weight); the total weight is summed again from target and weight. */
gd_status bw_nll_loss(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *target = SAVED_OTHER, *weight = SAVED_OPTIONAL(GD_SAVED_INPUT2);
    gd_tensor *out = NULL;
    const gd_input_meta *m = &node->inputs[0];
    if (NEED(0) && !c.st)
        give(&c,
             track(&c,
                   gd_nll_loss_backward(g, m->ndim, m->shape, m->dtype, target, weight,
                                        (int)node->args.i[0], node->args.i[1], &out),
                   &out),
             &gi[0]);
    return finish(&c);
}

/* self: <op>_backward(grad, self, target, reduction[, delta/beta])
 * target: <op>_backward(grad, target, self, reduction[, delta/beta]) */
gd_status bw_pointwise_loss(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER, *out = NULL;
    const gd_op_args *p = &node->args;
    for (int i = 0; i < 2 && !c.st; i++)
        if (NEED(i))
            give(&c,
                 track(&c,
                       gd_pointwise_loss_backward(node->op, g, a, b, (int)p->i[0],
                                                  p->param, i == 1, &out),
                       &out),
                 &gi[i]);
    return finish(&c);
}

/* grad * weight, then / numel for a mean. */
static gd_tensor *weighted(rule_ctx *c, gd_node *node, gd_tensor *t, gd_tensor *w,
                           int64_t numel) {
    if (w)
        t = bin(c, GD_OP_MUL, t, w);
    if (node->args.i[0] == GD_REDUCTION_MEAN)
        t = bin_num(c, GD_OP_DIV, t, (double)numel);
    return t;
}

static int64_t numel_of(const gd_input_meta *m) {
    int64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        n *= m->shape[d];
    return n;
}

/* self: grad * (self - target) / max((1 - self) * self, EPSILON) [* weight] [/ numel]
 * target: -logit(self) * grad [* weight] [/ numel] */
gd_status bw_binary_cross_entropy(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *x = SAVED_SELF, *y = SAVED_OTHER, *w = SAVED_OPTIONAL(GD_SAVED_INPUT2);
    int64_t n = numel_of(&node->inputs[0]);
    if (NEED(0)) {
        gd_tensor *den = bin(&c, GD_OP_MUL, num_bin(&c, GD_OP_SUB, 1.0, x), x);
        den =
            bin(&c, GD_OP_MAXIMUM, den, num(&c, den ? den->dtype : GD_FLOAT32, 1e-12));
        gd_tensor *d =
            bin(&c, GD_OP_DIV, bin(&c, GD_OP_MUL, g, bin(&c, GD_OP_SUB, x, y)), den);
        give(&c, weighted(&c, node, d, w, n), &gi[0]);
    }
    if (NEED(1)) {
        gd_tensor *logit =
            un(&c, GD_OP_LOG, bin(&c, GD_OP_DIV, x, num_bin(&c, GD_OP_SUB, 1.0, x)));
        give(&c,
             weighted(&c, node, bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, logit), g), w, n),
             &gi[1]);
    }
    return finish(&c);
}

/* self: ((pos_weight * target + 1 - target) * sigmoid(self) - pos_weight * target)
 *       * grad, or (sigmoid(self) - target) * grad [* weight] [/ numel]
 * target: (log_sigmoid(-self) - log_sigmoid(self) * pos_weight) * grad, or
 *       -self * grad [* weight] [/ numel] */
gd_status bw_bce_with_logits(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *x = SAVED_SELF, *y = SAVED_OTHER, *w = SAVED_OPTIONAL(GD_SAVED_INPUT2);
    gd_tensor *pw = SAVED_OPTIONAL(GD_SAVED_INPUT3);
    int64_t n = numel_of(&node->inputs[0]);
    if (NEED(0)) {
        gd_tensor *sig = un(&c, GD_OP_SIGMOID, x), *d;
        if (pw) {
            gd_tensor *t = bin(&c, GD_OP_MUL, pw, y);
            d = bin(&c, GD_OP_SUB,
                    bin(&c, GD_OP_MUL,
                        bin(&c, GD_OP_SUB, bin_num(&c, GD_OP_ADD, t, 1.0), y), sig),
                    t);
        } else {
            d = bin(&c, GD_OP_SUB, sig, y);
        }
        give(&c, weighted(&c, node, bin(&c, GD_OP_MUL, d, g), w, n), &gi[0]);
    }
    if (NEED(1)) {
        gd_tensor *d;
        if (pw) {
            /* log_sigmoid(v) = -(relu(-v) + log1p(exp(-|v|))), finite for any v */
            gd_tensor *sp =
                un(&c, GD_OP_LOG1P,
                   un(&c, GD_OP_EXP, un(&c, GD_OP_NEG, un(&c, GD_OP_ABS, x))));
            gd_tensor *ls_neg =
                un(&c, GD_OP_NEG, bin(&c, GD_OP_ADD, un(&c, GD_OP_RELU, x), sp));
            gd_tensor *ls_pos =
                un(&c, GD_OP_NEG,
                   bin(&c, GD_OP_ADD, un(&c, GD_OP_RELU, un(&c, GD_OP_NEG, x)), sp));
            d = bin(&c, GD_OP_SUB, ls_neg, bin(&c, GD_OP_MUL, ls_pos, pw));
        } else {
            d = un(&c, GD_OP_NEG, x);
        }
        give(&c, weighted(&c, node, bin(&c, GD_OP_MUL, d, g), w, n), &gi[1]);
    }
    return finish(&c);
}
