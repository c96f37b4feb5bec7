"""Reconnect can be added to a phone's home screen, discreetly when a person needs it.

A web app manifest (and icons) linked from every page, no service worker (pages hold
private words and are never kept offline: docs/privacy.md), and a choice on the account
page to show the app on the home screen as "Notes" with a plain icon instead.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from tests.pages import Visitor, soup

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "reconnect"
STATIC = PACKAGE / "static"
TEMPLATES = PACKAGE / "templates"
REGULAR = "/static/manifest.webmanifest"
NEUTRAL = "/static/manifest-neutral.webmanifest"


def accent() -> str:
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    found = re.search(r"--accent:\s*(#[0-9a-fA-F]{6})", css)
    assert found, "app.css names its accent colour"
    return found.group(1).lower()


def head_links(page: BeautifulSoup) -> dict[str, str]:
    """What the page's head says about installing: manifest, icons, colour, title."""
    head = page.head
    assert head is not None

    def attribute(selector: str, name: str) -> str:
        node = head.select_one(selector)
        assert node is not None, f"{selector} in <head>"
        return path_of(str(node[name]))

    return {
        "manifest": attribute('link[rel="manifest"]', "href"),
        "touch_icon": attribute('link[rel="apple-touch-icon"]', "href"),
        "icon": attribute('link[rel="icon"]', "href"),
        "theme_color": attribute('meta[name="theme-color"]', "content"),
        "title": attribute('meta[name="apple-mobile-web-app-title"]', "content"),
    }


def path_of(address: str) -> str:
    """A same-origin address as its path ("#2f6f73" and names pass through)."""
    parts = urlsplit(address)
    if parts.scheme or parts.netloc:
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1"), address
    return parts.path if address.startswith(("/", "http")) else address


def signed_in_visitor(app: Any, username: str = "hana") -> Visitor:
    visitor = Visitor(app)
    visitor.register(username)
    return visitor


def choose(visitor: Visitor, look: str, **headers: str) -> Any:
    token = visitor.client.cookies.get("reconnect_csrf") or visitor.csrf()
    visitor.last = visitor.client.post(
        "/account/home-screen", data={"csrf_token": token, "look": look}, headers=headers
    )
    return visitor.last


# --- the manifests and icons -------------------------------------------------------


@pytest.mark.parametrize("address", [REGULAR, NEUTRAL])
def test_each_manifest_is_served_as_a_manifest_with_what_a_phone_needs(client, address):
    answer = client.get(address)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text)
    for field in ("id", "name", "short_name", "icons", "start_url", "display", "theme_color"):
        assert manifest.get(field), field
    assert manifest["start_url"] == "/today"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].lower() == accent()
    assert len(manifest["short_name"]) <= 12  # what a home screen shows in full


@pytest.mark.parametrize("address", [REGULAR, NEUTRAL])
def test_every_icon_a_manifest_names_exists_and_is_served_as_an_image(client, address):
    icons = client.get(address).json()["icons"]
    kinds = set()
    for icon in icons:
        assert icon["src"].startswith("/static/icons/"), icon  # same origin, CSP 'self'
        assert (STATIC / icon["src"].removeprefix("/static/")).is_file(), icon
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon
        assert answer.headers["content-type"].split(";")[0] == icon["type"], icon
        assert icon["type"].startswith("image/")
        assert answer.headers["x-content-type-options"] == "nosniff"
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(answer.content)).size
            assert icon["sizes"] == f"{width}x{height}", icon
        kinds.add((icon["type"], icon["sizes"]))
    assert {("image/png", "192x192"), ("image/png", "512x512"), ("image/svg+xml", "any")} <= kinds
    assert any("maskable" in icon.get("purpose", "") for icon in icons)


def test_the_neutral_manifest_and_icon_say_nothing_of_reconnect(client):
    neutral = client.get(NEUTRAL)
    manifest = neutral.json()
    assert (manifest["name"], manifest["short_name"]) == ("Notes", "Notes")
    assert "reconnect" not in neutral.text.lower()
    for icon in manifest["icons"]:
        assert "reconnect" not in icon["src"].lower()
        if icon["type"] == "image/svg+xml":
            assert "reconnect" not in client.get(icon["src"]).text.lower()
    regular = client.get(REGULAR).json()
    assert (regular["name"], regular["short_name"]) == ("Reconnect", "Reconnect")
    # Two apps to a browser, so an installed "Notes" is never renamed into Reconnect.
    assert manifest["id"] != regular["id"]
    assert {i["src"] for i in manifest["icons"]}.isdisjoint(i["src"] for i in regular["icons"])


def test_the_security_policy_lets_the_manifest_and_icons_load(client):
    policy = client.get("/login").headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    # No manifest-src of its own: default-src applies, and the files are same origin.
    assert directives.get("manifest-src", directives["default-src"]) == ["'self'"]
    assert "'self'" in directives["img-src"]


# --- every page links them ---------------------------------------------------------


def test_pages_for_anonymous_visitors_link_the_manifest_and_icons(app, client):
    visitor = Visitor(app)
    for address in ("/login", "/register", "/privacy", "/nowhere"):
        head = head_links(visitor.get(address))
        assert head == {
            "manifest": REGULAR,
            "touch_icon": "/static/icons/reconnect-180.png",
            "icon": "/static/icons/reconnect.svg",
            "theme_color": accent(),
            "title": "Reconnect",
        }, address
    touch = client.get("/static/icons/reconnect-180.png")
    assert touch.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(touch.content)).size == (180, 180)


def test_pages_for_signed_in_people_link_the_manifest(app):
    hana = signed_in_visitor(app)
    for address in ("/", "/today", "/account", "/safety"):
        page = hana.get(address)
        assert hana.last.status_code == 200, address
        assert head_links(page)["manifest"] == REGULAR, address


def test_no_service_worker_is_registered_anywhere():
    files = [*STATIC.rglob("*.js"), *STATIC.rglob("*.webmanifest"), *TEMPLATES.rglob("*.html")]
    assert files
    for file in files:
        text = file.read_text(encoding="utf-8").lower()
        assert "serviceworker" not in text, file
        assert "service-worker" not in text, file
    assert not list(STATIC.rglob("sw.js")) and not list(STATIC.rglob("*worker*"))


# --- the discreet choice -----------------------------------------------------------


def test_the_account_page_offers_the_choice_in_a_calm_sentence(app):
    hana = signed_in_visitor(app)
    page = hana.get("/account")
    form = page.select_one('form[action="/account/home-screen"]')
    assert form is not None
    choices = {str(i["value"]): i.has_attr("checked") for i in form.select('input[name="look"]')}
    assert choices == {"reconnect": True, "notes": False}
    section = page.select_one("#home-screen")
    assert section is not None
    assert "Notes" in section.get_text() and "home screen" in section.get_text()


def test_choosing_notes_switches_the_name_and_icon_on_every_page_of_this_browser(app):
    hana = signed_in_visitor(app)
    answer = choose(hana, "notes")
    assert answer.status_code == 200
    chosen = soup(answer)
    assert head_links(chosen)["manifest"] == NEUTRAL  # the answer itself already does
    assert chosen.select_one('input[name="look"][value="notes"]').has_attr("checked")
    assert "Notes" in chosen.select_one('[role="status"]').get_text()
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie

    for address in ("/", "/today", "/account"):
        head = head_links(hana.get(address))
        assert head == {
            "manifest": NEUTRAL,
            "touch_icon": "/static/icons/notes-180.png",
            "icon": "/static/icons/notes.svg",
            "theme_color": accent(),
            "title": "Notes",
        }, address

    # Signing out keeps it: the home screen icon opens the sign-in page, still "Notes".
    hana.post("/logout", {})
    assert hana.last.status_code == 303
    assert head_links(hana.get("/login"))["manifest"] == NEUTRAL
    # Another browser (the partner's) is untouched.
    assert head_links(Visitor(app).get("/login"))["manifest"] == REGULAR


def test_choosing_reconnect_again_switches_back(app):
    hana = signed_in_visitor(app)
    choose(hana, "notes")
    assert choose(hana, "reconnect").status_code == 200
    head = head_links(hana.get("/today"))
    assert (head["manifest"], head["title"]) == (REGULAR, "Reconnect")


def test_an_unknown_choice_or_a_forged_one_changes_nothing(app):
    hana = signed_in_visitor(app)
    assert choose(hana, "calculator").status_code == 422
    assert "set-cookie" not in hana.last.headers or "home" not in hana.last.headers["set-cookie"]
    assert head_links(hana.get("/today"))["manifest"] == REGULAR
    assert choose(hana, "notes", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert head_links(hana.get("/today"))["manifest"] == REGULAR


def test_a_made_up_cookie_value_shows_the_regular_app(app):
    visitor = Visitor(app)
    visitor.client.cookies.set("reconnect_home_screen", "<script>")
    assert head_links(visitor.get("/login"))["manifest"] == REGULAR


def test_the_choice_needs_a_sign_in(app):
    visitor = Visitor(app)
    visitor.post("/account/home-screen", {"look": "notes"})
    assert visitor.last.status_code == 303
    assert visitor.last.headers["location"] == "/login"
    assert head_links(visitor.get("/login"))["manifest"] == REGULAR
