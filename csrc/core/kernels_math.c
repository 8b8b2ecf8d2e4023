/* Elementwise math rounded as PyTorch 2.13's CPU kernels round it.
 *
 * What PyTorch computes (x86-64 wheel, measured and read from ATen):
 *
 * - exp, log, tanh, sin, cos, sqrt (float32 and float64) go to MKL's vector
 *   math library (at::vml: vsExp, vsLn, vsTanh, vsSin, vsCos, vsSqrt and
 *   the vd* forms, default high-accuracy mode). The results equal a direct
 *   call of those functions bit for bit, do not change with
 *   ATEN_CPU_CAPABILITY (default, avx2, avx512) nor MKL_ENABLE_INSTRUCTIONS,
 *   and are not correctly rounded: float32 sqrt is off by one unit in the
 *   last place for about 17% of inputs (errors up to ~0.75 ulp, more often
 *   for even exponents), float32 log for ~4%, cos ~6%, sin ~3%, exp ~1%.
 *   MKL's algorithms are not published: where MKL is loaded (mkl.c)
 *   gd_math_loop calls the same routines; otherwise these are computed here
 *   to the nearest representable value, which is what MKL returns for most
 *   inputs: float32 in double precision (kernels_math_nearest.c), float64
 *   exp, sin, cos, log and tanh with double-double steps
 *   (kernels_math_f64.c), sqrt by the hardware. x ** 0.5 is torch.sqrt, so
 *   MKL's too.
 * - sigmoid is ATen's own loop: 1 / (1 + exp(-x)) with exp from SLEEF
 *   (Sleef_expf16_u10 / Sleef_expd8_u10 under AVX-512, the 8- and 4-lane
 *   forms under AVX2; the same bits) on whole vectors, and the C library's
 *   exp on the tail of each contiguous run that does not fill two vectors,
 *   and on every element of strided runs. It therefore depends on the CPU
 *   capability (default: the C library's exp throughout) and, above 32768
 *   elements, on how ATen splits the run across its threads. Both are
 *   reproduced below: SLEEF's published u10 exp algorithm (Cody-Waite
 *   reduction by ln 2, a degree-6 float / degree-11 double polynomial,
 *   scaling by two powers of two), written anew.
 * - tanh's backward, (1 - y * y) * grad in derivatives.yaml, is compiled by
 *   GCC in the AVX2/AVX-512 kernels with the multiply and subtract fused:
 *   grad * fma(-y, y, 1). The default capability does not fuse.
 * - sigmoid's backward is grad * (1 - y) * y, left to right, unfused.
 * - division, tensor / tensor and tensor / number, is IEEE division (only
 *   half types multiply by a reciprocal); number / tensor is
 *   reciprocal(tensor) * number (Tensor.__rtruediv__, in the binding), which
 *   rounds twice. x ** 2, 3, -1, -2 are x * x, x * x * x, 1 / x, 1 / (x * x);
 *   x ** -0.5 is 1 / sqrt(x) with a correctly rounded sqrt, while x ** 0.5
 *   is torch.sqrt (MKL). Other number exponents: SLEEF's pow on vector
 *   steps; on tails and 0-d tensors the C library's pow of the value as a
 *   double and the exponent unrounded, (float)pow((double)x, 1.7)
 *   (measured). gdlite reproduces the latter (gd_math_pow_number) and, for
 *   SLEEF's, the nearest float (gd_math_powf), which mostly agrees; float64
 *   powers and tensor ** tensor are computed nearly always correctly
 *   rounded (gd_math_pow_f64, gd_math_powf), as SLEEF's mostly are.
 * - add/sub with alpha are fma(other, alpha, self) (measured under AVX-512;
 *   gdlite's optimizers fuse them likewise, its add/sub do not yet).
 *
 * Every vector path has a scalar twin that gives the same bits (fmaf/fma
 * for the fused steps), used where AVX2 is missing. */
#include "internal.h"
#include "math_exp.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- what PyTorch's CPU capability would be here ------------------------ */

/* Elements of one loop step in ATen's vectorised loops (two vectors), or 0
 * when ATen would run its default, scalar capability. */
static int vector_step(gd_dtype dtype) {
    static int cached = -1; /* float32 lanes per vector */
    int lanes = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (lanes < 0) {
        lanes = 0;
#ifdef GD_MATH_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            lanes = 8;
        if (lanes && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
            lanes = 16;
#endif
        __atomic_store_n(&cached, lanes, __ATOMIC_RELAXED);
    }
    return dtype == GD_FLOAT32 ? 2 * lanes : lanes;
}

int64_t gd_math_vector_body(gd_dtype dtype, int64_t n) {
    int step = vector_step(dtype);
    return step ? n / step * step : 0;
}

/* The widest vector code to compute with here: 2 for AVX-512, 1 for AVX2, 0
 * for the portable scalar code. GDLITE_MATH_PORTABLE caps it ("avx2": at
 * AVX2; any other value but "0": scalar). Every level gives the same bits,
 * and tests compare them; what ATen's capability would be (vector_step)
 * does not change with it. */
static int math_level(void) {
    static int cached = -1;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level < 0) {
        int step = vector_step(GD_FLOAT32);
        level = step == 32 ? 2 : step == 16 ? 1 : 0;
        const char *cap = getenv("GDLITE_MATH_PORTABLE");
        if (cap && *cap && strcmp(cap, "0") != 0)
            level = strcmp(cap, "avx2") != 0 ? 0 : level > 1 ? 1 : level;
        __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    }
    return level;
}

bool gd_math_avx2(void) {
    return math_level() >= 1;
}
bool gd_math_avx512(void) {
    return math_level() >= 2;
}

/* ---- sigmoid -------------------------------------------------------------- */

#ifdef GD_MATH_X86
/* Whole steps of ATen's loop, two vectors each (32 float32 or 16 float64
 * elements under AVX-512, 16 or 8 under AVX2): the two vectors are
 * independent, so their exps overlap. */
#define SIGMOID_BODY(name, attr, T, V, W, load, store, xor_, add, div, set1, exp)      \
    attr static void name(T *o, const T *x, int64_t n) {                               \
        const V one = set1((T)1), sign = set1((T) - 0.0);                              \
        for (int64_t i = 0; i < n; i += 2 * W) {                                       \
            V e0 = exp(xor_(load(x + i), sign)),                                       \
              e1 = exp(xor_(load(x + i + W), sign));                                   \
            store(o + i, div(one, add(one, e0)));                                      \
            store(o + i + W, div(one, add(one, e1)));                                  \
        }                                                                              \
    }
SIGMOID_BODY(sigmoid_body_f32_avx512, AVX512, float, __m512, 16, _mm512_loadu_ps,
             _mm512_storeu_ps, _mm512_xor_ps, _mm512_add_ps, _mm512_div_ps,
             _mm512_set1_ps, exp_u10_f32x16)
SIGMOID_BODY(sigmoid_body_f64_avx512, AVX512, double, __m512d, 8, _mm512_loadu_pd,
             _mm512_storeu_pd, _mm512_xor_pd, _mm512_add_pd, _mm512_div_pd,
             _mm512_set1_pd, exp_u10_f64x8)
SIGMOID_BODY(sigmoid_body_f32_avx2, AVX2, float, __m256, 8, _mm256_loadu_ps,
             _mm256_storeu_ps, _mm256_xor_ps, _mm256_add_ps, _mm256_div_ps,
             _mm256_set1_ps, exp_u10_f32x8)
SIGMOID_BODY(sigmoid_body_f64_avx2, AVX2, double, __m256d, 4, _mm256_loadu_pd,
             _mm256_storeu_pd, _mm256_xor_pd, _mm256_add_pd, _mm256_div_pd,
             _mm256_set1_pd, exp_u10_f64x4)
#undef SIGMOID_BODY
#endif

/* 1 / (1 + exp(-x)) with SLEEF's exp on [0, body) and the C library's on
 * [body, n). */
static void sigmoid_run_f32(float *o, const float *x, int64_t n, int64_t body) {
    int64_t i = 0;
#ifdef GD_MATH_X86
    if (body > 0 && gd_math_avx512()) {
        sigmoid_body_f32_avx512(o, x, body);
        i = body;
    } else if (body > 0 && gd_math_avx2()) {
        sigmoid_body_f32_avx2(o, x, body);
        i = body;
    }
#endif
    for (; i < body; i++)
        o[i] = 1.0f / (1.0f + exp_u10_f32(-x[i]));
    for (; i < n; i++)
        o[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void sigmoid_run_f64(double *o, const double *x, int64_t n, int64_t body) {
    int64_t i = 0;
#ifdef GD_MATH_X86
    if (body > 0 && gd_math_avx512()) {
        sigmoid_body_f64_avx512(o, x, body);
        i = body;
    } else if (body > 0 && gd_math_avx2()) {
        sigmoid_body_f64_avx2(o, x, body);
        i = body;
    }
#endif
    for (; i < body; i++)
        o[i] = 1.0 / (1.0 + exp_u10_f64(-x[i]));
    for (; i < n; i++)
        o[i] = 1.0 / (1.0 + exp(-x[i]));
}

/* One contiguous run as one ATen loop call sees it: whole two-vector steps
 * vectorised, the rest scalar. */
static void sigmoid_run(gd_dtype dtype, char *o, const char *x, int64_t n) {
    int64_t body = gd_math_vector_body(dtype, n);
    if (dtype == GD_FLOAT32)
        sigmoid_run_f32((float *)o, (const float *)x, n, body);
    else
        sigmoid_run_f64((double *)o, (const double *)x, n, body);
}

/* How ATen walks a unary op: its loop nest (gd_loop_nest), innermost last;
 * each run of the innermost dim within one thread's chunk of the flat index
 * is one loop call. Strides in elements. */
typedef struct {
    gd_dtype dtype;
    bool pow;        /* float32 x ** e (else sigmoid) */
    double exponent; /* of pow, as the Python number gave it */
    int nd;
    int64_t size[GD_MAX_DIMS], xs[GD_MAX_DIMS], os[GD_MAX_DIMS];
    const char *x;
    char *o;
} unary_walk;

/* float32 x ** e as ATen's loop computes it: SLEEF's powf with e rounded to
 * float on vector steps (here the nearest float to x ** e, which agrees
 * with it for most inputs), the C library's pow of doubles on the rest. */
static void pow_run(const unary_walk *w, float *o, const float *x, int64_t n,
                    int64_t so, int64_t sx, bool contiguous) {
    int64_t body = contiguous ? gd_math_vector_body(GD_FLOAT32, n) : 0;
    float ef = (float)w->exponent;
    gd_math_powf(o, x, &ef, 0, body);
    for (int64_t i = body; i < n; i++)
        o[i * so] = (float)pow((double)x[i * sx], w->exponent);
}

static void walk_runs(const unary_walk *w, int64_t b, int64_t e) {
    size_t es = gd_dtype_size(w->dtype);
    int64_t inner = w->size[w->nd - 1];
    while (b < e) {
        int64_t len = inner - b % inner;
        if (len > e - b)
            len = e - b;
        int64_t rem = b, xo = 0, oo = 0;
        for (int d = w->nd - 1; d >= 0; d--) {
            int64_t i = rem % w->size[d];
            rem /= w->size[d];
            xo += i * w->xs[d];
            oo += i * w->os[d];
        }
        const char *x = w->x + xo * (int64_t)es;
        char *o = w->o + oo * (int64_t)es;
        int64_t sx = w->xs[w->nd - 1], so = w->os[w->nd - 1];
        if (w->pow) {
            pow_run(w, (float *)o, (const float *)x, len, so, sx, sx == 1 && so == 1);
        } else if (sx == 1 && so == 1) {
            sigmoid_run(w->dtype, o, x, len);
        } else if (w->dtype == GD_FLOAT32) { /* ATen's strided loops: scalar */
            for (int64_t i = 0; i < len; i++)
                ((float *)o)[i * so] =
                    1.0f / (1.0f + expf(-((const float *)x)[i * sx]));
        } else {
            for (int64_t i = 0; i < len; i++)
                ((double *)o)[i * so] = 1.0 / (1.0 + exp(-((const double *)x)[i * sx]));
        }
        b += len;
    }
}

typedef struct {
    const unary_walk *w;
    int64_t begin, end;
} walk_job;

static void *run_walk_job(void *arg) {
    walk_job *j = arg;
    walk_runs(j->w, j->begin, j->end);
    return NULL;
}

/* Below ATen's grain, or with one thread, one chunk; else at::parallel_for's
 * min(threads, ceil(n / grain)) chunks of ceil(n / chunks) elements
 * (sigmoid's results depend on where chunks start), on the worker pool. */
static void walk_chunks(const unary_walk *w, int64_t n) {
    int64_t size;
    if (gd_aten_chunks(n, GD_GRAIN, &size) < 2) {
        walk_runs(w, 0, n);
        return;
    }
    walk_job jobs[GD_MAX_THREADS];
    int used = 0;
    for (int64_t b = 0; b < n; b += size)
        jobs[used++] = (walk_job){w, b, n - b < size ? n : b + size};
    gd_run_jobs(run_walk_job, jobs, sizeof jobs[0], used, true);
}

static void walk_unary(const gd_tensor *in, gd_tensor *out, bool pow, double exponent) {
    int64_t n = out->numel;
    if (n == 0)
        return;
    unary_walk w = {.dtype = out->dtype,
                    .pow = pow,
                    .exponent = exponent,
                    .x = gd_data_ptr(in),
                    .o = gd_data_ptr(out)};
    /* ATen's loop nest: dims in memory order, coalesced (one run for a
     * dense input and its result, which takes its layout). */
    const gd_tensor *ops[2] = {out, in};
    int64_t dims[GD_MAX_DIMS], strides[GD_MAX_DIMS][GD_ITER_MAX_OPERANDS];
    int64_t es = (int64_t)gd_dtype_size(w.dtype);
    w.nd = gd_loop_nest(2, ops, out->ndim, out->shape, dims, strides);
    for (int d = 0; d < w.nd; d++) {
        w.size[d] = dims[d];
        w.os[d] = strides[d][0] / es;
        w.xs[d] = strides[d][1] / es;
    }
    if (w.nd == 0) {
        w.nd = 1;
        w.size[0] = 1;
        w.xs[0] = w.os[0] = 1;
    }
    void *lock = gd_loop_begin(n);
    walk_chunks(&w, n);
    gd_loop_end(lock);
}

void gd_math_sigmoid(const gd_tensor *in, gd_tensor *out) {
    walk_unary(in, out, false, 0);
}

gd_status gd_math_pow_number(const gd_tensor *base, const gd_tensor *exponent_tensor,
                             double exponent, gd_tensor **out) {
    double e = exponent;
    bool exact = e == 0 || e == 1 || e == 2 || e == 3 || e == -1 || e == -2 ||
                 e == 0.5 || e == -0.5;
    if (base->dtype != GD_FLOAT32 || exact)
        return gd_binary_number(GD_OP_POW, base, exponent_tensor, 2, GD_FLOAT32, out);
    gd_status st = gd_empty_result(GD_FLOAT32, 1, &base, base->ndim, base->shape, out);
    if (!st)
        walk_unary(base, *out, true, e);
    return st;
}

/* ---- tanh backward ---------------------------------------------------------- */

#define TANH_BW_LOOP(name, ATTR, F32, F64)                                             \
    ATTR static void name(char **d, const int64_t *s, int64_t n, void *ctx) {          \
        if (*(const gd_dtype *)ctx == GD_FLOAT32) {                                    \
            for (int64_t i = 0; i < n; i++) {                                          \
                float g = *(const float *)(d[1] + i * s[1]);                           \
                float y = *(const float *)(d[2] + i * s[2]);                           \
                *(float *)(d[0] + i * s[0]) = g * F32;                                 \
            }                                                                          \
        } else {                                                                       \
            for (int64_t i = 0; i < n; i++) {                                          \
                double g = *(const double *)(d[1] + i * s[1]);                         \
                double y = *(const double *)(d[2] + i * s[2]);                         \
                *(double *)(d[0] + i * s[0]) = g * F64;                                \
            }                                                                          \
        }                                                                              \
    }
/* PyTorch's AVX2/AVX-512 kernels fuse 1 - y * y; its default one does not. */
TANH_BW_LOOP(tanh_bw_fused, , fmaf(-y, y, 1.0f), fma(-y, y, 1.0))
TANH_BW_LOOP(tanh_bw_plain, , (1.0f - y * y), (1.0 - y * y))
#ifdef GD_MATH_X86
TANH_BW_LOOP(tanh_bw_fused_avx2, AVX2, fmaf(-y, y, 1.0f), fma(-y, y, 1.0))
#endif

gd_status gd_math_tanh_backward(const gd_tensor *g, const gd_tensor *y,
                                gd_tensor **out) {
    gd_dtype dtype = y->dtype;
    *out = NULL;
    GD_CHECK(g->dtype == dtype && gd_dtype_is_floating(dtype) && g->ndim == y->ndim &&
                 memcmp(g->shape, y->shape, sizeof(int64_t) * (size_t)y->ndim) == 0,
             GD_ERR_RUNTIME, "tanh_backward: gradient and result differ");
    const gd_tensor *ins[2] = {g, y};
    gd_status st = gd_empty_result(dtype, 2, ins, y->ndim, y->shape, out);
    if (st)
        return st;
    gd_loop_fn loop = vector_step(dtype) ? tanh_bw_fused : tanh_bw_plain;
#ifdef GD_MATH_X86
    if (vector_step(dtype) && gd_math_avx2())
        loop = tanh_bw_fused_avx2;
#endif
    const gd_tensor *ops[3] = {*out, g, y};
    void *lock = gd_loop_begin(y->numel);
    gd_iterate(3, ops, y->ndim, y->shape, loop, &dtype);
    gd_loop_end(lock);
    return GD_OK;
}
