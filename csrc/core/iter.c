/* The strided n-d iteration every elementwise kernel runs on, and the memory
 * layout of elementwise results: ATen's TensorIterator's dim order. */
#include "internal.h"

#include <string.h>

/* Operand t's stride (elements) along dim d of the broadcast `shape`: 0
 * where t repeats along it. */
static int64_t broadcast_stride(const gd_tensor *t, int ndim, const int64_t *shape,
                                int d) {
    int td = d - (ndim - t->ndim);
    if (td < 0 || (t->shape[td] == 1 && shape[d] != 1))
        return 0;
    return t->strides[td];
}

/* TensorIterator's comparison of two dims, d0 now the faster-moving: the
 * operands in turn, skipping those repeating along either; a smaller stride
 * keeps the order (-1), a larger one swaps (1), and equal strides swap when
 * d0 is the larger. 0: no operand decided. */
static int should_swap(int nops, const gd_tensor *const *ops, int ndim,
                       const int64_t *shape, int d0, int d1) {
    for (int i = 0; i < nops; i++) {
        int64_t s0 = broadcast_stride(ops[i], ndim, shape, d0);
        int64_t s1 = broadcast_stride(ops[i], ndim, shape, d1);
        if (s0 == 0 || s1 == 0)
            continue;
        if (s0 != s1)
            return s0 < s1 ? -1 : 1;
        if (shape[d0] > shape[d1])
            return 1;
    }
    return 0;
}

/* The dims from fastest- to slowest-moving: TensorIterator's insertion sort,
 * from the row-major order, each dim moving in until a pair is decided in
 * order. Returns whether the order is row-major. */
static bool dim_order(int nops, const gd_tensor *const *ops, int ndim,
                      const int64_t *shape, int *perm) {
    for (int i = 0; i < ndim; i++)
        perm[i] = ndim - 1 - i;
    bool row_major = true;
    for (int i = 1; i < ndim; i++) {
        int d1 = i;
        for (int d0 = i - 1; d0 >= 0; d0--) {
            int c = should_swap(nops, ops, ndim, shape, perm[d0], perm[d1]);
            if (c < 0)
                break;
            if (c > 0) {
                int tmp = perm[d0];
                perm[d0] = perm[d1];
                perm[d1] = tmp;
                d1 = d0;
                row_major = false;
            }
        }
    }
    return row_major;
}

/* Dense strides laying the dims out in `perm`'s order, fastest first. A
 * size-0 dim counts as 1 for *_like's and the channels-last formats; in
 * TensorIterator's own layout it zeroes the strides after it. */
static void dense_strides(int ndim, const int64_t *shape, const int *perm,
                          bool zero_as_one, int64_t *strides) {
    int64_t next = 1;
    for (int i = 0; i < ndim; i++) {
        int d = perm[i];
        strides[d] = next;
        next *= shape[d] == 0 && zero_as_one ? 1 : shape[d];
    }
}

/* The channels-last formats' dims, fastest first: C, W, H, N (and D). */
static const int nhwc_order[4] = {1, 3, 2, 0}, ndhwc_order[5] = {1, 4, 3, 2, 0};

/* PyTorch's is_contiguous(memory_format=channels_last): a 4-d tensor laid
 * out as N, H, W, C (size-1 dims not counted). */
static bool channels_last(const gd_tensor *t) {
    int64_t expected = 1;
    if (t->ndim != 4)
        return false;
    for (int k = 0; k < 4; k++) {
        int d = nhwc_order[k];
        if (t->shape[d] == 1)
            continue;
        if (t->strides[d] != expected)
            return false;
        expected *= t->shape[d];
    }
    return true;
}

static bool same_strides(const gd_tensor *a, const gd_tensor *b) {
    return a->ndim == b->ndim &&
           memcmp(a->strides, b->strides, sizeof(int64_t) * (size_t)a->ndim) == 0;
}

bool gd_result_strides(int nins, const gd_tensor *const *ins, int ndim,
                       const int64_t *shape, int64_t *strides) {
    bool same_shape = true, contiguous = true, nhwc = true, dense_alike = true;
    for (int i = 0; i < nins; i++) {
        const gd_tensor *t = ins[i];
        same_shape = same_shape && t->ndim == ndim &&
                     memcmp(t->shape, shape, sizeof(int64_t) * (size_t)ndim) == 0;
        contiguous = contiguous && gd_is_contiguous(t);
        nhwc = nhwc && channels_last(t);
        dense_alike =
            dense_alike && gd_is_non_overlapping_dense(t) && same_strides(t, ins[0]);
    }
    int perm[GD_MAX_DIMS];
    if (same_shape && !contiguous && nhwc) {
        gd_format_strides(GD_FORMAT_CHANNELS_LAST, ins[0], strides);
    } else if (same_shape && !contiguous && dense_alike) {
        memcpy(strides, ins[0]->strides, sizeof(int64_t) * (size_t)ndim);
    } else if ((same_shape && contiguous) || dim_order(nins, ins, ndim, shape, perm)) {
        gd_contiguous_strides(ndim, shape, strides);
        return true;
    } else {
        dense_strides(ndim, shape, perm, false, strides);
    }
    return false;
}

gd_status gd_empty_result(gd_dtype dtype, int nins, const gd_tensor *const *ins,
                          int ndim, const int64_t *shape, gd_tensor **out) {
    int64_t strides[GD_MAX_DIMS];
    /* A contiguous result is allocated as empty() (its size error too). */
    if (gd_result_strides(nins, ins, ndim, shape, strides))
        return gd_empty(dtype, ndim, shape, out);
    return gd_empty_dense(dtype, ndim, shape, strides, out);
}

gd_status gd_format_strides(gd_memory_format format, const gd_tensor *t,
                            int64_t *strides) {
    switch (format) {
    case GD_FORMAT_PRESERVE:
        gd_preserved_strides(t, strides);
        return GD_OK;
    case GD_FORMAT_CHANNELS_LAST:
        GD_CHECK(t->ndim == 4, GD_ERR_RUNTIME,
                 "required rank 4 tensor to use channels_last format");
        dense_strides(4, t->shape, nhwc_order, true, strides);
        return GD_OK;
    case GD_FORMAT_CHANNELS_LAST_3D:
        GD_CHECK(t->ndim == 5, GD_ERR_RUNTIME,
                 "required rank 5 tensor to use channels_last_3d format");
        dense_strides(5, t->shape, ndhwc_order, true, strides);
        return GD_OK;
    default:
        gd_contiguous_strides(t->ndim, t->shape, strides);
        return GD_OK;
    }
}

void gd_preserved_strides(const gd_tensor *t, int64_t *strides) {
    int perm[GD_MAX_DIMS];
    if (gd_is_non_overlapping_dense(t)) {
        memcpy(strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
        return;
    }
    const gd_tensor *ops[1] = {t};
    dim_order(1, ops, t->ndim, t->shape, perm);
    dense_strides(t->ndim, t->shape, perm, true, strides);
}

int gd_loop_nest(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                 int64_t *dims, int64_t (*strides)[GD_ITER_MAX_OPERANDS]) {
    int perm[GD_MAX_DIMS];
    int n = 0;
    dim_order(nops, ops, ndim, shape, perm);
    /* Byte strides per operand, slowest dim first; size-1 dims dropped. */
    for (int k = ndim - 1; k >= 0; k--) {
        int d = perm[k];
        if (shape[d] == 1)
            continue;
        dims[n] = shape[d];
        for (int i = 0; i < nops; i++)
            strides[n][i] = broadcast_stride(ops[i], ndim, shape, d) *
                            (int64_t)gd_dtype_size(ops[i]->dtype);
        n++;
    }
    if (n == 0)
        return 0;
    /* Merge dim k into the one outside it where every operand steps through
     * both as one. */
    int m = 0;
    for (int k = 1; k < n; k++) {
        bool merge = true;
        for (int i = 0; i < nops && merge; i++)
            merge = strides[m][i] == strides[k][i] * dims[k];
        if (merge) {
            dims[m] *= dims[k];
            for (int i = 0; i < nops; i++)
                strides[m][i] = strides[k][i];
        } else {
            m++;
            dims[m] = dims[k];
            memcpy(strides[m], strides[k], sizeof strides[k]);
        }
    }
    return m + 1;
}

void gd_iterate(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                gd_loop_fn loop, void *ctx) {
    gd_iterate_split(nops, ops, ndim, shape, loop, ctx, 0);
}

void gd_iterate_split(int nops, const gd_tensor *const *ops, int ndim,
                      const int64_t *shape, gd_loop_fn loop, void *ctx, int64_t grain) {
    int64_t dims[GD_MAX_DIMS];
    int64_t strides[GD_MAX_DIMS][GD_ITER_MAX_OPERANDS];
    char *data[GD_ITER_MAX_OPERANDS];

    for (int d = 0; d < ndim; d++)
        if (shape[d] == 0)
            return;
    for (int i = 0; i < nops; i++)
        data[i] = gd_data_ptr(ops[i]);
    int n = gd_loop_nest(nops, ops, ndim, shape, dims, strides);
    if (n == 0) {
        int64_t zero[GD_ITER_MAX_OPERANDS] = {0};
        loop(data, zero, 1, ctx);
        return;
    }
    int64_t work = 1;
    for (int d = 0; d < n; d++)
        work *= dims[d];
    gd_unlocked lock;
    gd_unlock_for(&lock, work, nops, ops);
    if (grain && n == 1) { /* one run: ATen's chunks on the pool */
        gd_loop_split(loop, nops, data, strides[0], work, ctx, grain);
        gd_relock(&lock);
        return;
    }
    int inner = n - 1;
    int64_t counter[GD_MAX_DIMS]; /* only the outer `inner` dims count */
    for (int d = 0; d < inner; d++)
        counter[d] = 0;
    for (;;) {
        loop(data, strides[inner], dims[inner], ctx);
        int d = inner - 1;
        for (; d >= 0; d--) {
            for (int i = 0; i < nops; i++)
                data[i] += strides[d][i];
            if (++counter[d] < dims[d])
                break;
            for (int i = 0; i < nops; i++)
                data[i] -= strides[d][i] * dims[d];
            counter[d] = 0;
        }
        if (d < 0)
            break;
    }
    gd_relock(&lock);
}

typedef struct {
    gd_loop_fn loop;
    char *data[GD_ITER_MAX_OPERANDS];
    int64_t strides[GD_ITER_MAX_OPERANDS];
    int64_t n;
    void *ctx;
} flat_job;

static void *run_flat_job(void *arg) {
    flat_job *j = arg;
    j->loop(j->data, j->strides, j->n, j->ctx);
    return NULL;
}

void gd_loop_split(gd_loop_fn loop, int nops, char *const *data, const int64_t *strides,
                   int64_t n, void *ctx, int64_t grain) {
    int64_t size;
    if (nops > GD_ITER_MAX_OPERANDS || gd_aten_chunks(n, grain, &size) < 2) {
        loop((char **)data, strides, n, ctx);
        return;
    }
    flat_job jobs[GD_MAX_THREADS];
    int used = 0;
    for (int64_t b = 0; b < n; b += size) {
        flat_job *j = &jobs[used++];
        j->loop = loop;
        for (int k = 0; k < nops; k++) {
            j->data[k] = data[k] + b * strides[k];
            j->strides[k] = strides[k];
        }
        j->n = n - b < size ? n - b : size;
        j->ctx = ctx;
    }
    gd_run_jobs(run_flat_job, jobs, sizeof jobs[0], used, true);
}
