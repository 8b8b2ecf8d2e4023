/* Letting other threads run during long numeric loops (gd_set_loop_unlock),
 * and the thread count PyTorch's CPU kernels split their work by. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

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

static int env_threads(const char *name) {
    const char *s = getenv(name);
    if (!s)
        return 0;
    char *end;
    long n = strtol(s, &end, 10);
    return end != s && n > 0 && n < 4096 ? (int)n : 0;
}

int gd_torch_threads(void) {
    static int cached = 0;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v > 0)
        return v;
    v = env_threads("OMP_NUM_THREADS");
    if (!v)
        v = env_threads("MKL_NUM_THREADS");
    if (!v) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n > 0 && n < 4096 ? (int)n : 1;
    }
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    return v;
}

void gd_run_jobs(void *(*job)(void *), void *args, size_t size, int n, bool threaded) {
    pthread_t tid[GD_MAX_THREADS];
    bool started[GD_MAX_THREADS] = {false};
    for (int i = 1; i < n && threaded; i++)
        started[i] = pthread_create(&tid[i], NULL, job, (char *)args + i * size) == 0;
    for (int i = 0; i < n; i++)
        if (!started[i])
            job((char *)args + i * size);
    for (int i = 1; i < n; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
}
