/*
 * test_store_pages.c — the full revocation load (aj_store_revoked_since
 * with since 0) reads revoked_tokens in pages by its key (aj_store_revoke.c),
 * here pages of 3 rows: every unexpired row arrives whatever the count
 * against the page size; a row inserted between two pages is not lost; a
 * schema change that renumbers the rows makes the load start again; a page
 * that fails fails the load; the pages walk the table's own b-tree.
 */
#include "aj_test.h"
#include "aj_store.h"
#include "store.h"
#include "tmp.h"

#define PAGE     3  /* rows per page in these tests */
#define MAX_ROWS 32 /* jtis "j0" .. "j31" */
#define NOW      1000
#define LIVE     2000 /* expires_at of an unexpired row */

typedef struct load_t load_t;
/* Run once, after the row of call number `at` (1-based) was reported. */
typedef void load_hook_fn(load_t *l);

struct load_t {
    int calls; /* rows reported, repeats included */
    int seen[MAX_ROWS];
    int strangers; /* reported rows not named j<N> */
    int at;        /* the hook runs after this call (0: never) */
    int every;     /* then again every `every` calls (0: once) */
    load_hook_fn *hook;
    aj_store_t *st;
    aj_test_db_t *db;    /* the store's connection */
    aj_test_db_t *other; /* another connection to the same file */
    apr_pool_t *p;
};

static void load_one(void *baton, const char *jti, apr_int64_t exp)
{
    load_t *l = baton;
    int i;

    ++l->calls;
    if (jti[0] == 'j' && (i = atoi(jti + 1)) >= 0 && i < MAX_ROWS && exp == LIVE) {
        ++l->seen[i];
    }
    else {
        ++l->strangers;
    }
    if (l->hook && l->at > 0
        && (l->calls == l->at
            || (l->every > 0 && l->calls > l->at && (l->calls - l->at) % l->every == 0))) {
        l->hook(l);
    }
}

static load_t *load_fixture(apr_pool_t *p, int rows)
{
    load_t *l = apr_pcalloc(p, sizeof(*l));
    int i;

    l->p = p;
    l->st = aj_test_store_fresh(&l->db, p);
    aj_store_set_revoke_page_rows(l->st, PAGE);
    for (i = 0; i < rows; ++i) {
        assert_int_equal(aj_store_revoke_add(l->st, p, apr_psprintf(p, "j%d", i), LIVE, NOW - 10),
                         APR_SUCCESS);
    }
    return l;
}

static apr_status_t load_all(load_t *l)
{
    return aj_store_revoked_since(l->st, l->p, 0, NOW, load_one, l);
}

/* Rows j0 .. j<n-1> each seen at least once, nothing else. */
static void assert_all_seen(const load_t *l, int n)
{
    int i;

    for (i = 0; i < n; ++i) {
        if (l->seen[i] < 1) {
            fail_msg("j%d was not loaded (%d rows reported)", i, l->calls);
        }
    }
    for (; i < MAX_ROWS; ++i) {
        assert_int_equal(l->seen[i], 0);
    }
    assert_int_equal(l->strangers, 0);
}

/* 0, 1, a page, a page and one, more than two pages: each row exactly once;
 * expired rows are left out on every page. */
static void test_page_boundaries(void **state)
{
    static const int counts[] = { 0, 1, PAGE, PAGE + 1, 2 * PAGE + 1 };
    apr_pool_t *p = AJ_POOL(state);
    apr_size_t k;
    int i;

    for (k = 0; k < sizeof(counts) / sizeof(counts[0]); ++k) {
        load_t *l = load_fixture(p, counts[k]);

        for (i = 0; i < PAGE + 1; ++i) { /* expired, spread between the live rows */
            assert_int_equal(aj_store_revoke_add(l->st, p, apr_psprintf(p, "x%d", i), NOW, 1),
                             APR_SUCCESS);
        }
        assert_int_equal(load_all(l), APR_SUCCESS);
        assert_all_seen(l, counts[k]);
        assert_int_equal(l->calls, counts[k]);
    }
}

/* A page ends where a run of deleted rows begins: the next page starts after
 * the last key read, not after a row count. */
static void test_gaps(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 10);

    aj_test_db_exec(l->db, "DELETE FROM revoked_tokens WHERE jti IN ('j3', 'j4', 'j5', 'j8')");
    assert_int_equal(load_all(l), APR_SUCCESS);
    assert_int_equal(l->calls, 6);
    assert_int_equal(l->seen[0] + l->seen[1] + l->seen[2] + l->seen[6] + l->seen[7] + l->seen[9],
                     6);
}

static void insert_next(load_t *l)
{
    assert_int_equal(
        aj_store_revoke_add(l->st, l->p, apr_psprintf(l->p, "j%d", 7 + l->calls), LIVE, NOW),
        APR_SUCCESS);
}

/* A revocation recorded between two pages (after the first page's last row
 * was reported) is read by a later page. */
static void test_insert_between_pages(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 7);

    l->hook = insert_next;
    l->at = PAGE; /* j10 */
    assert_int_equal(load_all(l), APR_SUCCESS);
    assert_int_equal(l->seen[10], 1);
    l->seen[10] = 0;
    assert_all_seen(l, 7);
    assert_int_equal(l->calls, 8);
}

/* What VACUUM or the rebuild of an old table may do to the rowids, with the
 * schema change that always comes with it: every row's key moves below the
 * position already read.  Keeping on from that position would skip them;
 * the load notices the new schema version and starts again. */
static void renumber(load_t *l)
{
    aj_test_db_exec(l->other, "UPDATE revoked_tokens SET rowid = rowid - 1000");
    aj_test_db_exec(
        l->other, apr_psprintf(l->p, "CREATE INDEX renumbered_%d ON users (created_at)", l->calls));
}

static void test_renumbered_restarts(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 7);

    l->other = aj_test_db_open(p, l->db->path);
    l->hook = renumber;
    l->at = PAGE;
    assert_int_equal(load_all(l), APR_SUCCESS);
    assert_all_seen(l, 7);
    /* the first page; the next one, run on the new rowids, finds nothing
     * after the old position; then all of them again */
    assert_int_equal(l->calls, PAGE + 7);
}

/* A schema that changes during every attempt: the load gives up, with a
 * message that says why. */
static void test_schema_keeps_changing(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 7);

    l->other = aj_test_db_open(p, l->db->path);
    l->hook = renumber;
    l->at = PAGE;
    l->every = PAGE; /* and after the first page of every attempt */
    assert_int_equal(load_all(l), APR_EGENERAL);
    assert_non_null(strstr(aj_store_error(l->st, 1), "schema kept changing"));
}

static void drop_table(load_t *l)
{
    aj_test_db_exec(l->other, "DROP TABLE revoked_tokens");
}

/* A page that fails (here: the table is gone) fails the whole load. */
static void test_failed_page(void **state)
{
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 7);

    l->other = aj_test_db_open(p, l->db->path);
    l->hook = drop_table;
    l->at = PAGE;
    assert_int_equal(load_all(l), APR_EGENERAL);
    assert_int_equal(l->calls, PAGE);
    assert_non_null(strstr(aj_store_error(l->st, 1), "revoked_tokens"));
}

/* The page statements (the text of aj_store.c's sqlite3 variant) walk the
 * table's own b-tree by rowid, with no sort and not through expires_at's
 * index, also when statistics say that most rows have expired. */
static void test_pages_plan(void **state)
{
    static const char *const pages[] = {
        "SELECT rowid, jti, expires_at FROM revoked_tokens WHERE +expires_at > CAST(5 AS BIGINT)"
        " ORDER BY rowid LIMIT CAST(3 AS BIGINT)",
        "SELECT rowid, jti, expires_at FROM revoked_tokens WHERE rowid > CAST(1 AS BIGINT) AND"
        " +expires_at > CAST(5 AS BIGINT) ORDER BY rowid LIMIT CAST(3 AS BIGINT)",
    };
    apr_pool_t *p = AJ_POOL(state);
    load_t *l = load_fixture(p, 7);
    const char *plan;
    apr_size_t i;
    int pass;

    for (pass = 0; pass < 2; ++pass) {
        for (i = 0; i < sizeof(pages) / sizeof(pages[0]); ++i) {
            plan = aj_test_db_plan(l->db, p, pages[i]);
            if (strstr(plan, "expires_at") || strstr(plan, "TEMP B-TREE")
                || (!strstr(plan, "SCAN revoked_tokens\n")
                    && !strstr(plan, "USING INTEGER PRIMARY KEY (rowid>?)"))) {
                fail_msg("a revocation page is not read in rowid order:\n%s", plan);
            }
        }
        /* then with statistics of a table whose rows have nearly all expired */
        aj_test_db_exec(l->db, "UPDATE revoked_tokens SET expires_at = 1 WHERE jti <> 'j0'");
        aj_test_db_exec(l->db, "ANALYZE");
    }
}

static const struct CMUnitTest tests[] = {
    AJ_TEST(test_page_boundaries),
    AJ_TEST(test_gaps),
    AJ_TEST(test_insert_between_pages),
    AJ_TEST(test_renumbered_restarts),
    AJ_TEST(test_schema_keeps_changing),
    AJ_TEST(test_failed_page),
    AJ_TEST(test_pages_plan),
};

AJ_TEST_MAIN("aj_store_pages", tests)
