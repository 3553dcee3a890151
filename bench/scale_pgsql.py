#!/usr/bin/python3
"""bench/scale_pgsql.py -- the periodic revocation refresh on PostgreSQL with
three httpd nodes and up to 1,000,000 rows in revoked_tokens: the target is
that the periodic refresh query's cost per node stays flat (an index serves
it; its EXPLAIN is printed).

One section of bench/scale; also runs alone:

  /usr/bin/python3 bench/scale_pgsql.py

A throwaway cluster (tests/integration/pgcluster.py: initdb in a temporary
directory, 127.0.0.1 on a free port, run as the `postgres` user when root)
with pg_stat_statements preloaded; `htjwt -d pgsql add` makes the schema
with the module's own code; rows go into revoked_tokens by one INSERT ...
SELECT generate_series.  Three nodes (bench/run's base configuration, the
module with DBDriver pgsql on the one database, AuthJWTRevocationRefresh
SCALE_PG_REFRESH) are restarted at each point, so each loads the whole
table once (its start) and then polls it every interval.

Knobs (environment):
  SCALE_PG_POINTS    comma list of revoked_tokens rows   (default 0,100000,1000000)
  SCALE_PG_REFRESH   AuthJWTRevocationRefresh, seconds   (default 1)
  SCALE_PG_DURATION  seconds per wrk run                 (default 3)
  SCALE_PG_ROUNDS    (/open, /jwt) wrk pairs per point   (default 3)
  SCALE_PG_SLOTS     AuthJWTRevocationCacheSize          (default 2097152: 1,000,000
                     revocations need more than the default 131072)
  SCALE_PG_EXPLAINS  timed runs of each EXPLAIN ANALYZE  (default 20)
  SCALE_KEEP=1       keep the temporary directories (cluster, node configs, logs)
  BENCH_MODULE       the module (default <repo>/build/mod_auth_jwt.so)
  BENCH_THREADS / BENCH_CONNS   wrk -t / -c (bench/run's, default 2 / 20)

Needs PostgreSQL's server (postgresql), apr-util's pgsql driver
(libaprutil1-dbd-pgsql), wrk, and what bench/run needs.  Exit status: 0
measured; 1 a run failed or got non-2xx answers; 2 set-up failed.
"""
import http.client
import os
import re
import shutil
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from scalelib import br  # noqa: E402  (bench/run as a module)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import pgcluster  # noqa: E402  (tests/integration: the tests' throwaway cluster)
from scale_users import PASSWORD, machine_line, store_sql  # noqa: E402

POINTS = [int(x) for x in os.environ.get("SCALE_PG_POINTS", "0,100000,1000000").split(",")
          if x.strip()]
REFRESH = br.env_int("SCALE_PG_REFRESH", 1)
DURATION = br.env_int("SCALE_PG_DURATION", 3)
ROUNDS = br.env_int("SCALE_PG_ROUNDS", 3)
SLOTS = br.env_int("SCALE_PG_SLOTS", 2097152, lo=64)
EXPLAINS = br.env_int("SCALE_PG_EXPLAINS", 20)
KEEP = os.environ.get("SCALE_KEEP", "") not in ("", "0")
HTJWT = os.path.join(REPO, "build", "htjwt")
NODES = ("a", "b", "c")
POKE_EVERY = 0.2      # seconds between requests to the nodes wrk does not load
FIRST_TOKEN_LIMIT = 60  # seconds a node may take to trust its first token
# The revocations are old (past the refresh's 60-second slack) and unexpired:
# a poll finds none new, the start-up load reads them all.
REVOKED_AGE = 120     # seconds, the newest row
REVOKED_SPREAD = 86000  # rows' revoked_at spread over this many seconds before
TTL = 86400           # seconds from now to the rows' expires_at
WHERE = {"refresh": "SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at%",
         "users": "SELECT id, tokens_valid_after, changed_at FROM users WHERE%",
         "prune": "DELETE FROM revoked_tokens WHERE expires_at%"}


def say(msg=""):
    print(msg, flush=True)


class Node(br.Bench):
    """One httpd of the three: /open/ static, /jwt/ behind AuthType JWT."""

    def __init__(self, name, conninfo, secret):
        super().__init__()
        self.name = name
        self.conninfo = conninfo
        self.secret_file = self.p("keys", "hs256.key")
        for d in ("open", "jwt"):
            os.makedirs(self.p("htdocs", d), exist_ok=True)
            with open(self.p("htdocs", d, "f.txt"), "w") as f:
                f.write(("mod_auth_jwt bench static file -- " + "x" * 100)[:99] + "\n")
        with open(self.secret_file, "w") as f:
            f.write(secret)
        if br.IS_ROOT:
            br.run(["chown", "-R", "www-data:www-data", self.p("run"), self.p("logs")])
            br.run(["chgrp", "www-data", self.secret_file])
            os.chmod(self.secret_file, 0o640)

    def config(self, feats):
        return br.Bench.config(self, {"base"}) + """
LoadModule auth_jwt_module %(module)s
DBDriver pgsql
DBDParams "%(conninfo)s"
AuthJWTRevocationRefresh %(refresh)d
AuthJWTRevocationCacheSize %(slots)d
AuthJWTSigningKey HS256 file:%(key)s
<Location /jwt/>
    AuthType JWT
    AuthName bench
    Require valid-user
</Location>
""" % {"module": br.MODULE, "conninfo": self.conninfo, "refresh": REFRESH, "slots": SLOTS,
       "key": self.secret_file}


class Poker(threading.Thread):
    """Requests to the nodes wrk does not load, so that they poll too (a
    refresh rides on a request); bounded by stop() and by a deadline."""

    def __init__(self, nodes, bearer, limit):
        super().__init__(daemon=True)
        self.nodes, self.bearer, self.deadline = nodes, bearer, time.time() + limit
        self.done = threading.Event()
        self.bad = []

    def run(self):
        conns = {n.name: http.client.HTTPConnection("127.0.0.1", n.port, timeout=10)
                 for n in self.nodes}
        while not self.done.is_set() and time.time() < self.deadline:
            for n in self.nodes:
                c = conns[n.name]
                try:
                    c.request("GET", "/jwt/f.txt", headers={"Authorization": self.bearer})
                    r = c.getresponse()
                    r.read()
                    if r.status != 200:
                        self.bad.append("%s: %d" % (n.name, r.status))
                except (OSError, http.client.HTTPException) as e:
                    self.bad.append("%s: %s" % (n.name, e))
                    c.close()
            self.done.wait(POKE_EVERY)
        for c in conns.values():
            c.close()

    def stop(self):
        self.done.set()
        self.join(30)


def stats(pg, key):
    """pg_stat_statements of the statement WHERE[key]: (calls, total ms,
    rows, shared blocks hit, read), summed over every node's connections."""
    r = pg.psql("SELECT coalesce(sum(calls),0), coalesce(sum(total_exec_time),0),"
                " coalesce(sum(rows),0), coalesce(sum(shared_blks_hit),0),"
                " coalesce(sum(shared_blks_read),0) FROM pg_stat_statements"
                " WHERE query LIKE '%s'" % WHERE[key].replace("'", "''"))
    v = r[0]
    return int(v[0]), float(v[1]), int(v[2]), int(v[3]), int(v[4])


def explain(pg, sql, args, analyze=True, runs=1, wrap_rollback=False):
    """EXPLAIN [(ANALYZE, BUFFERS)] of the store's statement with `args`,
    prepared as the pgsql driver sends it (untyped parameters), with a
    custom plan for the values as PQexecParams gets; (text of the last run,
    [execution ms of each run])."""
    opts = "(ANALYZE, BUFFERS)" if analyze else ""
    lines = ["SET plan_cache_mode = force_custom_plan;",
             "PREPARE q AS %s;" % sql]
    call = "EXPLAIN %s EXECUTE q(%s);" % (opts, ", ".join("'%s'" % a for a in args))
    for _ in range(runs):
        lines += (["BEGIN;", call, "ROLLBACK;"] if wrap_rollback else [call])
    out = [row[0] for row in pg.psql("\n".join(lines))]
    times = [float(m.group(1)) for m in
             (re.match(r"\s*Execution Time: ([\d.]+) ms", x) for x in out) if m]
    # the last run's plan: from its last top line (not indented, not a footer)
    last = 0
    for i, x in enumerate(out):
        if not x.startswith(" ") and not x.startswith("Planning") \
                and not x.startswith("Execution"):
            last = i
    return "\n".join(out[last:]), times


def first_line(plan):
    return plan.splitlines()[0].split("  (")[0].strip() if plan else ""


def main():
    t0 = time.time()
    load0 = os.getloadavg()[0]
    if not pgcluster.apr_dbd_pgsql_installed():
        br.die("apr-util's pgsql driver is not installed: apt-get install -y "
               "libaprutil1-dbd-pgsql")
    br.ensure_wrk()
    err = br.ensure_module()
    if err or not os.path.exists(HTJWT):
        br.die(err or "%s missing: run make" % HTJWT)
    sqls = store_sql(["REVOKE_SINCE", "USERS_REVOKED_SINCE", "REVOKE_PRUNE"], driver="pgsql")
    try:
        pg = pgcluster.PgCluster(dbname="ajscale", user="ajscale")
    except pgcluster.PgUnavailable as e:
        br.die(str(e))
    nodes = []
    results = {}
    status = 0
    try:
        pg.init()
        with open(os.path.join(pg.datadir, "postgresql.conf"), "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\n"
                    "pg_stat_statements.track = all\n")
        pg.start()
        pg.psql(f"CREATE ROLE {pg.user} LOGIN PASSWORD '{pg.password}'", db="postgres")
        pg.psql(f"CREATE DATABASE {pg.dbname} OWNER {pg.user}", db="postgres")
        pg.psql("CREATE EXTENSION pg_stat_statements")
        pgversion = pg.scalar("SHOW server_version")
        # the schema and user 1 (the tokens' sub) by the module's own code
        br.run([HTJWT, "-b", "-c", "4", "-d", "pgsql", pg.conninfo, "add", "bench", PASSWORD])
        secret = os.urandom(32).hex()
        nodes = [Node(n, pg.conninfo, secret) for n in NODES]
        a = nodes[0]
        with open(a.p("bench.lua"), "w") as f:
            f.write(br.LUA)
        bearer = "Bearer " + br.mint("HS256", secret, 1)[0]
        credfile = a.p("tokens", "jwt.txt")
        with open(credfile, "w") as f:
            f.write(bearer + "\n")
        openfile = a.p("tokens", "open.txt")
        open(openfile, "w").close()

        have = 0
        for want in POINTS:
            for n in nodes:
                n.stop()
            res = results[want] = {}
            now = int(time.time())
            t = time.perf_counter()
            if want > have:
                pg.psql("INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
                        " SELECT 'scale-' || md5(g::text), %d, %d - (g %% %d)"
                        " FROM generate_series(%d, %d) g"
                        % (now + TTL, now - REVOKED_AGE, REVOKED_SPREAD, have + 1, want))
            elif want < have:
                pg.psql("TRUNCATE revoked_tokens")
                if want:
                    pg.psql("INSERT INTO revoked_tokens (jti, expires_at, revoked_at)"
                            " SELECT 'scale-' || md5(g::text), %d, %d - (g %% %d)"
                            " FROM generate_series(1, %d) g"
                            % (now + TTL, now - REVOKED_AGE, REVOKED_SPREAD, want))
            res["insert_s"] = time.perf_counter() - t
            have = want
            # a settled table, as autovacuum leaves it a minute after a bulk load
            pg.psql("VACUUM ANALYZE revoked_tokens")
            count = int(pg.scalar("SELECT count(*) FROM revoked_tokens"))
            if count != want:
                br.die("revoked_tokens holds %d rows, want %d" % (count, want))
            res["size"] = pg.scalar("SELECT pg_size_pretty(pg_total_relation_size("
                                    "'revoked_tokens'))")

            # start: each node loads every unexpired revocation at its first token
            pg.psql("SELECT pg_stat_statements_reset()")
            res["first"] = {}
            for n in nodes:
                n.start({"base"})
                t = time.perf_counter()
                while True:
                    st, _ = n.http("GET", "/jwt/f.txt", {"Authorization": bearer})
                    if st == 200:
                        break
                    if time.perf_counter() - t > FIRST_TOKEN_LIMIT or st not in (503,):
                        br.die("node %s: GET /jwt/f.txt answered %d\n%s"
                               % (n.name, st, n.log_tail()))
                    time.sleep(0.05)
                res["first"][n.name] = time.perf_counter() - t
            res["load"] = stats(pg, "refresh")
            res["load_prune"] = stats(pg, "prune")

            # steady state: wrk on node A (pairs with /open), pokes to B and C
            pg.psql("SELECT pg_stat_statements_reset()")
            poker = Poker(nodes[1:], bearer, ROUNDS * 2 * (DURATION + 70) + 30)
            w0 = time.time()
            poker.start()
            ratios, rps, bad = [], [], []
            try:
                for _ in range(ROUNDS):
                    time.sleep(br.SETTLE)
                    o, e1 = br.wrk_run(a, "/open/f.txt", openfile, DURATION)
                    time.sleep(br.SETTLE)
                    j, e2 = br.wrk_run(a, "/jwt/f.txt", credfile, DURATION)
                    for x, e in ((o, e1), (j, e2)):
                        if x is None or any(e):
                            bad.append(str(e))
                    if o and j:
                        ratios.append(j / o)
                        rps.append((o, j))
            finally:
                poker.stop()
            window = time.time() - w0
            res["refresh"] = stats(pg, "refresh")
            res["users"] = stats(pg, "users")
            res["window"] = window
            res["ratios"], res["rps"] = ratios, rps
            res["rss"] = {n.name: n.rss()[0] / 1024.0 for n in nodes}
            if bad or poker.bad:
                status = 1
                say("scale_pgsql: WARNING at %d rows: wrk %s; pokes %s"
                    % (want, "; ".join(bad)[:200], "; ".join(poker.bad[:5])))

            # the refresh query as a node sends it now: since = its last
            # poll (now - interval) - the 60-second slack
            now = int(time.time())
            res["explain_refresh"], res["t_refresh"] = explain(
                pg, sqls["REVOKE_SINCE"], [now - REFRESH - 60, now], runs=EXPLAINS)
            res["explain_load"], res["t_load"] = explain(
                pg, sqls["REVOKE_SINCE"], [0, now], runs=3)
            res["explain_prune"], res["t_prune"] = explain(
                pg, sqls["REVOKE_PRUNE"], [now], runs=3, wrap_rollback=True)
            res["explain_users"], res["t_users"] = explain(
                pg, sqls["USERS_REVOKED_SINCE"], [now - REFRESH - 60] * 2, runs=EXPLAINS)

        for n in nodes:
            n.stop()
        # the store indexes expires_at for the prune; without that index
        # (schemas made before 2026-12-07) the prune reads the whole table
        top = POINTS[-1]
        now = int(time.time())
        fix = "DROP INDEX revoked_tokens_expires_at"
        pg.psql(fix + "; ANALYZE revoked_tokens")
        fixed_prune, t_fixed_prune = explain(pg, sqls["REVOKE_PRUNE"], [now], runs=3,
                                             wrap_rollback=True)
        fixed_refresh, t_fixed_refresh = explain(pg, sqls["REVOKE_SINCE"],
                                                 [now - REFRESH - 60, now], runs=EXPLAINS)
    except SystemExit:
        say("scale_pgsql: files kept in %s %s" % (pg.base, " ".join(n.tmp for n in nodes)))
        raise
    finally:
        for n in nodes:
            n.stop()
        load1 = os.getloadavg()[0]
        try:
            pg.stop()
        except pgcluster.PgError as e:
            say("scale_pgsql: stopping PostgreSQL: %s" % e)

    say("### PostgreSQL, three nodes, revoked_tokens up to 1,000,000 rows: the periodic refresh")
    say()
    say("Method: a throwaway PostgreSQL %s cluster (tests/integration/pgcluster.py; fsync off, "
        "127.0.0.1) with pg_stat_statements; `htjwt -d pgsql add` makes the schema; at each "
        "point (%s rows) revoked_tokens is filled by one INSERT ... SELECT generate_series "
        "(unexpired rows revoked %d s to a day ago, so a poll finds nothing new and the "
        "start-up load reads them all), then VACUUM ANALYZE (the state autovacuum leaves). "
        "Three httpd nodes (bench/run's base configuration, the module with DBDriver pgsql on "
        "that database, AuthJWTRevocationRefresh %d, AuthJWTRevocationCacheSize %d) are "
        "restarted per point; the first token each trusts is timed (its request loads every "
        "revocation). Then %d pairs of wrk runs (-t%d -c%d -d%ds) on node A, /open then /jwt "
        "(HS256 Bearer, one token: the revocation check and the refresh, not the signature), "
        "while nodes B and C get a request every %.1f s so that they poll too. The refresh "
        "query's cost is what pg_stat_statements counted over that window (all three nodes; "
        "per call and per node-second), and its EXPLAIN (ANALYZE, BUFFERS) with the "
        "parameters a node sends (since = now - %d - 60 s of slack), %d runs, custom plans "
        "like the driver's unnamed statements. The SQL is read from src/store/aj_store.c. "
        "Command: `/usr/bin/python3 bench/scale_pgsql.py`."
        % (pgversion, ", ".join("{:,}".format(p) for p in POINTS), REVOKED_AGE, REFRESH, SLOTS,
           ROUNDS, br.THREADS, br.CONNS, DURATION, POKE_EVERY, REFRESH, EXPLAINS))
    say()
    say(machine_line(load0, load1).split(", SQLite")[0] + ", PostgreSQL %s" % pgversion)
    say()
    say("| rows | table + indexes | filled in | first trusted token a / b / c | "
        "start-up load (3 nodes): calls, mean, rows |")
    say("|---:|---:|---:|---:|---:|")
    for p in POINTS:
        r = results[p]
        c, tot, rows, _, _ = r["load"]
        say("| {:,} | {} | {:.1f} s | {} | {}, {:.1f} ms, {:,} |".format(
            p, r["size"], r["insert_s"],
            " / ".join("%.2f s" % r["first"][n] for n in NODES),
            c, tot / c if c else 0, rows))
    say()
    say("The periodic refresh (AJ_SQL_REVOKE_SINCE) in the steady window, and the per-request "
        "cost on node A:")
    say()
    say("| rows | refresh calls (3 nodes) | per node per s | mean per call | shared blocks "
        "hit/read per call | EXPLAIN ANALYZE p50 (plan) | users poll mean | /jwt vs /open "
        "(median, min–max) | /open req/s | children RSS a / b / c |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in POINTS:
        r = results[p]
        c, tot, rows, hit, rd = r["refresh"]
        uc, ut = r["users"][0], r["users"][1]
        rt = r["ratios"]
        say("| {:,} | {} | {:.2f} | {:.3f} ms | {:.1f} / {:.1f} | {:.3f} ms ({}) | {:.3f} ms | "
            "{} | {} | {} |".format(
                p, c, c / 3.0 / r["window"], tot / c if c else 0, hit / c if c else 0,
                rd / c if c else 0, statistics.median(r["t_refresh"]),
                first_line(r["explain_refresh"]), ut / uc if uc else 0,
                ("%.2f (%.2f–%.2f)" % (statistics.median(rt), min(rt), max(rt))) if rt
                else "n/a",
                ("%.0f" % statistics.median(o for o, _ in r["rps"])) if r["rps"] else "n/a",
                " / ".join("%.0f MiB" % r["rss"][n] for n in NODES)))
    say()
    say("The other statements on revoked_tokens a node runs, EXPLAIN ANALYZE p50 (plan):")
    say()
    say("| rows | start-up load (since = 0), every (re)start | prune (AJ_SQL_REVOKE_PRUNE), "
        "every 600 s and at the start |")
    say("|---:|---:|---:|")
    for p in POINTS:
        r = results[p]
        say("| {:,} | {:.1f} ms ({}) | {:.1f} ms ({}) |".format(
            p, statistics.median(r["t_load"]), first_line(r["explain_load"]),
            statistics.median(r["t_prune"]), first_line(r["explain_prune"])))
    top = POINTS[-1]
    r = results[top]
    say()
    say("EXPLAIN (ANALYZE, BUFFERS) at {:,} rows of the refresh query as the store sends it "
        "(`{}`), since = now - {} s:".format(top, sqls["REVOKE_SINCE"], REFRESH + 60))
    say()
    say("```")
    say(r["explain_refresh"])
    say("```")
    say()
    say("The users poll of the same refresh (`%s`):" % sqls["USERS_REVOKED_SINCE"])
    say()
    say("```")
    say(r["explain_users"])
    say("```")
    say()
    say("The prune (`%s`), at {:,} rows, served by the store's index "
        "revoked_tokens_expires_at:".format(top) % sqls["REVOKE_PRUNE"])
    say()
    say("```")
    say(r["explain_prune"])
    say("```")
    say()
    say("The same after `%s` (as in a schema made before the store had that index):"
        % fix)
    say()
    say("```")
    say(fixed_prune)
    say("```")
    say()
    say("prune p50 %.3f ms with the index, %.1f ms without it; the refresh query p50 %.3f ms "
        "with, %.3f ms without (%s)."
        % (statistics.median(r["t_prune"]), statistics.median(t_fixed_prune),
           statistics.median(r["t_refresh"]), statistics.median(t_fixed_refresh),
           first_line(fixed_refresh)))
    say()
    say("scale_pgsql: done in %.0f s" % (time.time() - t0))
    if KEEP:
        say("scale_pgsql: kept %s and %s" % (pg.base, ", ".join(n.tmp for n in nodes)))
    else:
        shutil.rmtree(pg.base, ignore_errors=True)
        for n in nodes:
            shutil.rmtree(n.tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
