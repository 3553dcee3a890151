/*
 * aj_revtab_stores.c — each store's bookkeeping in the revocation table,
 * shared by all processes through atomics (contract: include/aj_revtab.h;
 * the record's layout: aj_revtab_int.h).  The refresh from the database
 * (in the glue) reads and writes it; the table's writers mark a store
 * overflowed or unloaded.
 *
 * A bad store index reads as "not loaded, overflowed" (nothing is trusted)
 * and as time 0, and writes nothing.
 */
#include "aj_revtab_int.h"

int aj_revtab_overflowed(const aj_revtab_t *t, apr_uint32_t store)
{
    return !revtab_store_ok(t, store)
           || __atomic_load_n(&revtab_cstore(t, store)->overflowed, __ATOMIC_ACQUIRE) != 0;
}

void aj_revtab_clear_overflowed(aj_revtab_t *t, apr_uint32_t store)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->overflowed, 0, __ATOMIC_RELEASE);
    }
}

int aj_revtab_loaded(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_store_ok(t, store)
           && __atomic_load_n(&revtab_cstore(t, store)->loaded, __ATOMIC_ACQUIRE) != 0;
}

void aj_revtab_set_loaded(aj_revtab_t *t, apr_uint32_t store, int loaded)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->loaded, loaded ? 1u : 0u, __ATOMIC_RELEASE);
    }
}

/* ---- the store's times ---------------------------------------------------- */

static apr_int64_t revtab_time(const aj_revtab_t *t, apr_uint32_t store, aj_revtab_time_e which)
{
    return revtab_store_ok(t, store)
               ? __atomic_load_n(&revtab_cstore(t, store)->times[which], __ATOMIC_ACQUIRE)
               : 0;
}

static void revtab_set_time(aj_revtab_t *t, apr_uint32_t store, aj_revtab_time_e which,
                            apr_int64_t when)
{
    if (revtab_store_ok(t, store)) {
        __atomic_store_n(&revtab_store(t, store)->times[which], when, __ATOMIC_RELEASE);
    }
}

apr_int64_t aj_revtab_next_refresh(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_time(t, store, AJ_REVTAB_NEXT_REFRESH);
}

void aj_revtab_set_next_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    revtab_set_time(t, store, AJ_REVTAB_NEXT_REFRESH, when);
}

int aj_revtab_claim_refresh(aj_revtab_t *t, apr_uint32_t store, apr_int64_t due, apr_int64_t until)
{
    apr_int64_t expected = due;

    return revtab_store_ok(t, store)
           && __atomic_compare_exchange_n(&revtab_store(t, store)->times[AJ_REVTAB_NEXT_REFRESH],
                                          &expected, until, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

apr_int64_t aj_revtab_watermark(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_time(t, store, AJ_REVTAB_WATERMARK);
}

void aj_revtab_set_watermark(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    revtab_set_time(t, store, AJ_REVTAB_WATERMARK, when);
}

/* Writer side only (under the caller's lock); acquire/release as the
 * others, which is more than it needs. */
apr_int64_t aj_revtab_last_recovery(const aj_revtab_t *t, apr_uint32_t store)
{
    return revtab_time(t, store, AJ_REVTAB_LAST_RECOVERY);
}

void aj_revtab_set_last_recovery(aj_revtab_t *t, apr_uint32_t store, apr_int64_t when)
{
    revtab_set_time(t, store, AJ_REVTAB_LAST_RECOVERY, when);
}
