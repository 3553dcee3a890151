"""Schema changes made from outside while the server runs (docs/deployment.md,
"The schema, and upgrading it"): an operator's CREATE INDEX and ANALYZE on
the SQLite file leave mod_dbd's kept-open connections working.  apr_dbd's
sqlite3 driver prepares statements that SQLite does not redo after a schema
change; the store prepares them again, so logins, token checks, logouts,
registration and the revocation refresh go on answering as before: no 503
and no error line."""

import concurrent.futures
import time

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG, refused

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG \
    + "AuthJWTRevocationRefresh 1\n"

# Concurrent requests, enough for several store connections in each child
# (StartServers 2): every one of them must meet the changed schema.
BURST = 32
WORKERS = 8
REFRESH_WAIT = 2.5          # seconds: AuthJWTRevocationRefresh 1, with margin


def burst(fn, items):
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as ex:
        return list(ex.map(fn, items))


def logins(server, name, password):
    """BURST logins at once; returns their responses."""
    body = {"username": name, "password": password}
    return burst(lambda _: server.post("/auth/login", json_body=body), range(BURST))


def statuses(responses):
    return [r.status for r in responses]


def schema_version(server):
    return server.sql("PRAGMA schema_version")[0][0]


@pytest.mark.fresh_server
def test_schema_changed_under_open_connections(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    # open (and keep) the store connections; before any change
    first = logins(httpd, name, pw)
    assert statuses(first) == [200] * BURST, first
    tokens = [r.json()["auth_token"] for r in first]

    # an operator adds an index: reads and writes go on
    version = schema_version(httpd)
    httpd.sql("CREATE INDEX operator_users_created ON users (created_at)")
    assert schema_version(httpd) > version
    second = logins(httpd, name, pw)
    assert statuses(second) == [200] * BURST, second
    checks = burst(lambda t: httpd.get("/api/resource", bearer=t), tokens)
    assert statuses(checks) == [200] * BURST, checks
    pyhttpd.register(httpd)                                   # an insert

    # and then runs ANALYZE (the first one makes sqlite_stat1): logouts
    version = schema_version(httpd)
    httpd.sql("ANALYZE")
    assert schema_version(httpd) > version
    outs = burst(lambda t: httpd.post("/auth/logout", bearer=t), tokens)
    assert statuses(outs) == [200] * BURST, outs
    third = logins(httpd, name, pw)
    assert statuses(third) == [200] * BURST, third

    # the revocation refresh polls the changed schema too, and the
    # logged-out tokens stay refused while the new ones work
    time.sleep(REFRESH_WAIT)
    assert all(refused(httpd.get("/api/resource", bearer=t)) for t in tokens[:4])
    live = third[0].json()["auth_token"]
    assert httpd.get("/api/resource", bearer=live).status == 200
