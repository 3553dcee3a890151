#!/usr/bin/python3
"""bench/scale_revocations.py -- a revocation table of 0 .. 1,000,000 entries
(bench/scale revocations).

For each point, N unexpired rows are in the SQLite store's revoked_tokens
(inserted with python's sqlite3 while httpd is stopped: random 22-character
jti, expires_at in 2 h, revoked_at a minute ago), the shared revocation
table is sized for them (AuthJWTRevocationCacheSize: the next power of two
at or above (N + 1,000) * 4/3, the table's 3/4 fill limit; at least the
default 131,072), and httpd is started.  Measured:

  - load time: from `apachectl -k start` to the first 200 on a valid
    token (polled every 20 ms, at most SCALE_LOAD_BOUND s).  After a start
    the first token check loads every unexpired revocation before any
    token is trusted, so this is start + load.  "up" is the time until the
    port answers and both children exist, before any token is sent;
  - memory: the table's shared-memory size (computed from its layout:
    64-byte header, 64 bytes per store, 32 bytes per slot) and the
    children's RSS after the load and after the rounds;
  - per-request cost of a valid HS256 token (ratio to /open, same run):
    the same token every request, and SCALE_REV_FRESH distinct tokens
    (each a verify-cache miss: its jti and sub looked up in a table of N).

  bench/scale revocations        # or: /usr/bin/python3 bench/scale_revocations.py
  SCALE_REV_COUNTS=0,100000,1000000   the points (default)
  SCALE_REV_FRESH=20000               distinct tokens of the fresh row (default)
  SCALE_LOAD_BOUND=60                 seconds allowed for a start + load
  SCALE_PROFILE_LOAD=1                at the largest point, `perf record` the
                                      children during the load and print the
                                      top symbols (needs perf and root)
  SCALE_DURATION=3  SCALE_ROUNDS=2  SCALE_WARMUP_MAX=30   (see bench/scalelib.py)

Exit status 0, or 1 when a point failed, got non-2xx answers or did not
load within the bound.
"""
import base64
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalelib as sl  # noqa: E402

br = sl.br


COUNTS = sl.counts("SCALE_REV_COUNTS", "0,100000,1000000", lo=0)
FRESH = sl.env_int("SCALE_REV_FRESH", 20000, lo=2)
LOAD_BOUND = sl.env_int("SCALE_LOAD_BOUND", 60)
PROFILE = os.environ.get("SCALE_PROFILE_LOAD", "") not in ("", "0")
PROFILE_TOP = 25            # symbols printed from the load's profile
PERF_FREQ = 999             # samples per second
PATH = "/hs256/f.txt"

# The table's layout (src/core/aj_revtab_int.h): a power-of-two number of
# slots of 32 bytes (16-byte key, value, expires) after a 64-byte header
# and a 64-byte record per store; entries beyond 3/4 of the slots are
# refused.  AuthJWTRevocationCacheSize's default and bounds
# (src/httpd/auth_jwt_config.h).
SLOT_BYTES, HEADER_BYTES, STORE_BYTES = 32, 64, 64
LOAD_NUM, LOAD_DEN = 3, 4
DEFAULT_SLOTS, MAX_SLOTS = 131072, 1 << 24
# Room beside the inserted rows: the revoke-all / changed entries of users.
HEADROOM = 1000
ROW_LIFETIME = 7200         # s: expires_at of the inserted rows
ROW_AGE = 60                # s: revoked_at before now


def slots_for(n):
    """AuthJWTRevocationCacheSize for n entries: the power of two whose 3/4
    holds n + HEADROOM, at least the default."""
    need = -(-(n + HEADROOM) * LOAD_DEN // LOAD_NUM)
    slots = DEFAULT_SLOTS
    while slots < need:
        slots <<= 1
    if slots > MAX_SLOTS:
        br.die("%d revocations need more than AuthJWTRevocationCacheSize's maximum" % n)
    return slots


def shm_bytes(slots, nstores=1):
    return HEADER_BYTES + STORE_BYTES * nstores + SLOT_BYTES * slots


def fill_db(db, target, have):
    """Brings revoked_tokens from `have` rows to `target` rows (rows are
    only added: the points run in increasing order)."""
    if target < have:
        con = sqlite3.connect(db)
        con.execute("DELETE FROM revoked_tokens")
        con.commit()
        con.close()
        have = 0
    now = int(time.time())
    t = time.time()
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA synchronous=OFF")
        # sorted: appends to the jti index instead of random inserts
        # (900,000 random jti took 50 s on a loaded host)
        jtis = sorted(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
                      for _ in range(target - have))
        con.executemany(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?)",
            ((j, now + ROW_LIFETIME, now - ROW_AGE) for j in jtis))
        con.commit()
        (rows,) = con.execute("SELECT COUNT(*) FROM revoked_tokens").fetchone()
    finally:
        con.close()
    if br.IS_ROOT:
        for f in os.listdir(os.path.dirname(db)):
            os.chown(os.path.join(os.path.dirname(db), f), *www_data())
    if target != have:
        sl.say("scale: revoked_tokens now holds %d rows (%d inserted in %.1f s)"
               % (rows, target - have, time.time() - t))
    if rows != target:
        br.die("revoked_tokens holds %d rows, want %d" % (rows, target))
    return rows


def www_data():
    import pwd
    pw = pwd.getpwnam("www-data")
    return pw.pw_uid, pw.pw_gid


def perf_start(s):
    """perf record on the children (the load runs in whichever gets the
    first request), until perf_stop()."""
    import shutil
    import subprocess
    if not shutil.which("perf"):
        br.die("SCALE_PROFILE_LOAD=1 needs perf (apt-get install -y linux-perf)")
    pids = ",".join(str(k[0]) for k in s.b.children())
    out = s.p("run", "perf.data")
    proc = subprocess.Popen(["perf", "record", "-q", "-g", "-F", str(PERF_FREQ), "-o", out,
                             "-p", pids], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)         # perf attaches before the first request
    return proc, out


def perf_stop(s, perf, n):
    import signal
    import subprocess
    proc, out = perf
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    rep = subprocess.run(["perf", "report", "-i", out, "--stdio", "--no-children",
                          "--sort", "dso,symbol", "-g", "none", "--percent-limit", "0.5"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, timeout=300)
    lines = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
    return ("Profile of the load at %d revocations (`perf record -g -F %d` on the children "
            "from the start to the first 200, self time by library and symbol, top %d):\n\n"
            "```\n%s\n```" % (n, PERF_FREQ, PROFILE_TOP, "\n".join(lines[:PROFILE_TOP])))


def main():
    machine = sl.Machine()
    t_all = time.time()
    s = sl.Server()
    db = s.p("data", "users.db")
    points = []
    failed = False
    profile_text = ""
    try:
        one = ["Bearer " + x for x in br.mint("HS256", s.b.secret, 1)]
        fresh = ["Bearer " + x for x in br.mint("HS256", s.b.secret, FRESH)]
        cred_one, cred_fresh = s.creds("one", one), s.creds("fresh", fresh)
        # a first start creates the store's schema (at its first use)
        s.start()
        sl.preflight(s, PATH, one)
        s.stop()
        have = 0
        for n in COUNTS:
            have = fill_db(db, n, have)
            slots = slots_for(n)
            extra = ("AuthJWTRevocationCacheSize %d\n" % slots) if slots != DEFAULT_SLOTS else ""
            t0 = s.start(extra=extra)
            up = time.monotonic() - t0
            perf = None
            if PROFILE and n == COUNTS[-1]:
                # the time perf takes to attach is not the module's: left out
                t_perf = time.monotonic()
                perf = perf_start(s)
                t0 += time.monotonic() - t_perf
            cpu0 = s.cpu()
            load = s.first_ok(PATH, one[0], t0, LOAD_BOUND)
            load_cpu = s.cpu() - cpu0
            if perf:
                profile_text = perf_stop(s, perf, n)
            sl.say("scale: point %d revocations: up %.2f s, first 200 after %s, children's CPU "
                   "%.2f s" % (n, up, "%.2f s" % load if load is not None
                               else "NEVER (bound %d s)" % LOAD_BOUND, load_cpu))
            if load is None:
                failed = True
                sl.say(s.log_tail())
            m = s.metrics()
            rss_loaded = s.rss()
            sl.preflight(s, PATH, fresh)
            p_one = sl.measure(s, PATH, cred_one, "%d revoked, same token" % n)
            p_fresh = sl.measure(s, PATH, cred_fresh, "%d revoked, %d tokens" % (n, FRESH),
                                 ntokens=FRESH)
            s.stop()
            points.append((n, slots, up, load, load_cpu, m, rss_loaded, p_one, p_fresh))
    finally:
        s.cleanup()

    print("### Revocation table: 0 to 1,000,000 revoked tokens\n")
    print("Method: one httpd per point (bench/run's configuration, SQLite store, "
          "`AuthJWTRevocation` on, `AuthJWTSigningKey HS256` at /hs256/). Before each "
          "start, revoked_tokens is filled to N unexpired rows with python's sqlite3 "
          "(random 22-character jti, expires in %d s) and AuthJWTRevocationCacheSize is "
          "set to the power of two whose 3/4 holds N + %d (default %s when that fits). "
          "Load = from `apachectl -k start` to the first 200 on a valid token (polled "
          "every 20 ms, bound %d s; the first token check loads every unexpired revocation "
          "before any token is trusted); up = until the port answers with both children "
          "running; load CPU = the children's user + system CPU seconds from then to the "
          "first 200 (a busy host stretches the wall time, not this). Shared memory = the "
          "table's size from its layout (32-byte slots); "
          "entries/capacity = auth-jwt-metrics' gauges after the load (entries include the "
          "users' rows). Per-request cost: %s, for the same token and for %d distinct "
          "tokens (verify-cache misses, each looked up in the table); RSS = sum of the "
          "children's VmRSS after the load and after the rounds. Target: flat cost, load "
          "< 2 s at 1,000,000. Command: `bench/scale revocations`."
          % (ROW_LIFETIME, HEADROOM, "{:,}".format(DEFAULT_SLOTS), LOAD_BOUND, sl.wrk_line(),
             FRESH))
    print()
    print(machine.line() + " Section took %.0f s." % (time.time() - t_all))
    print()
    rows = []
    for n, slots, up, load, load_cpu, m, rss_loaded, p1, pf in points:
        rows.append([
            "{:,}".format(n), "{:,}".format(slots), "%.1f" % (shm_bytes(slots) / 1048576.0),
            "%s / %s" % ("{:,}".format(m["revocation_entries"] or 0),
                         "{:,}".format(m["revocation_capacity"] or 0)),
            "%.2f" % up, "%.2f" % load if load is not None else "> %d" % LOAD_BOUND,
            "%.2f" % load_cpu,
            "%.0f" % p1.rps_med if p1.rps else "FAILED", sl.fmt_ratio(p1.ratio),
            "%.0f" % pf.rps_med if pf.rps else "FAILED", sl.fmt_ratio(pf.ratio),
            "%.1f → %.1f" % (sl.mib(rss_loaded[0]), sl.mib(pf.rss_after[0])),
            "%s / %s" % (p1.drift(), pf.drift()),
            "%s / %s" % (p1.errors_text(), pf.errors_text())])
    print(sl.table(["revoked", "slots", "shm MiB", "entries / capacity", "up s", "load s", "load CPU s",
                    "same token req/s", "vs /open", "%d tokens req/s" % FRESH, "vs /open",
                    "children RSS MiB", "MiB per 1M req", "non-2xx"], rows))
    print()
    if profile_text:
        print(profile_text)
        print()
    ok = not failed and all(p[7].ok() and p[8].ok() for p in points)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
