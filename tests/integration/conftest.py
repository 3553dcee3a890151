"""pytest wiring for the integration tests (see pyhttpd.py for the harness).

A test module (or a test class, which wins) chooses its server with attributes:

    HTTPD_CONFIG         config appended at server level (may hold <Location>s);
                         @ROOT@ @DATA@ @HTDOCS@ @SECRET@ @REPO@ @CONF@ @PORT@ @DB@
                         are filled in
    HTTPD_LOGLEVEL       LogLevel line (default "info auth_jwt:debug", "info" without the module)
    HTTPD_LOAD_MODULE    False to run without mod_auth_jwt (default True)
    HTTPD_SIGNING_KEY    False to leave out the default AuthJWTSigningKey HS256
    HTTPD_EXPECTED_LOG   regexes of error-log lines that are expected

The `httpd` fixture hands out a running server; one with the same settings is
reused across tests (each test uses its own user names), a different one is
started in a fresh ServerRoot (fresh database).  `@pytest.mark.fresh_server`
asks for a new one anyway.  After every test the error log written during the
test is checked: [error]/[crit]/[alert]/[emerg] lines and child crashes fail
the test unless declared with `@pytest.mark.expect_log(REGEX, ...)`,
HTTPD_EXPECTED_LOG or `httpd.expect_log(REGEX)`.  A sanitizer report (make
integration-asan) or a valgrind error in the module (make valgrind) fails the
test during which it was written; one written while a server stops fails the
session.  Trouble logged while a
server stops is listed in the session summary instead (stock event MPM can
lose a child to SIGSEGV when stopped under load right after its start).

`httpd_factory(name=..., **Httpd kwargs)` makes servers a test starts itself
(or only configtests); they are checked and stopped when the test ends.  A
fixture that starts one for a test sets `request.node.aj_server` to it, so a
failing test shows that server's error-log tail.  Servers a module-scoped
fixture runs (pyhttpd.running starts and stops a group) are checked per test
with `check_logs(*servers, expected=...)`.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pyhttpd  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "fresh_server: start a new server for this test")
    config.addinivalue_line("markers", "expect_log(*regex): error-log lines this test causes")


def _setting(request, name, default):
    if request.cls is not None and hasattr(request.cls, name):
        return getattr(request.cls, name)
    return getattr(request.module, name, default)


@pytest.fixture(scope="session")
def env():
    e = pyhttpd.Env()
    pyhttpd.clean_stale_roots(e)
    return e


_shutdown_problems = pyhttpd.SHUTDOWN_PROBLEMS


@pytest.fixture(scope="session")
def pool(env):
    p = pyhttpd.ServerPool(env)
    p.shutdown_problems = _shutdown_problems
    yield p
    p.stop_current()


def pytest_sessionfinish(session, exitstatus):
    """Sanitizer (ASan/UBSan) or valgrind reports written while a server
    stopped fail the run: they belong to no test, but are bugs all the same."""
    if pyhttpd.SANITIZER_REPORTS and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if pyhttpd.SANITIZER_REPORTS:
        terminalreporter.section("sanitizer reports written while servers stopped (FAIL)")
        for path, text in pyhttpd.SANITIZER_REPORTS:
            terminalreporter.write_line(path)
            for ln in text.splitlines()[:40]:
                terminalreporter.write_line("    " + ln)
    if _shutdown_problems:
        terminalreporter.section("httpd trouble while stopping (not failing any test)")
        for root, lines in _shutdown_problems:
            terminalreporter.write_line(root)
            for ln in lines[:5]:
                terminalreporter.write_line("    " + ln)


@pytest.fixture(scope="session")
def extra_servers():
    """Servers started by httpd_factory, stopped at the end of the session at the latest."""
    started = []
    yield started
    for s in started:
        try:
            s.stop()
        except pyhttpd.HttpdError:
            pass


@pytest.fixture
def httpd_factory(env, extra_servers, request):
    """Makes un-started Httpd objects (for configtest or private start/stop)."""
    mine = []

    def make(name=None, **kw):
        kw.setdefault("load_module", True)
        if kw["load_module"] and not env.module_built():
            pytest.fail(f"{env.module_path} is not built: run `make` first")
        s = pyhttpd.Httpd(env, name or request.node.name, **kw)
        mine.append(s)
        extra_servers.append(s)
        return s

    yield make
    try:
        for s in mine:
            _check_log(s, s.expected_log, f"in {s.root}")
    finally:
        for s in mine:
            s.error_log.mark()
            pyhttpd.stop_and_check(s, _shutdown_problems)


def _check_log(server, expected, when):
    reports = server.sanitizer_reports()
    if reports:
        pytest.fail(f"sanitizer reports {when}:\n" + "\n".join(
            f"--- {path}\n{text[:4000]}" for path, text in reports), pytrace=False)
    text = server.error_log.read_since_mark()
    bad = pyhttpd.ErrorLog.bad_lines(text, expected)
    if bad:
        pytest.fail(f"unexpected error-log lines {when}:\n" + "\n".join(bad[:20]),
                    pytrace=False)


@pytest.fixture
def check_logs(request):
    """check_logs(*servers, expected=()) checks the error logs of servers a
    test did not get from `httpd` (a module-scoped fixture's) the way
    `httpd`'s is: lines they log from now until the test ends at error level
    or worse fail it, unless they match expected or the test's expect_log
    markers.  A failing test shows the first server's error-log tail."""
    watched = []
    marked = [regex for m in request.node.iter_markers("expect_log") for regex in m.args]

    def watch(*servers, expected=()):
        if not watched:
            request.node.aj_server = servers[0]
        for s in servers:
            s.error_log.mark()
            watched.append((s, list(expected) + marked))

    yield watch
    bad = []
    for s, expected in watched:
        bad += [f"{s.root}: {line}"
                for line in pyhttpd.ErrorLog.bad_lines(s.error_log.read_since_mark(), expected)]
        s.error_log.mark()
    if bad:
        pytest.fail("unexpected error-log lines during this test:\n" + "\n".join(bad[:20]),
                    pytrace=False)


@pytest.fixture
def httpd(request, env, pool):
    load_module = _setting(request, "HTTPD_LOAD_MODULE", True)
    if load_module and not env.module_built():
        pytest.fail(f"{env.module_path} is not built: run `make` first", pytrace=False)
    kw = dict(
        config=_setting(request, "HTTPD_CONFIG", ""),
        loglevel=_setting(request, "HTTPD_LOGLEVEL", None),
        load_module=load_module,
        signing_key=_setting(request, "HTTPD_SIGNING_KEY", True),
    )
    key = tuple(sorted(kw.items()))
    name = request.module.__name__.rsplit(".", 1)[-1]
    if request.cls is not None:
        name += "-" + request.cls.__name__
    fresh = request.node.get_closest_marker("fresh_server") is not None
    try:
        server = pool.get(key, name, fresh=fresh, **kw)
    except pyhttpd.HttpdError as e:
        pytest.fail(f"test server did not start:\n{e}", pytrace=False)
    expected = list(_setting(request, "HTTPD_EXPECTED_LOG", []))
    for m in request.node.iter_markers("expect_log"):
        expected.extend(m.args)
    server.expected_log = expected
    server.error_log.mark()
    yield server
    try:
        _check_log(server, server.expected_log, "during this test")
    finally:
        # what is logged from now on until the next test or the stop is the next's
        server.error_log.mark()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        server = item.funcargs.get("httpd") if hasattr(item, "funcargs") else None
        # a server a test's own fixture started names itself this way
        server = server or getattr(item, "aj_server", None)
        if server is not None:
            rep.sections.append(("httpd error_log tail", server.error_log.tail(30)))
