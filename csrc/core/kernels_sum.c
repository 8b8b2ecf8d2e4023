/* Floating sum and mean in PyTorch's CPU accumulation type and order.
 *
 * PyTorch sums float32 in float32 and float64 in float64, and the result's
 * last bits depend on the order of the additions. That order is set by
 * (1) how TensorIterator sorts and merges the dims of input and output,
 * (2) how a reduction above 32768 elements is split across PyTorch's threads,
 * (3) which of four cascade-sum loops handles each 2-D piece, and
 * (4) the width of its SIMD vectors: 32 bytes. PyTorch registers its sum
 * kernel for AVX2 and the portable build but not for AVX-512, so even on an
 * AVX-512 CPU sums run on 8 floats or 4 doubles at a time.
 * This file reproduces all four, so the results equal PyTorch's bit for bit
 * at PyTorch's default thread count on this machine. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define GD_SUM_X86 1
#include <immintrin.h>
#define AVX2_SUM __attribute__((target("avx2")))
#endif

#define ILP 4    /* partial sums per row (PyTorch's ilp_factor) */
#define LEVELS 4 /* cascade levels */

static int ceil_log2(int64_t x) {
    return x <= 2 ? 1 : 64 - __builtin_clzll((unsigned long long)(x - 1));
}

/* The cascade below with each row's lanes as one AVX2 vector, its sums kept
 * in registers: the same additions per lane in the same order, so the same
 * bits, without the compiler's trips through memory at each level. */
#ifdef GD_SUM_X86
#define DEF_CASCADE_AVX2(T, V, P, SUFFIX, SFX)                                         \
    AVX2_SUM static void cascade_##SFX(T ret[ILP][32 / sizeof(T)], const char *in,     \
                                       int64_t row_stride, int64_t col_stride,         \
                                       int64_t size) {                                 \
        int level_power = ceil_log2(size) / LEVELS;                                    \
        if (level_power < 4)                                                           \
            level_power = 4;                                                           \
        const int64_t step = (int64_t)1 << level_power, mask = step - 1;               \
        V acc[LEVELS][ILP];                                                            \
        for (int j = 0; j < LEVELS; j++)                                               \
            for (int k = 0; k < ILP; k++)                                              \
                acc[j][k] = P##_setzero_##SUFFIX();                                    \
        int64_t i = 0;                                                                 \
        while (i + step <= size) {                                                     \
            for (int64_t j = 0; j < step; j++, i++) {                                  \
                const char *base = in + i * row_stride;                                \
                for (int k = 0; k < ILP; k++)                                          \
                    acc[0][k] = P##_add_##SUFFIX(                                      \
                        acc[0][k],                                                     \
                        P##_loadu_##SUFFIX((const T *)(base + k * col_stride)));       \
            }                                                                          \
            for (int j = 1; j < LEVELS; j++) {                                         \
                for (int k = 0; k < ILP; k++) {                                        \
                    acc[j][k] = P##_add_##SUFFIX(acc[j][k], acc[j - 1][k]);            \
                    acc[j - 1][k] = P##_setzero_##SUFFIX();                            \
                }                                                                      \
                if ((i & (mask << (j * level_power))) != 0)                            \
                    break;                                                             \
            }                                                                          \
        }                                                                              \
        for (; i < size; i++) {                                                        \
            const char *base = in + i * row_stride;                                    \
            for (int k = 0; k < ILP; k++)                                              \
                acc[0][k] = P##_add_##SUFFIX(                                          \
                    acc[0][k],                                                         \
                    P##_loadu_##SUFFIX((const T *)(base + k * col_stride)));           \
        }                                                                              \
        for (int j = 1; j < LEVELS; j++)                                               \
            for (int k = 0; k < ILP; k++)                                              \
                acc[0][k] = P##_add_##SUFFIX(acc[0][k], acc[j][k]);                    \
        for (int k = 0; k < ILP; k++)                                                  \
            P##_storeu_##SUFFIX(ret[k], acc[0][k]);                                    \
    }
DEF_CASCADE_AVX2(float, __m256, _mm256, ps, f32_8)
DEF_CASCADE_AVX2(double, __m256d, _mm256, pd, f64_4)
/* Runs the vector cascade for 32-byte rows where the CPU has AVX2. */
#define VECTOR_CASCADE(SFX, ret, in, row_stride, col_stride, size)                     \
    VECTOR_CASCADE_##SFX(ret, in, row_stride, col_stride, size)
#define VECTOR_CASCADE_f32_8(ret, in, rs, cs, size)                                    \
    (gd_math_avx2() && (cascade_f32_8(ret, in, rs, cs, size), true))
#define VECTOR_CASCADE_f64_4(ret, in, rs, cs, size)                                    \
    (gd_math_avx2() && (cascade_f64_4(ret, in, rs, cs, size), true))
#else
#define VECTOR_CASCADE(SFX, ret, in, row_stride, col_stride, size) false
#endif
#ifndef VECTOR_CASCADE_f32_1
#define VECTOR_CASCADE_f32_1(ret, in, rs, cs, size) false
#define VECTOR_CASCADE_f64_1(ret, in, rs, cs, size) false
#endif

/* Cascade sums of four rows at once (PyTorch's multi_row_sum), each row L
 * lanes wide: element i of row k, lane l, is at in + i*row_stride +
 * k*col_stride + l*sizeof(T). Partial sums move up a level every
 * 2^level_power elements, so only sums of similar size meet. */
#define DEF_MULTI_ROW_SUM(T, L, SFX)                                                   \
    static void multi_row_sum_##SFX(T ret[ILP][L], const char *in, int64_t row_stride, \
                                    int64_t col_stride, int64_t size) {                \
        if (size == 0) { /* the common small case: nothing to merge */                 \
            memset(ret, 0, sizeof(T[ILP][L]));                                         \
            return;                                                                    \
        }                                                                              \
        if (VECTOR_CASCADE(SFX, ret, in, row_stride, col_stride, size))                \
            return;                                                                    \
        int level_power = ceil_log2(size) / LEVELS;                                    \
        if (level_power < 4)                                                           \
            level_power = 4;                                                           \
        const int64_t step = (int64_t)1 << level_power, mask = step - 1;               \
        T acc[LEVELS][ILP][L];                                                         \
        memset(acc, 0, sizeof acc);                                                    \
        int64_t i = 0;                                                                 \
        while (i + step <= size) {                                                     \
            for (int64_t j = 0; j < step; j++, i++) {                                  \
                const char *base = in + i * row_stride;                                \
                for (int k = 0; k < ILP; k++) {                                        \
                    const T *p = (const T *)(base + k * col_stride);                   \
                    for (int l = 0; l < L; l++)                                        \
                        acc[0][k][l] += p[l];                                          \
                }                                                                      \
            }                                                                          \
            for (int j = 1; j < LEVELS; j++) {                                         \
                for (int k = 0; k < ILP; k++)                                          \
                    for (int l = 0; l < L; l++) {                                      \
                        acc[j][k][l] += acc[j - 1][k][l];                              \
                        acc[j - 1][k][l] = 0;                                          \
                    }                                                                  \
                if ((i & (mask << (j * level_power))) != 0)                            \
                    break;                                                             \
            }                                                                          \
        }                                                                              \
        for (; i < size; i++) {                                                        \
            const char *base = in + i * row_stride;                                    \
            for (int k = 0; k < ILP; k++) {                                            \
                const T *p = (const T *)(base + k * col_stride);                       \
                for (int l = 0; l < L; l++)                                            \
                    acc[0][k][l] += p[l];                                              \
            }                                                                          \
        }                                                                              \
        for (int j = 1; j < LEVELS; j++)                                               \
            for (int k = 0; k < ILP; k++)                                              \
                for (int l = 0; l < L; l++)                                            \
                    acc[0][k][l] += acc[j][k][l];                                      \
        memcpy(ret, acc[0], sizeof acc[0]);                                            \
    }                                                                                  \
    /* One row of `size` L-lane elements `stride` bytes apart (row_sum): ILP           \
     * interleaved cascades, then the leftover elements, then the partials. */         \
    static void row_sum_##SFX(T ret[L], const char *in, int64_t stride,                \
                              int64_t size) {                                          \
        T part[ILP][L];                                                                \
        int64_t size_ilp = size / ILP;                                                 \
        multi_row_sum_##SFX(part, in, stride * ILP, stride, size_ilp);                 \
        for (int64_t i = size_ilp * ILP; i < size; i++) {                              \
            const T *p = (const T *)(in + i * stride);                                 \
            for (int l = 0; l < L; l++)                                                \
                part[0][l] += p[l];                                                    \
        }                                                                              \
        for (int k = 1; k < ILP; k++)                                                  \
            for (int l = 0; l < L; l++)                                                \
                part[0][l] += part[k][l];                                              \
        memcpy(ret, part[0], sizeof part[0]);                                          \
    }

DEF_MULTI_ROW_SUM(float, 1, f32_1)
DEF_MULTI_ROW_SUM(float, 8, f32_8)
DEF_MULTI_ROW_SUM(double, 1, f64_1)
DEF_MULTI_ROW_SUM(double, 4, f64_4)

/* The 2-D loop PyTorch's cascade_sum runs on each piece of the iteration:
 * size0 x size1 elements, strides {out0, in0, out1, in1} in bytes; each
 * output element gets its piece's sum added to it. W is the vector width in
 * elements. */
#define DEF_SUM_LOOP(T, W, SFX, VSFX)                                                  \
    static void sum_loop_##VSFX(char *out, const char *in, const int64_t st[4],        \
                                int64_t size0, int64_t size1) {                        \
        int64_t in_s[2] = {st[1], st[3]}, out_s[2] = {st[0], st[2]};                   \
        if (out_s[0] != 0 && out_s[1] == 0) {                                          \
            int64_t t = in_s[0];                                                       \
            in_s[0] = in_s[1];                                                         \
            in_s[1] = t;                                                               \
            t = out_s[0];                                                              \
            out_s[0] = out_s[1];                                                       \
            out_s[1] = t;                                                              \
            t = size0;                                                                 \
            size0 = size1;                                                             \
            size1 = t;                                                                 \
        }                                                                              \
        const int64_t es = (int64_t)sizeof(T), os = out_s[1];                          \
        if (out_s[0] != 0) { /* nothing reduced here: out += in */                     \
            for (int64_t j = 0; j < size1; j++)                                        \
                for (int64_t i = 0; i < size0; i++)                                    \
                    *(T *)(out + i * out_s[0] + j * out_s[1]) +=                       \
                        *(const T *)(in + i * in_s[0] + j * in_s[1]);                  \
            return;                                                                    \
        }                                                                              \
        if (in_s[0] == es && size0 >= W) { /* contiguous inner reduction */            \
            int64_t nvec = size0 / W;                                                  \
            for (int64_t j = 0; j < size1; j++) {                                      \
                const char *row = in + j * in_s[1];                                    \
                T vacc[W];                                                             \
                row_sum_##VSFX(vacc, row, W * es, nvec);                               \
                T acc = 0;                                                             \
                for (int64_t k = nvec * W; k < size0; k++)                             \
                    acc += ((const T *)row)[k];                                        \
                for (int l = 0; l < W; l++)                                            \
                    acc += vacc[l];                                                    \
                *(T *)(out + j * os) += acc;                                           \
            }                                                                          \
        } else if (in_s[1] == es && size1 >= W) { /* contiguous outer reduction */     \
            int64_t j = 0;                                                             \
            for (; j + ILP * W <= size1; j += ILP * W) {                               \
                T sums[ILP][W];                                                        \
                multi_row_sum_##VSFX(sums, in + j * es, in_s[0], W * es, size0);       \
                for (int k = 0; k < ILP; k++)                                          \
                    for (int l = 0; l < W; l++)                                        \
                        *(T *)(out + (j + k * W + l) * os) += sums[k][l];              \
            }                                                                          \
            for (; j + W <= size1; j += W) {                                           \
                T sums[W];                                                             \
                row_sum_##VSFX(sums, in + j * es, in_s[0], size0);                     \
                for (int l = 0; l < W; l++)                                            \
                    *(T *)(out + (j + l) * os) += sums[l];                             \
            }                                                                          \
            for (; j < size1; j++) {                                                   \
                T s[1];                                                                \
                row_sum_##SFX(s, in + j * es, in_s[0], size0);                         \
                *(T *)(out + j * os) += s[0];                                          \
            }                                                                          \
        } else if (in_s[0] < in_s[1]) { /* strided inner reduction */                  \
            for (int64_t j = 0; j < size1; j++) {                                      \
                T s[1];                                                                \
                row_sum_##SFX(s, in + j * in_s[1], in_s[0], size0);                    \
                *(T *)(out + j * os) += s[0];                                          \
            }                                                                          \
        } else { /* strided outer reduction */                                         \
            int64_t j = 0;                                                             \
            for (; j + ILP - 1 < size1; j += ILP) {                                    \
                T sums[ILP][1];                                                        \
                multi_row_sum_##SFX(sums, in + j * in_s[1], in_s[0], in_s[1], size0);  \
                for (int k = 0; k < ILP; k++)                                          \
                    *(T *)(out + (j + k) * os) += sums[k][0];                          \
            }                                                                          \
            for (; j < size1; j++) {                                                   \
                T s[1];                                                                \
                row_sum_##SFX(s, in + j * in_s[1], in_s[0], size0);                    \
                *(T *)(out + j * os) += s[0];                                          \
            }                                                                          \
        }                                                                              \
    }

DEF_SUM_LOOP(float, 8, f32_1, f32_8)
DEF_SUM_LOOP(double, 4, f64_1, f64_4)

typedef void (*sum_loop_fn)(char *, const char *, const int64_t[4], int64_t, int64_t);

/* TensorIterator's view of a reduction: dim 0 moves fastest. */
typedef struct {
    int ndim;
    int64_t shape[GD_MAX_DIMS];
    int64_t st[GD_MAX_DIMS][2]; /* bytes: [0] output, [1] input */
    char *out;
    const char *in;
    sum_loop_fn loop;
} sum_iter;

/* 1 if dim a should come after dim b, -1 if before, 0 if undecided. */
static int should_swap(const sum_iter *it, int a, int b) {
    for (int op = 0; op < 2; op++) {
        int64_t s0 = it->st[a][op], s1 = it->st[b][op];
        if (op == 0 && (s0 == 0) != (s1 == 0))
            return s1 == 0 ? 1 : -1; /* reduced dims first */
        if (s0 == 0 || s1 == 0)
            continue;
        if (s0 < s1)
            return -1;
        if (s0 > s1)
            return 1;
        if (it->shape[a] > it->shape[b])
            return 1;
    }
    return 0;
}

static void build_iter(sum_iter *it, const gd_tensor *a, const bool *reduced,
                       bool keepdim, gd_tensor *out) {
    int n = a->ndim;
    int64_t es = (int64_t)gd_dtype_size(a->dtype);
    it->out = gd_data_ptr(out);
    it->in = gd_data_ptr(a);
    it->loop = a->dtype == GD_FLOAT32 ? sum_loop_f32_8 : sum_loop_f64_4;
    bool all = n > 0;
    for (int d = 0; d < n && all; d++)
        all = reduced[d];
    if (all && gd_is_contiguous(a)) {
        /* What sorting and merging make of a whole contiguous reduction:
         * one dim over every element (the common case, without the setup). */
        it->ndim = 1;
        it->shape[0] = a->numel;
        it->st[0][0] = 0;
        it->st[0][1] = es;
        return;
    }
    /* The result's own strides, as PyTorch allocates it: contiguous over its
     * shape; reduced dims then read with stride 0. */
    int64_t ostride[GD_MAX_DIMS];
    int64_t run = es;
    for (int d = n - 1; d >= 0; d--) {
        if (!reduced[d] || keepdim) {
            int64_t size = reduced[d] ? 1 : a->shape[d];
            ostride[d] = reduced[d] && a->shape[d] != 1 ? 0 : run;
            run *= size > 1 ? size : 1;
        } else {
            ostride[d] = 0;
        }
    }
    /* Dims start reversed (fastest first), then an insertion sort that
     * tolerates undecided pairs, as reorder_dimensions does. */
    sum_iter tmp;
    int perm[GD_MAX_DIMS];
    for (int i = 0; i < n; i++) {
        int d = n - 1 - i;
        perm[i] = i;
        tmp.shape[i] = a->shape[d];
        tmp.st[i][0] = ostride[d];
        tmp.st[i][1] = a->strides[d] * es;
    }
    for (int i = 1; i < n; i++) {
        int d1 = i;
        for (int d0 = i - 1; d0 >= 0; d0--) {
            int c = should_swap(&tmp, perm[d0], perm[d1]);
            if (c > 0) {
                int t = perm[d0];
                perm[d0] = perm[d1];
                perm[d1] = t;
                d1 = d0;
            } else if (c < 0) {
                break;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        it->shape[i] = tmp.shape[perm[i]];
        it->st[i][0] = tmp.st[perm[i]][0];
        it->st[i][1] = tmp.st[perm[i]][1];
    }
    /* Merge neighbours that step through memory as one (coalesce_dimensions). */
    it->ndim = n;
    if (n > 1) {
        int prev = 0;
        for (int d = 1; d < n; d++) {
            bool merge = it->shape[prev] == 1 || it->shape[d] == 1 ||
                         (it->shape[prev] * it->st[prev][0] == it->st[d][0] &&
                          it->shape[prev] * it->st[prev][1] == it->st[d][1]);
            if (merge) {
                if (it->shape[prev] == 1) {
                    it->st[prev][0] = it->st[d][0];
                    it->st[prev][1] = it->st[d][1];
                }
                it->shape[prev] *= it->shape[d];
            } else {
                prev++;
                if (prev != d) {
                    it->st[prev][0] = it->st[d][0];
                    it->st[prev][1] = it->st[d][1];
                    it->shape[prev] = it->shape[d];
                }
            }
        }
        it->ndim = prev + 1;
    }
}

/* Elements [begin, end) of the iteration in linear order, as 2-D pieces that
 * never cross the end of dim 1 (serial_for_each). `out` replaces the
 * iterator's output base. */
static void run_range(const sum_iter *it, char *out, int64_t begin, int64_t end) {
    int64_t st[4] = {0, 0, 0, 0};
    if (it->ndim >= 1) {
        st[0] = it->st[0][0];
        st[1] = it->st[0][1];
    }
    if (it->ndim >= 2) {
        st[2] = it->st[1][0];
        st[3] = it->st[1][1];
    }
    if (end <= begin)
        return;
    if (it->ndim <= 1) {
        it->loop(out + begin * st[0], it->in + begin * st[1], st, end - begin, 1);
        return;
    }
    int64_t offset = begin;
    while (offset < end) {
        int64_t idx[GD_MAX_DIMS], rest = offset;
        char *o = out;
        const char *p = it->in;
        for (int d = 0; d < it->ndim; d++) {
            idx[d] = rest % it->shape[d];
            rest /= it->shape[d];
            o += idx[d] * it->st[d][0];
            p += idx[d] * it->st[d][1];
        }
        int64_t step0 = it->shape[0] - idx[0];
        if (end - offset < step0)
            step0 = end - offset;
        int64_t step1 = 1;
        if (step0 == it->shape[0]) {
            step1 = it->shape[1] - idx[1];
            if ((end - offset) / it->shape[0] < step1)
                step1 = (end - offset) / it->shape[0];
        }
        it->loop(o, p, st, step0, step1);
        offset += step0 * step1;
    }
}

typedef struct {
    const sum_iter *it;
    sum_iter sub;
    char *out;
    int64_t begin, end;
} sum_task;

static void *run_task(void *arg) {
    sum_task *t = arg;
    run_range(t->it, t->out, t->begin, t->end);
    return NULL;
}

static int64_t divup(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* A whole contiguous reduction of W to ILP * W - 1 elements (1 to ILP - 1
 * whole vectors: the common tiny sum), in the order the loops above add it,
 * without their setup: the contiguous inner reduction's row_sum runs no
 * cascade, so each of the W lanes adds its elements in turn; the tail
 * elements follow, then the lanes. (The zero partials the loops also add
 * change nothing: a sum started at +0 is never -0.) */
#define DEF_SMALL_SUM(T, W, SFX)                                                       \
    static T small_sum_##SFX(const T *x, int64_t n) {                                  \
        T lane[W];                                                                     \
        int64_t nvec = n / W;                                                          \
        for (int l = 0; l < W; l++) {                                                  \
            lane[l] = 0;                                                               \
            for (int64_t i = 0; i < nvec; i++)                                         \
                lane[l] += x[i * W + l];                                               \
        }                                                                              \
        T acc = 0;                                                                     \
        for (int64_t k = nvec * W; k < n; k++)                                         \
            acc += x[k];                                                               \
        for (int l = 0; l < W; l++)                                                    \
            acc += lane[l];                                                            \
        return acc;                                                                    \
    }

DEF_SMALL_SUM(float, 8, f32)
DEF_SMALL_SUM(double, 4, f64)

static void fill_one(char *p, int64_t n, gd_dtype dt) {
    for (int64_t i = 0; i < n; i++) {
        if (dt == GD_FLOAT32)
            ((float *)p)[i] = 1;
        else
            ((double *)p)[i] = 1;
    }
}

/* Runs a sum-like reduction on PyTorch's thread split: on this thread when
 * small, else all elements into one output as one partial per thread then a
 * row of partials, else ranges of one kept dim's columns. The output holds
 * the identity (0, or 1 for a product) on entry. */
static gd_status run_split(sum_iter *it, gd_dtype dt, int64_t numel, int64_t out_numel,
                           bool product) {
    gd_status st = GD_OK;
    char *buffer = NULL;
    size_t es = gd_dtype_size(dt);
    int threads = gd_torch_threads();
    if (threads > GD_MAX_THREADS)
        threads = GD_MAX_THREADS;
    void *lock = gd_loop_begin(numel);
    if (numel == 0) {
        /* nothing to reduce */
    } else if (numel < GD_GRAIN || threads == 1) {
        run_range(it, it->out, 0, numel);
    } else if (out_numel == 1) {
        /* Two passes: each thread reduces its share of the elements into
         * its own slot (starting at the identity), then the slots are
         * reduced as a row of `threads`. */
        buffer = malloc((size_t)threads * es);
        if (!buffer) {
            st = gd_error(GD_ERR_NOMEM, "out of memory");
            goto unlock;
        }
        if (product)
            fill_one(buffer, threads, dt);
        else
            memset(buffer, 0, (size_t)threads * es);
        sum_task tasks[GD_MAX_THREADS];
        int n = 0;
        if (numel > GD_GRAIN) {
            int64_t nt =
                divup(numel, GD_GRAIN) < threads ? divup(numel, GD_GRAIN) : threads;
            int64_t chunk = divup(numel, nt);
            for (int64_t t = 0; t < nt && t * chunk < numel; t++, n++)
                tasks[n] =
                    (sum_task){it,
                               {0},
                               buffer + t * (int64_t)es,
                               t * chunk,
                               t * chunk + chunk < numel ? t * chunk + chunk : numel};
        } else {
            tasks[n++] = (sum_task){it, {0}, buffer, 0, numel};
        }
        gd_run_jobs(run_task, tasks, sizeof tasks[0], n, true);
        int64_t bst[4] = {0, (int64_t)es, 0, 0};
        it->loop(it->out, buffer, bst, threads, 1);
    } else {
        /* Split the outermost kept dim with at least `threads` entries (else
         * the largest) into column ranges, rounded to 128 bytes when the
         * input's columns are adjacent; each range is reduced whole. */
        int dim = it->ndim - 1;
        for (int d = it->ndim - 1; d >= 0 && !(it->st[d][0] == 0 && it->shape[d] > 1);
             d--) {
            if (it->shape[d] >= threads) {
                dim = d;
                break;
            }
            if (it->shape[d] > it->shape[dim])
                dim = d;
        }
        int64_t cols = it->shape[dim];
        bool round = it->st[dim][1] == (int64_t)es;
        int64_t multiple = 128 / (int64_t)es;
        int64_t nt = cols < threads ? cols : threads;
        int64_t chunk = divup(cols, nt);
        sum_task tasks[GD_MAX_THREADS];
        int n = 0;
        for (int64_t t = 0; t < nt && t * chunk < cols; t++) {
            int64_t b = t * chunk, e = b + chunk < cols ? b + chunk : cols;
            if (round) {
                b -= b % multiple;
                if (e != cols)
                    e -= e % multiple;
            }
            if (b == e)
                continue;
            sum_task *task = &tasks[n++];
            task->sub = *it;
            task->sub.shape[dim] = e - b;
            task->sub.out = it->out + b * it->st[dim][0];
            task->sub.in = it->in + b * it->st[dim][1];
            task->it = &task->sub;
            task->out = task->sub.out;
            int64_t sub_numel = 1;
            for (int d = 0; d < it->ndim; d++)
                sub_numel *= task->sub.shape[d];
            task->begin = 0;
            task->end = sub_numel;
        }
        gd_run_jobs(run_task, tasks, sizeof tasks[0], n, true);
    }
unlock:
    gd_loop_end(lock);
    free(buffer);
    return st;
}

/* Whether small_sum computes this reduction: every dim reduced, contiguous,
 * W to ILP * W - 1 elements. */
static bool is_small_sum(const gd_tensor *a, const bool *reduced) {
    int64_t w = a->dtype == GD_FLOAT32 ? 8 : 4;
    if (a->numel < w || a->numel >= ILP * w || a->ndim == 0)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (!reduced[d])
            return false;
    return gd_is_contiguous(a);
}

gd_status gd_sum_floating(const gd_tensor *a, const bool *reduced, bool keepdim,
                          bool mean, gd_tensor *out) {
    if (is_small_sum(a, reduced)) {
        if (a->dtype == GD_FLOAT32) {
            float v = small_sum_f32((const float *)gd_data_ptr(a), a->numel);
            *(float *)gd_data_ptr(out) = mean ? v / (float)a->numel : v;
        } else {
            double v = small_sum_f64((const double *)gd_data_ptr(a), a->numel);
            *(double *)gd_data_ptr(out) = mean ? v / (double)a->numel : v;
        }
        return GD_OK;
    }
    sum_iter it;
    size_t es = gd_dtype_size(a->dtype);
    memset(gd_data_ptr(out), 0, (size_t)out->numel * es);
    int64_t numel = a->numel, count = 1;
    for (int d = 0; d < a->ndim; d++)
        if (reduced[d])
            count *= a->shape[d];
    build_iter(&it, a, reduced, keepdim, out);
    gd_status st = run_split(&it, a->dtype, numel, out->numel, false);
    if (st)
        return st;
    if (mean) {
        if (a->dtype == GD_FLOAT32) {
            float *o = (float *)gd_data_ptr(out), c = (float)count;
            for (int64_t i = 0; i < out->numel; i++)
                o[i] /= c;
        } else {
            double *o = (double *)gd_data_ptr(out), c = (double)count;
            for (int64_t i = 0; i < out->numel; i++)
                o[i] /= c;
        }
    }
    return GD_OK;
}

/* ---- prod: the same iteration and thread split, PyTorch's vectorised
 * product loop (binary_kernel_reduce_vec) on each piece ---- */

#define PROD_ACCS 4 /* vector accumulators per row */

/* One 2-D piece of a product (strides {out0, in0, out1, in1} in bytes), W
 * lanes of 32 bytes: rows contiguous in the input run 4 vectors at a time,
 * lanes multiplied left to right into the output, leftovers one by one;
 * columns contiguous in input and output run down 4 vectors of columns;
 * anything else element by element. */
#define DEF_PROD_LOOP(T, W, SFX)                                                       \
    static void prod_loop_##SFX(char *out, const char *in, const int64_t st[4],        \
                                int64_t size0, int64_t size1) {                        \
        const int64_t es = (int64_t)sizeof(T), block = PROD_ACCS * W;                  \
        if (st[0] == 0 && st[1] == es) {                                               \
            for (int64_t j = 0; j < size1; j++) {                                      \
                T *o = (T *)(out + j * st[2]);                                         \
                const T *x = (const T *)(in + j * st[3]);                              \
                int64_t count = size0 / block;                                         \
                if (count > 0) {                                                       \
                    T acc[PROD_ACCS * W];                                              \
                    memcpy(acc, x, sizeof acc);                                        \
                    for (int64_t i = 1; i < count; i++)                                \
                        for (int l = 0; l < PROD_ACCS * W; l++)                        \
                            acc[l] *= x[i * block + l];                                \
                    T lane[W];                                                         \
                    for (int l = 0; l < W; l++)                                        \
                        lane[l] =                                                      \
                            (acc[l] * acc[W + l]) * (acc[2 * W + l] * acc[3 * W + l]); \
                    T b = lane[0];                                                     \
                    for (int l = 1; l < W; l++)                                        \
                        b = b * lane[l];                                               \
                    *o = *o * b;                                                       \
                }                                                                      \
                for (int64_t k = count * block; k < size0; k++)                        \
                    *o = *o * x[k];                                                    \
            }                                                                          \
        } else if (st[0] == 0 && st[2] == es && st[3] == es) {                         \
            int64_t j = 0;                                                             \
            for (; j + block <= size1; j += block) {                                   \
                T *o = (T *)(out + j * es);                                            \
                const char *x = in + j * es;                                           \
                T acc[PROD_ACCS * W];                                                  \
                memcpy(acc, x, sizeof acc);                                            \
                for (int64_t i = 1; i < size0; i++) {                                  \
                    const T *row = (const T *)(x + i * st[1]);                         \
                    for (int l = 0; l < PROD_ACCS * W; l++)                            \
                        acc[l] *= row[l];                                              \
                }                                                                      \
                for (int l = 0; l < PROD_ACCS * W; l++)                                \
                    o[l] = acc[l] * o[l];                                              \
            }                                                                          \
            for (; j < size1; j++) {                                                   \
                T *o = (T *)(out + j * es);                                            \
                for (int64_t i = 0; i < size0; i++)                                    \
                    *o = *o * *(const T *)(in + j * es + i * st[1]);                   \
            }                                                                          \
        } else {                                                                       \
            for (int64_t j = 0; j < size1; j++)                                        \
                for (int64_t i = 0; i < size0; i++) {                                  \
                    T *o = (T *)(out + j * st[2] + i * st[0]);                         \
                    *o = *o * *(const T *)(in + j * st[3] + i * st[1]);                \
                }                                                                      \
        }                                                                              \
    }

DEF_PROD_LOOP(float, 8, f32)
DEF_PROD_LOOP(double, 4, f64)

gd_status gd_prod_floating(const gd_tensor *a, const bool *reduced, bool keepdim,
                           gd_tensor *out) {
    sum_iter it;
    fill_one(gd_data_ptr(out), out->numel, a->dtype);
    int64_t numel = a->numel;
    build_iter(&it, a, reduced, keepdim, out);
    it.loop = a->dtype == GD_FLOAT32 ? prod_loop_f32 : prod_loop_f64;
    return run_split(&it, a->dtype, numel, out->numel, true);
}
