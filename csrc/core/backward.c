/* Backward rules, one small function per differentiable op. Each comment
 * gives the formula in derivatives.yaml style; the code follows PyTorch's
 * order of operations so float32 results round the same way. Rules fill
 * only the gradients whose inputs need one; the engine sums broadcast
 * dimensions away and casts to each input's dtype. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* Temporaries of one rule, released together. A failed step records its
 * status and makes every later step a no-op returning NULL. */
typedef struct {
    gd_status st;
    int n;
    gd_tensor *tmp[24];
} rule_ctx;

/* Takes the result by address: it is read after the call that fills it. */
static gd_tensor *track(rule_ctx *c, gd_status st, gd_tensor **result) {
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

static gd_status finish(rule_ctx *c) {
    for (int i = 0; i < c->n; i++)
        gd_tensor_decref(c->tmp[i]);
    return c->st;
}

/* Hands t to the engine as a gradient (a new reference). */
static void give(rule_ctx *c, gd_tensor *t, gd_tensor **slot) {
    if (c->st || !t)
        return;
    gd_tensor_incref(t);
    *slot = t;
}

#define NEED(i) ((i) < node->n_inputs && node->inputs[(i)].node != NULL)

static gd_tensor *saved(rule_ctx *c, gd_node *node, int i) {
    gd_tensor *t = NULL;
    if (c->st)
        return NULL;
    gd_status st = gd_unpack_saved(node, i, &t);
    if (st)
        c->st = st;
    return t;
}

static gd_tensor *bin(rule_ctx *c, gd_op op, gd_tensor *a, gd_tensor *b) {
    gd_tensor *out = NULL;
    if (c->st || !a || !b)
        return NULL;
    return track(c, gd_binary(op, a, b, gd_promote_types(a->dtype, b->dtype), &out),
                 &out);
}

static gd_tensor *num(rule_ctx *c, gd_dtype dt, double v) {
    gd_tensor *out = NULL;
    int64_t none[1] = {0};
    if (c->st)
        return NULL;
    return track(c, gd_full(dt, 0, none, v, &out), &out);
}

/* a op v and v op a, v taken in a's dtype as PyTorch takes Python scalars. */
static gd_tensor *bin_num(rule_ctx *c, gd_op op, gd_tensor *a, double v) {
    return a ? bin(c, op, a, num(c, a->dtype, v)) : NULL;
}
static gd_tensor *num_bin(rule_ctx *c, gd_op op, double v, gd_tensor *a) {
    return a ? bin(c, op, num(c, a->dtype, v), a) : NULL;
}

static gd_tensor *un(rule_ctx *c, gd_op op, gd_tensor *a) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_unary(op, a, &out), &out);
}

static gd_tensor *where0(rule_ctx *c, gd_tensor *cond, gd_tensor *a,
                         bool zero_if_true) {
    gd_tensor *out = NULL;
    if (c->st || !cond || !a)
        return NULL;
    gd_tensor *zero = num(c, a->dtype, 0.0);
    if (!zero)
        return NULL;
    return track(c,
                 zero_if_true ? gd_where(cond, zero, a, a->dtype, &out)
                              : gd_where(cond, a, zero, a->dtype, &out),
                 &out);
}

static gd_tensor *zeros_of(rule_ctx *c, gd_node *node, int i, gd_dtype dt) {
    gd_tensor *out = NULL;
    if (c->st)
        return NULL;
    const gd_input_meta *m = &node->inputs[i];
    return track(c, gd_zeros(dt, m->ndim, m->shape, &out), &out);
}

static gd_tensor *reshaped(rule_ctx *c, gd_tensor *a, int ndim, const int64_t *shape) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_reshape(a, ndim, shape, &out), &out);
}

/* grad of a reduction, viewed with the reduced dims kept as size 1 and
 * expanded back to the input's shape. */
static gd_tensor *unreduce(rule_ctx *c, gd_node *node, gd_tensor *g, bool expand) {
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
    return track(c, gd_expand(kept, m->ndim, m->shape, &out), &out);
}

static gd_tensor *reduce_keep(rule_ctx *c, gd_node *node, gd_op op, gd_tensor *a) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(
        c, gd_reduce(op, a, node->args.ndims, node->args.dims, true, 0.0, &out), &out);
}

/* ---- arithmetic --------------------------------------------------------- */

/* self: grad; other: grad */
static gd_status bw_add(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1))
        give(&c, g, &gi[1]);
    return finish(&c);
}

/* self: grad; other: -grad */
static gd_status bw_sub(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1))
        give(&c, un(&c, GD_OP_NEG, g), &gi[1]);
    return finish(&c);
}

/* self: grad * other; other: grad * self */
static gd_status bw_mul(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1);
    if (NEED(0))
        give(&c, bin(&c, GD_OP_MUL, g, b), &gi[0]);
    if (NEED(1))
        give(&c, bin(&c, GD_OP_MUL, g, a), &gi[1]);
    return finish(&c);
}

/* self: grad / other; other: -grad * ((self / other) / other) */
static gd_status bw_div(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1);
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
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1);
    if (NEED(0))
        give(&c, g, &gi[0]);
    if (NEED(1))
        give(
            &c,
            bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, g), bin(&c, GD_OP_FLOOR_DIVIDE, a, b)),
            &gi[1]);
    return finish(&c);
}

/* grad * (e * self.pow(e - 1)) for a number e != 0, fused: each step rounds
 * in the tensor's dtype exactly as the unfused ops do. NULL if the operands
 * do not fit the fast loop. */
static gd_tensor *pow_number_grad(rule_ctx *c, gd_tensor *g, gd_tensor *a,
                                  gd_tensor *b) {
    gd_tensor *out = NULL;
    bool fits = !c->st && b->numel == 1 && g->dtype == a->dtype &&
                b->dtype == a->dtype && gd_dtype_is_floating(a->dtype) &&
                g->ndim == a->ndim && gd_is_contiguous(g) && gd_is_contiguous(a) &&
                memcmp(g->shape, a->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
    if (!fits || gd_get_flat(b, 0) == 0 ||
        !track(c, gd_empty(a->dtype, a->ndim, a->shape, &out), &out))
        return NULL;
    int64_t n = a->numel;
    if (a->dtype == GD_FLOAT32) {
        const float *x = (const float *)gd_data_ptr(a),
                    *gr = (const float *)gd_data_ptr(g);
        float e = (float)gd_get_flat(b, 0), e1 = e - 1, *o = (float *)gd_data_ptr(out);
        for (int64_t i = 0; i < n; i++)
            o[i] = gr[i] * (e * gd_pow_number_f32(x[i], e1));
    } else {
        const double *x = (const double *)gd_data_ptr(a),
                     *gr = (const double *)gd_data_ptr(g);
        double e = gd_get_flat(b, 0), e1 = e - 1, *o = (double *)gd_data_ptr(out);
        for (int64_t i = 0; i < n; i++)
            o[i] = gr[i] * (e * gd_pow_number_f64(x[i], e1));
    }
    return out;
}

/* self: where(exponent == 0, 0, grad * (exponent * self.pow(exponent - 1)))
 * exponent: grad * where(self == 0 & exponent >= 0, 0, result * self.log()) */
static gd_status bw_pow(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1), *r = saved(&c, node, 2);
    gd_tensor *fused = NEED(0) && !NEED(1) && b ? pow_number_grad(&c, g, a, b) : NULL;
    if (fused) {
        give(&c, fused, &gi[0]);
    } else if (NEED(0)) {
        gd_tensor *p = bin(&c, GD_OP_POW, a, bin_num(&c, GD_OP_SUB, b, 1.0));
        gd_tensor *d = bin(&c, GD_OP_MUL, g, bin(&c, GD_OP_MUL, b, p));
        /* A number exponent other than 0 needs no mask. */
        if (b && !(b->numel == 1 && gd_get_flat(b, 0) != 0))
            d = where0(&c, bin_num(&c, GD_OP_EQ, b, 0.0), d, true);
        give(&c, d, &gi[0]);
    }
    if (NEED(1)) {
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
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1), *out = NULL;
    gd_tensor *tie = bin(&c, GD_OP_EQ, a, b), *half = bin_num(&c, GD_OP_DIV, g, 2.0);
    gd_tensor *split = NULL;
    if (!c.st)
        split = track(&c, gd_where(tie, half, g, g->dtype, &out), &out);
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

/* A rule of the form grad * f(saved), or grad op f(saved). */
#define UNARY_RULE(name, EXPR)                                                         \
    static gd_status name(gd_node *node, gd_tensor *g, gd_tensor **gi) {               \
        rule_ctx c = {0};                                                              \
        gd_tensor *s = node->n_saved ? saved(&c, node, 0) : NULL;                      \
        (void)s;                                                                       \
        if (NEED(0))                                                                   \
            give(&c, (EXPR), &gi[0]);                                                  \
        return finish(&c);                                                             \
    }

/* -grad */
UNARY_RULE(bw_neg, un(&c, GD_OP_NEG, g))
/* grad * self.sgn() */
UNARY_RULE(bw_abs, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_SIGN, s)))
/* grad * result */
UNARY_RULE(bw_exp, bin(&c, GD_OP_MUL, g, s))
/* grad / self */
UNARY_RULE(bw_log, bin(&c, GD_OP_DIV, g, s))
/* grad / (self + 1) */
UNARY_RULE(bw_log1p, bin(&c, GD_OP_DIV, g, bin_num(&c, GD_OP_ADD, s, 1.0)))
/* grad / (2 * result) */
UNARY_RULE(bw_sqrt, bin(&c, GD_OP_DIV, g, num_bin(&c, GD_OP_MUL, 2.0, s)))
/* grad * (2 * self) */
UNARY_RULE(bw_square, bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_MUL, 2.0, s)))
/* -grad * (result * result) */
UNARY_RULE(bw_reciprocal,
           bin(&c, GD_OP_MUL, un(&c, GD_OP_NEG, g), bin(&c, GD_OP_MUL, s, s)))
/* grad * self.cos() */
UNARY_RULE(bw_sin, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_COS, s)))
/* grad * -self.sin() */
UNARY_RULE(bw_cos, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_NEG, un(&c, GD_OP_SIN, s))))
/* grad * (1 + result * result) */
UNARY_RULE(bw_tan,
           bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_ADD, 1.0, bin(&c, GD_OP_MUL, s, s))))
/* grad * self.cosh() */
UNARY_RULE(bw_sinh, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_COSH, s)))
/* grad * self.sinh() */
UNARY_RULE(bw_cosh, bin(&c, GD_OP_MUL, g, un(&c, GD_OP_SINH, s)))
/* grad * (1 - result * result) */
UNARY_RULE(bw_tanh,
           bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_SUB, 1.0, bin(&c, GD_OP_MUL, s, s))))
/* grad * (1 - result) * result */
UNARY_RULE(bw_sigmoid,
           bin(&c, GD_OP_MUL, bin(&c, GD_OP_MUL, g, num_bin(&c, GD_OP_SUB, 1.0, s)), s))
/* threshold_backward(grad, result, 0): 0 where result <= 0 */
UNARY_RULE(bw_relu, where0(&c, bin_num(&c, GD_OP_LE, s, 0.0), g, true))
/* zeros (sign, floor, ceil, round, fill) */
UNARY_RULE(bw_zero, zeros_of(&c, node, 0, g->dtype))
/* grad (expand: summed back by the engine; to: cast by it; clone) */
UNARY_RULE(bw_identity, g)

/* where(min <= self <= max, grad, 0), each bound only if given */
static gd_status bw_clamp(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *inside = NULL;
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
    rule_ctx c = {0};
    gd_tensor *cond = saved(&c, node, 0);
    if (NEED(1))
        give(&c, where0(&c, cond, g, false), &gi[1]);
    if (NEED(2))
        give(&c, where0(&c, cond, g, true), &gi[2]);
    return finish(&c);
}

/* ---- reductions --------------------------------------------------------- */

/* grad expanded to the input's shape */
static gd_status bw_sum(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    if (NEED(0))
        give(&c, unreduce(&c, node, g, true), &gi[0]);
    return finish(&c);
}

/* grad expanded / (input numel / output numel) */
static gd_status bw_mean(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    const gd_input_meta *m = &node->inputs[0];
    int64_t n_in = 1;
    for (int d = 0; d < m->ndim; d++)
        n_in *= m->shape[d];
    double count = g->numel ? (double)n_in / (double)g->numel : 0.0;
    if (NEED(0) && g->numel == 1) {
        /* One output: every input gets grad / count, filled in one pass. */
        gd_tensor *share = bin_num(&c, GD_OP_DIV, g, count), *out = NULL;
        if (share)
            give(
                &c,
                track(&c,
                      gd_full(m->dtype, m->ndim, m->shape, gd_get_flat(share, 0), &out),
                      &out),
                &gi[0]);
    } else if (NEED(0)) {
        give(&c, bin_num(&c, GD_OP_DIV, unreduce(&c, node, g, true), count), &gi[0]);
    }
    return finish(&c);
}

/* grad * (result / self) without zeros; with one zero in a group, the
 * product of the others there; with more, zero. */
static gd_status bw_prod(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *r = saved(&c, node, 1);
    if (!NEED(0))
        return finish(&c);
    gd_tensor *gx = unreduce(&c, node, g, true), *rx = unreduce(&c, node, r, true);
    gd_tensor *is_zero = bin_num(&c, GD_OP_EQ, a, 0.0);
    gd_tensor *zeros = reduce_keep(&c, node, GD_OP_SUM, is_zero);
    gd_tensor *value = bin(&c, GD_OP_DIV, rx, a);
    gd_tensor *total = NULL;
    if (!c.st)
        track(&c, gd_reduce(GD_OP_SUM, is_zero, -1, NULL, false, 0.0, &total), &total);
    if (total && gd_get_flat_int(total, 0) > 0) {
        gd_tensor *one = num(&c, a->dtype, 1.0), *out = NULL, *nonzero = NULL;
        if (!c.st)
            nonzero = track(&c, gd_where(is_zero, one, a, a->dtype, &out), &out);
        gd_tensor *others = reduce_keep(&c, node, GD_OP_PROD, nonzero);
        gd_tensor *single =
            bin(&c, GD_OP_LOGICAL_AND, is_zero, bin_num(&c, GD_OP_EQ, zeros, 1.0));
        gd_tensor *at_zero = where0(&c, single, others, false);
        gd_tensor *none = bin_num(&c, GD_OP_EQ, zeros, 0.0);
        if (!c.st)
            value = track(&c, gd_where(none, value, at_zero, a->dtype, &out), &out);
    }
    give(&c, bin(&c, GD_OP_MUL, gx, value), &gi[0]);
    return finish(&c);
}

/* (grad / mask.sum(dims)) * mask with mask = (self == result), so ties share
 * the gradient evenly (NaN results select the NaN elements). */
static gd_status bw_extreme(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *r = saved(&c, node, 1);
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
    rule_ctx c = {0};
    gd_tensor *idx = saved(&c, node, 0), *pos = NULL;
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
    memcpy(keep, m->shape, sizeof keep);
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
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0);
    if (NEED(0))
        give(&c, var_grad(&c, node, g, a), &gi[0]);
    return finish(&c);
}

/* var's rule on (grad / (2 * result)).masked_fill(result == 0, 0) */
static gd_status bw_std(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *r = saved(&c, node, 1);
    if (!NEED(0))
        return finish(&c);
    gd_tensor *gv = bin(&c, GD_OP_DIV, g, bin_num(&c, GD_OP_MUL, r, 2.0));
    gv = where0(&c, bin_num(&c, GD_OP_EQ, r, 0.0), gv, true);
    give(&c, var_grad(&c, node, gv, a), &gi[0]);
    return finish(&c);
}

/* p = 2: grad * (self / norm), 0 where norm == 0; p = 1: self.sgn() * grad;
 * p = inf: self.sgn() * (grad / count) * (|self| == norm); p = 0: zeros;
 * other p: self.sgn() * |self|^(p-1) * grad / norm^(p-1) (0 where norm == 0) */
static gd_status bw_norm(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *r = saved(&c, node, 1), *res = NULL;
    double p = node->args.param;
    if (!NEED(0))
        return finish(&c);
    gd_tensor *gk = unreduce(&c, node, g, false), *rk = unreduce(&c, node, r, false);
    gd_tensor *sgn = un(&c, GD_OP_SIGN, a);
    if (p == 0) {
        res = zeros_of(&c, node, 0, g->dtype);
    } else if (p == 1) {
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
    } else {
        gd_tensor *pw = bin_num(&c, GD_OP_POW, un(&c, GD_OP_ABS, a), p - 1);
        gd_tensor *top = bin(&c, GD_OP_MUL, bin(&c, GD_OP_MUL, sgn, pw), gk);
        res = bin(&c, GD_OP_DIV, top, bin_num(&c, GD_OP_POW, rk, p - 1));
        res = where0(&c, bin_num(&c, GD_OP_EQ, rk, 0.0), res, true);
    }
    give(&c, res, &gi[0]);
    return finish(&c);
}

/* ---- linear algebra ----------------------------------------------------- */

/* self: grad @ other^T; other: self^T @ grad, with vectors as 1-row/1-column
 * matrices and batch dims summed by the engine */
static gd_status bw_matmul(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *a = saved(&c, node, 0), *b = saved(&c, node, 1), *t = NULL;
    if (c.st)
        return finish(&c);
    bool a_vec = a->ndim == 1, b_vec = b->ndim == 1;
    gd_tensor *A = a, *B = b, *G = g;
    if (a_vec)
        A = track(&c, gd_unsqueeze(a, 0, &t), &t);
    if (b_vec)
        B = track(&c, gd_unsqueeze(b, 1, &t), &t);
    if (a_vec && !c.st)
        G = track(&c, gd_unsqueeze(G, G->ndim - (b_vec ? 0 : 1), &t), &t);
    if (b_vec && !c.st)
        G = track(&c, gd_unsqueeze(G, G->ndim, &t), &t);
    if (NEED(0) && !c.st) {
        gd_tensor *bt = track(&c, gd_transpose(B, -1, -2, &t), &t);
        if (!c.st)
            give(&c, track(&c, gd_matmul(G, bt, &t), &t), &gi[0]);
    }
    if (NEED(1) && !c.st) {
        gd_tensor *at = track(&c, gd_transpose(A, -1, -2, &t), &t), *gb = NULL;
        if (!c.st)
            gb = track(&c, gd_matmul(at, G, &t), &t);
        if (b_vec && gb)
            gb = track(&c, gd_squeeze(gb, 1, (int64_t[]){-1}, &t), &t);
        give(&c, gb, &gi[1]);
    }
    return finish(&c);
}

/* ---- views and data movement ------------------------------------------- */

/* grad.reshape(self.shape) (view, reshape, squeeze, unsqueeze) */
static gd_status bw_reshape(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    const gd_input_meta *m = &node->inputs[0];
    if (NEED(0))
        give(&c, reshaped(&c, g, m->ndim, m->shape), &gi[0]);
    return finish(&c);
}

/* grad.transpose(dim0, dim1) */
static gd_status bw_transpose(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *t = NULL;
    if (NEED(0))
        give(&c, track(&c, gd_transpose(g, node->args.i[0], node->args.i[1], &t), &t),
             &gi[0]);
    return finish(&c);
}

/* grad.permute(inverse(dims)) */
static gd_status bw_permute(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    int64_t inverse[GD_MAX_DIMS] = {0};
    gd_tensor *t = NULL;
    int nd = node->args.ndims;
    for (int i = 0; i < nd; i++) {
        int d = 0;
        gd_wrap_dim(node->args.dims[i], nd, &d);
        inverse[d] = i;
    }
    if (NEED(0))
        give(&c, track(&c, gd_permute(g, nd, inverse, &t), &t), &gi[0]);
    return finish(&c);
}

/* zeros(self) with grad written into the selected part */
static gd_status scatter_view(gd_node *node, gd_tensor *g, gd_tensor **gi,
                              bool select) {
    rule_ctx c = {0};
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

static gd_status bw_select(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return scatter_view(node, g, gi, true);
}

static gd_status bw_slice(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    return scatter_view(node, g, gi, false);
}

/* each input: grad.narrow(dim, offset, size). cat and stack take any number
 * of inputs, so the parts go straight to the engine (which releases them)
 * rather than through a rule_ctx. */
static gd_status bw_cat(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    int d = 0;
    int64_t at = 0;
    gd_status st = gd_wrap_dim(node->args.i[0], g->ndim, &d);
    for (int i = 0; i < node->n_inputs && !st; i++) {
        const gd_input_meta *m = &node->inputs[i];
        if (m->ndim == 1 && m->shape[0] == 0)
            continue; /* skipped by cat */
        if (NEED(i))
            st = gd_slice(g, d, at, at + m->shape[d], 1, &gi[i]);
        at += m->shape[d];
    }
    return st;
}

/* each input: grad.select(dim, i) */
static gd_status bw_stack(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    gd_status st = GD_OK;
    for (int i = 0; i < node->n_inputs && !st; i++)
        if (NEED(i))
            st = gd_select(g, node->args.i[0], i, &gi[i]);
    return st;
}

/* zeros(self).flat.index_add_(positions, grad) */
static gd_status bw_take(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *pos = saved(&c, node, 0);
    const gd_input_meta *m = &node->inputs[0];
    if (!NEED(0) || c.st)
        return finish(&c);
    gd_tensor *z = zeros_of(&c, node, 0, g->dtype);
    if (!c.st && !(c.st = gd_index_add_(z, pos, g)))
        give(&c, reshaped(&c, z, m->ndim, m->shape), &gi[0]);
    return finish(&c);
}

/* self: grad with the written positions zeroed; values: grad.flat[positions] */
static gd_status bw_put(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    gd_tensor *pos = saved(&c, node, 0), *t = NULL;
    if (NEED(0) && !c.st) {
        gd_tensor *cleared = track(&c, gd_clone(g, &t), &t);
        if (cleared && !(c.st = gd_put_(cleared, pos, num(&c, g->dtype, 0.0))))
            give(&c, cleared, &gi[0]);
    }
    if (NEED(2) && !c.st)
        give(&c, track(&c, gd_take(g, pos, &t), &t), &gi[2]);
    return finish(&c);
}

/* self: zeros; src: grad (summed to src's shape by the engine) */
static gd_status bw_copy(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    rule_ctx c = {0};
    if (NEED(0))
        give(&c, zeros_of(&c, node, 0, g->dtype), &gi[0]);
    if (NEED(1))
        give(&c, g, &gi[1]);
    return finish(&c);
}

static const gd_backward_fn rules[] = {
#define GD_OP(id, name, arity, grad_fn, backward) backward,
#include "ops.def"
#undef GD_OP
};
_Static_assert(sizeof rules / sizeof rules[0] == GD_OP_COUNT,
               "backward rule table out of step with ops.def");

gd_backward_fn gd_backward_rule(gd_op op) {
    return rules[op];
}
