"""The outbound call port: place this call from the client's number to
this number, with Twilio asking ``url`` what to say when it is answered
(machine detection on) and reporting its progress to ``status_callback``.

Whether a call may be placed at all is the outreach planner's decision
(consent, opt-outs, quiet hours, the cap), re-checked by the sender
(billing.outreach_send) just before it dials.  How the call is placed is
the outside world's business: ``connectors.call_sender.CallSender`` uses
Twilio's Calls API, installed by each composition root
(``connectors.wiring.install``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from billing.notify import DeliveryFailed, NoRoute, NotSent


@dataclass(frozen=True)
class Call:
    client_id: str
    to: str
    from_number: str
    url: str                 # what Twilio requests when the call is answered
    status_callback: str     # where Twilio reports initiated, ringing, answered, completed
    machine_detection: bool = True


class Caller(Protocol):
    def call(self, call: Call) -> str:
        """Place the call now; return the provider's call id.  Raise
        NoRoute when calls are not configured; any other error is a failed call."""


_caller: Optional[Caller] = None


def install(caller: Caller) -> None:
    global _caller
    _caller = caller


def place(call: Call) -> str:
    """Place ``call`` through the installed caller; raises a NotSent."""
    if _caller is None:
        raise NoRoute("no caller is installed in this process")
    try:
        return _caller.call(call)
    except NotSent:
        raise
    except Exception as exc:  # the provider failed after its own retries
        failed = DeliveryFailed(str(exc))
        failed.code = getattr(exc, "code", None)
        raise failed from exc
