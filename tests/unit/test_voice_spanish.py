"""The voice channel's TwiML in Spanish (connectors/twilio_voice.py):
a Spanish voice and es-US listening, amounts in words, buttons offered by
key, and <Pay> with its own language and Spanish prompts."""
from __future__ import annotations

import re
from types import SimpleNamespace

from billing.clients import ClientInfo
from billing.policy import ClientPolicy
from connectors import twilio_voice
from connectors.twilio_voice import for_the_ear, render

CLIENT = ClientInfo("lakeside", "Lakeside Medical Center", "+15550100200", "America/Chicago", ClientPolicy.__new__(ClientPolicy))


def request(**args):
    return SimpleNamespace(path="/webhooks/twilio_voice/webhook", args={"step": "3", **args})


def test_spanish_text_is_spoken_with_amounts_in_words_and_numbers_digit_by_digit():
    text = for_the_ear("Su saldo en la cuenta 40089012 es de $150.00, con vencimiento el 8 de diciembre de 2026. ¿Paga ahora? (sí o no)", "es")
    assert text == ("Su saldo en la cuenta 4 0 0 8 9 0 1 2 es de ciento cincuenta dólares, con vencimiento el 8 de diciembre "
                    "de 2026. ¿Paga ahora? Por favor diga sí o no.")


def test_a_spanish_answer_is_said_by_lupe_and_listened_to_in_es_us_with_spanish_hints():
    twiml = render(request(lang="es"), CLIENT, [{"text": "¿Qué cargo quiere disputar?",
                                                 "buttons": [{"title": "Está duplicado", "payload": "1"}]}], "CA1", "es")
    assert re.search(r'<Say language="es-US" voice="Polly.Lupe">¿Qué cargo quiere disputar\? Oprima 1 para Está duplicado.</Say>', twiml)
    gather = re.search(r"<Gather [^>]*>", twiml).group(0)
    assert 'language="es-US"' in gather and "cuánto debo" in gather and "lang=es" in gather


def test_english_stays_as_it_was():
    twiml = render(request(), CLIENT, [{"text": "Your balance is $150.00."}], "CA2", "en")
    assert '<Say voice="Polly.Joanna">Your balance is $150.00.</Say>' in twiml
    assert 'language="en-US"' in re.search(r"<Gather [^>]*>", twiml).group(0)


def test_pay_asks_for_the_card_in_spanish():
    twiml = render(request(lang="es"), CLIENT, [{"text": "Para pagar $50.00, marque su tarjeta.",
                                                 "custom": {"voice": {"pay": {"account": "40089012", "amount": "50.00"}}}}], "CA3", "es")
    pay = re.search(r"<Pay [^>]*>", twiml).group(0)
    assert 'language="es-US"' in pay and "lang=es" in pay
    prompts = dict(re.findall(r'<Prompt for="([a-z-]+)"><Say [^>]*voice="Polly.Lupe"[^>]*>(.*?)</Say></Prompt>', twiml))
    assert set(prompts) == set(twilio_voice.PAY_STEPS)
    assert prompts["payment-card-number"].startswith("Por favor marque el número de su tarjeta")
    assert "cincuenta dólares" in twiml


def test_the_greeting_key_or_word_picks_the_language():
    assert twilio_voice.language_picked(request(offer="1"), {"Digits": "2"}) == "es"
    assert twilio_voice.language_picked(request(offer="1", lang="es"), {"Digits": "2"}) == "en"
    assert twilio_voice.language_picked(request(offer="1"), {"SpeechResult": "Espanol."}) == "es"
    assert twilio_voice.language_picked(request(offer="1"), {"SpeechResult": "what's my balance"}) is None
    assert twilio_voice.language_picked(request(), {"Digits": "2"}) is None  # only the greeting's question offers it
