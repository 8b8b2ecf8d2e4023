/* Counting and set ops: bincount, histc, nonzero (and the mask positions
 * advanced indexing uses), unique and unique_consecutive, with PyTorch's
 * checks and messages. None is differentiable.
 *
 * Loops that run with the embedder's lock released may read an input that is
 * the caller's tensor (when it is already contiguous), which another thread
 * can write or give new data (`.data = ...`) meanwhile. So each such loop
 * reads a snapshot taken before (data pointer, dtype, length, and a reference
 * to the storage that keeps the data alive), and every index it computes is
 * bounds-checked against what was allocated: a racing writer gives wrong
 * counts, never a read or write out of bounds. */
#include "internal.h"

#include <float.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* t as a contiguous tensor of `dtype` (a new reference, maybe t itself). */
static gd_status contiguous_as(const gd_tensor *t, gd_dtype dtype, gd_tensor **out) {
    gd_tensor *d = NULL;
    gd_status st = gd_as_dtype(t, dtype, &d);
    if (!st)
        st = gd_contiguous(d, out);
    gd_tensor_decref(d);
    return st;
}

/* The elements a loop reads with the lock released (see above). */
typedef struct {
    gd_storage *keep; /* a reference: the data stays while the loop runs */
    const char *data;
    gd_dtype dtype;
    int64_t n;
} snapshot;

static snapshot snap(const gd_tensor *t) {
    gd_storage_incref(t->storage);
    return (snapshot){t->storage, gd_data_ptr(t), t->dtype, t->numel};
}

/* ---- bincount ----------------------------------------------------------- */

/* The largest element of a 1-d integer tensor `v` (contiguous), and whether
 * any is negative. */
static void int_extrema(const gd_tensor *v, int64_t *max, bool *negative) {
    const char *p = gd_data_ptr(v);
    size_t es = gd_dtype_size(v->dtype);
    int64_t hi = INT64_MIN;
    bool neg = false;
    for (int64_t i = 0; i < v->numel; i++) {
        int64_t x = gd_load_int64(v->dtype, p + (size_t)i * es);
        neg |= x < 0;
        hi = x > hi ? x : hi;
    }
    *max = hi;
    *negative = neg;
}

gd_status gd_bincount(const gd_tensor *a, const gd_tensor *weights, int64_t minlength,
                      gd_tensor **out) {
    gd_tensor *v = NULL, *w = NULL;
    gd_status st = GD_OK;
    *out = NULL;
    GD_CHECK(a->dtype == GD_UINT8 || a->dtype == GD_INT32 || a->dtype == GD_INT64,
             GD_ERR_NOTIMPL, "\"bincount_cpu\" not implemented for '%s'",
             gd_dtype_scalar_name(a->dtype));
    GD_CHECK(minlength >= 0, GD_ERR_RUNTIME, "minlength should be >= 0");
    if (a->ndim == 1 && a->numel == 0) /* counts, whatever the weights */
        return gd_zeros(GD_INT64, 1, &minlength, out);
    GD_CHECK(a->ndim == 1 && a->numel > 0, GD_ERR_RUNTIME,
             "bincount only supports 1-d non-negative integral inputs.");
    if ((st = gd_contiguous(a, &v)))
        return st;
    int64_t max;
    bool negative;
    int_extrema(v, &max, &negative);
    if (negative) {
        st = gd_error(GD_ERR_RUNTIME,
                      "bincount only supports 1-d non-negative integral inputs.");
        goto done;
    }
    if (weights && (weights->ndim != 1 || weights->shape[0] != a->shape[0])) {
        st = gd_error(GD_ERR_RUNTIME,
                      "weights should be 1-d and have the same length as input");
        goto done;
    }
    /* max + 1 cannot overflow: the allocation of max int64 bins fails first */
    int64_t nbins = max == INT64_MAX ? max : max + 1;
    nbins = nbins > minlength ? nbins : minlength;
    /* float32 weights sum in float32; every other dtype in float64 */
    gd_dtype odt = !weights                       ? GD_INT64
                   : weights->dtype == GD_FLOAT32 ? GD_FLOAT32
                                                  : GD_FLOAT64;
    if ((weights && (st = contiguous_as(weights, odt, &w))) ||
        (st = gd_zeros(odt, 1, &nbins, out)))
        goto done;
    /* w is a new tensor unless it is the caller's float weights; the lengths
     * were checked equal above, the shorter one bounds the loop all the same */
    snapshot sv = snap(v), sw = w ? snap(w) : (snapshot){NULL, NULL, odt, sv.n};
    int64_t n = sv.n < sw.n ? sv.n : sw.n;
    size_t es = gd_dtype_size(sv.dtype);
    char *o = gd_data_ptr(*out);
    void *lock = gd_loop_begin(n);
    for (int64_t i = 0; i < n; i++) {
        int64_t bin = gd_load_int64(sv.dtype, sv.data + (size_t)i * es);
        if (bin < 0 || bin >= nbins)
            continue;
        if (odt == GD_INT64)
            ((int64_t *)o)[bin] += 1;
        else if (odt == GD_FLOAT32)
            ((float *)o)[bin] += ((const float *)sw.data)[i];
        else
            ((double *)o)[bin] += ((const double *)sw.data)[i];
    }
    gd_loop_end(lock);
    gd_storage_decref(sv.keep);
    gd_storage_decref(sw.keep);
done:
    gd_tensor_decref(v);
    gd_tensor_decref(w);
    return st;
}

/* ---- histc -------------------------------------------------------------- */

/* C++'s stream form of a double in PyTorch's messages ("1", "inf", "-nan"). */
static void fmt_edge(char *buf, size_t cap, double x) {
    snprintf(buf, cap, "%g", x);
}

/* The outer edges PyTorch's histc uses: [min, max], or the data's extrema when
 * min == max, widened by one on each side when they are still equal. */
static gd_status histc_edges(const gd_tensor *a, double *lo, double *hi) {
    if (*lo == *hi && a->numel > 0) {
        double mn = INFINITY, mx = -INFINITY;
        bool nan = false;
        gd_tensor *c = NULL;
        gd_status st = gd_contiguous(a, &c);
        if (st)
            return st;
        const char *p = gd_data_ptr(c);
        size_t es = gd_dtype_size(c->dtype);
        for (int64_t i = 0; i < c->numel; i++) {
            double x = gd_load_double(c->dtype, p + (size_t)i * es);
            nan |= x != x;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
        gd_tensor_decref(c);
        /* PyTorch's aminmax gives a NaN with its sign bit set */
        *lo = nan ? -NAN : mn;
        *hi = nan ? -NAN : mx;
    }
    if (*lo == *hi) {
        *lo -= 1;
        *hi += 1;
    }
    if (!isfinite(*lo) || !isfinite(*hi)) {
        char l[32], h[32];
        fmt_edge(l, sizeof l, *lo);
        fmt_edge(h, sizeof h, *hi);
        return gd_error(GD_ERR_RUNTIME, "gdlite.histc: range of [%s, %s] is not finite",
                        l, h);
    }
    GD_CHECK(*lo < *hi, GD_ERR_RUNTIME, "gdlite.histc: max must be larger than min");
    return GD_OK;
}

/* PyTorch's histc bins by linear interpolation in the input's type:
 * (x - lo) * bins / (hi - lo), truncated; the last bin includes hi. */
#define HISTC_LOOP(T)                                                                  \
    static void histc_##T(const T *x, int64_t n, T lo, T hi, int64_t bins, T *h) {     \
        for (int64_t i = 0; i < n; i++) {                                              \
            T e = x[i];                                                                \
            if (!(e >= lo && e <= hi))                                                 \
                continue;                                                              \
            int64_t pos = gd_f2i64((double)((e - lo) * (T)bins / (hi - lo)));          \
            pos = pos < 0 ? 0 : pos >= bins ? bins - 1 : pos;                          \
            h[pos] += 1;                                                               \
        }                                                                              \
    }
HISTC_LOOP(float)
HISTC_LOOP(double)
#undef HISTC_LOOP

gd_status gd_histc(const gd_tensor *a, int64_t bins, double min, double max,
                   gd_tensor **out) {
    gd_tensor *c = NULL;
    gd_status st;
    *out = NULL;
    GD_CHECK(bins > 0, GD_ERR_RUNTIME,
             "gdlite.histogram(): bins must be > 0, but got %lld for dimension 0",
             (long long)bins);
    if ((st = histc_edges(a, &min, &max)))
        return st;
    GD_CHECK(a->dtype != GD_BOOL, GD_ERR_NOTIMPL,
             "\"linspace_cpu\" not implemented for 'Bool'");
    GD_CHECK(gd_dtype_is_floating(a->dtype), GD_ERR_NOTIMPL,
             "\"histogram_cpu\" not implemented for '%s'",
             gd_dtype_scalar_name(a->dtype));
    GD_CHECK(a->dtype != GD_FLOAT32 || (fabs(min) <= FLT_MAX && fabs(max) <= FLT_MAX),
             GD_ERR_RUNTIME,
             "value cannot be converted to type float without overflow");
    if ((st = gd_zeros(a->dtype, 1, &bins, out)) || (st = gd_contiguous(a, &c))) {
        gd_tensor_decref(*out);
        *out = NULL;
        return st;
    }
    snapshot sc = snap(c);
    void *lock = gd_loop_begin(sc.n);
    if (sc.dtype == GD_FLOAT32)
        histc_float((const float *)sc.data, sc.n, (float)min, (float)max, bins,
                    (float *)gd_data_ptr(*out));
    else
        histc_double((const double *)sc.data, sc.n, min, max, bins,
                     (double *)gd_data_ptr(*out));
    gd_loop_end(lock);
    gd_storage_decref(sc.keep);
    gd_tensor_decref(c);
    return GD_OK;
}

/* ---- nonzero and mask positions ------------------------------------------ */

/* A bit per byte of v[0..16): set where the byte is nonzero. */
static inline unsigned nonzero_bits16(const gd_bool_t *v) {
#if defined(__SSE2__)
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)v);
    return ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) &
           0xFFFFu;
#else
    unsigned bits = 0;
    for (int i = 0; i < 16; i++)
        bits |= (unsigned)(v[i] != 0) << i;
    return bits;
#endif
}

/* The flat positions of the nonzero bytes of v[0..n), at most `cap` of
 * them, into pos; returns how many it wrote. Sixteen bytes at a time, so a
 * sparse mask costs about its length / 16 plus its true elements. */
static int64_t flat_true(const gd_bool_t *v, int64_t n, int64_t *pos, int64_t cap) {
    int64_t at = 0, i = 0;
    for (; i + 16 <= n && at < cap; i += 16)
        for (unsigned bits = nonzero_bits16(v + i); bits && at < cap; bits &= bits - 1)
            pos[at++] = i + __builtin_ctz(bits);
    for (; i < n && at < cap; i++) { /* branch-free: at < cap on each write */
        pos[at] = i;
        at += v[i] != 0;
    }
    return at;
}

/* Coordinates of the ascending flat positions flat[0..n) in `shape` (nd > 1):
 * coordinate d of entry k at o[d * dstep + k * kstep]. flat may be the last
 * coordinate's row (entry k is read before it is written). Consecutive
 * positions mostly share a row or move to the next, so rows are stepped;
 * a jump further divides. */
static void flat_to_coords(const int64_t *flat, int64_t n, int nd, const int64_t *shape,
                           int64_t *o, int64_t dstep, int64_t kstep) {
    int64_t inner = shape[nd - 1], row_start = 0, coord[GD_MAX_DIMS] = {0};
    for (int64_t k = 0; k < n; k++) {
        int64_t f = flat[k];
        if (f - row_start >= inner) {
            if (f - row_start < 2 * inner) {
                row_start += inner;
                for (int d = nd - 2; d >= 0; d--) {
                    if (++coord[d] < shape[d])
                        break;
                    coord[d] = 0;
                }
            } else {
                int64_t r = f / inner;
                row_start = r * inner;
                for (int d = nd - 2; d >= 0; d--) {
                    coord[d] = r % shape[d];
                    r /= shape[d];
                }
            }
        }
        for (int d = 0; d < nd - 1; d++)
            o[d * dstep + k * kstep] = coord[d];
        o[(nd - 1) * dstep + k * kstep] = f - row_start;
    }
}

/* The positions of the nonzero elements of `mask` (any dtype; 0-d counts as
 * one element of no dims) written into int64 `shape`: element k of
 * coordinate d at o[d * dstep + k * kstep]. */
static gd_status true_positions(const gd_tensor *mask, bool by_row, gd_tensor **out) {
    gd_tensor *m = NULL;
    gd_status st;
    *out = NULL;
    if ((st = contiguous_as(mask, GD_BOOL, &m)))
        return st;
    snapshot sm = snap(m);
    const gd_bool_t *v = (const gd_bool_t *)sm.data;
    int64_t nnz = 0, nd = m->ndim, shape_m[GD_MAX_DIMS], *flat, *own = NULL;
    memcpy(shape_m, m->shape, sizeof(int64_t) * (size_t)nd);
    void *lock = gd_loop_begin(sm.n);
    for (int64_t i = 0; i < sm.n; i++)
        nnz += v[i] != 0;
    gd_loop_end(lock);
    int64_t shape[2] = {by_row ? nnz : nd, by_row ? nd : nnz};
    if (!by_row && nd == 1)
        st = gd_empty(GD_INT64, 1, &nnz, out);
    else
        st = gd_empty(GD_INT64, 2, shape, out);
    if (st || nd == 0)
        goto done;
    int64_t *o = (int64_t *)gd_data_ptr(*out);
    int64_t dstep = by_row ? 1 : nnz, kstep = by_row ? nd : 1;
    /* The flat positions go where the last coordinate's do when those are
     * contiguous ([nd, nnz] rows, or a vector), else to a buffer of their own. */
    if (!by_row || nd == 1)
        flat = o + (nd - 1) * dstep;
    else if (!(flat = own = malloc(sizeof(int64_t) * (size_t)(nnz ? nnz : 1)))) {
        st = gd_error(GD_ERR_NOMEM, "out of memory");
        gd_tensor_decref(*out);
        *out = NULL;
        goto done;
    }
    lock = gd_loop_begin(sm.n);
    /* at <= nnz even if another thread changed the mask since the count */
    int64_t at = flat_true(v, sm.n, flat, nnz);
    if (nd > 1)
        flat_to_coords(flat, at, (int)nd, shape_m, o, dstep, kstep);
    gd_loop_end(lock);
    /* a writer racing the count can leave fewer true elements than counted */
    for (; at < nnz; at++)
        for (int d = 0; d < nd; d++)
            o[d * dstep + at * kstep] = 0;
done:
    free(own);
    gd_storage_decref(sm.keep);
    gd_tensor_decref(m);
    return st;
}

gd_status gd_nonzero(const gd_tensor *a, gd_tensor **out) {
    return true_positions(a, true, out);
}

gd_status gd_mask_indices(const gd_tensor *mask, gd_tensor **out) {
    *out = NULL;
    GD_CHECK(mask->ndim >= 1, GD_ERR_RUNTIME, "mask_indices: the mask needs a dim");
    return true_positions(mask, false, out);
}

/* ---- unique ------------------------------------------------------------- */

/* Stable merge sort of the positions idx[0..n) by v[idx], NaN after every
 * number (PyTorch's sort order); tmp has room for n positions. */
#define SORT_BY(T)                                                                     \
    static bool less_##T(T x, T y) {                                                   \
        return x < y || (y != y && x == x);                                            \
    }                                                                                  \
    static void sort_##T(const T *v, int64_t *idx, int64_t *tmp, int64_t n) {          \
        for (int64_t w = 1; w < n; w *= 2) {                                           \
            for (int64_t lo = 0; lo < n; lo += 2 * w) {                                \
                int64_t mid = lo + w < n ? lo + w : n;                                 \
                int64_t hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo; \
                while (i < mid && j < hi)                                              \
                    tmp[k++] = less_##T(v[idx[j]], v[idx[i]]) ? idx[j++] : idx[i++];   \
                while (i < mid)                                                        \
                    tmp[k++] = idx[i++];                                               \
                while (j < hi)                                                         \
                    tmp[k++] = idx[j++];                                               \
            }                                                                          \
            memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);                             \
        }                                                                              \
    }
SORT_BY(uint8_t)
SORT_BY(int32_t)
SORT_BY(int64_t)
SORT_BY(float)
SORT_BY(double)
#undef SORT_BY

/* Orders idx by the values of s. */
static void sort_positions(const snapshot *s, int64_t *idx, int64_t *tmp) {
    const void *v = s->data;
    switch (s->dtype) {
    case GD_BOOL:
    case GD_UINT8:
        sort_uint8_t(v, idx, tmp, s->n);
        break;
    case GD_INT32:
        sort_int32_t(v, idx, tmp, s->n);
        break;
    case GD_INT64:
        sort_int64_t(v, idx, tmp, s->n);
        break;
    case GD_FLOAT32:
        sort_float(v, idx, tmp, s->n);
        break;
    default:
        sort_double(v, idx, tmp, s->n);
    }
}

/* Elements compare with ==, so NaNs are each their own value and -0 == 0. */
static bool differ(const snapshot *s, int64_t i, int64_t j) {
    size_t es = gd_dtype_size(s->dtype);
    if (gd_dtype_is_floating(s->dtype))
        return !(gd_load_double(s->dtype, s->data + (size_t)i * es) ==
                 gd_load_double(s->dtype, s->data + (size_t)j * es));
    return gd_load_int64(s->dtype, s->data + (size_t)i * es) !=
           gd_load_int64(s->dtype, s->data + (size_t)j * es);
}

gd_status gd_unique(const gd_tensor *a, bool consecutive, gd_tensor **values,
                    gd_tensor **inverse, gd_tensor **counts) {
    gd_tensor *c = NULL;
    int64_t *idx = NULL, *tmp = NULL, n = a->numel, groups = 0, count;
    size_t bytes = 0;
    snapshot sc = {NULL, NULL, a->dtype, 0};
    gd_status st;
    *values = *inverse = *counts = NULL;
    if ((st = gd_shape_nbytes(GD_INT64, 1, &n, &count, &bytes)) ||
        (st = gd_contiguous(a, &c)) ||
        (st = gd_empty(GD_INT64, a->ndim, a->shape, inverse)))
        goto fail;
    idx = malloc(bytes ? bytes : 1);
    tmp = malloc(bytes ? bytes : 1);
    if (!idx || !tmp) {
        st = gd_error(GD_ERR_NOMEM, "unique: out of memory");
        goto fail;
    }
    sc = snap(c);
    int64_t *inv = (int64_t *)gd_data_ptr(*inverse);
    void *lock = gd_loop_begin(n);
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    if (!consecutive)
        sort_positions(&sc, idx, tmp);
    /* tmp[g]: the sorted position where group g starts */
    for (int64_t k = 0; k < n; k++) {
        if (k == 0 || differ(&sc, idx[k], idx[k - 1]))
            tmp[groups++] = k;
        inv[idx[k]] = groups - 1;
    }
    gd_loop_end(lock);
    if ((st = gd_empty(sc.dtype, 1, &groups, values)) ||
        (st = gd_empty(GD_INT64, 1, &groups, counts)))
        goto fail;
    size_t es = gd_dtype_size(sc.dtype);
    char *vo = gd_data_ptr(*values);
    int64_t *co = (int64_t *)gd_data_ptr(*counts);
    for (int64_t g = 0; g < groups; g++) {
        memcpy(vo + (size_t)g * es, sc.data + (size_t)idx[tmp[g]] * es, es);
        co[g] = (g + 1 < groups ? tmp[g + 1] : n) - tmp[g];
    }
    goto done;
fail:
    gd_tensor_decref(*values);
    gd_tensor_decref(*inverse);
    gd_tensor_decref(*counts);
    *values = *inverse = *counts = NULL;
done:
    gd_storage_decref(sc.keep);
    free(idx);
    free(tmp);
    gd_tensor_decref(c);
    return st;
}
