/* The view ops by strides: view, reshape, transpose, permute, expand,
 * squeeze, unsqueeze, select and slice, each a gd_as_strided header on its
 * input's storage, with PyTorch's checks and messages. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* Checks a requested shape and resolves its one -1 against `numel`. */
static gd_status infer_shape(int ndim, const int64_t *req, int64_t numel,
                             int64_t *shape) {
    int infer = -1;
    int64_t known = 1;
    char buf[256];
    GD_CHECK(ndim <= GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS, ndim);
    for (int d = 0; d < ndim; d++) {
        if (req[d] == -1) {
            GD_CHECK(infer < 0, GD_ERR_RUNTIME, "only one dimension can be inferred");
            infer = d;
        } else {
            GD_CHECK(req[d] >= 0, GD_ERR_RUNTIME,
                     "invalid shape dimension %lld at index %d of shape %s",
                     (long long)req[d], d, gd_format_shape(buf, sizeof buf, ndim, req));
            known *= req[d];
        }
        shape[d] = req[d];
    }
    GD_CHECK(
        infer < 0 || known > 0 || numel > 0, GD_ERR_RUNTIME,
        "cannot reshape tensor of 0 elements into shape %s because the unspecified "
        "dimension size -1 can be any value and is ambiguous",
        gd_format_shape(buf, sizeof buf, ndim, req));
    bool ok = infer >= 0 ? (known > 0 && numel % known == 0) : known == numel;
    GD_CHECK(ok, GD_ERR_RUNTIME, "shape '%s' is invalid for input of size %lld",
             gd_format_shape(buf, sizeof buf, ndim, req), (long long)numel);
    if (infer >= 0)
        shape[infer] = numel / known;
    return GD_OK;
}

/* Strides that let `shape` view memory laid out as t, or false. Walks the old
 * dims from the back in chunks of memory-contiguous dims; each chunk must be
 * covered exactly by a run of new dims. */
static bool view_strides(const gd_tensor *t, int ndim, const int64_t *shape,
                         int64_t *strides) {
    if (t->numel == 0 || t->ndim == 0) {
        gd_contiguous_strides(ndim, shape, strides);
        return true;
    }
    int view_d = ndim - 1;
    int64_t chunk_stride = t->strides[t->ndim - 1];
    int64_t chunk_numel = 1, view_numel = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        chunk_numel *= t->shape[d];
        bool chunk_ends = d == 0 || (t->shape[d - 1] != 1 &&
                                     t->strides[d - 1] != chunk_numel * chunk_stride);
        if (!chunk_ends)
            continue;
        while (view_d >= 0 && (view_numel < chunk_numel || shape[view_d] == 1)) {
            strides[view_d] = view_numel * chunk_stride;
            view_numel *= shape[view_d];
            view_d--;
        }
        if (view_numel != chunk_numel)
            return false;
        if (d > 0) {
            chunk_stride = t->strides[d - 1];
            chunk_numel = 1;
            view_numel = 1;
        }
    }
    return view_d == -1;
}

gd_status gd_view(const gd_tensor *t, int ndim, const int64_t *req, gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    *out = NULL;
    gd_status st = infer_shape(ndim, req, t->numel, shape);
    if (st)
        return st;
    GD_CHECK(
        view_strides(t, ndim, shape, strides), GD_ERR_RUNTIME,
        "view size is not compatible with input tensor's size and stride (at least "
        "one dimension spans across two contiguous subspaces). Use .reshape(...) "
        "instead.");
    return gd_as_strided(t, ndim, shape, strides, t->offset, out);
}

bool gd_reshape_copies(const gd_tensor *t, int ndim, const int64_t *req) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    for (int d = 0; d < ndim; d++) /* an invalid shape: gd_reshape says why */
        if (req[d] < -1)
            return false;
    if (infer_shape(ndim, req, t->numel, shape))
        return false;
    return !view_strides(t, ndim, shape, strides);
}

gd_status gd_reshape(const gd_tensor *t, int ndim, const int64_t *req,
                     gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    *out = NULL;
    gd_status st = infer_shape(ndim, req, t->numel, shape);
    if (st)
        return st;
    if (view_strides(t, ndim, shape, strides))
        return gd_as_strided(t, ndim, shape, strides, t->offset, out);
    gd_tensor *c = NULL;
    st = gd_contiguous(t, &c);
    if (st)
        return st;
    st = gd_view(c, ndim, shape, out);
    gd_tensor_decref(c);
    if (!st)
        (*out)->is_view = false; /* a view of a private copy: the result owns it */
    return st;
}

gd_status gd_transpose(const gd_tensor *t, int64_t dim0, int64_t dim1,
                       gd_tensor **out) {
    int d0 = 0, d1 = 0;
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    gd_status st;
    *out = NULL;
    if ((st = gd_wrap_dim(dim0, t->ndim, &d0)) ||
        (st = gd_wrap_dim(dim1, t->ndim, &d1)))
        return st;
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
    if (t->ndim > 0) {
        shape[d0] = t->shape[d1];
        shape[d1] = t->shape[d0];
        strides[d0] = t->strides[d1];
        strides[d1] = t->strides[d0];
    }
    return gd_as_strided(t, t->ndim, shape, strides, t->offset, out);
}

gd_status gd_permute(const gd_tensor *t, int ndim, const int64_t *dims,
                     gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    gd_dim_set seen = 0;
    *out = NULL;
    GD_CHECK(
        ndim == t->ndim, GD_ERR_RUNTIME,
        "permute(sparse_coo): number of dimensions in the tensor input does not "
        "match the length of the desired ordering of dimensions i.e. input.dim() = "
        "%d is not equal to len(dims) = %d",
        t->ndim, ndim);
    for (int i = 0; i < ndim; i++) {
        int d;
        gd_status st = gd_wrap_dim(dims[i], t->ndim, &d);
        if (st)
            return st;
        GD_CHECK(!(seen & GD_DIM_BIT(d)), GD_ERR_RUNTIME,
                 "permute(): duplicate dims are not allowed.");
        seen |= GD_DIM_BIT(d);
        shape[i] = t->shape[d];
        strides[i] = t->strides[d];
    }
    return gd_as_strided(t, ndim, shape, strides, t->offset, out);
}

gd_status gd_expand(const gd_tensor *t, int ndim, const int64_t *req, gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    char want[256], have[256];
    *out = NULL;
    GD_CHECK(ndim <= GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS, ndim);
    if (ndim < t->ndim) {
        gd_format_shape(want, sizeof want, ndim, req);
        gd_format_shape(have, sizeof have, t->ndim, t->shape);
        return gd_error(
            GD_ERR_RUNTIME,
            "expand(gdlite.%s{%s}, size=%s): the number of sizes provided (%d) "
            "must be greater or equal to the number of dimensions in the "
            "tensor (%d)",
            gd_dtype_legacy_name(t->dtype), have, want, ndim, t->ndim);
    }
    for (int i = ndim - 1; i >= 0; i--) {
        int d = i - (ndim - t->ndim);
        if (d < 0) {
            GD_CHECK(
                req[i] >= 0, GD_ERR_RUNTIME,
                "The expanded size of the tensor (%lld) isn't allowed in a leading, "
                "non-existing dimension %d",
                (long long)req[i], i);
            shape[i] = req[i];
            /* PyTorch's inferExpandGeometry: a new dim of size 1 takes the
             * stride a contiguous dim there would have (a 0-d tensor: 0),
             * only a stretched one 0 */
            strides[i] = req[i] != 1 || t->ndim == 0
                             ? 0
                             : (i + 1 < ndim ? shape[i + 1] * strides[i + 1] : 1);
            continue;
        }
        int64_t size = req[i] == -1 ? t->shape[d] : req[i];
        if (t->shape[d] == size) {
            shape[i] = size;
            strides[i] = t->strides[d];
        } else if (t->shape[d] == 1 && size >= 0) {
            shape[i] = size;
            strides[i] = 0;
        } else {
            gd_format_shape(want, sizeof want, ndim, req);
            gd_format_shape(have, sizeof have, t->ndim, t->shape);
            return gd_error(
                GD_ERR_RUNTIME,
                "The expanded size of the tensor (%lld) must match the "
                "existing size (%lld) at non-singleton dimension %d.  Target "
                "sizes: %s.  Tensor sizes: %s",
                (long long)size, (long long)t->shape[d], i, want, have);
        }
    }
    return gd_as_strided(t, ndim, shape, strides, t->offset, out);
}

gd_status gd_squeeze(const gd_tensor *t, int ndims, const int64_t *dims,
                     gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    gd_dim_set drop = 0;
    int n = 0;
    *out = NULL;
    for (int i = 0; i < ndims; i++) {
        int d;
        gd_status st = gd_wrap_dim(dims[i], t->ndim, &d);
        if (st)
            return st;
        if (t->ndim > 0)
            drop |= t->shape[d] == 1 ? GD_DIM_BIT(d) : 0;
    }
    for (int d = 0; d < t->ndim; d++) {
        if (ndims < 0 ? t->shape[d] == 1 : (drop & GD_DIM_BIT(d)) != 0)
            continue;
        shape[n] = t->shape[d];
        strides[n++] = t->strides[d];
    }
    return gd_as_strided(t, n, shape, strides, t->offset, out);
}

gd_status gd_unsqueeze(const gd_tensor *t, int64_t dim, gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    int d;
    *out = NULL;
    gd_status st = gd_wrap_dim(dim, t->ndim + 1, &d);
    if (st)
        return st;
    GD_CHECK(t->ndim < GD_MAX_DIMS, GD_ERR_RUNTIME,
             "gdlite supports at most %d dimensions, got %d", GD_MAX_DIMS, t->ndim + 1);
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == d) {
            shape[i] = 1;
            strides[i] = d < t->ndim ? t->strides[d] * t->shape[d] : 1;
        } else {
            shape[i] = t->shape[j];
            strides[i] = t->strides[j++];
        }
    }
    return gd_as_strided(t, t->ndim + 1, shape, strides, t->offset, out);
}

gd_status gd_select(const gd_tensor *t, int64_t dim, int64_t index, gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    int d, n = 0;
    *out = NULL;
    GD_CHECK(t->ndim > 0, GD_ERR_INDEX,
             "select() cannot be applied to a 0-dim tensor.");
    gd_status st = gd_wrap_dim(dim, t->ndim, &d);
    if (st)
        return st;
    int64_t size = t->shape[d];
    if (index < -size || index >= size) {
        char buf[256];
        gd_format_shape(buf, sizeof buf, t->ndim, t->shape);
        return gd_error(GD_ERR_INDEX,
                        "select(): index %lld out of range for tensor of size %s at "
                        "dimension %d",
                        (long long)index, buf, d);
    }
    if (index < 0)
        index += size;
    for (int i = 0; i < t->ndim; i++) {
        if (i == d)
            continue;
        shape[n] = t->shape[i];
        strides[n++] = t->strides[i];
    }
    return gd_as_strided(t, n, shape, strides, t->offset + index * t->strides[d], out);
}

gd_status gd_slice(const gd_tensor *t, int64_t dim, int64_t start, int64_t stop,
                   int64_t step, gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS], strides[GD_MAX_DIMS];
    int d;
    *out = NULL;
    GD_CHECK(step > 0, GD_ERR_VALUE, "step must be greater than zero");
    gd_status st = gd_wrap_dim(dim, t->ndim, &d);
    if (st)
        return st;
    int64_t size = t->shape[d];
    if (start < 0)
        start = start + size < 0 ? 0 : start + size;
    if (stop < 0)
        stop = stop + size < 0 ? 0 : stop + size;
    if (start > size)
        start = size;
    if (stop > size)
        stop = size;
    int64_t len = stop > start ? (stop - start + step - 1) / step : 0;
    memcpy(shape, t->shape, sizeof shape);
    memcpy(strides, t->strides, sizeof strides);
    shape[d] = len;
    strides[d] = t->strides[d] * step;
    return gd_as_strided(t, t->ndim, shape, strides, t->offset + start * t->strides[d],
                         out);
}
