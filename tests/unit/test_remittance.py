"""835 remittances: the figures of ../shared/data/835/EXPECTED.md, the
problems a correct reader reports, and posting to the ledger once (SQLite
and PostgreSQL)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import cli, db, ledger, remittance, x12
from billing.models import Account
from tests.conftest import SHARED_DATA

FOLDER = SHARED_DATA / "835"
D = Decimal


def _read(name):
    result = x12.read((FOLDER / name).read_text(), name)
    return result.remittances, result.problems


def _claims(remittances):
    return {c.claim_id: (c.charge, c.paid, c.patient_responsibility) for r in remittances for c in r.claims}


@pytest.mark.parametrize("name, totals, claims", [
    ("lfh_managed-care.835", [D("945.00")],
     {"5554555444": (D("800.00"), D("450.00"), D("300.00")), "8765432112": (D("1200.00"), D("495.00"), D("600.00"))}),
    ("lfh_cob-contractural-adjustment.835", [D("34.00")], {"0001000055": (D("541.00"), D("34.00"), D("0"))}),
    ("lfh_tertiary-payment.835", [D("187.50")], {"0001000054": (D("1766.50"), D("187.50"), D("0"))}),
    ("e835p_blue_cross_nc_sample.835", [D("1922.86")], {"200200964A52": (D("2100"), D("1922.86"), D("142.54"))}),
    ("affect_nevada_medicaid.835", [D("0"), D("0"), D("1812.27")],
     {"77777777": (D("72232"), D("0"), D("0")), "77777778": (D("3002"), D("0"), D("0")), "77777779": (D("41231.04"), D("0"), D("0"))}),
    ("pyx12_835_mult_loops.835", [D("0")], {"2005555A": (D("915.39"), D("0"), D("0"))}),
    ("tigershark_5010_dental_predetermination.835", [D("1790")],
     {"PRECERTIFICATION": (D("3790"), D("0"), D("0")), "EDI PAID": (D("3790"), D("1790"), D("2000")),
      "EDI DENIED": (D("3790"), D("0"), D("3790"))}),
])
def test_the_expected_figures(name, totals, claims):
    remittances, _problems = _read(name)
    assert [r.total_paid for r in remittances] == totals
    assert _claims(remittances) == claims


def test_every_claim_balances_and_every_transaction_balances_on_the_clean_files():
    for name in ("lfh_managed-care.835", "e835p_blue_cross_nc_sample.835", "pyx12_835_mult_loops.835", "affect_nevada_medicaid.835"):
        _remittances, problems = _read(name)
        assert not [p for p in problems if "is not the sum" in p or "BPR02" in p], (name, problems)


def test_patient_share_detail_reads_every_cas_triplet():
    remittances, _ = _read("affect_sample_835.835")
    st1002 = next(r for r in remittances if r.control_number == "1002")
    second = st1002.claims[1]
    assert [(a.group, a.reason, a.amount) for a in second.adjustments if a.group == "PR"] == [("PR", "2", D("21")), ("PR", "23", D("-13.65"))]
    assert second.patient_responsibility == D("7.35")
    st1001 = next(r for r in remittances if r.control_number == "1001")
    assert st1001.total_paid == D("141.13") and st1002.total_paid == D("1.78")
    assert [c.patient_responsibility for c in st1001.claims] == [D("20")] * 4
    remittances, _ = _read("e835p_blue_cross_nc_sample.835")
    assert [(a.group, a.reason, a.amount) for a in remittances[0].claims[0].adjustments] == [
        ("CO", "42", D("34.6")), ("PR", "2", D("117.54")), ("PR", "3", D("25"))]


def test_a_negative_adjustment_and_a_different_component_separator_are_kept():
    remittances, problems = _read("lfh_cob-contractural-adjustment.835")
    assert ("OA", "94", D("-9.00")) in [(a.group, a.reason, a.amount) for a in remittances[0].claims[0].adjustments]
    assert remittances[0].claims[0].lines[0].procedure == "HC>55669"
    assert any("component separator" in p for p in problems)


def test_dirty_placeholders_invalid_dates_and_envelope_mismatches_are_reported_not_accepted():
    _, problems = _read("affect_sample_835.835")
    assert sum("grp_code" in p for p in problems) == 2 and sum("provider adjustment" in p for p in problems) == 2
    _, problems = _read("lfh_managed-care.835")
    assert any("20002316" in p for p in problems)
    _, problems = _read("affect_nevada_medicaid.835")
    assert any("IEA02" in p for p in problems)
    remittances, problems = _read("affect_nevada_medicaid.835")
    assert sum(p.amount for p in remittances[2].provider_adjustments) == D("-1812.27")


def test_a_predetermination_is_not_a_bill():
    remittances, problems = _read("tigershark_5010_dental_predetermination.835")
    pre = remittances[0].claims[0]
    assert pre.is_predetermination and pre.patient_responsibility == D("0.00")
    assert any("predetermination" in p for p in problems)


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("hello world", "not an X12 file"),
    ("ISA*00*", "no X12 envelope"),
])
def test_unreadable_files_are_reported(text, words):
    result = x12.read(text, "bad.835")
    assert result.remittances == [] and words in result.problems[0]


def test_a_half_broken_file_keeps_what_it_can_read_and_reports_the_rest():
    text = (FOLDER / "lfh_managed-care.835").read_text()
    broken = text[: text.index("CLP*8765432112")] + "CLP*8765432112*1*12x0.00*495.00~CAS*CO*A2~"
    result = x12.read(broken, "broken.835")
    assert [c.claim_id for c in result.remittances[0].claims] == ["5554555444", "8765432112"]
    assert any("not an amount" in p for p in result.problems)
    assert any("not readable" in p for p in result.problems)


# a secondary payer pays $100.00 of James's $1,850.00 deductible; another claim is not ours
JAMES_835 = (
    "ISA*00*          *00*          *ZZ*SECONDARY      *ZZ*RIVERSIDE      *261120*1200*^*00501*000000101*0*P*:~"
    "GS*HP*SECONDARY*RIVERSIDE*20261120*1200*101*X*005010X221A1~ST*835*0001~"
    "BPR*I*150.00*C*CHK************20261120~TRN*1*EFT-2026-0101*1234567890~N1*PR*Secondary Health~"
    "LX*1~CLP*CLM-26-000102*2*1850.00*100.00*1750.00*12*SEC-99~CAS*PR*1*1750.00~"
    "SVC*HC:70553*1850.00*100.00~"
    "LX*2~CLP*CLM-99-UNKNOWN*1*50.00*50.00**12*X~SE*10*0001~GE*1*101~IEA*1*000000101~"
)


def _balance(url, number):
    with db.session_scope(url) as session:
        return ledger.balance(session, session.execute(select(Account).where(Account.account_number == number)).scalar_one())


def test_an_import_posts_once_and_reports_an_unknown_claim(seeded_url, tmp_path):
    path = tmp_path / "secondary.835"
    path.write_text(JAMES_835)
    with db.session_scope(seeded_url) as session:
        report = remittance.import_path(session, path)
    assert report.posted == ["835:EFT-2026-0101:CLM-26-000102:2:paid"]
    assert report.unmatched == ["secondary.835 0001 CLM-99-UNKNOWN"]
    assert _balance(seeded_url, "40023456") == D("1750.00")
    with db.session_scope(seeded_url) as session:
        again = remittance.import_path(session, path)
    assert again.posted == [] and again.already == report.posted
    assert _balance(seeded_url, "40023456") == D("1750.00")


def test_the_command_prints_json_for_the_shared_folder(seeded_sqlite, capsys):
    assert cli.main(["import-835", str(FOLDER), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by_file = {}
    for tr in out["transactions"]:
        by_file.setdefault(tr["file"], []).append(tr)
    assert [t["total_paid"] for t in by_file["affect_nevada_medicaid.835"]] == ["0", "0", "1812.27"]
    blue = by_file["e835p_blue_cross_nc_sample.835"][0]["claims"][0]
    assert (blue["id"], blue["charge"], blue["paid"], blue["patient_responsibility"]) == ("200200964A52", "2100", "1922.86", "142.54")
    assert {"group": "PR", "reason": "2", "amount": "117.54"} in blue["adjustments"]
    assert out["problems"] and out["posted"] == []  # none of these claims is one of ours
    assert len(out["unmatched_claims"]) == 17


def _claim_figures(result):
    return [(c.claim_id, c.charge, c.paid, c.patient_share) for tr in result.remittances for c in tr.claims]


@pytest.mark.parametrize("name", ["e835p_blue_cross_nc_sample.835", "lfh_managed-care.835", "pyx12_835_mult_loops.835"])
def test_a_terminator_at_the_start_of_every_line_reads_as_the_compact_file(name):
    compact = (FOLDER / name).read_text()
    segments = [s.strip("\r\n") for s in compact.split("~") if s.strip()]
    # as some 4010 generators write it: a line break, then the terminator, before each segment
    leading = segments[0] + "\n" + "".join(f"~{s}\n" for s in segments[1:]) + "~\n"
    expected, got = x12.read(compact, name), x12.read(leading, name)
    assert _claim_figures(got) == _claim_figures(expected) and len(_claim_figures(got)) >= 1
    assert [t.total_paid for t in got.remittances] == [t.total_paid for t in expected.remittances]
    assert got.problems == expected.problems


def test_a_file_with_an_envelope_and_no_transaction_is_a_problem_and_exits_1(tmp_path, seeded_sqlite, capsys):
    text = (FOLDER / "lfh_managed-care.835").read_text()
    envelope = "~".join(s for s in text.split("~") if s.strip()[:2] in ("IS", "GS", "GE", "IE")) + "~"
    result = x12.read(envelope, "empty.835")
    assert result.remittances == [] and any("no 835 transaction" in p for p in result.problems)
    path = tmp_path / "empty.835"
    path.write_text(envelope)
    assert cli.main(["import-835", str(path)]) == 1
    assert "no 835 transaction" in capsys.readouterr().out
