"""When a Qasida listing ends: the document's reading, not our sandbox's.

The envelope is `{data, pageNumber, pageSize, nextPage, previousPage}` (seeds/003 lines 150-173, the
claim list; every list has it). The document says nothing about short pages, and its own sample
echoes `"pageSize": 0`, so neither the page length nor the echoed size can tell "last page": a server
that caps `PageSize` below what we asked (or echoes 0) would otherwise end the walk after page one.
A listing therefore ends only on

* `nextPage` null or absent (or blank), or
* an empty `data` page,

and otherwise asks for `PageNumber + 1` with the same parameters. A bare JSON list instead of the
envelope is taken as the one and only page. (docs/qasida-paths.md, "Readings of the document".)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.core.errors import MalformedResponse
from services.core.pagination import PageRequest, Params


@dataclass(frozen=True)
class QasidaPaging:
    page_size: int = 1000
    first_page: int = 1
    number_param: str = "PageNumber"
    size_param: str = "PageSize"
    data_key: str = "data"

    def first(self, path: str, params: Params) -> PageRequest:
        return PageRequest(path, {**params, self.number_param: self.first_page, self.size_param: self.page_size})

    def records(self, vendor: str, body: Any) -> list[Any]:
        if isinstance(body, list):
            return body
        value = body.get(self.data_key) if isinstance(body, dict) else None
        if not isinstance(value, list):
            raise MalformedResponse(
                f"{vendor} answered a list request without a '{self.data_key}' list: check QASIDA_PATHS "
                "points at a list endpoint, or report it with the request id",
                vendor=vendor,
            )
        return value

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None:
        if not isinstance(body, dict) or not records or not body.get("nextPage"):
            return None
        number = int(current.params.get(self.number_param, self.first_page)) + 1
        return PageRequest(current.url, {**current.params, self.number_param: number})
