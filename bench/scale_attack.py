#!/usr/bin/python3
"""bench/scale_attack.py -- legitimate token traffic while the server is
attacked: 50 connections guessing passwords and 50 sending garbage tokens.

One httpd with bench/run's configuration (its Bench class, keys, users,
revocation table).  Legitimate traffic is wrk on a token location (same
token: /hs256/; a new token every request: hs256-fresh).  The attack is two
more wrk processes against the same server:

  password guessing  SCALE_ATTACK_CONNS (50) connections sending Basic
                     bench:<wrong password> to /basic-password/ (AuthType JWT,
                     the default AuthJWTLoginThrottle 10 60: after 10 failures
                     of the user and 100 of the address, 429 without bcrypt)
  garbage tokens     SCALE_ATTACK_CONNS (50) connections sending Bearer values
                     to /hs256/: a third forged HS256 tokens (valid header and
                     claims, a random signature: each costs an HMAC check), a
                     third three random base64url segments, a third random
                     junk; all distinct (no cache can help)

Attack rates, each as rounds of three runs (the legitimate run alone, then
under attack, then under a control load: the same connections at the same
pace fetching the static /open/f.txt, i.e. what 100 clients cost with no
authentication at all): every attacking connection waits
D ms after each answer (wrk's delay()), for D in SCALE_ATTACK_DELAYS
(100,10,0): 100 ms = at most 1,000 attempts/s from the 100 connections,
10 ms = 10,000/s, 0 = a flood (each connection sends as fast as it is
answered: the attackers then take a share of the server by connection
count, whatever a request costs).  The server has 6 x 25 workers (150 for
the 120 connections), otherwise as bench/run.

Reported per legitimate row and mode: median req/s alone and under attack,
the ratio (target >= 0.80), the ratio under the control load, the
legitimate requests answered non-2xx (target 0) and the legitimate
connections closed under them (socket errors: keep-alive connections the
event MPM closes at its per-process connection limit; clients retry them), the attackers' answered requests/s and the
server's CPU per attack request (children's utime+stime over an attack-only
run), and the children's RSS before and after.

Knobs (environment): SCALE_DURATION (5 s per run), SCALE_ROUNDS (3),
SCALE_ATTACK_CONNS (50), SCALE_ATTACK_DELAYS (100,10,0 ms), SCALE_DEBUG=1
(print wrk's output of runs with errors), BENCH_PIN=1 (httpd on CPU 0, every wrk on CPU 1), BENCH_KEEP=1.
Run as root from the repository: /usr/bin/python3 bench/scale_attack.py
(or bench/scale attack).  127.0.0.1 only; every run bounded; httpd stopped by
the pid in its PidFile.
"""
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from scalelib import br  # noqa: E402  (bench/run as a module)

DURATION = br.env_int("SCALE_DURATION", 5)
ROUNDS = br.env_int("SCALE_ROUNDS", 3)
ATTACK_CONNS = br.env_int("SCALE_ATTACK_CONNS", 50)
# ms each attacking connection waits after each answer; 0 = flood
try:
    DELAYS = [int(m) for m in os.environ.get("SCALE_ATTACK_DELAYS", "100,10,0").split(",")
              if m.strip()]
except ValueError:
    br.die("SCALE_ATTACK_DELAYS: a comma list of milliseconds, e.g. 100,10,0")
# The server is sized for the connections it gets (legitimate + attack):
# with fewer workers than connections the event MPM closes idle keep-alive
# connections at the limit (AH00484), which wrk counts as read errors.
SERVER_LIMIT, THREADS_PER_CHILD = 6, 25
DEBUG = os.environ.get("SCALE_DEBUG", "") not in ("", "0")
GARBAGE = 3000
JUNK = "".join(chr(c) for c in range(33, 127) if chr(c) != ",")          # distinct garbage values (each kind a third)
LEGIT_ROWS = ("hs256", "hs256-fresh")
ROW_NAMES = ("open", "hs256", "hs256-fresh", "basic-password")
TICK = os.sysconf("SC_CLK_TCK")

# wrk script of the attackers: cycles through Authorization values like
# bench/run's, and when args[3] > 0 waits that many ms after each answer.
ATTACK_LUA = r"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local reqs, n, i, pause = {}, 0, 1, 0
function init(args)
  local nthreads = tonumber(args[2]) or 1
  pause = tonumber(args[3]) or 0
  for line in io.lines(args[1]) do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format("GET", wrk.path, { Authorization = line })
    end
  end
  if n == 0 then
    n = 1
    reqs[1] = wrk.format("GET", wrk.path)
  end
  i = (math.floor((tid or 0) * n / nthreads) % n) + 1
end
function delay()
  return pause
end
function request()
  local r = reqs[i]
  i = i + 1
  if i > n then i = 1 end
  return r
end
"""


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def garbage_values(n):
    """Distinct hostile Bearer values, printable ASCII only (a header line)."""
    out = []
    head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    for i in range(n):
        kind = i % 3
        if kind == 0:       # forged: verifies up to the HMAC, which fails
            claims = {"sub": "1", "name": br.USER, "iat": now, "nbf": now,
                      "exp": now + 3600, "jti": b64u(os.urandom(16))}
            out.append("Bearer %s.%s.%s" % (head, b64u(json.dumps(claims).encode()),
                                            b64u(os.urandom(32))))
        elif kind == 1:     # three random segments
            segs = [b64u(os.urandom(int.from_bytes(os.urandom(1), "big") % 150 + 1))
                    for _ in range(3)]
            out.append("Bearer " + ".".join(segs))
        else:               # junk of printable bytes but ',' (a comma would read as
            # two joined Authorization headers: a 400, not the token path)
            k = int.from_bytes(os.urandom(2), "big") % 400 + 1
            out.append("Bearer " + "".join(JUNK[c % len(JUNK)] for c in os.urandom(k)))
    return out


def wrong_passwords(n):
    return ["Basic " + base64.b64encode(("%s:wrong-%d-%s" % (br.USER, i, b64u(os.urandom(6))))
                                        .encode()).decode() for i in range(n)]


def children_cpu(b):
    """Children's utime + stime in seconds (processes that exit are lost:
    the bench config never recycles children)."""
    total = 0
    for pid, _ in b.children():
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / float(TICK)


def start_wrk(b, path, credfile, duration, conns, lua, pause=None):
    cmd = br.PIN_CLIENT + ["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration, "--timeout", "10s",
                           "-s", lua, "http://127.0.0.1:%d%s" % (b.port, path), "--", credfile,
                           "1"] + ([str(pause)] if pause is not None else [])
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)


def finish_wrk(p, duration):
    try:
        out, _ = p.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None, None, "wrk timed out"
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if p.returncode != 0 or not m:
        return None, None, out.strip().replace("\n", " | ")[:300]
    non2xx = sockerr = 0
    m2 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m2:
        non2xx = int(m2.group(1))
    m3 = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m3:
        sockerr = sum(int(x) for x in m3.groups())
    if (non2xx or sockerr) and DEBUG:
        br.say("wrk: " + out.replace("\n", " | "))
    return float(m.group(1)), int(n.group(1)) if n else 0, (non2xx, sockerr)


def check_status(b, path, value, want):
    st, _ = b.http("GET", path, {"Authorization": value})
    return st in want, st


def legit_run(b, path, credfile, attacks, lost):
    """One legitimate wrk run; with attacks (path, credfile, pause ms) those
    wrk processes start 1 s before it and end after it.  Adds the
    legitimate run's non-2xx and socket errors to lost; returns its req/s
    (and, with attacks, the attackers' answered req/s)."""
    time.sleep(br.SETTLE)
    atk = [start_wrk(b, ap, cf, DURATION + 2, ATTACK_CONNS, b.p("attack.lua"), pause)
           for ap, cf, pause in attacks]
    if atk:
        time.sleep(1)
    p = start_wrk(b, path, credfile, DURATION, br.CONNS, b.p("bench.lua"))
    rps, _, bad = finish_wrk(p, DURATION)
    done = [finish_wrk(x, DURATION + 2) for x in atk]
    if rps is None or any(x[0] is None for x in done):
        br.die("a wrk run failed: %s %s\n%s" % (bad, done, b.log_tail()))
    lost[0] += bad[0]
    lost[1] += bad[1]
    if not attacks:
        return rps
    return rps, sum(x[0] for x in done)


def main():
    t0 = time.time()
    br.ensure_wrk()
    rows = [r for r in br.ROWS if r[0] in ROW_NAMES]
    paths = {r[0]: r[1] for r in rows}
    b = br.Bench()

    def on_signal(signum, frame):
        b.stop()
        sys.exit(130)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    load0 = os.getloadavg()[0]
    results = {}
    try:
        b.make_files()
        feats = b.choose_features(rows)
        tokens = {"hs256": br.mint("HS256", b.secret, 1),
                  "hs256-fresh": br.mint("HS256", b.secret, br.NTOKENS)}
        credfiles = {}
        for r in rows:
            vals = br.header_values(r[3], tokens)
            credfiles[r[0]] = b.p("tokens", r[0] + ".txt")
            with open(credfiles[r[0]], "w") as f:
                f.write("".join(v + "\n" for v in vals))
        garbage, guesses = garbage_values(GARBAGE), wrong_passwords(GARBAGE)
        for name, vals in (("garbage", garbage), ("guesses", guesses)):
            credfiles[name] = b.p("tokens", name + ".txt")
            with open(credfiles[name], "w") as f:
                f.write("".join(v + "\n" for v in vals))
        with open(b.p("bench.lua"), "w") as f:
            f.write(br.LUA)
        attack_lua = b.p("attack.lua")
        with open(attack_lua, "w") as f:
            f.write(ATTACK_LUA)

        config = b.config

        def sized(features):
            text = config(features)
            for d, v in (("ServerLimit", SERVER_LIMIT), ("StartServers", SERVER_LIMIT),
                         ("MaxRequestWorkers", SERVER_LIMIT * THREADS_PER_CHILD),
                         ("MaxSpareThreads", SERVER_LIMIT * THREADS_PER_CHILD)):
                text, n = re.subn(r"(?m)^%s \d+$" % d, "%s %d" % (d, v), text)
                if n != 1:
                    br.die("bench/run's configuration has no single %s line" % d)
            return text
        b.config = sized
        b.start(feats)
        br.populate(b)

        # pre-flight: legitimate 200; garbage 401 (never 5xx); guesses 401
        # then 429 once throttled
        fails = []
        for r in rows:
            if r[0] in LEGIT_ROWS:
                with open(credfiles[r[0]]) as f:
                    ok, st = check_status(b, r[1], f.readline().strip(), (200,))
                if not ok:
                    fails.append("%s answered %d with its token" % (r[0], st))
        for v in garbage[:30]:
            ok, st = check_status(b, "/hs256/f.txt", v, (401, 400))
            if not ok:
                fails.append("a garbage token answered %d, want 401 (or 400)" % st)
        seen = set()
        for v in guesses[:120]:
            seen.add(check_status(b, "/basic-password/f.txt", v, (401, 429))[1])
        if not seen <= {401, 429} or 429 not in seen:
            fails.append("wrong passwords answered %s, want 401 then 429" % sorted(seen))
        if fails:
            br.die("pre-flight failed:\n  " + "\n  ".join(fails) + "\n" + b.log_tail())

        # the cost of one attack request on the server: attack-only runs
        cost = {}
        for name, path in (("guesses", "/basic-password/f.txt"), ("garbage", "/hs256/f.txt")):
            time.sleep(br.SETTLE)
            c0 = children_cpu(b)
            p = start_wrk(b, path, credfiles[name], DURATION, ATTACK_CONNS, attack_lua, 0)
            rps, n, bad = finish_wrk(p, DURATION)
            c1 = children_cpu(b)
            cost[name] = (rps, (c1 - c0) * 1e6 / n if n else None)
        for name in LEGIT_ROWS:
            path = paths[name]
            time.sleep(br.SETTLE)
            c0 = children_cpu(b)
            p = start_wrk(b, path, credfiles[name], DURATION, br.CONNS, b.p("bench.lua"))
            rps, n, bad = finish_wrk(p, DURATION)
            c1 = children_cpu(b)
            cost[name] = (rps, (c1 - c0) * 1e6 / n if n else None)

        rss_before = b.rss()
        for pause in DELAYS:
            mode = "%d ms (<= %d/s)" % (pause, 2 * ATTACK_CONNS * 1000 // pause) if pause \
                else "flood"
            for legit in LEGIT_ROWS:
                path = paths[legit]
                alone, under, ctl, atk_rps = [], [], [], []
                lost = [0, 0]   # legitimate non-2xx, socket errors
                for rnd in range(ROUNDS):
                    rps0 = legit_run(b, path, credfiles[legit], [], lost)
                    rps1, a_rps = legit_run(b, path, credfiles[legit], [
                        ("/basic-password/f.txt", credfiles["guesses"], pause),
                        ("/hs256/f.txt", credfiles["garbage"], pause)], lost)
                    rps2, _ = legit_run(b, path, credfiles[legit], [
                        ("/open/f.txt", credfiles["open"], pause),
                        ("/open/f.txt", credfiles["open"], pause)], lost)
                    alone.append(rps0)
                    under.append(rps1)
                    ctl.append(rps2)
                    atk_rps.append(a_rps)
                    br.say("%s %s round %d: alone %.0f, under attack %.0f (%.2f), under the "
                           "control load %.0f (%.2f); attackers answered %.0f/s; legitimate "
                           "non-2xx %d, socket errors %d"
                           % (mode, legit, rnd + 1, rps0, rps1, rps1 / rps0, rps2, rps2 / rps0,
                              a_rps, lost[0], lost[1]))
                ratios = [u / a for u, a in zip(under, alone)]
                cratios = [u / a for u, a in zip(ctl, alone)]
                results[(mode, legit)] = (statistics.median(alone), statistics.median(under),
                                          statistics.median(ratios), min(ratios), max(ratios),
                                          statistics.median(cratios), lost[0], lost[1],
                                          statistics.median(atk_rps))
        rss_after = b.rss()
    except SystemExit:
        br.say("scale attack: files kept in %s" % b.tmp)
        raise
    finally:
        b.stop()

    load1 = os.getloadavg()[0]
    br.say("")
    br.say("### Under attack")
    br.say("")
    br.say("Method: one httpd (bench/run's configuration, KeepAlive On); legitimate traffic wrk -t1 -c%d on /hs256/ (the same HS256 "
           "token, or %d distinct tokens for hs256-fresh); the attack, started 1 s "
           "before the legitimate run and ending after it: %d connections guessing "
           "passwords of an existing user on /basic-password/ (AuthType JWT, default "
           "throttle 10 60) and %d connections sending distinct garbage Bearer values "
           "(forged HS256 signatures, random segments, junk) to /hs256/; each "
           "attacking connection waits the attack's ms after each answer (flood: no wait); "
           "the server has %d x %d event-MPM workers. The control load: the same "
           "connections at the same pace fetching the static /open/f.txt (what any "
           "100 clients cost, authentication or not). Socket errors are keep-alive "
           "connections the event MPM closed at its per-process connection limit "
           "(clients retry them). %d "
           "rounds of pairs (alone, then under attack), %d s runs, medians. Command: "
           "`/usr/bin/python3 bench/scale_attack.py`%s."
           % (br.CONNS, br.NTOKENS, ATTACK_CONNS, ATTACK_CONNS, SERVER_LIMIT, THREADS_PER_CHILD,
              ROUNDS,
              DURATION, " with BENCH_PIN=1 (httpd on CPU 0, all wrk on CPU 1)" if br.PIN else ""))
    br.say("")
    br.say("Machine: %d CPUs, loadavg %.2f -> %.2f, %s"
           % (os.cpu_count() or 0, load0, load1, time.strftime("%Y-%m-%d %H:%M UTC",
                                                                 time.gmtime())))
    br.say("")
    br.say("| attack | legitimate row | req/s alone | req/s under attack | ratio (median) "
           "| ratio min–max | ratio under the control load | legitimate non-2xx "
           "| legitimate socket errors | attackers answered/s |")
    br.say("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (mode, legit), v in results.items():
        br.say("| %s | %s | %.0f | %.0f | %.2f | %.2f–%.2f | %.2f | %d | %d | %.0f |"
               % ((mode, legit) + v))
    br.say("")
    br.say("| requests (alone, wrk -c%d / -c%d) | req/s | server CPU per request (µs) |"
           % (ATTACK_CONNS, br.CONNS))
    br.say("|---|---:|---:|")
    for name, what in (("guesses", "wrong passwords (throttled: 429)"),
                       ("garbage", "garbage Bearer tokens (401)"),
                       ("hs256", "legitimate, same token"),
                       ("hs256-fresh", "legitimate, a new token each request")):
        rps, us = cost[name]
        br.say("| %s | %.0f | %s |" % (what, rps or 0, "%.1f" % us if us else "n/a"))
    br.say("")
    br.say("httpd children RSS: %.1f MiB (%d children) before the attack runs, "
           "%.1f MiB (%d children) after"
           % (rss_before[0] / 1024.0, rss_before[1], rss_after[0] / 1024.0, rss_after[1]))
    br.say("scale attack: done in %.0f s" % (time.time() - t0))
    if br.KEEP:
        br.say("scale attack: kept %s" % b.tmp)
    else:
        shutil.rmtree(b.tmp, ignore_errors=True)
    failed = any(v[6] for v in results.values())
    missed = any(v[2] < 0.80 for v in results.values())
    if failed:
        br.say("scale attack: legitimate requests FAILED (non-2xx) under attack")
    if missed:
        br.say("scale attack: the legitimate rate under attack is below 0.80 of its rate "
               "alone in some row (see the table)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
