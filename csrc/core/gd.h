/*
 * gd.h - the gdlite core: strided tensors, kernels, reverse-mode autograd and
 * PyTorch's random generator, in C11.
 *
 * The core never includes Python or NumPy headers; the binding in csrc/py is
 * its only user inside gdlite, and the plain-C tests use it directly.
 *
 * A worked example: y = (w * x).sum() and dy/dw, every error checked
 * (tests/c/test_core.c runs it).
 *
 *     int64_t shape[1] = {3};
 *     gd_tensor *w = NULL, *x = NULL, *wx = NULL, *y = NULL;
 *     gd_op_args args;
 *     gd_status st;
 *     if ((st = gd_full(GD_FLOAT32, 1, shape, 2.0, &w)) ||  // w = [2, 2, 2]
 *         (st = gd_full(GD_FLOAT32, 1, shape, 3.0, &x)) ||  // x = [3, 3, 3]
 *         (st = gd_set_requires_grad(w, true)))             // a leaf to learn
 *         goto done;
 *     gd_tensor *in[2] = {w, x};
 *     gd_op_args_init(&args);
 *     args.dtype = GD_FLOAT32;                 // a binary op's common dtype
 *     if ((st = gd_call(GD_OP_MUL, 2, in, &args, &wx)))  // runs and records
 *         goto done;
 *     gd_op_args_init(&args);                  // ndims -1: every dim
 *     if ((st = gd_call(GD_OP_SUM, 1, &wx, &args, &y)) ||
 *         (st = gd_backward(1, &y, NULL, false, false, 0, NULL, false, NULL)))
 *         goto done;
 *     double dw0 = gd_get_flat(gd_get_grad(w), 0);  // 3.0; the grad is borrowed
 *   done:
 *     if (st)
 *         fprintf(stderr, "%s\n", gd_last_error());  // the failing call's message
 *     gd_tensor_decref(y);                     // every new reference released;
 *     gd_tensor_decref(wx);                    // NULL is allowed
 *     gd_tensor_decref(x);
 *     gd_tensor_decref(w);
 *
 * Where things are: ops.def (the op table), decompositions.def (PyTorch's
 * node names for some calls), dtypes.def (the dtype table); ARCHITECTURE.md
 * at the repository root maps the files and the path of one call.
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

/* NumPy's own limit, so every tensor converts to an array and back. Arrays of
 * this size in per-op structures are touched only up to the actual ndim. */
#define GD_MAX_DIMS 64
/* A set of dims as one bit each: no per-op array to clear. */
typedef uint64_t gd_dim_set;
#define GD_DIM_BIT(d) ((gd_dim_set)1 << (d))
_Static_assert(GD_MAX_DIMS <= 64, "a gd_dim_set holds one bit per dim");

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

/* The dtypes of dtypes.def. */
typedef enum {
#define GD_DTYPE(id, ctype, name, legacy, scalar, cxx, kind, numpy) GD_##id,
#include "dtypes.def"
#undef GD_DTYPE
    GD_DTYPE_COUNT
} gd_dtype;

typedef enum {
    GD_DTYPE_KIND_BOOL,
    GD_DTYPE_KIND_UNSIGNED,
    GD_DTYPE_KIND_SIGNED,
    GD_DTYPE_KIND_FLOATING,
} gd_dtype_kind;

size_t gd_dtype_size(gd_dtype dtype);
const char *gd_dtype_name(gd_dtype dtype); /* "float32", "int64", ... */
/* The legacy tensor type name: "FloatTensor", "LongTensor", ... */
const char *gd_dtype_legacy_name(gd_dtype dtype);
/* PyTorch's scalar type name used in its messages: "Float", "Long", ... */
const char *gd_dtype_scalar_name(gd_dtype dtype);
/* The C++ type name in some of PyTorch's messages: "float", "long int", ... */
const char *gd_dtype_cxx_name(gd_dtype dtype);
/* NumPy's type string: "f4", "i8", "b1", ... */
const char *gd_dtype_numpy_name(gd_dtype dtype);
gd_dtype_kind gd_dtype_kind_of(gd_dtype dtype);
bool gd_dtype_is_floating(gd_dtype dtype);
bool gd_dtype_is_integral(gd_dtype dtype, bool include_bool);
/* PyTorch's promote_types for two tensor dtypes of the same priority. */
gd_dtype gd_promote_types(gd_dtype a, gd_dtype b);
/* The default floating dtype (torch.get/set_default_dtype): what integer
 * inputs of floating ops (true division, exp) and Python floats become.
 * Process-wide, as in PyTorch; float32 unless set. */
gd_dtype gd_default_float(void);
gd_status gd_set_default_float(gd_dtype dtype);

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

typedef struct gd_autograd_meta gd_autograd_meta; /* see gd_autograd.h */

/* How a view was made, where in-place changes to it are refused. */
typedef enum {
    GD_VIEW_DEFAULT,      /* by a view op under grad mode */
    GD_VIEW_NO_GRAD,      /* with grad mode off */
    GD_VIEW_MULTI_OUTPUT, /* one of several views a function returned (unbind) */
} gd_view_meta;

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
    /* Made by a view op (gd_as_strided and the views built on it), sharing its
     * base's data; aliases (gd_alias: detach, .data) are not views. */
    bool is_view;
    /* Views made by view ops (gd_call) know their base, as PyTorch's `_base`:
     * the root tensor whose data they share (owned; never itself such a
     * view), the storage version their grad_fn reflects (an in-place write
     * through the base or another view makes it stale: gd_view_refresh), and
     * how they were made (PyTorch's CreationMeta: grad mode off, or one of
     * several views a function returned, with its output number; views of
     * such views inherit it). NULL for other tensors. */
    struct gd_tensor *view_base;
    int64_t view_version;
    gd_view_meta view_meta;
    int64_t view_output;
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
/* The same with the given strides, which must order `shape`'s dims densely
 * (as the layouts gd_result_strides and gd_preserved_strides compute). */
gd_status gd_empty_dense(gd_dtype dtype, int ndim, const int64_t *shape,
                         const int64_t *strides, gd_tensor **out);
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
/* PyTorch's is_non_overlapping_and_dense: the elements fill numel
 * consecutive slots from the data pointer, in some order of the dims. */
bool gd_is_non_overlapping_dense(const gd_tensor *t);
/* PyTorch's preserve_format (clone, to, *_like): t's own strides when it is
 * non-overlapping and dense, else dense strides in the order of t's. */
void gd_preserved_strides(const gd_tensor *t, int64_t *strides);
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
#define GD_OP(id, name, kind, arity, edges, saves, grad_fn, backward) GD_OP_##id,
#include "ops.def"
#undef GD_OP
    GD_OP_COUNT
} gd_op;

/* The kernel family that runs an op (the `kind` column of ops.def). */
typedef enum {
    GD_KIND_BINARY,       /* elementwise a op b in the common dtype: gd_binary */
    GD_KIND_BINARY_BOOL,  /* the same with a bool result (comparisons, logic) */
    GD_KIND_UNARY,        /* elementwise f(a): gd_unary */
    GD_KIND_UNARY_BOOL,   /* the same with a bool result (logical_not) */
    GD_KIND_REDUCE,       /* over dims: gd_reduce */
    GD_KIND_REDUCE_INDEX, /* values and indices along one dim: gd_reduce_index */
    GD_KIND_SCAN,         /* cumulative along one dim: gd_scan */
    GD_KIND_VIEW,         /* a view sharing the input's storage */
    GD_KIND_OTHER,        /* its own kernel (matmul, where, cat, ...) */
    GD_KIND_NODE,         /* a graph node only (AccumulateGrad) */
} gd_op_kind;

/* What a node keeps for its rule (the `saves` column, combined with |). */
enum {
    GD_SAVE_NOTHING = 0,
    GD_SAVE_SELF = 1 << 0,    /* input 0 */
    GD_SAVE_OTHER = 1 << 1,   /* input 1 */
    GD_SAVE_RESULT = 1 << 2,  /* output 0 */
    GD_SAVE_INDICES = 1 << 3, /* output 1: the indices of max/min along a dim */
    GD_SAVE_INPUT2 = 1 << 4,  /* input 2 (scatter_add's index, a loss's weight) */
    GD_SAVE_INPUT3 = 1
        << 5, /* input 3 (binary_cross_entropy_with_logits' pos_weight) */
    GD_SAVE_AS_OP = 1 << 15, /* decompositions.def: what the op's row says */
};

const char *gd_op_name(gd_op op);         /* "add" */
const char *gd_op_grad_fn_name(gd_op op); /* "AddBackward0" */
int gd_op_arity(gd_op op);
int gd_op_edges(gd_op op); /* inputs that get graph edges, from the first; 0: all */
gd_op_kind gd_op_kind_of(gd_op op);
unsigned gd_op_saves(gd_op op); /* GD_SAVE_* flags */
/* A bool result whatever the inputs' dtype (the _BOOL kinds). */
bool gd_op_returns_bool(gd_op op);

/* The decompositions PyTorch records for some calls, named differently from
 * the op's own node (decompositions.def); GD_DECOMP_DEFAULT: the op's own. */
typedef enum {
    GD_DECOMP_DEFAULT = 0,
#define GD_DECOMP(id, op, grad_fn, edges, saves) GD_DECOMP_##id,
#include "decompositions.def"
#undef GD_DECOMP
    GD_DECOMP_COUNT
} gd_decomposition;

const char *gd_decomposition_name(gd_decomposition name); /* "RsubBackward1" */
gd_op gd_decomposition_op(gd_decomposition name);         /* GD_OP_SUB */
/* How many of the node's inputs get edges (0: all). */
int gd_decomposition_edges(gd_decomposition name);
/* What its node saves (GD_SAVE_* flags; GD_SAVE_AS_OP: the op's own). */
unsigned gd_decomposition_saves(gd_decomposition name);

/* ---- elementwise -------------------------------------------------------- */

/* Copies and converts: a new contiguous tensor of `dtype`. */
gd_status gd_to_dtype(const gd_tensor *t, gd_dtype dtype, gd_tensor **out);
gd_status gd_contiguous(const gd_tensor *t, gd_tensor **out); /* new ref, maybe t */
gd_status gd_clone(const gd_tensor *t, gd_tensor **out);
/* PyTorch's memory formats, as clone, to and the *_like functions take
 * them (the order is the clone op's args.i[0]). */
typedef enum {
    GD_FORMAT_PRESERVE,
    GD_FORMAT_CONTIGUOUS,
    GD_FORMAT_CHANNELS_LAST,    /* rank 4: N, H, W, C in memory */
    GD_FORMAT_CHANNELS_LAST_3D, /* rank 5: N, D, H, W, C */
} gd_memory_format;
/* The dense strides of a new tensor shaped as t in `format` (PRESERVE:
 * gd_preserved_strides); a channels-last format of another rank is refused
 * with PyTorch's message. */
gd_status gd_format_strides(gd_memory_format format, const gd_tensor *t,
                            int64_t *strides);
/* A copy of t in `dtype` with `strides`, a dense order of its dims. */
gd_status gd_copy_strided(const gd_tensor *t, gd_dtype dtype, const int64_t *strides,
                          gd_tensor **out);
/* A copy of t in `dtype` laid out in `format`, as the clone and to ops make
 * it. */
gd_status gd_clone_as(const gd_tensor *t, gd_dtype dtype, gd_memory_format format,
                      gd_tensor **out);
/* dst[...] = src broadcast to dst's shape, converting dtype. */
gd_status gd_copy_(gd_tensor *dst, const gd_tensor *src);
/* Sets every element; NaN or an out-of-range value for an integer dtype is
 * refused with PyTorch's message (see gd_check_scalar). */
gd_status gd_fill_(gd_tensor *dst, double value);
/* Whether `value` converts to `dtype` (integers: not NaN, within range). */
gd_status gd_check_scalar(gd_dtype dtype, double value);
/* The same for a value known to come from an integer (which may wrap into
 * uint8 from -255, as in PyTorch) or from a float (which may not);
 * gd_check_scalar takes a whole number for an integer. */
gd_status gd_check_scalar_of(gd_dtype dtype, double value, bool integral);

/* Binary op on `common` (the promoted dtype); inputs are converted as needed
 * and broadcast. Comparisons give bool; true division of integers gives
 * float32. */
gd_status gd_binary(gd_op op, const gd_tensor *a, const gd_tensor *b, gd_dtype common,
                    gd_tensor **out);
/* The same where operand `number` (1 or 2) was a Python number and ATen
 * lays the result out by its own rule: tensor ** number takes the tensor's
 * layout alone (a unary op), number ** tensor is contiguous. */
gd_status gd_binary_number(gd_op op, const gd_tensor *a, const gd_tensor *b, int number,
                           gd_dtype common, gd_tensor **out);
/* In place: dst = dst op b, computed in `common` and stored in dst's dtype. */
gd_status gd_binary_(gd_op op, gd_tensor *dst, const gd_tensor *b, gd_dtype common);
/* a + alpha * b (add, sub with -alpha: PyTorch's alpha=), with one rounding
 * for floating dtypes as ATen's fused multiply-add gives; integers wrap. */
gd_status gd_add_scaled(gd_op op, const gd_tensor *a, const gd_tensor *b, double alpha,
                        gd_dtype common, gd_tensor **out);
gd_status gd_add_scaled_(gd_op op, gd_tensor *dst, const gd_tensor *b, double alpha,
                         gd_dtype common);
/* Unary math; integer inputs of floating functions give float32. */
gd_status gd_unary(gd_op op, const gd_tensor *a, gd_tensor **out);
gd_status gd_unary_(gd_op op, gd_tensor *a);
/* number / t for floating t, in one pass with PyTorch's two roundings:
 * reciprocal(t), then times the number, both in t's dtype (the forward of
 * Tensor.__rtruediv__ when no graph is recorded). */
gd_status gd_number_over(double number, const gd_tensor *t, gd_tensor **out);
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

/* ---- scans --------------------------------------------------------------- */

/* Cumulative op (GD_OP_CUMSUM, GD_OP_CUMPROD) along `dim`, from the end when `reverse`.
 * Integer and bool inputs give int64, as in PyTorch. */
gd_status gd_scan(gd_op op, const gd_tensor *a, int64_t dim, bool reverse,
                  gd_tensor **out);
/* The same with the result in `dtype` (not bool): the input is converted
 * first, as PyTorch's dtype= does; cumprod (GD_OP_CUMPROD) only forward. */
gd_status gd_scan_as(gd_op op, const gd_tensor *a, int64_t dim, bool reverse,
                     gd_dtype dtype, gd_tensor **out);

/* ---- linear algebra ----------------------------------------------------- */

/* torch.matmul: 1-D/2-D/batched with broadcasting of batch dims, in
 * PyTorch's steps (dot, mv, mm, a folded batch or bmm: gd_matmul_plan in
 * internal.h, decided by the operands' shapes, strides and requires_grad). */
gd_status gd_matmul(const gd_tensor *a, const gd_tensor *b, gd_tensor **out);
/* torch.addmm: beta * self + alpha * (mat1 @ mat2), self broadcast to the
 * result; with beta == 0 self's values are not read. */
gd_status gd_addmm(const gd_tensor *self, const gd_tensor *mat1, const gd_tensor *mat2,
                   double beta, double alpha, gd_tensor **out);
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

/* ---- gathering along dims (kernels_index.c) ------------------------------ */

/* PyTorch's index_select: index int32/int64, 0-d or 1-d, in [0, size). */
gd_status gd_index_select(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                          gd_tensor **out);
/* a.index_add_(dim, index, src): the backward of index_select. */
gd_status gd_index_add_dim_(gd_tensor *a, int64_t dim, const gd_tensor *index,
                            const gd_tensor *src);
/* PyTorch's gather: out[i][j] = a[index[i][j]][j] (dim 0), index int32/int64 of
 * a's dimensionality, no larger than a apart from dim. */
gd_status gd_gather(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                    gd_tensor **out);
/* a[index[i][j]][j] += src[i][j] (dim 0); src of a's dtype. */
gd_status gd_scatter_add_(gd_tensor *a, int64_t dim, const gd_tensor *index,
                          const gd_tensor *src);
gd_status gd_scatter_add(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                         const gd_tensor *src, gd_tensor **out);
/* Advanced indexing: `k` index rows on the increasing `dims` of `a`, already
 * broadcast together. For k == 1, `ix` has the index shape; for k > 1 it is
 * the k rows stacked, shape [k, *index shape]. Negative entries count from the
 * end. The result has the index shape in place of the indexed dims when they
 * are adjacent, else in front (PyTorch's and NumPy's rule). */
gd_status gd_index(const gd_tensor *a, int k, const int64_t *dims, const gd_tensor *ix,
                   gd_tensor **out);
/* a[indices] = values (or += with accumulate), values broadcast to the
 * indexing result's shape and converted to a's dtype. */
gd_status gd_index_put_(gd_tensor *a, int k, const int64_t *dims, const gd_tensor *ix,
                        const gd_tensor *values, bool accumulate);
/* The positions of a mask's true elements as index rows for gd_index: int64
 * [nnz] for a 1-d mask, [ndim, nnz] otherwise. */
gd_status gd_mask_indices(const gd_tensor *mask, gd_tensor **out);

/* ---- counting and set ops (kernels_count.c), none differentiable -------- */

/* bincount: for a 1-d tensor of non-negative integers, how often each value
 * occurs (int64), or the sum of `weights` (NULL for none; 1-d, the input's
 * length) at each value: float32 for float32 weights, else float64. Length
 * max(max + 1, minlength); an empty input gives int64 zeros of minlength. */
gd_status gd_bincount(const gd_tensor *a, const gd_tensor *weights, int64_t minlength,
                      gd_tensor **out);
/* histc: counts of `a`'s elements in `bins` equal bins over [min, max] (the
 * data's extrema when min == max), in a's floating dtype. */
gd_status gd_histc(const gd_tensor *a, int64_t bins, double min, double max,
                   gd_tensor **out);
/* nonzero: the coordinates of a's nonzero elements (NaN counts), int64
 * [nnz, ndim], in row-major order. */
gd_status gd_nonzero(const gd_tensor *a, gd_tensor **out);
/* unique over a's elements: the distinct values (sorted, NaNs last and each
 * its own value; or the runs of equal neighbours when `consecutive`), the
 * inverse (int64, a's shape: each element's value's position) and the counts
 * (int64). All three are new references, or NULL on error. */
gd_status gd_unique(const gd_tensor *a, bool consecutive, gd_tensor **values,
                    gd_tensor **inverse, gd_tensor **counts);

/* ---- neural-network functions (kernels_nn.c) ----------------------------- */

/* The `reduction` of a loss, numbered as PyTorch numbers it. */
typedef enum {
    GD_REDUCTION_NONE = 0,
    GD_REDUCTION_MEAN = 1,
    GD_REDUCTION_SUM = 2,
} gd_reduction;

/* softmax (or log_softmax) along `dim`, max-subtracted, float32/float64, in
 * PyTorch's order of operations (its CPU kernels' lanes and exp/log). */
gd_status gd_softmax(const gd_tensor *a, int64_t dim, bool log, gd_tensor **out);
/* Their gradients from the saved result y: softmax y * (g - sum(g * y)),
 * log_softmax g - exp(y) * sum(g), sums along dim. */
gd_status gd_softmax_backward(const gd_tensor *g, const gd_tensor *y, int64_t dim,
                              bool log, gd_tensor **out);
/* nll_loss of input (C), (N, C) or (N, C, d1, ...) log-probabilities and int64
 * (or uint8) class indices; weight (C) may be NULL. A mean divides by the
 * total weight of the samples not ignored. */
gd_status gd_nll_loss(const gd_tensor *input, const gd_tensor *target,
                      const gd_tensor *weight, int reduction, int64_t ignore_index,
                      gd_tensor **out);
/* Its gradient for an input of `ndim`/`shape`/`dtype`. */
gd_status gd_nll_loss_backward(const gd_tensor *g, int ndim, const int64_t *shape,
                               gd_dtype dtype, const gd_tensor *target,
                               const gd_tensor *weight, int reduction,
                               int64_t ignore_index, gd_tensor **out);
/* Elementwise losses of equal-shaped a (input) and b (target), reduced:
 * GD_OP_MSE_LOSS, GD_OP_HUBER_LOSS (param: delta), GD_OP_SMOOTH_L1_LOSS
 * (param: beta > 0). */
gd_status gd_pointwise_loss(gd_op op, const gd_tensor *a, const gd_tensor *b,
                            int reduction, double param, gd_tensor **out);
/* d loss / d a (target: false) or d loss / d b (target: true). */
gd_status gd_pointwise_loss_backward(gd_op op, const gd_tensor *g, const gd_tensor *a,
                                     const gd_tensor *b, int reduction, double param,
                                     bool target, gd_tensor **out);
/* binary_cross_entropy of probabilities x and targets y, weight may be NULL;
 * logs are clamped at -100 as in PyTorch. */
gd_status gd_binary_cross_entropy(const gd_tensor *x, const gd_tensor *y,
                                  const gd_tensor *weight, int reduction,
                                  gd_tensor **out);
/* binary_cross_entropy_with_logits: stable in the logits x; weight and
 * pos_weight may be NULL. */
gd_status gd_bce_with_logits(const gd_tensor *x, const gd_tensor *y,
                             const gd_tensor *weight, const gd_tensor *pos_weight,
                             int reduction, gd_tensor **out);

/* ---- sequences (arange, linspace, logspace) ------------------------------ */

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
/* Fills a contiguous buffer of `dtype` with logspace values (base ** linspace) as
 * PyTorch computes them. */
void gd_fill_logspace(gd_dtype dtype, void *out, int64_t n, double start, double end,
                      double base);

/* Autograd (autograd.c, record.c, views.c, hooks.c, engine.c): its own
 * header, part of this manual. */
#include "gd_autograd.h"

/* ---- threads --------------------------------------------------------------- */

/*
 * The core keeps no locks: its caller serialises calls (the Python binding
 * holds the GIL). Long numeric loops may still let other threads run: the
 * embedder installs `unlock`, which the core calls before a loop over at least
 * GD_UNLOCK_MIN_WORK elements, and `relock`, called after it with what unlock
 * returned. Between the two the core touches only the elements of tensors its
 * caller owns for the whole call: no reference counts, no allocation, no graph,
 * no generator. Another thread may meanwhile give an input new data
 * (gd_set_data), so gd_call and gd_call_ run a kernel that may unlock on
 * private aliases of their inputs (headers of their own, holding the same
 * storages), and the elementwise loops hold their operands' storages while
 * unlocked: what a kernel reads stays allocated and consistent. Unset (the
 * default), nothing is called.
 */
#define GD_UNLOCK_MIN_WORK 65536
typedef void *(*gd_unlock_fn)(void);
typedef void (*gd_relock_fn)(void *state);
void gd_set_loop_unlock(gd_unlock_fn unlock, gd_relock_fn relock);

/* ---- Intel MKL ------------------------------------------------------------ */

/*
 * PyTorch's x86-64 CPU build computes exp, log, tanh, sin, cos, tan and sqrt
 * with Intel MKL's vector math, and matrix, matrix-vector and dot products
 * with MKL's BLAS. Their results are not correctly rounded and the
 * algorithms are unpublished, so PyTorch's bits come only from the same
 * routines. gd_mkl_load opens MKL's single dynamic library (libmkl_rt) at
 * `path` and, from then on, those kernels call it: running on PyTorch's
 * default thread count (gd_torch_threads), on OpenMP threads as PyTorch's
 * MKL does (the dot products' sums depend on it), or on one thread when
 * GNU libgomp is missing. Without MKL the kernels
 * compute their own results: the math correctly rounded, the products
 * through OpenBLAS. Load once, before any other thread calls the core.
 * gd_mkl_enable(false) switches back to the core's own kernels (tests
 * compare the two); it is not thread-safe either.
 */
gd_status gd_mkl_load(const char *path);
bool gd_mkl_loaded(void);
bool gd_mkl_active(void); /* loaded and enabled */
void gd_mkl_enable(bool enable);

/* ---- random numbers: PyTorch's CPU streams ------------------------------ */

/*
 * A generator is PyTorch's CPU generator: an MT19937 engine kept exactly as
 * torch keeps it (`left` draws until the state regenerates, `next` the index
 * of the next word), plus the cached second half of a Box-Muller pair.
 * Generators are refcounted; the process-wide default generator is one of
 * them and is never freed. A generator is not thread-safe: callers serialise
 * draws (the binding draws with the GIL held).
 */
#define GD_MT_STATE_N 624
/* torch's seed for a new torch.Generator() (its default_rng_seed_val). */
#define GD_GENERATOR_DEFAULT_SEED 67280421310721ull
/* Bytes of torch's CPU generator state (torch.Generator.get_state()). */
#define GD_GENERATOR_STATE_SIZE 5056

typedef struct gd_generator {
    int64_t refcount;
    uint64_t seed; /* the full seed, as initial_seed() reports it */
    int left;      /* draws left before the state regenerates, plus one */
    bool seeded;
    uint32_t next; /* index into state of the next word */
    uint32_t state[GD_MT_STATE_N];
    bool has_next_double_normal;
    double next_double_normal;
    bool has_next_float_normal; /* kept for torch's state format only */
    float next_float_normal;
} gd_generator;

/* A new generator seeded with `seed`, refcount 1. */
gd_status gd_generator_new(uint64_t seed, gd_generator **out);
void gd_generator_incref(gd_generator *gen);
void gd_generator_decref(gd_generator *gen); /* NULL is allowed */
/* The process-wide generator (borrowed; never freed), seeded from
 * /dev/urandom on first use as torch's default generator is. */
gd_generator *gd_default_generator(void);
/* manual_seed: restarts the stream and drops the cached normal. */
void gd_generator_seed(gd_generator *gen, uint64_t seed);
/* A nondeterministic 64-bit seed (/dev/urandom, else the clock). */
uint64_t gd_nondeterministic_seed(void);
/* dst takes src's whole state (engine, seed and cached normals). */
void gd_generator_copy_state(gd_generator *dst, const gd_generator *src);
/* torch's state bytes (its CPUGeneratorImplState, little-endian x86-64
 * layout, padding zeroed) and back. set_state checks the size and torch's
 * validity rules and leaves gen untouched on error. */
void gd_generator_get_state(const gd_generator *gen,
                            uint8_t out[GD_GENERATOR_STATE_SIZE]);
gd_status gd_generator_set_state(gd_generator *gen, const uint8_t *state,
                                 int64_t nbytes);
uint32_t gd_random32(gd_generator *gen);
uint64_t gd_random64(gd_generator *gen);
/* Fill contiguous buffers in the order PyTorch draws for a contiguous tensor
 * of n elements (float32 or float64). Bounds are checked by the caller
 * (gd_check_uniform_bounds, gd_check_normal_std). */
void gd_fill_uniform(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                     double from, double to);
void gd_fill_normal(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                    double mean, double std);
/* The per-element path PyTorch takes for non-contiguous tensors. */
void gd_fill_normal_serial(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                           double mean, double std);
/* uniform_'s checks for a tensor of `dtype`, with PyTorch's messages;
 * clamps the bounds into the dtype's finite range as PyTorch does. */
gd_status gd_check_uniform_bounds(gd_dtype dtype, double *from, double *to);
/* normal's check of a number std (NaN is refused). */
gd_status gd_check_normal_std(double std);
/* Tensor.random_(from, to) (and randint) for any dtype, with PyTorch's
 * checks and its forms without `to` (has_to false: up to the dtype's largest
 * integer; from == INT64_MIN too: the full 64-bit range). Bounds beyond what
 * a floating dtype holds exactly are drawn anyway, as PyTorch does, and
 * reported in *warn (may be NULL): bit 1 for `from`, bit 2 for `to - 1`
 * (PyTorch warns). Draws nothing when n == 0. */
#define GD_RANDOM_WARN_FROM 1
#define GD_RANDOM_WARN_TO 2
gd_status gd_fill_random_from_to(gd_generator *gen, gd_dtype dtype, void *out,
                                 int64_t n, int64_t from, bool has_to, int64_t to,
                                 int *warn);
/* Tensor.random_() without bounds, any dtype: [0, 2^mantissa] for floating,
 * [0, max] for integers, 0/1 for bool. */
gd_status gd_fill_random(gd_generator *gen, gd_dtype dtype, void *out, int64_t n);
/* randperm(n) into out[0..n). */
void gd_randperm(gd_generator *gen, int64_t *out, int64_t n);

/* Optimizer steps (optim.c): their own header, part of this manual. */
#include "gd_optim.h"

#endif /* GD_H */
