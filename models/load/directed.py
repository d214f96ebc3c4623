"""Checks of directed coding: actor codes, source and target actors, addressees, inference flags.

Called by the reader (models/load/reader.py) with the records the schemas already
accepted; each check reports through ``problem(json_path, message)``.
"""
from __future__ import annotations

from ..vocabulary import SOURCE_ROLES, TARGET_ROLES


def actor_blocks(codebook: dict) -> dict[str, str]:
    """The codebook's 3-letter actor blocks: code → kind."""
    return {entry["code"]: entry["kind"] for entry in codebook.get("actors", [])}


def check_actor_code(problem, json_path: str, code: str | None, codebook: dict | None) -> None:
    """Every 3-letter block of ``code`` is in the codebook; at most the first is a country or IGO."""
    if code is None or codebook is None:
        return
    blocks = codebook["actor_blocks"]
    for position in range(0, len(code), 3):
        block = code[position:position + 3]
        kind = blocks.get(block)
        if kind is None:
            problem(f"{json_path}.actor_code", f"actor code {code}: {block} is not in the codebook's actors; add it "
                                               "there with its meaning")
        elif position and kind != "role":
            problem(f"{json_path}.actor_code", f"actor code {code}: {block} is a {kind} code; only the first block "
                                               "may be a country or IGO")


def _roles(record: dict) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for link in record["participants"]:
        roles.setdefault(link["participant"], set()).add(link["role"])
    return roles


def check_event_actors(problem, json_path: str, record: dict) -> None:
    """Source and target actors are participants of the event, on the side their roles allow;
    a source has a target other than itself when targets are given."""
    roles = _roles(record)
    sides = (("source_actors", TARGET_ROLES, "acted upon"), ("target_actors", SOURCE_ROLES, "acting"))
    for key, wrong_roles, wrong_side in sides:
        seen = set()
        for index, pid in enumerate(record[key]):
            where = f"{json_path}.{key}[{index}]"
            if pid in seen:
                problem(where, f"{pid} is listed twice")
            seen.add(pid)
            if pid not in roles:
                problem(where, f"{pid} is not a participant of the event; list it in participants with its role")
            elif roles[pid] <= set(wrong_roles):
                problem(where, f"{pid} has only {wrong_side} role(s) ({', '.join(sorted(roles[pid]))}) in this event")
    # every actor named on one side is in a pair when the other side is named (a side listed on both
    # lists needs a partner on each, or it would be lost from the dyads)
    for key, other in (("source_actors", "target_actors"), ("target_actors", "source_actors")):
        partners = set(record[other])
        if partners:
            for index, pid in enumerate(record[key]):
                if not partners - {pid}:
                    problem(f"{json_path}.{key}[{index}]", f"{pid} would act only on itself")
    check_inferred(problem, json_path, record)


def check_statement_actors(problem, json_path: str, record: dict, participants: dict) -> None:
    """Addressees are known participants, other than the speaker."""
    for index, pid in enumerate(record["addressees"]):
        where = f"{json_path}.addressees[{index}]"
        if pid not in participants:
            problem(where, f"unknown participant {pid!r}; define it in participants.json")
        elif pid == record["speaker"]:
            problem(where, "the speaker is not its own addressee")
    if len(set(record["addressees"])) != len(record["addressees"]):
        problem(f"{json_path}.addressees", "a participant is listed twice")
    check_inferred(problem, json_path, record)


def check_inferred(problem, json_path: str, record: dict) -> None:
    """An inference flag names a part the record has, once; a date the text's words do not give is
    flagged (a day, month or year no expression states is the curator's, and says so)."""
    seen = set()
    for index, flag in enumerate(record["inferred"]):
        where = f"{json_path}.inferred[{index}].field"
        if flag["field"] in seen:
            problem(where, f"{flag['field']} is flagged twice; give one reason")
        seen.add(flag["field"])
        if flag["field"] not in record or record[flag["field"]] in (None, []):
            problem(where, f"{flag['field']} is flagged as inferred but the record gives none")
    date = record.get("date")
    if date and date["precision"] != "unknown" and date["expression"] is None and "date" not in seen:
        problem(f"{json_path}.date.expression",
                f"the date ({date['precision']}) has no expression: give the span of the text's date words, or "
                'flag it in inferred with the reason, e.g. {"field": "date", "reason": "dated from the publication '
                'day"}, or make its precision unknown')


def dyads(sources: list[str], targets: list[str]) -> list[tuple[str | None, str | None]]:
    """The directed (source, target) pairs of a record: every source with every target other than
    itself (sides on an equal footing, listed on both, give one dyad each way); a side named
    alone pairs with None."""
    if sources and targets:
        return [(s, t) for s in sources for t in targets if s != t]
    if sources:
        return [(s, None) for s in sources]
    return [(None, t) for t in targets]
