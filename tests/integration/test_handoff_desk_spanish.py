"""A Spanish handoff through the running assistant and desk (issue 17,
item 5): Carlos Ramirez asks in Spanish for a person; while Sofía (who
speaks Spanish) is on shift, Alex sees it offered first to Spanish
speakers and cannot claim it yet; Sofía reads the summary in Spanish,
Alex in English, both with Carlos's own words; she claims it.  With no
Spanish speaker signed in, the next one is Alex's at once."""
from __future__ import annotations

import pytest

from tests.integration.helpers import call, login

pytestmark = pytest.mark.integration


def _waiting(assistant, token, conversation_id, query=""):
    status, body, _ = call(assistant, "GET", "/api/handoffs?status=waiting" + query, token=token)
    assert status == 200, body
    return [h for h in body["handoffs"] if h["conversation_id"] == conversation_id]


def _carlos_asks_for_a_person_in_spanish(assistant):
    sender = assistant.new_sender()
    asked = " ".join(assistant.say(sender, "hola, cuanto debo en mi cuenta", client="lakeside"))
    assert "fecha de nacimiento" in asked, asked
    assistant.say(sender, "09/18/1975", client="lakeside")
    told = " ".join(assistant.say(sender, "40089012", client="lakeside"))
    assert "$150.00" in told, told
    reply = " ".join(assistant.say(sender, "quiero hablar con una persona por favor", client="lakeside"))
    assert "representante" in reply, reply
    return sender


def test_a_spanish_handoff_goes_first_to_sofia_and_reads_in_each_partners_language(assistant):
    sofia = login(assistant, "sofia", "sofia-demo-pass")
    alex = login(assistant, "alex", "alex-demo-pass")
    try:
        sender = _carlos_asks_for_a_person_in_spanish(assistant)

        [seen_by_alex] = _waiting(assistant, alex, sender)
        assert (seen_by_alex["language"], seen_by_alex["language_name"]) == ("es", "Spanish")
        assert seen_by_alex["offer"]["claimable"] is False and seen_by_alex["offer"]["reason"] == "first_to_speakers"
        assert "Offered first to partners who speak Spanish" in seen_by_alex["offer"]["words"]
        assert "The conversation is in Spanish." in seen_by_alex["summary"]
        [seen_by_sofia] = _waiting(assistant, sofia, sender)
        assert seen_by_sofia["summary"].startswith("Paciente: Carlos Ramirez") and seen_by_sofia["offer"]["reason"] == "speaks"
        # the queue filters by language
        assert _waiting(assistant, alex, sender, "&language=es") and not _waiting(assistant, alex, sender, "&language=en")
        assert call(assistant, "GET", "/api/handoffs?status=waiting&language=fr", token=alex)[0] == 400

        status, refused, _ = call(assistant, "POST", f"/api/handoffs/{seen_by_alex['id']}/claim", token=alex)
        assert status == 409 and refused["reason"] == "language_first" and "speak Spanish" in refused["error"], refused

        status, for_alex, _ = call(assistant, "GET", f"/api/handoffs/{seen_by_alex['id']}", token=alex)
        assert status == 200 and for_alex["summary_language"] == "en"
        assert "Patient: Carlos Ramirez, verified by date of birth and account number." in for_alex["summary"]
        assert "The conversation is in Spanish." in for_alex["summary"]
        assert '"quiero hablar con una persona por favor"' in for_alex["summary"]

        status, for_sofia, _ = call(assistant, "GET", f"/api/handoffs/{seen_by_alex['id']}", token=sofia)
        assert status == 200 and for_sofia["summary_language"] == "es" and for_sofia["offer"]["claimable"] is True
        assert "Paciente: Carlos Ramirez, verificado con fecha de nacimiento y número de cuenta." in for_sofia["summary"]
        assert "Cuenta 40089012, saldo $150.00." in for_sofia["summary"]
        assert '"quiero hablar con una persona por favor"' in for_sofia["summary"]
        # the approved replies come in Spanish first; no plan offer Lakeside's policy would not allow $150
        snippets = for_sofia["assist"]["snippets"]
        assert snippets[0]["language"] == "es" and snippets[0]["text"].startswith("Hola Carlos")
        assert not [s for s in snippets if s["key"] == "plan_offer"]

        status, claimed, _ = call(assistant, "POST", f"/api/handoffs/{seen_by_alex['id']}/claim", token=sofia)
        assert status == 200 and claimed["claimed_by"] == "sofia"
        status, conversation, _ = call(assistant, "GET", f"/api/conversations/{sender}", token=sofia)
        assert status == 200 and (conversation["language"], conversation["language_name"]) == ("es", "Spanish")
        assert conversation["handoffs"][-1]["summary"].startswith("Paciente: Carlos Ramirez")
        # the supervisor's listing shows the language and filters by it
        sam = login(assistant, "sam", "sam-demo-pass")
        status, listing, _ = call(assistant, "GET", "/api/conversations?language=es", token=sam)
        assert status == 200 and [r["language"] for r in listing["conversations"] if r["id"] == sender] == ["es"]
        status, listing, _ = call(assistant, "GET", "/api/conversations?language=en", token=sam)
        assert sender not in [r["id"] for r in listing["conversations"]]
        status, _, _ = call(assistant, "POST", f"/api/handoffs/{claimed['id']}/close",
                            {"disposition": "information_given", "resume_bot": True}, token=sofia)
        assert status == 200
    finally:
        call(assistant, "POST", "/api/logout", token=sofia)

    # nobody who speaks Spanish is signed in now: the next Spanish handoff is anyone's at once
    sender = _carlos_asks_for_a_person_in_spanish(assistant)
    [waiting] = _waiting(assistant, alex, sender)
    assert waiting["offer"]["claimable"] is True and waiting["offer"]["reason"] == "no_speaker_on_shift"
    status, claimed, _ = call(assistant, "POST", f"/api/handoffs/{waiting['id']}/claim", token=alex)
    assert status == 200 and claimed["claimed_by"] == "alex"
    call(assistant, "POST", f"/api/handoffs/{waiting['id']}/close", {"disposition": "information_given", "resume_bot": True},
         token=alex)
