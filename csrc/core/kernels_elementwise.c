/* Elementwise kernels: casts, copies, fill and binary math (unary math is in
 * kernels_unary.c, clamp and where in kernels_select.c).
 *
 * Each loop has a contiguous fast path the compiler vectorises, a path for a
 * broadcast scalar operand, and a general strided path; gd_iterate hands them
 * the longest runs it can. Bool elements are bytes holding 0 or 1. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- casts -------------------------------------------------------------- */

#define CAST_LOOP(name, TO, TI, CONV) UNARY_LOOP(name, TO, TI, (TO)(CONV))

#define CAST_FROM(TI, tag, TO_BOOL)                                                    \
    CAST_LOOP(cast_##tag##_to_b, gd_bool_t, TI, TO_BOOL)                               \
    CAST_LOOP(cast_##tag##_to_u8, uint8_t, TI, x)                                      \
    CAST_LOOP(cast_##tag##_to_i32, int32_t, TI, x)                                     \
    CAST_LOOP(cast_##tag##_to_i64, int64_t, TI, x)                                     \
    CAST_LOOP(cast_##tag##_to_f32, float, TI, x)                                       \
    CAST_LOOP(cast_##tag##_to_f64, double, TI, x)

CAST_FROM(gd_bool_t, b, x != 0)
CAST_FROM(uint8_t, u8, x != 0)
CAST_FROM(int32_t, i32, x != 0)
CAST_FROM(int64_t, i64, x != 0)
CAST_LOOP(cast_f32_to_b, gd_bool_t, float, x != 0)
CAST_LOOP(cast_f32_to_u8, uint8_t, float, (uint8_t)gd_f2i64(x))
CAST_LOOP(cast_f32_to_i32, int32_t, float, gd_f2i32(x))
CAST_LOOP(cast_f32_to_i64, int64_t, float, gd_f2i64(x))
CAST_LOOP(cast_f32_to_f32, float, float, x)
CAST_LOOP(cast_f32_to_f64, double, float, x)
CAST_LOOP(cast_f64_to_b, gd_bool_t, double, x != 0)
CAST_LOOP(cast_f64_to_u8, uint8_t, double, (uint8_t)gd_f2i64(x))
CAST_LOOP(cast_f64_to_i32, int32_t, double, gd_f2i32(x))
CAST_LOOP(cast_f64_to_i64, int64_t, double, gd_f2i64(x))
CAST_LOOP(cast_f64_to_f32, float, double, x)
CAST_LOOP(cast_f64_to_f64, double, double, x)

/* cast_loops[to][from] */
#define CASTS_TO(to)                                                                   \
    BY_DTYPE(cast_b_to_##to, cast_u8_to_##to, cast_i32_to_##to, cast_i64_to_##to,      \
             cast_f32_to_##to, cast_f64_to_##to)
static const gd_loop_fn cast_loops[GD_DTYPE_COUNT][GD_DTYPE_COUNT] =
    BY_DTYPE(CASTS_TO(b), CASTS_TO(u8), CASTS_TO(i32), CASTS_TO(i64), CASTS_TO(f32),
             CASTS_TO(f64));

gd_status gd_copy_(gd_tensor *dst, const gd_tensor *src) {
    int nd;
    int64_t shape[GD_MAX_DIMS];
    gd_status st =
        gd_broadcast_shapes(dst->ndim, dst->shape, src->ndim, src->shape, &nd, shape);
    if (st)
        return st;
    GD_CHECK(nd == dst->ndim && memcmp(shape, dst->shape, sizeof(int64_t) * nd) == 0,
             GD_ERR_RUNTIME,
             "The size of tensor a (%lld) must match the size of tensor b (%lld) at "
             "non-singleton dimension %d",
             (long long)(dst->ndim ? dst->shape[dst->ndim - 1] : 1),
             (long long)(src->ndim ? src->shape[src->ndim - 1] : 1),
             dst->ndim ? dst->ndim - 1 : 0);
    gd_tensor *tmp = NULL;
    if (src->storage == dst->storage && src->numel > 1) {
        /* Overlapping source: read from a snapshot so the result does not
         * depend on the traversal order. */
        if ((st = gd_clone(src, &tmp)))
            return st;
        src = tmp;
    }
    const gd_tensor *ops[2] = {dst, src};
    gd_iterate(2, ops, dst->ndim, dst->shape, cast_loops[dst->dtype][src->dtype], NULL);
    gd_tensor_decref(tmp);
    return GD_OK;
}

/* A copy in `dtype` with `strides` (NULL: contiguous); `strided` picks
 * PyTorch's size error of clone/to (which allocate with strides) over
 * contiguous's. */
static gd_status copy_as(const gd_tensor *t, gd_dtype dtype, const int64_t *strides,
                         bool strided, gd_tensor **out) {
    gd_status st = strided ? gd_empty_dense(dtype, t->ndim, t->shape, strides, out)
                           : gd_empty(dtype, t->ndim, t->shape, out);
    if (st)
        return st;
    const gd_tensor *ops[2] = {*out, t};
    gd_iterate_split(2, ops, t->ndim, t->shape, cast_loops[dtype][t->dtype], NULL,
                     GD_GRAIN);
    return GD_OK;
}

gd_status gd_to_dtype(const gd_tensor *t, gd_dtype dtype, gd_tensor **out) {
    return copy_as(t, dtype, NULL, true, out);
}

gd_status gd_clone(const gd_tensor *t, gd_tensor **out) {
    return copy_as(t, t->dtype, NULL, true, out);
}

gd_status gd_copy_strided(const gd_tensor *t, gd_dtype dtype, const int64_t *strides,
                          gd_tensor **out) {
    return copy_as(t, dtype, strides, true, out);
}

gd_status gd_clone_as(const gd_tensor *t, gd_dtype dtype, gd_memory_format format,
                      gd_tensor **out) {
    int64_t strides[GD_MAX_DIMS];
    *out = NULL;
    gd_status st = gd_format_strides(format, t, strides);
    return st ? st : copy_as(t, dtype, strides, true, out);
}

gd_status gd_contiguous(const gd_tensor *t, gd_tensor **out) {
    if (gd_is_contiguous(t)) {
        gd_tensor_incref((gd_tensor *)t);
        *out = (gd_tensor *)t;
        return GD_OK;
    }
    return copy_as(t, t->dtype, NULL, false, out);
}

/* PyTorch's checked conversion of a scalar: NaN, or a value beyond the
 * integer type's range (compared as doubles), is refused. */
gd_status gd_check_scalar(gd_dtype dtype, double value) {
    return gd_check_scalar_of(dtype, value, value == trunc(value));
}

gd_status gd_check_scalar_of(gd_dtype dtype, double value, bool integral) {
    static const char *const names[GD_DTYPE_COUNT] = {
        [GD_UINT8] = "uint8_t", [GD_INT32] = "int", [GD_INT64] = "int64_t"};
    double lo, hi;
    if (dtype == GD_UINT8) {
        /* PyTorch lets integers wrap into an unsigned type from -max;
         * floating values must be in range. */
        hi = UINT8_MAX;
        lo = integral ? -hi : 0;
    } else if (dtype == GD_INT32) {
        lo = (double)INT32_MIN;
        hi = (double)INT32_MAX;
    } else if (dtype == GD_INT64) {
        lo = (double)INT64_MIN;
        hi = (double)INT64_MAX; /* rounds to 2^63, as in PyTorch's check */
    } else {
        return GD_OK;
    }
    GD_CHECK(value >= lo && value <= hi, GD_ERR_RUNTIME,
             "value cannot be converted to type %s without overflow", names[dtype]);
    return GD_OK;
}

gd_status gd_fill_(gd_tensor *dst, double value) {
    gd_status st = gd_check_scalar(dst->dtype, value);
    if (st)
        return st;
    if (gd_is_contiguous(dst) && gd_dtype_is_floating(dst->dtype)) {
        /* The common case (zero_(), full, gradients of means) without the
         * iterator: a plain loop over the elements. */
        char *p = gd_data_ptr(dst);
        if (dst->dtype == GD_FLOAT32) {
            float v = (float)value, *o = (float *)p;
            for (int64_t i = 0; i < dst->numel; i++)
                o[i] = v;
        } else {
            double *o = (double *)p;
            for (int64_t i = 0; i < dst->numel; i++)
                o[i] = value;
        }
        return GD_OK;
    }
    /* The value as a 0-d float64 tensor on the stack, cast by the copy loop:
     * filling stays as cheap as the write itself for small tensors. */
    gd_storage storage = {.refcount = 1, .data = &value, .nbytes = sizeof value};
    gd_tensor scalar = {.refcount = 1,
                        .dtype = GD_FLOAT64,
                        .numel = 1,
                        .storage = &storage,
                        .on_stack = true};
    const gd_tensor *ops[2] = {dst, &scalar};
    gd_iterate(2, ops, dst->ndim, dst->shape, cast_loops[dst->dtype][GD_FLOAT64], NULL);
    return GD_OK;
}

/* ---- binary ------------------------------------------------------------- */

/* `err` is set by integer division by zero; the caller raises afterwards. */
#define BINARY_LOOP(name, TO, TI, EXPR)                                                \
    GD_VECTOR_CLONES static void name(char **d, const int64_t *s, int64_t n,           \
                                      void *ctx) {                                     \
        int *err = ctx;                                                                \
        (void)err;                                                                     \
        TO *o = (TO *)d[0];                                                            \
        const TI *pa = (const TI *)d[1], *pb = (const TI *)d[2];                       \
        if (s[0] == sizeof(TO) && s[1] == sizeof(TI) && s[2] == sizeof(TI)) {          \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI a = pa[i], b = pb[i];                                               \
                o[i] = (EXPR);                                                         \
            }                                                                          \
        } else if (s[0] == sizeof(TO) && s[1] == sizeof(TI) && s[2] == 0) {            \
            const TI b = *pb;                                                          \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI a = pa[i];                                                          \
                o[i] = (EXPR);                                                         \
            }                                                                          \
        } else if (s[0] == sizeof(TO) && s[1] == 0 && s[2] == sizeof(TI)) {            \
            const TI a = *pa;                                                          \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI b = pb[i];                                                          \
                o[i] = (EXPR);                                                         \
            }                                                                          \
        } else {                                                                       \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI a = *(const TI *)(d[1] + i * s[1]);                                 \
                TI b = *(const TI *)(d[2] + i * s[2]);                                 \
                *(TO *)(d[0] + i * s[0]) = (EXPR);                                     \
            }                                                                          \
        }                                                                              \
    }

static inline int64_t floordiv_int(int64_t a, int64_t b, int *err) {
    if (b == 0) {
        *err = 1;
        return 0;
    }
    if (b == -1)
        return (int64_t)(0 - (uint64_t)a);
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}
static inline int64_t truncdiv_int(int64_t a, int64_t b, int *err) {
    if (b == 0) {
        *err = 1;
        return 0;
    }
    return b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b;
}
static inline int64_t remainder_int(int64_t a, int64_t b, int *err) {
    if (b == 0) {
        *err = 1;
        return 0;
    }
    if (b == -1)
        return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}
static inline int64_t pow_int(int64_t base, int64_t exp) {
    if (exp < 0)
        return base == 1 ? 1 : base == -1 ? ((exp & 1) ? -1 : 1) : 0;
    uint64_t result = 1, b = (uint64_t)base;
    while (exp) {
        if (exp & 1)
            result *= b;
        b *= b;
        exp >>= 1;
    }
    return (int64_t)result;
}
/* Python's float floor division, as PyTorch computes it. */
#define FLOAT_FLOORDIV(name, T, FMOD, FLOOR, COPYSIGN)                                 \
    static inline T name(T a, T b) {                                                   \
        if (b == 0)                                                                    \
            return a / b;                                                              \
        T mod = FMOD(a, b);                                                            \
        T div = (a - mod) / b;                                                         \
        if (mod != 0 && ((b < 0) != (mod < 0)))                                        \
            div -= 1;                                                                  \
        if (div == 0)                                                                  \
            return COPYSIGN((T)0, a / b);                                              \
        T fl = FLOOR(div);                                                             \
        return div - fl > (T)0.5 ? fl + 1 : fl;                                        \
    }
FLOAT_FLOORDIV(floordiv_scalar_f32, float, fmodf, floorf, copysignf)
FLOAT_FLOORDIV(floordiv_scalar_f64, double, fmod, floor, copysign)
#define FLOAT_REMAINDER(name, T, FMOD)                                                 \
    static inline T name(T a, T b) {                                                   \
        T mod = FMOD(a, b);                                                            \
        if (mod != 0 && ((b < 0) != (mod < 0)))                                        \
            mod += b;                                                                  \
        return mod;                                                                    \
    }
FLOAT_REMAINDER(remainder_scalar_f32, float, fmodf)
FLOAT_REMAINDER(remainder_scalar_f64, double, fmod)
/* maximum/minimum propagate NaN. */
#define FMAX(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (a) > (b) ? (a) : (b))
#define FMIN(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (a) < (b) ? (a) : (b))
#define IMAX(a, b) ((a) > (b) ? (a) : (b))
#define IMIN(a, b) ((a) < (b) ? (a) : (b))

#define INT_ARITH(T, U, tag)                                                           \
    BINARY_LOOP(add_##tag, T, T, WRAP(T, U, (U)a + (U)b))                              \
    BINARY_LOOP(sub_##tag, T, T, WRAP(T, U, (U)a - (U)b))                              \
    BINARY_LOOP(mul_##tag, T, T, WRAP(T, U, (U)a *(U)b))                               \
    BINARY_LOOP(floordiv_##tag, T, T, (T)floordiv_int(a, b, err))                      \
    BINARY_LOOP(truncdiv_##tag, T, T, (T)truncdiv_int(a, b, err))                      \
    BINARY_LOOP(bitand_##tag, T, T, a &b)                                              \
    BINARY_LOOP(bitor_##tag, T, T, a | b)                                              \
    BINARY_LOOP(bitxor_##tag, T, T, a ^ b)                                             \
    BINARY_LOOP(remainder_##tag, T, T, (T)remainder_int(a, b, err))                    \
    BINARY_LOOP(pow_##tag, T, T, (T)pow_int(a, b))                                     \
    BINARY_LOOP(maximum_##tag, T, T, IMAX(a, b))                                       \
    BINARY_LOOP(minimum_##tag, T, T, IMIN(a, b))
INT_ARITH(uint8_t, uint8_t, u8)
INT_ARITH(int32_t, uint32_t, i32)
INT_ARITH(int64_t, uint64_t, i64)

#define FLOAT_ARITH(T, tag)                                                            \
    BINARY_LOOP(add_##tag, T, T, a + b)                                                \
    BINARY_LOOP(sub_##tag, T, T, a - b)                                                \
    BINARY_LOOP(mul_##tag, T, T, a *b)                                                 \
    BINARY_LOOP(div_##tag, T, T, a / b)                                                \
    BINARY_LOOP(floordiv_##tag, T, T, floordiv_scalar_##tag(a, b))                     \
    BINARY_LOOP(truncdiv_##tag, T, T, TRUNC_##tag(a / b))                              \
    BINARY_LOOP(remainder_##tag, T, T, remainder_scalar_##tag(a, b))                   \
    BINARY_LOOP(maximum_##tag, T, T, FMAX(a, b))                                       \
    BINARY_LOOP(minimum_##tag, T, T, FMIN(a, b))
#define TRUNC_f32 truncf
#define TRUNC_f64 trunc
FLOAT_ARITH(float, f32)
FLOAT_ARITH(double, f64)
/* float32 tensor ** tensor: ATen's whole vector steps of contiguous runs
 * (SLEEF's pow there) to the nearest float, as float32 x ** number
 * (gd_math_powf); the rest, and strided runs, the C library's powf, as
 * ATen's std::pow. */
static void powgen_f32(char **d, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    int64_t i = 0;
    if (s[0] == sizeof(float) && s[1] == sizeof(float) && s[2] == sizeof(float)) {
        i = gd_math_vector_body(GD_FLOAT32, n);
        gd_math_powf((float *)d[0], (const float *)d[1], (const float *)d[2], 1, i);
    }
    for (; i < n; i++)
        *(float *)(d[0] + i * s[0]) =
            powf(*(const float *)(d[1] + i * s[1]), *(const float *)(d[2] + i * s[2]));
}
/* float64 tensor ** tensor: as float32's, with gd_math_pow_f64. */
static void powgen_f64(char **d, const int64_t *s, int64_t n, void *ctx) {
    (void)ctx;
    int64_t i = 0;
    if (s[0] == sizeof(double) && s[1] == sizeof(double) && s[2] == sizeof(double)) {
        i = gd_math_vector_body(GD_FLOAT64, n);
        gd_math_pow_f64((double *)d[0], (const double *)d[1], (const double *)d[2], 1,
                        i);
    }
    for (; i < n; i++)
        *(double *)(d[0] + i * s[0]) =
            pow(*(const double *)(d[1] + i * s[1]), *(const double *)(d[2] + i * s[2]));
}

BINARY_LOOP(add_b, gd_bool_t, gd_bool_t, a | b)
BINARY_LOOP(mul_b, gd_bool_t, gd_bool_t, a &b)
BINARY_LOOP(bitxor_b, gd_bool_t, gd_bool_t, a ^ b)

#define COMPARE(T, tag)                                                                \
    BINARY_LOOP(eq_##tag, gd_bool_t, T, a == b)                                        \
    BINARY_LOOP(ne_##tag, gd_bool_t, T, a != b)                                        \
    BINARY_LOOP(lt_##tag, gd_bool_t, T, a < b)                                         \
    BINARY_LOOP(le_##tag, gd_bool_t, T, a <= b)                                        \
    BINARY_LOOP(gt_##tag, gd_bool_t, T, a > b)                                         \
    BINARY_LOOP(ge_##tag, gd_bool_t, T, a >= b)                                        \
    BINARY_LOOP(and_##tag, gd_bool_t, T, (a != 0) & (b != 0))                          \
    BINARY_LOOP(or_##tag, gd_bool_t, T, (a != 0) | (b != 0))                           \
    BINARY_LOOP(xor_##tag, gd_bool_t, T, (a != 0) ^ (b != 0))
COMPARE(gd_bool_t, b)
COMPARE(uint8_t, u8)
COMPARE(int32_t, i32)
COMPARE(int64_t, i64)
COMPARE(float, f32)
COMPARE(double, f64)

/* Tensor to a number power: see gd_pow_number_* in internal.h. A single
 * element (x ** 2 on a 0-d tensor) is the number case too. */
#define POW_LOOP(name, T, POW_NUMBER, GENERIC, DTYPE, VECTOR_GENERAL)                  \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        if (s[2] != 0 && n > 1) {                                                      \
            GENERIC(d, s, n, ctx);                                                     \
            return;                                                                    \
        }                                                                              \
        T e = *(const T *)d[2];                                                        \
        if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                                  \
            /* The exact forms as loops of their own, which vectorise. */              \
            T *o = (T *)d[0];                                                          \
            const T *x = (const T *)d[1];                                              \
            if (e == 2) {                                                              \
                for (int64_t i = 0; i < n; i++)                                        \
                    o[i] = x[i] * x[i];                                                \
                return;                                                                \
            }                                                                          \
            if (e == 3) {                                                              \
                for (int64_t i = 0; i < n; i++)                                        \
                    o[i] = x[i] * x[i] * x[i];                                         \
                return;                                                                \
            }                                                                          \
            if (e == -1 || e == -2) {                                                  \
                for (int64_t i = 0; i < n; i++)                                        \
                    o[i] = 1 / (e == -1 ? x[i] : x[i] * x[i]);                         \
                return;                                                                \
            }                                                                          \
            if (e == (T)0.5) { /* torch.sqrt: MKL's where it is loaded */              \
                gd_math_loop(GD_OP_SQRT, DTYPE)(d, s, n, NULL);                        \
                return;                                                                \
            }                                                                          \
            if (e == (T) - 0.5) { /* rsqrt: 1 / a correctly rounded sqrt */            \
                for (int64_t i = 0; i < n; i++)                                        \
                    o[i] = 1 / (T)sqrt((double)x[i]);                                  \
                return;                                                                \
            }                                                                          \
            VECTOR_GENERAL;                                                            \
        }                                                                              \
        for (int64_t i = 0; i < n; i++)                                                \
            *(T *)(d[0] + i * s[0]) = POW_NUMBER(*(const T *)(d[1] + i * s[1]), e);    \
    }
/* float32 numbers other than the exact ones take gd_math_pow_number, which
 * walks as ATen does; float64 ones the vectorised pow on whole vector steps,
 * the C library's on the rest, as ATen. */
#define POW_F32_GENERAL (void)0
#define POW_F64_GENERAL                                                                \
    do {                                                                               \
        int64_t body = gd_math_vector_body(GD_FLOAT64, n);                             \
        gd_math_pow_f64(o, x, &e, 0, body);                                            \
        for (int64_t i = body; i < n; i++)                                             \
            o[i] = pow(x[i], e);                                                       \
        return;                                                                        \
    } while (0)
POW_LOOP(pow_f32, float, gd_pow_number_f32, powgen_f32, GD_FLOAT32, POW_F32_GENERAL)
POW_LOOP(pow_f64, double, gd_pow_number_f64, powgen_f64, GD_FLOAT64, POW_F64_GENERAL)

/* a + alpha * b, alpha in the loop's ctx (after the error flag every binary
 * loop's ctx starts with). */
typedef struct {
    int err;
    double alpha;
} scaled_ctx;

#define ADD_SCALED_LOOP(name, T, EXPR)                                                 \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        const scaled_ctx *c = ctx;                                                     \
        for (int64_t i = 0; i < n; i++) {                                              \
            T a = *(const T *)(d[1] + i * s[1]), b = *(const T *)(d[2] + i * s[2]);    \
            *(T *)(d[0] + i * s[0]) = (EXPR);                                          \
        }                                                                              \
    }
ADD_SCALED_LOOP(add_scaled_b, uint8_t, (uint8_t)(a | (c->alpha != 0 && b)))
ADD_SCALED_LOOP(add_scaled_u8, uint8_t, (uint8_t)(a + (uint8_t)(int64_t)c->alpha * b))
ADD_SCALED_LOOP(add_scaled_i32, int32_t,
                (int32_t)((uint32_t)a + (uint32_t)(int64_t)c->alpha * (uint32_t)b))
ADD_SCALED_LOOP(add_scaled_i64, int64_t,
                (int64_t)((uint64_t)a + (uint64_t)(int64_t)c->alpha * (uint64_t)b))
ADD_SCALED_LOOP(add_scaled_f32, float, fmaf(b, (float)c->alpha, a))
ADD_SCALED_LOOP(add_scaled_f64, double, fma(b, c->alpha, a))
static const gd_loop_fn add_scaled_loops[GD_DTYPE_COUNT] =
    BY_DTYPE(add_scaled_b, add_scaled_u8, add_scaled_i32, add_scaled_i64,
             add_scaled_f32, add_scaled_f64);

static const gd_loop_fn binary_loops[GD_OP_COUNT][GD_DTYPE_COUNT] = {
    [GD_OP_ADD] = ALL_DTYPES(add),
    [GD_OP_SUB] = NUMERIC(sub),
    [GD_OP_MUL] = ALL_DTYPES(mul),
    [GD_OP_DIV] = BY_DTYPE(NULL, NULL, NULL, NULL, div_f32, div_f64),
    [GD_OP_FLOOR_DIVIDE] = NUMERIC(floordiv),
    [GD_OP_REMAINDER] = NUMERIC(remainder),
    [GD_OP_POW] = NUMERIC(pow),
    [GD_OP_TRUNC_DIVIDE] = NUMERIC(truncdiv),
    [GD_OP_BITWISE_AND] = INTEGRAL(mul_b, bitand),
    [GD_OP_BITWISE_OR] = INTEGRAL(add_b, bitor),
    [GD_OP_BITWISE_XOR] = INTEGRAL(bitxor_b, bitxor),
    [GD_OP_MAXIMUM] =
        BY_DTYPE(add_b, maximum_u8, maximum_i32, maximum_i64, maximum_f32, maximum_f64),
    [GD_OP_MINIMUM] =
        BY_DTYPE(mul_b, minimum_u8, minimum_i32, minimum_i64, minimum_f32, minimum_f64),
    [GD_OP_EQ] = ALL_DTYPES(eq),
    [GD_OP_NE] = ALL_DTYPES(ne),
    [GD_OP_LT] = ALL_DTYPES(lt),
    [GD_OP_LE] = ALL_DTYPES(le),
    [GD_OP_GT] = ALL_DTYPES(gt),
    [GD_OP_GE] = ALL_DTYPES(ge),
    [GD_OP_LOGICAL_AND] = ALL_DTYPES(and),
    [GD_OP_LOGICAL_OR] = ALL_DTYPES(or),
    [GD_OP_LOGICAL_XOR] = ALL_DTYPES(xor),
};

/* An operand of true division in `compute` (float) after rounding it into
 * the operands' common integer dtype first, as PyTorch converts operands to
 * the common dtype before dividing (int32 -1 over uint8 is 255 / x). */
static gd_status as_divisor_dtype(const gd_tensor *t, gd_dtype common, gd_dtype compute,
                                  gd_tensor **out);

gd_status gd_as_dtype(const gd_tensor *t, gd_dtype dtype, gd_tensor **out) {
    if (t->dtype == dtype) {
        gd_tensor_incref((gd_tensor *)t);
        *out = (gd_tensor *)t;
        return GD_OK;
    }
    return gd_to_dtype(t, dtype, out);
}

static gd_status binary_loop_for(gd_op op, gd_dtype compute, gd_loop_fn *loop) {
    GD_CHECK(op < GD_OP_COUNT && (gd_op_kind_of(op) == GD_KIND_BINARY ||
                                  gd_op_kind_of(op) == GD_KIND_BINARY_BOOL),
             GD_ERR_RUNTIME, "%s is not a binary elementwise op", gd_op_name(op));
    if (op == GD_OP_SUB && compute == GD_BOOL)
        return gd_error(GD_ERR_RUNTIME,
                        "Subtraction, the `-` operator, with two bool tensors is not "
                        "supported. Use the `^` or `logical_xor()` operator instead.");
    *loop = binary_loops[op][compute];
    GD_CHECK(*loop, GD_ERR_NOTIMPL, "\"%s%s\" not implemented for '%s'", gd_op_name(op),
             op == GD_OP_POW ? "" : "_cpu", gd_dtype_scalar_name(compute));
    return GD_OK;
}

/* gd_binary, or with `alpha` (non-NULL) gd_add_scaled. */
/* The loop of a + alpha * b in place of add's or sub's own. */
static gd_status scaled_loop_for(gd_op op, gd_dtype compute, gd_loop_fn *loop) {
    GD_CHECK(op == GD_OP_ADD || op == GD_OP_SUB, GD_ERR_RUNTIME, "%s takes no alpha",
             gd_op_name(op));
    *loop = add_scaled_loops[compute];
    return GD_OK;
}

/* Strides exactly those of a new contiguous tensor, size-1 dims included. */
static bool canonical_strides(const gd_tensor *t) {
    int64_t expected = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->strides[d] != expected)
            return false;
        expected *= t->shape[d];
    }
    return true;
}

/* a and b each read as one contiguous run of a's elements: b of a's shape
 * (*same) or a single element, both contiguous. */
static bool one_run(const gd_tensor *a, const gd_tensor *b, bool *same) {
    *same = a->ndim == b->ndim &&
            memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
    return (*same || (b->numel == 1 && b->ndim <= a->ndim)) && gd_is_contiguous(a) &&
           gd_is_contiguous(b);
}

/* `layout_ins`: the operands whose layout the result takes: 2; 1 where
 * ATen runs the op as a unary one of a (tensor ** number); 0 for a
 * contiguous result (number ** tensor). */
static gd_status binary_impl(gd_op op, const gd_tensor *a, const gd_tensor *b,
                             gd_dtype common, const double *alpha, int layout_ins,
                             gd_tensor **out) {
    int nd;
    scaled_ctx ctx = {.err = 0, .alpha = alpha ? *alpha : 1.0};
    int64_t shape[GD_MAX_DIMS];
    gd_loop_fn loop = NULL;
    gd_tensor *ca = NULL, *cb = NULL;
    gd_dtype compute = common;
    gd_status st;

    *out = NULL;
    if (op == GD_OP_DIV && !gd_dtype_is_floating(common))
        compute = gd_default_float(); /* true division of integers */
    if ((st = binary_loop_for(op, compute, &loop)) ||
        (alpha && (st = scaled_loop_for(op, compute, &loop))))
        return st;
    bool same_shape;
    if (a->dtype == compute && b->dtype == compute && a->numel > 0 &&
        one_run(a, b, &same_shape)) {
        /* Fast path for the common small case: a contiguous tensor with a
         * same-shaped or one-element operand needs no broadcasting walk. */
        size_t es = gd_dtype_size(compute);
        const gd_tensor *ins[2] = {a, b}; /* the layout may differ in size-1 dims */
        gd_dtype rdt = gd_op_returns_bool(op) ? GD_BOOL : compute;
        /* with a's strides the canonical ones, TensorIterator's result is
         * contiguous whatever b's size-1 dims say (they decide no order) */
        st = canonical_strides(a)
                 ? gd_empty(rdt, a->ndim, a->shape, out)
                 : gd_empty_result(rdt, layout_ins, ins, a->ndim, a->shape, out);
        if (st)
            return st;
        char *data[3] = {gd_data_ptr(*out), gd_data_ptr(a), gd_data_ptr(b)};
        int64_t strides[3] = {(int64_t)gd_dtype_size((*out)->dtype), (int64_t)es,
                              same_shape ? (int64_t)es : 0};
        int64_t n = a->numel; /* read with the lock: another thread may set .data */
        if (n < GD_GRAIN) {   /* one piece on this thread, the lock kept */
            loop(data, strides, n, &ctx);
            goto check;
        }
        gd_unlocked lock;
        gd_unlock_for(&lock, n, 2, ins);
        if (gd_dtype_is_floating(compute)) /* integer loops may report to ctx */
            gd_loop_split(loop, 3, data, strides, n, &ctx, GD_GRAIN);
        else
            loop(data, strides, n, &ctx);
        gd_relock(&lock);
        goto check;
    }
    if ((st = gd_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &nd, shape)))
        return st;
    if ((st = as_divisor_dtype(a, common, compute, &ca)) ||
        (st = as_divisor_dtype(b, common, compute, &cb)))
        goto done;
    const gd_tensor *ins[2] = {a, b};
    if ((st = gd_empty_result(gd_op_returns_bool(op) ? GD_BOOL : compute, layout_ins,
                              ins, nd, shape, out)))
        goto done;
    const gd_tensor *ops[3] = {*out, ca, cb};
    /* integer loops may report to ctx */
    gd_iterate_split(3, ops, nd, shape, loop, &ctx,
                     gd_dtype_is_floating(compute) ? GD_GRAIN : 0);
check:
    if (ctx.err) {
        gd_tensor_decref(*out);
        *out = NULL;
        st = gd_error(GD_ERR_RUNTIME, "ZeroDivisionError");
    }
done:
    gd_tensor_decref(ca);
    gd_tensor_decref(cb);
    return st;
}

gd_status gd_binary(gd_op op, const gd_tensor *a, const gd_tensor *b, gd_dtype common,
                    gd_tensor **out) {
    return binary_impl(op, a, b, common, NULL, 2, out);
}

gd_status gd_binary_number(gd_op op, const gd_tensor *a, const gd_tensor *b, int number,
                           gd_dtype common, gd_tensor **out) {
    return binary_impl(op, a, b, common, NULL, number == 2 ? 1 : 0, out);
}

gd_status gd_add_scaled(gd_op op, const gd_tensor *a, const gd_tensor *b, double alpha,
                        gd_dtype common, gd_tensor **out) {
    double signed_alpha = op == GD_OP_SUB ? -alpha : alpha;
    return binary_impl(op, a, b, common, &signed_alpha, 2, out);
}

static gd_status as_divisor_dtype(const gd_tensor *t, gd_dtype common, gd_dtype compute,
                                  gd_tensor **out) {
    if (common == compute || t->dtype == common)
        return gd_as_dtype(t, compute, out);
    gd_tensor *rounded = NULL;
    gd_status st = gd_to_dtype(t, common, &rounded);
    if (!st)
        st = gd_to_dtype(rounded, compute, out);
    gd_tensor_decref(rounded);
    return st;
}

static bool can_cast(gd_dtype from, gd_dtype to) {
    if (gd_dtype_is_floating(from) && !gd_dtype_is_floating(to))
        return false;
    return !(from != GD_BOOL && to == GD_BOOL);
}

static gd_status binary_inplace_impl(gd_op op, gd_tensor *dst, const gd_tensor *b,
                                     gd_dtype common, const double *alpha) {
    int nd;
    scaled_ctx ctx = {.err = 0, .alpha = alpha ? *alpha : 1.0};
    int64_t shape[GD_MAX_DIMS];
    gd_loop_fn loop = NULL;
    gd_tensor *cb = NULL, *result = NULL;
    gd_dtype compute = common;
    gd_status st;

    if (op == GD_OP_DIV && !gd_dtype_is_floating(common))
        compute = gd_default_float();
    gd_dtype result_dtype = gd_op_returns_bool(op) ? GD_BOOL : compute;
    GD_CHECK(can_cast(result_dtype, dst->dtype), GD_ERR_RUNTIME,
             "result type %s can't be cast to the desired output type %s",
             gd_dtype_scalar_name(result_dtype), gd_dtype_scalar_name(dst->dtype));
    if ((st = binary_loop_for(op, compute, &loop)) ||
        (alpha && (st = scaled_loop_for(op, compute, &loop))))
        return st;
    if ((st =
             gd_broadcast_shapes(dst->ndim, dst->shape, b->ndim, b->shape, &nd, shape)))
        return st;
    if (nd != dst->ndim || memcmp(shape, dst->shape, sizeof(int64_t) * nd) != 0) {
        char want[256], have[256];
        return gd_error(GD_ERR_RUNTIME,
                        "output with shape %s doesn't match the broadcast shape %s",
                        gd_format_shape(have, sizeof have, dst->ndim, dst->shape),
                        gd_format_shape(want, sizeof want, nd, shape));
    }
    if (dst->dtype != result_dtype || (b->storage == dst->storage && b->numel > 1)) {
        /* Mixed precision or aliasing: compute aside, then store. */
        if ((st = binary_impl(op, dst, b, common, alpha, 2, &result)))
            return st;
        st = gd_copy_(dst, result);
        gd_tensor_decref(result);
        return st;
    }
    bool b_same;
    if (b->dtype == compute && dst->numel < GD_GRAIN && one_run(dst, b, &b_same)) {
        /* small and contiguous (a gradient accumulating, a scalar update):
         * one run, no iteration setup */
        int64_t es = (int64_t)gd_dtype_size(compute);
        char *data[3] = {gd_data_ptr(dst), gd_data_ptr(dst), gd_data_ptr(b)};
        int64_t strides[3] = {es, es, b_same ? es : 0};
        loop(data, strides, dst->numel, &ctx);
        return ctx.err ? gd_error(GD_ERR_RUNTIME, "ZeroDivisionError") : GD_OK;
    }
    if ((st = gd_as_dtype(b, compute, &cb)))
        return st;
    const gd_tensor *ops[3] = {dst, dst, cb};
    gd_iterate(3, ops, nd, shape, loop, &ctx);
    gd_tensor_decref(cb);
    return ctx.err ? gd_error(GD_ERR_RUNTIME, "ZeroDivisionError") : GD_OK;
}

gd_status gd_binary_(gd_op op, gd_tensor *dst, const gd_tensor *b, gd_dtype common) {
    return binary_inplace_impl(op, dst, b, common, NULL);
}

gd_status gd_add_scaled_(gd_op op, gd_tensor *dst, const gd_tensor *b, double alpha,
                         gd_dtype common) {
    double signed_alpha = op == GD_OP_SUB ? -alpha : alpha;
    return binary_inplace_impl(op, dst, b, common, &signed_alpha);
}
