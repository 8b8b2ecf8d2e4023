/* The losses: nll_loss, the elementwise regression losses (mse, huber,
 * smooth_l1) and binary cross entropy (on probabilities and on logits), with
 * their gradients. Each computes PyTorch's elementwise loss in its order of
 * operations and then reduces it as PyTorch does (mean or sum of the loss
 * tensor); nll_loss sums in PyTorch's cascade of partial sums. */
#include "backward_rules.h"

#include <math.h>
#include <string.h>

static gd_status check_reduction(int reduction) {
    GD_CHECK(reduction >= GD_REDUCTION_NONE && reduction <= GD_REDUCTION_SUM,
             GD_ERR_VALUE, "%d is not a valid value for reduction", reduction);
    return GD_OK;
}

/* The elementwise loss reduced as asked (steals `loss`). */
static gd_status reduce_loss(gd_tensor *loss, int reduction, gd_tensor **out) {
    if (reduction == GD_REDUCTION_NONE) {
        *out = loss;
        return GD_OK;
    }
    gd_op op = reduction == GD_REDUCTION_MEAN ? GD_OP_MEAN : GD_OP_SUM;
    gd_status st = gd_reduce(op, loss, -1, NULL, false, 0.0, out);
    gd_tensor_decref(loss);
    return st;
}

/* t as a contiguous tensor of dtype (a new reference). */
static gd_status dense(const gd_tensor *t, gd_dtype dtype, gd_tensor **out) {
    gd_tensor *c = NULL;
    *out = NULL;
    gd_status st = gd_as_dtype(t, dtype, &c);
    if (st || gd_is_contiguous(c)) {
        *out = c;
        return st;
    }
    st = gd_contiguous(c, out);
    gd_tensor_decref(c);
    return st;
}

/* g broadcast to shape, contiguous, in dtype. */
static gd_status dense_as(const gd_tensor *g, gd_dtype dtype, int ndim,
                          const int64_t *shape, gd_tensor **out) {
    gd_tensor *e = NULL;
    *out = NULL;
    gd_status st = gd_expand(g, ndim, shape, &e);
    if (!st)
        st = gd_empty(dtype, ndim, shape, out);
    if (!st && (st = gd_copy_(*out, e))) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    gd_tensor_decref(e);
    return st;
}

static gd_status not_implemented(const char *kernel, gd_dtype dt) {
    return gd_error(GD_ERR_NOTIMPL, "\"%s\" not implemented for '%s'", kernel,
                    gd_dtype_scalar_name(dt));
}

static gd_status check_weight_grad(const char *fn, const char *arg,
                                   const gd_tensor *w) {
    GD_CHECK(!w || !gd_grad_enabled() || !gd_requires_grad(w), GD_ERR_RUNTIME,
             "The function '%s' is not differentiable with respect to argument '%s'. "
             "This input cannot have requires_grad True.",
             fn, arg);
    return GD_OK;
}

/* ---- nll_loss ------------------------------------------------------------ */

typedef struct {
    int64_t batch, classes, map; /* input (batch, classes, map) */
    bool per_sample;             /* reduction none with a batch: one loss each */
    int out_ndim;
    int64_t out_shape[GD_MAX_DIMS];
} nll_plan;

static gd_status nll_check(const gd_tensor *in, const gd_tensor *target,
                           const gd_tensor *weight, int reduction, nll_plan *p) {
    char a[256], b[256];
    gd_status st = check_reduction(reduction);
    if (st)
        return st;
    GD_CHECK(in->ndim >= 1, GD_ERR_VALUE, "Expected 1 or more dimensions (got %d)",
             in->ndim);
    GD_CHECK(target->dtype == GD_INT64 || target->dtype == GD_UINT8, GD_ERR_RUNTIME,
             "expected target dtype to be Long or Byte, but got %s",
             gd_dtype_scalar_name(target->dtype));
    if (!gd_dtype_is_floating(in->dtype))
        return not_implemented("nll_loss_out_frame", in->dtype);
    memset(p, 0, sizeof *p);
    p->classes = in->ndim == 1 ? in->shape[0] : in->shape[1];
    p->batch = in->ndim == 1 ? 1 : in->shape[0];
    p->map = 1;
    if (in->ndim <= 2) {
        GD_CHECK(target->ndim <= 1, GD_ERR_RUNTIME,
                 "0D or 1D target tensor expected, multi-target not supported");
        bool no_batch = in->ndim == 1 && target->ndim == 0;
        GD_CHECK(no_batch || in->shape[0] == (target->ndim ? target->shape[0] : 1) ||
                     (in->ndim == 1 && target->numel == 1),
                 GD_ERR_RUNTIME, "size mismatch (got input: %s, target: %s)",
                 gd_format_shape(a, sizeof a, in->ndim, in->shape),
                 gd_format_shape(b, sizeof b, target->ndim, target->shape));
        if (in->ndim == 1)
            GD_CHECK(
                target->numel == 1, GD_ERR_RUNTIME,
                "Expected target to be 0D when input is 1D, but got target.dim =%d",
                target->ndim);
    } else {
        GD_CHECK(target->ndim == in->ndim - 1, GD_ERR_RUNTIME,
                 "only batches of spatial targets supported (%dD tensors) but got "
                 "targets of dimension: %d",
                 in->ndim - 1, target->ndim);
        bool same = target->shape[0] == in->shape[0];
        for (int d = 2; d < in->ndim; d++) {
            same = same && target->shape[d - 1] == in->shape[d];
            p->map *= in->shape[d];
        }
        GD_CHECK(same, GD_ERR_RUNTIME, "size mismatch (got input: %s , target: %s",
                 gd_format_shape(a, sizeof a, in->ndim, in->shape),
                 gd_format_shape(b, sizeof b, target->ndim, target->shape));
    }
    GD_CHECK(!weight || (weight->ndim == 1 && weight->numel == p->classes),
             GD_ERR_RUNTIME,
             "weight tensor should be defined either for all %lld classes or no "
             "classes but got weight tensor of shape: %s",
             (long long)p->classes,
             weight ? gd_format_shape(a, sizeof a, weight->ndim, weight->shape) : "");
    p->per_sample = reduction == GD_REDUCTION_NONE && in->ndim >= 2;
    if (p->per_sample) {
        p->out_ndim = in->ndim - 1;
        p->out_shape[0] = in->shape[0];
        for (int d = 2; d < in->ndim; d++)
            p->out_shape[d - 1] = in->shape[d];
    }
    return GD_OK;
}

/* The class of sample k (batch index i, map position m), checked. */
static gd_status nll_class(const gd_tensor *target, int64_t k, int64_t classes,
                           int64_t ignore_index, int64_t *cls, bool *ignored) {
    int64_t t = gd_load_int64(
        target->dtype, gd_data_ptr(target) + (size_t)k * gd_dtype_size(target->dtype));
    *cls = t;
    *ignored = t == ignore_index;
    GD_CHECK(*ignored || (t >= 0 && t < classes), GD_ERR_INDEX,
             "Target %lld is out of bounds.", (long long)t);
    return GD_OK;
}

/* Sums of -x[t] * w[t] and of w[t] over the samples, in PyTorch's cascade:
 * level 0 takes each term; every 2^p samples a level flushes into the next. */
#define NLL_SUMS(T, tag)                                                               \
    static gd_status nll_sums_##tag(const gd_tensor *x, const gd_tensor *target,       \
                                    const T *w, const nll_plan *p, int64_t ignore,     \
                                    T *loss, T *total) {                               \
        const T *xs = (const T *)gd_data_ptr(x);                                       \
        int64_t n = p->batch * p->map, ignored = 0, log2n = 0;                         \
        while (((int64_t)1 << log2n) < n)                                              \
            log2n++;                                                                   \
        int64_t power = log2n / 8 > 4 ? log2n / 8 : 4, mask = (1LL << power) - 1;      \
        T ls[8] = {0}, ws[8] = {0};                                                    \
        for (int64_t k = 0; k < n; k++) {                                              \
            int64_t cls;                                                               \
            bool skip;                                                                 \
            gd_status st = nll_class(target, k, p->classes, ignore, &cls, &skip);      \
            if (st)                                                                    \
                return st;                                                             \
            if (skip) {                                                                \
                ignored++;                                                             \
                continue;                                                              \
            }                                                                          \
            int64_t i = k / p->map, m = k % p->map;                                    \
            T v = xs[(i * p->classes + cls) * p->map + m];                             \
            if (w) {                                                                   \
                ls[0] -= v * w[cls];                                                   \
                ws[0] += w[cls];                                                       \
            } else {                                                                   \
                ls[0] -= v;                                                            \
            }                                                                          \
            for (int j = 0; j + 1 < 8; j++) {                                          \
                if (k & (mask << (j * power)))                                         \
                    break;                                                             \
                ls[j + 1] += ls[j];                                                    \
                ws[j + 1] += ws[j];                                                    \
                ls[j] = ws[j] = 0;                                                     \
            }                                                                          \
        }                                                                              \
        T l = 0, t = 0;                                                                \
        for (int j = 0; j < 8; j++) {                                                  \
            l += ls[j];                                                                \
            t += ws[j];                                                                \
        }                                                                              \
        *loss = l;                                                                     \
        *total = w ? t : (T)(n - ignored);                                             \
        return GD_OK;                                                                  \
    }                                                                                  \
    static gd_status nll_each_##tag(const gd_tensor *x, const gd_tensor *target,       \
                                    const T *w, const nll_plan *p, int64_t ignore,     \
                                    T *out) {                                          \
        const T *xs = (const T *)gd_data_ptr(x);                                       \
        for (int64_t k = 0; k < p->batch * p->map; k++) {                              \
            int64_t cls, i = k / p->map, m = k % p->map;                               \
            bool skip;                                                                 \
            gd_status st = nll_class(target, k, p->classes, ignore, &cls, &skip);      \
            if (st)                                                                    \
                return st;                                                             \
            out[k] =                                                                   \
                skip ? 0                                                               \
                     : -xs[(i * p->classes + cls) * p->map + m] * (w ? w[cls] : 1);    \
        }                                                                              \
        return GD_OK;                                                                  \
    }
NLL_SUMS(float, f32)
NLL_SUMS(double, f64)

gd_status gd_nll_loss(const gd_tensor *input, const gd_tensor *target,
                      const gd_tensor *weight, int reduction, int64_t ignore_index,
                      gd_tensor **out) {
    nll_plan p;
    gd_tensor *x = NULL, *t = NULL, *w = NULL, *res = NULL;
    *out = NULL;
    gd_status st = nll_check(input, target, weight, reduction, &p);
    if (!st)
        st = check_weight_grad("nll_loss_forward", "weight", weight);
    if (st || (st = dense(input, input->dtype, &x)) ||
        (st = dense(target, target->dtype, &t)) ||
        (weight && (st = dense(weight, input->dtype, &w))) ||
        (st = gd_empty(input->dtype, p.per_sample ? p.out_ndim : 0, p.out_shape, &res)))
        goto done;
    bool f32 = input->dtype == GD_FLOAT32;
    const void *wp = w ? gd_data_ptr(w) : NULL;
    if (p.per_sample) {
        st = f32 ? nll_each_f32(x, t, wp, &p, ignore_index, (float *)gd_data_ptr(res))
                 : nll_each_f64(x, t, wp, &p, ignore_index, (double *)gd_data_ptr(res));
    } else if (target->numel == 0 && input->ndim > 1) {
        gd_store_double(res->dtype, gd_data_ptr(res),
                        reduction == GD_REDUCTION_MEAN ? NAN : 0.0);
    } else if (f32) {
        float loss, total;
        st = nll_sums_f32(x, t, wp, &p, ignore_index, &loss, &total);
        *(float *)gd_data_ptr(res) =
            reduction == GD_REDUCTION_MEAN ? loss / total : loss;
    } else {
        double loss, total;
        st = nll_sums_f64(x, t, wp, &p, ignore_index, &loss, &total);
        *(double *)gd_data_ptr(res) =
            reduction == GD_REDUCTION_MEAN ? loss / total : loss;
    }
    if (!st) {
        *out = res;
        res = NULL;
    }
done:
    gd_tensor_decref(x);
    gd_tensor_decref(t);
    gd_tensor_decref(w);
    gd_tensor_decref(res);
    return st;
}

#define NLL_GRAD(T, tag)                                                               \
    static gd_status nll_grad_##tag(gd_tensor *gi, const gd_tensor *g,                 \
                                    const gd_tensor *x0, const gd_tensor *target,      \
                                    const T *w, const nll_plan *p, int reduction,      \
                                    int64_t ignore) {                                  \
        T *o = (T *)gd_data_ptr(gi);                                                   \
        const T *gs = (const T *)gd_data_ptr(g);                                       \
        T scale = 0;                                                                   \
        if (!p->per_sample) {                                                          \
            T loss, total;                                                             \
            gd_status st = nll_sums_##tag(x0, target, w, p, ignore, &loss, &total);    \
            if (st)                                                                    \
                return st;                                                             \
            scale = -(reduction == GD_REDUCTION_MEAN ? gs[0] / total : gs[0]);         \
        }                                                                              \
        for (int64_t k = 0; k < p->batch * p->map; k++) {                              \
            int64_t cls, i = k / p->map, m = k % p->map;                               \
            bool skip;                                                                 \
            gd_status st = nll_class(target, k, p->classes, ignore, &cls, &skip);      \
            if (st)                                                                    \
                return st;                                                             \
            if (skip)                                                                  \
                continue;                                                              \
            T v = p->per_sample ? -(w ? w[cls] : 1) * gs[k]                            \
                                : (w ? w[cls] * scale : scale);                        \
            o[(i * p->classes + cls) * p->map + m] = v;                                \
        }                                                                              \
        return GD_OK;                                                                  \
    }
NLL_GRAD(float, f32)
NLL_GRAD(double, f64)

gd_status gd_nll_loss_backward(const gd_tensor *g, int ndim, const int64_t *shape,
                               gd_dtype dtype, const gd_tensor *target,
                               const gd_tensor *weight, int reduction,
                               int64_t ignore_index, gd_tensor **out) {
    nll_plan p;
    gd_tensor *gc = NULL, *t = NULL, *w = NULL, *gi = NULL, *x0 = NULL;
    *out = NULL;
    /* The checks need only the input's shape and dtype: a zero input stands in. */
    gd_status st = gd_zeros(dtype, ndim, shape, &gi);
    if (st || (st = nll_check(gi, target, weight, reduction, &p)) ||
        (st = gd_zeros(dtype, ndim, shape, &x0)) || (st = dense(g, dtype, &gc)) ||
        (st = dense(target, target->dtype, &t)) ||
        (weight && (st = dense(weight, dtype, &w))))
        goto done;
    const void *wp = w ? gd_data_ptr(w) : NULL;
    st = dtype == GD_FLOAT32
             ? nll_grad_f32(gi, gc, x0, t, wp, &p, reduction, ignore_index)
             : nll_grad_f64(gi, gc, x0, t, wp, &p, reduction, ignore_index);
    if (!st) {
        *out = gi;
        gi = NULL;
    }
done:
    gd_tensor_decref(gc);
    gd_tensor_decref(t);
    gd_tensor_decref(w);
    gd_tensor_decref(gi);
    gd_tensor_decref(x0);
    return st;
}

/* ---- elementwise regression losses -------------------------------------- */

static const char *pointwise_kernel(gd_op op) {
    return op == GD_OP_MSE_LOSS     ? "mse_cpu"
           : op == GD_OP_HUBER_LOSS ? "huber_cpu"
                                    : "smooth_l1_cpu";
}

/* t in dtype with the dense `strides` (a new reference; t itself if it has
 * them). */
static gd_status dense_in(const gd_tensor *t, gd_dtype dtype, const int64_t *strides,
                          gd_tensor **out) {
    bool same = t->dtype == dtype && gd_is_non_overlapping_dense(t);
    for (int d = 0; same && d < t->ndim; d++)
        same = t->shape[d] == 1 || t->strides[d] == strides[d];
    if (same) {
        gd_tensor_incref((gd_tensor *)t);
        *out = (gd_tensor *)t;
        return GD_OK;
    }
    return gd_copy_strided(t, dtype, strides, out);
}

/* a and b converted to their common floating dtype, in one dense layout so
 * flat loops pair their elements: the one ATen gives the loss it computes
 * elementwise from the `nlayout` tensors `layout` (NULL: contiguous, as
 * its backward kernels allocate), which decides the order a mean or sum of
 * it adds in. */
static gd_status pair_dense(const char *kernel, const gd_tensor *a, const gd_tensor *b,
                            int nlayout, const gd_tensor *const *layout, gd_tensor **ac,
                            gd_tensor **bc) {
    char sa[256], sb[256];
    gd_dtype dt = gd_promote_types(a->dtype, b->dtype);
    *ac = *bc = NULL;
    GD_CHECK(a->ndim == b->ndim &&
                 memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0,
             GD_ERR_RUNTIME, "%s: input and target shapes differ: %s and %s", kernel,
             gd_format_shape(sa, sizeof sa, a->ndim, a->shape),
             gd_format_shape(sb, sizeof sb, b->ndim, b->shape));
    if (!gd_dtype_is_floating(dt))
        return not_implemented(kernel, dt);
    int64_t strides[GD_MAX_DIMS];
    if (layout)
        gd_result_strides(nlayout, layout, a->ndim, a->shape, strides);
    else
        gd_contiguous_strides(a->ndim, a->shape, strides);
    gd_status st = dense_in(a, dt, strides, ac);
    if (!st && (st = dense_in(b, dt, strides, bc))) {
        gd_tensor_decref(*ac);
        *ac = NULL;
    }
    return st;
}

#define POINTWISE(T, tag)                                                              \
    static void pointwise_##tag(gd_op op, const T *a, const T *b, T *o, int64_t n,     \
                                T prm) {                                               \
        const T half = (T)0.5;                                                         \
        for (int64_t i = 0; i < n; i++) {                                              \
            T d = a[i] - b[i], z = d < 0 ? -d : d;                                     \
            if (op == GD_OP_MSE_LOSS)                                                  \
                o[i] = d * d;                                                          \
            else if (op == GD_OP_HUBER_LOSS)                                           \
                o[i] = z < prm ? half * z * z : prm * (z - half * prm);                \
            else                                                                       \
                o[i] = z < prm ? half * z * z / prm : z - half * prm;                  \
        }                                                                              \
    }                                                                                  \
    static void pointwise_grad_##tag(gd_op op, const T *a, const T *b, const T *g,     \
                                     T *o, int64_t n, T norm, T prm) {                 \
        for (int64_t i = 0; i < n; i++) {                                              \
            T x = a[i] - b[i];                                                         \
            if (op == GD_OP_MSE_LOSS)                                                  \
                o[i] = norm * x * g[i];                                                \
            else if (op == GD_OP_HUBER_LOSS)                                           \
                o[i] = x <= -prm  ? -norm * g[i] * prm                                 \
                       : x >= prm ? norm * g[i] * prm                                  \
                                  : norm * x * g[i];                                   \
            else                                                                       \
                o[i] = x <= -prm  ? -norm * g[i]                                       \
                       : x >= prm ? norm * g[i]                                        \
                                  : norm * x * g[i] / prm;                             \
        }                                                                              \
    }
POINTWISE(float, f32)
POINTWISE(double, f64)

gd_status gd_pointwise_loss(gd_op op, const gd_tensor *a, const gd_tensor *b,
                            int reduction, double param, gd_tensor **out) {
    gd_tensor *ac = NULL, *bc = NULL, *loss = NULL;
    *out = NULL;
    gd_status st = check_reduction(reduction);
    if (!st && op == GD_OP_HUBER_LOSS)
        GD_CHECK(param > 0, GD_ERR_RUNTIME,
                 "huber_loss does not support non-positive values for delta.");
    if (!st && op == GD_OP_SMOOTH_L1_LOSS)
        GD_CHECK(param > 0, GD_ERR_RUNTIME,
                 "smooth_l1_loss does not support negative values for beta.");
    const gd_tensor *operands[2] = {a, b}; /* ATen's binary loss iterator */
    if (st || (st = pair_dense(pointwise_kernel(op), a, b, 2, operands, &ac, &bc)) ||
        (st = gd_empty_dense(ac->dtype, ac->ndim, ac->shape, ac->strides, &loss)))
        goto done;
    if (ac->dtype == GD_FLOAT32)
        pointwise_f32(op, (const float *)gd_data_ptr(ac),
                      (const float *)gd_data_ptr(bc), (float *)gd_data_ptr(loss),
                      ac->numel, (float)param);
    else
        pointwise_f64(op, (const double *)gd_data_ptr(ac),
                      (const double *)gd_data_ptr(bc), (double *)gd_data_ptr(loss),
                      ac->numel, param);
    st = reduce_loss(loss, reduction, out);
    loss = NULL;
done:
    gd_tensor_decref(ac);
    gd_tensor_decref(bc);
    gd_tensor_decref(loss);
    return st;
}

gd_status gd_pointwise_loss_backward(gd_op op, const gd_tensor *g, const gd_tensor *a,
                                     const gd_tensor *b, int reduction, double param,
                                     bool target, gd_tensor **out) {
    gd_tensor *ac = NULL, *bc = NULL, *gc = NULL, *gi = NULL;
    *out = NULL;
    gd_status st = pair_dense(pointwise_kernel(op), a, b, 0, NULL, &ac, &bc);
    if (st || (st = dense_as(g, ac->dtype, ac->ndim, ac->shape, &gc)) ||
        (st = gd_empty(ac->dtype, ac->ndim, ac->shape, &gi)))
        goto done;
    double n = (double)ac->numel, mean = reduction == GD_REDUCTION_MEAN;
    double norm = op == GD_OP_MSE_LOSS ? (mean ? 2. / n : 2.) : (mean ? 1. / n : 1.);
    gd_tensor *x = target ? bc : ac, *y = target ? ac : bc;
    if (ac->dtype == GD_FLOAT32)
        pointwise_grad_f32(op, (const float *)gd_data_ptr(x),
                           (const float *)gd_data_ptr(y),
                           (const float *)gd_data_ptr(gc), (float *)gd_data_ptr(gi),
                           ac->numel, (float)norm, (float)param);
    else
        pointwise_grad_f64(op, (const double *)gd_data_ptr(x),
                           (const double *)gd_data_ptr(y),
                           (const double *)gd_data_ptr(gc), (double *)gd_data_ptr(gi),
                           ac->numel, norm, param);
    *out = gi;
    gi = NULL;
done:
    gd_tensor_decref(ac);
    gd_tensor_decref(bc);
    gd_tensor_decref(gc);
    gd_tensor_decref(gi);
    return st;
}

/* ---- binary cross entropy ------------------------------------------------ */

/* loss *= weight in place, weight broadcast to loss's shape. */
static gd_status times_weight(gd_tensor *loss, const gd_tensor *weight) {
    return weight ? gd_binary_(GD_OP_MUL, loss, weight, loss->dtype) : GD_OK;
}

#define BCE(T, tag, LOG)                                                               \
    static gd_status bce_##tag(const T *x, const T *y, T *o, int64_t n) {              \
        for (int64_t i = 0; i < n; i++) {                                              \
            GD_CHECK(x[i] >= 0 && x[i] <= 1, GD_ERR_RUNTIME,                           \
                     "all elements of input should be between 0 and 1");               \
            T l1 = LOG(1 - x[i]), l0 = LOG(x[i]);                                      \
            o[i] =                                                                     \
                (y[i] - 1) * (l1 > -100 ? l1 : -100) - y[i] * (l0 > -100 ? l0 : -100); \
        }                                                                              \
        return GD_OK;                                                                  \
    }
BCE(float, f32, logf)
BCE(double, f64, log)

static gd_status bce_pair(const gd_tensor *x, const gd_tensor *y, gd_tensor **xc,
                          gd_tensor **yc) {
    GD_CHECK(x->dtype == y->dtype, GD_ERR_RUNTIME, "Found dtype %s but expected %s",
             gd_dtype_scalar_name(y->dtype), gd_dtype_scalar_name(x->dtype));
    return pair_dense("binary_cross_entropy", x, y, 1, &x, xc, yc); /* empty_like(x) */
}

gd_status gd_binary_cross_entropy(const gd_tensor *x, const gd_tensor *y,
                                  const gd_tensor *weight, int reduction,
                                  gd_tensor **out) {
    gd_tensor *xc = NULL, *yc = NULL, *loss = NULL;
    *out = NULL;
    gd_status st = check_reduction(reduction);
    if (!st)
        st = check_weight_grad("binary_cross_entropy", "weight", weight);
    if (st || (st = bce_pair(x, y, &xc, &yc)) ||
        (st = gd_empty_dense(xc->dtype, xc->ndim, xc->shape, xc->strides, &loss)))
        goto done;
    st = xc->dtype == GD_FLOAT32
             ? bce_f32((const float *)gd_data_ptr(xc), (const float *)gd_data_ptr(yc),
                       (float *)gd_data_ptr(loss), xc->numel)
             : bce_f64((const double *)gd_data_ptr(xc), (const double *)gd_data_ptr(yc),
                       (double *)gd_data_ptr(loss), xc->numel);
    if (st || (st = times_weight(loss, weight)))
        goto done;
    st = reduce_loss(loss, reduction, out);
    loss = NULL;
done:
    gd_tensor_decref(xc);
    gd_tensor_decref(yc);
    gd_tensor_decref(loss);
    return st;
}

/* log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for any logit. */
static gd_status log_sigmoid(const gd_tensor *x, gd_tensor **out) {
    gd_status st = gd_empty_dense(x->dtype, x->ndim, x->shape, x->strides, out);
    if (st)
        return st;
    for (int64_t i = 0; i < x->numel; i++) {
        if (x->dtype == GD_FLOAT32) {
            float v = ((const float *)gd_data_ptr(x))[i];
            ((float *)gd_data_ptr(*out))[i] = (v < 0 ? v : 0) - log1pf(expf(-fabsf(v)));
        } else {
            double v = ((const double *)gd_data_ptr(x))[i];
            ((double *)gd_data_ptr(*out))[i] = (v < 0 ? v : 0) - log1p(exp(-fabs(v)));
        }
    }
    return GD_OK;
}

gd_status gd_bce_with_logits(const gd_tensor *x, const gd_tensor *y,
                             const gd_tensor *weight, const gd_tensor *pos_weight,
                             int reduction, gd_tensor **out) {
    KERNEL_CTX(c);
    gd_tensor *xc = NULL, *yc = NULL, *ls = NULL, *loss = NULL;
    *out = NULL;
    gd_status st = check_reduction(reduction);
    if (!st)
        st = check_weight_grad("binary_cross_entropy_with_logits", "weight", weight);
    if (!st)
        st = check_weight_grad("binary_cross_entropy_with_logits", "pos_weight",
                               pos_weight);
    /* the loss is (1 - y) * x - ...: laid out as 1 - y */
    if (st ||
        (st = pair_dense("binary_cross_entropy_with_logits", x, y, 1, &y, &xc, &yc)) ||
        (st = log_sigmoid(xc, &ls)))
        goto done;
    track(&c, GD_OK, &xc);
    track(&c, GD_OK, &yc);
    track(&c, GD_OK, &ls);
    gd_tensor *lsw = ls;
    if (pos_weight) /* log_sigmoid(x) * ((pos_weight - 1) * y + 1) */
        lsw = bin(&c, GD_OP_MUL, ls,
                  bin_num(&c, GD_OP_ADD,
                          bin(&c, GD_OP_MUL,
                              bin_num(&c, GD_OP_SUB, (gd_tensor *)pos_weight, 1.0), yc),
                          1.0));
    /* (1 - y) * x - log_sigmoid(x) * log_weight */
    gd_tensor *l = bin(&c, GD_OP_SUB,
                       bin(&c, GD_OP_MUL, num_bin(&c, GD_OP_SUB, 1.0, yc), xc), lsw);
    if (c.st)
        goto done;
    gd_tensor_incref(l);
    loss = l;
    if ((st = times_weight(loss, weight)))
        goto done;
    st = reduce_loss(loss, reduction, out);
    loss = NULL;
done:
    if (!st)
        st = c.st;
    finish(&c);
    if (c.n == 0) { /* not yet tracked */
        gd_tensor_decref(xc);
        gd_tensor_decref(yc);
        gd_tensor_decref(ls);
    }
    gd_tensor_decref(loss);
    if (st && *out) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}
