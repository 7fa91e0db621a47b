"""The one refusal: a rule of the billing core said no.  Every refusal in
billing is a subclass, so an adapter can answer any of them the same way
when it has nothing more specific to say."""
from __future__ import annotations


class Refused(ValueError):
    """A rule said no; ``reason`` is the machine-readable why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
