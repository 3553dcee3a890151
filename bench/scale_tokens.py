#!/usr/bin/python3
"""bench/scale_tokens.py -- distinct valid tokens in rotation (bench/scale tokens).

How the cost per request and the children's memory move when the clients
hold 1, 1,000, ... 100,000 different valid tokens instead of one: wrk's
Lua script (bench/run's) cycles through a file of N `Bearer` values, each
thread from its own offset, so a token comes back only after every other
one has been sent.  One fresh httpd per point (bench/run's configuration,
location /hs256/ or /rs256/), a warm-up that walks the whole file once,
then SCALE_ROUNDS pairs of wrk runs (/open, then the row).  The verify
cache's hit rate is read from the auth-jwt-metrics counters around the
measured runs.

  bench/scale tokens                 # or: /usr/bin/python3 bench/scale_tokens.py
  SCALE_HS_COUNTS=1,1000,10000,100000   HS256 points (default)
  SCALE_RS_COUNTS=1,1000,100000         RS256 points (default; minting 100,000
                                        RS256 tokens takes ~35 s)
  SCALE_BIG_CACHE=131072   one more RS256 point at the largest count with
                           AuthJWTVerifyCache set to this (0: skip)
  SCALE_DURATION=3  SCALE_ROUNDS=2  SCALE_WARMUP_MAX=30   (see bench/scalelib.py)

Exit status 0, or 1 when a point failed or got non-2xx answers.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalelib as sl  # noqa: E402

br = sl.br
DEFAULT_VERIFY_CACHE = 4096      # AuthJWTVerifyCache's default (docs/reference.md)


HS_COUNTS = sl.counts("SCALE_HS_COUNTS", "1,1000,10000,100000")
RS_COUNTS = sl.counts("SCALE_RS_COUNTS", "1,1000,100000")
BIG_CACHE = sl.env_int("SCALE_BIG_CACHE", 131072, lo=0)


def _mint(job):
    alg, key, n = job
    return br.mint(alg, key, n)


def mint(alg, key, n):
    """n tokens, minted by one process per CPU (RS256 signing costs ~0.3 ms
    a token in Python: 100,000 take half a minute on one core)."""
    import multiprocessing
    workers = max(1, min(os.cpu_count() or 1, n // 1000))
    if workers == 1:
        return br.mint(alg, key, n)
    jobs = [(alg, key, n // workers + (1 if i < n % workers else 0)) for i in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [t for part in pool.map(_mint, jobs) for t in part]


def main():
    machine = sl.Machine()
    t_all = time.time()
    s = sl.Server()
    points = []
    try:
        plan = [("HS256", "hs256", n, None) for n in HS_COUNTS]
        plan += [("RS256", "rs256", n, None) for n in RS_COUNTS]
        if BIG_CACHE and RS_COUNTS:
            plan.append(("RS256", "rs256", RS_COUNTS[-1], BIG_CACHE))
        tokens = {}
        for alg, loc, n, _ in plan:
            if len(tokens.get(loc, [])) < n:
                t = time.time()
                key = s.b.secret if alg == "HS256" else s.b.priv[loc]
                tokens[loc] = ["Bearer " + x for x in mint(alg, key, max(
                    m for a, l, m, _ in plan if l == loc))]
                sl.say("scale: minted %d %s tokens in %.1f s" % (len(tokens[loc]), alg,
                                                                  time.time() - t))
        for alg, loc, n, cache in plan:
            label = "%s x%d%s" % (alg, n, " cache %d" % cache if cache else "")
            # the size is read from the server's main config (one cache per
            # child, sized at child start)
            extra = "AuthJWTVerifyCache %d\n" % cache if cache else ""
            s.start(extra=extra, feats=("base", "jwt", alg))
            path = "/%s/f.txt" % loc
            vals = tokens[loc][:n]
            sl.preflight(s, path, vals)
            cred = s.creds("%s-%d" % (loc, n), vals)
            sl.say("scale: point %s (httpd pid %d)" % (label, s.b.pid))
            pt = sl.measure(s, path, cred, label, ntokens=n)
            pt.alg, pt.n, pt.cache = alg, n, cache or DEFAULT_VERIFY_CACHE
            points.append(pt)
            s.stop()
    finally:
        s.cleanup()

    print("### Distinct valid tokens in rotation\n")
    print("Method: one httpd per point (bench/run's configuration: event MPM, 2 children x "
          "25 threads, KeepAlive, LogLevel warn), `AuthType JWT` at /hs256/ "
          "(`AuthJWTSigningKey HS256`) or /rs256/ (`AuthJWTVerifyKey RS256`, 2048-bit); N "
          "distinct valid tokens (PyJWT, 1 h lifetime) in a file that bench/run's wrk Lua "
          "script cycles through, each thread from its own offset. A warm-up sends every "
          "token once (bounded by %d s), then %s. `vs /open` is the median of the row's "
          "req/s over the /open run just before it. The hit rate is the verify cache's "
          "(auth-jwt-metrics `mod_auth_jwt_cache_total{cache=\"verify\"}`) over the "
          "measured runs; the cache is per child, 8-way set-associative (a bucket per hash of "
          "the token's tail, least recently used out, a new token first out until it is used "
          "again), default %d slots. RSS: sum of the children's VmRSS after the "
          "warm-up and after the rounds; drift = its growth from the end of the first round "
          "to the end, per million requests of the later rounds (a short run gives only a "
          "coarse figure: RSS moves by pages). "
          "Command: `bench/scale tokens`."
          % (sl.WARMUP_MAX, sl.wrk_line(), DEFAULT_VERIFY_CACHE))
    print()
    print(machine.line() + " Section took %.0f s." % (time.time() - t_all))
    print()
    rows = []
    for pt in points:
        rows.append([pt.alg, "{:,}".format(pt.n), "{:,}".format(pt.cache),
                     "%.0f" % pt.rps_med if pt.rps else "FAILED",
                     sl.fmt_ratio(pt.ratio), pt.ratio_range(), pt.hit_rate(),
                     "%.1f → %.1f" % (sl.mib(pt.rss_before[0]), sl.mib(pt.rss_after[0])),
                     pt.drift(), pt.errors_text()])
    print(sl.table(["alg", "tokens", "AuthJWTVerifyCache", "req/s", "vs /open",
                    "pairs min–max", "verify hit rate", "children RSS MiB", "MiB per 1M req",
                    "non-2xx"], rows))
    print()
    return 0 if all(pt.ok() for pt in points) else 1


if __name__ == "__main__":
    sys.exit(main())
