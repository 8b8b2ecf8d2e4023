/* Letting other threads run during long numeric loops (gd_set_loop_unlock). */
#include "internal.h"

static gd_unlock_fn loop_unlock;
static gd_relock_fn loop_relock;
/* Loops nest (a reduction may copy its input first): a bracket inside an
 * unlocked one does nothing, so each relock pairs with this thread's unlock. */
static _Thread_local bool unlocked;
/* Stretches where loops keep the lock (gd_loop_keep_lock). */
static _Thread_local int keep_lock;

void gd_set_loop_unlock(gd_unlock_fn unlock, gd_relock_fn relock) {
    loop_unlock = unlock;
    loop_relock = relock;
}

/* The token for "unlocked, and the embedder's state was NULL". */
static char null_state;

void *gd_loop_begin(int64_t work) {
    /* The size first: most loops are small, and thread-locals cost a lookup. */
    if (work < GD_UNLOCK_MIN_WORK || !loop_unlock || unlocked || keep_lock)
        return NULL;
    void *state = loop_unlock();
    unlocked = true;
    return state ? state : &null_state;
}

void gd_loop_end(void *state) {
    if (!state)
        return;
    unlocked = false;
    loop_relock(state == &null_state ? NULL : state);
}

void gd_loop_keep_lock(bool keep) {
    keep_lock += keep ? 1 : -1;
}
