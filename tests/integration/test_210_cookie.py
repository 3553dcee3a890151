"""AuthJWTCookie (docs/reference.md §2 form 4): the token in a cookie, with the
double-submit CSRF rule for state-changing methods; never from the query
string."""

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG, refused

HTTPD_CONFIG = "AuthJWTCookie jwt\n" + pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT \
    + SESSION_CONFIG


def cookie_login(httpd):
    name, pw, uid = pyhttpd.register(httpd)
    r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
    assert r.status == 200, r
    return name, r


def set_cookie(r):
    cookies = [v for k, v in r.headers if k.lower() == "set-cookie"]
    assert len(cookies) == 1, r.headers
    return cookies[0]


def test_login_sets_a_safe_cookie(httpd):
    _, r = cookie_login(httpd)
    body = r.json()
    token = body["auth_token"]
    c = set_cookie(r)
    assert c.startswith(f"jwt={token};"), c
    for attr in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"):
        assert attr in c, c
    csrf = pyhttpd.token_claims(token)["csrf"]
    assert body["csrf_token"] == csrf and len(csrf) >= 22


def test_cookie_authenticates_reads(httpd):
    name, r = cookie_login(httpd)
    token = r.json()["auth_token"]
    got = httpd.get("/api/resource", headers={"Cookie": f"other=1; jwt={token}; x=y"})
    assert got.status == 200, got
    assert got.json() == {"data": f"Hello, {name}!"}
    # a tampered cookie is a refused token, not anonymous
    bad = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert refused(httpd.get("/api/resource", headers={"Cookie": f"jwt={bad}"}))


def test_state_changing_requests_need_the_csrf_header(httpd):
    _, r = cookie_login(httpd)
    token, csrf = r.json()["auth_token"], r.json()["csrf_token"]
    cookie = {"Cookie": f"jwt={token}"}
    assert httpd.post("/auth/logout", headers=cookie).status == 403
    wrong = dict(cookie, **{"X-CSRF-Token": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")})
    assert httpd.post("/auth/logout", headers=wrong).status == 403
    # still valid: nothing happened
    assert httpd.get("/api/resource", headers=cookie).status == 200
    ok = httpd.post("/auth/logout", headers=dict(cookie, **{"X-CSRF-Token": csrf}))
    assert ok.status == 200, ok
    cleared = set_cookie(ok)
    assert cleared.startswith("jwt=;") and "Max-Age=0" in cleared, cleared
    assert refused(httpd.get("/api/resource", headers=cookie))


def test_bearer_needs_no_csrf_header(httpd):
    _, r = cookie_login(httpd)
    token = r.json()["auth_token"]
    assert httpd.post("/auth/logout", bearer=token).status == 200


def test_header_and_cookie_must_agree(httpd):
    _, r1 = cookie_login(httpd)
    _, r2 = cookie_login(httpd)
    t1, t2 = r1.json()["auth_token"], r2.json()["auth_token"]
    both_same = httpd.get("/api/resource", bearer=t1, headers={"Cookie": f"jwt={t1}"})
    assert both_same.status == 200
    differ = httpd.get("/api/resource", bearer=t1, headers={"Cookie": f"jwt={t2}"})
    assert differ.status == 400, differ
    twice = httpd.get("/api/resource", headers={"Cookie": f"jwt={t1}; jwt={t2}"})
    assert twice.status == 400, twice


def test_no_query_string_tokens(httpd):
    _, r = cookie_login(httpd)
    token = r.json()["auth_token"]
    for q in (f"token={token}", f"access_token={token}", f"jwt={token}"):
        got = httpd.get(f"/api/resource?{q}")
        assert got.status == 401, (q, got)


class TestWithoutCookieDirective:
    HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT

    def test_cookie_is_ignored(self, httpd):
        name, pw, _ = pyhttpd.register(httpd)
        r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
        assert r.status == 200
        assert not [v for k, v in r.headers if k.lower() == "set-cookie"]
        assert "csrf" not in pyhttpd.token_claims(r.json()["auth_token"])
        got = httpd.get("/api/resource", headers={"Cookie": f"jwt={r.json()['auth_token']}"})
        assert got.status == 401
