"""OPSDASH_DB as a PostgreSQL URL (issue 20): a database that cannot be used is one line naming the database, host
and port with the server's reason, never the URL's password; a usable one is no problem."""

from __future__ import annotations

from services.settings import Settings
from services.settings_check import problems
from tests.pgcluster import database_url


def test_an_unreachable_database_is_named_without_its_password() -> None:
    found = problems(Settings(opsdash_db="postgresql://app:s3cret-pw@127.0.0.1:1/cache"))
    assert len(found) == 1
    assert found[0].startswith("OPSDASH_DB: cannot use PostgreSQL database 'cache' on 127.0.0.1:1: ")
    assert "s3cret-pw" not in found[0]


def test_a_database_that_does_not_exist_says_so(pg_template: str) -> None:
    [line] = problems(Settings(opsdash_db=database_url(pg_template, "no_such_db")))
    assert 'database "no_such_db" does not exist' in line


def test_a_usable_database_is_no_problem(pg_url: str) -> None:
    assert problems(Settings(opsdash_db=pg_url)) == []
