/* Views and in-place writes, as PyTorch's autograd handles them. A view made
 * by a view op keeps its base (the root tensor it shares data with). An
 * in-place op on a view that needs a gradient rewrites the base's history
 * as a CopySlices node, which runs the op's own rule on the view's part of
 * the base's gradient; and a view whose base (or another view of it) was
 * written in place has its grad_fn regenerated as AsStridedBackward0 of the
 * base's current history, the next time a graph reads it.
 *
 * Both backward rules work in storage coordinates: a zero buffer covering
 * the elements of the base, with the base and the view each laid over it by
 * their own sizes, strides and offsets; under create_graph, with recorded
 * gathers and scatters at the view's positions in the base. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int ndim;
    int64_t offset;
    int64_t shape[GD_MAX_DIMS];
    int64_t strides[GD_MAX_DIMS];
} geometry;

static void geometry_of(const gd_tensor *t, geometry *g) {
    g->ndim = t->ndim;
    g->offset = t->offset;
    memcpy(g->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    memcpy(g->strides, t->strides, sizeof(int64_t) * (size_t)t->ndim);
}

static bool geometry_empty(const geometry *g) {
    for (int d = 0; d < g->ndim; d++)
        if (g->shape[d] == 0)
            return true;
    return false;
}

/* The storage elements g reaches: [*lo, *hi]. */
static void geometry_extent(const geometry *g, int64_t *lo, int64_t *hi) {
    *lo = *hi = g->offset;
    for (int d = 0; d < g->ndim; d++) {
        int64_t step = (g->shape[d] - 1) * g->strides[d];
        if (step < 0)
            *lo += step;
        else
            *hi += step;
    }
}

/* No two elements of g share a storage element (dims of size 1 aside). */
static bool geometry_is_one_to_one(const geometry *g) {
    int order[GD_MAX_DIMS], n = 0;
    for (int d = 0; d < g->ndim; d++)
        if (g->shape[d] > 1)
            order[n++] = d;
    for (int i = 1; i < n; i++) /* by |stride|, insertion sort: few dims */
        for (int j = i;
             j > 0 && llabs(g->strides[order[j]]) < llabs(g->strides[order[j - 1]]);
             j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    int64_t reach = 0; /* the largest distance the smaller dims span */
    for (int i = 0; i < n; i++) {
        int64_t s = llabs(g->strides[order[i]]);
        if (s <= reach)
            return false;
        reach += s * (g->shape[order[i]] - 1);
    }
    return true;
}

/* What both rules share: the base and the view laid over one zero buffer. */
typedef struct {
    geometry base, view;
} view_layout;

typedef struct {
    gd_tensor *flat;    /* zeros over the base's storage elements */
    gd_tensor *on_base; /* flat seen as the base */
    gd_tensor *on_view; /* flat seen as the view */
} laid_out;

static void laid_out_free(laid_out *l) {
    gd_tensor_decref(l->on_view);
    gd_tensor_decref(l->on_base);
    gd_tensor_decref(l->flat);
}

static gd_status lay_out(const view_layout *v, gd_dtype dtype, laid_out *l) {
    int64_t lo, hi, vlo, vhi, len;
    memset(l, 0, sizeof *l);
    geometry_extent(&v->base, &lo, &hi);
    if (geometry_empty(&v->base))
        lo = hi = v->base.offset;
    if (!geometry_empty(&v->view)) {
        geometry_extent(&v->view, &vlo, &vhi);
        lo = vlo < lo ? vlo : lo;
        hi = vhi > hi ? vhi : hi;
    }
    len = hi - lo + 1;
    gd_status st = gd_zeros(dtype, 1, &len, &l->flat);
    if (!st)
        st = gd_as_strided(l->flat, v->base.ndim, v->base.shape, v->base.strides,
                           v->base.offset - lo, &l->on_base);
    if (!st)
        st = gd_as_strided(l->flat, v->view.ndim, v->view.shape, v->view.strides,
                           v->view.offset - lo, &l->on_view);
    if (st)
        laid_out_free(l);
    return st;
}

/* ---- under create_graph -------------------------------------------------- */

/* With a gradient that carries a history, both rules are written with
 * recorded ops, so what they give can be differentiated again: the view's
 * elements are found in the base by their row-major positions (the base laid
 * over a buffer of its own positions, read through the view), gathered from
 * and scattered into the flattened base. */
typedef struct {
    gd_tensor *positions; /* int64 [view numel]: where each view element is */
    gd_tensor *inside;    /* bool [base numel]: the base elements the view covers */
    int64_t base_n, view_n;
} view_positions;

static void view_positions_free(view_positions *p) {
    gd_tensor_decref(p->positions);
    gd_tensor_decref(p->inside);
}

static int64_t geometry_numel(const geometry *g) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++)
        n *= g->shape[d];
    return n;
}

static gd_status positions_of(const view_layout *v, view_positions *p) {
    laid_out l = {NULL, NULL, NULL};
    gd_tensor *numbered = NULL, *found = NULL;
    p->positions = p->inside = NULL;
    p->base_n = geometry_numel(&v->base);
    p->view_n = geometry_numel(&v->view);
    gd_status st = lay_out(v, GD_INT64, &l);
    if (!st)
        st = gd_empty(GD_INT64, v->base.ndim, v->base.shape, &numbered);
    for (int64_t i = 0; !st && i < p->base_n; i++)
        ((int64_t *)gd_data_ptr(numbered))[i] = i;
    if (!st)
        st = gd_copy_(l.on_base, numbered);
    if (!st)
        st = gd_clone(l.on_view, &found);
    if (!st)
        st = gd_reshape(found, 1, &p->view_n, &p->positions);
    if (!st)
        st = gd_zeros(GD_BOOL, 1, &p->base_n, &p->inside);
    for (int64_t i = 0; !st && i < p->view_n; i++) {
        int64_t at = ((const int64_t *)gd_data_ptr(p->positions))[i];
        ((gd_bool_t *)gd_data_ptr(p->inside))[at] = 1;
    }
    gd_tensor_decref(numbered);
    gd_tensor_decref(found);
    laid_out_free(&l);
    if (st)
        view_positions_free(p);
    return st;
}

/* flat (the view's elements in row-major order) added into zeros shaped as
 * the base, recorded: where the view repeats an element, its values sum. */
static gd_status scatter_into_base(const view_layout *v, const view_positions *p,
                                   gd_tensor *flat, gd_tensor **out) {
    gd_tensor *zeros = NULL, *placed = NULL;
    gd_status st = gd_zeros(flat->dtype, 1, &p->base_n, &zeros);
    if (!st)
        st = gd_g_scatter_add(zeros, 0, p->positions, flat, &placed);
    if (!st)
        st = gd_g_reshape(placed, v->base.ndim, v->base.shape, out);
    gd_tensor_decref(zeros);
    gd_tensor_decref(placed);
    return st;
}

/* ---- AsStridedBackward0 ------------------------------------------------- */

static gd_status as_strided_backward_graph(const view_layout *v, gd_tensor *g,
                                           gd_tensor **out) {
    view_positions p;
    gd_tensor *flat = NULL;
    gd_status st = positions_of(v, &p);
    if (st)
        return st;
    if (!(st = gd_g_reshape(g, 1, &p.view_n, &flat)))
        st = scatter_into_base(v, &p, flat, out);
    gd_tensor_decref(flat);
    view_positions_free(&p);
    return st;
}

/* grad (the view's shape) added into zeros of the base's shape, at the
 * view's place: dims the view repeats (stride 0) are summed first. */
static gd_status as_strided_backward(void *context, gd_node *node, bool retain_graph,
                                     int n_outputs, gd_tensor *const *grads,
                                     int n_inputs, gd_tensor **grad_inputs) {
    (void)retain_graph, (void)n_outputs;
    const view_layout *v = context;
    gd_tensor *g = grads[0], *summed = NULL;
    laid_out l;
    if (n_inputs < 1 || !node->inputs[0].node)
        return GD_OK;
    if (gd_grad_enabled() && gd_requires_grad(g))
        return as_strided_backward_graph(v, g, &grad_inputs[0]);
    view_layout once = *v;
    int64_t dims[GD_MAX_DIMS];
    int n_dims = 0;
    for (int d = 0; d < once.view.ndim; d++)
        if (once.view.strides[d] == 0 && once.view.shape[d] > 1) {
            dims[n_dims++] = d;
            once.view.shape[d] = 1;
        }
    GD_CHECK(geometry_is_one_to_one(&once.view), GD_ERR_NOTIMPL,
             "gdlite cannot differentiate through a view whose elements overlap in "
             "memory after its base was modified in-place");
    gd_status st = lay_out(&once, node->inputs[0].dtype, &l);
    if (st)
        return st;
    if (n_dims)
        st = gd_reduce(GD_OP_SUM, g, n_dims, dims, true, 0.0, &summed);
    if (!st)
        st = gd_copy_(l.on_view, summed ? summed : g);
    if (!st)
        st = gd_clone(l.on_base, &grad_inputs[0]);
    gd_tensor_decref(summed);
    laid_out_free(&l);
    return st;
}

gd_status gd_view_refresh(gd_tensor *t) {
    if (!gd_view_stale(t) || !gd_is_tracked_view(t))
        return GD_OK;
    gd_tensor *base = t->view_base;
    bool has_fn = t->autograd && t->autograd->grad_fn;
    if (!has_fn && !gd_requires_grad(base))
        return GD_OK; /* nothing to regenerate, as in PyTorch */
    if (t->view_meta == GD_VIEW_MULTI_OUTPUT)
        return gd_view_refused(t, true);
    if (t->view_meta == GD_VIEW_NO_GRAD)
        return gd_grad_enabled() ? gd_view_refused(t, true) : GD_OK;
    view_layout *v = malloc(sizeof *v);
    gd_node *node = NULL;
    if (!v)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    geometry_of(base, &v->base);
    geometry_of(t, &v->view);
    gd_status st = gd_core_node_new("AsStridedBackward0", 1, &base, as_strided_backward,
                                    free, v, &node);
    if (!st)
        st = gd_set_history(t, node);
    gd_node_decref(node);
    if (!st)
        t->view_version = t->storage->version;
    return st;
}

void gd_view_track(gd_tensor *view, gd_tensor *src, bool grad_on) {
    bool tracked = gd_is_tracked_view(src);
    gd_tensor *base = tracked ? src->view_base : src;
    gd_tensor_incref(base);
    view->view_base = base;
    view->view_version = view->storage->version;
    /* PyTorch's propagate_creation_meta: a view of a refused view is refused. */
    view->view_meta = !grad_on  ? GD_VIEW_NO_GRAD
                      : tracked ? src->view_meta
                                : GD_VIEW_DEFAULT;
    view->view_output = 0;
}

void gd_view_mark_multi_output(gd_tensor *view, int64_t output) {
    if (view->view_base && view->view_meta == GD_VIEW_DEFAULT) {
        view->view_meta = GD_VIEW_MULTI_OUTPUT;
        view->view_output = output;
    }
}

bool gd_decomposition_multi_output(gd_decomposition d) {
    return d == GD_DECOMP_UNBIND || d == GD_DECOMP_SPLIT ||
           d == GD_DECOMP_SPLIT_WITH_SIZES;
}

gd_status gd_view_refused(const gd_tensor *t, bool indirect) {
    bool multi = t->view_meta == GD_VIEW_MULTI_OUTPUT;
    const char *what =
        indirect ? "its base or another view of its base has been" : "is being";
    const char *why =
        multi ? " This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. "
                "You should replace the inplace operation by an out-of-place one."
              : " Given that this use case is ambiguous and error-prone, it is "
                "forbidden. You can clarify your code by moving both the view and "
                "the inplace either both inside the no_grad block (if you don't want "
                "the inplace to be tracked) or both outside (if you want the inplace "
                "to be tracked).";
    const gd_node *fn = t->autograd ? t->autograd->grad_fn : NULL;
    if (!fn) /* made with grad mode off */
        return gd_error(GD_ERR_RUNTIME,
                        "A view was created in no_grad mode and %s modified inplace "
                        "with grad mode enabled.%s",
                        what, why);
    /* PyTorch names the view function: the node's name less "Backward<n>". */
    const char *cut = strstr(fn->name, "Backward");
    int len = cut ? (int)(cut - fn->name) : (int)strlen(fn->name);
    if (multi)
        return gd_error(GD_ERR_RUNTIME,
                        "Output %lld of %.*s is a view and %s modified inplace.%s",
                        (long long)t->view_output, len, fn->name, what, why);
    return gd_error(GD_ERR_RUNTIME,
                    "Output %lld of %.*s is a view of a view which was created in "
                    "no_grad mode and %s modified inplace with grad mode enabled.%s",
                    (long long)t->view_output, len, fn->name, what, why);
}

/* ---- CopySlices --------------------------------------------------------- */

typedef struct {
    view_layout layout;
    gd_node *fn; /* owned: the op's node, recorded on a snapshot of the view */
} copy_slices_context;

static void copy_slices_free(void *context) {
    copy_slices_context *c = context;
    gd_node_decref(c->fn);
    free(c);
}

/* The view's part of the base's gradient g, recorded. */
static gd_status slice_graph(const view_layout *v, gd_tensor *g, view_positions *p,
                             gd_tensor **out) {
    gd_tensor *flat = NULL, *picked = NULL;
    gd_status st = positions_of(v, p);
    if (!st)
        st = gd_g_reshape(g, 1, &p->base_n, &flat);
    if (!st)
        st = gd_g_gather(flat, 0, p->positions, &picked);
    if (!st)
        st = gd_g_reshape(picked, v->view.ndim, v->view.shape, out);
    gd_tensor_decref(flat);
    gd_tensor_decref(picked);
    return st;
}

/* g with the view's part replaced by `part` (zeros where NULL), recorded. */
static gd_status replace_slice_graph(const view_layout *v, const view_positions *p,
                                     gd_tensor *g, gd_tensor *part, gd_tensor **out) {
    gd_tensor *flat_part = NULL, *placed = NULL;
    gd_status st = GD_OK;
    if (part && !(st = gd_g_reshape(part, 1, &p->view_n, &flat_part)))
        st = scatter_into_base(v, p, flat_part, &placed);
    if (!st && !part)
        st = gd_zeros(g->dtype, v->base.ndim, v->base.shape, &placed);
    gd_tensor *inside = NULL;
    if (!st)
        st = gd_reshape(p->inside, v->base.ndim, v->base.shape, &inside);
    if (!st)
        st = gd_g_where(inside, placed, g, g->dtype, out);
    gd_tensor_decref(inside);
    gd_tensor_decref(flat_part);
    gd_tensor_decref(placed);
    return st;
}

/* The base's gradient, with the view's part replaced by fn's gradient for
 * the view's old values; fn's other inputs get fn's gradients. */
static gd_status copy_slices_backward(void *context, gd_node *node, bool retain_graph,
                                      int n_outputs, gd_tensor *const *grads,
                                      int n_inputs, gd_tensor **grad_inputs) {
    (void)n_outputs;
    copy_slices_context *c = context;
    gd_node *fn = c->fn;
    gd_tensor *g = grads[0], *slice = NULL, *local[GD_LOCAL_SLOTS], **fn_grads;
    laid_out l = {NULL, NULL, NULL};
    view_positions p = {NULL, NULL, 0, 0};
    bool graph = gd_grad_enabled() && gd_requires_grad(g);
    if (!(fn_grads = gd_slots(fn->n_inputs, local)))
        return gd_error(GD_ERR_NOMEM, "out of memory");
    gd_status st = graph ? slice_graph(&c->layout, g, &p, &slice)
                         : lay_out(&c->layout, g->dtype, &l);
    if (!st && !graph)
        st = gd_copy_(l.on_base, g);
    if (!st && !graph)
        st = gd_clone(l.on_view, &slice);
    fn->graph = gd_grad_enabled(); /* as the engine sets it for the nodes it runs */
    if (!st)
        st = gd_run_backward_rule(fn, slice, fn_grads);
    bool needed = n_inputs > 0 && node->inputs[0].node;
    if (!st && graph && needed)
        st = replace_slice_graph(&c->layout, &p, g, fn_grads[0], &grad_inputs[0]);
    if (!st && !graph)
        st = fn_grads[0] ? gd_copy_(l.on_view, fn_grads[0]) : gd_fill_(l.on_view, 0.0);
    if (!st && !graph && needed)
        st = gd_clone(l.on_base, &grad_inputs[0]);
    for (int i = 1; i < n_inputs && i < fn->n_inputs && !st; i++) {
        grad_inputs[i] = fn_grads[i];
        fn_grads[i] = NULL;
    }
    if (!retain_graph)
        gd_node_release_saved(fn);
    for (int i = 0; i < fn->n_inputs; i++)
        gd_tensor_decref(fn_grads[i]);
    gd_slots_free(fn_grads, local);
    gd_tensor_decref(slice);
    laid_out_free(&l);
    view_positions_free(&p);
    return st;
}

gd_status gd_view_copy_slices(gd_tensor *view, gd_node *fn, int n,
                              gd_tensor *const *inputs, gd_node **out) {
    gd_tensor *local[GD_ITER_MAX_OPERANDS];
    *out = NULL;
    GD_CHECK(fn->n_inputs <= n && n <= GD_ITER_MAX_OPERANDS, GD_ERR_RUNTIME,
             "too many operands");
    copy_slices_context *c = malloc(sizeof *c);
    if (!c)
        return gd_error(GD_ERR_NOMEM, "out of memory");
    geometry_of(view->view_base, &c->layout.base);
    geometry_of(view, &c->layout.view);
    gd_node_incref(fn);
    c->fn = fn;
    /* The base's current history replaces the view's as input 0. */
    local[0] = view->view_base;
    for (int i = 1; i < fn->n_inputs; i++)
        local[i] = inputs[i];
    return gd_core_node_new("CopySlices", fn->n_inputs, local, copy_slices_backward,
                            copy_slices_free, c, out);
}

gd_status gd_view_install_copy_slices(gd_tensor *view, gd_node *copy_slices) {
    gd_status st = gd_set_history(view->view_base, copy_slices);
    return st ? st : gd_view_refresh(view);
}
