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

static const size_t dtype_sizes[GD_DTYPE_COUNT] = {1, 4, 8, 4, 8};
static const char *const dtype_names[GD_DTYPE_COUNT] = {"bool", "int32", "int64",
                                                        "float32", "float64"};

size_t gd_dtype_size(gd_dtype dtype) {
    return dtype_sizes[dtype];
}

const char *gd_dtype_name(gd_dtype dtype) {
    return dtype_names[dtype];
}

const char *gd_dtype_legacy_name(gd_dtype dtype) {
    static const char *const names[GD_DTYPE_COUNT] = {
        "BoolTensor", "IntTensor", "LongTensor", "FloatTensor", "DoubleTensor"};
    return names[dtype];
}

bool gd_dtype_is_floating(gd_dtype dtype) {
    return dtype == GD_FLOAT32 || dtype == GD_FLOAT64;
}

bool gd_dtype_is_integral(gd_dtype dtype, bool include_bool) {
    return dtype == GD_INT32 || dtype == GD_INT64 || (include_bool && dtype == GD_BOOL);
}

gd_dtype gd_promote_types(gd_dtype a, gd_dtype b) {
    /* The enum is ordered so that, for these five types, promotion is the max. */
    return a > b ? a : b;
}

static const char *const op_names[] = {
#define GD_OP(id, name, arity, grad_fn, backward) name,
#include "ops.def"
#undef GD_OP
};
static const char *const op_grad_fn_names[] = {
#define GD_OP(id, name, arity, grad_fn, backward) grad_fn,
#include "ops.def"
#undef GD_OP
};
static const int op_arities[] = {
#define GD_OP(id, name, arity, grad_fn, backward) arity,
#include "ops.def"
#undef GD_OP
};
_Static_assert(sizeof op_names / sizeof op_names[0] == GD_OP_COUNT,
               "op name table out of step with ops.def");
_Static_assert(sizeof op_arities / sizeof op_arities[0] == GD_OP_COUNT,
               "op arity table out of step with ops.def");

const char *gd_op_name(gd_op op) {
    return op_names[op];
}

const char *gd_op_grad_fn_name(gd_op op) {
    return op_grad_fn_names[op];
}

int gd_op_arity(gd_op op) {
    return op_arities[op];
}
