/*
 * pt_shmem.c: anonymous shared mappings and the robust process-shared mutex.
 *
 * The master maps every zone before it forks, so the workers inherit the
 * same pages.  The mutex lives inside the zone; it is PTHREAD_PROCESS_SHARED
 * so it works across processes, and PTHREAD_MUTEX_ROBUST so that a worker
 * killed while holding it (SIGKILL, a crash) does not deadlock the others:
 * the next locker gets EOWNERDEAD, marks the mutex consistent and goes on.
 */

#include "portico.h"

static pt_log_t *pt_shmtx_log(void);


/* Maps shm->size bytes shared between the master and its future children. */
pt_int_t
pt_shm_alloc(pt_shm_t *shm)
{
    void  *p;

    p = mmap(NULL, shm->size, PROT_READ|PROT_WRITE, MAP_ANON|MAP_SHARED, -1, 0);

    if (p == MAP_FAILED) {
        pt_log_error(PT_LOG_ALERT, shm->log, pt_errno,
                     "mmap(MAP_ANON|MAP_SHARED, %zu) failed", shm->size);
        return PT_ERROR;
    }

    shm->addr = p;

    return PT_OK;
}


/* Unmaps a zone; children that have it keep their own mapping. */
void
pt_shm_free(pt_shm_t *shm)
{
    if (shm->addr == NULL) {
        return;
    }

    if (munmap(shm->addr, shm->size) == -1) {
        pt_log_error(PT_LOG_ALERT, shm->log, pt_errno,
                     "munmap(%p, %zu) failed", (void *) shm->addr, shm->size);
    }

    shm->addr = NULL;
}


/* The log for mutex trouble: the current cycle's, when there is one. */
static pt_log_t *
pt_shmtx_log(void)
{
    return (pt_cycle && pt_cycle->log) ? pt_cycle->log : NULL;
}


/* Initializes the robust process-shared mutex at mutex (inside shared
 * memory) and points mtx at it.  Call it once, when the zone is created,
 * never on a zone reused across a reload: workers may hold it. */
pt_int_t
pt_shmtx_create(pt_shmtx_t *mtx, pthread_mutex_t *mutex)
{
    int                  err;
    pt_log_t            *log;
    pthread_mutexattr_t  attr;

    log = pt_shmtx_log();

    err = pthread_mutexattr_init(&attr);
    if (err != 0) {
        goto failed;
    }

    err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (err == 0) {
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (err == 0) {
        err = pthread_mutex_init(mutex, &attr);
    }

    (void) pthread_mutexattr_destroy(&attr);

    if (err != 0) {
        goto failed;
    }

    mtx->mutex = mutex;

    return PT_OK;

failed:

    if (log) {
        pt_log_error(PT_LOG_ALERT, log, err, "shared mutex initialization failed");
    }

    return PT_ERROR;
}


/* The owner died holding the lock: the protected data may be half
 * updated, but waiting forever would be worse.  Make it usable again. */
static void
pt_shmtx_recover(pt_shmtx_t *mtx)
{
    pt_log_t  *log;

    (void) pthread_mutex_consistent(mtx->mutex);

    log = pt_shmtx_log();
    if (log) {
        pt_log_error(PT_LOG_ALERT, log, 0, "shared mutex owner died, lock recovered");
    }
}


/* Blocks until the lock is held. */
void
pt_shmtx_lock(pt_shmtx_t *mtx)
{
    int        err;
    pt_log_t  *log;

    err = pthread_mutex_lock(mtx->mutex);

    if (err == 0) {
        return;
    }

    if (err == EOWNERDEAD) {
        pt_shmtx_recover(mtx);
        return;
    }

    log = pt_shmtx_log();
    if (log) {
        pt_log_error(PT_LOG_ALERT, log, err, "pthread_mutex_lock() failed");
    }
}


/* Takes the lock if it is free; 1 when it is now held, 0 otherwise. */
pt_uint_t
pt_shmtx_trylock(pt_shmtx_t *mtx)
{
    int        err;
    pt_log_t  *log;

    err = pthread_mutex_trylock(mtx->mutex);

    if (err == 0) {
        return 1;
    }

    if (err == EOWNERDEAD) {
        pt_shmtx_recover(mtx);
        return 1;
    }

    if (err != EBUSY) {
        log = pt_shmtx_log();
        if (log) {
            pt_log_error(PT_LOG_ALERT, log, err, "pthread_mutex_trylock() failed");
        }
    }

    return 0;
}


/* Releases the lock; an error means a caller bug and is only logged. */
void
pt_shmtx_unlock(pt_shmtx_t *mtx)
{
    int        err;
    pt_log_t  *log;

    err = pthread_mutex_unlock(mtx->mutex);

    if (err != 0) {
        log = pt_shmtx_log();
        if (log) {
            pt_log_error(PT_LOG_ALERT, log, err, "pthread_mutex_unlock() failed");
        }
    }
}
