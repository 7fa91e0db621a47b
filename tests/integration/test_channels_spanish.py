"""Spanish on every channel, through the running assistant (issue 17):
a Spanish first message, the patient's choice, Carlos Ramirez's record
after verification; SMS keywords and their confirmations in the number's
language; the voice greeting's offer, es-US listening, a Spanish voice,
amounts and dates said in Spanish and <Pay> in Spanish."""
from __future__ import annotations

import re
import uuid

import pytest

from billing import language
from tests.integration.test_channels_sms import messages, sms, text_of
from tests.integration.test_channels_voice import call, new_call

pytestmark = pytest.mark.integration

LAKESIDE = "+15550100200"
CARLOS_PHONE = "+15550101008"


def new_phone():
    return f"+1555018{uuid.uuid4().int % 10000:04d}"


def test_a_spanish_first_message_gets_a_spanish_answer(assistant):
    reply = " ".join(assistant.say(f"es-{uuid.uuid4().hex}", "hola, quiero saber cuanto debo en mi cuenta"))
    assert language.detect(reply) == "es", reply


def test_the_patient_can_choose_spanish_and_back(assistant):
    sender = f"choice-{uuid.uuid4().hex}"
    assert language.detect(" ".join(assistant.say(sender, "hi"))) == "en"
    spanish = " ".join(assistant.say(sender, "español por favor"))
    assert language.detect(spanish) == "es", spanish
    asked = " ".join(assistant.say(sender, "what's my balance"))
    assert "fecha de nacimiento" in asked  # chosen: an English message does not move it
    english = " ".join(assistant.say(sender, "in english please"))
    assert language.detect(english) == "en", english


def test_carlos_is_served_in_spanish_once_verified(assistant):
    sender = f"carlos-{uuid.uuid4().hex}"
    asked = " ".join(assistant.say(sender, "what's my balance", client="lakeside"))
    assert "date of birth" in asked
    assistant.say(sender, "09/18/1975", client="lakeside")
    answer = " ".join(assistant.say(sender, "40089012", client="lakeside"))
    assert "Gracias, Carlos. Su identidad está confirmada." in answer
    assert "$150.00" in answer and "8 de diciembre de 2026" in answer, answer


def test_a_message_in_a_language_we_do_not_speak_says_which_we_do(assistant):
    sender = f"fr-{uuid.uuid4().hex}"
    reply = " ".join(assistant.say(sender, "Bonjour, combien je dois pour ma facture ?"))
    assert "English and Spanish" in reply and "inglés o en español" in reply and "(555) 010-0100" in reply
    again = " ".join(assistant.say(sender, "je voudrais parler avec quelqu'un s'il vous plaît"))
    assert "partner" in again  # twice: a person takes it


@pytest.mark.parametrize("word", ["PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER", "SALIR", "parar", "Salir."])
def test_each_spanish_opt_out_word_opts_out_like_stop_and_is_confirmed_in_spanish(assistant, word):
    phone = new_phone()
    confirmed = text_of(sms(assistant, word, sender=phone)[1])
    assert "Canceló los mensajes de texto" in confirmed and "Riverside Health" in confirmed
    assert messages(sms(assistant, "cuanto debo", sender=phone)[1]) == []  # honoured: not answered
    # a number with no record: the answer is in the keyword's language
    assert "subscribed to Riverside Health billing texts again" in text_of(sms(assistant, "START", sender=phone)[1])


def test_ayuda_helps_in_spanish_and_help_in_english(assistant):
    phone = new_phone()
    ayuda = text_of(sms(assistant, "AYUDA", sender=phone)[1])
    assert "Para ayuda llame al (555) 010-0100" in ayuda and "PARAR" in ayuda
    assert "For help call (555) 010-0100" in text_of(sms(assistant, "HELP", sender=phone)[1])


def test_stop_from_carlos_number_is_confirmed_in_his_records_language(assistant):
    confirmed = text_of(sms(assistant, "STOP", sender=CARLOS_PHONE, to=LAKESIDE)[1])
    try:
        assert "Canceló los mensajes de texto de facturación de Lakeside Medical Center" in confirmed
    finally:
        back = text_of(sms(assistant, "START", sender=CARLOS_PHONE, to=LAKESIDE)[1])
    assert "Está suscrito otra vez" in back


# --- voice --------------------------------------------------------------------------------

def says(twiml, voice):
    """What is said in this voice."""
    return " ".join(re.findall(rf'<Say [^>]*voice="{voice}"[^>]*>(.*?)</Say>', twiml, re.S))


def test_the_call_offers_spanish_and_key_2_turns_it_to_spanish(assistant):
    sid = new_call()
    start = call(assistant, sid)[1]
    assert "Para español, oprima 2 o diga español." in says(start, "Polly.Lupe")
    assert 'language="es-US"' in re.search(r'<Say [^>]*voice="Polly.Lupe"[^>]*>', start).group(0)
    picked = call(assistant, sid, "?" + re.search(r'action="[^"?]*\?([^"]*)"', start).group(1).replace("&amp;", "&"),
                  Digits="2")[1]
    gather = re.search(r"<Gather [^>]*>", picked).group(0)
    assert 'language="es-US"' in gather and "cuánto debo" in gather and "lang=es" in gather
    assert "¿En qué le puedo ayudar hoy con su factura?" in says(picked, "Polly.Lupe")


def _follow(assistant, sid, twiml, **params):
    """The next turn at the URL the last answer's <Gather> named."""
    query = re.search(r'<Gather [^>]*action="[^"?]*\?([^"]*)"', twiml).group(1).replace("&amp;", "&")
    return call(assistant, sid, "?" + query, **params)[1]


def test_carlos_calls_says_espanol_and_hears_his_balance_and_due_date_in_spanish_words(assistant):
    sid = new_call()
    start = call(assistant, sid, From=CARLOS_PHONE, To=LAKESIDE)[1]
    picked = _follow(assistant, sid, start, SpeechResult="Español", From=CARLOS_PHONE, To=LAKESIDE)
    assert "lang=es" in picked and "picked=es" in picked
    asked = _follow(assistant, sid, picked, SpeechResult="balance", From=CARLOS_PHONE, To=LAKESIDE)
    assert "fecha de nacimiento" in says(asked, "Polly.Lupe")
    _follow(assistant, sid, asked, Digits="09181975", From=CARLOS_PHONE, To=LAKESIDE)
    reply = call(assistant, sid, "?turn=gather&silence=0&lang=es", Digits="40089012", From=CARLOS_PHONE, To=LAKESIDE)[1]
    spoken = says(reply, "Polly.Lupe")
    assert "ciento cincuenta dólares" in spoken and "8 de diciembre de 2026" in spoken, reply
    assert "4 0 0 8 9 0 1 2" in spoken and "Polly.Joanna" not in reply
    assert 'language="es-US"' in re.search(r"<Gather [^>]*>", reply).group(0)


def test_a_keypad_payment_result_is_said_in_spanish(assistant):
    reply = call(assistant, new_call(), "?turn=pay&account=40089012&amount=50.00&lang=es", Result="too-many-failed-attempts",
                 From=CARLOS_PHONE, To=LAKESIDE)[1]
    assert "no se cobró nada" in says(reply, "Polly.Lupe")
    assert 'language="es-US"' in re.search(r"<Gather [^>]*>", reply).group(0)
