"""Hostile input against every handler and every credential form: huge
headers and bodies, invalid UTF-8, NUL bytes, SQL metacharacters, JSON type
confusion, deep nesting, duplicate keys, malformed Authorization headers and
a header token that disagrees with the cookie.  Each is answered with the
4xx docs/reference.md §2/§4 name (400/401/403/405/413), never a 5xx; the harness fails a
test whose run crashed a child (`exit signal`, AH00052)."""

import base64
import json

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG

# httpd's default LimitRequestFieldSize: a header line of at most this many bytes
FIELD_LIMIT = 8190
BODY_LIMIT = 16384

HTTPD_CONFIG = "AuthJWTCookie jwt\n" + pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT \
    + SESSION_CONFIG + pyhttpd.JWKS_LOCATION

# every handler: (method, path, reads a JSON body, needs credentials)
HANDLERS = {
    "users": ("POST", "/api/users", True, False),
    "token": ("GET", "/api/token", False, True),
    "login": ("POST", "/auth/login", True, False),
    "status": ("GET", "/auth/status", False, True),
    "logout": ("POST", "/auth/logout", False, True),
    "password": ("POST", "/auth/password", True, True),
    "jwks": ("GET", "/jwks", False, False),
}
AUTHENTICATED = [h for h, v in HANDLERS.items() if v[3]]
BODY_HANDLERS = [h for h, v in HANDLERS.items() if v[2]]


def ok_status(r, allowed):
    assert r.status < 500, r
    assert r.status in allowed, r


def user_and_token(httpd, password="secret-pw"):
    name, pw, uid = pyhttpd.register(httpd, password=password)
    return name, pw, uid, pyhttpd.get_token(httpd, name, pw)


def raw_request(httpd, method, path, headers=(), body=b"", chunked=False):
    """A request written byte by byte (headers may hold any bytes).  A body
    is sent as JSON unless the headers name a Content-Type (the handlers
    answer 415 to any other type, and these tests are about something else)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: {httpd.host}:{httpd.port}".encode(),
             b"Connection: close"]
    if body and not any((k if isinstance(k, str) else k.decode("latin-1")).lower()
                        == "content-type" for k, _ in headers):
        headers = list(headers) + [("Content-Type", "application/json")]
    for k, v in headers:
        lines.append((k.encode() if isinstance(k, str) else k) + b": "
                     + (v.encode("latin-1") if isinstance(v, str) else v))
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        data = b""
        for i in range(0, len(body), 4000):
            part = body[i:i + 4000]
            data += b"%x\r\n" % len(part) + part + b"\r\n"
        body = data + b"0\r\n\r\n"
    elif body or method == "POST":
        lines.append(b"Content-Length: %d" % len(body))
    return httpd.raw(b"\r\n".join(lines) + b"\r\n\r\n" + body)


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


# ---- huge headers and bodies -------------------------------------------------

@pytest.mark.parametrize("handler", sorted(HANDLERS))
@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_header_near_field_limit(httpd, handler):
    method, path, _, needs_auth = HANDLERS[handler]
    name, pw, _, token = user_and_token(httpd)
    auth = [("Authorization", f"Bearer {token}")] if needs_auth else []
    body = b'{"username":"x","password":"y"}' if method == "POST" else b""
    # a header just inside the limit is served as usual...
    filler = "a" * (FIELD_LIMIT - len("X-Filler: ") - 2)
    r = raw_request(httpd, method, path, auth + [("X-Filler", filler)], body)
    assert r.status < 500, r
    # ... and one just over it is httpd's own 400
    r = raw_request(httpd, method, path, auth + [("X-Filler", filler + "aaaa")], body)
    ok_status(r, {400})
    # credentials near the limit: a token too long to be ours, a Basic value of junk
    big_token = "eyJ" + "A" * (FIELD_LIMIT - len("Authorization: Bearer ") - 10)
    r = raw_request(httpd, method, path, [("Authorization", f"Bearer {big_token}")], body)
    ok_status(r, {401} if needs_auth else {200, 201, 400, 401, 405})
    big_basic = b64("u" * 3000 + ":" + "p" * 3000)
    r = raw_request(httpd, method, path, [("Authorization", f"Basic {big_basic}")], body)
    ok_status(r, {401} if needs_auth else {200, 201, 400, 401, 405})


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_body_over_16k(httpd, handler, chunked):
    method, path, reads_body, needs_auth = HANDLERS[handler]
    name, pw, _, token = user_and_token(httpd)
    auth = [("Authorization", f"Bearer {token}")] if needs_auth else []
    pad = "x" * (BODY_LIMIT + 100)
    body = json.dumps({"username": "u" + pad[:10], "password": pad,
                       "old_password": pw, "new_password": pad}).encode()
    r = raw_request(httpd, "POST", path, auth + [("Content-Type", "application/json")],
                    body, chunked=chunked)
    if reads_body:
        ok_status(r, {413})
        assert r.json()["error"]
    else:
        # handlers that take no body: POST is their method (200) or a 405
        ok_status(r, {200, 405})
    # the user was not changed by the refused request
    assert pyhttpd.get_token(httpd, name, pw) or True


# ---- invalid UTF-8, NUL bytes ------------------------------------------------

INVALID_UTF8 = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"abc\x80", b"\xf4\x90\x80\x80"]


@pytest.mark.parametrize("bad", INVALID_UTF8, ids=[b.hex() for b in INVALID_UTF8])
def test_invalid_utf8_in_json(httpd, bad):
    name, pw, _, token = user_and_token(httpd)
    hdr = [("Content-Type", "application/json")]
    body = b'{"username":"u' + bad + b'","password":"secret-pw"}'
    ok_status(raw_request(httpd, "POST", "/api/users", hdr, body), {400})
    ok_status(raw_request(httpd, "POST", "/auth/login", hdr, body), {400, 401})
    body = b'{"old_password":"' + pw.encode() + b'","new_password":"new-pw-' + bad + b'xx"}'
    ok_status(raw_request(httpd, "POST", "/auth/password",
                          hdr + [("Authorization", f"Bearer {token}")], body), {200, 400})


@pytest.mark.parametrize("bad", INVALID_UTF8, ids=[b.hex() for b in INVALID_UTF8])
@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_invalid_utf8_in_credentials(httpd, bad):
    for path in ("/api/token", "/auth/status", "/auth/logout", "/auth/password"):
        method = HANDLERS[[h for h, v in HANDLERS.items() if v[1] == path][0]][0]
        r = raw_request(httpd, method, path, [("Authorization", b"Basic " + base64.b64encode(
            b"user" + bad + b":pw"))])
        ok_status(r, {401})
        r = raw_request(httpd, method, path, [("Authorization", b"Bearer eyJ" + bad + b".e.e")])
        ok_status(r, {400, 401})
        r = raw_request(httpd, method, path, [("Cookie", b"jwt=eyJ" + bad + b".e.e")])
        ok_status(r, {400, 401})


def test_nul_bytes(httpd):
    name, pw, _, token = user_and_token(httpd)
    hdr = [("Content-Type", "application/json")]
    # \u0000 inside JSON strings: refused, never truncated into another name
    for body in ({"username": name + "\u0000evil", "password": pw},
                 {"username": name, "password": pw + "\u0000"},
                 {"username": "\u0000", "password": "secret-pw"}):
        ok_status(httpd.post("/api/users", json_body=body), {400})
        ok_status(httpd.post("/auth/login", json_body=body), {400})
    r = httpd.post("/auth/password", bearer=token,
                   json_body={"old_password": pw, "new_password": "abcdefgh\u0000ij"})
    ok_status(r, {400})
    r = httpd.post("/auth/password", bearer=token,
                   json_body={"old_password": pw + "\u0000", "new_password": "abcdefghij"})
    ok_status(r, {400})
    # a raw NUL byte in the body is not JSON
    for path in ("/api/users", "/auth/login"):
        ok_status(raw_request(httpd, "POST", path, hdr,
                              b'{"username":"a\x00b","password":"secret-pw"}'), {400})
    ok_status(raw_request(httpd, "POST", "/auth/password",
                          hdr + [("Authorization", f"Bearer {token}")],
                          b'{"old_password":"x\x00","new_password":"abcdefghij"}'), {400})
    # NUL in Basic credentials (decoded) and raw in a header (httpd's own 400)
    for path in ("/api/token", "/auth/status"):
        ok_status(httpd.get(path, headers={"Authorization": "Basic " + b64(
            name.encode() + b"\x00:" + pw.encode())}), {400})
        ok_status(httpd.get(path, headers={"Authorization": "Basic " + b64(
            name.encode() + b":" + pw.encode() + b"\x00")}), {400})
        ok_status(raw_request(httpd, "GET", path,
                              [("Authorization", b"Bearer " + token.encode() + b"\x00x")]),
                  {400, 401})
    # the user is intact
    assert pyhttpd.get_token(httpd, name, pw)


# ---- SQL metacharacters round-trip as data ----------------------------------

SQL_NAMES = ["o'brien", "x' OR '1'='1", 'q"; DROP TABLE users; --', "100%_match",
             "semi;colon", "back\\slash", "rob'); DELETE FROM revoked_tokens; --"]


@pytest.mark.parametrize("i", range(len(SQL_NAMES)))
@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_sql_metacharacters_round_trip(httpd, i):
    name = SQL_NAMES[i] + pyhttpd.unique_name("-")
    pw = "pw' OR ''='" + str(i)
    r = httpd.post("/api/users", json_body={"username": name, "password": pw})
    assert r.status == 201, r
    uid = r.json()["id"]
    assert r.json()["username"] == name
    assert httpd.get(f"/api/users/{uid}").json() == {"username": name, "id": uid}
    assert httpd.sql("SELECT username FROM users WHERE id = ?", (uid,)) == [(name,)]
    # the same name again is a duplicate, not a second row
    ok_status(httpd.post("/api/users", json_body={"username": name, "password": pw}), {400})
    # login works with exactly these bytes, and only with them
    r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
    assert r.status == 200, r
    token = r.json()["auth_token"]
    assert pyhttpd.token_claims(token)["name"] == name
    for wrong in ("' OR '1'='1", "pw' OR ''='", pw + "'--"):
        ok_status(httpd.post("/auth/login", json_body={"username": name, "password": wrong}),
                  {401})
    ok_status(httpd.post("/auth/login", json_body={"username": "x' OR '1'='1' --",
                                                   "password": pw}), {401})
    st = httpd.get("/auth/status", auth=(name, pw))
    assert st.status == 200 and st.json()["data"]["username"] == name, st
    st = httpd.get("/auth/status", bearer=token)
    assert st.status == 200 and st.json()["data"]["username"] == name, st
    # a password change and a logout with such a user
    new_pw = "new'pw\"; --" + str(i)
    r = httpd.post("/auth/password", bearer=token,
                   json_body={"old_password": pw, "new_password": new_pw})
    assert r.status == 200, r
    token = pyhttpd.get_token(httpd, name, new_pw)
    assert httpd.post("/auth/logout", bearer=token).status == 200
    assert httpd.get("/auth/status", bearer=token).status == 401
    assert httpd.sql("SELECT COUNT(*) FROM users")[0][0] >= 1


# ---- JSON type confusion, nesting, duplicates --------------------------------

CONFUSED = [
    b'[]', b'"username"', b'42', b'null', b'true', b'',
    b'{"username":1,"password":"secret-pw"}',
    b'{"username":["a"],"password":"secret-pw"}',
    b'{"username":{"a":"b"},"password":"secret-pw"}',
    b'{"username":null,"password":"secret-pw"}',
    b'{"username":true,"password":"secret-pw"}',
    b'{"username":"abc","password":12345678}',
    b'{"username":"abc","password":["secret-pw"]}',
    b'{"username":"abc"}', b'{"password":"secret-pw"}', b'{}',
    b'{"username":"abc","password":"secret-pw"',
    b'{"username":"abc","password":"secret-pw"} {"x":1}',
    b'{"username":"abc","password":"secret-pw",}',
    b"{'username':'abc','password':'secret-pw'}",
    b'{"username":"abc","password":"secret-pw","username":"other"}',
    b'{"username":"abc","password":"secret-pw","user\\u006eame":"other"}',
    b'{"a":' + b"[" * 33 + b"]" * 33 + b',"username":"abc","password":"secret-pw"}',
    b'{"a":' + b"[" * 8000 + b"]" * 8000 + b'}',
    b'{"a":' + b'{"b":' * 2000 + b'1' + b'}' * 2000 + b'}',
    b'{"username":"\\ud800","password":"secret-pw"}',
    b'{"username":1e99999,"password":"secret-pw"}',
]
PW_CONFUSED = [
    b'{"old_password":1,"new_password":"abcdefghij"}',
    b'{"old_password":"x","new_password":null}',
    b'{"old_password":"x","new_password":["abcdefghij"]}',
    b'{"old_password":"x"}', b'[]', b'"x"',
    b'{"old_password":"x","new_password":"abcdefghij","new_password":"other-pass"}',
    b'{"a":' + b"[" * 40 + b"]" * 40 + b'}',
]


@pytest.mark.parametrize("body", CONFUSED, ids=range(len(CONFUSED)))
def test_json_confusion_users_and_login(httpd, body):
    hdr = [("Content-Type", "application/json")]
    r = raw_request(httpd, "POST", "/api/users", hdr, body)
    ok_status(r, {400})
    assert "error" in r.json()
    r = raw_request(httpd, "POST", "/auth/login", hdr, body)
    ok_status(r, {400, 401})


@pytest.mark.parametrize("body", PW_CONFUSED, ids=range(len(PW_CONFUSED)))
def test_json_confusion_password(httpd, body):
    name, pw, _, token = user_and_token(httpd)
    r = raw_request(httpd, "POST", "/auth/password",
                    [("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")],
                    body)
    ok_status(r, {400})
    assert "error" in r.json()
    assert pyhttpd.get_token(httpd, name, pw)      # nothing changed


# ---- malformed credentials, on every authenticated handler -------------------

def bad_credentials(token, other_token):
    """(id, headers, allowed statuses) of credential forms docs/reference.md §2 refuses."""
    return [
        ("basic-no-colon", [("Authorization", "Basic " + b64("justauser"))], {400}),
        ("basic-not-base64", [("Authorization", "Basic !!!not*base64!!!")], {400}),
        ("basic-bad-padding", [("Authorization", "Basic QQ===")], {400}),
        ("basic-empty", [("Authorization", "Basic")], {400}),
        ("basic-token-bad-sig", [("Authorization", "Basic " + b64(token[:-3] + "AAA:x"))],
         {401}),
        ("bearer-empty", [("Authorization", "Bearer")], {400}),
        ("bearer-spaces", [("Authorization", "Bearer    ")], {400}),
        ("bearer-two-words", [("Authorization", f"Bearer {token} extra")], {400}),
        ("bearer-garbage", [("Authorization", "Bearer not.a.token")], {401}),
        ("bearer-dots", [("Authorization", "Bearer ..")], {401}),
        ("two-authorization", [("Authorization", f"Bearer {token}"),
                               ("Authorization", f"Bearer {token}")], {400}),
        ("two-schemes", [("Authorization", f"Bearer {token}"),
                         ("Authorization", "Basic " + b64("a:b"))], {400}),
        ("header-and-cookie-differ", [("Authorization", f"Bearer {token}"),
                                      ("Cookie", f"jwt={other_token}")], {400}),
        ("basic-token-and-cookie-differ",
         [("Authorization", "Basic " + b64(token + ":x")), ("Cookie", f"jwt={other_token}")],
         {400}),
        ("cookie-twice-differ", [("Cookie", f"jwt={token}; jwt={other_token}")], {400}),
        ("cookie-garbage", [("Cookie", "jwt=garbage")], {401}),
        ("unknown-scheme", [("Authorization", "Digest username=x")], {401}),
    ]


CRED_IDS = [c[0] for c in bad_credentials("a.b.c", "d.e.f")]


@pytest.mark.parametrize("handler", AUTHENTICATED + ["resource"])
def test_malformed_credentials(httpd, handler):
    name, pw, _, token = user_and_token(httpd)
    other = pyhttpd.get_token(httpd, *user_and_token(httpd)[:2])
    method, path = ("GET", "/api/resource") if handler == "resource" \
        else HANDLERS[handler][:2]
    body = json.dumps({"old_password": pw, "new_password": "changed-pw"}).encode() \
        if handler == "password" else b""
    for cid, headers, allowed in bad_credentials(token, other):
        r = raw_request(httpd, method, path, headers + [("Content-Type", "application/json")],
                        body)
        assert r.status < 500, (cid, r)
        assert r.status in allowed, (cid, r)
        if r.status == 401:
            assert r.header_all("WWW-Authenticate"), (cid, r)
    # none of them logged the user out or changed the password
    assert httpd.get("/auth/status", bearer=token).status == 200
    assert pyhttpd.get_token(httpd, name, pw)
    # the same token in header and cookie is no conflict
    r = raw_request(httpd, "GET", "/auth/status",
                    [("Authorization", f"Bearer {token}"), ("Cookie", f"jwt={token}")])
    assert r.status == 200, r


def test_unauthenticated_handlers_ignore_credentials(httpd):
    """users, login and jwks take no credentials: hostile ones change nothing."""
    name, pw, _, token = user_and_token(httpd)
    for cid, headers, _ in bad_credentials(token, token + "x"):
        r = raw_request(httpd, "GET", "/jwks", headers)
        assert r.status == 200, (cid, r)
        body = json.dumps({"username": name, "password": pw}).encode()
        r = raw_request(httpd, "POST", "/auth/login",
                        headers + [("Content-Type", "application/json")], body)
        assert r.status == 200, (cid, r)
        r = raw_request(httpd, "POST", "/api/users",
                        headers + [("Content-Type", "application/json")], body)
        assert r.status == 400, (cid, r)          # the name exists


@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_unknown_methods(httpd, handler):
    method, path, _, needs_auth = HANDLERS[handler]
    name, pw, _, token = user_and_token(httpd)
    auth = [("Authorization", f"Bearer {token}")] if needs_auth else []
    for m in ("PUT", "DELETE", "PATCH", "BREW"):
        r = raw_request(httpd, m, path, auth, b"{}")
        assert r.status < 500, (m, r)
        assert r.status in (400, 405, 501), (m, r)
        if r.status == 405:
            assert r.header("Allow"), r
