"""The notification port's chat sender (billing.notify): a line in the
patient's own web chat or REST conversation, appended to its tracker
through Rasa's HTTP API; the web chat page shows it at its next poll and
a REST integration reads it from the tracker."""
from __future__ import annotations

from typing import List

from billing import clock
from billing.notify import DeliveryFailed, Message
from billing.redaction import redact_card_numbers
from selfpay.tracker import RasaUnavailable, append_events


class ChatSender:
    def send(self, message: Message) -> List[str]:
        speaker = {"from": "bot"} if message.author == "bot" else {"from": "agent", "agent": message.author, "handoff": 0}
        line = {"event": "bot", "text": redact_card_numbers(message.text)[0], "metadata": speaker, "timestamp": clock.timestamp()}
        try:
            append_events(message.to, [line])
        except RasaUnavailable as exc:
            raise DeliveryFailed(str(exc)) from exc
        return []
