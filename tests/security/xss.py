"""Classic script injections, and the checks that a page stayed inert."""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

CLASSIC = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(document.cookie)",
    "</textarea><script>alert(1)</script>",
    '" autofocus onfocus="alert(1)',
    "<a href=javascript:alert(1)>tap</a>",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "{{ 7 * 7 }}",  # template syntax: shown as typed, never evaluated
    "&lt;b&gt; stays as typed",  # entities: never un-escaped into markup
]
APP_SCRIPT = "/static/app.js"
APP_IMAGES = "/progress/charts/"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc"}


def assert_inert(page: BeautifulSoup) -> None:
    """No script but the app's own, no event handlers, no script addresses, and no
    element the app's pages never use."""
    assert_no_script(page)
    for element in page.find_all(True):
        assert element.name not in {"svg", "iframe", "object", "embed", "style", "base"}
        if element.name == "img":  # only the app's own charts
            assert urlsplit(str(element.get("src", ""))).path.startswith(APP_IMAGES), element


def assert_no_script(page: BeautifulSoup) -> None:
    for script in page.find_all("script"):
        assert urlsplit(str(script.get("src", ""))).path == APP_SCRIPT, script
    assert not page.find_all("foreignobject")  # HTML inside an SVG image
    for element in page.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), (element.name, name)
            if name in URL_ATTRIBUTES:
                assert not str(value).strip().lower().startswith("javascript:"), element
