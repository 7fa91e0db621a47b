"""Email the product sends (a notice that contact details changed):
through the SMTP server named by SMTP_HOST / SMTP_PORT (SMTP_USER and
SMTP_PASSWORD when it needs a login, STARTTLS when SMTP_STARTTLS=1), from
SMTP_FROM.  No server configured means no email: the caller records it
as not sent, so a partner sends a letter instead."""
from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage


class NoMailServer(RuntimeError):
    pass


def send_email(to: str, subject: str, body: str) -> None:
    host = os.environ.get("SMTP_HOST")
    if not host:
        raise NoMailServer("SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = os.environ.get("SMTP_FROM", "billing@selfpay.invalid")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(host, int(os.environ.get("SMTP_PORT", "25")), timeout=10) as smtp:
        if os.environ.get("SMTP_STARTTLS") == "1":
            smtp.starttls()
        if os.environ.get("SMTP_USER"):
            smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)
