"""A real OpenID Provider as a trusted issuer (docs/reference.md §11): npm
oidc-provider (tests/package.json) on 127.0.0.1 over HTTPS with a throwaway
CA, issuing RFC 9068 JWT access tokens (typ at+jwt) to a client_credentials
client for one resource indicator.  The module finds its keys through
discovery (AuthJWTFetchCA the throwaway CA), survives a key rotation without
an httpd restart, keeps the last good keys through an outage within
AuthJWTKeyMaxStale, answers 503 after it, and recovers when the provider is
back.

oidc-provider reads its keys once, so a rotation is a provider restart with
another key set (the new key added, then the old one retired), which is
what a rotation looks like from the resource server's side.  The tests run
in file order on one provider and one httpd; the 60 s refetch floor makes
them take about four minutes.
"""

import base64
import datetime
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import pytest

import jwksfake
import pyhttpd
from jwksfake import assert_503, failure_lines, poll

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER_JS = os.path.join(HERE, "oidc", "provider.mjs")
PACKAGE_DIR = os.path.join(HERE, "..", "node_modules", "oidc-provider")
NODE = shutil.which("node") or shutil.which("nodejs")

pytestmark = pytest.mark.skipif(
    NODE is None or not os.path.isdir(PACKAGE_DIR),
    reason="node or tests/node_modules/oidc-provider missing: run `npm ci --prefix tests`")

# the module's trusted-issuer lines (AJ08x) are expected here
HTTPD_EXPECTED_LOG = [jwksfake.ISSUER_LOG]

RESOURCE = "https://api.itest.example"
SCOPE = "api:read"
CLIENT_ID = "itest-client"
# a test-only secret of a provider that lives for this module on loopback
CLIENT_SECRET = base64.urlsafe_b64encode(os.urandom(24)).decode()

KEY_REFRESH = 60                  # the floor: every refetch below waits for it
MAX_STALE = 15
PROVIDER_START_TIMEOUT = 30.0
FIRST_FETCH_TIMEOUT = 15.0
# one refetch (the 60 s floor) and slack for a busy machine
REFETCH_TIMEOUT = KEY_REFRESH + 30.0


# ---- the throwaway CA and the provider ------------------------------------------

def make_ca(workdir):
    """A CA and a server certificate for IP 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mod_auth_jwt itest CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: os.path.join(workdir, n + ".pem") for n in ("ca", "cert", "key")}
    pyhttpd.Httpd.write_file(paths["ca"], ca.public_bytes(serialization.Encoding.PEM))
    pyhttpd.Httpd.write_file(paths["cert"], cert.public_bytes(serialization.Encoding.PEM))
    pyhttpd.Httpd.write_file(paths["key"], key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    return paths


class OidcProvider:
    """tests/integration/oidc/provider.mjs as a child process."""

    def __init__(self, workdir, pki):
        self.workdir = workdir
        self.pki = pki
        self.port = pyhttpd.free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.out_path = os.path.join(workdir, "provider.out")
        self.err_path = os.path.join(workdir, "provider.err")
        self.proc = None
        self.tls = ssl.create_default_context(cafile=pki["ca"])

    def start(self, keys, alg):
        """Starts it with keys (KeyPairs; the first of alg signs)."""
        assert self.proc is None
        cfg = {"port": self.port, "cert": self.pki["cert"], "key": self.pki["key"],
               "jwks": {"keys": [k.private_jwk() for k in keys]}, "alg": alg,
               "resource": RESOURCE, "scope": SCOPE,
               "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        cfg_path = os.path.join(self.workdir, "provider.json")
        pyhttpd.Httpd.write_file(cfg_path, json.dumps(cfg), mode=0o600)
        listening = self._listening()
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen([NODE, PROVIDER_JS, cfg_path], cwd=HERE,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + PROVIDER_START_TIMEOUT
        while self._listening() == listening:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("oidc-provider did not start:\n" + self._tail(), pytrace=False)
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def _read(self, path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _listening(self):
        return self._read(self.out_path).count("listening ")

    def _tail(self):
        return (self._read(self.out_path)[-2000:] + "\n--- stderr:\n"
                + self._read(self.err_path)[-2000:])

    def fetches(self, path="/jwks"):
        """Times (seconds since the epoch) of the GET requests of path so far."""
        rx = re.compile(r"^request (\d+) GET %s$" % re.escape(path), re.M)
        return [int(m.group(1)) / 1000.0 for m in rx.finditer(self._read(self.out_path))]

    def token(self, resource=RESOURCE):
        """An access token from /token (client credentials, resource indicator)."""
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": SCOPE,
                                       "resource": resource})
        auth = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=self.tls)
        try:
            conn.request("POST", "/token", body=body, headers={
                "Authorization": f"Basic {auth}",
                "Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        assert r.status == 200, (r.status, data[:300])
        return json.loads(data)["access_token"]


@pytest.fixture(scope="module")
def keys():
    return {"a": jwksfake.rsa_key("itest-a"), "b": jwksfake.ec_key("itest-b")}


@pytest.fixture(scope="module")
def provider(env, keys):
    os.makedirs(env.build_dir, exist_ok=True)
    # named like a ServerRoot: a run that dies leaves it to clean_stale_roots
    workdir = tempfile.mkdtemp(prefix=f"{os.getpid()}-320-oidc-", dir=env.build_dir)
    os.chmod(workdir, 0o755)
    op = OidcProvider(workdir, make_ca(workdir))
    op.start([keys["a"]], "RS256")
    yield op
    op.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def trusted_config(provider, fetch_ca=True):
    server = f"AuthJWTKeyRefresh {KEY_REFRESH}\nAuthJWTKeyMaxStale {MAX_STALE}\n"
    if fetch_ca:
        server += f'AuthJWTFetchCA "{provider.pki["ca"]}"\n'
    return (server
            + pyhttpd.jwt_location("/api/resource",
                                   f"AuthJWTTrustedIssuer {provider.issuer} discovery",
                                   f"AuthJWTAudience {RESOURCE}")
            + pyhttpd.jwt_location("/local")
            + pyhttpd.lua_hello("^/(api/resource|local)$"))


@pytest.fixture(scope="module")
def rs_server(env, extra_servers, provider):
    if not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    s = pyhttpd.Httpd(env, "320-oidc", config=trusted_config(provider))
    s.expected_log = list(HTTPD_EXPECTED_LOG)
    extra_servers.append(s)
    try:
        s.start()
    except pyhttpd.HttpdError as e:
        pytest.fail(f"test server did not start:\n{e}", pytrace=False)
    yield s
    pyhttpd.stop_and_check(s, pyhttpd.SHUTDOWN_PROBLEMS)


@pytest.fixture
def rs(rs_server, check_logs):
    check_logs(rs_server, expected=rs_server.expected_log)
    return rs_server


def assert_ok(r):
    """The client's token accepted: hello.lua greets the client."""
    jwksfake.assert_ok(r, CLIENT_ID)


# ---- the tests, in order --------------------------------------------------------

def test_tokens_accepted_through_discovery(rs, provider, keys):
    token = provider.token()
    header, claims = pyhttpd.token_header(token), pyhttpd.token_claims(token)
    assert header["typ"] == "at+jwt" and header["kid"] == "itest-a", header
    assert claims["iss"] == provider.issuer and claims["aud"] == RESOURCE, claims
    r = poll(lambda: rs.get("/api/resource", bearer=token), lambda r: r.status != 503,
             timeout=FIRST_FETCH_TIMEOUT)
    assert_ok(r)
    assert provider.fetches("/.well-known/openid-configuration")
    assert provider.fetches("/jwks")
    # the signature is checked: one flipped bit in it
    h, p, sig = token.split(".")
    bad = h + "." + p + "." + ("B" if sig[0] == "A" else "A") + sig[1:]
    assert rs.get("/api/resource", bearer=bad).status == 401
    # a section without the trusted issuer does not take the provider's tokens
    assert rs.get("/local", bearer=token).status == 401


def test_untrusted_ca_is_a_failed_fetch(httpd_factory, provider):
    """Without AuthJWTFetchCA the system store does not know the throwaway
    CA: the fetch fails (TLS is verified) and the tokens get 503."""
    s = httpd_factory(config=trusted_config(provider, fetch_ca=False))
    s.expect_log(*HTTPD_EXPECTED_LOG)
    s.start()
    token = provider.token()
    lines = poll(lambda: failure_lines(s), bool, timeout=FIRST_FETCH_TIMEOUT)
    assert lines, s.error_log.tail(20)
    assert_503(s.get("/api/resource", bearer=token))


def test_rotation_without_restart(rs, provider, keys):
    httpd_pid = rs.pid()
    restarts = rs.error_log.read_all().count("resuming normal operations")
    token_a = provider.token()
    # the new key is published and signs; the old one is still published
    provider.stop()
    provider.start([keys["a"], keys["b"]], "ES256")
    token_b = provider.token()
    assert pyhttpd.token_header(token_b)["kid"] == "itest-b"
    last = provider.fetches("/jwks")[-1]
    if time.time() - last < KEY_REFRESH - 15:
        # too soon after the last fetch for an unknown kid to refetch
        r = rs.get("/api/resource", bearer=token_b)
        assert r.status == 401 and 'error_description="unknown key id"' in \
            " ".join(r.header_all("WWW-Authenticate")), r
    r = poll(lambda: rs.get("/api/resource", bearer=token_b), lambda r: r.status == 200,
             timeout=REFETCH_TIMEOUT, interval=1.0)
    assert_ok(r)
    assert_ok(rs.get("/api/resource", bearer=token_a))
    # the old key retired
    provider.stop()
    provider.start([keys["b"]], "ES256")
    r = poll(lambda: rs.get("/api/resource", bearer=token_a), lambda r: r.status != 200,
             timeout=REFETCH_TIMEOUT, interval=1.0)
    assert r.status == 401, r
    assert_ok(rs.get("/api/resource", bearer=token_b))
    assert_ok(rs.get("/api/resource", bearer=provider.token()))
    # all along the same httpd: no restart, no reload
    assert rs.pid() == httpd_pid
    assert rs.error_log.read_all().count("resuming normal operations") == restarts


def test_outage_stale_keys_then_503_then_back(rs, provider, keys):
    token = provider.token()
    assert_ok(rs.get("/api/resource", bearer=token))
    seen = len(failure_lines(rs))
    provider.stop()
    # the next refresh fails and is logged; the last good keys keep verifying
    lines = poll(lambda: failure_lines(rs), lambda ls: len(ls) > seen,
                 timeout=REFETCH_TIMEOUT, interval=0.5)
    failed_at = time.monotonic()
    assert len(lines) > seen, rs.error_log.tail(20)
    assert_ok(rs.get("/api/resource", bearer=token))
    r = poll(lambda: rs.get("/api/resource", bearer=token), lambda r: r.status != 200,
             timeout=MAX_STALE + 15, interval=0.5)
    assert_503(r)
    # (the line was seen up to one poll interval after the failure)
    assert time.monotonic() - failed_at >= MAX_STALE - 2
    # the provider is back (same keys): the next fetch restores service
    provider.start([keys["b"]], "ES256")
    r = poll(lambda: rs.get("/api/resource", bearer=token), lambda r: r.status == 200,
             timeout=REFETCH_TIMEOUT, interval=1.0)
    assert_ok(r)
    assert_ok(rs.get("/api/resource", bearer=provider.token()))
