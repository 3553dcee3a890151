"""Interoperability with PyJWT: tokens issued here verify with PyJWT (the
configured secret, exp required), and tokens PyJWT signs with that secret are
accepted here (docs/reference.md §5)."""

import time

import jwt
import pytest

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd)


def test_issued_token_verifies_with_pyjwt(httpd, user):
    name, pw, uid = user
    token = pyhttpd.get_token(httpd, name, pw)
    claims = jwt.decode(token, httpd.secret, algorithms=["HS256"],
                        options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
    assert claims["sub"] == str(uid)
    assert claims["name"] == name
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - time.time()) < 10
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["typ"] == "JWT"
    # a wrong key does not verify it: PyJWT really checked the signature
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, b"x" * 64, algorithms=["HS256"])


def test_login_token_verifies_with_pyjwt(httpd, user):
    r = httpd.post("/auth/login", json_body={"username": user[0], "password": user[1]})
    assert r.status == 200, r
    claims = jwt.decode(r.json()["token"], httpd.secret, algorithms=["HS256"],
                        options={"require": ["exp"]})
    assert claims["name"] == user[0]


def test_jti_unique(httpd, user):
    jtis = {jwt.decode(pyhttpd.get_token(httpd, user[0], user[1]), httpd.secret,
                       algorithms=["HS256"])["jti"] for _ in range(5)}
    assert len(jtis) == 5


@pytest.mark.parametrize("headers", [None, {"typ": "JWT"}, {"typ": "JWT", "x-extra": "1"}],
                         ids=["default", "typ", "extra-header"])
def test_pyjwt_token_accepted(httpd, user, headers):
    name, _, uid = user
    t = int(time.time())
    token = jwt.encode({"sub": str(uid), "name": name, "iat": t, "nbf": t, "exp": t + 60,
                        "jti": f"py-{t}-{uid}"}, httpd.secret, algorithm="HS256",
                       headers=headers)
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    r = httpd.get("/api/resource", auth=(token, "x"))
    assert r.status == 200, r
    r = httpd.get("/auth/status", bearer=token)
    assert r.status == 200, r
    assert r.json()["data"]["username"] == name


def test_pyjwt_minimal_token_accepted(httpd, user):
    """Only sub, name and exp: iat/nbf/jti are optional on verification."""
    name, _, uid = user
    token = jwt.encode({"sub": str(uid), "name": name, "exp": int(time.time()) + 60},
                       httpd.secret, algorithm="HS256")
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}


def test_pyjwt_token_renews(httpd, user):
    name, _, uid = user
    t = int(time.time())
    token = jwt.encode({"sub": str(uid), "name": name, "iat": t, "exp": t + 60,
                        "auth_time": t - 30}, httpd.secret, algorithm="HS256")
    r = httpd.get("/api/token", bearer=token)
    assert r.status == 200, r
    claims = jwt.decode(r.json()["token"], httpd.secret, algorithms=["HS256"])
    assert claims["sub"] == str(uid) and claims["name"] == name
    assert claims["auth_time"] == t - 30
