/* float64 exp, sin, cos, log, tanh and pow, vectorised.
 *
 * PyTorch's float64 functions are MKL's and SLEEF's (kernels_math.c),
 * nearly always correctly rounded. These are too: exp by Tang's table method
 * (math_nearest.h); sin, cos, log, tanh and pow with their leading terms in
 * double-double arithmetic, so that only the last addition rounds
 * noticeably. Each has the correctly rounded result for 99.9% of inputs or
 * more and is never an ulp from it (the C library's tanh is, often); scalar,
 * AVX2 and AVX-512 forms give the same bits. */
#include "math_nearest.h"

/* float64 sin and cos: x = k pi/2 + r, r kept as a double-double rh + rl
 * (k pi/2 formed from three parts of pi/2, the first product's error
 * recovered by a fused multiply-add), then Taylor's series on |r| <= pi/4
 * with its leading terms (r - r^3/6; 1 - r^2/2 + r^4/24) in double-double
 * arithmetic, so that only the last addition rounds noticeably: the C
 * library's result for nearly every input. The C library's beyond
 * TRIG64_BIG. */
#define TRIG64_BIG 0x1p20
#define SIXTH_HI -0x1.5555555555555p-3 /* -1/6 */
#define SIXTH_LO -0x1.5555555555555p-57
#define C24_HI 0x1.5555555555555p-5 /* 1/24 */
#define C24_LO 0x1.5555555555555p-59
/* r^5 (1/5! - r^2/7! + ... + r^16/21!) and r^6 (-1/6! + ... + r^14/20!). */
static const double SIN64_TAIL[9] = {1.0 / 51090942171709440000.0,
                                     -1.0 / 121645100408832000.0,
                                     1.0 / 355687428096000.0,
                                     -1.0 / 1307674368000.0,
                                     1.0 / 6227020800.0,
                                     -1.0 / 39916800.0,
                                     1.0 / 362880.0,
                                     -1.0 / 5040.0,
                                     1.0 / 120.0};
static const double COS64_TAIL[8] = {1.0 / 2432902008176640000.0,
                                     -1.0 / 6402373705728000.0,
                                     1.0 / 20922789888000.0,
                                     -1.0 / 87178291200.0,
                                     1.0 / 479001600.0,
                                     -1.0 / 3628800.0,
                                     1.0 / 40320.0,
                                     -1.0 / 720.0};

/* float64 log: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(f)
 * with f = (m - 1) / (m + 1) kept as a double-double (|f| <= 0.1716), and
 * 2f + 2f^3/3 summed with e ln 2 in double-double arithmetic; the rest of
 * the series (2f^5/5 + ...) is small enough for plain doubles. */
#define TWO3_HI 0x1.5555555555555p-1 /* 2/3 */
#define TWO3_LO 0x1.5555555555555p-55
static const double LOG64_TAIL[9] = {2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13,
                                     2.0 / 11, 2.0 / 9,  2.0 / 7,  2.0 / 5};

/* float64 tanh: Taylor's series below 2^-5 (TANH_C); else from
 * E = exp(2|x|) as a double-double (Tang's table, the reduction by a 36-bit
 * ln 2 exact, its remainder and the table entry kept to about 2^-70), as
 * (E - 1) / (E + 1)
 * below ln 2 / 2 and 1 - 2 / (E + 1) above, in double-double arithmetic;
 * +-1 from 22, where tanh rounds to 1. */
#define TANH64_ONE 22.0
#define TANH64_MID 0x1.62e42fefa39efp-2 /* ln 2 / 2: E <= 2 below */
/* ln 2 in three parts, the first two of 36 bits (k * part / 128 is exact for
 * k < 2^17), so the reduction's remainder comes out as a double-double. */
#define LN2_HI36 0x1.62e42fefa0000p-1
#define LN2_MID36 0x1.cf79abc9e0000p-40
#define LN2_LO2 0x1.d9cc01f97b57ap-79

/* sin (cos_shift 0) or cos (1) of a double. */
static inline double trig_f64(double x, int cos_shift) {
    if (!(fabs(x) <= TRIG64_BIG))
        return cos_shift ? cos(x) : sin(x);
    if (x == 0.0 && !cos_shift)
        return x;
    double kd = rint(x * TWO_OVER_PI);
    double ph = kd * PIO2_1, pl = fma(kd, PIO2_1, -ph);
    double t = x - ph; /* exact: ph is within a factor 2 of x, or 0 */
    double q2 = kd * PIO2_2, q2l = fma(kd, PIO2_2, -q2);
    double w = (pl + q2) + (q2l + kd * PIO2_3);
    double rh = t - w, rl = (t - rh) - w;
    int q = ((int)kd + cos_shift) & 3;
    double z = rh * rh, zl = fma(rh, rh, -z), u;
    if (q & 1) { /* cos: 1 - z/2, + z^2/24, + the tail, - rl sin(rh) */
        double hz = 0.5 * z, w1 = 1.0 - hz, e1 = (1.0 - w1) - hz;
        double z2 = z * z, z2l = fma(z, z, -z2) + 2.0 * z * zl;
        double c = z2 * C24_HI, cl = fma(z2, C24_HI, -c) + (z2 * C24_LO + z2l * C24_HI);
        double tail = z2 * z * horner(COS64_TAIL, 8, z);
        double s1 = w1 + c, e2 = (w1 - s1) + c;
        u = s1 +
            ((e1 + e2) + (((cl - 0.5 * zl) + tail) - rh * rl * (1.0 + z * SIXTH_HI)));
    } else { /* sin: rh - rh^3/6, + the tail, + rl cos(rh) */
        double a = z * rh, al = fma(z, rh, -a) + zl * rh;
        double c = a * SIXTH_HI,
               cl = fma(a, SIXTH_HI, -c) + (a * SIXTH_LO + al * SIXTH_HI);
        double tail = a * z * horner(SIN64_TAIL, 9, z);
        double s1 = rh + c, e1 = (rh - s1) + c;
        u = s1 + (e1 + ((cl + tail) + rl * ((1.0 - 0.5 * z) + z * z * C24_HI)));
    }
    return q & 2 ? -u : u;
}

/* log of a positive, finite, normal double from its parts (m in [1, 2),
 * x = 2^e m) as hi + *lo, about 2^-65 relative. */
static inline double log_dd_parts(double m, double e, double *lo) {
    if (m > 0x1.6a09e667f3bcdp+0) {
        m *= 0.5;
        e += 1.0;
    }
    double num = m - 1.0, sh = 1.0 + m, sl = (1.0 - sh) + m; /* exact */
    double inv = 1.0 / sh, fh = num * inv;
    double fl = (fma(-fh, sh, num) - fh * sl) * inv;
    double f2 = fh * fh, f2l = fma(fh, fh, -f2);
    double c3 = fh * f2, c3l = (fma(fh, f2, -c3) + fh * f2l) + 3.0 * f2 * fl;
    double t3 = c3 * TWO3_HI,
           t3l = fma(c3, TWO3_HI, -t3) + (c3 * TWO3_LO + c3l * TWO3_HI);
    double tail = c3 * f2 * horner(LOG64_TAIL, 9, f2);
    double a = e * LN2_HI, b = 2.0 * fh; /* both exact */
    double s1 = a + b, bb = s1 - a, e1 = (a - (s1 - bb)) + (b - bb);
    double s2 = s1 + t3, e2 = (s1 - s2) + t3;
    double low = (e1 + e2) + (((e * LN2_LO + 2.0 * fl) + t3l) + tail);
    double hi = s2 + low; /* normalised: *lo within hi's last bit */
    *lo = (s2 - hi) + low;
    return hi;
}

static inline double log_f64_parts(double m, double e) {
    double lo, hi = log_dd_parts(m, e, &lo);
    return hi + lo;
}

static inline double log_nearest_f64(double x) {
    if (!(x > 0.0) || x == INFINITY)
        return x == 0.0 ? -INFINITY : x < 0.0 ? NAN : x; /* NaN stays NaN */
    double scale = 0.0;
    if (x < 0x1p-1022) { /* subnormal: scale to normal exactly */
        x *= 0x1p54;
        scale = -54.0;
    }
    double e, m = split_f64(x, &e);
    return log_f64_parts(m, e + scale);
}

/* exp(y + yl), |y| <= 708 and |yl| tiny beside it, as eh + el with about
 * 2^-70 relative error. */
static inline double exp_dd_f64(double y, double yl, double *el) {
    double kd = rint(y * (EXPT_LOG2E * 128));
    int k = (int)kd, j = k & 127;
    double r0 = y - kd * (LN2_HI36 / 128), p = kd * (LN2_MID36 / 128); /* exact */
    double rh = r0 - p, rb = rh - r0;
    double rl = (((r0 - (rh - rb)) - (p + rb)) + kd * (-LN2_LO2 / 128)) + yl;
    double w = fma(rh * rh, horner(EXPT_C, 6, rh), rl * (1.0 + rh)); /* e^r - 1 - rh */
    double th = EXP128_HI[j], tl = EXP128_LO[j];
    double a1 = th * rh, a1l = fma(th, rh, -a1);
    double s1 = th + a1, e0 = (th - s1) + a1;
    double low = (e0 + a1l) + (th * w + fma(tl, rh, tl));
    double eh = s1 + low, scale = pow2i_f64((k - j) / 128);
    *el = ((s1 - eh) + low) * scale;
    return eh * scale;
}

/* x ** y for float64: exp(y log x) with log x as a double-double and the
 * product's error carried into exp's remainder; the C library's pow where x
 * is not positive, finite and normal, y is not finite, or |y log x| > 708
 * (results near the ends of the range). */
static inline double pow_nearest_f64(double x, double y) {
    if (!(x >= 0x1p-1022) || x == INFINITY || !isfinite(y))
        return pow(x, y);
    double e, m = split_f64(x, &e), ll, lh = log_dd_parts(m, e, &ll);
    double zh = y * lh, zl = fma(y, lh, -zh) + y * ll;
    if (!(fabs(zh) <= 708.0))
        return pow(x, y);
    double el;
    return exp_dd_f64(zh, zl, &el);
}

static inline double tanh_nearest_f64(double x) {
    double a = fabs(x), t;
    if (!(a < TANH64_ONE))
        return a != a ? x : copysign(1.0, x);
    if (a < TANH_SMALL) {
        double a2 = a * a;
        t = fma(a * a2, horner(TANH_C, 5, a2), a);
    } else {
        double el, eh = exp_dd_f64(2.0 * a, 0.0, &el);
        double dh = eh + 1.0, dl = ((eh - dh) + 1.0) + el;
        double inv = 1.0 / dh;
        bool mid = a < TANH64_MID;
        double nh = mid ? eh - 1.0 : 2.0, nl = mid ? el : 0.0; /* eh - 1 exact */
        double qh = nh * inv;
        double ql = ((fma(-qh, dh, nh) + nl) - qh * dl) * inv;
        double s1 = 1.0 - qh, e1 = (1.0 - s1) - qh;
        t = mid ? qh + ql : s1 + (e1 - ql);
    }
    return copysign(t, x);
}

#ifdef GD_MATH_X86
/* trig_f64's steps on vectors of type T (intrinsics prefix P, polynomial
 * HORNER): from x and kd = rint(x 2/pi), sets sn and cs to the sine and
 * cosine kernels' values; the caller picks by quadrant. The same operations
 * in the same order as the scalar code, so the same bits. */
#define TRIG64_KERNELS(T, P, HORNER, x, kd, sn, cs)                                    \
    do {                                                                               \
        T p1 = P##_set1_pd(PIO2_1), p2 = P##_set1_pd(PIO2_2);                          \
        T half = P##_set1_pd(0.5), one = P##_set1_pd(1.0);                             \
        T s6h = P##_set1_pd(SIXTH_HI), c24h = P##_set1_pd(C24_HI);                     \
        T ph = P##_mul_pd(kd, p1), pl = P##_fmsub_pd(kd, p1, ph);                      \
        T t = P##_sub_pd(x, ph);                                                       \
        T q2 = P##_mul_pd(kd, p2), q2l = P##_fmsub_pd(kd, p2, q2);                     \
        T w = P##_add_pd(P##_add_pd(pl, q2),                                           \
                         P##_add_pd(q2l, P##_mul_pd(kd, P##_set1_pd(PIO2_3))));        \
        T rh = P##_sub_pd(t, w), rl = P##_sub_pd(P##_sub_pd(t, rh), w);                \
        T z = P##_mul_pd(rh, rh), zl = P##_fmsub_pd(rh, rh, z);                        \
        /* cosine */                                                                   \
        T hz = P##_mul_pd(half, z), w1 = P##_sub_pd(one, hz);                          \
        T e1 = P##_sub_pd(P##_sub_pd(one, w1), hz);                                    \
        T z2 = P##_mul_pd(z, z);                                                       \
        T z2l = P##_add_pd(P##_fmsub_pd(z, z, z2),                                     \
                           P##_mul_pd(P##_mul_pd(P##_set1_pd(2.0), z), zl));           \
        T ch = P##_mul_pd(z2, c24h);                                                   \
        T chl = P##_add_pd(                                                            \
            P##_fmsub_pd(z2, c24h, ch),                                                \
            P##_add_pd(P##_mul_pd(z2, P##_set1_pd(C24_LO)), P##_mul_pd(z2l, c24h)));   \
        T tail = P##_mul_pd(P##_mul_pd(z2, z), HORNER(COS64_TAIL, 8, z));              \
        T s1 = P##_add_pd(w1, ch), e2 = P##_add_pd(P##_sub_pd(w1, s1), ch);            \
        T rlsin = P##_mul_pd(P##_mul_pd(rh, rl), P##_add_pd(one, P##_mul_pd(z, s6h))); \
        T lo = P##_sub_pd(P##_add_pd(P##_sub_pd(chl, P##_mul_pd(half, zl)), tail),     \
                          rlsin);                                                      \
        cs = P##_add_pd(s1, P##_add_pd(P##_add_pd(e1, e2), lo));                       \
        /* sine */                                                                     \
        T a = P##_mul_pd(z, rh);                                                       \
        T al = P##_add_pd(P##_fmsub_pd(z, rh, a), P##_mul_pd(zl, rh));                 \
        ch = P##_mul_pd(a, s6h);                                                       \
        chl = P##_add_pd(                                                              \
            P##_fmsub_pd(a, s6h, ch),                                                  \
            P##_add_pd(P##_mul_pd(a, P##_set1_pd(SIXTH_LO)), P##_mul_pd(al, s6h)));    \
        tail = P##_mul_pd(P##_mul_pd(a, z), HORNER(SIN64_TAIL, 9, z));                 \
        s1 = P##_add_pd(rh, ch);                                                       \
        e1 = P##_add_pd(P##_sub_pd(rh, s1), ch);                                       \
        T rlcos = P##_mul_pd(rl, P##_add_pd(P##_sub_pd(one, P##_mul_pd(half, z)),      \
                                            P##_mul_pd(P##_mul_pd(z, z), c24h)));      \
        sn = P##_add_pd(s1, P##_add_pd(e1, P##_add_pd(P##_add_pd(chl, tail), rlcos))); \
    } while (0)

/* log_dd_parts' steps on vectors (as TRIG64_KERNELS): from m in [1, 2) and
 * e, sets hi + lo to log(2^e m), with the same bits as the scalar code. */
#define LOG64_STEPS(T, P, HORNER, BLEND_GT, m, e, hi, lo)                              \
    do {                                                                               \
        T one = P##_set1_pd(1.0), two3h = P##_set1_pd(TWO3_HI);                        \
        BLEND_GT(m, e);                                                                \
        T num = P##_sub_pd(m, one), sh = P##_add_pd(one, m);                           \
        T sl = P##_add_pd(P##_sub_pd(one, sh), m);                                     \
        T inv = P##_div_pd(one, sh), fh = P##_mul_pd(num, inv);                        \
        T fl = P##_mul_pd(P##_sub_pd(P##_fnmadd_pd(fh, sh, num), P##_mul_pd(fh, sl)),  \
                          inv);                                                        \
        T f2 = P##_mul_pd(fh, fh), f2l = P##_fmsub_pd(fh, fh, f2);                     \
        T c3 = P##_mul_pd(fh, f2);                                                     \
        T c3l = P##_add_pd(P##_add_pd(P##_fmsub_pd(fh, f2, c3), P##_mul_pd(fh, f2l)),  \
                           P##_mul_pd(P##_mul_pd(P##_set1_pd(3.0), f2), fl));          \
        T t3 = P##_mul_pd(c3, two3h);                                                  \
        T t3l = P##_add_pd(                                                            \
            P##_fmsub_pd(c3, two3h, t3),                                               \
            P##_add_pd(P##_mul_pd(c3, P##_set1_pd(TWO3_LO)), P##_mul_pd(c3l, two3h))); \
        T tail = P##_mul_pd(P##_mul_pd(c3, f2), HORNER(LOG64_TAIL, 9, f2));            \
        T a = P##_mul_pd(e, P##_set1_pd(LN2_HI));                                      \
        T b = P##_mul_pd(P##_set1_pd(2.0), fh);                                        \
        T s1 = P##_add_pd(a, b), bb = P##_sub_pd(s1, a);                               \
        T e1 = P##_add_pd(P##_sub_pd(a, P##_sub_pd(s1, bb)), P##_sub_pd(b, bb));       \
        T s2 = P##_add_pd(s1, t3), e2 = P##_add_pd(P##_sub_pd(s1, s2), t3);            \
        T low = P##_add_pd(P##_add_pd(P##_mul_pd(e, P##_set1_pd(LN2_LO)),              \
                                      P##_mul_pd(P##_set1_pd(2.0), fl)),               \
                           t3l);                                                       \
        T low2 = P##_add_pd(P##_add_pd(e1, e2), P##_add_pd(low, tail));                \
        hi = P##_add_pd(s2, low2);                                                     \
        lo = P##_add_pd(P##_sub_pd(s2, hi), low2);                                     \
    } while (0)

/* trig_f64 on four lanes with |x| <= TRIG64_BIG (and x != 0 for sin). */
AVX2 static inline __m256d trig_f64x4(__m256d x, int cos_shift) {
    __m256d kd = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(TWO_OVER_PI)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d sn, c;
    TRIG64_KERNELS(__m256d, _mm256, horner4, x, kd, sn, c);
    return quadrant_f64x4(kd, cos_shift, sn, c);
}

AVX512 static inline __m512d trig_f64x8(__m512d x, int cos_shift) {
    __m512d kd = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(TWO_OVER_PI)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d sn, c;
    TRIG64_KERNELS(__m512d, _mm512, horner8, x, kd, sn, c);
    return quadrant_f64x8(kd, cos_shift, sn, c);
}

AVX2 static void exp_f64_avx2(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(o + i, exp_t_f64x4(_mm256_loadu_pd(x + i), EXP_FINE));
    for (; i < n; i++)
        o[i] = exp_t_f64(x[i], EXP_FINE);
}
AVX512 static void exp_f64_avx512(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(o + i, exp_t_f64x8(_mm512_loadu_pd(x + i), EXP_FINE));
    for (; i < n; i++)
        o[i] = exp_t_f64(x[i], EXP_FINE);
}
/* float64 sin and cos: vectors with a zero (sin), a huge or a non-finite
 * lane take the scalar code. */
#define TRIG64_RUNS(name, COS)                                                         \
    AVX2 static void name##_avx2(double *o, const double *x, int64_t n) {              \
        int64_t i = 0;                                                                 \
        for (; i + 4 <= n; i += 4) {                                                   \
            __m256d v = _mm256_loadu_pd(x + i);                                        \
            __m256d a = _mm256_andnot_pd(_mm256_set1_pd(-0.0), v);                     \
            __m256d bad = _mm256_cmp_pd(a, _mm256_set1_pd(TRIG64_BIG), _CMP_NLE_UQ);   \
            if (!COS)                                                                  \
                bad = _mm256_or_pd(bad,                                                \
                                   _mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_EQ_OQ)); \
            if (_mm256_movemask_pd(bad)) {                                             \
                for (int j = 0; j < 4; j++)                                            \
                    o[i + j] = trig_f64(x[i + j], COS);                                \
                continue;                                                              \
            }                                                                          \
            _mm256_storeu_pd(o + i, trig_f64x4(v, COS));                               \
        }                                                                              \
        for (; i < n; i++)                                                             \
            o[i] = trig_f64(x[i], COS);                                                \
    }                                                                                  \
    AVX512 static void name##_avx512(double *o, const double *x, int64_t n) {          \
        int64_t i = 0;                                                                 \
        for (; i + 8 <= n; i += 8) {                                                   \
            __m512d v = _mm512_loadu_pd(x + i), a = _mm512_abs_pd(v);                  \
            __mmask8 bad =                                                             \
                _mm512_cmp_pd_mask(a, _mm512_set1_pd(TRIG64_BIG), _CMP_NLE_UQ);        \
            if (!COS)                                                                  \
                bad |= _mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_EQ_OQ);         \
            if (bad) {                                                                 \
                for (int j = 0; j < 8; j++)                                            \
                    o[i + j] = trig_f64(x[i + j], COS);                                \
                continue;                                                              \
            }                                                                          \
            _mm512_storeu_pd(o + i, trig_f64x8(v, COS));                               \
        }                                                                              \
        for (; i < n; i++)                                                             \
            o[i] = trig_f64(x[i], COS);                                                \
    }
TRIG64_RUNS(sin_f64, 0)
TRIG64_RUNS(cos_f64, 1)
#define BLEND_GT_AVX2(m, e)                                                            \
    do {                                                                               \
        __m256d big =                                                                  \
            _mm256_cmp_pd(m, _mm256_set1_pd(0x1.6a09e667f3bcdp+0), _CMP_GT_OQ);        \
        m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);           \
        e = _mm256_blendv_pd(e, _mm256_add_pd(e, _mm256_set1_pd(1.0)), big);           \
    } while (0)
#define BLEND_GT_AVX512(m, e)                                                          \
    do {                                                                               \
        __mmask8 big =                                                                 \
            _mm512_cmp_pd_mask(m, _mm512_set1_pd(0x1.6a09e667f3bcdp+0), _CMP_GT_OQ);   \
        m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));                        \
        e = _mm512_mask_add_pd(e, big, e, _mm512_set1_pd(1.0));                        \
    } while (0)

/* split_f64 on vectors. */
AVX2 static inline __m256d split_f64x4(__m256d v, __m256d *e) {
    __m256i bits = _mm256_castpd_si256(v);
    __m256i ei =
        _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023));
    /* e fits in 32 bits: take the low halves to convert. */
    *e = _mm256_cvtepi32_pd(_mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(ei, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0))));
    return _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0xfffffffffffffLL)),
                        _mm256_set1_epi64x(0x3ffLL << 52)));
}
AVX512 static inline __m512d split_f64x8(__m512d v, __m512d *e) {
    __m512i bits = _mm512_castpd_si512(v);
    *e = _mm512_cvtepi64_pd(
        _mm512_sub_epi64(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(1023)));
    return _mm512_castsi512_pd(
        _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0xfffffffffffffLL)),
                        _mm512_set1_epi64(0x3ffLL << 52)));
}

/* float64 log: vectors with a lane that is not a positive, finite, normal
 * double take the scalar code. */
AVX2 static void log_f64_avx2(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d bad =
            _mm256_or_pd(_mm256_cmp_pd(v, _mm256_set1_pd(0x1p-1022), _CMP_NGE_UQ),
                         _mm256_cmp_pd(v, _mm256_set1_pd(INFINITY), _CMP_EQ_OQ));
        if (_mm256_movemask_pd(bad)) {
            for (int j = 0; j < 4; j++)
                o[i + j] = log_nearest_f64(x[i + j]);
            continue;
        }
        __m256d e, m = split_f64x4(v, &e), hi, lo;
        LOG64_STEPS(__m256d, _mm256, horner4, BLEND_GT_AVX2, m, e, hi, lo);
        _mm256_storeu_pd(o + i, _mm256_add_pd(hi, lo));
    }
    for (; i < n; i++)
        o[i] = log_nearest_f64(x[i]);
}
AVX512 static void log_f64_avx512(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __mmask8 bad = _mm512_cmp_pd_mask(v, _mm512_set1_pd(0x1p-1022), _CMP_NGE_UQ) |
                       _mm512_cmp_pd_mask(v, _mm512_set1_pd(INFINITY), _CMP_EQ_OQ);
        if (bad) {
            for (int j = 0; j < 8; j++)
                o[i + j] = log_nearest_f64(x[i + j]);
            continue;
        }
        __m512d e, m = split_f64x8(v, &e), hi, lo;
        LOG64_STEPS(__m512d, _mm512, horner8, BLEND_GT_AVX512, m, e, hi, lo);
        _mm512_storeu_pd(o + i, _mm512_add_pd(hi, lo));
    }
    for (; i < n; i++)
        o[i] = log_nearest_f64(x[i]);
}
AVX512 static inline __m512d exp_dd_f64x8(__m512d y, __m512d yl, __m512d *el) {
    __m512d kd =
        _mm512_roundscale_pd(_mm512_mul_pd(y, _mm512_set1_pd(EXPT_LOG2E * 128)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i k = _mm512_cvtpd_epi32(kd), j = _mm256_and_si256(k, _mm256_set1_epi32(127));
    __m512d r0 = _mm512_sub_pd(y, _mm512_mul_pd(kd, _mm512_set1_pd(LN2_HI36 / 128)));
    __m512d p = _mm512_mul_pd(kd, _mm512_set1_pd(LN2_MID36 / 128));
    __m512d rh = _mm512_sub_pd(r0, p), rb = _mm512_sub_pd(rh, r0);
    __m512d rl = _mm512_add_pd(
        _mm512_add_pd(_mm512_sub_pd(_mm512_sub_pd(r0, _mm512_sub_pd(rh, rb)),
                                    _mm512_add_pd(p, rb)),
                      _mm512_mul_pd(kd, _mm512_set1_pd(-LN2_LO2 / 128))),
        yl);
    __m512d one = _mm512_set1_pd(1.0);
    __m512d w = _mm512_fmadd_pd(_mm512_mul_pd(rh, rh), horner8(EXPT_C, 6, rh),
                                _mm512_mul_pd(rl, _mm512_add_pd(one, rh)));
    __m512d th = _mm512_i32gather_pd(j, EXP128_HI, 8),
            tl = _mm512_i32gather_pd(j, EXP128_LO, 8);
    __m512d a1 = _mm512_mul_pd(th, rh), a1l = _mm512_fmsub_pd(th, rh, a1);
    __m512d s1 = _mm512_add_pd(th, a1), e0 = _mm512_add_pd(_mm512_sub_pd(th, s1), a1);
    __m512d low =
        _mm512_add_pd(_mm512_add_pd(e0, a1l),
                      _mm512_add_pd(_mm512_mul_pd(th, w), _mm512_fmadd_pd(tl, rh, tl)));
    __m512d eh = _mm512_add_pd(s1, low);
    __m512d top = _mm512_cvtepi32_pd(_mm256_srai_epi32(k, 7));
    *el = _mm512_scalef_pd(_mm512_add_pd(_mm512_sub_pd(s1, eh), low), top);
    return _mm512_scalef_pd(eh, top);
}

AVX2 static inline __m256d exp_dd_f64x4(__m256d y, __m256d yl, __m256d *el) {
    __m256d kd = _mm256_round_pd(_mm256_mul_pd(y, _mm256_set1_pd(EXPT_LOG2E * 128)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i k = _mm256_cvtpd_epi32(kd), j = _mm_and_si128(k, _mm_set1_epi32(127));
    __m256d r0 = _mm256_sub_pd(y, _mm256_mul_pd(kd, _mm256_set1_pd(LN2_HI36 / 128)));
    __m256d p = _mm256_mul_pd(kd, _mm256_set1_pd(LN2_MID36 / 128));
    __m256d rh = _mm256_sub_pd(r0, p), rb = _mm256_sub_pd(rh, r0);
    __m256d rl = _mm256_add_pd(
        _mm256_add_pd(_mm256_sub_pd(_mm256_sub_pd(r0, _mm256_sub_pd(rh, rb)),
                                    _mm256_add_pd(p, rb)),
                      _mm256_mul_pd(kd, _mm256_set1_pd(-LN2_LO2 / 128))),
        yl);
    __m256d one = _mm256_set1_pd(1.0);
    __m256d w = _mm256_fmadd_pd(_mm256_mul_pd(rh, rh), horner4(EXPT_C, 6, rh),
                                _mm256_mul_pd(rl, _mm256_add_pd(one, rh)));
    __m256d th = _mm256_i32gather_pd(EXP128_HI, j, 8),
            tl = _mm256_i32gather_pd(EXP128_LO, j, 8);
    __m256d a1 = _mm256_mul_pd(th, rh), a1l = _mm256_fmsub_pd(th, rh, a1);
    __m256d s1 = _mm256_add_pd(th, a1), e0 = _mm256_add_pd(_mm256_sub_pd(th, s1), a1);
    __m256d low =
        _mm256_add_pd(_mm256_add_pd(e0, a1l),
                      _mm256_add_pd(_mm256_mul_pd(th, w), _mm256_fmadd_pd(tl, rh, tl)));
    __m256d eh = _mm256_add_pd(s1, low);
    __m256d scale = pow2i_f64x4(_mm_srai_epi32(k, 7));
    *el = _mm256_mul_pd(_mm256_add_pd(_mm256_sub_pd(s1, eh), low), scale);
    return _mm256_mul_pd(eh, scale);
}

/* tanh_nearest_f64's steps on vectors (as TRIG64_KERNELS; BLEND(mask, a, b) takes
 * b where the mask is set, LT(a, b) the mask of a < b): x to out. */
#define TANH64_STEPS(T, P, HORNER, EXP_DD, BLEND, LT, x, out)                          \
    do {                                                                               \
        T sign = P##_set1_pd(-0.0), one = P##_set1_pd(1.0);                            \
        T a = P##_andnot_pd(sign, x), a2 = P##_mul_pd(a, a);                           \
        T small = P##_fmadd_pd(P##_mul_pd(a, a2), HORNER(TANH_C, 5, a2), a);           \
        T el, eh = EXP_DD(P##_add_pd(a, a), P##_setzero_pd(), &el);                    \
        T dh = P##_add_pd(eh, one);                                                    \
        T dl = P##_add_pd(P##_add_pd(P##_sub_pd(eh, dh), one), el);                    \
        T inv = P##_div_pd(one, dh);                                                   \
        T nh = BLEND(LT(a, TANH64_MID), P##_set1_pd(2.0), P##_sub_pd(eh, one));        \
        T nl = BLEND(LT(a, TANH64_MID), P##_setzero_pd(), el);                         \
        T qh = P##_mul_pd(nh, inv);                                                    \
        T ql = P##_mul_pd(                                                             \
            P##_sub_pd(P##_add_pd(P##_fnmadd_pd(qh, dh, nh), nl), P##_mul_pd(qh, dl)), \
            inv);                                                                      \
        T s1 = P##_sub_pd(one, qh), e1 = P##_sub_pd(P##_sub_pd(one, s1), qh);          \
        T t = BLEND(LT(a, TANH64_MID), P##_add_pd(s1, P##_sub_pd(e1, ql)),             \
                    P##_add_pd(qh, ql));                                               \
        t = BLEND(LT(a, TANH_SMALL), t, small);                                        \
        t = BLEND(LT(a, TANH64_ONE), one, t);                                          \
        out = P##_or_pd(t, P##_and_pd(sign, x));                                       \
    } while (0)
#define BLEND_AVX2(mask, a, b) _mm256_blendv_pd(a, b, mask)
#define LT_AVX2(a, c) _mm256_cmp_pd(a, _mm256_set1_pd(c), _CMP_LT_OQ)
#define BLEND_AVX512(mask, a, b) _mm512_mask_blend_pd(mask, a, b)
#define LT_AVX512(a, c) _mm512_cmp_pd_mask(a, _mm512_set1_pd(c), _CMP_LT_OQ)

/* float64 tanh: vectors with a NaN take the scalar code. */
AVX2 static void tanh_f64_avx2(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i), out;
        if (_mm256_movemask_pd(_mm256_cmp_pd(v, v, _CMP_UNORD_Q))) {
            for (int j = 0; j < 4; j++)
                o[i + j] = tanh_nearest_f64(x[i + j]);
            continue;
        }
        TANH64_STEPS(__m256d, _mm256, horner4, exp_dd_f64x4, BLEND_AVX2, LT_AVX2, v,
                     out);
        _mm256_storeu_pd(o + i, out);
    }
    for (; i < n; i++)
        o[i] = tanh_nearest_f64(x[i]);
}
AVX512 static void tanh_f64_avx512(double *o, const double *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i), out;
        if (_mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q)) {
            for (int j = 0; j < 8; j++)
                o[i + j] = tanh_nearest_f64(x[i + j]);
            continue;
        }
        TANH64_STEPS(__m512d, _mm512, horner8, exp_dd_f64x8, BLEND_AVX512, LT_AVX512, v,
                     out);
        _mm512_storeu_pd(o + i, out);
    }
    for (; i < n; i++)
        o[i] = tanh_nearest_f64(x[i]);
}

/* pow_nearest_f64 over n contiguous elements, the exponents at ex (ey = 1)
 * or *ex for all (ey = 0); vectors with a lane outside the vector formulas'
 * range take the scalar code. */
AVX2 static void pow_f64_avx2(double *o, const double *x, const double *ex, int64_t ey,
                              int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        __m256d y = ey ? _mm256_loadu_pd(ex + i) : _mm256_set1_pd(*ex);
        __m256d ya = _mm256_andnot_pd(_mm256_set1_pd(-0.0), y);
        __m256d bad =
            _mm256_or_pd(_mm256_cmp_pd(v, _mm256_set1_pd(0x1p-1022), _CMP_NGE_UQ),
                         _mm256_cmp_pd(v, _mm256_set1_pd(INFINITY), _CMP_EQ_OQ));
        bad =
            _mm256_or_pd(bad, _mm256_cmp_pd(ya, _mm256_set1_pd(INFINITY), _CMP_NLT_UQ));
        __m256d zh = _mm256_setzero_pd(), zl = zh;
        if (!_mm256_movemask_pd(bad)) {
            __m256d e, m = split_f64x4(v, &e), lh, ll;
            LOG64_STEPS(__m256d, _mm256, horner4, BLEND_GT_AVX2, m, e, lh, ll);
            zh = _mm256_mul_pd(y, lh);
            zl = _mm256_add_pd(_mm256_fmsub_pd(y, lh, zh), _mm256_mul_pd(y, ll));
            __m256d za = _mm256_andnot_pd(_mm256_set1_pd(-0.0), zh);
            bad = _mm256_cmp_pd(za, _mm256_set1_pd(708.0), _CMP_NLE_UQ);
        }
        if (_mm256_movemask_pd(bad)) {
            for (int j = 0; j < 4; j++)
                o[i + j] = pow_nearest_f64(x[i + j], ex[(i + j) * ey]);
            continue;
        }
        __m256d el;
        _mm256_storeu_pd(o + i, exp_dd_f64x4(zh, zl, &el));
    }
    for (; i < n; i++)
        o[i] = pow_nearest_f64(x[i], ex[i * ey]);
}
AVX512 static void pow_f64_avx512(double *o, const double *x, const double *ex,
                                  int64_t ey, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __m512d y = ey ? _mm512_loadu_pd(ex + i) : _mm512_set1_pd(*ex);
        __mmask8 bad =
            _mm512_cmp_pd_mask(v, _mm512_set1_pd(0x1p-1022), _CMP_NGE_UQ) |
            _mm512_cmp_pd_mask(v, _mm512_set1_pd(INFINITY), _CMP_EQ_OQ) |
            _mm512_cmp_pd_mask(_mm512_abs_pd(y), _mm512_set1_pd(INFINITY), _CMP_NLT_UQ);
        __m512d zh = _mm512_setzero_pd(), zl = zh;
        if (!bad) {
            __m512d e, m = split_f64x8(v, &e), lh, ll;
            LOG64_STEPS(__m512d, _mm512, horner8, BLEND_GT_AVX512, m, e, lh, ll);
            zh = _mm512_mul_pd(y, lh);
            zl = _mm512_add_pd(_mm512_fmsub_pd(y, lh, zh), _mm512_mul_pd(y, ll));
            bad = _mm512_cmp_pd_mask(_mm512_abs_pd(zh), _mm512_set1_pd(708.0),
                                     _CMP_NLE_UQ);
        }
        if (bad) {
            for (int j = 0; j < 8; j++)
                o[i + j] = pow_nearest_f64(x[i + j], ex[(i + j) * ey]);
            continue;
        }
        __m512d el;
        _mm512_storeu_pd(o + i, exp_dd_f64x8(zh, zl, &el));
    }
    for (; i < n; i++)
        o[i] = pow_nearest_f64(x[i], ex[i * ey]);
}
#endif

#define EXP_F64(fn, v) exp_t_f64(v, EXP_FINE)
#define TRIG_F64(cos_shift, v) trig_f64(v, cos_shift)
#define LOG_F64(fn, v) log_nearest_f64(v)
#define TANH_F64(fn, v) tanh_nearest_f64(v)
MATH_LOOP(exp_f64, 0, double, EXP_F64, exp_f64_avx2, exp_f64_avx512)
MATH_LOOP(sin_f64, 0, double, TRIG_F64, sin_f64_avx2, sin_f64_avx512)
MATH_LOOP(cos_f64, 1, double, TRIG_F64, cos_f64_avx2, cos_f64_avx512)
MATH_LOOP(log_f64, 0, double, LOG_F64, log_f64_avx2, log_f64_avx512)
MATH_LOOP(tanh_f64, 0, double, TANH_F64, tanh_f64_avx2, tanh_f64_avx512)

gd_loop_fn gd_math_loop_f64(gd_op op) {
    switch (op) {
    case GD_OP_EXP:
        return exp_f64;
    case GD_OP_SIN:
        return sin_f64;
    case GD_OP_COS:
        return cos_f64;
    case GD_OP_LOG:
        return log_f64;
    case GD_OP_TANH:
        return tanh_f64;
    default:
        return NULL;
    }
}

void gd_math_pow_f64(double *o, const double *x, const double *ex, int64_t ey,
                     int64_t n) {
#ifdef GD_MATH_X86
    if (gd_math_avx512()) {
        pow_f64_avx512(o, x, ex, ey, n);
        return;
    }
    if (gd_math_avx2()) {
        pow_f64_avx2(o, x, ex, ey, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++)
        o[i] = pow_nearest_f64(x[i], ex[i * ey]);
}
