"""Email the product sends (a notice that contact details changed):
through the SMTP server named by SMTP_HOST / SMTP_PORT (SMTP_USER and
SMTP_PASSWORD when it needs a login, STARTTLS when SMTP_STARTTLS=1), from
SMTP_FROM.  No server configured means no email: the caller records it
as not sent, so a partner sends a letter instead."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import List

from billing.notify import Message, NoRoute
from selfpay import settings


class NoMailServer(NoRoute):
    reason = "no mail server"


class EmailSender:
    """The notification port's email sender (billing.notify)."""

    def send(self, message: Message) -> List[str]:
        send_email(message.to, message.subject or "A message about your bill", message.text)
        return []


def send_email(to: str, subject: str, body: str) -> None:
    host = settings.get("SMTP_HOST")
    if not host:
        raise NoMailServer("SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.get("SMTP_FROM")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(host, int(settings.get("SMTP_PORT")), timeout=10) as smtp:
        if settings.get("SMTP_STARTTLS") == "1":
            smtp.starttls()
        if settings.get("SMTP_USER"):
            smtp.login(settings.get("SMTP_USER"), settings.secret("SMTP_PASSWORD"))
        smtp.send_message(message)
