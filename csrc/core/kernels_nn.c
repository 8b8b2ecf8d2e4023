/* softmax and log_softmax, and the losses: nll_loss, mse_loss, huber_loss,
 * smooth_l1_loss, binary_cross_entropy (and with logits).
 *
 * softmax follows PyTorch's CPU kernels step by step so results agree to the
 * bit where they can: along the last dim a row is reduced in SIMD lanes (16
 * float or 8 double lanes, as on an AVX-512 machine: lanes accumulate
 * strided elements, then combine), and exp/log are the vector library's
 * (SLEEF's u10 algorithms: exp from math_exp.h, log written out below);
 * along another dim the sums run sequentially down the dim, with libm's exp
 * for the ragged tail PyTorch computes one element at a time. */
#include "backward_rules.h"
#include "math_exp.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define LANES_F32 16
#define LANES_F64 8

/* ---- log as PyTorch's vectorised kernels compute it (exp: math_exp.h) ---- */

/* Pairs (hi, lo) of floats for the double-float arithmetic of vlog_f32. */
typedef struct {
    float x, y;
} f2;

static inline f2 f2_add2(float x, float y) { /* exact x + y */
    float s = x + y, v = s - x;
    return (f2){s, (x - (s - v)) + (y - v)};
}

/* log(d): d = m 2^e with m in [0.75, 1.5), log m = 2 atanh((m-1)/(m+1)) with
 * the quotient kept in double-float. */
static float vlog_f32(float d) {
    if (d != d || d < 0)
        return NAN;
    if (d == 0)
        return -INFINITY;
    if (isinf(d))
        return INFINITY;
    bool tiny = d < FLT_MIN;
    if (tiny)
        d *= (float)(1LL << 32) * (float)(1LL << 32);
    uint32_t bits;
    float scaled = d * (1.0f / 0.75f);
    memcpy(&bits, &scaled, sizeof bits);
    int e = (int)((bits >> 23) & 0xff) - 0x7f;
    memcpy(&bits, &d, sizeof bits);
    bits = (uint32_t)((int32_t)bits + (int32_t)((uint32_t)(-e) << 23));
    float m;
    memcpy(&m, &bits, sizeof m);
    if (tiny)
        e -= 64;
    float ef = (float)e;
    /* s = ln2 * e in double-float */
    float sx = 0.69314718246459960938f * ef;
    f2 s = {sx, fmaf(-1.904654323148236017e-09f, ef,
                     fmaf(0.69314718246459960938f, ef, -sx))};
    /* x = (m - 1) / (m + 1) in double-float */
    f2 n = f2_add2(-1.0f, m), dd = f2_add2(1.0f, m);
    float t = 1.0f / dd.x, qx = n.x * t;
    float u = fmaf(t, n.x, -qx);
    float v = fmaf(-dd.y, t, fmaf(-dd.x, t, 1.0f));
    f2 x = {qx, fmaf(qx, v, fmaf(n.y, t, u))};
    float x2 = x.x * x.x;
    float p = 0.3027294874e+0f;
    p = fmaf(p, x2, 0.3996108174e+0f);
    p = fmaf(p, x2, 0.6666694880e+0f);
    /* s += 2x, then s += x^3 p */
    f2 x2s = {x.x * 2, x.y * 2};
    float sum = s.x + x2s.x;
    s = (f2){sum, (((s.x - sum) + x2s.x) + s.y) + x2s.y};
    float tail = x2 * x.x * p;
    sum = s.x + tail;
    s = (f2){sum, ((s.x - sum) + tail) + s.y};
    return s.x + s.y;
}

/* libm's log stands in for SLEEF's double log (both within an ulp). */
static double vlog_f64(double d) {
    return log(d);
}

/* ---- softmax loops, by element type ------------------------------------- */

#define SOFTMAX_LOOPS(T, tag, L, VEXP, SEXP, VLOG, FMA)                                \
    /* Sum as PyTorch's reduce_all: lanes, then the lanes combined. */                 \
    static T lane_sum_##tag(const T *v, int64_t n) {                                   \
        if (n < L) {                                                                   \
            T acc = v[0];                                                              \
            for (int64_t i = 1; i < n; i++)                                            \
                acc += v[i];                                                           \
            return acc;                                                                \
        }                                                                              \
        T acc[L];                                                                      \
        memcpy(acc, v, sizeof acc);                                                    \
        int64_t d = L;                                                                 \
        for (; d < n - n % L; d += L)                                                  \
            for (int k = 0; k < L; k++)                                                \
                acc[k] += v[d + k];                                                    \
        for (int k = 0; d + k < n; k++)                                                \
            acc[k] += v[d + k];                                                        \
        return combine_lanes_##tag(acc);                                               \
    }                                                                                  \
    static T row_max_##tag(const T *x, int64_t n) {                                    \
        T m = x[0];                                                                    \
        for (int64_t i = 1; i < n; i++)                                                \
            if (x[i] > m || x[i] != x[i])                                              \
                m = x[i];                                                              \
        return m;                                                                      \
    }                                                                                  \
    static void softmax_last_##tag(const T *x, T *y, int64_t rows, int64_t n,          \
                                   bool log) {                                         \
        for (int64_t r = 0; r < rows; r++, x += n, y += n) {                           \
            T m = row_max_##tag(x, n);                                                 \
            for (int64_t i = 0; i < n; i++)                                            \
                y[i] = VEXP(x[i] - m);                                                 \
            T s = lane_sum_##tag(y, n);                                                \
            if (log) {                                                                 \
                T ls = VLOG(s);                                                        \
                for (int64_t i = 0; i < n; i++)                                        \
                    y[i] = x[i] - m - ls;                                              \
            } else {                                                                   \
                T inv = 1 / s;                                                         \
                for (int64_t i = 0; i < n; i++)                                        \
                    y[i] *= inv;                                                       \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
    /* PyTorch's vector loop covers whole lanes of a block of inner elements;          \
     * the rest of the block goes one by one with libm. */                             \
    static bool vector_lane_##tag(int64_t j, int64_t inner, int64_t chunk) {           \
        int64_t begin = j / chunk * chunk;                                             \
        int64_t size = inner - begin < chunk ? inner - begin : chunk;                  \
        return j - begin < size - size % L;                                            \
    }                                                                                  \
    static int64_t chunk_##tag(int64_t dim, bool blocked) {                            \
        if (!blocked)                                                                  \
            return INT64_MAX;                                                          \
        int64_t c = 131072 / dim / (int64_t)sizeof(T);                                 \
        return (c > L ? c : L) / L * L;                                                \
    }                                                                                  \
    static void softmax_inner_##tag(const T *x, T *y, int64_t outer, int64_t dim,      \
                                    int64_t inner, bool log) {                         \
        int64_t chunk = chunk_##tag(dim, log);                                         \
        for (int64_t o = 0; o < outer; o++)                                            \
            for (int64_t j = 0; j < inner; j++) {                                      \
                const T *xs = x + o * dim * inner + j;                                 \
                T *ys = y + o * dim * inner + j;                                       \
                bool vec = vector_lane_##tag(j, inner, chunk);                         \
                T m = xs[0], s = 0;                                                    \
                for (int64_t d = 1; d < dim; d++)                                      \
                    if (xs[d * inner] > m || xs[d * inner] != xs[d * inner])           \
                        m = xs[d * inner];                                             \
                for (int64_t d = 0; d < dim; d++) {                                    \
                    T e = vec ? VEXP(xs[d * inner] - m) : SEXP(xs[d * inner] - m);     \
                    s += e;                                                            \
                    if (!log)                                                          \
                        ys[d * inner] = e;                                             \
                }                                                                      \
                if (log) {                                                             \
                    T ls = VLOG(s);                                                    \
                    for (int64_t d = 0; d < dim; d++)                                  \
                        ys[d * inner] = xs[d * inner] - m - ls;                        \
                } else {                                                               \
                    for (int64_t d = 0; d < dim; d++)                                  \
                        ys[d * inner] = ys[d * inner] / s;                             \
                }                                                                      \
            }                                                                          \
    }                                                                                  \
    static void softmax_bw_last_##tag(const T *g, const T *y, T *gi, int64_t rows,     \
                                      int64_t n, bool log) {                           \
        for (int64_t r = 0; r < rows; r++, g += n, y += n, gi += n) {                  \
            T s;                                                                       \
            if (log) {                                                                 \
                s = lane_sum_##tag(g, n);                                              \
                for (int64_t i = 0; i < n; i++)                                        \
                    gi[i] = FMA(-VEXP(y[i]), s, g[i]);                                 \
            } else {                                                                   \
                for (int64_t i = 0; i < n; i++)                                        \
                    gi[i] = g[i] * y[i];                                               \
                s = lane_sum_##tag(gi, n);                                             \
                for (int64_t i = 0; i < n; i++)                                        \
                    gi[i] = (g[i] - s) * y[i];                                         \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
    static void softmax_bw_inner_##tag(const T *g, const T *y, T *gi, int64_t outer,   \
                                       int64_t dim, int64_t inner, bool log) {         \
        int64_t chunk = chunk_##tag(dim, true);                                        \
        for (int64_t o = 0; o < outer; o++)                                            \
            for (int64_t j = 0; j < inner; j++) {                                      \
                int64_t base = o * dim * inner + j;                                    \
                bool vec = vector_lane_##tag(j, inner, chunk);                         \
                T s = 0;                                                               \
                for (int64_t d = 0; d < dim; d++)                                      \
                    s = log ? s + g[base + d * inner]                                  \
                            : FMA(g[base + d * inner], y[base + d * inner], s);        \
                for (int64_t d = 0; d < dim; d++) {                                    \
                    int64_t k = base + d * inner;                                      \
                    gi[k] = log ? FMA(-(vec ? VEXP(y[k]) : SEXP(y[k])), s, g[k])       \
                                : y[k] * (g[k] - s);                                   \
                }                                                                      \
            }                                                                          \
    }

/* The lanes combined: float as AVX-512 shuffles do (halves, then quarters...),
 * double one lane after another. */
static float combine_lanes_f32(const float *a) {
    float h[8], q[4];
    for (int k = 0; k < 8; k++)
        h[k] = a[k] + a[k + 8];
    for (int k = 0; k < 4; k++)
        q[k] = h[k] + h[k + 4];
    return (q[0] + q[2]) + (q[1] + q[3]);
}

static double combine_lanes_f64(const double *a) {
    double s = a[0];
    for (int k = 1; k < LANES_F64; k++)
        s += a[k];
    return s;
}

SOFTMAX_LOOPS(float, f32, LANES_F32, exp_u10_f32, expf, vlog_f32, fmaf)
SOFTMAX_LOOPS(double, f64, LANES_F64, exp_u10_f64, exp, vlog_f64, fma)

/* outer x dim x inner around `dim` of a (0-d counts as one element). */
static gd_status softmax_plan(const gd_tensor *a, int64_t dim, const char *kernel,
                              int64_t *outer, int64_t *size, int64_t *inner,
                              bool *last) {
    int d;
    gd_status st = gd_wrap_dim(dim, a->ndim, &d);
    if (st)
        return st;
    GD_CHECK(gd_dtype_is_floating(a->dtype), GD_ERR_NOTIMPL,
             "\"%s\" not implemented for '%s'", kernel, gd_dtype_scalar_name(a->dtype));
    *outer = *inner = 1;
    *size = a->ndim ? a->shape[d] : 1;
    for (int k = 0; k < d; k++)
        *outer *= a->shape[k];
    for (int k = d + 1; k < a->ndim; k++)
        *inner *= a->shape[k];
    *last = a->ndim == 0 || d == a->ndim - 1;
    return GD_OK;
}

gd_status gd_softmax(const gd_tensor *a, int64_t dim, bool log, gd_tensor **out) {
    int64_t outer, size, inner;
    bool last = false;
    gd_tensor *x = NULL, *y = NULL;
    *out = NULL;
    bool last_dim = a->ndim == 0 || dim == a->ndim - 1 || dim == -1;
    const char *kernel =
        log ? (last_dim ? "log_softmax_lastdim_kernel_impl" : "softmax_kernel_impl")
            : (last_dim ? "softmax_lastdim_kernel_impl" : "softmax_kernel_impl");
    gd_status st = softmax_plan(a, dim, kernel, &outer, &size, &inner, &last);
    if (st || (st = gd_contiguous(a, &x)) ||
        (st = gd_empty(a->dtype, a->ndim, a->shape, &y)))
        goto done;
    if (a->numel > 0) {
        void *lock = gd_loop_begin(a->numel * 8);
        if (a->dtype == GD_FLOAT32) {
            const float *xp = (const float *)gd_data_ptr(x);
            float *yp = (float *)gd_data_ptr(y);
            if (last)
                softmax_last_f32(xp, yp, outer, size, log);
            else
                softmax_inner_f32(xp, yp, outer, size, inner, log);
        } else {
            const double *xp = (const double *)gd_data_ptr(x);
            double *yp = (double *)gd_data_ptr(y);
            if (last)
                softmax_last_f64(xp, yp, outer, size, log);
            else
                softmax_inner_f64(xp, yp, outer, size, inner, log);
        }
        gd_loop_end(lock);
    }
    *out = y;
    y = NULL;
done:
    gd_tensor_decref(x);
    gd_tensor_decref(y);
    return st;
}

gd_status gd_softmax_backward(const gd_tensor *g, const gd_tensor *y, int64_t dim,
                              bool log, gd_tensor **out) {
    int64_t outer, size, inner;
    bool last = false;
    gd_tensor *gc = NULL, *yc = NULL, *gi = NULL;
    *out = NULL;
    gd_status st =
        softmax_plan(y, dim, "softmax_backward", &outer, &size, &inner, &last);
    if (st || (st = gd_as_dtype(g, y->dtype, &gc)))
        goto done;
    if (!gd_is_contiguous(gc)) {
        gd_tensor *t = NULL;
        if ((st = gd_contiguous(gc, &t)))
            goto done;
        gd_tensor_decref(gc);
        gc = t;
    }
    if ((st = gd_contiguous(y, &yc)) ||
        (st = gd_empty(y->dtype, y->ndim, y->shape, &gi)))
        goto done;
    if (y->numel > 0) {
        void *lock = gd_loop_begin(y->numel * 8);
        if (y->dtype == GD_FLOAT32) {
            const float *gp = (const float *)gd_data_ptr(gc),
                        *yp = (const float *)gd_data_ptr(yc);
            float *op = (float *)gd_data_ptr(gi);
            if (last)
                softmax_bw_last_f32(gp, yp, op, outer, size, log);
            else
                softmax_bw_inner_f32(gp, yp, op, outer, size, inner, log);
        } else {
            const double *gp = (const double *)gd_data_ptr(gc),
                         *yp = (const double *)gd_data_ptr(yc);
            double *op = (double *)gd_data_ptr(gi);
            if (last)
                softmax_bw_last_f64(gp, yp, op, outer, size, log);
            else
                softmax_bw_inner_f64(gp, yp, op, outer, size, inner, log);
        }
        gd_loop_end(lock);
    }
    *out = gi;
    gi = NULL;
done:
    gd_tensor_decref(gc);
    gd_tensor_decref(yc);
    gd_tensor_decref(gi);
    return st;
}
