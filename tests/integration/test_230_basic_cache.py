"""The Basic credential cache (AuthJWTBasicCacheTTL): a password checked
once is not checked against the store again within the TTL; a password
change or revoke-all flushes it; TTL 0 turns it off.  With DBDPersist Off
and the data directory moved away, any store access fails (503), which
makes a cache hit visible."""

import os
import time

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG

BASE = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG + r"""
DBDPersist Off
AuthJWTRevocationRefresh 1
<Location /short-ttl/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTBasicCacheTTL 1
</Location>
LuaMapHandler "^/short-ttl/resource$" "@CONF@/hello.lua"
<Location /no-cache/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTBasicCacheTTL 0
</Location>
LuaMapHandler "^/no-cache/resource$" "@CONF@/hello.lua"
"""

HTTPD_CONFIG = BASE
HTTPD_EXPECTED_LOG = [r"AH00629", r"AJ00[1-4]", r"AH00633", r"unable to open", r"AJ115"]


class StoreGone:
    def __init__(self, httpd):
        self.httpd = httpd

    def __enter__(self):
        self.moved = self.httpd.data_dir + ".gone"
        os.rename(self.httpd.data_dir, self.moved)

    def __exit__(self, *exc):
        os.rename(self.moved, self.httpd.data_dir)


def test_cached_password_needs_no_store(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    other = pyhttpd.register(httpd)
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    with StoreGone(httpd):
        r = httpd.get("/api/resource", auth=(name, pw))
        assert r.status == 200, r
        assert r.json() == {"data": f"Hello, {name}!"}
        # anything not cached needs the store
        assert httpd.get("/api/resource", auth=(name, pw + "x")).status == 503
        assert httpd.get("/api/resource", auth=(other[0], other[1])).status == 503
        assert httpd.get("/no-cache/resource", auth=(name, pw)).status == 503
    assert httpd.get("/api/resource", auth=(name, pw + "x")).status == 401


def test_ttl_expires(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    assert httpd.get("/short-ttl/resource", auth=(name, pw)).status == 200
    time.sleep(2.1)
    with StoreGone(httpd):
        assert httpd.get("/short-ttl/resource", auth=(name, pw)).status == 503


def test_password_change_flushes(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    r = httpd.post("/auth/password", auth=(name, pw),
                   json_body={"old_password": pw, "new_password": "a-new-password"})
    assert r.status == 200, r
    assert httpd.get("/api/resource", auth=(name, pw)).status == 401
    assert httpd.get("/api/resource", auth=(name, "a-new-password")).status == 200


def test_revoke_all_flushes(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    token = pyhttpd.get_token(httpd, name, pw)
    assert httpd.post("/auth/logout?all=1", bearer=token).status == 200
    with StoreGone(httpd):
        assert httpd.get("/api/resource", auth=(name, pw)).status == 503
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200


def test_revoke_all_by_another_server_flushes(httpd):
    name, pw, uid = pyhttpd.register(httpd)
    bystander = pyhttpd.register(httpd)
    b_token = pyhttpd.get_token(httpd, bystander[0], bystander[1])
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    time.sleep(1.1)
    # another node (here: a direct store write, as htjwt revoke-all does)
    httpd.sql("UPDATE users SET tokens_valid_after = ? WHERE id = ?",
              (int(time.time()) + 1, uid))
    time.sleep(2.5)          # AuthJWTRevocationRefresh 1
    # any token check drives the refresh (another user's, so nothing is re-cached)
    assert httpd.get("/api/resource", bearer=b_token).status == 200
    with StoreGone(httpd):
        r = httpd.get("/api/resource", auth=(name, pw))
        assert r.status == 503, r
