"""Client health systems: look-ups by id or by the number patients reach."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Client
from billing.policy import ClientPolicy, policy_of


class UnknownClient(LookupError):
    pass


@dataclass(frozen=True)
class ClientInfo:
    id: str
    name: str
    phone_number: str
    timezone: str
    policy: ClientPolicy

    def department_number(self, department: str) -> str | None:
        return self.policy.departments.get(department)


def _info(client: Client) -> ClientInfo:
    return ClientInfo(client.id, client.name, client.phone_number, client.timezone, policy_of(client))


def get_client(session: Session, client_id: str) -> ClientInfo:
    client = session.get(Client, client_id) if client_id else None
    if client is None:
        raise UnknownClient(f"no client {client_id!r}")
    return _info(client)


def client_by_phone(session: Session, phone_number: str) -> ClientInfo | None:
    client = session.execute(select(Client).where(Client.phone_number == phone_number)).scalar_one_or_none()
    return _info(client) if client else None
