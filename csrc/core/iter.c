/* The strided n-d iteration every elementwise kernel runs on. */
#include "internal.h"

#include <string.h>

void gd_iterate(int nops, const gd_tensor *const *ops, int ndim, const int64_t *shape,
                gd_loop_fn loop, void *ctx) {
    int64_t dims[GD_MAX_DIMS];
    int64_t strides[GD_MAX_DIMS][GD_ITER_MAX_OPERANDS];
    char *data[GD_ITER_MAX_OPERANDS];
    int n = 0;

    for (int d = 0; d < ndim; d++)
        if (shape[d] == 0)
            return;
    for (int i = 0; i < nops; i++)
        data[i] = gd_data_ptr(ops[i]);
    /* Byte strides per operand with broadcasting; size-1 dims dropped. */
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1)
            continue;
        dims[n] = shape[d];
        for (int i = 0; i < nops; i++) {
            const gd_tensor *t = ops[i];
            int td = d - (ndim - t->ndim);
            int64_t s = (td >= 0 && t->shape[td] != 1) ? t->strides[td] : 0;
            strides[n][i] = s * (int64_t)gd_dtype_size(t->dtype);
        }
        n++;
    }
    /* Merge dim k into k-1 where every operand steps through both as one. */
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
    if (n == 0) {
        int64_t zero[GD_ITER_MAX_OPERANDS] = {0};
        loop(data, zero, 1, ctx);
        return;
    }
    n = m + 1;
    int64_t work = 1;
    for (int d = 0; d < n; d++)
        work *= dims[d];
    int inner = n - 1;
    int64_t counter[GD_MAX_DIMS]; /* only the outer `inner` dims count */
    for (int d = 0; d < inner; d++)
        counter[d] = 0;
    void *lock = gd_loop_begin(work);
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
    gd_loop_end(lock);
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
    if (gd_aten_chunks(n, grain, &size) < 2) {
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
