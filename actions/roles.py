"""Who may do what: three roles, checked INSIDE every action function (hiding a button is not a check).

viewer   read pages, export data
operator + actions: upload orders, validate tax IDs, calculate tax, approve charges
admin    + settings and refresh schedules

Single-user local mode (no identity provider): the person at the keyboard is an operator named by
`OPSDASH_LOCAL_USER` (default "local"); see `local_actor`. With an identity provider (st.login), map the
claim (usually the e-mail) through `actor_for(claim)`: the role table is `OPSDASH_ROLES`, a JSON object
such as `{"alice@example.com": "admin", "bob@example.com": "operator"}`; anyone not listed is a viewer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

ROLES = ("viewer", "operator", "admin")  # ordered: each role holds every right of the ones before it
PERMISSIONS = {"read": "viewer", "export": "viewer", "actions": "operator", "settings": "admin",
               "refresh_schedules": "admin"}
LOCAL_USER_ENV, ROLES_ENV = "OPSDASH_LOCAL_USER", "OPSDASH_ROLES"
DEFAULT_LOCAL_USER = "local"


class PermissionDenied(PermissionError):
    """The actor's role is below the one the action needs; nothing was sent or stored."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (known: {', '.join(ROLES)})")
        if not self.name.strip():
            raise ValueError("an actor needs a name (it goes into the audit log)")


def rank(role: str) -> int:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    return ROLES.index(role)


def has_role(actor: Actor, role: str) -> bool:
    return rank(actor.role) >= rank(role)


def can(actor: Actor, permission: str) -> bool:
    """`can(actor, "export")`; for the pages to decide which widgets to show."""
    return has_role(actor, PERMISSIONS[permission])


def require(actor: Actor, role: str, action: str = "this action") -> None:
    """Raise `PermissionDenied` unless `actor` holds `role` (or a higher one)."""
    if not has_role(actor, role):
        raise PermissionDenied(
            f"{actor.name} is a {actor.role}: {action} needs the {role} role; ask an admin to grant it")


def local_actor(environ: Mapping[str, str] = os.environ) -> Actor:
    """The single local user when no identity provider is configured: an operator."""
    name = environ.get(LOCAL_USER_ENV, "").strip() or DEFAULT_LOCAL_USER
    return Actor(name, "operator")


def role_table(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`OPSDASH_ROLES` as {lower-cased claim: role}; a malformed table is an error, not "everyone viewer"."""
    text = environ.get(ROLES_ENV, "").strip()
    if not text:
        return {}
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{ROLES_ENV} is not valid JSON ({exc.msg}): expected e.g. "
                         '{"alice@example.com": "admin"}') from None
    if not isinstance(table, dict):
        raise ValueError(f"{ROLES_ENV} must be a JSON object of claim -> role")  # noqa: TRY004
    for role in table.values():
        rank(str(role))  # refuses unknown roles with their name
    return {str(k).strip().lower(): str(v) for k, v in table.items()}


def role_for(claim: str | None, environ: Mapping[str, str] = os.environ, default: str = "viewer") -> str:
    """The role of a signed-in user's claim (e-mail, case-insensitive); `default` when not listed."""
    if not claim:
        return default
    return role_table(environ).get(claim.strip().lower(), default)


def actor_for(claim: str | None, environ: Mapping[str, str] = os.environ) -> Actor:
    """An `Actor` for a signed-in user's claim; without any claim, the local single user."""
    if not claim:
        return local_actor(environ)
    return Actor(claim.strip(), role_for(claim, environ))
