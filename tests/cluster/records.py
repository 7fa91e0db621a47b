"""What the drills read back from a cluster's databases after the fact:
payments and their ledger entries, the demo account's totals, and each
conversation's patient turns as the tracker store holds them (raw SQL:
amounts in integer cents)."""
from __future__ import annotations

import json
from collections import Counter, defaultdict

import sqlalchemy as sa

DEMO_ACCOUNT = "40012345"  # Maria's, $412.50 seeded: every drill conversation pays $1 on it


def _rows(url: str, sql: str, **params) -> list:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


def account_totals(cluster) -> tuple[int, int]:
    """(the demo account's ledger total, what conversations paid on it), in cents."""
    url = cluster.env["DATABASE_URL"]
    paid = _rows(url, "SELECT COALESCE(SUM(amount), 0) FROM payments p JOIN accounts a ON a.id = p.account_id "
                      "WHERE a.account_number = :n AND p.status = 'posted' AND p.conversation_id IS NOT NULL", n=DEMO_ACCOUNT)
    total = _rows(url, "SELECT COALESCE(SUM(l.amount), 0) FROM ledger_entries l JOIN accounts a ON a.id = l.account_id "
                       "WHERE a.account_number = :n", n=DEMO_ACCOUNT)
    return int(total[0][0]), int(paid[0][0])


def conversation_payments(cluster) -> tuple[list, dict, Counter]:
    """(every payment a conversation made, those payments by conversation id,
    how many ledger entries each payment's source has)."""
    url = cluster.env["DATABASE_URL"]
    payments = _rows(url, "SELECT conversation_id, confirmation_number, amount, status, id FROM payments "
                          "WHERE conversation_id IS NOT NULL ORDER BY id")
    ledger = Counter(row.source for row in _rows(url, "SELECT source FROM ledger_entries WHERE source LIKE 'payment:%'"))
    by_conversation = defaultdict(list)
    for row in payments:
        by_conversation[row.conversation_id].append(row)
    return payments, by_conversation, ledger


def patient_turns(cluster) -> dict:
    """Each conversation's patient messages, in the order the tracker store keeps them."""
    said = defaultdict(list)
    for row in _rows(cluster.env["TRACKER_STORE_URL"], "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"):
        said[row.sender_id].append(json.loads(row.data).get("text"))
    return said
