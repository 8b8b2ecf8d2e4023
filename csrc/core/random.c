/*
 * random.c - PyTorch's CPU random streams (torch 2.x), reproduced bit for bit.
 *
 * torch's CPU generator is a plain MT19937; every distribution below consumes
 * its 32-bit outputs in the same order and with the same arithmetic as
 * torch's CPU kernels, so that a seed gives the same numbers in both. The
 * float32 normal path of torch's vectorised kernel uses Cephes-style log and
 * sincos approximations (8 floats at a time); they are re-evaluated here one
 * float at a time with the same operations, because libm's logf/sinf/cosf
 * would differ in the last bits (and by more near zeros of cos and sin).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- MT19937 ------------------------------------------------------------ */

#define MT_N 624
#define MT_M 397

/* torch seeds its process-wide CPU generator from /dev/urandom, so streams
 * differ between runs until manual_seed; do the same. */
static uint64_t nondeterministic_seed(void) {
    uint64_t s = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f != NULL) {
        size_t got = fread(&s, sizeof s, 1, f);
        fclose(f);
        if (got == 1)
            return s;
    }
    /* No /dev/urandom: mix the clock and an address, which is enough for a
     * seed that only has to differ between runs. */
    s = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull;
    s ^= (uint64_t)clock() << 17;
    s ^= (uint64_t)(uintptr_t)&s;
    return s;
}

gd_generator *gd_default_generator(void) {
    static gd_generator gen;
    static bool seeded = false;
    if (!seeded) {
        gd_generator_seed(&gen, nondeterministic_seed());
        seeded = true;
    }
    return &gen;
}

void gd_generator_seed(gd_generator *gen, uint64_t seed) {
    /* init_genrand with the low 32 bits; the full value is kept because
     * initial_seed() reports it. */
    gen->seed = seed;
    gen->state[0] = (uint32_t)seed;
    for (uint32_t j = 1; j < MT_N; j++) {
        uint32_t prev = gen->state[j - 1];
        gen->state[j] = 1812433253u * (prev ^ (prev >> 30)) + j;
    }
    gen->index = MT_N; /* the first draw regenerates the whole state */
    gen->has_next_double_normal = false;
    gen->next_double_normal = 0.0;
    gen->has_next_float_normal = false;
    gen->next_float_normal = 0.0f;
}

static uint32_t mt_mix(uint32_t upper, uint32_t lower) {
    uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
    return (y >> 1) ^ ((lower & 1u) ? 0x9908b0dfu : 0u);
}

static void mt_regenerate(uint32_t *s) {
    int k = 0;
    for (; k < MT_N - MT_M; k++)
        s[k] = s[k + MT_M] ^ mt_mix(s[k], s[k + 1]);
    for (; k < MT_N - 1; k++)
        s[k] = s[k + MT_M - MT_N] ^ mt_mix(s[k], s[k + 1]);
    s[MT_N - 1] = s[MT_M - 1] ^ mt_mix(s[MT_N - 1], s[0]);
}

uint32_t gd_random32(gd_generator *gen) {
    if (gen->index >= MT_N || gen->index < 0) {
        mt_regenerate(gen->state);
        gen->index = 0;
    }
    uint32_t y = gen->state[gen->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint64_t gd_random64(gd_generator *gen) {
    /* The first draw is the high word. */
    uint64_t hi = gd_random32(gen);
    uint64_t lo = gd_random32(gen);
    return (hi << 32) | lo;
}

/* ---- uniform ------------------------------------------------------------ */

/* [0, 1) from the low 24 bits of one draw (float32's digits). */
static float uniform01_f32(gd_generator *gen) {
    return (float)(gd_random32(gen) & 0xFFFFFFu) * 0x1p-24f;
}

/* [0, 1) from the low 53 bits of a 64-bit draw (float64's digits). */
static double uniform01_f64(gd_generator *gen) {
    return (double)(gd_random64(gen) & 0x1FFFFFFFFFFFFFull) * 0x1p-53;
}

void gd_fill_uniform(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                     double from, double to) {
    if (dtype == GD_FLOAT32) {
        /* Bounds are rounded to float first and the whole affine map runs in
         * float; torch's SIMD builds contract it into one fused multiply-add.
         * A value that rounds up onto `to` is replaced by `from`. */
        float lo = (float)from, hi = (float)to;
        float span = hi - lo;
        float *o = out;
        for (int64_t i = 0; i < n; i++) {
            float v = fmaf(uniform01_f32(gen), span, lo);
            o[i] = v == hi ? lo : v;
        }
    } else if (dtype == GD_FLOAT64) {
        double span = to - from;
        double *o = out;
        for (int64_t i = 0; i < n; i++) {
            double v = fma(uniform01_f64(gen), span, from);
            o[i] = v == to ? from : v;
        }
    }
}

/* ---- normal ------------------------------------------------------------- */

static const double two_pi = 6.283185307179586476925286766559;

/* One Box-Muller draw in double, as torch's scalar path: two 53-bit uniforms,
 * radius from the second, angle from the first; the sine half is cached for
 * the next draw (until manual_seed). */
static double normal_draw(gd_generator *gen, double mean, double std) {
    double z;
    if (gen->has_next_double_normal) {
        gen->has_next_double_normal = false;
        z = gen->next_double_normal;
    } else {
        double u1 = uniform01_f64(gen);
        double u2 = uniform01_f64(gen);
        double r = sqrt(-2.0 * log1p(-u2));
        double theta = two_pi * u1;
        gen->next_double_normal = r * sin(theta);
        gen->has_next_double_normal = true;
        z = r * cos(theta);
    }
    /* torch's SIMD builds fuse `z * std + mean`. */
    return fma(z, std, mean);
}

void gd_fill_normal_serial(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                           double mean, double std) {
    if (dtype == GD_FLOAT32) {
        float *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = (float)normal_draw(gen, mean, std);
    } else if (dtype == GD_FLOAT64) {
        double *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = normal_draw(gen, mean, std);
    }
}

/* Float bit helpers for the Cephes-style approximations. */
static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Natural log of x > 0, the Cephes logf polynomial evaluated in float in the
 * order torch's AVX2 kernel evaluates it. Its compiler fuses most multiply-add
 * pairs of that vector code; each fmaf below stands for one such pair (checked
 * against torch's output: the unfused forms differ in the last bits). */
static float cephes_logf(float x) {
    static const float sqrthf = (float)0.707106781186547524;
    static const float p[9] = {
        (float)7.0376836292E-2,  (float)-1.1514610310E-1, (float)1.1676998740E-1,
        (float)-1.2420140846E-1, (float)1.4249322787E-1,  (float)-1.6668057665E-1,
        (float)2.0000714765E-1,  (float)-2.4999993993E-1, (float)3.3333331174E-1,
    };
    static const float q1 = (float)-2.12194440e-4, q2 = (float)0.693359375;
    if (!(x > 0.0f))
        return NAN; /* as there, zero included; Box-Muller never passes it */
    if (x < 0x1p-126f)
        x = 0x1p-126f; /* denormals are cut off, as there */
    uint32_t bits = f2u(x);
    float e = (float)((int32_t)(bits >> 23) - 0x7f) + 1.0f;
    x = u2f((bits & ~0x7f800000u) | f2u(0.5f)); /* mantissa in [0.5, 1) */
    if (x < sqrthf) {
        e = e - 1.0f;
        x = (x - 1.0f) + x;
    } else {
        x = x - 1.0f;
    }
    float z = x * x;
    float y = p[0];
    for (int k = 1; k < 9; k++)
        y = fmaf(y, x, p[k]);
    y = y * x;
    y = fmaf(y, z, e * q1);
    y = y - z * 0.5f;
    x = x + y;
    return fmaf(e, q2, x);
}

/* sin and cos of 0 <= x < 8192, Cephes sinf/cosf polynomials as torch's
 * AVX2 sincos evaluates them. */
static void cephes_sincosf(float x, float *s, float *c) {
    static const float fopi = (float)1.27323954473516; /* 4 / pi */
    static const float dp1 = (float)-0.78515625, dp2 = (float)-2.4187564849853515625e-4,
                       dp3 = (float)-3.77489497744594108e-8;
    static const float sp0 = (float)-1.9515295891E-4, sp1 = (float)8.3321608736E-3,
                       sp2 = (float)-1.6666654611E-1;
    static const float cp0 = (float)2.443315711809948E-005,
                       cp1 = (float)-1.388731625493765E-003,
                       cp2 = (float)4.166664568298827E-002;
    uint32_t sign_sin = f2u(x) & 0x80000000u;
    x = fabsf(x);
    int32_t j = (int32_t)(x * fopi);
    j = (j + 1) & ~1;
    float y = (float)j;
    sign_sin ^= (uint32_t)(j & 4) << 29;
    uint32_t sign_cos = (uint32_t)(~(j - 2) & 4) << 29;
    bool first_octant_poly = (j & 2) == 0;
    /* Extended-precision reduction x - j*pi/4 in three parts. */
    x = fmaf(y, dp1, x);
    x = fmaf(y, dp2, x);
    x = fmaf(y, dp3, x);
    float z = x * x;
    float yc = cp0;
    yc = fmaf(yc, z, cp1);
    yc = fmaf(yc, z, cp2);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f));
    yc = yc + 1.0f;
    float ys = sp0;
    ys = fmaf(ys, z, sp1);
    ys = fmaf(ys, z, sp2);
    ys = ys * z;
    ys = fmaf(ys, x, x);
    float sv = first_octant_poly ? ys : yc;
    float cv = first_octant_poly ? yc : ys;
    *s = u2f(f2u(sv) ^ sign_sin);
    *c = u2f(f2u(cv) ^ sign_cos);
}

/* Box-Muller on 16 float uniforms in place: pairs (j, j + 8) for j < 8. */
static void normal16_f32(float *d, float mean, float std) {
    static const float two_pi_f = (float)(2.0 * 3.14159265358979323846);
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j]; /* (0, 1] so the log is finite */
        float u2 = d[j + 8];
        float radius = sqrtf(-2.0f * cephes_logf(u1));
        float s, c;
        cephes_sincosf(two_pi_f * u2, &s, &c);
        d[j] = fmaf(radius * c, std, mean);
        d[j + 8] = fmaf(radius * s, std, mean);
    }
}

static void normal16_f64(double *d, double mean, double std) {
    for (int j = 0; j < 8; j++) {
        double u1 = 1.0 - d[j];
        double u2 = d[j + 8];
        double radius = sqrt(-2.0 * log(u1));
        double theta = two_pi * u2;
        d[j] = fma(radius * cos(theta), std, mean);
        d[j + 8] = fma(radius * sin(theta), std, mean);
    }
}

void gd_fill_normal(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                    double mean, double std) {
    if (n < 16) {
        gd_fill_normal_serial(gen, dtype, out, n, mean, std);
        return;
    }
    /* Uniforms for the whole buffer first, then blocks of 16; a ragged tail
     * draws 16 fresh uniforms and recomputes the last 16 outputs, overwriting
     * some already transformed ones. The scalar cache is left untouched. */
    if (dtype == GD_FLOAT32) {
        float *o = out;
        float m = (float)mean, s = (float)std;
        for (int64_t i = 0; i < n; i++)
            o[i] = uniform01_f32(gen);
        for (int64_t i = 0; i + 16 <= n; i += 16)
            normal16_f32(o + i, m, s);
        if (n % 16 != 0) {
            float *tail = o + n - 16;
            for (int i = 0; i < 16; i++)
                tail[i] = uniform01_f32(gen);
            normal16_f32(tail, m, s);
        }
    } else if (dtype == GD_FLOAT64) {
        double *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = uniform01_f64(gen);
        for (int64_t i = 0; i + 16 <= n; i += 16)
            normal16_f64(o + i, mean, std);
        if (n % 16 != 0) {
            double *tail = o + n - 16;
            for (int i = 0; i < 16; i++)
                tail[i] = uniform01_f64(gen);
            normal16_f64(tail, mean, std);
        }
    }
}

/* ---- integers ----------------------------------------------------------- */

/* torch narrows [from, to) for floating dtypes to integers that survive the
 * conversion; these mirror its update_from / update_to. */
static int64_t float_update_from(int64_t from, int digits, bool is_float) {
    int64_t f1 = is_float ? (int64_t)(float)(from + 1) : (int64_t)(double)(from + 1);
    if (f1 < from) {
        int64_t a = from + 1 < 0 ? -(from + 1) : from + 1;
        int k = 0;
        while (a >>= 1)
            k++;
        from = f1 + ((int64_t)1 << (k - digits + 1));
    }
    return from;
}

static int64_t float_update_to(int64_t to, int digits, bool is_float) {
    int64_t t1 = is_float ? (int64_t)(float)(to - 1) : (int64_t)(double)(to - 1);
    if (t1 >= to) {
        int64_t a = to - 1 < 0 ? -(to - 1) : to - 1;
        int k = 0;
        while (a >>= 1)
            k++;
        to = t1 - ((int64_t)1 << (k - digits + 1));
    }
    return to;
}

gd_status gd_fill_randint(gd_generator *gen, gd_dtype dtype, void *out, int64_t n,
                          int64_t low, int64_t high) {
    GD_CHECK(
        low < high, GD_ERR_RUNTIME,
        "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
        (long long)low, (long long)high);
    if (dtype == GD_FLOAT32 || dtype == GD_FLOAT64) {
        bool is_float = dtype == GD_FLOAT32;
        int digits = is_float ? 24 : 53;
        low = float_update_from(low, digits, is_float);
        high = float_update_to(high, digits, is_float);
        GD_CHECK(
            low < high, GD_ERR_RUNTIME,
            "random_ expects 'from' casted to dtype to be less than 'to' casted to "
            "dtype, but got from=%lld >= to=%lld",
            (long long)low, (long long)high);
        /* Bounds beyond float's finite range cannot come from an int64. */
    } else if (dtype == GD_INT32 || dtype == GD_UINT8 || dtype == GD_BOOL) {
        int64_t lo = dtype == GD_INT32 ? INT32_MIN : 0;
        int64_t hi = dtype == GD_INT32 ? INT32_MAX : dtype == GD_UINT8 ? UINT8_MAX : 1;
        const char *name = gd_dtype_cxx_name(dtype);
        GD_CHECK(low >= lo && low <= hi, GD_ERR_RUNTIME, "from is out of bounds for %s",
                 name);
        GD_CHECK(high - 1 >= lo && high - 1 <= hi, GD_ERR_RUNTIME,
                 "to - 1 is out of bounds for %s", name);
    } else if (dtype != GD_INT64) {
        return gd_error(GD_ERR_RUNTIME, "randint: unsupported dtype %s",
                        gd_dtype_name(dtype));
    }
    uint64_t range = (uint64_t)high - (uint64_t)low;
    /* Ranges from 2^28 up take 64-bit draws (less modulo bias). */
    bool wide = range >= ((uint64_t)1 << 28);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = wide ? gd_random64(gen) : gd_random32(gen);
        int64_t v = (int64_t)(r % range + (uint64_t)low);
        char *at = (char *)out + (size_t)i * gd_dtype_size(dtype);
        if (gd_dtype_is_floating(dtype))
            gd_store_double(dtype, at, (double)v);
        else
            gd_store_int64(dtype, at, v);
    }
    return GD_OK;
}

void gd_fill_random_int64(gd_generator *gen, int64_t *out, int64_t n) {
    /* A 64-bit draw reduced mod 2^63: the top bit is dropped. */
    for (int64_t i = 0; i < n; i++)
        out[i] = (int64_t)(gd_random64(gen) & 0x7FFFFFFFFFFFFFFFull);
}

void gd_randperm(gd_generator *gen, int64_t *out, int64_t n) {
    /* Below UINT32_MAX / 20 torch keeps its original Fisher-Yates with 32-bit
     * draws; from there on it switches to the inside-out variant with 64-bit
     * draws, one per element including the first. */
    if (n < (int64_t)(UINT32_MAX / 20)) {
        for (int64_t i = 0; i < n; i++)
            out[i] = i;
        for (int64_t i = 0; i + 1 < n; i++) {
            int64_t z = (int64_t)(gd_random32(gen) % (uint64_t)(n - i));
            int64_t t = out[i];
            out[i] = out[i + z];
            out[i + z] = t;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t z = (int64_t)(gd_random64(gen) % (uint64_t)(i + 1));
        out[i] = i;
        out[i] = out[z];
        out[z] = i;
    }
}
