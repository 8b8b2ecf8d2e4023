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

/* Whether to compute with the AVX2 code here: the CPU has it, and
 * GDLITE_MATH_PORTABLE is unset (set, the portable scalar code runs, which
 * gives the same bits; tests compare the two). */
static bool have_avx2(void) {
    static int use = -1;
    if (use < 0) {
        const char *portable = getenv("GDLITE_MATH_PORTABLE");
        use = vector_step(GD_FLOAT32) != 0 &&
              !(portable && *portable && *portable != '0');
    }
    return use;
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

/* How ATen walks a unary op: dims innermost last, merged where both
 * operands are contiguous across them; each run of the innermost dim
 * within one thread's chunk of the flat index is one loop call. Strides in
 * elements. */
typedef struct {
    gd_dtype dtype;
    int nd;
    int64_t size[GD_MAX_DIMS], xs[GD_MAX_DIMS], os[GD_MAX_DIMS];
    const char *x;
    char *o;
} unary_walk;

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
        if (sx == 1 && so == 1) {
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

/* ATen's TensorIterator grain: below it, or with one thread, one chunk. */
#define ATEN_GRAIN 32768

static void walk_chunks(const unary_walk *w, int64_t n) {
    int64_t threads = aten_threads();
    if (n < ATEN_GRAIN || threads == 1) {
        walk_runs(w, 0, n);
        return;
    }
    /* at::parallel_for: min(threads, ceil(n / grain)) chunks of
     * ceil(n / chunks) elements. */
    int64_t chunks = (n + ATEN_GRAIN - 1) / ATEN_GRAIN;
    if (chunks > threads)
        chunks = threads;
    int64_t size = (n + chunks - 1) / chunks;
    for (int64_t b = 0; b < n; b += size)
        walk_runs(w, b, n - b < size ? n : b + size);
}

/* Whether t's elements fill numel consecutive slots from its data pointer
 * in some order of its dims (contiguous, or transposed and the like). */
static bool is_dense(const gd_tensor *t) {
    int64_t seen = 1;
    bool used[GD_MAX_DIMS] = {false};
    for (int k = 0; k < t->ndim; k++) {
        int best = -1; /* the unused dim of smallest stride and size > 1 */
        for (int d = 0; d < t->ndim; d++)
            if (!used[d] && t->shape[d] > 1 &&
                (best < 0 || t->strides[d] < t->strides[best]))
                best = d;
        if (best < 0)
            break;
        if (t->strides[best] != seen)
            return false;
        used[best] = true;
        seen *= t->shape[best];
    }
    return true;
}

static bool same_layout(const gd_tensor *a, const gd_tensor *b) {
    return gd_data_ptr(a) == gd_data_ptr(b) && a->ndim == b->ndim &&
           memcmp(a->strides, b->strides, sizeof(int64_t) * (size_t)a->ndim) == 0;
}

void gd_math_sigmoid(const gd_tensor *in, gd_tensor *out) {
    int64_t n = out->numel;
    if (n == 0)
        return;
    unary_walk w = {
        .dtype = out->dtype, .nd = 1, .x = gd_data_ptr(in), .o = gd_data_ptr(out)};
    w.size[0] = n;
    w.xs[0] = w.os[0] = 1;
    void *lock = gd_loop_begin(n);
    bool dense = is_dense(in);
    char *buffer = NULL;
    if (dense && (same_layout(in, out) || gd_is_contiguous(in))) {
        walk_chunks(&w, n); /* one run in memory order */
    } else if (dense && gd_is_contiguous(out) &&
               (buffer = malloc((size_t)n * gd_dtype_size(w.dtype)))) {
        /* A transposed input: ATen walks it, and lays its result out, in
         * memory order. Here: that walk into a buffer, then out in order. */
        w.o = buffer;
        walk_chunks(&w, n);
        size_t es = gd_dtype_size(w.dtype);
        int64_t index[GD_MAX_DIMS] = {0}, offset = 0;
        for (int64_t i = 0; i < n; i++) {
            memcpy(gd_data_ptr(out) + i * (int64_t)es, buffer + offset * (int64_t)es,
                   es);
            for (int d = in->ndim - 1; d >= 0; d--) {
                offset += in->strides[d];
                if (++index[d] < in->shape[d])
                    break;
                offset -= in->strides[d] * in->shape[d];
                index[d] = 0;
            }
        }
        free(buffer);
    } else {
        /* Logical order, merging dims across which both are contiguous. */
        w.nd = 0;
        for (int d = 0; d < out->ndim; d++) {
            if (out->shape[d] == 1)
                continue;
            int k = w.nd - 1;
            if (k >= 0 && w.xs[k] == in->strides[d] * out->shape[d] &&
                w.os[k] == out->strides[d] * out->shape[d]) {
                w.size[k] *= out->shape[d];
                w.xs[k] = in->strides[d];
                w.os[k] = out->strides[d];
                continue;
            }
            w.size[w.nd] = out->shape[d];
            w.xs[w.nd] = in->strides[d];
            w.os[w.nd] = out->strides[d];
            w.nd++;
        }
        if (w.nd == 0) {
            w.nd = 1;
            w.size[0] = 1;
        }
        walk_chunks(&w, n);
    }
    gd_loop_end(lock);
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
    gd_status st = gd_empty(dtype, y->ndim, y->shape, out);
    if (st)
        return st;
    gd_loop_fn loop = vector_step(dtype) ? tanh_bw_fused : tanh_bw_plain;
#ifdef GD_MATH_X86
    if (vector_step(dtype) && have_avx2())
        loop = tanh_bw_fused_avx2;
#endif
    const gd_tensor *ops[3] = {*out, g, y};
    void *lock = gd_loop_begin(y->numel);
    gd_iterate(3, ops, y->ndim, y->shape, loop, &dtype);
    gd_loop_end(lock);
    return GD_OK;
}

/* ---- float32 functions to the nearest float ----------------------------------
 *
 * exp, log, tanh, sin and cos of a float32 are evaluated in double precision
 * (relative error near 1e-16) and rounded once to float32, which gives the
 * correctly rounded float for all but a vanishing fraction of inputs: the
 * closest published stand-in for MKL's results (see the top of the file).
 * Four lanes of doubles per AVX2 step; the scalar twins give the same bits. */

/* log(m) for m in [sqrt(1/2), sqrt(2)): 2 atanh(f), f = (m - 1) / (m + 1),
 * as 2f (1 + f^2/3 + f^4/5 + ...), |f| <= 0.1716. */
#define LOG_TERMS 11
static const double LOG_C[LOG_TERMS] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15,
                                        1.0 / 13, 1.0 / 11, 1.0 / 9,  1.0 / 7,
                                        1.0 / 5,  1.0 / 3,  1.0};
#define LN2_HI 0x1.62e42fefa3800p-1 /* ln 2 in 43 bits: e * LN2_HI is exact */
#define LN2_LO 0x1.ef35793c76730p-45
/* tanh(a) = a + a^3 (c1 + a^2 (c2 + ...)) below 2^-5 (Taylor's series). */
static const double TANH_C[5] = {-1382.0 / 155925, 62.0 / 2835, -17.0 / 315, 2.0 / 15,
                                 -1.0 / 3};
#define TANH_SMALL 0x1p-5
#define TANH_ONE 9.1 /* tanh rounds to 1 in float32 from about 9.01 */
/* sin and cos of |r| <= pi/4 (Taylor's series through r^17 and r^16). */
static const double SIN_C[8] = {
    1.0 / 355687428096000, -1.0 / 1307674368000, 1.0 / 6227020800, -1.0 / 39916800,
    1.0 / 362880,          -1.0 / 5040,          1.0 / 120,        -1.0 / 6};
static const double COS_C[8] = {
    1.0 / 20922789888000, -1.0 / 87178291200, 1.0 / 479001600, -1.0 / 3628800,
    1.0 / 40320,          -1.0 / 720,         1.0 / 24,        -1.0 / 2};
/* pi/2 as three doubles (about 160 bits) and 2/pi. */
#define PIO2_1 0x1.921fb54442d18p+0
#define PIO2_2 0x1.1a62633145c07p-54
#define PIO2_3 -0x1.f1976b7ed8fbcp-110
#define TWO_OVER_PI 0x1.45f306dc9c883p-1
/* Beyond this the reduction above loses accuracy: the C library's sin and
 * cos of the double take over. */
#define TRIG_BIG 0x1p24

enum { F_EXP, F_LOG, F_TANH, F_SIN, F_COS };

static inline double horner(const double *c, int n, double x) {
    double u = c[0];
    for (int i = 1; i < n; i++)
        u = fma(u, x, c[i]);
    return u;
}

static inline float log_cr_f32(float x) {
    if (!(x > 0.0f) || x == INFINITY)
        return x == 0.0f ? -INFINITY : x < 0.0f ? NAN : x; /* NaN stays NaN */
    double d = (double)x;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & ~(0x7ffULL << 52)) | (0x3ffULL << 52); /* m in [1, 2) */
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 0x1.6a09e667f3bcdp+0) { /* sqrt(2) */
        m *= 0.5;
        e += 1;
    }
    double f = (m - 1.0) / (m + 1.0), f2 = f * f;
    double lm = 2.0 * f * horner(LOG_C, LOG_TERMS, f2);
    return (float)fma((double)e, LN2_HI, fma((double)e, LN2_LO, lm));
}

static inline float tanh_cr_f32(float x) {
    double a = fabs((double)x), t;
    if (a < TANH_SMALL) {
        double a2 = a * a;
        t = fma(a * a2, horner(TANH_C, 5, a2), a);
    } else if (a > TANH_ONE) {
        t = 1.0;
    } else {
        t = 1.0 - 2.0 / (exp_u10_f64(2.0 * a) + 1.0); /* NaN stays NaN */
    }
    return (float)copysign(t, (double)x);
}

/* sin (cos_shift 0) or cos (1) of a float32, |x| <= TRIG_BIG. */
static inline float trig_cr_f32(float x, int cos_shift) {
    double d = (double)x;
    if (!(fabs(d) <= TRIG_BIG))
        return (float)(cos_shift ? cos(d) : sin(d));
    if (d == 0.0 && !cos_shift)
        return x;
    double k = rint(d * TWO_OVER_PI);
    double r = fma(-k, PIO2_1, d);
    r = fma(-k, PIO2_2, r);
    r = fma(-k, PIO2_3, r);
    int q = ((int)k + cos_shift) & 3;
    double r2 = r * r, u;
    if (q & 1)
        u = fma(r2, horner(COS_C, 8, r2), 1.0);
    else
        u = fma(r * r2, horner(SIN_C, 8, r2), r);
    return (float)(q & 2 ? -u : u);
}

#ifdef GD_MATH_X86
AVX2 static inline __m256d horner4(const double *c, int n, __m256d x) {
    __m256d u = _mm256_set1_pd(c[0]);
    for (int i = 1; i < n; i++)
        u = _mm256_fmadd_pd(u, x, _mm256_set1_pd(c[i]));
    return u;
}

AVX2 static inline __m256d log_cr_f64x4(__m256d d) {
    __m256i bits = _mm256_castpd_si256(d);
    __m256i e = _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023));
    __m256i mb =
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0xfffffffffffffLL)),
                        _mm256_set1_epi64x(0x3ffLL << 52));
    __m256d m = _mm256_castsi256_pd(mb);
    __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(0x1.6a09e667f3bcdp+0), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
    e = _mm256_sub_epi64(e, _mm256_castpd_si256(big)); /* a true lane is -1 */
    /* e fits in 32 bits: take the low halves to convert. */
    __m128i e32 = _mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(e, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0)));
    __m256d ed = _mm256_cvtepi32_pd(e32);
    __m256d one = _mm256_set1_pd(1.0);
    __m256d f = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
    __m256d f2 = _mm256_mul_pd(f, f);
    __m256d lm = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), f),
                               horner4(LOG_C, LOG_TERMS, f2));
    __m256d r = _mm256_fmadd_pd(ed, _mm256_set1_pd(LN2_HI),
                                _mm256_fmadd_pd(ed, _mm256_set1_pd(LN2_LO), lm));
    return r; /* zero, negative, infinite and NaN lanes: the scalar path */
}

AVX2 static inline __m256d tanh_cr_f64x4(__m256d d) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d a = _mm256_andnot_pd(sign, d), a2 = _mm256_mul_pd(a, a);
    __m256d small = _mm256_fmadd_pd(_mm256_mul_pd(a, a2), horner4(TANH_C, 5, a2), a);
    __m256d one = _mm256_set1_pd(1.0);
    __m256d e = exp_u10_f64x4(_mm256_add_pd(a, a));
    __m256d mid =
        _mm256_sub_pd(one, _mm256_div_pd(_mm256_set1_pd(2.0), _mm256_add_pd(e, one)));
    __m256d t = _mm256_blendv_pd(
        mid, small, _mm256_cmp_pd(a, _mm256_set1_pd(TANH_SMALL), _CMP_LT_OQ));
    t = _mm256_blendv_pd(t, one,
                         _mm256_cmp_pd(a, _mm256_set1_pd(TANH_ONE), _CMP_GT_OQ));
    return _mm256_or_pd(t, _mm256_and_pd(sign, d));
}

/* Lanes with |x| <= TRIG_BIG and x != 0 (sin); the caller checks. */
AVX2 static inline __m256d trig_cr_f64x4(__m256d d, int cos_shift) {
    __m256d k = _mm256_round_pd(_mm256_mul_pd(d, _mm256_set1_pd(TWO_OVER_PI)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(PIO2_1), d);
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(PIO2_2), r);
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(PIO2_3), r);
    __m128i q = _mm_add_epi32(_mm256_cvtpd_epi32(k), _mm_set1_epi32(cos_shift));
    __m256i q64 = _mm256_cvtepi32_epi64(q);
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d c = _mm256_fmadd_pd(r2, horner4(COS_C, 8, r2), _mm256_set1_pd(1.0));
    __m256d s = _mm256_fmadd_pd(_mm256_mul_pd(r, r2), horner4(SIN_C, 8, r2), r);
    __m256i odd = _mm256_cmpeq_epi64(_mm256_and_si256(q64, _mm256_set1_epi64x(1)),
                                     _mm256_set1_epi64x(1));
    __m256d u = _mm256_blendv_pd(s, c, _mm256_castsi256_pd(odd));
    __m256i neg = _mm256_slli_epi64(_mm256_and_si256(q64, _mm256_set1_epi64x(2)), 62);
    return _mm256_xor_pd(u, _mm256_castsi256_pd(neg));
}

/* Eight float32 elements: whether every lane takes the vector formulas. */
AVX2 static inline bool lanes_ok(int fn, __m256 x) {
    __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 bad;
    if (fn == F_LOG) /* not (0 < x < inf) */
        bad = _mm256_or_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGT_UQ),
                           _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ));
    else if (fn == F_SIN) /* zero keeps its sign; huge or not finite */
        bad = _mm256_or_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ),
                           _mm256_cmp_ps(a, _mm256_set1_ps(TRIG_BIG), _CMP_NLE_UQ));
    else if (fn == F_COS)
        bad = _mm256_cmp_ps(a, _mm256_set1_ps(TRIG_BIG), _CMP_NLE_UQ);
    else
        return true;
    return _mm256_movemask_ps(bad) == 0;
}

AVX2 static inline __m256d eval4(int fn, __m256d d) {
    switch (fn) {
    case F_EXP:
        return exp_u10_f64x4(d);
    case F_LOG:
        return log_cr_f64x4(d);
    case F_TANH:
        return tanh_cr_f64x4(d);
    case F_SIN:
        return trig_cr_f64x4(d, 0);
    default:
        return trig_cr_f64x4(d, 1);
    }
}
#endif

static inline float eval1(int fn, float x) {
    switch (fn) {
    case F_EXP:
        return (float)exp_u10_f64((double)x);
    case F_LOG:
        return log_cr_f32(x);
    case F_TANH:
        return tanh_cr_f32(x);
    case F_SIN:
        return trig_cr_f32(x, 0);
    default:
        return trig_cr_f32(x, 1);
    }
}

#ifdef GD_MATH_X86
/* One function per formula, so that each inlines its own lanes. */
#define RUN_AVX2(name, FN)                                                             \
    AVX2 static void name(float *o, const float *x, int64_t n) {                       \
        int64_t i = 0;                                                                 \
        for (; i + 8 <= n; i += 8) {                                                   \
            __m256 v = _mm256_loadu_ps(x + i);                                         \
            if (!lanes_ok(FN, v)) {                                                    \
                for (int j = 0; j < 8; j++)                                            \
                    o[i + j] = eval1(FN, x[i + j]);                                    \
                continue;                                                              \
            }                                                                          \
            __m256d lo = eval4(FN, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));        \
            __m256d hi = eval4(FN, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));      \
            _mm256_storeu_ps(                                                          \
                o + i, _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)));     \
        }                                                                              \
        for (; i < n; i++)                                                             \
            o[i] = eval1(FN, x[i]);                                                    \
    }
RUN_AVX2(exp_f32_avx2, F_EXP)
RUN_AVX2(log_f32_avx2, F_LOG)
RUN_AVX2(tanh_f32_avx2, F_TANH)
RUN_AVX2(sin_f32_avx2, F_SIN)
RUN_AVX2(cos_f32_avx2, F_COS)

AVX2 static void sqrt_f32_avx2(float *o, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(o + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        o[i] = sqrtf(x[i]);
}
AVX2 static void sqrt_f64_avx2(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(o + i, _mm256_sqrt_pd(_mm256_loadu_pd(x + i)));
    for (; i < n; i++)
        o[i] = sqrt(x[i]);
}
#define VECTOR_PATH(call)                                                              \
    do {                                                                               \
        if (s[0] == s[1] && (size_t)s[0] == sizeof *x && have_avx2()) {                \
            call;                                                                      \
            return;                                                                    \
        }                                                                              \
    } while (0)
#else
#define VECTOR_PATH(call) (void)0
#endif

#define MATH_LOOP(name, FN, T, SCALAR, AVX2_RUN)                                       \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        (void)ctx;                                                                     \
        const T *x = (const T *)d[1];                                                  \
        VECTOR_PATH(AVX2_RUN((T *)d[0], x, n));                                        \
        for (int64_t i = 0; i < n; i++)                                                \
            *(T *)(d[0] + i * s[0]) = SCALAR(FN, *(const T *)(d[1] + i * s[1]));       \
    }
#define SQRT_F32(fn, v) sqrtf(v)
#define SQRT_F64(fn, v) sqrt(v)
MATH_LOOP(exp_f32, F_EXP, float, eval1, exp_f32_avx2)
MATH_LOOP(log_f32, F_LOG, float, eval1, log_f32_avx2)
MATH_LOOP(tanh_f32, F_TANH, float, eval1, tanh_f32_avx2)
MATH_LOOP(sin_f32, F_SIN, float, eval1, sin_f32_avx2)
MATH_LOOP(cos_f32, F_COS, float, eval1, cos_f32_avx2)
MATH_LOOP(sqrt_f32, 0, float, SQRT_F32, sqrt_f32_avx2)
MATH_LOOP(sqrt_f64, 0, double, SQRT_F64, sqrt_f64_avx2)

gd_loop_fn gd_math_loop(gd_op op, gd_dtype dtype) {
    if (op == GD_OP_SQRT && dtype == GD_FLOAT64)
        return sqrt_f64;
    if (dtype != GD_FLOAT32)
        return NULL;
    switch (op) {
    case GD_OP_SQRT:
        return sqrt_f32;
    case GD_OP_EXP:
        return exp_f32;
    case GD_OP_LOG:
        return log_f32;
    case GD_OP_TANH:
        return tanh_f32;
    case GD_OP_SIN:
        return sin_f32;
    case GD_OP_COS:
        return cos_f32;
    default:
        return NULL;
    }
}
