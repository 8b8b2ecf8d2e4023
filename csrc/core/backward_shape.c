/* Backward rules of views, data movement and gathering: the gradient is
 * routed back to where each element came from (formulas in derivatives.yaml
 * style, as in backward.c). */
#include "backward_rules.h"

/* ---- views and data movement ------------------------------------------- */

/* grad.reshape(self.shape) (view, reshape, squeeze, unsqueeze) */
gd_status bw_reshape(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    const gd_input_meta *m = &node->inputs[0];
    if (NEED(0))
        give(&c, reshaped(&c, g, m->ndim, m->shape), &gi[0]);
    return finish(&c);
}

/* grad.transpose(dim0, dim1) */
gd_status bw_transpose(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *t = NULL;
    if (NEED(0)) /* its own forward, with its name: g.t() for x.t() */
        give(&c, track(&c, gd_call(GD_OP_TRANSPOSE, 1, &g, &node->args, &t), &t),
             &gi[0]);
    return finish(&c);
}

/* grad.permute(inverse(dims)) */
gd_status bw_permute(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    int64_t inverse[GD_MAX_DIMS] = {0};
    gd_tensor *t = NULL;
    int nd = node->args.ndims;
    for (int i = 0; i < nd; i++) {
        int d = 0;
        gd_wrap_dim(node->args.dims[i], nd, &d);
        inverse[d] = i;
    }
    if (NEED(0))
        give(&c, track(&c, gd_g_permute(g, nd, inverse, &t), &t), &gi[0]);
    return finish(&c);
}

/* zeros(self) with grad written into the selected part */
static gd_status scatter_view(gd_node *node, gd_tensor *g, gd_tensor **gi,
                              bool select) {
    RULE_CTX(c);
    const gd_op_args *p = &node->args;
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype), *part = NULL;
    if (!NEED(0) || c.st)
        return finish(&c);
    gd_status st = select ? gd_select(z, p->i[0], p->i[1], &part)
                          : gd_slice(z, p->i[0], p->i[1], p->i[2], p->i[3], &part);
    if (!track(&c, st, &part) || (c.st = gd_copy_(part, g)))
        return finish(&c);
    give(&c, z, &gi[0]);
    return finish(&c);
}

gd_status bw_select(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return scatter_view(node, g, gi, true);
}

gd_status bw_slice(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return scatter_view(node, g, gi, false);
}

/* each input: grad.narrow(dim, offset, size). cat and stack take any number
 * of inputs, so the parts go straight to the engine (which releases them)
 * rather than through a rule_ctx. */
gd_status bw_cat(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    int d = 0;
    int64_t at = 0;
    gd_status st = gd_wrap_dim(node->args.i[0], g->ndim, &d);
    for (int i = 0; i < node->n_inputs && !st; i++) {
        const gd_input_meta *m = &node->inputs[i];
        if (m->ndim == 1 && m->shape[0] == 0)
            continue; /* skipped by cat */
        if (NEED(i))
            st = gd_g_slice(g, d, at, at + m->shape[d], 1, &gi[i]);
        at += m->shape[d];
    }
    return st;
}

/* each input: grad.select(dim, i) */
gd_status bw_stack(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    gd_status st = GD_OK;
    for (int i = 0; i < node->n_inputs && !st; i++)
        if (NEED(i))
            st = gd_g_select(g, node->args.i[0], i, &gi[i]);
    return st;
}

/* inputs (self, values, positions); the positions get no edge.
 * self: grad with the written positions zeroed; values: grad.flat[positions] */
gd_status bw_put(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *pos = SAVED_INPUT2, *t = NULL;
    if (NEED(0) && !c.st) {
        gd_tensor *cleared = track(&c, gd_clone(g, &t), &t);
        if (cleared && !(c.st = gd_put_(cleared, pos, num(&c, g->dtype, 0.0))))
            give(&c, cleared, &gi[0]);
    }
    if (NEED(1) && !c.st)
        give(&c, track(&c, gd_take(g, pos, &t), &t), &gi[1]);
    return finish(&c);
}

/* self: zeros; src: grad (summed to src's shape by the engine) */
gd_status bw_copy(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    if (NEED(0))
        give(&c, zeros_of(&c, node, 0, g->dtype), &gi[0]);
    if (NEED(1))
        give(&c, g, &gi[1]);
    return finish(&c);
}

/* ---- gathering along dims ---------------------------------------------- */

/* self: zeros(self).index_add_(dim, index, grad) */
gd_status bw_index_select(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *index = SAVED_OTHER;
    if (!NEED(0) || c.st)
        return finish(&c);
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype);
    if (z && !(c.st = gd_index_add_dim_(z, node->args.i[0], index, g)))
        give(&c, z, &gi[0]);
    return finish(&c);
}

/* self: zeros(self).scatter_add_(dim, index, grad) */
gd_status bw_gather(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *index = SAVED_OTHER;
    if (!NEED(0) || c.st)
        return finish(&c);
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype);
    if (z && !(c.st = gd_scatter_add_(z, node->args.i[0], index, g)))
        give(&c, z, &gi[0]);
    return finish(&c);
}

/* self: grad; src: grad.gather(dim, index) (inputs: self, src, index) */
gd_status bw_scatter_add(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *index = SAVED_INPUT2, *t = NULL;
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1) && !c.st)
        give(&c, track(&c, gd_g_gather(g, node->args.i[0], index, &t), &t), &gi[1]);
    return finish(&c);
}

/* self: zeros(self).index_put_(indices, grad, accumulate=True) */
gd_status bw_index(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *ix = SAVED_OTHER;
    if (!NEED(0) || c.st)
        return finish(&c);
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype);
    if (z && !(c.st = gd_index_put_(z, node->args.ndims, node->args.dims, ix, g, true)))
        give(&c, z, &gi[0]);
    return finish(&c);
}

/* no derivative: a backward through these nodes fails as PyTorch's does */
gd_status bw_not_implemented(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    (void)g;
    (void)gi;
    if (node->op == GD_OP_BINCOUNT)
        return gd_error(GD_ERR_RUNTIME,
                        "derivative for aten::bincount is not implemented");
    return gd_error(GD_ERR_NOTIMPL, "the derivative for '%s' is not implemented.",
                    gd_op_name(node->op));
}
