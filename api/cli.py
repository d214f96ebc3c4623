"""The ``event-records`` command: check, load, serve.

The same commands are registered on the Flask app, so ``flask --app api load``
works too.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from models import backends
from models import load as loader
from models.db import database_file, database_url_from_env, open_database
from models.load import authoring, editor_schemas, spans
from models.load.fix import fix_tree

from .version import VERSION

DATABASE_HELP = ("Default: $DATABASE_URL, else the SQLite file event-records.sqlite3 in $EVENT_RECORDS_DATA_DIR "
                 "(default ./data).")
ROOT_HELP = ("Directory holding seeds/ and fixtures/ (default: $EVENT_RECORDS_ROOT, else the current "
             "directory, else the directory this package was installed from).")


def content_root(root: str | None) -> Path:
    explicit = root or os.environ.get("EVENT_RECORDS_ROOT")
    candidates = [explicit] if explicit else [os.getcwd(), str(Path(__file__).resolve().parent.parent)]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seeds").is_dir() and (Path(candidate) / "fixtures").is_dir():
            return Path(candidate).resolve()
    where = explicit or os.getcwd()
    raise click.UsageError(
        f"no seeds/ and fixtures/ found in {where}. Run from a checkout of event-records, "
        "or pass --root DIR (or set EVENT_RECORDS_ROOT)."
    )


def progress(message: str) -> None:
    click.echo(f"  … {message}", err=True)


def report_problems(error: loader.LoadError, outcome: str = "nothing was loaded") -> None:
    """The problems as `check` prints them: one ``file: json-path: what is wrong`` line each."""
    for problem in error.problems:
        click.echo(str(problem), err=True)
    click.echo(f"\n{len(error.problems)} problem(s); {outcome}. Fix them and run again.", err=True)


def describe(summary: loader.Summary) -> str:
    counts = summary.counts
    return (f"{counts['sources']} source(s), {counts['participants']} participants, {counts['places']} places, "
            f"{counts['events']} events, {counts['statements']} statements "
            f"(dataset {summary.dataset_version}, {summary.seconds:.1f} s)")


def do_load(root: Path, url: str, full: bool = False, only_if_empty: bool = False,
            rehash: bool = False) -> loader.Summary:
    with database_errors(url):
        path = database_file(url)
        if path is not None and not path.exists():  # (a typo in the path makes a new database: say so)
            click.echo(f"no database at {path} yet: creating it", err=True)
        db = open_database(url, create_dir=True)
        return loader.load(root, db, progress, full=full, only_if_empty=only_if_empty, rehash=rehash)


#: what the engines say when a database cannot be used, and what to do about it
DATABASE_ADVICE = (
    ("no backend for", "the URL's scheme is not one this program knows: sqlite:///relative/file.sqlite3, "
                       "sqlite:////absolute/file.sqlite3, postgresql://user@host/db or postgresql+pool://…"),
    ("unable to open database file", "no SQLite file can be opened there: the path is a directory, its directory "
                                     "is missing or not writable, or (for a command that only reads) the file does "
                                     "not exist yet: run `event-records load` first"),
    ("file is not a database", "the file is not a SQLite database: give the path of the database file"),
    ("readonly database", "the file or its directory is read-only for this user: a load writes both (the file "
                          "and its -wal and -shm journal files)"),
    ("no such table", "the database holds no loaded dataset: run `event-records load` first"),
    ("disk I/O error", "the path is a directory, or the file cannot be read: give the path of the database file"),
)


@contextmanager
def database_errors(url: str):
    """A database that cannot be used is one line that says what to do (exit status 1), not a traceback."""
    from peewee import DatabaseError

    from models import backends

    try:
        yield
    except (ValueError, DatabaseError, *backends.unavailable_errors()) as error:
        if isinstance(error, ValueError) and "no backend for" not in str(error):
            raise
        said = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        advice = next((advice for marker, advice in DATABASE_ADVICE if marker in str(error)), None)
        raise click.ClickException(f"{redact(url)}: {said}" + (f" ({advice})" if advice else "")) from None


def refuse_a_file_that_is_not_sqlite(url: str) -> None:
    """A server given a file that is not a SQLite database would answer every request with a 500."""
    path = database_file(url)
    if path is not None and path.is_file() and path.stat().st_size:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\0":
                raise click.ClickException(f"{redact(url)}: the file is not a SQLite database: give the path of "
                                           "the database file (or a new path, and load it)")


def describe_load(summary: loader.Summary, rehashed: bool = False) -> str:
    """What a load did: nothing, the difference, or a rebuild (and why)."""
    if summary.mode == "unchanged":
        unread = ("every file read" if rehashed else "files whose size and modification time are as at that load "
                  "were not read again: `load --rehash` reads them all")
        return (f"nothing changed since release {summary.release} (dataset {summary.dataset_version}); the database is "
                f"as it was ({unread})")
    plan = summary.plan
    what = plan.describe() if plan is not None else ""
    how = "applied the difference" if summary.mode == "incremental" else f"rebuilt everything ({summary.full_reason})"
    return f"release {summary.release}: {what}; {how}: " + describe(summary)


@click.group(help="Hand-curated political event records: validate, load and serve them as a JSON API.")
@click.version_option(VERSION, prog_name="event-records")
def main() -> None:
    pass


@main.command(help="Validate seeds and fixtures (hashes, schemas, references, every span) without touching a database. "
                   "Exit status 0 when valid, 1 when a problem was found (each printed as file: json-path: what is wrong). "
                   "With --fix, first fill in the offsets of spans written by their text (and re-anchor spans whose "
                   "text still occurs once after a seed was corrected), touching only those span objects.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
@click.option("--fix", is_flag=True, help="Fill in start/end of spans given by text (with occurrence or after when "
                                          "the text occurs more than once), then check.")
def check(root, fix):
    root_path = content_root(root)
    if fix:
        report = fix_tree(root_path)
        for file, n in report.fixed.items():
            click.echo(f"fixed {n} span(s) in {file}", err=True)
        for problem in report.problems:
            click.echo(str(problem), err=True)
    try:
        summary = loader.check(root_path, progress)
    except loader.LoadError as error:
        report_problems(error, "the files are not valid")
        sys.exit(1)
    click.echo("ok: " + describe(summary))


@main.command(help="Bring the database up to date with the seeds and fixtures, in one transaction, as a new release. "
                   "Only the sources added, changed or removed since the last load are read and applied (an "
                   "unchanged tree changes nothing); a change of table layout, a codebook change other than added "
                   "entries, or a name that records of other sources contain rebuilds everything, and says why. "
                   "On any problem nothing changes and the exit status is 1. The database is DATABASE_URL, else a "
                   "SQLite file in $EVENT_RECORDS_DATA_DIR (default ./data).")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
@click.option("--database-url", envvar="DATABASE_URL", help="sqlite:///path, postgresql://… or postgresql+pool://… (default: $DATABASE_URL).")
@click.option("--full", is_flag=True, help="Rebuild every table from the files (the release history is kept; the "
                                           "rebuild is itself a release).")
@click.option("--rehash", is_flag=True, help="Read and hash every file to find what changed, also those whose size "
                                             "and modification time are as at the last load (a copy that kept the "
                                             "times, an edit that restored them); slower on a large tree.")
def load(root, database_url, full, rehash):
    from . import settings

    try:
        settings.value("EVENT_RECORDS_LOAD_JOBS")
    except settings.SettingError as error:
        raise click.ClickException(str(error)) from None
    root_path = content_root(root)
    url = database_url or database_url_from_env()
    try:
        summary = do_load(root_path, url, full, rehash=rehash)
    except loader.LoadError as error:
        report_problems(error)
        sys.exit(1)
    click.echo(f"{redact(url)}: " + describe_load(summary, rehashed=rehash))


def redact(url: str) -> str:
    """A URL fit for a log line (no password)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def ensure_loaded(root: Path, url: str) -> None:
    """Load a SQLite file when it is missing, holds another dataset version than the files, or
    was loaded with another table layout (by an older version of this code). A server database
    (PostgreSQL) is loaded only when it holds nothing: other nodes may be serving it, and a node
    whose files differ (another commit, a rolling upgrade) must not replace what they all serve."""
    current = loader.dataset_version(root)
    path = database_file(url)
    with database_errors(url):
        db = open_database(url, read_only=path is not None)
        if path is None:  # (unreachable is said as such, not taken for "nothing loaded")
            db.connect()
            db.close()
        stored_meta = loader.loaded_meta(db) if path is None or path.exists() else {}
    stored = servable_version(stored_meta)
    if stored == current:
        click.echo(f"database is up to date (dataset {current})", err=True)
        return
    if path is None and stored_meta:
        say_not_loading_into(url, stored_meta, current)
        return
    click.echo("database is missing, or was loaded by another version of event-records; loading…" if stored is None
               else f"dataset changed ({stored} → {current}); reloading…", err=True)
    try:
        # (a server database again once this load has its turn: another node may have filled it meanwhile)
        summary = do_load(root, url, only_if_empty=path is None)
    except loader.NotEmpty:
        with database_errors(url):
            stored_meta = loader.loaded_meta(open_database(url, read_only=True))
        if servable_version(stored_meta) == current:
            click.echo(f"another node loaded it meanwhile: the database is up to date (dataset {current})", err=True)
        else:
            say_not_loading_into(url, stored_meta, current)
        return
    click.echo(describe_load(summary), err=True)


def servable_version(stored_meta: dict) -> str | None:
    """The dataset version a database holds, when this code reads its table layout."""
    return stored_meta.get("dataset_version") if stored_meta.get("schema_version") == loader.SCHEMA_VERSION else None


def say_not_loading_into(url: str, stored_meta: dict, current: str) -> None:
    click.echo(f"the database holds dataset {stored_meta.get('dataset_version')} (table layout "
               f"{stored_meta.get('schema_version')}); these files are dataset {current} (layout "
               f"{loader.SCHEMA_VERSION}). serve does not load into a server database other nodes may serve: "
               f"run `event-records load --database-url …` from one place. Serving what it holds.", err=True)


@main.command(help="Load the data if needed, then serve the API with gunicorn (gthread workers that read request "
                   "heads without a thread, api/worker.py). A SQLite file is loaded when it is missing or older "
                   "than the files; a PostgreSQL database only when it holds nothing. "
                   "Also possible directly: gunicorn 'api:create_app()'.\n\n"
                   "Settings from the environment (README, Configuration): DATABASE_REPLICA_URLS, "
                   "EVENT_RECORDS_SECRET (required with PostgreSQL or replicas), EVENT_RECORDS_TIME_BUDGET, "
                   "EVENT_RECORDS_MAX_EXPORTS, EVENT_RECORDS_MAX_EXPORTS_PER_CLIENT, EVENT_RECORDS_HEADER_TIMEOUT, "
                   "EVENT_RECORDS_SEND_TIMEOUT, EVENT_RECORDS_RESPONSE_CACHE_MB, EVENT_RECORDS_CORS_ORIGINS, … "
                   "Each number is checked before the server starts.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes [default: $WEB_CONCURRENCY or 2].")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
@click.option("--database-url", envvar="DATABASE_URL", help=DATABASE_HELP)
@click.option("--no-load", is_flag=True, help="Serve the database as it is, even if it is missing or out of date.")
def serve(host, port, workers, threads, root, database_url, no_load):
    from . import settings

    try:  # every numeric setting, said in one line before anything starts (not a traceback per worker)
        settings.check_all(loading=not no_load)
    except settings.SettingError as error:
        raise click.ClickException(str(error)) from None
    workers = workers or settings.value("WEB_CONCURRENCY")
    url = database_url or database_url_from_env()
    replicas = [u.strip() for u in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip()]
    for each in (url, *replicas):  # a scheme no backend knows: one line, not a traceback per worker
        with database_errors(each):
            backends.for_url(each)
    refuse_a_file_that_is_not_sqlite(url)
    if not no_load:
        root_path = content_root(root)
        try:
            ensure_loaded(root_path, url)
        except loader.LoadError as error:
            report_problems(error)
            sys.exit(1)
    os.environ["DATABASE_URL"] = url
    from .secret import SecretMissing, cursor_secret

    try:  # said here, in one line, rather than as a traceback of every worker
        cursor_secret(url, replicas)
    except SecretMissing as error:
        raise click.ClickException(str(error)) from None
    from .server import run

    run(host=host, port=port, workers=workers, threads=threads)


# --------------------------------------------------------------------------- the curator's tools


@main.command(help="Print every occurrence of TEXT in the source SOURCE, with its offsets and context: what a span "
                   "needs. Exit status 1 when the text does not occur.")
@click.argument("source")
@click.argument("text")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
def locate(source, text, root):
    try:
        source_text = authoring.source_text(content_root(root), source)
    except authoring.AuthoringError as error:
        raise click.UsageError(str(error)) from None
    found = spans.occurrences(source_text, text)
    for number, start in enumerate(found, 1):
        click.echo(f"{number}: {start}-{start + len(text)}  {spans.context(source_text, start, start + len(text))}")
    if not found:
        click.echo(f'"{text}" does not occur in {source}', err=True)
        sys.exit(1)
    if len(found) > 1:
        click.echo(f'{len(found)} occurrences: a span by text needs "occurrence": N or "after": "<nearby text>"',
                   err=True)


@main.command("new-source", help="Add a source: copy the text file PATH into seeds/<id>.txt, write seeds/<id>.json "
                                 "(with its sha256) and empty fixtures/<id>/*.json. The id defaults to the file "
                                 "name's slug (see fixtures/FORMAT.md). Nothing is overwritten.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "source_id", help="Source id (default: a slug of the file name).")
@click.option("--publisher", required=True, help="Who published it, in English or transliterated.")
@click.option("--publisher-ar", help="The publisher's Arabic name.")
@click.option("--published-at", required=True, help="Publication time, ISO 8601 with a UTC offset.")
@click.option("--language", required=True, help="ISO 639 code of the text, e.g. ar.")
@click.option("--title", help="Default: the first line of the text.")
@click.option("--url", help="Where it was published.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
def new_source(path, source_id, publisher, publisher_ar, published_at, language, title, url, root):
    root_path = content_root(root)
    meta = {"publisher": publisher, "publisher_ar": publisher_ar, "published_at": published_at,
            "language": language, "title": title, "url": url}
    try:
        written = authoring.new_source(root_path, path, source_id, meta)
    except (authoring.AuthoringError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    for file in written:
        click.echo(f"wrote {file.relative_to(root_path)}")
    click.echo("next: write records (spans by text are fine), then `event-records check --fix`", err=True)


@main.command(help="Print the source text with the spans of its records marked, for a second reading against the "
                   "text: in colour on a terminal, as [..]N otherwise, with a legend of N: offsets, record, field.")
@click.argument("source")
@click.option("--record", "record_id", help="Only the spans of this record.")
@click.option("--colour/--no-colour", default=None, help="Default: colour when the output is a terminal.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
def show(source, record_id, colour, root):
    root_path = content_root(root)
    try:
        text = authoring.source_text(root_path, source)
    except authoring.AuthoringError as error:
        raise click.UsageError(str(error)) from None
    marks = [m for m in authoring.record_spans(root_path, source) if record_id in (None, m.record)]
    if record_id and not marks:
        raise click.UsageError(f"no record {record_id!r} with spans in {source}")
    colour = sys.stdout.isatty() if colour is None else colour
    click.echo(authoring.marked_text(text, marks, colour), color=colour)
    click.echo("")
    for line in authoring.legend(marks):
        click.echo(line)


@main.command(help="Write the JSON Schemas of the fixture files (schemas/*.schema.json), generated from "
                   "the load schemas, for editors; with --check, only say whether they are current (exit 1 if not).")
@click.option("--check", "only_check", is_flag=True, help="Compare instead of writing.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
def schemas(only_check, root):
    directory = content_root(root) / "schemas"
    if only_check:
        stale = editor_schemas.stale(directory)
        if stale:
            click.echo(f"stale: {', '.join(stale)}; run `event-records schemas`", err=True)
            sys.exit(1)
        click.echo("schemas are current")
        return
    for path in editor_schemas.write_all(directory):
        click.echo(f"wrote {path}")


def register_commands(app) -> None:
    for command in main.commands.values():
        app.cli.add_command(command)




@main.command(help="Write the whole dataset into DIRECTORY: the files of /v1/dump (one NDJSON file per kind, "
                   "texts.ndjson with the sources' texts, manifest.json with the release and the sha256 of each file), read "
                   "in one snapshot.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--database-url", envvar="DATABASE_URL", help=DATABASE_HELP)
def dump(directory, database_url):
    from models import backends
    from models import dump as dumping
    from .database import MODELS

    url = database_url or database_url_from_env()
    with database_errors(url):
        db = open_database(url, read_only=True)  # (a dump never creates a database)
        db.connect(reuse_if_open=True)
        try:
            with db.bind_ctx(MODELS, bind_refs=False, bind_backrefs=False):
                snapshot = backends.of(db).begin_snapshot(db)
                try:
                    manifest = dumping.to_directory(directory)
                finally:
                    snapshot.__exit__(None, None, None)
        finally:
            db.close()
    counts = ", ".join(f"{n} {kind}s" for kind, n in manifest["counts"].items())
    click.echo(f"{directory}: release {manifest['release']} (dataset {manifest['dataset_version']}): {counts}")


if __name__ == "__main__":  # pragma: no cover
    main()
