"""Browser tests: Playwright driving Debian's Chromium against the real ASGI app.

The app runs in-process under uvicorn in a background thread, so it shares the
test database (SQLite's shared in-memory test database, or PostgreSQL's test
database) and Django's locmem outbox; websockets work as in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import require_or_skip

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch) -> None:
    # Playwright's sync API keeps an event loop in the test thread; Django's ORM
    # calls made between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    import uvicorn

    from healthcare.asgi import application

    port = _free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="asgi-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the test ASGI server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# Runs in every page and frame before its own scripts: hands each CSP violation to Python.
_VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__hcSecurityPolicyViolation({
    page: document.location.href,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
}, true);
"""
# Console errors Chromium writes for a refused resource or a bad policy header.
_POLICY_CONSOLE_MARKERS = (
    "Content Security Policy",
    "Content-Security-Policy",
    "Permissions-Policy",
    "Permissions policy",
    "Refused to ",
)


class SecurityPolicyWatch:
    """Collects CSP violations and policy console errors of every watched browser context."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch_context(self, context) -> None:
        context.expose_binding(
            "__hcSecurityPolicyViolation",
            lambda _source, v: self.problems.append(
                f"CSP violation on {v['page']}: {v['directive']} blocked {v['blocked'] or 'inline'}"
                f" ({v['source']}:{v['line']} {v['sample']!r})"
            ),
        )
        context.add_init_script(_VIOLATION_LISTENER)
        context.on("page", self.watch_page)

    def watch_page(self, page) -> None:
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page, message) -> None:
        if message.type in ("error", "warning") and any(
            marker in message.text for marker in _POLICY_CONSOLE_MARKERS
        ):
            self.problems.append(f"console {message.type} on {page.url}: {message.text}")


SECURITY_POLICY_WATCH = SecurityPolicyWatch()


@pytest.fixture(scope="session")
def browser_instance(django_db_setup):
    # After the test database exists: Playwright's event loop in this thread
    # would otherwise make Django refuse the synchronous database set-up.
    require_or_skip(shutil.which("chromium") is not None or os.path.exists(CHROMIUM), "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        # Every context any browser test opens is watched for policy violations.
        open_context = browser.new_context

        def new_context(*args, **kwargs):
            context = open_context(*args, **kwargs)
            SECURITY_POLICY_WATCH.watch_context(context)
            return context

        browser.new_context = new_context
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def no_security_policy_violations() -> Iterator[SecurityPolicyWatch]:
    """Fail a browser test on any CSP violation or policy console error in the pages it visited."""
    SECURITY_POLICY_WATCH.problems.clear()
    yield SECURITY_POLICY_WATCH
    problems = list(SECURITY_POLICY_WATCH.problems)
    SECURITY_POLICY_WATCH.problems.clear()
    if problems:
        pytest.fail("Security policy problems in the browser:\n" + "\n".join(problems))


@pytest.fixture
def live_url(asgi_server, transactional_db, settings) -> str:
    # The server thread answers for "127.0.0.1:<port>".
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return asgi_server


@pytest.fixture
def new_page(browser_instance):
    """Factory of pages, each in its own browser context (its own cookies: its own user)."""
    contexts = []

    def make():
        context = browser_instance.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
