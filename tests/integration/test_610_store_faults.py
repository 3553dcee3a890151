"""Store faults (docs/reference.md §2 failure responses, §6): the SQLite file read-only,
gone, locked by another writer past the busy timeout, or corrupted.  Each
request that needs the store answers 503 (logged with the module's tag);
requests with a token, which need no store, keep working; and everything
recovers by itself once the fault is cleared, without a restart.

Most run with `DBDPersist Off` (a fresh connection per request), where every
fault is seen at once.  With persistent connections (mod_dbd's default) an
open SQLite connection keeps the file it opened: a file deleted or replaced
underneath it goes unnoticed by that connection (it keeps working on the old
inode), so only the faults that change the file in place -- the lock, the
read-only mode (for writes) and a corrupted header -- are tested there too
(TestPersistent)."""

import contextlib
import os
import pwd
import shutil
import sqlite3
import threading
import time

import pytest

import pyhttpd
from test_200_revocation import SESSION_CONFIG

BASE_CONFIG = pyhttpd.API_CONFIG + pyhttpd.FAST_BCRYPT + SESSION_CONFIG
HTTPD_CONFIG = BASE_CONFIG + "DBDPersist Off\n"

# what the module logs when the store fails (AJ001-AJ004, auth_jwt_dbd.c),
# what mod_dbd logs when it cannot open a connection, and the revocation
# refresh noticing the store is gone (it keeps the last known state)
STORE_DOWN_LOG = [r"AJ00[1-4]: store unavailable", r"\[dbd:error\]", r"\[dbd:crit\]",
                  r"AJ1\d\d: .*(revocation|store)"]
HTTPD_EXPECTED_LOG = STORE_DOWN_LOG

# apr_dbd_sqlite3 gives up on a lock after about 5.6 s (README: SQLite locking)
LOCK_HOLD = 7.0


def setup_user(httpd):
    name, pw, uid = pyhttpd.register(httpd)
    token = pyhttpd.get_token(httpd, name, pw)
    return name, pw, uid, token


def uncached_user(httpd):
    """A user whose password was never checked, so no check of it is in the
    Basic credential cache (AuthJWTBasicCacheTTL): its login needs the store."""
    name, pw, _ = pyhttpd.register(httpd)
    return name, pw


def db_files(httpd):
    return [httpd.db_path + s for s in ("", "-wal", "-shm")]


def checkpoint(httpd):
    """Moves everything from the WAL into the main file (so a fault in the
    main file is what every reader sees)."""
    httpd.sql("PRAGMA wal_checkpoint(TRUNCATE)")


def store_writes_refused(httpd, token):
    """Registration, logout and a password change answer 503 (with JSON)."""
    r = httpd.post("/api/users", json_body={"username": pyhttpd.unique_name("down"),
                                            "password": "secret-pw"})
    assert r.status == 503, r
    assert r.json()["error"]
    r = httpd.post("/auth/logout", bearer=token)
    assert r.status == 503, r
    r = httpd.post("/auth/password", bearer=token,
                   json_body={"old_password": "secret-pw", "new_password": "other-pw"})
    assert r.status == 503, r


def tokens_still_work(httpd, name, token):
    r = httpd.get("/api/resource", bearer=token)
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {name}!"}
    r = httpd.get("/auth/status", bearer=token)
    assert r.status == 200, r


def everything_works(httpd, name, pw, token):
    """After the fault: writes, reads, passwords and tokens, no restart."""
    new_name, new_pw, _ = pyhttpd.register(httpd)
    assert pyhttpd.get_token(httpd, new_name, new_pw)
    r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
    assert r.status == 200, r
    tokens_still_work(httpd, name, token)
    assert httpd.post("/auth/logout", bearer=token).status == 200
    assert httpd.get("/api/resource", bearer=token).status == 401


def writable(httpd):
    """Clears the read-only fault.  SQLite creates the -wal and -shm files
    with the main file's mode, so a database opened while read-only has
    read-only companions: write access comes back for all three."""
    for path in db_files(httpd):
        if os.path.exists(path):
            os.chmod(path, 0o644)


def store_lines(httpd):
    return [ln for ln in httpd.error_log.read_since_mark().splitlines()
            if "AJ00" in ln and "store unavailable" in ln]


def test_read_only_file(httpd):
    name, pw, uid, token = setup_user(httpd)
    checkpoint(httpd)
    httpd.error_log.mark()
    os.chmod(httpd.db_path, 0o444)
    try:
        store_writes_refused(httpd, token)
        tokens_still_work(httpd, name, token)
        # reading still works: a password login is answered
        r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
        assert r.status in (200, 503), r
        # one tagged line per failed request, naming what failed
        lines = store_lines(httpd)
        assert len(lines) == 3, lines
        for what, ln in zip(("adding a user", "recording a logout", "changing a password"),
                            lines):
            assert f"AJ004: store unavailable: {what} failed: " in ln, lines
    finally:
        writable(httpd)
    everything_works(httpd, name, pw, token)


def test_file_deleted(httpd):
    """The database file gone and not re-creatable (its directory not
    writable).  (In a writable directory SQLite creates an empty file and the
    module the schema, as on first use: registration works again and the old
    users are gone -- that is the database the administrator left.)"""
    name, pw, uid, token = setup_user(httpd)
    other, other_pw = uncached_user(httpd)
    checkpoint(httpd)
    saved = {}
    for path in db_files(httpd):
        if os.path.exists(path):
            saved[path] = path + ".away"
            os.rename(path, saved[path])
    os.chmod(httpd.data_dir, 0o550)
    httpd.error_log.mark()
    try:
        store_writes_refused(httpd, token)
        r = httpd.post("/auth/login", json_body={"username": other, "password": other_pw})
        assert r.status == 503, r
        assert r.json()["status"] == "fail"
        r = httpd.get("/api/resource", auth=(other, other_pw))
        assert r.status == 503, r
        # a password checked a moment ago is still in the Basic cache
        assert httpd.get("/api/resource", auth=(name, pw)).status == 200
        tokens_still_work(httpd, name, token)
        assert store_lines(httpd)
    finally:
        os.chmod(httpd.data_dir, 0o750)
        for path, away in saved.items():
            os.rename(away, path)
    everything_works(httpd, name, pw, token)


@contextlib.contextmanager
def write_lock(httpd):
    """Another writer holds the database (BEGIN IMMEDIATE) until the block ends."""
    con = sqlite3.connect(httpd.db_path, timeout=15, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE users SET claims = claims WHERE id = -1")
        yield
    finally:
        con.execute("ROLLBACK")
        con.close()


def locked_checks(httpd, name, pw, token):
    results = {}

    def register():
        t0 = time.time()
        r = httpd.post("/api/users", json_body={"username": pyhttpd.unique_name("locked"),
                                                "password": "secret-pw"})
        results["register"] = (r, time.time() - t0)

    with write_lock(httpd):
        t = threading.Thread(target=register)
        t.start()
        # while the writer waits: tokens and reads go on (WAL readers never block)
        time.sleep(0.5)
        tokens_still_work(httpd, name, token)
        r = httpd.post("/auth/login", json_body={"username": name, "password": pw})
        assert r.status == 200, r
        t.join(LOCK_HOLD + 10)
        assert not t.is_alive()
    r, took = results["register"]
    assert r.status == 503, r
    assert 4.0 < took < LOCK_HOLD + 5, took
    lines = store_lines(httpd)
    assert len(lines) == 1, lines
    assert "AJ004: store unavailable: adding a user failed: " in lines[0], lines
    # the driver's own words, not what a follow-up look-up left behind
    assert "database is locked" in lines[0] and "not an error" not in lines[0], lines


def test_locked_past_busy_timeout(httpd):
    name, pw, uid, token = setup_user(httpd)
    httpd.error_log.mark()
    locked_checks(httpd, name, pw, token)
    everything_works(httpd, name, pw, token)


def test_lock_released_in_time(httpd):
    """A writer that finishes within the timeout only delays the request."""
    name, pw, uid, token = setup_user(httpd)
    with write_lock(httpd):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", httpd.post(
            "/api/users", json_body={"username": pyhttpd.unique_name("late"),
                                     "password": "secret-pw"})))
        t.start()
        time.sleep(1.0)
    t.join(15)
    assert out["r"].status == 201, out["r"]


HEADER_LEN = 100        # the SQLite database header


@contextlib.contextmanager
def corrupted_header(httpd):
    checkpoint(httpd)
    with open(httpd.db_path, "r+b") as f:
        saved = f.read(HEADER_LEN)
        f.seek(0)
        f.write(b"\xde\xad\xbe\xef" * (HEADER_LEN // 4))
    try:
        yield
    finally:
        with open(httpd.db_path, "r+b") as f:
            f.write(saved)


def corrupted_checks(httpd, name, pw, token, other, other_pw):
    store_writes_refused(httpd, token)
    r = httpd.post("/auth/login", json_body={"username": other, "password": other_pw})
    assert r.status == 503, r
    tokens_still_work(httpd, name, token)
    lines = store_lines(httpd)
    assert lines
    assert all("not a database" in ln or "malformed" in ln or "corrupt" in ln
               for ln in lines), lines


def corrupted_header_case(httpd):
    name, pw, uid, token = setup_user(httpd)
    other, other_pw = uncached_user(httpd)
    httpd.error_log.mark()
    with corrupted_header(httpd):
        corrupted_checks(httpd, name, pw, token, other, other_pw)
    everything_works(httpd, name, pw, token)


def test_corrupted_header(httpd):
    corrupted_header_case(httpd)


def test_no_restart_happened(httpd):
    """All of the above recovered in the same server: one start only."""
    assert httpd.error_log.read_all().count("resuming normal operations") == 1


class TestPersistent:
    """mod_dbd's default persistent connections: the faults that change the
    file in place are seen, and recovered from, on pooled connections too."""

    HTTPD_CONFIG = BASE_CONFIG

    def test_locked(self, httpd):
        name, pw, uid, token = setup_user(httpd)
        httpd.error_log.mark()
        locked_checks(httpd, name, pw, token)
        everything_works(httpd, name, pw, token)

    def test_read_only_writes(self, httpd):
        name, pw, uid, token = setup_user(httpd)
        checkpoint(httpd)
        os.chmod(httpd.db_path, 0o444)
        try:
            # an open connection opened the file read-write before the chmod:
            # it may keep writing; a new connection cannot.  Either way no 5xx
            # other than 503, and no crash.
            r = httpd.post("/api/users", json_body={"username": pyhttpd.unique_name("ro"),
                                                    "password": "secret-pw"})
            assert r.status in (201, 503), r
            tokens_still_work(httpd, name, token)
        finally:
            writable(httpd)
        everything_works(httpd, name, pw, token)

    def test_corrupted_header(self, httpd):
        corrupted_header_case(httpd)



class TestReadOnlyAtStart:
    """The database read-only (file and directory) when a graceful restart
    opens the new children's pooled connections: SQLite opens them
    read-only.  Making the file writable again is not enough for those
    children: SQLite's unix VFS shares one mapping of the -shm file per
    database per process, opened read-only here, and every connection the
    process opens to that file later shares it, until all of them are
    closed.  mod_dbd keeps pooled connections open and cannot be told to
    close them (apr_dbd_check_conn only checks that the handle is open;
    closing one under it with apr_dbd_close leaves a dangling handle that it
    would hand out and close again).  So the documented remedy is a graceful
    restart after the fix (deployment.md, "What failures do to users")."""

    HTTPD_CONFIG = BASE_CONFIG
    HTTPD_EXPECTED_LOG = STORE_DOWN_LOG

    def read_only_restart(self, httpd):
        name, pw, uid, token = setup_user(httpd)
        checkpoint(httpd)
        data_dir = os.path.dirname(httpd.db_path)
        for path in db_files(httpd):
            if os.path.exists(path):
                os.chmod(path, 0o444)
        os.chmod(data_dir, 0o555)
        try:
            httpd.graceful()
            httpd.error_log.mark()
            for _ in range(4):
                assert self.register(httpd) == 503
            tokens_still_work(httpd, name, token)
            log = httpd.error_log.read_since_mark()
            assert "attempt to write a readonly database" in log, log[-2000:]
        finally:
            os.chmod(data_dir, 0o755)
            writable(httpd)
        return name, pw, token

    @staticmethod
    def register(httpd):
        return httpd.post("/api/users", json_body={"username": pyhttpd.unique_name("ro"),
                                                   "password": "secret-pw"}).status

    @pytest.mark.fresh_server
    def test_graceful_restart_recovers(self, httpd):
        name, pw, token = self.read_only_restart(httpd)
        httpd.graceful()
        assert [self.register(httpd) for _ in range(8)] == [201] * 8
        everything_works(httpd, name, pw, token)

    @pytest.mark.fresh_server
    @pytest.mark.xfail(strict=True, reason="SQLite connections opened read-only stay so "
                       "while the child keeps any of them open (see the class docstring)")
    def test_writable_again_without_restart(self, httpd):
        try:
            self.read_only_restart(httpd)
            assert [self.register(httpd) for _ in range(8)] == [201] * 8
        finally:
            # the remedy, so that no later test inherits read-only children
            # (the server pool hands this server on to the next file whose
            # configuration is the same)
            httpd.graceful()
