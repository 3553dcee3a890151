"""Concurrent registrations and token requests from many threads, served by
several children over one SQLite file: no 5xx, nothing lost, exactly one
winner per name (docs/reference.md §6)."""

import threading

import jwt

import pyhttpd

HTTPD_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT

THREADS = 16
PER_THREAD = 4


def run_threads(n, fn):
    results = [None] * n
    errors = []

    def wrap(i):
        try:
            results[i] = fn(i)
        except Exception as e:          # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def test_concurrent_registrations_and_tokens(httpd):
    prefix = pyhttpd.unique_name("conc")

    def work(i):
        out = []
        for j in range(PER_THREAD):
            name = f"{prefix}-{i}-{j}"
            r = httpd.post("/api/users?conc", json_body={"username": name,
                                                         "password": "secret-pw"})
            out.append((name, r.status, r.json() if r.status == 201 else None))
            t = httpd.get("/api/token?conc", auth=(name, "secret-pw"))
            out.append((name, t.status, t.json() if t.status == 200 else None))
        return out

    results = [x for chunk in run_threads(THREADS, work) for x in chunk]
    statuses = [s for _, s, _ in results]
    assert all(s < 500 for s in statuses), [(n, s, b) for n, s, b in results if s >= 300]
    created = [(n, b) for n, s, b in results if s == 201]
    assert len(created) == THREADS * PER_THREAD, statuses
    ids = [b["id"] for _, b in created]
    assert len(set(ids)) == len(ids)
    tokens = [(n, b["token"]) for n, s, b in results if s == 200]
    assert len(tokens) == THREADS * PER_THREAD, statuses
    for n, tok in tokens:
        c = jwt.decode(tok, httpd.secret, algorithms=["HS256"])
        assert c["name"] == n
    # every 201 has its row, with the id it was given
    rows = dict(httpd.sql("SELECT username, id FROM users WHERE username LIKE ?",
                          (prefix + "-%",)))
    assert rows == {n: b["id"] for n, b in created}
    # more than one child served them
    pids = {ln.rsplit(" ", 1)[1] for ln in httpd.access_log_lines("?conc", 2 * len(created))}
    assert len(pids) >= 2, pids


def test_same_name_race(httpd):
    name = pyhttpd.unique_name("race")

    def work(i):
        r = httpd.post("/api/users", json_body={"username": name, "password": f"pw-{i:04d}xx"})
        return r.status

    statuses = run_threads(THREADS, work)
    assert sorted(statuses) == [201] + [400] * (THREADS - 1), statuses
    assert httpd.sql("SELECT COUNT(*) FROM users WHERE username = ?", (name,))[0][0] == 1


def test_concurrent_token_use(httpd):
    name, pw, _ = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)

    def work(i):
        got = []
        for _ in range(10):
            r = httpd.get("/api/resource", bearer=token) if i % 2 else \
                httpd.get("/api/resource", auth=(name, pw))
            got.append((r.status, r.body))
        return got

    for chunk in run_threads(THREADS, work):
        for status, body in chunk:
            assert status == 200
            assert body.strip() == f'{{"data": "Hello, {name}!"}}'.encode()


FIRST_USE_ROUNDS = 4


def test_first_use_of_empty_database(httpd_factory):
    """The tables are created on first use (docs/reference.md §6): when that first use is
    many requests at once, in several children, none of them fails."""
    for rnd in range(FIRST_USE_ROUNDS):
        s = httpd_factory(name=f"first-use-{rnd}",
                          config=pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT)
        s.start()

        def work(i, s=s):
            r = s.post("/api/users", json_body={"username": f"first{i}",
                                                "password": "secret-pw"})
            return r.status, r.text

        results = run_threads(THREADS, work)
        assert [st for st, _ in results] == [201] * THREADS, \
            [(st, tx) for st, tx in results if st != 201]
        bad = pyhttpd.ErrorLog.bad_lines(s.error_log.read_all())
        assert not bad, bad
        s.error_log.mark()
        pyhttpd.stop_and_check(s, [])
        assert s.sql("SELECT COUNT(*) FROM users")[0][0] == THREADS
