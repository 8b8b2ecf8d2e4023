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
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- generators and MT19937 -------------------------------------------- */

#define MT_N GD_MT_STATE_N
#define MT_M 397

/* torch seeds its process-wide CPU generator from /dev/urandom, so streams
 * differ between runs until manual_seed; do the same. */
uint64_t gd_nondeterministic_seed(void) {
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

gd_status gd_generator_new(uint64_t seed, gd_generator **out) {
    *out = NULL;
    gd_generator *gen = malloc(sizeof *gen);
    if (gen == NULL)
        return gd_error(GD_ERR_NOMEM, "out of memory allocating a generator");
    gen->refcount = 1;
    gd_generator_seed(gen, seed);
    *out = gen;
    return GD_OK;
}

void gd_generator_incref(gd_generator *gen) {
    gen->refcount++;
}

void gd_generator_decref(gd_generator *gen) {
    if (gen != NULL && --gen->refcount == 0)
        free(gen);
}

gd_generator *gd_default_generator(void) {
    /* Its refcount starts at one that nobody releases. Lazily seeded: the
     * first call comes with the binding's GIL held (or from one thread). */
    static gd_generator gen;
    if (gen.refcount == 0) {
        gen.refcount = 1;
        gd_generator_seed(&gen, gd_nondeterministic_seed());
    }
    return &gen;
}

void gd_generator_seed(gd_generator *gen, uint64_t seed) {
    /* init_genrand with the low 32 bits; the full value is kept because
     * initial_seed() reports it. */
    gen->seed = seed;
    gen->seeded = true;
    gen->state[0] = (uint32_t)seed;
    for (uint32_t j = 1; j < MT_N; j++) {
        uint32_t prev = gen->state[j - 1];
        gen->state[j] = 1812433253u * (prev ^ (prev >> 30)) + j;
    }
    gen->left = 1; /* the first draw regenerates the whole state */
    gen->next = 0;
    gen->has_next_double_normal = false;
    gen->next_double_normal = 0.0;
    gen->has_next_float_normal = false;
    gen->next_float_normal = 0.0f;
}

void gd_generator_copy_state(gd_generator *dst, const gd_generator *src) {
    int64_t refcount = dst->refcount;
    *dst = *src;
    dst->refcount = refcount;
}

/* torch's CPUGeneratorImplState as laid out by a 64-bit little-endian build:
 * seed u64, left i32, seeded i32, next u64, state u64[624], normal_x f64,
 * normal_y f64 (the cached double normal), normal_rho f64, normal_is_valid
 * i32, 4 bytes padding, the cached float normal f32, its valid flag u8, 3
 * bytes padding. */
enum {
    ST_SEED = 0,
    ST_LEFT = 8,
    ST_SEEDED = 12,
    ST_NEXT = 16,
    ST_STATE = 24,
    ST_NORMAL_X = ST_STATE + 8 * MT_N,
    ST_NORMAL_Y = ST_NORMAL_X + 8,
    ST_NORMAL_RHO = ST_NORMAL_Y + 8,
    ST_NORMAL_VALID = ST_NORMAL_RHO + 8,
    ST_FLOAT_NORMAL = ST_NORMAL_VALID + 8,
    ST_FLOAT_VALID = ST_FLOAT_NORMAL + 4,
};
_Static_assert(ST_FLOAT_VALID + 4 == GD_GENERATOR_STATE_SIZE, "torch's state size");

static void put_le(uint8_t *p, uint64_t v, int nbytes) {
    for (int i = 0; i < nbytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int nbytes) {
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void gd_generator_get_state(const gd_generator *gen,
                            uint8_t out[GD_GENERATOR_STATE_SIZE]) {
    memset(out, 0, GD_GENERATOR_STATE_SIZE);
    put_le(out + ST_SEED, gen->seed, 8);
    put_le(out + ST_LEFT, (uint32_t)gen->left, 4);
    put_le(out + ST_SEEDED, gen->seeded, 4);
    put_le(out + ST_NEXT, gen->next, 8);
    for (int i = 0; i < MT_N; i++)
        put_le(out + ST_STATE + 8 * i, gen->state[i], 8);
    if (gen->has_next_double_normal) {
        uint64_t bits;
        memcpy(&bits, &gen->next_double_normal, sizeof bits);
        put_le(out + ST_NORMAL_Y, bits, 8);
        put_le(out + ST_NORMAL_VALID, 1, 4);
    }
    if (gen->has_next_float_normal) {
        uint32_t bits;
        memcpy(&bits, &gen->next_float_normal, sizeof bits);
        put_le(out + ST_FLOAT_NORMAL, bits, 4);
        out[ST_FLOAT_VALID] = 1;
    }
}

gd_status gd_generator_set_state(gd_generator *gen, const uint8_t *state,
                                 int64_t nbytes) {
    GD_CHECK(nbytes == GD_GENERATOR_STATE_SIZE, GD_ERR_RUNTIME,
             "Expected a CPUGeneratorImplState of size %d but found the input RNG "
             "state size to be %lld",
             GD_GENERATOR_STATE_SIZE, (long long)nbytes);
    int left = (int)(int32_t)get_le(state + ST_LEFT, 4);
    bool seeded = get_le(state + ST_SEEDED, 4) != 0;
    uint32_t next = (uint32_t)get_le(state + ST_NEXT, 8);
    /* torch's validity rule; the last term is ours: torch accepts states
     * whose next draws would read past the end of its array. */
    GD_CHECK(seeded && left > 0 && left <= MT_N && next <= MT_N &&
                 (int64_t)left + next <= MT_N + 1,
             GD_ERR_RUNTIME, "Invalid mt19937 state");
    gen->seed = get_le(state + ST_SEED, 8);
    gen->left = left;
    gen->seeded = seeded;
    gen->next = next;
    for (int i = 0; i < MT_N; i++)
        gen->state[i] = (uint32_t)get_le(state + ST_STATE + 8 * i, 8);
    uint64_t dbits = get_le(state + ST_NORMAL_Y, 8);
    uint32_t fbits = (uint32_t)get_le(state + ST_FLOAT_NORMAL, 4);
    gen->has_next_double_normal = get_le(state + ST_NORMAL_VALID, 4) != 0;
    memcpy(&gen->next_double_normal, &dbits, sizeof dbits);
    gen->has_next_float_normal = state[ST_FLOAT_VALID] != 0;
    memcpy(&gen->next_float_normal, &fbits, sizeof fbits);
    if (!gen->has_next_double_normal)
        gen->next_double_normal = 0.0;
    if (!gen->has_next_float_normal)
        gen->next_float_normal = 0.0f;
    return GD_OK;
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
    /* torch's bookkeeping: `left` counts down to a regeneration; set_state
     * keeps left + next <= MT_N + 1, so `next` stays in the array. */
    if (--gen->left == 0) {
        mt_regenerate(gen->state);
        gen->left = MT_N;
        gen->next = 0;
    }
    uint32_t y = gen->state[gen->next++];
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

/* An integer through the floating dtype and back, as torch's x86 build
 * converts it: values at or beyond 2^63 come back as INT64_MIN (x86's answer
 * to a conversion C leaves undefined). */
static int64_t through_float(int64_t v, bool is_float) {
    double d = is_float ? (double)(float)v : (double)v;
    return d < 9223372036854775808.0 ? (int64_t)d : INT64_MIN;
}

static int floor_log2(uint64_t a) {
    int k = 0;
    while (a >>= 1)
        k++;
    return k;
}

static uint64_t magnitude(int64_t v) {
    return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* torch narrows [from, to) for floating dtypes to integers that survive the
 * conversion; these mirror its update_from / update_to. from < INT64_MAX. */
static int64_t float_update_from(int64_t from, int digits, bool is_float) {
    int64_t f1 = through_float(from + 1, is_float);
    if (f1 < from)
        from = f1 + ((int64_t)1 << (floor_log2(magnitude(from + 1)) - digits + 1));
    return from;
}

static int64_t float_update_to(int64_t to, int digits, bool is_float) {
    int64_t t1 = through_float(to - 1, is_float);
    if (t1 >= to)
        to = t1 - ((int64_t)1 << (floor_log2(magnitude(to - 1)) - digits + 1));
    return to;
}

/* The largest value of an integral dtype. */
static int64_t integral_max(gd_dtype dtype) {
    switch (dtype) {
    case GD_BOOL:
        return 1;
    case GD_UINT8:
        return UINT8_MAX;
    case GD_INT32:
        return INT32_MAX;
    default:
        return INT64_MAX;
    }
}

/* check_from_to_in_range: from and to_inc must fit the dtype; floating
 * dtypes only warn beyond the integers they hold exactly. */
static gd_status check_from_to(gd_dtype dtype, int64_t from, int64_t to_inc,
                               int *warn) {
    if (gd_dtype_is_floating(dtype)) {
        /* Every int64 is within float's range: only the warning can fire. */
        int64_t lim = (int64_t)1 << (dtype == GD_FLOAT32 ? 24 : 53);
        if (warn != NULL)
            *warn = (from < -lim || from > lim ? GD_RANDOM_WARN_FROM : 0) |
                    (to_inc < -lim || to_inc > lim ? GD_RANDOM_WARN_TO : 0);
        return GD_OK;
    }
    int64_t lo = dtype == GD_INT32 ? INT32_MIN : dtype == GD_INT64 ? INT64_MIN : 0;
    int64_t hi = integral_max(dtype);
    /* PyTorch names the C++ type here (caffe2's TypeMeta): "long int". */
    GD_CHECK(from >= lo && from <= hi, GD_ERR_RUNTIME, "from is out of bounds for %s",
             gd_dtype_cxx_name(dtype));
    GD_CHECK(to_inc >= lo && to_inc <= hi, GD_ERR_RUNTIME,
             "to - 1 is out of bounds for %s", gd_dtype_cxx_name(dtype));
    return GD_OK;
}

/* Stores an int64 draw as the dtype (C conversions, as static_cast). */
static void store_int(gd_dtype dtype, void *out, int64_t i, int64_t v) {
    char *at = (char *)out + (size_t)i * gd_dtype_size(dtype);
    if (gd_dtype_is_floating(dtype))
        gd_store_double(dtype, at, (double)v);
    else
        gd_store_int64(dtype, at, v);
}

gd_status gd_fill_random_from_to(gd_generator *gen, gd_dtype dtype, void *out,
                                 int64_t n, int64_t from, bool has_to, int64_t to,
                                 int *warn) {
    bool is_float = gd_dtype_is_floating(dtype);
    int digits = dtype == GD_FLOAT32 ? 24 : 53;
    int64_t to_inc;
    gd_status st;
    if (warn != NULL)
        *warn = 0;
    if (has_to) {
        GD_CHECK(
            from < to, GD_ERR_RUNTIME,
            "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
            (long long)from, (long long)to);
        if (is_float) {
            from = float_update_from(from, digits, dtype == GD_FLOAT32);
            to = float_update_to(to, digits, dtype == GD_FLOAT32);
            GD_CHECK(from < to, GD_ERR_RUNTIME,
                     "random_ expects 'from' casted to dtype to be less than 'to' "
                     "casted to dtype, but got from=%lld >= to=%lld",
                     (long long)from, (long long)to);
        }
        to_inc = to - 1;
    } else if (from != INT64_MIN) {
        if (is_float) {
            to_inc = (int64_t)1 << digits;
            /* torch loops forever on this one (|from + 1| overflows). */
            GD_CHECK(from != INT64_MAX, GD_ERR_RUNTIME,
                     "random_ expects 'from' casted to dtype to be less than or equal "
                     "to 'to_inc' casted to dtype, but got from=%lld > to_inc=%lld",
                     (long long)from, (long long)to_inc);
            from = float_update_from(from, digits, dtype == GD_FLOAT32);
            GD_CHECK(from < to_inc, GD_ERR_RUNTIME,
                     "random_ expects 'from' casted to dtype to be less than or equal "
                     "to 'to_inc' casted to dtype, but got from=%lld > to_inc=%lld",
                     (long long)from, (long long)to_inc);
        } else {
            to_inc = integral_max(dtype);
        }
    } else {
        /* The full 64-bit range: one 64-bit draw reinterpreted as int64. */
        if (n == 0)
            return GD_OK;
        GD_CHECK(dtype != GD_BOOL, GD_ERR_NOTIMPL,
                 "\"random_full_64_bits_range_kernel_cpu\" not implemented for 'Bool'");
        GD_CHECK(dtype == GD_INT64 || is_float, GD_ERR_RUNTIME,
                 "random_full_64_bits_range_kernel_cpu handles only int64, double, "
                 "float and bfloat16");
        for (int64_t i = 0; i < n; i++)
            store_int(dtype, out, i, (int64_t)gd_random64(gen));
        return GD_OK;
    }
    if ((st = check_from_to(dtype, from, to_inc, warn)))
        return st;
    uint64_t range = (uint64_t)to_inc - (uint64_t)from + 1;
    /* Ranges from 2^28 up take 64-bit draws (less modulo bias). */
    bool wide = range >= ((uint64_t)1 << 28);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = wide ? gd_random64(gen) : gd_random32(gen);
        store_int(dtype, out, i, (int64_t)(r % range + (uint64_t)from));
    }
    return GD_OK;
}

gd_status gd_fill_random(gd_generator *gen, gd_dtype dtype, void *out, int64_t n) {
    /* 64-bit draws for int64 and float64, 32-bit otherwise, each reduced
     * modulo one past the largest value. */
    for (int64_t i = 0; i < n; i++) {
        switch (dtype) {
        case GD_BOOL:
            ((bool *)out)[i] = (gd_random32(gen) & 1u) != 0;
            break;
        case GD_UINT8:
            ((uint8_t *)out)[i] = (uint8_t)(gd_random32(gen) & 0xFFu);
            break;
        case GD_INT32:
            ((int32_t *)out)[i] = (int32_t)(gd_random32(gen) & 0x7FFFFFFFu);
            break;
        case GD_INT64:
            ((int64_t *)out)[i] = (int64_t)(gd_random64(gen) & 0x7FFFFFFFFFFFFFFFull);
            break;
        case GD_FLOAT32:
            ((float *)out)[i] = (float)(gd_random32(gen) % ((1u << 24) + 1));
            break;
        default:
            ((double *)out)[i] = (double)(gd_random64(gen) % (((uint64_t)1 << 53) + 1));
            break;
        }
    }
    return GD_OK;
}

gd_status gd_check_uniform_bounds(gd_dtype dtype, double *from, double *to) {
    GD_CHECK(gd_dtype_is_floating(dtype), GD_ERR_NOTIMPL,
             "\"check_uniform_bounds\" not implemented for '%s'",
             gd_dtype_scalar_name(dtype));
    double max = dtype == GD_FLOAT32 ? 3.4028234663852886e38 : 1.7976931348623157e308;
    double f = *from, t = *to;
    GD_CHECK(f >= -max && f <= max, GD_ERR_RUNTIME, "from is out of bounds for %s",
             gd_dtype_cxx_name(dtype));
    GD_CHECK(t >= -max && t <= max, GD_ERR_RUNTIME, "to is out of bounds for %s",
             gd_dtype_cxx_name(dtype));
    GD_CHECK(f <= t, GD_ERR_RUNTIME,
             "uniform_ expects to return a [from, to) range, but found from=%g > to=%g",
             f, t);
    GD_CHECK(t - f <= max, GD_ERR_RUNTIME,
             "uniform_ expects to-from <= std::numeric_limits<%s>::max(), but found "
             "to=%g and from=%g which result in to-from to exceed the limit",
             gd_dtype_scalar_name(dtype), t, f);
    return GD_OK;
}

gd_status gd_check_normal_std(double std) {
    GD_CHECK(std >= 0.0, GD_ERR_RUNTIME, "normal expects std >= 0.0, but found std %g",
             std);
    return GD_OK;
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
