"""Roles: ordering, require(), the local single-user mode and the claim -> role table."""

from __future__ import annotations

import pytest

from actions.roles import Actor, PermissionDenied, actor_for, can, local_actor, problems, require, role_for


def test_roles_are_ordered() -> None:
    admin, operator, viewer = Actor("a", "admin"), Actor("o", "operator"), Actor("v", "viewer")
    require(admin, "operator")
    require(operator, "operator")
    with pytest.raises(PermissionDenied, match="v is a viewer: uploading needs the operator role"):
        require(viewer, "operator", "uploading")
    with pytest.raises(PermissionDenied):
        require(operator, "admin")
    assert (can(viewer, "export"), can(viewer, "actions"), can(operator, "settings"), can(admin, "settings")) == (
        True, False, False, True)


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'root'"):
        Actor("x", "root")


def test_local_mode_is_an_operator_named_by_env() -> None:
    assert local_actor({}) == Actor("local", "operator")
    assert local_actor({"OPSDASH_LOCAL_USER": "maria"}) == Actor("maria", "operator")
    assert actor_for(None, {}) == Actor("local", "operator")


def test_local_role_is_read_by_every_caller_the_cli_included() -> None:
    """Issue 22: the CLI ignored OPSDASH_LOCAL_ROLE=viewer (local_actor was always an operator)."""
    assert local_actor({"OPSDASH_LOCAL_ROLE": " Viewer "}) == Actor("local", "viewer")
    assert local_actor({}, default_role="admin") == Actor("local", "admin")
    with pytest.raises(ValueError, match="OPSDASH_LOCAL_ROLE='boss' is not a role"):
        local_actor({"OPSDASH_LOCAL_ROLE": "boss"})
    assert problems({"OPSDASH_LOCAL_ROLE": "boss", "OPSDASH_ROLES": '{"a@x": "king"}'}) == [
        "OPSDASH_LOCAL_ROLE='boss' is not a role: use one of viewer, operator, admin",
        "OPSDASH_ROLES names unknown roles ['king'] (known: viewer, operator, admin)"]


def test_role_table_maps_claims_case_insensitively() -> None:
    env = {"OPSDASH_ROLES": '{"Alice@X.com": "admin", "bob@x.com": "operator"}'}
    assert role_for("alice@x.com", env) == "admin"
    assert role_for("carol@x.com", env) == "viewer"
    assert actor_for("bob@x.com", env) == Actor("bob@x.com", "operator")
    with pytest.raises(ValueError, match="unknown role"):
        role_for("a", {"OPSDASH_ROLES": '{"a": "boss"}'})
    with pytest.raises(ValueError, match="not valid JSON"):
        role_for("a", {"OPSDASH_ROLES": "{"})
