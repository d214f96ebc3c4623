"""Arabic/Latin text normalisation for full-text search (indexing *and* querying).

Dependency-free (standard library only). The same functions are applied to the
records when the index is built and to the user's query, so both sides meet in
one spelling whatever the backend (SQLite FTS5 or PostgreSQL).

Public API
----------
``normalize(text)``
    The normalised string (rules below).
``normalize_with_offsets(text)``
    ``(normalised, offsets)``; ``offsets[i]`` is the index in ``text`` of the
    character that produced ``normalised[i]``, so a match found in normalised
    text can be highlighted on the original spelling.
``original_span(offsets, start, end, length)``
    Maps a ``[start, end)`` span of the normalised text back to ``text``.
``tokens(text)`` / ``token_spans(text)``
    Word tokens of the normalised text (letters, digits and combining marks;
    punctuation, quotes, dashes, ``_`` and Arabic ، ؛ ؟ separate words), the
    latter with ``[start, end)`` offsets into the original text.
``index_forms(token)`` / ``expand_index_text(text)``
    A token plus its forms without Arabic proclitics (و ف ب ك ل ال …).

Normalisation rules, in order
-----------------------------
1. Unicode NFKC (presentation forms and ligatures such as U+FEFB ﻻ → لا,
   full-width and mathematical letters/digits, NBSP → space, ...).
2. ``str.casefold`` (ASTANA → astana, ß → ss; also Greek, Cyrillic, ...).
3. One module-level replacement table (see ``_REPLACEMENTS``):

   * delete Arabic harakat and tanween U+064B–U+065F (fathatan … sukun, shadda,
     maddah, hamza above/below, ...), superscript alef U+0670, Quranic
     annotation marks U+0610–U+061A, U+06D6–U+06DC, U+06DF–U+06E8,
     U+06EA–U+06ED, and tatweel U+0640;
   * delete invisible format controls that only break words apart in text
     pasted from the web (an addition to the usual Arabic rules): soft
     hyphen U+00AD, Arabic letter mark U+061C, ZWNJ/ZWJ U+200C/U+200D,
     LRM/RLM U+200E/U+200F, bidi embeddings/isolates U+202A–U+202E and
     U+2066–U+2069, word joiner U+2060, BOM/ZWNBSP U+FEFF;
   * alef forms أ إ آ ٱ → ا;
   * alef maqsura ى → ي, but not in the preposition على ("on", alone or after
     و or ف): folded, it was the name علي (Ali), and a query for Ali found every
     sentence that says "on". Cost: على for Ali, in the Egyptian manner, is
     found only as written;
   * taa marbuta ة → ه;
   * hamza on waw ؤ and on yaa ئ → ء: regional seats of one hamza (مسؤول and
     مسئول, شؤون and شئون) meet. Cost: text typed without the sign (مسوول,
     رييس) does not meet it; edited news text keeps the sign;
   * keheh ک → ك and Farsi yeh ی → ي, as a Persian keyboard types Arabic names
     (روحانی, کازاخستان);
   * the other letters that are "letter + hamza above" (ۀ ۂ ۓ, used in
     Persian/Urdu) lose the hamza as well, which is exactly what stripping
     U+0654 from the decomposed spelling gives; without this, ه/ە + U+0654
     would *compose* under NFKC instead of losing the mark;
   * Arabic-Indic digits ٠–٩ (U+0660–U+0669) and Eastern Arabic-Indic
     digits ۰–۹ (U+06F0–U+06F9) → ASCII 0–9.
4. NFKC again: deleting a mark or a tatweel can leave a Latin base letter next
   to a combining mark that now composes with it; this keeps ``normalize``
   idempotent.

``normalize`` is *not* a tokenizer: spaces and punctuation are kept (as NFKC
gives them), so the normalised text is about as long as the original and the
offsets stay meaningful. Use :func:`tokens` to get words.

Performance: ``normalize`` is C-level passes only (two NFKC, casefold, and a
guarded ``str.replace`` per table entry) with an ASCII fast path, about 70 M
characters/s on Arabic text. ``normalize_with_offsets`` (and so
``token_spans``) runs a Python loop over the characters with per-character and
per-cluster caches, about 4 M characters/s: meant for highlighting, not for
bulk indexing. :func:`tokens`, :func:`token_spans` and
:func:`normalize_with_offsets` build two Unicode tables on their first call
(about 0.2 s, once per process); :func:`normalize` needs none.
"""
from __future__ import annotations

import re
import sys
import unicodedata

__all__ = [
    "PROCLITICS",
    "MIN_STEM",
    "normalize",
    "normalize_with_offsets",
    "original_span",
    "tokens",
    "token_spans",
    "index_forms",
    "expand_index_text",
]

# --------------------------------------------------------------------------- tables


def _char_range(first: int, last: int) -> range:
    return range(first, last + 1)


#: Code points deleted by normalisation.
_DELETED: tuple[int, ...] = (
    *_char_range(0x064B, 0x065F),  # harakat, tanween, shadda, sukun, maddah, hamza above/below, ...
    0x0670,  # superscript (dagger) alef
    *_char_range(0x0610, 0x061A),  # Quranic annotation signs
    *_char_range(0x06D6, 0x06DC),  # Quranic small high ligatures / marks
    *_char_range(0x06DF, 0x06E8),  # Quranic small high/low letters and marks
    *_char_range(0x06EA, 0x06ED),  # Quranic empty centre stops, small low meem
    0x0640,  # tatweel (kashida)
    # Invisible format controls (see module docstring).
    0x00AD,  # soft hyphen
    0x061C,  # Arabic letter mark
    0x200C, 0x200D,  # ZWNJ, ZWJ
    0x200E, 0x200F,  # LRM, RLM
    *_char_range(0x202A, 0x202E),  # bidi embeddings and overrides
    0x2060,  # word joiner
    *_char_range(0x2066, 0x2069),  # bidi isolates
    0xFEFF,  # BOM / zero-width no-break space
)

#: Letter foldings (source -> target), applied after NFKC and casefold.
_FOLDED: dict[str, str] = {
    "\u0623": "\u0627",  # أ alef with hamza above   -> ا
    "\u0625": "\u0627",  # إ alef with hamza below   -> ا
    "\u0622": "\u0627",  # آ alef with madda above   -> ا
    "\u0671": "\u0627",  # ٱ alef wasla              -> ا
    "\u0629": "\u0647",  # ة taa marbuta             -> ه
    "\u0624": "\u0621",  # ؤ waw with hamza above    -> ء
    "\u0626": "\u0621",  # ئ yeh with hamza above    -> ء
    "\u06A9": "\u0643",  # ک keheh (Persian kaf)     -> ك
    "\u06CC": "\u064A",  # ی Farsi yeh               -> ي
    "\u06C0": "\u06D5",  # ۀ heh with yeh above      -> ە (= ە + U+0654)
    "\u06C2": "\u06C1",  # ۂ heh goal with hamza     -> ہ (= ہ + U+0654)
    "\u06D3": "\u06D2",  # ۓ yeh barree with hamza   -> ے (= ے + U+0654)
}
for _i in range(10):
    _FOLDED[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _FOLDED[chr(0x06F0 + _i)] = str(_i)  # Eastern Arabic-Indic (Persian/Urdu) digits

#: (source, replacement) pairs, built once. Applied with ``str.replace`` guarded by
#: ``in`` rather than with ``str.translate``: on non-ASCII text CPython's translate
#: does a dict lookup (and an int allocation) per character, about 55 us per KB of
#: Arabic, while ~100 ``in`` scans plus a few replaces take a few us. The result is
#: the same because every source is a single character and no replacement
#: contains a source.
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    *((chr(cp), "") for cp in _DELETED),
    *_FOLDED.items(),
)
del _i

MAQSURA, YEH = "\u0649", "\u064A"
#: the preposition على (alone, or after the conjunction و or ف) as a whole word of the normalised
#: text (words as :func:`tokens` cuts them: "_" parts them too): its ى is not folded (see the
#: module docstring)
_ALA = re.compile(r"(?<![^\W_])[وف]?عل\u0649(?![^\W_])")

_nfkc = unicodedata.normalize
_is_normalized = unicodedata.is_normalized

# --------------------------------------------------------------------------- normalize


def normalize(text: str) -> str:
    """Normalise ``text`` for search: NFKC, casefold, Arabic foldings, NFKC.

    Idempotent (``normalize(normalize(x)) == normalize(x)``) and total (any
    ``str`` is accepted). See the module docstring for the rules.
    """
    if text.isascii():
        # NFKC and the replacement table leave ASCII unchanged; casefold == lower.
        return text.lower()
    text = _nfkc("NFKC", _stage1(text))
    return _folded_maqsura(text) if MAQSURA in text else text


def _stage1(text: str) -> str:
    """Everything except the final NFKC and the alef maqsura (also the per-cluster step of the
    offsets path)."""
    text = _nfkc("NFKC", text).casefold()
    for source, replacement in _REPLACEMENTS:
        if source in text:
            text = text.replace(source, replacement)
    return text


def _folded_maqsura(text: str) -> str:
    """Every ى folded to ي but that of the word على: the last step, on the otherwise normalised
    text, whose words are then those a second normalisation sees (idempotence), one character
    for one (the offsets hold). The word is told by its neighbours, which the offsets path,
    cluster by cluster, cannot see: it folds its whole output here too."""
    kept = [found.end() - 1 for found in _ALA.finditer(text)]
    if not kept:
        return text.replace(MAQSURA, YEH)
    out, at = [], 0
    for end in kept:
        out += (text[at:end].replace(MAQSURA, YEH), MAQSURA)
        at = end + 1
    out.append(text[at:].replace(MAQSURA, YEH))
    return "".join(out)


# --------------------------------------------------------------------------- offsets

# Hangul medial vowels and final consonants compose algorithmically with the
# preceding syllable/jamo, so they are never the start of a normalisation cluster.
_HANGUL_V = range(0x1161, 0x1176)
_HANGUL_T = range(0x11A8, 0x11C3)

_unicode_tables: tuple[frozenset[str], str, str] | None = None


def _scan_unicode() -> tuple[set[str], list[list[int]]]:
    """(second characters of canonical pairs that are starters, ranges of combining marks)."""
    seconds: set[str] = set()
    mark_ranges: list[list[int]] = []
    decomposition, combining, category = unicodedata.decomposition, unicodedata.combining, unicodedata.category
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if category(ch)[0] == "M":
            if mark_ranges and mark_ranges[-1][1] == cp - 1:
                mark_ranges[-1][1] = cp
            else:
                mark_ranges.append([cp, cp])
        d = decomposition(ch)
        if d and d[0] != "<":
            parts = d.split()
            if len(parts) == 2 and combining(chr(int(parts[1], 16))) == 0:
                seconds.add(chr(int(parts[1], 16)))
    return seconds, mark_ranges


def _tables() -> tuple[frozenset[str], str, str]:
    """(starters that compose with a preceding character, regex class bodies of
    the combining marks inside and outside the Basic Multilingual Plane).

    Computed from the running Python's ``unicodedata`` (so it follows its Unicode
    version) on first use; about 0.2 s, once per process.
    """
    global _unicode_tables
    if _unicode_tables is None:
        seconds, mark_ranges = _scan_unicode()
        seconds.update(chr(cp) for cp in _HANGUL_V)
        seconds.update(chr(cp) for cp in _HANGUL_T)
        # Basic Multilingual Plane marks and the others apart: ``re`` compiles a
        # class of BMP ranges into a fast bitmap, astral ranges are tested one by one.
        bmp = "".join(f"{chr(a)}-{chr(min(b, 0xFFFF))}" for a, b in mark_ranges if a <= 0xFFFF)
        astral = "".join(f"{chr(max(a, 0x10000))}-{chr(b)}" for a, b in mark_ranges if b > 0xFFFF)
        _unicode_tables = (frozenset(seconds), bmp, astral)
    return _unicode_tables


# char -> (stage-1 output of the char alone, True if a normalisation cluster can start at it)
_CHAR_INFO: dict[str, tuple[str, bool]] = {}


def _char_info(ch: str) -> tuple[str, bool]:
    info = _CHAR_INFO.get(ch)
    if info is None:
        seconds = _tables()[0]
        first = _nfkc("NFKD", ch)[0]
        starts = unicodedata.combining(first) == 0 and first not in seconds
        info = (_stage1(ch), starts)
        _CHAR_INFO[ch] = info
    return info


_CLUSTER_CACHE_LIMIT = 65_536
# (transform, cluster) -> (transformed cluster, per-character pieces or None)
_CLUSTER_CACHE: dict[tuple[object, str], tuple[str, list[str] | None]] = {}


def _cluster_result(transform, cluster: str) -> tuple[str, list[str] | None]:
    key = (transform, cluster)
    result = _CLUSTER_CACHE.get(key)
    if result is None:
        piece = transform(cluster)
        pieces: list[str] | None = [transform(c) for c in cluster]
        if "".join(pieces) != piece:
            pieces = None
        if len(_CLUSTER_CACHE) >= _CLUSTER_CACHE_LIMIT:
            _CLUSTER_CACHE.clear()
        result = _CLUSTER_CACHE[key] = (piece, pieces)
    return result


def _append(out: list[str], offs: list[int], piece: str, position: int, offsets: list[int] | None) -> None:
    """Add ``piece``, produced by the input character at ``position``, with its offsets."""
    if piece:
        out.append(piece)
        offs.extend([position if offsets is None else offsets[position]] * len(piece))


def _clustered(text: str, offsets: list[int] | None, transform) -> tuple[str, list[int]]:
    """Apply ``transform`` (a normalisation step) cluster by cluster, tracking offsets.

    A cluster is a character at which one can start (its decomposition starts
    with a starter that composes with nothing before it) plus the characters
    after it at which none can; NFKC never reorders or composes across cluster
    boundaries, so transforming cluster by cluster gives exactly
    ``transform(text)``. Inside a cluster each output character is mapped to the
    input character that produced it when the cluster transforms character by
    character (a letter and its harakat, a ligature); otherwise (a real
    composition, e.g. ``e`` + U+0301 → ``é``) the whole output of the cluster
    maps to the cluster's first character.

    ``offsets`` maps ``text`` to the original string (``None``: identity).
    """
    info = _CHAR_INFO
    single = transform is _stage1  # the per-character cache holds _stage1 results
    out: list[str] = []
    offs: list[int] = []
    n = len(text)
    start = 0
    for end in range(1, n + 1):
        if end < n and not (info.get(text[end]) or _char_info(text[end]))[1]:
            continue  # text[end] joins the current cluster
        if end - start == 1 and single:
            _append(out, offs, (info.get(text[start]) or _char_info(text[start]))[0], start, offsets)
        else:
            piece, pieces = _cluster_result(transform, text[start:end])
            if pieces is None:
                _append(out, offs, piece, start, offsets)
            else:
                for k, p in enumerate(pieces, start):
                    _append(out, offs, p, k, offsets)
        start = end
    return "".join(out), offs


def _final_nfkc(text: str) -> str:
    return _nfkc("NFKC", text)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """``(normalize(text), offsets)`` with ``offsets[i]`` the index in ``text`` of
    the character that produced output character ``i``.

    * Deleted characters (harakat, tatweel, ...) produce nothing.
    * A character that NFKC expands (ligature ﻻ → لا, ``½`` → ``1⁄2``) maps every
      output character to itself.
    * Offsets are non-decreasing and each is ``< len(text)``.

    Use :func:`original_span` to map a match ``[start, end)`` back to ``text``.
    """
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out, offsets = _clustered(text, None, _stage1)
    if not _is_normalized("NFKC", out):
        out, offsets = _clustered(out, offsets, _final_nfkc)
    if MAQSURA in out:
        out = _folded_maqsura(out)
    return out, offsets


def original_span(offsets: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """Map ``[start, end)`` in the normalised text to ``[start, end)`` in the original.

    ``offsets`` comes from :func:`normalize_with_offsets` and ``length`` is
    ``len(original)``. The original span starts at the first matched character's
    source and runs up to the source of the next normalised character (or the end
    of the text), so characters deleted by normalisation that follow the last
    matched one (final harakat, tatweel) are included.
    """
    n = len(offsets)
    if start >= end:
        pos = offsets[start] if start < n else length
        return pos, pos
    first = offsets[start]
    last = offsets[end - 1] + 1
    stop = offsets[end] if end < n else length
    return first, max(last, stop)


# --------------------------------------------------------------------------- tokens

_token_res: tuple[re.Pattern[str], re.Pattern[str]] | None = None
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def _token_re(norm: str) -> re.Pattern[str]:
    """The token regex to use on normalised text ``norm`` (``_`` already replaced).

    A token is a run of letters and digits (regex ``\\w``) and combining marks (category
    M*), so a word keeps its marks: Latin i̇ from casefolded İ, Indic vowel signs,
    Arabic marks outside the stripped ranges. Astral marks (Brahmi, Chakma, ...)
    need a slow class, used only when the text has astral characters.
    """
    global _token_res
    if _token_res is None:
        _, bmp, astral = _tables()
        _token_res = (
            re.compile(f"[\\w{bmp}]+"),
            re.compile(f"(?:[\\w{bmp}]|[{astral}])+"),
        )
    return _token_res[_ASTRAL.search(norm) is not None]


def tokens(text: str) -> list[str]:
    """Normalise ``text`` and split it into word tokens (letters/digits/marks).

    Punctuation, quotes, dashes, ``_``, symbols and Arabic punctuation (، ؛ ؟ ٪ …)
    separate tokens and are dropped.
    """
    norm = normalize(text).replace("_", " ")
    return _token_re(norm).findall(norm)


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """``(token, start, end)`` for each token of ``text``.

    ``token`` is as in :func:`tokens`; ``[start, end)`` indexes the ORIGINAL
    ``text`` and covers the word's original characters, including harakat and
    tatweel inside or right after it (see :func:`original_span`).
    """
    norm, offsets = normalize_with_offsets(text)
    norm = norm.replace("_", " ")
    length = len(text)
    return [
        (m.group(), *original_span(offsets, m.start(), m.end(), length))
        for m in _token_re(norm).finditer(norm)
    ]


# --------------------------------------------------------------------------- clitics

#: Arabic proclitic sequences stripped by :func:`index_forms`, in normalised
#: spelling (longest first). لل is ل + ال (the alef of the article is dropped
#: after the preposition ل). The future prefix س and verbal prefixes are not
#: included: stripping them would turn سلام into لام.
PROCLITICS: tuple[str, ...] = (
    # conjunction + preposition + article
    "وبال", "فبال", "وكال", "فكال", "ولل", "فلل",
    # conjunction or preposition + article
    "وال", "فال", "بال", "كال", "لل",
    # article
    "ال",
    # conjunction + preposition
    "وب", "فب", "وك", "فك", "ول", "فل",
    # conjunction or preposition
    "و", "ف", "ب", "ك", "ل",
)

#: A proclitic is only stripped when at least this many characters remain.
MIN_STEM = 2
#: A conjunction and a preposition together are stripped only when three remain: a name
#: such as وليد (Walid) is not و + ل + يد ("and for a hand"); يد, بيد and اليد are still found.
COMPOUND_MIN_STEM = 3
_LEFT_AFTER = {prefix: COMPOUND_MIN_STEM for prefix in ("وب", "فب", "وك", "فك", "ول", "فل")}

_ARTICLE = "ال"
_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _p in sorted(PROCLITICS, key=len, reverse=True):
    _BY_FIRST[_p[0]] = (*_BY_FIRST.get(_p[0], ()), _p)
del _p


def index_forms(token: str) -> list[str]:
    """The forms under which an indexed ``token`` is stored: itself first, then the
    token without each proclitic of :data:`PROCLITICS` it starts with, so that a
    query for سلام finds للسلام (→ سلام, لسلام) and والسلام (→ سلام, السلام).

    ``token`` must already be normalised (as returned by :func:`tokens` or
    :func:`token_spans`); this function does not normalise again, because it is
    called for every token of every record at load time.

    A proclitic is stripped only when at least :data:`MIN_STEM` (2) characters
    remain (:data:`COMPOUND_MIN_STEM`, 3, after a conjunction and a preposition
    together: وليد is not و + ل + يد) and the rest is not the bare article ال, so short words are never
    stripped to nothing (``index_forms("بال") == ["بال"]``). Stripping is
    deliberately generous (recall over precision): وزير is also indexed as زير.

    Words glued to the next word by a missing space (أستاناجاءت) are NOT split
    here: no list of clitics can know where "أستانا" ends: the search layer matches
    query words as prefixes of these forms (FTS5 prefix queries, PostgreSQL prefix tsquery).
    """
    prefixes = _BY_FIRST.get(token[:1])
    if prefixes is None:
        return [token]
    forms = [token]
    size = len(token)
    for prefix in prefixes:
        if size - len(prefix) >= _LEFT_AFTER.get(prefix, MIN_STEM) and token.startswith(prefix):
            stem = token[len(prefix):]
            if stem != _ARTICLE and stem not in forms:
                forms.append(stem)
    if token.startswith("لل") and size > 3:  # ل + ال with its alef dropped: للشؤون is also الشؤون
        forms.append(_ARTICLE + token[2:])
    return forms


def expand_index_text(text: str) -> str:
    """Space-separated tokens of ``text``, each followed by its other
    :func:`index_forms`: the value of an FTS column for term (not phrase) search.

    >>> expand_index_text("والسلام عليكم")
    'والسلام سلام السلام عليكم'
    """
    out: list[str] = []
    for token in tokens(text):
        out.extend(index_forms(token))
    return " ".join(out)
