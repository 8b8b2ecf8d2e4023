/* Backward rules, one small function per differentiable op: arithmetic,
 * unary math, reductions, matmul and scans here, views and gathering in
 * backward_shape.c, and the table of every rule at the end. Each comment
 * gives the formula in derivatives.yaml style; the code follows PyTorch's
 * order of operations so float32 results round the same way. Rules fill
 * only the gradients whose inputs need one; the engine sums broadcast
 * dimensions away and casts to each input's dtype. */
#include "backward_rules.h"

#include <math.h>
#include <string.h>

/* ---- arithmetic --------------------------------------------------------- */

/* self: grad; other: grad */
static gd_status bw_add(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1))
        give(&c, node->args.scaled ? bin_num(&c, GD_OP_MUL, g, node->args.alpha) : g,
             &gi[1]);
    return finish(&c);
}

/* self: grad; other: -grad (times alpha when given) */
static gd_status bw_sub(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1)) {
        gd_tensor *negated = un(&c, GD_OP_NEG, g);
        give(&c,
             node->args.scaled && negated
                 ? bin_num(&c, GD_OP_MUL, negated, node->args.alpha)
                 : negated,
             &gi[1]);
    }
    return finish(&c);
}

/* self: grad * other; other: grad * self */
static gd_status bw_mul(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER;
    if (NEED(0))
        give(&c, bin(&c, GD_OP_MUL, g, b), &gi[0]);
    if (NEED(1))
        give(&c, bin(&c, GD_OP_MUL, g, a), &gi[1]);
    return finish(&c);
}

/* self: grad / other; other: -grad * ((self / other) / other) */
static gd_status bw_div(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER;
    if (NEED(0))
        give(&c, bin(&c, GD_OP_DIV, g, b), &gi[0]);
    if (NEED(1)) {
        gd_tensor *q = bin(&c, GD_OP_DIV, bin(&c, GD_OP_DIV, a, b), b);
        give(&c, bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, g), q), &gi[1]);
    }
    return finish(&c);
}

/* self: grad; other: -grad * self.div(other, rounding_mode="floor") */
static gd_status bw_remainder(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER;
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1))
        give(
            &c,
            bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, g), bin(&c, GD_OP_FLOOR_DIVIDE, a, b)),
            &gi[1]);
    return finish(&c);
}

/* grad * (e * self.pow(e - 1)) for a number e != 0 (of dtype e_dtype),
 * fused: each step rounds in the tensor's dtype exactly as the unfused ops
 * do. NULL if the operands do not fit the fast loop. */
static gd_tensor *pow_number_grad(rule_ctx *c, gd_tensor *g, gd_tensor *a, double e,
                                  gd_dtype e_dtype, bool python_number) {
    gd_tensor *out = NULL;
    bool fits = !c->st && a && !gd_grad_enabled() && g->dtype == a->dtype &&
                e_dtype == a->dtype && gd_dtype_is_floating(a->dtype) &&
                g->ndim == a->ndim && gd_is_contiguous(g) && gd_is_contiguous(a) &&
                memcmp(g->shape, a->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
    if (!fits || e == 0 || !track(c, gd_empty(a->dtype, a->ndim, a->shape, &out), &out))
        return NULL;
    int64_t n = a->numel;
    if (a->dtype == GD_FLOAT32) {
        const float *x = (const float *)gd_data_ptr(a),
                    *gr = (const float *)gd_data_ptr(g);
        float ef = (float)e, e1 = ef - 1, *o = (float *)gd_data_ptr(out);
        gd_tensor *p = NULL;
        double d1 = e - 1; /* PyTorch's Scalar arithmetic: in double */
        bool exact = d1 == 0 || d1 == 1 || d1 == 2 || d1 == 3 || d1 == -1 || d1 == -2 ||
                     d1 == 0.5 || d1 == -0.5;
        if (python_number) {
            /* self.pow(e - 1) rounded as the forward rounds x ** number */
            e1 = (float)d1;
            if (!exact && !track(c, gd_math_pow_number(a, NULL, d1, &p), &p))
                return NULL;
        }
        const float *pw = p ? (const float *)gd_data_ptr(p) : NULL;
        for (int64_t i = 0; i < n; i++)
            o[i] = gr[i] * (ef * (pw ? pw[i] : gd_pow_number_f32(x[i], e1)));
    } else {
        const double *x = (const double *)gd_data_ptr(a),
                     *gr = (const double *)gd_data_ptr(g);
        double e1 = e - 1, *o = (double *)gd_data_ptr(out);
        for (int64_t i = 0; i < n; i++)
            o[i] = gr[i] * (e * gd_pow_number_f64(x[i], e1));
    }
    return out;
}

/* self: where(exponent == 0, 0, grad * (exponent * self.pow(exponent - 1)))
 * exponent: grad * where(self == 0 & exponent >= 0, 0, result * self.log())
 * x ** 2 saves the number 2 (and no result: the number gets no gradient). */
static gd_status bw_pow(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = NULL, *fused = NULL;
    double e;
    gd_dtype e_dtype;
    if (NEED(0) && !NEED(1)) {
        /* A Python number exponent is kept unrounded in the node's args. */
        bool number = node->args.scalar_operand == 2;
        if (gd_saved_number(node, GD_SAVED_OTHER, &e, &e_dtype))
            fused = pow_number_grad(&c, g, a, number ? node->args.param : e, e_dtype,
                                    number);
        else if ((b = SAVED_OTHER) && b->numel == 1)
            fused = pow_number_grad(&c, g, a, gd_get_flat(b, 0), b->dtype, false);
    }
    if (fused) {
        give(&c, fused, &gi[0]);
        return finish(&c);
    }
    b = SAVED_OTHER;
    if (NEED(0)) {
        gd_tensor *p = bin(&c, GD_OP_POW, a, bin_num(&c, GD_OP_SUB, b, 1.0));
        gd_tensor *d = bin(&c, GD_OP_MUL, g, bin(&c, GD_OP_MUL, b, p));
        /* A number exponent other than 0 needs no mask. */
        if (b && !(b->numel == 1 && gd_get_flat(b, 0) != 0))
            d = where0(&c, bin_num(&c, GD_OP_EQ, b, 0.0), d, true);
        give(&c, d, &gi[0]);
    }
    if (NEED(1)) {
        gd_tensor *r = SAVED_RESULT;
        gd_tensor *cond = bin(&c, GD_OP_LOGICAL_AND, bin_num(&c, GD_OP_EQ, a, 0.0),
                              bin_num(&c, GD_OP_GE, b, 0.0));
        gd_tensor *d =
            where0(&c, cond, bin(&c, GD_OP_MUL, r, un(&c, GD_OP_LOG, a)), true);
        give(&c, bin(&c, GD_OP_MUL, g, d), &gi[1]);
    }
    return finish(&c);
}

/* self: where(self == other, grad / 2, grad).masked_fill(self < other, 0)
 * other: the same with self > other (maximum; reversed for minimum) */
static gd_status extreme_pair(gd_node *node, gd_tensor *g, gd_tensor **gi, gd_op lose_a,
                              gd_op lose_b) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER;
    gd_tensor *tie = bin(&c, GD_OP_EQ, a, b), *half = bin_num(&c, GD_OP_DIV, g, 2.0);
    gd_tensor *split = where3(&c, tie, half, g, g->dtype);
    if (NEED(0))
        give(&c, where0(&c, bin(&c, lose_a, a, b), split, true), &gi[0]);
    if (NEED(1))
        give(&c, where0(&c, bin(&c, lose_b, a, b), split, true), &gi[1]);
    return finish(&c);
}

static gd_status bw_maximum(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return extreme_pair(node, g, gi, GD_OP_LT, GD_OP_GT);
}

static gd_status bw_minimum(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return extreme_pair(node, g, gi, GD_OP_GT, GD_OP_LT);
}

/* ---- unary -------------------------------------------------------------- */

/* A rule of the form grad * f(s), or grad op f(s), where s is what the
 * node saved (SAVED_SELF or SAVED_RESULT; NULL when nothing). */
#define UNARY_RULE(name, SAVED, EXPR)                                                  \
    static gd_status name(gd_node *node, gd_tensor *g, gd_tensor **gi) {               \
        RULE_CTX(c);                                                                   \
        gd_tensor *s = SAVED;                                                          \
        (void)s;                                                                       \
        if (NEED(0))                                                                   \
            give(&c, (EXPR), &gi[0]);                                                  \
        return finish(&c);                                                             \
    }

/* -grad */
UNARY_RULE(bw_neg, NULL, un(&c, GD_OP_NEG, g))
/* grad * self.sgn() */
UNARY_RULE(bw_abs, SAVED_SELF, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_SIGN, s)))
/* grad * result */
UNARY_RULE(bw_exp, SAVED_RESULT, bin(&c, GD_OP_MUL, g, s))
/* grad / self */
UNARY_RULE(bw_log, SAVED_SELF, bin(&c, GD_OP_DIV, g, s))
/* grad / (self + 1) */
UNARY_RULE(bw_log1p, SAVED_SELF, bin(&c, GD_OP_DIV, g, bin_num(&c, GD_OP_ADD, s, 1.0)))
/* grad / (2 * result) */
UNARY_RULE(bw_sqrt, SAVED_RESULT, bin(&c, GD_OP_DIV, g, num_bin(&c, GD_OP_MUL, 2.0, s)))
/* grad * (2 * self) */
UNARY_RULE(bw_square, SAVED_SELF, bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_MUL, 2.0, s)))
/* -grad * (result * result) */
UNARY_RULE(bw_reciprocal, SAVED_RESULT,
           bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, g), bin(&c, GD_OP_MUL, s, s)))
/* grad * self.cos() */
UNARY_RULE(bw_sin, SAVED_SELF, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_COS, s)))
/* grad * -self.sin() */
UNARY_RULE(bw_cos, SAVED_SELF,
           bin(&c, GD_OP_MUL, g, un(&c, GD_OP_NEG, un(&c, GD_OP_SIN, s))))
/* grad * (1 + result * result) */
UNARY_RULE(bw_tan, SAVED_RESULT,
           bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_ADD, 1.0, bin(&c, GD_OP_MUL, s, s))))
/* grad * self.cosh() */
UNARY_RULE(bw_sinh, SAVED_SELF, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_COSH, s)))
/* grad * self.sinh() */
UNARY_RULE(bw_cosh, SAVED_SELF, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_SINH, s)))
/* grad * (1 - result * result), fused as PyTorch's tanh_backward kernel is */
static gd_tensor *tanh_grad(rule_ctx *c, gd_tensor *g, gd_tensor *s) {
    gd_tensor *out = NULL;
    if (c->st || !g || !s)
        return NULL;
    bool fused = g->dtype == s->dtype && g->ndim == s->ndim &&
                 memcmp(g->shape, s->shape, sizeof(int64_t) * (size_t)s->ndim) == 0;
    if (fused && !c->graph)
        return track(c, gd_math_tanh_backward(g, s, &out), &out);
    gd_tensor *r =
        bin(c, GD_OP_MUL, g, num_bin(c, GD_OP_SUB, 1.0, bin(c, GD_OP_MUL, s, s)));
    /* Under create_graph: the composite's graph, the fused kernel's numbers. */
    if (fused && r && gd_is_contiguous(r) && r->storage->refcount == 1 && !r->is_view) {
        gd_tensor *exact = track(c, gd_math_tanh_backward(g, s, &out), &out);
        if (exact && !c->st)
            c->st = gd_copy_(r, exact);
    }
    return r;
}
UNARY_RULE(bw_tanh, SAVED_RESULT, tanh_grad(&c, g, s))
/* grad * (1 - result) * result */
UNARY_RULE(bw_sigmoid, SAVED_RESULT,
           bin(&c, GD_OP_MUL, bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_SUB, 1.0, s)), s))
/* threshold_backward(grad, result, 0): 0 where result <= 0 */
UNARY_RULE(bw_relu, SAVED_RESULT, where0(&c, bin_num(&c, GD_OP_LE, s, 0.0), g, true))
/* zeros (sign, floor, ceil, round, fill) */
UNARY_RULE(bw_zero, NULL, zeros_of(&c, node, 0, g->dtype))
/* grad (expand: summed back by the engine; to: cast by it; clone) */
UNARY_RULE(bw_identity, NULL, g)

/* where(min <= self <= max, grad, 0), each bound only if given */
static gd_status bw_clamp(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *inside = NULL;
    const gd_op_args *p = &node->args;
    gd_tensor *lo = p->has_min ? bin_num(&c, GD_OP_GE, a, p->min) : NULL;
    gd_tensor *hi = p->has_max ? bin_num(&c, GD_OP_LE, a, p->max) : NULL;
    inside = lo && hi ? bin(&c, GD_OP_LOGICAL_AND, lo, hi) : lo ? lo : hi;
    if (NEED(0))
        give(&c, where0(&c, inside, g, false), &gi[0]);
    return finish(&c);
}

/* self: where(condition, grad, 0); other: where(condition, 0, grad) */
static gd_status bw_where(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *cond = SAVED_SELF;
    if (NEED(1))
        give(&c, where0(&c, cond, g, false), &gi[1]);
    if (NEED(2))
        give(&c, where0(&c, cond, g, true), &gi[2]);
    return finish(&c);
}

/* ---- reductions --------------------------------------------------------- */

/* grad expanded to the input's shape */
static gd_status bw_sum(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    if (NEED(0))
        give(&c, unreduce(&c, node, g, true), &gi[0]);
    return finish(&c);
}

/* grad expanded / (input numel / output numel) */
static gd_status bw_mean(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    const gd_input_meta *m = &node->inputs[0];
    int64_t n_in = 1;
    for (int d = 0; d < m->ndim; d++)
        n_in *= m->shape[d];
    double count = g->numel ? (double)n_in / (double)g->numel : 0.0;
    if (NEED(0) && g->numel == 1 && !gd_requires_grad(g)) {
        /* One output: every input gets grad / count, rounded in the grad's
         * dtype as the division grad / count would, filled in one pass. */
        gd_tensor *out = NULL;
        double share = gd_get_flat(g, 0) / count;
        if (g->dtype == GD_FLOAT32)
            share = (float)gd_get_flat(g, 0) / (float)count;
        if (gd_dtype_is_floating(g->dtype))
            give(&c, track(&c, gd_full(m->dtype, m->ndim, m->shape, share, &out), &out),
                 &gi[0]);
        else
            give(&c, bin_num(&c, GD_OP_DIV, unreduce(&c, node, g, true), count),
                 &gi[0]);
    } else if (NEED(0)) {
        give(&c, bin_num(&c, GD_OP_DIV, unreduce(&c, node, g, true), count), &gi[0]);
    }
    return finish(&c);
}

/* grad * (result / self) without zeros; with one zero in a group, the
 * product of the others there; with more, zero. */
static gd_status bw_prod(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *r = SAVED_RESULT;
    if (!NEED(0))
        return finish(&c);
    gd_tensor *gx = unreduce(&c, node, g, true), *rx = unreduce(&c, node, r, true);
    gd_tensor *is_zero = bin_num(&c, GD_OP_EQ, a, 0.0);
    gd_tensor *zeros = reduce_keep(&c, node, GD_OP_SUM, is_zero);
    gd_tensor *value = NULL, *total = NULL;
    if (!c.st)
        track(&c, gd_reduce(GD_OP_SUM, is_zero, -1, NULL, false, 0.0, &total), &total);
    if (total && gd_get_flat_int(total, 0) == 0)
        value = bin(&c, GD_OP_DIV, rx, a);
    if (total && gd_get_flat_int(total, 0) > 0) {
        gd_tensor *nonzero = where3(&c, is_zero, num(&c, a->dtype, 1.0), a, a->dtype);
        /* dividing by the zeros replaced by 1 gives the same numbers where
         * they are used, and a gradient of it no 0 * inf */
        value = bin(&c, GD_OP_DIV, rx, nonzero);
        gd_tensor *others = reduce_keep(&c, node, GD_OP_PROD, nonzero);
        gd_tensor *single =
            bin(&c, GD_OP_LOGICAL_AND, is_zero, bin_num(&c, GD_OP_EQ, zeros, 1.0));
        gd_tensor *at_zero = where0(&c, single, others, false);
        gd_tensor *none = bin_num(&c, GD_OP_EQ, zeros, 0.0);
        value = where3(&c, none, value, at_zero, a->dtype);
    }
    give(&c, bin(&c, GD_OP_MUL, gx, value), &gi[0]);
    return finish(&c);
}

/* (grad / mask.sum(dims)) * mask with mask = (self == result), so ties share
 * the gradient evenly (NaN results select the NaN elements). */
static gd_status bw_extreme(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *r = SAVED_RESULT;
    if (!NEED(0))
        return finish(&c);
    gd_tensor *rk = unreduce(&c, node, r, false);
    gd_tensor *mask = bin(&c, GD_OP_EQ, a, rk);
    gd_tensor *both_nan =
        bin(&c, GD_OP_LOGICAL_AND, bin(&c, GD_OP_NE, a, a), bin(&c, GD_OP_NE, rk, rk));
    mask = bin(&c, GD_OP_LOGICAL_OR, mask, both_nan);
    gd_tensor *count = reduce_keep(&c, node, GD_OP_SUM, mask);
    gd_tensor *share = bin(&c, GD_OP_DIV, unreduce(&c, node, g, false), count);
    give(&c, bin(&c, GD_OP_MUL, share, mask), &gi[0]);
    return finish(&c);
}

/* zeros with grad scattered to the selected indices along dim */
static gd_status bw_extreme_dim(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *idx = SAVED_INDICES, *pos = NULL;
    const gd_input_meta *m = &node->inputs[0];
    int d = 0;
    if (!NEED(0) || c.st)
        return finish(&c);
    if (m->ndim == 0) {
        give(&c, reshaped(&c, g, 0, m->shape), &gi[0]);
        return finish(&c);
    }
    gd_wrap_dim(node->args.i[0], m->ndim, &d);
    gd_tensor *flat_idx = NULL;
    int64_t keep[GD_MAX_DIMS], n = 1;
    memcpy(keep, m->shape, sizeof(int64_t) * (size_t)m->ndim);
    keep[d] = 1;
    for (int k = 0; k < m->ndim; k++)
        n *= keep[k];
    flat_idx = reshaped(&c, idx, 1, &n);
    if (!c.st)
        track(&c, gd_empty(GD_INT64, 1, &n, &pos), &pos);
    if (c.st)
        return finish(&c);
    /* position of (.., index along d, ..) in the row-major input */
    int64_t inner = 1;
    for (int k = d + 1; k < m->ndim; k++)
        inner *= m->shape[k];
    for (int64_t j = 0; j < n; j++) {
        int64_t outer = j / inner, rest = j % inner;
        ((int64_t *)gd_data_ptr(pos))[j] =
            (outer * m->shape[d] + gd_get_flat_int(flat_idx, j)) * inner + rest;
    }
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype);
    gd_tensor *vals = reshaped(&c, g, 1, &n);
    if (!c.st && (c.st = gd_put_(z, pos, vals)) == GD_OK)
        give(&c, z, &gi[0]);
    return finish(&c);
}

/* (2 / (N - correction)) * grad * (self - self.mean(dims, keepdim=True)) */
static gd_tensor *var_grad(rule_ctx *c, gd_node *node, gd_tensor *g, gd_tensor *a) {
    const gd_input_meta *m = &node->inputs[0];
    int64_t n_in = 1;
    for (int d = 0; d < m->ndim; d++)
        n_in *= m->shape[d];
    double per_group = g->numel ? (double)n_in / (double)g->numel : 0.0;
    double dof = per_group - node->args.param;
    gd_tensor *scaled = num_bin(c, GD_OP_MUL, 2.0 / dof, unreduce(c, node, g, false));
    return bin(c, GD_OP_MUL, scaled,
               bin(c, GD_OP_SUB, a, reduce_keep(c, node, GD_OP_MEAN, a)));
}

static gd_status bw_var(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF;
    if (NEED(0))
        give(&c, var_grad(&c, node, g, a), &gi[0]);
    return finish(&c);
}

/* var's rule on (grad / (2 * result)).masked_fill(result == 0, 0) */
static gd_status bw_std(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *r = SAVED_RESULT;
    if (!NEED(0))
        return finish(&c);
    gd_tensor *gv = bin(&c, GD_OP_DIV, g, bin_num(&c, GD_OP_MUL, r, 2.0));
    gv = where0(&c, bin_num(&c, GD_OP_EQ, r, 0.0), gv, true);
    give(&c, var_grad(&c, node, gv, a), &gi[0]);
    return finish(&c);
}

/* p = 2: grad * (self / norm), 0 where norm == 0; p = 1: self.sgn() * grad;
 * p = inf: self.sgn() * (grad / count) * (|self| == norm); p = 0: none (an
 * undefined gradient, as PyTorch's: the input's .grad stays None);
 * other p: self.sgn() * |self|^(p-1) * grad / norm^(p-1) (0 where norm == 0) */
static gd_status bw_norm(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *r = SAVED_RESULT, *res = NULL;
    double p = node->args.param;
    if (!NEED(0) || p == 0)
        return finish(&c);
    gd_tensor *gk = unreduce(&c, node, g, false), *rk = unreduce(&c, node, r, false);
    gd_tensor *sgn = un(&c, GD_OP_SIGN, a);
    if (p == 1) {
        res = bin(&c, GD_OP_MUL, sgn, gk);
    } else if (p == 2) {
        gd_tensor *ratio =
            where0(&c, bin_num(&c, GD_OP_EQ, rk, 0.0), bin(&c, GD_OP_DIV, a, rk), true);
        res = bin(&c, GD_OP_MUL, gk, ratio);
    } else if (isinf(p)) {
        gd_tensor *mask = bin(&c, GD_OP_EQ, un(&c, GD_OP_ABS, a), rk);
        gd_tensor *count = reduce_keep(&c, node, GD_OP_SUM, mask);
        gd_tensor *share = bin(&c, GD_OP_MUL, bin(&c, GD_OP_DIV, gk, count), mask);
        res = bin(&c, GD_OP_MUL, sgn, share);
    } else if (p < 1) { /* PyTorch's order: (sgn * |a|^(p-1)) * grad * norm^(1-p) */
        gd_tensor *pw = bin_num(&c, GD_OP_POW, un(&c, GD_OP_ABS, a), p - 1);
        pw = where0(&c, bin_num(&c, GD_OP_EQ, a, 0.0), pw, true);
        gd_tensor *scaled = bin(&c, GD_OP_MUL, bin(&c, GD_OP_MUL, sgn, pw), gk);
        res = bin(&c, GD_OP_MUL, scaled, bin_num(&c, GD_OP_POW, rk, 1 - p));
    } else { /* scaled self times grad / norm^(p-1), zero where the norm is */
        gd_tensor *absa = un(&c, GD_OP_ABS, a);
        gd_tensor *scaled =
            p < 2 ? bin(&c, GD_OP_MUL, sgn, bin_num(&c, GD_OP_POW, absa, p - 1))
                  : bin(&c, GD_OP_MUL, a, bin_num(&c, GD_OP_POW, absa, p - 2));
        gd_tensor *scale = bin(&c, GD_OP_DIV, gk, bin_num(&c, GD_OP_POW, rk, p - 1));
        scale = where0(&c, bin_num(&c, GD_OP_EQ, rk, 0.0), scale, true);
        res = bin(&c, GD_OP_MUL, scaled, scale);
    }
    give(&c, res, &gi[0]);
    return finish(&c);
}

/* ---- linear algebra ----------------------------------------------------- */

/* alpha * (x @ y) with x or y transposed first, or the result transposed
 * after: the product PyTorch's mm_mat1/mm_mat2_backward compute. */
static gd_tensor *scaled_mm(rule_ctx *c, gd_tensor *x, bool tx, gd_tensor *y, bool ty,
                            bool t_out, double alpha) {
    if (tx)
        x = transposed(c, x, 0, 1);
    if (ty)
        y = transposed(c, y, 0, 1);
    gd_tensor *r = mm(c, x, y);
    if (t_out)
        r = transposed(c, r, 0, 1);
    return alpha == 1 || !r ? r : bin_num(c, GD_OP_MUL, r, alpha);
}

/* mm's gradients (mm_mat1_backward, mm_mat2_backward), times alpha:
 * G @ y^T for x and x^T @ G for y, each computed transposed when its matrix
 * was column-major. */
static gd_tensor *mm_grad_x(rule_ctx *c, bool x_column_major, gd_tensor *y,
                            gd_tensor *G, double alpha) {
    if (!y || !G)
        return NULL;
    return x_column_major ? scaled_mm(c, y, false, G, true, true, alpha)
                          : scaled_mm(c, G, false, y, true, false, alpha);
}

static gd_tensor *mm_grad_y(rule_ctx *c, gd_tensor *x, bool y_column_major,
                            gd_tensor *G, double alpha) {
    if (!x || !G)
        return NULL;
    return y_column_major ? scaled_mm(c, G, true, x, false, true, alpha)
                          : scaled_mm(c, x, true, G, false, false, alpha);
}

static gd_tensor *expanded(rule_ctx *c, gd_tensor *a, int ndim, const int64_t *shape) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_expand(a, ndim, shape, &out), &out);
}

/* x (R x k: a matrix, or one folded from a batch) @ y as mm (y a matrix) or
 * mv (y a vector), g the result's gradient, read in R rows: the gradients of
 * x and y, each if wanted. */
static void folded_grads(rule_ctx *c, gd_tensor *x, gd_tensor *y, gd_tensor *g,
                         int64_t R, bool want_x, bool want_y, gd_tensor **gx,
                         gd_tensor **gy) {
    if (y && y->ndim == 2) {
        int64_t shape[2] = {R, y->shape[1]};
        gd_tensor *G = reshaped(c, g, 2, shape);
        *gx = want_x && x ? mm_grad_x(c, gd_is_column_major(x), y, G, 1) : NULL;
        *gy = want_y && y ? mm_grad_y(c, x, gd_is_column_major(y), G, 1) : NULL;
    } else { /* mv: grad.ger(vec) (outer: grad.reshape(R, 1) * vec) and x^T.mv(grad) */
        gd_tensor *G = reshaped(c, g, 1, &R);
        int64_t column[2] = {R, 1};
        *gx = want_x ? bin(c, GD_OP_MUL, reshaped(c, G, 2, column), y) : NULL;
        *gy = want_y ? mm(c, transposed(c, x, 0, 1), G) : NULL;
    }
}

/* The products PyTorch's matmul decomposes into (args.i[0], the plan the
 * forward took), each with its own rule. dot: grad * other and grad * self
 * (1-element products); mv: grad.ger(vec) and self^T.mv(grad); a vector
 * times a matrix is a.unsqueeze(0).mm(b), so it and matrix @ matrix follow
 * mm's rules. Folded: the same on the folded matrix. bmm: grad.bmm(B^T) and
 * A^T.bmm(grad) on the operands expanded to the batch and flattened, summed
 * back to each input's shape by the engine (expand's backward). */
static gd_status bw_matmul(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *a = SAVED_SELF, *b = SAVED_OTHER;
    if (c.st)
        return finish(&c);
    bool a_vec = a->ndim == 1, b_vec = b->ndim == 1;
    gd_matmul_plan plan = (gd_matmul_plan)node->args.i[0];
    if (plan == GD_MATMUL_AUTO)
        plan = gd_matmul_plan_for(a, b);
    if (plan == GD_MATMUL_DIRECT && !(a_vec && b_vec)) {
        /* mm, or mv; a vector times a matrix as a.unsqueeze(0).mm(b) */
        gd_tensor *ga = NULL, *gb = NULL;
        folded_grads(&c, a_vec ? unsqueezed(&c, a, 0) : a, b, g,
                     a_vec ? 1 : a->shape[0], NEED(0), NEED(1), &ga, &gb);
        if (ga)
            give(&c, a_vec ? squeezed(&c, ga, 0) : ga, &gi[0]);
        if (gb)
            give(&c, gb, &gi[1]);
        return finish(&c);
    }
    if (plan == GD_MATMUL_SQUEEZE_A || plan == GD_MATMUL_SQUEEZE_B) {
        if (plan == GD_MATMUL_SQUEEZE_A)
            a = squeezed(&c, a, 0);
        else
            b = squeezed(&c, b, 0);
        plan = plan == GD_MATMUL_SQUEEZE_A ? GD_MATMUL_FOLD_B : GD_MATMUL_FOLD_A;
        if (c.st)
            return finish(&c);
    }
    int64_t k = a->shape[a->ndim - 1];
    if (plan == GD_MATMUL_FOLD_A) { /* a.reshape(R, k) @ b, viewed as the result */
        int64_t shape[2] = {1, k};  /* R: the leading dims' product (k may be 0) */
        for (int d = 0; d < a->ndim - 1; d++)
            shape[0] *= a->shape[d];
        gd_tensor *ga = NULL, *gb = NULL;
        folded_grads(&c, reshaped(&c, a, 2, shape), b, g, shape[0], NEED(0), NEED(1),
                     &ga, &gb);
        if (ga)
            give(&c, reshaped(&c, ga, a->ndim, a->shape), &gi[0]);
        if (gb)
            give(&c, gb, &gi[1]);
        return finish(&c);
    }
    if (plan == GD_MATMUL_FOLD_B) {
        /* b.mT.reshape(R, k) @ a.t() (or a), viewed, then .mT.contiguous() */
        gd_tensor *t1 = transposed(&c, b, -1, -2);
        int64_t shape[2] = {1, k};
        for (int d = 0; d < b->ndim - 1 && t1; d++)
            shape[0] *= t1->shape[d];
        gd_tensor *gt = a_vec ? g : transposed(&c, g, -1, -2), *gt1 = NULL, *gt2 = NULL;
        folded_grads(&c, reshaped(&c, t1, 2, shape),
                     a_vec ? a : transposed(&c, a, 0, 1), gt, shape[0], NEED(1),
                     NEED(0), &gt1, &gt2);
        if (gt2)
            give(&c, a_vec ? gt2 : transposed(&c, gt2, 0, 1), &gi[0]);
        if (gt1 && t1)
            give(&c, transposed(&c, reshaped(&c, gt1, t1->ndim, t1->shape), -1, -2),
                 &gi[1]);
        return finish(&c);
    }
    if (plan == GD_MATMUL_BMM) {
        /* a and b expanded to the batch, flattened to (B, rows, cols) */
        int na = a_vec ? 0 : a->ndim - 2, nb = b_vec ? 0 : b->ndim - 2, nbatch;
        int64_t batch[GD_MAX_DIMS + 2], nmat = 1;
        if ((c.st = gd_broadcast_shapes(na, a->shape, nb, b->shape, &nbatch, batch)))
            return finish(&c);
        for (int d = 0; d < nbatch; d++)
            nmat *= batch[d];
        int64_t m = a_vec ? 1 : a->shape[a->ndim - 2],
                n = b_vec ? 1 : b->shape[b->ndim - 1];
        int64_t a3[3] = {nmat, m, k}, b3[3] = {nmat, k, n}, g3[3] = {nmat, m, n};
        batch[nbatch] = m, batch[nbatch + 1] = k;
        gd_tensor *A =
            expanded(&c, a_vec ? unsqueezed(&c, a, 0) : a, nbatch + 2, batch);
        A = reshaped(&c, A, 3, a3);
        batch[nbatch] = k, batch[nbatch + 1] = n;
        gd_tensor *B = expanded(&c, b, nbatch + (b_vec ? 1 : 2), batch);
        B = b_vec ? unsqueezed(&c, reshaped(&c, B, 2, b3), 2) : reshaped(&c, B, 3, b3);
        gd_tensor *G =
            b_vec ? unsqueezed(&c, reshaped(&c, g, 2, g3), 2) : reshaped(&c, g, 3, g3);
        if (NEED(0)) { /* back to batch + (m, k), or batch + (k) for a vector */
            gd_tensor *ga = mm(&c, G, transposed(&c, B, 1, 2));
            batch[nbatch] = a_vec ? k : m, batch[nbatch + 1] = k;
            give(&c, reshaped(&c, ga, nbatch + (a_vec ? 1 : 2), batch), &gi[0]);
        }
        if (NEED(1)) {
            gd_tensor *gb = mm(&c, transposed(&c, A, 1, 2), G);
            batch[nbatch] = k, batch[nbatch + 1] = n;
            give(&c, reshaped(&c, gb, nbatch + (b_vec ? 1 : 2), batch), &gi[1]);
        }
        return finish(&c);
    }
    /* dot */
    if (NEED(0))
        give(&c, bin(&c, GD_OP_MUL, g, b), &gi[0]);
    if (NEED(1))
        give(&c, bin(&c, GD_OP_MUL, g, a), &gi[1]);
    return finish(&c);
}

/* self: grad * beta (summed to self's shape by the engine);
 * mat1: alpha * grad @ mat2^T; mat2: alpha * mat1^T @ grad. A matrix that was
 * column-major (args.i[0] for mat1, i[1] for mat2; weight.t() is) gets its
 * gradient computed transposed, in the same layout, as PyTorch does. */
static gd_status bw_addmm(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    double beta = node->args.beta, alpha = node->args.alpha;
    if (NEED(0))
        give(&c, beta == 1 ? g : bin_num(&c, GD_OP_MUL, g, beta), &gi[0]);
    /* the layouts were taken at the forward (record.c): mat1 is not kept */
    if (NEED(1))
        give(&c, mm_grad_x(&c, node->args.i[0], SAVED_INPUT2, g, alpha), &gi[1]);
    if (NEED(2))
        give(&c, mm_grad_y(&c, SAVED_OTHER, node->args.i[1], g, alpha), &gi[2]);
    return finish(&c);
}

/* ---- scans -------------------------------------------------------------- */

/* self: grad.flip(dim).cumsum(dim).flip(dim), a cumsum from the end */
static gd_status bw_cumsum(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *out = NULL;
    if (NEED(0))
        give(&c, track(&c, gd_scan(GD_OP_CUMSUM, g, node->args.i[0], true, &out), &out),
             &gi[0]);
    return finish(&c);
}

static const gd_backward_fn rules[] = {
#define GD_OP(id, name, kind, arity, edges, saves, grad_fn, backward)                  \
    [GD_OP_##id] = backward,
#include "ops.def"
#undef GD_OP
};
_Static_assert(sizeof rules / sizeof rules[0] == GD_OP_COUNT,
               "backward rule table out of step with ops.def");

gd_backward_fn gd_backward_rule(gd_op op) {
    return rules[op];
}
