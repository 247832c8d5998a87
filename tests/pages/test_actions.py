"""The action forms through the router: bad input gives a clear message and queues/sends nothing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from actions.order_file import template
from store.db import connect
from tests.pages.conftest import run_page

HEADER = template("csv").decode().splitlines()[0]
ROW = template("csv").decode().splitlines()[1]


def count(db: Path | str, sql: str) -> int:
    with contextlib.closing(connect(db)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def upload(content: bytes, name: str = "orders.csv") -> AppTest:
    at = run_page("pages/upload.py")
    at.file_uploader(key="upload.file").set_value((name, content, "text/csv")).run()
    return at.button(key="upload.check").click().run()


def problems(at: AppTest) -> str:
    return " ".join(str(r) for t in at.dataframe for r in t.value.to_dict("records")) + \
        " ".join(e.value for e in at.error)


def test_a_valid_batch_is_queued_once_only_after_confirmation(seeded_db: Path) -> None:
    at = upload(f"{HEADER}\n{ROW}\n".encode())
    assert "1 order is valid" in at.success[0].value
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 0  # not before confirming
    at.button(key="upload.confirm").click().run()
    assert not at.exception
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 1
    at.button(key="upload.check").click().run()  # check again and confirm again: the same queued job
    at.button(key="upload.confirm").click().run()
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 1
    assert any("Order upload: queued" in p.proto.text for p in at.get("progress"))  # the job's progress bar


@pytest.mark.parametrize(("content", "expected"), [
    (b"customer_code,erp_order_number\nC1,SO-1\n", "required column is missing"),
    (f"{HEADER}\n{ROW.replace('2026-05-04', '2026-13-45')}\n".encode(), "is not a date"),
    (f"{HEADER}\n{ROW.replace(',BE,', ',XX,')}\n".encode(), "not an ISO 3166 country code"),
    (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
    (b"x" * (5 * 1024 * 1024 + 1), "the limit is 5 MB"),
])
def test_bad_batches_are_explained_and_nothing_is_queued(seeded_db: Path, content: bytes, expected: str) -> None:
    at = upload(content)
    assert not at.exception
    assert expected in problems(at), problems(at)
    assert all(b.key != "upload.confirm" for b in at.button)
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 0


def test_a_viewer_sees_no_forms_and_queues_nothing(seeded_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "viewer")
    for page in ("pages/upload.py", "pages/tax.py"):
        at = run_page(page)
        assert not at.exception
        assert "needs the operator role" in " ".join(i.value for i in at.info)
        assert not at.file_uploader and not at.get("form")
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind != 'sync'") == 0


def test_a_refused_action_shows_a_clear_message(seeded_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reached anyway (the role changed after the page was drawn): the function refuses, the page says why."""
    at = upload(f"{HEADER}\n{ROW}\n".encode())
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "viewer")
    at.button(key="upload.confirm").click().run()
    assert any("needs the operator role" in e.value for e in at.error) or \
        any("needs the operator role" in i.value for i in at.info)
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 0


def test_tax_calculation_refuses_an_unknown_country_before_any_call(seeded_db: Path) -> None:
    at = run_page("pages/tax.py")
    at.text_input(key="tax.to_country").set_value("ZZ")
    at.text_input(key="tax.amount").set_value("100.00")
    at.button[0].click()  # the form's submit button
    at = at.run()
    assert any("'ZZ' is not an ISO 3166 country code" in e.value for e in at.error), [e.value for e in at.error]
    assert count(seeded_db, "SELECT count(*) FROM tax_calculations") == 0


def test_tax_calculation_refuses_a_malformed_amount(seeded_db: Path) -> None:
    at = run_page("pages/tax.py")
    at.text_input(key="tax.to_country").set_value("DE")
    at.text_input(key="tax.amount").set_value("12,5x")
    at.button[0].click()
    at = at.run()
    assert any("is not an amount" in e.value for e in at.error)
    assert count(seeded_db, "SELECT count(*) FROM tax_calculations") == 0


def test_a_malformed_tax_id_is_malformed_not_invalid_and_shows_in_the_history(seeded_db: Path) -> None:
    at = run_page("pages/tax.py")
    at.text_input(key="tax.v_country").set_value("DE")
    at.text_input(key="tax.v_number").set_value("DE12")
    next(b for b in at.button if b.label == "Validate").click()
    at = at.run()
    assert any("DE" in w.value and "malformed" in w.value and "not asked" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    assert not any("invalid" in e.value for e in at.error)
    assert count(seeded_db, "SELECT count(*) FROM tax_id_validations WHERE tax_id LIKE '%12' AND "
                            "offline_ok = 0 AND result = 'malformed'") == 1
    assert "Malformed" in list(at.dataframe[-1].value["result"])[0:1]  # the history shows it at once, newest first


def test_an_empty_country_is_a_form_error_and_nothing_is_stored(seeded_db: Path) -> None:
    before = count(seeded_db, "SELECT count(*) FROM tax_id_validations")
    at = run_page("pages/tax.py")
    at.text_input(key="tax.v_number").set_value("DE811907980")
    next(b for b in at.button if b.label == "Validate").click()
    at = at.run()
    assert any("Country is empty" in e.value for e in at.error), [e.value for e in at.error]
    assert count(seeded_db, "SELECT count(*) FROM tax_id_validations") == before


@pytest.mark.parametrize(("content", "expected"), [
    (b"country,number\nDE,DE123\n", "required column missing: tax_id"),
    (b"x" * (5 * 1024 * 1024 + 1), "the limit is 5 MB"),
])
def test_a_bad_tax_id_batch_is_explained_and_nothing_queued(seeded_db: Path, content: bytes, expected: str) -> None:
    at = run_page("pages/tax.py")
    at.file_uploader(key="taxids.file").set_value(("ids.csv", content, "text/csv")).run()
    at.button(key="taxids.check").click().run()
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]
    assert all(b.key != "taxids.confirm" for b in at.button)
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'validate_tax_ids'") == 0


def test_a_tax_id_batch_is_queued_after_confirmation(seeded_db: Path) -> None:
    at = run_page("pages/tax.py")
    at.file_uploader(key="taxids.file").set_value(("ids.csv", b"country,tax_id\nDE,DE811907980\n", "text/csv")).run()
    at.button(key="taxids.check").click().run()
    at.button(key="taxids.confirm").click().run()
    assert not at.exception
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'validate_tax_ids'") == 1


def test_one_order_form_errors_use_the_forms_labels(seeded_db: Path) -> None:
    at = run_page("pages/upload.py")
    at.text_input(key="upload.customer_code").set_value("C00001")
    next(b for b in at.button if b.label == "Check the order").click()
    at = at.run()
    text = " ".join(e.value for e in at.error)
    assert "Pickup · Address" in text and "ERP order number" in text, text
    assert "pickup_address" not in text and "row 1" not in text
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'upload_orders'") == 0


def test_batch_errors_carry_the_spreadsheet_row_number(seeded_db: Path) -> None:
    at = upload(f"{HEADER}\n{ROW}\n{ROW.replace(',BE,', ',XX,').replace('SO-1001', 'SO-1002')}\n".encode())
    errors = next(d.value for d in at.dataframe if "problem" in d.value.columns)
    assert list(errors["row"]) == ["3"]  # the header is row 1, the good order row 2
    assert "1 order is valid" in at.success[0].value


def test_after_confirming_the_page_no_longer_offers_to_confirm(seeded_db: Path) -> None:
    at = upload(f"{HEADER}\n{ROW}\n".encode())
    at.button(key="upload.confirm").click().run()
    assert all(b.key != "upload.confirm" for b in at.button)
    assert not any("Nothing has been sent yet" in s.value for s in at.success)


def _documents_app() -> None:
    from ui import operations

    operations.document_downloads([{"document_id": "D-1", "document_type": "CMR", "file_name": "cmr.pdf",
                                    "created_at": "2026-11-28T09:00:00Z"}], "orders.documents.O1")


def test_a_document_is_fetched_by_a_job_then_offered_for_download(seeded_db: Path) -> None:
    from actions.documents import keep

    with contextlib.closing(connect(seeded_db)) as conn:
        conn.execute("INSERT INTO qargo_documents (document_id, order_id, document_type, file_name, synced_at) "
                     "VALUES ('D-1', 'O1', 'CMR', 'cmr.pdf', 'x')")
    at = AppTest.from_function(_documents_app, default_timeout=30).run()
    assert not at.exception
    at.button(key="orders.documents.O1.D-1.fetch").click().run()  # nothing is called while the page renders
    assert count(seeded_db, "SELECT count(*) FROM jobs WHERE kind = 'fetch_document'") == 1
    assert any("Fetching the file from Qargo" in c.value for c in at.caption)
    with contextlib.closing(connect(seeded_db)) as conn:
        keep(conn, "D-1", b"%PDF-1.4 test")  # what the worker's job does
    at.run()
    assert [b.proto.label for b in at.get("download_button")] == ["Download"]
