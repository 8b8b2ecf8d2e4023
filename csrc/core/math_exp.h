/* SLEEF's u10 exp (float32 and float64), written anew from the published
 * algorithm: a Cody-Waite reduction by ln 2, a polynomial, and scaling by
 * two powers of two. The scalar forms give the AVX2 and AVX-512 forms'
 * bits. Used by kernels_math.c (sigmoid, as ATen computes it) and
 * kernels_nn.c (softmax's exp); its helpers by math_nearest.h. Internal
 * to the core. */
#ifndef GD_MATH_EXP_H
#define GD_MATH_EXP_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GD_MATH_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
/* AVX-512 forms compute the AVX2 forms' operations on twice the lanes, so
 * they give the same bits. */
#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512dq,avx512vl,avx512bw")))
#endif

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
AVX512 static inline __m512 exp_u10_f32x16(__m512 d) {
    __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(d, _mm512_set1_ps(R_LN2F)));
    __m512 qf = _mm512_cvtepi32_ps(q);
    __m512 s = _mm512_fmadd_ps(qf, _mm512_set1_ps(-L2UF), d);
    s = _mm512_fmadd_ps(qf, _mm512_set1_ps(-L2LF), s);
    __m512 u = _mm512_set1_ps(0.000198527617612853646278381f);
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.00139304355252534151077271f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.00833336077630519866943359f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.0416664853692054748535156f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.166666671633720397949219f));
    u = _mm512_fmadd_ps(u, s, _mm512_set1_ps(0.5f));
    u = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_mul_ps(s, s), u, s));
    __m512i h = _mm512_srai_epi32(q, 1), bias = _mm512_set1_epi32(0x7f);
    __m512 p1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(h, bias), 23));
    __m512 p2 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(q, h), bias), 23));
    u = _mm512_mul_ps(_mm512_mul_ps(u, p1), p2);
    u = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(-104.0f), _CMP_NLT_UQ),
                            u);
    u = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(_mm512_set1_ps(100.0f), d, _CMP_LT_OQ),
                             u, _mm512_set1_ps(INFINITY));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q), u, d);
}

AVX512 static inline __m512d pow2i_f64x8(__m256i k) {
    __m512i e = _mm512_add_epi64(_mm512_cvtepi32_epi64(k), _mm512_set1_epi64(0x3ff));
    return _mm512_castsi512_pd(_mm512_slli_epi64(e, 52));
}

AVX512 static inline __m512d exp_u10_f64x8(__m512d d) {
    __m512d r = _mm512_roundscale_pd(_mm512_mul_pd(d, _mm512_set1_pd(R_LN2)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i q = _mm512_cvtpd_epi32(r);
    __m512d s = _mm512_fmadd_pd(r, _mm512_set1_pd(-L2U), d);
    s = _mm512_fmadd_pd(r, _mm512_set1_pd(-L2L), s);
    __m512d s2 = _mm512_mul_pd(s, s), s4 = _mm512_mul_pd(s2, s2);
    __m512d s8 = _mm512_mul_pd(s4, s4);
#define C(i) _mm512_set1_pd(EXP_C[i])
    __m512d hi4 = _mm512_fmadd_pd(s2, _mm512_fmadd_pd(s, C(2), C(3)),
                                  _mm512_fmadd_pd(s, C(4), C(5)));
    __m512d lo4 = _mm512_fmadd_pd(s2, _mm512_fmadd_pd(s, C(6), C(7)),
                                  _mm512_fmadd_pd(s, C(8), C(9)));
    __m512d u = _mm512_fmadd_pd(s8, _mm512_fmadd_pd(s, C(0), C(1)),
                                _mm512_fmadd_pd(s4, hi4, lo4));
#undef C
    u = _mm512_fmadd_pd(u, s, _mm512_set1_pd(0.5));
    u = _mm512_fmadd_pd(u, s, _mm512_set1_pd(1.0));
    u = _mm512_fmadd_pd(u, s, _mm512_set1_pd(1.0));
    __m256i qc = _mm256_max_epi32(_mm256_min_epi32(q, _mm256_set1_epi32(2000)),
                                  _mm256_set1_epi32(-2000));
    __m256i h = _mm256_srai_epi32(qc, 1);
    u = _mm512_mul_pd(_mm512_mul_pd(u, pow2i_f64x8(h)),
                      pow2i_f64x8(_mm256_sub_epi32(qc, h)));
    u = _mm512_mask_blend_pd(
        _mm512_cmp_pd_mask(d, _mm512_set1_pd(LOG_DBL_MAX), _CMP_GT_OQ), u,
        _mm512_set1_pd(INFINITY));
    u = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(d, _mm512_set1_pd(-1000.0), _CMP_NLT_UQ),
                            u);
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(d, d, _CMP_UNORD_Q), u, d);
}
#endif

#endif
