"""Chat lines in the web chat page: our own payment and statement links
become anchors; anything else a line holds stays escaped text."""
from __future__ import annotations

from desk.app import linkify


def test_only_our_own_patient_links_are_clickable(monkeypatch):
    monkeypatch.setenv("DESK_PUBLIC_URL", "https://billing.example.org")
    line = str(linkify("Your statement: https://billing.example.org/statements/Ab_9-x. Also https://evil.example/pay/abc <b>hi</b>"))
    assert '<a href="https://billing.example.org/statements/Ab_9-x">https://billing.example.org/statements/Ab_9-x</a>.' in line
    assert "evil.example/pay/abc" in line and 'href="https://evil.example' not in line
    assert "&lt;b&gt;hi&lt;/b&gt;" in line
