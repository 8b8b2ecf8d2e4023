/* Errors, dtypes and the op name tables: the small facts every file shares. */
#include "gd.h"

#include <stdarg.h>
#include <stdio.h>

/* The message travels beside the status code; thread-local so that two
 * threads failing at once keep their own text. */
static _Thread_local char last_error[1024];

gd_status gd_error(gd_status code, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return code;
}

const char *gd_last_error(void) {
    return last_error;
}

/* The columns of dtypes.def, one entry per dtype. */
typedef struct {
    size_t size;
    const char *name, *legacy, *scalar, *cxx, *numpy;
    gd_dtype_kind kind;
} dtype_info;

static const dtype_info dtypes[] = {
#define GD_DTYPE(id, ctype, name, legacy, scalar, cxx, kind, numpy)                    \
    [GD_##id] = {sizeof(ctype), name, legacy, scalar, cxx, numpy, kind},
#include "dtypes.def"
#undef GD_DTYPE
};
_Static_assert(sizeof dtypes / sizeof dtypes[0] == GD_DTYPE_COUNT,
               "dtype table out of step with dtypes.def");

size_t gd_dtype_size(gd_dtype dtype) {
    return dtypes[dtype].size;
}

const char *gd_dtype_name(gd_dtype dtype) {
    return dtypes[dtype].name;
}

const char *gd_dtype_legacy_name(gd_dtype dtype) {
    return dtypes[dtype].legacy;
}

const char *gd_dtype_scalar_name(gd_dtype dtype) {
    return dtypes[dtype].scalar;
}

const char *gd_dtype_cxx_name(gd_dtype dtype) {
    return dtypes[dtype].cxx;
}

const char *gd_dtype_numpy_name(gd_dtype dtype) {
    return dtypes[dtype].numpy;
}

gd_dtype_kind gd_dtype_kind_of(gd_dtype dtype) {
    return dtypes[dtype].kind;
}

bool gd_dtype_is_floating(gd_dtype dtype) {
    return dtypes[dtype].kind == GD_DTYPE_KIND_FLOATING;
}

static gd_dtype default_float = GD_FLOAT32;

gd_dtype gd_default_float(void) {
    return default_float;
}

gd_status gd_set_default_float(gd_dtype dtype) {
    GD_CHECK(dtype < GD_DTYPE_COUNT && gd_dtype_is_floating(dtype), GD_ERR_TYPE,
             "only floating-point types are supported as the default type");
    default_float = dtype;
    return GD_OK;
}

bool gd_dtype_is_integral(gd_dtype dtype, bool include_bool) {
    gd_dtype_kind k = dtypes[dtype].kind;
    return k == GD_DTYPE_KIND_SIGNED || k == GD_DTYPE_KIND_UNSIGNED ||
           (include_bool && k == GD_DTYPE_KIND_BOOL);
}

/* PyTorch's promote_types (c10/core/ScalarType.cpp) on gdlite's dtypes:
 * promotion[a][b]. A table, not an order: with int8 added, uint8 and int8
 * would promote to int16, above both. */
#define B GD_BOOL
#define U8 GD_UINT8
#define I32 GD_INT32
#define I64 GD_INT64
#define F32 GD_FLOAT32
#define F64 GD_FLOAT64
static const gd_dtype promotion[GD_DTYPE_COUNT][GD_DTYPE_COUNT] = {
    /*          b    u8   i32  i64  f32  f64 */
    [B] = {[B] = B, [U8] = U8, [I32] = I32, [I64] = I64, [F32] = F32, [F64] = F64},
    [U8] = {[B] = U8, [U8] = U8, [I32] = I32, [I64] = I64, [F32] = F32, [F64] = F64},
    [I32] = {[B] = I32, [U8] = I32, [I32] = I32, [I64] = I64, [F32] = F32, [F64] = F64},
    [I64] = {[B] = I64, [U8] = I64, [I32] = I64, [I64] = I64, [F32] = F32, [F64] = F64},
    [F32] = {[B] = F32, [U8] = F32, [I32] = F32, [I64] = F32, [F32] = F32, [F64] = F64},
    [F64] = {[B] = F64, [U8] = F64, [I32] = F64, [I64] = F64, [F32] = F64, [F64] = F64},
};
#undef B
#undef U8
#undef I32
#undef I64
#undef F32
#undef F64

gd_dtype gd_promote_types(gd_dtype a, gd_dtype b) {
    return promotion[a][b];
}

/* The columns of ops.def, one entry per op. */
typedef struct {
    const char *name, *grad_fn;
    gd_op_kind kind;
    int arity, edges;
    unsigned saves;
} op_info;

static const op_info ops[] = {
#define GD_OP(id, name, kind, arity, edges, saves, grad_fn, backward)                  \
    [GD_OP_##id] = {name, grad_fn, kind, arity, edges, saves},
#include "ops.def"
#undef GD_OP
};
_Static_assert(sizeof ops / sizeof ops[0] == GD_OP_COUNT,
               "op table out of step with ops.def");

const char *gd_op_name(gd_op op) {
    return ops[op].name;
}

const char *gd_op_grad_fn_name(gd_op op) {
    return ops[op].grad_fn;
}

int gd_op_arity(gd_op op) {
    return ops[op].arity;
}

int gd_op_edges(gd_op op) {
    return ops[op].edges;
}

gd_op_kind gd_op_kind_of(gd_op op) {
    return ops[op].kind;
}

unsigned gd_op_saves(gd_op op) {
    return ops[op].saves;
}

bool gd_op_returns_bool(gd_op op) {
    return ops[op].kind == GD_KIND_BINARY_BOOL || ops[op].kind == GD_KIND_UNARY_BOOL;
}

/* The columns of decompositions.def, one entry per decomposition. */
typedef struct {
    gd_op op;
    const char *grad_fn;
    int edges;
    unsigned saves;
} decomposition_info;

static const decomposition_info decompositions[] = {
#define GD_DECOMP(id, op, grad_fn, edges, saves)                                       \
    [GD_DECOMP_##id] = {GD_OP_##op, grad_fn, edges, saves},
#include "decompositions.def"
#undef GD_DECOMP
};
_Static_assert(sizeof decompositions / sizeof decompositions[0] == GD_DECOMP_COUNT,
               "decomposition table out of step with decompositions.def");

const char *gd_decomposition_name(gd_decomposition name) {
    return decompositions[name].grad_fn;
}

gd_op gd_decomposition_op(gd_decomposition name) {
    return decompositions[name].op;
}

int gd_decomposition_edges(gd_decomposition name) {
    return decompositions[name].edges;
}

unsigned gd_decomposition_saves(gd_decomposition name) {
    return decompositions[name].saves;
}
