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
 *   MKL's algorithms are not published, so these are computed here to the
 *   nearest representable value (or by the C library), which is what MKL
 *   returns for most inputs. x ** 0.5 is torch.sqrt, so MKL's too.
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
 * - division is IEEE division, and x ** -0.5 is 1 / sqrt(x) with a correctly
 *   rounded sqrt; number / tensor is reciprocal(tensor) * number (in the
 *   Python binding), which rounds twice.
 *
 * Every vector path has a scalar twin that gives the same bits (fmaf/fma
 * for the fused steps), used where AVX2 is missing. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GD_MATH_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#endif

/* ---- what PyTorch's CPU capability would be here ------------------------ */

/* Elements of one loop step in ATen's vectorised loops (two vectors), or 0
 * when ATen would run its default, scalar capability. */
static int vector_step(gd_dtype dtype) {
    static int lanes32 = -1; /* float32 lanes per vector */
    if (lanes32 < 0) {
        int l = 0;
#ifdef GD_MATH_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            l = 8;
        if (l && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
            l = 16;
#endif
        lanes32 = l;
    }
    return dtype == GD_FLOAT32 ? 2 * lanes32 : lanes32;
}

static bool have_avx2(void) {
    return vector_step(GD_FLOAT32) != 0;
}

/* ATen's thread count by default: OMP_NUM_THREADS, else one per CPU. */
static int64_t aten_threads(void) {
    static int64_t threads = 0;
    if (threads == 0) {
        const char *env = getenv("OMP_NUM_THREADS");
        long n = env ? strtol(env, NULL, 10) : 0;
        if (n <= 0)
            n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 1;
    }
    return threads;
}

/* ---- SLEEF's u10 exp ------------------------------------------------------ */

#define R_LN2F 1.442695040888963407359924681001892137426645954152985934135449406931f
#define L2UF 0.693145751953125f
#define L2LF 1.428606765330187045e-06f
#define R_LN2 1.442695040888963407359924681001892137426645954152985934135449406931
#define L2U .69314718055966295651160180568695068359375
#define L2L .28235290563031577122588448175013436025525412068e-12
#define LOG_DBL_MAX 0x1.62e42fefa39efp+9

/* 2^k for a normal exponent k, from its bits. */
static inline float pow2i_f32(int k) {
    uint32_t bits = (uint32_t)(k + 0x7f) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
static inline double pow2i_f64(int k) {
    uint64_t bits = (uint64_t)(k + 0x3ff) << 52;
    double f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
/* q >> 1 rounding down, without relying on signed shifts. */
static inline int half_floor(int q) {
    return q >= 0 ? q / 2 : -((1 - q) / 2);
}

static inline float exp_u10_f32(float d) {
    if (d != d)
        return d;
    if (d < -104.0f)
        return 0.0f;
    if (d > 100.0f)
        return INFINITY;
    float qf = rintf(d * R_LN2F);
    int q = (int)qf;
    float s = fmaf(qf, -L2UF, d);
    s = fmaf(qf, -L2LF, s);
    float u = 0.000198527617612853646278381f;
    u = fmaf(u, s, 0.00139304355252534151077271f);
    u = fmaf(u, s, 0.00833336077630519866943359f);
    u = fmaf(u, s, 0.0416664853692054748535156f);
    u = fmaf(u, s, 0.166666671633720397949219f);
    u = fmaf(u, s, 0.5f);
    u = 1.0f + fmaf(s * s, u, s);
    int h = half_floor(q);
    return u * pow2i_f32(h) * pow2i_f32(q - h);
}

/* Estrin's scheme over s, s^2, s^4, s^8, highest coefficient first. */
static const double EXP_C[10] = {+0.2081276378237164457e-8, +0.2511210703042288022e-7,
                                 +0.2755762628169491192e-6, +0.2755723402025388239e-5,
                                 +0.2480158687479686264e-4, +0.1984126989855865850e-3,
                                 +0.1388888888914497797e-2, +0.8333333333314938210e-2,
                                 +0.4166666666666602598e-1, +0.1666666666666669072e+0};

static inline double exp_u10_f64(double d) {
    if (d != d)
        return d;
    if (d > LOG_DBL_MAX)
        return INFINITY;
    if (d < -1000.0)
        return 0.0;
    double r = rint(d * R_LN2);
    int q = (int)r;
    double s = fma(r, -L2U, d);
    s = fma(r, -L2L, s);
    double s2 = s * s, s4 = s2 * s2, s8 = s4 * s4;
    const double *c = EXP_C;
    double hi4 = fma(s2, fma(s, c[2], c[3]), fma(s, c[4], c[5]));
    double lo4 = fma(s2, fma(s, c[6], c[7]), fma(s, c[8], c[9]));
    double u = fma(s8, fma(s, c[0], c[1]), fma(s4, hi4, lo4));
    u = fma(u, s, 0.5);
    u = fma(u, s, 1.0);
    u = fma(u, s, 1.0);
    int h = half_floor(q);
    return u * pow2i_f64(h) * pow2i_f64(q - h);
}

#ifdef GD_MATH_X86
AVX2 static inline __m256 exp_u10_f32x8(__m256 d) {
    __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(d, _mm256_set1_ps(R_LN2F)));
    __m256 qf = _mm256_cvtepi32_ps(q);
    __m256 s = _mm256_fmadd_ps(qf, _mm256_set1_ps(-L2UF), d);
    s = _mm256_fmadd_ps(qf, _mm256_set1_ps(-L2LF), s);
    __m256 u = _mm256_set1_ps(0.000198527617612853646278381f);
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.00139304355252534151077271f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.00833336077630519866943359f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.0416664853692054748535156f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.166666671633720397949219f));
    u = _mm256_fmadd_ps(u, s, _mm256_set1_ps(0.5f));
    u = _mm256_add_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_mul_ps(s, s), u, s));
    __m256i h = _mm256_srai_epi32(q, 1), bias = _mm256_set1_epi32(0x7f);
    __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
    __m256 p2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(q, h), bias), 23));
    u = _mm256_mul_ps(_mm256_mul_ps(u, p1), p2);
    u = _mm256_andnot_ps(_mm256_cmp_ps(d, _mm256_set1_ps(-104.0f), _CMP_LT_OQ), u);
    u = _mm256_blendv_ps(u, _mm256_set1_ps(INFINITY),
                         _mm256_cmp_ps(_mm256_set1_ps(100.0f), d, _CMP_LT_OQ));
    /* NaN in, NaN out (the reduction above already made it NaN). */
    return _mm256_blendv_ps(u, d, _mm256_cmp_ps(d, d, _CMP_UNORD_Q));
}

AVX2 static inline __m256d pow2i_f64x4(__m128i k) {
    __m256i e = _mm256_add_epi64(_mm256_cvtepi32_epi64(k), _mm256_set1_epi64x(0x3ff));
    return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
}

AVX2 static inline __m256d exp_u10_f64x4(__m256d d) {
    __m256d r = _mm256_round_pd(_mm256_mul_pd(d, _mm256_set1_pd(R_LN2)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i q = _mm256_cvtpd_epi32(r);
    __m256d s = _mm256_fmadd_pd(r, _mm256_set1_pd(-L2U), d);
    s = _mm256_fmadd_pd(r, _mm256_set1_pd(-L2L), s);
    __m256d s2 = _mm256_mul_pd(s, s), s4 = _mm256_mul_pd(s2, s2);
    __m256d s8 = _mm256_mul_pd(s4, s4);
#define C(i) _mm256_set1_pd(EXP_C[i])
    __m256d hi4 = _mm256_fmadd_pd(s2, _mm256_fmadd_pd(s, C(2), C(3)),
                                  _mm256_fmadd_pd(s, C(4), C(5)));
    __m256d lo4 = _mm256_fmadd_pd(s2, _mm256_fmadd_pd(s, C(6), C(7)),
                                  _mm256_fmadd_pd(s, C(8), C(9)));
    __m256d u = _mm256_fmadd_pd(s8, _mm256_fmadd_pd(s, C(0), C(1)),
                                _mm256_fmadd_pd(s4, hi4, lo4));
#undef C
    u = _mm256_fmadd_pd(u, s, _mm256_set1_pd(0.5));
    u = _mm256_fmadd_pd(u, s, _mm256_set1_pd(1.0));
    u = _mm256_fmadd_pd(u, s, _mm256_set1_pd(1.0));
    /* Out-of-range lanes are replaced below; keep their exponents sane. */
    __m128i qc =
        _mm_max_epi32(_mm_min_epi32(q, _mm_set1_epi32(2000)), _mm_set1_epi32(-2000));
    __m128i h = _mm_srai_epi32(qc, 1);
    u = _mm256_mul_pd(_mm256_mul_pd(u, pow2i_f64x4(h)),
                      pow2i_f64x4(_mm_sub_epi32(qc, h)));
    u = _mm256_blendv_pd(u, _mm256_set1_pd(INFINITY),
                         _mm256_cmp_pd(d, _mm256_set1_pd(LOG_DBL_MAX), _CMP_GT_OQ));
    u = _mm256_andnot_pd(_mm256_cmp_pd(d, _mm256_set1_pd(-1000.0), _CMP_LT_OQ), u);
    return _mm256_blendv_pd(u, d, _mm256_cmp_pd(d, d, _CMP_UNORD_Q));
}
#endif

/* ---- sigmoid -------------------------------------------------------------- */

#ifdef GD_MATH_X86
/* Whole multiples of 8 (float32) or 4 (float64) elements. */
AVX2 static void sigmoid_body_f32_avx2(float *o, const float *x, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n; i += 8) {
        __m256 e = exp_u10_f32x8(_mm256_xor_ps(_mm256_loadu_ps(x + i), sign));
        _mm256_storeu_ps(o + i, _mm256_div_ps(one, _mm256_add_ps(one, e)));
    }
}
AVX2 static void sigmoid_body_f64_avx2(double *o, const double *x, int64_t n) {
    const __m256d one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
    for (int64_t i = 0; i < n; i += 4) {
        __m256d e = exp_u10_f64x4(_mm256_xor_pd(_mm256_loadu_pd(x + i), sign));
        _mm256_storeu_pd(o + i, _mm256_div_pd(one, _mm256_add_pd(one, e)));
    }
}
#endif

/* 1 / (1 + exp(-x)) with SLEEF's exp on [0, body) and the C library's on
 * [body, n). */
static void sigmoid_run_f32(float *o, const float *x, int64_t n, int64_t body) {
    int64_t i = 0;
#ifdef GD_MATH_X86
    if (body > 0 && have_avx2()) {
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
    if (body > 0 && have_avx2()) {
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
    int step = vector_step(dtype);
    int64_t body = step ? n / step * step : 0;
    if (dtype == GD_FLOAT32)
        sigmoid_run_f32((float *)o, (const float *)x, n, body);
    else
        sigmoid_run_f64((double *)o, (const double *)x, n, body);
}

static void sigmoid_strided(char **d, const int64_t *s, int64_t n, void *ctx) {
    gd_dtype dtype = *(const gd_dtype *)ctx;
    for (int64_t i = 0; i < n; i++) {
        char *o = d[0] + i * s[0];
        const char *x = d[1] + i * s[1];
        if (dtype == GD_FLOAT32)
            *(float *)o = 1.0f / (1.0f + expf(-*(const float *)x));
        else
            *(double *)o = 1.0 / (1.0 + exp(-*(const double *)x));
    }
}

/* ATen's TensorIterator grain: below it, or with one thread, one run. */
#define ATEN_GRAIN 32768

void gd_math_sigmoid(const gd_tensor *in, gd_tensor *out) {
    gd_dtype dtype = out->dtype;
    int64_t n = out->numel;
    if (n == 0)
        return;
    void *lock = gd_loop_begin(n);
    if (gd_is_contiguous(in) && gd_is_contiguous(out)) {
        char *o = gd_data_ptr(out);
        const char *x = gd_data_ptr(in);
        size_t es = gd_dtype_size(dtype);
        int64_t threads = aten_threads();
        if (n < ATEN_GRAIN || threads == 1) {
            sigmoid_run(dtype, o, x, n);
        } else {
            /* at::parallel_for's split: min(threads, ceil(n / grain))
             * chunks of ceil(n / chunks) elements, each its own run. */
            int64_t chunks = (n + ATEN_GRAIN - 1) / ATEN_GRAIN;
            if (chunks > threads)
                chunks = threads;
            int64_t size = (n + chunks - 1) / chunks;
            for (int64_t b = 0; b < n; b += size) {
                int64_t len = n - b < size ? n - b : size;
                sigmoid_run(dtype, o + b * es, x + b * es, len);
            }
        }
    } else {
        /* ATen's strided loops are scalar throughout. */
        const gd_tensor *ops[2] = {out, in};
        gd_iterate(2, ops, out->ndim, out->shape, sigmoid_strided, &dtype);
    }
    gd_loop_end(lock);
}

/* ---- tanh backward ---------------------------------------------------------- */

#ifdef GD_MATH_X86
AVX2 static void tanh_bw_fused(char **d, const int64_t *s, int64_t n, void *ctx) {
    if (*(const gd_dtype *)ctx == GD_FLOAT32) {
        for (int64_t i = 0; i < n; i++) {
            float g = *(const float *)(d[1] + i * s[1]);
            float y = *(const float *)(d[2] + i * s[2]);
            *(float *)(d[0] + i * s[0]) = g * fmaf(-y, y, 1.0f);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            double g = *(const double *)(d[1] + i * s[1]);
            double y = *(const double *)(d[2] + i * s[2]);
            *(double *)(d[0] + i * s[0]) = g * fma(-y, y, 1.0);
        }
    }
}
#endif

static void tanh_bw_plain(char **d, const int64_t *s, int64_t n, void *ctx) {
    if (*(const gd_dtype *)ctx == GD_FLOAT32) {
        for (int64_t i = 0; i < n; i++) {
            float g = *(const float *)(d[1] + i * s[1]);
            float y = *(const float *)(d[2] + i * s[2]);
            *(float *)(d[0] + i * s[0]) = g * (1.0f - y * y);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            double g = *(const double *)(d[1] + i * s[1]);
            double y = *(const double *)(d[2] + i * s[2]);
            *(double *)(d[0] + i * s[0]) = g * (1.0 - y * y);
        }
    }
}

gd_status gd_math_tanh_backward(const gd_tensor *g, const gd_tensor *y,
                                gd_tensor **out) {
    gd_dtype dtype = y->dtype;
    *out = NULL;
    GD_CHECK(g->dtype == dtype && gd_dtype_is_floating(dtype) && g->ndim == y->ndim &&
                 memcmp(g->shape, y->shape, sizeof(int64_t) * (size_t)y->ndim) == 0,
             GD_ERR_RUNTIME, "tanh_backward: gradient and result differ");
    gd_status st = gd_empty(dtype, y->ndim, y->shape, out);
    if (st)
        return st;
    gd_loop_fn loop = tanh_bw_plain;
#ifdef GD_MATH_X86
    if (have_avx2())
        loop = tanh_bw_fused;
#endif
    const gd_tensor *ops[3] = {*out, g, y};
    void *lock = gd_loop_begin(y->numel);
    gd_iterate(3, ops, y->ndim, y->shape, loop, &dtype);
    gd_loop_end(lock);
    return GD_OK;
}
