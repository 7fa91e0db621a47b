"""The desk in two languages (issue 17, item 5), on SQLite and PostgreSQL:
staff users speak languages, a Spanish handoff is offered first to the
partners who speak Spanish and is never stranded, and the partner's
summary is written in the partner's language with the patient's own words
kept as they said them."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from billing import db, handoffs, staff
from billing.clients import get_client
from billing.models import Account, DeskAuditEntry, StaffUser

WINDOW = dt.timedelta(minutes=5)
T0 = dt.datetime(2026, 11, 28, 15, 0)  # naive UTC, like the columns


# --- the rule, with the clock given --------------------------------------------------------

def _waiting(language="es", created_at=T0):
    return SimpleNamespace(language=language, created_at=created_at, department="billing")


def test_a_spanish_handoff_is_offered_first_to_spanish_speakers_for_the_window_then_to_everyone():
    handoff = _waiting()
    # a partner who speaks Spanish may take it at once
    assert handoffs.offer(handoff, ("es", "en"), speakers_on_shift=1, now=T0, window=WINDOW) == handoffs.Offer(True, "speaks")
    # one who does not waits while a Spanish speaker is on shift, until the window ends
    early = handoffs.offer(handoff, ("en",), speakers_on_shift=1, now=T0 + dt.timedelta(minutes=4, seconds=59), window=WINDOW)
    assert (early.claimable, early.reason, early.until) == (False, "first_to_speakers", T0 + WINDOW)
    late = handoffs.offer(handoff, ("en",), speakers_on_shift=1, now=T0 + WINDOW, window=WINDOW)
    assert (late.claimable, late.reason) == (True, "window_over")


def test_with_no_spanish_speaker_on_shift_a_spanish_handoff_is_everyones_at_once():
    offered = handoffs.offer(_waiting(), ("en",), speakers_on_shift=0, now=T0, window=WINDOW)
    assert (offered.claimable, offered.reason) == (True, "no_speaker_on_shift")


def test_an_english_handoff_is_anyones_who_speaks_english():
    assert handoffs.offer(_waiting("en"), ("es", "en"), speakers_on_shift=3, now=T0, window=WINDOW).claimable


def test_the_window_is_a_setting(monkeypatch):
    monkeypatch.setenv(handoffs.LANGUAGE_FIRST_SETTING, "2")
    assert handoffs.language_first_window() == dt.timedelta(minutes=2)
    monkeypatch.setenv(handoffs.LANGUAGE_FIRST_SETTING, "0")
    assert handoffs.offer(_waiting(), ("en",), 1, now=T0).claimable


# --- staff languages -----------------------------------------------------------------------

def test_demo_partners_speak_their_languages(seeded_url):
    with db.session_scope(seeded_url) as session:
        users = {u.username: u for u in session.query(StaffUser)}
        assert users["alex"].languages == "en" and users["sam"].languages == "en"
        assert (users["sofia"].role, users["sofia"].languages) == ("agent", "es en")
        assert staff.authenticate(session, "sofia", "sofia-demo-pass", "10.0.0.1").username == "sofia"


def test_a_users_languages_are_checked_and_their_change_is_audited(db_url):
    with db.session_scope(db_url) as session:
        with pytest.raises(staff.StaffError) as refused:
            staff.add_user(session, "lu", "Lu", "agent", "long-enough-pw", created_by="test", languages="es,fr")
        assert refused.value.reason == "bad_language"
        user = staff.add_user(session, "lu", "Lu", "agent", "long-enough-pw", created_by="test")
        assert user.languages == "en"
        staff.set_languages(session, "lu", "es, en", actor="sam")
        assert user.languages == "es en"
        entry = session.execute(select(DeskAuditEntry).where(DeskAuditEntry.action == "user.languages")).scalar_one()
        assert (entry.actor, entry.before, entry.after) == ("sam", {"languages": ["en"]}, {"languages": ["es", "en"]})
        with pytest.raises(staff.StaffError):
            staff.set_languages(session, "nobody", "es", actor="sam")


# --- claiming, with who is on shift from the desk's sessions ---------------------------------

def _open_spanish(session, conversation="es-1", now=None, department="billing"):
    facts = handoffs.Facts(reason="asked_for_person", channel="SMS", phone="(555) 010-1008", asked=["quiero hablar con alguien"])
    handoff, _ = handoffs.open_handoff(
        session, client=get_client(session, "lakeside"), conversation_id=conversation, channel="twilio_sms", department=department,
        reason="asked_for_person", summary=handoffs.summary_text(facts), facts=facts, language="es", now=now)
    return handoff


def _sign_in(session, username, now):
    user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one()
    staff.start_session(session, user, now=now)


def test_alex_waits_for_sofia_while_she_is_on_shift_then_may_claim(seeded_url):
    opened = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.timezone.utc)
    with db.session_scope(seeded_url) as session:
        _sign_in(session, "sofia", T0 - dt.timedelta(hours=1))
        handoff = _open_spanish(session, now=opened)
        assert handoff.language == "es"
        assert staff.speakers_on_shift(session, "es", "billing", T0) == ["sofia"]
        with pytest.raises(handoffs.HandoffError) as refused:
            handoffs.claim(session, handoff.id, "alex", now=T0 + dt.timedelta(minutes=1))
        assert refused.value.reason == "language_first" and refused.value.until == T0 + handoffs.language_first_window()
        # a supervisor manages the queue and may take it
        assert handoffs.offer_to(session, handoff, "sam", T0).claimable
        # after the window, it is everyone's
        claimed = handoffs.claim(session, handoff.id, "alex", now=T0 + handoffs.language_first_window())
        assert claimed.claimed_by == "alex"


def test_sofia_claims_a_spanish_handoff_at_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        _sign_in(session, "sofia", T0 - dt.timedelta(minutes=30))
        handoff = _open_spanish(session, now=T0.replace(tzinfo=dt.timezone.utc))
        assert handoffs.claim(session, handoff.id, "sofia", now=T0).claimed_by == "sofia"


def test_a_spanish_handoff_is_not_stranded_when_no_spanish_speaker_is_signed_in(seeded_url):
    with db.session_scope(seeded_url) as session:
        # sofia signed in yesterday and her session is over: nobody who speaks Spanish is on shift
        _sign_in(session, "sofia", T0 - dt.timedelta(hours=staff.SESSION_HOURS + 1))
        handoff = _open_spanish(session, now=T0.replace(tzinfo=dt.timezone.utc))
        assert staff.speakers_on_shift(session, "es", "billing", T0) == []
        offered = handoffs.offer_to(session, handoff, "alex", T0)
        assert (offered.claimable, offered.reason) == (True, "no_speaker_on_shift")
        assert handoffs.claim(session, handoff.id, "alex", now=T0).claimed_by == "alex"


def test_a_spanish_speaker_who_works_another_queue_is_not_waited_for(seeded_url):
    with db.session_scope(seeded_url) as session:
        staff.add_user(session, "ines", "Inés", "agent", "long-enough-pw", created_by="test", departments=["insurance"],
                       languages="es")
        _sign_in(session, "ines", T0 - dt.timedelta(minutes=5))
        handoff = _open_spanish(session, now=T0.replace(tzinfo=dt.timezone.utc))
        assert staff.speakers_on_shift(session, "es", "billing", T0) == []
        assert handoffs.offer_to(session, handoff, "alex", T0).reason == "no_speaker_on_shift"


# --- the summary in the partner's language ----------------------------------------------------

def _carlos_facts():
    return handoffs.Facts(
        reason="asked_for_person", channel="SMS", phone="(555) 010-1008", patient_name="Carlos Ramirez",
        verified_by="date of birth and account number", account_number="40089012", balance=Decimal("150.00"),
        asked=["quiero un plan de pagos", "no puedo pagar todo, quiero hablar con alguien"],
        tried=["told the balance", "offered a payment plan"])


def test_sofia_reads_carlos_summary_in_spanish_with_his_own_words():
    text = handoffs.summary_text(_carlos_facts(), "es", conversation_language="es")
    assert text.startswith("Paciente: Carlos Ramirez, verificado con fecha de nacimiento y número de cuenta.")
    assert "Cuenta 40089012, saldo $150.00." in text
    assert "Transferido porque el paciente pidió hablar con una persona." in text
    assert 'Pidió (palabras del paciente): "quiero un plan de pagos"; "no puedo pagar todo, quiero hablar con alguien".' in text
    assert "El asistente: dijo el saldo; ofreció un plan de pagos." in text
    assert "La conversación es en" not in text  # she reads the conversation's own language


def test_alex_reads_it_in_english_told_the_conversation_is_in_spanish_with_the_words_untranslated():
    text = handoffs.summary_text(_carlos_facts(), "en", conversation_language="es")
    assert "Patient: Carlos Ramirez, verified by date of birth and account number." in text
    assert "The conversation is in Spanish." in text
    assert '"quiero un plan de pagos"' in text and "Assistant did: told the balance; offered a payment plan." in text


def test_the_summary_kept_with_a_handoff_is_rendered_for_each_reader(seeded_url):
    with db.session_scope(seeded_url) as session:
        facts = _carlos_facts()
        facts.plan = {"status": "active", "months": 3, "monthly_amount": Decimal("50.00"), "paid": 1, "missed": 0}
        handoff, _ = handoffs.open_handoff(
            session, client=get_client(session, "lakeside"), conversation_id="sms:+15550101008", channel="twilio_sms",
            department="billing", reason="asked_for_person", summary=handoffs.summary_text(facts), facts=facts, language="es")
        session.flush()
        session.expire(handoff)
        assert "plan de pagos activo de 3 x $50.00, 1 pagados, 0 sin pagar" in handoffs.summary_for(handoff, "es")
        assert "active payment plan of 3 x $50.00, 1 paid, 0 missed" in handoffs.summary_for(handoff, "en")
        assert handoffs.as_dict(handoff)["language_name"] == "Spanish"


def test_every_phrase_the_code_puts_in_a_summary_has_its_spanish():
    from billing.vocabulary import Channel
    from bot import capabilities

    english = {words for c in capabilities.CAPABILITIES for words in c.handoff_words.values()}
    english |= set(handoffs.REASONS.values()) | {channel.words for channel in Channel}
    assert sorted(words for words in english if words not in handoffs.SUMMARY_WORDS_ES) == []
    assert handoffs.summary_word("failed on our side (action_confirm_payment)", "es") == "falló de nuestro lado (action_confirm_payment)"


# --- what the patient hears, in their language ------------------------------------------------

def test_partner_hours_and_the_transfer_recap_in_spanish(seeded_url):
    with db.session_scope(seeded_url) as session:
        client = get_client(session, "lakeside")
    hours = {"mon": ("08:00", "20:00"), "tue": ("08:00", "20:00"), "wed": ("08:00", "20:00"), "thu": ("08:00", "20:00"),
             "fri": ("08:00", "20:00"), "sat": ("09:00", "13:30")}
    staffed = dataclasses.replace(client, policy=dataclasses.replace(client.policy, partner_hours=hours))
    assert handoffs.hours_text(staffed, "es") == "de lunes a viernes de 8 a. m. a 8 p. m., sábado de 9 a. m. a 1:30 p. m."
    assert handoffs.hours_text(client, "es") == "todos los días, a toda hora"
    facts = _carlos_facts()
    assert handoffs.patient_recap(facts, "es") == ('usted es Carlos Ramirez, cuenta 40089012 con un saldo de $150.00, '
                                                   'y usted preguntó por "quiero un plan de pagos"')
    facts.patient_name = facts.verified_by = None
    assert handoffs.patient_recap(facts, "es") == 'usted preguntó por "quiero un plan de pagos"; primero confirmarán quién es usted'


# --- the assist panel -------------------------------------------------------------------------

def test_carlos_partner_is_not_offered_a_plan_snippet_lakeside_does_not_allow(seeded_url, monkeypatch):
    from desk import assist

    monkeypatch.setenv("DATABASE_URL", seeded_url)
    with db.session_scope(seeded_url) as session:
        account = session.execute(select(Account).where(Account.account_number == "40089012")).scalar_one()
        handoff, _ = handoffs.open_handoff(
            session, client=get_client(session, "lakeside"), conversation_id="sms:+15550101008", channel="twilio_sms",
            department="billing", reason="asked_for_person", summary="s", facts=_carlos_facts(), language="es",
            patient_id=account.patient_id, account_id=account.id, verified=True)
        handoff_id = handoff.id
    panel = assist.panel(handoff_id)
    keys = [(s["key"], s["language"]) for s in panel["snippets"]]
    assert keys[0] == ("greeting", "es") and ("payment_link", "es") in keys
    assert not any(key == "plan_offer" for key, _ in keys)


# --- statements and claim explanations in the patient's language -------------------------------

def test_carlos_itemized_statement_is_in_spanish(seeded_url):
    import io

    from pypdf import PdfReader

    from billing import statements

    with db.session_scope(seeded_url) as session:
        carlos = session.execute(select(Account).where(Account.account_number == "40089012")).scalar_one()
        pdf = statements.render_pdf(statements.build(session, carlos, today=dt.date(2026, 12, 8)))
    # the words as a reader sees them, whatever line a long one wraps onto
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    for expected in ("Estado de cuenta detallado", "Paciente: Carlos Ramirez", "Cuenta: 40089012",
                     "Fecha del estado de cuenta: 8 de diciembre de 2026", "Servicios", "Descripción", "Reclamos al seguro",
                     "reclamo CLM-26-000330", "facturado $1,500.00", "permitido $450.00", "pagado $300.00",
                     "su responsabilidad $150.00", "PR-2", "el coseguro", "CO-45", "Movimientos de la cuenta",
                     "Pago del seguro Pago de Blue Cross Blue Shield of Illinois del reclamo CLM-26-000330",
                     "Ajuste CO-45 de Blue Cross Blue Shield of Illinois en el reclamo CLM-26-000330", "Saldo a pagar: $150.00"):
        assert expected in text, expected
    for english in ("Balance due", "Statement date", "Insurance claims", "What it means", "payment on claim", "on claim"):
        assert english not in text, english


def test_every_adjustment_code_we_explain_has_its_spanish():
    from billing import eob

    assert sorted(set(eob.REASONS) ^ set(eob.REASONS_ES)) == []
    assert eob.explain_code("PR", "2", "es") == ("PR-2 significa el coseguro: su porcentaje de la cantidad permitida "
                                                 "después del deducible")
    assert eob.explain_code("CO", "999", "es") is None


def test_what_carlos_owes_on_his_claim_is_said_in_spanish(seeded_url):
    from billing import eob

    with db.session_scope(seeded_url) as session:
        carlos = session.execute(select(Account).where(Account.account_number == "40089012")).scalar_one()
        explained = eob.explain_claim(carlos.claims[0])
    assert eob.owed_words(explained, "es") == "$150.00 de coseguro"
    assert eob.owed_words(explained) == "$150.00 coinsurance"
    both = dataclasses.replace(explained, deductible=Decimal("300.00"), copay=Decimal("25.00"))
    assert eob.owed_words(both, "es") == "su deducible de $300.00, $150.00 de coseguro y su copago de $25.00"
    assert eob.owed_words(both) == "your $300.00 deductible, $150.00 coinsurance and your $25.00 copay"


def test_a_partner_answering_the_phone_queue_takes_the_longest_waiting_call_whatever_its_language(seeded_url):
    with db.session_scope(seeded_url) as session:
        _sign_in(session, "sofia", T0 - dt.timedelta(minutes=5))
        handoff = _open_spanish(session, now=T0.replace(tzinfo=dt.timezone.utc))
        assert handoffs.claim(session, handoff.id, "phone:+15550109999", now=T0).status == "active"


def test_plan_terms_and_a_policy_group_are_said_in_the_conversations_language():
    from billing import insurance, plans
    from billing.plans import PlanTerms

    even = PlanTerms(months=6, monthly=Decimal("50.00"), last=Decimal("50.00"))
    odd = PlanTerms(months=3, monthly=Decimal("137.50"), last=Decimal("137.49"))
    assert plans.terms_words(even, "es") == "6 pagos mensuales de $50.00"
    assert plans.terms_words(odd, "es") == "3 pagos mensuales de $137.50, el último de $137.49"
    assert plans.terms_words(odd) == "3 monthly payments of $137.50, the last one $137.49"
    assert plans.offers_words([odd, even], "es") == "3 meses de $137.50 o 6 meses de $50.00"
    assert plans.offers_words([odd, even, even]) == "3 months at $137.50, 6 months at $50.00 or 6 months at $50.00"
    assert insurance.group_words("G402", "es") == "grupo G402" and insurance.group_words(None, "es") == "sin número de grupo"
    assert insurance.group_words(None) == "no group number"


@pytest.mark.parametrize("written, read", [
    ("Patient payment P-7Q2K9 (Visa ending 4242)", "Pago del paciente P-7Q2K9 (Visa terminada en 4242)"),
    ("Financial assistance FA-1001 (75%)", "Asistencia financiera FA-1001 (75%)"),
    ("Dispute D-1002 resolved: duplicate charge removed", "Disputa D-1002 resuelta: duplicate charge removed"),
    ("Balance moved to Humana for re-billing", "Saldo enviado a Humana para volver a facturar"),
    ("Re-billed to Humana: remaining balance back to patient responsibility",
     "Facturado otra vez a Humana: el saldo restante vuelve a ser responsabilidad del paciente"),
    ("Refund of credit by card to card ending 4444", "Reembolso del crédito a la tarjeta terminada en 4444"),
    ("Refund of credit by check", "Reembolso del crédito por cheque"),
    ("Small balance written off (at or under $10.00)", "Saldo pequeño cancelado (igual o menor a $10.00)"),
    ("Emergency department visit, level 4", "Emergency department visit, level 4"),  # the hospital's own words stay
])
def test_the_ledger_descriptions_billing_writes_read_in_spanish_on_a_statement(written, read):
    from billing import statements

    assert statements.description_words(written, "es") == read
    assert statements.description_words(written) == written
