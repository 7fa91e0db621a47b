"""A client's policy: its limits and numbers, read from the client record.

Every limit the rules use comes from here, so a client changes its
policy without a code change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional
from decimal import Decimal

from billing import campaigns as campaign_rules
from billing import localtime
from billing.campaigns import Campaign
from billing.money import money


@dataclass(frozen=True)
class PlanPolicy:
    min_monthly_payment: Decimal
    min_months: int
    max_months: int
    min_balance: Decimal
    interest_rate: Decimal
    max_missed_payments_before_default: int


@dataclass(frozen=True)
class AssistancePolicy:
    free_care_max_fpl_percent: int
    discount_max_fpl_percent: int
    discount_percent: Decimal
    application_period_days: int


@dataclass(frozen=True)
class OutreachPolicy:
    quiet_hours_local: tuple[str, str]
    max_attempts_per_7_days: int
    sms_enabled: bool
    voice_enabled: bool
    # what the client has approved to send, and when (billing.campaigns)
    campaigns: tuple[Campaign, ...] = ()
    # how often the planner runs for this client; None: OUTREACH_PLAN_EVERY_SECONDS
    plan_every_minutes: Optional[int] = None

    def campaign(self, name: str) -> Optional[Campaign]:
        return next((c for c in self.campaigns if c.name == name), None)


@dataclass(frozen=True)
class ClientPolicy:
    max_identity_attempts: int
    payment_plan: PlanPolicy
    prompt_pay_discount_percent: Decimal
    small_balance_write_off_max: Decimal
    agent_write_off_limit: Decimal
    financial_assistance: AssistancePolicy
    outreach: OutreachPolicy
    departments: dict[str, str] = field(default_factory=dict)
    # when partners take handoffs, local time: {"mon": ["08:00", "20:00"], ...};
    # None: the client staffs its queue around the clock
    partner_hours: Optional[dict[str, tuple[str, str]]] = None
    # voice transfers: a department's partner line, dialled with a whisper;
    # a department without one is an <Enqueue> queue "<client>-<department>"
    partner_lines: dict[str, str] = field(default_factory=dict)
    identity_checks: tuple[str, ...] = ("date_of_birth", "account_number_or_full_name")
    # who approves what moves a patient's money: the least role per kind of
    # approval (a higher role may too); a supervisor unless the client says
    approvals: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_APPROVALS))

    @classmethod
    def from_dict(cls, raw: dict) -> "ClientPolicy":
        plan = raw["payment_plan"]
        fa = raw["financial_assistance"]
        out = raw["outreach"]
        localtime.read_hours(out["quiet_hours_local"])  # refused when read, not when a patient is contacted
        return cls(
            max_identity_attempts=int(raw.get("max_identity_attempts", 3)),
            identity_checks=tuple(raw.get("identity_checks", cls.identity_checks)),
            payment_plan=PlanPolicy(
                min_monthly_payment=money(plan["min_monthly_payment"]),
                min_months=int(plan["min_months"]),
                max_months=int(plan["max_months"]),
                min_balance=money(plan["min_balance"]),
                interest_rate=Decimal(str(plan.get("interest_rate", "0"))),
                max_missed_payments_before_default=int(plan["max_missed_payments_before_default"]),
            ),
            prompt_pay_discount_percent=Decimal(str(raw.get("prompt_pay_discount_percent", "0"))),
            small_balance_write_off_max=money(raw["small_balance_write_off_max"]),
            agent_write_off_limit=money(raw["agent_write_off_limit"]),
            financial_assistance=AssistancePolicy(
                free_care_max_fpl_percent=int(fa["free_care_max_fpl_percent"]),
                discount_max_fpl_percent=int(fa["discount_max_fpl_percent"]),
                discount_percent=Decimal(str(fa["discount_percent"])),
                application_period_days=int(fa["application_period_days"]),
            ),
            outreach=OutreachPolicy(
                quiet_hours_local=tuple(out["quiet_hours_local"]),
                max_attempts_per_7_days=int(out["max_attempts_per_7_days"]),
                sms_enabled=bool(out["sms_enabled"]),
                voice_enabled=bool(out["voice_enabled"]),
                campaigns=campaign_rules.parse(out.get("campaigns")),
                plan_every_minutes=_plan_every(out.get("plan_every_minutes")),
            ),
            departments=dict(raw.get("departments", {})),
            partner_hours=_partner_hours(raw.get("partner_hours")),
            partner_lines=dict(raw.get("partner_lines", {})),
            approvals=_approvals(raw.get("approvals")),
        )


def _plan_every(raw) -> Optional[int]:
    """``outreach.plan_every_minutes``: 1 to 1440 (a day), or absent."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 1440:
        raise ValueError(f"outreach.plan_every_minutes is a whole number of minutes from 1 to 1440 (got {raw!r})")
    return raw


# ``approvals: {refund: supervisor, assistance: supervisor}`` in a client's policy
DEFAULT_APPROVALS = {"refund": "supervisor", "assistance": "supervisor"}
# the desk's roles (billing.staff.ROLES, which imports the models: not
# imported here, so a policy reads without them), least to most
ROLE_ORDER = ("agent", "supervisor", "admin")


def _approvals(raw) -> dict[str, str]:
    """The role that approves each kind; a policy file naming an unknown
    kind or role is refused when it is read, not when money moves."""
    if raw is None:
        return dict(DEFAULT_APPROVALS)
    if not isinstance(raw, dict):
        raise ValueError("approvals: a mapping of refund/assistance to a role")
    approvals = dict(DEFAULT_APPROVALS)
    for kind, role in raw.items():
        if kind not in DEFAULT_APPROVALS:
            raise ValueError(f"approvals: unknown kind {kind!r} (known: {', '.join(DEFAULT_APPROVALS)})")
        if role not in ROLE_ORDER:
            raise ValueError(f"approvals.{kind}: unknown role {role!r} (roles: {', '.join(ROLE_ORDER)})")
        approvals[kind] = role
    return approvals


def role_at_least(role, least: str) -> bool:
    """Whether ``role`` (None: no desk role) is ``least`` or above it."""
    return role in ROLE_ORDER and ROLE_ORDER.index(role) >= ROLE_ORDER.index(least)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _partner_hours(raw) -> Optional[dict[str, tuple[str, str]]]:
    """``{"mon-fri": ["08:00", "20:00"], "sat": ["09:00", "13:00"]}`` by day."""
    if not raw:
        return None
    hours: dict[str, tuple[str, str]] = {}
    for days, span in raw.items():
        first, _, last = str(days).lower().partition("-")
        start, end = DAYS.index(first), DAYS.index(last or first)
        for day in DAYS[start:end + 1]:
            hours[day] = (str(span[0]), str(span[1]))
    return hours


def policy_of(client) -> ClientPolicy:
    return ClientPolicy.from_dict(client.policy)
