"""The ``event-records`` command: check, load, serve.

The same commands are registered on the Flask app, so ``flask --app api load``
works too.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from models import load as loader
from models.db import database_file, database_url_from_env, open_database

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


def report_problems(error: loader.LoadError) -> None:
    for problem in error.problems:
        click.echo(str(problem), err=True)
    click.echo(f"\n{len(error.problems)} problem(s); nothing was loaded. Fix them and run again.", err=True)


def describe(summary: loader.Summary) -> str:
    counts = summary.counts
    return (f"{counts['sources']} source(s), {counts['participants']} participants, {counts['places']} places, "
            f"{counts['events']} events, {counts['statements']} statements "
            f"(dataset {summary.dataset_version}, {summary.seconds:.1f} s)")


def do_load(root: Path, url: str) -> loader.Summary:
    db = open_database(url, create_dir=True)
    return loader.load(root, db, progress)


@click.group(help="Hand-curated political event records: validate, load and serve them as a JSON API.")
def main() -> None:
    pass


@main.command(help="Validate seeds and fixtures (hashes, schemas, references, every span) without touching a database. "
                   "Exit status 0 when valid, 1 when a problem was found (each printed as file: json-path: what is wrong).")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
def check(root):
    root_path = content_root(root)
    try:
        summary = loader.check(root_path, progress)
    except loader.LoadError as error:
        report_problems(error)
        sys.exit(1)
    click.echo("ok: " + describe(summary))


@main.command(help="Validate and (re)load everything into the database in one transaction. On any problem nothing "
                   "changes and the exit status is 1. The database is DATABASE_URL, else a SQLite file in "
                   "$EVENT_RECORDS_DATA_DIR (default ./data).")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
@click.option("--database-url", envvar="DATABASE_URL", help="sqlite:///path, postgresql://… or postgresql+pool://… (default: $DATABASE_URL).")
def load(root, database_url):
    root_path = content_root(root)
    url = database_url or database_url_from_env()
    try:
        summary = do_load(root_path, url)
    except loader.LoadError as error:
        report_problems(error)
        sys.exit(1)
    click.echo(f"loaded into {redact(url)}: " + describe(summary))


def redact(url: str) -> str:
    """A URL fit for a log line (no password)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def ensure_loaded(root: Path, url: str) -> None:
    """Load when the database is missing, holds another dataset version than the files, or
    was loaded with another table layout (by an older version of this code)."""
    current = loader.dataset_version(root)
    path = database_file(url)
    stored = loader.loaded_version(open_database(url, read_only=path is not None)) if (
        path is None or path.exists()) else None
    if stored == current:
        click.echo(f"database is up to date (dataset {current})", err=True)
        return
    click.echo("database is missing, or was loaded by another version of event-records; loading…" if stored is None
               else f"dataset changed ({stored} → {current}); reloading…", err=True)
    summary = do_load(root, url)
    click.echo("loaded " + describe(summary), err=True)


@main.command(help="Load the data if needed, then serve the API with gunicorn (gthread workers). "
                   "Also possible directly: gunicorn 'api:create_app()'.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")), type=click.IntRange(1, 64),
              help="Worker processes [default: $WEB_CONCURRENCY or 2].")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.option("--root", type=click.Path(file_okay=False), help=ROOT_HELP)
@click.option("--database-url", envvar="DATABASE_URL", help="Default: $DATABASE_URL, else the SQLite file in ./data.")
@click.option("--no-load", is_flag=True, help="Serve the database as it is, even if it is missing or out of date.")
def serve(host, port, workers, threads, root, database_url, no_load):
    url = database_url or database_url_from_env()
    if not no_load:
        root_path = content_root(root)
        try:
            ensure_loaded(root_path, url)
        except loader.LoadError as error:
            report_problems(error)
            sys.exit(1)
    os.environ["DATABASE_URL"] = url
    from .server import run

    run(host=host, port=port, workers=workers, threads=threads)


def register_commands(app) -> None:
    for command in (check, load, serve):
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
