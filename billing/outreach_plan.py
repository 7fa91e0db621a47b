"""The outreach planner: for a moment in time, every contact a client's
campaigns make due, and whether each is sent, skipped or deferred, and why.

It decides and changes nothing (``selfpay outreach plan``); the run
(billing.outreach_run) records and sends the rows it says to send.  The
rules, in the order a compliance officer reads them:

1. a step already attempted (any channel) is not sent again: ``already_sent``;
   a campaign a supervisor paused sends nothing: ``paused``;
2. held: an open dispute, an open assistance application, a balance with
   insurance for re-billing, a partner's hold (``hold``);
3. not chased: nothing owed or a credit (``nothing_owed``), a balance at or
   under the client's small-balance line (``small_balance``);
4. a number someone told us is a wrong number is never contacted (``wrong_number``);
5. the channel: the campaign's first channel, in its order, that the client
   has switched on (``channel_disabled``), with a number on file
   (``no_address``), the patient's consent for it (``no_consent``), no
   opt-out of that number from this client on any channel (``opted_out``:
   a STOP ends the client's texts and calls to it), and for a call no
   conversation with the patient in the last 7 days (``recent_conversation``);
6. at most the client's attempts per 7 days per account, all channels and
   this plan's own sends counted (deferred, ``cap_reached``, until the
   oldest counted attempt is 7 days old);
7. never in the client's quiet hours in the patient's local time (their
   address's zone, else the client's): deferred until they end (``quiet_hours``).

Everything is read in a few queries per client, so 10,000 accounts plan in
seconds.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Set, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import campaigns as campaign_rules
from billing import localtime
from billing.campaigns import Campaign, Facts, Step
from billing.contact import normalise_phone
from billing.models import (
    Account,
    AssistanceApplication,
    Client,
    ContactPreference,
    Dispute,
    Handoff,
    IdentityCheck,
    InsuranceTransfer,
    LedgerEntry,
    OutreachAttempt,
    OutreachHold,
    OutreachPause,
    Patient,
    Payment,
    PaymentPlan,
    PlanInstallment,
)
from billing.money import format_money, money
from billing.policy import ClientPolicy, policy_of
from billing.vocabulary import (
    ApplicationStatus,
    DisputeStatus,
    InstallmentStatus,
    OutreachChannel,
    OutreachDecision,
    OutreachReason,
    OutreachStatus,
    PaymentStatus,
    PlanStatus,
    TransferStatus,
)

WEEK = dt.timedelta(days=7)
WRONG_NUMBER_SOURCE = "wrong number"   # billing.outreach opt-outs recorded when someone says so
# when no channel of a campaign may be used, the reason shown is the weightiest
CHANNEL_REASONS = (OutreachReason.OPTED_OUT, OutreachReason.NO_CONSENT, OutreachReason.RECENT_CONVERSATION,
                   OutreachReason.NO_ADDRESS, OutreachReason.CHANNEL_DISABLED)


@dataclass
class Contact:
    """One contact that is due: what was decided and why."""
    client: str
    account: str
    account_id: int
    patient: str
    campaign: str
    step: str
    channel: Optional[str]
    to: Optional[str]
    language: str
    decision: OutreachDecision
    reason: OutreachReason
    detail: str = ""
    until: Optional[dt.datetime] = None       # a deferral: not before (UTC)
    local_time: str = ""                      # the patient's wall clock at the moment planned
    status: Optional[str] = None              # the attempt's status, once there is one
    attempt_id: Optional[int] = None

    def as_dict(self) -> dict:
        return {
            "client": self.client, "account": self.account, "patient": self.patient, "campaign": self.campaign,
            "step": self.step, "channel": self.channel, "to": self.to, "language": self.language,
            "decision": self.decision.value, "reason": self.reason.value, "detail": self.detail,
            "until": self.until.isoformat() if self.until else None, "local_time": self.local_time,
            "status": str(self.status) if self.status else None, "attempt": self.attempt_id,
        }


@dataclass
class _ClientFacts:
    """What the rules read, for all of one client's accounts at once."""
    balances: Dict[int, Decimal] = field(default_factory=dict)
    holds: Dict[int, List[str]] = field(default_factory=lambda: defaultdict(list))
    opt_outs: Dict[str, List[str]] = field(default_factory=lambda: defaultdict(list))   # address -> sources
    talked: Set[str] = field(default_factory=set)                                         # patient ids
    attempted: Dict[Tuple[int, str, str], OutreachAttempt] = field(default_factory=dict)  # (account, campaign, step)
    recent: Dict[int, List[dt.datetime]] = field(default_factory=lambda: defaultdict(list))  # account -> attempt times
    on_plan: Set[int] = field(default_factory=set)
    installments: Dict[int, List[Tuple[int, int, dt.date]]] = field(default_factory=lambda: defaultdict(list))
    declines: Dict[int, List[Tuple[int, dt.date]]] = field(default_factory=lambda: defaultdict(list))
    paused: Set[str] = field(default_factory=set)


def plan(session: Session, now: dt.datetime, client_id: Optional[str] = None) -> List[Contact]:
    """Every contact due at ``now`` (an aware moment) for every client, or one."""
    if now.tzinfo is None:
        raise ValueError("plan at an aware moment (billing.clock.now_aware())")
    query = select(Client).order_by(Client.id)
    if client_id:
        query = query.where(Client.id == client_id)
    contacts: List[Contact] = []
    for client in session.execute(query).scalars():
        policy = policy_of(client)
        if policy.outreach.campaigns:
            contacts += _plan_client(session, client, policy, now)
    return contacts


def _plan_client(session: Session, client: Client, policy: ClientPolicy, now: dt.datetime) -> List[Contact]:
    facts = _read(session, client, policy, now)
    rows = session.execute(
        select(Account, Patient).join(Patient, Account.patient_id == Patient.id)
        .where(Account.client_id == client.id).order_by(Account.account_number)
    ).all()
    contacts: List[Contact] = []
    for account, patient in rows:
        local = now.astimezone(localtime.zone(localtime.zone_name(patient.state, patient.zip_code, client.timezone)))
        account_facts = Facts(
            statement_date=account.statement_date, due_date=account.due_date, on_plan=account.id in facts.on_plan,
            installments=facts.installments.get(account.id, ()), declines=facts.declines.get(account.id, ()),
        )
        steps = campaign_rules.due_steps(policy.outreach.campaigns, account_facts, local.date())
        planned: List[dt.datetime] = []
        for step in steps:
            contact = _decide(client, policy, facts, account, patient, step, now, local, planned)
            if contact.decision is OutreachDecision.SEND:
                planned.append(now)
            contacts.append(contact)
    return contacts


def _decide(client: Client, policy: ClientPolicy, facts: _ClientFacts, account: Account, patient: Patient, step: Step,
            now: dt.datetime, local: dt.datetime, planned: List[dt.datetime]) -> Contact:
    campaign = step.campaign
    phone = normalise_phone(patient.phone or "")
    contact = Contact(
        client=client.id, account=account.account_number, account_id=account.id, patient=patient.id,
        campaign=campaign.name, step=step.step, channel=None, to=phone, language=patient.language or "en",
        decision=OutreachDecision.SKIP, reason=OutreachReason.DUE, local_time=local.strftime("%Y-%m-%d %H:%M %Z"),
    )

    def skip(reason: OutreachReason, detail: str = "") -> Contact:
        contact.decision, contact.reason, contact.detail = OutreachDecision.SKIP, reason, detail
        return contact

    earlier = facts.attempted.get((account.id, campaign.name, step.step))
    if earlier is not None:
        contact.channel, contact.to, contact.status, contact.attempt_id = earlier.channel, earlier.to, earlier.status, earlier.id
        return skip(OutreachReason.ALREADY_SENT, f"attempted {earlier.created_at.isoformat(timespec='minutes')} UTC")
    if campaign.name in facts.paused:
        return skip(OutreachReason.PAUSED, "paused by a supervisor")
    if facts.holds.get(account.id):
        return skip(OutreachReason.HOLD, "; ".join(facts.holds[account.id]))
    balance = facts.balances.get(account.id, money(0))
    if balance <= 0:
        return skip(OutreachReason.NOTHING_OWED, f"a credit of {format_money(-balance)}" if balance < 0 else "balance is zero")
    if balance <= policy.small_balance_write_off_max:
        return skip(OutreachReason.SMALL_BALANCE,
                    f"{format_money(balance)} is at or under {format_money(policy.small_balance_write_off_max)}")
    if phone and any(s.startswith(WRONG_NUMBER_SOURCE) for s in facts.opt_outs.get(phone, ())):
        return skip(OutreachReason.WRONG_NUMBER, "someone at this number said it is not the patient's")

    channel, refusals = _channel(campaign, policy, facts, patient, phone)
    if channel is None:
        reason = next(r for r in CHANNEL_REASONS if r in refusals.values())
        contact.channel = next(c.value for c, r in refusals.items() if r is reason)
        return skip(reason, ", ".join(f"{c.value}: {r.value}" for c, r in refusals.items()))
    contact.channel = channel.value

    counted = sorted(facts.recent.get(account.id, []) + planned)
    if len(counted) >= policy.outreach.max_attempts_per_7_days:
        contact.decision, contact.reason = OutreachDecision.DEFER, OutreachReason.CAP_REACHED
        contact.until = counted[-policy.outreach.max_attempts_per_7_days] + WEEK
        contact.detail = f"{len(counted)} attempts in the last 7 days (at most {policy.outreach.max_attempts_per_7_days})"
        return contact
    hours = localtime.read_hours(policy.outreach.quiet_hours_local)
    if localtime.in_quiet_hours(local, hours):
        contact.decision, contact.reason = OutreachDecision.DEFER, OutreachReason.QUIET_HOURS
        contact.until = localtime.quiet_hours_end(local, hours).astimezone(dt.timezone.utc)
        contact.detail = f"quiet {hours[0].strftime('%H:%M')}-{hours[1].strftime('%H:%M')} where the patient lives"
        return contact
    contact.decision, contact.reason = OutreachDecision.SEND, OutreachReason.DUE
    contact.detail = f"due {step.day.isoformat()} ({campaign.when.replace('_', ' ')} {','.join(map(str, campaign.days))})"
    if refusals:   # the channels preferred to this one, and why not
        contact.detail += "; not " + ", ".join(f"{c.value}: {r.value}" for c, r in refusals.items())
    return contact


def _channel(campaign: Campaign, policy: ClientPolicy, facts: _ClientFacts, patient: Patient,
             phone: Optional[str]) -> Tuple[Optional[OutreachChannel], Dict[OutreachChannel, OutreachReason]]:
    """The first of the campaign's channels every rule allows, or None with
    why each was refused."""
    refusals: Dict[OutreachChannel, OutreachReason] = {}
    for channel in campaign.channels:
        enabled = policy.outreach.sms_enabled if channel is OutreachChannel.SMS else policy.outreach.voice_enabled
        consent = patient.consent_sms if channel is OutreachChannel.SMS else patient.consent_voice
        if not enabled:
            refusals[channel] = OutreachReason.CHANNEL_DISABLED
        elif not phone:
            refusals[channel] = OutreachReason.NO_ADDRESS
        elif not consent:
            refusals[channel] = OutreachReason.NO_CONSENT
        elif facts.opt_outs.get(phone):
            refusals[channel] = OutreachReason.OPTED_OUT
        elif channel is OutreachChannel.VOICE and patient.id in facts.talked:
            refusals[channel] = OutreachReason.RECENT_CONVERSATION
        else:
            return channel, refusals
    return None, refusals


def _read(session: Session, client: Client, policy: ClientPolicy, now: dt.datetime) -> _ClientFacts:
    facts = _ClientFacts()
    at = now.astimezone(dt.timezone.utc).replace(tzinfo=None)   # what the columns hold
    today = now.date()
    accounts = select(Account.id).where(Account.client_id == client.id).scalar_subquery()
    in_client = lambda column: column.in_(accounts)  # noqa: E731

    facts.balances = {a: (total if total is not None else money(0)) for a, total in session.execute(
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount)).where(in_client(LedgerEntry.account_id))
        .group_by(LedgerEntry.account_id))}
    for account_id, reference in session.execute(
            select(Dispute.account_id, Dispute.reference).where(in_client(Dispute.account_id), Dispute.status == DisputeStatus.OPEN)):
        facts.holds[account_id].append(f"dispute {reference} open")
    for account_id, reference, ends in session.execute(
            select(AssistanceApplication.account_id, AssistanceApplication.reference, AssistanceApplication.window_ends)
            .where(in_client(AssistanceApplication.account_id), AssistanceApplication.status == ApplicationStatus.OPEN,
                   AssistanceApplication.window_ends >= today)):
        facts.holds[account_id].append(f"assistance application {reference} open until {ends.isoformat()}")
    for account_id, in session.execute(select(InsuranceTransfer.account_id).where(
            in_client(InsuranceTransfer.account_id), InsuranceTransfer.status == TransferStatus.OPEN)):
        facts.holds[account_id].append("balance with insurance for re-billing")
    for account_id, reason, by in session.execute(select(OutreachHold.account_id, OutreachHold.reason, OutreachHold.placed_by).where(
            in_client(OutreachHold.account_id), OutreachHold.lifted_at.is_(None))):
        facts.holds[account_id].append(f"partner's hold ({by}): {reason}")

    for address, source in session.execute(select(ContactPreference.address, ContactPreference.source).where(
            ContactPreference.client_id == client.id, ContactPreference.opted_out.is_(True))):
        facts.opt_outs[address].append(source or "")

    since = at - WEEK
    facts.talked = set(session.execute(select(IdentityCheck.patient_id).where(
        IdentityCheck.client_id == client.id, IdentityCheck.outcome == "verified", IdentityCheck.at > since,
        IdentityCheck.at <= at, IdentityCheck.patient_id.is_not(None))).scalars())
    facts.talked |= set(session.execute(select(Handoff.patient_id).where(
        Handoff.client_id == client.id, Handoff.created_at > since, Handoff.created_at <= at,
        Handoff.patient_id.is_not(None))).scalars())

    for attempt in session.execute(select(OutreachAttempt).where(OutreachAttempt.client_id == client.id)).scalars():
        facts.attempted.setdefault((attempt.account_id, attempt.campaign, attempt.step), attempt)
        counted = attempt.sent_at is not None or attempt.status in (OutreachStatus.QUEUED, OutreachStatus.SENDING)
        when = attempt.sent_at or attempt.created_at
        if counted and since < when <= at:
            facts.recent[attempt.account_id].append(when.replace(tzinfo=dt.timezone.utc))

    facts.on_plan = set(session.execute(select(PaymentPlan.account_id).where(
        in_client(PaymentPlan.account_id), PaymentPlan.status == PlanStatus.ACTIVE)).scalars())
    for account_id, plan_id, seq, due in session.execute(
            select(PaymentPlan.account_id, PlanInstallment.plan_id, PlanInstallment.seq, PlanInstallment.due_date)
            .join(PaymentPlan, PlanInstallment.plan_id == PaymentPlan.id)
            .where(in_client(PaymentPlan.account_id), PaymentPlan.status == PlanStatus.ACTIVE,
                   PlanInstallment.status == InstallmentStatus.DUE,
                   PlanInstallment.due_date >= today - dt.timedelta(days=31),
                   PlanInstallment.due_date <= today + dt.timedelta(days=366))):
        facts.installments[account_id].append((plan_id, seq, due))
    earliest = campaign_rules.earliest_day(policy.outreach.campaigns, today) - dt.timedelta(days=1)
    for account_id, payment_id, day in session.execute(select(Payment.account_id, Payment.id, Payment.payment_date).where(
            in_client(Payment.account_id), Payment.status == PaymentStatus.DECLINED, Payment.payment_date >= earliest)):
        facts.declines[account_id].append((payment_id, day))

    facts.paused = set(session.execute(select(OutreachPause.campaign).where(
        OutreachPause.client_id == client.id, OutreachPause.paused.is_(True))).scalars())
    return facts


def counts(contacts: Sequence[Contact]) -> Dict[str, int]:
    """How many contacts were sent, skipped and deferred, and for each reason."""
    out: Dict[str, int] = defaultdict(int)
    for contact in contacts:
        out[contact.decision.value] += 1
        if contact.decision is not OutreachDecision.SEND:
            out[f"{contact.decision.value}:{contact.reason.value}"] += 1
    return dict(out)
