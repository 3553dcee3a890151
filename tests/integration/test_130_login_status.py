"""The login and status handlers of the "token-based auth with Flask" design
(auth-jwt-login, auth-jwt-status; docs/reference.md §4)."""

import json
import time

import jwt
import pytest

import pyhttpd
from pyhttpd import token_claims

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
<Location /nopw/login>
    SetHandler auth-jwt-login
    AuthJWTPasswordLogin Off
</Location>
<Location /short/login>
    SetHandler auth-jwt-login
    AuthJWTTokenLifetime 90
</Location>
"""


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd)


def login(httpd, username, password, path="/auth/login"):
    return httpd.post(path, json_body={"username": username, "password": password})


def test_login_success(httpd, user):
    name, pw, uid = user
    r = login(httpd, name, pw)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.header("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == {"status", "auth_token", "token", "expires_in"}
    assert body["status"] == "success"
    assert body["auth_token"] == body["token"]
    assert body["expires_in"] == 600
    c = token_claims(body["token"])
    assert c["sub"] == str(uid) and c["name"] == name
    assert c["exp"] - c["iat"] == 600
    # the token works as a credential
    r = httpd.get("/api/resource", bearer=body["token"])
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}


def test_login_lifetime(httpd, user):
    r = login(httpd, user[0], user[1], "/short/login")
    assert r.status == 200, r
    assert r.json()["expires_in"] == 90
    c = token_claims(r.json()["token"])
    assert c["exp"] - c["iat"] == 90


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_login_wrong_password_and_unknown_user(httpd, user):
    r1 = login(httpd, user[0], "wrong-password")
    r2 = login(httpd, pyhttpd.unique_name("ghost"), "wrong-password")
    for r in (r1, r2):
        assert r.status == 401, r
        assert r.header("Content-Type").startswith("application/json")
        body = r.json()
        assert set(body) == {"status", "message"}
        assert body["status"] == "fail"
        assert isinstance(body["message"], str) and body["message"]
        assert "token" not in body
    strip = lambda r: [(k, v) for k, v in r.headers if k.lower() != "date"]  # noqa: E731
    assert strip(r1) == strip(r2)
    assert r1.body == r2.body


@pytest.mark.parametrize("body", [
    b"{not json",
    b"",
    b"[]",
    b'{"username": "a"}',
    b'{"password": "secret-pw"}',
    b'{"username": 1, "password": "secret-pw"}',
    b'{"username": "a", "password": null}',
], ids=["bad-json", "empty", "array", "no-password", "no-username", "username-int",
        "password-null"])
def test_login_bad_request(httpd, body):
    r = httpd.post("/auth/login", body=body, headers=[("Content-Type", "application/json")])
    assert r.status == 400, r
    assert set(r.json()) == {"error"}


def test_login_body_too_large(httpd):
    body = json.dumps({"username": "a", "password": "p" * 20000})
    r = httpd.post("/auth/login", body=body, headers=[("Content-Type", "application/json")])
    assert r.status == 413, r


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_login_method(httpd, method):
    r = httpd.request(method, "/auth/login")
    assert r.status == 405, r
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "POST" in allow and method not in allow


def test_login_password_login_off(httpd, user):
    r = login(httpd, user[0], user[1], "/nopw/login")
    assert r.status in (401, 403), r
    assert b'"token"' not in r.body and b'"auth_token"' not in r.body


def test_status_with_bearer(httpd, user):
    name, pw, uid = user
    httpd.set_claims(name, {"role": "admin", "scope": "read write"})
    token = login(httpd, name, pw).json()["token"]
    r = httpd.get("/auth/status", bearer=token)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    body = r.json()
    assert set(body) == {"status", "data"}
    assert body["status"] == "success"
    data = body["data"]
    assert data["user_id"] == uid and type(data["user_id"]) is int
    assert data["username"] == name
    claims = data["claims"]
    assert isinstance(claims, dict)
    assert claims["sub"] == str(uid)
    assert claims["name"] == name
    assert claims["role"] == "admin"
    assert claims["scope"] == "read write"
    assert claims["exp"] == token_claims(token)["exp"]


def test_status_with_token_as_username(httpd, user):
    token = login(httpd, user[0], user[1]).json()["token"]
    r = httpd.get("/auth/status", auth=(token, "x"))
    assert r.status == 200, r
    assert r.json()["data"]["username"] == user[0]
    assert r.json()["data"]["user_id"] == user[2]


def test_status_with_password(httpd, user):
    r = httpd.get("/auth/status", auth=(user[0], user[1]))
    assert r.status == 200, r
    data = r.json()["data"]
    assert data["username"] == user[0] and data["user_id"] == user[2]
    assert isinstance(data["claims"], dict)


def test_status_unauthenticated(httpd):
    r = httpd.get("/auth/status")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == pyhttpd.BOTH_CHALLENGES


def test_status_expired_token(httpd, user):
    t = int(time.time())
    token = jwt.encode({"sub": str(user[2]), "name": user[0], "iat": t - 1000,
                        "nbf": t - 1000, "exp": t - 400}, httpd.secret, algorithm="HS256")
    r = httpd.get("/auth/status", bearer=token)
    assert r.status == 401, r
    assert any('error="invalid_token"' in v for v in r.header_all("WWW-Authenticate"))


def test_status_method(httpd, user):
    token = login(httpd, user[0], user[1]).json()["token"]
    r = httpd.request("DELETE", "/auth/status", bearer=token)
    assert r.status == 405, r
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "GET" in allow
