/* Storage and tensor lifetime, shapes, and the two headers every view is
 * made from (gd_as_strided, gd_alias); the view ops are in tensor_views.c. */
#define _DEFAULT_SOURCE /* madvise */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* ---- storage ------------------------------------------------------------ */

/* Small buffers live in the same block as their storage header: one malloc
 * per tensor result matters when the tensors are scalars. */
#define INLINE_DATA_MAX 256
#define HEADER_SIZE ((sizeof(gd_storage) + 63) / 64 * 64)
/* Like NumPy: ask for huge pages on large buffers, which makes first-touch
 * page faults on fresh results far cheaper. */
#define HUGEPAGE_MIN ((size_t)1 << 22)
#define POPULATE_MIN ((size_t)1 << 25)
#define POPULATE_MAX ((size_t)1 << 28)

/* Per-thread caches of freed tensor headers, small storages and graph nodes:
 * the course's scalar ops create and drop a few per call, and a cache hit is
 * cheaper than malloc and free. The sanitizer build goes without them, so
 * that every use after free still reaches ASan. */
#if defined(GD_SANITIZE)
#define FREE_LIST_MAX 0
#else
#define FREE_LIST_MAX 64
#endif
/* One thread-local struct: each access to thread-local data in a shared
 * library costs a lookup, which the compiler then shares across the fields. */
typedef struct {
    void *blocks[GD_CACHE_KINDS][FREE_LIST_MAX + 1];
    int n[GD_CACHE_KINDS];
    bool registered; /* the exit destructor is set for this thread */
} thread_cache;
static _Thread_local thread_cache cache;

/* A thread's caches are freed when it exits (short-lived threads would
 * otherwise leave them behind): the first block a thread caches registers a
 * thread-specific value whose destructor empties them. */
static tss_t cache_key;
static once_flag cache_key_once = ONCE_FLAG_INIT;
static bool cache_key_made;

static void release_thread_caches(void *unused) {
    (void)unused;
    for (int k = 0; k < GD_CACHE_KINDS; k++)
        while (cache.n[k] > 0)
            free(cache.blocks[k][--cache.n[k]]);
    cache.registered = false;
}

static void make_cache_key(void) {
    cache_key_made = tss_create(&cache_key, release_thread_caches) == thrd_success;
}

/* May this thread cache a freed block? */
static bool thread_cache_ready(void) {
    if (cache.registered)
        return true;
    call_once(&cache_key_once, make_cache_key);
    cache.registered = cache_key_made && tss_set(cache_key, &cache_key) == thrd_success;
    return cache.registered;
}

/* Inline here, where tensors and storages come and go on every op. */
static inline void *cache_take(gd_cache_kind kind) {
    thread_cache *c = &cache; /* one thread-local lookup per call */
    return c->n[kind] > 0 ? c->blocks[kind][--c->n[kind]] : NULL;
}

static inline bool cache_give(gd_cache_kind kind, void *block) {
    thread_cache *c = &cache;
    if (c->n[kind] >= FREE_LIST_MAX || (!c->registered && !thread_cache_ready()))
        return false;
    c->blocks[kind][c->n[kind]++] = block;
    return true;
}

void *gd_cache_take(gd_cache_kind kind) {
    return cache_take(kind);
}

bool gd_cache_give(gd_cache_kind kind, void *block) {
    return cache_give(kind, block);
}

static gd_status storage_new(size_t nbytes, bool zero, gd_storage **out) {
    gd_storage *s;
    *out = NULL;
    if (nbytes <= INLINE_DATA_MAX) {
        if ((s = cache_take(GD_CACHE_STORAGE))) {
            if (zero)
                memset((char *)s + HEADER_SIZE, 0, nbytes);
        } else {
            s = zero ? calloc(1, HEADER_SIZE + INLINE_DATA_MAX)
                     : malloc(HEADER_SIZE + INLINE_DATA_MAX);
        }
        if (!s)
            return gd_error(GD_ERR_NOMEM, "out of memory allocating %zu bytes", nbytes);
        s->data = (char *)s + HEADER_SIZE;
    } else {
        s = malloc(sizeof *s);
        if (!s)
            return gd_error(GD_ERR_NOMEM, "out of memory allocating %zu bytes", nbytes);
        s->data = zero ? calloc(1, nbytes) : malloc(nbytes);
        if (!s->data) {
            free(s);
            /* PyTorch's CPU allocator reports this as a RuntimeError. */
            return gd_error(
                GD_ERR_RUNTIME,
                "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                "can't allocate memory: you tried to allocate %zu bytes. Error code "
                "12 (Cannot allocate memory)",
                nbytes);
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (nbytes >= HUGEPAGE_MIN) {
            uintptr_t start = ((uintptr_t)s->data + 4095) & ~(uintptr_t)4095;
            uintptr_t end = (uintptr_t)s->data + nbytes;
            if (end > start) {
                madvise((void *)start, end - start, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
                /* Fault the pages of a big buffer in here, on one thread:
                 * threads of a split loop faulting huge pages of one mapping
                 * at once can stall each other in the kernel (a 40 MB add:
                 * 5 ms or 45 ms). Below 32 MiB the up-front pass costs more
                 * than it saves (a 4 MB add: 135 -> 260 us); above 256 MiB
                 * empty() must not make the buffer resident. */
                if (nbytes >= POPULATE_MIN && nbytes <= POPULATE_MAX)
                    madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#endif
            }
        }
#endif
    }
    s->refcount = 1;
    s->nbytes = nbytes;
    s->release = NULL;
    s->release_context = NULL;
    s->version = 0;
    *out = s;
    return GD_OK;
}

void gd_storage_incref(gd_storage *s) {
    s->refcount++;
}

void gd_storage_decref(gd_storage *s) {
    if (!s || --s->refcount > 0)
        return;
    if (s->release) {
        s->release(s->release_context);
    } else if (s->data != (char *)s + HEADER_SIZE) {
        free(s->data);
    } else if (cache_give(GD_CACHE_STORAGE, s)) {
        return;
    }
    free(s);
}

/* ---- tensors ------------------------------------------------------------ */

void gd_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t stride = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d] > 1 ? shape[d] : 1;
    }
}

char *gd_format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = 0;
    buf[len++] = '[';
    for (int d = 0; d < ndim && len < cap - 24; d++)
        len += (size_t)snprintf(buf + len, cap - len, d ? ", %lld" : "%lld",
                                (long long)shape[d]);
    snprintf(buf + len, cap - len, "]");
    return buf;
}

/* ---- sizes --------------------------------------------------------------- */

/* Every element count and byte size is computed by the two functions below,
 * with PyTorch's checks in its order: negative sizes, then the byte size of a
 * new storage, then its strides; views check only their element count. */

/* The messages, kept out of the hot path (large buffers on the stack). */
#if defined(__GNUC__)
#define GD_COLD __attribute__((noinline, cold))
#else
#define GD_COLD
#endif

GD_COLD static gd_status negative_size_error(int ndim, const int64_t *shape,
                                             int64_t size) {
    char buf[256];
    gd_format_shape(buf, sizeof buf, ndim, shape);
    return gd_error(GD_ERR_RUNTIME,
                    "Trying to create tensor with negative dimension %lld: %s",
                    (long long)size, buf);
}

GD_COLD static gd_status storage_size_error(int ndim, const int64_t *shape,
                                            bool strided) {
    char sizes[512], strides[512];
    int64_t str[GD_MAX_DIMS];
    gd_format_shape(sizes, sizeof sizes, ndim, shape);
    if (!strided)
        return gd_error(GD_ERR_RUNTIME,
                        "Storage size calculation overflowed with sizes=%s", sizes);
    uint64_t stride = 1; /* wraps as PyTorch's does; only printed */
    for (int d = ndim - 1; d >= 0; d--) {
        memcpy(&str[d], &stride, sizeof stride);
        stride *= shape[d] > 1 ? (uint64_t)shape[d] : 1;
    }
    gd_format_shape(strides, sizeof strides, ndim, str);
    return gd_error(GD_ERR_RUNTIME,
                    "Storage size calculation overflowed with sizes=%s and strides=%s",
                    sizes, strides);
}

/* Checks the dims and multiplies the sizes in 64 unsigned bits: *overflow is
 * set if any partial product overflowed (PyTorch flags it even when a later
 * size is 0), *has_zero if a size is 0. */
static gd_status product(int ndim, const int64_t *shape, uint64_t *out, bool *overflow,
                         bool *has_zero) {
    uint64_t n = 1;
    bool over = false, zero = false;
    GD_CHECK(ndim >= 0 && ndim <= GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS, ndim);
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return negative_size_error(ndim, shape, shape[d]);
        over |= __builtin_mul_overflow(n, (uint64_t)shape[d], &n);
        zero |= shape[d] == 0;
    }
    *out = n;
    *overflow = over;
    *has_zero = zero;
    return GD_OK;
}

gd_status gd_shape_numel(int ndim, const int64_t *shape, int64_t *numel) {
    uint64_t n = 0;
    bool overflow = false, has_zero = false;
    *numel = 0;
    gd_status st = product(ndim, shape, &n, &overflow, &has_zero);
    if (st)
        return st;
    GD_CHECK(!overflow && n <= (uint64_t)INT64_MAX, GD_ERR_RUNTIME,
             "numel: integer multiplication overflow");
    *numel = (int64_t)n;
    return GD_OK;
}

/* The byte size of a contiguous storage. PyTorch computes it in one of two
 * ways, which differ only in their message: as a product of sizes for
 * empty(), and from sizes and strides for empty_strided() (clone, to, *_like),
 * where a size-0 dim makes the size 0 at once. */
static gd_status nbytes_checked(gd_dtype dtype, int ndim, const int64_t *shape,
                                bool strided, int64_t *numel, size_t *nbytes) {
    uint64_t n = 0, bytes = 0;
    bool overflow = false, has_zero = false;
    *numel = 0;
    *nbytes = 0;
    gd_status st = product(ndim, shape, &n, &overflow, &has_zero);
    if (st)
        return st;
    if (strided && has_zero)
        overflow = false;
    overflow |= __builtin_mul_overflow(n, (uint64_t)gd_dtype_size(dtype), &bytes);
    if (overflow || bytes > (uint64_t)INT64_MAX || bytes > SIZE_MAX)
        return storage_size_error(ndim, shape, strided);
    /* With a size-0 dim the byte size is 0 but the strides of the other dims
     * (each the product of the sizes after it, counting 0 as 1) can still
     * overflow; without one, they are bounded by the element count. */
    int64_t stride = 1;
    for (int d = ndim - 1; has_zero && d > 0; d--)
        GD_CHECK(!__builtin_mul_overflow(stride, shape[d] > 1 ? shape[d] : 1, &stride),
                 GD_ERR_RUNTIME, "Stride calculation overflowed");
    *numel = (int64_t)n;
    *nbytes = (size_t)bytes;
    return GD_OK;
}

gd_status gd_shape_nbytes(gd_dtype dtype, int ndim, const int64_t *shape,
                          int64_t *numel, size_t *nbytes) {
    return nbytes_checked(dtype, ndim, shape, false, numel, nbytes);
}

gd_status gd_shape_nbytes_strided(gd_dtype dtype, int ndim, const int64_t *shape,
                                  int64_t *numel, size_t *nbytes) {
    return nbytes_checked(dtype, ndim, shape, true, numel, nbytes);
}

/* A tensor header taking a new reference to `storage`, for a shape already
 * checked to have `numel` elements. */
static gd_status header_new(gd_storage *storage, gd_dtype dtype, int ndim,
                            const int64_t *shape, const int64_t *strides,
                            int64_t offset, int64_t numel, gd_tensor **out) {
    *out = NULL;
    gd_tensor *t = cache_take(GD_CACHE_TENSOR);
    if (!t)
        t = malloc(sizeof *t);
    if (!t)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    t->refcount = 1;
    t->dtype = dtype;
    t->ndim = ndim;
    t->numel = numel;
    t->offset = offset;
    memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
    if (strides)
        memcpy(t->strides, strides, sizeof(int64_t) * (size_t)ndim);
    else
        gd_contiguous_strides(ndim, shape, t->strides);
    gd_storage_incref(storage);
    t->storage = storage;
    t->autograd = NULL;
    t->handle = NULL;
    t->untracked_version = false;
    t->on_stack = false;
    t->is_view = false;
    t->view_base =
        NULL; /* view_version, view_meta and view_output are read only with it */
    *out = t;
    return GD_OK;
}

static gd_status tensor_header(gd_storage *storage, gd_dtype dtype, int ndim,
                               const int64_t *shape, const int64_t *strides,
                               int64_t offset, gd_tensor **out) {
    int64_t numel = 0;
    gd_status st = gd_shape_numel(ndim, shape, &numel);
    *out = NULL;
    if (st)
        return st;
    return header_new(storage, dtype, ndim, shape, strides, offset, numel, out);
}

/* `strides` NULL: contiguous; else a dense order of `shape`'s dims (the
 * storage holds exactly numel elements). */
static gd_status tensor_new(gd_dtype dtype, int ndim, const int64_t *shape,
                            const int64_t *strides, bool zero, bool strided,
                            gd_tensor **out) {
    int64_t numel = 0;
    size_t nbytes = 0;
    gd_storage *s;
    gd_status st = nbytes_checked(dtype, ndim, shape, strided, &numel, &nbytes);
    *out = NULL;
    if (st)
        return st;
    st = storage_new(nbytes, zero, &s);
    if (st)
        return st;
    st = header_new(s, dtype, ndim, shape, strides, 0, numel, out);
    gd_storage_decref(s);
    return st;
}

gd_status gd_empty(gd_dtype dtype, int ndim, const int64_t *shape, gd_tensor **out) {
    return tensor_new(dtype, ndim, shape, NULL, false, false, out);
}

gd_status gd_empty_strided(gd_dtype dtype, int ndim, const int64_t *shape,
                           gd_tensor **out) {
    return tensor_new(dtype, ndim, shape, NULL, false, true, out);
}

gd_status gd_empty_dense(gd_dtype dtype, int ndim, const int64_t *shape,
                         const int64_t *strides, gd_tensor **out) {
    return tensor_new(dtype, ndim, shape, strides, false, true, out);
}

gd_status gd_zeros(gd_dtype dtype, int ndim, const int64_t *shape, gd_tensor **out) {
    return tensor_new(dtype, ndim, shape, NULL, true, false, out);
}

gd_status gd_full(gd_dtype dtype, int ndim, const int64_t *shape, double value,
                  gd_tensor **out) {
    gd_status st = tensor_new(dtype, ndim, shape, NULL, false, false, out);
    if (st)
        return st;
    st = gd_fill_(*out, value);
    if (st) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}

gd_status gd_from_memory(void *data, size_t nbytes, gd_dtype dtype, int ndim,
                         const int64_t *shape, const int64_t *strides, int64_t offset,
                         gd_release_fn release, void *context, gd_tensor **out) {
    gd_storage *s = malloc(sizeof *s);
    *out = NULL;
    if (!s) {
        if (release)
            release(context);
        return gd_error(GD_ERR_NOMEM, "out of memory");
    }
    s->refcount = 1;
    s->data = data;
    s->nbytes = nbytes;
    s->release = release;
    s->release_context = context;
    s->version = 0;
    gd_status st = tensor_header(s, dtype, ndim, shape, strides, offset, out);
    gd_storage_decref(s); /* on failure this runs `release` */
    return st;
}

void gd_tensor_incref(gd_tensor *t) {
    t->refcount++;
}

void gd_tensor_decref(gd_tensor *t) {
    if (!t || --t->refcount > 0)
        return;
    gd_autograd_meta_free(t->autograd);
    gd_storage_decref(t->storage);
    if (t->view_base)
        gd_tensor_decref(t->view_base);
    if (!cache_give(GD_CACHE_TENSOR, t))
        free(t);
}

bool gd_is_contiguous(const gd_tensor *t) {
    int64_t expected = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] == 1)
            continue;
        if (t->strides[d] != expected)
            return t->numel == 0;
        expected *= t->shape[d];
    }
    return true;
}

/* PyTorch's is_non_overlapping_and_dense: taken by increasing stride, the
 * dims of size 2 or more step exactly over the ones before them. */
bool gd_is_non_overlapping_dense(const gd_tensor *t) {
    if (gd_is_contiguous(t))
        return true;
    int64_t require = 1;
    bool used[GD_MAX_DIMS] = {false};
    for (;;) {
        int best = -1; /* the unused dim of size > 1 with the smallest stride */
        for (int d = 0; d < t->ndim; d++)
            if (!used[d] && t->shape[d] > 1 &&
                (best < 0 || t->strides[d] < t->strides[best]))
                best = d;
        if (best < 0)
            return true;
        if (t->strides[best] != require)
            return false;
        used[best] = true;
        require *= t->shape[best];
    }
}

static int64_t flat_to_offset(const gd_tensor *t, int64_t index) {
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        off += (index % t->shape[d]) * t->strides[d];
        index /= t->shape[d];
    }
    return off;
}

double gd_get_flat(const gd_tensor *t, int64_t index) {
    return gd_load_double(t->dtype, (const char *)t->storage->data +
                                        (size_t)flat_to_offset(t, index) *
                                            gd_dtype_size(t->dtype));
}

int64_t gd_get_flat_int(const gd_tensor *t, int64_t index) {
    return gd_load_int64(t->dtype, (const char *)t->storage->data +
                                       (size_t)flat_to_offset(t, index) *
                                           gd_dtype_size(t->dtype));
}

gd_status gd_wrap_dim(int64_t dim, int ndim, int *out) {
    int64_t n = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dims -1 and 0 */
    *out = 0;
    GD_CHECK(dim >= -n && dim < n, GD_ERR_INDEX,
             "Dimension out of range (expected to be in range of [%lld, %lld], but got "
             "%lld)",
             (long long)-n, (long long)(n - 1), (long long)dim);
    *out = (int)(dim < 0 ? dim + n : dim);
    return GD_OK;
}

gd_status gd_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb,
                              int *nout, int64_t *sout) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int da = na - 1 - i, db = nb - 1 - i;
        int64_t a = da >= 0 ? sa[da] : 1, b = db >= 0 ? sb[db] : 1;
        GD_CHECK(
            a == b || a == 1 || b == 1, GD_ERR_RUNTIME,
            "The size of tensor a (%lld) must match the size of tensor b (%lld) at "
            "non-singleton dimension %d",
            (long long)a, (long long)b, n - 1 - i);
        sout[n - 1 - i] = a == 1 ? b : a;
    }
    *nout = n;
    return GD_OK;
}

/* ---- views -------------------------------------------------------------- */

gd_status gd_as_strided(const gd_tensor *t, int ndim, const int64_t *shape,
                        const int64_t *strides, int64_t offset, gd_tensor **out) {
    gd_status st =
        tensor_header(t->storage, t->dtype, ndim, shape, strides, offset, out);
    if (!st)
        (*out)->is_view = true;
    return st;
}

gd_status gd_alias(const gd_tensor *t, gd_tensor **out) {
    return tensor_header(t->storage, t->dtype, t->ndim, t->shape, t->strides, t->offset,
                         out);
}
