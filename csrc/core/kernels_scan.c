/* Scans: cumulative ops along one dim (cumsum, cumprod).
 *
 * As ATen's CPU kernel does, a float32 scan accumulates in double and
 * rounds each partial sum or product to float32; integers and bools
 * accumulate in int64 (wrapping) and give int64 unless a result dtype is
 * asked for. The input is first converted to the result dtype, as ATen
 * converts it. */
#include "internal.h"

#include <string.h>

/* The tensor as [outer, len, inner] around `dim`, contiguous. */
typedef struct {
    int64_t outer, len, inner;
} scan_shape;

static scan_shape scan_shape_of(const gd_tensor *t, int dim) {
    scan_shape s = {1, 1, 1};
    for (int d = 0; d < t->ndim; d++) {
        if (d < dim)
            s.outer *= t->shape[d];
        else if (d == dim)
            s.len = t->shape[d];
        else
            s.inner *= t->shape[d];
    }
    return s;
}

/* One scan along a dim: acc starts at INIT and takes each element by OP (in
 * the accumulation type), from the end when `reverse`. */
#define SCAN_LOOP(name, T, ACC, INIT, OP)                                              \
    static void name(const T *x, T *y, scan_shape s, bool reverse) {                   \
        for (int64_t o = 0; o < s.outer; o++) {                                        \
            for (int64_t i = 0; i < s.inner; i++) {                                    \
                const T *xr = x + o * s.len * s.inner + i;                             \
                T *yr = y + o * s.len * s.inner + i;                                   \
                ACC acc = INIT;                                                        \
                for (int64_t k = 0; k < s.len; k++) {                                  \
                    int64_t at = (reverse ? s.len - 1 - k : k) * s.inner;              \
                    acc = acc OP(ACC) xr[at];                                          \
                    yr[at] = (T)acc;                                                   \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    }
SCAN_LOOP(cumsum_f32, float, double, 0, +)
SCAN_LOOP(cumsum_f64, double, double, 0, +)
SCAN_LOOP(cumsum_i64, int64_t, uint64_t, 0, +) /* unsigned: wraps like PyTorch */
SCAN_LOOP(cumprod_f32, float, double, 1, *)
SCAN_LOOP(cumprod_f64, double, double, 1, *)
/* unsigned: wraps like PyTorch; narrower integer results keep the low bits,
 * which the low bits of the factors alone decide */
SCAN_LOOP(cumprod_i64, int64_t, uint64_t, 1, *)

static void run(gd_op op, gd_dtype dt, const gd_tensor *in, gd_tensor *out,
                scan_shape s, bool reverse) {
    const void *x = gd_data_ptr(in);
    void *y = gd_data_ptr(out);
    if (op == GD_OP_CUMPROD) {
        if (dt == GD_FLOAT32)
            cumprod_f32((const float *)x, (float *)y, s, false);
        else if (dt == GD_FLOAT64)
            cumprod_f64((const double *)x, (double *)y, s, false);
        else
            cumprod_i64((const int64_t *)x, (int64_t *)y, s, false);
    } else if (dt == GD_FLOAT32) {
        cumsum_f32((const float *)x, (float *)y, s, reverse);
    } else if (dt == GD_FLOAT64) {
        cumsum_f64((const double *)x, (double *)y, s, reverse);
    } else {
        cumsum_i64((const int64_t *)x, (int64_t *)y, s, reverse);
    }
}

gd_status gd_scan_as(gd_op op, const gd_tensor *a, int64_t dim, bool reverse,
                     gd_dtype dtype, gd_tensor **out) {
    gd_tensor *conv = NULL, *in = NULL, *acc = NULL;
    int d = 0;
    *out = NULL;
    GD_CHECK(op == GD_OP_CUMSUM || op == GD_OP_CUMPROD, GD_ERR_RUNTIME,
             "%s is not a scan", gd_op_name(op));
    GD_CHECK(!(op == GD_OP_CUMPROD && reverse), GD_ERR_RUNTIME,
             "cumprod has no reverse form");
    gd_status st = gd_wrap_dim(dim, a->ndim, &d);
    if (st)
        return st;
    GD_CHECK(dtype != GD_BOOL, GD_ERR_NOTIMPL,
             "\"%s_out_cpu\" not implemented for 'Bool'", gd_op_name(op));
    /* integer results are computed in int64 and narrowed at the end */
    gd_dtype work = gd_dtype_is_floating(dtype) ? dtype : GD_INT64;
    if ((st = a->dtype == dtype ? gd_contiguous(a, &conv)
                                : gd_to_dtype(a, dtype, &conv)) ||
        (st =
             work == dtype ? gd_contiguous(conv, &in) : gd_to_dtype(conv, work, &in)) ||
        (st = gd_empty(work, a->ndim, a->shape, &acc)))
        goto done;
    scan_shape s = scan_shape_of(in, d);
    void *lock = gd_loop_begin(in->numel);
    run(op, work, in, acc, s, reverse);
    gd_loop_end(lock);
    if (work == dtype) {
        *out = acc;
        acc = NULL;
    } else {
        st = gd_to_dtype(acc, dtype, out);
    }
done:
    gd_tensor_decref(conv);
    gd_tensor_decref(in);
    gd_tensor_decref(acc);
    return st;
}

gd_status gd_scan(gd_op op, const gd_tensor *a, int64_t dim, bool reverse,
                  gd_tensor **out) {
    gd_dtype dt = gd_dtype_is_floating(a->dtype) ? a->dtype : GD_INT64;
    return gd_scan_as(op, a, dim, reverse, dt, out);
}
