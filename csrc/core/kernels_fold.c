/* Norms, variance and standard deviation in PyTorch's CPU order and types.
 *
 * PyTorch reduces these with a sequential fold per output element
 * (binary_kernel_reduce): float32 norms accumulate in float32, var/std run
 * Welford's update in double. The order of the elements is TensorIterator's:
 * the reduced dims sorted by input stride, smallest first. Three cases
 * differ:
 *  - a 2-norm over rows that are contiguous in memory runs on vectors of 32
 *    bytes (8 floats, 4 doubles), sums the lanes, then adds the leftover
 *    squares one by one;
 *  - a norm down to one element of 32768 or more splits the elements across
 *    PyTorch's threads and adds the per-thread results in thread order;
 *  - var/std down to one element takes the float mean, then sums squared
 *    deviations in double per 2-D piece of the iteration, split across
 *    threads the same way (std_var_all_cpu).
 * Products and sums round separately (-ffp-contract=off here), except in the
 * leftovers of the last-dim 2-norm (see norm2_row). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Dims to walk in TensorIterator's order: [0] moves fastest; element strides. */
typedef struct {
    int n;
    int64_t shape[GD_MAX_DIMS], stride[GD_MAX_DIMS];
    int64_t numel;
} walk;

/* The dims of `a` flagged in `use`, sorted as reorder_dimensions does for a
 * single input (larger stride later; equal strides: larger size later), then
 * merged where they step through memory as one (coalesce_dimensions). */
static void walk_build(const gd_tensor *a, const bool *use, walk *w) {
    int64_t shape[GD_MAX_DIMS], stride[GD_MAX_DIMS];
    int n = 0;
    w->numel = 1;
    for (int d = a->ndim - 1; d >= 0; d--) {
        if (!use[d])
            continue;
        shape[n] = a->shape[d];
        stride[n] = a->strides[d];
        w->numel *= a->shape[d];
        n++;
    }
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0; j--) {
            int64_t s0 = stride[j - 1], s1 = stride[j];
            bool swap = s0 > s1 || (s0 == s1 && shape[j - 1] > shape[j]);
            if (s0 < s1)
                break;
            if (!swap)
                continue; /* undecided: look further back */
            int64_t t = stride[j - 1];
            stride[j - 1] = stride[j];
            stride[j] = t;
            t = shape[j - 1];
            shape[j - 1] = shape[j];
            shape[j] = t;
        }
    }
    w->n = 0;
    for (int i = 0; i < n; i++) {
        if (w->n > 0) {
            int p = w->n - 1;
            if (w->shape[p] == 1) {
                w->shape[p] = shape[i];
                w->stride[p] = stride[i];
                continue;
            }
            if (shape[i] == 1)
                continue;
            if (w->shape[p] * w->stride[p] == stride[i]) {
                w->shape[p] *= shape[i];
                continue;
            }
        }
        w->shape[w->n] = shape[i];
        w->stride[w->n] = stride[i];
        w->n++;
    }
    if (w->n == 0) {
        w->n = 1;
        w->shape[0] = 1;
        w->stride[0] = 0;
    }
}

typedef enum { F_NORM2, F_NORM1, F_NORM0, F_NORMP, F_WELFORD, F_DEV2 } fold_kind;

typedef struct {
    double mean, m2; /* Welford; DEV2 keeps its running sum in m2 */
    int64_t n;
    double f; /* float64 accumulator of the norms */
    float f32;
} fold_acc;

typedef struct {
    fold_kind kind;
    double p, mean; /* NORMP's order; DEV2's mean */
    float p32;
} fold_op;

/* Folds the elements [begin, end) of `w` from `base` into `acc`, piece by
 * piece as serial_for_each hands them out (dim 0 whole where it can be, and
 * as many dim-1 rows as fit). */
#define DEF_FOLD(T, SFX, FABS, POW, ACC, PF)                                           \
    static void fold_##SFX(const walk *w, const T *base, int64_t begin, int64_t end,   \
                           const fold_op *op, fold_acc *acc) {                         \
        int64_t off = begin;                                                           \
        while (off < end) {                                                            \
            int64_t idx[GD_MAX_DIMS] = {0}, rest = off;                                \
            const T *p = base;                                                         \
            for (int d = 0; d < w->n; d++) {                                           \
                idx[d] = rest % w->shape[d];                                           \
                rest /= w->shape[d];                                                   \
                p += idx[d] * w->stride[d];                                            \
            }                                                                          \
            int64_t n0 = w->shape[0] - idx[0];                                         \
            if (end - off < n0)                                                        \
                n0 = end - off;                                                        \
            int64_t n1 = 1;                                                            \
            if (w->n > 1 && n0 == w->shape[0]) {                                       \
                n1 = w->shape[1] - idx[1];                                             \
                if ((end - off) / w->shape[0] < n1)                                    \
                    n1 = (end - off) / w->shape[0];                                    \
            }                                                                          \
            int64_t s0 = w->stride[0], s1 = w->n > 1 ? w->stride[1] : 0;               \
            switch (op->kind) {                                                        \
            case F_NORM2: {                                                            \
                T a = acc->ACC;                                                        \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++) {                                 \
                        T x = p[j * s1 + i * s0];                                      \
                        a = a + x * x;                                                 \
                    }                                                                  \
                acc->ACC = a;                                                          \
                break;                                                                 \
            }                                                                          \
            case F_NORM1: {                                                            \
                T a = acc->ACC;                                                        \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++)                                   \
                        a += FABS(p[j * s1 + i * s0]);                                 \
                acc->ACC = a;                                                          \
                break;                                                                 \
            }                                                                          \
            case F_NORM0: {                                                            \
                T a = acc->ACC;                                                        \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++)                                   \
                        a += p[j * s1 + i * s0] != 0 ? (T)1 : (T)0;                    \
                acc->ACC = a;                                                          \
                break;                                                                 \
            }                                                                          \
            case F_NORMP: {                                                            \
                T a = acc->ACC, e = (T)op->PF;                                         \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++)                                   \
                        a += POW(FABS(p[j * s1 + i * s0]), e);                         \
                acc->ACC = a;                                                          \
                break;                                                                 \
            }                                                                          \
            case F_WELFORD: {                                                          \
                double mean = acc->mean, m2 = acc->m2;                                 \
                int64_t cnt = acc->n;                                                  \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++) {                                 \
                        double x = p[j * s1 + i * s0];                                 \
                        cnt++;                                                         \
                        double delta = x - mean;                                       \
                        mean = mean + delta / (double)cnt;                             \
                        double d2 = x - mean;                                          \
                        m2 = m2 + delta * d2;                                          \
                    }                                                                  \
                acc->mean = mean;                                                      \
                acc->m2 = m2;                                                          \
                acc->n = cnt;                                                          \
                break;                                                                 \
            }                                                                          \
            case F_DEV2: {                                                             \
                double local = 0, mean = op->mean;                                     \
                for (int64_t j = 0; j < n1; j++)                                       \
                    for (int64_t i = 0; i < n0; i++) {                                 \
                        double dx = (double)p[j * s1 + i * s0] - mean;                 \
                        local += dx * dx;                                              \
                    }                                                                  \
                acc->m2 += local;                                                      \
                break;                                                                 \
            }                                                                          \
            }                                                                          \
            off += n0 * n1;                                                            \
        }                                                                              \
    }

DEF_FOLD(float, f32, fabsf, powf, f32, p32)
DEF_FOLD(double, f64, fabs, pow, f, p)

/* 2-norm of a contiguous row as PyTorch's vectorised last-dim kernel: W
 * lanes of squares, the lanes added left to right, then the leftover
 * elements. PyTorch's AVX2 build compiles that leftover loop with FMA and,
 * for floats, runs its first four iterations as a 4-wide vector (squares
 * rounded, then added in order), so only the rest are fused there; `fused`
 * says from which leftover element on (n: none). */
#define DEF_NORM2_ROW(T, W, SFX, FMA, SQRT)                                            \
    static T norm2_row_##SFX(const T *x, int64_t n, int64_t fused) {                   \
        T acc[W] = {0};                                                                \
        int64_t d = 0, full = n - n % W;                                               \
        for (; d < full; d += W)                                                       \
            for (int l = 0; l < W; l++)                                                \
                acc[l] += x[d + l] * x[d + l];                                         \
        T s = acc[0];                                                                  \
        for (int l = 1; l < W; l++)                                                    \
            s = s + acc[l];                                                            \
        for (int64_t k = 0; d < n; d++, k++)                                           \
            s = k >= fused ? FMA(x[d], x[d], s) : s + x[d] * x[d];                     \
        return SQRT(s);                                                                \
    }
DEF_NORM2_ROW(float, 8, f32, fmaf, sqrtf)
DEF_NORM2_ROW(double, 4, f64, fma, sqrt)

/* Up to FOLD_BLOCK outputs whose elements lie along one dim are folded side by
 * side: each keeps its own order, and the independent chains overlap. */
#define FOLD_BLOCK 8
#define DEF_FOLD_BLOCK(T, SFX, FABS, POW, ACC, PF)                                     \
    static void fold_block_##SFX(const T *const *p, int nb, int64_t n, int64_t s,      \
                                 const fold_op *op, fold_acc *acc) {                   \
        T a[FOLD_BLOCK] = {0};                                                         \
        switch (op->kind) {                                                            \
        case F_NORM2:                                                                  \
            for (int64_t i = 0; i < n; i++)                                            \
                for (int b = 0; b < nb; b++) {                                         \
                    T x = p[b][i * s];                                                 \
                    a[b] = a[b] + x * x;                                               \
                }                                                                      \
            break;                                                                     \
        case F_NORM1:                                                                  \
            for (int64_t i = 0; i < n; i++)                                            \
                for (int b = 0; b < nb; b++)                                           \
                    a[b] += FABS(p[b][i * s]);                                         \
            break;                                                                     \
        case F_NORM0:                                                                  \
            for (int64_t i = 0; i < n; i++)                                            \
                for (int b = 0; b < nb; b++)                                           \
                    a[b] += p[b][i * s] != 0 ? (T)1 : (T)0;                            \
            break;                                                                     \
        case F_NORMP: {                                                                \
            T e = (T)op->PF;                                                           \
            for (int64_t i = 0; i < n; i++)                                            \
                for (int b = 0; b < nb; b++)                                           \
                    a[b] += POW(FABS(p[b][i * s]), e);                                 \
            break;                                                                     \
        }                                                                              \
        case F_WELFORD: {                                                              \
            double mean[FOLD_BLOCK] = {0}, m2[FOLD_BLOCK] = {0};                       \
            for (int64_t i = 0; i < n; i++) {                                          \
                double cnt = (double)(i + 1);                                          \
                for (int b = 0; b < nb; b++) {                                         \
                    double x = p[b][i * s];                                            \
                    double delta = x - mean[b];                                        \
                    mean[b] = mean[b] + delta / cnt;                                   \
                    m2[b] = m2[b] + delta * (x - mean[b]);                             \
                }                                                                      \
            }                                                                          \
            for (int b = 0; b < nb; b++) {                                             \
                acc[b].mean = mean[b];                                                 \
                acc[b].m2 = m2[b];                                                     \
                acc[b].n = n;                                                          \
            }                                                                          \
            return;                                                                    \
        }                                                                              \
        case F_DEV2:                                                                   \
            return;                                                                    \
        }                                                                              \
        for (int b = 0; b < nb; b++)                                                   \
            acc[b].ACC = a[b];                                                         \
    }
DEF_FOLD_BLOCK(float, f32, fabsf, powf, f32, p32)
DEF_FOLD_BLOCK(double, f64, fabs, pow, f, p)

/* PyTorch's thread count, capped by the threads this file starts. */
static int fold_threads(void) {
    int v = gd_torch_threads();
    return v > GD_MAX_THREADS ? GD_MAX_THREADS : v;
}

/* Whether PyTorch's reduction kernels run their FMA-built variant here: an
 * AVX2+FMA CPU, unless ATEN_CPU_CAPABILITY asks for the portable build. */
static bool kernels_fma(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v >= 0)
        return v;
    const char *cap = getenv("ATEN_CPU_CAPABILITY");
    v = 0;
#if defined(__x86_64__) || defined(__i386__)
    v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    if (cap && strcmp(cap, "default") == 0)
        v = 0;
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    return v;
}

typedef struct {
    bool f32;
    const walk *w;
    const char *base;
    const fold_op *op;
    int64_t begin, end;
    fold_acc acc;
} chunk_job;

static void *run_chunk(void *arg) {
    chunk_job *j = arg;
    memset(&j->acc, 0, sizeof j->acc);
    if (j->f32)
        fold_f32(j->w, (const float *)j->base, j->begin, j->end, j->op, &j->acc);
    else
        fold_f64(j->w, (const double *)j->base, j->begin, j->end, j->op, &j->acc);
    return NULL;
}

/* Elements [0, numel) folded on PyTorch's thread split: one chunk per thread
 * when there are at least GD_GRAIN of them (at least GD_GRAIN + 1 for
 * std_var_all_cpu's parallel_reduce), partial results then added in thread
 * order. */
static void fold_split(bool f32, const walk *w, const char *base, const fold_op *op,
                       bool strict_grain, fold_acc *total) {
    int64_t numel = w->numel;
    int threads = fold_threads();
    bool split = threads > 1 && (strict_grain ? numel > GD_GRAIN : numel >= GD_GRAIN);
    chunk_job jobs[GD_MAX_THREADS];
    int n = 0;
    if (!split) {
        jobs[n++] =
            (chunk_job){.f32 = f32, .w = w, .base = base, .op = op, .end = numel};
    } else {
        int64_t nt = (numel + GD_GRAIN - 1) / GD_GRAIN;
        if (nt > threads)
            nt = threads;
        int64_t chunk = (numel + nt - 1) / nt;
        for (int64_t t = 0; t < nt && t * chunk < numel; t++)
            jobs[n++] = (chunk_job){.f32 = f32,
                                    .w = w,
                                    .base = base,
                                    .op = op,
                                    .begin = t * chunk,
                                    .end = t * chunk + chunk < numel ? t * chunk + chunk
                                                                     : numel};
    }
    gd_run_jobs(run_chunk, jobs, sizeof jobs[0], n, true);
    memset(total, 0, sizeof *total);
    for (int i = 0; i < n; i++) {
        total->f32 = total->f32 + jobs[i].acc.f32;
        total->f = total->f + jobs[i].acc.f;
        total->m2 = total->m2 + jobs[i].acc.m2;
    }
    if (!split)
        *total = jobs[0].acc;
}

/* The outputs [r0, r1), each from its own elements (multi-output case). */
typedef struct {
    gd_op op;
    double param;
    bool f32;
    const fold_op *fo;
    const walk *w;
    const char *base;
    int nk;
    const int64_t *kshape, *kstride;
    char *out;
    int64_t r0, r1;
    bool single; /* the only output: split across threads as PyTorch does */
} rows_job;

static void finish(const rows_job *j, const fold_acc *acc, int64_t r) {
    double v;
    float v32;
    switch (j->fo->kind) {
    case F_NORM2:
        v32 = sqrtf(acc->f32);
        v = sqrt(acc->f);
        break;
    case F_NORMP:
        v32 = powf(acc->f32, 1.0f / (float)j->param);
        v = pow(acc->f, 1.0 / j->param);
        break;
    case F_WELFORD: {
        double nf = (double)acc->n;
        double var = acc->m2 / (nf > j->param ? nf - j->param : 0.0);
        v = j->op == GD_OP_STD ? sqrt(var) : var;
        v32 = (float)v;
        break;
    }
    default:
        v32 = acc->f32;
        v = acc->f;
    }
    if (j->f32)
        ((float *)j->out)[r] = v32;
    else
        ((double *)j->out)[r] = v;
}

static void *run_rows(void *arg) {
    const rows_job *j = arg;
    const walk *w = j->w;
    int64_t es = j->f32 ? 4 : 8, kidx[GD_MAX_DIMS], rest = j->r0;
    for (int k = j->nk - 1; k >= 0; k--) {
        kidx[k] = rest % j->kshape[k];
        rest /= j->kshape[k];
    }
    bool norm = j->op == GD_OP_NORM;
    bool lastdim = j->fo->kind == F_NORM2 && w->n == 1 && w->stride[0] == 1;
    bool fma_on = lastdim && kernels_fma();
    bool blocked = w->n == 1 && !(norm && w->numel == 1) && !j->single;
    const char *ptrs[FOLD_BLOCK];
    int64_t rows[FOLD_BLOCK];
    int nb = 0;
    for (int64_t r = j->r0; r < j->r1; r++) {
        int64_t off = 0;
        for (int k = 0; k < j->nk; k++)
            off += kidx[k] * j->kstride[k];
        for (int k = j->nk - 1; k >= 0; k--) {
            if (++kidx[k] < j->kshape[k])
                break;
            kidx[k] = 0;
        }
        const char *p = j->base + off * es;
        if (norm && w->numel == 1) {
            /* vector_norm over dims of size 1 is |x| (for p = 0, x != 0). */
            double x = j->f32 ? (double)*(const float *)p : *(const double *)p;
            double v = j->param == 0 ? (double)(x != 0) : fabs(x);
            if (j->f32)
                ((float *)j->out)[r] = (float)v;
            else
                ((double *)j->out)[r] = v;
        } else if (lastdim) {
            int64_t n = w->numel;
            if (j->f32)
                ((float *)j->out)[r] = norm2_row_f32((const float *)p, n,
                                                     !fma_on      ? n
                                                     : n % 8 >= 4 ? 4
                                                                  : 0);
            else
                ((double *)j->out)[r] =
                    norm2_row_f64((const double *)p, n, fma_on ? 0 : n);
        } else if (blocked) {
            ptrs[nb] = p;
            rows[nb++] = r;
            if (nb == FOLD_BLOCK || r + 1 == j->r1) {
                fold_acc acc[FOLD_BLOCK];
                memset(acc, 0, sizeof acc);
                if (j->f32)
                    fold_block_f32((const float *const *)ptrs, nb, w->numel,
                                   w->stride[0], j->fo, acc);
                else
                    fold_block_f64((const double *const *)ptrs, nb, w->numel,
                                   w->stride[0], j->fo, acc);
                for (int b = 0; b < nb; b++)
                    finish(j, &acc[b], rows[b]);
                nb = 0;
            }
        } else {
            fold_acc acc;
            memset(&acc, 0, sizeof acc);
            if (j->single)
                fold_split(j->f32, w, p, j->fo, false, &acc);
            else if (j->f32)
                fold_f32(w, (const float *)p, 0, w->numel, j->fo, &acc);
            else
                fold_f64(w, (const double *)p, 0, w->numel, j->fo, &acc);
            finish(j, &acc, r);
        }
    }
    return NULL;
}

gd_status gd_fold_floating(gd_op op, const gd_tensor *a, const bool *reduced,
                           double param, gd_tensor *out) {
    bool f32 = a->dtype == GD_FLOAT32;
    fold_op fo = {F_NORM2, param, 0, (float)param};
    walk w;
    const char *base = gd_data_ptr(a);
    bool norm = op == GD_OP_NORM;
    if (norm)
        fo.kind = param == 2   ? F_NORM2
                  : param == 1 ? F_NORM1
                  : param == 0 ? F_NORM0
                               : F_NORMP;
    else
        fo.kind = F_WELFORD;
    walk_build(a, reduced, &w);
    /* Outputs in row-major order of the kept dims. */
    int nk = 0;
    int64_t kshape[GD_MAX_DIMS], kstride[GD_MAX_DIMS];
    for (int d = 0; d < a->ndim; d++)
        if (!reduced[d]) {
            kshape[nk] = a->shape[d];
            kstride[nk] = a->strides[d];
            nk++;
        }
    char *o = gd_data_ptr(out);
    if (a->numel == 0) { /* var/std of nothing: PyTorch's quiet NaN */
        for (int64_t r = 0; r < out->numel; r++) {
            if (f32)
                ((float *)o)[r] = NAN;
            else
                ((double *)o)[r] = NAN;
        }
        return GD_OK;
    }
    if (!norm && out->numel == 1) {
        /* std_var_all_cpu: the float mean, then squared deviations in double
         * (the mean's tensor made and freed with the lock held). */
        gd_tensor *m = NULL;
        bool use_all[GD_MAX_DIMS];
        for (int d = 0; d < a->ndim; d++)
            use_all[d] = true;
        int64_t scalar_shape[1] = {1}; /* unused: 0-d */
        gd_status st = gd_empty(a->dtype, 0, scalar_shape, &m);
        if (!st)
            st = gd_sum_floating(a, use_all, false, true, m);
        if (st) {
            gd_tensor_decref(m);
            return st;
        }
        double mean =
            f32 ? (double)*(float *)gd_data_ptr(m) : *(double *)gd_data_ptr(m);
        gd_tensor_decref(m);
        walk all;
        walk_build(a, use_all, &all);
        fo.kind = F_DEV2;
        fo.mean = mean;
        fold_acc acc;
        void *lock = gd_loop_begin(a->numel);
        fold_split(f32, &all, base, &fo, true, &acc);
        double dof = (double)a->numel - param;
        double var = acc.m2 / (dof > 0 ? dof : 0.0);
        if (op == GD_OP_STD)
            var = sqrt(var);
        if (f32)
            *(float *)o = (float)var;
        else
            *(double *)o = var;
        gd_loop_end(lock);
        return GD_OK;
    }
    void *lock = gd_loop_begin(a->numel);
    rows_job jobs[GD_MAX_THREADS];
    int64_t rows = out->numel;
    int n = rows > 1 ? fold_threads() : 1;
    if (n > rows)
        n = (int)rows;
    int64_t per = (rows + n - 1) / n;
    int used = 0;
    for (int t = 0; t < n && t * per < rows; t++, used++)
        jobs[t] = (rows_job){
            op,       param, f32,     &fo,
            &w,       base,  nk,      kshape,
            kstride,  o,     t * per, t * per + per < rows ? t * per + per : rows,
            rows == 1};
    gd_run_jobs(run_rows, jobs, sizeof jobs[0], used, a->numel >= GD_GRAIN);
    gd_loop_end(lock);
    return GD_OK;
}
