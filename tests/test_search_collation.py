"""/v1/search orders hits of equal rank and date by kind and id in code points on every backend, as
SQLite compares text: PostgreSQL's locale collations may weigh punctuation otherwise (here an ICU
en-US collation that ignores it at first, as glibc's en_US does: syrianarmy before syrian-people)."""
from __future__ import annotations

import shutil
import uuid

from api.app import create_app
from models import load as loader
from models.db import open_database

from .conftest import ROOT


def ids_of(client, url: str) -> list[str]:
    return [hit["id"] for hit in client.get(url).get_json()["data"]]


def walked(client, url: str) -> list[str]:
    seen = []
    while url:
        body = client.get(url).get_json()
        seen += [hit["id"] for hit in body["data"]]
        url = body["links"]["next"]
    return seen


def test_search_ties_are_in_code_point_order_on_every_backend(tmp_path, pg_server):
    import psycopg

    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "seeds", tree / "seeds")
    shutil.copytree(ROOT / "fixtures", tree / "fixtures")
    for path in (tree / "fixtures").rglob("*.json"):  # an id without '-' beside one with it
        path.write_text(path.read_text(encoding="utf-8").replace('"syrian-army"', '"syrianarmy"'), encoding="utf-8")
    url_of, _ = pg_server
    name = "t_icu_" + uuid.uuid4().hex[:10]
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C'")
        with psycopg.connect(url_of(name)) as icu:  # the collation the columns get sorts the other way
            assert icu.execute("SELECT s FROM (VALUES ('syrian-people'), ('syrianarmy')) AS v(s) ORDER BY s"
                               ).fetchall() == [("syrianarmy",), ("syrian-people",)]
    orders = []
    for url in (f"sqlite:///{tmp_path / 'events.sqlite3'}", url_of(name)):
        loader.load(tree, open_database(url, create_dir=True))
        client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
        whole = ids_of(client, "/v1/search?q=Syrian&kind=participant&limit=100")
        assert walked(client, "/v1/search?q=Syrian&kind=participant&limit=1") == whole
        orders.append(whole)
    assert orders[0] == orders[1]
    assert orders[0].index("syrian-people") < orders[0].index("syrianarmy")
