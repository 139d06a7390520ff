"""Segment-spec ingestion for the HTTP API (and any other caller): identify, track, page,
screen, group and alias messages, one or a batch at a time, resolved to contacts
(`ingestion.identity`) and stored in one transaction — answered after it has committed.

Every message is read and checked before anything is written (`ingestion.segment`): any
mistake refuses the whole request, each mistake placed by the message's index and field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.ingestion.identity import SegmentReport
    from leadscore.model import Model
    from leadscore.storage import Store


class SegmentOperations:
    """Mixed into `Project`, which gives `store` and `model`."""

    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...

    def ingest_segment(self, body: Any, *, kind: str | None = None,
                       now: datetime | None = None) -> SegmentReport:
        """One message of `kind` (identify, track, page, screen, group, alias) as a parsed JSON
        body, or with `kind=None` a batch (`{"batch": [...]}`); `now` is the receive time."""
        from leadscore.ingestion.identity import Resolver
        from leadscore.ingestion.segment import Reader

        moment = (now or datetime.now(UTC)).astimezone(UTC)
        reader = Reader(self.model.catalog, moment)
        messages = reader.batch(body) if kind is None else reader.single(body, kind)
        reader.finish()
        with self.store.write() as writer:
            report = Resolver(writer, reader, moment).run(messages)
            reader.finish()  # held traits the model's catalog no longer reads: nothing kept
        return report


__all__ = ["SegmentOperations"]
