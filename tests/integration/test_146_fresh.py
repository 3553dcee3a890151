"""Require jwt-fresh [SECONDS]: the password was entered at most SECONDS ago
(docs/reference.md §12): judged from a token's auth_time with AuthJWTLeeway,
a password checked in the request passes, renewed tokens keep their
auth_time, and a refused token learns why from an RFC 9470 step-up challenge
(error="insufficient_user_authentication", max_age)."""

import time

import pytest

import pyhttpd
from pyhttpd import mint, require_location, token_claims

STEP_UP_TEXT = "a more recent password login is required"


# AuthzSendForbiddenOnFailure On comes from API_CONFIG's <Location />.
HTTPD_CONFIG = (
    pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT
    + require_location("/fresh/default", "Require jwt-fresh")
    + require_location("/fresh/401", "Require jwt-fresh 300", "AuthzSendForbiddenOnFailure Off")
    + require_location("/fresh/one", "Require jwt-fresh 1")
    + require_location("/fresh/units", "Require jwt-fresh 2m")
    + require_location("/fresh/leeway", "Require jwt-fresh 60", "AuthJWTLeeway 30")
    + require_location("/fresh/basic", "Require jwt-fresh", auth_type="Basic")
    + require_location("/fresh/all", "<RequireAll>", "    Require jwt-fresh 300",
                       "    Require jwt-claim role admin", "</RequireAll>")
    + require_location("/fresh/any", "<RequireAny>", "    Require jwt-fresh 300",
                       "    Require jwt-claim role admin", "</RequireAny>")
    + pyhttpd.lua_hello("^/fresh/")
)

# mod_authz_core's line for every refused Require
HTTPD_EXPECTED_LOG = [r"AH01631"]


@pytest.fixture
def user(httpd):
    """A registered user: (name, password, id)."""
    return pyhttpd.register(httpd, pyhttpd.unique_name("fresh-"))


def step_up(r):
    """The Bearer challenges of a response that carry the step-up error."""
    return [c for c in r.header_all("WWW-Authenticate")
            if 'error="insufficient_user_authentication"' in c]


def assert_step_up(r, status, max_age):
    assert r.status == status, r
    challenges = step_up(r)
    assert challenges == [f'Bearer realm="{pyhttpd.REALM}", '
                          f'error="insufficient_user_authentication", '
                          f'error_description="{STEP_UP_TEXT}", max_age="{max_age}"'], r
    # one Bearer challenge, not a plain one beside the step-up
    bearer = [c for c in r.header_all("WWW-Authenticate") if c.startswith("Bearer")]
    assert bearer == challenges, r


def test_login_token_passes(httpd, user):
    name, pw, _ = user
    token = pyhttpd.get_token(httpd, name, pw)
    for path in ("/fresh/default", "/fresh/401", "/fresh/units", "/fresh/leeway"):
        r = httpd.get(path, bearer=token)
        assert r.status == 200, (path, r)
        assert r.json() == {"data": f"Hello, {name}!"}
        assert not step_up(r)


def test_old_login_is_403_with_step_up(httpd, user):
    """The default is 300 s; with AuthzSendForbiddenOnFailure On a 403 that
    still tells the client what to do."""
    assert httpd.get("/fresh/default", bearer=mint(httpd, user, 290)).status == 200
    r = httpd.get("/fresh/default", bearer=mint(httpd, user, 320))
    assert_step_up(r, 403, 300)
    r = httpd.get("/fresh/default", bearer=mint(httpd, user, 320),
                  headers={"Accept": "application/json"})
    assert r.status == 403, r
    assert r.json() == {"error": STEP_UP_TEXT}


def test_old_login_is_401_with_step_up(httpd, user):
    """mod_authz_core's 401: the step-up replaces the plain Bearer challenge;
    Basic stays offered (a password passes)."""
    r = httpd.get("/fresh/401", bearer=mint(httpd, user, 400),
                  headers={"Accept": "application/json"})
    assert_step_up(r, 401, 300)
    assert f'Basic realm="{pyhttpd.REALM}"' in r.header_all("WWW-Authenticate"), r
    assert r.json() == {"error": STEP_UP_TEXT}


def test_seconds_elapse(httpd, user):
    """`Require jwt-fresh 1`: a login token passes at once and fails once
    two seconds have gone by since its auth_time."""
    name, pw, _ = user
    token = pyhttpd.get_token(httpd, name, pw)
    auth_time = token_claims(token)["auth_time"]
    r = httpd.get("/fresh/one", bearer=token)
    assert r.status == 200, r
    time.sleep(max(0.0, auth_time + 2.2 - time.time()))
    assert_step_up(httpd.get("/fresh/one", bearer=token), 403, 1)


def test_units_and_leeway(httpd, user):
    """`2m` is 120 s; AuthJWTLeeway 30 widens `Require jwt-fresh 60` to 90 s,
    and admits a login up to 30 s in the future, no further."""
    assert httpd.get("/fresh/units", bearer=mint(httpd, user, 110)).status == 200
    assert httpd.get("/fresh/units", bearer=mint(httpd, user, 135)).status == 403
    assert httpd.get("/fresh/leeway", bearer=mint(httpd, user, 75)).status == 200
    assert_step_up(httpd.get("/fresh/leeway", bearer=mint(httpd, user, 105)), 403, 60)
    assert httpd.get("/fresh/leeway", bearer=mint(httpd, user, -20)).status == 200
    assert httpd.get("/fresh/leeway", bearer=mint(httpd, user, -60)).status == 403
    assert httpd.get("/fresh/default", bearer=mint(httpd, user, -20)).status == 403


def test_renewal_keeps_auth_time(httpd, user):
    """A renewed token is new (iat, jti) but its login is as old as before."""
    old = mint(httpd, user, 400)
    r = httpd.get("/api/token", bearer=old)
    assert r.status == 200, r
    renewed = r.json()["token"]
    assert token_claims(renewed)["jti"] != token_claims(old)["jti"]
    assert token_claims(renewed)["auth_time"] == token_claims(old)["auth_time"]
    assert httpd.get("/api/resource", bearer=renewed).status == 200
    assert_step_up(httpd.get("/fresh/default", bearer=renewed), 403, 300)
    # a renewal of a recent login stays fresh
    name, pw, _ = user
    r = httpd.get("/api/token", bearer=pyhttpd.get_token(httpd, name, pw))
    assert r.status == 200, r
    assert httpd.get("/fresh/default", bearer=r.json()["token"]).status == 200


@pytest.mark.parametrize("auth_time", [None, "now", [1]], ids=["absent", "string", "array"])
def test_without_auth_time_fails(httpd, user, auth_time):
    """No auth_time, or not a number: no login time to judge, so no pass
    (iat does not stand in for it)."""
    token = mint(httpd, user, auth_time=auth_time)
    assert httpd.get("/api/resource", bearer=token).status == 200
    assert_step_up(httpd.get("/fresh/default", bearer=token), 403, 300)


def test_basic_password_passes(httpd, user):
    """A password checked in this very request: AuthType Basic with the jwt
    provider, and AuthType JWT's Basic form."""
    name, pw, _ = user
    for path in ("/fresh/basic", "/fresh/default", "/fresh/one"):
        r = httpd.get(path, auth=(name, pw))
        assert r.status == 200, (path, r)
        assert r.json() == {"data": f"Hello, {name}!"}


def test_basic_token_is_judged_by_the_token(httpd, user):
    """A token sent as the Basic user name is a token: its auth_time decides."""
    fresh, old = mint(httpd, user, 10), mint(httpd, user, 400)
    for path in ("/fresh/basic", "/fresh/default"):
        assert httpd.get(path, auth=(fresh, "x")).status == 200, path
        assert httpd.get(path, auth=(old, "x")).status == 403, path
    # AuthType Basic offers no Bearer challenge, step-up or otherwise
    assert not step_up(httpd.get("/fresh/basic", auth=(old, "x")))
    assert_step_up(httpd.get("/fresh/default", auth=(old, "x")), 403, 300)


def test_require_all_with_claim(httpd, user):
    assert httpd.get("/fresh/all", bearer=mint(httpd, user, 10, role="admin")).status == 200
    assert httpd.get("/fresh/all", bearer=mint(httpd, user, 10, role="user")).status == 403
    r = httpd.get("/fresh/all", bearer=mint(httpd, user, 400, role="admin"))
    assert_step_up(r, 403, 300)


def test_require_any_grant_leaves_no_challenge(httpd, user):
    """A jwt-fresh that fails inside a RequireAny that grants: a 200 with no
    step-up challenge (err_headers_out would carry it onto the 200)."""
    r = httpd.get("/fresh/any", bearer=mint(httpd, user, 400, role="admin"))
    assert r.status == 200, r
    assert r.header_all("WWW-Authenticate") == [], r
    assert_step_up(httpd.get("/fresh/any", bearer=mint(httpd, user, 400, role="user")), 403, 300)


def test_unauthenticated_is_401(httpd):
    r = httpd.get("/fresh/default")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == pyhttpd.BOTH_CHALLENGES


BAD_LINES = ["Require jwt-fresh abc", "Require jwt-fresh -5", "Require jwt-fresh -1m",
             "Require jwt-fresh 0", "Require jwt-fresh 1.5", "Require jwt-fresh 10min",
             "Require jwt-fresh 3651d", "Require jwt-fresh 60 120"]
GOOD_LINES = ["Require jwt-fresh", "Require jwt-fresh 1", "Require jwt-fresh 10m",
              "Require jwt-fresh 3650d", 'Require jwt-fresh "300"']


@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_seconds_fail_configtest(httpd_factory, line):
    rc, out = pyhttpd.configtest_require(httpd_factory(), line)
    assert rc != 0, f"configtest passed with `{line}`:\n{out}"
    assert "Require jwt-fresh" in out, out
    if len(line.split()) == 3:
        assert f"'{line.split()[2]}' is not a duration" in out and "10m, 1h, 14d" in out, out


@pytest.mark.parametrize("line", GOOD_LINES)
def test_good_seconds_pass_configtest(httpd_factory, line):
    rc, out = pyhttpd.configtest_require(httpd_factory(), line)
    assert rc == 0 and "Syntax OK" in out, out
