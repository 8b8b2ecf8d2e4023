/* The core's autograd API, part of its manual: included by gd.h (at this
 * section's place), whose tensors, ops and ownership rules it uses. */
#ifndef GD_AUTOGRAD_H
#define GD_AUTOGRAD_H

#include "gd.h"

/* ---- autograd ------------------------------------------------------------ */

/*
 * Reverse-mode differentiation with PyTorch's semantics. gd_call runs an op
 * and, when grad mode is on and an input requires grad, records a gd_node
 * that knows how to differentiate it. The graph is a DAG owned from the
 * outputs down: a tensor owns its grad_fn, a node owns the nodes of its
 * inputs and the tensors it saved, never its output (it saves an alias of
 * the output's data instead). A leaf that requires grad is reached through
 * its AccumulateGrad node, which owns the leaf.
 */
typedef struct gd_node gd_node;

/* Hooks run on the gradient flowing into a tensor; they may replace it
 * (*replacement, a new reference of the same shape and dtype) or leave it
 * (NULL). A hook is refcounted: its list holds one reference and a backward
 * running it another, so a hook may remove itself or any other hook. */
typedef gd_status (*gd_hook_fn)(void *context, gd_tensor *grad,
                                gd_tensor **replacement);
typedef struct gd_hook_token gd_hook_token;
typedef struct gd_hook {
    gd_hook_fn fn;
    gd_release_fn release; /* frees context when the hook goes */
    void *context;
    int64_t id;
    int64_t refcount;
    struct gd_hook *next;
    struct gd_hook **pprev; /* the link that points here; NULL once unlinked */
    gd_hook_token *token;   /* owned: the handle's weak view of this hook */
} gd_hook;

struct gd_autograd_meta {
    bool requires_grad;   /* for leaves, the user's flag */
    bool retains_grad;    /* non-leaf whose grad is kept (retain_grad) */
    bool is_view_of_leaf; /* a view of a leaf that requires grad */
    bool is_view;         /* a view of a tensor that requires grad */
    gd_tensor *grad;      /* leaf: the accumulated gradient (owned) */
    gd_node *grad_fn;     /* owned; NULL for leaves */
    int output_nr; /* which output of grad_fn this is (custom nodes have several) */
    gd_node *accumulator; /* borrowed: the leaf's AccumulateGrad while it lives */
    gd_hook *hooks;       /* leaf hooks (a non-leaf's live on its grad_fn) */
};

/* Everything an op needs besides its input tensors. */
typedef struct gd_op_args {
    gd_dtype dtype; /* binary/where: the common dtype; to: the target */
    int ndims;      /* entries of dims (-1: none given) */
    int64_t i[4];   /* transpose (d0, d1); select (dim, index); slice (dim, start, stop,
                       step); cat dim; clone: 1 for a contiguous copy */
    bool keepdim;
    double param; /* var/std correction, norm p; pow: a Python number exponent */
    bool has_min, has_max;
    double min, max;    /* clamp bounds */
    double alpha, beta; /* addmm's scalars; add/sub's alpha when scaled */
    bool scaled;        /* add/sub: other times alpha, fused (alpha=) */
    /* The decomposition a caller knows it records (x.t(), torch.bmm); others
     * are chosen by the core from the operands. */
    gd_decomposition decomposition;
    /* 1 or 2: input 0 or 1 came from a Python number (1 - x, x ** 2) */
    int scalar_operand;
    /* unbind and split: which of the function's views this call makes */
    int64_t output;
    /* Reduced dims, a shape, a permutation. Last, and never initialised or
     * copied past ndims: per-op cost stays independent of GD_MAX_DIMS. */
    int64_t dims[GD_MAX_DIMS];
} gd_op_args;

/* An args struct with nothing set (ndims -1; dims left uninitialised). */
void gd_op_args_init(gd_op_args *args);
/* *dst = *src, copying only the ndims entries of dims that are set. */
void gd_op_args_copy(gd_op_args *dst, const gd_op_args *src);

/* Grad mode (thread-local, on by default): no_grad/enable_grad. */
bool gd_grad_enabled(void);
void gd_set_grad_enabled(bool enabled);

/* Does this tensor take part in differentiation? A view does whenever its
 * base does, as in PyTorch. */
bool gd_requires_grad(const gd_tensor *t);
/* Brings a view's grad_fn up to date after its base or another view of the
 * base was written in place: it becomes AsStridedBackward0 of the base's
 * current history (PyTorch regenerates it on access). No-op for other
 * tensors and for views that are current; the core calls it wherever it reads
 * a grad_fn for a graph (edges, in-place ops, hooks). */
gd_status gd_view_refresh(gd_tensor *t);
bool gd_is_leaf(const gd_tensor *t);
/* requires_grad_(flag) with PyTorch's checks (floating leaves only). */
gd_status gd_set_requires_grad(gd_tensor *t, bool flag);
gd_status gd_autograd_meta_get(gd_tensor *t, gd_autograd_meta **out); /* creates */
void gd_autograd_meta_free(gd_autograd_meta *meta);

/* Runs `op` on `inputs` (outs[0] the result; outs[1] the indices of max/min
 * along a dim) and records its node when gradients are needed. Inputs may be
 * borrowed stack tensors only when none of them requires grad. */
gd_status gd_call(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args,
                  gd_tensor **outs);
/* In place: dst = op(dst, inputs...) with PyTorch's checks for leaves, and
 * dst's history moved onto the new node. `n` counts dst as input 0. */
gd_status gd_call_(gd_op op, int n, gd_tensor *const *inputs, const gd_op_args *args);
/* PyTorch refuses writes into a tensor whose elements share memory (an
 * expanded tensor): the result would depend on the order of the writes. */
gd_status gd_check_writable(const gd_tensor *t);
/* Marks an in-place write through t (no-op for `.data` aliases). */
static inline void gd_bump_version(gd_tensor *t) {
    if (!t->untracked_version)
        t->storage->version++;
}

/* The node behind a non-leaf tensor (borrowed), or NULL. */
gd_node *gd_grad_fn(const gd_tensor *t);
/* A leaf's AccumulateGrad node (new reference), created on first use. */
gd_status gd_grad_accumulator(gd_tensor *leaf, gd_node **out);
void gd_node_incref(gd_node *node);
void gd_node_decref(gd_node *node);
const char *gd_node_name(const gd_node *node);
int gd_node_num_inputs(const gd_node *node);
gd_node *gd_node_next(const gd_node *node, int i);      /* borrowed, may be NULL */
int gd_node_next_output_nr(const gd_node *node, int i); /* which output of it */
gd_tensor *gd_node_variable(const gd_node *node);       /* AccumulateGrad's leaf */
/* Non-leaf hooks and retained gradients live on the grad_fn. */
gd_tensor *gd_node_retained_grad(const gd_node *node); /* borrowed */
void gd_node_retain_grad(gd_node *node); /* keep the output's grad from now on */
void gd_node_set_retained_grad(gd_node *node, gd_tensor *grad); /* takes a ref */
/* Adds a hook; *token (a new reference) removes it later, whatever became
 * of the tensor meanwhile (in-place ops, its binding object collected),
 * without keeping the hook or its context alive. */
gd_status gd_add_hook(gd_tensor *t, gd_hook_fn fn, gd_release_fn release, void *ctx,
                      gd_hook_token **token);
/* Unlinks the token's hook if it is still in its list; a backward already
 * running it still runs it this time, as in PyTorch. */
void gd_hook_token_remove(gd_hook_token *token);
int64_t gd_hook_token_id(const gd_hook_token *token);
void gd_hook_token_decref(gd_hook_token *token);
/* Unlinks a hook from its list (if linked), dropping the list's reference. */
void gd_hook_unlink(gd_hook *h);
void gd_hook_incref(gd_hook *h);
/* Drops a reference to a hook; the last one runs its release and frees it. */
void gd_hook_decref(gd_hook *h);

/* The leaf's gradient (borrowed, may be NULL); setting takes a reference. */
gd_tensor *gd_get_grad(const gd_tensor *t);
gd_status gd_set_grad(gd_tensor *t, gd_tensor *grad);

/* backward() from `n` roots with their seed gradients (NULL: ones for a
 * one-element root). With `inputs` (n_inputs > 0) gradients are returned in
 * grads_out (new references, NULL when unused) instead of accumulated. With
 * create_graph the rules run with grad mode on and record: the gradients
 * (and a leaf's .grad) carry a graph and can be differentiated again. */
gd_status gd_backward(int n, gd_tensor *const *roots, gd_tensor *const *seeds,
                      bool retain_graph, bool create_graph, int n_inputs,
                      gd_tensor *const *inputs, bool allow_unused,
                      gd_tensor **grads_out);

/* A node whose backward is a callback: an autograd.Function defined in
 * Python. `inputs` are its tensor inputs (edges to those that require grad),
 * and it has n_outputs outputs, attached with gd_custom_node_set_output. The
 * engine calls fn with one gradient per output (NULL where none arrived) and
 * expects one per input (new references, NULL for none), and with
 * `retain_graph` so the callback can free what it saved (the node is
 * passed borrowed, for outputs it unpacks with their history). A failed callback
 * returns GD_ERR_EXTERNAL (its error lives with the caller). `name` is
 * copied; release(context) runs when the node goes. */
typedef gd_status (*gd_custom_backward_fn)(void *context, gd_node *node,
                                           bool retain_graph, int n_outputs,
                                           gd_tensor *const *grads, int n_inputs,
                                           gd_tensor **grad_inputs);
gd_status gd_custom_node_new(const char *name, int n_inputs, gd_tensor *const *inputs,
                             int n_outputs, gd_custom_backward_fn fn,
                             gd_release_fn release, void *context, gd_node **out);
/* t (a result of the function) becomes output `output_nr` of the node. */
gd_status gd_custom_node_set_output(gd_node *node, int output_nr, gd_tensor *t);
/* Refuses (GD_ERR_NOTIMPL) what gdlite does not follow for the outputs after
 * the first of a custom node: hooks on them, retain_grad, gradients with
 * respect to them; `what` names it in the message. GD_OK for any other t. */
gd_status gd_check_first_output(const gd_tensor *t, const char *what);
/* The node's context (a custom node's), or NULL. */
void *gd_custom_node_context(const gd_node *node);

/* Anomaly detection (PyTorch's detect_anomaly), process-wide as in PyTorch.
 * While enabled, each new node keeps a trace of the call that made it (the
 * embedder's capture), and backward reports it (the embedder's report) for
 * a node whose rule fails; with check_nan, a rule giving NaN fails with
 * "Function 'XBackward0' returned nan values in its 0th output." */
void gd_set_anomaly_enabled(bool enabled, bool check_nan);
bool gd_anomaly_enabled(void);
bool gd_anomaly_check_nan(void);
typedef struct {
    void *(*capture)(void);                        /* an owned trace, or NULL */
    void (*report)(void *trace, const char *node); /* a node with this trace failed */
    void (*release)(void *trace);
} gd_anomaly_hooks;
void gd_set_anomaly_hooks(const gd_anomaly_hooks *hooks);

/* detach_: t stops tracking history and becomes a leaf. */
gd_status gd_detach_(gd_tensor *t);
/* t.data = src: t takes src's storage, shape and dtype, keeping its autograd. */
gd_status gd_set_data(gd_tensor *t, const gd_tensor *src);

#endif /* GD_AUTOGRAD_H */
