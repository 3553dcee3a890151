"""The users handler (auth-jwt-users): registration, its refusals, lookups,
methods and body limits (docs/reference.md §4)."""

import json

import jwt
import pytest

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
<Location /closed/users>
    SetHandler auth-jwt-users
    AuthJWTRegistration Off
</Location>
"""

MAX_BODY = 16384


def _assert_error(r, status=400):
    assert r.status == status, r
    assert r.header("Content-Type").startswith("application/json"), r
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"], str) and 0 < len(body["error"]) < 200


def test_register_shape(httpd):
    name = pyhttpd.unique_name("shape")
    r = httpd.post("/api/users", json_body={"username": name, "password": "secret-pw"})
    assert r.status == 201, r
    assert r.header("Content-Type").startswith("application/json")
    body = r.json()
    assert set(body) == {"username", "id"}
    assert body["username"] == name
    assert type(body["id"]) is int and body["id"] > 0
    assert r.header("Location") in (f"/api/users/{body['id']}",
                                    f"{httpd.url}/api/users/{body['id']}")
    r2 = httpd.get(f"/api/users/{body['id']}")
    assert r2.status == 200, r2
    assert r2.json() == {"username": name, "id": body["id"]}
    # the stored hash is bcrypt, never the password
    rows = httpd.sql("SELECT password_hash FROM users WHERE username = ?", (name,))
    assert len(rows) == 1 and rows[0][0].startswith("$2") and "secret-pw" not in rows[0][0]


def test_ids_increase(httpd):
    _, _, a = pyhttpd.register(httpd)
    _, _, b = pyhttpd.register(httpd)
    assert b > a


def _jwt_shaped():
    return jwt.encode({"sub": "1"}, "k" * 32, algorithm="HS256")


BAD_BODIES = [
    ("truncated-json", b'{"username": "abc", "password": "secret-pw"'),
    ("not-json", b"username=abc&password=secret-pw"),
    ("empty-body", b""),
    ("json-array", b'["abc", "secret-pw"]'),
    ("json-string", b'"abc"'),
    ("json-null", b"null"),
    ("trailing-garbage", b'{"username": "abc", "password": "secret-pw"} x'),
    ("invalid-utf8", b'{"username": "ab\xffc", "password": "secret-pw"}'),
    ("username-number", {"username": 5, "password": "secret-pw"}),
    ("username-null", {"username": None, "password": "secret-pw"}),
    ("username-array", {"username": ["abc"], "password": "secret-pw"}),
    ("username-object", {"username": {"n": "abc"}, "password": "secret-pw"}),
    ("password-number", {"username": "abc", "password": 12345678}),
    ("password-bool", {"username": "abc", "password": True}),
    ("missing-password", {"username": "abc"}),
    ("missing-username", {"password": "secret-pw"}),
    ("empty-object", {}),
    ("empty-name", {"username": "", "password": "secret-pw"}),
    ("name-65-bytes", {"username": "a" * 65, "password": "secret-pw"}),
    ("name-66-bytes-utf8", {"username": "\u00e9" * 33, "password": "secret-pw"}),
    ("colon-in-name", {"username": "ab:c", "password": "secret-pw"}),
    ("control-char-soh", {"username": "ab\u0001c", "password": "secret-pw"}),
    ("control-char-newline", {"username": "ab\nc", "password": "secret-pw"}),
    ("control-char-tab", {"username": "ab\tc", "password": "secret-pw"}),
    ("control-char-del", {"username": "ab\u007fc", "password": "secret-pw"}),
    ("nul-in-name", {"username": "ab\u0000c", "password": "secret-pw"}),
    ("jwt-shaped-name", {"username": _jwt_shaped(), "password": "secret-pw"}),
    ("short-password", {"username": "abc", "password": "12345"}),
    ("empty-password", {"username": "abc", "password": ""}),
]


@pytest.mark.parametrize("body", [b[1] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_register_refused(httpd, body):
    if isinstance(body, dict):
        body = json.dumps(body).encode("utf-8")
    before = httpd.sql("SELECT COUNT(*) FROM users")[0][0] if _has_table(httpd) else 0
    r = httpd.post("/api/users", body=body, headers=[("Content-Type", "application/json")])
    _assert_error(r, 400)
    after = httpd.sql("SELECT COUNT(*) FROM users")[0][0] if _has_table(httpd) else 0
    assert after == before


def _has_table(httpd):
    import os
    if not os.path.exists(httpd.db_path):
        return False
    return bool(httpd.sql("SELECT name FROM sqlite_master WHERE name = 'users'"))


def test_boundaries_accepted(httpd):
    # 64 bytes (ASCII and 2-byte UTF-8), password of exactly the minimum length
    for name in ("b" * 64, "\u00e9" * 31 + "zz"):
        assert len(name.encode("utf-8")) == 64
        r = httpd.post("/api/users", json_body={"username": name, "password": "123456"})
        assert r.status == 201, r
        assert r.json()["username"] == name
    # a name with a dot (not JWT-shaped) and non-ASCII letters is fine
    name = pyhttpd.unique_name("j\u00fcrgen.m-")
    r = httpd.post("/api/users", json_body={"username": name, "password": "secret-pw"})
    assert r.status == 201, r
    assert r.json()["username"] == name


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_duplicate_user(httpd):
    name, _, uid = pyhttpd.register(httpd)
    r = httpd.post("/api/users", json_body={"username": name, "password": "other-pw"})
    _assert_error(r, 400)
    assert httpd.sql("SELECT COUNT(*) FROM users WHERE username = ?", (name,))[0][0] == 1
    # the first password still works, the second never became one
    assert httpd.get("/api/resource", auth=(name, "secret-pw")).status == 200
    assert httpd.get("/api/resource", auth=(name, "other-pw")).status == 401


def test_extra_fields_ignored_or_refused(httpd):
    """Unknown members must not become claims: either ignored (201) or refused (400)."""
    name = pyhttpd.unique_name("extra")
    r = httpd.post("/api/users", json_body={"username": name, "password": "secret-pw",
                                            "claims": {"role": "admin"}, "id": 999})
    assert r.status in (201, 400), r
    if r.status == 201:
        assert r.json()["id"] != 999
        rows = httpd.sql("SELECT claims FROM users WHERE username = ?", (name,))
        assert "admin" not in (rows[0][0] or "")


def test_body_too_large(httpd):
    big = json.dumps({"username": "big", "password": "p" * (MAX_BODY + 100)})
    r = httpd.post("/api/users", body=big, headers=[("Content-Type", "application/json")])
    assert r.status == 413, r


def test_body_too_large_chunked(httpd):
    data = json.dumps({"username": "bigc", "password": "p" * (MAX_BODY + 100)}).encode()
    chunks = b""
    for i in range(0, len(data), 4000):
        part = data[i:i + 4000]
        chunks += b"%x\r\n" % len(part) + part + b"\r\n"
    chunks += b"0\r\n\r\n"
    req = (f"POST /api/users HTTP/1.1\r\nHost: 127.0.0.1:{httpd.port}\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n").encode() + chunks
    r = httpd.raw(req)
    assert r.status == 413, r


def test_body_at_limit_not_413(httpd):
    # exactly 16384 bytes of valid JSON: not "too large" (the long password may be refused)
    name = pyhttpd.unique_name("lim")
    base = json.dumps({"username": name, "password": ""})
    body = json.dumps({"username": name, "password": "p" * (MAX_BODY - len(base))})
    assert len(body) == MAX_BODY
    r = httpd.post("/api/users", body=body, headers=[("Content-Type", "application/json")])
    assert r.status in (201, 400), r
    assert r.header("Content-Type").startswith("application/json")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_collection_method_not_allowed(httpd, method):
    r = httpd.request(method, "/api/users",
                      json_body={"username": "m", "password": "secret-pw"})
    assert r.status == 405, r
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "POST" in allow and method not in allow


def test_post_on_member_not_allowed(httpd):
    _, _, uid = pyhttpd.register(httpd)
    r = httpd.post(f"/api/users/{uid}", json_body={"username": "x", "password": "secret-pw"})
    assert r.status == 405, r
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "GET" in allow and "POST" not in allow


def test_get_unknown_user(httpd):
    r = httpd.get("/api/users/987654")
    assert r.status == 404, r


def test_registration_off(httpd):
    name = pyhttpd.unique_name("closed")
    r = httpd.post("/closed/users", json_body={"username": name, "password": "secret-pw"})
    _assert_error(r, 403)
    assert not _has_table(httpd) or \
        httpd.sql("SELECT COUNT(*) FROM users WHERE username = ?", (name,))[0][0] == 0
    # lookups still work there
    _, _, uid = pyhttpd.register(httpd)
    assert httpd.get(f"/closed/users/{uid}").status == 200
