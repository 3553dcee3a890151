"""A graceful restart (`apachectl -k graceful`) in the middle of load: the
old children finish what they hold, the new ones reload the revocation table
from the store, and no request fails (no 5xx, no dropped connection), no user
and no revocation is lost."""

import threading
import time

import pyhttpd
from test_200_revocation import SESSION_CONFIG

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG

# more clients than the test server's MaxRequestWorkers (32) minus
# MinSpareThreads: httpd says so (its advice, not a failure)
HTTPD_EXPECTED_LOG = [r"AH10159: server is within MinSpareThreads",
                      r"AH00484: server reached MaxRequestWorkers"]

THREADS = 8
GRACEFULS = 5


class Load:
    def __init__(self, httpd):
        self.httpd = httpd
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = {}
        self.errors = []
        self.created = {}           # username -> id
        self.revoked = []           # tokens logged out
        self.kept = []              # (username, token) never logged out

    def count(self, what, status):
        with self.lock:
            self.statuses[(what, status)] = self.statuses.get((what, status), 0) + 1

    def step(self, i, n):
        s = self.httpd
        name = f"{self.prefix}-{i}-{n}"
        r = s.post("/api/users", json_body={"username": name, "password": "secret-pw"})
        self.count("register", r.status)
        if r.status != 201:
            return
        with self.lock:
            self.created[name] = r.json()["id"]
        r = s.post("/auth/login", json_body={"username": name, "password": "secret-pw"})
        self.count("login", r.status)
        if r.status != 200:
            return
        token = r.json()["auth_token"]
        r = s.get("/api/resource", bearer=token)
        self.count("resource", r.status)
        r = s.get("/api/token", bearer=token)
        self.count("renew", r.status)
        if n % 2:
            r = s.post("/auth/logout", bearer=token)
            self.count("logout", r.status)
            if r.status == 200:
                with self.lock:
                    self.revoked.append(token)
        else:
            with self.lock:
                self.kept.append((name, token))

    def worker(self, i):
        n = 0
        while not self.stop.is_set():
            try:
                self.step(i, n)
            except Exception as e:       # noqa: BLE001 - a dropped connection is a failure
                with self.lock:
                    self.errors.append(repr(e))
            n += 1

    def run(self, during):
        self.prefix = pyhttpd.unique_name("gr")
        threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        try:
            during()
        finally:
            self.stop.set()
            for t in threads:
                t.join(60)


def test_graceful_under_load(httpd):
    load = Load(httpd)
    before = httpd.error_log.read_all().count("resuming normal operations")

    def during():
        for _ in range(GRACEFULS):
            time.sleep(1.0)
            httpd.graceful()
        time.sleep(1.0)

    load.run(during)
    after = httpd.error_log.read_all().count("resuming normal operations")
    print(f"\n[graceful] {after - before} graceful restarts; requests by (kind, status): "
          f"{sorted(load.statuses.items())}; users {len(load.created)}, "
          f"logouts {len(load.revoked)}")
    assert after - before == GRACEFULS
    assert not load.errors, load.errors[:5]
    assert all(st < 500 for (_, st) in load.statuses), load.statuses
    bad = {k: v for k, v in load.statuses.items()
           if k[1] != {"register": 201, "login": 200, "resource": 200, "renew": 200,
                       "logout": 200}[k[0]]}
    assert not bad, bad
    assert len(load.created) >= THREADS
    # no user lost: every 201 has its row, with its id
    rows = dict(httpd.sql("SELECT username, id FROM users WHERE username LIKE ?",
                          (load.prefix + "-%",)))
    assert rows == load.created
    # no revocation lost: every logged-out token is refused by the new
    # generation of children, every other one still accepted
    for token in load.revoked:
        r = httpd.get("/api/resource", bearer=token)
        assert r.status == 401, r
    for name, token in load.kept[:20]:
        r = httpd.get("/api/resource", bearer=token)
        assert r.status == 200, r
    jtis = {pyhttpd.token_claims(t)["jti"] for t in load.revoked}
    stored = {row[0] for row in httpd.sql("SELECT jti FROM revoked_tokens")}
    assert jtis <= stored
