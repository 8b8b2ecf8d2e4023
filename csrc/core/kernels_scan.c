/* Scans: cumulative ops along one dim (cumsum).
 *
 * As ATen's CPU kernel does, a float32 cumsum accumulates in double and
 * rounds each partial sum to float32; integers and bools accumulate in
 * int64 (wrapping) and give int64. */
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

#define CUMSUM_LOOP(name, T, ACC)                                                      \
    static void name(const T *x, T *y, scan_shape s, bool reverse) {                   \
        for (int64_t o = 0; o < s.outer; o++) {                                        \
            for (int64_t i = 0; i < s.inner; i++) {                                    \
                const T *xr = x + o * s.len * s.inner + i;                             \
                T *yr = y + o * s.len * s.inner + i;                                   \
                ACC acc = 0;                                                           \
                for (int64_t k = 0; k < s.len; k++) {                                  \
                    int64_t at = (reverse ? s.len - 1 - k : k) * s.inner;              \
                    acc += (ACC)xr[at];                                                \
                    yr[at] = (T)acc;                                                   \
                }                                                                      \
            }                                                                          \
        }                                                                              \
    }
CUMSUM_LOOP(cumsum_f32, float, double)
CUMSUM_LOOP(cumsum_f64, double, double)
CUMSUM_LOOP(cumsum_i64, int64_t, uint64_t) /* unsigned: wraps like PyTorch */

gd_status gd_scan(gd_op op, const gd_tensor *a, int64_t dim, bool reverse,
                  gd_tensor **out) {
    gd_tensor *in = NULL;
    int d = 0;
    *out = NULL;
    GD_CHECK(op == GD_OP_CUMSUM, GD_ERR_RUNTIME, "%s is not a scan", gd_op_name(op));
    gd_status st = gd_wrap_dim(dim, a->ndim, &d);
    if (st)
        return st;
    gd_dtype dt = gd_dtype_is_floating(a->dtype) ? a->dtype : GD_INT64;
    if ((st = a->dtype == dt ? gd_contiguous(a, &in) : gd_to_dtype(a, dt, &in)) ||
        (st = gd_empty(dt, a->ndim, a->shape, out)))
        goto done;
    scan_shape s = scan_shape_of(in, d);
    void *lock = gd_loop_begin(in->numel);
    if (dt == GD_FLOAT32)
        cumsum_f32((const float *)gd_data_ptr(in), (float *)gd_data_ptr(*out), s,
                   reverse);
    else if (dt == GD_FLOAT64)
        cumsum_f64((const double *)gd_data_ptr(in), (double *)gd_data_ptr(*out), s,
                   reverse);
    else
        cumsum_i64((const int64_t *)gd_data_ptr(in), (int64_t *)gd_data_ptr(*out), s,
                   reverse);
    gd_loop_end(lock);
done:
    gd_tensor_decref(in);
    return st;
}
