"""`opsdash serve` on PostgreSQL (issue 20): the dashboard gets OPSDASH_DB's URL as written, never a file path.

Taken as a path, `postgresql://app@db/cache` became the SQLite file `<cwd>/postgresql:/app@db/cache`, so a
PostgreSQL team's dashboards showed an empty database (bench_cluster figure 7 found it)."""

from pathlib import Path

from serve import database_target, problems
from services.settings import Settings

URL = "postgresql://app@db.internal:5432/cache"


def test_a_url_is_passed_unchanged() -> None:
    assert database_target(Settings(opsdash_db=URL)) == URL


def test_a_file_is_passed_as_an_absolute_path(tmp_path: Path) -> None:
    assert database_target(Settings(opsdash_db=tmp_path / "sub" / ".." / "cache.db")) == str(tmp_path / "cache.db")


def test_a_url_names_no_folder_problem() -> None:
    assert not [p for p in problems(Settings(opsdash_db=URL)) if p.startswith("OPSDASH_DB")]
