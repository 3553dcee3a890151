/*
 * aj_password.c — bcrypt ($2y$) hashing through apr_bcrypt_encode, and
 * verification of every hash apr_password_validate understands (bcrypt,
 * htpasswd's $apr1$ and {SHA}, crypt(3)).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include <openssl/crypto.h>

#include "aj_password.h"

/* bcrypt takes a 16-byte salt and writes a 60-character hash. */
#define AJ_BCRYPT_SALT_LEN 16
#define AJ_BCRYPT_HASH_BUF 64
#define AJ_BCRYPT_PREFIX   "$2y$"

apr_status_t aj_password_hash(const char **hash, apr_pool_t *p, const char *password, int cost)
{
    unsigned char salt[AJ_BCRYPT_SALT_LEN];
    char buf[AJ_BCRYPT_HASH_BUF];
    apr_status_t rv = APR_EINVAL;

    memset(buf, 0, sizeof(buf));
    if (!password || strlen(password) > AJ_PASSWORD_MAX_LEN || cost < AJ_BCRYPT_COST_MIN
        || cost > AJ_BCRYPT_COST_MAX) {
        goto cleanup;
    }
    rv = apr_generate_random_bytes(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_bcrypt_encode(password, (unsigned int)cost, salt, sizeof(salt), buf, sizeof(buf));
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (strncmp(buf, AJ_BCRYPT_PREFIX, strlen(AJ_BCRYPT_PREFIX))) {
        rv = APR_EGENERAL;
        goto cleanup;
    }
    *hash = apr_pstrdup(p, buf);

cleanup:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

int aj_password_verify(const char *password, const char *hash)
{
    if (!password || !hash || !*hash || strlen(password) > AJ_PASSWORD_MAX_LEN) {
        return 0;
    }
    return apr_password_validate(password, hash) == APR_SUCCESS;
}

/* ---- bcrypt cost ----------------------------------------------------------- */

/* "$2?$NN$": the variant letters bcrypt implementations write. */
#define AJ_BCRYPT_VARIANTS        "abxy"
#define AJ_BCRYPT_COST_PREFIX     7
/* The cost field's range in the format (2^31 rounds at most). */
#define AJ_BCRYPT_FORMAT_COST_MAX 31

int aj_password_bcrypt_cost(const char *hash)
{
    int cost;

    if (!hash || strlen(hash) < AJ_BCRYPT_COST_PREFIX || hash[0] != '$' || hash[1] != '2'
        || !hash[2] || !strchr(AJ_BCRYPT_VARIANTS, hash[2]) || hash[3] != '$'
        || !apr_isdigit(hash[4]) || !apr_isdigit(hash[5]) || hash[6] != '$') {
        return 0;
    }
    cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    return (cost >= AJ_BCRYPT_COST_MIN && cost <= AJ_BCRYPT_FORMAT_COST_MAX) ? cost : 0;
}

/* ---- equal timing of failed checks ----------------------------------------- */

/* The floor is the estimate times 3/2: on a busy machine a bcrypt run is
 * often a fifth or more slower than the median of recent ones (preemption
 * hits long runs more than short ones), and the real check must end before
 * the floor for every failed check to end at it.  Only failed checks wait
 * for it, and the throttle bounds how many a client gets. */
#define AJ_PACE_MARGIN_NUM 3
#define AJ_PACE_MARGIN_DEN 2
#define AJ_NS_PER_USEC     1000

void aj_pace_init(aj_pace_t *pace)
{
    memset(pace, 0, sizeof(*pace));
}

void aj_pace_add(aj_pace_t *pace, int cost, apr_interval_time_t took)
{
    if (!pace || cost < AJ_BCRYPT_COST_MIN || cost > AJ_BCRYPT_FORMAT_COST_MAX || took <= 0) {
        return;
    }
    pace->unit_ns[pace->next] = ((apr_uint64_t)took * AJ_NS_PER_USEC) >> cost;
    pace->next = (pace->next + 1) % AJ_PACE_SAMPLES;
    if (pace->n < AJ_PACE_SAMPLES) {
        pace->n++;
    }
}

static int aj_pace_cmp(const void *a, const void *b)
{
    apr_uint64_t x = *(const apr_uint64_t *)a, y = *(const apr_uint64_t *)b;

    return x < y ? -1 : x > y;
}

apr_interval_time_t aj_pace_floor(const aj_pace_t *pace, int cost)
{
    apr_uint64_t sorted[AJ_PACE_SAMPLES], ns;

    if (!pace || pace->n == 0 || cost < AJ_BCRYPT_COST_MIN || cost > AJ_BCRYPT_FORMAT_COST_MAX) {
        return 0;
    }
    memcpy(sorted, pace->unit_ns, sizeof(sorted[0]) * pace->n);
    qsort(sorted, pace->n, sizeof(sorted[0]), aj_pace_cmp);
    ns = (sorted[pace->n / 2] << cost) / AJ_PACE_MARGIN_DEN * AJ_PACE_MARGIN_NUM;
    return (apr_interval_time_t)(ns / AJ_NS_PER_USEC);
}
