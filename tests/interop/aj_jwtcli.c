/*
 * aj_jwtcli.c — a minimal command line over the core, for interoperability
 * tests with other JOSE libraries (tests/interop).  Links the core only.
 *
 *   aj_jwtcli sign ALG SECRETFILE PAYLOADJSON     prints the token
 *   aj_jwtcli verify ALG SECRETFILE TOKEN NOW     prints the verdict name;
 *                                                 exit 0 only when "ok"
 *
 * SECRETFILE is read as AuthJWT*Key file:PATH would read it.  Exit status:
 * 0 success, 1 token refused, 2 usage or operational error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "aj.h"
#include "aj_jws.h"
#include "aj_key.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE   2

static int usage(void)
{
    fprintf(stderr, "usage: aj_jwtcli sign ALG SECRETFILE PAYLOADJSON\n"
                    "       aj_jwtcli verify ALG SECRETFILE TOKEN NOW\n");
    return EXIT_USAGE;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    aj_alg_e alg;
    aj_key_t *key = NULL;
    const char *err = NULL;
    apr_status_t rv;

    if (argc < 5) {
        return usage();
    }
    alg = aj_alg_from_name(argv[2], strlen(argv[2]));
    rv = aj_key_load(&key, &err, p, alg, apr_pstrcat(p, "file:", argv[3], NULL),
                     !strcmp(argv[1], "sign"), NULL);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "aj_jwtcli: %s\n", err ? err : "cannot load the key");
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "sign") && argc == 5) {
        const char *token = NULL;
        rv = aj_jws_sign(&token, p, key, argv[4], strlen(argv[4]));
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "aj_jwtcli: signing failed (%d)\n", rv);
            return EXIT_USAGE;
        }
        printf("%s\n", token);
        return 0;
    }
    if (!strcmp(argv[1], "verify") && argc == 6) {
        aj_keyset_t *ks = aj_keyset_make(p);
        aj_verdict_e verdict = AJ_MALFORMED;
        aj_claims_t *claims = NULL;
        aj_policy_t policy = { NULL, NULL, 0 };
        char *end = NULL;
        apr_int64_t now = apr_strtoi64(argv[5], &end, 10);

        if (!*argv[5] || *end) {
            return usage();
        }
        aj_keyset_add(ks, key);
        rv = aj_jws_verify(&verdict, &claims, p, argv[4], strlen(argv[4]), ks, &policy, now);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "aj_jwtcli: verification could not run (%d)\n", rv);
            return EXIT_USAGE;
        }
        printf("%s\n", aj_verdict_name(verdict));
        return verdict == AJ_OK ? 0 : EXIT_REFUSED;
    }
    return usage();
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = NULL;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return EXIT_USAGE;
    }
    rc = run(p, argc, argv);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
