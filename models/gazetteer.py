"""The gazetteer: every name of the participants and places, and the search forms (demonyms,
spellings) their curators list, so that a query word or a record's text that names an entity
finds it under one entity term (see :class:`Gazetteer`), whatever the language or spelling.

Built at load time for the index rows (models/search.py's IndexWriter) and once per dataset
version and process for queries (:func:`gazetteer_for`).
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import text as textnorm

if TYPE_CHECKING:
    from .search import Query


_NO_CANDIDATES = ((), ())  # one shared object: Gazetteer.expand skips it by identity


#: a private-use character before every entity term (see Gazetteer)
ENTITY_MARK = "\ue001"


@dataclass(frozen=True)
class Entry:
    """One entity for the gazetteer: its ``names`` (name_en, name_ar, aliases), its ``search_forms``
    (spellings and demonyms that find it but do not name it: السوري, Iranian) and a ``key`` that
    entities standing for one thing share (the participant Syria and the place Syria)."""

    names: tuple[str, ...]
    search_forms: tuple[str, ...] = ()
    key: str | None = None


def entry_of(record: dict) -> Entry:
    """The gazetteer entry of a participant or place document (or fixture record)."""
    country = record.get("country")
    key = f"country:{country}" if record.get("kind") == "country" and country else f"entity:{record['id']}"
    return Entry((record["name_en"], record["name_ar"], *record.get("aliases", ())),
                 tuple(record.get("search_forms", ())), key)


def entity_term(key: str) -> str:
    """The index term that stands for one entity: one token of letters and digits for every engine."""
    return ENTITY_MARK + hashlib.sha1(key.encode()).hexdigest()[:16]


def _sequences(entry: Entry):
    """(token sequence, is a search form) of each of an entry's names and search forms."""
    for marked, texts in ((False, entry.names), (True, entry.search_forms)):
        for text in texts:
            sequence = _name_tokens(text)
            if sequence:
                yield sequence, marked


def name_sequences(entry: Entry) -> set[tuple[str, ...]]:
    """The token sequences of an entry's names and search forms."""
    return {sequence for sequence, _ in _sequences(entry)}


@functools.lru_cache(maxsize=100_000)
def _name_tokens(text: str) -> tuple[str, ...]:
    """A name's tokens, remembered: an incremental load builds the gazetteer of the stored
    entities and of the new ones, which share nearly all their names."""
    return tuple(textnorm.tokens(text))


class Gazetteer:
    """Every name of every participant and place, to make a record findable in both languages.

    A record whose text names an entity in one spelling or language (Astana,
    آستانا, خميس) is indexed under all of that entity's names, so the English
    and Arabic queries find the same records. A record that names an entity or
    uses one of its search forms (a demonym: الشركات الإيرانية) is also indexed
    under the entity's own term (:func:`entity_term`), which a query word naming
    the entity in any form matches (:meth:`alternatives`): Iran finds الإيرانية
    and Iranian finds إيران, below the words as written. Only a name of a single
    entity does either: a surname two people share names neither of them for certain.
    """

    def __init__(self, entities: list):
        entries = [e if isinstance(e, Entry) else Entry(tuple(e)) for e in entities]
        self.terms = [entity_term(e.key or f"#{i}") for i, e in enumerate(entries)]  # see expand
        self._starting: dict[str, tuple] = {}  # token -> candidates (see expand)
        found = [(sequence, index, marked) for index, entry in enumerate(entries)
                 for sequence, marked in _sequences(entry)]
        owners = self._collect(entries, found)
        #: the names (not search forms) of more than one word, as token sequences (see is_name)
        self.long_names = frozenset(sequence for sequence, _, marked in found if not marked and len(sequence) > 1)
        self._forms = self._form_index()
        # a name shared by several entities (a surname, "the minister") does not say which one a
        # text means: it is searchable as written, but adds nobody's other names
        self._index_names([entry for entry in found if len(owners[entry[0]]) == 1])

    def _collect(self, entries: list[Entry], found) -> dict[tuple[str, ...], set[str]]:
        """Each entity's name tokens and sequences; returns the owners (entity keys) of each sequence."""
        self.names: list[list[str]] = [[] for _ in entries]  # name tokens of each entity
        self.sequences: list[list[tuple[str, ...]]] = [[] for _ in entries]  # names and search forms
        owners: dict[tuple[str, ...], set[str]] = {}
        for sequence, index, marked in found:
            owners.setdefault(sequence, set()).add(entries[index].key or f"#{index}")
            if not marked:
                self.names[index].extend(t for t in sequence if t not in self.names[index])
            if sequence not in self.sequences[index]:
                self.sequences[index].append(sequence)
        return owners

    def _index_names(self, found: list[tuple[tuple[str, ...], int, bool]]) -> None:
        """For expand: one-token names by token, longer ones by their first two tokens."""
        self._singles: dict[str, list[tuple[int, bool]]] = {}
        self._pairs: dict[tuple[str, str], list[tuple[tuple[str, ...], int, bool]]] = {}
        for sequence, index, marked in found:
            if len(sequence) == 1:
                self._singles.setdefault(sequence[0], []).append((index, marked))
            else:
                self._pairs.setdefault((sequence[0], sequence[1]), []).append((sequence, index, marked))
        self._firsts = {first for first, _ in self._pairs}

    def effects(self) -> dict[tuple[str, ...], tuple]:
        """What each indexed name sequence adds to a record that contains it: two gazetteers
        index a record alike exactly where the sequences it contains have equal effects."""
        out = {(token,): [] for token in self._singles}
        for sequences in self._pairs.values():
            out.update({sequence: [] for sequence, _, _ in sequences})
        for token, owners in self._singles.items():
            out[(token,)].extend((marked, tuple(self.names[i]), self.terms[i]) for i, marked in owners)
        for sequences in self._pairs.values():
            for sequence, index, marked in sequences:
                out[sequence].append((marked, tuple(self.names[index]), self.terms[index]))
        return {sequence: tuple(sorted(effect)) for sequence, effect in out.items()}

    def expand(self, tokens: list[str]) -> list[str]:
        """The index terms ``tokens`` gain through the entities they name: every name of an entity
        whose name (in any of its forms) appears, the stem terms of the names of an entity whose
        search form appears.

        A name matches at a position when the token there has the name's first token
        among its :func:`~models.text.index_forms` and the following tokens equal the
        rest of the name. Names are looked up by their first two tokens, and each
        distinct token's forms are looked up once, so the cost does not grow with the
        number of entities sharing a first token (every محمد).
        """
        named, used = self._found(tokens)
        out = [name for index in sorted(named) for name in self.names[index]]
        # the entity's own term, for every entity named or used: what a query that names the
        # entity in any form (Iranian, إيران) also matches, below the words as written
        out.extend(dict.fromkeys(self.terms[index] for index in sorted(named | used)))
        return out

    def _found(self, tokens: list[str]) -> tuple[set[int], set[int]]:
        """(entities named in ``tokens``, entities whose search form is used there)."""
        named: set[int] = set()
        used: set[int] = set()
        starting, candidates, nothing, pairs = self._starting, self._candidates, _NO_CANDIDATES, self._pairs
        last = len(tokens) - 1
        # most tokens start no name: find the few that do without a Python-level loop step each
        entries = [starting.get(token) or candidates(token) for token in tokens]
        for position in [p for p, entry in enumerate(entries) if entry is not nothing]:
            singles, firsts = entries[position]
            for index, marked in singles:
                (used if marked else named).add(index)
            if not firsts or position == last:
                continue
            following = tokens[position + 1]
            for form in firsts:
                for sequence, index, marked in pairs.get((form, following), ()):
                    if len(sequence) == 2 or tuple(tokens[position + 2:position + len(sequence)]) == sequence[2:]:
                        (used if marked else named).add(index)
        return named, used

    #: distinct tokens whose candidates are remembered (a load sees a few hundred thousand)
    CACHE_LIMIT = 500_000

    def _candidates(self, token: str) -> tuple[tuple[tuple[int, bool], ...], tuple[str, ...]]:
        """((entity, marked) of the one-token names that are a form of ``token``,
        forms of ``token`` that start a longer name)."""
        forms = textnorm.index_forms(token)
        singles = tuple(entry for form in forms for entry in self._singles.get(form, ()))
        firsts = tuple(form for form in forms if form in self._firsts)
        if len(self._starting) >= self.CACHE_LIMIT:
            self._starting.clear()
        entry = self._starting[token] = (singles, firsts) if singles or firsts else _NO_CANDIDATES
        return entry

    #: index entries a query word may scan (a one-letter word begins thousands of names)
    MAX_SCANNED = 2_000

    def _form_index(self) -> tuple[list[str], list[tuple[int, int, int]]]:
        """Every form of every token of every name and search form, sorted, with (entity,
        sequence, position): query words are looked up by prefix with a bisection."""
        entries = []
        for index, sequences in enumerate(self.sequences):
            for number, sequence in enumerate(sequences):
                for position, token in enumerate(sequence):
                    entries.extend((form, index, number, position) for form in textnorm.index_forms(token))
        entries.sort()
        return [e[0] for e in entries], [e[1:] for e in entries]

    def _matched(self, query: "Query") -> dict[int, set[str]]:
        """Entities the query names (every token of one of their names or search forms matched
        by a query word, as a prefix of one of its forms), with the words that matched them. The
        function words left out of the search count here: "Islamic Republic of Iran" names Iran."""
        keys, values = self._forms
        hits: dict[tuple[int, int], dict[int, str]] = {}
        for word in (*query.positive, *query.ignored):
            for form in textnorm.index_forms(word):  # السوري is سوري, a search form of Syria
                low = bisect.bisect_left(keys, form)
                high = min(bisect.bisect_left(keys, form + "\U0010ffff"), low + self.MAX_SCANNED)
                for index, number, position in values[low:high]:
                    hits.setdefault((index, number), {})[position] = word
        out: dict[int, set[str]] = {}
        looked_for = set(query.positive)
        for (index, number), positions in hits.items():
            # every token of the name matched, and not by function words alone ("a" is a prefix of Aleppo)
            if len(positions) == len(self.sequences[index][number]) and looked_for.intersection(positions.values()):
                out.setdefault(index, set()).update(positions.values())
        return out

    def is_name(self, tokens: list[str]) -> bool:
        """Whether ``tokens`` are the whole of a name of an entity (not a search form), of more than
        one word: a quoted name of one word stays a whole word (read as the name, unquoted, it
        became a prefix: "UN" found every "United")."""
        return tuple(tokens) in self.long_names

    def named_by(self, query: "Query") -> list[tuple[str, ...]]:
        """The names and search forms (token sequences) of the entities the query names:
        highlights mark these where a text uses them."""
        return [sequence for index in sorted(self._matched(query)) for sequence in self.sequences[index]]

    def alternatives(self, query: "Query") -> dict[str, tuple[str, ...]]:
        """For each query word that names an entity (alone or with the others), that entity's
        term: Iranian then finds the records that name Iran, as Iran finds الإيرانية."""
        out: dict[str, list[str]] = {}
        for index, words in self._matched(query).items():
            for word in words:
                out.setdefault(word, []).append(self.terms[index])
        return {word: tuple(dict.fromkeys(terms)) for word, terms in out.items()}


def contains_sequence(tokens: list[str], sequence: tuple[str, ...]) -> bool:
    """Whether :meth:`Gazetteer.expand` would find the name ``sequence`` in ``tokens``: a token
    with the name's first token among its forms, followed by the rest of the name."""
    length = len(sequence)
    for position, token in enumerate(tokens):
        if sequence[0] in textnorm.index_forms(token) and tuple(tokens[position + 1:position + length]) == sequence[1:]:
            return True
    return False


_gazetteers: dict[str, Gazetteer] = {}
#: one build at a time: the threads that need the gazetteer meanwhile wait for it (eight
#: concurrent first searches once built it eight times over, each slower for the others)
_building = threading.Lock()
_built = [0]  # gazetteers this process has built (a server takes what a new one holds out of its collector)


def builds() -> int:
    """How many gazetteers this process has built so far."""
    return _built[0]


def gazetteer_for(version: str, load_entities) -> Gazetteer:
    """The gazetteer of the loaded dataset (``load_entities()`` gives its entries), built once
    per dataset version and process (api/server.py starts the build when a worker boots)."""
    gazetteer = _gazetteers.get(version)
    if gazetteer is None:
        with _building:
            gazetteer = _gazetteers.get(version)
            if gazetteer is None:
                gazetteer = Gazetteer(load_entities())
                _gazetteers.clear()
                _gazetteers[version] = gazetteer
                _built[0] += 1
    return gazetteer
