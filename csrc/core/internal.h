/* Declarations shared by the core's own files; not part of the public API. */
#ifndef GD_INTERNAL_H
#define GD_INTERNAL_H

#include "gd.h"

/* An inner loop over n elements: data[i] advances by strides[i] bytes. */
typedef void (*gd_loop_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

#define GD_ITER_MAX_OPERANDS 4

/* Runs `loop` over `shape` for the operands: ops[0] has exactly `shape`, the
 * others broadcast to it (right-aligned, size-1 dims repeat). Dims are
 * coalesced where every operand is contiguous across them, so the inner loop
 * sees the longest runs. */
void gd_iterate(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                gd_loop_fn loop, void *ctx);

/* Float to integer without undefined behaviour: NaN and out-of-range values
 * give INT64_MIN, as x86 does for the C cast. */
static inline int64_t gd_f2i64(double x) {
    return (x != x || x >= 9223372036854775808.0 || x < -9223372036854775808.0)
               ? INT64_MIN
               : (int64_t)x;
}
static inline int32_t gd_f2i32(double x) {
    return (x != x || x >= 2147483648.0 || x < -2147483648.0) ? INT32_MIN : (int32_t)x;
}

/* Matrices below this many multiply-adds skip BLAS (call overhead dominates). */
#define GD_SMALL_MATMUL 4096

#endif
