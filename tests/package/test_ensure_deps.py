"""tools/ensure-deps: which packages each set asks for, and --dry-run.

A fake dpkg-query (DPKG_QUERY) stands for a machine where nothing or only
some packages are installed, so the test shows what `make` would install
there without installing anything.
"""

import os
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ENSURE = os.path.join(REPO, "tools", "ensure-deps")
# packages that only tests need: none may be in the build set
TEST_ONLY = {"chromium", "postgresql", "clang", "valgrind", "nodejs", "npm",
             "libcmocka-dev", "python3-pytest", "lintian", "debhelper", "fail2ban"}


def sets():
    out, section = {}, None
    for line in open(os.path.join(REPO, "tools", "packages.txt")):
        word = line.split("#", 1)[0].split()
        if not word:
            continue
        if word[0].startswith("[") and word[0].endswith("]"):
            section = word[0][1:-1]
            out[section] = []
        else:
            out[section].append(word[0])
    return out


def fake_dpkg(tmp_path, installed=()):
    """A dpkg-query that knows only the packages in installed."""
    path = tmp_path / "dpkg-query"
    names = " ".join(installed)
    path.write_text(f"""#!/bin/sh
pkg=$(eval echo "\\${{$#}}")
for p in {names}; do [ "$p" = "$pkg" ] && {{ printf 'install ok installed'; exit 0; }}; done
exit 1
""")
    path.chmod(0o755)
    return str(path)


def dry_run(tmp_path, *args, installed=()):
    env = dict(os.environ, DPKG_QUERY=fake_dpkg(tmp_path, installed))
    # npm is wanted only when no npm is on the PATH: keep the PATH minimal
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    p = subprocess.run([ENSURE, *args], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout + p.stderr


def wanted(out):
    for line in out.splitlines():
        if "would install:" in line:
            return set(line.split("would install:", 1)[1].split())
    return set()


def test_two_sets_and_no_test_tool_in_build():
    s = sets()
    assert set(s) == {"build", "test"}
    assert not TEST_ONLY & set(s["build"]), TEST_ONLY & set(s["build"])
    for pkg in ("apache2-dev", "libssl-dev", "libjson-c-dev", "libaprutil1-dbd-sqlite3"):
        assert pkg in s["build"]
    for pkg in ("fail2ban", "lintian", "debhelper", "dpkg-dev", "fakeroot"):
        assert pkg in s["test"]


def test_dry_run_build_on_an_empty_machine(tmp_path):
    rc, out = dry_run(tmp_path, "--dry-run", "build")
    print(out)
    assert rc == 0
    assert wanted(out) == set(sets()["build"])


def test_dry_run_both_sets(tmp_path):
    rc, out = dry_run(tmp_path, "-n", "build", "test")
    assert rc == 0
    pkgs = wanted(out)
    assert set(sets()["build"]) <= pkgs and "chromium" in pkgs and "lintian" in pkgs


def test_dry_run_defaults_to_build_and_skips_installed(tmp_path):
    rc, out = dry_run(tmp_path, "-n", installed=["apache2", "apache2-dev"])
    assert rc == 0
    pkgs = wanted(out)
    assert "apache2" not in pkgs and "apache2-dev" not in pkgs and "libssl-dev" in pkgs
    assert not TEST_ONLY & pkgs


def test_dry_run_with_everything_installed(tmp_path):
    s = sets()
    rc, out = dry_run(tmp_path, "-n", "build", "test",
                      installed=s["build"] + s["test"])
    assert rc == 0 and "nothing to install" in out, out


def test_unknown_set_is_an_error(tmp_path):
    rc, out = dry_run(tmp_path, "-n", "tests")
    assert rc == 2 and "unknown set" in out
