/* Reductions: sum, mean, prod, max/min, argmax/argmin, var/std, norm.
 *
 * The input is viewed with kept dims first and reduced dims last, made
 * contiguous when it is not already, and each output element reduces one
 * contiguous row. Floating sum and mean (kernels_sum.c), norms with finite p
 * and var/std (kernels_fold.c) follow PyTorch's own order and types and read
 * the input where it lies. */
#include "internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    int64_t rows, row_len;
    bool reduced[GD_MAX_DIMS];
    gd_tensor *data; /* contiguous, rows x row_len */
    int out_ndim;
    int64_t out_shape[GD_MAX_DIMS];
} reduce_plan;

/* Plans a reduction whose widest result has dtype `odt`: PyTorch sizes the
 * result before it reads the input, so a result too large to allocate is
 * reported before the contiguous copy of the input is made (none when
 * `copy` is false: plan->data is then NULL). */
static gd_status plan_reduce(const char *name, const gd_tensor *a, int ndims,
                             const int64_t *dims, bool keepdim, gd_dtype odt, bool copy,
                             reduce_plan *plan) {
    gd_dim_set reduced = 0;
    int64_t perm[GD_MAX_DIMS];
    int np = 0;
    gd_status st;
    (void)name;
    plan->data = NULL; /* out_shape is written up to out_ndim */
    plan->out_ndim = 0;
    if (ndims < 0) {
        for (int d = 0; d < a->ndim; d++)
            reduced |= GD_DIM_BIT(d);
    } else {
        for (int i = 0; i < ndims; i++) {
            int d;
            if ((st = gd_wrap_dim(dims[i], a->ndim, &d)))
                return st;
            GD_CHECK(a->ndim == 0 || !(reduced & GD_DIM_BIT(d)), GD_ERR_RUNTIME,
                     "dim %d appears multiple times in the list of dims", d);
            if (a->ndim > 0)
                reduced |= GD_DIM_BIT(d);
        }
    }
    plan->rows = 1;
    plan->row_len = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (reduced & GD_DIM_BIT(d))
            continue;
        perm[np++] = d;
        plan->rows *= a->shape[d];
    }
    for (int d = 0; d < a->ndim; d++) {
        if (!(reduced & GD_DIM_BIT(d)))
            continue;
        perm[np++] = d;
        plan->row_len *= a->shape[d];
    }
    for (int d = 0; d < a->ndim; d++) {
        if (!(reduced & GD_DIM_BIT(d)))
            plan->out_shape[plan->out_ndim++] = a->shape[d];
        else if (keepdim)
            plan->out_shape[plan->out_ndim++] = 1;
    }
    int64_t out_numel;
    size_t out_nbytes;
    if ((st = gd_shape_nbytes(odt, plan->out_ndim, plan->out_shape, &out_numel,
                              &out_nbytes)))
        return st;
    for (int d = 0; d < a->ndim; d++)
        plan->reduced[d] = (reduced & GD_DIM_BIT(d)) != 0;
    if (!copy)
        return GD_OK;
    bool in_order = true; /* reduced dims already last: no view needed */
    for (int d = 0; d < a->ndim; d++)
        in_order &= perm[d] == d;
    if (in_order && gd_is_contiguous(a)) {
        gd_tensor_incref((gd_tensor *)a);
        plan->data = (gd_tensor *)a;
        return GD_OK;
    }
    gd_tensor *permuted = NULL;
    if ((st = gd_permute(a, a->ndim, perm, &permuted)))
        return st;
    st = gd_contiguous(permuted, &plan->data);
    gd_tensor_decref(permuted);
    return st;
}

/* Element i of a contiguous row as double / as int64. */
static double load_f(gd_dtype dt, const char *row, int64_t i) {
    return gd_load_double(dt, row + (size_t)i * gd_dtype_size(dt));
}
static int64_t load_i(gd_dtype dt, const char *row, int64_t i) {
    return gd_load_int64(dt, row + (size_t)i * gd_dtype_size(dt));
}

static void store(gd_tensor *out, int64_t i, double vf, int64_t vi) {
    char *p = gd_data_ptr(out) + (size_t)i * gd_dtype_size(out->dtype);
    if (gd_dtype_is_floating(out->dtype))
        gd_store_double(out->dtype, p, vf);
    else
        gd_store_int64(out->dtype, p, vi);
}

/* Index of the max (want_max) or min of a row; NaN wins, first one kept. */
static int64_t row_arg_extreme(gd_dtype dt, const char *row, int64_t n, bool want_max) {
    int64_t best = 0;
    if (gd_dtype_is_floating(dt)) {
        double bv = load_f(dt, row, 0);
        for (int64_t i = 1; i < n && bv == bv; i++) {
            double v = load_f(dt, row, i);
            if (v != v || (want_max ? v > bv : v < bv)) {
                bv = v;
                best = i;
            }
        }
    } else {
        int64_t bv = load_i(dt, row, 0);
        for (int64_t i = 1; i < n; i++) {
            int64_t v = load_i(dt, row, i);
            if (want_max ? v > bv : v < bv) {
                bv = v;
                best = i;
            }
        }
    }
    return best;
}

/* The norms kernels_fold.c leaves here: p = +-inf (the largest or smallest
 * |x|, NaN winning) and norms of nothing (0, or inf for p < 0). */
static double row_norm(gd_dtype dt, const char *row, int64_t n, double p) {
    if (n == 0)
        return p < 0 ? INFINITY : 0;
    double best = p > 0 ? 0 : INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs(load_f(dt, row, i));
        if (v != v)
            return v;
        best = p > 0 ? fmax(best, v) : fmin(best, v);
    }
    return best;
}

static gd_status result_dtype(gd_op op, gd_dtype in, gd_dtype *out) {
    switch (op) {
    case GD_OP_SUM:
    case GD_OP_PROD:
        *out = gd_dtype_is_floating(in) ? in : GD_INT64;
        return GD_OK;
    case GD_OP_MEAN:
        GD_CHECK(gd_dtype_is_floating(in), GD_ERR_RUNTIME,
                 "mean(): could not infer output dtype. Input dtype must be either a "
                 "floating point or complex dtype. Got: %s",
                 gd_dtype_scalar_name(in));
        break;
    case GD_OP_VAR:
    case GD_OP_STD:
        GD_CHECK(gd_dtype_is_floating(in), GD_ERR_RUNTIME,
                 "std and var only support floating point and complex dtypes");
        break;
    case GD_OP_NORM:
        GD_CHECK(gd_dtype_is_floating(in), GD_ERR_RUNTIME,
                 "linalg.vector_norm: Expected a floating point or complex tensor as "
                 "input. Got %s",
                 gd_dtype_scalar_name(in));
        break;
    case GD_OP_ARGMAX:
    case GD_OP_ARGMIN:
        *out = GD_INT64;
        return GD_OK;
    case GD_OP_MAX:
    case GD_OP_MIN:
        break;
    default:
        return gd_error(GD_ERR_RUNTIME, "%s is not a reduction", gd_op_name(op));
    }
    *out = in;
    return GD_OK;
}

static bool is_extreme(gd_op op) {
    return op == GD_OP_MAX || op == GD_OP_MIN || op == GD_OP_ARGMAX ||
           op == GD_OP_ARGMIN;
}

gd_status gd_reduce(gd_op op, const gd_tensor *a, int ndims, const int64_t *dims,
                    bool keepdim, double param, gd_tensor **out) {
    reduce_plan plan;
    gd_dtype odt = a->dtype;
    gd_status st;
    *out = NULL;
    if ((st = result_dtype(op, a->dtype, &odt)))
        return st;
    if (is_extreme(op) && a->numel == 0 && ndims < 0) {
        const char *name = op == GD_OP_ARGMAX   ? "argmax"
                           : op == GD_OP_ARGMIN ? "argmin"
                                                : gd_op_name(op);
        bool arg = op == GD_OP_ARGMAX || op == GD_OP_ARGMIN;
        return gd_error(
            arg ? GD_ERR_INDEX : GD_ERR_RUNTIME,
            "%s(): Expected reduction dim to be specified for input.numel() "
            "== 0.%s",
            name, arg ? "" : " Specify the reduction dim with the 'dim' argument.");
    }
    bool exact_float = a->dtype == GD_FLOAT32 || a->dtype == GD_FLOAT64;
    bool exact_sum =
        (op == GD_OP_SUM || op == GD_OP_MEAN || op == GD_OP_PROD) && exact_float;
    bool exact_fold =
        exact_float && ((op == GD_OP_NORM && isfinite(param) && a->numel > 0) ||
                        op == GD_OP_VAR || op == GD_OP_STD);
    if ((st = plan_reduce(gd_op_name(op), a, ndims, dims, keepdim, odt,
                          !exact_sum && !exact_fold, &plan)))
        return st;
    if (exact_fold) {
        if ((st = gd_empty(odt, plan.out_ndim, plan.out_shape, out)) ||
            (st = gd_fold_floating(op, a, plan.reduced, param, *out))) {
            gd_tensor_decref(*out);
            *out = NULL;
        }
        return st;
    }
    if (exact_sum) {
        if ((st = gd_empty(odt, plan.out_ndim, plan.out_shape, out)) ||
            (st = op == GD_OP_PROD ? gd_prod_floating(a, plan.reduced, keepdim, *out)
                                   : gd_sum_floating(a, plan.reduced, keepdim,
                                                     op == GD_OP_MEAN, *out))) {
            gd_tensor_decref(*out);
            *out = NULL;
        }
        return st;
    }
    if (is_extreme(op) && plan.row_len == 0 && plan.rows > 0) {
        st = gd_error(GD_ERR_INDEX,
                      "%s(): Expected reduction dim to have non-zero size.",
                      gd_op_name(op));
        goto done;
    }
    if ((st = gd_empty(odt, plan.out_ndim, plan.out_shape, out)))
        goto done;
    const gd_tensor *in = plan.data;
    gd_dtype dt = in->dtype;
    size_t rowbytes = (size_t)plan.row_len * gd_dtype_size(dt);
    const char *base = gd_data_ptr(in);
    int64_t n = plan.row_len;
    void *lock = gd_loop_begin(in->numel);
    for (int64_t r = 0; r < plan.rows; r++) {
        const char *row = base + (size_t)r * rowbytes;
        double vf = 0;
        int64_t vi = 0;
        switch (op) {
        case GD_OP_SUM: {     /* integers only: floats went to gd_sum_floating */
            uint64_t acc = 0; /* wraps like PyTorch's int64 sums */
            for (int64_t i = 0; i < n; i++)
                acc += (uint64_t)load_i(dt, row, i);
            vi = (int64_t)acc;
            break;
        }
        case GD_OP_PROD: {    /* integers only: floats went to gd_prod_floating */
            uint64_t acc = 1; /* wraps like PyTorch's int64 products */
            for (int64_t i = 0; i < n; i++)
                acc *= (uint64_t)load_i(dt, row, i);
            vi = (int64_t)acc;
            break;
        }
        case GD_OP_NORM:
            vf = row_norm(dt, row, n, param);
            break;
        default: { /* max, min, argmax, argmin */
            bool want_max = op == GD_OP_MAX || op == GD_OP_ARGMAX;
            int64_t at = row_arg_extreme(dt, row, n, want_max);
            if (op == GD_OP_ARGMAX || op == GD_OP_ARGMIN) {
                vi = at;
            } else {
                vf = load_f(dt, row, at);
                vi = gd_dtype_is_floating(dt) ? 0 : load_i(dt, row, at);
            }
        }
        }
        store(*out, r, vf, vi);
    }
    gd_loop_end(lock);
done:
    gd_tensor_decref(plan.data);
    return st;
}

gd_status gd_reduce_index(gd_op op, const gd_tensor *a, int64_t dim, bool keepdim,
                          gd_tensor **values, gd_tensor **indices) {
    reduce_plan plan;
    int d;
    gd_status st;
    gd_tensor *vals = NULL, *idx = NULL;
    if (values)
        *values = NULL;
    if (indices)
        *indices = NULL;
    GD_CHECK(is_extreme(op), GD_ERR_RUNTIME, "%s is not max/min", gd_op_name(op));
    if ((st = gd_wrap_dim(dim, a->ndim, &d)))
        return st;
    const char *name = op == GD_OP_ARGMAX   ? "argmax"
                       : op == GD_OP_ARGMIN ? "argmin"
                                            : gd_op_name(op);
    GD_CHECK(a->ndim == 0 || a->shape[d] > 0, GD_ERR_INDEX,
             "%s(): Expected reduction dim %d to have non-zero size.", name, d);
    int64_t dims[1] = {d};
    if ((st = plan_reduce(name, a, 1, dims, keepdim, indices ? GD_INT64 : a->dtype,
                          true, &plan)))
        return st;
    if ((values && (st = gd_empty(a->dtype, plan.out_ndim, plan.out_shape, &vals))) ||
        (indices && (st = gd_empty(GD_INT64, plan.out_ndim, plan.out_shape, &idx))))
        goto done;
    bool want_max = op == GD_OP_MAX || op == GD_OP_ARGMAX;
    gd_dtype dt = a->dtype;
    size_t rowbytes = (size_t)plan.row_len * gd_dtype_size(dt);
    const char *base = gd_data_ptr(plan.data);
    void *lock = gd_loop_begin(plan.data->numel);
    for (int64_t r = 0; r < plan.rows; r++) {
        const char *row = base + (size_t)r * rowbytes;
        int64_t at = row_arg_extreme(dt, row, plan.row_len, want_max);
        if (vals)
            memcpy(gd_data_ptr(vals) + (size_t)r * gd_dtype_size(dt),
                   row + (size_t)at * gd_dtype_size(dt), gd_dtype_size(dt));
        if (idx)
            ((int64_t *)gd_data_ptr(idx))[r] = at;
    }
    gd_loop_end(lock);
    if (values) {
        *values = vals;
        vals = NULL;
    }
    if (indices) {
        *indices = idx;
        idx = NULL;
    }
done:
    gd_tensor_decref(vals);
    gd_tensor_decref(idx);
    gd_tensor_decref(plan.data);
    return st;
}
