#!/usr/bin/python3
"""bench/scale_users.py -- login and registration latency against the
number of registered users: the target is that with 100,000 registered users
login and registration latency (p50/p99) stay flat against 10 users.

One section of bench/scale; also runs alone:

  /usr/bin/python3 bench/scale_users.py

For each point (number of users) a database of its own: `htjwt add` makes
the schema and the first user with the module's own code (bcrypt cost
SCALE_USERS_COST), then the other rows go straight into `users` with
python's sqlite3, all with that first user's hash (one password for all;
a registration through HTTP would pay one bcrypt per row).  One httpd per
point, all running at once on 127.0.0.1, each measured over one keep-alive
connection (http.client), in chunks that alternate between the points so
that every point sees the same load of the shared machine.

Knobs (environment):
  SCALE_USERS_POINTS  comma list of user counts             (default 10,100000)
  SCALE_USERS_N       logins (and registrations) per point   (default 1000)
  SCALE_USERS_EDGE    logins of each of the first, middle and last user
                      per point                              (default 200)
  SCALE_USERS_COST    bcrypt cost of every hash, 4-17        (default 4, the
                      lowest the module takes: the lookup is what grows)
  SCALE_KEEP=1        keep the temporary directory (databases, configs, logs)
  BENCH_MODULE        the module (default <repo>/build/mod_auth_jwt.so)

Exit status: 0 measured, every answer as expected; 1 some request got an
unexpected answer; 2 set-up failed.
"""
import base64
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import time
import warnings

with warnings.catch_warnings():
    # deprecated since 3.11, still present: libxcrypt's bcrypt is the baseline
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from scalelib import br  # noqa: E402  (bench/run as a module)

POINTS = [int(x) for x in os.environ.get("SCALE_USERS_POINTS", "10,100000").split(",")
          if x.strip()]
N = br.env_int("SCALE_USERS_N", 1000)
EDGE = br.env_int("SCALE_USERS_EDGE", 200)
COST = br.env_int("SCALE_USERS_COST", 4)
KEEP = os.environ.get("SCALE_KEEP", "") not in ("", "0")
HTJWT = os.path.join(REPO, "build", "htjwt")
STORE_C = os.path.join(REPO, "src", "store", "aj_store.c")
PASSWORD = "benchpassword"
CHUNK = 50            # requests per point before switching to the next point
TIMEOUT = 30          # seconds, any one request
NAME_FMT = "u%07d"    # user id i is named NAME_FMT % i


def say(msg=""):
    print(msg, flush=True)


# ------------------------------------------------------ the store's SQL ----
def store_sql(names, driver="sqlite3"):
    """The text of the store's statements `names` (AJ_SQL_* without the
    prefix) as src/store/aj_store.c has them, macros expanded, with the
    placeholders of `driver` (? for sqlite3, $1.. for pgsql): the bench
    explains the very statements the module runs, not a copy."""
    with open(STORE_C) as f:
        src = f.read()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = src.replace("\\\n", " ")
    tok = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z_]\w*)')
    macros = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+(.+)$", src, re.M):
        body = m.group(2).strip()
        parts = tok.findall(body)
        if parts and re.fullmatch(r'(\s*("(?:[^"\\]|\\.)*"|[A-Za-z_]\w*)\s*)+', body):
            macros[m.group(1)] = parts

    def expand(parts, depth=0):
        out = []
        for lit, ident in parts:
            if ident:
                if ident not in macros or depth > 8:
                    raise ValueError("cannot expand %s" % ident)
                out.append(expand(macros[ident], depth + 1))
            else:
                out.append(lit.replace('\\"', '"'))
        return "".join(out)

    table = {}
    for m in re.finditer(r'\[AJ_SQL_(\w+)\]\s*=\s*(?=")(.*?),\s*(?=\[AJ_SQL_|\};)', src, re.S):
        table[m.group(1)] = m.group(2)
    out = {}
    for name in names:
        if name not in table:
            br.die("%s has no AJ_SQL_%s (the store changed; update bench/scale_*.py)"
                   % (STORE_C, name))
        try:
            sql = expand(tok.findall(table[name]))
        except ValueError as e:
            br.die("reading AJ_SQL_%s from %s: %s" % (name, STORE_C, e))
        if driver == "pgsql":
            n = [0]

            def ph(_):
                n[0] += 1
                return "$%d" % n[0]
            sql = re.sub(r"%s", ph, sql)
        else:
            sql = sql.replace("%s", "?")
        out[name] = sql
    return out


# ------------------------------------------------------------ helpers ----
def pct(v, q):
    """The q-th percentile (nearest rank) of v."""
    s = sorted(v)
    return s[min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))]


def ms(x):
    return "%.2f" % (x * 1e3)


def us(x):
    return "%.1f" % (x * 1e6)


def machine_line(load0, load1):
    return ("machine: nproc %d, loadavg (1 min) %.2f at start, %.2f at end, %s, SQLite %s"
            % (os.cpu_count() or 0, load0, load1,
               time.strftime("%Y-%m-%d %H:%M %Z"), sqlite3.sqlite_version))


class Server(br.Bench):
    """One httpd on one point's database: bench/run's base configuration
    (event MPM, 2 children, KeepAlive, no access log) plus the module with
    registration, auth-jwt-login and auth-jwt-token."""

    def __init__(self, users):
        super().__init__()
        self.users = users
        self.db = self.p("data", "users.db")
        self.secret_file = self.p("keys", "hs256.key")

    def config(self, feats):
        base = br.Bench.config(self, {"base"})
        return base + """
LoadModule auth_jwt_module %(module)s
DBDriver sqlite3
DBDParams %(db)s
AuthJWTBcryptCost %(cost)d
AuthJWTSigningKey HS256 file:%(key)s
# every login checks the password (no cached login hides the store)
AuthJWTBasicCacheTTL 0
<Location /register>
    AuthJWTRegistration On
    SetHandler auth-jwt-users
    Require all granted
</Location>
<Location /login>
    SetHandler auth-jwt-login
</Location>
<Location /token>
    AuthType JWT
    AuthName bench
    Require valid-user
    SetHandler auth-jwt-token
</Location>
""" % {"module": br.MODULE, "db": self.db, "cost": COST, "key": self.secret_file}

    def populate(self):
        """Schema and user 1 through htjwt, users 2..N by sqlite3; the
        seconds the bulk insert took."""
        os.makedirs(self.p("htdocs", "open"), exist_ok=True)
        with open(self.p("htdocs", "open", "f.txt"), "w") as f:
            f.write("open\n")
        with open(self.secret_file, "w") as f:
            f.write(os.urandom(32).hex())
        br.run([HTJWT, "-b", "-c", str(COST), self.db, "add", NAME_FMT % 1, PASSWORD])
        con = sqlite3.connect(self.db)
        try:
            self.hash = con.execute("SELECT password_hash FROM users WHERE id = 1").fetchone()[0]
            now = int(time.time())
            t = time.perf_counter()
            with con:
                con.executemany(
                    "INSERT INTO users (id, username, password_hash, claims,"
                    " tokens_valid_after, created_at, changed_at) VALUES (?, ?, ?, '{}', 0, ?, 0)",
                    ((i, NAME_FMT % i, self.hash, now) for i in range(2, self.users + 1)))
            took = time.perf_counter() - t
            count = con.execute("SELECT count(*) FROM users").fetchone()[0]
        finally:
            con.close()
        if count != self.users:
            br.die("users table holds %d rows, want %d" % (count, self.users))
        if br.IS_ROOT:
            br.run(["chown", "-R", "www-data:www-data", self.p("data"), self.p("run"),
                    self.p("logs")])
            br.run(["chgrp", "-R", "www-data", self.p("keys")])
            os.chmod(self.secret_file, 0o640)
        return took

    def connect(self):
        """A new connection, opened now so that no timed request pays the
        TCP set-up."""
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        self.conn.connect()


def basic(name):
    return "Basic " + base64.b64encode(("%s:%s" % (name, PASSWORD)).encode()).decode()


def timed(srv, method, path, headers, body, want):
    """One request over srv's keep-alive connection: (seconds, status)."""
    t = time.perf_counter()
    try:
        srv.conn.request(method, path, body=body, headers=headers)
        r = srv.conn.getresponse()
        r.read()
        st = r.status
    except (OSError, http.client.HTTPException):
        st = 0
    took = time.perf_counter() - t
    if st != want or r.getheader("Connection", "").lower() == "close":
        srv.conn.close()
        srv.connect()
    return took, st


def login_req(name):
    return ("POST", "/login", {"Content-Type": "application/json"},
            json.dumps({"username": name, "password": PASSWORD}), 200)


def token_req(name):
    return ("POST", "/token", {"Authorization": basic(name)}, None, 200)


def register_req(name):
    return ("POST", "/register", {"Content-Type": "application/json"},
            json.dumps({"username": name, "password": PASSWORD}), 201)


class Bad(Exception):
    pass


def alternate(servers, reqs_of):
    """reqs_of(server) lists the server's requests; runs them in CHUNK-sized
    turns alternating between servers.  {users: [seconds]}."""
    lists = {s.users: reqs_of(s) for s in servers}
    out = {s.users: [] for s in servers}
    pos = 0
    while any(pos < len(v) for v in lists.values()):
        for s in servers:
            # a fresh connection per turn: the previous one may have idled past
            # KeepAliveTimeout while the other points ran (a loaded machine)
            s.conn.close()
            s.connect()
            for req in lists[s.users][pos:pos + CHUNK]:
                took, st = timed(s, *req)
                if st != req[4]:
                    raise Bad("%d users: %s %s answered %d, want %d\n%s"
                              % (s.users, req[0], req[1], st, req[4], s.log_tail()))
                out[s.users].append(took)
        pos += CHUNK
    return out


def bcrypt_baseline(h, n):
    """Seconds of n bcrypt checks of PASSWORD against h (libxcrypt, the
    same Openwall crypt_blowfish family as APR's)."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        if crypt.crypt(PASSWORD, h) != h:
            br.die("crypt(3) does not reproduce the stored bcrypt hash")
        out.append(time.perf_counter() - t)
    return out


def sql_alone(srv, sql, names):
    """Seconds of the store's user-by-name SELECT for each name, through
    python's sqlite3 on the point's database (no HTTP, no bcrypt)."""
    con = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
    out = []
    try:
        for name in names:
            t = time.perf_counter()
            rows = con.execute(sql, (name,)).fetchall()
            out.append(time.perf_counter() - t)
            if len(rows) != 1:
                br.die("%s: %d rows for %s" % (sql, len(rows), name))
    finally:
        con.close()
    return out


def scan_once(srv, sql, tries=3):
    """Seconds of the best of `tries` runs of a parameterless statement."""
    con = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
    best = None
    try:
        for _ in range(tries):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            took = time.perf_counter() - t
            best = took if best is None or took < best else best
    finally:
        con.close()
    return best


def explain(db, sql, nparams):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        rows = con.execute("EXPLAIN QUERY PLAN " + sql, ["x"] * nparams).fetchall()
    finally:
        con.close()
    return "; ".join(r[-1] for r in rows)


# --------------------------------------------------------------- main ----
def main():
    t0 = time.time()
    load0 = os.getloadavg()[0]
    if not os.path.exists(HTJWT) or not os.path.exists(br.MODULE):
        err = br.ensure_module()
        if err or not os.path.exists(HTJWT):
            br.die(err or "%s missing: run make" % HTJWT)
    sqls = store_sql(["USER_BY_NAME", "USER_INSERT", "USER_BY_ID", "BCRYPT_PREFIXES",
                      "USERS_REVOKED_SINCE"])
    servers = []
    status = 0
    try:
        populate_s = {}
        for users in POINTS:
            s = Server(users)
            servers.append(s)
            populate_s[users] = s.populate()
        cold = {}
        for s in servers:
            s.start({"base"})
            s.connect()
            # the first login after the start: opens the store, prepares the
            # statements, reads the stored bcrypt costs (once per generation)
            cold[s.users], st = timed(s, *login_req(NAME_FMT % s.users))
            if st != 200:
                raise Bad("%d users: first login answered %d\n%s" % (s.users, st, s.log_tail()))
        rnd = random.Random(19)
        pick = {s.users: [NAME_FMT % i for i in
                          (rnd.sample(range(1, s.users + 1), min(N, s.users)) * N)[:N]]
                for s in servers}
        # warm-up: every child has its connection and statements
        alternate(servers, lambda s: [login_req(NAME_FMT % 1)] * 20)

        res = {}
        res["login"] = alternate(servers, lambda s: [login_req(n) for n in pick[s.users]])
        res["token"] = alternate(servers, lambda s: [token_req(n) for n in pick[s.users]])
        for label, idx in (("first", lambda u: 1), ("middle", lambda u: max(1, u // 2)),
                           ("last", lambda u: u)):
            res["login " + label] = alternate(
                servers, lambda s: [login_req(NAME_FMT % idx(s.users))] * EDGE)
        base_login = bcrypt_baseline(servers[0].hash, N)
        salt = servers[0].hash[:7] + "abcdefghijklmnopqrstuv"   # same cost, new salt
        base_reg = []
        for _ in range(N):
            t = time.perf_counter()
            crypt.crypt(PASSWORD, salt)
            base_reg.append(time.perf_counter() - t)
        res["register"] = alternate(
            servers, lambda s: [register_req("new%07d" % i) for i in range(N)])
        sql_t = {s.users: sql_alone(s, sqls["USER_BY_NAME"], pick[s.users]) for s in servers}
        scan_t = {s.users: scan_once(s, sqls["BCRYPT_PREFIXES"]) for s in servers}
        plans = [(k, explain(servers[-1].db, sqls[k], sqls[k].count("?"))) for k in sqls]
    except Bad as e:
        say("scale_users: ERROR: %s" % e)
        status = 1
    finally:
        for s in servers:
            s.stop()
    load1 = os.getloadavg()[0]

    say("### 100,000 registered users: login and registration latency")
    say()
    say("Method: for each point (%s users) a SQLite database of its own: `htjwt -c %d add` "
        "makes the schema and user 1 (the module's own code), the other users are inserted "
        "straight into `users` with python's sqlite3, every row with user 1's bcrypt "
        "cost-%d hash (cost %d, the lowest AuthJWTBcryptCost takes, so that the lookup and "
        "not bcrypt is what a point changes; registrations hash at the same cost). One httpd "
        "per point (bench/run's base configuration: event MPM, 2 children, KeepAlive; "
        "AuthJWTBasicCacheTTL 0), all running at once on 127.0.0.1; sequential requests "
        "over keep-alive http.client connections, in %d-request turns alternating between "
        "the points (a new connection per turn, opened before its first timed request). Measured per point: %d logins of users drawn at "
        "random over the whole table (`auth-jwt-login`, JSON body) and the same through "
        "`auth-jwt-token` with Basic user:password; %d logins each of the first, middle and "
        "last row; %d registrations of new names (`auth-jwt-users` POST; they add rows to "
        "the point). Beside them, in the same run: bcrypt alone (crypt(3) of libxcrypt, "
        "the Openwall code APR also uses, same cost) and the store's user-by-name SELECT "
        "alone through python's sqlite3. The first login after each start is shown apart "
        "(it opens the store and reads the stored bcrypt costs once, a full scan). "
        "Command: `/usr/bin/python3 bench/scale_users.py` (SCALE_USERS_POINTS=%s "
        "SCALE_USERS_N=%d SCALE_USERS_EDGE=%d SCALE_USERS_COST=%d)."
        % (", ".join("{:,}".format(p) for p in POINTS), COST, COST, COST, CHUNK, N, EDGE, N,
           ",".join(str(p) for p in POINTS), N, EDGE, COST))
    say()
    say(machine_line(load0, load1))
    say()
    if status:
        for s in servers:
            say("scale_users: files kept in " + s.tmp)
        return status
    say("| users | rows inserted in | first login after start |")
    say("|---:|---:|---:|")
    for p in POINTS:
        say("| {:,} | {:.2f} s | {} ms |".format(p, populate_s[p], ms(cold[p])))
    say()
    b50 = statistics.median(base_login)
    r50 = statistics.median(base_reg)
    first = POINTS[0]
    say("Latency per request, ms (p50 / p99); \"− bcrypt\" is the p50 less the same run's "
        "bcrypt p50 (%s ms for a check, %s ms for a new hash); the last column compares "
        "with %s users." % (ms(b50), ms(r50), "{:,}".format(first)))
    say()
    say("| request | users | p50 | p99 | p50 − bcrypt | p50 vs {:,} users |".format(first))
    say("|---|---:|---:|---:|---:|---:|")
    for kind in ("login", "token", "login first", "login middle", "login last", "register"):
        base = r50 if kind == "register" else b50
        ref = statistics.median(res[kind][first])
        for p in POINTS:
            v = res[kind][p]
            m = statistics.median(v)
            delta = "—" if p == first else "%+.2f ms (%.2fx)" % ((m - ref) * 1e3, m / ref)
            say("| %s | {:,} | %s | %s | %s | %s |".format(p)
                % (kind, ms(m), ms(pct(v, 99)), ms(m - base), delta))
    say("| bcrypt check alone | — | %s | %s | | |" % (ms(b50), ms(pct(base_login, 99))))
    say("| bcrypt hash alone | — | %s | %s | | |" % (ms(r50), ms(pct(base_reg, 99))))
    say()
    say("The store's statements alone (python sqlite3 on the point's database, after the "
        "registrations): the user-by-name SELECT of every login (same names as the logins, "
        "µs), and the stored-bcrypt-costs scan run once per generation (best of 3, ms):")
    say()
    say("| users | user by name p50 | p99 | bcrypt costs scan |")
    say("|---:|---:|---:|---:|")
    for p in POINTS:
        say("| {:,} | {} µs | {} µs | {} ms |".format(
            p, us(statistics.median(sql_t[p])), us(pct(sql_t[p], 99)), ms(scan_t[p])))
    say()
    say("EXPLAIN QUERY PLAN of the store's statements (src/store/aj_store.c), on the "
        "{:,}-user database:".format(POINTS[-1]))
    say()
    say("| statement | when | plan |")
    say("|---|---|---|")
    when = {"USER_BY_NAME": "every password login",
            "USER_INSERT": "every registration",
            "USER_BY_ID": "token renewal, user look-up",
            "BCRYPT_PREFIXES": "once per store and server generation (pacing failed logins)",
            "USERS_REVOKED_SINCE": "every revocation refresh"}
    for k, plan in plans:
        say("| AJ_SQL_%s | %s | `%s` |" % (k, when.get(k, ""), plan))
    say()
    say("scale_users: done in %.0f s" % (time.time() - t0))
    for s in servers:
        if KEEP:
            say("scale_users: kept " + s.tmp)
        else:
            shutil.rmtree(s.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
