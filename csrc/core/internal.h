/* Declarations shared by the core's own files; not part of the public API. */
#ifndef GD_INTERNAL_H
#define GD_INTERNAL_H

#include "gd.h"

#include <math.h>

/* An inner loop over n elements: data[i] advances by strides[i] bytes. */
typedef void (*gd_loop_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

#define GD_ITER_MAX_OPERANDS 4

/* Runs `loop` over `shape` for the operands: ops[0] has exactly `shape`, the
 * others broadcast to it (right-aligned, size-1 dims repeat). Dims are
 * coalesced where every operand is contiguous across them, so the inner loop
 * sees the longest runs. */
void gd_iterate(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                gd_loop_fn loop, void *ctx);

/* "[2, 3]": a shape for error messages, written into buf (returned). */
char *gd_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape);

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

/* ---- autograd internals (autograd.c, backward.c) ---------------------- */

/* A tensor a node keeps for its backward rule, with the storage version it
 * had when saved. */
typedef struct {
    gd_tensor *t; /* owned: the input itself, or an alias of the output's data */
    int64_t version;
    const char *producer; /* name of the node that made it, or NULL for a leaf */
    bool is_output;       /* the node's own output */
} gd_saved;

#define GD_NODE_MAX_SAVED 3

typedef struct {
    gd_node *node; /* owned; NULL when this input needs no gradient */
    int ndim;
    int64_t shape[GD_MAX_DIMS];
    gd_dtype dtype;
} gd_input_meta;

struct gd_node {
    int64_t refcount;
    gd_op op;
    const char *name;
    uint64_t seq; /* creation order: later nodes run first, as in PyTorch */
    gd_op_args args;
    gd_saved saved[GD_NODE_MAX_SAVED];
    int n_saved;
    bool saved_freed;
    gd_tensor *variable;      /* AccumulateGrad: the leaf (owned) */
    gd_tensor *retained_grad; /* owned: the output's grad under retain_grad() */
    gd_hook *hooks;           /* run on the output's gradient */
    bool retains_grad;        /* keep the output's gradient in retained_grad */
    int out_ndim;
    int64_t out_shape[GD_MAX_DIMS];
    gd_dtype out_dtype;
    /* engine scratch, reset after each backward */
    int64_t deps;
    gd_tensor *buffer;
    int capture;
    uint64_t walk; /* the backward that discovered this node, 0 when none runs */
    bool needed, run_rule;
    int n_inputs;
    gd_input_meta inputs[]; /* n_inputs entries */
};

/* hooks.c: drops a list already detached from its owner; runs the hooks a
 * list holds now on *grad (replacing it as they ask). */
void gd_hooks_free(gd_hook *list);
gd_status gd_hooks_run(const gd_hook *list, gd_tensor **grad);

/* A backward rule: fills grad_inputs[i] (new references) for each input i
 * whose node->inputs[i].node is set; the engine reduces broadcast shapes and
 * casts dtypes afterwards. */
typedef gd_status (*gd_backward_fn)(gd_node *node, gd_tensor *grad,
                                    gd_tensor **grad_inputs);
gd_backward_fn gd_backward_rule(gd_op op);
/* A saved tensor for use by a rule, with the version check (borrowed). */
gd_status gd_unpack_saved(gd_node *node, int i, gd_tensor **out);
/* Drops the saved tensors once backward no longer needs them. */
void gd_node_release_saved(gd_node *node);
/* The node a gradient for t flows into (new reference), or NULL. */
gd_status gd_edge_of(gd_tensor *t, gd_node **out);

/* x ** e for a number exponent. PyTorch replaces pow by a cheaper exact form
 * for these exponents; doing the same keeps results bit-identical. */
#define GD_POW_NUMBER(name, T, SQRT, POW)                                              \
    static inline T name(T x, T e) {                                                   \
        if (e == 1)                                                                    \
            return x;                                                                  \
        if (e == 0)                                                                    \
            return 1;                                                                  \
        if (e == 2)                                                                    \
            return x * x;                                                              \
        if (e == 3)                                                                    \
            return x * x * x;                                                          \
        if (e == (T)0.5)                                                               \
            return SQRT(x);                                                            \
        if (e == (T) - 0.5)                                                            \
            return 1 / SQRT(x);                                                        \
        if (e == -1)                                                                   \
            return 1 / x;                                                              \
        if (e == -2)                                                                   \
            return 1 / (x * x);                                                        \
        return POW(x, e);                                                              \
    }
GD_POW_NUMBER(gd_pow_number_f32, float, sqrtf, powf)
GD_POW_NUMBER(gd_pow_number_f64, double, sqrt, pow)

/* Matrices below this many multiply-adds skip BLAS (call overhead dominates). */
#define GD_SMALL_MATMUL 4096

#endif
