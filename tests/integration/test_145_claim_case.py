"""AuthJWTClaimsToEnv with claim names that differ only in letter case
(docs/reference.md §3): apr tables ignore case, so JWT_CLAIM_role and JWT_CLAIM_ROLE are
one variable.  Neither is exported, so a `Require expr` on one can never
read the other's value; the other claims still are; one info line names
both."""

import re
import time
import uuid

import pytest

import pyhttpd

LOCS = {
    "/case/env": "Require valid-user\n"
                 "    Header always set X-Role \"%{JWT_CLAIM_role}e\"\n"
                 "    Header always set X-ROLE \"%{JWT_CLAIM_ROLE}e\"\n"
                 "    Header always set X-Scope \"%{JWT_CLAIM_scope}e\"",
    "/case/expr-lower": "<RequireAll>\n        Require valid-user\n"
                        "        Require expr \"%{reqenv:JWT_CLAIM_role} == 'admin'\"\n"
                        "    </RequireAll>",
    "/case/expr-upper": "<RequireAll>\n        Require valid-user\n"
                        "        Require expr \"%{reqenv:JWT_CLAIM_ROLE} == 'admin'\"\n"
                        "    </RequireAll>",
    "/case/expr-scope": "<RequireAll>\n        Require valid-user\n"
                        "        Require expr \"%{reqenv:JWT_CLAIM_scope} == 'read'\"\n"
                        "    </RequireAll>",
}

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + "".join(
    f'<Location {path}>\n    AuthType JWT\n    AuthName "itest"\n    {req}\n</Location>\n'
    for path, req in LOCS.items()) + 'LuaMapHandler "^/case/" "@CONF@/hello.lua"\n'

# the 403s of Require expr: mod_authz_core logs them at error level
HTTPD_EXPECTED_LOG = [r"AH01630", r"AH01631"]

AMBIGUOUS = r'AJ230: claims "(role|ROLE)" and "(role|ROLE)" differ only in letter case'


def hand_token(httpd, extra):
    now = int(time.time())
    claims = dict({"sub": "case-test", "iat": now, "nbf": now, "exp": now + 300,
                   "jti": uuid.uuid4().hex}, **extra)
    return pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"}, claims, httpd.secret)


def unset(value):
    return value in (None, "", "(null)")


@pytest.mark.parametrize("order", [("role", "ROLE"), ("ROLE", "role")])
def test_case_twins_are_not_exported(httpd, order):
    values = {"role": "user", "ROLE": "admin"}
    token = hand_token(httpd, dict({k: values[k] for k in order}, scope="read"))
    r = httpd.get("/case/env", bearer=token)
    assert r.status == 200, r
    assert unset(r.header("X-Role")), r
    assert unset(r.header("X-ROLE")), r
    assert r.header("X-Scope") == "read"                 # the other claims still are
    # a Require expr on either spelling never sees "admin"
    assert httpd.get("/case/expr-lower", bearer=token).status == 403
    assert httpd.get("/case/expr-upper", bearer=token).status == 403
    assert httpd.get("/case/expr-scope", bearer=token).status == 200
    log = httpd.error_log.read_since_mark()
    lines = [ln for ln in log.splitlines() if "AJ230" in ln]
    assert lines and all("[auth_jwt:info]" in ln for ln in lines), lines
    assert any(re.search(AMBIGUOUS, ln) for ln in lines), lines
    assert token not in log


def test_stored_claims_and_basic(httpd):
    """The same through stored claims, a password login and an issued token."""
    name, pw, _ = pyhttpd.register(httpd)
    httpd.set_claims(name, {"role": "user", "ROLE": "admin"})
    token = pyhttpd.get_token(httpd, name, pw)
    for kw in ({"bearer": token}, {"auth": (name, pw)}):
        r = httpd.get("/case/env", **kw)
        assert r.status == 200, r
        assert unset(r.header("X-Role")) and unset(r.header("X-ROLE")), r
        assert httpd.get("/case/expr-upper", **kw).status == 403
        assert httpd.get("/case/expr-lower", **kw).status == 403


def test_single_spelling_still_exported(httpd):
    token = hand_token(httpd, {"ROLE": "admin"})
    r = httpd.get("/case/env", bearer=token)
    # one claim, either spelling of the variable reads it (apr tables)
    assert r.header("X-ROLE") == "admin" and r.header("X-Role") == "admin", r
    assert httpd.get("/case/expr-upper", bearer=token).status == 200
