/* Thread pool of the fast CPU back end (cpu.h): workers started once, a job handed out as ranges through
 * one atomic counter, workers spinning briefly between jobs (the ops of a model follow each other within
 * microseconds) and then sleeping on a condition variable. */
#define _GNU_SOURCE
#include "backends/cpu/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 256
/* How long a waiting thread polls before it sleeps: the ops of a model follow each other within microseconds,
 * while a machine with more runnable threads than processors punishes longer spinning. */
#define SPIN_NS 30000

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Between polls: a pause, and every 16th time the processor offered to another thread (sched_yield).  When the
 * machine has fewer free processors than the pool has threads, the thread this one waits for often waits for this
 * very processor: polling without yielding cost the dog classifier 2.4 ms a picture (6.0 → 8.4 ms on 2 threads
 * that shared one processor), and on an idle processor the call returns at once. */
static void relax(int i) {
    if ((i & 15) == 0)
        sched_yield();
    else
        CPU_RELAX();
}

/* Polls until *word differs from `old` (returns true) or SPIN_NS pass (false). */
static bool spin_while_equal(atomic_uint_fast64_t *word, uint_fast64_t old) {
    const int64_t start = now_ns();
    for (int i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) != old) return true;
        relax(i);
        if ((i & 15) == 0 && now_ns() - start > SPIN_NS) return false;
    }
}

static bool spin_while_positive(atomic_int *word) {
    const int64_t start = now_ns();
    for (int i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) <= 0) return true;
        relax(i);
        if ((i & 15) == 0 && now_ns() - start > SPIN_NS) return false;
    }
}

typedef struct {
    void *scratch;
    size_t size;
} slot;

struct glnn_cpu_pool {
    int n; /* threads, the caller included */
    pthread_t *workers;
    slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_uint_fast64_t generation; /* advanced by every job */
    atomic_int sleepers;             /* workers blocked (or about to block) on `wake` */
    atomic_bool caller_sleeping;
    atomic_bool stop;
    /* The current job, written before `generation` advances. */
    glnn_cpu_range_fn fn;
    void *arg;
    int64_t items, grain;
    atomic_int_fast64_t next;
    atomic_int active; /* workers still in the current job */
};

typedef struct {
    glnn_cpu_pool *pool;
    int index;
} worker_arg;

static void run_ranges(glnn_cpu_pool *p, int thread) {
    const int64_t n = p->items, grain = p->grain;
    for (;;) {
        const int64_t b = atomic_fetch_add_explicit(&p->next, grain, memory_order_relaxed);
        if (b >= n) break;
        p->fn(p->arg, b, b + grain < n ? b + grain : n, thread);
    }
}

static void *worker_main(void *a) {
    worker_arg *wa = a;
    glnn_cpu_pool *p = wa->pool;
    const int index = wa->index;
    free(wa);
    uint_fast64_t seen = 0;
    for (;;) {
        uint_fast64_t g = seen;
        if (spin_while_equal(&p->generation, seen)) g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        run_ranges(p, index);
        if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1 && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static int default_threads(void) {
    const char *e = getenv("GLNN_THREADS");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (*end == '\0' && v > 0) return v > MAX_THREADS ? MAX_THREADS : (int)v;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n > MAX_THREADS ? MAX_THREADS : n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Wakes the workers for a new job (or for stopping). */
static void publish(glnn_cpu_pool *p) {
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

static void stop_workers(glnn_cpu_pool *p, int started) {
    atomic_store(&p->stop, true);
    publish(p);
    for (int i = 0; i < started; i++)
        pthread_join(p->workers[i], NULL);
}

glnn_status glnn_cpu_pool_create(int threads, glnn_cpu_pool **out, glnn_error *err) {
    if (!out) return glnn_fail(err, GLNN_ERR_ARGUMENT, "create CPU thread pool: no output handle");
    if (threads <= 0) threads = default_threads();
    if (threads > MAX_THREADS)
        return glnn_fail(err, GLNN_ERR_ARGUMENT, "create CPU thread pool: %d threads asked, at most %d", threads,
                         MAX_THREADS);
    glnn_cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return glnn_fail(err, GLNN_ERR_MEMORY, "create CPU thread pool: out of memory");
    p->n = threads;
    p->slots = calloc((size_t)threads, sizeof *p->slots);
    p->workers = threads > 1 ? calloc((size_t)threads - 1, sizeof *p->workers) : NULL;
    if (!p->slots || (threads > 1 && !p->workers)) {
        free(p->slots);
        free(p->workers);
        free(p);
        return glnn_fail(err, GLNN_ERR_MEMORY, "create CPU thread pool: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeping, false);
    atomic_init(&p->stop, false);
    atomic_init(&p->next, 0);
    atomic_init(&p->active, 0);
    for (int i = 0; i < threads - 1; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        int rc = wa ? 0 : ENOMEM;
        if (wa) {
            *wa = (worker_arg){p, i + 1};
            rc = pthread_create(&p->workers[i], NULL, worker_main, wa);
            if (rc != 0) free(wa);
        }
        if (rc != 0) {
            stop_workers(p, i);
            pthread_mutex_destroy(&p->mu);
            pthread_cond_destroy(&p->wake);
            pthread_cond_destroy(&p->done);
            free(p->workers);
            free(p->slots);
            free(p);
            return glnn_fail(err, GLNN_ERR_MEMORY, "create CPU thread pool: cannot start thread %d of %d: %s", i + 2,
                             threads, strerror(rc));
        }
    }
    *out = p;
    return GLNN_OK;
}

void glnn_cpu_pool_free(glnn_cpu_pool *p) {
    if (!p) return;
    stop_workers(p, p->n - 1);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    for (int i = 0; i < p->n; i++)
        free(p->slots[i].scratch);
    free(p->slots);
    free(p->workers);
    free(p);
}

int glnn_cpu_pool_size(const glnn_cpu_pool *p) {
    return p ? p->n : 1;
}

void glnn_cpu_parallel_for(glnn_cpu_pool *p, int64_t n, int64_t grain, glnn_cpu_range_fn fn, void *arg) {
    if (n <= 0) return;
    const int threads = p ? p->n : 1;
    /* Static split: one range per thread; handed out through the same counter, so that the caller takes a
     * second range when a worker is late rather than waiting for it. */
    if (grain <= 0) grain = (n + threads - 1) / threads;
    if (threads == 1 || grain >= n) {
        for (int64_t b = 0; b < n; b += grain)
            fn(arg, b, b + grain < n ? b + grain : n, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->items = n;
    p->grain = grain;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->active, p->n - 1, memory_order_relaxed);
    publish(p);
    run_ranges(p, 0);
    if (!spin_while_positive(&p->active)) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_sleeping, true);
        while (atomic_load(&p->active) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->caller_sleeping, false);
        pthread_mutex_unlock(&p->mu);
    }
}

glnn_status glnn_cpu_pool_reserve(glnn_cpu_pool *p, size_t bytes, const char *what, glnn_error *err) {
    if (!p) return glnn_fail(err, GLNN_ERR_ARGUMENT, "%s: no CPU thread pool", what);
    bytes = (bytes + 63) & ~(size_t)63;
    bool enough = true;
    for (int i = 0; i < p->n && enough; i++)
        enough = p->slots[i].size >= bytes;
    if (enough) return GLNN_OK; /* every run of a model after the first */
    void **fresh = calloc((size_t)p->n, sizeof *fresh);
    if (!fresh) return glnn_fail(err, GLNN_ERR_MEMORY, "%s: out of memory", what);
    bool ok = true;
    for (int i = 0; i < p->n && ok; i++)
        if (p->slots[i].size < bytes) ok = posix_memalign(&fresh[i], 64, bytes) == 0;
    if (!ok) {
        for (int i = 0; i < p->n; i++)
            free(fresh[i]);
        free(fresh);
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: cannot allocate %zu bytes of scratch memory per thread", what,
                         bytes);
    }
    for (int i = 0; i < p->n; i++)
        if (fresh[i]) {
            free(p->slots[i].scratch);
            p->slots[i].scratch = fresh[i];
            p->slots[i].size = bytes;
        }
    free(fresh);
    return GLNN_OK;
}

void *glnn_cpu_pool_scratch(glnn_cpu_pool *p, int thread) {
    return p && thread >= 0 && thread < p->n ? p->slots[thread].scratch : NULL;
}
