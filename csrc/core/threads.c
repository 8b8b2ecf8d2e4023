/* Letting other threads run during long numeric loops (gd_set_loop_unlock),
 * and the thread count PyTorch's CPU kernels split their work by. */
#define _GNU_SOURCE /* clock_gettime; sched_getcpu and CPU sets on Linux */
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
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

bool gd_loops_may_unlock(int64_t work) {
    /* The size first: most loops are small, and thread-locals cost a lookup. */
    return work >= GD_UNLOCK_MIN_WORK && loop_unlock && !unlocked && !keep_lock;
}

/* The token for "unlocked, and the embedder's state was NULL". */
static char null_state;

void *gd_loop_begin(int64_t work) {
    if (!gd_loops_may_unlock(work))
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

void gd_unlock_for(gd_unlocked *u, int64_t work, int nops,
                   const gd_tensor *const *ops) {
    u->n = 0;
    u->state = NULL;
    if (!gd_loops_may_unlock(work))
        return;
    for (int i = 0; i < nops && i < GD_ITER_MAX_OPERANDS; i++) {
        gd_storage_incref(ops[i]->storage);
        u->held[u->n++] = ops[i]->storage;
    }
    u->state = gd_loop_begin(work);
}

void gd_relock(gd_unlocked *u) {
    gd_loop_end(u->state);
    for (int i = 0; i < u->n; i++)
        gd_storage_decref(u->held[i]);
    u->n = 0;
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

int gd_aten_chunks(int64_t n, int64_t grain, int64_t *size) {
    int64_t threads = gd_torch_threads(), chunks = (n + grain - 1) / grain;
    if (n < grain || threads < 2) {
        *size = n;
        return 1;
    }
    if (chunks > threads)
        chunks = threads;
    if (chunks > GD_MAX_THREADS)
        chunks = GD_MAX_THREADS;
    *size = (n + chunks - 1) / chunks;
    return (int)((n + *size - 1) / *size);
}

/* ---- worker pool ----------------------------------------------------------
 *
 * Starting a thread per call costs tens of microseconds on a small VM, more
 * than a chunk of ATen's grain takes; PyTorch's OpenMP workers stay up and
 * spin between parallel regions. The pool does the same, but is only ever a
 * help: the calling thread claims every job no worker has claimed yet, so a
 * batch finishes whether or not any worker wakes (after fork() in a child, a
 * worker that failed to start, a pool busy with another thread's batch).
 * Job k belongs to worker k (the caller runs job 0 first), as OpenMP's
 * static schedule gives a thread the same chunk each time: a chunk that was
 * read last call is still in that core's cache. */

#define POOL_SPIN_NS 200000 /* how long an idle worker watches for more work */

typedef struct {
    void *(*job)(void *);
    char *args;
    size_t size;
    int n;
    int claimed[GD_MAX_THREADS]; /* 1 once a thread has taken job k */
    int done;                    /* jobs finished by workers */
} pool_batch;

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* one batch at a time */
static pthread_mutex_t pool_wake = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static uint64_t pool_generation; /* bumped (under pool_wake) per batch */
static pool_batch *pool_current; /* the running batch, or NULL */
static int pool_users;           /* workers that may be reading pool_current */
static int pool_workers;         /* started in this process */
static pthread_t pool_tids[GD_MAX_THREADS];
static int pool_kept_off = -1; /* the CPU the workers are kept off (-1: none) */
static bool pool_atfork_set;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Runs job k of b unless another thread has taken it; returns 1 if it ran. */
static int claim_job(pool_batch *b, int k) {
    int free_slot = 0;
    if (k >= b->n || !__atomic_compare_exchange_n(&b->claimed[k], &free_slot, 1, false,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return 0;
    b->job(b->args + (size_t)k * b->size);
    return 1;
}

static void *pool_worker(void *slot) {
    int own = (int)(intptr_t)slot; /* this worker's job in every batch */
    uint64_t seen = __atomic_load_n(&pool_generation, __ATOMIC_SEQ_CST);
    for (;;) {
        /* Watch for the next batch a while, then sleep until one comes. */
        uint64_t start = now_ns();
        int spins = 0;
        while (__atomic_load_n(&pool_generation, __ATOMIC_SEQ_CST) == seen) {
            cpu_relax();
            if (++spins % 64 == 0 && now_ns() - start > POOL_SPIN_NS) {
                pthread_mutex_lock(&pool_wake);
                while (__atomic_load_n(&pool_generation, __ATOMIC_SEQ_CST) == seen)
                    pthread_cond_wait(&pool_cond, &pool_wake);
                pthread_mutex_unlock(&pool_wake);
            }
        }
        seen = __atomic_load_n(&pool_generation, __ATOMIC_SEQ_CST);
        /* Registered before reading the batch: the caller waits for users to
         * leave before its batch (on its stack) goes away. */
        __atomic_fetch_add(&pool_users, 1, __ATOMIC_SEQ_CST);
        pool_batch *b = __atomic_load_n(&pool_current, __ATOMIC_SEQ_CST);
        if (b)
            __atomic_fetch_add(&b->done, claim_job(b, own), __ATOMIC_SEQ_CST);
        __atomic_fetch_sub(&pool_users, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* In a forked child the workers are gone and the locks may be held by
 * threads that do not exist there: start over. */
static void pool_after_fork_child(void) {
    pthread_mutex_init(&pool_busy, NULL);
    pthread_mutex_init(&pool_wake, NULL);
    pthread_cond_init(&pool_cond, NULL);
    pool_current = NULL;
    pool_users = 0;
    pool_workers = 0;
    pool_kept_off = -1;
}

/* Starts workers up to `want` (called holding pool_busy). */
static void pool_grow(int want) {
    if (!pool_atfork_set) {
        pool_atfork_set = pthread_atfork(NULL, NULL, pool_after_fork_child) == 0;
        if (!pool_atfork_set)
            return;
    }
    while (pool_workers < want) {
        pthread_t tid;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr))
            return;
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&tid, &attr, pool_worker,
                                    (void *)(intptr_t)(pool_workers + 1));
        pthread_attr_destroy(&attr);
        if (failed)
            return;
        pool_tids[pool_workers++] = tid;
        pool_kept_off = -1; /* the new one has every CPU: set again */
    }
}

/* A sleeping worker woken by the caller is often placed on the caller's
 * CPU (the scheduler's wake-affine choice), where it waits behind the
 * caller, and the load balancer leaves it there for a long while (about a
 * second on a 2-CPU VM): every batch then runs on the caller alone, at half
 * speed. So the workers may run on every CPU the process may, but the one
 * the caller is on; when the caller moves, they follow (a syscall per worker,
 * only then). Called holding pool_busy. */
static void keep_workers_off_caller_cpu(void) {
#if defined(__linux__)
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || cpu == pool_kept_off)
        return;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed))
        return;
    CPU_CLR(cpu, &allowed);
    if (CPU_COUNT(&allowed) == 0)
        return;
    for (int i = 0; i < pool_workers; i++)
        pthread_setaffinity_np(pool_tids[i], sizeof allowed, &allowed);
    pool_kept_off = cpu;
#endif
}

bool gd_run_pooled(void *(*job)(void *), void *args, size_t size, int n) {
    if (n < 2 || pthread_mutex_trylock(&pool_busy))
        return false;
    pool_grow(n - 1 < GD_MAX_THREADS ? n - 1 : GD_MAX_THREADS);
    keep_workers_off_caller_cpu();
    pool_batch b = {.job = job, .args = args, .size = size, .n = n};
    __atomic_store_n(&pool_current, &b, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&pool_wake);
    __atomic_fetch_add(&pool_generation, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&pool_cond);
    pthread_mutex_unlock(&pool_wake);
    int ran = 0;
    for (int k = 0; k < n; k++) /* its own job 0, then any no worker took */
        ran += claim_job(&b, k);
    /* Jobs a worker claimed are running: wait for them to finish. */
    while (__atomic_load_n(&b.done, __ATOMIC_SEQ_CST) + ran < n)
        cpu_relax();
    __atomic_store_n(&pool_current, NULL, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&pool_users, __ATOMIC_SEQ_CST) != 0)
        cpu_relax();
    pthread_mutex_unlock(&pool_busy);
    return true;
}

void gd_run_jobs(void *(*job)(void *), void *args, size_t size, int n, bool threaded) {
    if (threaded && gd_run_pooled(job, args, size, n))
        return;
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
