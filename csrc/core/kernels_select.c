/* Elementwise selection: clamp (bounds, NaN bounds, integer bound checks)
 * and where, on the broadcasting iterator like the other elementwise
 * kernels. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---- clamp and where ---------------------------------------------------- */

typedef struct {
    bool has_min, has_max;
    double min, max;
} clamp_bounds;

/* BOUND converts a checked bound to T (integers through int64: C's
 * wrapping, no undefined float-to-unsigned conversion). */
#define CLAMP_LOOP(name, T, BOUND)                                                     \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        const clamp_bounds *c = ctx;                                                   \
        T lo = (T)BOUND(c->min), hi = (T)BOUND(c->max);                                \
        for (int64_t i = 0; i < n; i++) {                                              \
            T x = *(const T *)(d[1] + i * s[1]);                                       \
            if (x == x) {                                                              \
                if (c->has_min && x < lo)                                              \
                    x = lo;                                                            \
                if (c->has_max && x > hi)                                              \
                    x = hi;                                                            \
            }                                                                          \
            *(T *)(d[0] + i * s[0]) = x;                                               \
        }                                                                              \
    }
#define AS_IS(x) (x)
CLAMP_LOOP(clamp_u8, uint8_t, gd_f2i64)
CLAMP_LOOP(clamp_i32, int32_t, gd_f2i64)
CLAMP_LOOP(clamp_i64, int64_t, gd_f2i64)
CLAMP_LOOP(clamp_f32, float, AS_IS)
CLAMP_LOOP(clamp_f64, double, AS_IS)
static const gd_loop_fn clamp_loops[GD_DTYPE_COUNT] =
    BY_DTYPE(NULL, clamp_u8, clamp_i32, clamp_i64, clamp_f32, clamp_f64);

static gd_status clamp_check(const gd_tensor *a, const clamp_bounds *c) {
    GD_CHECK(c->has_min || c->has_max, GD_ERR_RUNTIME,
             "torch.clamp: At least one of 'min' or 'max' must not be None");
    GD_CHECK(clamp_loops[a->dtype], GD_ERR_NOTIMPL,
             "\"clamp_cpu\" not implemented for '%s'", gd_dtype_scalar_name(a->dtype));
    /* Integer bounds are converted to the element type first, checked. */
    gd_status st = GD_OK;
    if (c->has_min)
        st = gd_check_scalar(a->dtype, c->min);
    if (!st && c->has_max)
        st = gd_check_scalar(a->dtype, c->max);
    return st;
}

/* PyTorch's clamp gives NaN everywhere when a bound is NaN. */
static bool nan_bound(const clamp_bounds *c) {
    return (c->has_min && isnan(c->min)) || (c->has_max && isnan(c->max));
}

static gd_status clamp_into(gd_tensor *out, const gd_tensor *a, const clamp_bounds *c) {
    if (nan_bound(c))
        return gd_fill_(out, NAN);
    const gd_tensor *ops[2] = {out, a};
    gd_iterate(2, ops, a->ndim, a->shape, clamp_loops[a->dtype], (void *)c);
    return GD_OK;
}

gd_status gd_clamp(const gd_tensor *a, bool has_min, double min, bool has_max,
                   double max, gd_tensor **out) {
    clamp_bounds c = {has_min, has_max, min, max};
    *out = NULL;
    gd_status st = clamp_check(a, &c);
    if (st || (st = gd_empty_result(a->dtype, 1, &a, a->ndim, a->shape, out)))
        return st;
    if ((st = clamp_into(*out, a, &c))) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}

gd_status gd_clamp_(gd_tensor *a, bool has_min, double min, bool has_max, double max) {
    clamp_bounds c = {has_min, has_max, min, max};
    gd_status st = clamp_check(a, &c);
    return st ? st : clamp_into(a, a, &c);
}

#define WHERE_LOOP(name, T)                                                            \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        (void)ctx;                                                                     \
        for (int64_t i = 0; i < n; i++) {                                              \
            bool c = *(const gd_bool_t *)(d[1] + i * s[1]) != 0;                       \
            const char *src = c ? d[2] + i * s[2] : d[3] + i * s[3];                   \
            *(T *)(d[0] + i * s[0]) = *(const T *)src;                                 \
        }                                                                              \
    }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)

gd_status gd_where(const gd_tensor *cond, const gd_tensor *a, const gd_tensor *b,
                   gd_dtype common, gd_tensor **out) {
    int n1, n2;
    int64_t s1[GD_MAX_DIMS], s2[GD_MAX_DIMS];
    gd_tensor *ca = NULL, *cb = NULL;
    gd_status st;
    *out = NULL;
    GD_CHECK(cond->dtype == GD_BOOL, GD_ERR_RUNTIME,
             "where expected condition to be a boolean tensor, but got a tensor with "
             "dtype %s",
             gd_dtype_scalar_name(cond->dtype));
    if ((st = gd_broadcast_shapes(cond->ndim, cond->shape, a->ndim, a->shape, &n1,
                                  s1)) ||
        (st = gd_broadcast_shapes(n1, s1, b->ndim, b->shape, &n2, s2)))
        return st;
    const gd_tensor *ins[3] = {cond, a, b};
    if ((st = gd_as_dtype(a, common, &ca)) || (st = gd_as_dtype(b, common, &cb)) ||
        (st = gd_empty_result(common, 3, ins, n2, s2, out)))
        goto done;
    size_t size = gd_dtype_size(common);
    const gd_tensor *ops[4] = {*out, cond, ca, cb};
    gd_iterate(4, ops, n2, s2,
               size == 1   ? where_1
               : size == 4 ? where_4
                           : where_8,
               NULL);
done:
    gd_tensor_decref(ca);
    gd_tensor_decref(cb);
    return st;
}
