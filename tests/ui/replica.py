"""A dashboard replica's reading path in a process of its own (tests/ui/test_replicas.py): what a session's rerun
does for the Overview's payables card (`ui.data.money_kpis`: ui/versioned.py's stamp check against the shared
database, Streamlit's memory cache keyed by the stored figure's stamp), repeated every PERIOD_S as a user
rerunning the page would, each reading written to OUT (replaced whole) as JSON.

    python -m tests.ui.replica OUT      # OPSDASH_DB from the environment; runs until killed
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PERIOD_S = 0.2


def reading() -> dict[str, object]:
    from ui import data
    from ui.versioned import as_of

    started = time.perf_counter()
    payables = data.money_kpis({}, "payable")
    took = time.perf_counter() - started
    return {"outstanding": {currency: str(amount) for currency, amount in payables.outstanding.items()},
            "invoices": payables.invoices, "as_of": as_of(), "rerun_ms": round(took * 1000, 2), "at": time.time()}


def main(out: Path) -> None:
    part = out.with_suffix(".part")
    while True:
        part.write_text(json.dumps(reading()))
        os.replace(part, out)
        time.sleep(PERIOD_S)  # the next rerun (a user's click), not a wait for a result


if __name__ == "__main__":
    main(Path(sys.argv[1]))
