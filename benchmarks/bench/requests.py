"""The cells of the table: for each request, our URL and Datasette's equivalent(s), drawn
from one seeded random stream so that both servers get the same parameters.

Each cell's stream is split into slices (the warm-up, each round, the profile), each seeded by
(seed, cell, slice): every run replays URLs no earlier run of the cell sent (a response cache
sees a URL again only when the random parameters repeat, which the report counts), and the
checks can draw the first URLs of the measured slices without writing the slices out.
"""
from __future__ import annotations

import datetime as dt
import random
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import sql
from .corpus import DatasetFacts

ARABIC_WORDS = ["المفاوضات", "الإعمار", "اللاجئين", "الحدود", "النفط", "الأسرى", "المصالحة", "الإرهاب",
                "الإنسانية", "التعاون", "الاتفاق", "المحادثات", "الطاقة", "النزوح", "المساعدات", "حلب",
                "دمشق", "طهران", "وزارة", "الحكومة"]
ENGLISH_WORDS = ["negotiations", "reconstruction", "refugees", "border", "oil", "prisoners", "reconciliation",
                 "counterterrorism", "humanitarian", "cooperation", "agreement", "talks", "energy", "displacement",
                 "aid", "Aleppo", "Damascus", "Tehran", "ministry", "government"]
WORDS = ARABIC_WORDS + ENGLISH_WORDS

#: Datasette's variants: without the total (kindest to it) and with it (what our page reports)
PLAIN, TOTAL = "datasette", "datasette+total"
PAGE = {"sort": "-date", "limit": 50, "include": "participants"}
REPEATED_PATH = "/v1/events?sort=-date&limit=50&include=participants"


def q(params: dict) -> str:
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


@dataclass
class Sample:
    """One request of a cell: our path, Datasette's path per variant, and the parameters."""

    ours: str
    theirs: dict
    params: dict


@dataclass
class Cell:
    key: str
    title: str
    kind: str  # how the answers are compared (checks.py): page, search, event, facet, timeline, dyads, repeated
    draw: Callable[[random.Random], Sample] | None
    note: str = ""
    variants: tuple = (PLAIN, TOTAL)  # Datasette's

    def stream(self, seed: int, slice_index: int) -> Iterator[Sample]:
        rng = random.Random(f"{seed}/{self.key}/{slice_index}")
        while True:
            yield self.draw(rng)


class Builder:
    """Makes the cells of one database: its facts, Datasette's name for it, our cursor secret."""

    def __init__(self, facts: DatasetFacts, db_name: str, cursor_secret: bytes):
        self.facts, self.db_name, self.secret = facts, db_name, cursor_secret
        self._prefixes: dict = {}

    # ------------------------------------------------------------------ helpers

    def theirs(self, statement: str, params: dict) -> str:
        """Datasette's SQL API path (the statement quoted once per statement, not per URL). No
        ``_json=``: JSON columns come as the stored text, as ours are spliced; asking Datasette to
        decode and encode them again halved its page rate (a reviewer's reading, 2026-12-04)."""
        if statement not in self._prefixes:
            self._prefixes[statement] = f"/{self.db_name}.json?" + q({"sql": statement, "_shape": "array"})
        return self._prefixes[statement] + ("&" + q(params) if params else "")

    def cursor(self, key) -> str:
        from api import pagination

        return pagination.encode(self.secret, "/v1/events", "-date", {}, list(key), self.facts.snapshot)

    def random_day(self, rng: random.Random) -> str:
        span = (self.facts.last_day - self.facts.first_day).days
        return (self.facts.first_day + dt.timedelta(days=rng.randint(0, span))).isoformat()

    def random_range(self, rng: random.Random, low_days: int = 30, high_days: int = 5 * 365) -> dict:
        start = dt.date.fromisoformat(self.random_day(rng))
        end = start + dt.timedelta(days=rng.randint(low_days, high_days))
        return {"from": start.isoformat(), "to": end.isoformat()}

    def page_variants(self, where: str, embed: str, params: dict, keyset: bool = False) -> dict:
        return {variant: self.theirs(sql.page_sql(where, embed, keyset, total=variant == TOTAL), params)
                for variant in (PLAIN, TOTAL)}

    # ------------------------------------------------------------------ the cells

    def first_page(self, rng) -> Sample:
        to = self.random_day(rng)
        return Sample("/v1/events?" + q({**PAGE, "to": to}),
                      self.page_variants(sql.DATED_BEFORE, sql.EMBED_PARTICIPANTS, {"to": to}),
                      {"to": to})

    def one_event(self, rng) -> Sample:
        event_id = rng.choice(self.facts.event_ids)
        return Sample(f"/v1/events/{event_id}?include=participants,statements,place",
                      {PLAIN: self.theirs(sql.ONE_EVENT_SQL, {"id": event_id})}, {"id": event_id})

    def facet(self, rng) -> Sample:
        dates = self.random_range(rng)
        return Sample("/v1/stats/facets?" + q({"facet": "cameo_root", **dates}),
                      {PLAIN: self.theirs(sql.FACET_SQL, dates)}, dates)

    def search(self, rng, word: str | None = None, to: str | None = None) -> Sample:
        word, to = word or rng.choice(WORDS), to or self.random_day(rng)
        return Sample("/v1/events?" + q({"q": word, "sort": "-date", "limit": 50, "to": to}),
                      {variant: self.theirs(sql.search_sql(sql.DATED_BEFORE, total=variant == TOTAL),
                                            {"q": self.facts.matches[word], "to": to}) for variant in (PLAIN, TOTAL)},
                      {"q": word, "to": to})

    def every_search_word(self) -> list[Sample]:
        """A search of each word the cell draws, up to the last day: the checks compare them all
        (a few sampled URLs missed the words whose matches differed)."""
        return [self.search(None, word, self.facts.last_day.isoformat()) for word in WORDS]

    def deep_page(self, rng) -> Sample:
        keys = self.facts.keys_desc
        position = rng.randint(int(len(keys) * 0.3), int(len(keys) * 0.7))  # events before the page
        after_date, after_id = keys[position - 1]
        return Sample("/v1/events?" + q({**PAGE, "cursor": self.cursor((after_date, after_id))}),
                      self.page_variants("", sql.EMBED_PARTICIPANTS, {"after_date": after_date, "after_id": after_id},
                                         keyset=True),
                      {"depth": position})

    def dyads(self, rng) -> Sample:
        dates = self.random_range(rng)
        return Sample("/v1/stats/dyads?" + q({**dates, "limit": 100}),
                      {PLAIN: self.theirs(sql.DYAD_SQL, dates)}, dates)

    def timeline(self, rng) -> Sample:
        first_year = rng.randint(self.facts.first_day.year, self.facts.last_day.year - 1)
        dates = {"from": f"{first_year}-{rng.randint(1, 12):02d}-01",
                 "to": f"{rng.randint(first_year + 1, self.facts.last_day.year)}-{rng.randint(1, 12):02d}-28"}
        return Sample("/v1/stats/timeline?" + q({"interval": "month", **dates}),
                      {PLAIN: self.theirs(sql.TIMELINE_SQL, dates)}, dates)

    def repeated(self, rng) -> Sample:
        return Sample(REPEATED_PATH, {"floor": REPEATED_PATH}, {})

    def cells(self) -> list[Cell]:
        one = (PLAIN,)
        return [
            Cell("first", "first page of 50, newest first, participants embedded, to= random day", "page",
                 self.first_page),
            Cell("event", "one event by random id, participants + statements + place", "event", self.one_event,
                 variants=one),
            Cell("facet", "facet on CAMEO root, random range (30 days-5 years)", "facet", self.facet, variants=one),
            Cell("search", "search a random word (40: 20 Arabic, 20 English), newest first, to= random day", "search",
                 self.search),
            Cell("deep", "a page 30-70 % deep through the cursor, participants embedded", "page", self.deep_page),
            Cell("dyads", "/v1/stats/dyads, top 100 directed pairs, random range (30 days-5 years)", "dyads",
                 self.dyads, variants=one),
            Cell("timeline", "timeline by month, random span of 1-15 years", "timeline", self.timeline, variants=one),
            Cell("repeated", "the plain first page repeated (response cache) against the bare gunicorn floor",
                 "repeated", self.repeated, variants=("floor",)),
        ]


def write_slice(cell: Cell, seed: int, slice_index: int, count: int, directory: Path) -> dict[str, Path]:
    """The first ``count`` URLs of one slice of ``cell``, one file per server variant (one URL a line)."""
    names = ("ours", *cell.variants)
    files = {name: directory / f"{cell.key}-{slice_index}-{name}.txt" for name in names}
    handles = {name: path.open("w") for name, path in files.items()}
    try:
        stream = cell.stream(seed, slice_index)
        for _ in range(1 if cell.kind == "repeated" else count):
            sample = next(stream)
            handles["ours"].write(sample.ours + "\n")
            for variant in cell.variants:
                handles[variant].write(sample.theirs[variant] + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return files
