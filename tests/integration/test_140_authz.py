"""Authorization: Require jwt-claim (both forms, array claims), jwt-scope,
Require expr on JWT_CLAIM_*, Require user, JWT_CLAIM_* in the environment,
and 403 vs 401 with AuthzSendForbiddenOnFailure (docs/reference.md §2, §3)."""

import pytest

import pyhttpd

AUTHZ_LOCS = {
    "/authz/role-any": "Require jwt-claim role admin editor",
    "/authz/pairs": "Require jwt-claim role=admin role=editor",
    "/authz/groups": "Require jwt-claim groups ops",
    "/authz/scope-rw": "Require jwt-scope read write",
    "/authz/scope-del": "Require jwt-scope delete",
    "/authz/expr": "<RequireAll>\n        Require valid-user\n"
                   "        Require expr \"%{reqenv:JWT_CLAIM_role} == 'admin'\"\n"
                   "    </RequireAll>",
    # the documented workaround: naming REMOTE_USER makes httpd authenticate first
    "/authz/expr-user": "Require expr \"%{REMOTE_USER} != '' && "
                        "%{reqenv:JWT_CLAIM_role} == 'admin'\"",
    "/authz/user": "Require user authz-fixed-admin",
    "/authz/role-401": "Require jwt-claim role admin\n    AuthzSendForbiddenOnFailure Off",
    "/authz/env": "Require valid-user\n"
                  "    Header always set X-Role \"%{JWT_CLAIM_role}e\"\n"
                  "    Header always set X-Scope \"%{JWT_CLAIM_scope}e\"\n"
                  "    Header always set X-Groups \"%{JWT_CLAIM_groups}e\"\n"
                  "    Header always set X-Name \"%{JWT_CLAIM_name}e\"",
    "/authz/env-off": "Require valid-user\n    AuthJWTClaimsToEnv Off\n"
                      "    Header always set X-Role \"%{JWT_CLAIM_role}e\"",
}

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + "".join(
    f'<Location {path}>\n    AuthType JWT\n    AuthName "itest"\n    {req}\n</Location>\n'
    for path, req in AUTHZ_LOCS.items()) + 'LuaMapHandler "^/authz/" "@CONF@/hello.lua"\n'

CLAIMS = {
    "admin": {"role": "admin", "scope": "read write", "groups": ["ops", "dev"]},
    "editor": {"role": "editor", "scope": "read", "groups": ["dev"]},
    "plain": {"role": "user", "scope": "read"},
    "none": None,
}


@pytest.fixture
def tokens(httpd):
    """A token per kind of user, issued after the claims were stored."""
    if getattr(httpd, "_authz_tokens", None) is None:
        toks = {}
        for kind, claims in CLAIMS.items():
            name, pw, _ = pyhttpd.register(httpd, pyhttpd.unique_name(f"authz-{kind}-"))
            if claims is not None:
                httpd.set_claims(name, claims)
            toks[kind] = (name, pyhttpd.get_token(httpd, name, pw))
        name, pw, _ = pyhttpd.register(httpd, "authz-fixed-admin")
        httpd.set_claims(name, CLAIMS["admin"])
        toks["fixed"] = (name, pyhttpd.get_token(httpd, name, pw))
        httpd._authz_tokens = toks
    return httpd._authz_tokens


CASES = [
    ("/authz/role-any", "admin", 200), ("/authz/role-any", "editor", 200),
    ("/authz/role-any", "plain", 403), ("/authz/role-any", "none", 403),
    ("/authz/pairs", "admin", 200), ("/authz/pairs", "editor", 200),
    ("/authz/pairs", "plain", 403), ("/authz/pairs", "none", 403),
    ("/authz/groups", "admin", 200), ("/authz/groups", "editor", 403),
    ("/authz/groups", "plain", 403),
    ("/authz/scope-rw", "admin", 200), ("/authz/scope-rw", "editor", 403),
    ("/authz/scope-rw", "none", 403),
    ("/authz/scope-del", "admin", 403),
    ("/authz/expr", "admin", 200), ("/authz/expr", "fixed", 200),
    ("/authz/expr", "editor", 403), ("/authz/expr", "none", 403),
    ("/authz/expr-user", "admin", 200), ("/authz/expr-user", "editor", 401),
    ("/authz/user", "fixed", 200), ("/authz/user", "admin", 403),
    ("/authz/role-401", "admin", 200), ("/authz/role-401", "plain", 401),
]


@pytest.mark.parametrize("path,kind,status", CASES,
                         ids=[f"{p.rsplit('/', 1)[1]}-{k}-{s}" for p, k, s in CASES])
def test_require(httpd, tokens, path, kind, status):
    if status != 200:
        # mod_authz_core: authorization failure (AH01629 when an expression
        # naming REMOTE_USER is false after authentication)
        httpd.expect_log(r"AH01631", r"AH01629")
    if path == "/authz/expr":
        # refused before authentication (see test_unauthenticated_expr)
        httpd.expect_log(r"AH01630")
    name, token = tokens[kind]
    r = httpd.get(path, bearer=token)
    assert r.status == status, r
    if status == 200:
        assert r.json() == {"data": f"Hello, {name}!"}
    # the same with the token as the Basic user name
    r = httpd.get(path, auth=(token, "x"))
    assert r.status == status, r


@pytest.mark.parametrize("path", [p for p in AUTHZ_LOCS if p != "/authz/expr"])
def test_unauthenticated_is_401(httpd, path):
    r = httpd.get(path)
    assert r.status == 401, r
    assert 'Bearer realm="itest"' in r.header_all("WWW-Authenticate")


@pytest.mark.expect_log(r"AH01630")
def test_unauthenticated_expr(httpd):
    """An expression that does not name REMOTE_USER is evaluated before
    authentication (mod_authz_core): without credentials it is false, and
    httpd answers 403 itself.  Either answer keeps the resource closed."""
    r = httpd.get("/authz/expr")
    assert r.status in (401, 403), r


def test_claims_to_env(httpd, tokens):
    name, token = tokens["admin"]
    r = httpd.get("/authz/env", bearer=token)
    assert r.status == 200, r
    assert r.header("X-Role") == "admin"
    assert r.header("X-Scope") == "read write"
    assert r.header("X-Groups") == "ops dev"
    assert r.header("X-Name") == name


def test_claims_to_env_off(httpd, tokens):
    _, token = tokens["admin"]
    r = httpd.get("/authz/env-off", bearer=token)
    assert r.status == 200, r
    assert r.header("X-Role") != "admin"
    assert r.header("X-Role") in (None, "", "(null)")
