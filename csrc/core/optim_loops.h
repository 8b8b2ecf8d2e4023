/* The optimizers' element loops for one floating type, included by optim.c
 * once per dtype with T (the element type), SFX (the name suffix), FMA, SQRT
 * and ABS defined.
 *
 * Each update is PyTorch's single-tensor step for one element, in its order
 * of operations and roundings: a hyperparameter is rounded to T where ATen
 * takes it as a scalar of the tensor's dtype, and ATen's CPU kernels fuse
 * `a + alpha * b` (add/sub with alpha, addcmul, lerp) into one FMA, which
 * FMA() reproduces; addcdiv (`a + v * b / c`) and the rest round each step. */

#define OPT_CAT_(a, b) a##_##b
#define OPT_CAT(a, b) OPT_CAT_(a, b)
#define FN(name) OPT_CAT(name, SFX)

/* Tensor.lerp_(end, w): ATen's two forms, split at |w| < 0.5. */
static inline T FN(lerp)(T self, T end, T w) {
    T diff = end - self;
    return ABS(w) < (T)0.5 ? FMA(w, diff, self) : FMA(w - (T)1, diff, end);
}

/* torch.maximum: NaN wins. */
static inline T FN(maximum)(T a, T b) {
    return (a > b || a != a) ? a : b;
}

/* grad, negated for maximize, plus weight_decay * param (grad.add(param,
 * alpha=wd)). */
static inline T FN(grad)(T g, T p, bool maximize, double wd) {
    if (maximize)
        g = -g;
    return wd != 0 ? FMA(p, (T)wd, g) : g;
}

/* Operand k, element i: unit-stride runs index typed pointers (so the
 * compiler can vectorise); others step by byte strides. */
#define AT(k, i) (unit ? (T *)d[k] + (i) : (T *)(d[k] + (i) * st[k]))

static bool FN(unit)(int nops, const int64_t *st) {
    for (int k = 0; k < nops; k++)
        if (st[k] != (int64_t)sizeof(T))
            return false;
    return true;
}

/* Operands: param, grad, momentum_buffer. */
GD_OPTIM_LOOP static void FN(sgd_loop)(char **d, const int64_t *st, int64_t n,
                                       void *ctx) {
    const sgd_ctx c = *(const sgd_ctx *)ctx;
    const bool unit = FN(unit)(3, st);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *buf = AT(2, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        if (c.momentum != 0) {
            T b = c.fresh ? g : FMA(g, (T)(1 - c.dampening), *buf * (T)c.momentum);
            *buf = b;
            g = c.nesterov ? FMA(b, (T)c.momentum, g) : b;
        }
        *p = FMA(g, (T)-c.lr, *p);
    }
}

/* Operands: param, grad, sum. */
GD_OPTIM_LOOP static void FN(adagrad_loop)(char **d, const int64_t *st, int64_t n,
                                           void *ctx) {
    const adagrad_ctx c = *(const adagrad_ctx *)ctx;
    const bool unit = FN(unit)(3, st);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *sum = AT(2, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        T s = FMA(g, g, *sum);
        *sum = s;
        T std = SQRT(s) + (T)c.eps;
        *p = *p + (T)-c.clr * g / std;
    }
}

/* Operands: param, grad, square_avg, momentum_buffer, grad_avg. */
GD_OPTIM_LOOP static void FN(rmsprop_loop)(char **d, const int64_t *st, int64_t n,
                                           void *ctx) {
    const rmsprop_ctx c = *(const rmsprop_ctx *)ctx;
    const bool unit = FN(unit)(5, st);
    const T w = (T)(1 - c.alpha);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *sq = AT(2, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        T s = FMA(w * g, g, *sq * (T)c.alpha);
        *sq = s;
        T avg;
        if (c.centered) {
            T *ga = AT(4, i);
            T a = FN(lerp)(*ga, g, w);
            *ga = a;
            avg = SQRT(FMA(-a, a, s));
        } else {
            avg = SQRT(s);
        }
        avg = avg + (T)c.eps;
        if (c.momentum > 0) {
            T *buf = AT(3, i);
            T b = *buf * (T)c.momentum + g / avg;
            *buf = b;
            *p = FMA(b, (T)-c.lr, *p);
        } else {
            *p = *p + (T)-c.lr * g / avg;
        }
    }
}

/* Operands: param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq. */
GD_OPTIM_LOOP static void FN(adam_loop)(char **d, const int64_t *st, int64_t n,
                                        void *ctx) {
    const adam_ctx c = *(const adam_ctx *)ctx;
    const bool unit = FN(unit)(5, st);
    const T w1 = (T)(1 - c.beta1), w2 = (T)(1 - c.beta2);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *ea = AT(2, i), *eas = AT(3, i);
        T g = *AT(1, i);
        if (c.maximize)
            g = -g;
        if (c.weight_decay != 0) {
            if (c.decoupled)
                *p = *p * (T)c.decay;
            else
                g = FMA(*p, (T)c.weight_decay, g);
        }
        T m = FN(lerp)(*ea, g, w1);
        *ea = m;
        T v = FMA(w2 * g, g, *eas * (T)c.beta2);
        *eas = v;
        if (c.amsgrad) {
            T *mx = AT(4, i);
            v = FN(maximum)(*mx, v);
            *mx = v;
        }
        T denom = SQRT(v) / (T)c.bias_correction2_sqrt + (T)c.eps;
        *p = *p + (T)-c.step_size * m / denom;
    }
}

/* Operands: param, grad, square_avg, acc_delta. */
GD_OPTIM_LOOP static void FN(adadelta_loop)(char **d, const int64_t *st, int64_t n,
                                            void *ctx) {
    const adadelta_ctx c = *(const adadelta_ctx *)ctx;
    const bool unit = FN(unit)(4, st);
    const T w = (T)(1 - c.rho);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *sq = AT(2, i), *acc = AT(3, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        T s = FMA(w * g, g, *sq * (T)c.rho);
        *sq = s;
        T std = SQRT(s + (T)c.eps);
        T delta = SQRT(*acc + (T)c.eps) / std * g;
        *acc = FMA(w * delta, delta, *acc * (T)c.rho);
        *p = FMA(delta, (T)-c.lr, *p);
    }
}

/* Operands: param, grad, exp_avg, exp_avg_sq. */
GD_OPTIM_LOOP static void FN(nadam_loop)(char **d, const int64_t *st, int64_t n,
                                         void *ctx) {
    const nadam_ctx c = *(const nadam_ctx *)ctx;
    const bool unit = FN(unit)(4, st);
    const T w1 = (T)(1 - c.beta1), w2 = (T)(1 - c.beta2);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *ea = AT(2, i), *eas = AT(3, i);
        T g = *AT(1, i);
        if (c.maximize)
            g = -g;
        if (c.weight_decay != 0) {
            if (c.decoupled)
                *p = *p * (T)c.decay;
            else
                g = FMA(*p, (T)c.weight_decay, g);
        }
        T m = FN(lerp)(*ea, g, w1);
        *ea = m;
        T v = FMA(w2 * g, g, *eas * (T)c.beta2);
        *eas = v;
        T denom = SQRT(v / (T)c.bias_correction2) + (T)c.eps;
        T q = *p + (T)c.grad_coef * g / denom;
        *p = q + (T)c.avg_coef * m / denom;
    }
}

/* Operands: param, grad, exp_avg, exp_inf. */
GD_OPTIM_LOOP static void FN(adamax_loop)(char **d, const int64_t *st, int64_t n,
                                          void *ctx) {
    const adamax_ctx c = *(const adamax_ctx *)ctx;
    const bool unit = FN(unit)(4, st);
    const T w1 = (T)(1 - c.beta1);
    for (int64_t i = 0; i < n; i++) {
        T *p = AT(0, i), *ea = AT(2, i), *ei = AT(3, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        T m = FN(lerp)(*ea, g, w1);
        *ea = m;
        T inf = FN(maximum)(*ei * (T)c.beta2, ABS(g) + (T)c.eps);
        *ei = inf;
        *p = *p + (T)-c.clr * m / inf;
    }
}

#undef AT
#undef FN
#undef OPT_CAT
#undef OPT_CAT_
