"""How the channels shape the bot's words: SMS parts, speech, scripts."""
from __future__ import annotations

from billing.clients import ClientInfo
from billing.policy import ClientPolicy
from billing.scripts import script
from connectors.twilio_sms import split_sms, twiml
from connectors.twilio_voice import for_the_ear


def test_sms_parts_keep_whole_messages_together_and_never_pass_320():
    parts = split_sms(["Thank you, Maria. You're verified.", "Your balance is $412.50."])
    assert parts == ["Thank you, Maria. You're verified.\nYour balance is $412.50."]
    long = "This is a sentence about your bill. " * 30
    parts = split_sms([long])
    assert len(parts) > 1 and all(len(p) <= 320 for p in parts)
    assert all(p.endswith(".") for p in parts)  # cut at sentence ends
    assert split_sms(["x" * 700]) == ["x" * 320, "x" * 320, "x" * 60]


def test_twiml_for_no_answer_is_an_empty_response():
    assert "<Message>" not in twiml([]) and "<Response" in twiml([])


def test_speech_has_no_links_and_reads_long_numbers_digit_by_digit():
    text = for_the_ear("Here is your page for account 40012345: https://pay.example/pay/abc It works once. (yes or no)")
    assert "https" not in text and "4 0 0 1 2 3 4 5" in text and "say yes or no" in text
    assert for_the_ear("Your balance is $412.50, due December 10, 2026.") == "Your balance is $412.50, due December 10, 2026."


def test_channel_scripts_come_from_the_domain_with_the_clients_details():
    client = ClientInfo("riverside", "Riverside Health", "+15550100100", "America/New_York", ClientPolicy.__new__(ClientPolicy))
    text = script("utter_sms_help", client)
    assert "Riverside Health" in text and "(555) 010-0100" in text


def test_a_slow_answer_gets_a_hold_message_and_a_redirect_that_collects_it(monkeypatch):
    import asyncio
    from types import SimpleNamespace

    from connectors import twilio_voice

    monkeypatch.setattr(twilio_voice, "TURN_BUDGET", 0.05)
    client = ClientInfo("riverside", "Riverside Health", "+15550100100", "America/New_York", ClientPolicy.__new__(ClientPolicy))
    request = SimpleNamespace(path="/webhooks/twilio_voice/webhook", args={})
    channel = twilio_voice.TwilioVoiceInput()

    async def scenario():
        async def slow_rasa():
            await asyncio.sleep(0.2)

        task = asyncio.ensure_future(slow_rasa())
        task.collector = SimpleNamespace(messages=[{"text": "Your balance is $412.50."}])
        twilio_voice._pending["CAslow"] = task
        first = await channel._collect(request, client, "voice:CAslow", "CAslow")
        await asyncio.sleep(0.3)
        second = await channel._collect(request, client, "voice:CAslow", "CAslow")
        return first, second

    first, second = asyncio.run(scenario())
    assert "One moment" in first and "<Redirect" in first and "turn=wait" in first
    assert "$412.50" in second and "<Gather" in second and "CAslow" not in twilio_voice._pending
