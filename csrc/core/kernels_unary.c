/* Unary elementwise kernels: negation, abs, the C library's math functions
 * by dtype, rounding, sign, logical not, and number / tensor (PyTorch's
 * reciprocal-then-multiply in one pass). The exact vectorised math (sigmoid,
 * powers, the correctly rounded functions) is in kernels_math.c; loops here
 * have the same contiguous and strided paths as kernels_elementwise.c's. */
#include "internal.h"

#include <math.h>
#include <string.h>

#define FLOAT_UNARY(T, tag, F)                                                         \
    UNARY_LOOP(neg_##tag, T, T, -x)                                                    \
    UNARY_LOOP(abs_##tag, T, T, F##fabs(x))                                            \
    UNARY_LOOP(exp_##tag, T, T, F##exp(x))                                             \
    UNARY_LOOP(log_##tag, T, T, F##log(x))                                             \
    UNARY_LOOP(log1p_##tag, T, T, F##log1p(x))                                         \
    UNARY_LOOP(sqrt_##tag, T, T, F##sqrt(x))                                           \
    UNARY_LOOP(square_##tag, T, T, x *x)                                               \
    UNARY_LOOP(reciprocal_##tag, T, T, 1 / x)                                          \
    UNARY_LOOP(sin_##tag, T, T, F##sin(x))                                             \
    UNARY_LOOP(cos_##tag, T, T, F##cos(x))                                             \
    UNARY_LOOP(tan_##tag, T, T, F##tan(x))                                             \
    UNARY_LOOP(sinh_##tag, T, T, F##sinh(x))                                           \
    UNARY_LOOP(cosh_##tag, T, T, F##cosh(x))                                           \
    UNARY_LOOP(tanh_##tag, T, T, F##tanh(x))                                           \
    UNARY_LOOP(sigmoid_##tag, T, T, 1 / (1 + F##exp(-x)))                              \
    UNARY_LOOP(relu_##tag, T, T, x < 0 ? 0 : x) /* keeps NaN and -0. */                \
    UNARY_LOOP(sign_##tag, T, T, (T)((0 < x) - (x < 0)))                               \
    UNARY_LOOP(floor_##tag, T, T, F##floor(x))                                         \
    UNARY_LOOP(ceil_##tag, T, T, F##ceil(x))                                           \
    UNARY_LOOP(round_##tag, T, T, F##nearbyint(x))                                     \
    UNARY_LOOP(not_##tag, gd_bool_t, T, x == 0)

/* libm's float functions carry an `f` suffix; these name both families alike. */
#define Ffabs fabsf
#define Fexp expf
#define Flog logf
#define Flog1p log1pf
#define Fsqrt sqrtf
#define Fsin sinf
#define Fcos cosf
#define Ftan tanf
#define Fsinh sinhf
#define Fcosh coshf
#define Ftanh tanhf
#define Ffloor floorf
#define Fceil ceilf
#define Fnearbyint nearbyintf
#define Dfabs fabs
#define Dexp exp
#define Dlog log
#define Dlog1p log1p
#define Dsqrt sqrt
#define Dsin sin
#define Dcos cos
#define Dtan tan
#define Dsinh sinh
#define Dcosh cosh
#define Dtanh tanh
#define Dfloor floor
#define Dceil ceil
#define Dnearbyint nearbyint
FLOAT_UNARY(float, f32, F)
FLOAT_UNARY(double, f64, D)

#define INT_UNARY(T, U, tag)                                                           \
    UNARY_LOOP(neg_##tag, T, T, WRAP(T, U, 0 - (U)x))                                  \
    UNARY_LOOP(abs_##tag, T, T, x < 0 ? WRAP(T, U, 0 - (U)x) : x)                      \
    UNARY_LOOP(square_##tag, T, T, WRAP(T, U, (U)x *(U)x))                             \
    UNARY_LOOP(relu_##tag, T, T, x > 0 ? x : 0)                                        \
    UNARY_LOOP(sign_##tag, T, T, (T)((0 < x) - (x < 0)))                               \
    UNARY_LOOP(same_##tag, T, T, x)                                                    \
    UNARY_LOOP(not_##tag, gd_bool_t, T, x == 0)                                        \
    UNARY_LOOP(bitnot_##tag, T, T, (T) ~(U)x)
INT_UNARY(int32_t, uint32_t, i32)
INT_UNARY(int64_t, uint64_t, i64)
/* uint8 (unsigned: abs and relu are the identity, negation wraps) */
UNARY_LOOP(neg_u8, uint8_t, uint8_t, (uint8_t)(0u - x))
UNARY_LOOP(abs_u8, uint8_t, uint8_t, x)
UNARY_LOOP(square_u8, uint8_t, uint8_t, (uint8_t)((unsigned)x * x))
UNARY_LOOP(relu_u8, uint8_t, uint8_t, x)
UNARY_LOOP(sign_u8, uint8_t, uint8_t, x != 0)
UNARY_LOOP(same_u8, uint8_t, uint8_t, x)
UNARY_LOOP(not_u8, gd_bool_t, uint8_t, x == 0)
UNARY_LOOP(bitnot_u8, uint8_t, uint8_t, (uint8_t)~(unsigned)x)
UNARY_LOOP(not_b, gd_bool_t, gd_bool_t, x == 0)
UNARY_LOOP(same_b, gd_bool_t, gd_bool_t, x)

#define FLOAT_ONLY(tag) BY_DTYPE(NULL, NULL, NULL, NULL, tag##_f32, tag##_f64)
static const gd_loop_fn unary_loops[GD_OP_COUNT][GD_DTYPE_COUNT] = {
    [GD_OP_NEG] = NUMERIC(neg),
    [GD_OP_ABS] = NUMERIC(abs),
    [GD_OP_EXP] = FLOAT_ONLY(exp),
    [GD_OP_LOG] = FLOAT_ONLY(log),
    [GD_OP_LOG1P] = FLOAT_ONLY(log1p),
    [GD_OP_SQRT] = FLOAT_ONLY(sqrt),
    [GD_OP_SQUARE] = NUMERIC(square),
    [GD_OP_RECIPROCAL] = FLOAT_ONLY(reciprocal),
    [GD_OP_SIN] = FLOAT_ONLY(sin),
    [GD_OP_COS] = FLOAT_ONLY(cos),
    [GD_OP_TAN] = FLOAT_ONLY(tan),
    [GD_OP_SINH] = FLOAT_ONLY(sinh),
    [GD_OP_COSH] = FLOAT_ONLY(cosh),
    [GD_OP_TANH] = FLOAT_ONLY(tanh),
    [GD_OP_SIGMOID] = FLOAT_ONLY(sigmoid),
    [GD_OP_RELU] = NUMERIC(relu),
    [GD_OP_SIGN] = BY_DTYPE(same_b, sign_u8, sign_i32, sign_i64, sign_f32, sign_f64),
    [GD_OP_FLOOR] = BY_DTYPE(NULL, same_u8, same_i32, same_i64, floor_f32, floor_f64),
    [GD_OP_CEIL] = BY_DTYPE(NULL, same_u8, same_i32, same_i64, ceil_f32, ceil_f64),
    [GD_OP_ROUND] = BY_DTYPE(NULL, same_u8, same_i32, same_i64, round_f32, round_f64),
    [GD_OP_LOGICAL_NOT] = ALL_DTYPES(not),
    [GD_OP_BITWISE_NOT] = INTEGRAL(not_b, bitnot),
};

/* Ops computed in floating point whatever the input: integers give the
 * default floating dtype. */
static bool promotes_to_float(gd_op op) {
    const gd_loop_fn *row = unary_loops[op];
    return row[GD_INT64] == NULL && row[GD_FLOAT32] != NULL && op != GD_OP_BITWISE_NOT;
}

static gd_status unary_prepare(gd_op op, const gd_tensor *a, gd_dtype *compute,
                               gd_loop_fn *loop) {
    GD_CHECK(op < GD_OP_COUNT && (gd_op_kind_of(op) == GD_KIND_UNARY ||
                                  gd_op_kind_of(op) == GD_KIND_UNARY_BOOL),
             GD_ERR_RUNTIME, "%s is not a unary elementwise op", gd_op_name(op));
    *compute = a->dtype;
    if (!gd_dtype_is_floating(a->dtype) && promotes_to_float(op))
        *compute = gd_default_float();
    if (op == GD_OP_SQUARE && a->dtype == GD_BOOL)
        *compute = GD_INT64; /* square is pow(x, 2), which promotes bools */
    if (op == GD_OP_RELU && a->dtype == GD_BOOL)
        return gd_error(GD_ERR_RUNTIME, "Boolean inputs not supported for relu");
    if (op == GD_OP_NEG && a->dtype == GD_BOOL)
        return gd_error(
            GD_ERR_RUNTIME,
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or "
            "`logical_not()` operator instead.");
    *loop = unary_loops[op][*compute];
    gd_loop_fn nearest = gd_math_loop(op, *compute);
    if (nearest)
        *loop = nearest;
    GD_CHECK(*loop, GD_ERR_NOTIMPL, "\"%s_cpu\" not implemented for '%s'",
             gd_op_name(op), gd_dtype_scalar_name(*compute));
    return GD_OK;
}

/* The grain from which PyTorch splits an op across its threads. ATen's
 * MKL-backed kernels (exp, log, log1p, sin, cos, tan, tanh, sqrt) split
 * from 2048 elements, the others from TensorIterator's 32768. Elementwise
 * results do not depend on the split, so this only decides speed. */
static int64_t split_grain(gd_op op) {
    switch (op) {
    case GD_OP_EXP:
    case GD_OP_LOG:
    case GD_OP_LOG1P:
    case GD_OP_SIN:
    case GD_OP_COS:
    case GD_OP_TAN:
    case GD_OP_TANH:
    case GD_OP_SQRT:
        return GD_VML_GRAIN;
    default:
        return GD_GRAIN;
    }
}

/* Runs an op over out and in of one dtype and one dense layout (one run in
 * memory order, as ATen coalesces them) in ATen's chunks from its split
 * grain, on the worker pool; false where that does not apply and gd_iterate
 * should run it. */
static bool run_split(gd_op op, gd_loop_fn loop, gd_tensor *out, const gd_tensor *in) {
    if (in->dtype != out->dtype || in->ndim != out->ndim ||
        memcmp(in->strides, out->strides, sizeof(int64_t) * (size_t)in->ndim) != 0 ||
        !gd_is_non_overlapping_dense(in))
        return false;
    int64_t size = (int64_t)gd_dtype_size(out->dtype);
    char *data[2] = {gd_data_ptr(out), gd_data_ptr(in)};
    int64_t strides[2] = {size, size};
    gd_unlocked lock;
    gd_unlock_for(&lock, out->numel, 1, &in);
    gd_loop_split(loop, 2, data, strides, out->numel, NULL, split_grain(op));
    gd_relock(&lock);
    return true;
}

gd_status gd_unary(gd_op op, const gd_tensor *a, gd_tensor **out) {
    gd_dtype compute = a->dtype;
    gd_loop_fn loop = NULL;
    gd_tensor *ca = NULL;
    *out = NULL;
    gd_status st = unary_prepare(op, a, &compute, &loop);
    if (st || (st = gd_as_dtype(a, compute, &ca)))
        return st;
    st = gd_empty_result(op == GD_OP_LOGICAL_NOT ? GD_BOOL : compute, 1, &a, a->ndim,
                         a->shape, out);
    if (!st && op == GD_OP_SIGMOID) {
        gd_math_sigmoid(ca, *out);
    } else if (!st && !run_split(op, loop, *out, ca)) {
        const gd_tensor *ops[2] = {*out, ca};
        gd_iterate_split(2, ops, a->ndim, a->shape, loop, NULL, split_grain(op));
    }
    gd_tensor_decref(ca);
    return st;
}

#define NUMBER_OVER_LOOP(name, T)                                                      \
    GD_VECTOR_CLONES static void name(char **d, const int64_t *s, int64_t n,           \
                                      void *ctx) {                                     \
        const T number = (T) * (const double *)ctx;                                    \
        if (s[0] == sizeof(T) && s[1] == sizeof(T)) { /* contiguous: vectorised */     \
            T *o = (T *)d[0];                                                          \
            const T *in = (const T *)d[1];                                             \
            for (int64_t i = 0; i < n; i++) {                                          \
                T reciprocal = 1 / in[i];                                              \
                o[i] = reciprocal * number;                                            \
            }                                                                          \
            return;                                                                    \
        }                                                                              \
        for (int64_t i = 0; i < n; i++) {                                              \
            T reciprocal = 1 / *(const T *)(d[1] + i * s[1]);                          \
            *(T *)(d[0] + i * s[0]) = reciprocal * number;                             \
        }                                                                              \
    }
NUMBER_OVER_LOOP(number_over_f32, float)
NUMBER_OVER_LOOP(number_over_f64, double)

gd_status gd_number_over(double number, const gd_tensor *t, gd_tensor **out) {
    GD_CHECK(gd_dtype_is_floating(t->dtype), GD_ERR_RUNTIME,
             "gd_number_over takes a floating tensor");
    gd_status st = gd_empty_result(t->dtype, 1, &t, t->ndim, t->shape, out);
    if (st)
        return st;
    const gd_tensor *ops[2] = {*out, t};
    gd_iterate_split(2, ops, t->ndim, t->shape,
                     t->dtype == GD_FLOAT32 ? number_over_f32 : number_over_f64,
                     &number, GD_GRAIN);
    return GD_OK;
}

gd_status gd_unary_(gd_op op, gd_tensor *a) {
    gd_dtype compute = a->dtype;
    gd_loop_fn loop = NULL;
    if (op == GD_OP_LOGICAL_NOT && a->dtype != GD_BOOL) {
        /* logical_not_ keeps the tensor's dtype: 0 and 1 of it */
        gd_tensor *result = NULL;
        gd_status st = gd_unary(op, a, &result);
        if (!st)
            st = gd_copy_(a, result);
        gd_tensor_decref(result);
        return st;
    }
    gd_status st = unary_prepare(op, a, &compute, &loop);
    if (st)
        return st;
    gd_dtype result = op == GD_OP_LOGICAL_NOT ? GD_BOOL : compute;
    GD_CHECK(result == a->dtype, GD_ERR_RUNTIME,
             "result type %s can't be cast to the desired output type %s",
             gd_dtype_scalar_name(result), gd_dtype_scalar_name(a->dtype));
    if (op == GD_OP_SIGMOID) {
        gd_math_sigmoid(a, a);
        return GD_OK;
    }
    if (!run_split(op, loop, a, a)) {
        const gd_tensor *ops[2] = {a, a};
        gd_iterate(2, ops, a->ndim, a->shape, loop, NULL);
    }
    return GD_OK;
}
