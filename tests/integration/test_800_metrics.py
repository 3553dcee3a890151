"""What operators see (docs/reference.md §13): the auth-jwt-metrics handler (Prometheus
text 0.0.4, summed over every child) and mod_status's section.  Counters
are server-wide and the server is shared by this file's tests, so each test
compares figures before and after what it does."""

import re
import time

import pyhttpd
from test_200_revocation import SESSION_CONFIG

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG + r"""
LoadModule status_module "/usr/lib/apache2/modules/mod_status.so"
AuthJWTRevocationRefresh 1
<Location /metrics>
    SetHandler auth-jwt-metrics
    Require ip 127.0.0.1
</Location>
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
"""

HTTPD_EXPECTED_LOG = [r"AJ2\d\d", r"AH0161[78]"]

RE_SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>[0-9.]+)$')


def scrape(httpd):
    r = httpd.get("/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    samples, declared = {}, set()
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = RE_SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        assert m["name"] in declared, f"{m['name']} sampled before its # TYPE"
        samples[(m["name"], m["labels"] or "")] = float(m["value"])
    return samples


def result(samples, name):
    return samples[("mod_auth_jwt_requests_total", f'result="{name}"')]


def cache(samples, which, res):
    return samples[("mod_auth_jwt_cache_total", f'cache="{which}",result="{res}"')]


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after}


def test_outcomes_counted(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    expired = pyhttpd.sign_hs({"alg": "HS256", "typ": "JWT"},
                              {"sub": "1", "name": name, "exp": int(time.time()) - 60},
                              httpd.secret)
    gone = pyhttpd.get_token(httpd, name, pw)
    assert httpd.post("/auth/logout", bearer=gone).status == 200
    before = scrape(httpd)
    assert httpd.get("/api/resource").status == 401                       # no credentials
    assert httpd.get("/api/resource", bearer="a.b.c").status == 401       # invalid
    assert httpd.get("/api/resource", bearer=expired).status == 401       # expired
    assert httpd.get("/api/resource", bearer=gone).status == 401          # revoked
    assert httpd.get("/api/resource", auth=(name, pw + "x")).status == 401  # wrong password
    assert httpd.get("/api/resource", bearer=token).status == 200         # ok
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200      # ok
    d = delta(before, scrape(httpd))
    assert result(d, "no_credentials") == 1, d
    assert result(d, "invalid_token") == 1, d
    assert result(d, "expired") == 1, d
    assert result(d, "revoked") == 1, d
    assert result(d, "wrong_password") == 1, d
    assert result(d, "ok") == 2, d
    assert result(d, "throttled") == 0 and result(d, "store_unavailable") == 0, d
    # the scrapes themselves are handler requests: never counted
    d2 = delta(before, scrape(httpd))
    assert sum(v for (n, _), v in d2.items() if n == "mod_auth_jwt_requests_total") == 7


def test_caches_and_password_checks_counted(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    before = scrape(httpd)
    token = pyhttpd.get_token(httpd, name, pw)          # a password checked: a miss
    for _ in range(4):
        assert httpd.get("/api/resource", bearer=token).status == 200
    for _ in range(3):
        assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    d = delta(before, scrape(httpd))
    # two children: each may miss once before its own copy answers
    assert cache(d, "verify", "hit") + cache(d, "verify", "miss") == 4, d
    assert cache(d, "verify", "hit") >= 2, d
    assert cache(d, "basic", "hit") + cache(d, "basic", "miss") == 4, d
    assert cache(d, "basic", "miss") >= 1, d
    assert cache(d, "basic", "hit") >= 2, d
    assert d[("mod_auth_jwt_password_checks_total", "")] >= 1, d
    assert d[("mod_auth_jwt_password_check_seconds_total", "")] > 0, d


def test_revocation_gauges(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    before = scrape(httpd)
    capacity = before[("mod_auth_jwt_revocation_capacity", "")]
    assert capacity == 131072 * 3 // 4
    token = pyhttpd.get_token(httpd, name, pw)
    assert httpd.post("/auth/logout", bearer=token).status == 200
    after = scrape(httpd)
    assert after[("mod_auth_jwt_revocation_entries", "")] >= \
        before[("mod_auth_jwt_revocation_entries", "")] + 1


def test_metrics_handler_methods(httpd):
    r = httpd.post("/metrics", body=b"")
    assert r.status == 405
    assert r.header("Allow") == "GET, HEAD"
    r = httpd.request("HEAD", "/metrics")
    assert r.status == 200 and r.body == b""


def test_status_page_section(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    assert httpd.get("/api/resource", auth=(name, pw)).status == 200
    r = httpd.get("/server-status?auto")
    assert r.status == 200, r
    fields = dict(line.split(": ", 1) for line in r.text.splitlines() if ": " in line)
    assert int(fields["AuthJWTRequests_ok"]) >= 1, r.text
    assert "AuthJWTRevocationCapacity" in fields
    r = httpd.get("/server-status")
    assert r.status == 200 and "<h2>mod_auth_jwt</h2>" in r.text
