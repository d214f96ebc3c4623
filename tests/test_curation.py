"""The curator's tools: `load` reports exactly what `check` reports, spans by text, schemas for
editors, a new source in one command, the proof-reading view. Through the real command line."""
from __future__ import annotations

import hashlib
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from models.load import editor_schemas

from .conftest import ROOT, SOURCE, copy_dataset, loaded_url

ENV = {**os.environ, "EVENT_RECORDS_LOAD_JOBS": "1"}


def run(*args: str, root: Path | None = None, check_exit: int | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "api.cli", *args, *(["--root", str(root)] if root else [])]
    done = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    if check_exit is not None:
        assert done.returncode == check_exit, done.stdout + done.stderr
    return done


def problem_lines(output: str) -> list[str]:
    """The `file: json-path: what is wrong` lines (progress and summary lines left out)."""
    return [line for line in output.splitlines() if line and not line.startswith(("  …", " ")) and ": " in line
            and "problem(s);" not in line]


# --------------------------------------------------------------------------- broken trees


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")


def records(root: Path, kind: str) -> tuple[Path, list]:
    path = root / "fixtures" / SOURCE / f"{kind}.json"
    return path, read_json(path)


def bad_json(root: Path) -> None:
    path = root / "fixtures" / SOURCE / "events.json"
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")


def unknown_reference(root: Path) -> None:
    path, events = records(root, "events")
    events[3]["participants"][0]["participant"] = "nobody-known"
    write_json(path, events)


def unknown_code(root: Path) -> None:
    path, statements = records(root, "statements")
    statements[0]["cameo"] = "0999"
    write_json(path, statements)


def span_mismatch(root: Path) -> None:
    path, events = records(root, "events")
    events[1]["evidence"][0]["text"] = "x" * len(events[1]["evidence"][0]["text"])
    write_json(path, events)


def duplicate_id(root: Path) -> None:
    path, events = records(root, "events")
    write_json(path, events + [dict(events[0])])


def hash_mismatch(root: Path) -> None:
    path = root / "seeds" / f"{SOURCE}.json"
    meta = read_json(path)
    meta["sha256"] = "0" * 64
    write_json(path, meta)


def codebook_gap(root: Path) -> None:
    path = root / "fixtures" / "codebook.json"
    codebook = read_json(path)
    codebook["cameo"] = [entry for entry in codebook["cameo"] if entry["code"] != "042"]
    write_json(path, codebook)


def participant_defined_twice(root: Path) -> None:
    """A second source that defines `iran` with another kind."""
    text = (root / "seeds" / f"{SOURCE}.txt").read_bytes()
    meta = read_json(root / "seeds" / f"{SOURCE}.json")
    (root / "seeds" / "second.txt").write_bytes(text)
    write_json(root / "seeds" / "second.json", {**meta, "sha256": hashlib.sha256(text).hexdigest()})
    (root / "fixtures" / "second").mkdir()
    iran = next(p for p in read_json(root / "fixtures" / SOURCE / "participants.json") if p["id"] == "iran")
    write_json(root / "fixtures" / "second" / "participants.json", [{**iran, "kind": "group"}])


def span_without_offsets(root: Path) -> None:
    path, events = records(root, "events")
    events[0]["evidence"][0] = {"text": events[0]["evidence"][0]["text"]}
    write_json(path, events)


def codebook_duplicates(root: Path) -> None:
    """A topic, a role and an actor block given twice, with other meanings: which would the records have?"""
    path = root / "fixtures" / "codebook.json"
    codebook = read_json(path)
    for name in ("topics", "roles", "actors"):
        codebook[name].append({**codebook[name][0], **({"label": "another"} if name != "roles" else
                                                      {"description": "another"})})
    write_json(path, codebook)


def misnamed_record_file(root: Path) -> None:
    """statements.json renamed statement.json: without a word, every statement would be dropped."""
    directory = root / "fixtures" / SOURCE
    (directory / "statements.json").rename(directory / "statement.json")


def past_event_after_its_source(root: Path) -> None:
    """A year typed wrong: an event the source reports as done, dated after the report."""
    path, events = records(root, "events")
    event = next(e for e in events if e["status"] == "occurred" and e["date"]["start"])
    event["date"]["start"] = event["date"]["end"] = "2018" + event["date"]["start"][4:]
    write_json(path, events)


def codebook_off_the_scales(root: Path) -> None:
    """A Goldstein score past +10 and a PLOVER type misspelt, in the codebook and in an event's own plover."""
    path = root / "fixtures" / "codebook.json"
    codebook = read_json(path)
    codebook["cameo"][3]["goldstein"] = 12.5
    codebook["cameo"][4]["plover_type"] = "CONSULTT"
    write_json(path, codebook)
    path, events = records(root, "events")
    events[1]["plover"] = {"type": "CONSULTT", "mode": "visit"}
    write_json(path, events)


def role_as_of_after_its_source(root: Path) -> None:
    """A role_at_source copied from a later source, with that source's day."""
    path, participants = records(root, "participants")
    with_role = next(p for p in participants if p.get("role_at_source"))
    with_role["role_at_source"]["as_of"] = "2017-01-20"
    write_json(path, participants)


BROKEN = [bad_json, unknown_reference, unknown_code, span_mismatch, duplicate_id, hash_mismatch, codebook_gap,
          participant_defined_twice, span_without_offsets, codebook_duplicates, misnamed_record_file,
          past_event_after_its_source, codebook_off_the_scales, role_as_of_after_its_source]
#: what check says of a breakage (each one line), besides what the test compares with load
SAYS = {
    codebook_duplicates: ["fixtures/codebook.json: topics[", "fixtures/codebook.json: roles[",
                          "fixtures/codebook.json: actors["],
    misnamed_record_file: [f"fixtures/{SOURCE}/statements.json: $: missing:",
                           f"fixtures/{SOURCE}/statement.json: $: not a record file: did you mean statements.json?"],
    codebook_off_the_scales: ["cameo[3].goldstein: must be a Goldstein score, from -10 to 10",
                              "cameo[4].plover_type: must be a PLOVER event type", ".plover.type: must be a PLOVER event type"],
    past_event_after_its_source: ["is after the source's publication day 2017-01-18, but the event's status is occurred"],
    role_as_of_after_its_source: [".role_at_source.as_of: 2017-01-20 is after the source's publication day 2017-01-18"],
}


@pytest.mark.parametrize("breakage", BROKEN, ids=[b.__name__ for b in BROKEN])
def test_load_reports_what_check_reports_and_changes_nothing(breakage, backend, tmp_path_factory, request):
    url = loaded_url(backend, tmp_path_factory, request)  # a database holding the good dataset
    root = copy_dataset(tmp_path_factory.mktemp(breakage.__name__))
    breakage(root)
    checked = run("check", root=root, check_exit=1)
    loaded = run("load", "--database-url", url, root=root, check_exit=1)
    for output in (checked.stderr, loaded.stderr, checked.stdout, loaded.stdout):
        assert "Traceback" not in output, output
    expected = problem_lines(checked.stderr)
    assert expected, checked.stderr
    for says in SAYS.get(breakage, []):
        assert sum(says in line for line in expected) == 1, (says, expected)
    assert problem_lines(loaded.stderr) == expected
    assert "nothing was loaded" in loaded.stderr
    # the database still holds the good dataset
    assert run("load", "--database-url", url, root=ROOT, check_exit=0).returncode == 0


def test_one_broken_span_is_one_problem(tmp_path):
    root = copy_dataset(tmp_path)
    span_without_offsets(root)
    lines = problem_lines(run("check", root=root, check_exit=1).stderr)
    assert len(lines) == 1 and "check --fix" in lines[0], lines


def test_a_span_whose_text_is_not_in_the_source_is_not_sent_to_fix(tmp_path):
    root = copy_dataset(tmp_path)
    path, events = records(root, "events")
    events[0]["evidence"][0] = {"text": "كلمات ليست في النص"}
    write_json(path, events)
    lines = problem_lines(run("check", "--fix", root=root, check_exit=1).stderr)
    assert lines and all("check --fix" not in line for line in lines), lines
    assert any("does not occur in the source" in line for line in lines), lines


# --------------------------------------------------------------------------- spans by text

TEXT = "وصل خميس إلى طهران. التقى خميس روحاني في طهران يوم الأربعاء.\nKhamis met Rouhani in Tehran.\n"


def new_source(root: Path, text: str = TEXT, source_id: str | None = "tehran-visit") -> subprocess.CompletedProcess:
    text_file = root / "incoming" / "Tehran Visit (copy).txt"
    text_file.parent.mkdir(exist_ok=True)
    text_file.write_text(text, encoding="utf-8")
    return run("new-source", str(text_file), *(["--id", source_id] if source_id else []), "--publisher", "Test",
               "--published-at", "2017-01-18T19:04:00+02:00", "--language", "ar", root=root, check_exit=0)


def test_new_source_then_spans_by_text_then_check_fix_then_load(tmp_path):
    root = copy_dataset(tmp_path)
    new_source(root)
    assert run("check", root=root, check_exit=0)  # the empty set of a new source is valid
    directory = root / "fixtures" / "tehran-visit"
    participant = {"id": "khamis-visit-test", "name_en": "Imad Khamis", "name_ar": "خميس", "kind": "person",
                   "confidence": "high", "codebook_version": "1", "notes": None,
                   "mentions": [{"text": "خميس", "occurrence": 1}, {"text": "خميس", "after": "التقى"}]}
    place = {"id": "tehran-visit-city", "name_en": "Tehran", "name_ar": "طهران", "kind": "city",
             "confidence": "high", "codebook_version": "1", "notes": None,
             "mentions": [{"text": "طهران", "occurrence": 2}, {"text": "Tehran"}]}
    # one record written compactly by hand, with odd spacing that check --fix must keep
    (directory / "participants.json").write_text(
        "[\n" + json.dumps(participant, ensure_ascii=False, indent=4) + "\n]   \n", encoding="utf-8")
    (directory / "places.json").write_text(json.dumps([place], ensure_ascii=False), encoding="utf-8")
    assert "check --fix" in run("check", root=root, check_exit=1).stderr
    before = (directory / "participants.json").read_text(encoding="utf-8")

    fixed = run("check", "--fix", root=root, check_exit=0)
    assert "fixed 2 span(s) in fixtures/tehran-visit/participants.json" in fixed.stderr
    after = (directory / "participants.json").read_text(encoding="utf-8")
    assert after.endswith("]   \n") and after.count("\n") == before.count("\n") + 4  # two spans, two new lines each
    first, second = TEXT.index("خميس"), TEXT.index("خميس", TEXT.index("التقى"))
    assert second != first
    mentions = read_json(directory / "participants.json")[0]["mentions"]
    assert [(m["start"], m["end"]) for m in mentions] == [(first, first + 4), (second, second + 4)]
    tehran = [i for i in range(len(TEXT)) if TEXT.startswith("طهران", i)]
    assert [(m["start"], m["end"]) for m in read_json(directory / "places.json")[0]["mentions"]] == \
        [(tehran[1], tehran[1] + 5), (TEXT.index("Tehran"), TEXT.index("Tehran") + 6)]

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    run("load", "--database-url", url, root=root, check_exit=0)
    from api import create_app

    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    served = client.get("/v1/participants/khamis-visit-test").get_json()["data"]["mentions"]
    assert [(m["start"], m["end"], m["text"]) for m in served] == [(first, first + 4, "خميس"), (second, second + 4, "خميس")]


def test_check_fix_reports_what_it_cannot_settle(tmp_path):
    root = copy_dataset(tmp_path)
    new_source(root)
    directory = root / "fixtures" / "tehran-visit"
    place = {"id": "tehran-visit-city", "name_en": "Tehran", "name_ar": "طهران", "kind": "city",
             "confidence": "high", "codebook_version": "1", "notes": None,
             "mentions": [{"text": "طهران"}, {"text": "أصفهان"}, {"text": "طهران", "occurrence": 3}]}
    write_json(directory / "places.json", [place])
    done = run("check", "--fix", root=root, check_exit=1)
    assert 'fixtures/tehran-visit/places.json: [0].mentions[0]: "طهران" occurs 2 times' in done.stderr
    assert "does not occur in the source text" in done.stderr
    assert "occurrence 3 asked" in done.stderr
    assert read_json(directory / "places.json") == [place]  # nothing settled, nothing written


def test_check_fix_re_anchors_spans_after_a_seed_correction(tmp_path):
    root = copy_dataset(tmp_path)
    seed = root / "seeds" / f"{SOURCE}.txt"
    corrected = "تصحيح: " + seed.read_text(encoding="utf-8")
    seed.write_text(corrected, encoding="utf-8")
    meta = read_json(root / "seeds" / f"{SOURCE}.json")
    write_json(root / "seeds" / f"{SOURCE}.json", {**meta, "sha256": hashlib.sha256(corrected.encode()).hexdigest()})
    broken = run("check", root=root, check_exit=1)
    assert "re-anchors it" in broken.stderr
    fixed = run("check", "--fix", root=root)
    for line in problem_lines(fixed.stderr):  # what stays open: texts that occur more than once
        assert "occurs" in line and "times" in line, line
    events = read_json(root / "fixtures" / SOURCE / "events.json")
    original = read_json(ROOT / "fixtures" / SOURCE / "events.json")
    assert events[0]["evidence"][0]["start"] == original[0]["evidence"][0]["start"] + len("تصحيح: ")


# --------------------------------------------------------------------------- the other tools


def test_locate_prints_each_occurrence_with_offsets(tmp_path):
    root = copy_dataset(tmp_path)
    new_source(root)
    lines = run("locate", "tehran-visit", "خميس", root=root, check_exit=0).stdout.splitlines()
    first, second = TEXT.index("خميس"), TEXT.index("خميس", TEXT.index("خميس") + 1)
    assert lines[0].startswith(f"1: {first}-{first + 4}") and lines[1].startswith(f"2: {second}-{second + 4}")
    assert "[خميس]" in lines[0]
    assert run("locate", "tehran-visit", "Damascus", root=root).returncode == 1


def test_new_source_takes_the_file_names_slug_and_refuses_to_overwrite(tmp_path):
    root = copy_dataset(tmp_path)
    new_source(root, source_id=None)
    assert (root / "seeds" / "tehran-visit-copy.txt").read_text(encoding="utf-8") == TEXT
    meta = read_json(root / "seeds" / "tehran-visit-copy.json")
    assert meta["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    assert sorted(p.name for p in (root / "fixtures" / "tehran-visit-copy").iterdir()) == [
        "events.json", "participants.json", "places.json", "statements.json"]
    again = run("new-source", str(root / "incoming" / "Tehran Visit (copy).txt"), "--publisher", "T",
                "--published-at", "2017-01-18T00:00:00+00:00", "--language", "ar", root=root)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("text, option, says", [
    ("", (), "holds no text"),
    (" \n", (), "holds no text"),
    (TEXT, ("--language", "arabic"), "not an ISO 639 code"),
    (TEXT, ("--publisher", " "), "--publisher is empty"),
])
def test_new_source_refuses_what_check_would_refuse_and_leaves_nothing(tmp_path, text, option, says):
    root = copy_dataset(tmp_path)
    text_file = root / "incoming" / "bad.txt"
    text_file.parent.mkdir()
    text_file.write_text(text, encoding="utf-8")
    given = {"--publisher": "T", "--language": "ar", **dict([option] if option else [])}
    done = run("new-source", str(text_file), "--published-at", "2017-01-18T00:00:00+00:00",
               *(part for pair in given.items() for part in pair), root=root)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (root / "seeds" / "bad.txt").exists() and not (root / "fixtures" / "bad").exists()


def test_new_source_drops_a_byte_order_mark(tmp_path):
    root = copy_dataset(tmp_path)
    text_file = root / "incoming" / "bom.txt"
    text_file.parent.mkdir()
    text_file.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())
    run("new-source", str(text_file), "--publisher", "T", "--published-at", "2017-01-18T00:00:00+00:00",
        "--language", "ar", root=root, check_exit=0)
    assert (root / "seeds" / "bom.txt").read_bytes() == TEXT.encode()
    meta = read_json(root / "seeds" / "bom.json")
    assert meta["title"] == TEXT.splitlines()[0] and meta["sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()


def test_show_marks_a_records_spans(tmp_path):
    shown = run("show", SOURCE, "--record", "khamis-meets-rouhani", "--no-colour", check_exit=0).stdout
    events = read_json(ROOT / "fixtures" / SOURCE / "events.json")
    record = next(e for e in events if e["id"] == "khamis-meets-rouhani")
    assert f"[{record['evidence'][0]['text']}]" in shown.replace("]1", "]").replace("]2", "]")
    assert f"{record['date']['expression']['start']}-{record['date']['expression']['end']}  event khamis-meets-rouhani" \
        in shown
    coloured = run("show", SOURCE, "--record", "khamis-meets-rouhani", "--colour", check_exit=0).stdout
    assert "\x1b[" in coloured and "]1" not in coloured


def test_editor_schemas_are_current_and_accept_the_fixtures():
    assert editor_schemas.stale(ROOT / "schemas") == [], "run `event-records schemas`"
    for kind, name in (("events", "events"), ("statements", "statements"), ("participants", "participants"),
                       ("places", "places")):
        validator = Draft202012Validator(read_json(ROOT / "schemas" / f"{kind}.schema.json"))
        assert not list(validator.iter_errors(read_json(ROOT / "fixtures" / SOURCE / f"{name}.json")))
    events = read_json(ROOT / "fixtures" / SOURCE / "events.json")
    wrong = [{**events[0], "status": "maybe", "colour": "red"}]
    messages = [e.message for e in Draft202012Validator(read_json(ROOT / "schemas" / "events.schema.json"))
                .iter_errors(wrong)]
    assert any("maybe" in m for m in messages) and any("colour" in m for m in messages)


# --------------------------------------------------------------------------- directed coding refused when wrong


def _event(events: list, event_id: str) -> dict:
    return next(e for e in events if e["id"] == event_id)


def host_as_source(root: Path) -> None:
    path, events = records(root, "events")
    _event(events, "khamis-meets-rouhani")["source_actors"] = ["hassan-rouhani"]
    write_json(path, events)


def actor_not_in_event(root: Path) -> None:
    path, events = records(root, "events")
    _event(events, "khamis-meets-rouhani")["target_actors"] = ["usa"]
    write_json(path, events)


def acting_on_itself(root: Path) -> None:
    path, events = records(root, "events")
    _event(events, "syria-iran-sign-cooperation-agreements")["target_actors"] = ["syria"]
    write_json(path, events)


def side_without_partner(root: Path) -> None:
    """Syria on both lists but alone as a source: Syria as a target would be in no pair."""
    path, events = records(root, "events")
    _event(events, "syria-iran-sign-cooperation-agreements")["source_actors"] = ["syria"]
    write_json(path, events)


def speaker_addressed(root: Path) -> None:
    path, statements = records(root, "statements")
    statements[0]["addressees"] = [statements[0]["speaker"]]
    write_json(path, statements)


def unknown_actor_block(root: Path) -> None:
    path, participants = records(root, "participants")
    participants[0]["actor_code"] = "SYRXYZ"
    write_json(path, participants)


def role_as_country(root: Path) -> None:
    path, participants = records(root, "participants")
    participants[0]["actor_code"] = "GOVSYR"
    write_json(path, participants)


def inferred_place_missing(root: Path) -> None:
    path, events = records(root, "events")
    _event(events, "syria-comprehensive-truce")["place"] = None
    _event(events, "syria-comprehensive-truce")["inferred"] = [{"field": "place", "reason": "x"}]
    write_json(path, events)


def date_without_words_unflagged(root: Path) -> None:
    """A range no words of the text give, its inference flag dropped: a date the text does not give."""
    path, events = records(root, "events")
    event = _event(events, "khamis-meets-velayati")
    assert event["date"]["expression"] is None and event["date"]["precision"] == "range"
    event["inferred"] = [flag for flag in event["inferred"] if flag["field"] != "date"]
    write_json(path, events)


def statement_day_without_words(root: Path) -> None:
    path, statements = records(root, "statements")
    dated = next(s for s in statements if s["date"] and s["date"]["precision"] == "day")
    dated["date"]["expression"] = None
    write_json(path, statements)


DIRECTED_BREAKAGES = {
    date_without_words_unflagged: "khamis-meets-velayati).date.expression: the date (range) has no expression",
    statement_day_without_words: "date.expression: the date (day) has no expression",
    host_as_source: "hassan-rouhani has only acted upon role(s) (host)",
    actor_not_in_event: "usa is not a participant of the event",
    acting_on_itself: "syria would act only on itself",
    side_without_partner: "target_actors[0]: syria would act only on itself",
    speaker_addressed: "the speaker is not its own addressee",
    unknown_actor_block: "XYZ is not in the codebook's actors",
    role_as_country: "SYR is a country code; only the first block may be a country or IGO",
    inferred_place_missing: "place is flagged as inferred but the record gives none",
}


@pytest.mark.parametrize("breakage", list(DIRECTED_BREAKAGES), ids=[b.__name__ for b in DIRECTED_BREAKAGES])
def test_check_refuses_wrong_directed_coding(breakage, tmp_path):
    root = copy_dataset(tmp_path)
    breakage(root)
    lines = problem_lines(run("check", root=root, check_exit=1).stderr)
    assert lines and any(DIRECTED_BREAKAGES[breakage] in line for line in lines), lines


def test_show_closes_nested_spans_innermost_first():
    """Two spans ending at one offset: ]n closes the [ of its own span, as brackets nest."""
    from models.load.authoring import MarkedSpan, marked_text

    text = "وصل لاريجاني ثم التقى عماد خميس."
    inner_start = text.index("عماد")
    marks = [MarkedSpan(0, len(text) - 1, "event", "visit", "evidence"),
             MarkedSpan(inner_start, len(text) - 1, "participant", "imad-khamis", "mentions")]
    for ordered in (marks, marks[::-1]):
        shown = marked_text(text, ordered, colour=False)
        outer = 1 + ordered.index(marks[0])
        inner = 1 + ordered.index(marks[1])
        assert shown == f"[وصل لاريجاني ثم التقى [عماد خميس]{inner}]{outer}."


def test_check_fix_keeps_the_files_line_endings_and_tabs(tmp_path):
    """A file indented with tabs and ended with CRLF (an editor on Windows): the completed span is
    written in its layout, and no other byte changes."""
    root = copy_dataset(tmp_path)
    new_source(root)
    directory = root / "fixtures" / "tehran-visit"
    place = {"id": "tehran-visit-city", "name_en": "Tehran", "name_ar": "طهران", "kind": "city",
             "confidence": "high", "codebook_version": "1", "notes": None,
             "mentions": [{"start": TEXT.index("طهران"), "end": TEXT.index("طهران") + 5, "text": "طهران"},
                          {"text": "Tehran"}]}
    written = json.dumps([place], ensure_ascii=False, indent="\t").replace("\n", "\r\n")
    (directory / "places.json").write_bytes(written.encode("utf-8"))
    run("check", "--fix", root=root, check_exit=0)
    after = (directory / "places.json").read_bytes().decode("utf-8")
    assert "\n" not in after.replace("\r\n", "") and after.count("\r\n") == written.count("\r\n") + 2
    assert not re.search(r"^ ", after, re.MULTILINE)  # tabs only, as the rest of the file
    start = TEXT.index("Tehran")
    expected = written.replace('{\r\n\t\t\t\t"text": "Tehran"\r\n\t\t\t}',
                               f'{{\r\n\t\t\t\t"start": {start},\r\n\t\t\t\t"end": {start + 6},\r\n'
                               '\t\t\t\t"text": "Tehran"\r\n\t\t\t}')
    assert expected != written and after == expected
