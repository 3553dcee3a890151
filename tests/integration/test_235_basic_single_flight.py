"""Single flight for Basic logins (auth_jwt_bflight.c): when many requests of
one credential miss the Basic credential cache at once (its entry expired
after an idle period longer than AuthJWTBasicCacheTTL), one request per
child checks the password against the store and the others wait for it and
reuse its cached success.  Nothing else is shared: a wrong password is
checked (and counted by the login throttle) per attempt, a store failure is
each request's own, and a waiter whose wait runs out checks alone.

The number of stored-hash checks is read from the auth-jwt-metrics handler
(mod_auth_jwt_password_checks_total, summed over the children).  The users
here get a cost-12 bcrypt hash (about 0.25 s per check), so that requests
sent together are still together when they reach bcrypt."""

import concurrent.futures
import re
import subprocess
import threading
import time

import pytest

import pyhttpd
# DBDPersist Off and the data directory moved away: any store access fails
from test_230_basic_cache import StoreGone
from test_200_revocation import SESSION_CONFIG

# AuthJWTBasicCacheTTL 2 in /flight: entries made at second C are used
# until C + 2; waiting IDLE seconds lets every entry expire.
TTL = 2
IDLE = TTL + 0.2
# requests sent together (below ThreadsPerChild x children: none queues)
BURST = 20
# the test server's children (pyhttpd: StartServers 2, ServerLimit 2): one
# flight per child at most
CHILDREN = 2
SLOW_COST = 12
# a hash slow enough (about 8 s) that waiters stop waiting
# (AUTH_JWT_BFLIGHT_WAIT, 5 s) before its check ends
VERY_SLOW_COST = 17
THROTTLE_ATTEMPTS = 5

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG + f"""
DBDPersist Off
<Location /metrics>
    SetHandler auth-jwt-metrics
    Require ip 127.0.0.1
</Location>
<Location /flight/resource>
    AuthType JWT
    AuthName "itest"
    Require valid-user
    AuthJWTBasicCacheTTL {TTL}
    AuthJWTLoginThrottle {THROTTLE_ATTEMPTS} 60
</Location>
LuaMapHandler "^/flight/resource$" "@CONF@/hello.lua"
"""

# store gone: mod_dbd and the module say so (test_610); the throttle's
# audit lines for wrong passwords
HTTPD_EXPECTED_LOG = [r"AJ00[1-4]", r"\[dbd:error\]", r"\[dbd:crit\]", r"unable to open",
                      r"AJ1\d\d: .*(revocation|store)", r"AH00629", r"AH00633"]

RE_CHECKS = re.compile(r"^mod_auth_jwt_password_checks_total (\d+)$", re.M)


def password_checks(httpd):
    r = httpd.get("/metrics")
    assert r.status == 200, r
    m = RE_CHECKS.search(r.text)
    assert m, r.text
    return int(m.group(1))


def hash_of(password, cost):
    out = subprocess.run(["htpasswd", "-nbB", "-C", str(cost), "x", password], check=True,
                         capture_output=True, text=True, timeout=120).stdout.strip()
    return out.split(":", 1)[1]


def slow_user(httpd, cost=SLOW_COST):
    """A registered user whose stored hash costs `cost`."""
    name, pw, uid = pyhttpd.register(httpd)
    httpd.sql("UPDATE users SET password_hash = ? WHERE id = ?", (hash_of(pw, cost), uid))
    return name, pw


def together(httpd, n, auth, path="/flight/resource", timeout=60):
    """n requests sent at the same moment (one connection each); their
    statuses."""
    barrier = threading.Barrier(n, timeout=30)

    def one(_):
        barrier.wait()
        return httpd.get(path, auth=auth, timeout=timeout).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(one, range(n)))


def expired_login(httpd, name, pw):
    """A login that was cached and whose entry has expired since."""
    assert httpd.get("/flight/resource", auth=(name, pw)).status == 200
    time.sleep(IDLE)


def test_burst_after_expiry_checks_once_per_child(httpd):
    name, pw = slow_user(httpd)
    expired_login(httpd, name, pw)
    before = password_checks(httpd)
    statuses = together(httpd, BURST, (name, pw))
    assert statuses == [200] * BURST, statuses
    checks = password_checks(httpd) - before
    assert 1 <= checks <= CHILDREN, f"{checks} bcrypt checks for {BURST} requests"


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG, r"AJ201")
def test_wrong_password_is_checked_and_counted_per_attempt(httpd):
    """A wrong password is never shared: each of the attempts sent together
    is checked and counted by the login throttle, which then refuses even
    the right password."""
    name, pw = slow_user(httpd)
    before = password_checks(httpd)
    statuses = together(httpd, THROTTLE_ATTEMPTS, (name, pw + "x"))
    assert statuses == [401] * THROTTLE_ATTEMPTS, statuses
    assert password_checks(httpd) - before == THROTTLE_ATTEMPTS
    r = httpd.get("/flight/resource", auth=(name, pw))
    assert r.status == 429, r


def test_cached_login_needs_no_store_under_a_burst(httpd):
    """A burst of a login cached in shmcb (and in one child's copy at most)
    while the store is gone: every request answers from the cache."""
    name, pw = slow_user(httpd)
    assert httpd.get("/flight/resource", auth=(name, pw)).status == 200
    with StoreGone(httpd):
        statuses = together(httpd, BURST, (name, pw))
    assert statuses == [200] * BURST, statuses


def test_uncached_login_with_store_gone_is_503_for_all(httpd):
    """Each waiter of a leader that could not reach the store checks alone:
    503, never 401 (a store failure is not a wrong password), never 200."""
    name, pw = slow_user(httpd)
    expired_login(httpd, name, pw)
    with StoreGone(httpd):
        statuses = together(httpd, BURST, (name, pw))
    assert statuses == [503] * BURST, statuses
    # and the store back, the same burst logs in
    statuses = together(httpd, BURST, (name, pw))
    assert statuses == [200] * BURST, statuses


def test_waiters_stop_waiting_and_check_alone(httpd):
    """A check that takes longer than the bounded wait: the waiters check
    alone (and succeed); waiting never turns into a 503.  (Last in this
    file: the cost-16 hash raises the failed-check floor of this store.)"""
    name, pw = slow_user(httpd, VERY_SLOW_COST)
    httpd.error_log.mark()
    before = password_checks(httpd)
    # three requests over two children: at least two share one
    statuses = together(httpd, 3, (name, pw), timeout=300)
    assert statuses == [200] * 3, statuses
    assert password_checks(httpd) - before >= 2
    log = httpd.error_log.read_since_mark()
    assert "AJ136: a check of the same Basic credential is still under way" in log, log[-2000:]
