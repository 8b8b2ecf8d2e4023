/* Declarations shared by the core's own files; not part of the public API. */
#ifndef GD_INTERNAL_H
#define GD_INTERNAL_H

#include "gd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-thread caches of freed fixed-size blocks (tensor.c), emptied when
 * their thread exits: take gives a block or NULL; give keeps one, or says
 * false when the cache is full (then free it). */
typedef enum {
    GD_CACHE_TENSOR,  /* gd_tensor headers */
    GD_CACHE_STORAGE, /* storages with inline data */
    GD_CACHE_NODE,    /* graph nodes of up to two inputs (autograd.c) */
    GD_CACHE_KINDS
} gd_cache_kind;
void *gd_cache_take(gd_cache_kind kind);
bool gd_cache_give(gd_cache_kind kind, void *block);

/* Elements of bool tensors: bytes holding 0 or 1. */
typedef uint8_t gd_bool_t;

/* A table row of kernel loops by dtype (tags b, u8, i32, i64, f32, f64),
 * independent of the order of dtypes.def. */
#define BY_DTYPE(b, u8, i32, i64, f32, f64)                                            \
    {[GD_BOOL] = b,    [GD_UINT8] = u8,    [GD_INT32] = i32,                           \
     [GD_INT64] = i64, [GD_FLOAT32] = f32, [GD_FLOAT64] = f64}
/* Table rows of loops named tag_b, tag_u8, ...: every dtype, all but bool, the
 * integer ones (bool's loop given). */
#define ALL_DTYPES(tag)                                                                \
    BY_DTYPE(tag##_b, tag##_u8, tag##_i32, tag##_i64, tag##_f32, tag##_f64)
#define NUMERIC(tag)                                                                   \
    BY_DTYPE(NULL, tag##_u8, tag##_i32, tag##_i64, tag##_f32, tag##_f64)
#define INTEGRAL(b_loop, tag)                                                          \
    BY_DTYPE(b_loop, tag##_u8, tag##_i32, tag##_i64, NULL, NULL)

/* Integer arithmetic wraps (two's complement) as PyTorch's does, without C's
 * undefined signed overflow. */
#define WRAP(T, U, x) ((T)(U)(x))

/* t converted to `dtype` unless it already is one (a new reference). */
gd_status gd_as_dtype(const gd_tensor *t, gd_dtype dtype, gd_tensor **out);

/* An inner loop over n elements: data[i] advances by strides[i] bytes. */
typedef void (*gd_loop_fn)(char **data, const int64_t *strides, int64_t n, void *ctx);

/* Elementwise loops built twice, for AVX2 (twice the lanes of the baseline)
 * and for the baseline, the machine's choice made once at load: the same
 * IEEE operations in each lane (no contraction, no reassociation), so the
 * same results. Sanitized builds keep the one baseline loop. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                 \
    !defined(GD_SANITIZE)
#define GD_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GD_VECTOR_CLONES
#endif

#define GD_ITER_MAX_OPERANDS 5 /* Adam's loop: param, grad and three states */

/* A gd_loop_fn `name` writing EXPR of each element x of its input (type TI)
 * as a TO: a contiguous path the compiler vectorises, and a strided one.
 * The unary kernels and the casts are all of this form. */
#define UNARY_LOOP(name, TO, TI, EXPR)                                                 \
    GD_VECTOR_CLONES static void name(char **d, const int64_t *s, int64_t n,           \
                                      void *ctx) {                                     \
        (void)ctx;                                                                     \
        if (s[0] == sizeof(TO) && s[1] == sizeof(TI)) {                                \
            TO *o = (TO *)d[0];                                                        \
            const TI *in = (const TI *)d[1];                                           \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI x = in[i];                                                          \
                o[i] = (EXPR);                                                         \
            }                                                                          \
        } else {                                                                       \
            for (int64_t i = 0; i < n; i++) {                                          \
                TI x = *(const TI *)(d[1] + i * s[1]);                                 \
                *(TO *)(d[0] + i * s[0]) = (EXPR);                                     \
            }                                                                          \
        }                                                                              \
    }

/* Runs `loop` over n elements whose nops operands start at data and advance
 * by strides (bytes), in ATen's chunks from `grain` on the worker pool (one
 * call below it). For elementwise loops only: each chunk writes its own
 * elements, and ctx is shared, so the loop must not write it. */
void gd_loop_split(gd_loop_fn loop, int nops, char *const *data, const int64_t *strides,
                   int64_t n, void *ctx, int64_t grain);
/* Row-major strides for `shape` (a size-0 dim counts as 1), as PyTorch's
 * contiguous tensors have. */
void gd_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
/* Whether gd_reshape to a valid `shape` would copy (no view fits). */
bool gd_reshape_copies(const gd_tensor *t, int ndim, const int64_t *shape);

/* Runs `loop` over `shape` for the operands: ops[0] has exactly `shape`, the
 * others broadcast to it (right-aligned, size-1 dims repeat). As ATen's
 * TensorIterator, the dims go in the operands' memory order (the smallest
 * stride innermost) and are coalesced where every operand steps through two
 * as one, so the inner loop sees the longest runs, the runs ATen's loops see. */
void gd_iterate(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                gd_loop_fn loop, void *ctx);
/* The same, running a nest that coalesces to one run (dense operands of one
 * layout) as gd_loop_split does, from `grain`: elementwise loops only, ctx
 * read-only. */
void gd_iterate_split(int nops, const gd_tensor *const *ops, int ndim,
                      const int64_t *shape, gd_loop_fn loop, void *ctx, int64_t grain);
/* gd_iterate's loop nest: the dims (slowest first, innermost last) after
 * ordering, dropping size-1 dims and coalescing, with each operand's byte
 * strides; returns their number (0 for a single element). */
int gd_loop_nest(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                 int64_t *dims, int64_t (*strides)[GD_ITER_MAX_OPERANDS]);
/* The strides TensorIterator gives the result of an elementwise op over the
 * inputs `ins` broadcast to `shape`: contiguous when they all are; the
 * inputs' own when all are dense with the same strides and shape; else the
 * dense strides of the inputs' dim order (a transposed input gives a
 * transposed result). Returns whether they are the contiguous strides. */
bool gd_result_strides(int nins, const gd_tensor *const *ins, int ndim,
                       const int64_t *shape, int64_t *strides);
/* A new tensor with those strides. */
gd_status gd_empty_result(gd_dtype dtype, int nins, const gd_tensor *const *ins,
                          int ndim, const int64_t *shape, gd_tensor **out);

/* Bracket a numeric loop over `work` elements (see gd_set_loop_unlock):
 * gd_loop_end takes what gd_loop_begin returned. Nested brackets unlock once,
 * at the outermost. Between the two: element data only. */
void *gd_loop_begin(int64_t work);
void gd_loop_end(void *state);
/* Whether a loop over `work` elements would unlock now. */
bool gd_loops_may_unlock(int64_t work);
/* The same for a loop over the operands `ops`, which another thread may give
 * new data (`.data = ...`) while the lock is released: each operand's storage
 * is held from gd_unlock_for to gd_relock, so what the loop reads stays. */
typedef struct {
    void *state;
    int n;
    gd_storage *held[GD_ITER_MAX_OPERANDS];
} gd_unlocked;
void gd_unlock_for(gd_unlocked *u, int64_t work, int nops, const gd_tensor *const *ops);
void gd_relock(gd_unlocked *u);
/* Between keep_lock(true) and keep_lock(false) loops do not unlock: for
 * writes into memory that another thread's call may write too (the engine
 * accumulating into a leaf's .grad, as PyTorch's AccumulateGrad does under
 * its mutex). */
void gd_loop_keep_lock(bool keep);

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

/* One element at p of a tensor of dtype dt, read or written as double or as
 * int64 (cases generated from dtypes.def). Bools read 0/1 and store v != 0;
 * floats stored into integers convert as gd_f2i64 does. */
static inline double gd_load_double(gd_dtype dt, const void *p) {
    switch (dt) {
#define GD_DTYPE(id, ctype, ...)                                                       \
    case GD_##id:                                                                      \
        return (double)*(const ctype *)p;
#include "dtypes.def"
#undef GD_DTYPE
    default:
        return 0;
    }
}
static inline int64_t gd_load_int64(gd_dtype dt, const void *p) {
    if (gd_dtype_is_floating(dt))
        return gd_f2i64(gd_load_double(dt, p));
    switch (dt) {
#define GD_DTYPE(id, ctype, ...)                                                       \
    case GD_##id:                                                                      \
        return (int64_t)*(const ctype *)p;
#include "dtypes.def"
#undef GD_DTYPE
    default:
        return 0;
    }
}
static inline void gd_store_int64(gd_dtype dt, void *p, int64_t v) {
    if (dt == GD_BOOL)
        v = v != 0;
    switch (dt) {
#define GD_DTYPE(id, ctype, ...)                                                       \
    case GD_##id:                                                                      \
        *(ctype *)p = (ctype)v;                                                        \
        break;
#include "dtypes.def"
#undef GD_DTYPE
    default:
        break;
    }
}
static inline void gd_store_double(gd_dtype dt, void *p, double v) {
    if (dt == GD_FLOAT32)
        *(float *)p = (float)v;
    else if (dt == GD_FLOAT64)
        *(double *)p = v;
    else
        gd_store_int64(dt, p, dt == GD_BOOL ? v != 0 : gd_f2i64(v));
}

/* ---- autograd internals (autograd.c, record.c, engine.c, backward*.c) -- */

/* A tensor a node keeps for its backward rule, with the storage version it
 * had when saved. */
typedef struct {
    gd_tensor *t; /* owned: the input itself, or an alias of the output's data */
    int64_t version;
    const char *producer; /* name of the node that made it, or NULL for a leaf */
    bool is_output;       /* the node's own output */
    /* A Python number operand is saved as the number (as PyTorch saves a
     * Scalar); t stays NULL until a rule asks for it as a tensor. */
    bool is_number;
    double number; /* its value in number_dtype, read back as double */
    gd_dtype number_dtype;
} gd_saved;

/* Where each GD_SAVE_* tensor lives in gd_node.saved. */
enum {
    GD_SAVED_SELF,
    GD_SAVED_OTHER,
    GD_SAVED_RESULT,
    GD_SAVED_INDICES,
    GD_SAVED_INPUT2,
    GD_SAVED_INPUT3,
    GD_NODE_MAX_SAVED
};

/* Input shapes of up to this many dims live in the node itself; longer ones
 * (rare) in a heap block the node owns. */
#define GD_NODE_INLINE_DIMS 8

typedef struct {
    gd_node *node; /* owned; NULL when this input needs no gradient */
    int output_nr; /* which of node's outputs this input was */
    int ndim;
    gd_dtype dtype;
    int64_t *shape; /* ndim entries: inline_shape, or owned heap memory */
    int64_t inline_shape[GD_NODE_INLINE_DIMS];
} gd_input_meta;

struct gd_node {
    int64_t refcount;
    gd_op op;
    const char *name;
    uint64_t seq; /* creation order: later nodes run first, as in PyTorch */
    gd_saved saved[GD_NODE_MAX_SAVED]; /* by GD_SAVED_*; t NULL if not saved */
    bool saved_freed;
    gd_tensor *variable;      /* AccumulateGrad: the leaf (owned) */
    gd_tensor *retained_grad; /* owned: the output's grad under retain_grad() */
    gd_hook *hooks;           /* run on the output's gradient */
    bool retains_grad;        /* keep the output's gradient in retained_grad */
    /* engine scratch, reset after each backward */
    int64_t deps;
    gd_tensor *buffer;
    int capture;
    uint64_t walk; /* the backward that discovered this node, 0 when none runs */
    bool needed, run_rule;
    bool graph;               /* its rule runs under create_graph (rule_ctx.graph) */
    gd_op replays;            /* GD_OP_REPLAY nodes: the op whose forward they run */
    struct gd_custom *custom; /* owned: GD_OP_CUSTOM nodes' callback */
    void *trace;              /* owned: where it was made, under anomaly detection */
    /* Last of the fixed fields: gd_node_new zeroes the node only up to
     * args.dims, which is written and read up to args.ndims. */
    gd_op_args args;
    int n_inputs;
    gd_input_meta inputs[]; /* n_inputs entries */
};

/* What a custom node (gd_custom_node_new) adds to its node. */
typedef struct gd_custom {
    gd_custom_backward_fn fn;
    gd_release_fn release;
    void *context;
    int n_outputs;
    gd_tensor **buffers; /* engine scratch: gradients of outputs 1.. (0 is buffer) */
    bool core;           /* made by gd_core_node_new */
    char name[];
} gd_custom;

void gd_custom_free(gd_custom *c);
/* t's history becomes output 0 of `node` (a reference taken): an in-place op
 * moving t onto its node, a view regenerated or rewritten onto CopySlices. */
gd_status gd_set_history(gd_tensor *t, gd_node *node);
/* A custom node whose callback is the core's own (CopySlices,
 * AsStridedBackward0): its context is not the embedder's. */
gd_status gd_core_node_new(const char *name, int n_inputs, gd_tensor *const *inputs,
                           gd_custom_backward_fn fn, gd_release_fn release,
                           void *context, gd_node **out);
/* Under anomaly detection: the report of a failed node (its trace). */
void gd_anomaly_report(const gd_node *node);

/* n zeroed tensor slots for the gradients a rule or callback fills: the
 * caller's `local` array of GD_LOCAL_SLOTS when they fit, else the heap
 * (NULL when that fails). gd_slots_free releases a heap block. */
#define GD_LOCAL_SLOTS 8
static inline gd_tensor **gd_slots(int n, gd_tensor **local) {
    if (n > GD_LOCAL_SLOTS)
        return calloc((size_t)n, sizeof *local);
    memset(local, 0, sizeof *local * GD_LOCAL_SLOTS);
    return local;
}
static inline void gd_slots_free(gd_tensor **slots, gd_tensor **local) {
    if (slots != local)
        free(slots);
}

/* Where gradients for output `nr` of node gather during a backward. */
static inline gd_tensor **gd_node_slot(gd_node *node, int nr) {
    return nr == 0 ? &node->buffer : &node->custom->buffers[nr];
}
/* Which output of its grad_fn t is (0 for every built-in op). */
static inline int gd_output_nr(const gd_tensor *t) {
    return t->autograd && t->autograd->grad_fn ? t->autograd->output_nr : 0;
}

/* hooks.c: drops a list already detached from its owner; runs the hooks a
 * list holds now on *grad (replacing it as they ask). */
void gd_hooks_free(gd_hook *list);
gd_status gd_hooks_run(const gd_hook *list, gd_tensor **grad);

/* A new node for `op` with n_inputs edges, its sequence number taken
 * (autograd.c). */
gd_status gd_node_new(gd_op op, int n_inputs, gd_node **out);
/* Records t's shape and dtype as input metadata (the shape spills to the
 * heap past GD_NODE_INLINE_DIMS; gd_node_decref frees it). */
gd_status gd_input_meta_set(gd_input_meta *m, const gd_tensor *t);

/* A backward rule: fills grad_inputs[i] (new references) for each input i
 * whose node->inputs[i].node is set; the engine reduces broadcast shapes and
 * casts dtypes afterwards. */
typedef gd_status (*gd_backward_fn)(gd_node *node, gd_tensor *grad,
                                    gd_tensor **grad_inputs);
gd_backward_fn gd_backward_rule(gd_op op);
/* The tensor a node saved in `slot` (GD_SAVED_*) for use by a rule, with
 * the version check (borrowed). */
gd_status gd_unpack_saved(gd_node *node, int slot, gd_tensor **out);
/* The same as a new reference for a rule that may record: with grad mode
 * on, a saved output comes back carrying its history (grad_fn = node), as
 * PyTorch unpacks a SavedVariable, so the rule's result depends on it. */
gd_status gd_unpack_saved_ref(gd_node *node, int slot, gd_tensor **out);
/* True when `slot` holds a Python number (its value in *out): rules that can
 * use the number directly skip building a tensor for it. */
bool gd_saved_number(const gd_node *node, int slot, double *value, gd_dtype *dtype);
/* Drops the saved tensors once backward no longer needs them. */
void gd_node_release_saved(gd_node *node);
/* The node a gradient for t flows into (new reference), or NULL. */
gd_status gd_edge_of(gd_tensor *t, gd_node **out);

/* views.c: a view made by a view op that still shares its base's data. */
static inline bool gd_is_tracked_view(const gd_tensor *t) {
    return t->view_base && t->view_base->storage == t->storage;
}
/* A tracked view whose base (or another view of it) was written since its
 * grad_fn was set: gd_view_refresh has work to do. */
static inline bool gd_view_stale(const gd_tensor *t) {
    return t->view_base && t->view_version != t->storage->version;
}
/* Makes `view` (just made from `src` by a view op, with grad mode
 * `grad_on`) a view of src's base. */
void gd_view_track(gd_tensor *view, gd_tensor *src, bool grad_on);
/* Marks a view just made as output `output` of a function returning several
 * views (unbind, split), unless grad mode was off when it was made. */
void gd_view_mark_multi_output(gd_tensor *view, int64_t output);
/* Whether calls recorded as d make one of several views (unbind, split). */
bool gd_decomposition_multi_output(gd_decomposition d);
/* PyTorch's refusal of an in-place change to a view made with grad mode off
 * or by a multi-output function: of the view itself, or (indirect) of its
 * base or another view of it. */
gd_status gd_view_refused(const gd_tensor *t, bool indirect);
/* An in-place op on a tracked view, recorded as PyTorch does: `fn` (new
 * reference taken) is the op's node, recorded on a snapshot of the view; the
 * base's history becomes a CopySlices node that runs fn on the view's part
 * of the base's gradient. Called before the result is written into the view;
 * *out is the CopySlices node (new reference), installed by
 * gd_view_install_copy_slices after the write. */
gd_status gd_view_copy_slices(gd_tensor *view, gd_node *fn, int n,
                              gd_tensor *const *inputs, gd_node **out);
gd_status gd_view_install_copy_slices(gd_tensor *view, gd_node *copy_slices);

/* Recording forms of the ops backward rules and the engine use
 * (graph_ops.c): the plain kernel, plus a node when grad mode is on and an
 * operand requires grad (backward under create_graph). New references. */
/* Recorded as `name` (MulBackward1 for a tensor times a number), in the
 * promoted dtype. */
gd_status gd_g_binary_as(gd_op op, const gd_tensor *a, const gd_tensor *b,
                         gd_decomposition name, gd_tensor **out);
/* The same under the op's own name; inline, since a first-order backward
 * calls it for every gradient it sums. */
static inline gd_status gd_g_binary(gd_op op, const gd_tensor *a, const gd_tensor *b,
                                    gd_tensor **out) {
    return gd_g_binary_as(op, a, b, GD_DECOMP_DEFAULT, out);
}
gd_status gd_g_unary(gd_op op, const gd_tensor *a, gd_tensor **out);
gd_status gd_g_reduce(gd_op op, const gd_tensor *a, int ndims, const int64_t *dims,
                      bool keepdim, gd_tensor **out);
gd_status gd_g_reshape(const gd_tensor *a, int ndim, const int64_t *shape,
                       gd_tensor **out);
gd_status gd_g_expand(const gd_tensor *a, int ndim, const int64_t *shape,
                      gd_tensor **out);
gd_status gd_g_transpose(const gd_tensor *a, int64_t d0, int64_t d1, gd_tensor **out);
gd_status gd_g_permute(const gd_tensor *a, int ndim, const int64_t *dims,
                       gd_tensor **out);
gd_status gd_g_unsqueeze(const gd_tensor *a, int64_t dim, gd_tensor **out);
gd_status gd_g_squeeze(const gd_tensor *a, int64_t dim, gd_tensor **out);
gd_status gd_g_select(const gd_tensor *a, int64_t dim, int64_t index, gd_tensor **out);
gd_status gd_g_slice(const gd_tensor *a, int64_t dim, int64_t start, int64_t stop,
                     int64_t step, gd_tensor **out);
gd_status gd_g_matmul(const gd_tensor *a, const gd_tensor *b, gd_tensor **out);
gd_status gd_g_where(const gd_tensor *cond, const gd_tensor *a, const gd_tensor *b,
                     gd_dtype common, gd_tensor **out);
gd_status gd_g_gather(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                      gd_tensor **out);
gd_status gd_g_scatter_add(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                           const gd_tensor *src, gd_tensor **out);
gd_status gd_g_to_dtype(const gd_tensor *a, gd_dtype dtype, gd_tensor **out);
gd_status gd_g_clamp(const gd_tensor *a, double min, double max, gd_tensor **out);

/* Runs node's backward rule (backward_graph.c). With grad mode on (backward
 * under create_graph) the gradients it gives carry their own graph: rules
 * record through the gd_g_* forms; rules linear in the gradient with fused
 * kernels get a node replaying the op's forward; softmax and the pointwise
 * losses a composite of recorded ops holding the fused kernel's numbers. */
gd_status gd_run_backward_rule(gd_node *node, gd_tensor *grad, gd_tensor **grad_inputs);
/* The creation number the next node will take (this thread). */
uint64_t gd_node_next_seq(void);

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

/* kernels_math.c: sigmoid of a float32/float64 tensor into `out` (its shape
 * and dtype; may be `in` itself), rounded as PyTorch's CPU kernel rounds it. */
void gd_math_sigmoid(const gd_tensor *in, gd_tensor *out);
/* A float32 tensor to a Python number power, `exponent` unrounded (its
 * float32 0-d tensor too, for the exact forms): ATen's rounding. Other
 * dtypes and exact exponents: gd_binary. */
gd_status gd_math_pow_number(const gd_tensor *base, const gd_tensor *exponent_tensor,
                             double exponent, gd_tensor **out);
/* grad * (1 - y * y) for tanh's result y, fused as PyTorch's compiled kernel
 * fuses it; g and y of one float dtype and shape. */
gd_status gd_math_tanh_backward(const gd_tensor *g, const gd_tensor *y,
                                gd_tensor **out);
/* kernels_math_nearest.c: the loop computing unary `op` on `dtype`: MKL's
 * (gd_mkl_vml_loop) where it is loaded, else to the nearest representable
 * value (float32 exp, log, tanh, sin, cos; sqrt), or NULL for the C
 * library's. */
gd_loop_fn gd_math_loop(gd_op op, gd_dtype dtype);
/* x ** e over n contiguous float32 elements, the exponents at e (ey = 1)
 * or *e for all (ey = 0): to the nearest float, in place of SLEEF's powf,
 * which ATen uses on its vector steps (kernels_math_nearest.c). Callers
 * give it the vector steps and take the C library's pow for the rest, as
 * ATen does. */
void gd_math_powf(float *o, const float *x, const float *e, int64_t ey, int64_t n);
/* kernels_math_f64.c: float64 exp, sin, cos, log and tanh, or NULL. */
gd_loop_fn gd_math_loop_f64(gd_op op);
/* float64 x ** e over n contiguous elements, as gd_math_powf: nearly always
 * the correctly rounded result (kernels_math_f64.c). */
void gd_math_pow_f64(double *o, const double *x, const double *ex, int64_t ey,
                     int64_t n);
/* Of a contiguous run of n elements, how many ATen's vectorised loop takes
 * in whole steps (two vectors: 32 float32 or 16 float64 under AVX-512, half
 * that under AVX2) on this CPU; 0 where ATen would run its default, scalar
 * capability. The rest it computes element by element (kernels_math.c). */
int64_t gd_math_vector_body(gd_dtype dtype, int64_t n);
/* Whether the math kernels run their AVX2 (AVX-512) code: the CPU has it,
 * and GDLITE_MATH_PORTABLE does not cap them below it (kernels_math.c). */
bool gd_math_avx2(void);
bool gd_math_avx512(void);

/* Sum (or mean) of a float32/float64 tensor over the dims flagged in
 * `reduced` into `out` (contiguous, the result's shape), in PyTorch's CPU
 * accumulation type and order (kernels_sum.c). */
gd_status gd_sum_floating(const gd_tensor *a, const bool *reduced, bool keepdim,
                          bool mean, gd_tensor *out);

/* Product of a float32/float64 tensor over the dims flagged in `reduced`,
 * likewise in PyTorch's order (kernels_sum.c). */
gd_status gd_prod_floating(const gd_tensor *a, const bool *reduced, bool keepdim,
                           gd_tensor *out);

/* Norm (param: p, finite), var or std (param: correction) of a float32/float64
 * tensor with elements over the dims flagged in `reduced` into `out`
 * (contiguous, the result's shape), in PyTorch's CPU order (kernels_fold.c). */
gd_status gd_fold_floating(gd_op op, const gd_tensor *a, const bool *reduced,
                           double param, gd_tensor *out);

/* How PyTorch's matmul decomposes a product (kernels_matmul.c): as it is
 * (dot, mv, mm), folding a's or b.mT's batch dims into the rows of one mm or
 * mv, as one bmm over both operands expanded to the batch, or (3-D @ 3-D, a
 * batch of one that requires grad) squeezing that operand and folding. The
 * backward follows the same steps, so a node keeps the plan (args.i[0]). */
typedef enum {
    GD_MATMUL_AUTO = 0, /* decide from the operands */
    GD_MATMUL_DIRECT,
    GD_MATMUL_FOLD_A,
    GD_MATMUL_FOLD_B,
    GD_MATMUL_BMM,
    GD_MATMUL_SQUEEZE_A,
    GD_MATMUL_SQUEEZE_B,
} gd_matmul_plan;
gd_matmul_plan gd_matmul_plan_for(const gd_tensor *a, const gd_tensor *b);
/* A matrix stored column-major (weight.t() is): PyTorch's mm_mat1_backward
 * and mm_mat2_backward compute its gradient transposed, in the same layout. */
static inline bool gd_is_column_major(const gd_tensor *t) {
    return t->strides[0] == 1 && t->strides[1] == t->shape[0];
}
gd_status gd_matmul_planned(const gd_tensor *a, const gd_tensor *b, gd_matmul_plan plan,
                            gd_tensor **out);

/* Intel MKL's BLAS routines (mkl.c) that PyTorch's products call; the CBLAS
 * enums are passed as the ints they are. */
typedef struct {
    void (*sgemm)(int layout, int ta, int tb, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta,
                  float *c, int ldc);
    void (*dgemm)(int layout, int ta, int tb, int m, int n, int k, double alpha,
                  const double *a, int lda, const double *b, int ldb, double beta,
                  double *c, int ldc);
    void (*sgemv)(int layout, int trans, int m, int n, float alpha, const float *a,
                  int lda, const float *x, int incx, float beta, float *y, int incy);
    void (*dgemv)(int layout, int trans, int m, int n, double alpha, const double *a,
                  int lda, const double *x, int incx, double beta, double *y, int incy);
    float (*sdot)(int n, const float *x, int incx, const float *y, int incy);
    double (*ddot)(int n, const double *x, int incx, const double *y, int incy);
    /* one group of `*size` products, every argument but the pointers shared */
    void (*sgemm_batch)(int layout, const int *ta, const int *tb, const int *m,
                        const int *n, const int *k, const float *alpha, const float **a,
                        const int *lda, const float **b, const int *ldb,
                        const float *beta, float **c, const int *ldc, int groups,
                        const int *size);
    void (*dgemm_batch)(int layout, const int *ta, const int *tb, const int *m,
                        const int *n, const int *k, const double *alpha,
                        const double **a, const int *lda, const double **b,
                        const int *ldb, const double *beta, double **c, const int *ldc,
                        int groups, const int *size);
    /* MKL_Set_Num_Threads_Local: this thread's count (0: the global one);
     * returns the previous setting */
    int (*set_num_threads_local)(int);
} gd_mkl_blas;
/* MKL's BLAS while MKL is loaded and enabled, else NULL. */
const gd_mkl_blas *gd_mkl(void);
/* May MKL's gemm of an m x n result over k terms run on this thread alone?
 * Only where its result is the same as at torch's thread count (see mkl.c)
 * and its threads would not pay for their start-up. */
bool gd_mkl_gemm_serial(int64_t m, int64_t n, int64_t k);
/* The loop computing unary `op` on `dtype` with MKL's vector math as PyTorch
 * does (exp, log, tanh, sin, cos, tan, sqrt; float32, float64), or NULL
 * when MKL is off or has no such routine. */
gd_loop_fn gd_mkl_vml_loop(gd_op op, gd_dtype dtype);
/* MKL's sqrt of n contiguous elements (only while gd_mkl() is not NULL). */
void gd_mkl_sqrt_f32(float *o, const float *x, int64_t n);
void gd_mkl_sqrt_f64(double *o, const double *x, int64_t n);

/* Matrices below this many multiply-adds skip BLAS (call overhead dominates). */
#define GD_SMALL_MATMUL 4096

/* PyTorch's default intra-op thread count, which its reductions split their
 * work by (so results depend on it): OMP_NUM_THREADS or MKL_NUM_THREADS when
 * set, else one per online processor. threads.c. */
int gd_torch_threads(void);

/* Most threads a kernel splits one call's work across. */
#define GD_MAX_THREADS 64
/* ATen's TensorIterator grain (at::internal::GRAIN_SIZE): ops over fewer
 * elements run on one thread in PyTorch. */
#define GD_GRAIN 32768
/* The grain of ATen's kernels backed by MKL's vector math (exp, log, ...). */
#define GD_VML_GRAIN 2048

/* at::parallel_for's split of n elements: min(threads, ceil(n / grain))
 * chunks (at most GD_MAX_THREADS) of *size elements, the last shorter; one
 * chunk of all n below the grain or with one thread. Returns the count. */
int gd_aten_chunks(int64_t n, int64_t grain, int64_t *size);

/* Runs job on the n blocks of `size` bytes at args (n <= GD_MAX_THREADS):
 * the first on this thread, the others on threads of their own when
 * `threaded` (inline where a thread cannot start). Each job must write only
 * its own results, so the outcome does not depend on the threads. */
void gd_run_jobs(void *(*job)(void *), void *args, size_t size, int n, bool threaded);
/* Runs the same n jobs with the help of the core's worker pool (threads
 * kept between calls, as PyTorch keeps its OpenMP workers); false, having
 * run nothing, when the pool is busy with another thread's batch. The
 * calling thread runs every job no worker claimed, so it never waits on a
 * worker that has not started. */
bool gd_run_pooled(void *(*job)(void *), void *args, size_t size, int n);

#endif
