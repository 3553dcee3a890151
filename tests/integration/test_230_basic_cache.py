"""The Basic credential cache (AuthJWTBasicCacheTTL): a password checked
once is not checked against the store again within the TTL; a password
change or revoke-all flushes it; TTL 0 turns it off.  With DBDPersist Off
and the data directory moved away, any store access fails (503), which
makes a cache hit visible."""

import os
import subprocess
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
<Location /ttl-8/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTBasicCacheTTL 8
</Location>
LuaMapHandler "^/ttl-8/resource$" "@CONF@/hello.lua"
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


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
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


def test_entry_not_used_past_this_sections_ttl(httpd):
    """An entry made under a longer TTL elsewhere (/api: 60 s) is not used
    where the TTL is shorter (1 s) once that has passed."""
    name, pw, _ = pyhttpd.register(httpd)
    for _ in range(4):                       # both children and shmcb
        assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    time.sleep(2.1)
    with StoreGone(httpd):
        assert httpd.get("/api/resource", auth=(name, pw)).status == 200
        assert httpd.get("/short-ttl/resource", auth=(name, pw)).status == 503


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
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



# /ttl-8: entries are made at a whole second C and expire at C + 8; from
# C + 6 (the last quarter) one request per child renews them.

def _new_hash(password):
    """A bcrypt hash of password, as another node would store it."""
    out = subprocess.run(["htpasswd", "-nbB", "-C", "4", "x", password], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out.split(":", 1)[1]


def test_refresh_ahead_renews_before_expiry(httpd):
    """Past its first TTL a busy login still needs no store: it was renewed
    by a request in the last quarter of the TTL."""
    name, pw, _ = pyhttpd.register(httpd)
    t0 = time.time()
    assert httpd.get("/ttl-8/resource", auth=(name, pw)).status == 200
    time.sleep(max(0.0, t0 + 6.1 - time.time()))        # due, not expired
    for _ in range(8):                                   # reaches both children
        assert httpd.get("/ttl-8/resource", auth=(name, pw)).status == 200
    time.sleep(max(0.0, t0 + 8.6 - time.time()))        # the first entry is gone
    with StoreGone(httpd):
        r = httpd.get("/ttl-8/resource", auth=(name, pw))
        assert r.status == 200, r


def test_refresh_ahead_falls_back_while_store_is_down(httpd):
    """A renewal that cannot reach the store leaves the entry answering."""
    name, pw, _ = pyhttpd.register(httpd)
    t0 = time.time()
    assert httpd.get("/ttl-8/resource", auth=(name, pw)).status == 200
    time.sleep(max(0.0, t0 + 6.1 - time.time()))
    with StoreGone(httpd):
        for _ in range(6):
            r = httpd.get("/ttl-8/resource", auth=(name, pw))
            assert r.status == 200, r


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_refresh_ahead_sees_a_changed_password(httpd):
    """The renewal checks the store: a password changed elsewhere (without
    this server's revocation table knowing) is refused from then on."""
    name, pw, uid = pyhttpd.register(httpd)
    t0 = time.time()
    assert httpd.get("/ttl-8/resource", auth=(name, pw)).status == 200
    httpd.sql("UPDATE users SET password_hash = ? WHERE id = ?", (_new_hash("elsewhere"), uid))
    assert httpd.get("/ttl-8/resource", auth=(name, pw)).status == 200     # cached
    time.sleep(max(0.0, t0 + 6.1 - time.time()))
    statuses = [httpd.get("/ttl-8/resource", auth=(name, pw)).status for _ in range(8)]
    assert 401 in statuses, statuses                     # a renewal found out
    assert httpd.get("/ttl-8/resource", auth=(name, "elsewhere")).status == 200


def _hash(password, cost):
    out = subprocess.run(["htpasswd", "-nbB", "-C", str(cost), "x", password], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out.split(":", 1)[1]


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_password_change_during_a_check_voids_its_entry(httpd):
    """A password change that commits while the old password is being
    checked (a slow, cost-15 hash) must not leave the old password cached:
    the entry counts from the start of the request that made it, before the
    user's row was read.  The timing is arranged so that the check ends in
    the second after the change's tokens_valid_after second began, where
    an entry stamped when it was stored would survive the change."""
    name, pw, uid = pyhttpd.register(httpd)
    bystander = pyhttpd.register(httpd)
    b_token = pyhttpd.get_token(httpd, bystander[0], bystander[1])
    httpd.sql("UPDATE users SET password_hash = ? WHERE id = ?", (_hash(pw, 15), uid))
    new_hash = _hash("changed-meanwhile", 4)
    # start at .3 of a second; the change lands at about .55 of that second
    time.sleep((1.3 - time.time() % 1.0) % 1.0)
    result = {}

    def old_password_login():
        result["r"] = httpd.get("/api/resource", auth=(name, pw))

    import threading
    t = threading.Thread(target=old_password_login)
    t.start()
    time.sleep(0.25)
    # as `htjwt passwd` does on another node: new hash, every earlier token revoked
    httpd.sql("UPDATE users SET password_hash = ?, tokens_valid_after = ? WHERE id = ?",
              (new_hash, int(time.time()) + 1, uid))
    t.join(60)
    assert result["r"].status == 200, result["r"]    # the password was right when read
    time.sleep(2.5)                                  # AuthJWTRevocationRefresh 1
    assert httpd.get("/api/resource", bearer=b_token).status == 200   # drives the refresh
    with StoreGone(httpd):
        r = httpd.get("/api/resource", auth=(name, pw))
        assert r.status == 503, r                    # no cached old password
    assert httpd.get("/api/resource", auth=(name, pw)).status == 401
    assert httpd.get("/api/resource", auth=(name, "changed-meanwhile")).status == 200


HTJWT = os.path.join(pyhttpd.REPO, "build", "htjwt")


def test_claims_changed_by_htjwt_reach_cached_logins(httpd):
    """`htjwt claims` writes the store directly; the server learns the change
    at its next revocation refresh, and a cached password check made before
    it is no longer used (the new claims are read with the next check)."""
    name, pw, uid = pyhttpd.register(httpd)
    bystander = pyhttpd.register(httpd)
    b_token = pyhttpd.get_token(httpd, bystander[0], bystander[1])
    r = httpd.get("/auth/status", auth=(name, pw))
    assert r.status == 200, r
    assert "role" not in r.json()["data"]["claims"]
    time.sleep(1.1)                      # the change lands in a later second
    p = subprocess.run([HTJWT, httpd.db_path, "claims", name, '{"role":"admin"}'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    httpd.sql("SELECT 1")                # gives the files back to httpd's user
    time.sleep(2.5)                      # AuthJWTRevocationRefresh 1
    assert httpd.get("/api/resource", bearer=b_token).status == 200    # drives the refresh
    with StoreGone(httpd):
        r = httpd.get("/auth/status", auth=(name, pw))
        assert r.status == 503, r        # the cached check is void
    r = httpd.get("/auth/status", auth=(name, pw))
    assert r.status == 200, r
    assert r.json()["data"]["claims"].get("role") == "admin", r.json()
