"""Tokens: the credential forms of AuthType JWT, every refusal reason of the
verifier, the Authorization syntax rules, renewal, lifetimes and leeway
(docs/reference.md §2, §3, §5)."""

import base64
import json
import time

import jwt
import pytest

import pyhttpd
from pyhttpd import b64url, sign_hs, token_claims, token_header

TOKEN_LOC = r"""
<Location {path}>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    SetHandler auth-jwt-token
    {extra}
</Location>
"""

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
LimitRequestFieldSize 32768
""" + TOKEN_LOC.format(path="/renew-off/token", extra="AuthJWTRenewWithToken Off") \
    + TOKEN_LOC.format(path="/short-session/token", extra="AuthJWTMaxSessionAge 50") \
    + TOKEN_LOC.format(path="/lifetime/token", extra="AuthJWTTokenLifetime 120") \
    + TOKEN_LOC.format(path="/lifetime-units/token", extra="AuthJWTTokenLifetime 3m") + r"""
<Location /leeway/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTLeeway 30
</Location>
LuaMapHandler "^/leeway/resource$" "@CONF@/hello.lua"
<Location /nopw/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTPasswordLogin Off
</Location>
LuaMapHandler "^/nopw/resource$" "@CONF@/hello.lua"
"""


@pytest.fixture
def user(httpd):
    """A fresh registered user: (name, password, id)."""
    return pyhttpd.register(httpd)


def now():
    return int(time.time())


def claims_for(user, **over):
    name, _, uid = user
    t = now()
    c = {"sub": str(uid), "name": name, "iat": t, "nbf": t, "exp": t + 300,
         "jti": b64url(bytes(range(16))) + str(t), "auth_time": t}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def mint(httpd, claims, alg="HS256", headers=None):
    return jwt.encode(claims, httpd.secret, algorithm=alg, headers=headers)


def assert_invalid_token(r, token=None):
    assert r.status == 401, r
    challenges = r.header_all("WWW-Authenticate")
    bearer = [c for c in challenges if c.startswith('Bearer realm="itest"')]
    assert len(bearer) == 1, challenges
    assert 'error="invalid_token"' in bearer[0], challenges
    assert 'error_description="' in bearer[0], challenges
    if token:
        for part in [token] + [p for p in token.split(".") if len(p) > 8]:
            assert part not in r.text
            assert all(part not in v for _, v in r.headers)


# ---- the accepted forms --------------------------------------------------------

def test_bearer(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {user[0]}!"}


def test_token_as_basic_username(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    for pw in ("x", "", "anything:with:colons"):
        r = httpd.get("/api/resource", auth=(token, pw))
        assert r.status == 200, r
        assert r.json() == {"data": f"Hello, {user[0]}!"}


def test_password(httpd, user):
    r = httpd.get("/api/resource", auth=(user[0], user[1]))
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {user[0]}!"}


def test_no_credentials_challenges(httpd):
    r = httpd.get("/api/resource")
    assert r.status == 401, r
    assert sorted(r.header_all("WWW-Authenticate")) == pyhttpd.BOTH_CHALLENGES


def test_password_login_off(httpd, user):
    """Without password login, only the Bearer challenge is offered and a
    correct password is refused; tokens still work."""
    r = httpd.get("/nopw/resource")
    assert r.status == 401, r
    assert r.header_all("WWW-Authenticate") == ['Bearer realm="itest"']
    r = httpd.get("/nopw/resource", auth=(user[0], user[1]))
    assert r.status == 401, r
    token = pyhttpd.get_token(httpd, user[0], user[1])
    for kw in ({"bearer": token}, {"auth": (token, "x")}):
        r = httpd.get("/nopw/resource", **kw)
        assert r.status == 200, r
        assert r.json() == {"data": f"Hello, {user[0]}!"}


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_wrong_password_and_unknown_user_identical(httpd, user):
    r1 = httpd.get("/api/resource", auth=(user[0], "wrong-password"))
    r2 = httpd.get("/api/resource", auth=(pyhttpd.unique_name("nobody"), "wrong-password"))
    assert r1.status == r2.status == 401
    strip = lambda r: [(k, v) for k, v in r.headers if k.lower() != "date"]  # noqa: E731
    assert strip(r1) == strip(r2)
    assert r1.body == r2.body


# ---- refusals -------------------------------------------------------------------

def _signed_segments(h_seg, p_seg, secret):
    import hashlib
    import hmac
    sig = hmac.new(secret, f"{h_seg}.{p_seg}".encode("ascii"), hashlib.sha256).digest()
    return f"{h_seg}.{p_seg}.{b64url(sig)}"


def _padded_payload(c, secret):
    """Correctly signed, but the payload segment keeps its '=' padding."""
    h_seg = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}))
    for i in range(3):
        raw = json.dumps(dict(c, f="x" * i)).encode()
        seg = base64.urlsafe_b64encode(raw).decode()
        if seg.endswith("="):
            return _signed_segments(h_seg, seg, secret)
    raise AssertionError("no padded variant")


def _std_base64_payload(c, secret):
    """Correctly signed, but the payload uses '+' or '/' (base64, not base64url)."""
    h_seg = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}))
    for i in range(200):
        raw = json.dumps(dict(c, f="\u00ff" * i, g="?>" * i)).encode()
        seg = base64.b64encode(raw).decode().rstrip("=")
        if "+" in seg or "/" in seg:
            return _signed_segments(h_seg, seg, secret)
    raise AssertionError("no variant with + or /")


def _bad_tokens(httpd, user):
    s = httpd.secret
    c = claims_for(user)
    hdr = {"alg": "HS256", "typ": "JWT"}
    good = sign_hs(hdr, c, s)
    h, p, sig = good.split(".")
    other = dict(c, name="someone-else")
    tampered_payload = h + "." + b64url(json.dumps(other)) + "." + sig
    flip = "A" if sig[5] != "A" else "B"
    deep = c.copy()
    nest = "x"
    for _ in range(40):
        nest = [nest]
    deep["deep"] = nest
    dup = json.dumps(c)[:-1] + ', "sub": "999999"}'
    big = dict(c, pad="x" * 9000)
    return {
        "expired": mint(httpd, claims_for(user, iat=now() - 700, nbf=now() - 700,
                                          exp=now() - 100)),
        "tampered-payload": tampered_payload,
        "tampered-signature": h + "." + p + "." + sig[:5] + flip + sig[6:],
        "signature-missing": h + "." + p + ".",
        "hs384-same-key": mint(httpd, c, alg="HS384"),
        "hs512-same-key": mint(httpd, c, alg="HS512"),
        "alg-none": b64url(json.dumps({"alg": "none", "typ": "JWT"})) + "." + p + ".",
        "alg-none-with-sig": b64url(json.dumps({"alg": "none", "typ": "JWT"})) + "." + p
        + "." + sig,
        "alg-lowercase": sign_hs({"alg": "hs256", "typ": "JWT"}, c, s),
        "missing-exp": mint(httpd, claims_for(user, exp=None)),
        "exp-as-string": sign_hs(hdr, dict(c, exp=str(now() + 300)), s),
        "nbf-future": mint(httpd, claims_for(user, nbf=now() + 120)),
        "iat-future": mint(httpd, claims_for(user, iat=now() + 120, nbf=now())),
        "unknown-crit": sign_hs({"alg": "HS256", "typ": "JWT", "crit": ["x-unknown"],
                                 "x-unknown": 1}, c, s),
        "four-segments": good + ".e30",
        "two-segments": h + "." + p,
        "padding": sign_hs(hdr, c, s) + "=",
        "padded-payload": _padded_payload(c, s),
        "non-base64url-char": _std_base64_payload(c, s),
        "duplicate-keys": sign_hs(hdr, dup, s),
        "nested-41-deep": sign_hs(hdr, deep, s),
        "payload-array": sign_hs(hdr, "[1,2,3]", s),
        "payload-not-json": sign_hs(hdr, "not json", s),
        "over-8KiB": sign_hs(hdr, big, s),
        "other-secret": jwt.encode(c, b"q" * 64, algorithm="HS256"),
    }


BAD_IDS = ["expired", "tampered-payload", "tampered-signature", "signature-missing",
           "hs384-same-key", "hs512-same-key", "alg-none", "alg-none-with-sig",
           "alg-lowercase", "missing-exp", "exp-as-string", "nbf-future", "iat-future",
           "unknown-crit", "four-segments", "two-segments", "padding", "padded-payload",
           "non-base64url-char", "duplicate-keys", "nested-41-deep", "payload-array",
           "payload-not-json", "over-8KiB", "other-secret"]


@pytest.mark.parametrize("which", BAD_IDS)
@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_bad_token_refused(httpd, user, which):
    token = _bad_tokens(httpd, user)[which]
    r = httpd.get("/api/resource", bearer=token)
    assert_invalid_token(r, token)
    # the same token as the Basic user name: still refused, never anonymous
    r = httpd.get("/api/resource", auth=(token, "x"))
    assert r.status == 401, r
    assert token not in r.text
    # and never a token from the renewal endpoint
    r = httpd.get("/api/token", bearer=token)
    assert r.status == 401, r


def test_good_handmade_token_accepted(httpd, user):
    """The twin of the refusals above: the same construction, unmodified, passes."""
    token = sign_hs({"alg": "HS256", "typ": "JWT"}, claims_for(user), httpd.secret)
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {user[0]}!"}


# ---- Authorization syntax (lead's decisions: 400) ---------------------------------

def _syntax_cases(token):
    return {
        "two-bearer-headers": [("Authorization", f"Bearer {token}"),
                               ("Authorization", f"Bearer {token}")],
        "bearer-and-basic": [("Authorization", f"Bearer {token}"),
                             ("Authorization", pyhttpd.basic(token, "x"))],
        "comma-in-header": [("Authorization", f"Bearer {token}, Basic abc")],
        "empty-bearer": [("Authorization", "Bearer ")],
        "bare-bearer": [("Authorization", "Bearer")],
        "basic-not-base64": [("Authorization", "Basic !!not*base64!!")],
        "basic-no-colon": [("Authorization", "Basic "
                            + base64.b64encode(b"justaname").decode())],
    }


SYNTAX_IDS = ["two-bearer-headers", "bearer-and-basic", "comma-in-header", "empty-bearer",
              "bare-bearer", "basic-not-base64", "basic-no-colon"]


@pytest.mark.parametrize("which", SYNTAX_IDS)
def test_malformed_authorization_is_400(httpd, user, which):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    r = httpd.get("/api/resource", headers=_syntax_cases(token)[which])
    assert r.status == 400, r
    assert token not in r.text


# ---- renewal ----------------------------------------------------------------------

def test_renewal_keeps_auth_time(httpd, user):
    first = pyhttpd.get_token(httpd, user[0], user[1])
    c1 = token_claims(first)
    assert c1["auth_time"] >= c1["iat"] - 1
    time.sleep(1.1)
    r = httpd.get("/api/token", bearer=first)
    assert r.status == 200, r
    second = r.json()["token"]
    c2 = token_claims(second)
    assert c2["auth_time"] == c1["auth_time"]
    assert c2["iat"] > c1["iat"]
    assert c2["jti"] != c1["jti"]
    assert (c2["sub"], c2["name"]) == (c1["sub"], c1["name"])
    # token as Basic user name renews the same way
    r = httpd.get("/api/token", auth=(second, "x"))
    assert r.status == 200, r
    assert token_claims(r.json()["token"])["auth_time"] == c1["auth_time"]
    # a password login starts a new session
    third = pyhttpd.get_token(httpd, user[0], user[1])
    assert token_claims(third)["auth_time"] > c1["auth_time"]


def test_renew_with_token_off(httpd, user):
    token = pyhttpd.get_token(httpd, user[0], user[1])
    r = httpd.get("/renew-off/token", bearer=token)
    assert r.status in (401, 403), r
    assert b'"token"' not in r.body
    r = httpd.get("/renew-off/token", auth=(token, "x"))
    assert r.status in (401, 403), r
    # passwords still get tokens there, and the token itself stays valid elsewhere
    r = httpd.get("/renew-off/token", auth=(user[0], user[1]))
    assert r.status == 200, r
    assert httpd.get("/api/resource", bearer=token).status == 200


def test_max_session_age(httpd, user):
    old = mint(httpd, claims_for(user, auth_time=now() - 100))
    # the token itself is valid ...
    assert httpd.get("/api/resource", bearer=old).status == 200
    # ... but past AuthJWTMaxSessionAge 50 it cannot be renewed
    r = httpd.get("/short-session/token", bearer=old)
    assert r.status in (401, 403), r
    # a younger session can
    young = mint(httpd, claims_for(user, auth_time=now() - 10))
    r = httpd.get("/short-session/token", bearer=young)
    assert r.status == 200, r
    # the default (86400) renews the old one and keeps its auth_time
    r = httpd.get("/api/token", bearer=old)
    assert r.status == 200, r
    assert token_claims(r.json()["token"])["auth_time"] == token_claims(old)["auth_time"]


# ---- lifetime and leeway ------------------------------------------------------------

def test_default_lifetime(httpd, user):
    r = httpd.get("/api/token", auth=(user[0], user[1]))
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    c = token_claims(body["token"])
    assert body["duration"] == body["expires_in"] == 600
    assert c["exp"] - c["iat"] == 600
    assert abs(c["iat"] - now()) <= 5


def _issue(httpd, path, user):
    """A token from the token handler at path: (response body, its claims)."""
    r = httpd.get(path, auth=(user[0], user[1]))
    assert r.status == 200, r
    body = r.json()
    return body, token_claims(body["token"])


def test_token_lifetime_directive(httpd, user):
    body, c = _issue(httpd, "/lifetime/token", user)
    assert body["duration"] == 120
    assert body["expires_in"] == 120
    assert c["exp"] - c["iat"] == 120


def test_token_lifetime_with_unit(httpd, user):
    """AuthJWTTokenLifetime 3m is 180 seconds (docs/reference.md §13, durations)."""
    body, c = _issue(httpd, "/lifetime-units/token", user)
    assert body["expires_in"] == 180
    assert c["exp"] - c["iat"] == 180


def test_leeway(httpd, user):
    just_expired = mint(httpd, claims_for(user, iat=now() - 400, nbf=now() - 400,
                                          exp=now() - 5))
    assert httpd.get("/leeway/resource", bearer=just_expired).status == 200
    assert_invalid_token(httpd.get("/api/resource", bearer=just_expired))
    not_yet = mint(httpd, claims_for(user, nbf=now() + 10))
    assert httpd.get("/leeway/resource", bearer=not_yet).status == 200
    assert_invalid_token(httpd.get("/api/resource", bearer=not_yet))
    long_expired = mint(httpd, claims_for(user, iat=now() - 400, nbf=now() - 400,
                                          exp=now() - 60))
    assert_invalid_token(httpd.get("/leeway/resource", bearer=long_expired))


# ---- issued claims --------------------------------------------------------------------

def test_issued_claims(httpd, user):
    name, pw, uid = user
    token = pyhttpd.get_token(httpd, name, pw)
    hdr = token_header(token)
    assert hdr["alg"] == "HS256" and hdr["typ"] == "JWT"
    c = token_claims(token)
    assert c["sub"] == str(uid)
    assert c["name"] == name
    for k in ("iat", "nbf", "exp", "auth_time"):
        assert type(c[k]) is int, (k, c)
    assert len(pyhttpd.b64url_decode(c["jti"])) >= 16
    assert "iss" not in c and "aud" not in c
    assert "password" not in json.dumps(c) and pw not in json.dumps(c)


def test_stored_claims_added_reserved_kept(httpd, user):
    name, pw, uid = user
    httpd.set_claims(name, {"role": "admin", "scope": "read write", "groups": ["a", "b"],
                            "sub": "999999", "name": "evil", "exp": 1, "iat": 1,
                            "nbf": 1, "auth_time": 1, "jti": "fixed"})
    c = token_claims(pyhttpd.get_token(httpd, name, pw))
    assert c["role"] == "admin"
    assert c["scope"] == "read write"
    assert c["groups"] == ["a", "b"]
    assert c["sub"] == str(uid)
    assert c["name"] == name
    assert c["exp"] > now() and c["iat"] > 1 and c["nbf"] > 1 and c["auth_time"] > 1
    assert c["jti"] != "fixed"


class TestIssuerAudience:
    HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
AuthJWTIssuer "https://itest.example"
AuthJWTAudience api-a api-b
"""
    ISS = "https://itest.example"

    def test_issued_token_carries_iss_aud(self, httpd, user):
        c = token_claims(pyhttpd.get_token(httpd, user[0], user[1]))
        assert c["iss"] == self.ISS
        aud = c["aud"] if isinstance(c["aud"], list) else [c["aud"]]
        assert set(aud) <= {"api-a", "api-b"} and aud

    def test_issued_token_accepted(self, httpd, user):
        token = pyhttpd.get_token(httpd, user[0], user[1])
        r = httpd.get("/api/resource", bearer=token)
        assert r.status == 200, r

    @pytest.mark.parametrize("iss,aud,ok", [
        ("https://itest.example", "api-b", True),
        ("https://itest.example", ["x", "api-a"], True),
        (None, "api-a", False),
        ("https://other.example", "api-a", False),
        ("https://itest.example/", "api-a", False),
        ("https://itest.example", None, False),
        ("https://itest.example", "api-c", False),
        ("https://itest.example", ["x", "y"], False),
    ])
    def test_minted(self, httpd, user, iss, aud, ok):
        token = mint(httpd, claims_for(user, iss=iss, aud=aud))
        r = httpd.get("/api/resource", bearer=token)
        if ok:
            assert r.status == 200, r
        else:
            assert_invalid_token(r, token)
