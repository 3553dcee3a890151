"""The JOSE typ header (docs/reference.md §5): optional; when present, JWT or
at+jwt (RFC 9068), in any letter case, with or without "application/".
Tokens signed by PyJWT with each typ variant, as another issuer would."""

import time

import jwt
import pytest

import pyhttpd

HTTPD_CONFIG = pyhttpd.RESOURCE_CONFIG


def pyjwt_token(srv, typ):
    headers = {} if typ is None else {"typ": typ}
    t = int(time.time())
    tok = jwt.encode({"sub": "42", "name": "alice", "exp": t + 60}, srv.secret,
                     algorithm="HS256", headers=headers)
    if typ is None:
        # PyJWT adds typ JWT unless told otherwise: none at all is a case too
        tok = jwt.encode({"sub": "42", "name": "alice", "exp": t + 60}, srv.secret,
                         algorithm="HS256", headers={"typ": None})
        assert "typ" not in jwt.get_unverified_header(tok)
    else:
        assert jwt.get_unverified_header(tok)["typ"] == typ
    return tok


ACCEPTED = [None, "JWT", "jwt", "at+jwt", "AT+JWT", "application/jwt", "application/at+jwt",
            "Application/At+JWT"]
REFUSED = ["JOSE", "dpop+jwt", "logout+jwt", "secevent+jwt", "application/jose", "JWT ",
           "at+jwtx", "application/", "text/jwt"]


@pytest.mark.parametrize("typ", ACCEPTED, ids=[repr(t) for t in ACCEPTED])
def test_typ_accepted(httpd, typ):
    r = httpd.get("/api/resource", bearer=pyjwt_token(httpd, typ))
    assert r.status == 200, r
    assert r.json() == {"data": "Hello, alice!"}


@pytest.mark.parametrize("typ", REFUSED, ids=[repr(t) for t in REFUSED])
def test_typ_refused(httpd, typ):
    r = httpd.get("/api/resource", bearer=pyjwt_token(httpd, typ))
    assert r.status == 401, r
    chal = r.header("WWW-Authenticate")
    assert 'error="invalid_token"' in chal, chal
    assert 'error_description="token type not accepted"' in chal, chal


@pytest.mark.parametrize("typ", [1, None, ["JWT"], {"v": "JWT"}, True],
                         ids=["number", "null", "array", "object", "bool"])
def test_typ_not_a_string_refused(httpd, typ):
    hdr = {"alg": "HS256", "typ": typ}
    t = pyhttpd.sign_hs(hdr, {"sub": "42", "name": "alice", "exp": int(time.time()) + 60},
                        httpd.secret)
    r = httpd.get("/api/resource", bearer=t)
    assert r.status == 401, r
    assert 'error="invalid_token"' in r.header("WWW-Authenticate")


def test_empty_typ_refused(httpd):
    """PyJWT leaves an empty typ out: signed by hand."""
    t = pyhttpd.sign_hs({"alg": "HS256", "typ": ""},
                        {"sub": "42", "name": "alice", "exp": int(time.time()) + 60}, httpd.secret)
    r = httpd.get("/api/resource", bearer=t)
    assert r.status == 401, r
    assert 'error_description="token type not accepted"' in r.header("WWW-Authenticate")
