"""tools/check-deps can fail: synthetic `nm -A` listings with and without a
cycle or an unused glue export, and two real objects that call each other
(`make check-deps` runs this before the check itself)."""

import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(REPO, "tools", "check-deps")
ARGS = ["--strip", "build/lib/", "--strip", "build/mod/", "--glue", "src/httpd/"]

# b64 <- key <- jwk <- glue <- module record: no cycle
ACYCLIC = """\
build/lib/src/core/aj_b64.o:0000000000000000 T aj_b64_encode
build/lib/src/core/aj_key.o:0000000000000040 T aj_key_load
build/lib/src/core/aj_key.o:                 U aj_b64_encode
build/lib/src/core/aj_jwk.o:0000000000000000 T aj_jwk_export
build/lib/src/core/aj_jwk.o:                 U aj_key_load
build/mod/src/httpd/auth_jwt_a.o:0000000000000000 T auth_jwt_a_run
build/mod/src/httpd/auth_jwt_a.o:                 U aj_jwk_export
build/mod/src/httpd/auth_jwt_a.o:                 U apr_palloc
build/mod/mod_auth_jwt.o:0000000000000000 D auth_jwt_module
build/mod/mod_auth_jwt.o:                 U auth_jwt_a_run
"""
KEY_USES_JWK = "build/lib/src/core/aj_key.o:                 U aj_jwk_export\n"
B64_USES_JWK = "build/lib/src/core/aj_b64.o:                 U aj_jwk_export\n"
UNUSED_EXPORT = "build/mod/src/httpd/auth_jwt_a.o:0000000000000080 T auth_jwt_a_helper\n"


def check(listing, *extra):
    p = subprocess.run([sys.executable, CHECK, "--nm", "-"] + ARGS + list(extra), input=listing,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def test_acyclic_graph_passes():
    rc, out = check(ACYCLIC)
    assert rc == 0, out
    assert "5 files, 4 file->file edges" in out, out


def test_two_files_that_need_each_other_fail_with_the_symbols():
    rc, out = check(ACYCLIC + KEY_USES_JWK)
    assert rc == 1, out
    assert "CYCLE between 2 files: src/core/aj_jwk.c src/core/aj_key.c" in out, out
    assert "src/core/aj_jwk.c -> src/core/aj_key.c: aj_key_load" in out, out
    assert "src/core/aj_key.c -> src/core/aj_jwk.c: aj_jwk_export" in out, out


def test_a_longer_cycle_is_one_component():
    rc, out = check(ACYCLIC + B64_USES_JWK)
    assert rc == 1, out
    assert "CYCLE between 3 files: src/core/aj_b64.c src/core/aj_jwk.c src/core/aj_key.c" in out


def test_an_ignored_symbol_makes_no_edge():
    """The module record: glue names it, it names the glue's hooks."""
    listing = ACYCLIC + "build/mod/src/httpd/auth_jwt_a.o:                 U auth_jwt_module\n"
    rc, out = check(listing)
    assert rc == 1 and "CYCLE between 2 files: mod_auth_jwt.c src/httpd/auth_jwt_a.c" in out, out
    rc, out = check(listing, "--ignore", "auth_jwt_module")
    assert rc == 0, out


def test_unused_glue_export_fails():
    rc, out = check(ACYCLIC + UNUSED_EXPORT)
    assert rc == 1, out
    assert "src/httpd/auth_jwt_a.c: auth_jwt_a_helper" in out, out
    # the module record is not under src/httpd/; a used export passes
    assert "auth_jwt_module" not in out and "auth_jwt_a_run" not in out, out


def test_real_objects_through_nm(tmp_path):
    """nm itself, over two compiled objects that call each other."""
    sources = {"a.c": "int b(int);\nint a(int x) { return x ? b(x - 1) : 0; }\n",
               "b.c": "int a(int);\nint b(int x) { return x ? a(x - 1) : 1; }\n"}
    objs = []
    for name, text in sources.items():
        src = tmp_path / name
        src.write_text(text)
        obj = str(src)[:-2] + ".o"
        subprocess.run([os.environ.get("CC", "cc"), "-c", "-o", obj, str(src)], check=True)
        objs.append(obj)
    p = subprocess.run([sys.executable, CHECK, "--strip", str(tmp_path) + "/"] + objs,
                       stdout=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1, p.stdout
    assert "a.c -> b.c: b" in p.stdout and "b.c -> a.c: a" in p.stdout, p.stdout
