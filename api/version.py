"""The one version number: the installed package's (setup.cfg), for --version, the OpenAPI document and /."""
from __future__ import annotations

import configparser
from importlib import metadata
from pathlib import Path


def package_version() -> str:
    try:
        return metadata.version("event-records")
    except metadata.PackageNotFoundError:  # a checkout that was not installed: read setup.cfg
        config = configparser.ConfigParser()
        config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
        return config.get("metadata", "version", fallback="0+unknown")


VERSION = package_version()
