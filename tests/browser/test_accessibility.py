"""Every portal page of every persona, in a real browser: axe-core, the W3C Nu validator, phones.

The demo practice (seed_demo) gives each persona pages with real rows in them. A
crawler follows the links each persona can reach from their portal, so a page added
later is checked without anyone remembering to list it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from conftest import require_or_skip

pytestmark = pytest.mark.browser

ROOT = Path(settings.BASE_DIR)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts"))

PATIENT_EMAIL = "maria.garcia@demo.clinic"
PROVIDER_EMAIL = "anika.patel@demo.clinic"

# Links a crawler must not follow: they change state on GET-free pages only by POST,
# but these leave the page (downloads, feeds) or end the session.
SKIP_PARTS = ("/logout", ".ics", "/feed/", "/download", "/export", "/print", "/healthz", "/static/")
PHONE = {"width": 390, "height": 844}
MAX_PAGES = 45


@pytest.fixture
def demo(transactional_db, settings):
    call_command("seed_demo", verbosity=0)
    return True


def _sign_in(page, live_url: str, email: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    device = TOTPDevice.objects.filter(user__email=email, confirmed=True).first()
    if device is not None:
        expect(page.get_by_label("Code")).to_be_visible()
        page.get_by_label("Code").fill(f"{totp(device.bin_key, device.step, device.t0, device.digits, 0):06d}")
        page.get_by_role("button", name="Verify").click()
    expect(page.locator("main")).to_be_visible()


def _crawl(page, live_url: str, start: str, prefixes: tuple[str, ...]) -> list[str]:
    """Same-origin pages reachable by links from `start`, breadth first, each once."""
    host = urlparse(live_url).netloc
    seen: set[str] = set()
    queue: deque[str] = deque([start])
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            href = urldefrag(href)[0]
            parsed = urlparse(href)
            if parsed.netloc != host or any(part in parsed.path for part in SKIP_PARTS):
                continue
            if not parsed.path.startswith(prefixes):
                continue
            # One page per kind of detail view is enough: /records/<id>/ twice adds nothing.
            if _shape(href) in {_shape(u) for u in (*seen, *queue)}:
                continue
            queue.append(href)
    return visited


def _shape(url: str) -> str:
    path = urlparse(url).path
    return "/".join("*" if any(c.isdigit() for c in seg) and len(seg) > 8 else seg for seg in path.split("/"))


def _axe_violations(page) -> list[dict]:
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return result


def _no_horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


PERSONAS = {
    "patient": (PATIENT_EMAIL, "/patient/", ("/patient/", "/appointments/", "/records/", "/prescriptions/", "/messages/", "/assistant/", "/accounts/security")),
    "provider": (PROVIDER_EMAIL, "/provider/", ("/provider/", "/appointments/", "/records/", "/prescriptions/", "/messages/", "/assistant/", "/accounts/security")),
}


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_page_a_persona_reaches_has_no_axe_violations(persona, demo, live_url, new_page) -> None:
    require_or_skip(AXE.is_file(), "axe-core (npm ci)")
    email, start, prefixes = PERSONAS[persona]
    page = new_page()
    _sign_in(page, live_url, email)
    visited = _crawl(page, live_url, f"{live_url}{start}", prefixes)
    assert len(visited) >= 8, visited
    problems = {}
    for url in visited:
        page.goto(url)
        violations = _axe_violations(page)
        if violations:
            problems[url] = violations
    assert not problems, json.dumps(problems, indent=1)


# The pages people use most on a phone; each is screenshotted as a test artifact.
PHONE_PAGES = {
    "patient": ["/patient/", "/appointments/", "/messages/", "/assistant/", "/prescriptions/", "/records/"],
    "provider": ["/provider/", "/appointments/schedule/", "/prescriptions/refills/", "/messages/", "/assistant/"],
}


def _phone_pages(persona: str) -> list[str]:
    """The fixed pages plus the ones with an id in them: booking and a conversation."""
    from patients.models import PatientProfile
    from providers.models import ProviderProfile

    maria = PatientProfile.objects.get(user__email=PATIENT_EMAIL)
    anika = ProviderProfile.objects.get(user__email=PROVIDER_EMAIL)
    if persona == "patient":
        extra = [f"/appointments/book/{anika.pk}/", f"/messages/with/{anika.user_id}/"]
    else:
        extra = [f"/messages/with/{maria.user_id}/", f"/provider/patients/{maria.pk}/"]
    return PHONE_PAGES[persona] + extra


@pytest.mark.parametrize("persona", sorted(PHONE_PAGES))
def test_phone_pages_fit_the_screen_and_are_screenshotted(persona, demo, live_url, browser_instance) -> None:
    email = PERSONAS[persona][0]
    context = browser_instance.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _sign_in(page, live_url, email)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        overflowing = {}
        for path in _phone_pages(persona):
            response = page.goto(f"{live_url}{path}")
            assert response is not None and response.status == 200, path
            stable = re.sub(r"/[0-9a-f-]{36}", "", path).strip("/").replace("/", "-")
            name = f"phone-{persona}-{stable or 'home'}.png"
            page.screenshot(path=str(ARTIFACTS / name), full_page=True)
            extra = _no_horizontal_overflow(page)
            if extra > 0:
                overflowing[path] = extra
        assert not overflowing, f"pages wider than a 390 px phone (extra px): {overflowing}"
        # The header is one line with a menu button; the menu opens the navigation.
        page.goto(f"{live_url}{PHONE_PAGES[persona][0]}")
        header = page.locator(".site-header").bounding_box()
        assert header is not None and header["height"] <= 80, header
        nav = page.get_by_role("navigation", name=f"{persona.title()} portal")
        expect(nav).to_be_hidden()
        menu = page.get_by_role("button", name=re.compile("Menu"))
        expect(menu).to_contain_text("Dashboard")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name=re.compile("Messages"))).to_be_visible()
    finally:
        context.close()


def test_main_pages_are_valid_html(demo, live_url, new_page) -> None:
    """The W3C Nu validator over the served HTML (not the DOM after scripts) of each persona's pages."""
    require_or_skip(VNU.is_file(), "the W3C Nu validator (npm ci)")
    require_or_skip(shutil.which("java") is not None, "Java (for the W3C Nu validator)")
    with tempfile.TemporaryDirectory() as folder:
        files: dict[str, str] = {}
        anonymous = new_page()
        for path in ("/accounts/login/", "/accounts/register/", "/accounts/password/reset/"):
            response = anonymous.request.get(f"{live_url}{path}")
            files[path] = response.text()
        for persona in ("patient", "provider"):
            email, start, prefixes = PERSONAS[persona]
            page = new_page()
            _sign_in(page, live_url, email)
            for url in _crawl(page, live_url, f"{live_url}{start}", prefixes):
                files[f"{persona}:{urlparse(url).path}"] = page.request.get(url).text()
        names = {}
        for index, (label, html) in enumerate(files.items()):
            target = Path(folder) / f"page{index}.html"
            target.write_text(html)
            names[target.name] = label
        result = subprocess.run(
            ["java", "-jar", str(VNU), "--format", "json", "--errors-only", *sorted(str(Path(folder) / n) for n in names)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        report = json.loads(result.stderr or "{}")
        errors = [
            f"{names.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: line {m.get('lastLine')}: {m.get('message')}"
            for m in report.get("messages", [])
            if m.get("type") == "error"
        ]
        assert len(files) >= 15
        assert not errors, "\n".join(errors)


FOCUS_CONTRAST_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The ring is drawn outside the element (outline-offset): compare it with what is behind.
  let node = el.parentElement, behind = [255, 255, 255];
  while (node) {
    const bg = rgb(getComputedStyle(node).backgroundColor);
    if (bg.length >= 3 && (bg.length < 4 || bg[3] > 0.5)) { behind = bg.slice(0, 3); break; }
    node = node.parentElement;
  }
  const ring = rgb(style.outlineColor).slice(0, 3);
  const [a, b] = [lum(ring) + 0.05, lum(behind) + 0.05];
  return {
    what: el.tagName + (el.id ? "#" + el.id : "") + " " + (el.textContent || "").trim().slice(0, 30),
    width: parseFloat(style.outlineWidth) || 0,
    style: style.outlineStyle,
    ratio: Math.max(a, b) / Math.min(a, b),
  };
}
"""


def test_the_keyboard_focus_ring_stands_out_on_every_background(demo, live_url, new_page) -> None:
    """WCAG 1.4.11: the focus indicator reaches 3:1 against what surrounds it, header included."""
    page = new_page()
    _sign_in(page, live_url, PATIENT_EMAIL)
    weak = []
    for path in ("/patient/", "/appointments/", "/prescriptions/"):
        page.goto(f"{live_url}{path}")
        for _ in range(14):
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_CONTRAST_JS)
            if ring is None:
                continue
            if ring["style"] == "none" or ring["width"] < 2 or ring["ratio"] < 3:
                weak.append((path, ring))
    assert not weak, weak
