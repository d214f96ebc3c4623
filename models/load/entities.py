"""A participant or place as the reader merges it over the sources that list it."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..documents import MENTIONS_INLINE


@dataclass
class Entity:
    """A participant or place merged over every source that lists it."""

    record: dict
    file: str
    #: (source id, start, end, text) of its first checked spans (see add_mentions)
    mentions: list = field(default_factory=list)
    #: mentions counted but not held: past the first MENTIONS_INLINE, or the tail of a stored
    #: source's entry (see StoredEntry)
    skipped: int = 0

    @property
    def mention_count(self) -> int:
        return len(self.mentions) + self.skipped

    def add_mentions(self, mentions: list, skipped: int = 0) -> None:
        """Hold the first ``MENTIONS_INLINE`` mentions (all a served document lists) and count the
        rest: a corpus of a million events has five million, and the writer gets every mention of
        a source with that source's entry (:meth:`Sink.entity_entry`)."""
        room = max(0, MENTIONS_INLINE - len(self.mentions))
        self.mentions.extend(mentions[:room])
        self.skipped += skipped + max(0, len(mentions) - room)


@dataclass
class StoredEntry:
    """A source's participant or place entry as the database holds it (models.records.SourceEntity):
    what an incremental load merges for a source it does not read again."""

    kind: str
    record: dict
    mentions: list  # (source id, start, end, text), the first MENTIONS_INLINE
    count: int
