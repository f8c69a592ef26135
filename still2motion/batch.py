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


def plan_outputs(inputs: list[Path], output: Path, row: Format, *, single: bool = False) -> list[tuple[Path, Path]]:
    """``(input, output file)`` pairs: ``output`` itself for a single input, else ``output / (stem + suffix)``.

    Two inputs with the same stem (``a.png``, ``a.webp``) get distinct names: the later one is named after its
    suffix too (``a_webp.png``), then numbered. The caller lists renamed outputs.

    Raises:
        ValueError: an output (or a sprite sheet's JSON) would replace one of the inputs.
    """
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
            if path.resolve() in originals:
                flag = "-o" if single else f"-o '{output}'"
                raise ValueError(f"{flag} would overwrite the input '{path}'; write to another name or folder")
        taken.update(p.name.casefold() for p in _written(target, row))
        plan.append((source, target))
    return plan
