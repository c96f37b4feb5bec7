"""Every page a person can open, for everyone who opens it, on a phone and a desktop:
no accessibility violations by axe-core (every rule of WCAG 2.2 A and AA and axe's
best practices), the quick exit still on screen after scrolling to the very bottom, and
no page wider than the screen.

The pages come from the app's routes, so a new page is swept without anybody
remembering to add it. Not swept, by rule:

- the JSON API (``/api/...``): data, not pages;
- files (a last path segment with a dot: the account exports, the chart images, the
  reminders calendar, the therapist's PDF report): downloads, not pages;
- none for want of a value: the path parameters are filled from the demo (a practice,
  a questionnaire, the couple's id), and a page with a new one fails the sweep until
  ``addresses()`` gives it a value;
- an address that sends the person elsewhere (signed out, ``/today`` goes to the
  sign-in page): the page they land on is swept in its own right.

Query-string variants (``/experiences/new?experience=...``) are the same templates as
the plain address and are not swept separately; a page whose markup (words aside) is
the same as one already checked at that width is not checked by axe again, though its
quick exit is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute

from reconnect.app import ROUTERS
from reconnect.domain.pacing.catalogue import Lead, load_catalogue
from tests.browser.conftest import Demo, local_context

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# axe's defaults already include its best practices; asking by tag also runs the WCAG 2.2
# AA rules it leaves off by default (target-size: what a thumb can press).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
ROLES = {
    "anonymous": None,
    "hurt partner": "hurt",
    "involved partner": "involved",
    "therapist": "therapist",
}
# Pages each role must reach, so a sweep that silently swept nothing fails.
MUST_SWEEP = {
    "anonymous": {"/", "/login", "/register", "/recover", "/privacy", "/safety", "/demo"},
    "hurt partner": {
        "/today",
        "/checkin",
        "/notes",
        "/progress",
        "/couple",
        "/account",
        "/hard-dates",
        "/lapse",
        "/commitments",
        "/rituals",
        "/letters",
        "/disclosure",
        "/disclosure/session",
    },
    "involved partner": {
        "/today",
        "/checkin",
        "/notes",
        "/progress",
        "/couple",
        "/account",
        "/disclosure",
        "/disclosure/session",
    },
    "therapist": {"/caseload", "/caseload/{couple_id}", "/account"},
}


def proposable_practice() -> str:
    """A practice above the first step that a partner may propose: its page has the most."""
    return next(
        str(p.id)
        for p in load_catalogue().practices
        if p.tier > 0 and p.leads is not Lead.MORE_ACTIVATED
    )


def page_routes() -> list[str]:
    """The path of every GET route that answers a page (not the API, not a file)."""
    paths = {
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and not route.path.startswith("/api/")
        and "." not in route.path.rsplit("/", 1)[-1]
    }
    return sorted(paths)


def addresses(demo: Demo) -> dict[str, str]:
    """Each page route and the address that opens it, its parameters filled from the demo."""
    filled = {
        "practice_id": proposable_practice(),
        "instrument_id": "phq-9",
        "couple_id": str(demo.couple_id),
    }
    found = {}
    for path in page_routes():
        missing = set(re.findall(r"{(\w+)}", path)) - filled.keys()
        assert not missing, f"{path}: give {missing} a value in addresses() to sweep it"
        found[path] = path.format(**filled)
    return found


def sign_in(page: Any, base: str, who: str | None) -> None:
    """The demo's own sign-in: one press on /demo for each of the three people."""
    if who is None:
        return
    page.goto(f"{base}/demo")
    page.locator(f"form:has(input[name=who][value={who}]) button").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path in {"/today", "/caseload"}, page.url


def axe_violations(page: Any) -> list[str]:
    """What axe finds on the page as it is now (axe.min.js already injected)."""
    found = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        f"{rule['id']} ({rule['impact']}): {node['target']} {node['failureSummary']!r}"
        for rule in found["violations"]
        for node in rule["nodes"]
    ]


# The page's markup without its words: two pages alike in it (the privacy page for Hana
# and for Ivan, a therapist's "this page is for the partners" on several addresses) are
# alike to axe, which is run on the first only. Digits (ids of rows, times) and the
# values of fields (the form's token) are left out; whether an element has words is kept.
MARKUP = """() => [...document.querySelectorAll("*")].map(el => el.tagName + "[" +
    [...el.attributes].filter(a => a.name !== "value")
        .map(a => a.name + "=" + a.value.replace(/[0-9]+/g, "#")).sort().join(" ") + "]" +
    ([...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) ? "+" : "")
).join("|")"""


WIDEST = "() => document.documentElement.scrollWidth"


def quick_exit_out_of_reach(page: Any) -> str | None:
    """Scrolled to the very bottom: where the quick exit is, if not wholly on screen."""
    where = page.evaluate(
        """() => {
            window.scrollTo({top: document.documentElement.scrollHeight, behavior: "instant"});
            const button = document.getElementById("quick-exit");
            if (!button) return {missing: true};
            const box = button.getBoundingClientRect();
            const style = getComputedStyle(button);
            return {top: box.top, left: box.left, bottom: box.bottom, right: box.right,
                    width: innerWidth, height: innerHeight,
                    shown: style.visibility === "visible" && style.display !== "none"
                           && Number(style.opacity) > 0};
        }"""
    )
    on_screen = not where.get("missing") and where["shown"] and where["top"] >= 0
    on_screen = on_screen and where["left"] >= 0
    on_screen = (
        on_screen and where["bottom"] <= where["height"] and where["right"] <= where["width"]
    )
    return None if on_screen else json.dumps(where)


def test_every_page_is_accessible_with_the_quick_exit_in_reach(
    browser: Any, demo_server: Demo
) -> None:
    """Each page is loaded once and looked at on a phone, then on a desktop."""
    pages = addresses(demo_server)
    problems: list[str] = []
    swept: dict[str, set[str]] = {}
    checked: set[tuple[str, str]] = set()
    for role, who in ROLES.items():
        # The pages forbid inline scripts; axe is injected as one, so this browser allows it.
        context = local_context(browser, bypass_csp=True)
        page = context.new_page()
        sign_in(page, demo_server.base, who)
        swept[role] = set()
        for route, address in pages.items():
            page.set_viewport_size(WIDTHS["phone"])
            answer = page.goto(f"{demo_server.base}{address}")
            assert answer is not None
            if urlsplit(page.url).path != address:
                continue  # sent elsewhere: that page is swept in its own right
            assert "text/html" in answer.headers["content-type"], (route, answer.headers)
            swept[role].add(route)
            markup = page.evaluate(MARKUP)
            injected = False
            for width, size in WIDTHS.items():
                page.set_viewport_size(size)
                where = f"{role}, {address} ({answer.status}), {width} {size['width']} px"
                if (width, markup) not in checked:
                    checked.add((width, markup))
                    if not injected:
                        page.add_script_tag(path=str(AXE))
                        injected = True
                    problems += [f"{where}: {v}" for v in axe_violations(page)]
                if (out := quick_exit_out_of_reach(page)) is not None:
                    problems.append(f"{where}: the quick exit is off screen at the bottom: {out}")
                # On a phone nothing may need a sideways scroll of the whole page.
                if (wide := page.evaluate(WIDEST)) > size["width"]:
                    problems.append(f"{where}: the page is {wide} px wide")
        context.close()
    for role, needed in MUST_SWEEP.items():
        assert needed <= swept[role], f"{role} never reached {needed - swept[role]}"
    assert not problems, "\n".join(problems)


def test_the_sweep_sees_what_axe_finds(browser: Any) -> None:
    """The sweep's axe, with its options, reports a picture without words and a field
    without a name: a sweep that passes has looked."""
    context = local_context(browser)
    page = context.new_page()
    page.set_content(
        '<!doctype html><html lang="en"><title>Check</title><main><h1>Check</h1>'
        '<img src="data:,"><input name="words"></main></html>'
    )
    page.add_script_tag(path=str(AXE))
    found = " ".join(axe_violations(page))
    assert "image-alt" in found and "label" in found, found
    context.close()
