/*
 * gd.h - the gdlite core: strided tensors, kernels and the generator, in C11.
 *
 * The core never includes Python or NumPy headers; the binding in csrc/py is
 * its only user inside gdlite, and the plain-C tests use it directly.
 *
 * A worked example (error handling elided to one check):
 *
 *     int64_t shape[2] = {2, 3};
 *     gd_tensor *a = NULL, *b = NULL, *c = NULL;
 *     if (gd_full(GD_FLOAT32, 2, shape, 1.5, &a) != GD_OK) goto fail;
 *     gd_full(GD_FLOAT32, 2, shape, 2.0, &b);
 *     gd_binary(GD_OP_MUL, a, b, GD_FLOAT32, &c);    // c = a * b, new reference
 *     gd_tensor *ct = NULL;
 *     gd_transpose(c, 0, 1, &ct);                    // a view sharing c's storage
 *     ...
 *     gd_tensor_decref(ct); gd_tensor_decref(c);     // every new reference released
 *     gd_tensor_decref(b); gd_tensor_decref(a);
 *   fail:
 *     fprintf(stderr, "%s\n", gd_last_error());      // message of the failing call
 *
 * Conventions
 * - Fallible functions return gd_status (GD_OK == 0, errors negative) and write
 *   results through out-parameters. On error they release what they took,
 *   leave outputs NULL and record a message readable with gd_last_error().
 * - Returned tensors are new references; tensor arguments are borrowed unless a
 *   function's name says `steal`.
 * - Shapes and strides are in elements; a tensor's element (i0, ..., ik) lives
 *   at storage->data + elsize * (offset + sum(i_d * strides[d])).
 */
#ifndef GD_H
#define GD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GD_MAX_DIMS 16

/* ---- status and errors ------------------------------------------------ */

typedef enum {
    GD_OK = 0,
    GD_ERR_RUNTIME = -1,  /* shape, dtype, autograd errors: RuntimeError */
    GD_ERR_INDEX = -2,    /* bad dims and indices: IndexError */
    GD_ERR_VALUE = -3,    /* bad values: ValueError */
    GD_ERR_TYPE = -4,     /* wrong argument kinds: TypeError */
    GD_ERR_NOMEM = -5,    /* allocation failed: MemoryError */
    GD_ERR_NOTIMPL = -6,  /* NotImplementedError */
    GD_ERR_EXTERNAL = -7, /* a callback failed and reported its own error */
} gd_status;

/* Records `code` with a printf-style message for this thread; returns `code`. */
gd_status gd_error(gd_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Message of the last error recorded on this thread ("" if none). */
const char *gd_last_error(void);

/* Checks a condition on user input: on failure records the message and returns. */
#define GD_CHECK(cond, code, ...)                                                      \
    do {                                                                               \
        if (!(cond))                                                                   \
            return gd_error((code), __VA_ARGS__);                                      \
    } while (0)

/* ---- dtypes ------------------------------------------------------------ */

/* Ordered by promotion: bool < integers < floating; within a kind, by width. */
typedef enum {
    GD_BOOL = 0,
    GD_INT32,
    GD_INT64,
    GD_FLOAT32,
    GD_FLOAT64,
    GD_DTYPE_COUNT
} gd_dtype;

size_t gd_dtype_size(gd_dtype dtype);
const char *gd_dtype_name(gd_dtype dtype); /* "float32", "int64", ... */
/* The legacy tensor type name: "FloatTensor", "LongTensor", ... */
const char *gd_dtype_legacy_name(gd_dtype dtype);
/* PyTorch's scalar type name used in its messages: "Float", "Long", ... */
const char *gd_dtype_scalar_name(gd_dtype dtype);
bool gd_dtype_is_floating(gd_dtype dtype);
bool gd_dtype_is_integral(gd_dtype dtype, bool include_bool);
/* PyTorch's promotion of two tensor dtypes of the same priority. */
gd_dtype gd_promote_types(gd_dtype a, gd_dtype b);

/* ---- storage and tensors ----------------------------------------------- */

typedef void (*gd_release_fn)(void *context);

typedef struct gd_storage {
    int64_t refcount;
    void *data;
    size_t nbytes;
    /* NULL: `data` belongs to this storage. Otherwise `data` is foreign memory
     * and release(release_context) runs when the last reference goes. */
    gd_release_fn release;
    void *release_context;
    /* Bumped by every in-place write: saved tensors remember it, so backward
     * notices data changed under it. Views share it with their base. */
    int64_t version;
} gd_storage;

typedef struct gd_autograd_meta gd_autograd_meta; /* see the autograd section */

typedef struct gd_tensor {
    int64_t refcount;
    gd_dtype dtype;
    int ndim;
    int64_t numel;
    int64_t offset; /* in elements, into storage */
    int64_t shape[GD_MAX_DIMS];
    int64_t strides[GD_MAX_DIMS];
    gd_storage *storage;        /* owned reference */
    gd_autograd_meta *autograd; /* owned; NULL while autograd never saw it */
    void *handle;               /* borrowed back-pointer for the binding */
    /* Writes through this tensor leave storage->version alone (`.data`). */
    bool untracked_version;
    /* Header and data live on a caller's stack for one call: copy to keep. */
    bool on_stack;
} gd_tensor;

void gd_tensor_incref(gd_tensor *t);
void gd_tensor_decref(gd_tensor *t); /* NULL is allowed */
void gd_storage_incref(gd_storage *s);
void gd_storage_decref(gd_storage *s);

/* The one place element counts and byte sizes are computed, with PyTorch's
 * checks and messages. gd_shape_numel: sizes are non-negative and their
 * product fits int64 (any tensor, views too). gd_shape_nbytes: a contiguous
 * storage of that shape and dtype has a byte size (and strides) that fit
 * int64; every allocation of tensor data goes through it. */
gd_status gd_shape_numel(int ndim, const int64_t *shape, int64_t *numel);
gd_status gd_shape_nbytes(gd_dtype dtype, int ndim, const int64_t *shape,
                          int64_t *numel, size_t *nbytes);
/* The same check with the message PyTorch gives for results it allocates
 * with explicit strides (clone, to, *_like). */
gd_status gd_shape_nbytes_strided(gd_dtype dtype, int ndim, const int64_t *shape,
                                  int64_t *numel, size_t *nbytes);

/* New contiguous tensor with uninitialised elements. */
gd_status gd_empty(gd_dtype dtype, int ndim, const int64_t *shape, gd_tensor **out);
/* The same for results PyTorch allocates with explicit strides (clone, to,
 * *_like): only the size error differs, naming the strides too. */
gd_status gd_empty_strided(gd_dtype dtype, int ndim, const int64_t *shape,
                           gd_tensor **out);
gd_status gd_zeros(gd_dtype dtype, int ndim, const int64_t *shape, gd_tensor **out);
gd_status gd_full(gd_dtype dtype, int ndim, const int64_t *shape, double value,
                  gd_tensor **out);
/* Wraps foreign memory (e.g. a NumPy array): strides in elements; `release`
 * runs with `context` when the last storage reference goes, and also when this
 * call fails. */
gd_status gd_from_memory(void *data, size_t nbytes, gd_dtype dtype, int ndim,
                         const int64_t *shape, const int64_t *strides, int64_t offset,
                         gd_release_fn release, void *context, gd_tensor **out);

static inline char *gd_data_ptr(const gd_tensor *t) {
    return (char *)t->storage->data + (size_t)t->offset * gd_dtype_size(t->dtype);
}
bool gd_is_contiguous(const gd_tensor *t);
/* Reads or writes one element at a flat index (row-major over the shape). */
double gd_get_flat(const gd_tensor *t, int64_t index);
int64_t gd_get_flat_int(const gd_tensor *t, int64_t index);

/* Wraps a dimension index (negative counts from the end), PyTorch's message. */
gd_status gd_wrap_dim(int64_t dim, int ndim, int *out);
/* Broadcast shape of two shapes, PyTorch's message on mismatch. */
gd_status gd_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb,
                              int *nout, int64_t *sout);

/* ---- views (share storage) ---------------------------------------------- */

gd_status gd_view(const gd_tensor *t, int ndim, const int64_t *shape, gd_tensor **out);
gd_status gd_reshape(const gd_tensor *t, int ndim, const int64_t *shape,
                     gd_tensor **out); /* a view when possible, else a copy */
gd_status gd_as_strided(const gd_tensor *t, int ndim, const int64_t *shape,
                        const int64_t *strides, int64_t offset, gd_tensor **out);
gd_status gd_transpose(const gd_tensor *t, int64_t dim0, int64_t dim1, gd_tensor **out);
gd_status gd_permute(const gd_tensor *t, int ndim, const int64_t *dims,
                     gd_tensor **out);
gd_status gd_expand(const gd_tensor *t, int ndim, const int64_t *shape,
                    gd_tensor **out);
gd_status gd_squeeze(const gd_tensor *t, int ndims, const int64_t *dims,
                     gd_tensor **out); /* ndims < 0: every size-1 dim */
gd_status gd_unsqueeze(const gd_tensor *t, int64_t dim, gd_tensor **out);
gd_status gd_select(const gd_tensor *t, int64_t dim, int64_t index, gd_tensor **out);
gd_status gd_slice(const gd_tensor *t, int64_t dim, int64_t start, int64_t stop,
                   int64_t step,
                   gd_tensor **out); /* Python slice semantics, step > 0 */
/* A new tensor header over the same storage (shape, strides, offset kept). */
gd_status gd_alias(const gd_tensor *t, gd_tensor **out);

/* ---- the op table ------------------------------------------------------- */

typedef enum {
#define GD_OP(id, name, arity, grad_fn, backward) GD_OP_##id,
#include "ops.def"
#undef GD_OP
    GD_OP_COUNT
} gd_op;

const char *gd_op_name(gd_op op);         /* "add" */
const char *gd_op_grad_fn_name(gd_op op); /* "AddBackward0" */
int gd_op_arity(gd_op op);

/* ---- elementwise -------------------------------------------------------- */

/* Copies and converts: a new contiguous tensor of `dtype`. */
gd_status gd_to_dtype(const gd_tensor *t, gd_dtype dtype, gd_tensor **out);
gd_status gd_contiguous(const gd_tensor *t, gd_tensor **out); /* new ref, maybe t */
gd_status gd_clone(const gd_tensor *t, gd_tensor **out);
/* dst[...] = src broadcast to dst's shape, converting dtype. */
gd_status gd_copy_(gd_tensor *dst, const gd_tensor *src);
gd_status gd_fill_(gd_tensor *dst, double value);

/* Binary op on `common` (the promoted dtype); inputs are converted as needed
 * and broadcast. Comparisons give bool; true division of integers gives
 * float32. */
gd_status gd_binary(gd_op op, const gd_tensor *a, const gd_tensor *b, gd_dtype common,
                    gd_tensor **out);
/* In place: dst = dst op b, computed in `common` and stored in dst's dtype. */
gd_status gd_binary_(gd_op op, gd_tensor *dst, const gd_tensor *b, gd_dtype common);
/* Unary math; integer inputs of floating functions give float32. */
gd_status gd_unary(gd_op op, const gd_tensor *a, gd_tensor **out);
gd_status gd_unary_(gd_op op, gd_tensor *a);
/* Clamp with optional bounds (has_min/has_max). */
gd_status gd_clamp(const gd_tensor *a, bool has_min, double min, bool has_max,
                   double max, gd_tensor **out);
gd_status gd_clamp_(gd_tensor *a, bool has_min, double min, bool has_max, double max);
/* where(cond, a, b) with broadcasting, in `common`. */
gd_status gd_where(const gd_tensor *cond, const gd_tensor *a, const gd_tensor *b,
                   gd_dtype common, gd_tensor **out);

/* ---- reductions --------------------------------------------------------- */

/* Reduces over `dims` (ndims < 0: all dims). For GD_OP_VAR / GD_OP_STD,
 * `param` is the correction; for GD_OP_NORM it is p (INFINITY allowed). */
gd_status gd_reduce(gd_op op, const gd_tensor *a, int ndims, const int64_t *dims,
                    bool keepdim, double param, gd_tensor **out);
/* max/min/argmax/argmin along one dim: values and int64 indices (either out may
 * be NULL). */
gd_status gd_reduce_index(gd_op op, const gd_tensor *a, int64_t dim, bool keepdim,
                          gd_tensor **values, gd_tensor **indices);

/* ---- linear algebra ----------------------------------------------------- */

/* torch.matmul: 1-D/2-D/batched with broadcasting of batch dims. */
gd_status gd_matmul(const gd_tensor *a, const gd_tensor *b, gd_tensor **out);
/* The naive triple loop the BLAS path is tested against (2-D only). */
gd_status gd_matmul_reference(const gd_tensor *a, const gd_tensor *b, gd_tensor **out);

/* ---- joining and gathering ---------------------------------------------- */

gd_status gd_cat(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out);
gd_status gd_stack(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out);
/* out[i] = a.flat[index[i]] with `index` (int64, contiguous, any shape); values
 * must be in [0, numel). out has index's shape. */
gd_status gd_take(const gd_tensor *a, const gd_tensor *index, gd_tensor **out);
/* a.flat[index[i]] = values[i] (values broadcast to index's shape). */
gd_status gd_put_(gd_tensor *a, const gd_tensor *index, const gd_tensor *values);
/* a.flat[index[i]] += values.flat[i] for a contiguous floating `a`; repeated
 * positions add up (the backward of gathering). */
gd_status gd_index_add_(gd_tensor *a, const gd_tensor *index, const gd_tensor *values);

/* ---- sequences (arange, linspace) --------------------------------------- */

/* Number of elements of arange(start, end, step), with PyTorch's checks
 * (float32, float64 and int32 results). */
gd_status gd_arange_size(double start, double end, double step, int64_t *n);
/* PyTorch's argument checks alone, done in double for every dtype. */
gd_status gd_arange_check(double start, double end, double step);
/* Size of an int64 arange: integer arithmetic on truncated arguments. */
gd_status gd_arange_size_int64(int64_t start, int64_t end, int64_t step, int64_t *n);
/* Fills a contiguous buffer of `dtype` with arange values as PyTorch computes them. */
void gd_fill_arange(gd_dtype dtype, void *out, int64_t n, double start, double step);
void gd_fill_arange_int64(int64_t *out, int64_t n, int64_t start, int64_t step);
/* Fills a contiguous buffer of `dtype` with linspace values as PyTorch computes them.
 */
void gd_fill_linspace(gd_dtype dtype, void *out, int64_t n, double start, double end);

/* ---- autograd ------------------------------------------------------------ */

/*
 * Reverse-mode differentiation with PyTorch's semantics. gd_call runs an op
 * and, when grad mode is on and an input requires grad, records a gd_node
 * that knows how to differentiate it. The graph is a DAG owned from the
 * outputs down: a tensor owns its grad_fn, a node owns the nodes of its
 * inputs and the tensors it saved, never its output (it saves an alias of
 * the output's data instead). A leaf that requires grad is reached through
 * its AccumulateGrad node, which owns the leaf.
 */
typedef struct gd_node gd_node;

/* Hooks run on the gradient flowing into a tensor; they may replace it
 * (*replacement, a new reference) or leave it (NULL). */
typedef gd_status (*gd_hook_fn)(void *context, gd_tensor *grad,
                                gd_tensor **replacement);
typedef struct gd_hook {
    gd_hook_fn fn;
    gd_release_fn release; /* frees context when the hook goes */
    void *context;
    int64_t id;
    struct gd_hook *next;
} gd_hook;

struct gd_autograd_meta {
    bool requires_grad;   /* for leaves, the user's flag */
    bool retains_grad;    /* non-leaf whose grad is kept (retain_grad) */
    bool is_view_of_leaf; /* a view of a leaf that requires grad */
    bool is_view;         /* a view of a tensor that requires grad */
    gd_tensor *grad;      /* leaf: the accumulated gradient (owned) */
    gd_node *grad_fn;     /* owned; NULL for leaves */
    gd_node *accumulator; /* borrowed: the leaf's AccumulateGrad while it lives */
    gd_hook *hooks;       /* leaf hooks (a non-leaf's live on its grad_fn) */
};

/* Everything an op needs besides its input tensors. */
typedef struct gd_op_args {
    gd_dtype dtype;            /* binary/where: the common dtype; to: the target */
    int ndims;                 /* entries of dims (-1: none given) */
    int64_t dims[GD_MAX_DIMS]; /* reduced dims, a shape, a permutation */
    int64_t strides[GD_MAX_DIMS];
    int64_t i[4]; /* transpose (d0, d1); select (dim, index); slice (dim, start, stop,
                     step); cat dim */
    bool keepdim;
    double param; /* var/std correction, norm p */
    bool has_min, has_max;
    double min, max;  /* clamp bounds */
    const char *name; /* grad_fn name when not the op's default, or NULL */
    /* > 0: only the first n_edges inputs get gradients (a Python number
     * operand is no input of PyTorch's node) */
    int n_edges;
} gd_op_args;

/* An args struct with nothing set. */
void gd_op_args_init(gd_op_args *args);

/* Grad mode (thread-local, on by default): no_grad/enable_grad. */
bool gd_grad_enabled(void);
void gd_set_grad_enabled(bool enabled);

/* Does this tensor take part in differentiation? */
bool gd_requires_grad(const gd_tensor *t);
bool gd_is_leaf(const gd_tensor *t);
/* requires_grad_(flag) with PyTorch's checks (floating leaves only). */
gd_status gd_set_requires_grad(gd_tensor *t, bool flag);
gd_status gd_autograd_meta_get(gd_tensor *t, gd_autograd_meta **out); /* creates */
void gd_autograd_meta_free(gd_autograd_meta *meta);

/* Runs `op` on `inputs` (outs[0] the result; outs[1] the indices of max/min
 * along a dim) and records its node when gradients are needed. Inputs may be
 * borrowed stack tensors only when none of them requires grad. */
gd_status gd_call(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args,
                  gd_tensor **outs);
/* In place: dst = op(dst, inputs...) with PyTorch's checks for leaves, and
 * dst's history moved onto the new node. `n` counts dst as input 0. */
gd_status gd_call_(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args);
/* PyTorch refuses writes into a tensor whose elements share memory (an
 * expanded tensor): the result would depend on the order of the writes. */
gd_status gd_check_writable(const gd_tensor *t);
/* Marks an in-place write through t (no-op for `.data` aliases). */
static inline void gd_bump_version(gd_tensor *t) {
    if (!t->untracked_version)
        t->storage->version++;
}

/* The node behind a non-leaf tensor (borrowed), or NULL. */
gd_node *gd_grad_fn(const gd_tensor *t);
/* A leaf's AccumulateGrad node (new reference), created on first use. */
gd_status gd_grad_accumulator(gd_tensor *leaf, gd_node **out);
void gd_node_incref(gd_node *node);
void gd_node_decref(gd_node *node);
const char *gd_node_name(const gd_node *node);
int gd_node_num_inputs(const gd_node *node);
gd_node *gd_node_next(const gd_node *node, int i); /* borrowed, may be NULL */
gd_tensor *gd_node_variable(const gd_node *node);  /* AccumulateGrad's leaf */
/* Non-leaf hooks and retained gradients live on the grad_fn. */
gd_tensor *gd_node_retained_grad(const gd_node *node); /* borrowed */
void gd_node_retain_grad(gd_node *node); /* keep the output's grad from now on */
void gd_node_set_retained_grad(gd_node *node, gd_tensor *grad); /* takes a ref */
gd_status gd_add_hook(gd_tensor *t, gd_hook_fn fn, gd_release_fn release, void *ctx,
                      int64_t *id);
void gd_remove_hook(gd_tensor *t, int64_t id);
/* Frees one hook already unlinked from its list (runs its release). */
void gd_remove_hook_node(gd_hook *h);

/* The leaf's gradient (borrowed, may be NULL); setting takes a reference. */
gd_tensor *gd_get_grad(const gd_tensor *t);
gd_status gd_set_grad(gd_tensor *t, gd_tensor *grad);

/* backward() from `n` roots with their seed gradients (NULL: ones for a
 * one-element root). With `inputs` (n_inputs > 0) gradients are returned in
 * grads_out (new references, NULL when unused) instead of accumulated. */
gd_status gd_backward(int n, gd_tensor *const *roots, gd_tensor *const *seeds,
                      bool retain_graph, int n_inputs, gd_tensor *const *inputs,
                      bool allow_unused, gd_tensor **grads_out);

/* detach_: t stops tracking history and becomes a leaf. */
gd_status gd_detach_(gd_tensor *t);
/* t.data = src: t takes src's storage, shape and dtype, keeping its autograd. */
gd_status gd_set_data(gd_tensor *t, const gd_tensor *src);

/* ---- random numbers: PyTorch's CPU streams ------------------------------ */

typedef struct gd_generator {
    uint32_t state[624]; /* MT19937 */
    int index;
    uint64_t seed;
    bool has_next_double_normal;
    double next_double_normal;
    bool has_next_float_normal;
    float next_float_normal;
} gd_generator;

gd_generator *gd_default_generator(void); /* process-wide, borrowed */
void gd_generator_seed(gd_generator *gen, uint64_t seed);
uint32_t gd_random32(gd_generator *gen);
uint64_t gd_random64(gd_generator *gen);
/* Fill contiguous buffers in the order PyTorch draws for a contiguous tensor
 * of n elements (float32 or float64). */
void gd_fill_uniform(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                     double from, double to);
void gd_fill_normal(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                    double mean, double std);
/* The per-element path PyTorch takes for non-contiguous tensors. */
void gd_fill_normal_serial(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                           double mean, double std);
/* Integers in [low, high) for any dtype; PyTorch's checks. */
gd_status gd_fill_randint(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                          int64_t low, int64_t high);
/* Tensor.random_() with no bounds on an int64 tensor. */
void gd_fill_random_int64(gd_generator *gen, int64_t *out, int64_t n);
/* randperm(n) into out[0..n). */
void gd_randperm(gd_generator *gen, int64_t *out, int64_t n);

#endif /* GD_H */
