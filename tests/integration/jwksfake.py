"""A fake JWK Set / OpenID discovery server for the trusted-issuer tests
(docs/reference.md §11), and the keys, JWKs and tokens they need.

FakeServer is a threaded HTTP/1.1 server on 127.0.0.1 (a free port; plain
http is what the module allows to a literal loopback host).  Each path
answers what the test set last (status, body, headers, a bounded delay, a
redirect, a chunked body), and every request is logged per path so a test
can assert how many fetches the module made.  Unknown paths answer 404.

    fake = FakeServer()
    fake.set_jwks("/a/jwks", [key.jwk()], max_age=60)
    fake.set("/b/jwks", status=500)
    fake.script("/c/jwks", [jwks_route([key]), Route(status=500)])  # 1st, then the rest
    fake.count("/a/jwks")            # requests so far
    fake.wait_count("/a/jwks", 2)    # bounded poll
    fake.close()                     # also ends any request still delayed

Keys: rsa_key() / ec_key() / ed_key() make a KeyPair (RSA 2048, EC P-256,
Ed25519) with .jwk() (public JWK, overridable members) and .sign(claims);
jwk_set() builds a JWK Set; oct_jwk() an HMAC key (allowed from files only).

What test_310 and test_320 check: assert_ok() (hello.lua's 200),
assert_503() (keys unavailable), failure_lines() (the failed-fetch log).
"""

import base64
import http.server
import json
import re
import socketserver
import threading
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# The module refuses documents over 1 MiB (docs/reference.md §11).
DOC_LIMIT = 1024 * 1024
# A delayed answer never waits longer than this, whatever a test asks: a
# forgotten hang must not outlive the test by much.
MAX_DELAY = 30.0
# How often a bounded poll looks again.
POLL_INTERVAL = 0.05


class Route:
    """What one path answers."""

    def __init__(self, status=200, body=b"", headers=None, delay=0.0, redirect=None,
                 chunked=False, content_type="application/json"):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.status = status
        self.body = body
        self.headers = list((headers or {}).items()) if isinstance(headers, dict) \
            else list(headers or [])
        self.delay = min(float(delay), MAX_DELAY)
        self.redirect = redirect
        self.chunked = chunked
        self.content_type = content_type


def json_route(doc, max_age=None, headers=None, **kw):
    """A Route answering doc as JSON (Cache-Control: max-age when given)."""
    headers = dict(headers or {})
    if max_age is not None:
        headers["Cache-Control"] = f"max-age={max_age}"
    return Route(body=json.dumps(doc).encode("utf-8"), headers=headers, **kw)


def jwks_route(keys, max_age=None, **kw):
    """A Route answering a JWK Set of keys (KeyPairs or JWK dicts)."""
    return json_route(jwk_set(*keys), max_age, **kw)


class Hit:
    """One request the fake server received."""

    def __init__(self, method, path, headers):
        self.time = time.monotonic()
        self.method = method
        self.path = path
        self.headers = headers

    def __repr__(self):
        return f"Hit({self.method} {self.path} at {self.time:.3f})"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jwksfake/1"

    def log_message(self, fmt, *args):     # quiet: pytest shows what a test asserts
        pass

    def do_GET(self):
        self.server.fake._serve(self)

    do_HEAD = do_GET


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeServer:
    """The server; see the module docstring."""

    def __init__(self, host="127.0.0.1", port=0):
        self._lock = threading.Lock()
        self._routes = {}
        self._hits = {}
        self._closing = threading.Event()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def base(self):
        return f"http://{self.host}:{self.port}"

    def url(self, path):
        return self.base + path

    # ---- what a path answers -----------------------------------------------

    def set(self, path, status=200, body=b"", headers=None, delay=0.0, redirect=None,
            chunked=False, content_type="application/json"):
        """path answers this from now on (redirect: a 302 to that URL)."""
        self.script(path, [Route(status, body, headers, delay, redirect, chunked,
                                 content_type)])

    def script(self, path, routes):
        """Request i (counted from now) of path gets routes[i], the ones after
        the last get the last: a change the module sees at its next fetch
        whenever that comes, without the test having to act at that moment."""
        assert routes
        with self._lock:
            self._routes[path] = (list(routes), [0])

    def set_json(self, path, doc, max_age=None, **kw):
        self.script(path, [json_route(doc, max_age, **kw)])

    def set_jwks(self, path, keys, max_age=None, **kw):
        """path serves a JWK Set of keys (KeyPairs or JWK dicts)."""
        self.script(path, [jwks_route(keys, max_age, **kw)])

    def set_discovery(self, issuer, jwks_path, path=None, **extra):
        """The OpenID discovery document of issuer (a URL on this server
        unless given), naming jwks_path of this server as its jwks_uri."""
        if path is None:
            assert issuer.startswith(self.base), issuer
            path = issuer[len(self.base):].rstrip("/") + "/.well-known/openid-configuration"
        doc = {"issuer": issuer, "jwks_uri": self.url(jwks_path),
               "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"]}
        doc.update(extra)
        self.set_json(path, doc)

    def set_huge(self, path, keys, size=DOC_LIMIT + 1024, chunked=False):
        """A valid JWK Set of keys padded with a member to size bytes: only
        its size is wrong (chunked: no Content-Length announces it)."""
        head = json.dumps(jwk_set(*keys)).encode()[:-1] + b', "pad": "'
        pad = max(0, size - len(head) - 2)
        self.set(path, body=head + b"x" * pad + b'"}', chunked=chunked)

    # ---- what was asked ----------------------------------------------------

    def hits(self, path):
        with self._lock:
            return list(self._hits.get(path, []))

    def count(self, path):
        return len(self.hits(path))

    def reset(self, path=None):
        """Forgets the request log (of one path, or all)."""
        with self._lock:
            if path is None:
                self._hits.clear()
            else:
                self._hits.pop(path, None)

    def wait_count(self, path, n, timeout=10.0):
        """Polls until path got at least n requests or timeout seconds passed;
        returns the count."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.count(path)
            if c >= n or time.monotonic() >= deadline:
                return c
            time.sleep(POLL_INTERVAL)

    def close(self):
        self._closing.set()            # delayed answers give up at once
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---- the handler -------------------------------------------------------

    def _serve(self, h):
        path = h.path.split("?", 1)[0]
        with self._lock:
            self._hits.setdefault(path, []).append(Hit(h.command, h.path, dict(h.headers)))
            entry = self._routes.get(path)
            route = None
            if entry is not None:
                routes, served = entry
                route = routes[min(served[0], len(routes) - 1)]
                served[0] += 1
        if route is None:
            route = Route(status=404, body=b'{"error": "not found"}')
        if route.delay and self._closing.wait(route.delay):
            return
        try:
            self._answer(h, route)
        except (BrokenPipeError, ConnectionResetError):
            pass                        # the module hung up (timeout, size cap): fine

    @staticmethod
    def _answer(h, route):
        if route.redirect:
            h.send_response(302)
            h.send_header("Location", route.redirect)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(route.status)
        h.send_header("Content-Type", route.content_type)
        for k, v in route.headers:
            h.send_header(k, v)
        if route.chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(len(route.body)))
        h.end_headers()
        if h.command == "HEAD":
            return
        if not route.chunked:
            h.wfile.write(route.body)
            return
        step = 64 * 1024
        for i in range(0, len(route.body), step):
            part = route.body[i:i + step]
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        h.wfile.write(b"0\r\n\r\n")


# ---- keys, JWKs and tokens -----------------------------------------------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_int(n, length=None):
    length = length or max(1, (n.bit_length() + 7) // 8)
    return b64u(n.to_bytes(length, "big"))


class KeyPair:
    """A private key, its public JWK and the tokens it signs."""

    def __init__(self, kid, private, alg):
        self.kid = kid
        self.private = private
        self.alg = alg

    def jwk(self, **override):
        """The public JWK (kid, no alg unless given); override adds or
        replaces members, a value of None removes one."""
        pub = self.private.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            d = {"kty": "RSA", "n": b64u_int(nums.n), "e": b64u_int(nums.e)}
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            size = (pub.curve.key_size + 7) // 8
            crv = {"secp256r1": "P-256", "secp384r1": "P-384",
                   "secp521r1": "P-521"}[pub.curve.name]
            d = {"kty": "EC", "crv": crv, "x": b64u_int(nums.x, size),
                 "y": b64u_int(nums.y, size)}
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            from cryptography.hazmat.primitives import serialization
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            d = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
        else:
            raise TypeError(type(pub))
        if self.kid is not None:
            d["kid"] = self.kid
        for k, v in override.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    def private_jwk(self, **override):
        """The private JWK (the public one plus its private members): what an
        identity provider configures (test_320's oidc-provider)."""
        from cryptography.hazmat.primitives import serialization
        d = self.jwk(**override)
        priv = self.private
        if isinstance(priv, rsa.RSAPrivateKey):
            n = priv.private_numbers()
            d.update(d=b64u_int(n.d), p=b64u_int(n.p), q=b64u_int(n.q), dp=b64u_int(n.dmp1),
                     dq=b64u_int(n.dmq1), qi=b64u_int(n.iqmp))
        elif isinstance(priv, ec.EllipticCurvePrivateKey):
            d["d"] = b64u_int(priv.private_numbers().private_value,
                              (priv.curve.key_size + 7) // 8)
        else:
            d["d"] = b64u(priv.private_bytes(serialization.Encoding.Raw,
                                             serialization.PrivateFormat.Raw,
                                             serialization.NoEncryption()))
        return d

    def pem_public(self):
        from cryptography.hazmat.primitives import serialization
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def pem_private(self):
        from cryptography.hazmat.primitives import serialization
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def sign(self, claims, kid=True, alg=None, headers=None):
        """A compact JWS of claims; kid=True puts this key's kid in the header,
        a string puts that one, False/None none."""
        hdr = dict(headers or {})
        if kid is True and self.kid is not None:
            hdr["kid"] = self.kid
        elif isinstance(kid, str):
            hdr["kid"] = kid
        return jwt.encode(claims, self.private, algorithm=alg or self.alg, headers=hdr)


def rsa_key(kid, bits=2048, alg="RS256"):
    return KeyPair(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), alg)


def ec_key(kid, alg="ES256"):
    return KeyPair(kid, ec.generate_private_key(ec.SECP256R1()), alg)


def ed_key(kid):
    return KeyPair(kid, ed25519.Ed25519PrivateKey.generate(), "EdDSA")


def oct_jwk(secret, kid, alg="HS256"):
    """An HMAC JWK (docs/reference.md §11: from a file only, never a URL)."""
    return {"kty": "oct", "kid": kid, "alg": alg, "k": b64u(secret)}


def jwk_set(*keys):
    """A JWK Set of KeyPairs (their public JWK) and/or JWK dicts."""
    return {"keys": [k.jwk() if isinstance(k, KeyPair) else k for k in keys]}


def claims(iss, lifetime=300, **extra):
    """Claims of a valid token of iss (sub, iat, nbf, exp; extra added)."""
    now = int(time.time())
    c = {"sub": "alice", "iat": now, "nbf": now - 5, "exp": now + lifetime}
    if iss is not None:
        c["iss"] = iss
    c.update(extra)
    return c


def poll(fn, until, timeout=10.0, interval=0.1):
    """Calls fn() until until(result) holds or timeout seconds passed; returns
    the last result (the caller asserts on it, so a failure shows it)."""
    deadline = time.monotonic() + timeout
    while True:
        r = fn()
        if until(r) or time.monotonic() >= deadline:
            return r
        time.sleep(interval)


# ---- what the trusted-issuer tests check ------------------------------------------

# The module's trusted-issuer lines are tagged AJ08x.  AJ083 is a failed
# fetch, logged at most once a minute per issuer (the 503s of a request are
# AJ087, at debug level).
ISSUER_LOG = r"AJ08\d"
FETCH_FAILURE_LOG = r"AJ083"


def assert_ok(r, sub="alice"):
    """A 200 from conf/hello.lua greeting sub (the default of claims())."""
    assert r.status == 200, r
    assert r.json() == {"data": f"Hello, {sub}!"}, r


def assert_503(r):
    """The 503 of a token whose issuer's keys are unavailable."""
    assert r.status == 503, r
    assert (r.header("Retry-After") or "").isdigit(), r


def log_lines(server, pattern):
    """The lines of server's error log that match pattern."""
    rx = re.compile(pattern)
    return [ln for ln in server.error_log.read_all().splitlines() if rx.search(ln)]


def failure_lines(server, fake_path=None):
    """server's failed-fetch lines (AJ083); with fake_path, only those about
    the issuer (or URL) living under that path of the fake server."""
    if fake_path is None:
        return log_lines(server, FETCH_FAILURE_LOG)
    return log_lines(server, FETCH_FAILURE_LOG + r".*" + re.escape(fake_path) + r"(?![\w-])")
