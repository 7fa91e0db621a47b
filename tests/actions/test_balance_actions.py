"""check_balance: the balance action with rasa-sdk trackers against a
seeded billing database (the real billing core, nothing mocked)."""
from __future__ import annotations

from bot.actions.balance import ActionCheckBalance
from tests.actions.helpers import run, said, tracker


def test_balance_is_never_told_before_verification(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(intent="check_balance"))
    assert all("balance" not in (m.get("response") or "") for m in messages)
    assert not any("412.50" in str(m) for m in messages)


def test_maria_hears_her_balance_and_due_date(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance"
    assert (messages[0]["balance"], messages[0]["due_date"], messages[0]["account_number"]) == ("$412.50", "December 10, 2026", "40012345")


def test_a_credit_is_said_as_a_credit(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-aisha-khan"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance_credit" and messages[0]["credit"] == "$85.00"


def test_plan_status_and_last_payment_are_told(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-linda-nguyen"}, intent="check_balance"))
    assert said(messages) == ["utter_balance", "utter_balance_last_payment", "utter_balance_plan_active", "utter_balance_plan_missed"]
    assert messages[2]["next_due_date"] == "December 1, 2026"


def test_several_accounts_are_listed(seeded_sqlite):
    from billing import db, ledger
    from billing.models import Account

    with db.session_scope() as session:
        account = Account(account_number="40012399", client_id="riverside", patient_id="p-maria-garcia")
        session.add(account)
        session.flush()
        ledger.post(session, account, kind="charge", amount="25.00", reason_code="SVC-36415", description="lab", actor="test")
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance_several" and messages[0]["count"] == 2
    assert [m["account_number"] for m in messages if m["response"] == "utter_balance"] == ["40012345", "40012399"]


def _next_step(patient_id: str, client_id: str) -> list:
    from rasa_sdk.executor import CollectingDispatcher

    from billing import db
    from billing.clients import get_client
    from bot.actions.balance import offer_next

    dispatcher = CollectingDispatcher()
    with db.session_scope() as session:
        offer_next(dispatcher, session, get_client(session, client_id), patient_id)
    return said(dispatcher.messages)


def test_after_the_balance_a_plan_is_offered_only_where_the_clients_policy_allows_one(seeded_sqlite):
    # Maria owes Riverside $412.50 (plans from $100.00): paying or a plan
    assert _next_step("p-maria-garcia", "riverside") == ["utter_balance_next"]
    # Carlos owes Lakeside $150.00, under its $300.00 minimum for a plan: paying all or part, not a plan
    assert _next_step("p-carlos-ramirez", "lakeside") == ["utter_balance_next_no_plan"]
    # Linda has a plan running: nothing to press for
    assert _next_step("p-linda-nguyen", "riverside") == ["utter_anything_else"]


def test_the_offer_without_a_plan_does_not_mention_one_in_either_language():
    import yaml

    from selfpay.settings import PROJECT_ROOT

    responses = yaml.safe_load((PROJECT_ROOT / "bot/domain/balance.yml").read_text())["responses"]
    texts = [variant["text"] for variant in responses["utter_balance_next_no_plan"]]
    assert len(texts) == 2 and not any("plan" in text.lower() for text in texts)
    assert any("plan" in variant["text"].lower() for variant in responses["utter_balance_next"])
