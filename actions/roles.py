"""Who may do what: three roles, checked INSIDE every action function (hiding a button is not a check).

viewer   read pages, export data
operator + actions: upload orders, validate tax IDs, calculate tax, approve charges
admin    + settings and refresh schedules

Single-user local mode (no identity provider): the person at the keyboard is named by
`OPSDASH_LOCAL_USER` (default "local") with the role `OPSDASH_LOCAL_ROLE` (default operator); see
`local_actor`. The CLI and the UI read the same two settings, so a viewer kiosk is a viewer in both. With an identity provider (st.login), map the
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
LOCAL_USER_ENV, LOCAL_ROLE_ENV, ROLES_ENV = "OPSDASH_LOCAL_USER", "OPSDASH_LOCAL_ROLE", "OPSDASH_ROLES"
DEFAULT_LOCAL_USER, DEFAULT_LOCAL_ROLE = "local", "operator"


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


def local_role(environ: Mapping[str, str] = os.environ, default: str = DEFAULT_LOCAL_ROLE) -> str:
    """`OPSDASH_LOCAL_ROLE` (case-blind), `default` when unset; ValueError naming the setting otherwise."""
    role = environ.get(LOCAL_ROLE_ENV, "").strip().lower() or default
    if role not in ROLES:
        raise ValueError(f"{LOCAL_ROLE_ENV}={role!r} is not a role: use one of {', '.join(ROLES)}")
    return role


def local_actor(environ: Mapping[str, str] = os.environ, default_role: str = DEFAULT_LOCAL_ROLE) -> Actor:
    """The single local user when no identity provider is configured: `OPSDASH_LOCAL_USER` with the role
    `OPSDASH_LOCAL_ROLE` (an operator when unset)."""
    name = environ.get(LOCAL_USER_ENV, "").strip() or DEFAULT_LOCAL_USER
    return Actor(name, local_role(environ, default_role))


def problems(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The role settings' problems, one line each (checked at start by `opsdash`, with the other settings)."""
    found = []
    for check in (local_role, role_table):
        try:
            check(environ)
        except ValueError as exc:
            found.append(str(exc))
    return found


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
    unknown = sorted({str(role) for role in table.values()} - set(ROLES))
    if unknown:
        raise ValueError(f"{ROLES_ENV} names unknown roles {unknown} (known: {', '.join(ROLES)})")
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
