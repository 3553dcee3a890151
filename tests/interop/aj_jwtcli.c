/*
 * aj_jwtcli.c — a minimal command line over the core, for interoperability
 * tests with other JOSE libraries (tests/interop).  Links the core only.
 *
 *   aj_jwtcli sign ALG KEYFILE PAYLOADJSON [KID]  prints the token
 *   aj_jwtcli verify ALG KEYFILE TOKEN NOW [KID]  prints the verdict name;
 *                                                 exit 0 only when "ok"
 *
 * KEYFILE is read as AuthJWTSigningKey (sign) or AuthJWTVerifyKey (verify)
 * file:PATH would read it: an HMAC secret, or for RS/PS/ES/EdDSA a PEM
 * private key (sign), public key, certificate or private key (verify).
 * Exit status: 0 success, 1 token refused, 2 usage or operational error.
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
    fprintf(stderr, "usage: aj_jwtcli sign ALG KEYFILE PAYLOADJSON [KID]\n"
                    "       aj_jwtcli verify ALG KEYFILE TOKEN NOW [KID]\n");
    return EXIT_USAGE;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    aj_alg_e alg;
    aj_key_t *key = NULL;
    const char *err = NULL, *kid = NULL;
    int sign;
    apr_status_t rv;

    if (argc < 5) {
        return usage();
    }
    sign = !strcmp(argv[1], "sign");
    if ((sign && argc == 6) || (!sign && argc == 7)) {
        kid = argv[argc - 1];
        --argc;
    }
    alg = aj_alg_from_name(argv[2], strlen(argv[2]));
    rv = aj_key_load(&key, &err, p, alg, apr_pstrcat(p, "file:", argv[3], NULL), sign, kid);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "aj_jwtcli: %s\n", err ? err : "cannot load the key");
        return EXIT_USAGE;
    }
    if (sign && argc == 5) {
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
