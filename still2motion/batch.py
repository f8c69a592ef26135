"""Which input goes to which output file, decided before anything is rendered: no input is ever overwritten and no
two outputs share a name."""

from __future__ import annotations

import os
from pathlib import Path

from .io import Format

IMAGE_SUFFIXES = (".png", ".apng", ".gif", ".webp", ".jpg", ".jpeg", ".bmp")


def collect_inputs(paths: list[str | os.PathLike]) -> list[Path]:
    """The image files named by ``paths`` (a folder gives its images, sorted), each file once.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: a folder with no images.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ValueError(f"folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)})")
        elif not path.exists():
            raise FileNotFoundError(f"input '{path}' does not exist")
        else:
            found = [path]
        for file in found:
            if file.resolve() not in seen:  # the same file given twice (or through a folder) is animated once
                seen.add(file.resolve())
                files.append(file)
    return files


def _written(target: Path, row: Format) -> list[Path]:
    return [target, *(target.with_suffix(suffix) for suffix in row.companions)]


def _file_id(path: Path) -> tuple[int, int] | None:
    # The file itself, whatever the path: a symlink, a hard link or another spelling of it has the same (device, inode).
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def plan_outputs(inputs: list[Path], output: Path, row: Format, *, single: bool = False,
                 reads: dict[str, str | os.PathLike] | None = None) -> list[tuple[Path, Path]]:
    """``(input, output file)`` pairs: ``output`` itself for a single input, else ``output / (stem + suffix)``.

    Two inputs with the same stem (``a.png``, ``a.webp``) get distinct names: the later one is named after its
    suffix too (``a_webp.png``), then numbered. The caller lists renamed outputs.

    Args:
        inputs: the input files.
        output: the output file (``single``) or folder.
        row: the output format.
        single: one input, one output file.
        reads: other files the request reads, by what they are (``{"--mask": "tail.png"}``); no output may replace
            them either.

    Raises:
        ValueError: an output (or a sprite sheet's JSON) would replace one of the inputs or another file read.
    """
    protected = {_file_id(p): f"the input '{p}'" for p in inputs}
    protected.update({_file_id(Path(p)): f"the {what} '{p}'" for what, p in (reads or {}).items()})
    protected.pop(None, None)
    originals = {p.resolve() for p in inputs}
    plan: list[tuple[Path, Path]] = []
    taken: set[str] = set()  # case-folded names: "A.png" and "a.png" are one file on macOS and Windows
    for source in inputs:
        if single:
            target = output
        else:
            candidates = [source.stem, f"{source.stem}_{source.suffix.lstrip('.').lower()}"]
            candidates += [f"{candidates[1]}_{i}" for i in range(2, len(inputs) + 2)]
            stem = next(c for c in candidates if (c + row.suffix).casefold() not in taken)
            target = output / f"{stem}{row.suffix}"
        for path in _written(target, row):
            clash = protected.get(_file_id(path)) or (f"the input '{path}'" if path.resolve() in originals else None)
            if clash is not None:
                flag = "-o" if single else f"-o '{output}'"
                raise ValueError(f"{flag} would overwrite {clash}; write to another name or folder")
        taken.update(p.name.casefold() for p in _written(target, row))
        plan.append((source, target))
    return plan
