"""The campaigns a client runs (its policy's ``outreach.campaigns``) and
which of their steps fall due for an account on a day.

A campaign has a name from a fixed set (each one has its approved
scripts), its channels in order of preference, and a ``when`` that names
the account's date it counts from: ``days_after_statement``,
``days_before_due``, ``days_after_due`` (one number or several: one step
each), ``days_before_installment`` (each plan installment still due) or
``days_after_decline`` (each declined payment).  A step is due from its
day for ``window_days`` days (default 3) in the patient's local calendar,
so a contact deferred by quiet hours, or a day the scheduler did not run,
still goes out, and one whose window passed is never sent late.

A policy naming an unknown campaign, channel or ``when`` is refused when
the policy is read (``CampaignError``), never when a patient is contacted.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from billing.vocabulary import OutreachChannel

# campaign -> the date key it counts from (a campaign's scripts are named after it)
CAMPAIGNS = {
    "statement_ready": "days_after_statement",
    "due_reminder": "days_before_due",
    "past_due": "days_after_due",
    "installment_reminder": "days_before_installment",
    "declined_followup": "days_after_decline",
}
DEFAULT_WINDOW_DAYS = 3


class CampaignError(ValueError):
    """A policy's campaign the rules cannot read."""


@dataclass(frozen=True)
class Campaign:
    name: str
    channels: Tuple[OutreachChannel, ...]
    when: str                     # one of CAMPAIGNS' values
    days: Tuple[int, ...]         # one per step (days_after_due may list several)
    window_days: int = DEFAULT_WINDOW_DAYS

    @property
    def counts_from_statement_due_date(self) -> bool:
        """Reminders about the statement's due date (not a plan's installments)."""
        return self.when in ("days_before_due", "days_after_due")


@dataclass(frozen=True)
class Facts:
    """What an account's campaign days are counted from."""
    statement_date: Optional[dt.date]
    due_date: Optional[dt.date]
    on_plan: bool = False
    # (plan id, installment seq, due date) of installments still due
    installments: Sequence[Tuple[int, int, dt.date]] = ()
    # (payment id, date) of declined payments
    declines: Sequence[Tuple[int, dt.date]] = ()


@dataclass(frozen=True)
class Step:
    campaign: Campaign
    step: str          # with the account and channel, the attempt's unique key
    day: dt.date       # the local day it falls due


def parse(raw) -> Tuple[Campaign, ...]:
    """The campaigns of a policy's ``outreach.campaigns`` (none: no campaigns)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CampaignError("outreach.campaigns: a list of campaigns")
    campaigns, names = [], set()
    for item in raw:
        campaign = _campaign(item)
        if campaign.name in names:
            raise CampaignError(f"outreach.campaigns: {campaign.name!r} is listed twice")
        names.add(campaign.name)
        campaigns.append(campaign)
    return tuple(campaigns)


def _campaign(item) -> Campaign:
    if not isinstance(item, dict) or "name" not in item:
        raise CampaignError(f"outreach.campaigns: each campaign has a name, channels and when (got {item!r})")
    name = str(item["name"])
    if name not in CAMPAIGNS:
        raise CampaignError(f"outreach.campaigns: unknown campaign {name!r} (known: {', '.join(CAMPAIGNS)})")
    channels = item.get("channels")
    if not isinstance(channels, list) or not channels:
        raise CampaignError(f"outreach.campaigns.{name}: channels is a non-empty list (sms, voice)")
    try:
        parsed = tuple(OutreachChannel(str(c)) for c in channels)
    except ValueError:
        raise CampaignError(f"outreach.campaigns.{name}: unknown channel in {channels!r} (channels: sms, voice)") from None
    when = item.get("when")
    if not isinstance(when, dict) or len(when) != 1:
        raise CampaignError(f"outreach.campaigns.{name}: when names one date to count from, e.g. {{{CAMPAIGNS[name]}: 3}}")
    (key, value), = when.items()
    if key != CAMPAIGNS[name]:
        raise CampaignError(f"outreach.campaigns.{name}: when is {CAMPAIGNS[name]} (got {key!r})")
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 365 for v in values):
        raise CampaignError(f"outreach.campaigns.{name}: {key} is a number of days from 0 to 365, or a list of them")
    if len(values) > 1 and key != "days_after_due":
        raise CampaignError(f"outreach.campaigns.{name}: only days_after_due may list several days")
    window = item.get("window_days", DEFAULT_WINDOW_DAYS)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 30:
        raise CampaignError(f"outreach.campaigns.{name}: window_days is 1 to 30")
    return Campaign(name=name, channels=parsed, when=key, days=tuple(sorted(set(values))), window_days=window)


def _steps(campaign: Campaign, facts: Facts) -> Iterable[Tuple[str, dt.date]]:
    """Every step of the campaign for this account and the day each falls due."""
    days = campaign.days
    if campaign.when == "days_after_statement" and facts.statement_date:
        yield f"statement:{facts.statement_date.isoformat()}", facts.statement_date + dt.timedelta(days=days[0])
    elif campaign.when == "days_before_due" and facts.due_date and not facts.on_plan:
        yield f"due:{facts.due_date.isoformat()}", facts.due_date - dt.timedelta(days=days[0])
    elif campaign.when == "days_after_due" and facts.due_date and not facts.on_plan:
        for n in days:
            yield f"due:{facts.due_date.isoformat()}+{n}", facts.due_date + dt.timedelta(days=n)
    elif campaign.when == "days_before_installment":
        for plan_id, seq, due in facts.installments:
            yield f"plan:{plan_id}:{seq}", due - dt.timedelta(days=days[0])
    elif campaign.when == "days_after_decline":
        for payment_id, day in facts.declines:
            yield f"payment:{payment_id}", day + dt.timedelta(days=days[0])


def due_steps(campaigns: Sequence[Campaign], facts: Facts, local_day: dt.date) -> List[Step]:
    """The steps due on the patient's local day: from their day, for the
    campaign's window."""
    due = []
    for campaign in campaigns:
        for step, day in _steps(campaign, facts):
            if day <= local_day < day + dt.timedelta(days=campaign.window_days):
                due.append(Step(campaign, step, day))
    return due


def earliest_day(campaigns: Sequence[Campaign], local_day: dt.date) -> dt.date:
    """The oldest account date a step due today can count from (so the
    planner reads only the installments and declines that matter)."""
    longest = max((max(c.days) + c.window_days for c in campaigns), default=DEFAULT_WINDOW_DAYS)
    return local_day - dt.timedelta(days=longest)
