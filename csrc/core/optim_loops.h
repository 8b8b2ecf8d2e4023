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
    /* Written as selects (w is the same for every element): no branch in
     * the loop, so it vectorises. */
    const bool small = ABS(w) < (T)0.5;
    return FMA(small ? w : w - (T)1, end - self, small ? self : end);
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

/* Operand k, element i. A run where every operand has unit stride indexes
 * typed pointers in a loop of its own, which the compiler vectorises (ivdep:
 * the operands are distinct tensors); other runs step by byte strides. */
#define AT(k, i) (unit ? (T *)d[k] + (i) : (T *)(d[k] + (i) * st[k]))
#define RUNS(nops, ...)                                                                \
    if (FN(unit)(nops, st)) {                                                          \
        const bool unit = true;                                                        \
        _Pragma("GCC ivdep") for (int64_t i = 0; i < n; i++) __VA_ARGS__               \
    } else {                                                                           \
        const bool unit = false;                                                       \
        for (int64_t i = 0; i < n; i++)                                                \
            __VA_ARGS__                                                                \
    }

/* The square roots of a block: MKL's where it is loaded (PyTorch's sqrt is
 * MKL's vector sqrt, not correctly rounded), else the correctly rounded one. */
static void FN(roots)(T *r, const T *x, int64_t n) {
    if (gd_mkl()) {
        MKL_SQRT(r, x, n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        r[i] = SQRT(x[i]);
}

/* A loop with square roots, in blocks: the state step (after BLOCKS_BEGIN) updates
 * element i's state and leaves the arguments of its roots in arg[r][j]; the block's
 * roots are taken together (MKL's sqrt is a vector routine); the apply step
 * (after BLOCKS_ROOTS) finishes element i with root[r][j]. */
#define ROOT_BLOCK 128
#define BLOCKS_BEGIN(nops)                                                             \
    {                                                                                  \
        const bool unit = FN(unit)(nops, st);                                          \
        T arg[2][ROOT_BLOCK], root[2][ROOT_BLOCK];                                     \
        for (int64_t blk = 0; blk < n; blk += ROOT_BLOCK) {                            \
            int64_t len = n - blk < ROOT_BLOCK ? n - blk : ROOT_BLOCK;                 \
            for (int64_t j = 0, i = blk; j < len; j++, i++) {
#define BLOCKS_ROOTS(nroots)                                                           \
    }                                                                                  \
    for (int r = 0; r < (nroots); r++)                                                 \
        FN(roots)(root[r], arg[r], len);                                               \
    for (int64_t j = 0, i = blk; j < len; j++, i++) {
#define BLOCKS_END                                                                     \
    }                                                                                  \
    }                                                                                  \
    }

static bool FN(unit)(int nops, const int64_t *st) {
    for (int k = 0; k < nops; k++)
        if (st[k] != (int64_t)sizeof(T))
            return false;
    return true;
}

/* One SGD element (flags as in adam_one). */
static inline void FN(sgd_one)(T *p, const T *gp, T *buf, const sgd_ctx *c,
                               bool momentum, bool fresh) {
    T g = FN(grad)(*gp, *p, c->maximize, c->weight_decay);
    if (momentum) {
        T b = fresh ? g : FMA(g, (T)(1 - c->dampening), *buf * (T)c->momentum);
        *buf = b;
        g = c->nesterov ? FMA(b, (T)c->momentum, g) : b;
    }
    *p = FMA(g, (T)-c->lr, *p);
}

/* Operands: param, grad, momentum_buffer. */
GD_OPTIM_LOOP static void FN(sgd_loop)(char **d, const int64_t *st, int64_t n,
                                       void *ctx) {
    const sgd_ctx c = *(const sgd_ctx *)ctx;
    const bool momentum = c.momentum != 0;
    if (FN(unit)(3, st) && !c.fresh) {
        T *p = (T *)d[0], *g = (T *)d[1], *b = (T *)d[2];
        if (momentum) {
#pragma GCC ivdep
            for (int64_t i = 0; i < n; i++)
                FN(sgd_one)(p + i, g + i, b + i, &c, true, false);
        } else {
#pragma GCC ivdep
            for (int64_t i = 0; i < n; i++)
                FN(sgd_one)(p + i, g + i, b + i, &c, false, false);
        }
        return;
    }
    RUNS(3, { FN(sgd_one)(AT(0, i), AT(1, i), AT(2, i), &c, momentum, c.fresh); })
}

/* Operands: param, grad, sum. */
GD_OPTIM_LOOP static void FN(adagrad_loop)(char **d, const int64_t *st, int64_t n,
                                           void *ctx) {
    const adagrad_ctx c = *(const adagrad_ctx *)ctx;
    BLOCKS_BEGIN(3)
    T *p = AT(0, i), *sum = AT(2, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T s = FMA(g, g, *sum);
    *sum = s;
    arg[0][j] = s;
    BLOCKS_ROOTS(1)
    T *p = AT(0, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T std = root[0][j] + (T)c.eps;
    *p = *p + (T)-c.clr * g / std;
    BLOCKS_END
}

/* Operands: param, grad, square_avg, momentum_buffer, grad_avg. */
GD_OPTIM_LOOP static void FN(rmsprop_loop)(char **d, const int64_t *st, int64_t n,
                                           void *ctx) {
    const rmsprop_ctx c = *(const rmsprop_ctx *)ctx;
    const T w = (T)(1 - c.alpha);
    BLOCKS_BEGIN(5)
    T *p = AT(0, i), *sq = AT(2, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T s = FMA(w * g, g, *sq * (T)c.alpha);
    *sq = s;
    if (c.centered) {
        T *ga = AT(4, i);
        T a = FN(lerp)(*ga, g, w);
        *ga = a;
        s = FMA(-a, a, s);
    }
    arg[0][j] = s;
    BLOCKS_ROOTS(1)
    T *p = AT(0, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T avg = root[0][j] + (T)c.eps;
    if (c.momentum > 0) {
        T *buf = AT(3, i);
        T b = *buf * (T)c.momentum + g / avg;
        *buf = b;
        *p = FMA(b, (T)-c.lr, *p);
    } else {
        *p = *p + (T)-c.lr * g / avg;
    }
    BLOCKS_END
}

/* One Adam element; the flags are constants in the common case's loop, so
 * that loop has no branches and vectorises. */
static inline T FN(adam_state)(T *p, const T *gp, T *ea, T *eas, T *mx,
                               const adam_ctx *c, bool maximize, bool amsgrad,
                               bool decay) {
    const T w1 = (T)(1 - c->beta1), w2 = (T)(1 - c->beta2);
    T g = *gp;
    if (maximize)
        g = -g;
    if (decay) {
        if (c->decoupled)
            *p = *p * (T)c->decay;
        else
            g = FMA(*p, (T)c->weight_decay, g);
    }
    T m = FN(lerp)(*ea, g, w1);
    *ea = m;
    T v = FMA(w2 * g, g, *eas * (T)c->beta2);
    *eas = v;
    if (amsgrad) {
        v = FN(maximum)(*mx, v);
        *mx = v;
    }
    return v; /* the argument of the root */
}

static inline void FN(adam_apply)(T *p, const T *ea, const adam_ctx *c, T root) {
    T denom = root / (T)c->bias_correction2_sqrt + (T)c->eps;
    *p = *p + (T)-c->step_size * *ea / denom;
}

static inline void FN(adam_one)(T *p, const T *gp, T *ea, T *eas, T *mx,
                                const adam_ctx *c, bool maximize, bool amsgrad,
                                bool decay) {
    T v = FN(adam_state)(p, gp, ea, eas, mx, c, maximize, amsgrad, decay);
    FN(adam_apply)(p, ea, c, SQRT(v));
}

/* The common Adam case (contiguous; no maximize, amsgrad or weight decay)
 * in two halves around the roots: the arguments of n roots into arg, then
 * the update from them. Between the two, one MKL call can take the roots of
 * many small parameters (optim.c). */
static inline void FN(adam_states)(T *p, const T *g, T *ea, T *eas, int64_t n,
                                   const adam_ctx *c, T *arg) {
#pragma GCC ivdep
    for (int64_t j = 0; j < n; j++)
        arg[j] =
            FN(adam_state)(p + j, g + j, ea + j, eas + j, NULL, c, false, false, false);
}

static inline void FN(adam_applies)(T *p, const T *ea, int64_t n, const adam_ctx *c,
                                    const T *root) {
#pragma GCC ivdep
    for (int64_t j = 0; j < n; j++)
        FN(adam_apply)(p + j, ea + j, c, root[j]);
}

/* Operands: param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq. */
GD_OPTIM_LOOP static void FN(adam_loop)(char **d, const int64_t *st, int64_t n,
                                        void *ctx) {
    const adam_ctx c = *(const adam_ctx *)ctx;
    const bool decay = c.weight_decay != 0;
    if (FN(unit)(5, st) && !c.maximize && !c.amsgrad && !decay) {
        T *p = (T *)d[0], *g = (T *)d[1], *ea = (T *)d[2], *eas = (T *)d[3];
        if (!gd_mkl()) {
            for (int64_t i = OPT_CAT(adam_fast, SFX)(p, g, ea, eas, n, &c); i < n; i++)
                FN(adam_one)(p + i, g + i, ea + i, eas + i, NULL, &c, false, false,
                             false);
            return;
        }
        /* the common case with MKL's roots: branch-free blocks that vectorise */
        T arg[ROOT_BLOCK], root[ROOT_BLOCK];
        for (int64_t blk = 0; blk < n; blk += ROOT_BLOCK) {
            int64_t len = n - blk < ROOT_BLOCK ? n - blk : ROOT_BLOCK;
            FN(adam_states)(p + blk, g + blk, ea + blk, eas + blk, len, &c, arg);
            FN(roots)(root, arg, len);
            FN(adam_applies)(p + blk, ea + blk, len, &c, root);
        }
        return;
    }
    BLOCKS_BEGIN(5)
    arg[0][j] = FN(adam_state)(AT(0, i), AT(1, i), AT(2, i), AT(3, i), AT(4, i), &c,
                               c.maximize, c.amsgrad, decay);
    BLOCKS_ROOTS(1)
    FN(adam_apply)(AT(0, i), AT(2, i), &c, root[0][j]);
    BLOCKS_END
}

/* Operands: param, grad, square_avg, acc_delta. */
GD_OPTIM_LOOP static void FN(adadelta_loop)(char **d, const int64_t *st, int64_t n,
                                            void *ctx) {
    const adadelta_ctx c = *(const adadelta_ctx *)ctx;
    const T w = (T)(1 - c.rho);
    BLOCKS_BEGIN(4)
    T *p = AT(0, i), *sq = AT(2, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T s = FMA(w * g, g, *sq * (T)c.rho);
    *sq = s;
    arg[0][j] = s + (T)c.eps;
    arg[1][j] = *AT(3, i) + (T)c.eps;
    BLOCKS_ROOTS(2)
    T *p = AT(0, i), *acc = AT(3, i);
    T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
    T delta = root[1][j] / root[0][j] * g;
    *acc = FMA(w * delta, delta, *acc * (T)c.rho);
    *p = FMA(delta, (T)-c.lr, *p);
    BLOCKS_END
}

/* Operands: param, grad, exp_avg, exp_avg_sq. */
GD_OPTIM_LOOP static void FN(nadam_loop)(char **d, const int64_t *st, int64_t n,
                                         void *ctx) {
    const nadam_ctx c = *(const nadam_ctx *)ctx;
    const T w1 = (T)(1 - c.beta1), w2 = (T)(1 - c.beta2);
    /* grad, negated for maximize, plus weight_decay * param unless decoupled */
#define NADAM_GRAD(p)                                                                  \
    (c.weight_decay != 0 && !c.decoupled                                               \
         ? FMA(*(p), (T)c.weight_decay, c.maximize ? -*AT(1, i) : *AT(1, i))           \
         : (c.maximize ? -*AT(1, i) : *AT(1, i)))
    BLOCKS_BEGIN(4)
    T *p = AT(0, i), *ea = AT(2, i), *eas = AT(3, i);
    T g = NADAM_GRAD(p);
    if (c.weight_decay != 0 && c.decoupled)
        *p = *p * (T)c.decay;
    T m = FN(lerp)(*ea, g, w1);
    *ea = m;
    T v = FMA(w2 * g, g, *eas * (T)c.beta2);
    *eas = v;
    arg[0][j] = v / (T)c.bias_correction2;
    BLOCKS_ROOTS(1)
    T *p = AT(0, i);
    T g = NADAM_GRAD(p);
    T denom = root[0][j] + (T)c.eps;
    T q = *p + (T)c.grad_coef * g / denom;
    *p = q + (T)c.avg_coef * *AT(2, i) / denom;
    BLOCKS_END
#undef NADAM_GRAD
}

/* Operands: param, grad, exp_avg, exp_inf. */
GD_OPTIM_LOOP static void FN(adamax_loop)(char **d, const int64_t *st, int64_t n,
                                          void *ctx) {
    const adamax_ctx c = *(const adamax_ctx *)ctx;
    const T w1 = (T)(1 - c.beta1);
    RUNS(4, {
        T *p = AT(0, i), *ea = AT(2, i), *ei = AT(3, i);
        T g = FN(grad)(*AT(1, i), *p, c.maximize, c.weight_decay);
        T m = FN(lerp)(*ea, g, w1);
        *ea = m;
        T inf = FN(maximum)(*ei * (T)c.beta2, ABS(g) + (T)c.eps);
        *ei = inf;
        *p = *p + (T)-c.clr * m / inf;
    })
}

#undef AT
#undef RUNS
#undef BLOCKS_BEGIN
#undef BLOCKS_ROOTS
#undef BLOCKS_END
#undef ROOT_BLOCK
#undef FN
#undef OPT_CAT
#undef OPT_CAT_
