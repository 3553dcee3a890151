"""415 for request bodies that are not application/json (docs/reference.md §10): an HTML
form on another site (enctype text/plain or x-www-form-urlencoded) can
neither register a user nor log a browser in; JSON with parameters or in
another letter case still works."""

import json

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG

HTTPD_CONFIG = "AuthJWTCookie jwt\n" + pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT \
    + SESSION_CONFIG + pyhttpd.JWKS_LOCATION

# What a cross-site <form method=post> sends: the JSON-looking text/plain
# trick (name='{"username":"x","password":"y","z":"' value='"}') and the
# ordinary encodings.
FORM_BODIES = {
    "text-plain": ("text/plain",
                   '{{"username":"{u}","password":"secret-pw","z":"="}}'),
    "text-plain-charset": ("text/plain; charset=utf-8",
                           '{{"username":"{u}","password":"secret-pw"}}'),
    "urlencoded": ("application/x-www-form-urlencoded", "username={u}&password=secret-pw"),
    "multipart": ("multipart/form-data; boundary=b",
                  '--b\r\nContent-Disposition: form-data; name="username"\r\n\r\n{u}\r\n--b--\r\n'),
    "jsonx": ("application/jsonx", '{{"username":"{u}","password":"secret-pw"}}'),
    "json-patch": ("application/json-patch+json", '{{"username":"{u}","password":"secret-pw"}}'),
    "missing": (None, '{{"username":"{u}","password":"secret-pw"}}'),
}


def post(httpd, path, ctype, body, headers=()):
    hdrs = list(headers)
    if ctype is not None:
        hdrs.append(("Content-Type", ctype))
    return httpd.post(path, headers=hdrs, body=body)


def assert_415(r):
    assert r.status == 415, r
    assert r.header("Content-Type") == "application/json"
    assert "application/json" in r.json()["error"]
    assert not [v for k, v in r.headers if k.lower() == "set-cookie"], r.headers


def user_exists(httpd, name):
    return bool(httpd.sql("SELECT 1 FROM users WHERE username = ?", (name,)))


@pytest.mark.parametrize("kind", sorted(FORM_BODIES))
def test_form_cannot_register(httpd, kind):
    pyhttpd.register(httpd)             # the tables exist: the check below is real
    ctype, template = FORM_BODIES[kind]
    name = pyhttpd.unique_name("csrf")
    assert_415(post(httpd, "/api/users", ctype, template.format(u=name)))
    assert not user_exists(httpd, name)


@pytest.mark.parametrize("kind", sorted(FORM_BODIES))
def test_form_cannot_log_in(httpd, kind):
    name, pw, _ = pyhttpd.register(httpd)
    ctype, template = FORM_BODIES[kind]
    assert_415(post(httpd, "/auth/login", ctype, template.format(u=name)))
    # the same credentials as JSON: the 415 was the type, not the password
    r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
    assert r.status == 200, r


def test_password_change_needs_json(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    body = json.dumps({"old_password": pw, "new_password": "changed-pw"})
    assert_415(post(httpd, "/auth/password", "text/plain", body,
                    [("Authorization", f"Bearer {token}")]))
    assert pyhttpd.get_token(httpd, name, pw)        # the password did not change


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "Application/JSON",
                                   "APPLICATION/json;charset=\"UTF-8\""])
def test_json_with_parameters_or_case_works(httpd, ctype):
    name = pyhttpd.unique_name("ctype")
    body = json.dumps({"username": name, "password": "secret-pw"})
    r = post(httpd, "/api/users", ctype, body)
    assert r.status == 201, r
    r = post(httpd, "/auth/login", ctype, body)
    assert r.status == 200, r
    assert r.header("Set-Cookie").startswith("jwt=")


def test_handlers_without_body(httpd):
    """token, status, logout and jwks read no body: an empty one of any type
    (or none) is fine, a non-empty one that is not JSON is refused."""
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    bearer = [("Authorization", f"Bearer {token}")]
    for path in ("/api/token", "/auth/logout"):
        assert_415(post(httpd, path, "text/plain", "x=1", bearer))
        assert_415(post(httpd, path, "application/x-www-form-urlencoded", "x=1", bearer))
    r = httpd.request("GET", "/auth/status", headers=bearer + [("Content-Type", "text/plain")],
                      body="x")
    assert_415(r)
    assert_415(httpd.request("GET", "/jwks", headers=[("Content-Type", "text/plain")], body="x"))
    # empty bodies of any type, and JSON ones, are served as before
    assert post(httpd, "/api/token", "text/plain", "", bearer).status == 200
    assert httpd.get("/auth/status", bearer=token).status == 200
    r = post(httpd, "/auth/logout", "application/json", "{}", bearer)
    assert r.status == 200, r
