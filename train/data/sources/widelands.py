"""Widelands (widelands-data): ``spritesheets = {…}`` blocks of ``init.lua`` files, cut into frames (docs/data-sources.md).

Parsed without a Lua interpreter: strip comments, find every ``name = {`` block by counting braces, reduce its body to
its own level and keep blocks that have ``frames =`` and ``columns =``. Sheets are ``<basename>[_<dir>]_<scale>.png``
with an optional player-colour mask ``<stem>_pc.png``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, apply_player_color, clear_transparent, frames_md5, open_rgba, seq_rng

PACKAGE = Package("widelands-data", "2:1.1-3", (
    "./usr/share/games/widelands/data/tribes/*", "./usr/share/games/widelands/data/world/*",
    "./usr/share/doc/widelands-data/copyright"), "GPL-2.0-or-later")
logger = logging.getLogger(__name__)

DATA_DIR = "usr/share/games/widelands/data"
DIRECTIONS = ("ne", "e", "se", "sw", "w", "nw")
NON_LOOP = re.compile(r"^(build|die|fall|sinking|atk_|eva_)")
# Widelands' first eight player colours (src/graphic/playercolor.cc), one picked per sequence.
PLAYER_COLORS = [(2, 2, 198), (255, 41, 0), (255, 232, 0), (59, 223, 3),
                 (57, 57, 57), (255, 172, 0), (215, 0, 218), (255, 255, 255)]

_BLOCK_START = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*\{")
_NUMBERS = re.compile(r"\b(fps|frames|columns|rows|representative_frame)\s*=\s*([\d.]+)")
_BASENAME = re.compile(r'basename\s*=\s*"([^"]+)"')
_DIRECTORY = re.compile(r'directory\s*=\s*dirname\s*(?:\.\.\s*"([^"]*)")?')
_INNER = re.compile(r"\{[^{}]*\}")


def strip_lua_comments(text: str) -> str:
    """Removes ``--[[ … ]]`` block comments and ``-- …`` line comments."""
    text = re.sub(r"--\[(=*)\[.*?\]\1\]", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def _matching_brace(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def sheet_blocks(text: str) -> list[dict]:
    """All sprite-sheet blocks of a Lua file: ``[{"name", "fps", "frames", "columns", "rows", ...}]``."""
    text = strip_lua_comments(text)
    blocks = []
    for m in _BLOCK_START.finditer(text):
        start = m.end() - 1
        body = text[start + 1 : _matching_brace(text, start)]
        while True:  # keep only this block's own level
            reduced = _INNER.sub("", body)
            if reduced == body:
                break
            body = reduced
        if not (re.search(r"\bframes\s*=", body) and re.search(r"\bcolumns\s*=", body)):
            continue
        block: dict = {"name": m.group(1), "directional": bool(re.search(r"directional\s*=\s*true", body)),
                       "play_once": bool(re.search(r"play_once\s*=\s*true", body))}
        for key, value in _NUMBERS.findall(body):
            block[key] = float(value)
        if (b := _BASENAME.search(body)) is not None:
            block["basename"] = b.group(1)
        if (d := _DIRECTORY.search(body)) is not None:
            block["directory"] = d.group(1) or ""
        if "rows" in block:
            blocks.append(block)
    return blocks


def _probe_dirs(lua_dir: Path, suffix: str | None) -> list[Path]:
    dirs = []
    if suffix:
        dirs += [lua_dir / suffix, lua_dir.parent / suffix]
    dirs += [lua_dir, lua_dir / "pics", lua_dir.parent, lua_dir.parent / "pics"]
    dirs += sorted(p for p in lua_dir.iterdir() if p.is_dir())
    return dirs


def _find_folder(lua_dir: Path, block: dict) -> Path | None:
    stem = block.get("basename", block["name"])
    first = f"{stem}_ne_1.png" if block["directional"] else f"{stem}_1.png"
    for d in _probe_dirs(lua_dir, block.get("directory")):
        if (d / first).is_file():
            return d
    return None


def _pick_scale(folder: Path, stem: str, scales: list[int]) -> int | None:
    for s in scales:
        if (folder / f"{stem}_{s}.png").is_file():
            return s
    return None


def find_sequences(extract_root: Path, source: str, scales: list[int] = [2, 1]) -> list[SeqSpec]:
    """All sprite-sheet sequences under ``tribes/`` and ``world/`` (one per direction).

    Args:
        extract_root: the folder the .deb was extracted into (holds ``usr/``).
        source: the manifest ``source`` string (``debian:widelands-data=<version>``), kept in ``params``.
        scales: sheet scales to try, in order (``[2, 1]`` = ``_2`` else ``_1``).
    """
    data = extract_root / DATA_DIR
    if not data.is_dir():
        raise FileNotFoundError(f"no Widelands data folder at {data}")
    specs: list[SeqSpec] = []
    seen_sheets: set[tuple[str, str]] = set()
    unresolved = 0
    for lua in sorted(list(data.glob("tribes/**/*.lua")) + list(data.glob("world/**/*.lua"))):
        rel_dir = lua.parent.relative_to(data).as_posix()
        if rel_dir.startswith("tribes/initialization"):
            continue  # start-screen art, not characters
        for block in sheet_blocks(lua.read_text(errors="replace")):
            folder = _find_folder(lua.parent, block)
            if folder is None:
                unresolved += 1
                continue
            stem = block.get("basename", block["name"])
            if (str(folder), stem) in seen_sheets:
                continue
            seen_sheets.add((str(folder), stem))
            frames = int(block["frames"])
            if frames < 2:
                continue
            character = rel_dir
            for direction in DIRECTIONS if block["directional"] else (None,):
                base = f"{stem}_{direction}" if direction else stem
                scale = _pick_scale(folder, base, scales)
                if scale is None:
                    continue
                sheet = folder / f"{base}_{scale}.png"
                mask = folder / f"{base}_{scale}_pc.png"
                anim = f"{block['name']}_{direction}" if direction else block["name"]
                specs.append(SeqSpec(
                    seq=f"widelands.{character.replace('/', '.')}#{anim}", source="widelands",
                    character=f"widelands:{character}", anim=anim,
                    source_path=sheet.relative_to(extract_root).as_posix(), files=[str(sheet)],
                    fps=block.get("fps", 4.0),  # engine default: 250 ms per frame
                    loop=not (block["play_once"] or NON_LOOP.match(block["name"])), scale=scale,
                    params={"frames": frames, "columns": int(block["columns"]), "rows": int(block["rows"]),
                            "mask": str(mask) if mask.is_file() else None}))
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.seq] = counts.get(spec.seq, 0) + 1
    for spec in specs:  # several blocks with one key in one Lua file (amazon trees): name them by sheet stem
        if counts[spec.seq] > 1:
            spec.anim = Path(spec.files[0]).stem.rsplit("_", 1)[0]
            spec.seq = spec.seq.split("#")[0] + "#" + spec.anim
    if unresolved:
        logger.info("widelands: %d sheet blocks did not resolve to files", unresolved)
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Cuts the first ``frames`` cells (row-major) of the sheet, applying a player colour where a mask exists.

    Returns:
        ``(frames, md5)``: straight-RGBA frames and the md5 of the uncoloured cells (the dedupe key).
    """
    sheet = open_rgba(spec.files[0])
    p = spec.params
    ch, cw = sheet.shape[0] // p["rows"], sheet.shape[1] // p["columns"]
    mask = open_rgba(p["mask"]) if p.get("mask") else None
    if mask is not None and mask.shape != sheet.shape:
        raise ValueError(f"player-colour mask {p['mask']} is {mask.shape}, sheet is {sheet.shape}")
    color = seq_rng(spec.seq).choice(PLAYER_COLORS)
    raw, frames = [], []
    for i in range(p["frames"]):
        r, c = divmod(i, p["columns"])
        cell = sheet[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw]
        raw.append(cell)
        if mask is not None:
            cell = apply_player_color(cell, mask[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw], color)
        frames.append(clear_transparent(cell))
    return frames, frames_md5(raw)
