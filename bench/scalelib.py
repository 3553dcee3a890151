"""bench/scalelib.py -- the small toolkit shared by the bench/scale_*.py sections.

It reuses bench/run (loaded as a module, as bench/profile does) for keys,
the httpd configuration, token minting and the wrk Lua script, and adds
what a scale section needs: one httpd at a time started with extra
directives, paired wrk runs against /open, the children's RSS, and the
module's counters.  Everything listens on 127.0.0.1 only; httpd is stopped
by the pid in its PidFile.

API (nothing else here is meant for the sections):

  br                          bench/run as a module (br.mint, br.ALGS, br.LUA, ...)
  env_int(NAME, default, lo)  an integer knob from the environment
  counts(NAME, default, lo=1) a comma list of numbers from the environment
                              (a curve's points), sorted, each >= lo
  DURATION, ROUNDS, WARMUP_MAX  SCALE_DURATION / SCALE_ROUNDS / SCALE_WARMUP_MAX
                              (wrk's -t/-c are bench/run's BENCH_THREADS/BENCH_CONNS,
                              BENCH_PIN=1 pins as bench/run does; SCALE_KEEP=1
                              keeps the temp dir)
  say(msg)                    a progress line on stderr (stdout is the markdown)
  Server()                    a temp dir with bench/run's keys and files (SIGINT
                              and SIGTERM stop its httpd, then exit 130):
    .start(extra="", feats=("base", "jwt"))   starts httpd with bench/run's
                              config (feats as in bench/run) plus METRICS_PATH
                              and the `extra` text; returns the monotonic time
                              taken just before `apachectl -k start`
    .stop()                   SIGTERM to the PidFile's pid, bounded wait
    .rss()                    (KiB, children): sum of the children's VmRSS
    .cpu()                    CPU seconds the children have used (user + system)
    .http(method, path, headers=None, body=None) -> (status, body)
    .creds(name, values)      writes Authorization values (one a line) for
                              the Lua script; returns the file's path
    .wrk(path, credfile, seconds) -> (req/s or None, errors or reason):
                              BENCH_THREADS one-thread wrk processes at once
                              (see its docstring: why not `wrk -tN`)
    .metrics()                {"verify_hit", "verify_miss", "revocation_entries",
                              "revocation_capacity"} from auth-jwt-metrics
    .first_ok(path, header, t0, bound) -> seconds from t0 to the first 200
    .p(*parts), .log_tail(), .cleanup()
  measure(server, path, credfile, label) -> Point: rounds of (/open, row)
                              pairs after a warm-up that walks the whole file
  Machine()                   .line(): nproc, loadavg at start and now, date
  table(header, rows)         a markdown table
  mib(kib), fmt_ratio(x)      formatting
"""
import datetime
import importlib.machinery
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run"))
_spec = importlib.util.spec_from_loader("bench_run", _loader)
br = importlib.util.module_from_spec(_spec)
_loader.exec_module(br)

env_int = br.env_int


def counts(name, default, lo=1):
    v = os.environ.get(name, default)
    try:
        out = sorted({int(x) for x in v.split(",") if x.strip()})
    except ValueError:
        br.die("%s=%r: want a comma list of numbers" % (name, v))
    if any(n < lo for n in out):
        br.die("%s: counts must be >= %d" % (name, lo))
    return out

DURATION = env_int("SCALE_DURATION", 3)        # seconds per wrk run
ROUNDS = env_int("SCALE_ROUNDS", 2)            # (/open, row) pairs per point
# The warm-up walks the whole token file once (so that a token is seen
# again only after every other one), bounded by this many seconds.
WARMUP_MAX = env_int("SCALE_WARMUP_MAX", 30)
SETTLE = 0.5                 # seconds of pause before each wrk run
START_BOUND = 20             # seconds for httpd to write its pid and answer


METRICS_PATH = "/scale-metrics"
OPEN_PATH = "/open/f.txt"


def say(msg=""):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def mib(kib):
    return kib / 1024.0


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


class Machine:
    """The machine line every section prints: how loaded the host was."""

    def __init__(self):
        self.load0 = os.getloadavg()[0]
        self.date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")

    def line(self):
        return ("Machine: nproc %d, loadavg %.2f at start, %.2f at end, %s%s."
                % (os.cpu_count() or 0, self.load0, os.getloadavg()[0], self.date,
                   ", BENCH_PIN=1 (httpd CPU 0, wrk CPU 1)" if br.PIN else ", unpinned"))


class Server:
    def __init__(self):
        br.ensure_wrk()
        err = br.ensure_module()
        if err:
            br.die(err)
        self.b = br.Bench()
        self.b.make_files()
        with open(self.b.p("bench.lua"), "w") as f:
            f.write(br.LUA)
        self.t_start = None

        owner = os.getpid()

        def on_signal(signum, frame):
            # Ctrl-C, or bench/scale's timeout: never leave httpd running.
            # Only in this process: a forked helper (a multiprocessing
            # worker, which its pool ends with SIGTERM) inherits the handler.
            if os.getpid() != owner:
                os._exit(0)
            self.cleanup()
            sys.exit(130)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

    def p(self, *parts):
        return self.b.p(*parts)

    @property
    def port(self):
        return self.b.port

    def log_tail(self, n=15):
        return self.b.log_tail(n)

    def config(self, extra="", feats=("base", "jwt")):
        return (self.b.config(set(feats))
                + "<Location %s>\n    SetHandler auth-jwt-metrics\n    Require all granted\n"
                  "</Location>\n" % METRICS_PATH
                + extra)

    def start(self, extra="", feats=("base", "jwt")):
        """Writes the config, checks it, starts httpd; returns the monotonic
        time taken just before `apachectl -k start` (load times count from it)."""
        b = self.b
        with open(b.conf, "w") as f:
            f.write(self.config(extra, feats))
        p = br.run(["apachectl", "-f", b.conf, "-t"], check=False)
        if p.returncode != 0:
            br.die("configtest failed:\n%s" % p.stdout[-1500:])
        if os.path.exists(b.pidfile):
            os.unlink(b.pidfile)
        t0 = time.monotonic()
        p = br.run(br.PIN_SERVER + ["apachectl", "-f", b.conf, "-k", "start"], check=False)
        deadline = time.monotonic() + START_BOUND
        while time.monotonic() < deadline and not b.pid:
            try:
                with open(b.pidfile) as f:
                    b.pid = int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.02)
        if not b.pid:
            br.die("httpd did not start:\n%s\n%s" % (p.stdout, b.log_tail()))
        while time.monotonic() < deadline:
            try:
                br.socket.create_connection(("127.0.0.1", b.port), timeout=1).close()
                if len(b.children()) >= 2:
                    self.t_start = t0
                    return t0
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        br.die("httpd does not answer on 127.0.0.1:%d\n%s" % (b.port, b.log_tail()))

    def stop(self):
        self.b.stop()

    def rss(self):
        return self.b.rss()

    def cpu(self):
        """CPU seconds (user + system) the children have used so far: a
        figure that, unlike wall time, a busy host does not stretch."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid, _ in self.b.children():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])     # utime, stime
        return total / float(tick)

    def http(self, method, path, headers=None, body=None):
        return self.b.http(method, path, headers, body)

    def creds(self, name, values):
        fn = self.p("tokens", name + ".txt")
        with open(fn, "w") as f:
            f.write("".join(v + "\n" for v in values))
        return fn

    def wrk(self, path, credfile, seconds):
        """bench/run's wrk_run: BENCH_THREADS one-thread wrk processes at
        once, their req/s summed (see its docstring for why not -tN)."""
        return br.wrk_run(self.b, path, credfile, seconds)

    def metrics(self):
        st, body = self.http("GET", METRICS_PATH)
        if st != 200:
            br.die("GET %s answered %d\n%s" % (METRICS_PATH, st, self.log_tail()))
        text = body.decode("utf-8", "replace")
        want = {
            "verify_hit": r'mod_auth_jwt_cache_total\{cache="verify",result="hit"\} (\d+)',
            "verify_miss": r'mod_auth_jwt_cache_total\{cache="verify",result="miss"\} (\d+)',
            "revocation_entries": r"^mod_auth_jwt_revocation_entries (\d+)",
            "revocation_capacity": r"^mod_auth_jwt_revocation_capacity (\d+)",
        }
        out = {}
        for k, rx in want.items():
            m = re.search(rx, text, re.M)
            out[k] = int(m.group(1)) if m else None
        return out

    def first_ok(self, path, header, t0, bound):
        """Seconds from t0 (monotonic) to the first 200 on path with the
        Authorization header, polling every 20 ms; None past `bound` s."""
        deadline = t0 + bound
        while time.monotonic() < deadline:
            try:
                st, _ = self.http("GET", path, {"Authorization": header})
            except OSError:
                st = None
            if st == 200:
                return time.monotonic() - t0
            time.sleep(0.02)
        return None

    def cleanup(self):
        self.stop()
        if os.environ.get("SCALE_KEEP", "") not in ("", "0"):
            say("scale: kept %s" % self.b.tmp)
        else:
            shutil.rmtree(self.b.tmp, ignore_errors=True)


class Point:
    """One point of a curve: medians over rounds of (/open, row) pairs."""

    def __init__(self, label):
        self.label = label
        self.rps, self.open_rps, self.ratios = [], [], []
        self.errors = [0, 0, 0, 0, 0]   # non-2xx, connect, read, write, timeout
        self.failed = []
        self.requests = 0               # measured requests on the row
        self.drift_requests = 0         # of them, after the first round
        # children's (KiB, count): after the warm-up, after the first
        # round, at the end
        self.rss_before = self.rss_mid = self.rss_after = (0, 0)
        self.hits = self.misses = None  # verify cache, over the measured runs

    @property
    def rps_med(self):
        return statistics.median(self.rps) if self.rps else None

    @property
    def ratio(self):
        return statistics.median(self.ratios) if self.ratios else None

    def ratio_range(self):
        return "%.2f–%.2f" % (min(self.ratios), max(self.ratios)) if self.ratios else ""

    def hit_rate(self):
        if self.hits is None or self.misses is None or self.hits + self.misses == 0:
            return "n/a"
        return "%.1f %%" % (100.0 * self.hits / (self.hits + self.misses))

    def drift(self):
        """Children's RSS growth in MiB per million requests, from the end
        of the first measured round to the end (the warm-up and the first
        round take the first touches of memory: arenas, cache slots)."""
        if not self.drift_requests:
            return "n/a"
        return "%+.2f" % (mib(self.rss_after[0] - self.rss_mid[0]) * 1e6 / self.drift_requests)

    def errors_text(self):
        e = self.errors
        s = "%d" % e[0] if not any(e[1:]) else "%d (socket %d/%d/%d/%d)" % tuple(e)
        return s + ("; FAILED: " + "; ".join(self.failed)[:80] if self.failed else "")

    def ok(self):
        return not self.failed and not any(self.errors) and self.ratios


def measure(server, path, credfile, label, ntokens=1):
    """A warm-up that walks the token file once (bounded by WARMUP_MAX),
    then ROUNDS pairs of DURATION-second wrk runs: /open, then the row.
    RSS and the verify cache's counters are read around the measured runs
    (the /open runs count no authentication, so the counters are the row's)."""
    pt = Point(label)
    # a 1-second probe gives the rate; then enough warm-up to send every
    # token once (each wrk thread starts at its own offset in the file)
    time.sleep(SETTLE)
    rps, _ = server.wrk(path, credfile, 1)
    if ntokens > 1 and rps:
        warm = min(WARMUP_MAX, int(ntokens / rps) + 2)
        if warm > 1:
            say("scale:   %s: warm-up %d s (%d tokens at ~%.0f req/s)" % (label, warm, ntokens, rps))
            server.wrk(path, credfile, warm)
    pt.rss_before = server.rss()
    m0 = server.metrics()
    for rnd in range(ROUNDS):
        time.sleep(SETTLE)
        o, _ = server.wrk(OPEN_PATH, server.creds("open", []), DURATION)
        time.sleep(SETTLE)
        r, bad = server.wrk(path, credfile, DURATION)
        if r is None:
            pt.failed.append(str(bad))
            continue
        pt.rps.append(r)
        pt.requests += int(r * DURATION)
        if rnd == 0:
            pt.rss_mid = server.rss()
        else:
            pt.drift_requests += int(r * DURATION)
        pt.errors = [x + y for x, y in zip(pt.errors, bad)]
        if o:
            pt.open_rps.append(o)
            pt.ratios.append(r / o)
        say("scale:   %s round %d/%d: %.0f req/s, /open %.0f, ratio %s"
            % (label, rnd + 1, ROUNDS, r, o or 0, fmt_ratio(r / o if o else None)))
    m1 = server.metrics()
    pt.rss_after = server.rss()
    if m0["verify_hit"] is not None and m1["verify_hit"] is not None:
        pt.hits = m1["verify_hit"] - m0["verify_hit"]
        pt.misses = m1["verify_miss"] - m0["verify_miss"]
    return pt


def preflight(server, path, values):
    """The row's first and last credentials must get 200, none 401."""
    for v in (values[0], values[-1]):
        st, body = server.http("GET", path, {"Authorization": v})
        if st != 200:
            br.die("pre-flight: GET %s with a token answered %d: %s\n%s"
                   % (path, st, body[:200], server.log_tail()))
    st, _ = server.http("GET", path)
    if st != 401:
        br.die("pre-flight: GET %s without a token answered %d, want 401" % (path, st))


def wrk_line():
    return ("%d wrk processes at once, each -t1 -c%d, %d rounds of (/open, row) pairs of "
            "%d s each (medians)"
            % (br.THREADS, max(1, br.CONNS // br.THREADS), ROUNDS, DURATION))
