"""What a channel says on its own (keywords, media, unknown numbers):
approved scripts like the bot's, kept in bot/domain.yml responses."""
from __future__ import annotations

from billing.contact import display_phone
from billing.ratelimit import MAX_MESSAGE_CHARS
from bot.responses import responses


def script(name: str, client=None, **values) -> str:
    """The response's text for this client (a variation conditioned on
    client_id wins), filled in with the client's name and number."""
    variations = responses()[name]
    chosen = [v for v in variations if any(c.get("name") == "client_id" and client is not None and c.get("value") == client.id
                                           for c in v.get("condition") or [])]
    plain = [v for v in variations if not v.get("condition")]
    text = (chosen or plain or variations)[0]["text"]
    if client is not None:
        values = {"client_name": client.name, "client_phone": display_phone(client.phone_number), **values}
    return text.format(**values)


def cut_note() -> str:
    """What a channel says before its answer to a message it cut to the cap."""
    return script("utter_channel_message_cut", limit=f"{MAX_MESSAGE_CHARS:,}")
