"""htjwt on its own (no httpd): key generation, signing and verifying with
every algorithm this build supports, the terminal password prompt, the
database commands on a scratch SQLite file, and the usage errors.

`make htjwt-test` runs this against build/asan/htjwt (ASan+UBSan); HTJWT
names another binary.  The server side is tests/integration/test_400_htjwt.py."""

import base64
import hashlib
import json
import os
import pty
import select
import signal
import sqlite3
import stat
import subprocess
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HTJWT = os.environ.get("HTJWT", os.path.join(REPO, "build", "htjwt"))

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"]
CURVES = {"ES256": "prime256v1", "ES384": "secp384r1", "ES512": "secp521r1"}


@pytest.fixture(scope="module", autouse=True)
def built():
    if not os.access(HTJWT, os.X_OK):
        pytest.fail(f"{HTJWT} is not built: run `make`", pytrace=False)


def run(*args, stdin=None, cwd=None):
    return subprocess.run([HTJWT, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- keygen ------------------------------------------------------------------

@pytest.mark.parametrize("alg,chars", [("HS256", 64), ("HS384", 64), ("HS512", 88)])
def test_keygen_hmac(tmp_path, alg, chars):
    key = tmp_path / "k"
    p = run("keygen", alg, "-o", str(key))
    assert p.returncode == 0, p
    data = key.read_bytes()
    assert len(data) == chars and b"\n" not in data
    assert set(data.decode()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_")
    # at least the hash length in decoded bytes of randomness
    assert len(b64url_decode(data.decode())) >= {"HS256": 32, "HS384": 48, "HS512": 64}[alg]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert data.decode() not in p.stdout + p.stderr
    assert f"AuthJWTSigningKey {alg} file:{key}" in p.stderr
    # no overwrite without -f; -f replaces it (new secret, still 0600)
    p = run("keygen", alg, "-o", str(key))
    assert p.returncode == 1 and "exists" in p.stderr
    assert key.read_bytes() == data
    os.chmod(key, 0o644)
    assert run("keygen", alg, "-o", str(key), "-f").returncode == 0
    assert key.read_bytes() != data
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # to stdout: the secret and a newline
    p = run("keygen", alg)
    assert p.returncode == 0 and len(p.stdout) == chars + 1
    assert run("keygen", alg, "-p", str(tmp_path / "pub")).returncode == 2


# One per key type (RSA keys are slow to make under ASan; RS* and PS* share them).
@pytest.mark.parametrize("alg", ["RS256", "ES256", "ES384", "ES512", "EdDSA"])
def test_keygen_asymmetric(tmp_path, alg):
    key, pub = tmp_path / "k.pem", tmp_path / "p.pem"
    p = run("keygen", alg, "-o", str(key), "-p", str(pub))
    assert p.returncode == 0, p
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pub.stat().st_mode) == 0o644
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in p.stdout + p.stderr
    text = subprocess.run(["openssl", "pkey", "-in", str(key), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    if alg[:2] in ("RS", "PS"):
        assert "3072 bit" in text
    elif alg in CURVES:
        assert CURVES[alg] in text or {"prime256v1": "P-256", "secp384r1": "P-384",
                                       "secp521r1": "P-521"}[CURVES[alg]] in text
    else:
        assert "ED25519" in text
    # the public key goes to stdout without -p; nothing is overwritten without -f
    p = run("keygen", alg, "-o", str(tmp_path / "k2.pem"))
    assert p.returncode == 0 and p.stdout.startswith("-----BEGIN PUBLIC KEY-----"), p
    assert run("keygen", alg, "-o", str(key), "-p", str(tmp_path / "p3.pem")).returncode == 1
    assert run("keygen", alg, "-o", str(tmp_path / "k4.pem"), "-p", str(pub)).returncode == 1
    assert not (tmp_path / "k4.pem").exists()


def test_keygen_errors(tmp_path):
    assert run("keygen").returncode == 2
    assert run("keygen", "none").returncode == 2
    assert run("keygen", "hs256").returncode == 2
    assert run("keygen", "HS256", "-o", str(tmp_path / "x"), "-p", str(tmp_path / "x")) \
        .returncode == 2
    assert run("keygen", "HS256", "-o", str(tmp_path / "nodir" / "x")).returncode == 1


# ---- sign / verify / decode with every algorithm -------------------------------

@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """(private, public) key files per key type, made once."""
    made = {}

    def get(alg):
        kind = "RSA" if alg[:2] in ("RS", "PS") else alg
        if kind not in made:
            d = tmp_path_factory.mktemp(kind)
            key, pub = d / "k", d / "p"
            args = ["keygen", alg, "-o", str(key)]
            if not alg.startswith("HS"):
                args += ["-p", str(pub)]
            assert run(*args).returncode == 0
            made[kind] = (key, pub)
        return made[kind]
    return get


@pytest.mark.parametrize("alg", ALGS)
def test_sign_verify_roundtrip(keys, alg):
    key, pub = keys(alg)
    p = run("sign", "-k", str(key), "-a", alg, "-i", "k1", "-s", "svc", "-n", "robot",
            "--iss", "https://issuer", "--aud", "api", "-C", '{"scope": "read"}')
    if p.returncode == 10:
        pytest.skip(f"{alg} not supported by this build")
    assert p.returncode == 0, p
    token = p.stdout.strip()
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": alg, "typ": "JWT", "kid": "k1"}
    verify_key = str(key if alg.startswith("HS") else pub)
    p = run("verify", "-k", verify_key, "-a", alg, "--iss", "https://issuer", "--aud", "api",
            token)
    assert p.returncode == 0, p
    claims = json.loads(p.stdout)
    assert claims["sub"] == "svc" and claims["name"] == "robot" and claims["scope"] == "read"
    assert claims["exp"] - claims["iat"] == 600 and len(claims["jti"]) >= 22
    # policy refusals
    assert run("verify", "-k", verify_key, "-a", alg, "--iss", "other", token).returncode == 1
    assert run("verify", "-k", verify_key, "-a", alg, "--aud", "other", token).returncode == 1
    # the algorithm comes from -a, never from the token
    other = "HS256" if alg != "HS256" else "HS512"
    assert run("verify", "-k", verify_key, "-a", other, token).returncode in (1, 7)
    p = run("decode", "-k", verify_key, "-a", alg, token)
    assert p.returncode == 0 and "Signature: valid" in p.stdout, p


def test_verify_expired_and_leeway(tmp_path):
    key = tmp_path / "k"
    run("keygen", "HS256", "-o", str(key))
    token = run("sign", "-k", str(key), "-a", "HS256", "-s", "svc", "-l", "1").stdout.strip()
    time.sleep(2.1)
    p = run("verify", "-k", str(key), "-a", "HS256", token)
    assert p.returncode == 1 and "expired" in p.stdout
    assert run("verify", "-k", str(key), "-a", "HS256", "--leeway", "30", token).returncode == 0
    p = run("decode", "-k", str(key), "-a", "HS256", token)
    assert p.returncode == 0 and "Signature: valid" in p.stdout and "expired" in p.stdout


def test_lifetime_units(tmp_path):
    key = tmp_path / "k"
    run("keygen", "HS256", "-o", str(key))
    for arg, secs in (("90", 90), ("90s", 90), ("2m", 120), ("3h", 10800), ("1d", 86400)):
        token = run("sign", "-k", str(key), "-a", "HS256", "-s", "s", "-l", arg).stdout
        c = json.loads(b64url_decode(token.strip().split(".")[1]))
        assert c["exp"] - c["iat"] == secs
    for bad in ("0", "-5", "1y", "x", "3651d", "", "+5", " 5", "5 ", "10min", "1H",
                "99999999999999999999"):
        p = run("sign", "-k", str(key), "-a", "HS256", "-s", "s", "-l", bad)
        assert p.returncode == 2, bad
        assert "10m, 1h, 14d" in p.stderr, p.stderr


def test_leeway_units(tmp_path):
    """--leeway takes durations by the same rule as -l and the directives."""
    key = tmp_path / "k"
    run("keygen", "HS256", "-o", str(key))
    token = run("sign", "-k", str(key), "-a", "HS256", "-s", "svc", "-l", "1").stdout.strip()
    time.sleep(2.1)
    assert run("verify", "-k", str(key), "-a", "HS256", "--leeway", "1m", token).returncode == 0
    assert run("verify", "-k", str(key), "-a", "HS256", "--leeway", "0s", token).returncode == 1
    for bad in ("2h", "1 m", "-1", "1w"):
        p = run("verify", "-k", str(key), "-a", "HS256", "--leeway", bad, token)
        assert p.returncode == 2, bad
        assert "10m, 1h, 14d" in p.stderr, p.stderr


def test_sign_refusals(tmp_path):
    key = tmp_path / "k"
    run("keygen", "HS256", "-o", str(key))
    base = ["sign", "-k", str(key), "-a", "HS256"]
    assert run(*base).returncode == 2                                  # no subject
    assert run(*base, "-s", "a", "-u", "b", "-D", "x").returncode == 2   # both
    assert run(*base, "-u", "b").returncode == 2                       # -u without -D
    assert run(*base, "-s", "12").returncode == 6                      # would be user 12
    assert run(*base, "-s", "a", "-C", '{"iat": 1}').returncode == 6
    assert run(*base, "-s", "a", "-C", "[]").returncode == 6
    assert run(*base, "-s", "a", "-C", json.dumps({"big": "x" * 5000})).returncode == 5
    assert run("sign", "-k", str(key), "-s", "a").returncode == 2       # no -a
    assert run(*base, "-s", "a", "-o", "x").returncode == 2            # not a sign option
    # env:VAR keys work too
    env = dict(os.environ, HTJWT_TEST_SECRET=key.read_text())
    p = subprocess.run([HTJWT, "sign", "-k", "env:HTJWT_TEST_SECRET", "-a", "HS256", "-s", "a"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p
    # a public key cannot sign
    pub = tmp_path / "p"
    run("keygen", "ES256", "-o", str(tmp_path / "es"), "-p", str(pub))
    p = run("sign", "-k", str(pub), "-a", "ES256", "-s", "a")
    assert p.returncode in (7, 10), p


def test_decode_malformed():
    for bad in ("", "a.b", "a.b.c.d", "W10.e30.", "!!!.e30.sig", "e30.e30=.x",
                "eyJhbGciOiJIUzI1NiJ9." + "A" * 9000 + ".x"):
        p = run("decode", bad)
        assert p.returncode in (2, 7), (bad, p)
    # an unsigned token is shown, and never passes a signature check
    p = run("decode", "e30.e30.")
    assert p.returncode == 0 and "not checked" in p.stdout, p
    assert run("decode").returncode == 2
    assert run("decode", "-", stdin="").returncode == 7


# ---- the database commands -------------------------------------------------------

def test_database_commands(tmp_path):
    dbf = str(tmp_path / "users.db")
    assert run(dbf, "list").returncode == 1            # not created by anything but add
    assert run("-b", "-c", "4", dbf, "add", "alice", "alice-pw-1").returncode == 0
    assert run("-b", "-c", "4", dbf, "add", "bob", "bob-pw-123").returncode == 0
    con = sqlite3.connect(dbf)
    rows = con.execute("SELECT username, password_hash, claims FROM users ORDER BY id").fetchall()
    con.close()
    assert [r[0] for r in rows] == ["alice", "bob"]
    assert rows[0][1].startswith("$2y$04$") and rows[0][2] == "{}"
    p = run(dbf, "list")
    assert [line.split("\t")[1] for line in p.stdout.splitlines()] == ["alice", "bob"]
    assert run(dbf, "claims", "alice", '{"role":"admin"}').returncode == 0
    assert json.loads(run(dbf, "claims", "alice").stdout) == {"role": "admin"}
    assert run(dbf, "revoke-all", "alice").returncode == 0
    con = sqlite3.connect(dbf)
    (after,) = con.execute("SELECT tokens_valid_after FROM users WHERE username='alice'") \
        .fetchone()
    con.close()
    assert abs(after - (time.time() + 1)) < 3
    assert run(dbf, "del", "bob").returncode == 0
    assert run(dbf, "del", "bob").returncode == 8
    # a file that is not a database
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite\n" * 100)
    assert run(str(junk), "list").returncode == 7
    # options go before DB; -- lets a password start with '-'
    assert run(dbf, "add", "-b", "carol", "x").returncode == 2
    assert run("-b", "-c", "4", dbf, "add", "--", "carol", "-dash-pw-1").returncode == 0


# ---- refresh token families (docs/reference.md §12) ------------------------------

def _user_id(dbf, name):
    con = sqlite3.connect(dbf)
    (uid,) = con.execute("SELECT id FROM users WHERE username = ?", (name,)).fetchone()
    con.close()
    return uid


def _add_family(dbf, family, user_id, now, revoked_at=None, tokens=2):
    """A family as a password login with refresh tokens leaves it in the store
    (the columns of src/store/aj_store_schema.c): ends in a day, `tokens`
    unused refresh tokens (only their SHA-256 is stored).  Returns its end."""
    end = now + 86400
    con = sqlite3.connect(dbf)
    con.execute("INSERT INTO refresh_families (family, user_id, auth_time, expires_at,"
                " revoked_at) VALUES (?, ?, ?, ?, ?)", (family, user_id, now, end, revoked_at))
    for i in range(tokens):
        digest = hashlib.sha256(f"{family}/{i}".encode()).hexdigest()
        con.execute("INSERT INTO refresh_tokens (hash, family, user_id, expires_at, used_at)"
                    " VALUES (?, ?, ?, ?, NULL)", (digest, family, user_id, now + 3600))
    con.commit()
    con.close()
    return end


def _family_state(dbf, family):
    """(revoked_at, unused tokens, expires_at of its `sid:` revocation or None)"""
    con = sqlite3.connect(dbf)
    (revoked_at,) = con.execute("SELECT revoked_at FROM refresh_families WHERE family = ?",
                                (family,)).fetchone()
    (unused,) = con.execute("SELECT count(*) FROM refresh_tokens WHERE family = ?"
                            " AND used_at IS NULL", (family,)).fetchone()
    row = con.execute("SELECT expires_at FROM revoked_tokens WHERE jti = ?",
                      ("sid:" + family,)).fetchone()
    con.close()
    return revoked_at, unused, row[0] if row else None


def _assert_revoked(dbf, family, end, before):
    revoked_at, unused, sid_until = _family_state(dbf, family)
    assert revoked_at is not None and before <= revoked_at <= time.time() + 1, family
    assert unused == 0, family
    # the module caps the family's access tokens at its end; the row lasts that
    # long plus the largest AuthJWTLeeway (1 h), as when the server revokes one
    assert sid_until == end + 3600, family


def _assert_live(dbf, family):
    assert _family_state(dbf, family) == (None, 2, None), family


def test_revoke_all_revokes_refresh_families(tmp_path):
    dbf = str(tmp_path / "users.db")
    assert run("-b", "-c", "4", dbf, "add", "alice", "alice-pw-1").returncode == 0
    assert run("-b", "-c", "4", dbf, "add", "bob", "bob-pw-123").returncode == 0
    alice, bob = _user_id(dbf, "alice"), _user_id(dbf, "bob")
    now = int(time.time())
    ends = {f: _add_family(dbf, f, alice, now) for f in ("fam-a1", "fam-a2")}
    _add_family(dbf, "fam-old", alice, now - 100, revoked_at=now - 50, tokens=0)
    _add_family(dbf, "fam-b1", bob, now)
    p = run(dbf, "revoke-all", "alice")
    assert p.returncode == 0, p
    # the one revoked before is not counted again
    assert "2 refresh token families" in p.stderr, p.stderr
    for f, end in ends.items():
        _assert_revoked(dbf, f, end, now)
    assert _family_state(dbf, "fam-old")[0] == now - 50
    _assert_live(dbf, "fam-b1")
    # nothing left to revoke: still a success
    p = run(dbf, "revoke-all", "alice")
    assert p.returncode == 0 and "0 refresh token families" in p.stderr, p.stderr
    _assert_live(dbf, "fam-b1")


def test_passwd_and_del_revoke_refresh_families(tmp_path):
    dbf = str(tmp_path / "users.db")
    for name in ("alice", "bob", "carol"):
        assert run("-b", "-c", "4", dbf, "add", name, f"{name}-pw-123").returncode == 0
    alice, bob, carol = (_user_id(dbf, n) for n in ("alice", "bob", "carol"))
    now = int(time.time())
    end_a = _add_family(dbf, "fam-a", alice, now)
    end_b = _add_family(dbf, "fam-b", bob, now)
    _add_family(dbf, "fam-c", carol, now)
    p = run("-b", "-c", "4", dbf, "passwd", "alice", "alice-pw-456")
    assert p.returncode == 0, p
    assert "1 refresh token family" in p.stderr, p.stderr
    _assert_revoked(dbf, "fam-a", end_a, now)
    _assert_live(dbf, "fam-b")
    p = run(dbf, "del", "bob")
    assert p.returncode == 0, p
    assert "1 refresh token family" in p.stderr, p.stderr
    _assert_revoked(dbf, "fam-b", end_b, now)
    _assert_live(dbf, "fam-c")
    # an unknown user touches nobody's families
    assert run(dbf, "del", "bob").returncode == 8
    assert run(dbf, "revoke-all", "nobody").returncode == 8
    _assert_live(dbf, "fam-c")


def test_stdin_password_rules(tmp_path):
    dbf = str(tmp_path / "users.db")
    assert run("-c", "4", dbf, "add", "a1", stdin="long-enough\n").returncode == 0
    assert run("-c", "4", dbf, "add", "a2", stdin="short\n").returncode == 3
    assert run("-c", "4", dbf, "add", "a3", stdin="").returncode == 3
    assert run("-c", "4", dbf, "add", "a4", stdin="p" * 1025 + "\n").returncode == 5
    # characters, not bytes: 8 accented letters are 16 bytes but 8 characters
    assert run("-c", "4", "-m", "9", dbf, "add", "a5", stdin="é" * 8 + "\n").returncode == 3
    assert run("-c", "4", "-m", "8", dbf, "add", "a6", stdin="é" * 8 + "\n").returncode == 0


def _pty_session(args, inputs, interrupt=False):
    """Runs htjwt on a pseudo-terminal, answering each prompt; returns (rc, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(HTJWT, [HTJWT, *args])
    out = b""
    answers = list(inputs)
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 1024)
            except OSError:         # EIO: the child is gone
                chunk = b""
            if not chunk:
                _, status = os.waitpid(pid, 0)
                os.close(fd)
                return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")
            out += chunk
            if out.rstrip().endswith(b"password:"):
                if interrupt:
                    os.kill(pid, signal.SIGINT)
                    interrupt = False
                elif answers:
                    os.write(fd, answers.pop(0).encode() + b"\n")
                    out += b"<answered>"
        _, status = os.waitpid(pid, os.WNOHANG)
        if _:
            try:
                while True:
                    chunk = os.read(fd, 1024)
                    if not chunk:
                        break
                    out += chunk
            except OSError:
                pass
            os.close(fd)
            return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    raise AssertionError(f"htjwt on a terminal did not finish: {out!r}")


def test_terminal_prompt(tmp_path):
    dbf = str(tmp_path / "users.db")
    rc, out = _pty_session(["-c", "4", dbf, "add", "tty1"], ["tty-password", "tty-password"])
    assert rc == 0, out
    assert "tty-password" not in out            # no echo
    assert "Re-type new password:" in out
    rc, out = _pty_session(["-c", "4", dbf, "add", "tty2"], ["tty-password", "different-1"])
    assert rc == 3, out
    rc, out = _pty_session(["-c", "4", dbf, "add", "tty3"], [], interrupt=True)
    assert rc == 4, out
    rc, out = _pty_session(["-c", "4", dbf, "passwd", "tty1"], ["new-tty-pw", "new-tty-pw"])
    assert rc == 0, out
    p = run(dbf, "list")
    assert "tty1" in p.stdout and "tty2" not in p.stdout and "tty3" not in p.stdout


def test_usage():
    p = run("--help")
    assert p.returncode == 0 and "Exit status" in p.stdout
    for args in ((), ("-x",), ("db",), ("db", "nope"), ("-c", "3", "db", "list"),
                 ("-m", "0", "db", "list"), ("-d",), ("keygen", "HS256", "extra"),
                 ("verify", "tok"), ("--iss",), ("sign", "-k", "a", "-k", "b")):
        p = run(*args)
        assert p.returncode == 2, (args, p)
        assert "Usage:" in p.stderr
