/*
 * sequence.c - arange, linspace and logspace with PyTorch's CPU values (torch 2.x).
 *
 * torch computes arange in double (its CPU accumulate type for float32) with
 * the AVX2 build of its vectorised kernel, whose compiler fuses a * b + c
 * into one rounding. The values depend on that arithmetic to the last bit
 * (e.g. torch.arange(-1, 1, 0.1)[12] is exactly float32(0.2), which NumPy's
 * float32 arange misses by 1 ulp), so every fused operation is written
 * with fma() and everything else is kept unfused.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---- arange size --------------------------------------------------------- */

gd_status gd_arange_check(double start, double end, double step) {
    /* The order of the checks decides which message a bad call gets. */
    GD_CHECK(step > 0 || step < 0, GD_ERR_RUNTIME, "step must be nonzero");
    GD_CHECK(isfinite(start) && isfinite(end), GD_ERR_RUNTIME,
             "unsupported range: %g -> %g", start, end);
    GD_CHECK((step > 0 && end >= start) || (step < 0 && end <= start), GD_ERR_RUNTIME,
             "upper bound and lower bound inconsistent with step sign");
    return GD_OK;
}

/* torch accepts sizes up to (double)INT64_MAX, which is 2^63 itself; that one
 * value cannot be an int64 (torch fails later on it), so it is refused here. */
static gd_status size_from_double(double size_d, int64_t *n) {
    GD_CHECK(size_d >= 0 && size_d < 9223372036854775808.0, GD_ERR_RUNTIME,
             "invalid size, possible overflow?");
    *n = (int64_t)size_d;
    return GD_OK;
}

/* For float32, float64 and int32 results: ceil((end - start) / step) in double. */
gd_status gd_arange_size(double start, double end, double step, int64_t *n) {
    *n = 0;
    gd_status st = gd_arange_check(start, end, step);
    if (st != GD_OK)
        return st;
    return size_from_double(ceil((end - start) / step), n);
}

/* For int64 results, after gd_arange_check on the arguments as doubles: torch
 * truncates each argument to int64 (so a float step below 1 becomes 0, a
 * ValueError) and rounds the quotient up with integer division. */
gd_status gd_arange_size_int64(int64_t start, int64_t end, int64_t step, int64_t *n) {
    *n = 0;
    GD_CHECK(step != 0, GD_ERR_VALUE, "step must be nonzero");
    int64_t sgn = step > 0 ? 1 : -1;
    /* torch's int64 arithmetic wraps (end - start can exceed int64); unsigned
     * arithmetic wraps the same way without undefined behaviour. */
    uint64_t num = (uint64_t)end - (uint64_t)start + (uint64_t)step - (uint64_t)sgn;
    int64_t snum;
    memcpy(&snum, &num, sizeof snum);
    int64_t q = (snum == INT64_MIN && step == -1) ? INT64_MIN : snum / step;
    /* The quotient passes through a double before it becomes the size. */
    return size_from_double((double)q, n);
}

/* ---- arange values ------------------------------------------------------- */

/* torch's AVX2 kernel writes pairs of 8-float (4-double) vectors while at
 * least two fit, then finishes element by element. */
#define F32_LANES 8
#define F64_LANES 4

/* Elements [begin, end) of one parallel chunk of torch's kernel: vector
 * blocks are counted from `begin`, and each block restarts from a base
 * computed at its first index, rounded to the output type. */
static void arange_f32(float *out, int64_t begin, int64_t end, double start,
                       double step) {
    int64_t i = begin;
    for (; end - i >= 2 * F32_LANES; i += 2 * F32_LANES) {
        for (int64_t j = i; j < i + 2 * F32_LANES; j += F32_LANES) {
            /* The base is rounded to float before the lanes add k * step to it
             * in double. */
            float base = (float)fma(step, (double)j, start);
            out[j] = base;
            out[j + 1] = (float)((double)base + step);
            for (int k = 2; k < F32_LANES; k++)
                out[j + k] = (float)fma((double)k, step, (double)base);
        }
    }
    for (; i < end; i++)
        out[i] = (float)fma(step, (double)i, start);
}

static void arange_f64(double *out, int64_t begin, int64_t end, double start,
                       double step) {
    int64_t i = begin;
    for (; end - i >= 2 * F64_LANES; i += 2 * F64_LANES) {
        for (int64_t j = i; j < i + 2 * F64_LANES; j += F64_LANES) {
            double base = fma(step, (double)j, start);
            out[j] = base;
            out[j + 1] = base + step;
            for (int k = 2; k < F64_LANES; k++)
                out[j + k] = fma((double)k, step, base);
        }
    }
    for (; i < end; i++)
        out[i] = fma(step, (double)i, start);
}

/* Integer results are exact modulo 2^64 (2^32 for int32), so blocking does not
 * matter; unsigned arithmetic gives torch's wrap-around without UB. */
static int64_t wrap_i64(uint64_t u) {
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int32_t wrap_i32(uint64_t u) {
    uint32_t low = (uint32_t)u;
    int32_t v;
    memcpy(&v, &low, sizeof v);
    return v;
}

void gd_fill_arange_int64(int64_t *out, int64_t n, int64_t start, int64_t step) {
    for (int64_t i = 0; i < n; i++)
        out[i] = wrap_i64((uint64_t)start + (uint64_t)step * (uint64_t)i);
}

/* torch's kernel runs over chunks of the output when it has more than 32768
 * elements and several threads; blocks restart at each chunk, so the float
 * results match torch running on one thread (and any torch for n <= 32768). */
void gd_fill_arange(gd_dtype dtype, void *out, int64_t n, double start, double step) {
    switch (dtype) {
    case GD_FLOAT32:
        arange_f32((float *)out, 0, n, start, step);
        break;
    case GD_FLOAT64:
        arange_f64((double *)out, 0, n, start, step);
        break;
    case GD_INT64:
        /* Integer kernels take start and step truncated to int64 (the binding
         * has checked they fit). */
        gd_fill_arange_int64((int64_t *)out, n, gd_f2i64(start), gd_f2i64(step));
        break;
    case GD_INT32: {
        /* int32 accumulates in int64 and keeps the low 32 bits (integer
         * arguments beyond 2^53 need gd_fill_arange_int64 and a narrowing, as
         * a double cannot carry them). */
        uint64_t s = (uint64_t)gd_f2i64(start), d = (uint64_t)gd_f2i64(step);
        int32_t *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = wrap_i32(s + d * (uint64_t)i);
        break;
    }
    case GD_UINT8: {
        /* as int32: int64 arithmetic, the low 8 bits kept */
        uint64_t s = (uint64_t)gd_f2i64(start), d = (uint64_t)gd_f2i64(step);
        uint8_t *o = out;
        for (int64_t i = 0; i < n; i++)
            o[i] = (uint8_t)(s + d * (uint64_t)i);
        break;
    }
    default:
        /* torch has no bool arange; the binding raises before calling. */
        break;
    }
}

/* ---- linspace ------------------------------------------------------------ */

/* torch computes the first half (i < n / 2) forwards from start and the rest
 * backwards from end, so both ends are exact; start + step * i and
 * end - step * (n - 1 - i) each fuse into one rounding. The count is negated
 * rather than the step so that a NaN step keeps its sign, and as a float so
 * that a count of 0 gives end exactly, even -0.0. Floating types keep start,
 * end and step in their own precision; integer types use a double step and
 * truncate. n == 1 gives start. */
void gd_fill_linspace(gd_dtype dtype, void *out, int64_t n, double start, double end) {
    if (n <= 0)
        return;
    int64_t half = n / 2;
    switch (dtype) {
    case GD_FLOAT32: {
        float *o = out;
        float s = (float)start, e = (float)end;
        if (n == 1) {
            o[0] = s;
            break;
        }
        float step = (e - s) / (float)(n - 1);
        for (int64_t i = 0; i < n; i++)
            o[i] =
                i < half ? fmaf(step, (float)i, s) : fmaf(step, -(float)(n - 1 - i), e);
        break;
    }
    case GD_FLOAT64: {
        double *o = out;
        if (n == 1) {
            o[0] = start;
            break;
        }
        double step = (end - start) / (double)(n - 1);
        for (int64_t i = 0; i < n; i++)
            o[i] = i < half ? fma(step, (double)i, start)
                            : fma(step, -(double)(n - 1 - i), end);
        break;
    }
    case GD_INT64:
    case GD_INT32:
    case GD_UINT8: {
        /* start and end are truncated to the output type first; the step is
         * a double over their difference. */
        int64_t s = dtype == GD_INT64   ? gd_f2i64(start)
                    : dtype == GD_INT32 ? gd_f2i32(start)
                                        : (uint8_t)gd_f2i64(start);
        int64_t e = dtype == GD_INT64   ? gd_f2i64(end)
                    : dtype == GD_INT32 ? gd_f2i32(end)
                                        : (uint8_t)gd_f2i64(end);
        double ds = (double)s, de = (double)e;
        double step = n == 1 ? 0.0 : (de - ds) / (double)(n - 1);
        for (int64_t i = 0; i < n; i++) {
            double v = n == 1     ? ds
                       : i < half ? fma(step, (double)i, ds)
                                  : fma(step, -(double)(n - 1 - i), de);
            if (dtype == GD_INT64)
                ((int64_t *)out)[i] = gd_f2i64(v);
            else if (dtype == GD_INT32)
                ((int32_t *)out)[i] = gd_f2i32(v);
            else
                ((uint8_t *)out)[i] = (uint8_t)gd_f2i64(v);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- logspace ------------------------------------------------------------ */

/* base ** x at linspace's points, split as linspace is: the first half
 * (i < n / 2) counts up from start, the rest down from end. torch keeps start
 * and end in the output type but the base, the step and each exponent in
 * double (the step is the output type's end - start, then widened), and
 * rounds pow's double once into the output. n == 1 gives base ** start with
 * start unrounded. Nothing here is fused (the build says -ffp-contract=off). */
void gd_fill_logspace(gd_dtype dtype, void *out, int64_t n, double start, double end,
                      double base) {
    if (n <= 0)
        return;
    int64_t half = n / 2;
    /* start and end in the output type; their difference is taken there too
     * (wrapping for int64 and int32, in int for uint8), then widened. */
    double s, e, diff;
    switch (dtype) {
    case GD_FLOAT32: {
        float fs = (float)start, fe = (float)end;
        s = fs, e = fe, diff = fe - fs;
        break;
    }
    case GD_FLOAT64:
        s = start, e = end, diff = end - start;
        break;
    case GD_INT64: {
        int64_t is = gd_f2i64(start), ie = gd_f2i64(end);
        s = (double)is, e = (double)ie;
        diff = (double)(int64_t)((uint64_t)ie - (uint64_t)is);
        break;
    }
    case GD_INT32: {
        int32_t is = gd_f2i32(start), ie = gd_f2i32(end);
        s = is, e = ie, diff = (int32_t)((uint32_t)ie - (uint32_t)is);
        break;
    }
    case GD_UINT8: {
        int is = (uint8_t)gd_f2i64(start), ie = (uint8_t)gd_f2i64(end);
        s = is, e = ie, diff = ie - is;
        break;
    }
    default:
        return; /* torch has no bool logspace; the binding raises first */
    }
    double step = n == 1 ? 0.0 : diff / (double)(n - 1);
    for (int64_t i = 0; i < n; i++) {
        double v = n == 1     ? pow(base, start)
                   : i < half ? pow(base, s + step * (double)i)
                              : pow(base, e - step * (double)(n - i - 1));
        switch (dtype) {
        case GD_FLOAT32:
            ((float *)out)[i] = (float)v;
            break;
        case GD_FLOAT64:
            ((double *)out)[i] = v;
            break;
        case GD_INT64:
            ((int64_t *)out)[i] = gd_f2i64(v);
            break;
        case GD_INT32:
            ((int32_t *)out)[i] = gd_f2i32(v);
            break;
        default:
            ((uint8_t *)out)[i] = (uint8_t)gd_f2i64(v);
            break;
        }
    }
}
