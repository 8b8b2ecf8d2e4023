/* The backward rule of cumprod, in PyTorch's cumprod_backward formulation:
 * an O(n) formula when the input has no zeros, an O(n) masked form of it
 * for slices with zeros in a first-order backward, and the O(n^2) sum of
 * omitted products under create_graph (whose own derivative is the second
 * derivative of cumprod, which the masked form's is not). Each path runs
 * PyTorch's ops in its order, so the gradients round the same way. */
#include "backward_rules.h"

#include <limits.h>
#include <stdlib.h>

/* cumsum or cumprod along d with the result in dtype; recorded under
 * create_graph */
static gd_tensor *scan_to(rule_ctx *c, gd_op op, gd_tensor *a, int d, gd_dtype dtype) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    if (!c->graph)
        return track(c, gd_scan_as(op, a, d, false, dtype, &out), &out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = d;
    args.i[1] = 1;
    args.dtype = dtype;
    gd_tensor *in[1] = {a};
    return track(c, gd_call(op, 1, in, &args, &out), &out);
}

/* a with the order along d reversed (a.flip(d)), as a recorded index_select */
static gd_tensor *flipped(rule_ctx *c, gd_tensor *a, int d) {
    gd_tensor *idx = NULL, *out = NULL;
    int64_t n = a && !c->st ? a->shape[d] : 0;
    if (c->st || !a || !track(c, gd_empty(GD_INT64, 1, &n, &idx), &idx))
        return NULL;
    int64_t *p = (int64_t *)gd_data_ptr(idx);
    for (int64_t k = 0; k < n; k++)
        p[k] = n - 1 - k;
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = d;
    gd_tensor *in[2] = {a, idx};
    return track(c, gd_call(GD_OP_INDEX_SELECT, 2, in, &args, &out), &out);
}

/* w.flip(d).cumsum(d).flip(d) */
static gd_tensor *reversed_cumsum(rule_ctx *c, gd_tensor *w, int d) {
    gd_tensor *out = NULL;
    if (c->st || !w)
        return NULL;
    if (!c->graph)
        return track(c, gd_scan(GD_OP_CUMSUM, w, d, true, &out), &out);
    return flipped(c, scan_to(c, GD_OP_CUMSUM, flipped(c, w, d), d, w->dtype), d);
}

static gd_tensor *sliced(rule_ctx *c, gd_tensor *a, int d, int64_t start,
                         int64_t stop) {
    gd_tensor *out = NULL;
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_slice(a, d, start, stop, 1, &out), &out);
}

static gd_tensor *reduced(rule_ctx *c, gd_op op, gd_tensor *a, int d, bool keepdim) {
    gd_tensor *out = NULL;
    int64_t dims[1] = {d};
    if (c->st || !a)
        return NULL;
    return track(c, gd_g_reduce(op, a, 1, dims, keepdim, &out), &out);
}

static gd_tensor *joined(rule_ctx *c, gd_op op, int n, gd_tensor *const *in, int d) {
    gd_tensor *out = NULL;
    for (int i = 0; i < n; i++)
        if (c->st || !in[i])
            return NULL;
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = d;
    return track(c, gd_call(op, n, in, &args, &out), &out);
}

/* Slices holding zeros, first order. With z1 and z2 the first and second
 * zero of a slice (z2 its end if there is one zero):
 *   k < z1:  (grad * result)[k:z1] summed from the end, / x_k
 *   k = z1:  result[z1 - 1] * sum_{z1 <= j < z2} grad_j * prod x[z1+1..j]
 *   k > z1:  0 */
static gd_tensor *masked_form(rule_ctx *c, gd_tensor *a, gd_tensor *r, gd_tensor *g,
                              gd_tensor *w, gd_tensor *is_zero, int d) {
    gd_tensor *cz = scan_to(c, GD_OP_CUMSUM, is_zero, d, GD_INT64);
    gd_tensor *before = bin_num(c, GD_OP_EQ, cz, 0.0);
    gd_tensor *upto = reversed_cumsum(c, where0(c, before, w, false), d);
    gd_tensor *grad_in = where0(c, before, bin(c, GD_OP_DIV, upto, a), false);
    gd_tensor *one = bin_num(c, GD_OP_EQ, cz, 1.0);
    gd_tensor *first = bin(c, GD_OP_LOGICAL_AND, is_zero, one);
    gd_tensor *between =
        bin(c, GD_OP_LOGICAL_AND, one, un(c, GD_OP_LOGICAL_NOT, is_zero));
    gd_tensor *ones = a ? num(c, a->dtype, 1.0) : NULL;
    if (c->st || !a || !r)
        return NULL;
    gd_tensor *after =
        scan_to(c, GD_OP_CUMPROD, where3(c, between, a, ones, a->dtype), d, a->dtype);
    gd_tensor *sum = reduced(
        c, GD_OP_SUM, bin(c, GD_OP_MUL, after, where0(c, one, g, false)), d, true);
    /* result[z1 - 1], or 1 when z1 == 0: the last of the products before z1 */
    gd_tensor *prefix =
        scan_to(c, GD_OP_CUMPROD, where3(c, before, a, ones, a->dtype), d, r->dtype);
    int64_t n = a->shape[d];
    prefix = sliced(c, prefix, d, n - 1, n);
    return where3(c, first, bin(c, GD_OP_MUL, sum, prefix), grad_in, a->dtype);
}

/* Under create_graph with zeros: grad_k = sum_{j >= k} grad_j * prod_{i <= j,
 * i != k} x_i, each product built from prod(x[:k]) and cumprod(x[k+1:]). */
static gd_tensor *omitted_products_form(rule_ctx *c, gd_tensor *a, gd_tensor *g,
                                        int d) {
    gd_tensor **slices = NULL, *ones = NULL, *out = NULL;
    int64_t n = a && !c->st ? a->shape[d] : 0;
    if (c->st || !a || !g)
        return NULL;
    if (n > INT_MAX) {
        c->st = gd_error(GD_ERR_RUNTIME, "cumprod backward: dimension too long");
        return NULL;
    }
    int64_t shape[GD_MAX_DIMS];
    memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
    shape[d] = 1;
    if (!track(c, gd_full(g->dtype, a->ndim, shape, 1.0, &ones), &ones))
        return NULL;
    slices = calloc((size_t)n, sizeof *slices);
    if (!slices) {
        c->st = gd_error(GD_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (int64_t k = 0; k < n && !c->st; k++) {
        RULE_CTX_AS(kc, c->graph);
        gd_tensor *omitted = NULL;
        if (k == 0) {
            gd_tensor *parts[2] = {ones, scan_to(&kc, GD_OP_CUMPROD,
                                                 sliced(&kc, a, d, 1, n), d, a->dtype)};
            omitted = joined(&kc, GD_OP_CAT, 2, parts, d);
        } else if (k == n - 1) {
            omitted = reduced(&kc, GD_OP_PROD, sliced(&kc, a, d, 0, k), d, true);
        } else {
            gd_tensor *until =
                reduced(&kc, GD_OP_PROD, sliced(&kc, a, d, 0, k), d, true);
            gd_tensor *from =
                scan_to(&kc, GD_OP_CUMPROD, sliced(&kc, a, d, k + 1, n), d, a->dtype);
            gd_tensor *parts[2] = {until, bin(&kc, GD_OP_MUL, until, from)};
            omitted = joined(&kc, GD_OP_CAT, 2, parts, d);
        }
        gd_tensor *s =
            reduced(&kc, GD_OP_SUM,
                    bin(&kc, GD_OP_MUL, sliced(&kc, g, d, k, n), omitted), d, false);
        if (s && !kc.st) {
            gd_tensor_incref(s);
            slices[k] = s;
        }
        c->st = finish(&kc);
    }
    if (!c->st)
        out = joined(c, GD_OP_STACK, (int)n, slices, d);
    for (int64_t k = 0; k < n; k++)
        gd_tensor_decref(slices[k]);
    free(slices);
    return out;
}

/* self: cumprod_backward(grad.to(self.scalar_type()), self, dim, result):
 * (grad * result) summed from the end along dim, / self, when self has no
 * zeros; grad itself when a slice has one element. */
gd_status bw_cumprod(gd_node *node, gd_tensor *g, gd_tensor **gi) {
    RULE_CTX(c);
    gd_tensor *out = NULL, *total = NULL;
    int d = 0;
    if (!NEED(0))
        return finish(&c);
    gd_tensor *a = SAVED_SELF;
    if (!a)
        return finish(&c);
    if (g->dtype != a->dtype)
        g = track(&c, gd_g_to_dtype(g, a->dtype, &out), &out);
    if (c.st || a->numel <= 1 || (c.st = gd_wrap_dim(node->args.i[0], a->ndim, &d)) ||
        a->shape[d] == 1) {
        give(&c, g, &gi[0]);
        return finish(&c);
    }
    gd_tensor *r = SAVED_RESULT;
    gd_tensor *w = bin(&c, GD_OP_MUL, r, g);
    gd_tensor *is_zero = bin_num(&c, GD_OP_EQ, a, 0.0);
    if (!c.st)
        track(&c, gd_reduce(GD_OP_SUM, is_zero, -1, NULL, false, 0.0, &total), &total);
    if (c.st || !total)
        return finish(&c);
    if (gd_get_flat_int(total, 0) == 0)
        give(&c, bin(&c, GD_OP_DIV, reversed_cumsum(&c, w, d), a), &gi[0]);
    else if (!c.graph)
        give(&c, masked_form(&c, a, r, g, w, is_zero, d), &gi[0]);
    else
        give(&c, omitted_products_form(&c, a, g, d), &gi[0]);
    return finish(&c);
}
