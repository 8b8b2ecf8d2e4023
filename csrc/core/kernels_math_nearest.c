/* float32 exp, log, tanh, sin and cos to the nearest float; sqrt.
 *
 * PyTorch computes these with MKL's unpublished routines (see
 * kernels_math.c). Here the float32 functions are evaluated in double
 * precision (relative error near 1e-16) and rounded once to float32, which
 * gives the correctly rounded float for all but a vanishing fraction of
 * inputs: what MKL returns for most inputs, the closest published stand-in
 * for it. Four lanes of doubles per AVX2 step, eight per AVX-512 step; the
 * scalar twins give the same bits. float64: kernels_math_f64.c. */
#include "internal.h"
#include "math_nearest.h"

/* log(m) for m in [sqrt(1/2), sqrt(2)): 2 atanh(f), f = (m - 1) / (m + 1),
 * as 2f (1 + f^2/3 + f^4/5 + ...), |f| <= 0.1716. */
#define LOG_TERMS 11
static const double LOG_C[LOG_TERMS] = {1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15,
                                        1.0 / 13, 1.0 / 11, 1.0 / 9,  1.0 / 7,
                                        1.0 / 5,  1.0 / 3,  1.0};
#define TANH_ONE 9.1 /* tanh rounds to 1 in float32 from about 9.01 */
/* sin and cos of |r| <= pi/4 (Taylor's series through r^17 and r^16). */
static const double SIN_C[8] = {
    1.0 / 355687428096000, -1.0 / 1307674368000, 1.0 / 6227020800, -1.0 / 39916800,
    1.0 / 362880,          -1.0 / 5040,          1.0 / 120,        -1.0 / 6};
static const double COS_C[8] = {
    1.0 / 20922789888000, -1.0 / 87178291200, 1.0 / 479001600, -1.0 / 3628800,
    1.0 / 40320,          -1.0 / 720,         1.0 / 24,        -1.0 / 2};
/* Beyond this the reduction above loses accuracy: the C library's sin and
 * cos of the double take over. */
#define TRIG_BIG 0x1p24

enum { F_EXP, F_LOG, F_TANH, F_SIN, F_COS };

/* log of a positive, finite float32, as a double (relative error ~1e-16). */
static inline double log_of_f32(float x) {
    double e, m = split_f64((double)x, &e); /* float32 subnormals are normal here */
    if (m > 0x1.6a09e667f3bcdp+0) {         /* sqrt(2) */
        m *= 0.5;
        e += 1.0;
    }
    double f = (m - 1.0) / (m + 1.0), f2 = f * f;
    double lm = 2.0 * f * horner(LOG_C, LOG_TERMS, f2);
    return fma(e, LN2_HI, fma(e, LN2_LO, lm));
}

static inline float log_cr_f32(float x) {
    if (!(x > 0.0f) || x == INFINITY)
        return x == 0.0f ? -INFINITY : x < 0.0f ? NAN : x; /* NaN stays NaN */
    return (float)log_of_f32(x);
}

/* x ** e for float32 x and e: exp(e log x) in double, rounded once (the
 * correctly rounded powf for all but a vanishing fraction of inputs); the
 * C library's powf where x is not positive and finite or e not finite. */
static inline float pow_of_f32(float x, float e) {
    if (!(x > 0.0f) || x == INFINITY || !isfinite(e))
        return powf(x, e);
    return (float)exp_t_f64((double)e * log_of_f32(x), EXP_COARSE);
}

static inline float tanh_cr_f32(float x) {
    double a = fabs((double)x), t;
    if (a < TANH_SMALL) {
        double a2 = a * a;
        t = fma(a * a2, horner(TANH_C, 5, a2), a);
    } else if (a > TANH_ONE) {
        t = 1.0;
    } else {
        t = 1.0 - 2.0 / (exp_t_f64(2.0 * a, EXP_COARSE) + 1.0); /* NaN stays NaN */
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
    __m256d e = exp_t_f64x4(_mm256_add_pd(a, a), EXP_COARSE);
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
    __m256d r2 = _mm256_mul_pd(r, r);
    __m256d c = _mm256_fmadd_pd(r2, horner4(COS_C, 8, r2), _mm256_set1_pd(1.0));
    __m256d s = _mm256_fmadd_pd(_mm256_mul_pd(r, r2), horner4(SIN_C, 8, r2), r);
    return quadrant_f64x4(k, cos_shift, s, c);
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
        return exp_t_f64x4(d, EXP_COARSE);
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

/* The AVX2 forms above on eight lanes, with masks for blends. */
AVX512 static inline __m512d log_cr_f64x8(__m512d d) {
    __m512i bits = _mm512_castpd_si512(d);
    __m512i e = _mm512_sub_epi64(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(1023));
    __m512i mb =
        _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0xfffffffffffffLL)),
                        _mm512_set1_epi64(0x3ffLL << 52));
    __m512d m = _mm512_castsi512_pd(mb);
    __mmask8 big =
        _mm512_cmp_pd_mask(m, _mm512_set1_pd(0x1.6a09e667f3bcdp+0), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    e = _mm512_mask_add_epi64(e, big, e, _mm512_set1_epi64(1));
    __m512d ed = _mm512_cvtepi64_pd(e);
    __m512d one = _mm512_set1_pd(1.0);
    __m512d f = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    __m512d f2 = _mm512_mul_pd(f, f);
    __m512d lm = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(2.0), f),
                               horner8(LOG_C, LOG_TERMS, f2));
    return _mm512_fmadd_pd(ed, _mm512_set1_pd(LN2_HI),
                           _mm512_fmadd_pd(ed, _mm512_set1_pd(LN2_LO), lm));
}

AVX512 static inline __m512d tanh_cr_f64x8(__m512d d) {
    const __m512d sign = _mm512_set1_pd(-0.0);
    __m512d a = _mm512_andnot_pd(sign, d), a2 = _mm512_mul_pd(a, a);
    __m512d small = _mm512_fmadd_pd(_mm512_mul_pd(a, a2), horner8(TANH_C, 5, a2), a);
    __m512d one = _mm512_set1_pd(1.0);
    __m512d e = exp_t_f64x8(_mm512_add_pd(a, a), EXP_COARSE);
    __m512d mid =
        _mm512_sub_pd(one, _mm512_div_pd(_mm512_set1_pd(2.0), _mm512_add_pd(e, one)));
    __m512d t = _mm512_mask_blend_pd(
        _mm512_cmp_pd_mask(a, _mm512_set1_pd(TANH_SMALL), _CMP_LT_OQ), mid, small);
    t = _mm512_mask_blend_pd(
        _mm512_cmp_pd_mask(a, _mm512_set1_pd(TANH_ONE), _CMP_GT_OQ), t, one);
    return _mm512_or_pd(t, _mm512_and_pd(sign, d));
}

AVX512 static inline __m512d trig_cr_f64x8(__m512d d, int cos_shift) {
    __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(d, _mm512_set1_pd(TWO_OVER_PI)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(PIO2_1), d);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(PIO2_2), r);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(PIO2_3), r);
    __m512d r2 = _mm512_mul_pd(r, r);
    __m512d c = _mm512_fmadd_pd(r2, horner8(COS_C, 8, r2), _mm512_set1_pd(1.0));
    __m512d s = _mm512_fmadd_pd(_mm512_mul_pd(r, r2), horner8(SIN_C, 8, r2), r);
    return quadrant_f64x8(k, cos_shift, s, c);
}

AVX512 static inline bool lanes_ok16(int fn, __m512 x) {
    __m512 a = _mm512_abs_ps(x);
    if (fn == F_LOG)
        return (_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGT_UQ) |
                _mm512_cmp_ps_mask(x, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ)) == 0;
    if (fn == F_SIN)
        return (_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_EQ_OQ) |
                _mm512_cmp_ps_mask(a, _mm512_set1_ps(TRIG_BIG), _CMP_NLE_UQ)) == 0;
    if (fn == F_COS)
        return _mm512_cmp_ps_mask(a, _mm512_set1_ps(TRIG_BIG), _CMP_NLE_UQ) == 0;
    return true;
}

AVX512 static inline __m512d eval8(int fn, __m512d d) {
    switch (fn) {
    case F_EXP:
        return exp_t_f64x8(d, EXP_COARSE);
    case F_LOG:
        return log_cr_f64x8(d);
    case F_TANH:
        return tanh_cr_f64x8(d);
    case F_SIN:
        return trig_cr_f64x8(d, 0);
    default:
        return trig_cr_f64x8(d, 1);
    }
}
#endif

static inline float eval1(int fn, float x) {
    switch (fn) {
    case F_EXP:
        return (float)exp_t_f64((double)x, EXP_COARSE);
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

#define RUN_AVX512(name, FN)                                                           \
    AVX512 static void name(float *o, const float *x, int64_t n) {                     \
        int64_t i = 0;                                                                 \
        for (; i + 16 <= n; i += 16) {                                                 \
            __m512 v = _mm512_loadu_ps(x + i);                                         \
            if (!lanes_ok16(FN, v)) {                                                  \
                for (int j = 0; j < 16; j++)                                           \
                    o[i + j] = eval1(FN, x[i + j]);                                    \
                continue;                                                              \
            }                                                                          \
            __m512d lo = eval8(FN, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));        \
            __m512d hi = eval8(FN, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));     \
            _mm256_storeu_ps(o + i, _mm512_cvtpd_ps(lo));                              \
            _mm256_storeu_ps(o + i + 8, _mm512_cvtpd_ps(hi));                          \
        }                                                                              \
        for (; i < n; i++)                                                             \
            o[i] = eval1(FN, x[i]);                                                    \
    }
RUN_AVX512(exp_f32_avx512, F_EXP)
RUN_AVX512(log_f32_avx512, F_LOG)
RUN_AVX512(tanh_f32_avx512, F_TANH)
RUN_AVX512(sin_f32_avx512, F_SIN)
RUN_AVX512(cos_f32_avx512, F_COS)

/* pow_of_f32 over n contiguous elements, the exponents at e (ey = 1) or
 * *e for all (ey = 0): 8 (AVX2) or 16 (AVX-512) at a time, vectors with a
 * lane outside the vector formulas' range on the scalar code. */
AVX2 static void pow_f32_avx2(float *o, const float *x, const float *e, int64_t ey,
                              int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 ev = ey ? _mm256_loadu_ps(e + i) : _mm256_set1_ps(*e);
        __m256 ea = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), ev);
        if (!lanes_ok(F_LOG, v) || _mm256_movemask_ps(_mm256_cmp_ps(
                                       ea, _mm256_set1_ps(INFINITY), _CMP_NLT_UQ))) {
            for (int j = 0; j < 8; j++)
                o[i + j] = pow_of_f32(x[i + j], e[(i + j) * ey]);
            continue;
        }
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        __m256d elo = _mm256_cvtps_pd(_mm256_castps256_ps128(ev));
        __m256d ehi = _mm256_cvtps_pd(_mm256_extractf128_ps(ev, 1));
        lo = exp_t_f64x4(_mm256_mul_pd(elo, log_cr_f64x4(lo)), EXP_COARSE);
        hi = exp_t_f64x4(_mm256_mul_pd(ehi, log_cr_f64x4(hi)), EXP_COARSE);
        _mm256_storeu_ps(o + i,
                         _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)));
    }
    for (; i < n; i++)
        o[i] = pow_of_f32(x[i], e[i * ey]);
}
AVX512 static void pow_f32_avx512(float *o, const float *x, const float *e, int64_t ey,
                                  int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512 ev = ey ? _mm512_loadu_ps(e + i) : _mm512_set1_ps(*e);
        if (!lanes_ok16(F_LOG, v) ||
            _mm512_cmp_ps_mask(_mm512_abs_ps(ev), _mm512_set1_ps(INFINITY),
                               _CMP_NLT_UQ)) {
            for (int j = 0; j < 16; j++)
                o[i + j] = pow_of_f32(x[i + j], e[(i + j) * ey]);
            continue;
        }
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
        __m512d elo = _mm512_cvtps_pd(_mm512_castps512_ps256(ev));
        __m512d ehi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(ev, 1));
        lo = exp_t_f64x8(_mm512_mul_pd(elo, log_cr_f64x8(lo)), EXP_COARSE);
        hi = exp_t_f64x8(_mm512_mul_pd(ehi, log_cr_f64x8(hi)), EXP_COARSE);
        _mm256_storeu_ps(o + i, _mm512_cvtpd_ps(lo));
        _mm256_storeu_ps(o + i + 8, _mm512_cvtpd_ps(hi));
    }
    for (; i < n; i++)
        o[i] = pow_of_f32(x[i], e[i * ey]);
}

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
#endif

#define SQRT_F32(fn, v) sqrtf(v)
#define SQRT_F64(fn, v) sqrt(v)
MATH_LOOP(exp_f32, F_EXP, float, eval1, exp_f32_avx2, exp_f32_avx512)
MATH_LOOP(log_f32, F_LOG, float, eval1, log_f32_avx2, log_f32_avx512)
MATH_LOOP(tanh_f32, F_TANH, float, eval1, tanh_f32_avx2, tanh_f32_avx512)
MATH_LOOP(sin_f32, F_SIN, float, eval1, sin_f32_avx2, sin_f32_avx512)
MATH_LOOP(cos_f32, F_COS, float, eval1, cos_f32_avx2, cos_f32_avx512)
MATH_LOOP(sqrt_f32, 0, float, SQRT_F32, sqrt_f32_avx2, sqrt_f32_avx2)
MATH_LOOP(sqrt_f64, 0, double, SQRT_F64, sqrt_f64_avx2, sqrt_f64_avx2)

gd_loop_fn gd_math_loop(gd_op op, gd_dtype dtype) {
    gd_loop_fn vml = gd_mkl_vml_loop(op, dtype);
    if (vml)
        return vml;
    if (dtype == GD_FLOAT64)
        return op == GD_OP_SQRT ? sqrt_f64 : gd_math_loop_f64(op);
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

void gd_math_powf(float *o, const float *x, const float *e, int64_t ey, int64_t n) {
#ifdef GD_MATH_X86
    if (gd_math_avx512()) {
        pow_f32_avx512(o, x, e, ey, n);
        return;
    }
    if (gd_math_avx2()) {
        pow_f32_avx2(o, x, e, ey, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++)
        o[i] = pow_of_f32(x[i], e[i * ey]);
}
