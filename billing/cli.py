"""The ``selfpay`` command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billing import db, seed
from billing.language import SPOKEN as SPOKEN_LANGUAGES


def _cmd_migrate(args) -> int:
    db.migrate()
    print(f"database schema is up to date ({_safe_url()})")
    return 0


def _cmd_seed(args) -> int:
    db.migrate()
    path = Path(args.file) if args.file else seed.DEFAULT_DATA_FILE
    if not path.exists():
        print(f"selfpay seed: no such data file: {path}", file=sys.stderr)
        return 2
    with db.session_scope() as session:
        if args.if_empty and not seed.database_is_empty(session):
            print("selfpay seed: the database already holds data; nothing loaded")
            return 0
        try:
            report = seed.load(session, path)
        except seed.SeedError as exc:
            session.rollback()
            print(f"selfpay seed: {exc}\nnothing was loaded", file=sys.stderr)
            return 1
    print(
        f"loaded {path.name}: {report.clients} clients, {report.patients} patients, "
        f"{report.accounts} accounts, {report.ledger_entries} ledger entries; every balance matches"
    )
    return 0


def _cmd_payments(args) -> int:
    import datetime as dt

    from billing import runs

    db.migrate()
    with db.session_scope() as session:
        if args.action == "reconcile":
            report = runs.reconcile(session)
        else:
            today = dt.date.fromisoformat(args.date) if args.date else None
            report = runs.run_due(session, today=today)
    for line in report.lines():
        print(line)
    return 1 if report.pending else 0


def _cmd_import_835(args) -> int:
    import json

    from billing import remittance

    db.migrate()
    with db.session_scope() as session:
        report = remittance.import_path(session, Path(args.path))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0 if report.transactions or not report.problems else 1
    for name, tr in report.transactions:
        print(f"{name} ST {tr.control_number}: paid {tr.total_paid}, {len(tr.claims)} claims, {len(tr.provider_adjustments)} provider adjustments")
        for claim in tr.claims:
            print(f"  {claim.claim_id}: charge {claim.charge}, paid {claim.paid}, patient owes {claim.patient_responsibility}"
                  + (" (predetermination)" if claim.is_predetermination else "") + (" (reversal)" if claim.is_reversal else ""))
    print(f"posted {len(report.posted)} ledger entries; {len(report.already)} were posted before; "
          f"{len(report.unmatched)} claims matched no account")
    for problem in report.problems:
        print(f"problem: {problem}")
    return 0 if report.transactions or not report.problems else 1


def _cmd_small_write_off(args) -> int:
    from billing import writeoffs

    db.migrate()
    with db.session_scope() as session:
        done = writeoffs.small_balance_write_off(session)
    for number, amount in done:
        print(f"{number}: wrote off {amount}")
    print(f"{len(done)} small balances written off")
    return 0


def _cmd_users(args) -> int:
    from billing import staff

    if args.users_command == "languages":
        db.migrate()
        with db.session_scope() as session:
            try:
                user = staff.set_languages(session, args.username, args.languages, actor="cli")
            except staff.StaffError as exc:
                session.rollback()
                why = {"unknown": f"there is no user {args.username!r}",
                       "bad_language": "the languages are " + ", ".join(SPOKEN_LANGUAGES)}.get(exc.reason, exc.reason)
                print(f"selfpay users languages: {why}; nothing changed", file=sys.stderr)
                return 1
            print(f"{user.username} speaks {', '.join(user.languages.split())}")
        return 0
    password = args.password_stdin and sys.stdin.readline().rstrip("\n")
    if not password:
        import getpass

        password = getpass.getpass(f"password for {args.username}: ")
    db.migrate()
    with db.session_scope() as session:
        try:
            user = staff.add_user(session, args.username, args.name or args.username, args.role, password, created_by="cli",
                                  departments=[d for d in (args.departments or "").split(",") if d.strip()],
                                  languages=args.languages or "en")
        except staff.StaffError as exc:
            session.rollback()
            explain = {
                "bad_username": "a user name is letters, digits, '.', '-' or '_'",
                "bad_role": f"the role is one of {', '.join(staff.ROLES)}",
                "weak_password": f"the password needs at least {staff.MIN_PASSWORD_LENGTH} characters",
                "exists": f"there is already a user {args.username!r}",
                "bad_department": f"the queues are {', '.join(staff.DEPARTMENTS)}",
                "bad_language": "the languages are " + ", ".join(SPOKEN_LANGUAGES),
            }
            print(f"selfpay users add: {explain.get(exc.reason, exc.reason)}; nobody was added", file=sys.stderr)
            return 1
        queues = ", ".join((user.departments or "").split()) or "every queue"
        print(f"added {user.role} {user.username} ({user.display_name}), working {queues}, speaking {', '.join(user.languages.split())}")
    return 0


def _outreach_moment(args):
    from billing import clock

    return clock.parse(args.now) if args.now else clock.now_aware()


def _print_contacts(rows: list[dict], as_json: bool, moment) -> None:
    import json

    if as_json:
        print(json.dumps({"now": moment.isoformat(), "attempts": rows}, indent=2))
        return
    for row in rows:
        status = f" [{row['status']}]" if row.get("status") else ""
        until = f" until {row['until']}" if row.get("until") else ""
        print(f"{row['client']:<10} {row['account']:<10} {row['patient']:<20} {row['campaign']:<21} {row['channel'] or '-':<6} "
              f"{row['decision']:<6} {row['reason']}{until}{status}  ({row['local_time']}; {row['detail']})")
    decided = {d: sum(1 for r in rows if r["decision"] == d) for d in ("send", "skip", "defer")}
    print(f"{len(rows)} contacts due at {moment.isoformat()}: {decided['send']} to send, {decided['skip']} skipped, "
          f"{decided['defer']} deferred")


def _cmd_outreach(args) -> int:
    from billing import outreach_plan

    moment = _outreach_moment(args)
    db.migrate()
    if args.action == "plan":
        with db.session_scope() as session:
            rows = [c.as_dict() for c in outreach_plan.plan(session, moment, args.client)]
        _print_contacts(rows, args.json, moment)
        return 0
    from billing import outreach_run

    try:
        rows = outreach_run.run(moment, args.client, wait=args.wait)
    except outreach_run.NoEngine as exc:
        print(f"selfpay outreach run: {exc}", file=sys.stderr)
        return 2
    _print_contacts(rows, args.json, moment)
    failed = [r for r in rows if r["decision"] == "send" and r["status"] not in outreach_run.DONE_WELL]
    return 1 if failed else 0


def _safe_url() -> str:
    url = db.database_url()
    if "@" in url:  # hide a password
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="selfpay", description="Self-pay assistant: billing core commands")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="create or upgrade the billing database schema")
    p.set_defaults(func=_cmd_migrate)
    p = sub.add_parser("seed", help="load a data set (default: ../shared/data/demo_accounts.yml)")
    p.add_argument("file", nargs="?", help="YAML data set")
    p.add_argument("--if-empty", action="store_true", help="load only into an empty database")
    p.set_defaults(func=_cmd_seed)
    p = sub.add_parser("import-835", help="read X12 835 remittances (a file or a folder) and post them to the ledger once")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="print each transaction's total, claims and adjustments, and the problems, as JSON")
    p.set_defaults(func=_cmd_import_835)
    p = sub.add_parser("balances", help="balance jobs")
    p.add_argument("action", choices=["small-write-off"], help="write off balances at or under each client's small-balance threshold")
    p.set_defaults(func=_cmd_small_write_off)
    p = sub.add_parser("users", help="desk users")
    users = p.add_subparsers(dest="users_command", required=True)
    p = users.add_parser("add", help="add a desk user (the password is asked for, or read from stdin)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
    p.add_argument("--name", help="the name partners see")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--departments", help="the queues an agent works, comma separated (default: every queue)")
    p.add_argument("--languages", help="the languages the user speaks, the one they read best first, comma separated (default: en)")
    p.set_defaults(func=_cmd_users)
    p = users.add_parser("languages", help="set the languages a desk user speaks (the one they read best first)")
    p.add_argument("username")
    p.add_argument("languages", help="comma separated, e.g. es,en")
    p.set_defaults(func=_cmd_users)
    p = sub.add_parser("payments", help="run the payment jobs")
    p.add_argument("action", choices=["run-due", "reconcile"],
                   help="run-due: charge scheduled payments and plan installments that are due, count misses; "
                        "reconcile: settle payments the processor did not answer for")
    p.add_argument("--date", help="run as of this ISO date (run-due; default today)")
    p.set_defaults(func=_cmd_payments)
    p = sub.add_parser("outreach", help="reminders and calls under each client's campaigns")
    p.add_argument("action", choices=["plan", "run"],
                   help="plan: every contact due and why it is sent, skipped or deferred (changes nothing); "
                        "run: send what is due through the worker and wait for each attempt")
    p.add_argument("--now", help="plan or run at this ISO-8601 moment (default: the clock)")
    p.add_argument("--client", help="one client's campaigns only")
    p.add_argument("--json", action="store_true", help='print {"attempts": [...]} rows as JSON')
    p.add_argument("--wait", type=float, default=120.0, help="run: seconds to wait for the attempts (default 120)")
    p.set_defaults(func=_cmd_outreach)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
