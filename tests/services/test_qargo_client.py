"""Contract tests of the Qargo client and resources over real HTTP against the sandbox: typed results,
the asynchronous upload, idempotency, error mapping, every injectable fault, the OpenAPI shape of what
we send, and (in real time) the shared rate limit and token cache across processes."""

from __future__ import annotations

import functools
import inspect
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from sandbox.context import SandboxConfig
from sandbox.qargo.common import stable_uuid
from sandbox.server import client_env
from sandbox.world import World
from services.configured import NotConfigured
from services.core import (
    AuthError,
    MalformedResponse,
    NotFoundError,
    RateLimited,
    ServerError,
    Timeouts,
    VendorClient,
    VendorReadError,
    VendorTimeout,
)
from services.qargo import resources as q
from services.qargo.client import make_client
from services.qargo.models import (
    AvailableTask,
    Charge,
    ChargeApprovalStatus,
    ConsignmentInput,
    Document,
    Entity,
    GoodInput,
    Location,
    Operation,
    OrderImport,
    OrderInput,
    OrderStatus,
    OrderWithStatus,
    Resource,
    StopInput,
    TaskDetail,
    UploadStatus,
)
from services.settings import Settings
from tests import vendor_docs
from tests.conftest import StartSandbox

REPO = Path(__file__).resolve().parents[2]
SEED = 1
RESOURCES_SMALL = World(seed=SEED).sizes["resources"]


class FakeTime:
    """Injected clock and sleep: the client's waits (limiter, backoff, Retry-After) cost no real time."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def settings_for(config: SandboxConfig, db: Path | str, **overrides: Any) -> Settings:
    env = {k.lower(): v for k, v in client_env(config).items() if k.startswith("QARGO_")}
    return Settings(opsdash_db=db, **{**env, **overrides})


def order_id(i: int) -> str:
    """The sandbox's pre-existing order i (sandbox/qargo/orders.py)."""
    return stable_uuid(SEED, "order", i)


def new_order(
    identifier: str, operation: Operation = Operation.CREATE, reference: str = "PO-1"
) -> OrderInput:
    customer = World(seed=SEED).customers[0]
    stop = {"location": Location(name="Depot", address="1 Quay", city="Ghent", country="BE")}
    return OrderInput(
        operation=operation,
        order_identifier=identifier,
        customer=Entity(code=customer.code),
        customer_reference_number=reference,
        consignments=[
            ConsignmentInput(
                pickup_stop=StopInput(**stop, reference_number="P1"),
                delivery_stop=StopInput(location=Location(name="Shop", city="Lille", country="FR")),
                goods=[GoodInput(quantity=3, total_weight_kg=120.5)],
            )
        ],
    )


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(relaxed_sandbox: SandboxConfig, db_path: Path | str, fake: FakeTime) -> Iterator[VendorClient]:
    settings = settings_for(relaxed_sandbox, db_path)
    with make_client(settings, sleep=fake.sleep, clock=fake.time) as c:
        yield c


def advance_sandbox(admin: httpx.Client) -> Any:
    """A `sleep` for polling that moves the sandbox's business clock instead of waiting."""
    return lambda seconds: admin.post("/_admin/clock", json={"advance_seconds": seconds}).raise_for_status()


# ------------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("missing", ["qargo_base_url", "qargo_client_id", "qargo_client_secret"])
def test_a_missing_setting_raises_not_configured_naming_it(db_path: Path | str, missing: str) -> None:
    values = {
        "qargo_base_url": "http://127.0.0.1:9/qargo",
        "qargo_client_id": "id",
        "qargo_client_secret": "s",
    }
    settings = Settings(opsdash_db=db_path, **{**values, missing: None})
    with pytest.raises(NotConfigured) as info:
        make_client(settings)
    assert missing.upper() in str(info.value)
    assert info.value.setting == missing.upper()


# ------------------------------------------------------------------------------------- uploads


def test_upload_create_completes_and_the_order_exists(client: VendorClient, admin: httpx.Client) -> None:
    started = q.upload_order(client, new_order("T-CREATE-1", reference="PO-777"))
    assert isinstance(started, OrderImport)
    assert started.upload_status == UploadStatus.IN_PROGRESS and started.order_id is None

    done = q.wait_for_upload(client, started.upload_id, sleep=advance_sandbox(admin), clock=FakeTime().time)
    assert done.upload_status == UploadStatus.COMPLETED and done.order_id

    order = q.get_order(client, done.order_id)
    assert isinstance(order, OrderWithStatus)
    assert (order.order_identifier, order.customer_reference_number) == ("T-CREATE-1", "PO-777")
    assert q.order_status(client, done.order_id).status == OrderStatus.TO_PLAN


def test_the_same_upload_twice_is_a_duplicate_of_the_same_order(
    client: VendorClient, admin: httpx.Client
) -> None:
    poll = advance_sandbox(admin)
    first = q.wait_for_upload(client, q.upload_order(client, new_order("T-TWICE")).upload_id, sleep=poll)
    again = q.wait_for_upload(client, q.upload_order(client, new_order("T-TWICE")).upload_id, sleep=poll)
    assert first.upload_status == UploadStatus.COMPLETED
    assert again.upload_status == UploadStatus.DUPLICATE
    assert again.order_id == first.order_id


def test_an_update_changes_the_order_and_delete_cancels_it(client: VendorClient, admin: httpx.Client) -> None:
    poll = advance_sandbox(admin)
    created = q.wait_for_upload(client, q.upload_order(client, new_order("T-DEL")).upload_id, sleep=poll)
    update = new_order("T-DEL", Operation.UPDATE, reference="PO-CHANGED")
    updated = q.wait_for_upload(client, q.upload_order(client, update).upload_id, sleep=poll)
    assert (updated.upload_status, updated.order_id) == (UploadStatus.COMPLETED, created.order_id)
    assert q.get_order(client, created.order_id or "").customer_reference_number == "PO-CHANGED"

    cancel = new_order("T-DEL", Operation.DELETE)
    for _ in range(2):  # cancelling twice is not an error (seeds/000 line 519)
        done = q.wait_for_upload(client, q.upload_order(client, cancel).upload_id, sleep=poll)
        assert (done.upload_status, done.order_id) == (UploadStatus.COMPLETED, created.order_id)
    assert q.order_status(client, created.order_id or "").status == OrderStatus.CANCELLED


def test_an_upload_the_vendor_cannot_apply_ends_in_error(client: VendorClient, admin: httpx.Client) -> None:
    bad = new_order("T-BAD").model_copy(update={"customer": Entity(code="NO-SUCH-CUSTOMER")})
    done = q.wait_for_upload(client, q.upload_order(client, bad).upload_id, sleep=advance_sandbox(admin))
    assert done.upload_status == UploadStatus.ERROR and done.failed and done.order_id is None


def test_waiting_for_an_upload_gives_up_at_the_deadline(client: VendorClient) -> None:
    started = q.upload_order(client, new_order("T-SLOW"))
    poll_clock = FakeTime()
    with pytest.raises(VendorTimeout, match="has not finished upload"):
        q.wait_for_upload(client, started.upload_id, timeout=5, sleep=poll_clock.sleep, clock=poll_clock.time)
    assert poll_clock.sleeps == [1.0] * 5


@functools.cache
def _spec_components() -> dict[str, Any]:
    return dict(vendor_docs.qargo_openapi("2026")["components"])  # trimmed copy, tests/fixtures/vendor_docs


def _openapi_validator(schema_name: str) -> jsonschema.protocols.Validator:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _spec_components()}
    return jsonschema.Draft202012Validator(schema)


def test_what_we_send_validates_against_the_openapi_schemas(fake: FakeTime, db_path: Path | str) -> None:
    sent: list[tuple[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        sent.append((request.url.path, json.loads(request.content)))
        if request.url.path.endswith("/upload"):
            return httpx.Response(200, json={"upload_id": "u", "upload_status": "TODO", "upload_url": "x"})
        return httpx.Response(200, json={"charges": []})

    settings = Settings(
        opsdash_db=db_path,
        qargo_base_url="http://qargo.test",
        qargo_client_id="id",
        qargo_client_secret="secret",
    )
    with make_client(settings, transport=httpx.MockTransport(answer), sleep=fake.sleep, clock=fake.time) as c:
        for op in Operation:
            q.upload_order(c, new_order("T-SCHEMA", op))
        q.approve_charges(c, order_id(1), [stable_uuid(SEED, "charge", "x")], approve=False, description="no")
    uploads = [body for path, body in sent if path.endswith("/upload")]
    assert len(uploads) == 3
    for body in uploads:
        _openapi_validator("OrderInput").validate(body)
    approval = next(body for path, body in sent if path.endswith("/approval"))
    _openapi_validator("ChargesApprovalInput").validate(approval)
    assert approval["charges"][0]["approval_status"] == "REJECTED"


# ---------------------------------------------------------------------------- reading orders


def test_a_preexisting_order_reads_as_typed_values(client: VendorClient) -> None:
    order = q.order_status(client, order_id(1))
    assert isinstance(order, OrderWithStatus) and order.id == order_id(1)
    assert order.customer is not None and order.customer.code
    assert order.consignments and order.stops
    assert q.get_order(client, order_id(1)).order_identifier == order.order_identifier

    charges = q.order_charges(client, order_id(1))
    assert charges and all(isinstance(c, Charge) for c in charges)
    assert all(isinstance(c.amount_incl_tax, Decimal) and c.currency for c in charges)
    assert charges[0].total is not None and charges[0].total.currency == charges[0].currency

    exported = q.order_export(client, order_id(1))
    assert isinstance(exported, OrderInput)
    assert exported.order_identifier == order.order_identifier
    _openapi_validator("OrderInput").validate(exported.payload())


def test_documents_list_and_download(client: VendorClient) -> None:
    documents = q.order_documents(client, order_id(1))
    assert documents and all(isinstance(d, Document) for d in documents)
    assert documents[0].type == "CMR"
    content = q.download_document(client, documents[0].id)
    assert isinstance(content, bytes) and content.startswith(b"%PDF-")


def test_approve_and_reject_charges(client: VendorClient) -> None:
    found = next(
        (i, c) for i in range(1, 41) for c in q.order_charges(client, order_id(i)) if c.approval_status
    )
    i, charge = found
    approved = q.approve_charges(client, order_id(i), [charge.id or ""], approve=True)
    assert {c.id: c.approval_status for c in approved}[charge.id] == ChargeApprovalStatus.APPROVED
    rejected = q.approve_charges(client, order_id(i), [charge.id or ""], approve=False)
    assert {c.id: c.approval_status for c in rejected}[charge.id] == ChargeApprovalStatus.REJECTED


def test_sync_tasks_are_listed_and_read_but_never_updated(client: VendorClient) -> None:
    tasks = q.sync_tasks(client)
    assert inspect.isgenerator(tasks)
    listed = list(tasks)
    assert listed and all(isinstance(t, AvailableTask) for t in listed)
    detail = q.sync_task(client, listed[0].id)
    assert isinstance(detail, TaskDetail) and detail.id == listed[0].id and detail.payload

    # READ-ONLY on purpose: the accounting integration owns that queue.
    public = {n for n, f in vars(q).items() if inspect.isfunction(f) and not n.startswith("_")}
    assert {n for n in public if "task" in n} == {"sync_tasks", "sync_task"}
    assert "update-status" not in inspect.getsource(q)


# ------------------------------------------------------------------------------------ resources


def test_resources_come_in_typed_pages_that_resume_from_a_checkpoint(client: VendorClient) -> None:
    pages = list(q.resources(client))
    assert [len(p.records) for p in pages] == [20, RESOURCES_SMALL - 20]
    assert all(isinstance(r, Resource) for p in pages for r in p.records)
    checkpoint = json.loads(json.dumps(pages[0].checkpoint()))  # as a sync would store it
    resumed = list(q.resources(client, start=checkpoint))
    assert [r.row_id for p in resumed for r in p.records] == [r.row_id for r in pages[1].records]
    assert pages[-1].checkpoint() is None

    drivers = list(q.iter_resources(client, resource_type="DRIVER"))
    assert drivers and {r.kind for r in drivers} == {"driver"}
    assert q.get_resource(client, drivers[0].row_id).row_id == drivers[0].row_id
    newest = max(r.timestamp_updated for p in pages for r in p.records if r.timestamp_updated)
    # Qargo's filter has whole seconds: the newest comes back, nothing older than its second.
    after = [r.row_id for r in q.iter_resources(client, updated_after=newest)]
    assert after == [r.row_id for p in pages for r in p.records if r.timestamp_updated == newest]
    assert len(list(q.iter_resources(client, external_ids=["RES-00001", "RES-00002"]))) == 2


def test_unavailabilities_of_the_resources(client: VendorClient) -> None:
    rows = [u for r in q.iter_resources(client) for u in q.unavailabilities(client, r.row_id)]
    assert rows and all(u.id and u.start_time.tzinfo for u in rows)


# ----------------------------------------------------------------------------------- errors


def test_a_wrong_secret_is_an_auth_error_naming_the_setting(
    relaxed_sandbox: SandboxConfig, db_path: Path | str
) -> None:
    settings = settings_for(relaxed_sandbox, db_path, qargo_client_secret="wrong-secret-value")
    with make_client(settings) as c, pytest.raises(AuthError) as info:
        q.order_status(c, order_id(1))
    assert "QARGO_CLIENT_SECRET" in str(info.value)
    assert "wrong-secret-value" not in f"{info.value} {info.value!r} {info.value.body}"


def test_an_unknown_order_is_not_found(client: VendorClient) -> None:
    with pytest.raises(NotFoundError, match="check the id"):
        q.get_order(client, stable_uuid(99, "no-such-order"))


# ----------------------------------------------------------------------------------- faults

Outcome = type[Exception] | None  # None: the call succeeds (after retries)


def _arm(admin: httpx.Client, **faults: Any) -> None:
    admin.put("/_admin/faults/qargo", json=faults).raise_for_status()


@pytest.mark.parametrize(
    ("faults", "outcome"),
    [
        ({"error_rate": 0.25}, None),
        ({"error_rate": 1.0}, ServerError),
        ({"drop_rate": 0.3}, None),
        ({"drop_rate": 1.0}, VendorReadError),
        ({"malformed_rate": 1.0}, MalformedResponse),
        ({"storm": True, "storm_retry_after": 2}, RateLimited),
        ({"latency_ms": 50}, None),
    ],
    ids=[
        "errors-retried",
        "errors-persist",
        "drops-retried",
        "drops-persist",
        "malformed",
        "storm",
        "latency",
    ],
)
def test_each_fault_is_retried_or_mapped(
    client: VendorClient, admin: httpx.Client, fake: FakeTime, faults: dict[str, Any], outcome: Outcome
) -> None:
    expected = q.order_status(client, order_id(2))  # also caches the token before the faults
    _arm(admin, **faults)
    if outcome is None:
        for _ in range(5):
            assert q.order_status(client, order_id(2)).id == expected.id
        return
    with pytest.raises(outcome):
        q.order_status(client, order_id(2))
    if outcome is RateLimited:  # Retry-After honoured exactly, then given up after max_attempts
        assert fake.sleeps.count(2.0) >= 4


def test_errors_and_drops_are_answered_and_retried(client: VendorClient, admin: httpx.Client) -> None:
    q.order_status(client, order_id(3))
    _arm(admin, error_rate=0.2, drop_rate=0.1)
    admin.post("/_admin/stats/reset")
    for i in range(1, 9):
        assert q.order_status(client, order_id(i)).id == order_id(i)
    by_status = admin.get("/_admin/stats/qargo").json()["by_status"]
    assert sum(v for k, v in by_status.items() if k.startswith("5")) > 0


def test_a_slow_vendor_times_out(relaxed_sandbox: SandboxConfig, admin: httpx.Client, db_path: Path | str) -> None:
    fake = FakeTime()
    settings = settings_for(relaxed_sandbox, db_path)
    timeouts = Timeouts(read=0.1)
    with make_client(settings, sleep=fake.sleep, clock=fake.time, timeouts=timeouts) as c:
        q.order_status(c, order_id(1))
        _arm(admin, latency_ms=300)
        with pytest.raises(VendorTimeout, match="did not answer"):
            q.order_status(c, order_id(1))


def test_an_expired_cursor_restarts_the_listing(client: VendorClient, admin: httpx.Client) -> None:
    _arm(admin, expire_cursor=True)
    ids = [r.row_id for r in q.iter_resources(client)]
    assert admin.get("/_admin/faults/qargo").json()["expire_cursor"] is False  # it did fire
    assert len(set(ids)) == RESOURCES_SMALL  # complete; the first page came twice
    assert len(ids) == RESOURCES_SMALL + 20


def test_a_dropped_upload_answer_is_retried_without_a_second_order(
    client: VendorClient, admin: httpx.Client
) -> None:
    q.order_status(client, order_id(1))
    _arm(admin, drop_rate=0.35)
    admin.post("/_admin/stats/reset")
    started = [q.upload_order(client, new_order(f"T-DROP-{n}")) for n in range(6)]
    admin.delete("/_admin/faults/qargo")
    assert admin.get("/_admin/stats/qargo").json()["requests"] > 6  # some answers were lost and resent
    poll = advance_sandbox(admin)
    done = [q.wait_for_upload(client, s.upload_id, sleep=poll) for s in started]
    assert {d.upload_status for d in done} <= {UploadStatus.COMPLETED, UploadStatus.DUPLICATE}
    assert len({d.order_id for d in done}) == 6  # one order per identifier, whatever was resent


# ----------------------------------------------------- several processes, real time (slower)

WORKER = """
import sys, time
from pathlib import Path
from services.settings import Settings
from services.qargo.client import make_client
from services.qargo.resources import order_status
db, base, cid, secret, order_id, seconds = sys.argv[1:7]
settings = Settings(opsdash_db=db, qargo_base_url=base, qargo_client_id=cid, qargo_client_secret=secret)
deadline, calls = time.monotonic() + float(seconds), 0
with make_client(settings) as client:
    while True:
        order_status(client, order_id)
        calls += 1
        if time.monotonic() >= deadline:
            break
print(calls)
"""


def _spawn(config: SandboxConfig, db: Path | str, seconds: float) -> subprocess.Popen[str]:
    env = client_env(config)
    args = [
        env["QARGO_BASE_URL"],
        env["QARGO_CLIENT_ID"],
        env["QARGO_CLIENT_SECRET"],
        order_id(1),
        str(seconds),
    ]
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(db), *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )


def _calls(processes: list[subprocess.Popen[str]]) -> list[int]:
    outs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * len(processes)
    return [int(out.strip()) for out in outs]


@pytest.mark.timeout(60)
def test_two_processes_share_one_rate_limit(start_sandbox: StartSandbox, db_path: Path | str) -> None:
    config = start_sandbox()  # the documented limits: 2/s, bursts of 3
    db = db_path
    with make_client(settings_for(config, db)) as c:
        q.order_status(c, order_id(1))  # the token: Qargo's auth endpoint is outside the limit
    with httpx.Client(base_url=config.base_url) as admin:
        admin.post("/_admin/stats/reset")
        calls = _calls([_spawn(config, db, 3.0), _spawn(config, db, 3.0)])
        stats = admin.get("/_admin/stats/qargo").json()
    assert all(n >= 1 for n in calls) and stats["requests"] == sum(calls)
    assert 5 <= sum(calls) <= 12  # ~2/s together over ~3-4 s; unthrottled it would be hundreds
    assert stats["rate_limited"] == 0
    assert stats["max_accepted_per_second"] <= 3
    assert stats["token_requests"] == 0  # both reused the cached token


@pytest.mark.timeout(60)
def test_three_processes_fetch_one_token(
    admin: httpx.Client, relaxed_sandbox: SandboxConfig, db_path: Path | str
) -> None:
    admin.post("/_admin/stats/reset")
    db = db_path
    calls = _calls([_spawn(relaxed_sandbox, db, 0.0) for _ in range(3)])
    stats = admin.get("/_admin/stats/qargo").json()
    assert calls == [1, 1, 1]
    assert stats["token_requests"] == 1
    assert stats["by_status"] == {"200": 4}  # one token + three calls
