/* The backward engine: walks the graph from the roots without recursion,
 * runs each node once all its consumers have delivered their gradients
 * (later-created nodes first, as PyTorch orders them), sums gradients back to
 * each input's shape and dtype, and accumulates into leaves. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable list of nodes; the first 32 entries live inline, so the
 * course's small graphs cost no allocation. */
typedef struct {
    gd_node **v;
    int64_t n, cap;
    gd_node *inline_v[32];
} node_list;

#define NODE_LIST_INIT(l) ((l).v = (l).inline_v, (l).n = 0, (l).cap = 32)

static gd_status list_push(node_list *l, gd_node *x) {
    if (l->n == l->cap) {
        int64_t cap = l->cap * 2;
        gd_node **v = malloc(sizeof *v * (size_t)cap);
        if (!v)
            return gd_error(GD_ERR_NOMEM, "out of memory");
        memcpy(v, l->v, sizeof *v * (size_t)l->n);
        if (l->v != l->inline_v)
            free(l->v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return GD_OK;
}

static void list_free(node_list *l) {
    if (l->v != l->inline_v)
        free(l->v);
}

/* Max-heap on the creation sequence number. */
static gd_status heap_push(node_list *h, gd_node *x) {
    gd_status st = list_push(h, x);
    if (st)
        return st;
    for (int64_t i = h->n - 1; i > 0;) {
        int64_t parent = (i - 1) / 2;
        if (h->v[parent]->seq >= h->v[i]->seq)
            break;
        gd_node *tmp = h->v[parent];
        h->v[parent] = h->v[i];
        h->v[i] = tmp;
        i = parent;
    }
    return GD_OK;
}

static gd_node *heap_pop(node_list *h) {
    gd_node *top = h->v[0];
    h->v[0] = h->v[--h->n];
    for (int64_t i = 0;;) {
        int64_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < h->n && h->v[l]->seq > h->v[big]->seq)
            big = l;
        if (r < h->n && h->v[r]->seq > h->v[big]->seq)
            big = r;
        if (big == i)
            break;
        gd_node *tmp = h->v[big];
        h->v[big] = h->v[i];
        h->v[i] = tmp;
        i = big;
    }
    return top;
}

/* "gdlite.Size([2, 3])", as PyTorch prints shapes in autograd messages. */
static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape) {
    char dims[256];
    snprintf(buf, cap, "gdlite.Size(%s)",
             gd_format_shape(dims, sizeof dims, ndim, shape));
}

/* The gradient of an input, summed over broadcast dims and cast to the
 * input's dtype (new reference). */
static gd_status reduce_to(gd_node *node, int i, gd_tensor *g, gd_tensor **out) {
    const gd_input_meta *m = &node->inputs[i];
    gd_tensor *cur = g, *next = NULL;
    gd_status st = GD_OK;
    gd_tensor_incref(g);
    bool same = cur->ndim == m->ndim &&
                memcmp(cur->shape, m->shape, sizeof(int64_t) * (size_t)m->ndim) == 0;
    if (!same) {
        int lead = cur->ndim - m->ndim, nd = 0;
        int64_t dims[GD_MAX_DIMS];
        for (int d = 0; d < cur->ndim && lead >= 0; d++)
            if (d < lead || (m->shape[d - lead] == 1 && cur->shape[d] != 1))
                dims[nd++] = d;
        if (nd > 0) {
            st = gd_g_reduce(GD_OP_SUM, cur, nd, dims, true, &next);
            gd_tensor_decref(cur);
            cur = next;
        }
        if (!st) {
            st = gd_g_reshape(cur, m->ndim, m->shape, &next);
            gd_tensor_decref(cur);
            cur = next;
        }
        if (st) {
            char want[256];
            shape_text(want, sizeof want, m->ndim, m->shape);
            return gd_error(GD_ERR_RUNTIME,
                            "Function %s returned an invalid gradient at index %d - "
                            "expected shape %s",
                            node->name, i, want);
        }
    }
    if (cur->dtype != m->dtype) {
        st = gd_g_to_dtype(cur, m->dtype, &next);
        gd_tensor_decref(cur);
        cur = st ? NULL : next;
    }
    *out = cur;
    return st;
}

/* buffer += g, keeping the first gradient as it came. */
static gd_status add_into(gd_tensor **buffer, gd_tensor *g) {
    if (!*buffer) {
        gd_tensor_incref(g);
        *buffer = g;
        return GD_OK;
    }
    gd_tensor *sum = NULL;
    gd_status st = gd_g_binary(GD_OP_ADD, *buffer, g, &sum);
    if (st)
        return st;
    gd_tensor_decref(*buffer);
    *buffer = sum;
    return GD_OK;
}

/* PyTorch's layout contract for .grad: a leaf's strides where the leaf is
 * non-overlapping and dense (size-1 dims free, but not 0), else contiguous.
 * A retained grad (leaf NULL) is contiguous. */
static bool obeys_layout(const gd_tensor *g, const gd_tensor *leaf) {
    if (!leaf || !gd_is_non_overlapping_dense(leaf))
        return gd_is_contiguous(g);
    for (int d = 0; d < g->ndim; d++)
        if (g->shape[d] != 1 ? g->strides[d] != leaf->strides[d] : g->strides[d] == 0)
            return false;
    return true;
}

/* Whether g alone holds its data: its storage's only header, or a view
 * (a rule's transpose of its gradient) whose base nothing else holds. */
static bool sole_owner(const gd_tensor *g) {
    if (g->storage->refcount == 1)
        return true;
    return g->view_base && g->view_base->refcount == 1 && g->storage->refcount == 2;
}

/* A gradient to keep: taken over when nothing else can see it and its
 * layout is the one .grad must have, else copied into that layout. */
static gd_status keep(gd_tensor *g, const gd_tensor *leaf, gd_tensor **out) {
    if (g->refcount == 1 && !g->autograd && !g->on_stack && sole_owner(g) &&
        obeys_layout(g, leaf)) {
        /* Kept as PyTorch keeps g.detach(): no view (so grad.detach_()
         * works), and no base. */
        g->is_view = false;
        gd_tensor_decref(g->view_base);
        g->view_base = NULL;
        gd_tensor_incref(g);
        *out = g;
        return GD_OK;
    }
    if (!leaf || !gd_is_non_overlapping_dense(leaf))
        return gd_clone(g, out);
    return gd_copy_strided(g, g->dtype, leaf->strides, out);
}

/* Under create_graph leaf.grad keeps its history: a recorded copy of the
 * first gradient (CopyBackwards), then out-of-place sums, as PyTorch's
 * AccumulateGrad does with grad mode on. */
static gd_status accumulate_graph(gd_tensor **slot, gd_tensor *g,
                                  const gd_tensor *leaf) {
    gd_tensor *out = NULL;
    gd_status st;
    if (*slot) {
        if ((st = gd_g_binary(GD_OP_ADD, *slot, g, &out)))
            return st;
    } else {
        gd_tensor *in[2] = {NULL, g};
        bool dense = leaf && gd_is_non_overlapping_dense(leaf);
        if ((st = gd_empty_dense(g->dtype, g->ndim, g->shape,
                                 dense ? leaf->strides : NULL, &out)))
            return st;
        if ((st = gd_fill_(out, 0))) {
            gd_tensor_decref(out);
            return st;
        }
        in[0] = out;
        if ((st = gd_call_(GD_OP_COPY, 2, in, NULL))) {
            gd_tensor_decref(out);
            return st;
        }
    }
    gd_tensor_decref(*slot);
    *slot = out;
    return GD_OK;
}

/* leaf.grad = g, or leaf.grad += g in place (as PyTorch accumulates). The
 * slot is held across the add: nothing the add runs can free it. */
static gd_status accumulate_into(gd_tensor **slot, gd_tensor *g,
                                 const gd_tensor *leaf) {
    if (gd_grad_enabled() && (*slot || gd_requires_grad(g)))
        return accumulate_graph(slot, g, leaf);
    if (!*slot)
        return keep(g, leaf, slot);
    gd_tensor *grad = *slot;
    gd_status st = gd_check_writable(grad);
    if (st)
        return st;
    gd_tensor_incref(grad);
    if (!(st = gd_binary_(GD_OP_ADD, grad, g, grad->dtype)))
        gd_bump_version(grad);
    gd_tensor_decref(grad);
    return st;
}

/* A non-leaf's retained grad: a private copy, then out-of-place sums, so a
 * .grad read after one backward is not changed by the next (PyTorch's
 * retain_grad hook does the same). */
static gd_status retain_into(gd_tensor **slot, gd_tensor *g) {
    if (!*slot)
        return keep(g, NULL, slot);
    gd_tensor *sum = NULL;
    gd_status st = gd_g_binary(GD_OP_ADD, *slot, g, &sum);
    if (st)
        return st;
    gd_tensor_decref(*slot);
    *slot = sum;
    return GD_OK;
}

typedef struct {
    bool capture_mode, retain_graph, create_graph;
    gd_tensor **grads_out;
} run_state;

/* A custom node's callback, with the gradient of each of its outputs (g is
 * output 0's); the buffers of the others are released here. */
static gd_status run_custom(gd_node *node, gd_tensor *g, bool retain_graph,
                            gd_tensor **gi) {
    gd_custom *c = node->custom;
    gd_tensor *local[GD_LOCAL_SLOTS], **grads = gd_slots(c->n_outputs, local);
    gd_status st;
    if (!grads)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    grads[0] = g;
    for (int k = 1; k < c->n_outputs; k++)
        grads[k] = c->buffers[k];
    st = c->fn(c->context, node, retain_graph, c->n_outputs, grads, node->n_inputs, gi);
    gd_slots_free(grads, local);
    return st;
}

static bool has_nan(const gd_tensor *t) {
    if (!gd_dtype_is_floating(t->dtype))
        return false;
    for (int64_t k = 0; k < t->numel; k++) {
        double v = gd_get_flat(t, k);
        if (v != v)
            return true;
    }
    return false;
}

static bool custom_has_grad(const gd_node *node) {
    for (int k = 1; node->custom && k < node->custom->n_outputs; k++)
        if (node->custom->buffers[k])
            return true;
    return false;
}

static void release_custom_buffers(gd_node *node) {
    for (int k = 1; node->custom && k < node->custom->n_outputs; k++) {
        gd_tensor_decref(node->custom->buffers[k]);
        node->custom->buffers[k] = NULL;
    }
}

static gd_status run_node(gd_node *node, const run_state *rs) {
    gd_tensor *g = node->buffer, *gi_local[GD_LOCAL_SLOTS], **gi = gi_local;
    gd_status st = GD_OK;
    node->buffer = NULL;
    if (!g && !custom_has_grad(node))
        goto release;
    if (node->op == GD_OP_ACCUMULATE_GRAD) {
        gd_tensor *leaf = node->variable;
        if (leaf->autograd && (st = gd_hooks_run(leaf->autograd->hooks, &g)))
            goto release;
        if (node->capture) {
            gd_tensor_incref(g);
            rs->grads_out[node->capture - 1] = g;
        } else if (!rs->capture_mode) {
            gd_autograd_meta *meta = NULL;
            if (!(st = gd_autograd_meta_get(leaf, &meta)))
                st = accumulate_into(&meta->grad, g, leaf);
        }
        goto release;
    }
    if (g && (st = gd_hooks_run(node->hooks, &g)))
        goto release;
    if (g && node->retains_grad && !rs->capture_mode &&
        (st = retain_into(&node->retained_grad, g)))
        goto release;
    if (g && node->capture && !rs->grads_out[node->capture - 1]) {
        gd_tensor_incref(g);
        rs->grads_out[node->capture - 1] = g;
    }
    if (rs->capture_mode && !node->run_rule)
        goto release;
    if (!(gi = gd_slots(node->n_inputs, gi_local))) {
        st = gd_error(GD_ERR_NOMEM, "out of memory");
        goto release;
    }
    node->graph = rs->create_graph;
    st = node->custom       ? run_custom(node, g, rs->retain_graph, gi)
         : rs->create_graph ? gd_run_backward_rule(node, g, gi)
                            : gd_backward_rule(node->op)(node, g, gi);
    bool check_nan = gd_anomaly_enabled() && gd_anomaly_check_nan();
    for (int i = 0; i < node->n_inputs && !st && check_nan; i++)
        if (gi[i] && has_nan(gi[i]))
            st = gd_error(GD_ERR_RUNTIME,
                          "Function '%s' returned nan values in its %dth output.",
                          node->name, i);
    if (st)
        gd_anomaly_report(node);
    for (int i = 0; i < node->n_inputs && !st; i++) {
        gd_node *next = node->inputs[i].node;
        if (!next || !gi[i] || (rs->capture_mode && !next->needed))
            continue;
        gd_tensor *reduced = NULL;
        if (!(st = reduce_to(node, i, gi[i], &reduced)))
            st = add_into(gd_node_slot(next, node->inputs[i].output_nr), reduced);
        gd_tensor_decref(reduced);
    }
    for (int i = 0; i < node->n_inputs; i++)
        gd_tensor_decref(gi[i]);
    gd_slots_free(gi, gi_local);
release:
    gd_tensor_decref(g);
    release_custom_buffers(node);
    if (!rs->retain_graph)
        gd_node_release_saved(node);
    return st;
}

/* Marks the nodes on a path to a captured input: consumers are ordered
 * before producers (Kahn's algorithm on the consumer counts), then walked
 * backwards so each node sees its inputs' marks. */
static gd_status mark_needed(node_list *all) {
    node_list order;
    NODE_LIST_INIT(order);
    gd_status st = GD_OK;
    int64_t *deps = malloc(sizeof *deps * (size_t)(all->n ? all->n : 1));
    if (!deps)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; k < all->n && !st; k++) {
        gd_node *x = all->v[k];
        deps[k] = x->deps;
        x->needed = x->run_rule = false;
        if (x->deps == 0)
            st = list_push(&order, x);
    }
    for (int64_t head = 0; head < order.n && !st; head++) {
        gd_node *x = order.v[head];
        for (int i = 0; i < x->n_inputs && !st; i++) {
            gd_node *nx = x->inputs[i].node;
            if (nx && --nx->deps == 0)
                st = list_push(&order, nx);
        }
    }
    for (int64_t k = 0; k < all->n; k++)
        all->v[k]->deps = deps[k];
    for (int64_t k = order.n - 1; k >= 0; k--) {
        gd_node *x = order.v[k];
        for (int i = 0; i < x->n_inputs; i++)
            x->run_rule |= x->inputs[i].node && x->inputs[i].node->needed;
        x->needed = x->run_rule || x->capture;
    }
    free(deps);
    list_free(&order);
    return st;
}

static gd_status seed_for(gd_tensor *root, gd_tensor *seed, int i, gd_tensor **out) {
    *out = NULL;
    if (!seed) {
        GD_CHECK(root->numel == 1, GD_ERR_RUNTIME,
                 "grad can be implicitly created only for scalar outputs");
        return gd_full(root->dtype, root->ndim, root->shape, 1.0, out);
    }
    bool same =
        seed->ndim == root->ndim &&
        memcmp(seed->shape, root->shape, sizeof(int64_t) * (size_t)root->ndim) == 0;
    if (!same) {
        char a[256], b[256];
        shape_text(a, sizeof a, seed->ndim, seed->shape);
        shape_text(b, sizeof b, root->ndim, root->shape);
        return gd_error(GD_ERR_RUNTIME,
                        "Mismatch in shape: grad_output[%d] has a shape of %s and "
                        "output[%d] has a shape of %s.",
                        i, a, i, b);
    }
    if (seed->dtype != root->dtype)
        return gd_g_to_dtype(seed, root->dtype, out);
    gd_tensor_incref(seed);
    *out = seed;
    return GD_OK;
}

/* Each backward marks the nodes it walks with its own number. Hooks run user
 * code, which may start another backward (or another thread may): one that
 * reaches a node a running backward owns is refused, since the nodes' scratch
 * fields belong to that walk. The counter is advanced under the GIL. */
static uint64_t last_walk;

static gd_status busy(void) {
    return gd_error(GD_ERR_RUNTIME,
                    "gdlite cannot run a backward through a graph that another running "
                    "backward is using (a hook started a backward over an overlapping "
                    "graph)");
}

static gd_status walk_graph(int n, gd_tensor *const *roots, gd_tensor *const *seeds,
                            bool retain_graph, int n_inputs, gd_tensor *const *inputs,
                            bool allow_unused, gd_tensor **grads_out);

/* Backward runs with grad mode off, as in PyTorch: hooks record no graph;
 * under create_graph with grad mode on, so that rules record. It
 * keeps the embedder's lock throughout (gd_loop_keep_lock): the engine's
 * scratch lives on nodes that threads' graphs share (a leaf's AccumulateGrad),
 * and leaves' .grad are shared too, where PyTorch keeps per-call maps and a
 * mutex per AccumulateGrad. */
gd_status gd_backward(int n, gd_tensor *const *roots, gd_tensor *const *seeds,
                      bool retain_graph, bool create_graph, int n_inputs,
                      gd_tensor *const *inputs, bool allow_unused,
                      gd_tensor **grads_out) {
    bool was_enabled = gd_grad_enabled();
    gd_set_grad_enabled(create_graph);
    gd_loop_keep_lock(true);
    gd_status st = walk_graph(n, roots, seeds, retain_graph, n_inputs, inputs,
                              allow_unused, grads_out);
    gd_loop_keep_lock(false);
    gd_set_grad_enabled(was_enabled);
    return st;
}

static gd_status walk_graph(int n, gd_tensor *const *roots, gd_tensor *const *seeds,
                            bool retain_graph, int n_inputs, gd_tensor *const *inputs,
                            bool allow_unused, gd_tensor **grads_out) {
    uint64_t walk = ++last_walk;
    node_list all, stack, heap, held;
    NODE_LIST_INIT(all);
    NODE_LIST_INIT(stack);
    NODE_LIST_INIT(heap);
    NODE_LIST_INIT(held);
    run_state rs = {n_inputs > 0, retain_graph, gd_grad_enabled(), grads_out};
    gd_status st = GD_OK;
    for (int j = 0; j < n_inputs; j++)
        grads_out[j] = NULL;
    /* Roots and captured inputs, each holding a node reference in `held`. */
    for (int i = 0; i < n + n_inputs && !st; i++) {
        bool is_root = i < n;
        gd_tensor *t = is_root ? roots[i] : inputs[i - n];
        gd_node *node = NULL;
        if (!gd_requires_grad(t)) {
            st = is_root
                     ? gd_error(GD_ERR_RUNTIME,
                                "element %d of tensors does not require grad and "
                                "does not have a grad_fn",
                                i)
                     : gd_error(GD_ERR_RUNTIME,
                                "One of the differentiated Tensors does not require "
                                "grad");
            break;
        }
        if (!is_root && (st = gd_check_first_output(t, "gradients with respect to")))
            break;
        if ((st = gd_edge_of(t, &node)))
            break;
        if (node->walk) {
            gd_node_decref(node);
            st = busy();
            break;
        }
        if ((st = list_push(&held, node))) {
            gd_node_decref(node);
            break;
        }
        if (!is_root && !node->capture) /* a repeated input is copied at the end */
            node->capture = i - n + 1;
    }
    /* Discover the graph; count each node's consumers. */
    for (int64_t k = 0; k < (int64_t)n && !st; k++) {
        gd_node *r = held.v[k];
        if (r->walk == walk)
            continue;
        r->walk = walk;
        if (!(st = list_push(&all, r)))
            st = list_push(&stack, r);
    }
    while (stack.n > 0 && !st) {
        gd_node *x = stack.v[--stack.n];
        for (int i = 0; i < x->n_inputs && !st; i++) {
            gd_node *nx = x->inputs[i].node;
            if (!nx)
                continue;
            if (nx->walk && nx->walk != walk) {
                st = busy();
                break;
            }
            nx->deps++;
            if (!nx->walk) {
                nx->walk = walk;
                if (!(st = list_push(&all, nx)))
                    st = list_push(&stack, nx);
            }
        }
    }
    if (!st && rs.capture_mode)
        st = mark_needed(&all);
    for (int i = 0; i < n && !st; i++) {
        gd_tensor *seed = NULL;
        if (!(st = seed_for(roots[i], seeds ? seeds[i] : NULL, i, &seed)))
            st = add_into(gd_node_slot(held.v[i], gd_output_nr(roots[i])), seed);
        gd_tensor_decref(seed);
    }
    for (int64_t k = 0; k < all.n && !st; k++)
        if (all.v[k]->deps == 0)
            st = heap_push(&heap, all.v[k]);
    while (heap.n > 0 && !st) {
        gd_node *x = heap_pop(&heap);
        st = run_node(x, &rs);
        for (int i = 0; i < x->n_inputs && !st; i++) {
            gd_node *nx = x->inputs[i].node;
            if (nx && --nx->deps == 0)
                st = heap_push(&heap, nx);
        }
    }
    for (int j = 0; j < n_inputs && !st; j++)
        for (int k = 0; k < j && !grads_out[j]; k++)
            if (held.v[n + k] == held.v[n + j] && grads_out[k]) {
                gd_tensor_incref(grads_out[k]);
                grads_out[j] = grads_out[k];
            }
    for (int j = 0; j < n_inputs && !st; j++)
        if (!grads_out[j] && !allow_unused)
            st = gd_error(
                GD_ERR_RUNTIME,
                "The differentiated Tensor at index %d appears to not have been "
                "used in the graph. Set allow_unused=True if this is the desired "
                "behavior.",
                j);
    for (int64_t k = 0; k < all.n; k++) {
        gd_node *x = all.v[k];
        x->deps = 0;
        x->walk = 0;
        x->needed = x->run_rule = false;
        x->capture = 0;
        gd_tensor_decref(x->buffer);
        x->buffer = NULL;
        release_custom_buffers(x);
    }
    for (int64_t k = 0; k < held.n; k++) {
        held.v[k]->capture = 0;
        gd_node_decref(held.v[k]);
    }
    if (st)
        for (int j = 0; j < n_inputs; j++) {
            gd_tensor_decref(grads_out[j]);
            grads_out[j] = NULL;
        }
    list_free(&all);
    list_free(&stack);
    list_free(&heap);
    list_free(&held);
    return st;
}
