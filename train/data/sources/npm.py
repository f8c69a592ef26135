"""Fetch npm registry tarballs by name, check them against the registry's metadata and unpack them in Python.

The second kind of source beside Debian packages (``fetch.py``). For each name of an ``NpmPackage``:

1. the registry's metadata for ``name@version`` (``https://registry.npmjs.org/<name>/<version>``) gives
   ``dist.tarball`` and ``dist.integrity`` (``sha512-<base64>``); it is kept beside the tarball, so a re-run checks
   the same digest without the network;
2. the tarball is downloaded (``npm pack`` is not needed) to ``raw/npm/<file>.tgz`` via a temporary name, and its
   SHA-512 must equal the metadata's before it is used (a mismatch removes it and fails);
3. only the members matching ``members`` are extracted, with ``tarfile`` (regular files only, no absolute paths
   or ``..``), into ``raw/<source>/<name without scope>/``; ``package/package.json`` must state ``license``.

Everything is idempotent: a verified tarball and a finished extraction (marker file) are reused.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from .common import NpmPackage

logger = logging.getLogger(__name__)

REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 60


class NpmFetchError(RuntimeError):
    """A tarball could not be fetched, verified or unpacked; the message is one line naming it."""


def metadata_url(name: str, version: str, registry: str = REGISTRY) -> str:
    """``@scope/pkg`` → ``<registry>/@scope%2Fpkg/<version>`` (the registry's per-version document)."""
    return f"{registry}/{urllib.parse.quote(name, safe='@')}/{urllib.parse.quote(version)}"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:  # noqa: S310 (https registry URL)
        return resp.read()


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, tmp.open("wb") as f:  # noqa: S310
        shutil.copyfileobj(resp, f, length=1 << 20)
    os.replace(tmp, dest)


def tarball_name(name: str, version: str) -> str:
    """The file name ``npm pack`` gives (``@lobehub/fluent-emoji-anim-1`` →
    ``lobehub-fluent-emoji-anim-1-1.0.0.tgz``)."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def check_integrity(path: Path, integrity: str) -> None:
    """Raises ``NpmFetchError`` unless ``path``'s digest equals the Subresource-Integrity string ``integrity``.

    Only ``sha512-`` (what the registry publishes for every modern package) is accepted.
    """
    algo, _, digest = integrity.partition("-")
    if algo != "sha512" or not digest:
        raise NpmFetchError(f"unsupported integrity '{integrity[:20]}' for {path.name}: expected sha512-<base64>")
    h = hashlib.sha512()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    got = base64.b64encode(h.digest()).decode()
    if got != digest:
        raise NpmFetchError(f"{path.name}: sha512 {got[:16]}… does not match the registry's {digest[:16]}…")


def fetch_metadata(name: str, version: str, cache: Path) -> dict:
    """The registry's ``dist`` record of ``name@version``, read from ``cache`` when an earlier run saved it."""
    if cache.is_file():
        return json.loads(cache.read_text())["dist"]
    url = metadata_url(name, version)
    try:
        doc = json.loads(_get(url))
    except (OSError, ValueError) as exc:
        raise NpmFetchError(f"npm registry metadata for {name}@{version} not readable ({url}): {exc}") from exc
    dist = doc.get("dist") or {}
    if not dist.get("tarball") or not dist.get("integrity"):
        raise NpmFetchError(f"npm registry metadata for {name}@{version} has no dist.tarball / dist.integrity")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"name": name, "version": version, "dist": dist}))
    return dist


def download(name: str, version: str, raw: Path) -> Path:
    """Downloads (or reuses) the tarball of ``name@version`` under ``raw/npm/`` and verifies it; returns its path."""
    folder = raw / "npm"
    tgz = folder / tarball_name(name, version)
    dist = fetch_metadata(name, version, folder / (tgz.name + ".meta.json"))
    if not tgz.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        logger.info("downloading %s", dist["tarball"])
        try:
            _download(dist["tarball"], tgz)
        except OSError as exc:
            raise NpmFetchError(f"downloading {dist['tarball']} failed: {exc}") from exc
    try:
        check_integrity(tgz, dist["integrity"])
    except NpmFetchError:
        tgz.unlink()  # never keep a tarball that does not match
        raise
    return tgz


def _safe_member(member: tarfile.TarInfo) -> bool:
    parts = PurePosixPath(member.name).parts
    return member.isfile() and not member.name.startswith("/") and ".." not in parts


def extract(tgz: Path, members: tuple[str, ...], dest: Path, license: str) -> Path:
    """Extracts the regular files of ``tgz`` matching ``members`` into ``dest`` and checks the stated licence.

    Raises:
        NpmFetchError: the tarball is unreadable, has no ``package/package.json``, or states another licence.
    """
    marker = dest / f".extracted-{tgz.name}"
    if marker.is_file():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            stated = None
            for m in tar:
                if not _safe_member(m):
                    continue
                if m.name == "package/package.json":
                    stated = json.loads(tar.extractfile(m).read()).get("license")
                if not any(fnmatch.fnmatchcase(m.name, pat) for pat in members):
                    continue
                out = dest / m.name
                out.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(m) as src, out.open("wb") as f:
                    shutil.copyfileobj(src, f)
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise NpmFetchError(f"unpacking {tgz.name} failed: {exc}") from exc
    if stated != license:
        raise NpmFetchError(f"{tgz.name}: package.json states licence {stated!r}, expected {license!r}")
    marker.write_text(" ".join(members) + "\n")
    return dest


def fetch_npm(pkg: NpmPackage, raw: Path, source: str) -> tuple[Path, str]:
    """Fetches, verifies and unpacks every tarball of ``pkg`` into ``raw/<source>/<name>/``.

    Returns:
        ``(raw/<source>, "npm:<name1>,<name2>…@<version>")`` for the manifest's ``source``.
    """
    root = raw / source
    for name in pkg.names:
        tgz = download(name, pkg.version, raw)
        extract(tgz, pkg.members, root / name.split("/")[-1], pkg.license)
    return root, f"npm:{','.join(pkg.names)}@{pkg.version}"
