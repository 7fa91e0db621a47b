"""SQLAlchemy models of the billing database.

Tables only: the rules that use them live in the service modules
(ledger, identity, accounts, seed ...).  Money columns hold whole cents
(``Money``) so sums are exact on SQLite and PostgreSQL alike.
"""
from __future__ import annotations


from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from billing import clock
from billing.money import from_cents, to_cents

Base = declarative_base()


utcnow = clock.utcnow  # the column default for "when": the one clock


class Money(TypeDecorator):
    """A Decimal amount stored as integer cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_cents(value)

    def process_result_value(self, value, dialect):
        return None if value is None else from_cents(value)


class Client(Base):
    """A client health system, with the policy it has approved."""

    __tablename__ = "clients"
    id = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    phone_number = Column(String(20), nullable=False, unique=True)
    timezone = Column(String(64), nullable=False)
    policy = Column(JSON, nullable=False)

    patients = relationship("Patient", back_populates="client")


class Patient(Base):
    __tablename__ = "patients"
    id = Column(String(64), primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    date_of_birth = Column(Date, nullable=False, index=True)
    phone = Column(String(20), index=True)
    email = Column(String(200))
    address_line1 = Column(String(200))
    city = Column(String(100))
    state = Column(String(2))
    zip_code = Column(String(10))
    language = Column(String(8), nullable=False, default="en")
    consent_sms = Column(Boolean, nullable=False, default=False)
    consent_voice = Column(Boolean, nullable=False, default=False)
    household_size = Column(Integer)
    annual_income = Column(Money)

    client = relationship("Client", back_populates="patients")
    accounts = relationship("Account", back_populates="patient", order_by="Account.account_number")
    insurance_policies = relationship("InsurancePolicy", back_populates="patient")
    payment_methods = relationship("PaymentMethod", back_populates="patient")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class InsurancePolicy(Base):
    __tablename__ = "insurance_policies"
    id = Column(Integer, primary_key=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    payer = Column(String(200), nullable=False)
    member_id = Column(String(64), nullable=False)
    group_number = Column(String(64))
    priority = Column(String(16), nullable=False, default="primary")
    active = Column(Boolean, nullable=False, default=True)
    termination_date = Column(Date)
    # verified: on file and checked; pending_verification: given by the patient, awaiting a partner;
    # rejected: a partner could not confirm it
    status = Column(String(32), nullable=False, default="verified")
    subscriber = Column(String(200))
    effective_date = Column(Date)
    reported_at = Column(DateTime)
    reported_by = Column(String(64))
    conversation_id = Column(String(128))
    verified_at = Column(DateTime)
    verified_by = Column(String(64))
    status_note = Column(String(500))

    patient = relationship("Patient", back_populates="insurance_policies")


class Account(Base):
    """A patient account (one guarantor bill) at a client."""

    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    account_number = Column(String(32), nullable=False, unique=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    statement_date = Column(Date)
    due_date = Column(Date)

    patient = relationship("Patient", back_populates="accounts")
    encounters = relationship("Encounter", back_populates="account", order_by="Encounter.date_of_service")
    ledger_entries = relationship("LedgerEntry", back_populates="account", order_by="LedgerEntry.id")
    payments = relationship("Payment", back_populates="account", order_by="Payment.id")
    payment_plans = relationship("PaymentPlan", back_populates="account", order_by="PaymentPlan.id")
    claims = relationship("Claim", back_populates="account", order_by="Claim.id")


class Encounter(Base):
    __tablename__ = "encounters"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    date_of_service = Column(Date, nullable=False)
    kind = Column(String(40), nullable=False)

    account = relationship("Account", back_populates="encounters")
    service_lines = relationship("ServiceLine", back_populates="encounter", order_by="ServiceLine.id")
    claims = relationship("Claim", back_populates="encounter", order_by="Claim.id")


class ServiceLine(Base):
    __tablename__ = "service_lines"
    id = Column(Integer, primary_key=True)
    encounter_id = Column(Integer, ForeignKey("encounters.id"), nullable=False, index=True)
    code = Column(String(16), nullable=False)
    description = Column(String(300), nullable=False)
    charge = Column(Money, nullable=False)

    encounter = relationship("Encounter", back_populates="service_lines")


class Claim(Base):
    __tablename__ = "claims"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    encounter_id = Column(Integer, ForeignKey("encounters.id"), index=True)
    payer = Column(String(200), nullable=False)
    claim_number = Column(String(64), nullable=False, unique=True)
    billed = Column(Money, nullable=False)
    allowed = Column(Money, nullable=False)
    paid = Column(Money, nullable=False)
    status = Column(String(32), nullable=False, default="processed")

    account = relationship("Account", back_populates="claims")
    encounter = relationship("Encounter", back_populates="claims")
    adjustments = relationship("ClaimAdjustment", back_populates="claim", order_by="ClaimAdjustment.id")


class ClaimAdjustment(Base):
    __tablename__ = "claim_adjustments"
    id = Column(Integer, primary_key=True)
    claim_id = Column(Integer, ForeignKey("claims.id"), nullable=False, index=True)
    group_code = Column(String(2), nullable=False)   # CO, PR, OA, PI, CR
    reason_code = Column(String(8), nullable=False)  # CARC
    amount = Column(Money, nullable=False)

    claim = relationship("Claim", back_populates="adjustments")


class LedgerEntry(Base):
    """One immutable line of an account's ledger.

    ``amount`` is signed from the patient's side: a charge raises what the
    patient owes (+), a payment or adjustment lowers it (-).  Entries are
    never updated or deleted; a correction is a new entry.
    """

    __tablename__ = "ledger_entries"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    kind = Column(String(32), nullable=False)
    amount = Column(Money, nullable=False)
    effective_date = Column(Date, nullable=False)
    posted_at = Column(DateTime, nullable=False, default=utcnow)
    reason_code = Column(String(32), nullable=False)
    description = Column(String(300), nullable=False)
    actor = Column(String(64), nullable=False)
    # what produced the entry, so a re-run can tell it was already posted
    source = Column(String(120), unique=True)

    account = relationship("Account", back_populates="ledger_entries")


class PaymentMethod(Base):
    """A card on file: the gateway's token and what a person may see."""

    __tablename__ = "payment_methods"
    id = Column(Integer, primary_key=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    gateway = Column(String(32), nullable=False)
    token = Column(String(128), nullable=False, unique=True)
    brand = Column(String(20), nullable=False)
    last4 = Column(String(4), nullable=False)
    exp_month = Column(Integer, nullable=False)
    exp_year = Column(Integer, nullable=False)
    is_default = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    patient = relationship("Patient", back_populates="payment_methods")


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    payment_method_id = Column(Integer, ForeignKey("payment_methods.id"))
    amount = Column(Money, nullable=False)
    # posted, declined, pending, scheduled, cancelled
    status = Column(String(16), nullable=False)
    decline_code = Column(String(32))
    card_brand = Column(String(20))
    card_last4 = Column(String(4))
    method = Column(String(16), nullable=False, default="card")
    payment_date = Column(Date, nullable=False)
    idempotency_key = Column(String(120), nullable=False, unique=True)
    confirmation_number = Column(String(32), unique=True)
    note = Column(String(300))
    actor = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # the processor's reference of the charge
    gateway_reference = Column(String(40))
    # a reprocessing attempt names the declined payment it retries
    retry_of_id = Column(Integer, ForeignKey("payments.id"))
    settled_at = Column(DateTime)

    account = relationship("Account", back_populates="payments")
    payment_method = relationship("PaymentMethod")


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    start_date = Column(Date, nullable=False)
    monthly_amount = Column(Money, nullable=False)
    months = Column(Integer, nullable=False)
    day_of_month = Column(Integer, nullable=False)
    # active, completed, defaulted, cancelled
    status = Column(String(16), nullable=False)
    missed_payments = Column(Integer, nullable=False, default=0)
    payment_method_id = Column(Integer, ForeignKey("payment_methods.id"))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(64), nullable=False)

    account = relationship("Account", back_populates="payment_plans")
    payment_method = relationship("PaymentMethod")
    installments = relationship("PlanInstallment", back_populates="plan", order_by="PlanInstallment.seq")


class PlanInstallment(Base):
    __tablename__ = "plan_installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("payment_plans.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    due_date = Column(Date, nullable=False)
    amount = Column(Money, nullable=False)
    # due, paid, missed
    status = Column(String(16), nullable=False, default="due")
    payment_id = Column(Integer, ForeignKey("payments.id"))

    plan = relationship("PaymentPlan", back_populates="installments")


class PaymentLink(Base):
    """A one-time secure payment page: only a hash of its token is kept."""

    __tablename__ = "payment_links"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    amount = Column(Money, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
    payment_id = Column(Integer, ForeignKey("payments.id"))
    created_by = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))

    account = relationship("Account")
    payment = relationship("Payment")


class Dispute(Base):
    """A patient's dispute of a charge, tracked to resolution."""

    __tablename__ = "disputes"
    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    service_line_id = Column(Integer, ForeignKey("service_lines.id"))
    # duplicate, not_received, amount_wrong, insurance_should_pay, quality_of_care
    reason = Column(String(32), nullable=False)
    description = Column(String(1000))
    # open, adjusted, upheld
    status = Column(String(16), nullable=False, default="open")
    opened_at = Column(DateTime, nullable=False, default=utcnow)
    opened_by = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))
    resolved_at = Column(DateTime)
    resolved_by = Column(String(64))
    resolution = Column(String(1000))
    adjustment_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))

    account = relationship("Account")
    service_line = relationship("ServiceLine")


class InboundMessage(Base):
    """A webhook delivery already answered (Twilio retries with the same
    id): the answer is given again instead of processing twice."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    message_id = Column(String(64), nullable=False)
    client_id = Column(String(40))
    received_at = Column(DateTime, nullable=False, default=utcnow)
    response = Column(String(20000))


class AccountEvent(Base):
    """Audit trail: who changed what on an account or patient, when and why."""

    __tablename__ = "account_events"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    actor = Column(String(64), nullable=False)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), index=True)
    action = Column(String(64), nullable=False)
    reason = Column(String(300), nullable=False)
    before = Column(JSON)
    after = Column(JSON)


class IdentityCheck(Base):
    """One verification attempt: outcome only, never the answers given."""

    __tablename__ = "identity_checks"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32))
    # verified, no_match, locked (this conversation), patient_locked (refused: the patient's lock)
    outcome = Column(String(16), nullable=False)
    patient_id = Column(String(64), ForeignKey("patients.id"))


class IdentityFailure(Base):
    """A failed attempt counted against the patient the account number or
    name named (billing/identity.py): never the answers given."""

    __tablename__ = "identity_failures"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False)
    channel = Column(String(32))


class IdentityLock(Base):
    """Self-service verification of one patient locked after too many
    failures (DESIGN.md, Identity); a partner may lift it, with a note."""

    __tablename__ = "identity_locks"
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    locked_at = Column(DateTime, nullable=False)
    locked_until = Column(DateTime, nullable=False)
    unlocked_at = Column(DateTime)
    unlocked_by = Column(String(64))
    unlock_note = Column(String(500))


class ContactPreference(Base):
    """Consent withdrawn (or given back) for one address on one channel."""

    __tablename__ = "contact_preferences"
    __table_args__ = (UniqueConstraint("client_id", "channel", "address"),)
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False)
    channel = Column(String(16), nullable=False)   # sms, voice, all
    address = Column(String(200), nullable=False)  # phone number (E.164) or conversation id
    opted_out = Column(Boolean, nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    source = Column(String(200), nullable=False)


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False)
    channel = Column(String(32))
    phone = Column(String(20), nullable=False)
    preferred_time = Column(String(200))
    patient_id = Column(String(64), ForeignKey("patients.id"))
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(DateTime, nullable=False, default=utcnow)


class RefundRequest(Base):
    """A patient's request to have a credit paid back, for a partner to
    approve; an approved refund posts to the ledger once."""

    __tablename__ = "refund_requests"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    amount = Column(Money, nullable=False)
    # card (to the card the credit was paid with) or check (mailed to the address on file)
    method = Column(String(8), nullable=False)
    payment_method_id = Column(Integer, ForeignKey("payment_methods.id"))
    # requested, refunded, denied, failed
    status = Column(String(16), nullable=False, default="requested")
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    requested_by = Column(String(64), nullable=False)
    conversation_id = Column(String(128))
    decided_at = Column(DateTime)
    decided_by = Column(String(64))
    decision_note = Column(String(500))
    ledger_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))
    gateway_reference = Column(String(40))

    account = relationship("Account")
    payment_method = relationship("PaymentMethod")


class WriteOffRequest(Base):
    """A partner's write-off above the client's agent limit, waiting for a
    supervisor; approving it posts the write-off once."""

    __tablename__ = "write_off_requests"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    amount = Column(Money, nullable=False)
    reason_code = Column(String(32), nullable=False)
    reason = Column(String(300), nullable=False)
    # requested, approved, denied
    status = Column(String(16), nullable=False, default="requested")
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    requested_by = Column(String(64), nullable=False)
    decided_at = Column(DateTime)
    decided_by = Column(String(64))
    decision_note = Column(String(500))
    ledger_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))

    account = relationship("Account")


class AssistanceApplication(Base):
    """A financial assistance application: screened, open for the client's
    application window (collection outreach held), then approved (the
    assistance adjustment posts) or denied."""

    __tablename__ = "assistance_applications"
    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    household_size = Column(Integer, nullable=False)
    annual_income = Column(Money, nullable=False)
    fpl_percent = Column(Integer, nullable=False)
    # free_care, discount, not_likely: the screening when it was opened
    screening = Column(String(16), nullable=False)
    discount_percent = Column(Money, nullable=False)
    # open, approved, denied, expired
    status = Column(String(16), nullable=False, default="open")
    opened_at = Column(DateTime, nullable=False, default=utcnow)
    opened_by = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))
    window_ends = Column(Date, nullable=False)
    decided_at = Column(DateTime)
    decided_by = Column(String(64))
    decision_note = Column(String(500))
    adjustment_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))

    account = relationship("Account")


class Handoff(Base):
    """A conversation handed to a partner: queued, claimed, closed.

    What was said stays in the tracker store; this row holds the queue
    state, the summary written at handoff and the partner's disposition."""

    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    # billing, insurance, financial_counseling, disputes
    department = Column(String(32), nullable=False)
    # asked_for_person, repeated_fallback, verification_locked, voice_silence, dispute, outside_policy
    reason = Column(String(32), nullable=False)
    # waiting, active, closed
    status = Column(String(16), nullable=False, default="waiting", index=True)
    # the summary in English as written at handoff (the voice whisper reads it)
    summary = Column(String(4000), nullable=False)
    # what the summary says, as data (billing.handoffs.Facts): the desk renders it in the reading partner's language
    facts = Column(JSON)
    # the conversation's language at handoff (en, es): who is offered it first (billing.handoffs.offer)
    language = Column(String(8), nullable=False, default="en", server_default="en")
    patient_id = Column(String(64), ForeignKey("patients.id"))
    account_id = Column(Integer, ForeignKey("accounts.id"))
    verified = Column(Boolean, nullable=False, default=False)
    after_hours = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_at = Column(DateTime)
    claimed_by = Column(String(64))
    closed_at = Column(DateTime)
    closed_by = Column(String(64))
    # paid, plan_set_up, dispute_opened, information_given, callback, transferred, unresolved
    disposition = Column(String(32))
    note = Column(String(2000))
    resume_bot = Column(Boolean)

    patient = relationship("Patient")
    account = relationship("Account")


class StaffUser(Base):
    """A partner, supervisor or admin who signs in to the desk."""

    __tablename__ = "staff_users"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    # agent, supervisor, admin
    role = Column(String(16), nullable=False)
    # the handoff queues an agent works, space-separated; none named: every queue
    departments = Column(String(200))
    # the languages the user speaks, space-separated, the one they read best first ("es en")
    languages = Column(String(40), nullable=False, default="en", server_default="en")
    password_hash = Column(String(300), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(64), nullable=False)


class StaffSession(Base):
    """A signed-in desk session: a page cookie or an API bearer token.
    Only the token's hash is stored."""

    __tablename__ = "staff_sessions"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    ended_at = Column(DateTime)

    user = relationship("StaffUser")


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    username = Column(String(64), nullable=False, index=True)
    remote = Column(String(64), nullable=False)
    succeeded = Column(Boolean, nullable=False)


class DeskAuditEntry(Base):
    """Every desk action: who, when, what, before and after."""

    __tablename__ = "desk_audit"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(200), nullable=False)
    before = Column(JSON)
    after = Column(JSON)


class InsuranceTransfer(Base):
    """Patient responsibility moved back to insurance while a claim is
    re-billed: a ledger transfer out when opened, the same amount back when
    the re-billed claim is settled.  Statements are held while it is open."""

    __tablename__ = "insurance_transfers"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    policy_id = Column(Integer, ForeignKey("insurance_policies.id"), nullable=False)
    amount = Column(Money, nullable=False)
    status = Column(String(16), nullable=False, default="open")
    reason = Column(String(300), nullable=False)
    opened_at = Column(DateTime, nullable=False, default=utcnow)
    opened_by = Column(String(64), nullable=False)
    ledger_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))
    closed_at = Column(DateTime)
    closed_by = Column(String(64))
    close_note = Column(String(500))
    return_entry_id = Column(Integer, ForeignKey("ledger_entries.id"))

    account = relationship("Account")
    policy = relationship("InsurancePolicy")


class ContactChange(Base):
    """A change to a patient's address, phone, email or legal name: what it
    was, what it became, who asked, and the notice sent to the old phone or
    email.  A legal name change waits for a partner to see proof."""

    __tablename__ = "contact_changes"
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    field = Column(String(16), nullable=False)  # address, phone, email, name
    old_value = Column(String(500))
    new_value = Column(String(500), nullable=False)
    status = Column(String(16), nullable=False)  # applied, pending_review, approved, denied
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    requested_by = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))
    decided_at = Column(DateTime)
    decided_by = Column(String(64))
    decision_note = Column(String(500))
    notice_to = Column(String(200))
    notice_status = Column(String(64))

    patient = relationship("Patient")


class StatementDelivery(Base):
    """An itemized statement sent to a patient: a one-time link (only the
    token's hash is kept) by chat or text, or a copy queued for mail."""

    __tablename__ = "statement_deliveries"
    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    delivery = Column(String(16), nullable=False)  # link, sms, mail
    token_hash = Column(String(64), unique=True)
    sent_to = Column(String(300))
    status = Column(String(16), nullable=False)  # sent, queued, mailed, downloaded, failed
    created_at = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(64), nullable=False)
    channel = Column(String(32))
    conversation_id = Column(String(128))
    expires_at = Column(DateTime)
    downloaded_at = Column(DateTime)
    failed_checks = Column(Integer, nullable=False, default=0)
    mailed_at = Column(DateTime)
    mailed_by = Column(String(64))

    account = relationship("Account")


class OutreachAttempt(Base):
    """One contact a campaign made (billing.outreach_run): recorded before
    it is handed to Twilio, keyed on (account, campaign, step, channel) so
    a second run or a retried task never sends it twice; the provider's
    status callbacks move its status."""

    __tablename__ = "outreach_attempts"
    __table_args__ = (UniqueConstraint("account_id", "campaign", "step", "channel"),)
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    patient_id = Column(String(64), ForeignKey("patients.id"), nullable=False, index=True)
    campaign = Column(String(40), nullable=False)
    step = Column(String(64), nullable=False)
    channel = Column(String(8), nullable=False)        # sms, voice
    to = Column(String(20), nullable=False)
    language = Column(String(8), nullable=False)
    # billing.vocabulary.OutreachStatus
    status = Column(String(16), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    sent_at = Column(DateTime)
    status_at = Column(DateTime)
    provider_sid = Column(String(64), index=True)     # the message or call SID
    error_code = Column(String(16))
    error = Column(String(500))
    tries = Column(Integer, nullable=False, default=0)
    answered_by = Column(String(32))                  # a call: human, machine_start ...

    account = relationship("Account")
    patient = relationship("Patient")


class OutreachHold(Base):
    """A partner's hold on an account's outreach, with the reason; lifted, not deleted."""

    __tablename__ = "outreach_holds"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    reason = Column(String(300), nullable=False)
    placed_at = Column(DateTime, nullable=False, default=utcnow)
    placed_by = Column(String(64), nullable=False)
    lifted_at = Column(DateTime)
    lifted_by = Column(String(64))

    account = relationship("Account")


class OutreachPause(Base):
    """A client's campaign paused by a supervisor (nothing of it is sent
    while paused); resuming keeps the row with who resumed it."""

    __tablename__ = "outreach_pauses"
    __table_args__ = (UniqueConstraint("client_id", "campaign"),)
    id = Column(Integer, primary_key=True)
    client_id = Column(String(40), ForeignKey("clients.id"), nullable=False)
    campaign = Column(String(40), nullable=False)
    paused = Column(Boolean, nullable=False)
    changed_at = Column(DateTime, nullable=False, default=utcnow)
    changed_by = Column(String(64), nullable=False)


class OutreachPace(Base):
    """The next free send slot of one sending number (billing.outreach_pace),
    shared by every worker: seconds since the epoch, real time."""

    __tablename__ = "outreach_pace"
    number = Column(String(20), primary_key=True)
    next_slot = Column(Float, nullable=False)


class OutreachSchedule(Base):
    """When the planner last ran for a client (billing.outreach_run.claim_due_clients):
    seconds since the epoch, real time; claimed in one conditional update."""

    __tablename__ = "outreach_schedule"
    client_id = Column(String(40), ForeignKey("clients.id"), primary_key=True)
    last_planned = Column(Float, nullable=False)


class DeskConversation(Base):
    """The desk's own summary of one conversation, projected from Rasa's
    event broker (desk/projection.py): what the listing, the KPIs and the
    QA flags read.  Times are epoch seconds, as Rasa stamps events."""

    __tablename__ = "desk_conversations"
    id = Column(String(255), primary_key=True)  # Rasa's sender id
    client_id = Column(String(40))
    channel = Column(String(16))
    language = Column(String(8))
    started_at = Column(Float, nullable=False)
    last_at = Column(Float, nullable=False, index=True)
    events = Column(Integer, nullable=False, default=0)
    patient_turns = Column(Integer, nullable=False, default=0)
    intents = Column(JSON, nullable=False, default=list)  # every intent seen, in order
    actions = Column(JSON, nullable=False, default=list)  # distinct action names run
    paused = Column(Boolean, nullable=False, default=False)
    verified_at = Column(Float)
    detail_before_verification = Column(Integer, nullable=False, default=0)
    max_fallbacks_in_a_row = Column(Integer, nullable=False, default=0)
    opt_out_at = Column(Float)
    opt_out_honoured = Column(Boolean, nullable=False, default=True)
    messages_after_opt_out = Column(Integer, nullable=False, default=0)


class DeskConversationEvent(Base):
    """One Rasa event of a conversation as the desk keeps it (card numbers
    out), once: ``identity`` makes a replayed event harmless."""

    __tablename__ = "desk_conversation_events"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    identity = Column(String(64), nullable=False, unique=True)
    type = Column(String(32), nullable=False)
    timestamp = Column(Float, nullable=False, index=True)
    data = Column(JSON, nullable=False)
    # the outreach attempt a patient's message answered (connectors mark it in the metadata)
    outreach_attempt = Column(Integer, index=True)


class DeskProjectionMark(Base):
    """How far the desk's projection has read one source (the SQL broker's
    ``events.id``): the high-water mark, committed with what it read."""

    __tablename__ = "desk_projection_marks"
    source = Column(String(255), primary_key=True)
    position = Column(BigInteger, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class ImmutableLedgerError(RuntimeError):
    """Raised on any attempt to change or delete a posted ledger entry."""


@event.listens_for(LedgerEntry, "before_update")
def _refuse_ledger_update(mapper, connection, target):  # pragma: no cover - exercised in tests
    raise ImmutableLedgerError("ledger entries are append-only: post a correcting entry instead")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_ledger_delete(mapper, connection, target):
    raise ImmutableLedgerError("ledger entries are append-only: post a correcting entry instead")


LEDGER_KINDS = (
    "charge",
    "insurance_payment",
    "contractual_adjustment",
    "discount",
    "patient_payment",
    "refund",
    "write_off",
    "transfer",
)
