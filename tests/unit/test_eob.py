"""Explanations of benefits from the demo claims (SQLite and PostgreSQL)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from billing import db, eob
from billing.models import Claim


def _claim(url, number):
    with db.session_scope(url) as session:
        return eob.explain_claim(session.execute(select(Claim).where(Claim.claim_number == number)).scalar_one())


def test_maria_owes_her_deductible_and_coinsurance_and_not_the_contractual_write_off(seeded_url):
    item = _claim(seeded_url, "CLM-26-000101")
    assert (item.billed, item.allowed, item.paid) == (Decimal("1900.00"), Decimal("1050.00"), Decimal("637.50"))
    assert (item.deductible, item.coinsurance, item.copay) == (Decimal("300.00"), Decimal("112.50"), Decimal("0.00"))
    assert item.patient_owes == Decimal("412.50") and item.written_off == Decimal("850.00") and not item.denied


def test_emilys_claim_was_denied_because_coverage_ended(seeded_url):
    item = _claim(seeded_url, "CLM-26-000301")
    assert item.denied and item.denied_reasons == (("PR", "27"),)
    assert "after your coverage ended" in eob.explain_code("PR", "27")


def test_at_least_forty_common_codes_are_explained_in_plain_words_and_unknown_ones_are_not_invented():
    assert len(eob.REASONS) >= 40
    for code in ("1", "2", "3", "16", "18", "22", "27", "29", "45", "50", "96", "97", "109", "197", "204", "242"):
        assert eob.explain_code("CO", code)
    assert eob.explain_code("CO", "45").startswith("CO-45 means the charge is above the rate")
    assert eob.explain_code("CO", "9999") is None
