/* Optimizer steps: one call updates a whole parameter group in place, in
 * PyTorch's single-tensor order of floating-point operations (the element
 * loops are in optim_loops.h, the scalar bookkeeping here, in double as
 * torch.optim computes it in Python floats). */
#include "internal.h"

#include <string.h>

/* ATen's CPU kernels fuse a + alpha * b with FMA instructions; fma() is the
 * same operation, inlined as one instruction in the clone for CPUs that have
 * it (and a libm call elsewhere, with equal results). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                 \
    defined(__linux__)
#define GD_OPTIM_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GD_OPTIM_LOOP
#endif

#define MAX_OPERANDS 5

/* What each loop reads besides the element data: the group's options and
 * the per-parameter numbers torch computes from the step count. */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize, fresh;
} sgd_ctx;

typedef struct {
    double clr, weight_decay, eps;
    bool maximize;
} adagrad_ctx;

typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} rmsprop_ctx;

typedef struct {
    double beta1, beta2, eps, weight_decay, decay, step_size, bias_correction2_sqrt;
    bool amsgrad, maximize, decoupled;
} adam_ctx;

typedef struct {
    double lr, rho, eps, weight_decay;
    bool maximize;
} adadelta_ctx;

typedef struct {
    double beta1, beta2, eps, weight_decay, decay, bias_correction2, grad_coef,
        avg_coef;
    bool maximize, decoupled;
} nadam_ctx;

typedef struct {
    double beta1, beta2, eps, weight_decay, clr;
    bool maximize;
} adamax_ctx;

/* Adam's common case (no amsgrad, maximize or weight decay) over unit-stride
 * runs in AVX2 vectors where the CPU has them: the same IEEE operations per
 * element as adam_one, 8 floats or 4 doubles at a time. (The compiler will
 * not vectorise the plain loop: sqrt's errno path is a branch.) Returns how
 * many leading elements it did. */
static int64_t adam_fast_f32(float *p, const float *g, float *ea, float *eas, int64_t n,
                             const adam_ctx *c);
static int64_t adam_fast_f64(double *p, const double *g, double *ea, double *eas,
                             int64_t n, const adam_ctx *c);

#define T float
#define SFX f32
#define FMA fmaf
#define SQRT sqrtf
#define MKL_SQRT gd_mkl_sqrt_f32
#define ABS fabsf
#include "optim_loops.h"
#undef T
#undef SFX
#undef FMA
#undef SQRT
#undef MKL_SQRT
#undef ABS

#define T double
#define SFX f64
#define FMA fma
#define SQRT sqrt
#define MKL_SQRT gd_mkl_sqrt_f64
#define ABS fabs
#include "optim_loops.h"
#undef T
#undef SFX
#undef FMA
#undef SQRT
#undef MKL_SQRT
#undef ABS

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define ADAM_FAST(name, T, V, W, set1, load, store, add, sub, mul, div, fmadd, sqrt)   \
    __attribute__((target("avx2,fma"))) static int64_t name##_avx2(                    \
        T *p, const T *g, T *ea, T *eas, int64_t n, const adam_ctx *c) {               \
        const bool small = fabs((T)(1 - c->beta1)) < 0.5;                              \
        const T w1 = (T)(1 - c->beta1);                                                \
        const V coef = set1(small ? w1 : w1 - (T)1), w2 = set1((T)(1 - c->beta2));     \
        const V b2 = set1((T)c->beta2), bc2 = set1((T)c->bias_correction2_sqrt);       \
        const V eps = set1((T)c->eps), ss = set1((T) - c->step_size);                  \
        int64_t i = 0;                                                                 \
        for (; i + W <= n; i += W) {                                                   \
            V gv = load(g + i), mv = load(ea + i);                                     \
            mv = fmadd(coef, sub(gv, mv), small ? mv : gv);                            \
            store(ea + i, mv);                                                         \
            V vv = fmadd(mul(w2, gv), gv, mul(load(eas + i), b2));                     \
            store(eas + i, vv);                                                        \
            V denom = add(div(sqrt(vv), bc2), eps);                                    \
            store(p + i, add(load(p + i), div(mul(ss, mv), denom)));                   \
        }                                                                              \
        return i;                                                                      \
    }                                                                                  \
    static int64_t name(T *p, const T *g, T *ea, T *eas, int64_t n,                    \
                        const adam_ctx *c) {                                           \
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))         \
            return 0;                                                                  \
        return name##_avx2(p, g, ea, eas, n, c);                                       \
    }

ADAM_FAST(adam_fast_f32, float, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps,
          _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps,
          _mm256_fmadd_ps, _mm256_sqrt_ps)
ADAM_FAST(adam_fast_f64, double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd,
          _mm256_storeu_pd, _mm256_add_pd, _mm256_sub_pd, _mm256_mul_pd, _mm256_div_pd,
          _mm256_fmadd_pd, _mm256_sqrt_pd)
#else
static int64_t adam_fast_f32(float *p, const float *g, float *ea, float *eas, int64_t n,
                             const adam_ctx *c) {
    (void)p, (void)g, (void)ea, (void)eas, (void)n, (void)c;
    return 0;
}
static int64_t adam_fast_f64(double *p, const double *g, double *ea, double *eas,
                             int64_t n, const adam_ctx *c) {
    (void)p, (void)g, (void)ea, (void)eas, (void)n, (void)c;
    return 0;
}
#endif

/* ---- checks ------------------------------------------------------------- */

static gd_status check_like(const char *algo, const char *what, int i,
                            const gd_tensor *param, const gd_tensor *t) {
    char a[64], b[64];
    GD_CHECK(t, GD_ERR_VALUE, "%s: parameter %d has no %s", algo, i, what);
    GD_CHECK(t->dtype == param->dtype, GD_ERR_RUNTIME,
             "%s: %s of parameter %d has dtype %s but the parameter has %s", algo, what,
             i, gd_dtype_name(t->dtype), gd_dtype_name(param->dtype));
    GD_CHECK(t->ndim == param->ndim &&
                 !memcmp(t->shape, param->shape, sizeof(int64_t) * (size_t)t->ndim),
             GD_ERR_RUNTIME, "%s: %s of parameter %d has shape %s but the parameter %s",
             algo, what, i, gd_format_shape(a, sizeof a, t->ndim, t->shape),
             gd_format_shape(b, sizeof b, param->ndim, param->shape));
    return GD_OK;
}

static gd_status check_counter(const char *algo, const char *what, int i,
                               const gd_tensor *t) {
    GD_CHECK(t, GD_ERR_VALUE, "%s: parameter %d has no %s", algo, i, what);
    GD_CHECK(t->numel == 1, GD_ERR_RUNTIME,
             "%s: %s of parameter %d must have one element, not %lld", algo, what, i,
             (long long)t->numel);
    return GD_OK;
}

/* Every parameter, gradient and state tensor of the group, checked before
 * anything is written. `states[k]` is used
 * when bit k of `used` is set (then it must be given), else set to NULL. */
static gd_status check_group(const char *algo, int n, gd_tensor *const *params,
                             gd_tensor *const *grads, int nstates,
                             gd_tensor *const **states, unsigned used,
                             const char *const *names, bool counted,
                             gd_tensor *const *steps) {
    gd_status st;
    GD_CHECK(n >= 0 && (n == 0 || (params && grads)), GD_ERR_VALUE, "%s: no parameters",
             algo);
    for (int k = 0; k < nstates; k++) {
        if (!(used & (1u << k)))
            states[k] = NULL;
        else
            GD_CHECK(states[k] || n == 0, GD_ERR_VALUE, "%s: no %s given", algo,
                     names[k]);
    }
    GD_CHECK(!counted || steps || n == 0, GD_ERR_VALUE, "%s: no step counters given",
             algo);
    for (int i = 0; i < n; i++) {
        const gd_tensor *p = params[i];
        GD_CHECK(p, GD_ERR_VALUE, "%s: parameter %d is missing", algo, i);
        GD_CHECK(p->dtype == GD_FLOAT32 || p->dtype == GD_FLOAT64, GD_ERR_RUNTIME,
                 "%s: parameters must be float32 or float64, but parameter %d is %s",
                 algo, i, gd_dtype_name(p->dtype));
        if ((st = gd_check_writable(p)) ||
            (st = check_like(algo, "grad", i, p, grads[i])))
            return st;
        for (int k = 0; k < nstates; k++)
            if (states[k] && ((st = check_like(algo, names[k], i, p, states[k][i])) ||
                              (st = gd_check_writable(states[k][i]))))
                return st;
        if (counted && (st = check_counter(algo, "step", i, steps[i])))
            return st;
    }
    return GD_OK;
}

/* ---- running the loops -------------------------------------------------- */

/* Runs `loop` over the elements of ops[0] (a parameter) and the operands of
 * the same shape, in row-major order, each with its own strides. A long run
 * lets other threads go (gd_loop_begin) with everything it reads copied
 * first and the storages held, so a concurrent `.data =` on one of the
 * tensors cannot move memory under the loop. */
static void run(gd_loop_fn loop, int nops, gd_tensor *const *ops, void *ctx) {
    const gd_tensor *p = ops[0];
    const int64_t elsize = (int64_t)gd_dtype_size(p->dtype), numel = p->numel;
    const int nd = p->ndim;
    char *data[MAX_OPERANDS], *ptr[MAX_OPERANDS];
    int64_t st[MAX_OPERANDS], shape[GD_MAX_DIMS], strides[MAX_OPERANDS][GD_MAX_DIMS];
    gd_storage *held[MAX_OPERANDS];
    bool contiguous = true;
    if (numel == 0)
        return;
    memcpy(shape, p->shape, sizeof(int64_t) * (size_t)nd);
    for (int k = 0; k < nops; k++) {
        data[k] = gd_data_ptr(ops[k]);
        memcpy(strides[k], ops[k]->strides, sizeof(int64_t) * (size_t)nd);
        contiguous = contiguous && gd_is_contiguous(ops[k]);
        held[k] = ops[k]->storage;
        gd_storage_incref(held[k]);
    }
    void *lock = gd_loop_begin(numel);
    if (contiguous || nd == 0) {
        for (int k = 0; k < nops; k++)
            st[k] = elsize;
        /* elements are independent: ATen's chunks on the worker pool, as
         * torch's foreach-free step runs each op across its threads */
        if (numel < GD_GRAIN)
            loop(data, st, numel, ctx);
        else
            gd_loop_split(loop, nops, data, st, numel, ctx, GD_GRAIN);
    } else {
        /* The last dim is the inner loop; an odometer walks the others. */
        const int64_t inner = shape[nd - 1], outer = numel / inner;
        int64_t idx[GD_MAX_DIMS] = {0};
        for (int k = 0; k < nops; k++)
            st[k] = strides[k][nd - 1] * elsize;
        for (int64_t o = 0; o < outer; o++) {
            for (int k = 0; k < nops; k++) {
                int64_t off = 0;
                for (int dim = 0; dim < nd - 1; dim++)
                    off += idx[dim] * strides[k][dim];
                ptr[k] = data[k] + off * elsize;
            }
            loop(ptr, st, inner, ctx);
            for (int dim = nd - 2; dim >= 0; dim--) {
                if (++idx[dim] < shape[dim])
                    break;
                idx[dim] = 0;
            }
        }
    }
    gd_loop_end(lock);
    for (int k = 0; k < nops; k++)
        gd_storage_decref(held[k]);
}

/* step_t += 1 in the counter's dtype; returns step_t.item(). */
static double advance(gd_tensor *t) {
    char *p = gd_data_ptr(t);
    switch (t->dtype) {
    case GD_FLOAT32:
        return *(float *)p += 1.0f;
    case GD_FLOAT64:
        return *(double *)p += 1.0;
    default: {
        int64_t v = gd_load_int64(t->dtype, p) + 1;
        gd_store_int64(t->dtype, p, v);
        return gd_load_double(t->dtype, p);
    }
    }
}

static void bump(int n, gd_tensor *const *ts) {
    for (int i = 0; ts && i < n; i++)
        gd_bump_version(ts[i]);
}

/* The operands of parameter i: param, grad, then each state (the param
 * itself stands in for an unused one: the loop never touches it). */
static void operands(int i, gd_tensor *const *params, gd_tensor *const *grads,
                     int nstates, gd_tensor *const **states, gd_tensor **ops) {
    ops[0] = params[i];
    ops[1] = grads[i];
    for (int k = 0; k < nstates; k++)
        ops[2 + k] = states[k] ? states[k][i] : params[i];
}

#define LOOP_FOR(name, t) ((t)->dtype == GD_FLOAT32 ? name##_f32 : name##_f64)

/* ---- the algorithms ----------------------------------------------------- */

gd_status gd_sgd_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                      gd_tensor *const *momentum_buffers, const bool *fresh,
                      const gd_sgd_options *o) {
    static const char *const names[] = {"momentum_buffer"};
    gd_tensor *const *states[1] = {momentum_buffers};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st = check_group("sgd", n, params, grads, 1, states, o->momentum != 0,
                               names, false, NULL);
    if (st)
        return st;
    sgd_ctx c = {o->lr,       o->momentum, o->dampening, o->weight_decay,
                 o->nesterov, o->maximize, false};
    for (int i = 0; i < n; i++) {
        c.fresh = fresh && fresh[i];
        operands(i, params, grads, 1, states, ops);
        run(LOOP_FOR(sgd_loop, params[i]), 3, ops, &c);
    }
    bump(n, params);
    bump(n, states[0]);
    return GD_OK;
}

gd_status gd_adagrad_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                          gd_tensor *const *sums, gd_tensor *const *steps,
                          const gd_adagrad_options *o) {
    static const char *const names[] = {"sum"};
    gd_tensor *const *states[1] = {sums};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group("adagrad", n, params, grads, 1, states, 1, names, true, steps);
    if (st)
        return st;
    adagrad_ctx c = {0, o->weight_decay, o->eps, o->maximize};
    for (int i = 0; i < n; i++) {
        double step = advance(steps[i]);
        c.clr = o->lr / (1 + (step - 1) * o->lr_decay);
        operands(i, params, grads, 1, states, ops);
        run(LOOP_FOR(adagrad_loop, params[i]), 3, ops, &c);
    }
    bump(n, params);
    bump(n, sums);
    bump(n, steps);
    return GD_OK;
}

gd_status gd_rmsprop_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                          gd_tensor *const *square_avgs,
                          gd_tensor *const *momentum_buffers,
                          gd_tensor *const *grad_avgs, gd_tensor *const *steps,
                          const gd_rmsprop_options *o) {
    static const char *const names[] = {"square_avg", "momentum_buffer", "grad_avg"};
    gd_tensor *const *states[3] = {square_avgs, momentum_buffers, grad_avgs};
    unsigned used = 1u | (o->momentum > 0 ? 2u : 0u) | (o->centered ? 4u : 0u);
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group("rmsprop", n, params, grads, 3, states, used, names, true, steps);
    if (st)
        return st;
    rmsprop_ctx c = {o->lr,       o->alpha,    o->eps,     o->weight_decay,
                     o->momentum, o->centered, o->maximize};
    for (int i = 0; i < n; i++) {
        advance(steps[i]);
        operands(i, params, grads, 3, states, ops);
        run(LOOP_FOR(rmsprop_loop, params[i]), 5, ops, &c);
    }
    bump(n, params);
    for (int k = 0; k < 3; k++)
        bump(n, states[k]);
    bump(n, steps);
    return GD_OK;
}

/* Small Adam parameters with MKL's roots: the roots of many parameters in
 * one MKL call (a call costs about as much as a few hundred roots). Each
 * parameter keeps its own step's constants; the results are those of one
 * parameter at a time, since the roots are taken element by element. */
#define BATCH_ROOTS 1024
#define BATCH_PARAMS 64
typedef struct {
    int n;        /* parameters held */
    int64_t used; /* roots held */
    gd_dtype dtype;
    gd_tensor *ops[BATCH_PARAMS][4];
    adam_ctx ctx[BATCH_PARAMS];
    int64_t off[BATCH_PARAMS];
    union {
        float f32[BATCH_ROOTS];
        double f64[BATCH_ROOTS];
    } arg, root;
} small_batch;

GD_OPTIM_LOOP static void adam_batch_flush(small_batch *b) {
    if (b->n == 0)
        return;
    bool f32 = b->dtype == GD_FLOAT32;
    if (f32)
        roots_f32(b->root.f32, b->arg.f32, b->used);
    else
        roots_f64(b->root.f64, b->arg.f64, b->used);
    for (int i = 0; i < b->n; i++) {
        gd_tensor **o = b->ops[i];
        int64_t len = o[0]->numel;
        if (f32)
            adam_applies_f32((float *)gd_data_ptr(o[0]),
                             (const float *)gd_data_ptr(o[2]), len, &b->ctx[i],
                             b->root.f32 + b->off[i]);
        else
            adam_applies_f64((double *)gd_data_ptr(o[0]),
                             (const double *)gd_data_ptr(o[2]), len, &b->ctx[i],
                             b->root.f64 + b->off[i]);
    }
    b->n = 0;
    b->used = 0;
}

/* Takes parameter `ops` (param, grad, exp_avg, exp_avg_sq) into the batch
 * if it is small, contiguous and of one dtype with the rest: its state step
 * now, its update at the flush. */
GD_OPTIM_LOOP static bool adam_batch_add(small_batch *b, gd_tensor **ops,
                                         const adam_ctx *c) {
    int64_t len = ops[0]->numel;
    if (len > BATCH_ROOTS / 4)
        return false;
    for (int k = 0; k < 4; k++)
        if (ops[k]->dtype != ops[0]->dtype || !gd_is_contiguous(ops[k]) ||
            ops[k]->numel != len)
            return false;
    if (b->n == BATCH_PARAMS || b->used + len > BATCH_ROOTS ||
        (b->n && b->dtype != ops[0]->dtype))
        adam_batch_flush(b);
    int i = b->n++;
    b->dtype = ops[0]->dtype;
    memcpy(b->ops[i], ops, sizeof b->ops[i]);
    b->ctx[i] = *c;
    b->off[i] = b->used;
    if (b->dtype == GD_FLOAT32)
        adam_states_f32((float *)gd_data_ptr(ops[0]),
                        (const float *)gd_data_ptr(ops[1]),
                        (float *)gd_data_ptr(ops[2]), (float *)gd_data_ptr(ops[3]), len,
                        c, b->arg.f32 + b->used);
    else
        adam_states_f64((double *)gd_data_ptr(ops[0]),
                        (const double *)gd_data_ptr(ops[1]),
                        (double *)gd_data_ptr(ops[2]), (double *)gd_data_ptr(ops[3]),
                        len, c, b->arg.f64 + b->used);
    b->used += len;
    return true;
}

gd_status gd_adam_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                       gd_tensor *const *exp_avgs, gd_tensor *const *exp_avg_sqs,
                       gd_tensor *const *max_exp_avg_sqs, gd_tensor *const *steps,
                       const gd_adam_options *o) {
    static const char *const names[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    gd_tensor *const *states[3] = {exp_avgs, exp_avg_sqs, max_exp_avg_sqs};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group(o->decoupled_weight_decay ? "adamw" : "adam", n, params, grads, 3,
                    states, o->amsgrad ? 7u : 3u, names, true, steps);
    if (st)
        return st;
    adam_ctx c = {
        o->beta1, o->beta2, o->eps,     o->weight_decay, 1 - o->lr * o->weight_decay,
        0,        0,        o->amsgrad, o->maximize,     o->decoupled_weight_decay};
    small_batch batch = {.n = 0};
    bool batching = gd_mkl() && !o->amsgrad && !o->maximize && o->weight_decay == 0;
    for (int i = 0; i < n; i++) {
        double step = advance(steps[i]);
        double bias_correction1 = 1 - pow(o->beta1, step);
        double bias_correction2 = 1 - pow(o->beta2, step);
        c.step_size = o->lr / bias_correction1;
        c.bias_correction2_sqrt = pow(bias_correction2, 0.5);
        operands(i, params, grads, 3, states, ops);
        if (batching && adam_batch_add(&batch, ops, &c))
            continue;
        run(LOOP_FOR(adam_loop, params[i]), 5, ops, &c);
    }
    adam_batch_flush(&batch);
    bump(n, params);
    for (int k = 0; k < 3; k++)
        bump(n, states[k]);
    bump(n, steps);
    return GD_OK;
}

gd_status gd_adadelta_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                           gd_tensor *const *square_avgs, gd_tensor *const *acc_deltas,
                           gd_tensor *const *steps, const gd_adadelta_options *o) {
    static const char *const names[] = {"square_avg", "acc_delta"};
    gd_tensor *const *states[2] = {square_avgs, acc_deltas};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group("adadelta", n, params, grads, 2, states, 3, names, true, steps);
    if (st)
        return st;
    adadelta_ctx c = {o->lr, o->rho, o->eps, o->weight_decay, o->maximize};
    for (int i = 0; i < n; i++) {
        advance(steps[i]);
        operands(i, params, grads, 2, states, ops);
        run(LOOP_FOR(adadelta_loop, params[i]), 4, ops, &c);
    }
    bump(n, params);
    bump(n, square_avgs);
    bump(n, acc_deltas);
    bump(n, steps);
    return GD_OK;
}

/* mu_product *= mu, in the counter's dtype (a tensor times a Python float);
 * returns mu_product.item(). */
static double scale_counter(gd_tensor *t, double mu) {
    char *p = gd_data_ptr(t);
    switch (t->dtype) {
    case GD_FLOAT32:
        return *(float *)p *= (float)mu;
    case GD_FLOAT64:
        return *(double *)p *= mu;
    default: {
        double v = gd_load_double(t->dtype, p) * mu;
        gd_store_double(t->dtype, p, v);
        return gd_load_double(t->dtype, p);
    }
    }
}

gd_status gd_nadam_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                        gd_tensor *const *exp_avgs, gd_tensor *const *exp_avg_sqs,
                        gd_tensor *const *mu_products, gd_tensor *const *steps,
                        const gd_nadam_options *o) {
    static const char *const names[] = {"exp_avg", "exp_avg_sq"};
    gd_tensor *const *states[2] = {exp_avgs, exp_avg_sqs};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group("nadam", n, params, grads, 2, states, 3, names, true, steps);
    if (st)
        return st;
    for (int i = 0; i < n; i++)
        if ((st = check_counter("nadam", "mu_product", i, mu_products[i])))
            return st;
    nadam_ctx c = {
        o->beta1, o->beta2, o->eps, o->weight_decay, 1 - o->lr * o->weight_decay,
        0,        0,        0,      o->maximize,     o->decoupled_weight_decay};
    for (int i = 0; i < n; i++) {
        double step = advance(steps[i]);
        c.bias_correction2 = 1 - pow(o->beta2, step);
        double mu = o->beta1 * (1.0 - 0.5 * pow(0.96, step * o->momentum_decay));
        double mu_next =
            o->beta1 * (1.0 - 0.5 * pow(0.96, (step + 1) * o->momentum_decay));
        double mu_product = scale_counter(mu_products[i], mu);
        double mu_product_next = mu_product * mu_next;
        c.grad_coef = -o->lr * (1.0 - mu) / (1.0 - mu_product);
        c.avg_coef = (-o->lr * mu_next) / (1.0 - mu_product_next);
        operands(i, params, grads, 2, states, ops);
        run(LOOP_FOR(nadam_loop, params[i]), 4, ops, &c);
    }
    bump(n, params);
    bump(n, exp_avgs);
    bump(n, exp_avg_sqs);
    bump(n, mu_products);
    bump(n, steps);
    return GD_OK;
}

gd_status gd_adamax_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                         gd_tensor *const *exp_avgs, gd_tensor *const *exp_infs,
                         gd_tensor *const *steps, const gd_adamax_options *o) {
    static const char *const names[] = {"exp_avg", "exp_inf"};
    gd_tensor *const *states[2] = {exp_avgs, exp_infs};
    gd_tensor *ops[MAX_OPERANDS];
    gd_status st =
        check_group("adamax", n, params, grads, 2, states, 3, names, true, steps);
    if (st)
        return st;
    adamax_ctx c = {o->beta1, o->beta2, o->eps, o->weight_decay, 0, o->maximize};
    for (int i = 0; i < n; i++) {
        double step = advance(steps[i]);
        c.clr = o->lr / (1 - pow(o->beta1, step));
        operands(i, params, grads, 2, states, ops);
        run(LOOP_FOR(adamax_loop, params[i]), 4, ops, &c);
    }
    bump(n, params);
    bump(n, exp_avgs);
    bump(n, exp_infs);
    bump(n, steps);
    return GD_OK;
}
