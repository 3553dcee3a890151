#!/usr/bin/python3
"""bench/scale_drift.py -- the children's memory over long runs (bench/scale drift).

The target: children's RSS flat (< 1 MiB drift per million requests) in
every row.  One httpd (bench/run's configuration and users, its revocation
table with BENCH_REVOKED entries), and per row a warm-up, then two halves
of SCALE_DRIFT_SECONDS of wrk, the children's RSS (sum of VmRSS) read
before, between and after.  The first half still fills what is meant to
fill (caches up to their bounds, glibc arenas); the second half is the
drift: its RSS growth in MiB per million requests.

Rows: hs256 (one token), hs256-fresh (BENCH_TOKENS distinct tokens, more
than the verify cache holds, so it keeps evicting), rs256-fresh,
basic-password (the Basic cache), basic-token, and garbage (distinct forged
or random Bearer values: every answer a 401, the path of an attack).

  bench/scale drift          # or: /usr/bin/python3 bench/scale_drift.py
  SCALE_DRIFT_SECONDS=60     per row, the two halves together (default 60)
  SCALE_DRIFT_ROWS=hs256,garbage   some rows only
  BENCH_TOKENS, BENCH_THREADS, BENCH_CONNS, BENCH_PIN   as bench/run

Exit status 0, or 1 when a run failed or a valid row got non-2xx answers.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalelib as sl  # noqa: E402
import scale_attack  # noqa: E402  (its garbage token generator)

br = sl.br
SECONDS = sl.env_int("SCALE_DRIFT_SECONDS", 60, lo=2)
WARMUP = 5
ALL_ROWS = ["hs256", "hs256-fresh", "rs256-fresh", "basic-password", "basic-token", "garbage"]
ROWS = [r.strip() for r in os.environ.get("SCALE_DRIFT_ROWS", ",".join(ALL_ROWS)).split(",")
        if r.strip()]


def main():
    unknown = [r for r in ROWS if r not in ALL_ROWS]
    if unknown:
        br.die("SCALE_DRIFT_ROWS: unknown %s; rows: %s" % (",".join(unknown), ",".join(ALL_ROWS)))
    machine = sl.Machine()
    t_all = time.time()
    s = sl.Server()
    out, status = [], 0
    try:
        rows = {r[0]: r for r in br.ROWS}
        tokens = {"hs256": br.mint("HS256", s.b.secret, 1),
                  "hs256-fresh": br.mint("HS256", s.b.secret, br.NTOKENS)}
        feats = ("base", "jwt")
        if "rs256-fresh" in ROWS:
            tokens["rs256-fresh"] = br.mint("RS256", s.b.priv["rs256"], br.NTOKENS)
            feats = ("base", "jwt", "RS256")
        s.start(feats=feats)
        br.populate(s.b)
        for name in ROWS:
            if name == "garbage":
                path = rows["hs256"][1]
                values = scale_attack.garbage_values(br.NTOKENS)
            else:
                path = rows[name][1]
                values = br.header_values(rows[name][3], tokens)
            cred = s.creds("drift-" + name, values)
            st, _ = s.http("GET", path, {"Authorization": values[0]})
            if st != (401 if name == "garbage" else 200):
                br.die("pre-flight: %s answered %d\n%s" % (name, st, s.log_tail()))
            s.wrk(path, cred, WARMUP)
            rss0 = s.rss()
            r1, bad1 = s.wrk(path, cred, SECONDS // 2)
            rss1 = s.rss()
            r2, bad2 = s.wrk(path, cred, SECONDS - SECONDS // 2)
            rss2 = s.rss()
            if r1 is None or r2 is None:
                status = 1
                out.append("| %s | FAILED: %s | | | | | |" % (name, str(bad1 if r1 is None else bad2)[:80]))
                continue
            n1, n2 = r1 * (SECONDS // 2), r2 * (SECONDS - SECONDS // 2)
            non2xx = bad1[0] + bad2[0]
            sock = sum(bad1[1:]) + sum(bad2[1:])
            if (name != "garbage" and non2xx) or sock:
                status = 1
            drift = sl.mib(rss2[0] - rss1[0]) * 1e6 / n2 if n2 else 0.0
            sl.say("scale drift: %s: %.0f + %.0f requests, RSS %.1f -> %.1f -> %.1f MiB"
                   % (name, n1, n2, sl.mib(rss0[0]), sl.mib(rss1[0]), sl.mib(rss2[0])))
            out.append("| %s | %s | %.2f M | %.1f → %.1f → %.1f | %+.2f | %s |"
                       % (name, path.rsplit("/", 1)[0], (n1 + n2) / 1e6, sl.mib(rss0[0]),
                          sl.mib(rss1[0]), sl.mib(rss2[0]), drift,
                          ("%d (all 401: expected)" % non2xx if name == "garbage"
                           else "%d" % non2xx) + ("; socket errors %d" % sock if sock else "")))
    finally:
        s.cleanup()

    print("### Children's memory over long runs (drift)")
    print()
    print("Method: one httpd (bench/run's configuration, %d children; users and %d revoked "
          "tokens as bench/run), per row a %d s warm-up, then two halves of %d s of wrk (%s); "
          "the children's RSS (sum of VmRSS) before, between and after the halves. The drift "
          "is the second half's growth per million requests (the first half still fills what "
          "is bounded: caches, arenas). garbage = %d distinct forged or random Bearer values "
          "(scale_attack's), every answer 401. Command: `bench/scale drift` "
          "(SCALE_DRIFT_SECONDS=%d)."
          % (2, br.REVOKED, WARMUP, SECONDS // 2, sl.wrk_line().split(",")[0], br.NTOKENS,
             SECONDS))
    print()
    print(machine.line())
    print()
    print("| row | location | requests | children RSS MiB (start → half → end) "
          "| drift MiB per 1M requests (second half) | non-2xx |")
    print("|---|---|---:|---:|---:|---:|")
    for line in out:
        print(line)
    print()
    sl.say("scale drift: done in %.0f s" % (time.time() - t_all))
    return status


if __name__ == "__main__":
    sys.exit(main())
