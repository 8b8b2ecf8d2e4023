/* Gradient hooks: refcounted, in lists that know their links, so a hook
 * can be removed through its handle whatever became of its tensor, and a
 * backward can run a list while its hooks remove or add hooks. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* What a handle holds: the hook while it lives (cleared when it is freed). */
struct gd_hook_token {
    int64_t refcount;
    int64_t id;
    gd_hook *hook; /* borrowed */
};

void gd_hook_token_decref(gd_hook_token *token) {
    if (token && --token->refcount == 0)
        free(token);
}

int64_t gd_hook_token_id(const gd_hook_token *token) {
    return token->id;
}

void gd_hook_incref(gd_hook *h) {
    h->refcount++;
}

void gd_hook_decref(gd_hook *h) {
    if (!h || --h->refcount > 0)
        return;
    if (h->token) {
        h->token->hook = NULL;
        gd_hook_token_decref(h->token);
    }
    if (h->release)
        h->release(h->context);
    free(h);
}

void gd_hook_unlink(gd_hook *h) {
    if (!h->pprev)
        return;
    *h->pprev = h->next;
    if (h->next)
        h->next->pprev = h->pprev;
    h->next = NULL;
    h->pprev = NULL;
    gd_hook_decref(h);
}

void gd_hook_token_remove(gd_hook_token *token) {
    if (token->hook)
        gd_hook_unlink(token->hook);
}

/* Drops a list already detached from its owner. Every hook is marked
 * unlinked first: a release callback may run user code that removes hooks
 * through their handles or edits the owner's new list, never this chain. */
void gd_hooks_free(gd_hook *h) {
    for (gd_hook *p = h; p; p = p->next)
        p->pprev = NULL;
    while (h) {
        gd_hook *next = h->next;
        h->next = NULL;
        gd_hook_decref(h);
        h = next;
    }
}

static gd_status add_hook_to(gd_hook **list, gd_hook_fn fn, gd_release_fn release,
                             void *ctx, gd_hook_token **token) {
    static int64_t next_id = 1;
    gd_hook *h = calloc(1, sizeof *h);
    gd_hook_token *tok = token ? calloc(1, sizeof *tok) : NULL;
    if (!h || (token && !tok)) {
        free(h);
        free(tok);
        if (release)
            release(ctx);
        return gd_error(GD_ERR_NOMEM, "out of memory");
    }
    h->fn = fn;
    h->release = release;
    h->context = ctx;
    h->refcount = 1;
    h->id = next_id++;
    if (tok) { /* one reference for the hook, one for the caller */
        tok->refcount = 2;
        tok->id = h->id;
        tok->hook = h;
        h->token = tok;
        *token = tok;
    }
    gd_hook **tail = list;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    h->pprev = tail;
    return GD_OK;
}

gd_status gd_add_hook(gd_tensor *t, gd_hook_fn fn, gd_release_fn release, void *ctx,
                      gd_hook_token **token) {
    if (token)
        *token = NULL;
    gd_status refreshed = gd_view_refresh(t);
    if (refreshed) {
        if (release)
            release(ctx);
        return refreshed;
    }
    if (!gd_requires_grad(t)) {
        if (release)
            release(ctx);
        return gd_error(
            GD_ERR_RUNTIME,
            "cannot register a hook on a tensor that doesn't require gradient");
    }
    gd_node *fn_node = gd_grad_fn(t);
    gd_status st = gd_check_first_output(t, "hooks on");
    if (st) {
        if (release)
            release(ctx);
        return st;
    }
    return add_hook_to(fn_node ? &fn_node->hooks : &t->autograd->hooks, fn, release,
                       ctx, token);
}

/* A hook's result must be the gradient it was given, changed in value only. */
static gd_status check_hook_result(const gd_tensor *was, const gd_tensor *got) {
    GD_CHECK(got->dtype == was->dtype, GD_ERR_RUNTIME,
             "hook '<unknown>' has changed the type of value (was gdlite.%s got "
             "gdlite.%s)",
             gd_dtype_legacy_name(was->dtype), gd_dtype_legacy_name(got->dtype));
    GD_CHECK(got->ndim == was->ndim && memcmp(got->shape, was->shape,
                                              sizeof(int64_t) * (size_t)was->ndim) == 0,
             GD_ERR_RUNTIME, "hook '<unknown>' has changed the size of value");
    return GD_OK;
}

/* Runs the hooks the list holds now, in order. Each is held for the walk, so
 * a hook may remove itself or others (they still run this time, as in
 * PyTorch), add hooks (they run from the next backward on), or drop the
 * tensor that owns the list. */
gd_status gd_hooks_run(const gd_hook *list, gd_tensor **grad) {
    gd_hook *local[8], **held = local;
    int64_t n = 0, k = 0;
    gd_status st = GD_OK;
    for (const gd_hook *h = list; h; h = h->next)
        n++;
    if (n == 0)
        return GD_OK;
    if (n > 8 && !(held = malloc(sizeof *held * (size_t)n)))
        return gd_error(GD_ERR_NOMEM, "out of memory");
    for (gd_hook *h = (gd_hook *)list; h; h = h->next) {
        h->refcount++;
        held[k++] = h;
    }
    for (k = 0; k < n && !st; k++) {
        gd_tensor *replacement = NULL;
        st = held[k]->fn(held[k]->context, *grad, &replacement);
        if (!st && replacement)
            st = check_hook_result(*grad, replacement);
        if (st) {
            gd_tensor_decref(replacement);
        } else if (replacement) {
            gd_tensor_decref(*grad);
            *grad = replacement;
        }
    }
    for (k = 0; k < n; k++)
        gd_hook_decref(held[k]);
    if (held != local)
        free(held);
    return st;
}
