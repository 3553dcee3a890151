"""The login throttle, equal timing of failed checks, audit lines and the
fail2ban filter (docs/reference.md §10).

Client addresses are simulated with mod_remoteip (X-Forwarded-For from the
loopback proxy), which is also what proves that the throttle counts
r->useragent_ip.  Each test uses addresses of its own: the counters live as
long as the server."""

import concurrent.futures
import itertools
import os
import re
import statistics
import subprocess
import time

import pytest

import pyhttpd

REMOTEIP = """
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
"""

LOCATIONS = (
    "\n" + pyhttpd.jwt_location("/slow/resource", "AuthJWTBcryptCost 11")
    + pyhttpd.jwt_location("/short/resource", "AuthJWTLoginThrottle 3 2")
    + pyhttpd.jwt_location("/off/resource", "AuthJWTLoginThrottle Off")
    + pyhttpd.basic_location("/basic/jwt", realm="basic")
    + pyhttpd.basic_location("/basic/slow", "AuthJWTBcryptCost 11", realm="basic")
    + pyhttpd.PASSWORD_LOCATION
    + pyhttpd.lua_hello("^/(slow|short|off)/resource$")
    + pyhttpd.lua_hello("^/basic/")
)

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + REMOTEIP + LOCATIONS
THROTTLE_LOGS = (pyhttpd.REFUSED_CHECK_LOG, pyhttpd.THROTTLE_LIMIT_LOG)
# mod_auth_basic's own lines for refused Basic credentials
BASIC_FAILURES = (r"\[auth_basic:error\].*AH0161[78]",)

ATTEMPTS = 10           # the default AuthJWTLoginThrottle 10 60
ADDR_LIMIT = 10 * ATTEMPTS

_addresses = (f"198.18.{i // 250}.{i % 250 + 1}" for i in itertools.count())


def new_address():
    """A client address no other test used (TEST-NET for benchmarks, RFC 2544)."""
    return next(_addresses)


def basic(server, path, user, password, addr):
    return server.get(path, auth=(user, password), headers={"X-Forwarded-For": addr})


def login(server, user, password, addr):
    return server.post("/auth/login", json_body={"username": user, "password": password},
                       headers={"X-Forwarded-For": addr})


def retry_after(r):
    value = r.header("Retry-After")
    assert value is not None and value.isdigit(), r
    return int(value)


def log_count(regex, text):
    return len([ln for ln in text.splitlines() if re.search(regex, ln)])


@pytest.fixture
def user(httpd):
    return pyhttpd.register(httpd)


def test_parallel_right_passwords_are_never_throttled(httpd, user):
    """A client with many connections sending the right password at once (a
    cold cache: every one of them runs bcrypt) is never refused: only
    failed checks count.  A design that counts every check in advance (a
    reservation) refused such bursts beyond ATTEMPTS with 429."""
    name, pw, uid = user
    # a cost-10 hash, so that the checks overlap
    out = subprocess.run(["htpasswd", "-nbB", "-C", "10", "u", pw], check=True,
                         capture_output=True, text=True).stdout.strip()
    httpd.sql("UPDATE users SET password_hash = ? WHERE id = ?", (out.split(":", 1)[1], uid))
    addr = new_address()
    with concurrent.futures.ThreadPoolExecutor(max_workers=3 * ATTEMPTS) as ex:
        statuses = list(ex.map(lambda _: basic(httpd, "/slow/resource", name, pw, addr).status,
                               range(3 * ATTEMPTS)))
    assert statuses == [200] * (3 * ATTEMPTS), statuses


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_eleventh_attempt_is_429_without_bcrypt(httpd, user):
    name, pw, _ = user
    addr, other = new_address(), new_address()
    token = pyhttpd.get_token(httpd, name, pw)
    # a successful (cached) login first: the cache does not bypass the throttle
    assert basic(httpd, "/slow/resource", name, pw, addr).status == 200
    slowest_refusal = 0.0
    for _ in range(ATTEMPTS):
        t0 = time.monotonic()
        r = basic(httpd, "/slow/resource", name, "wrong-password", addr)
        slowest_refusal = max(slowest_refusal, time.monotonic() - t0)
        assert r.status == 401, r
    t0 = time.monotonic()
    r = basic(httpd, "/slow/resource", name, "wrong-password", addr)
    fast = time.monotonic() - t0
    assert r.status == 429, r
    assert 1 <= retry_after(r) <= 60
    # refused checks end at the floor of a cost-11 bcrypt; the throttled
    # one runs no bcrypt at all
    assert fast < slowest_refusal / 2, (fast, slowest_refusal)
    # the right password from that address is throttled too ...
    r = basic(httpd, "/slow/resource", name, pw, addr)
    assert r.status == 429, r
    # ... but not from another address, and tokens never are
    assert basic(httpd, "/slow/resource", name, pw, other).status == 200
    r = httpd.get("/slow/resource", bearer=token, headers={"X-Forwarded-For": addr})
    assert r.status == 200, r
    text = httpd.error_log.read_since_mark()
    assert log_count(r"\[auth_jwt:error\].*AJ200: password check refused: "
                     rf"client {addr}, user \"{name}\" \(wrong password\)", text) == ATTEMPTS
    assert log_count(rf"\[auth_jwt:error\].*AJ201: login throttle: client {addr}, "
                     rf"user \"{name}\" reached {ATTEMPTS}", text) == 1
    assert log_count(rf"\[auth_jwt:info\].*AJ203: password check throttled: "
                     rf"client {addr}, user \"{name}\"", text) == 2
    assert pw not in text


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_address_limit_over_many_usernames(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for i in range(ADDR_LIMIT):
        r = login(httpd, f"spray-{addr}-{i}", "guess", addr)
        assert r.status == 401, (i, r)
    r = login(httpd, "yet-another-name", "guess", addr)
    assert r.status == 429, r
    # a real user with the right password from that address waits too
    r = login(httpd, name, pw, addr)
    assert r.status == 429, r
    assert r.json() == {"status": "fail", "message": "too many failed logins"}
    assert 1 <= retry_after(r) <= 60
    assert login(httpd, name, pw, new_address()).status == 200
    text = httpd.error_log.read_since_mark()
    assert log_count(rf"AJ202: login throttle: client {addr} reached {ADDR_LIMIT} "
                     "failed password checks over all usernames", text) == 1
    assert log_count(r"AJ201:", text) == 0


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_login_handler_answers_429(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for _ in range(ATTEMPTS):
        r = login(httpd, name, "wrong-password", addr)
        assert r.status == 401, r
    r = login(httpd, name, "wrong-password", addr)
    assert r.status == 429, r
    assert r.json() == {"status": "fail", "message": "too many failed logins"}
    assert r.header("Content-Type").startswith("application/json")
    assert 1 <= retry_after(r) <= 60


@pytest.mark.expect_log(*THROTTLE_LOGS, *BASIC_FAILURES)
def test_basic_provider_answers_401(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for _ in range(ATTEMPTS):
        assert basic(httpd, "/basic/jwt", name, "wrong-password", addr).status == 401
    # throttled: a Basic provider can only say 401, even to the right password
    r = basic(httpd, "/basic/jwt", name, pw, addr)
    assert r.status == 401, r
    assert r.header("Retry-After") is None
    assert basic(httpd, "/basic/jwt", name, pw, new_address()).status == 200


@pytest.mark.expect_log(*THROTTLE_LOGS, *BASIC_FAILURES)
def test_basic_provider_throttled_takes_a_checks_time(httpd, user):
    """Under AuthBasicProvider jwt an unknown name is passed on uncounted (it
    always takes a failed check's time), so a throttled existing user's 401
    must take that time too, or its speed would tell that the user exists."""
    name, _, _ = user
    addr = new_address()
    for _ in range(ATTEMPTS):
        assert basic(httpd, "/basic/slow", name, "wrong-password", addr).status == 401
    times = {}
    for who in (name, "no-such-user-" + name):
        t0 = time.monotonic()
        assert basic(httpd, "/basic/slow", who, "wrong-password", addr).status == 401
        times[who] = time.monotonic() - t0
    throttled, unknown = times[name], times["no-such-user-" + name]
    assert throttled >= unknown / 2, times


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_password_handler_old_password_is_throttled(httpd, user):
    name, pw, _ = user
    addr = new_address()
    token = pyhttpd.get_token(httpd, name, pw)

    def change(old):
        return httpd.post("/auth/password", bearer=token, headers={"X-Forwarded-For": addr},
                          json_body={"old_password": old, "new_password": "new-password-1"})

    for _ in range(ATTEMPTS):
        r = change("wrong-password")
        assert r.status == 403, r
    r = change(pw)
    assert r.status == 429, r
    assert r.json() == {"error": "too many failed logins"}
    assert 1 <= retry_after(r) <= 60


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_success_clears_the_user_count(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for _ in range(ATTEMPTS - 1):
        assert basic(httpd, "/api/resource", name, "wrong-password", addr).status == 401
    assert basic(httpd, "/api/resource", name, pw, addr).status == 200
    # the count started again: ATTEMPTS more refusals before the throttle
    for i in range(ATTEMPTS):
        r = basic(httpd, "/api/resource", name, "wrong-password", addr)
        assert r.status == 401, (i, r)
    assert basic(httpd, "/api/resource", name, "wrong-password", addr).status == 429


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_off_disables(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for _ in range(ATTEMPTS + 5):
        assert basic(httpd, "/off/resource", name, "wrong-password", addr).status == 401
    assert basic(httpd, "/off/resource", name, pw, addr).status == 200
    # the audit lines are written all the same
    text = httpd.error_log.read_since_mark()
    assert log_count(rf"AJ200: .*client {addr}", text) == ATTEMPTS + 5


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_window_expiry(httpd, user):
    name, pw, _ = user
    addr = new_address()
    for _ in range(3):
        assert basic(httpd, "/short/resource", name, "wrong-password", addr).status == 401
    r = basic(httpd, "/short/resource", name, pw, addr)
    assert r.status == 429, r
    assert 1 <= retry_after(r) <= 2
    time.sleep(retry_after(r) + 0.2)
    assert basic(httpd, "/short/resource", name, pw, addr).status == 200


@pytest.mark.expect_log(*THROTTLE_LOGS)
def test_children_share_the_counts(httpd, user):
    name, _, _ = user
    addr = new_address()
    marker = f"/api/resource?throttle-probe={time.time()}"

    def attempt(_):
        return basic(httpd, marker, name, "wrong-password", addr).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as ex:
        statuses = list(ex.map(attempt, range(ATTEMPTS)))
    assert statuses == [401] * ATTEMPTS
    pids = {ln.split()[-1] for ln in httpd.access_log_lines(marker, count=ATTEMPTS)}
    assert len(pids) >= 2, "the attempts should have reached both children"
    assert basic(httpd, "/api/resource", name, "wrong-password", addr).status == 429


# ---- equal time for every failed check ------------------------------------------

def htpasswd_hash(*args):
    out = subprocess.run(["htpasswd", "-nb", *args, "u", "pw-right"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out.split(":", 1)[1]


class TestEqualTiming:
    """Unknown user, a wrong password against a cost-9 bcrypt hash and against
    an $apr1$ hash take the same time, with AuthJWTBcryptCost 6 (without the
    floor: 1x, 8x and ~0.1x of a cost-6 bcrypt)."""

    HTTPD_CONFIG = (pyhttpd.API_CONFIG + "AuthJWTBcryptCost 6\nAuthJWTLoginThrottle Off\n")
    HTTPD_EXPECTED_LOG = [pyhttpd.REFUSED_CHECK_LOG]
    ROUNDS = 15
    WARMUP = 4

    def test_medians_within_25_percent(self, httpd):
        pyhttpd.register(httpd)     # creates the schema
        for uname, h in (("cost9", htpasswd_hash("-B", "-C", "9")),
                         ("apr1", htpasswd_hash("-m"))):
            httpd.sql("INSERT INTO users (username, password_hash, claims, "
                      "tokens_valid_after, created_at) VALUES (?, ?, '{}', 0, 0)", (uname, h))
        # the hashes work (and a success is not padded)
        assert httpd.get("/api/resource", auth=("cost9", "pw-right")).status == 200
        assert httpd.get("/api/resource", auth=("apr1", "pw-right")).status == 200
        cases = {"unknown": ("no-such-user", "pw-wrong"), "cost9": ("cost9", "pw-wrong"),
                 "apr1": ("apr1", "pw-wrong")}
        times = {k: [] for k in cases}
        for i in range(self.WARMUP + self.ROUNDS):
            for k, cred in cases.items():
                t0 = time.monotonic()
                r = httpd.get("/api/resource", auth=cred)
                took = time.monotonic() - t0
                assert r.status == 401, r
                if i >= self.WARMUP:
                    times[k].append(took)
        medians = {k: statistics.median(v) for k, v in times.items()}
        print("failed-check medians (s):", medians)
        assert max(medians.values()) <= 1.25 * min(medians.values()), medians


# ---- the fail2ban filter, on the server's real error log -------------------------

class TestFail2ban:
    HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + REMOTEIP + \
        "AuthJWTLoginThrottle 3 60\n"
    HTTPD_EXPECTED_LOG = list(THROTTLE_LOGS)
    FILTER = os.path.join(pyhttpd.REPO, "conf", "fail2ban", "filter.d", "apache-auth-jwt.conf")

    @pytest.mark.fresh_server
    def test_filter_matches_the_audit_lines(self, httpd):
        name, pw, _ = pyhttpd.register(httpd)
        guesser, sprayer = "192.0.2.10", "2001:db8::11"
        for _ in range(3):      # 3 refused checks, then the limit line
            assert basic(httpd, "/api/resource", name, "wrong-password", guesser).status == 401
        # throttled: an info line only, not a match
        assert basic(httpd, "/api/resource", name, "wrong-password", guesser).status == 429
        for i in range(2):      # 2 refused checks of unknown users, names that
            # try to make the filter read another address
            r = basic(httpd, "/api/resource", f'x" client 6.6.6.{i}, user "y', "p", sprayer)
            assert r.status == 401, r
        assert basic(httpd, "/api/resource", name, pw, "192.0.2.12").status == 200
        out = subprocess.run(["fail2ban-regex", "-o", "ip", httpd.error_log_path, self.FILTER],
                             check=True, capture_output=True, text=True).stdout
        ips = [ln.strip() for ln in out.splitlines() if ln.strip()]
        assert sorted(ips) == sorted([guesser] * 4 + [sprayer] * 2), out
        summary = subprocess.run(["fail2ban-regex", httpd.error_log_path, self.FILTER],
                                 check=True, capture_output=True, text=True).stdout
        assert "6 matched" in summary, summary
