"""A bounded soak: SOAK_SECONDS (default 60) of a mixed workload -- register,
login, token with the password, resource, renew, logout, now and then
several clients racing for one name -- from many concurrent clients, over
several httpd children and one SQLite file.  Then the database is checked:
every 201 has its row (with its id), no username twice, every logout
honoured (stored and refused); and not one 5xx."""

import os
import random
import threading
import time

import pyhttpd
from test_200_revocation import SESSION_CONFIG

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG

# more clients than the test server's MaxRequestWorkers (32) minus
# MinSpareThreads: httpd says so (its advice, not a failure)
HTTPD_EXPECTED_LOG = [r"AH10159: server is within MinSpareThreads",
                      r"AH00484: server reached MaxRequestWorkers"]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = 16
RACERS = 4              # clients that register the same name at once, now and then

EXPECTED = {"register": 201, "login": 200, "token": 200, "resource": 200, "renew": 200,
            "logout": 200, "revoked": 401}


class Soak:
    def __init__(self, httpd):
        self.s = httpd
        self.prefix = pyhttpd.unique_name("soak")
        self.lock = threading.Lock()
        self.statuses = {}
        self.unexpected = []
        self.errors = []
        self.created = {}
        self.revoked = []
        self.race_results = {}
        self.deadline = time.time() + SOAK_SECONDS
        self.race_barrier = threading.Barrier(RACERS)

    def note(self, what, r, expected=None):
        expected = EXPECTED[what] if expected is None else expected
        with self.lock:
            self.statuses[(what, r.status)] = self.statuses.get((what, r.status), 0) + 1
            if r.status != expected:
                self.unexpected.append((what, r.status, r.body[:200]))
        return r.status == expected

    def session(self, i, n, rnd):
        s = self.s
        name = f"{self.prefix}-{i}-{n}"
        pw = f"pw-{rnd.randrange(10**9)}"
        r = s.post("/api/users", json_body={"username": name, "password": pw})
        if not self.note("register", r):
            return
        with self.lock:
            self.created[name] = r.json()["id"]
        r = s.post("/auth/login", json_body={"username": name, "password": pw})
        if not self.note("login", r):
            return
        token = r.json()["auth_token"]
        if rnd.random() < 0.5:
            r = s.get("/api/token", auth=(name, pw))
            if self.note("token", r):
                token = r.json()["token"]
        for _ in range(rnd.randrange(1, 4)):
            self.note("resource", s.get("/api/resource", bearer=token))
        r = s.get("/api/token", bearer=token)
        if self.note("renew", r):
            token = r.json()["token"]
        if rnd.random() < 0.6:
            if self.note("logout", s.post("/auth/logout", bearer=token)):
                with self.lock:
                    self.revoked.append(token)
                self.note("revoked", s.get("/api/resource", bearer=token))

    def race(self, i, round_no):
        """RACERS clients register one name at once: exactly one wins."""
        name = f"{self.prefix}-race-{round_no}"
        try:
            self.race_barrier.wait(max(0.1, min(10.0, self.deadline - time.time())))
        except threading.BrokenBarrierError:
            return
        r = self.s.post("/api/users", json_body={"username": name, "password": "secret-pw"})
        with self.lock:
            self.statuses[("race", r.status)] = self.statuses.get(("race", r.status), 0) + 1
            self.race_results.setdefault(name, []).append(r.status)
            if r.status == 201:
                self.created[name] = r.json()["id"]

    def client(self, i):
        rnd = random.Random(i)
        n = 0
        while time.time() < self.deadline:
            try:
                if i < RACERS and n % 10 == 9:
                    self.race(i, n // 10)
                else:
                    self.session(i, n, rnd)
            except Exception as e:       # noqa: BLE001 - reported below
                with self.lock:
                    self.errors.append(repr(e))
            n += 1


def test_soak(httpd):
    soak = Soak(httpd)
    t0 = time.time()
    threads = [threading.Thread(target=soak.client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SOAK_SECONDS + 120)
    took = time.time() - t0
    total = sum(soak.statuses.values())
    print(f"\n[soak] {took:.0f} s, {CLIENTS} clients, {total} requests "
          f"({total / took:.0f}/s); by (kind, status): {sorted(soak.statuses.items())}; "
          f"users {len(soak.created)}, logouts {len(soak.revoked)}, "
          f"name races {len(soak.race_results)}, errors {len(soak.errors)}")
    assert not soak.errors, soak.errors[:5]
    assert not [k for k in soak.statuses if k[1] >= 500], soak.statuses
    assert not soak.unexpected, soak.unexpected[:10]
    for name, sts in soak.race_results.items():
        if len(sts) == RACERS:
            assert sorted(sts) == [201] + [400] * (RACERS - 1), (name, sts)
    # every 201 has its row, with the id it was given
    rows = httpd.sql("SELECT username, id FROM users WHERE username LIKE ?",
                     (soak.prefix + "-%",))
    assert dict(rows) == soak.created
    # no username twice (the UNIQUE constraint held under load)
    assert httpd.sql("SELECT username, COUNT(*) FROM users GROUP BY username "
                     "HAVING COUNT(*) > 1") == []
    # every logout honoured: recorded in the store and refused now
    jtis = {pyhttpd.token_claims(t)["jti"] for t in soak.revoked}
    stored = {row[0] for row in httpd.sql("SELECT jti FROM revoked_tokens")}
    assert jtis <= stored, len(jtis - stored)
    for token in random.Random(0).sample(soak.revoked, min(200, len(soak.revoked))):
        r = httpd.get("/api/resource", bearer=token)
        assert r.status == 401, r
