"""Search measured against a relevance judgement set, per language and per backend.

tests/search_judgements.json was written by a second reader from the Arabic text and
the records alone, and committed before the search changed; it is not edited to fit
results. Each query goes
to /v1/search (every kind, the largest page) and its hits are
compared with the records the reader expected: precision and recall per query,
averaged per language. The Arabic figures must not be below the English ones, and
both backends must give the same hits in the same order.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from .conftest import loaded_url

JUDGEMENTS = json.loads((Path(__file__).parent / "search_judgements.json").read_text(encoding="utf-8"))["queries"]


def hits(client, q: str) -> list[tuple[str, str]]:
    body = client.get(f"/v1/search?q={quote(q)}&limit=100").get_json()
    assert body["meta"]["total"] <= 100, f"{q}: more hits than one page holds"
    return [(hit["kind"], hit["id"]) for hit in body["data"]]


def expected(judgement: dict) -> set[tuple[str, str]]:
    return {(kind, record) for kind, ids in judgement["expected"].items() for record in ids}


def figures(client) -> dict[str, dict[str, float]]:
    per_language: dict[str, list[tuple[float, float]]] = {"ar": [], "en": []}
    answers = {}
    for judgement in JUDGEMENTS:
        found = hits(client, judgement["q"])
        answers[judgement["q"]] = found
        relevant, got = expected(judgement), set(found)
        precision = len(got & relevant) / len(got) if got else (1.0 if not relevant else 0.0)
        recall = len(got & relevant) / len(relevant) if relevant else 1.0
        per_language[judgement["lang"]].append((precision, recall))
    summary = {lang: {"queries": len(rows), "precision": sum(p for p, _ in rows) / len(rows),
                      "recall": sum(r for _, r in rows) / len(rows)} for lang, rows in per_language.items()}
    return summary, answers


def test_arabic_is_found_as_well_as_english(client, backend, capsys):
    summary, _ = figures(client)
    with capsys.disabled():
        for lang, row in summary.items():
            print(f"\n  search judgements [{backend}] {lang}: {row['queries']} queries, "
                  f"precision {row['precision']:.3f}, recall {row['recall']:.3f}", end="")
    assert summary["ar"]["queries"] >= 20 and summary["en"]["queries"] >= 20
    assert summary["ar"]["recall"] >= summary["en"]["recall"], summary
    assert summary["ar"]["precision"] >= summary["en"]["precision"], summary


def test_both_backends_give_the_same_hits_in_the_same_order(sqlite_client, tmp_path_factory, request):
    from api import create_app

    postgresql = create_app({"DATABASE_URL": loaded_url("postgresql", tmp_path_factory, request), "TESTING": True})
    _, on_sqlite = figures(sqlite_client)
    _, on_postgresql = figures(postgresql.test_client())
    assert on_sqlite == on_postgresql
