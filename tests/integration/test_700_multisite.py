"""Several sites on one server (docs/reference.md §9, §10; issue 14).

One httpd, three name-based <VirtualHost>s on one address and port:

    a.test  its own SQLite file, key KA, AuthJWTRegistration On (the attacker's site)
    b.test  its own SQLite file, key KB
    c.test  its own SQLite file, key KA again: C trusts A's key on purpose, so a
            token signed on A verifies on C.  That is configuration; what docs/reference.md §9
            forbids is anything *learned* under one store being used under
            another, so C proves that shared state is keyed by the store, not
            merely by the key set.

Users of B and C are made with htjwt (registration is Off there), as an
operator would.  Each test starts its own server (fresh stores, so user ids
collide on purpose: id 1 on A and id 1 on C are two different people).

One test per finding of issue 14 about shared state:
  - the Basic cache crossing hosts           test_basic_cache_is_per_store
  - one revocation table for all stores      test_logout_survives_restarts_led_by_another_store
                                             test_every_store_loaded_after_restart
  - revoke-all keyed by the bare user id     test_revoke_all_is_per_store (logout?all=1
                                             and a password change)
                                             test_shared_key_token_judged_by_presenting_store
  - the overflow flag never clearing         test_revocation_table_recovers_from_full
  - a killed writer stalling the seqlock     test_dead_writer_does_not_stall_readers
  - throttle counters per store (docs/reference.md §10)   test_login_throttle_is_per_store
and a guard for the verified-token cache (docs/reference.md §9 keys it by the key set):
test_verify_cache_is_per_key_set.
"""

import concurrent.futures
import os
import pwd
import re
import sqlite3
import struct
import subprocess
import time

import pytest

import pyhttpd

HTJWT = os.path.join(pyhttpd.REPO, "build", "htjwt")

HOSTS = ("a", "b", "c")
# Which key file each host signs and verifies with: C shares A's key.
KEY_OF = {"a": "a", "b": "b", "c": "a"}
REGISTRATION = {"a": "On", "b": "Off", "c": "Off"}

# Settings every host inherits from the main server: fast bcrypt, a short
# revocation refresh, and the Basic cache on (its default TTL, 60 s).
COMMON = pyhttpd.FAST_BCRYPT + """AuthJWTPasswordMinLength 6
AuthJWTRevocationRefresh 1
"""

# The REST-auth API and the session endpoints, mounted in every host.
# (The sections come from pyhttpd's helpers, which write no braces: only the
# placeholders below are format fields.)
HOST_TEMPLATE = r"""
<VirtualHost 127.0.0.1:{port}>
    ServerName {host}.test
    DBDriver sqlite3
    DBDParams "{db}"
    AuthJWTSigningKey HS256 "file:{key}"
    AuthJWTRegistration {registration}
{extra}
""" + (
    pyhttpd.location("/", "AuthzSendForbiddenOnFailure On")
    + pyhttpd.handler_location("/api/users", "auth-jwt-users")
    + pyhttpd.jwt_location("/api/token", "SetHandler auth-jwt-token")
    + pyhttpd.jwt_location("/api/resource")
    + pyhttpd.basic_location("/basic/resource")
    + 'LuaMapHandler "^/(api|basic)/resource$" "{conf}/hello.lua"\n'
    + pyhttpd.handler_location("/auth/login", "auth-jwt-login")
    + pyhttpd.jwt_location("/auth/status", "SetHandler auth-jwt-status")
    + pyhttpd.LOGOUT_LOCATION
    + pyhttpd.PASSWORD_LOCATION
) + "</VirtualHost>\n"

# Refused password checks: docs/reference.md §10 logs each at error level (the module's
# own audit tags, assumed in the AJ2xx range, and mod_auth_basic's
# AH01617/AH01618 under AuthType Basic).
REFUSED_PASSWORD_LOG = (r"AJ2\d\d", r"AH0161[78]")
# The store made unreachable on purpose (DBDPersist Off, its directory moved
# away): mod_dbd's lines and the module's "store unavailable" / "revocations
# could not be read" lines.
STORE_GONE_LOG = (r"AH00629", r"AH00633", r"unable to open", r"AJ00[1-4]", r"AJ115")
# One mod_dbd line per connection attempt that failed: how often the store was
# asked while it was gone (mod_dbd logs it whatever the module's own policy).
RE_DBD_CONNECT_FAILED = re.compile(r"AH00629")


class Site:
    """One virtual host of the server: requests with its Host header, its store."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.hostname = f"{name}.test"
        self.dir = os.path.join(server.data_dir, name)
        self.db = os.path.join(self.dir, "store.db")
        self.key = os.path.join(server.root, "conf", f"hs256-{KEY_OF[name]}.key")

    # ---- HTTP
    def get(self, path, **kw):
        return self.server.request("GET", path, host=self.hostname, **kw)

    def post(self, path, **kw):
        return self.server.request("POST", path, host=self.hostname, **kw)

    def register(self, username, password):
        r = self.post("/api/users", json_body={"username": username, "password": password})
        assert r.status == 201, (self.name, r)
        return r.json()["id"]

    def login(self, username, password):
        r = self.post("/auth/login", json_body={"username": username, "password": password})
        assert r.status == 200, (self.name, r)
        return r.json()["auth_token"]

    def token(self, username, password):
        r = self.get("/api/token", auth=(username, password))
        assert r.status == 200, (self.name, r)
        return r.json()["token"]

    def logout(self, token, all_tokens=False):
        r = self.post("/auth/logout?all=1" if all_tokens else "/auth/logout", bearer=token)
        assert r.status == 200, (self.name, r)

    # ---- the store
    def give_back(self):
        """The store's files belong to the user httpd runs as (as pyhttpd.sql does)."""
        if not self.server.env.run_user:
            return
        pw = pwd.getpwnam(self.server.env.run_user)
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = self.db + suffix
            if os.path.exists(p):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def add_user(self, username, password, uid=None):
        """Adds a user with htjwt (bcrypt cost 4); with uid, gives the user that
        id (ids of different stores collide on purpose).  Returns the id."""
        p = subprocess.run([HTJWT, "-b", "-c", "4", self.db, "add", username, password],
                           capture_output=True, text=True, timeout=60)
        self.give_back()
        assert p.returncode == 0, p
        if uid is not None:
            self.sql("UPDATE users SET id = ? WHERE username = ?", (uid, username))
        rows = self.sql("SELECT id FROM users WHERE username = ?", (username,))
        return rows[0][0]

    def sql(self, query, params=()):
        con = sqlite3.connect(self.db, timeout=15)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
        finally:
            con.close()
        self.give_back()
        return rows


class StoreGone:
    """Moves a host's store directory away (with DBDPersist Off every store
    access then fails: a cache hit or a table lookup becomes visible)."""

    def __init__(self, site):
        self.site = site

    def __enter__(self):
        self.moved = self.site.dir + ".gone"
        os.rename(self.site.dir, self.moved)
        return self

    def __exit__(self, *exc):
        os.rename(self.moved, self.site.dir)


class Sites:
    def __init__(self, server):
        self.server = server
        self.a, self.b, self.c = (Site(server, h) for h in HOSTS)

    def __iter__(self):
        return iter((self.a, self.b, self.c))

    def log_since(self, pos):
        return self.server.error_log.read_all()[pos:]

    def log_pos(self):
        return len(self.server.error_log.read_all())


def refused(r):
    """A 401 for the token itself (revoked, expired...), not for missing credentials."""
    return r.status == 401 and any('error="invalid_token"' in h
                                   for h in r.header_all("WWW-Authenticate"))


@pytest.fixture(scope="module", autouse=True)
def htjwt_built():
    if not os.access(HTJWT, os.X_OK):
        pytest.fail(f"{HTJWT} is not built: run `make`", pytrace=False)


@pytest.fixture
def make_sites(httpd_factory, request):
    """Starts the three-host server: server_extra goes to the main server (and
    is inherited by every host), host_extra (text, or {host: text}) into the
    <VirtualHost>s.  Error-log lines declared with @pytest.mark.expect_log are
    allowed; anything else at error level fails the test (httpd_factory)."""

    def make(server_extra="", host_extra=""):
        server = httpd_factory("multisite", signing_key=False)
        request.node.aj_server = server         # its error-log tail on failure
        for m in request.node.iter_markers("expect_log"):
            server.expect_log(*m.args)
        sites = Sites(server)
        # two keys: KA (hosts A and C) and KB
        for name in sorted(set(KEY_OF.values())):
            secret = os.urandom(48).hex().encode("ascii")     # 96 bytes > 32
            server.write_file(os.path.join(server.root, "conf", f"hs256-{name}.key"),
                              secret, mode=0o600)
        blocks = []
        for site in sites:
            os.makedirs(site.dir)
            if server.env.run_user:
                pw = pwd.getpwnam(server.env.run_user)
                os.chown(site.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(site.dir, 0o750)
            # The store file exists, owned by httpd's user, before the server
            # starts: else htjwt (root, add_user) may create it while a child's
            # first mod_dbd connection opens it, and SQLite keeps a file it
            # opened write-protected read-only for that connection's life.
            with open(site.db, "ab"):
                pass
            if server.env.run_user:
                os.chown(site.db, pw.pw_uid, pw.pw_gid)
            extra = host_extra.get(site.name, "") if isinstance(host_extra, dict) \
                else host_extra
            blocks.append(HOST_TEMPLATE.format(
                port=server.port, host=site.name, db=site.db, key=site.key,
                registration=REGISTRATION[site.name], conf=os.path.join(server.root, "conf"),
                extra="\n".join("    " + ln for ln in extra.splitlines())))
        server.config = COMMON + server_extra + "\n" + "".join(blocks)
        server.start()
        return sites

    return make


@pytest.fixture
def sites(make_sites):
    return make_sites()


# ---- 1. the Basic cache --------------------------------------------------------

@pytest.mark.expect_log(*REFUSED_PASSWORD_LOG)
def test_basic_cache_is_per_store(sites):
    """A password checked (and cached) on A never logs anyone in on B or C.
    Before: the cache key was HMAC(user, password) alone, so the attacker's
    `admin` registered on A logged in as B's `admin` for the cache TTL."""
    a, b, c = sites
    attacker_pw, b_admin_pw = "attacker-pw", "b-admin-pw-1"
    b.add_user("admin", b_admin_pw)
    b.add_user("operator", b_admin_pw)
    a.register("admin", attacker_pw)
    a.register("operator", attacker_pw)

    # AuthType JWT (Basic form 3)
    for _ in range(4):          # the shared cache and both children's copies
        r = a.get("/api/resource", auth=("admin", attacker_pw))
        assert r.status == 200, r
    r = b.get("/api/resource", auth=("admin", attacker_pw))
    assert r.status == 401, f"A's cached password logged in as B's admin: {r}"
    r = c.get("/api/resource", auth=("admin", attacker_pw))   # C: no admin, A's key
    assert r.status == 401, f"A's cached password logged in on C: {r}"
    r = b.get("/api/resource", auth=("admin", b_admin_pw))
    assert r.status == 200 and r.json() == {"data": "Hello, admin!"}, r
    # and the other way round: B's cached password is nothing on A
    r = a.get("/api/resource", auth=("admin", b_admin_pw))
    assert r.status == 401, r
    r = b.get("/api/token", auth=("admin", attacker_pw))
    assert r.status == 401, r

    # AuthType Basic + AuthBasicProvider jwt
    for _ in range(4):
        r = a.get("/basic/resource", auth=("operator", attacker_pw))
        assert r.status == 200, r
    r = b.get("/basic/resource", auth=("operator", attacker_pw))
    assert r.status == 401, f"AuthBasicProvider jwt: A's cached password works on B: {r}"
    r = c.get("/basic/resource", auth=("operator", attacker_pw))
    assert r.status == 401, r
    assert b.get("/basic/resource", auth=("operator", b_admin_pw)).status == 200


# ---- 2 and 8. one revocation table per store, each loaded after a restart ------

@pytest.mark.parametrize("how", ["graceful", "restart"])
def test_logout_survives_restarts_led_by_another_store(sites, how):
    """A token logged out on B stays refused after a restart whose first
    request went to A.  Before: the one table was loaded from whichever store
    the first request touched, with one watermark, so B's logout was lost."""
    a, b, _ = sites
    a.register("alice", "alice-pw")
    b.add_user("bob", "bob-pw-1")
    t_a = a.login("alice", "alice-pw")
    t_b = b.login("bob", "bob-pw-1")
    t_b_alive = b.login("bob", "bob-pw-1")
    b.logout(t_b)
    assert refused(b.get("/api/resource", bearer=t_b))
    for step in range(2):                   # and once more: the table stays right
        if how == "graceful":
            sites.server.graceful()
        else:
            pyhttpd.stop_in_test(sites.server, sites.server.expected_log, sites.server.restart)
        r = a.get("/api/resource", bearer=t_a)      # the first request: A's store
        assert r.status == 200, (step, r)
        r = b.get("/api/resource", bearer=t_b)
        assert refused(r), f"{how} #{step}: B's logged-out token works again: {r}"
        assert refused(b.get("/api/token", bearer=t_b)), step
        assert b.get("/api/resource", bearer=t_b_alive).status == 200, step


def test_every_store_loaded_after_restart(sites):
    """After a full stop and start whose first request goes to C, tokens
    logged out on A and on B (and a revoke-all on B) are still refused."""
    a, b, c = sites
    a.register("alice", "alice-pw")
    b.add_user("bob", "bob-pw-1")
    b.add_user("bea", "bea-pw-1")
    c.add_user("carol", "carol-pw")
    t_a, t_a_alive = a.login("alice", "alice-pw"), a.login("alice", "alice-pw")
    t_b, t_b_alive = b.login("bob", "bob-pw-1"), b.login("bob", "bob-pw-1")
    t_bea = b.login("bea", "bea-pw-1")
    t_c = c.login("carol", "carol-pw")
    a.logout(t_a)
    b.logout(t_b)
    b.logout(t_bea, all_tokens=True)
    pyhttpd.stop_in_test(sites.server, sites.server.expected_log, sites.server.stop)
    sites.server.start()
    assert c.get("/api/resource", bearer=t_c).status == 200      # first: C's store
    assert refused(a.get("/api/resource", bearer=t_a)), "A's logout lost after a restart"
    assert refused(b.get("/api/resource", bearer=t_b)), "B's logout lost after a restart"
    assert refused(b.get("/api/resource", bearer=t_bea)), "B's revoke-all lost after a restart"
    assert a.get("/api/resource", bearer=t_a_alive).status == 200
    assert b.get("/api/resource", bearer=t_b_alive).status == 200


# ---- 3 and 4. revoke-all names the store's user, not a bare id -----------------

@pytest.mark.parametrize("how", ["logout-all", "password-change"])
def test_revoke_all_is_per_store(sites, how):
    """User id N of A and user id N of C are two people: A's user logging
    out everywhere (POST /auth/logout?all=1), or changing the password (which
    revokes the user's earlier tokens), leaves C's user logged in.
    Before: revoke-all entries were keyed by the bare id."""
    a, _, c = sites
    uid = a.register("alice", "alice-pw")
    assert c.add_user("carol", "carol-pw", uid=uid) == uid
    t_c = c.login("carol", "carol-pw")
    assert c.get("/api/resource", bearer=t_c).status == 200
    t_a = a.login("alice", "alice-pw")
    if how == "logout-all":
        a.logout(t_a, all_tokens=True)
    else:
        r = a.post("/auth/password", bearer=t_a,
                   json_body={"old_password": "alice-pw", "new_password": "alice-pw-2"})
        assert r.status == 200, r
    assert refused(a.get("/api/resource", bearer=t_a))
    time.sleep(1.1)         # a revocation refresh on C would have run by now
    r = c.get("/api/resource", bearer=t_c)
    assert r.status == 200, f"{how} of A's user id {uid} logged out C's user {uid}: {r}"
    assert c.get("/auth/status", bearer=t_c).json()["data"]["username"] == "carol"


def test_verify_cache_is_per_key_set(sites):
    """A token verified (and cached) on A is not taken on B, whose key
    differs: B verifies it against its own key and refuses it."""
    a, b, _ = sites
    a.register("alice", "alice-pw")
    t_a = a.login("alice", "alice-pw")
    for _ in range(4):                      # in the cache of both children
        assert a.get("/api/resource", bearer=t_a).status == 200
    r = b.get("/api/resource", bearer=t_a)
    assert refused(r), f"B accepted a token signed with A's key: {r}"


def test_shared_key_token_judged_by_presenting_store(sites):
    """C trusts A's key (configuration), so a token signed on A verifies on C;
    docs/reference.md §9 keys what is *learned* by the store: a token is judged by the
    revocation state of the store it is presented to.  So C's revoke-all of
    C's user id N refuses, on C, any token with subject N that C accepts, and
    changes nothing on A, where A's user N is still logged in.

    Not asserted here: whether C refuses A's token after A logs it out.
    docs/reference.md §9 says nothing learned under one store is used under another, so C
    need not know about A's logout; a site that shares keys between stores
    shares their tokens and should share the store too (docs)."""
    a, _, c = sites
    uid = a.register("alice", "alice-pw")
    assert c.add_user("carol", "carol-pw", uid=uid) == uid
    t_a = a.login("alice", "alice-pw")
    r = c.get("/api/resource", bearer=t_a)
    assert r.status == 200 and r.json() == {"data": "Hello, alice!"}, r   # same key set
    t_c = c.login("carol", "carol-pw")
    c.logout(t_c, all_tokens=True)
    assert refused(c.get("/api/resource", bearer=t_c))
    # on C, subject N issued before C's revoke-all is refused, whoever signed it
    assert refused(c.get("/api/resource", bearer=t_a))
    time.sleep(1.1)         # a revocation refresh on A would have run by now
    r = a.get("/api/resource", bearer=t_a)
    assert r.status == 200, f"C's revoke-all of user id {uid} logged out A's user {uid}: {r}"


# ---- 5. the revocation table recovers from full --------------------------------

OVERFLOW_SLOTS = 64             # the smallest table: 48 usable entries (3/4)
OVERFLOW_LOGOUTS = 72           # well past 48, and past 64 if a store got all slots
OVERFLOW_LIFETIME = 5           # seconds: the logged-out tokens expire soon
OVERFLOW_REFRESH = 2            # AuthJWTRevocationRefresh on B
PROBES = 30                     # token checks while B's store is gone


def _probe_store_gone(site, token, n):
    """n token checks on site with its store gone; returns how many times the
    store was asked (mod_dbd's failed connection attempts) and the statuses."""
    pos = len(site.server.error_log.read_all())
    with StoreGone(site):
        statuses = [site.get("/api/resource", bearer=token).status for _ in range(n)]
    asked = len(RE_DBD_CONNECT_FAILED.findall(site.server.error_log.read_all()[pos:]))
    return asked, statuses


@pytest.mark.expect_log(*STORE_GONE_LOG)
def test_revocation_table_recovers_from_full(make_sites):
    """Logouts of short-lived tokens fill the table (AJ112: full, misses ask
    the store).  Once those entries have expired, token checks are answered
    by the table again.

    Observable: B runs with DBDPersist Off, so every store access opens a new
    connection; with B's store directory moved away each attempt fails and
    mod_dbd logs one AH00629 line.  While the table is full a valid token's
    check asks the store (one line per request; docs/reference.md §3: misses go to the
    store); after recovery it does not (no line, or one if a revocation
    refresh falls due meanwhile).  The status is 200 either way: with the
    store down the last known state stands (docs/reference.md §6).
    Before: the overflow flag was set for good, every check asked the store."""
    sites = make_sites(
        server_extra=f"AuthJWTRevocationCacheSize {OVERFLOW_SLOTS}\n",
        host_extra={"b": f"DBDPersist Off\nAuthJWTTokenLifetime {OVERFLOW_LIFETIME}\n"
                         f"AuthJWTRevocationRefresh {OVERFLOW_REFRESH}\n"})
    b = sites.b
    b.add_user("bob", "bob-pw-1")
    pos = sites.log_pos()
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        tokens = list(ex.map(lambda _: b.token("bob", "bob-pw-1"),
                             range(OVERFLOW_LOGOUTS + 1)))
        probe = tokens.pop()
        list(ex.map(b.logout, tokens))
    assert time.time() - t0 < OVERFLOW_LIFETIME - 1, "too slow to fill the table in time"
    assert "AJ112" in sites.log_since(pos), "the table never said it was full"
    assert refused(b.get("/api/resource", bearer=tokens[-1]))

    # the observable works: full now, so a valid token's check asks the store
    asked, statuses = _probe_store_gone(b, probe, 5)
    assert statuses == [200] * 5, statuses
    assert asked >= 5, f"the store was asked {asked} times for 5 checks while full"

    # every logged-out token expires; one more logout and a refresh give the
    # table every chance to notice the room
    time.sleep(max(0.0, t0 + OVERFLOW_LIFETIME + 1.5 - time.time()))
    b.logout(b.token("bob", "bob-pw-1"))
    time.sleep(OVERFLOW_REFRESH + 0.5)
    probe = b.token("bob", "bob-pw-1")
    assert b.get("/api/resource", bearer=probe).status == 200       # drives the refresh

    asked, statuses = _probe_store_gone(b, probe, PROBES)
    assert statuses == [200] * PROBES, statuses
    assert asked <= 1, (f"{PROBES} checks of a valid token asked the store {asked} times "
                        "although every entry of the full table has expired")


# ---- 6. a writer killed inside its write section -------------------------------

# The shared revocation table starts with the magic "AJRT" (aj_revtab.c,
# AJ_REVTAB_MAGIC, little-endian in memory); its header holds the seqlock's
# 64-bit sequence, odd while a writer is inside a write section.
REVTAB_MAGIC = struct.pack("<I", 0x414a5254)
REVTAB_HEADER_SCAN = 128    # bytes after the magic searched for the sequence word
REVTAB_ALIGN_MIN = 8        # tables and their 64-bit words are 8-byte aligned
STALL_TIMEOUT = 10          # seconds a token check may take before it counts as stuck


def _shared_mappings(pid):
    """(start, end) of pid's shared writable mappings (the anonymous shared
    memory httpd's children inherit from the parent)."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if fields[1].startswith("rw") and fields[1][3] == "s":
                start, end = (int(x, 16) for x in fields[0].split("-"))
                out.append((start, end))
    return out


def _table_headers(pid):
    """{address: header bytes} of every revocation table in pid's shared memory."""
    found = {}
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for start, end in _shared_mappings(pid):
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            off = data.find(REVTAB_MAGIC)
            while off != -1:
                if off % REVTAB_ALIGN_MIN == 0:
                    found[start + off] = data[off:off + REVTAB_HEADER_SCAN]
                off = data.find(REVTAB_MAGIC, off + 1)
    return found


def _find_seq(before, after):
    """[(address, value)] of sequence-word candidates: 8-aligned 64-bit header
    words of a table that went from an even value v to v + 2 (one write
    section) between the two snapshots."""
    hits = []
    for addr, h0 in before.items():
        h1 = after.get(addr, b"")
        for off in range(0, min(len(h0), len(h1)) - 7, 8):
            v0, = struct.unpack_from("<Q", h0, off)
            v1, = struct.unpack_from("<Q", h1, off)
            if v0 % 2 == 0 and v1 == v0 + 2:
                hits.append((addr + off, v1))
    return hits


def _read_u64(pid, addr):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        mem.seek(addr)
        return struct.unpack("<Q", mem.read(8))[0]


def _write_u64(pid, addr, value):
    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
        mem.seek(addr)
        mem.write(struct.pack("<Q", value))


def _locate_seq(server, write):
    """(pid, address, value) of the sequence word of the table that write()
    writes to, searched in the parent's shared memory, then the children's
    (writes through any of them reach the same pages)."""
    pids = [server.pid()] + server.child_pids()
    before = {pid: _table_headers(pid) for pid in pids}
    assert any(before.values()), "no revocation table (magic AJRT) in httpd's shared memory"
    write()
    for pid in pids:
        hits = _find_seq(before[pid], _table_headers(pid))
        if len(hits) == 1:
            return (pid,) + hits[0]
    pytest.fail("cannot tell the revocation table's sequence word (one write "
                "section should advance exactly one 64-bit header word by 2)")


# A safe answer may be a 503 with a line of the module's own (its wording is
# not known before the fix lands: any AJ tag); the store is healthy throughout.
@pytest.mark.expect_log(r"AJ\d+")
def test_dead_writer_does_not_stall_readers(make_sites):
    """A child killed between a write section's two sequence bumps leaves the
    sequence odd with no writer left to make it even.  Killing a child at that
    instant cannot be timed from outside, so the test leaves the table in
    exactly that state: it finds B's table in httpd's shared memory, locates
    the sequence word (the header word that one logout advanced by 2) and
    makes it odd.

    Then a token check must not wait forever: a bounded wait, then a safe
    answer (the store, or 503), never an accept of a revoked token.
    Before: readers spun for good (every thread that checked a token).
    The sequence is put back at the end, so stuck threads can finish."""
    sites = make_sites(host_extra="AuthJWTRevocationRefresh 3600\n")  # no refresh writes
    b = sites.b
    b.add_user("bob", "bob-pw-1")
    valid = b.login("bob", "bob-pw-1")
    revoked = b.login("bob", "bob-pw-1")
    other = b.login("bob", "bob-pw-1")
    assert b.get("/api/resource", bearer=valid).status == 200       # table loaded
    pid, seq_addr, seq = _locate_seq(sites.server, lambda: b.logout(revoked))
    assert refused(b.get("/api/resource", bearer=revoked))
    _write_u64(pid, seq_addr, seq + 1)      # "the writer died here"
    try:
        results = {}
        for name, token in (("valid", valid), ("revoked", revoked), ("other", other)):
            t = time.time()
            try:
                r = b.get("/api/resource", bearer=token, timeout=STALL_TIMEOUT)
            except TimeoutError:
                pytest.fail(f"a token check ({name}) waited {STALL_TIMEOUT} s on a writer "
                            "that is gone (the sequence stays odd)")
            results[name] = (r.status, round(time.time() - t, 2))
        assert results["valid"][0] in (200, 503), results
        assert results["other"][0] in (200, 503), results
        assert results["revoked"][0] in (401, 503), \
            f"a revoked token was accepted while the table could not be read: {results}"
    finally:
        if _read_u64(pid, seq_addr) == seq + 1:     # unless the module repaired it
            _write_u64(pid, seq_addr, seq)


# ---- 7. throttle counters per store (docs/reference.md §10) ---------------------------------

@pytest.mark.expect_log(*REFUSED_PASSWORD_LOG)
def test_login_throttle_is_per_store(make_sites):
    """AuthJWTLoginThrottle 3 60: three wrong passwords for `bob` on A from
    this address make A answer 429 for bob; B's bob (same name, same
    address, another store) is not throttled, nor is anything on C."""
    sites = make_sites(host_extra="AuthJWTLoginThrottle 3 60\n")
    a, b, c = sites
    a.register("bob", "a-bob-pw")
    b.add_user("bob", "b-bob-pw")
    for i in range(3):
        r = a.get("/api/resource", auth=("bob", f"wrong-{i}"))
        assert r.status == 401, (i, r)
    r = a.get("/api/resource", auth=("bob", "wrong-3"))
    assert r.status == 429, r
    assert r.header("Retry-After") and 0 < int(r.header("Retry-After")) <= 60, r
    assert a.get("/api/resource", auth=("bob", "a-bob-pw")).status == 429
    # another store: its own counters
    r = b.get("/api/resource", auth=("bob", "wrong-b"))
    assert r.status == 401, f"B's bob is throttled by failures on A: {r}"
    r = b.get("/api/resource", auth=("bob", "b-bob-pw"))
    assert r.status == 200, r
    assert c.get("/api/resource", auth=("bob", "a-bob-pw")).status == 401


# ---- one file included for several hosts ------------------------------------------

@pytest.mark.expect_log(*REFUSED_PASSWORD_LOG)
def test_hosts_from_one_included_file_keep_their_stores(httpd_factory, request):
    """`Define SITE a` / `Include site.conf` / `Define SITE b` / `Include
    site.conf`: both <VirtualHost>s come from the same file and line, with
    DBDParams naming ${SITE}'s database.  Each keeps its own store: a password
    cached on A does not log in as B's user of the same name.
    Before: both hosts were matched to the first <VirtualHost> read there,
    so both were given A's store id, and A's cache answered for B."""
    server = httpd_factory("multisite-include", signing_key=False)
    request.node.aj_server = server
    server.expect_log(*REFUSED_PASSWORD_LOG)
    a, b = Site(server, "a"), Site(server, "b")
    for site in (a, b):
        secret = os.urandom(48).hex().encode("ascii")
        server.write_file(site.key, secret, mode=0o600)
        os.makedirs(site.dir)
        if server.env.run_user:
            pw = pwd.getpwnam(server.env.run_user)
            os.chown(site.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(site.dir, 0o750)
    template = HOST_TEMPLATE.format(
        port=server.port, host="${SITE}", db=os.path.join(server.data_dir, "${SITE}", "store.db"),
        key=os.path.join(server.root, "conf", "hs256-${SITE}.key"), registration="On",
        conf=os.path.join(server.root, "conf"), extra="")
    site_conf = os.path.join(server.root, "conf", "site.conf")
    server.write_file(site_conf, template)
    server.config = (COMMON + f'Define SITE a\nInclude "{site_conf}"\n'
                     f'Define SITE b\nInclude "{site_conf}"\n')
    server.start()
    a.add_user("admin", "a-admin-pw")
    b.add_user("admin", "b-admin-pw")
    for _ in range(4):                      # cached on A (both children)
        assert a.get("/api/resource", auth=("admin", "a-admin-pw")).status == 200
    for _ in range(4):
        r = b.get("/api/resource", auth=("admin", "a-admin-pw"))
        assert r.status == 401, r
    assert b.get("/api/resource", auth=("admin", "b-admin-pw")).status == 200
