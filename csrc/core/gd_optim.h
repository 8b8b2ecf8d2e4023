/* The optimizer steps of the core (optim.c), part of its manual: included by
 * gd.h, whose tensors, statuses and ownership rules it uses. */
#ifndef GD_OPTIM_H
#define GD_OPTIM_H

#include "gd.h"

/* ---- optimizers: one step over a parameter group ---------------------- */

/*
 * Each call updates n parameters in place with their gradients and state,
 * in PyTorch's single-tensor (foreach=False) order of floating-point
 * operations, so trajectories match torch.optim's. Parameters are float32 or
 * float64 with any strides; gradients and state tensors have the parameter's
 * shape and dtype (any strides). `steps` are 1-element counters (torch's
 * state['step']) advanced first, `step += 1` in their own dtype. Options are
 * the group's hyperparameters as Python floats. Everything is checked before
 * anything is written. Arrays a disabled option leaves unused (SGD's buffers
 * without momentum, Adam's max_exp_avg_sqs without amsgrad) may be NULL.
 */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize;
} gd_sgd_options;
/* fresh[i] (fresh may be NULL): buffer i is new and takes the gradient, as
 * torch's first step with momentum does. */
gd_status gd_sgd_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                      gd_tensor *const *momentum_buffers, const bool *fresh,
                      const gd_sgd_options *o);

typedef struct {
    double lr, lr_decay, weight_decay, eps;
    bool maximize;
} gd_adagrad_options;
gd_status gd_adagrad_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                          gd_tensor *const *sums, gd_tensor *const *steps,
                          const gd_adagrad_options *o);

typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} gd_rmsprop_options;
gd_status gd_rmsprop_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                          gd_tensor *const *square_avgs,
                          gd_tensor *const *momentum_buffers,
                          gd_tensor *const *grad_avgs, gd_tensor *const *steps,
                          const gd_rmsprop_options *o);

/* Adam, and AdamW with decoupled_weight_decay. */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled_weight_decay;
} gd_adam_options;
gd_status gd_adam_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                       gd_tensor *const *exp_avgs, gd_tensor *const *exp_avg_sqs,
                       gd_tensor *const *max_exp_avg_sqs, gd_tensor *const *steps,
                       const gd_adam_options *o);

typedef struct {
    double lr, rho, eps, weight_decay;
    bool maximize;
} gd_adadelta_options;
gd_status gd_adadelta_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                           gd_tensor *const *square_avgs, gd_tensor *const *acc_deltas,
                           gd_tensor *const *steps, const gd_adadelta_options *o);

/* mu_products: 1-element counters (state['mu_product']), scaled by each
 * step's momentum in their own dtype. */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay, momentum_decay;
    bool maximize, decoupled_weight_decay;
} gd_nadam_options;
gd_status gd_nadam_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                        gd_tensor *const *exp_avgs, gd_tensor *const *exp_avg_sqs,
                        gd_tensor *const *mu_products, gd_tensor *const *steps,
                        const gd_nadam_options *o);

typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    bool maximize;
} gd_adamax_options;
gd_status gd_adamax_step(int n, gd_tensor *const *params, gd_tensor *const *grads,
                         gd_tensor *const *exp_avgs, gd_tensor *const *exp_infs,
                         gd_tensor *const *steps, const gd_adamax_options *o);

#endif /* GD_OPTIM_H */
