/* Gathering and scattering along dims: index_select, gather, scatter_add and
 * advanced indexing (several broadcast index tensors), with PyTorch's checks.
 *
 * Advanced indexing reads a[pre..., ix_0[b], .., ix_k[b], post...] for each
 * b of the broadcast index shape: the indexed dims are replaced by the index
 * shape where they are adjacent, else the index shape comes first. Every
 * kernel walks [pre, b, post] with the post block coalesced, so indexing
 * rows of a contiguous tensor is one memcpy per row. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { MODE_READ, MODE_WRITE, MODE_ADD, MODE_FILL } io_mode;

/* dst[i] += src[i] for n elements of `dtype` (bool: logical or). */
static void add_run(gd_dtype dtype, char *dst, int64_t dstep, const char *src,
                    int64_t sstep, int64_t n) {
#define ADD_LOOP(T)                                                                    \
    for (int64_t i = 0; i < n; i++)                                                    \
        *(T *)(dst + i * dstep) += *(const T *)(src + i * sstep);                      \
    break;
    switch (dtype) {
    case GD_BOOL:
        for (int64_t i = 0; i < n; i++)
            *(bool *)(dst + i * dstep) |= *(const bool *)(src + i * sstep);
        break;
    case GD_UINT8:
        ADD_LOOP(uint8_t)
    case GD_INT32:
        ADD_LOOP(int32_t)
    case GD_INT64:
        ADD_LOOP(int64_t)
    case GD_FLOAT32:
        ADD_LOOP(float)
    default:
        ADD_LOOP(double)
    }
#undef ADD_LOOP
}

/* BODY(T) with T the unsigned type of `elsize` bytes (8, 4, else 1): an
 * element moves as one word of its size. */
#define BY_ELEMENT_SIZE(elsize, BODY)                                                  \
    do {                                                                               \
        if ((elsize) == 8)                                                             \
            BODY(uint64_t)                                                             \
        else if ((elsize) == 4)                                                        \
            BODY(uint32_t)                                                             \
        else                                                                           \
            BODY(uint8_t)                                                              \
    } while (0)

static inline void copy_elem(char *dst, const char *src, size_t elsize) {
#define COPY_ONE(T) memcpy(dst, src, sizeof(T));
    BY_ELEMENT_SIZE(elsize, COPY_ONE);
#undef COPY_ONE
}

/* Moves n elements between a strided run of `a` and a contiguous run `o`. */
static void move_run(io_mode mode, gd_dtype dtype, size_t elsize, char *a,
                     int64_t astep, char *o, int64_t n) {
    if (mode == MODE_FILL) { /* o is one element */
#define FILL_LOOP(T)                                                                   \
    {                                                                                  \
        T v;                                                                           \
        memcpy(&v, o, sizeof v);                                                       \
        for (int64_t i = 0; i < n; i++)                                                \
            memcpy(a + i * astep, &v, sizeof v);                                       \
    }
        BY_ELEMENT_SIZE(elsize, FILL_LOOP);
#undef FILL_LOOP
        return;
    }
    if (astep == (int64_t)elsize) {
        if (mode == MODE_READ)
            memcpy(o, a, (size_t)n * elsize);
        else if (mode == MODE_WRITE)
            memcpy(a, o, (size_t)n * elsize);
        else
            add_run(dtype, a, astep, o, (int64_t)elsize, n);
        return;
    }
    if (mode == MODE_ADD) {
        add_run(dtype, a, astep, o, (int64_t)elsize, n);
        return;
    }
#define STRIDED_LOOP(T)                                                                \
    for (int64_t i = 0; i < n; i++) {                                                  \
        char *p = a + i * astep, *q = o + (size_t)i * sizeof(T);                       \
        if (mode == MODE_READ)                                                         \
            memcpy(q, p, sizeof(T));                                                   \
        else                                                                           \
            memcpy(p, q, sizeof(T));                                                   \
    }
    BY_ELEMENT_SIZE(elsize, STRIDED_LOOP);
#undef STRIDED_LOOP
}

/* A block of dims of `a` (byte strides), walked against a contiguous buffer. */
typedef struct {
    int nd;
    int64_t shape[GD_MAX_DIMS];
    int64_t strides[GD_MAX_DIMS]; /* bytes */
    int64_t numel;
} block;

/* Drops size-1 dims and merges dims that are contiguous with each other. */
static void block_coalesce(block *b) {
    int n = 0;
    b->numel = 1;
    for (int d = 0; d < b->nd; d++) {
        b->numel *= b->shape[d];
        if (b->shape[d] == 1)
            continue;
        if (n > 0 && b->strides[n - 1] == b->strides[d] * b->shape[d]) {
            b->shape[n - 1] *= b->shape[d];
            b->strides[n - 1] = b->strides[d];
        } else {
            b->shape[n] = b->shape[d];
            b->strides[n] = b->strides[d];
            n++;
        }
    }
    b->nd = n;
}

static void block_move(io_mode mode, gd_dtype dtype, size_t elsize, const block *b,
                       char *a, char *o) {
    if (b->numel == 0)
        return;
    if (b->nd <= 1) {
        move_run(mode, dtype, elsize, a, b->nd ? b->strides[0] : (int64_t)elsize, o,
                 b->numel);
        return;
    }
    int64_t idx[GD_MAX_DIMS], inner = b->shape[b->nd - 1];
    for (int d = 0; d < b->nd - 1; d++) /* runs once per index entry: only nd */
        idx[d] = 0;
    int64_t rows = b->numel / inner;
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = 0;
        for (int d = 0; d < b->nd - 1; d++)
            off += idx[d] * b->strides[d];
        move_run(mode, dtype, elsize, a + off, b->strides[b->nd - 1],
                 mode == MODE_FILL ? o : o + (size_t)(r * inner) * elsize, inner);
        for (int d = b->nd - 2; d >= 0; d--) {
            if (++idx[d] < b->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

/* The layout of an advanced index of `a` by k index rows of B entries each
 * on `dims` (sorted, distinct): pre dims, then the index, then post dims. */
typedef struct {
    block pre, post;
    int64_t B;
    int64_t dstride[GD_MAX_DIMS]; /* byte stride of each indexed dim */
    int64_t dsize[GD_MAX_DIMS];
    int k;
} layout;

static void make_layout(const gd_tensor *a, int k, const int *dims, int64_t B,
                        layout *L) {
    size_t elsize = gd_dtype_size(a->dtype);
    bool adjacent = true;
    gd_dim_set indexed = 0;
    for (int j = 0; j < k; j++) {
        indexed |= GD_DIM_BIT(dims[j]);
        L->dstride[j] = a->strides[dims[j]] * (int64_t)elsize;
        L->dsize[j] = a->shape[dims[j]];
        if (j > 0 && dims[j] != dims[j - 1] + 1)
            adjacent = false;
    }
    L->k = k;
    L->B = B;
    L->pre.nd = L->post.nd = 0;
    for (int d = 0; d < a->ndim; d++) {
        if (indexed & GD_DIM_BIT(d))
            continue;
        block *b = adjacent && k > 0 && d < dims[0] ? &L->pre : &L->post;
        b->shape[b->nd] = a->shape[d];
        b->strides[b->nd] = a->strides[d] * (int64_t)elsize;
        b->nd++;
    }
    /* pre is walked one element at a time; only post is coalesced */
    L->pre.numel = 1;
    for (int d = 0; d < L->pre.nd; d++)
        L->pre.numel *= L->pre.shape[d];
    block_coalesce(&L->post);
}

/* Are all of row[0..n) in [lo, size)? Is any negative? Branch-free, so it
 * vectorises: an index is checked far more often than it fails. */
GD_VECTOR_CLONES
static void rows_in_range(const int64_t *row, int64_t n, int64_t lo, int64_t size,
                          bool *bad, bool *negative) {
    int64_t out = 0, neg = 0;
    for (int64_t b = 0; b < n; b++) {
        out |= (int64_t)(row[b] < lo) | (int64_t)(row[b] >= size);
        neg |= (int64_t)(row[b] < 0);
    }
    *bad |= out != 0;
    *negative |= neg != 0;
}

/* Checks the index rows (k x B, contiguous int64) against the sizes and
 * writes wrapped copies into `wrapped` when some are negative. */
static gd_status check_rows(const layout *L, const int64_t *ix, bool wrap,
                            const char *msg, int64_t **wrapped) {
    *wrapped = NULL;
    bool bad = false, negative = false;
    for (int j = 0; j < L->k; j++)
        rows_in_range(ix + j * L->B, L->B, wrap ? -L->dsize[j] : 0, L->dsize[j], &bad,
                      &negative);
    /* the first bad one, as PyTorch names it */
    for (int64_t b = 0; bad && b < L->B; b++)
        for (int j = 0; j < L->k; j++) {
            int64_t v = ix[j * L->B + b], size = L->dsize[j];
            if (wrap ? (v >= -size && v < size) : (v >= 0 && v < size))
                continue;
            if (msg)
                return gd_error(GD_ERR_INDEX, "%s", msg);
            return gd_error(GD_ERR_INDEX,
                            "index %lld is out of bounds for dimension %d with "
                            "size %lld",
                            (long long)v, j, (long long)size);
        }
    if (!negative)
        return GD_OK;
    int64_t n = L->B * L->k;
    int64_t *w = malloc(sizeof *w * (size_t)(n ? n : 1));
    if (!w)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        int64_t size = L->dsize[i / (L->B ? L->B : 1)];
        w[i] = ix[i] < 0 ? ix[i] + size : ix[i];
    }
    *wrapped = w;
    return GD_OK;
}

/* Reading or writing rows that are each one contiguous run. */
static bool run_rows(io_mode mode, const layout *L, size_t elsize) {
    return (mode == MODE_READ || mode == MODE_WRITE) &&
           (L->post.nd == 0 ||
            (L->post.nd == 1 && L->post.strides[0] == (int64_t)elsize));
}

/* index_walk's entries of one element each over one or two indexed dims
 * and nothing before them (x[mask] = v, x[rows, cols]): a tight loop per
 * element size. */
static void single_moves(io_mode mode, size_t elsize, char *base, const layout *L,
                         const int64_t *ix, char *o) {
    int64_t B = L->B, s0 = L->dstride[0], s1 = L->k > 1 ? L->dstride[1] : 0;
    const int64_t *i0 = ix, *i1 = L->k > 1 ? ix + B : ix; /* s1 == 0 for k == 1 */
#define SINGLE_MOVES(T)                                                                \
    {                                                                                  \
        T v = 0; /* a fill's one value */                                              \
        if (mode == MODE_FILL)                                                         \
            memcpy(&v, o, sizeof v);                                                   \
        for (int64_t b = 0; b < B; b++) {                                              \
            char *at = base + i0[b] * s0 + i1[b] * s1;                                 \
            if (mode == MODE_READ)                                                     \
                memcpy(o + (size_t)b * sizeof(T), at, sizeof(T));                      \
            else if (mode == MODE_FILL)                                                \
                memcpy(at, &v, sizeof(T));                                             \
            else                                                                       \
                memcpy(at, o + (size_t)b * sizeof(T), sizeof(T));                      \
        }                                                                              \
    }
    BY_ELEMENT_SIZE(elsize, SINGLE_MOVES);
#undef SINGLE_MOVES
}

/* Walks [pre, b, post]: `o` is contiguous in that order. */
static void index_walk(io_mode mode, const gd_tensor *a, const layout *L,
                       const int64_t *ix, char *o) {
    size_t elsize = gd_dtype_size(a->dtype);
    char *base = gd_data_ptr(a);
    int64_t pidx[GD_MAX_DIMS];
    for (int d = 0; d < L->pre.nd; d++)
        pidx[d] = 0;
    size_t chunk = mode == MODE_FILL ? 0 : (size_t)L->post.numel * elsize;
    /* How an entry moves, the same for all: one element (a fill writes its
     * one value), one contiguous run (a few words copied as words, as a
     * memcpy call per row costs more; longer ones by one memcpy), or the
     * general walk over post's dims. */
    bool single = L->post.numel == 1 && mode != MODE_ADD;
    if (single && L->pre.numel == 1 && L->k <= 2) {
        single_moves(mode, elsize, base, L, ix, o);
        return;
    }
    bool run = !single && run_rows(mode, L, elsize);
    bool words = run && chunk <= 64 && chunk % 8 == 0;
    for (int64_t p = 0; p < L->pre.numel; p++) {
        int64_t poff = 0;
        for (int d = 0; d < L->pre.nd; d++)
            poff += pidx[d] * L->pre.strides[d];
        for (int64_t b = 0; b < L->B; b++) {
            char *r = base + poff, *q = o + (size_t)(p * L->B + b) * chunk;
            for (int j = 0; j < L->k; j++)
                r += ix[j * L->B + b] * L->dstride[j];
            char *to = mode == MODE_READ ? q : r;
            const char *from = mode == MODE_READ ? r : q;
            if (single)
                copy_elem(to, from, elsize);
            else if (words)
                for (size_t w = 0; w < chunk; w += 8)
                    memcpy(to + w, from + w, 8);
            else if (run)
                memcpy(to, from, chunk);
            else
                block_move(mode, a->dtype, elsize, &L->post, r, q);
        }
        for (int d = L->pre.nd - 1; d >= 0; d--) {
            if (++pidx[d] < L->pre.shape[d])
                break;
            pidx[d] = 0;
        }
    }
}

/* The index rows as a contiguous int64 buffer (new ref, maybe ix itself). */
static gd_status index_rows(const gd_tensor *ix, gd_tensor **out) {
    if (ix->dtype == GD_INT64 && gd_is_contiguous(ix)) {
        gd_tensor_incref((gd_tensor *)ix);
        *out = (gd_tensor *)ix;
        return GD_OK;
    }
    return gd_to_dtype(ix, GD_INT64, out);
}

/* Validates dims and the index rows' shape; fills the result shape. */
static gd_status index_setup(const gd_tensor *a, int k, const int64_t *dims,
                             const gd_tensor *ix, int *wdims, int *ndim_out,
                             int64_t *shape_out, int64_t *B) {
    GD_CHECK(k >= 1 && k <= a->ndim, GD_ERR_INDEX,
             "too many indices for tensor of dimension %d", a->ndim);
    for (int j = 0; j < k; j++) {
        gd_status st = gd_wrap_dim(dims[j], a->ndim, &wdims[j]);
        if (st)
            return st;
        GD_CHECK(j == 0 || wdims[j] > wdims[j - 1], GD_ERR_RUNTIME,
                 "index dims must be increasing");
    }
    GD_CHECK(gd_dtype_is_integral(ix->dtype, false), GD_ERR_INDEX,
             "tensors used as indices must be long, int, byte or bool tensors");
    int bdim = k == 1 ? ix->ndim : ix->ndim - 1; /* k > 1: rows stacked first */
    GD_CHECK(k == 1 || (ix->ndim >= 1 && ix->shape[0] == k), GD_ERR_RUNTIME,
             "expected %d stacked index rows", k);
    const int64_t *bshape = k == 1 ? ix->shape : ix->shape + 1;
    int nd = a->ndim - k + bdim;
    GD_CHECK(nd <= GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS, nd);
    bool adjacent = wdims[k - 1] - wdims[0] == k - 1;
    int n = 0;
    *B = 1;
    for (int d = 0; d < bdim; d++)
        *B *= bshape[d];
    if (!adjacent)
        for (int d = 0; d < bdim; d++)
            shape_out[n++] = bshape[d];
    for (int d = 0; d < a->ndim; d++) {
        if (adjacent && d == wdims[0])
            for (int e = 0; e < bdim; e++)
                shape_out[n++] = bshape[e];
        bool is_indexed = false;
        for (int j = 0; j < k; j++)
            is_indexed |= wdims[j] == d;
        if (!is_indexed)
            shape_out[n++] = a->shape[d];
    }
    *ndim_out = nd;
    return GD_OK;
}

gd_status gd_index(const gd_tensor *a, int k, const int64_t *dims, const gd_tensor *ix,
                   gd_tensor **out) {
    int wdims[GD_MAX_DIMS], nd;
    int64_t shape[GD_MAX_DIMS], B;
    gd_tensor *rows = NULL;
    int64_t *wrapped = NULL;
    layout L;
    gd_status st;
    *out = NULL;
    if ((st = index_setup(a, k, dims, ix, wdims, &nd, shape, &B)) ||
        (st = index_rows(ix, &rows)))
        return st;
    make_layout(a, k, wdims, B, &L);
    const int64_t *r = (const int64_t *)gd_data_ptr(rows);
    if (!(st = check_rows(&L, r, true, NULL, &wrapped)) &&
        !(st = gd_empty(a->dtype, nd, shape, out)))
        index_walk(MODE_READ, a, &L, wrapped ? wrapped : r, gd_data_ptr(*out));
    free(wrapped);
    gd_tensor_decref(rows);
    return st;
}

gd_status gd_index_put_(gd_tensor *a, int k, const int64_t *dims, const gd_tensor *ix,
                        const gd_tensor *values, bool accumulate) {
    int wdims[GD_MAX_DIMS], nd;
    int64_t shape[GD_MAX_DIMS], B;
    gd_tensor *rows = NULL, *expanded = NULL, *vals = NULL;
    int64_t *wrapped = NULL;
    layout L;
    gd_status st;
    if ((st = index_setup(a, k, dims, ix, wdims, &nd, shape, &B)))
        return st;
    if (gd_expand(values, nd, shape, &expanded)) {
        char v[256], s[256];
        gd_format_shape(v, sizeof v, values->ndim, values->shape);
        gd_format_shape(s, sizeof s, nd, shape);
        return gd_error(GD_ERR_RUNTIME,
                        "shape mismatch: value tensor of shape %s cannot be broadcast "
                        "to indexing result of shape %s",
                        v, s);
    }
    if ((st = index_rows(ix, &rows)))
        goto done;
    make_layout(a, k, wdims, B, &L);
    const int64_t *r = (const int64_t *)gd_data_ptr(rows);
    /* one value written everywhere: no copy of it the size of the result */
    bool fill = !accumulate && values->numel == 1;
    if ((st = check_rows(&L, r, true, NULL, &wrapped)) ||
        (st = gd_to_dtype(fill ? values : expanded, a->dtype, &vals)))
        goto done;
    index_walk(fill         ? MODE_FILL
               : accumulate ? MODE_ADD
                            : MODE_WRITE,
               a, &L, wrapped ? wrapped : r, gd_data_ptr(vals));
done:
    free(wrapped);
    gd_tensor_decref(rows);
    gd_tensor_decref(expanded);
    gd_tensor_decref(vals);
    return st;
}

/* ---- index_select ------------------------------------------------------- */

static gd_status check_select_index(const gd_tensor *index) {
    GD_CHECK(index->dtype == GD_INT64 || index->dtype == GD_INT32, GD_ERR_RUNTIME,
             "index_select(): Expected dtype int32 or int64 for index");
    GD_CHECK(index->ndim <= 1, GD_ERR_INDEX,
             "index_select(): Index is supposed to be a vector");
    return GD_OK;
}

/* A tensor seen with at least one dim (PyTorch's ensure_nonempty_dim): itself
 * (a new reference), or a 0-d tensor viewed with shape [1]. */
static gd_status at_least_1d(const gd_tensor *t, gd_tensor **out) {
    if (!t->ndim)
        return gd_view(t, 1, (int64_t[]){1}, out);
    gd_tensor_incref((gd_tensor *)t);
    *out = (gd_tensor *)t;
    return GD_OK;
}

gd_status gd_index_select(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                          gd_tensor **out) {
    gd_tensor *rows = NULL, *av = NULL;
    int64_t *wrapped = NULL;
    int d;
    layout L;
    gd_status st;
    *out = NULL;
    if ((st = check_select_index(index)) ||
        (st = gd_wrap_dim(dim, a->ndim ? a->ndim : 1, &d)))
        return st;
    GD_CHECK(a->ndim || index->numel == 1, GD_ERR_RUNTIME,
             "index_select(): Index to scalar can have only 1 value, got %lld value(s)",
             (long long)index->numel);
    /* A 0-d tensor is indexed as one of shape [1]. */
    if ((st = at_least_1d(a, &av)) || (st = index_rows(index, &rows)))
        goto done;
    int64_t shape[GD_MAX_DIMS];
    memcpy(shape, av->shape, sizeof(int64_t) * (size_t)av->ndim);
    shape[d] = index->numel;
    make_layout(av, 1, &d, index->numel, &L);
    const int64_t *r = (const int64_t *)gd_data_ptr(rows);
    if ((st = check_rows(&L, r, false, "index out of range in self", &wrapped)) ||
        (st = gd_empty(a->dtype, a->ndim ? a->ndim : (index->numel == 1 ? 0 : 1), shape,
                       out)))
        goto done;
    index_walk(MODE_READ, av, &L, r, gd_data_ptr(*out));
done:
    free(wrapped);
    gd_tensor_decref(rows);
    gd_tensor_decref(av);
    return st;
}

gd_status gd_index_add_dim_(gd_tensor *a, int64_t dim, const gd_tensor *index,
                            const gd_tensor *src) {
    gd_tensor *rows = NULL, *av = NULL, *vals = NULL;
    int64_t *wrapped = NULL;
    int d;
    layout L;
    gd_status st;
    if ((st = check_select_index(index)) ||
        (st = gd_wrap_dim(dim, a->ndim ? a->ndim : 1, &d)))
        return st;
    if ((st = at_least_1d(a, &av)) || (st = index_rows(index, &rows)))
        goto done;
    int64_t rest = 1;
    for (int e = 0; e < av->ndim; e++)
        rest *= e == d ? 1 : av->shape[e];
    if (src->numel != rest * index->numel) {
        st = gd_error(GD_ERR_RUNTIME,
                      "index_add_(): source has %lld elements, expected %lld",
                      (long long)src->numel, (long long)(rest * index->numel));
        goto done;
    }
    make_layout(av, 1, &d, index->numel, &L);
    const int64_t *r = (const int64_t *)gd_data_ptr(rows);
    if ((st = check_rows(&L, r, false, "index out of range in self", &wrapped)) ||
        (st = gd_to_dtype(src, a->dtype, &vals)))
        goto done;
    index_walk(MODE_ADD, av, &L, r, gd_data_ptr(vals));
done:
    free(wrapped);
    gd_tensor_decref(rows);
    gd_tensor_decref(av);
    gd_tensor_decref(vals);
    return st;
}

/* ---- gather and scatter_add --------------------------------------------- */

static inline int64_t read_index(const char *p, size_t isize) {
    return isize == 8 ? *(const int64_t *)p : *(const int32_t *)p;
}

/* Walks every element of `index` (any strides), a row along its last dim at
 * a time: a[.., index, ..] (along d) with `other` at the same coordinates
 * (gather's result, scatter's src). Bounds are checked first, so a failed
 * call changes nothing. */
static gd_status along_dim(io_mode mode, gd_tensor *a, int d, const gd_tensor *index,
                           gd_tensor *other) {
    size_t elsize = gd_dtype_size(a->dtype), isize = gd_dtype_size(index->dtype);
    int nd = index->ndim, last = 0;
    for (int e = 1; e < nd; e++) /* the inner loop runs along the longest dim */
        if (index->shape[e] > index->shape[last])
            last = e;
    int64_t coord[GD_MAX_DIMS] = {0}, size = a->shape[d];
    int64_t inner = index->shape[last], rows = index->numel / inner;
    int64_t istep = index->strides[last] * (int64_t)isize;
    int64_t ostep = other->strides[last] * (int64_t)elsize;
    int64_t astep = last == d ? 0 : a->strides[last] * (int64_t)elsize;
    int64_t adim = a->strides[d] * (int64_t)elsize;
    char *abase = gd_data_ptr(a), *obase = gd_data_ptr(other);
    const char *ibase = gd_data_ptr(index);
    for (int pass = 0; pass < 2; pass++) {
        memset(coord, 0, sizeof coord);
        for (int64_t r = 0; r < rows; r++) {
            int64_t ioff = 0, aoff = 0, ooff = 0;
            for (int e = 0; e < nd; e++) {
                if (e == last)
                    continue;
                ioff += coord[e] * index->strides[e];
                ooff += coord[e] * other->strides[e];
                if (e != d)
                    aoff += coord[e] * a->strides[e];
            }
            const char *ip = ibase + (size_t)ioff * isize;
            char *ap = abase + (size_t)aoff * elsize,
                 *op = obase + (size_t)ooff * elsize;
            for (int64_t i = 0; i < inner; i++) {
                int64_t v = read_index(ip + i * istep, isize);
                if (pass == 0) {
                    GD_CHECK(v >= 0 && v < size, GD_ERR_RUNTIME,
                             "index %lld is out of bounds for dimension %d with size "
                             "%lld",
                             (long long)v, d, (long long)size);
                } else if (mode == MODE_READ) {
                    copy_elem(op + i * ostep, ap + i * astep + v * adim, elsize);
                } else {
                    add_run(a->dtype, ap + i * astep + v * adim, 0, op + i * ostep, 0,
                            1);
                }
            }
            for (int e = nd - 1; e >= 0; e--) {
                if (e == last)
                    continue;
                if (++coord[e] < index->shape[e])
                    break;
                coord[e] = 0;
            }
        }
    }
    return GD_OK;
}

static gd_status shape_error(const char *what, const gd_tensor *index,
                             const gd_tensor *a, int d, const gd_tensor *src) {
    char is[256], as[256], ss[256];
    gd_format_shape(is, sizeof is, index->ndim, index->shape);
    gd_format_shape(as, sizeof as, a->ndim, a->shape);
    if (src) {
        gd_format_shape(ss, sizeof ss, src->ndim, src->shape);
        return gd_error(GD_ERR_RUNTIME,
                        "Expected index %s to be no larger than self %s apart from "
                        "dimension %d and to be no larger size than src %s",
                        is, as, d, ss);
    }
    return gd_error(GD_ERR_RUNTIME,
                    "Size does not match at dimension %s expected index %s to be no "
                    "larger than self %s apart from dimension %d",
                    what, is, as, d);
}

static int64_t size_or_1(const gd_tensor *t, int d) {
    return t->ndim ? t->shape[d] : 1;
}

gd_status gd_gather(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                    gd_tensor **out) {
    gd_tensor *av = NULL, *iv = NULL, *o = NULL;
    int d;
    gd_status st;
    *out = NULL;
    if ((st = gd_wrap_dim(dim, a->ndim ? a->ndim : 1, &d)))
        return st;
    if (index->numel) {
        GD_CHECK(index->dtype == GD_INT64 || index->dtype == GD_INT32, GD_ERR_RUNTIME,
                 "gather(): Expected dtype int32/int64 for index");
        int nd = a->ndim ? a->ndim : 1;
        GD_CHECK(nd == (index->ndim ? index->ndim : 1), GD_ERR_RUNTIME,
                 "Index tensor must have the same number of dimensions as input "
                 "tensor");
        for (int e = 0; e < nd; e++)
            if (e != d && size_or_1(index, e) > size_or_1(a, e)) {
                char at[32];
                snprintf(at, sizeof at, "%d", e);
                return shape_error(at, index, a, d, NULL);
            }
    }
    if ((st = gd_empty(a->dtype, index->ndim, index->shape, &o)))
        return st;
    if (index->numel && !(st = at_least_1d(a, &av)) &&
        !(st = at_least_1d(index, &iv))) {
        gd_tensor *ov = NULL;
        if (!(st = at_least_1d(o, &ov)))
            st = along_dim(MODE_READ, av, d, iv, ov);
        gd_tensor_decref(ov);
    }
    gd_tensor_decref(av);
    gd_tensor_decref(iv);
    if (st)
        gd_tensor_decref(o);
    else
        *out = o;
    return st;
}

gd_status gd_scatter_add_(gd_tensor *a, int64_t dim, const gd_tensor *index,
                          const gd_tensor *src) {
    gd_tensor *av = NULL, *iv = NULL, *sv = NULL;
    int d;
    gd_status st;
    if ((st = gd_wrap_dim(dim, a->ndim ? a->ndim : 1, &d)))
        return st;
    GD_CHECK(!index->numel || index->dtype == GD_INT64 || index->dtype == GD_INT32,
             GD_ERR_RUNTIME, "scatter(): Expected dtype int32/int64 for index");
    GD_CHECK(a->dtype == src->dtype, GD_ERR_RUNTIME,
             "scatter(): Expected self.dtype to be equal to src.dtype");
    if (!index->numel)
        return GD_OK;
    int nd = a->ndim ? a->ndim : 1;
    int ni = index->ndim ? index->ndim : 1;
    GD_CHECK(nd == ni, GD_ERR_RUNTIME,
             "Index tensor must have the same number of dimensions as self tensor");
    bool wrong = false;
    for (int e = 0; e < nd && !wrong; e++)
        wrong = e != d && size_or_1(index, e) > size_or_1(a, e);
    for (int e = 0; e < ni && !wrong; e++) {
        int w;
        if ((st = gd_wrap_dim(e, src->ndim ? src->ndim : 1, &w)))
            return st; /* PyTorch asks src for a size it lacks */
        wrong = size_or_1(index, e) > size_or_1(src, e);
    }
    GD_CHECK((src->ndim ? src->ndim : 1) == ni, GD_ERR_RUNTIME,
             "Index tensor must have the same number of dimensions as src tensor");
    if (wrong)
        return shape_error(NULL, index, a, d, src);
    if (!(st = at_least_1d(a, &av)) && !(st = at_least_1d(index, &iv)) &&
        !(st = at_least_1d(src, &sv)))
        st = along_dim(MODE_ADD, av, d, iv, sv);
    gd_tensor_decref(av);
    gd_tensor_decref(iv);
    gd_tensor_decref(sv);
    return st;
}

gd_status gd_scatter_add(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                         const gd_tensor *src, gd_tensor **out) {
    gd_status st = gd_clone(a, out);
    if (!st && (st = gd_scatter_add_(*out, dim, index, src))) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}
