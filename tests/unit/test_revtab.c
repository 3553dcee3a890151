/*
 * test_revtab.c — the shared-memory revocation table (aj_revtab): layout and
 * format, lookups of jtis and users, precomputed keys, and the lock-free
 * readers under a concurrent writer.  Writers, compaction and recovery:
 * test_revtab_write.c; each store's bookkeeping: test_revtab_stores.c.
 */
#include <pthread.h>

#include "aj_test.h"
#include "aj_revtab.h"
#include "revtab.h"

/* ---- layout ----------------------------------------------------------------- */

static void test_size_and_format(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t s64 = aj_revtab_size(64, 1);
    char *mem;

    assert_int_equal(aj_revtab_size(0, 1), s64);
    assert_int_equal(aj_revtab_size(1, 0), s64); /* at least one store */
    assert_int_equal(aj_revtab_size(65, 1), aj_revtab_size(128, 1));
    assert_true(aj_revtab_size(128, 1) > s64);
    assert_int_equal(aj_revtab_size(128, 1) - s64, 64 * 32);
    assert_int_equal(aj_revtab_size(1000000, 1) - s64, ((apr_size_t)1 << 20) * 32 - 64 * 32);
    assert_int_equal(aj_revtab_size(64, 3) - s64, 2 * 64); /* a record per store */

    mem = apr_palloc(p, aj_revtab_size(64, T_NSTORES) + 8);
    assert_null(aj_revtab_format(NULL, s64, 64, aj_test_revtab_ids, 1));
    assert_null(aj_revtab_format(mem, s64 - 1, 64, aj_test_revtab_ids, 1));
    assert_null(aj_revtab_format(mem + 1, s64, 64, aj_test_revtab_ids, 1)); /* misaligned */
    assert_null(aj_revtab_format(mem, s64, 64, aj_test_revtab_ids, 0));     /* no store */
    assert_null(aj_revtab_format(mem, s64, 64, NULL, 1));
    assert_null(aj_revtab_format(mem, s64, 64, aj_test_revtab_ids, 2)); /* too small for two */
    assert_null(aj_revtab_format(mem, s64, 64, aj_test_revtab_ids, AJ_REVTAB_MAX_STORES + 1));
    assert_non_null(aj_revtab_format(mem, s64, 64, aj_test_revtab_ids, 1));
    assert_int_equal(aj_revtab_stores(aj_revtab_format(mem, aj_revtab_size(64, T_NSTORES), 64,
                                                       aj_test_revtab_ids, T_NSTORES)),
                     T_NSTORES);
}

/* ---- jti -------------------------------------------------------------------- */

static void test_empty_table(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

    assert_int_equal(aj_revtab_count(t), 0);
    assert_false(aj_revtab_jti_revoked(t, T_S, "abc", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, NULL, T_NOW));
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), 0);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, NULL), 0);
    assert_false(aj_revtab_overflowed(t, T_S));
    assert_false(aj_revtab_loaded(t, T_S));
    assert_int_equal(aj_revtab_next_refresh(t, T_S), 0);
    assert_int_equal(aj_revtab_watermark(t, T_S), 0);
}

static void test_put_jti(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok-1", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-2", T_NOW));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-", T_NOW));
    assert_int_equal(aj_revtab_count(t), 1);

    /* idempotent; a later exp wins, an earlier one does not shorten it */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_FAR, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_NOW + 1, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_count(t), 1);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok-1", T_FAR - 1));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok-1", T_FAR));

    /* a jti is not a user */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "tok-1"), 0);

    assert_int_equal(aj_revtab_put_jti(t, T_S, NULL, T_LATER, T_NOW), APR_EINVAL);
    assert_int_equal(aj_revtab_put_jti(NULL, T_S, "x", T_LATER, T_NOW), APR_EINVAL);
}

static void test_expired_jti(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok", T_NOW + 10, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "tok", T_NOW + 9));
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok", T_NOW + 10)); /* exp > now only */
    assert_false(aj_revtab_jti_revoked(t, T_S, "tok", T_LATER));

    /* a revocation that is already over takes no room */
    assert_int_equal(aj_revtab_put_jti(t, T_S, "old", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "older", T_NOW - 5, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_count(t), 1);
    assert_false(aj_revtab_jti_revoked(t, T_S, "old", T_NOW - 10));
}

/* ---- user ------------------------------------------------------------------- */

static void test_user_valid_after(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));

    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_NOW);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "43"), 0);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "4"), 0);

    /* a later value wins */
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW - 100, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_NOW);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_count(t), 1);

    /* 0 is ignored */
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", 0, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_put_user(t, T_S, "7", 0, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "7"), 0);
    assert_int_equal(aj_revtab_count(t), 1);

    /* a user entry never expires, and is not a jti */
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_false(aj_revtab_jti_revoked(t, T_S, "42", T_NOW));
    assert_int_equal(aj_revtab_put_jti(t, T_S, "42", T_FAR, T_NOW), APR_SUCCESS);
    assert_true(aj_revtab_jti_revoked(t, T_S, "42", T_NOW));
    assert_int_equal(aj_revtab_user_valid_after(t, T_S, "42"), T_LATER);
    assert_int_equal(aj_revtab_count(t), 2);

    assert_int_equal(aj_revtab_put_user(t, T_S, NULL, T_NOW, T_NOW), APR_EINVAL);
}

/* ---- keys --------------------------------------------------------------------- */

/* Keys computed once answer exactly as the names do; a jti and a user of
 * the same text have different keys. */
static void test_precomputed_keys(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    aj_revtab_key_t jk, uk, same_text, other;
    apr_int64_t v = -1;
    int revoked = -1;

    assert_int_equal(aj_revtab_jti_key(&jk, t, T_S, "tok-1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&uk, t, T_S, "42"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&same_text, t, T_S, "tok-1"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, "tok-2"), APR_SUCCESS);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, NULL), APR_EINVAL);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_NSTORES, "tok-2"), APR_EINVAL);
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, "tok-2"), APR_SUCCESS);
    assert_memory_not_equal(&jk, &same_text, sizeof(jk));

    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, &uk), APR_SUCCESS);
    assert_int_equal(v, 0);
    assert_int_equal(aj_revtab_put_jti(t, T_S, "tok-1", T_LATER, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_put_user(t, T_S, "42", T_NOW + 5, T_NOW), APR_SUCCESS);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_NOW), APR_SUCCESS);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &jk, T_LATER), APR_SUCCESS);
    assert_false(revoked); /* expired */
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &other, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, &same_text, T_NOW), APR_SUCCESS);
    assert_false(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, &uk), APR_SUCCESS);
    assert_int_equal(v, T_NOW + 5);
    assert_int_equal(aj_revtab_key_value(&v, t, &same_text), APR_SUCCESS);
    assert_int_equal(v, 0);
    /* NULL arguments fail closed */
    assert_int_equal(aj_revtab_key_revoked(&revoked, NULL, &jk, T_NOW), APR_EINVAL);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_revoked(&revoked, t, NULL, T_NOW), APR_EINVAL);
    assert_true(revoked);
    assert_int_equal(aj_revtab_key_value(&v, t, NULL), APR_EINVAL);
    assert_int_equal(v, APR_INT64_MAX);
}

/* ---- concurrency ---------------------------------------------------------------- */

/* A concurrency run: one writer thread fills the table while MT_READERS
 * reader threads check it until the writer is done.  Every reader checks
 * that a jti never inserted is never reported revoked, plus what its run's
 * check_fn looks at; counters are updated atomically. */
#define MT_READERS 4

typedef struct run_t run_t;
/* The writer's step i, at time now; buf is scratch for a jti. */
typedef void run_step_fn(run_t *run, unsigned i, apr_int64_t now, char *buf);
struct run_t {
    aj_revtab_t *t;
    unsigned steps; /* the writer runs step 0..steps-1 */
    run_step_fn *step;
    int done;
    unsigned long put_errors;
    unsigned long missing; /* a published jti reported not revoked */
    unsigned long phantom; /* a never-inserted jti reported revoked */
    unsigned long checks;
};

typedef struct run_reader run_reader;
/* One reader's check of what the writer has published so far. */
typedef void run_check_fn(run_reader *rd, char *buf);
struct run_reader {
    run_t *run;
    unsigned seed;
    run_check_fn *check;
};

static void *run_read(void *arg)
{
    run_reader *rd = arg;
    run_t *run = rd->run;
    char buf[T_NAME_LEN];
    unsigned long checks = 0;

    while (!__atomic_load_n(&run->done, __ATOMIC_ACQUIRE)) {
        rd->check(rd, buf);
        if (aj_revtab_jti_revoked(run->t, T_S,
                                  aj_test_revtab_name(buf, "never", (unsigned)rand_r(&rd->seed)),
                                  T_NOW)) {
            __atomic_add_fetch(&run->phantom, 1, __ATOMIC_RELAXED);
        }
        checks++;
    }
    __atomic_add_fetch(&run->checks, checks, __ATOMIC_RELAXED);
    return NULL;
}

/* A run of steps writer steps over a new table of that capacity (the
 * rest of *run zeroed). */
static void run_init(run_t *run, apr_pool_t *p, unsigned capacity, unsigned steps,
                     run_step_fn *step)
{
    memset(run, 0, sizeof(*run));
    run->t = aj_test_revtab_new(p, capacity);
    assert_non_null(run->t);
    run->steps = steps;
    run->step = step;
}

static void *run_write(void *arg)
{
    run_t *run = arg;
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < run->steps; i++) {
        run->step(run, i, T_NOW + i, buf);
    }
    __atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Permanent jtis "perm" 0..n-1 are all still revoked at now. */
static void assert_perm_revoked(aj_revtab_t *t, unsigned n, apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_true(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "perm", i), now));
    }
}

/* Starts the readers, then the writer (which sets run->done), joins all,
 * and asserts what holds for every run. */
static void run_threads(run_t *run, run_check_fn *check)
{
    pthread_t writer_thread, readers[MT_READERS];
    run_reader rd[MT_READERS];
    unsigned i;

    for (i = 0; i < MT_READERS; i++) {
        rd[i].run = run;
        rd[i].seed = i + 1;
        rd[i].check = check;
        assert_int_equal(pthread_create(&readers[i], NULL, run_read, &rd[i]), 0);
    }
    assert_int_equal(pthread_create(&writer_thread, NULL, run_write, run), 0);
    assert_int_equal(pthread_join(writer_thread, NULL), 0);
    for (i = 0; i < MT_READERS; i++) {
        assert_int_equal(pthread_join(readers[i], NULL), 0);
    }

    assert_int_equal(run->put_errors, 0);
    assert_int_equal(run->missing, 0);
    assert_int_equal(run->phantom, 0);
    assert_true(run->checks > 0);
    assert_false(aj_revtab_overflowed(run->t, T_S));
}

/* One writer puts MT_PUTS permanent jtis (plus as many short-lived ones,
 * which forces slot reuse and compaction) and raises a user's valid_after;
 * readers check that everything published is seen and nothing else. */
#define MT_PUTS       20000
#define MT_CAPACITY   32768
#define MT_USER_EVERY 16

typedef struct {
    run_t run;                  /* first: a run_t * is an mt_shared * */
    unsigned published;         /* permanent jtis 0..published-1 are in */
    apr_int64_t user_published; /* "alice" has at least this valid_after */
    unsigned long user_stale;   /* valid_after lower than published */
} mt_shared;

static void mt_step(run_t *run, unsigned i, apr_int64_t now, char *buf)
{
    mt_shared *sh = (mt_shared *)run;

    if (aj_revtab_put_jti(sh->run.t, T_S, aj_test_revtab_name(buf, "perm", i), T_FAR + MT_PUTS, now)
            != APR_SUCCESS
        || aj_revtab_put_jti(sh->run.t, T_S, aj_test_revtab_name(buf, "temp", i), now + 2, now)
               != APR_SUCCESS) {
        __atomic_add_fetch(&sh->run.put_errors, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&sh->published, i + 1, __ATOMIC_RELEASE);
    if (i % MT_USER_EVERY == 0) {
        if (aj_revtab_put_user(sh->run.t, T_S, "alice", now, now) != APR_SUCCESS) {
            __atomic_add_fetch(&sh->run.put_errors, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&sh->user_published, now, __ATOMIC_RELEASE);
    }
}

static void mt_check(run_reader *rd, char *buf)
{
    mt_shared *sh = (mt_shared *)rd->run;
    unsigned n, i;
    apr_int64_t va;

    n = __atomic_load_n(&sh->published, __ATOMIC_ACQUIRE);
    if (n) {
        i = (unsigned)rand_r(&rd->seed) % n;
        if (!aj_revtab_jti_revoked(sh->run.t, T_S, aj_test_revtab_name(buf, "perm", i), T_NOW)
            || !aj_revtab_jti_revoked(sh->run.t, T_S, aj_test_revtab_name(buf, "perm", n - 1),
                                      T_NOW)) {
            __atomic_add_fetch(&sh->run.missing, 1, __ATOMIC_RELAXED);
        }
    }
    va = __atomic_load_n(&sh->user_published, __ATOMIC_ACQUIRE);
    if (aj_revtab_user_valid_after(sh->run.t, T_S, "alice") < va) {
        __atomic_add_fetch(&sh->user_stale, 1, __ATOMIC_RELAXED);
    }
}

/* Short-lived jtis "temp" 0..n-1 have all expired at now. */
static void assert_temp_expired(aj_revtab_t *t, unsigned n, apr_int64_t now)
{
    char buf[T_NAME_LEN];
    unsigned i;

    for (i = 0; i < n; i++) {
        assert_false(aj_revtab_jti_revoked(t, T_S, aj_test_revtab_name(buf, "temp", i), now));
    }
}

/* A thread remembers the last user key it derived: a second derivation
 * gives the same key, and any other input (user, store, kind, a prefix or
 * a longer string) gives another. */
static void test_user_key_memo(void **state)
{
    aj_revtab_t *t = aj_test_revtab_small(AJ_POOL(state));
    aj_revtab_key_t first, again, other;
    char longer[T_NAME_LEN * 2 + 1];

    assert_int_equal(aj_revtab_user_key(&other, t, T_S, "x"), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&first, t, T_S, "42"), APR_SUCCESS); /* derived */
    assert_int_equal(aj_revtab_user_key(&again, t, T_S, "42"), APR_SUCCESS); /* memo */
    assert_memory_equal(&first, &again, sizeof(first));
    assert_int_equal(aj_revtab_user_key(&other, t, T_S + 1, "42"), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
    assert_int_equal(aj_revtab_user_key(&other, t, T_S, "4"), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
    assert_int_equal(aj_revtab_user_key(&other, t, T_S, "420"), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
    assert_int_equal(aj_revtab_changed_key(&other, t, T_S, "42"), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
    assert_int_equal(aj_revtab_jti_key(&other, t, T_S, "42"), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
    assert_int_equal(aj_revtab_user_key(&again, t, T_S, "42"), APR_SUCCESS);
    assert_memory_equal(&first, &again, sizeof(first));

    /* longer than the memo holds: derived each time, the same each time */
    memset(longer, 'u', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(aj_revtab_user_key(&first, t, T_S, longer), APR_SUCCESS);
    assert_int_equal(aj_revtab_user_key(&again, t, T_S, longer), APR_SUCCESS);
    assert_memory_equal(&first, &again, sizeof(first));
    longer[T_NAME_LEN] = '\0';
    assert_int_equal(aj_revtab_user_key(&other, t, T_S, longer), APR_SUCCESS);
    assert_memory_not_equal(&first, &other, sizeof(first));
}

static void test_threads(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    mt_shared sh;

    memset(&sh, 0, sizeof(sh));
    run_init(&sh.run, p, MT_CAPACITY, MT_PUTS, mt_step);
    run_threads(&sh.run, mt_check);

    assert_int_equal(sh.user_stale, 0);
    assert_perm_revoked(sh.run.t, MT_PUTS, T_NOW + MT_PUTS);
    assert_temp_expired(sh.run.t, MT_PUTS - 2, T_NOW + MT_PUTS);
    assert_int_equal(aj_revtab_user_valid_after(sh.run.t, T_S, "alice"),
                     T_NOW + (MT_PUTS - 1) / MT_USER_EVERY * MT_USER_EVERY);
    /* 2 * MT_PUTS jtis went through a table of 3/4 * MT_CAPACITY entries */
    assert_true(aj_revtab_count(sh.run.t) <= MT_CAPACITY / 4 * 3);
}

/* Churn: a small table holds CH_LIVE permanent jtis while the writer pours
 * short-lived ones through it, so the table is compacted (and permanent
 * entries move) hundreds of times under the readers' feet. */
#define CH_CAPACITY 1024
#define CH_LIVE     512
#define CH_PUTS     100000

static void ch_step(run_t *run, unsigned i, apr_int64_t now, char *buf)
{
    if (aj_revtab_put_jti(run->t, T_S, aj_test_revtab_name(buf, "churn", i), now + 1, now)
        != APR_SUCCESS) {
        __atomic_add_fetch(&run->put_errors, 1, __ATOMIC_RELAXED);
    }
}

static void ch_check(run_reader *rd, char *buf)
{
    run_t *run = rd->run;

    if (!aj_revtab_jti_revoked(
            run->t, T_S, aj_test_revtab_name(buf, "perm", (unsigned)rand_r(&rd->seed) % CH_LIVE),
            T_NOW)) {
        __atomic_add_fetch(&run->missing, 1, __ATOMIC_RELAXED);
    }
}

static void test_threads_churn(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    run_t run;

    run_init(&run, p, CH_CAPACITY, CH_PUTS, ch_step);
    aj_test_revtab_put_jtis(run.t, T_S, "perm", CH_LIVE, T_FAR + CH_PUTS, T_NOW);
    run_threads(&run, ch_check);
    assert_perm_revoked(run.t, CH_LIVE, T_NOW + CH_PUTS);
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_size_and_format), AJ_TEST(test_empty_table),      AJ_TEST(test_put_jti),
    AJ_TEST(test_expired_jti),     AJ_TEST(test_user_valid_after), AJ_TEST(test_precomputed_keys),
    AJ_TEST(test_user_key_memo),   AJ_TEST(test_threads),          AJ_TEST(test_threads_churn),
};

AJ_TEST_MAIN("aj_revtab", tests)
