"""Every ```apache block of README.md and docs/*.md is valid as printed.

Two checks per block:

- no directive line carries a trailing `# comment`: httpd has comments only
  on lines of their own, and passes "# ..." to the directive as more
  arguments (some directives refuse them, some silently accept them);
- `apachectl configtest` passes on the block, wrapped in a small server
  configuration (tests/integration/pyhttpd.py's approach: a temporary
  ServerRoot, the stock modules from `apxs -q LIBEXECDIR`, the module from
  build/).  The paths the docs name (keys, databases, password files) are
  replaced through SUBSTITUTIONS by files generated here.

How a block is wrapped:
- a block with LoadModule lines of its own is a complete server
  configuration: the wrapper loads only httpd's basic modules and lets the
  block load mod_dbd and the module (their Debian paths mapped to this
  machine's), and adds nothing else;
- any other block is a fragment of a site: the wrapper loads mod_dbd,
  mod_socache_shmcb, mod_headers, mod_proxy(_http) and the module, and puts
  a store (DBDriver/DBDParams) and an HS256 signing key in front of it
  unless the block sets them;
- a block whose top-level lines include `Require` (a fragment of a
  <Location>) goes inside `<Location /docs-test/>` with AuthType JWT.

A block preceded by `<!-- configtest: skip (reason) -->` is only checked for
trailing comments.
"""

import glob
import os
import re
import shutil
import string
import secrets
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import pyhttpd  # noqa: E402  (the integration harness: apxs paths, free ports)

DOCS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
RE_FENCE_OPEN = re.compile(r"^\s*```apache\s*$")
RE_FENCE_CLOSE = re.compile(r"^\s*```\s*$")
RE_SKIP = re.compile(r"^\s*<!--\s*configtest:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
RE_LOADMODULE = re.compile(r"^\s*LoadModule\s+(\S+)\s+(\S+)", re.M)

# The paths the docs name, and what stands in for each: an HMAC secret, an
# ES256 key pair (private / public PEM), the SQLite file, an htpasswd file.
# A path under /etc/ or /var/ that is not listed here fails the test (add
# it: a block must not depend on this machine's files).
SUBSTITUTIONS = {
    "/etc/apache2/auth_jwt/hs256.key": "hmac",
    "/etc/apache2/auth_jwt/k2.pem": "es256_private",
    "/etc/apache2/auth_jwt/k2.key": "es256_private",
    "/etc/apache2/auth_jwt/es256.key": "es256_private",
    "/etc/apache2/auth_jwt/es256-2025.key": "es256_private",
    "/etc/apache2/auth_jwt/k1.pub": "es256_public",
    "/etc/apache2/auth_jwt/k2.pub": "es256_public",
    "/etc/apache2/auth_jwt/es256.pub": "es256_public",
    "/etc/apache2/auth_jwt/issuer.pub": "es256_public",
    "/etc/apache2/auth_jwt/old.pub": "es256_public",
    "/etc/apache2/auth_jwt/pgpass": "pgpass",
    "/etc/apache2/auth_jwt/db-ca.pem": "ca",
    "/usr/local/share/ca-certificates/internal-ca.crt": "ca",
    "/etc/apache2/htpasswd": "htpasswd",
    "/var/lib/apache2/auth_jwt/users.db": "db",
    "/var/lib/mod_auth_jwt/users.db": "db",
}
# Debian module paths as the docs print them -> this machine's
MODULE_PATHS = {
    "/usr/lib/apache2/modules/mod_auth_jwt.so": pyhttpd.MODULE_PATH,
}
RE_SYSTEM_PATH = re.compile(r"(?<![\w.:/-])/(?:etc|var)/[\w./-]+")

# Always loaded (Debian builds log_config, unixd, so into the binary): the
# integration harness's stock modules that every site has, in its order.
BASIC_MODULE_NAMES = {"mpm_event", "authn_core", "authn_file", "authz_core", "authz_user",
                      "authz_host", "auth_basic", "mime", "dir", "alias"}
BASIC_MODULES = [m for m in pyhttpd.STOCK_MODULES
                 if m[0][:-len("_module")] in BASIC_MODULE_NAMES]
# What `a2enmod auth_jwt dbd socache_shmcb headers proxy_http` gives a site.
SITE_MODULES = [
    ("dbd_module", "mod_dbd.so"),
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("headers_module", "mod_headers.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
    ("env_module", "mod_env.so"),
    ("setenvif_module", "mod_setenvif.so"),
]


class Block:
    def __init__(self, path, line, text, skip_reason):
        self.path = path
        self.line = line            # line number of the opening fence
        self.text = text
        self.skip_reason = skip_reason

    @property
    def id(self):
        return f"{os.path.relpath(self.path, REPO)}:{self.line}"


def apache_blocks(path):
    """The ```apache blocks of a markdown file."""
    blocks = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if RE_FENCE_OPEN.match(lines[i]):
            start = i
            skip = None
            j = start - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            if j >= 0:
                m = RE_SKIP.match(lines[j])
                if m:
                    skip = m.group("reason")
            body = []
            i += 1
            while i < len(lines) and not RE_FENCE_CLOSE.match(lines[i]):
                body.append(lines[i])
                i += 1
            blocks.append(Block(path, start + 1, "\n".join(body), skip))
        i += 1
    return blocks


ALL_BLOCKS = [b for p in DOCS for b in apache_blocks(p)]


def trailing_comment(line):
    """The column of a `#` that starts a trailing comment, or None.

    Outside double quotes, a `#` after whitespace on a line that has a
    directive before it.  (A `#` inside a word, as in a URL fragment, is
    not a comment to httpd either, but it is not one a reader would write.)
    """
    stripped = line.lstrip()
    if not stripped or stripped.startswith("#"):
        return None
    quoted = False
    prev = ""
    for col, ch in enumerate(line):
        if ch == '"' and prev != "\\":
            quoted = not quoted
        elif ch == "#" and not quoted and prev in (" ", "\t"):
            return col
        prev = ch
    return None


# ---- the checker checks itself ---------------------------------------------

@pytest.mark.parametrize("line,expected", [
    ("AuthJWTRevocation Off   # the issuer keeps the list", 24),
    ("    SetHandler auth-jwt-jwks\t# public keys only", 29),
    ("# a comment line", None),
    ("    # an indented comment line", None),
    ('DBDParams "host=db password=a #b"', None),
    ('Require expr "%{reqenv:JWT_CLAIM_x} == \'# y\'"', None),
    ("AuthJWTIssuer https://example.org/#frag", None),
])
def test_trailing_comment_detector(line, expected):
    assert trailing_comment(line) == expected


def test_blocks_found():
    """The docs have blocks to check (a broken fence regex finds none)."""
    assert len(ALL_BLOCKS) >= 10
    assert any(b.path.endswith("README.md") for b in ALL_BLOCKS)


# ---- no trailing comments ---------------------------------------------------

@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda b: b.id)
def test_no_trailing_comment(block):
    bad = []
    for n, line in enumerate(block.text.split("\n"), start=block.line + 1):
        if trailing_comment(line) is not None:
            bad.append(f"{os.path.relpath(block.path, REPO)}:{n}: {line.strip()}")
    assert not bad, ("httpd has no trailing comments (the words after '#' become "
                     "arguments); put the comment on its own line above:\n" + "\n".join(bad))


# ---- configtest --------------------------------------------------------------

class Stand:
    """A ServerRoot with the files that stand in for the docs' paths."""

    def __init__(self, root):
        self.root = root
        self.files = {}
        for d in ("conf", "logs", "run", "data"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        alphabet = string.ascii_letters + string.digits + "-_"
        self._write("hs256.key", "".join(secrets.choice(alphabet) for _ in range(64)))
        priv = os.path.join(root, "conf", "es256.key")
        pub = os.path.join(root, "conf", "es256.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", priv],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub],
                       check=True, capture_output=True)
        os.chmod(priv, 0o600)
        self._write("pgpass", "db.internal:5432:authjwt:authjwt:not-a-password\n")
        self._write("ca.pem", open(pub).read())
        self._write("htpasswd", "")
        self.kinds = {
            "hmac": os.path.join(root, "conf", "hs256.key"),
            "es256_private": priv,
            "es256_public": pub,
            "pgpass": os.path.join(root, "conf", "pgpass"),
            "ca": os.path.join(root, "conf", "ca.pem"),
            "htpasswd": os.path.join(root, "conf", "htpasswd"),
            "db": os.path.join(root, "data", "users.db"),
        }

    def _write(self, name, text):
        path = os.path.join(self.root, "conf", name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def substitute(self, text):
        libexec = pyhttpd.apxs_query("LIBEXECDIR")
        text = re.sub(r"(LoadModule\s+\S+\s+\"?)modules/", rf"\g<1>{libexec}/", text)
        for doc_path, real in MODULE_PATHS.items():
            text = text.replace(doc_path, real)
        # longest first: no path is a prefix of another's replacement
        for doc_path in sorted(SUBSTITUTIONS, key=len, reverse=True):
            text = text.replace(doc_path, self.kinds[SUBSTITUTIONS[doc_path]])
        return text


def wrap(block, stand, port):
    body = stand.substitute(block.text)
    unknown = [p for p in RE_SYSTEM_PATH.findall(body)
               if not p.startswith(pyhttpd.apxs_query("LIBEXECDIR"))]
    assert not unknown, (f"{block.id} names {unknown}: add them to SUBSTITUTIONS in "
                         "tests/docs/test_docs.py")
    libexec = pyhttpd.apxs_query("LIBEXECDIR")
    root = stand.root
    lines = [
        f"# {block.id}, wrapped by tests/docs/test_docs.py",
        f'ServerRoot "{root}"',
        "ServerName 127.0.0.1",
        f"Listen 127.0.0.1:{port}",
        f'PidFile "{root}/run/httpd.pid"',
        f'DefaultRuntimeDir "{root}/run"',
        f'ErrorLog "{root}/logs/error_log"',
        "LogLevel warn",
        "TypesConfig /etc/mime.types",
    ]
    own_loads = RE_LOADMODULE.findall(body)
    modules = list(BASIC_MODULES)
    if not own_loads:
        modules += SITE_MODULES
    for name, so in modules:
        if name not in (n for n, _ in own_loads):
            lines.append(f'LoadModule {name} "{libexec}/{so}"')
    if not own_loads:
        lines.append(f'LoadModule auth_jwt_module "{pyhttpd.MODULE_PATH}"')
        if not re.search(r"^\s*DBDriver\s", body, re.M):
            lines += ["DBDriver sqlite3", f'DBDParams "{stand.kinds["db"]}"']
        if not re.search(r"^\s*AuthJWTSigningKey\s", body, re.M):
            lines.append(f'AuthJWTSigningKey HS256 "file:{stand.kinds["hmac"]}"')
    top_level = [ln.strip() for ln in body.split("\n") if not ln.startswith((" ", "\t"))]
    if any(ln.startswith("Require ") for ln in top_level):
        body = ("<Location /docs-test/>\n    AuthType JWT\n    AuthName \"docs test\"\n"
                + body + "\n</Location>")
    return "\n".join(lines) + "\n" + body + "\n"


def configtest(conf_path):
    env = pyhttpd.Env()
    p = subprocess.run([env.apachectl, "-f", conf_path, "-t"],
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


@pytest.fixture(scope="module")
def stand_root(tmp_path_factory):
    if not os.path.exists(pyhttpd.MODULE_PATH):
        pytest.fail(f"{pyhttpd.MODULE_PATH} is not built: run make first")
    return str(tmp_path_factory.mktemp("docs-configtest"))


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if not b.skip_reason],
                         ids=lambda b: b.id)
def test_configtest(block, stand_root):
    root = os.path.join(stand_root, block.id.replace("/", "_").replace(":", "_"))
    stand = Stand(root)
    conf = os.path.join(root, "conf", "httpd.conf")
    with open(conf, "w") as f:
        f.write(wrap(block, stand, pyhttpd.free_port()))
    rc, out = configtest(conf)
    assert rc == 0, f"{block.id}: apachectl configtest failed:\n{out}\n--- config:\n" + \
        open(conf).read()
    shutil.rmtree(root, ignore_errors=True)


def test_configtest_can_fail(stand_root):
    """The wrapper does not hide errors: a bad algorithm fails configtest."""
    bad = Block(os.path.join(REPO, "README.md"), 0,
                "AuthJWTSigningKey HS999 file:/etc/apache2/auth_jwt/hs256.key", None)
    root = os.path.join(stand_root, "negative")
    stand = Stand(root)
    conf = os.path.join(root, "conf", "httpd.conf")
    with open(conf, "w") as f:
        f.write(wrap(bad, stand, pyhttpd.free_port()))
    rc, out = configtest(conf)
    assert rc != 0 and "HS999" in out, out


def test_skipped_blocks_are_few():
    """Skipping is for directives that are not implemented yet, and rare."""
    skipped = [f"{b.id} ({b.skip_reason})" for b in ALL_BLOCKS if b.skip_reason]
    assert len(skipped) <= 3, skipped


# ---- the docs are self-contained ---------------------------------------------

RE_OUTSIDE = re.compile(r"\bSPEC\b|\.\./shared|/work/shared")


def test_docs_point_nowhere_outside_the_repository():
    """Nothing in the repository (README, docs/, conf/, the man page, the
    package's files, the sources and the tests) names anything outside it:
    the contract is docs/reference.md."""
    files = DOCS + [os.path.join(REPO, n) for n in ("htjwt.1", "mod_auth_jwt.c", "Makefile",
                                                     "Makefile.apxs")]
    for top in ("conf", "debian", "src", "include", "tools", "bench", "tests"):
        for d, dirs, names in os.walk(os.path.join(REPO, top)):
            # the vendored vectors and installed npm packages are not ours
            dirs[:] = [x for x in dirs if x not in ("node_modules", "vectors", "__pycache__")]
            files += [os.path.join(d, n) for n in names
                      if os.path.join(d, n) != os.path.abspath(__file__)]
    bad = []
    for path in files:
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for n, line in enumerate(text.split("\n"), start=1):
            if RE_OUTSIDE.search(line):
                bad.append(f"{os.path.relpath(path, REPO)}:{n}: {line.strip()}")
    assert not bad, "pointers outside the repository:\n" + "\n".join(bad)


def test_reference_links_resolve():
    """Links to docs/reference.md#anchor name a heading that exists."""
    ref = open(os.path.join(REPO, "docs", "reference.md"), encoding="utf-8").read()
    anchors = set()
    for h in re.findall(r"^#+ (.+)$", ref, re.M):
        a = re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        anchors.add(a)
    bad = []
    for path in DOCS:
        text = open(path, encoding="utf-8").read()
        for target in re.findall(r"\(((?:docs/)?reference\.md)?#([\w-]+)\)", text):
            file_part, anchor = target
            if file_part or path.endswith("reference.md"):
                if anchor not in anchors:
                    bad.append(f"{os.path.relpath(path, REPO)}: #{anchor}")
    assert not bad, f"missing anchors in docs/reference.md: {bad}"
