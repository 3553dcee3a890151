#!/usr/bin/python3
"""bench/scale_issuers.py -- 1, 10, 100 trusted issuers (bench/scale issuers).

One location (/iss/) trusts N issuers, each with
`AuthJWTTrustedIssuer ISSUER file:PATH` (a JWK Set file holding one HMAC
key of its own, kid k<i>: HS256 keeps the signature cheap, so what the
number of issuers adds per request is not hidden behind RSA).  The tokens
are spread round-robin over the N issuers (token j is issuer j mod N's),
and wrk's Lua script (bench/run's) cycles through them.  Two rows per
point: SCALE_ISS_CACHED (100) tokens, verify-cache hits after the warm-up,
and SCALE_ISS_FRESH (20,000) tokens, more than the verify cache holds, so
each request verifies a signature with its issuer's key.  One fresh httpd
per point; the cost is the ratio to /open in the same run.

  bench/scale issuers            # or: /usr/bin/python3 bench/scale_issuers.py
  SCALE_ISS_COUNTS=1,10,100      the points (default)
  SCALE_ISS_CACHED=100           tokens of the cached row (default)
  SCALE_ISS_FRESH=20000          tokens of the fresh row (default)
  SCALE_DURATION=3  SCALE_ROUNDS=2  SCALE_WARMUP_MAX=30   (see bench/scalelib.py)

Exit status 0, or 1 when a point failed or got non-2xx answers.
"""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalelib as sl  # noqa: E402

br = sl.br
jwt = br.jwt


COUNTS = sl.counts("SCALE_ISS_COUNTS", "1,10,100")
CACHED = sl.env_int("SCALE_ISS_CACHED", 100)
FRESH = sl.env_int("SCALE_ISS_FRESH", 20000, lo=2)
LOCATION = "/iss/"
PATH = LOCATION + "f.txt"
SECRET_BYTES = 32           # HS256 needs at least the hash's 32 bytes
TOKEN_LIFETIME = 3600


def issuer_name(i):
    return "https://issuer-%03d.bench.example" % i


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_issuers(s, n):
    """N JWK Set files, one HMAC key each; returns [(issuer, kid, secret)]
    and the configuration's <Location>."""
    out = []
    lines = ["<Location %s>" % LOCATION, "    AuthType JWT", "    AuthName bench",
             "    Require valid-user"]
    for i in range(n):
        iss, kid, secret = issuer_name(i), "k%d" % i, os.urandom(SECRET_BYTES)
        fn = s.p("keys", "issuer-%03d.jwks" % i)
        with open(fn, "w") as f:
            json.dump({"keys": [{"kty": "oct", "kid": kid, "alg": "HS256", "use": "sig",
                                 "k": b64u(secret)}]}, f)
        os.chmod(fn, 0o644)
        lines.append('    AuthJWTTrustedIssuer %s "file:%s"' % (iss, fn))
        out.append((iss, kid, secret))
    lines.append("</Location>")
    return out, "\n".join(lines) + "\n"


def mint(issuers, count):
    now = int(time.time())
    out = []
    for j in range(count):
        iss, kid, secret = issuers[j % len(issuers)]
        claims = {"iss": iss, "sub": "user-%d" % j, "iat": now, "nbf": now,
                  "exp": now + TOKEN_LIFETIME, "jti": b64u(os.urandom(16))}
        t = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})
        out.append("Bearer " + (t.decode() if isinstance(t, bytes) else t))
    return out


def main():
    machine = sl.Machine()
    t_all = time.time()
    s = sl.Server()
    os.makedirs(s.p("htdocs", LOCATION.strip("/")), exist_ok=True)
    with open(s.p("htdocs", LOCATION.strip("/"), "f.txt"), "w") as f:
        f.write(("mod_auth_jwt bench static file -- " + "x" * 100)[:99] + "\n")
    points = []
    try:
        for n in COUNTS:
            issuers, loc = make_issuers(s, n)
            cached, fresh = mint(issuers, CACHED), mint(issuers, FRESH)
            s.start(extra=loc)
            sl.preflight(s, PATH, cached)
            sl.preflight(s, PATH, fresh)
            # every issuer's tokens must pass, not only the first and last
            for v in cached[:n]:
                st, body = s.http("GET", PATH, {"Authorization": v})
                if st != 200:
                    br.die("pre-flight: a token of one of %d issuers answered %d: %s\n%s"
                           % (n, st, body[:200], s.log_tail()))
            sl.say("scale: point %d issuers (httpd pid %d)" % (n, s.b.pid))
            pc = sl.measure(s, PATH, s.creds("iss-cached", cached),
                            "%d issuers, %d tokens" % (n, CACHED), ntokens=CACHED)
            pf = sl.measure(s, PATH, s.creds("iss-fresh", fresh),
                            "%d issuers, %d tokens" % (n, FRESH), ntokens=FRESH)
            s.stop()
            points.append((n, pc, pf))
    finally:
        s.cleanup()

    print("### Trusted issuers: 1, 10, 100\n")
    print("Method: one httpd per point (bench/run's configuration); location %s trusts N "
          "issuers, each `AuthJWTTrustedIssuer https://issuer-NNN.bench.example "
          "file:issuer-NNN.jwks` (a JWK Set file with one HS256 `oct` key, kid k<i>: a "
          "cheap signature, so the issuers' cost is not hidden behind RSA). Tokens "
          "(PyJWT, `iss`, `kid`, 1 h lifetime) are spread round-robin over the N issuers "
          "and cycled by bench/run's wrk Lua script: %d tokens (verify-cache hits after the "
          "warm-up) and %d (more than the 4,096-slot verify cache: each request verifies "
          "its HMAC with its issuer's key). %s; `vs /open` is the median of the row's req/s "
          "over the /open run just before it; hit rate from auth-jwt-metrics. Target: the "
          "same cost from 1 to 100 issuers. Command: `bench/scale issuers`."
          % (LOCATION, CACHED, FRESH, sl.wrk_line()))
    print()
    print(machine.line() + " Section took %.0f s." % (time.time() - t_all))
    print()
    rows = []
    for n, pc, pf in points:
        for pt, m in ((pc, CACHED), (pf, FRESH)):
            rows.append([str(n), "{:,}".format(m),
                         "%.0f" % pt.rps_med if pt.rps else "FAILED",
                         sl.fmt_ratio(pt.ratio), pt.ratio_range(), pt.hit_rate(),
                         "%.1f → %.1f" % (sl.mib(pt.rss_before[0]), sl.mib(pt.rss_after[0])),
                         pt.drift(), pt.errors_text()])
    print(sl.table(["issuers", "tokens", "req/s", "vs /open", "pairs min–max",
                    "verify hit rate", "children RSS MiB", "MiB per 1M req", "non-2xx"], rows))
    print()
    return 0 if all(pc.ok() and pf.ok() for _, pc, pf in points) else 1


if __name__ == "__main__":
    sys.exit(main())
