"""The composition root's half that lives with the adapters: install this
process's notification senders in billing's port (billing.notify).  Each
process that tells patients anything calls ``install()`` at start-up (the
action server, the desk, the command line, the tests)."""
from __future__ import annotations

from billing import calls, notify
from billing.vocabulary import NoticeChannel
from connectors.call_sender import CallSender
from connectors.chat_sender import ChatSender
from connectors.email_sender import EmailSender
from connectors.sms_sender import SmsSender


def install(sms: SmsSender | None = None, caller: CallSender | None = None) -> None:
    notify.install(NoticeChannel.SMS, sms or SmsSender())
    calls.install(caller or CallSender())
    notify.install(NoticeChannel.EMAIL, EmailSender())
    notify.install(NoticeChannel.CHAT, ChatSender())
