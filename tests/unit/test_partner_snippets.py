"""The desk's approved snippets come in English and Spanish, the
patient's language first (desk/assist.py)."""
from __future__ import annotations

from types import SimpleNamespace

from billing.clients import ClientInfo
from billing.policy import ClientPolicy
from desk.assist import snippets

CLIENT = ClientInfo("lakeside", "Lakeside Medical Center", "+15550100200", "America/Chicago", ClientPolicy.__new__(ClientPolicy))
FACTS = {"patient_first_name": "Carlos", "balance": "$150.00", "financial_counseling_phone": "(555) 010-0200"}


def test_a_spanish_speaking_patients_snippets_come_in_spanish_first_and_english_too():
    handoff = SimpleNamespace(verified=True, department="billing")
    listed = snippets(handoff, CLIENT, FACTS, "es")
    assert [(s["key"], s["language"]) for s in listed[:2]] == [("greeting", "es"), ("greeting", "en")]
    assert listed[0]["text"].startswith("Hola Carlos, soy un representante de facturación de Lakeside Medical Center.")
    assert listed[1]["text"].startswith("Hi Carlos, this is a billing partner at Lakeside Medical Center.")
    plan = [s["text"] for s in listed if s["key"] == "plan_offer"]
    assert plan == ["Su saldo es de $150.00. Lakeside Medical Center ofrece planes de pagos sin intereses; si quiere, puedo hacerle uno ahora.",
                    "Your balance is $150.00. Lakeside Medical Center offers interest-free payment plans; I can set one up for you now if you'd like."]


def test_an_english_speaking_patients_snippets_come_in_english_first():
    listed = snippets(SimpleNamespace(verified=False, department="disputes"), CLIENT, {**FACTS, "patient_first_name": "there"})
    assert [s["language"] for s in listed] == ["en", "es"] * (len(listed) // 2)
    assert {s["key"] for s in listed} == {"greeting", "dispute_received", "verify_first", "anything_else"}
