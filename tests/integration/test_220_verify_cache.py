"""The verified-token cache (AuthJWTVerifyCache): a repeated token skips the
signature, but a tampered token never hits, a token cached under one key
set is not accepted where other keys apply, and exp still counts."""

import concurrent.futures
import os
import time

import jwt

import pyhttpd
from test_200_revocation import refused

OTHER_SECRET = b"o" * 64
# keys are read when the configuration is; env: needs no file beforehand
os.environ["AJ_ITEST_OTHER_KEY"] = OTHER_SECRET.decode()

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + r"""
<Location /other-keys/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTVerifyKey HS256 env:AJ_ITEST_OTHER_KEY
</Location>
LuaMapHandler "^/other-keys/resource$" "@CONF@/hello.lua"
<Location /nocache/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTVerifyCache 0
</Location>
LuaMapHandler "^/nocache/resource$" "@CONF@/hello.lua"
"""


def many(httpd, path, **kw):
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        return list(ex.map(lambda _: httpd.get(path, **kw).status, range(24)))




def test_repeated_and_tampered_tokens(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    assert many(httpd, "/api/resource", bearer=token) == [200] * 24   # cached in both children
    head, payload, sig = token.split(".")
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    for bad in (f"{head}.{payload}.{flipped}",
                f"{head}.{payload}." + jwt.encode({"x": 1}, OTHER_SECRET).split(".")[2],
                f"{head}.{payload}.",
                f"{head}.{payload}"):
        statuses = many(httpd, "/api/resource", bearer=bad)
        assert set(statuses) == {401}, (bad, statuses)
    # the genuine token still works
    assert many(httpd, "/api/resource", bearer=token) == [200] * 24


def test_cached_token_not_accepted_under_other_keys(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    assert many(httpd, "/api/resource", bearer=token) == [200] * 24
    statuses = many(httpd, "/other-keys/resource", bearer=token)
    assert set(statuses) == {401}, statuses
    other = jwt.encode({"sub": "x", "name": "svc", "exp": int(time.time()) + 60},
                       OTHER_SECRET, algorithm="HS256")
    assert many(httpd, "/other-keys/resource", bearer=other) == [200] * 24
    assert set(many(httpd, "/api/resource", bearer=other)) == {401}


def test_cache_never_outlives_exp(httpd):
    name, pw, uid = pyhttpd.register(httpd)
    exp = int(time.time()) + 2
    token = jwt.encode({"sub": str(uid), "name": name, "iat": exp - 2, "exp": exp},
                       httpd.secret, algorithm="HS256")
    assert many(httpd, "/api/resource", bearer=token) == [200] * 24
    while time.time() < exp + 0.2:
        time.sleep(0.1)
    assert refused(httpd.get("/api/resource", bearer=token))
    assert set(many(httpd, "/api/resource", bearer=token)) == {401}


def test_cache_off_per_location(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    assert many(httpd, "/nocache/resource", bearer=token) == [200] * 24
    h, p, s = token.split(".")
    assert refused(httpd.get("/nocache/resource", bearer=f"{h}.{p}.{s[:-2]}AA"))
