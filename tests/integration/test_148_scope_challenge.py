"""Require jwt-scope refusing an authenticated token: its 403 (its 401 with
httpd's default AuthzSendForbiddenOnFailure Off) carries the RFC 6750 §3.1
challenge error="insufficient_scope" with the line's scopes
(docs/reference.md §11); the first refused line with a challenge is the one
sent; scopes that are not RFC 6749 scope-tokens fail configtest."""

import pytest

import pyhttpd
from pyhttpd import require_location

SCOPE_TEXT = "insufficient scope"
STEP_UP_TEXT = "a more recent password login is required"


def any_of(*lines):
    return ("<RequireAny>", *(f"    {line}" for line in lines), "</RequireAny>")


def all_of(*lines):
    return ("<RequireAll>", *(f"    {line}" for line in lines), "</RequireAll>")


# AuthzSendForbiddenOnFailure On comes from API_CONFIG's <Location />.
HTTPD_CONFIG = (
    pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
    + require_location("/scope/rw", "Require jwt-scope read write")
    + require_location("/scope/401", "Require jwt-scope read  write",
                       "AuthzSendForbiddenOnFailure Off")
    + require_location("/scope/quoted", 'Require jwt-scope "read" "https://api.example/write"')
    + require_location("/scope/any", *any_of("Require jwt-scope admin",
                                             "Require jwt-claim role admin"))
    + require_location("/scope/first", *any_of("Require jwt-scope alpha",
                                               "Require jwt-scope beta gamma"))
    + require_location("/scope/scope-then-fresh", *any_of("Require jwt-scope admin",
                                                          "Require jwt-fresh 300"))
    + require_location("/scope/fresh-then-scope", *any_of("Require jwt-fresh 300",
                                                          "Require jwt-scope admin"))
    + require_location("/scope/claim-then-scope", *all_of("Require jwt-claim role admin",
                                                          "Require jwt-scope admin"))
    + require_location("/scope/basic", "Require jwt-scope admin", auth_type="Basic")
    + pyhttpd.lua_hello("^/scope/")
)

# mod_authz_core's line for every refused Require
HTTPD_EXPECTED_LOG = [r"AH01631"]


@pytest.fixture
def user(httpd):
    """A registered user: (name, password, id)."""
    return pyhttpd.register(httpd, pyhttpd.unique_name("scope-"))


def mint(httpd, user, scope="read", auth_time_ago=0, **over):
    """A token of the server's own key for user with that scope claim (None:
    none) and auth_time that many seconds ago."""
    return pyhttpd.mint(httpd, user, auth_time_ago, scope=scope, **over)


def bearer_challenges(r):
    return [c for c in r.header_all("WWW-Authenticate") if c.startswith("Bearer")]


def scope_challenge(scopes):
    return f'Bearer realm="{pyhttpd.REALM}", error="insufficient_scope", scope="{scopes}"'


def assert_scope(r, status, scopes):
    """One Bearer challenge, the insufficient_scope one, naming scopes."""
    assert r.status == status, r
    assert bearer_challenges(r) == [scope_challenge(scopes)], r


def test_granted_has_no_challenge(httpd, user):
    for path in ("/scope/rw", "/scope/401"):
        r = httpd.get(path, bearer=mint(httpd, user, "write read extra"))
        assert r.status == 200, (path, r)
        assert r.header_all("WWW-Authenticate") == [], r


@pytest.mark.parametrize("scope", ["read", "", None, "readwrite"],
                         ids=["one-of-two", "empty", "absent", "prefix"])
def test_missing_scope_is_403_with_challenge(httpd, user, scope):
    """Every scope of the line is named, as written in it, space-separated."""
    assert_scope(httpd.get("/scope/rw", bearer=mint(httpd, user, scope)), 403, "read write")


def test_json_body(httpd, user):
    r = httpd.get("/scope/rw", bearer=mint(httpd, user, "read"),
                  headers={"Accept": "application/json"})
    assert_scope(r, 403, "read write")
    assert r.json() == {"error": SCOPE_TEXT}


def test_401_with_authz_default(httpd, user):
    """mod_authz_core's 401: the insufficient_scope challenge replaces the plain
    Bearer one; Basic stays offered.  Extra spaces of the line are not kept."""
    r = httpd.get("/scope/401", bearer=mint(httpd, user, "write"),
                  headers={"Accept": "application/json"})
    assert_scope(r, 401, "read write")
    assert f'Basic realm="{pyhttpd.REALM}"' in r.header_all("WWW-Authenticate"), r
    assert r.json() == {"error": SCOPE_TEXT}


def test_quoted_scopes(httpd, user):
    assert httpd.get("/scope/quoted",
                     bearer=mint(httpd, user, "https://api.example/write read")).status == 200
    assert_scope(httpd.get("/scope/quoted", bearer=mint(httpd, user, "read")), 403,
                 "read https://api.example/write")


def test_token_as_basic_user_name(httpd, user):
    """A token sent as the Basic user name under AuthType JWT is a token."""
    assert_scope(httpd.get("/scope/rw", auth=(mint(httpd, user, "read"), "x")), 403,
                 "read write")


def test_password_gets_no_scope_challenge(httpd, user):
    """A password login's claims are the user's own: no token to ask for, so a
    plain 403 (the user has no scope claim)."""
    name, pw, _ = user
    r = httpd.get("/scope/rw", auth=(name, pw))
    assert r.status == 403, r
    assert r.header_all("WWW-Authenticate") == [], r


def test_auth_type_basic_gets_no_bearer_challenge(httpd, user):
    r = httpd.get("/scope/basic", auth=(mint(httpd, user, "read"), "x"))
    assert r.status == 403, r
    assert bearer_challenges(r) == [], r


def test_require_any_grant_leaves_no_challenge(httpd, user):
    r = httpd.get("/scope/any", bearer=mint(httpd, user, "read", role="admin"))
    assert r.status == 200, r
    assert r.header_all("WWW-Authenticate") == [], r
    assert_scope(httpd.get("/scope/any", bearer=mint(httpd, user, "read", role="user")), 403,
                 "admin")


def test_first_refused_line_is_named(httpd, user):
    """Two refused jwt-scope lines in a <RequireAny>: the first one's scopes."""
    assert httpd.get("/scope/first", bearer=mint(httpd, user, "gamma beta")).status == 200
    assert_scope(httpd.get("/scope/first", bearer=mint(httpd, user, "beta")), 403, "alpha")


def test_precedence_with_step_up(httpd, user):
    """jwt-scope and jwt-fresh both refused: the first line in the
    configuration decides the one challenge, and the JSON text with it."""
    old = mint(httpd, user, "read", auth_time_ago=400)
    r = httpd.get("/scope/scope-then-fresh", bearer=old, headers={"Accept": "application/json"})
    assert_scope(r, 403, "admin")
    assert r.json() == {"error": SCOPE_TEXT}
    r = httpd.get("/scope/fresh-then-scope", bearer=old, headers={"Accept": "application/json"})
    assert r.status == 403, r
    assert bearer_challenges(r) == [
        f'Bearer realm="{pyhttpd.REALM}", error="insufficient_user_authentication", '
        f'error_description="{STEP_UP_TEXT}", max_age="300"'], r
    assert r.json() == {"error": STEP_UP_TEXT}
    # either one granted: no challenge at all
    for path in ("/scope/scope-then-fresh", "/scope/fresh-then-scope"):
        r = httpd.get(path, bearer=mint(httpd, user, "admin", auth_time_ago=400))
        assert r.status == 200 and r.header_all("WWW-Authenticate") == [], (path, r)


def test_other_refusal_first_sends_no_scope_challenge(httpd, user):
    """<RequireAll> stops at its first refused line: a jwt-claim refusal is a
    plain 403 (the scope line was never asked)."""
    r = httpd.get("/scope/claim-then-scope", bearer=mint(httpd, user, "read", role="user"))
    assert r.status == 403, r
    assert r.header_all("WWW-Authenticate") == [], r
    assert_scope(httpd.get("/scope/claim-then-scope",
                           bearer=mint(httpd, user, "read", role="admin")), 403, "admin")


def test_unauthenticated_is_plain_401(httpd):
    r = httpd.get("/scope/rw")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == pyhttpd.BOTH_CHALLENGES


# A literal tab inside quotes; '\"' inside quotes is a quote to httpd.
BAD_LINES = ['Require jwt-scope "a\\"b"', "Require jwt-scope back\\slash",
             'Require jwt-scope "tab\there"', 'Require jwt-scope "read write"',
             "Require jwt-scope caf\u00e9", "Require jwt-scope"]
GOOD_LINES = ["Require jwt-scope read", "Require jwt-scope read write admin:users",
              "Require jwt-scope https://api.example/read!#$%&'()*+,-./:;<=>?@[]^_`{|}~"]


@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_scope_fails_configtest(httpd_factory, line):
    rc, out = pyhttpd.configtest_require(httpd_factory(), line)
    assert rc != 0, f"configtest passed with `{line}`:\n{out}"
    assert "Require jwt-scope" in out, out
    if line != "Require jwt-scope":
        assert "is not a scope (RFC 6749" in out, out


@pytest.mark.parametrize("line", GOOD_LINES)
def test_good_scope_passes_configtest(httpd_factory, line):
    rc, out = pyhttpd.configtest_require(httpd_factory(), line)
    assert rc == 0 and "Syntax OK" in out, out
