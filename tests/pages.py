"""A tiny in-process browser for page tests: follows forms the way a person would."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.conftest import NO_CONCERNS, PASSWORD


class Visitor:
    """One browser: its own cookies, reading pages with a real HTML parser."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        self.last: Any = None

    def get(self, path: str) -> BeautifulSoup:
        self.last = self.client.get(path)
        # Only pages are parsed: a PDF's compressed bytes can look like broken markup
        # to the HTML parser, which then refuses them (seen once in CI).
        if not self.last.headers.get("content-type", "").startswith("text/html"):
            return BeautifulSoup("", "html.parser")
        return BeautifulSoup(self.last.text, "html.parser")

    def csrf(self) -> str:
        page = self.get("/login")
        field = page.find("input", attrs={"name": "csrf_token"})
        assert field is not None
        return str(field["value"])

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> Any:
        body = {"csrf_token": self.csrf(), **data} if csrf else data
        self.last = self.client.post(path, data=body)
        return self.last

    def follow(self) -> BeautifulSoup:
        assert self.last.status_code == 303, self.last.text
        return self.get(self.last.headers["location"])

    def register(self, username: str, *, screen: dict[str, bool] | None = NO_CONCERNS) -> None:
        response = self.post("/register", {"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert soup(response).select_one("#recovery-key") is not None
        if screen is not None:
            answers = {key: "yes" if value else "no" for key, value in screen.items()}
            assert self.post("/safety-screen", answers).status_code == 303


def log_in(app: Any, username: str) -> Visitor:
    """A browser of its own, signed in as ``username`` (with the tests' password)."""
    visitor = Visitor(app)
    visitor.post("/login", {"username": username, "password": PASSWORD})
    assert visitor.last.status_code == 303, visitor.last.text
    return visitor


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text_of(page: BeautifulSoup, selector: str) -> str:
    node = page.select_one(selector)
    assert node is not None, f"{selector} not on the page"
    return " ".join(node.get_text(" ").split())


def pdf_text(content: bytes) -> str:
    """The text of a PDF's pages, joined."""
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    return "".join(page.get_textpage().get_text_range() for page in document)
