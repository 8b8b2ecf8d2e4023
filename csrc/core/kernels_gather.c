/* Joining (cat, stack) and gathering by flat index (take, put_), the base of
 * advanced indexing. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

gd_status gd_cat(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out) {
    const gd_tensor *ref = NULL;
    int d;
    gd_status st;
    *out = NULL;
    GD_CHECK(n > 0, GD_ERR_VALUE, "torch.cat(): expected a non-empty list of Tensors");
    /* PyTorch still skips 1-D empty tensors, whatever the other shapes. */
    for (int i = 0; i < n && !ref; i++)
        if (!(ts[i]->ndim == 1 && ts[i]->numel == 0))
            ref = ts[i];
    if (!ref)
        ref = ts[0];
    GD_CHECK(ref->ndim > 0, GD_ERR_RUNTIME,
             "zero-dimensional tensor (at position %d) cannot be concatenated", 0);
    if ((st = gd_wrap_dim(dim, ref->ndim, &d)))
        return st;
    int64_t shape[GD_MAX_DIMS];
    memcpy(shape, ref->shape, sizeof shape);
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        const gd_tensor *t = ts[i];
        if (t->ndim == 1 && t->numel == 0)
            continue;
        GD_CHECK(t->ndim > 0, GD_ERR_RUNTIME,
                 "zero-dimensional tensor (at position %d) cannot be concatenated", i);
        GD_CHECK(t->ndim == ref->ndim, GD_ERR_RUNTIME,
                 "Tensors must have same number of dimensions: got %d and %d",
                 ref->ndim, t->ndim);
        GD_CHECK(t->dtype == ref->dtype, GD_ERR_RUNTIME,
                 "cat expects tensors of one dtype; got %s and %s",
                 gd_dtype_name(ref->dtype), gd_dtype_name(t->dtype));
        for (int k = 0; k < t->ndim; k++)
            GD_CHECK(
                k == d || t->shape[k] == ref->shape[k], GD_ERR_RUNTIME,
                "Sizes of tensors must match except in dimension %d. Expected size "
                "%lld but got size %lld for tensor number %d in the list.",
                d, (long long)ref->shape[k], (long long)t->shape[k], i);
        shape[d] += t->shape[d];
    }
    if ((st = gd_empty(ref->dtype, ref->ndim, shape, out)))
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

gd_status gd_stack(int n, gd_tensor *const *ts, int64_t dim, gd_tensor **out) {
    gd_tensor *views[256];
    int d;
    gd_status st;
    *out = NULL;
    GD_CHECK(n > 0, GD_ERR_VALUE, "stack expects a non-empty TensorList");
    GD_CHECK(n <= 256, GD_ERR_RUNTIME, "gdlite stacks at most 256 tensors at once");
    if ((st = gd_wrap_dim(dim, ts[0]->ndim + 1, &d)))
        return st;
    for (int i = 1; i < n; i++) {
        bool same = ts[i]->ndim == ts[0]->ndim &&
                    memcmp(ts[i]->shape, ts[0]->shape,
                           sizeof(int64_t) * (size_t)ts[0]->ndim) == 0;
        if (!same) {
            char a[256], b[256];
            gd_format_shape(a, sizeof a, ts[0]->ndim, ts[0]->shape);
            gd_format_shape(b, sizeof b, ts[i]->ndim, ts[i]->shape);
            return gd_error(GD_ERR_RUNTIME,
                            "stack expects each tensor to be equal size, but got %s at "
                            "entry 0 and %s at entry %d",
                            a, b, i);
        }
    }
    int made = 0;
    for (; made < n && !st; made++)
        st = gd_unsqueeze(ts[made], d, &views[made]);
    if (!st)
        st = gd_cat(n, views, d, out);
    for (int i = 0; i < made; i++)
        gd_tensor_decref(views[i]);
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
    if ((st = check_index(dst, index)) || (st = gd_to_dtype(src, dst->dtype, &vals)))
        return st;
    GD_CHECK(vals->numel == index->numel, GD_ERR_RUNTIME,
             "index_add_: %lld values for %lld positions", (long long)vals->numel,
             (long long)index->numel);
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
