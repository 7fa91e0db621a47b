"""The REST channel (``/webhooks/rest/webhook``) with card numbers taken
out before the text reaches Rasa."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from billing.redaction import redact_card_numbers


class RedactingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and channel name as Rasa's own REST channel

    def _extract_message(self, req: Request) -> Optional[Text]:
        text, _count = redact_card_numbers(super()._extract_message(req) or "")
        return text

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = super().get_metadata(request)
        return metadata if isinstance(metadata, dict) else None
