/* What the nearest-value math kernels share (kernels_math_nearest.c for
 * float32, kernels_math_f64.c for float64): Horner's rule in scalar, AVX2
 * and AVX-512 forms, the reduction constants, exp by Tang's table method,
 * and the loop that picks the widest vector code. Every vector form gives
 * its scalar twin's bits. Internal to the core. */
#ifndef GD_MATH_NEAREST_H
#define GD_MATH_NEAREST_H
#include "internal.h"
#include "math_exp.h"

#define LN2_HI 0x1.62e42fefa3800p-1 /* ln 2 in 43 bits: e * LN2_HI is exact */
#define LN2_LO 0x1.ef35793c76730p-45
/* tanh(a) = a + a^3 (c1 + a^2 (c2 + ...)) below 2^-5 (Taylor's series). */
static const double TANH_C[5] = {-1382.0 / 155925, 62.0 / 2835, -17.0 / 315, 2.0 / 15,
                                 -1.0 / 3};
#define TANH_SMALL 0x1p-5
/* pi/2 as three doubles (about 160 bits) and 2/pi. */
#define PIO2_1 0x1.921fb54442d18p+0
#define PIO2_2 0x1.1a62633145c07p-54
#define PIO2_3 -0x1.f1976b7ed8fbcp-110
#define TWO_OVER_PI 0x1.45f306dc9c883p-1

/* A positive, finite, normal double as 2^e m, m in [1, 2): returns m. */
static inline double split_f64(double x, double *e) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    *e = (double)((int)((bits >> 52) & 0x7ff) - 1023);
    bits = (bits & ~(0x7ffULL << 52)) | (0x3ffULL << 52);
    double m;
    memcpy(&m, &bits, sizeof m);
    return m;
}

/* c[0] x^(n-1) + ... + c[n-1], by Horner's rule with fused steps. */
static inline double horner(const double *c, int n, double x) {
    double u = c[0];
    for (int i = 1; i < n; i++)
        u = fma(u, x, c[i]);
    return u;
}

/* exp of a double by Tang's table method (written from the published
 * method; the tables hold 2^(j/N) to 106 bits): x = k ln2/N + r with
 * |r| <= ln2/(2N), and exp(x) = 2^(k / N) * 2^((k mod N)/N) * e^r, the
 * table entry a double-double (the nearest double to 2^(j/N) and the
 * nearest to what it leaves) and e^r - 1 Taylor's polynomial through r^7.
 * N = 128 (EXP_FINE) is within about 0.502 units in the last place: float64
 * exp. N = 16 (EXP_COARSE), about 0.53, rounds to the nearest float32 all
 * the same, and its table fits two AVX-512 registers, so no gathers: the
 * float32 functions. Clamped to [-746, 710], outside which the double
 * result is 0 or infinite anyway. */
static const double EXP128_HI[128] = {
    0x1.0000000000000p+0, 0x1.0163da9fb3335p+0, 0x1.02c9a3e778061p+0,
    0x1.04315e86e7f85p+0, 0x1.059b0d3158574p+0, 0x1.0706b29ddf6dep+0,
    0x1.0874518759bc8p+0, 0x1.09e3ecac6f383p+0, 0x1.0b5586cf9890fp+0,
    0x1.0cc922b7247f7p+0, 0x1.0e3ec32d3d1a2p+0, 0x1.0fb66affed31bp+0,
    0x1.11301d0125b51p+0, 0x1.12abdc06c31ccp+0, 0x1.1429aaea92de0p+0,
    0x1.15a98c8a58e51p+0, 0x1.172b83c7d517bp+0, 0x1.18af9388c8deap+0,
    0x1.1a35beb6fcb75p+0, 0x1.1bbe084045cd4p+0, 0x1.1d4873168b9aap+0,
    0x1.1ed5022fcd91dp+0, 0x1.2063b88628cd6p+0, 0x1.21f49917ddc96p+0,
    0x1.2387a6e756238p+0, 0x1.251ce4fb2a63fp+0, 0x1.26b4565e27cddp+0,
    0x1.284dfe1f56381p+0, 0x1.29e9df51fdee1p+0, 0x1.2b87fd0dad990p+0,
    0x1.2d285a6e4030bp+0, 0x1.2ecafa93e2f56p+0, 0x1.306fe0a31b715p+0,
    0x1.32170fc4cd831p+0, 0x1.33c08b26416ffp+0, 0x1.356c55f929ff1p+0,
    0x1.371a7373aa9cbp+0, 0x1.38cae6d05d866p+0, 0x1.3a7db34e59ff7p+0,
    0x1.3c32dc313a8e5p+0, 0x1.3dea64c123422p+0, 0x1.3fa4504ac801cp+0,
    0x1.4160a21f72e2ap+0, 0x1.431f5d950a897p+0, 0x1.44e086061892dp+0,
    0x1.46a41ed1d0057p+0, 0x1.486a2b5c13cd0p+0, 0x1.4a32af0d7d3dep+0,
    0x1.4bfdad5362a27p+0, 0x1.4dcb299fddd0dp+0, 0x1.4f9b2769d2ca7p+0,
    0x1.516daa2cf6642p+0, 0x1.5342b569d4f82p+0, 0x1.551a4ca5d920fp+0,
    0x1.56f4736b527dap+0, 0x1.58d12d497c7fdp+0, 0x1.5ab07dd485429p+0,
    0x1.5c9268a5946b7p+0, 0x1.5e76f15ad2148p+0, 0x1.605e1b976dc09p+0,
    0x1.6247eb03a5585p+0, 0x1.6434634ccc320p+0, 0x1.6623882552225p+0,
    0x1.68155d44ca973p+0, 0x1.6a09e667f3bcdp+0, 0x1.6c012750bdabfp+0,
    0x1.6dfb23c651a2fp+0, 0x1.6ff7df9519484p+0, 0x1.71f75e8ec5f74p+0,
    0x1.73f9a48a58174p+0, 0x1.75feb564267c9p+0, 0x1.780694fde5d3fp+0,
    0x1.7a11473eb0187p+0, 0x1.7c1ed0130c132p+0, 0x1.7e2f336cf4e62p+0,
    0x1.80427543e1a12p+0, 0x1.82589994cce13p+0, 0x1.8471a4623c7adp+0,
    0x1.868d99b4492edp+0, 0x1.88ac7d98a6699p+0, 0x1.8ace5422aa0dbp+0,
    0x1.8cf3216b5448cp+0, 0x1.8f1ae99157736p+0, 0x1.9145b0b91ffc6p+0,
    0x1.93737b0cdc5e5p+0, 0x1.95a44cbc8520fp+0, 0x1.97d829fde4e50p+0,
    0x1.9a0f170ca07bap+0, 0x1.9c49182a3f090p+0, 0x1.9e86319e32323p+0,
    0x1.a0c667b5de565p+0, 0x1.a309bec4a2d33p+0, 0x1.a5503b23e255dp+0,
    0x1.a799e1330b358p+0, 0x1.a9e6b5579fdbfp+0, 0x1.ac36bbfd3f37ap+0,
    0x1.ae89f995ad3adp+0, 0x1.b0e07298db666p+0, 0x1.b33a2b84f15fbp+0,
    0x1.b59728de5593ap+0, 0x1.b7f76f2fb5e47p+0, 0x1.ba5b030a1064ap+0,
    0x1.bcc1e904bc1d2p+0, 0x1.bf2c25bd71e09p+0, 0x1.c199bdd85529cp+0,
    0x1.c40ab5fffd07ap+0, 0x1.c67f12e57d14bp+0, 0x1.c8f6d9406e7b5p+0,
    0x1.cb720dcef9069p+0, 0x1.cdf0b555dc3fap+0, 0x1.d072d4a07897cp+0,
    0x1.d2f87080d89f2p+0, 0x1.d5818dcfba487p+0, 0x1.d80e316c98398p+0,
    0x1.da9e603db3285p+0, 0x1.dd321f301b460p+0, 0x1.dfc97337b9b5fp+0,
    0x1.e264614f5a129p+0, 0x1.e502ee78b3ff6p+0, 0x1.e7a51fbc74c83p+0,
    0x1.ea4afa2a490dap+0, 0x1.ecf482d8e67f1p+0, 0x1.efa1bee615a27p+0,
    0x1.f252b376bba97p+0, 0x1.f50765b6e4540p+0, 0x1.f7bfdad9cbe14p+0,
    0x1.fa7c1819e90d8p+0, 0x1.fd3c22b8f71f1p+0};
static const double EXP128_LO[128] = {0x0p+0,
                                      0x1.b61299ab8cdb7p-54,
                                      -0x1.19083535b085dp-56,
                                      -0x1.0a31c1977c96ep-54,
                                      0x1.d73e2a475b465p-55,
                                      -0x1.c91dfe2b13c27p-55,
                                      0x1.186be4bb284ffp-57,
                                      0x1.1487818316136p-54,
                                      0x1.8a62e4adc610bp-54,
                                      0x1.01edc16e24f71p-54,
                                      0x1.03a1727c57b53p-59,
                                      -0x1.b9bedc44ebd7bp-57,
                                      -0x1.6c51039449b3ap-54,
                                      -0x1.1b514b36ca5c7p-58,
                                      -0x1.32fbf9af1369ep-54,
                                      0x1.2406ab9eeab0ap-55,
                                      -0x1.19041b9d78a76p-55,
                                      -0x1.11023d1970f6cp-54,
                                      0x1.e5b4c7b4968e4p-55,
                                      -0x1.95386352ef607p-54,
                                      0x1.e016e00a2643cp-54,
                                      -0x1.1df98027bb78cp-54,
                                      0x1.dc775814a8495p-55,
                                      0x1.2a97e9494a5eep-55,
                                      0x1.9b07eb6c70573p-54,
                                      0x1.ac155bef4f4a4p-55,
                                      0x1.2bd339940e9d9p-55,
                                      -0x1.a4c3a8c3f0d7ep-54,
                                      0x1.612e8afad1255p-55,
                                      -0x1.10adcd6381aa4p-59,
                                      0x1.0024754db41d5p-54,
                                      0x1.1ca0f45d52383p-56,
                                      0x1.6f46ad23182e4p-55,
                                      0x1.a9ce78e18047cp-55,
                                      0x1.32721843659a6p-54,
                                      -0x1.b5cee5c4e4628p-55,
                                      -0x1.63aeabf42eae2p-54,
                                      -0x1.e958d3c9904bdp-54,
                                      -0x1.5e436d661f5e3p-56,
                                      -0x1.efff8375d29c3p-54,
                                      0x1.ada0911f09ebcp-55,
                                      -0x1.7d023f956f9f3p-54,
                                      -0x1.ef3691c309278p-58,
                                      -0x1.1c7dde35f7999p-55,
                                      0x1.89b7a04ef80d0p-59,
                                      0x1.c944bd1648a76p-54,
                                      0x1.3c1a3b69062f0p-56,
                                      0x1.9cb62f3d1be56p-54,
                                      0x1.d4397afec42e2p-56,
                                      0x1.8ecdbbc6a7833p-54,
                                      -0x1.4b309d25957e3p-54,
                                      -0x1.f768569bd93efp-55,
                                      -0x1.07abe1db13cadp-55,
                                      -0x1.d689cefede59bp-55,
                                      0x1.9bb2c011d93adp-54,
                                      0x1.295e15b9a1de8p-55,
                                      0x1.6324c054647adp-54,
                                      0x1.c4b1b816986a2p-60,
                                      0x1.ba6f93080e65ep-54,
                                      -0x1.3e2429b56de47p-54,
                                      -0x1.383c17e40b497p-54,
                                      -0x1.c483c759d8933p-55,
                                      -0x1.bb60987591c34p-54,
                                      0x1.038ae44f73e65p-57,
                                      -0x1.bdd3413b26456p-54,
                                      -0x1.2895667ff0b0dp-56,
                                      -0x1.bbe3a683c88abp-57,
                                      -0x1.83c0f25860ef6p-55,
                                      -0x1.16e4786887a99p-55,
                                      -0x1.0a8d96c65d53cp-54,
                                      -0x1.0245957316dd3p-54,
                                      0x1.866b80a02162dp-54,
                                      -0x1.41577ee04992fp-55,
                                      0x1.f124cd1164dd6p-54,
                                      0x1.05d02ba15797ep-56,
                                      -0x1.27c86626d972bp-54,
                                      -0x1.d4c1dd41532d8p-54,
                                      -0x1.8d684a341cdfbp-55,
                                      -0x1.fc6f89bd4f6bap-54,
                                      0x1.994c2f37cb53ap-54,
                                      0x1.6e9f156864b27p-54,
                                      -0x1.0d55e32e9e3aap-56,
                                      0x1.5cc13a2e3976cp-55,
                                      -0x1.dd6792e582524p-54,
                                      -0x1.75fc781b57ebcp-57,
                                      -0x1.64b7c96a5f039p-56,
                                      -0x1.d185b7c1b85d1p-54,
                                      -0x1.173bd91cee632p-54,
                                      0x1.c7c46b071f2bep-56,
                                      0x1.824ca78e64c6ep-56,
                                      -0x1.359495d1cd533p-54,
                                      0x1.6305c7ddc36abp-54,
                                      -0x1.d2f6edb8d41e1p-54,
                                      0x1.bcb7ecac563c7p-54,
                                      0x1.0fac90ef7fd31p-54,
                                      -0x1.f9234cae76cd0p-55,
                                      0x1.7a1cd345dcc81p-54,
                                      -0x1.bdef54c80e425p-54,
                                      -0x1.2805e3084d708p-57,
                                      -0x1.c71dfbbba6de3p-54,
                                      -0x1.5584f7e54ac3bp-56,
                                      -0x1.efcd30e54292ep-54,
                                      0x1.23dd07a2d9e84p-55,
                                      -0x1.efdca3f6b9c73p-54,
                                      0x1.11065895048ddp-55,
                                      0x1.b4537e083c60ap-54,
                                      0x1.2884dff483cadp-54,
                                      0x1.1acbc48805c44p-56,
                                      0x1.503cbd1e949dbp-56,
                                      -0x1.dd83b53829d72p-55,
                                      -0x1.cbc3743797a9cp-54,
                                      -0x1.d487b719d8578p-54,
                                      0x1.2ed02d75b3707p-55,
                                      -0x1.11ec18beddfe8p-54,
                                      0x1.c2300696db532p-54,
                                      0x1.2da5778f018c3p-54,
                                      -0x1.1a5cd4f184b5cp-54,
                                      -0x1.7b627817a1496p-54,
                                      0x1.39e8980a9cc8fp-55,
                                      0x1.2d522ca0c8de2p-54,
                                      -0x1.e9c23179c2893p-54,
                                      -0x1.c93f3b411ad8cp-54,
                                      0x1.dc7f486a4b6b0p-54,
                                      0x1.3a1a5bf0d8e43p-54,
                                      0x1.9d3e12dd8a18bp-54,
                                      -0x1.dbb12d006350ap-54,
                                      0x1.74853f3a5931ep-55,
                                      0x1.2eb74966579e7p-57};
static const double EXP16_HI[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0,
    0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
    0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0, 0x1.6a09e667f3bcdp+0,
    0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0,
    0x1.ea4afa2a490dap+0};
static const double EXP16_LO[16] = {0x0p+0,
                                    0x1.8a62e4adc610bp-54,
                                    -0x1.19041b9d78a76p-55,
                                    0x1.9b07eb6c70573p-54,
                                    0x1.6f46ad23182e4p-55,
                                    0x1.ada0911f09ebcp-55,
                                    0x1.d4397afec42e2p-56,
                                    0x1.6324c054647adp-54,
                                    -0x1.bdd3413b26456p-54,
                                    -0x1.41577ee04992fp-55,
                                    0x1.6e9f156864b27p-54,
                                    0x1.c7c46b071f2bep-56,
                                    0x1.7a1cd345dcc81p-54,
                                    0x1.11065895048ddp-55,
                                    0x1.2ed02d75b3707p-55,
                                    -0x1.e9c23179c2893p-54};
static const double EXPT_C[6] = {1.0 / 5040, 1.0 / 720, 1.0 / 120,
                                 1.0 / 24,   1.0 / 6,   0.5};
enum { EXP_COARSE = 4, EXP_FINE = 7 };  /* log2 N */
#define EXPT_LOG2E 0x1.71547652b82fep+0 /* 1 / ln 2; times N, exact */
#define EXPT_LN2_HI 0x1.62e42fefa39efp-1
#define EXPT_LN2_LO 0x1.abc9e3b39803fp-56
#define EXPT_MAX 710.0
#define EXPT_MIN -746.0

static inline double exp_t_f64(double x, int bits) {
    if (x != x)
        return x;
    const double *hi = bits == EXP_FINE ? EXP128_HI : EXP16_HI;
    const double *lo = bits == EXP_FINE ? EXP128_LO : EXP16_LO;
    double n = (double)(1 << bits);
    x = x > EXPT_MAX ? EXPT_MAX : x < EXPT_MIN ? EXPT_MIN : x;
    double kd = rint(x * (EXPT_LOG2E * n));
    int k = (int)kd, j = k & ((1 << bits) - 1), top = (k - j) / (1 << bits);
    int h = half_floor(top);
    double r = fma(-kd, EXPT_LN2_HI / n, x);
    r = fma(-kd, EXPT_LN2_LO / n, r);
    double p = fma(r * r, horner(EXPT_C, 6, r), r);
    double t = hi[j] + fma(hi[j], p, lo[j]);
    /* Two exact-or-once-rounded scalings, as in the vector forms. */
    return t * pow2i_f64(h) * pow2i_f64(top - h);
}

#ifdef GD_MATH_X86
AVX2 static inline __m256d horner4(const double *c, int n, __m256d x) {
    __m256d u = _mm256_set1_pd(c[0]);
    for (int i = 1; i < n; i++)
        u = _mm256_fmadd_pd(u, x, _mm256_set1_pd(c[i]));
    return u;
}

AVX2 static inline __m256d exp_t_f64x4(__m256d x, int bits) {
    const double *hi = bits == EXP_FINE ? EXP128_HI : EXP16_HI;
    const double *lo = bits == EXP_FINE ? EXP128_LO : EXP16_LO;
    double n = (double)(1 << bits);
    x = _mm256_min_pd(_mm256_set1_pd(EXPT_MAX),
                      _mm256_max_pd(_mm256_set1_pd(EXPT_MIN), x));
    __m256d kd = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(EXPT_LOG2E * n)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i k = _mm256_cvtpd_epi32(kd); /* NaN: INT_MIN, and a NaN result */
    __m128i j = _mm_and_si128(k, _mm_set1_epi32((1 << bits) - 1));
    __m128i top = _mm_srai_epi32(k, bits), h = _mm_srai_epi32(top, 1);
    __m256d r = _mm256_fnmadd_pd(kd, _mm256_set1_pd(EXPT_LN2_HI / n), x);
    r = _mm256_fnmadd_pd(kd, _mm256_set1_pd(EXPT_LN2_LO / n), r);
    __m256d p = _mm256_fmadd_pd(_mm256_mul_pd(r, r), horner4(EXPT_C, 6, r), r);
    __m256d th = _mm256_i32gather_pd(hi, j, 8), tl = _mm256_i32gather_pd(lo, j, 8);
    __m256d t = _mm256_add_pd(th, _mm256_fmadd_pd(th, p, tl));
    return _mm256_mul_pd(_mm256_mul_pd(t, pow2i_f64x4(h)),
                         pow2i_f64x4(_mm_sub_epi32(top, h)));
}

AVX512 static inline __m512d horner8(const double *c, int n, __m512d x) {
    __m512d u = _mm512_set1_pd(c[0]);
    for (int i = 1; i < n; i++)
        u = _mm512_fmadd_pd(u, x, _mm512_set1_pd(c[i]));
    return u;
}

/* exp_t_f64x4 on eight lanes, scaling with scalef. */
AVX512 static inline __m512d exp_t_f64x8(__m512d x, int bits) {
    double n = (double)(1 << bits);
    x = _mm512_min_pd(_mm512_set1_pd(EXPT_MAX),
                      _mm512_max_pd(_mm512_set1_pd(EXPT_MIN), x));
    __m512d kd = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(EXPT_LOG2E * n)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i k = _mm512_cvtpd_epi32(kd);
    __m256i j = _mm256_and_si256(k, _mm256_set1_epi32((1 << bits) - 1));
    __m512d top = _mm512_cvtepi32_pd(_mm256_srai_epi32(k, bits));
    __m512d r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(EXPT_LN2_HI / n), x);
    r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(EXPT_LN2_LO / n), r);
    __m512d p = _mm512_fmadd_pd(_mm512_mul_pd(r, r), horner8(EXPT_C, 6, r), r);
    __m512d th, tl;
    if (bits == EXP_FINE) {
        th = _mm512_i32gather_pd(j, EXP128_HI, 8);
        tl = _mm512_i32gather_pd(j, EXP128_LO, 8);
    } else { /* two registers of table, indexed by a permute */
        __m512i j64 = _mm512_cvtepi32_epi64(j);
        th = _mm512_permutex2var_pd(_mm512_loadu_pd(EXP16_HI), j64,
                                    _mm512_loadu_pd(EXP16_HI + 8));
        tl = _mm512_permutex2var_pd(_mm512_loadu_pd(EXP16_LO), j64,
                                    _mm512_loadu_pd(EXP16_LO + 8));
    }
    __m512d t = _mm512_add_pd(th, _mm512_fmadd_pd(th, p, tl));
    /* One rounding of t * 2^top, as the two exact-or-once-rounded scalings
     * of the other forms give. */
    return _mm512_scalef_pd(t, top);
}
/* sin or cos of x from the kernels' values at the remainder, by quadrant:
 * k = rint(x 2/pi), plus 1 for cos; an odd quadrant takes the cosine kernel,
 * quadrants 2 and 3 the negation. */
AVX2 static inline __m256d quadrant_f64x4(__m256d kd, int cos_shift, __m256d sn,
                                          __m256d cs) {
    __m128i q = _mm_add_epi32(_mm256_cvtpd_epi32(kd), _mm_set1_epi32(cos_shift));
    __m256i q64 = _mm256_cvtepi32_epi64(q);
    __m256i odd = _mm256_cmpeq_epi64(_mm256_and_si256(q64, _mm256_set1_epi64x(1)),
                                     _mm256_set1_epi64x(1));
    __m256d u = _mm256_blendv_pd(sn, cs, _mm256_castsi256_pd(odd));
    __m256i neg = _mm256_slli_epi64(_mm256_and_si256(q64, _mm256_set1_epi64x(2)), 62);
    return _mm256_xor_pd(u, _mm256_castsi256_pd(neg));
}
AVX512 static inline __m512d quadrant_f64x8(__m512d kd, int cos_shift, __m512d sn,
                                            __m512d cs) {
    __m256i q = _mm256_add_epi32(_mm512_cvtpd_epi32(kd), _mm256_set1_epi32(cos_shift));
    __m512i q64 = _mm512_cvtepi32_epi64(q);
    __m512d u =
        _mm512_mask_blend_pd(_mm512_test_epi64_mask(q64, _mm512_set1_epi64(1)), sn, cs);
    __m512i neg = _mm512_slli_epi64(_mm512_and_si512(q64, _mm512_set1_epi64(2)), 62);
    return _mm512_xor_pd(u, _mm512_castsi512_pd(neg));
}
#endif

/* A unary loop: the vector code over contiguous runs, where the CPU has it,
 * else the scalar code. */
#ifdef GD_MATH_X86
#define VECTOR_PATH(run2, run512)                                                      \
    do {                                                                               \
        if (s[0] == s[1] && (size_t)s[0] == sizeof *x && gd_math_avx2()) {             \
            if (gd_math_avx512())                                                      \
                run512((void *)d[0], x, n);                                            \
            else                                                                       \
                run2((void *)d[0], x, n);                                              \
            return;                                                                    \
        }                                                                              \
    } while (0)
#else
#define VECTOR_PATH(run2, run512) (void)0
#endif

#define MATH_LOOP(name, FN, T, SCALAR, AVX2_RUN, AVX512_RUN)                           \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        (void)ctx;                                                                     \
        const T *x = (const T *)d[1];                                                  \
        VECTOR_PATH(AVX2_RUN, AVX512_RUN);                                             \
        for (int64_t i = 0; i < n; i++)                                                \
            *(T *)(d[0] + i * s[0]) = SCALAR(FN, *(const T *)(d[1] + i * s[1]));       \
    }

#endif
