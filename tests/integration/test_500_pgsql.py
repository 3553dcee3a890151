"""Several httpd nodes on one PostgreSQL database (docs/reference.md §6; docs/deployment.md).

A throwaway cluster (pgcluster.py: initdb in a temporary directory, run as
the `postgres` user, 127.0.0.1 on a free port) and three harness servers A, B
and C with `DBDriver pgsql`, the same DBDParams and one signing key.  Node C
reaches the database through a TCP relay the tests can cut (a partition of
that node alone).  The tests run in file order and build on each other: the
first one meets the empty database.
"""

import concurrent.futures
import os
import subprocess
import threading
import time
import types

import pytest

import pgcluster
import pyhttpd
from test_200_revocation import SESSION_CONFIG

REFRESH = 2         # AuthJWTRevocationRefresh of the nodes, seconds


# Lines that losing the database makes httpd log: mod_dbd's (cannot connect
# AH00629, the connection check failed AH00639, no connection from the pool
# AH02655, ...) and ours (the store is unavailable, revocations could not be
# refreshed).
DB_DOWN_LOG = [r"\[dbd:error\]", r"AJ00[1-4]:", r"AJ115:"]


def node_config(key_path):
    return (pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG
            + f'AuthJWTSigningKey HS256 "file:{key_path}"\n'
            + f"AuthJWTRevocationRefresh {REFRESH}\n"
            + "AuthJWTBasicCacheTTL 0\n"
            + "DBDMax 10\n")


@pytest.fixture(scope="module")
def pg():
    if not pgcluster.apr_dbd_pgsql_installed():
        pytest.skip("apr-util's pgsql driver is not installed "
                    "(Debian: libaprutil1-dbd-pgsql; `make` installs it)")
    try:
        cluster = pgcluster.PgCluster()
    except pgcluster.PgUnavailable as e:
        pytest.skip(str(e))
    try:
        cluster.setup()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def nodes(env, pg, extra_servers):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    relay = pgcluster.TcpProxy(pg.host, pg.port)
    a = pyhttpd.Httpd(env, "pgsql-node-a", dbd_driver="pgsql", dbd_params=pg.conninfo,
                      signing_key=False)
    key = a.secret_path           # one HS256 secret for the three nodes
    a.config = node_config(key)
    b = pyhttpd.Httpd(env, "pgsql-node-b", config=node_config(key), dbd_driver="pgsql",
                      dbd_params=pg.conninfo, signing_key=False)
    c = pyhttpd.Httpd(env, "pgsql-node-c", config=node_config(key), dbd_driver="pgsql",
                      dbd_params=pg.conninfo.replace(f"port={pg.port}",
                                                     f"port={relay.port}"),
                      signing_key=False)
    servers = [a, b, c]
    extra_servers.extend(servers)
    try:
        with pyhttpd.running(servers):
            yield types.SimpleNamespace(a=a, b=b, c=c, all=servers, relay=relay)
    finally:
        relay.close()


@pytest.fixture(autouse=True)
def node_logs(nodes, check_logs):
    """Like conftest's httpd fixture: error-level lines a test writes to any
    node's error log fail it, unless declared with expect_log."""
    check_logs(*nodes.all)


def login(server, user, password, expect=200):
    r = server.post("/auth/login", json_body={"username": user, "password": password})
    assert r.status == expect, (server.root, r)
    return r.json().get("auth_token") if r.status == 200 else None


def refused(r):
    return r.status == 401 and any('error="invalid_token"' in h
                                   for h in r.header_all("WWW-Authenticate"))


def wait_refused(servers, token, limit):
    """Polls each of servers in turn with token (accepted until then) until
    every one refuses it, at most limit seconds; {server: seconds it took}."""
    t0 = time.monotonic()
    took = {}
    while len(took) < len(servers):
        for s in servers:
            if s in took:
                continue
            r = s.get("/api/resource", bearer=token)
            if refused(r):
                took[s] = time.monotonic() - t0
            else:
                assert r.status == 200, r
        elapsed = time.monotonic() - t0
        accepting = [s.root for s in servers if s not in took]
        assert elapsed < limit, f"{accepting} still accept the token after {elapsed:.2f} s"
        time.sleep(0.02)
    return took


def report(capsys, text):
    with capsys.disabled():
        print(f"\n    [pgsql] {text}", flush=True)


# ---- the tests, in order ---------------------------------------------------

def test_first_use_of_an_empty_database_from_three_nodes(nodes, pg):
    """Every child of every node meets the empty database at once: the
    schema is created once (advisory lock, no failed CREATE), nothing fails."""
    assert pg.scalar("SELECT to_regclass('users') IS NULL") == "t"
    log_mark = pg.log_size()
    barrier = threading.Barrier(30)

    def status_of(i):
        server = nodes.all[i % 3]
        barrier.wait()
        r = server.post("/api/users", json_body={"username": f"first{i}",
                                                 "password": "secret-pw"})
        return r.status

    with concurrent.futures.ThreadPoolExecutor(max_workers=30) as ex:
        statuses = list(ex.map(status_of, range(30)))
    assert statuses == [201] * 30, statuses
    assert pg.scalar("SELECT count(*) FROM users WHERE username LIKE 'first%'") == "30"
    assert pg.scalar("SELECT count(DISTINCT id) FROM users") == "30"
    new_log = pg.log_since(log_mark)
    assert "ERROR" not in new_log, new_log


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_register_on_a_login_on_b_accepted_on_c(nodes, pg):
    a, b, c = nodes.a, nodes.b, nodes.c
    name, pw, uid = pyhttpd.register(a)
    assert pg.scalar(f"SELECT id FROM users WHERE username = '{name}'") == str(uid)
    token = login(b, name, pw)
    claims = pyhttpd.token_claims(token)
    assert claims["sub"] == str(uid)
    r = c.get("/api/resource", bearer=token)
    assert r.status == 200, r
    r = c.get("/auth/status", bearer=token)
    assert r.status == 200, r
    # Basic on C, a token from /api/token on C accepted on A
    t2 = pyhttpd.get_token(c, name, pw)
    assert a.get("/api/resource", bearer=t2).status == 200
    # a wrong password is refused everywhere, an unknown user too (not 503)
    for s in nodes.all:
        login(s, name, "not-the-password", expect=401)
        login(s, pyhttpd.unique_name("nobody"), "secret-pw", expect=401)


def test_logout_on_c_refused_on_a_within_the_refresh(nodes, capsys):
    a, b, c = nodes.a, nodes.b, nodes.c
    name, pw, _ = pyhttpd.register(b)
    token = login(a, name, pw)
    other = login(a, name, pw)
    for s in nodes.all:
        assert s.get("/api/resource", bearer=token).status == 200
    r = c.post("/auth/logout", bearer=token)
    assert r.status == 200, r
    assert refused(c.get("/api/resource", bearer=token))    # at once where it happened
    took = wait_refused([a, b], token, REFRESH + 1.5)
    report(capsys, f"logout on C refused on A after {took[a]:.2f} s, on B after "
                   f"{took[b]:.2f} s (AuthJWTRevocationRefresh {REFRESH} s)")
    for s in nodes.all:
        assert s.get("/api/resource", bearer=other).status == 200
    # revoke-all on A reaches B and C
    r = a.post("/auth/logout?all=1", bearer=other)
    assert r.status == 200, r
    took = wait_refused([b, c], other, REFRESH + 1.5)
    report(capsys, f"revoke-all on A refused on B after {took[b]:.2f} s, on C after "
                   f"{took[c]:.2f} s")
    fresh = login(b, name, pw)
    for s in nodes.all:
        assert s.get("/api/resource", bearer=fresh).status == 200


@pytest.mark.expect_log(pyhttpd.REFUSED_CHECK_LOG)
def test_password_change_on_b_revokes_on_a_and_c(nodes):
    a, b, c = nodes.a, nodes.b, nodes.c
    name, pw, _ = pyhttpd.register(c)
    old = login(a, name, pw)
    r = b.post("/auth/password", bearer=old,
               json_body={"old_password": pw, "new_password": "brand-new-pw"})
    assert r.status == 200, r
    for s in (a, c):
        wait_refused([s], old, REFRESH + 1.5)
        login(s, name, pw, expect=401)
        new = login(s, name, "brand-new-pw")
        assert s.get("/api/resource", bearer=new).status == 200


def test_concurrent_registrations_of_one_name_make_one_user(nodes, pg):
    for round_ in range(4):
        name = pyhttpd.unique_name(f"race{round_}x")
        barrier = threading.Barrier(30)

        def attempt(i, name=name, barrier=barrier):
            server = nodes.all[i % 3]
            barrier.wait()
            r = server.post("/api/users", json_body={"username": name,
                                                     "password": f"secret-pw-{i}"})
            return r.status, i

        with concurrent.futures.ThreadPoolExecutor(max_workers=30) as ex:
            results = list(ex.map(attempt, range(30)))
        statuses = sorted(s for s, _ in results)
        assert statuses == [201] + [400] * 29, statuses
        assert pg.scalar(f"SELECT count(*) FROM users WHERE username = '{name}'") == "1"
        winner = next(i for s, i in results if s == 201)
        for s in nodes.all:
            login(s, name, f"secret-pw-{winner}")


def test_a_node_restarted_mid_run_catches_up(nodes):
    a, b, c = nodes.a, nodes.b, nodes.c
    u1 = pyhttpd.register(a)
    u2 = pyhttpd.register(a)
    t1 = login(a, u1[0], u1[1])
    t2 = login(c, u2[0], u2[1])
    assert b.get("/api/resource", bearer=t1).status == 200
    b.stop()
    try:
        assert a.post("/auth/logout", bearer=t1).status == 200
        assert c.post("/auth/logout?all=1", bearer=t2).status == 200
        u3 = pyhttpd.register(c)
        time.sleep(1.1)         # a token B issues after its restart is newer
    finally:
        b.start()
    # the first request after the start loads every revocation
    assert refused(b.get("/api/resource", bearer=t1))
    assert refused(b.get("/api/resource", bearer=t2))
    t3 = login(b, u3[0], u3[1])
    t2b = login(b, u2[0], u2[1])
    for s in nodes.all:
        assert s.get("/api/resource", bearer=t3).status == 200
        assert s.get("/api/resource", bearer=t2b).status == 200
    # a graceful restart in the middle of traffic loses nothing either
    stop = threading.Event()
    statuses = []

    def traffic():
        while not stop.is_set():
            statuses.append(b.get("/api/resource", bearer=t3).status)

    th = threading.Thread(target=traffic)
    th.start()
    try:
        b.graceful()
        assert c.post("/auth/logout", bearer=t3).status == 200
        wait_refused([b], t3, REFRESH + 1.5)
    finally:
        stop.set()
        th.join()
    assert set(statuses) <= {200, 401}, statuses


def test_database_restart_is_invisible(nodes, pg):
    """The database restarts while the nodes are idle: every pooled
    connection is broken without knowing it.  The store reconnects and
    retries at once, so not one request gets a 503."""
    name, pw, _ = pyhttpd.register(nodes.a)
    token = login(nodes.a, name, pw)
    # connections in every child of every node
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
        assert set(ex.map(lambda i: login(nodes.all[i % 3], name, pw) is not None,
                          range(36))) == {True}
    pg.stop("fast")
    pg.start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
        statuses = list(ex.map(
            lambda i: nodes.all[i % 3].post("/auth/login", json_body={
                "username": name, "password": pw}).status, range(36)))
    assert statuses == [200] * 36, statuses
    assert nodes.b.post("/auth/logout", bearer=token).status == 200
    for s in (nodes.a, nodes.c):
        wait_refused([s], token, REFRESH + 1.5)


@pytest.mark.expect_log(*DB_DOWN_LOG)
def test_database_gone_503_on_logins_tokens_keep_working(nodes, pg, capsys):
    a, b, c = nodes.a, nodes.b, nodes.c
    name, pw, _ = pyhttpd.register(a)
    token = login(b, name, pw)
    revoked = login(b, name, pw)
    assert c.post("/auth/logout", bearer=revoked).status == 200
    for s in nodes.all:
        wait_refused([s], revoked, REFRESH + 1.5)
        assert s.get("/api/resource", bearer=token).status == 200
    pg.stop("fast")         # ends every session: the pooled connections break
    try:
        deadline = time.monotonic() + REFRESH + 1
        while time.monotonic() < deadline:          # past a due refresh, too
            for s in nodes.all:
                assert s.get("/api/resource", bearer=token).status == 200
                assert refused(s.get("/api/resource", bearer=revoked))
            time.sleep(0.2)
        for s in nodes.all:
            r = s.post("/auth/login", json_body={"username": name, "password": pw})
            assert r.status == 503, r
            assert s.get("/api/resource", auth=(name, pw)).status == 503
            assert s.get("/api/token", auth=(name, pw)).status == 503
            r = s.post("/api/users", json_body={"username": pyhttpd.unique_name(),
                                                "password": "secret-pw"})
            assert r.status == 503, r
            assert s.post("/auth/logout", bearer=token).status == 503
            assert s.get("/api/resource", bearer=token).status == 200
    finally:
        pg.start()
    # back without a restart: the first login on each node works
    t0 = time.monotonic()
    for s in nodes.all:
        login(s, name, pw)
    report(capsys, f"database back: logins on A, B, C answered in "
                   f"{time.monotonic() - t0:.2f} s, no 503")
    assert a.post("/auth/logout", bearer=token).status == 200
    for s in (b, c):
        wait_refused([s], token, REFRESH + 1.5)


@pytest.mark.expect_log(*DB_DOWN_LOG)
def test_partition_one_node_keeps_its_last_known_revocations(nodes, capsys):
    """C alone loses the database: it keeps accepting valid tokens (503 for
    logins), and a logout made meanwhile on A does not reach C until C can
    read the database again (docs/deployment.md says so)."""
    a, b, c = nodes.a, nodes.b, nodes.c
    name, pw, _ = pyhttpd.register(a)
    token = login(a, name, pw)
    assert c.get("/api/resource", bearer=token).status == 200
    nodes.relay.cut()
    try:
        login(c, name, pw, expect=503)
        login(b, name, pw)
        assert a.post("/auth/logout", bearer=token).status == 200
        wait_refused([b], token, REFRESH + 1.5)
        time.sleep(REFRESH + 0.5)
        assert c.get("/api/resource", bearer=token).status == 200   # the stale state
    finally:
        nodes.relay.heal()
    took = wait_refused([c], token, REFRESH + 1.5)
    report(capsys, f"partition healed: C refused the token revoked meanwhile after "
                   f"{took[c]:.2f} s")
    login(c, name, pw)


OLD_PG_SCHEMA = pyhttpd.old_store_schema("BIGSERIAL PRIMARY KEY") + """
INSERT INTO users (username, password_hash, created_at) VALUES ('old', 'x', 7);
INSERT INTO revoked_tokens VALUES ('old-jti', 99999999999, 42);
"""


def test_schema_of_the_previous_version_upgraded(pg):
    """A database made by the previous version (no users.changed_at, no
    defaults for the time columns) is upgraded by the first connection that
    opens it (here htjwt's), keeping its rows; an operator's revocation with
    the documented columns then works."""
    htjwt = os.path.join(pyhttpd.REPO, "build", "htjwt")
    pg.psql(f"CREATE DATABASE ajold OWNER {pg.user}", db="postgres")
    pg.psql(OLD_PG_SCHEMA, db="ajold", user=pg.user)
    conninfo = pg.conninfo.replace(f"dbname={pg.dbname}", "dbname=ajold")
    p = subprocess.run([htjwt, "-d", "pgsql", conninfo, "list"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "old" in p.stdout
    defaults = dict((r[0] + "." + r[1], r[2]) for r in pg.psql(
        "SELECT table_name, column_name, coalesce(column_default, '') "
        "FROM information_schema.columns WHERE table_schema = 'public'", db="ajold"))
    assert "EXTRACT" in defaults["revoked_tokens.revoked_at"].upper(), defaults
    assert "EXTRACT" in defaults["users.created_at"].upper(), defaults
    assert defaults["users.changed_at"] == "0", defaults
    assert pg.psql("SELECT to_regclass('users_changed_at') IS NOT NULL", db="ajold") == [["t"]]
    pg.psql("INSERT INTO revoked_tokens (jti, expires_at) VALUES ('op', 99999999999)",
            db="ajold", user=pg.user)
    (revoked_at,) = pg.psql("SELECT revoked_at FROM revoked_tokens WHERE jti = 'op'",
                            db="ajold")[0]
    assert abs(int(revoked_at) - time.time()) < 60
    assert pg.psql("SELECT revoked_at FROM revoked_tokens WHERE jti = 'old-jti'",
                   db="ajold") == [["42"]]
    # opening again changes nothing (the catalog look-up finds it complete)
    p = subprocess.run([htjwt, "-d", "pgsql", conninfo, "list"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
