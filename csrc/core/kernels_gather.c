/* Joining (cat, stack) and gathering by flat index (take, put_), the base of
 * advanced indexing. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* A size computed as PyTorch's int64 arithmetic does it: wrapping, so that an
 * overflowing sum becomes the negative size its message names. */
static int64_t wrapping(uint64_t u) {
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* torch.cat: inputs of any dtypes give their promoted dtype; 1-D empty tensors
 * are skipped whatever their dims (PyTorch's legacy rule). */
gd_status gd_cat(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out) {
    const gd_tensor *ref = NULL;
    int d;
    gd_status st;
    *out = NULL;
    GD_CHECK(n > 0, GD_ERR_VALUE, "torch.cat(): expected a non-empty list of Tensors");
    gd_dtype dtype = ts[0]->dtype;
    for (int i = 0; i < n; i++) {
        GD_CHECK(ts[i]->ndim > 0, GD_ERR_RUNTIME,
                 "zero-dimensional tensor (at position %d) cannot be concatenated", i);
        dtype = gd_promote_types(dtype, ts[i]->dtype);
        if (!ref && !(ts[i]->ndim == 1 && ts[i]->numel == 0))
            ref = ts[i];
    }
    if (!ref)
        ref = ts[0];
    if ((st = gd_wrap_dim(dim, ref->ndim, &d)))
        return st;
    int64_t shape[GD_MAX_DIMS];
    uint64_t total = 0;
    memcpy(shape, ref->shape, sizeof(int64_t) * (size_t)ref->ndim);
    for (int i = 0; i < n; i++) {
        const gd_tensor *t = ts[i];
        if (t->ndim == 1 && t->numel == 0)
            continue;
        GD_CHECK(t->ndim == ref->ndim, GD_ERR_RUNTIME,
                 "Tensors must have same number of dimensions: got %d and %d",
                 ref->ndim, t->ndim);
        for (int k = 0; k < t->ndim; k++)
            GD_CHECK(
                k == d || t->shape[k] == ref->shape[k], GD_ERR_RUNTIME,
                "Sizes of tensors must match except in dimension %d. Expected size "
                "%lld but got size %lld for tensor number %d in the list.",
                d, (long long)ref->shape[k], (long long)t->shape[k], i);
        total += (uint64_t)t->shape[d];
    }
    shape[d] = wrapping(total);
    if ((st = gd_empty(dtype, ref->ndim, shape, out)))
        return st;
    int64_t at = 0;
    for (int i = 0; i < n && !st; i++) {
        const gd_tensor *t = ts[i];
        if (t->ndim == 1 && t->numel == 0)
            continue;
        gd_tensor *part = NULL;
        st = gd_slice(*out, d, at, at + t->shape[d], 1, &part);
        if (!st)
            st = gd_copy_(part, t);
        gd_tensor_decref(part);
        at += t->shape[d];
    }
    if (st) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}

/* torch.stack: equal shapes, promoted dtype. */
gd_status gd_stack(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out) {
    int d;
    gd_status st;
    *out = NULL;
    GD_CHECK(n > 0, GD_ERR_RUNTIME, "stack expects a non-empty TensorList");
    const gd_tensor *ref = ts[0];
    if ((st = gd_wrap_dim(dim, ref->ndim + 1, &d)))
        return st;
    GD_CHECK(ref->ndim < GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS,
             ref->ndim + 1);
    gd_dtype dtype = ref->dtype;
    for (int i = 1; i < n; i++) {
        bool same =
            ts[i]->ndim == ref->ndim &&
            memcmp(ts[i]->shape, ref->shape, sizeof(int64_t) * (size_t)ref->ndim) == 0;
        if (!same) {
            char a[256], b[256];
            gd_format_shape(a, sizeof a, ref->ndim, ref->shape);
            gd_format_shape(b, sizeof b, ts[i]->ndim, ts[i]->shape);
            return gd_error(GD_ERR_RUNTIME,
                            "stack expects each tensor to be equal size, but got %s at "
                            "entry 0 and %s at entry %d",
                            a, b, i);
        }
        dtype = gd_promote_types(dtype, ts[i]->dtype);
    }
    /* PyTorch allocates the result as the cat of the inputs along `d` (or with
     * a new last dim) and views it; its size errors name that shape. */
    int64_t shape[GD_MAX_DIMS], alloc[GD_MAX_DIMS], numel;
    size_t nbytes;
    memcpy(alloc, ref->shape, sizeof(int64_t) * (size_t)ref->ndim);
    if (d < ref->ndim)
        alloc[d] = wrapping((uint64_t)alloc[d] * (uint64_t)n);
    else
        alloc[d] = n;
    if ((st = gd_shape_nbytes(dtype, ref->ndim + (d == ref->ndim), alloc, &numel,
                              &nbytes)))
        return st;
    for (int i = 0, j = 0; i <= ref->ndim; i++)
        shape[i] = i == d ? n : ref->shape[j++];
    if ((st = gd_empty(dtype, ref->ndim + 1, shape, out)))
        return st;
    for (int i = 0; i < n && !st; i++) {
        gd_tensor *part = NULL;
        st = gd_select(*out, d, i, &part);
        if (!st)
            st = gd_copy_(part, ts[i]);
        gd_tensor_decref(part);
    }
    if (st) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}

static gd_status check_index(const gd_tensor *a, const gd_tensor *index) {
    GD_CHECK(index->dtype == GD_INT64 && gd_is_contiguous(index), GD_ERR_RUNTIME,
             "flat index must be a contiguous int64 tensor");
    const int64_t *ix = (const int64_t *)gd_data_ptr(index);
    for (int64_t i = 0; i < index->numel; i++)
        GD_CHECK(ix[i] >= 0 && ix[i] < a->numel, GD_ERR_INDEX,
                 "index %lld is out of bounds for size %lld", (long long)ix[i],
                 (long long)a->numel);
    return GD_OK;
}

gd_status gd_take(const gd_tensor *a, const gd_tensor *index, gd_tensor **out) {
    gd_tensor *src = NULL;
    gd_status st;
    *out = NULL;
    if ((st = check_index(a, index)) || (st = gd_contiguous(a, &src)))
        return st;
    if (!(st = gd_empty(a->dtype, index->ndim, index->shape, out))) {
        size_t elsize = gd_dtype_size(a->dtype);
        const int64_t *ix = (const int64_t *)gd_data_ptr(index);
        const char *from = gd_data_ptr(src);
        char *to = gd_data_ptr(*out);
        for (int64_t i = 0; i < index->numel; i++)
            memcpy(to + (size_t)i * elsize, from + (size_t)ix[i] * elsize, elsize);
    }
    gd_tensor_decref(src);
    return st;
}

gd_status gd_put_(gd_tensor *a, const gd_tensor *index, const gd_tensor *values) {
    gd_tensor *expanded = NULL, *vals = NULL;
    gd_status st;
    if ((st = check_index(a, index)) ||
        (st = gd_expand(values, index->ndim, index->shape, &expanded)) ||
        (st = gd_to_dtype(expanded, a->dtype, &vals)))
        goto done;
    size_t elsize = gd_dtype_size(a->dtype);
    const int64_t *ix = (const int64_t *)gd_data_ptr(index);
    const char *from = gd_data_ptr(vals);
    char *base = (char *)a->storage->data;
    for (int64_t i = 0; i < index->numel; i++) {
        int64_t off = a->offset, rem = ix[i];
        for (int d = a->ndim - 1; d >= 0; d--) {
            off += (rem % a->shape[d]) * a->strides[d];
            rem /= a->shape[d];
        }
        memcpy(base + (size_t)off * elsize, from + (size_t)i * elsize, elsize);
    }
done:
    gd_tensor_decref(expanded);
    gd_tensor_decref(vals);
    return st;
}

gd_status gd_index_add_(gd_tensor *dst, const gd_tensor *index, const gd_tensor *src) {
    gd_tensor *vals = NULL;
    gd_status st;
    GD_CHECK(gd_is_contiguous(dst) && gd_dtype_is_floating(dst->dtype), GD_ERR_RUNTIME,
             "index_add_ expects a contiguous floating destination");
    if ((st = check_index(dst, index)))
        return st;
    GD_CHECK(src->numel == index->numel, GD_ERR_RUNTIME,
             "index_add_: %lld values for %lld positions", (long long)src->numel,
             (long long)index->numel);
    if ((st = gd_to_dtype(src, dst->dtype, &vals)))
        return st;
    const int64_t *ix = (const int64_t *)gd_data_ptr(index);
    if (dst->dtype == GD_FLOAT32) {
        float *d = (float *)gd_data_ptr(dst);
        const float *v = (const float *)gd_data_ptr(vals);
        for (int64_t i = 0; i < index->numel; i++)
            d[ix[i]] += v[i];
    } else {
        double *d = (double *)gd_data_ptr(dst);
        const double *v = (const double *)gd_data_ptr(vals);
        for (int64_t i = 0; i < index->numel; i++)
            d[ix[i]] += v[i];
    }
    gd_tensor_decref(vals);
    return GD_OK;
}
