"""Wesnoth (wesnoth-1.16-data): one PNG per frame, ``units/<folder>/<seq>-<n>.png`` (docs/data-sources.md).

Frames are grouped by (folder, name without the trailing number), ordered by the number (gaps allowed), padded to the
group's largest size *centred*, and the magenta team-colour palette is recoloured with one team per sequence the way
Wesnoth's ``recolor_range`` does it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .common import Package, SeqSpec, clear_transparent, frames_md5, open_rgba, pad_centered, seq_rng

PACKAGE = Package("wesnoth-1.16-data", "1:1.16.9-1", (
    "./usr/share/games/wesnoth/1.16/data/core/images/units/*",
    "./usr/share/games/wesnoth/1.16/data/core/team-colors.cfg",
    "./usr/share/doc/wesnoth-1.16-data/copyright"), "GPL-2.0-or-later")
UNITS_DIR = "usr/share/games/wesnoth/1.16/data/core/images/units"
TEAM_COLORS_CFG = "usr/share/games/wesnoth/1.16/data/core/team-colors.cfg"
FRAME_NAME = re.compile(r"^(?P<seq>.+?)-?(?P<idx>\d+)\.png$")
NON_LOOP = re.compile(r"(^|-)(die|death|dying|dead)(-|$)")
DEFAULT_FPS = 10.0  # WML's most common ``:100`` ms per frame

# Fallbacks when team-colors.cfg is not extracted: the magenta palette and a few (mid, max, min) team ranges.
MAGENTA = ["F49AC1", "3F0016", "55002A", "690039", "7B0045", "8C0051", "9E005D", "B10069", "C30074", "D6007F",
           "EC008C", "EE3D96", "EF5BA1", "F172AC", "F287B6", "F6ADCD", "F8C1D9", "FAD5E5", "FDE9F1"]
TEAMS = {"red": ("FF0000", "FFFFFF", "000000"), "blue": ("2E419B", "FFFFFF", "0F0F0F"),
         "green": ("62B664", "FFFFFF", "000000"), "purple": ("93009D", "FFFFFF", "000000")}


def _rgb(hex6: str) -> tuple[int, int, int]:
    return int(hex6[0:2], 16), int(hex6[2:4], 16), int(hex6[4:6], 16)


def read_team_colors(cfg: Path) -> tuple[list[str], dict[str, tuple[str, str, str]]]:
    """The magenta palette and the ``[color_range]`` teams (id → mid, max, min) of ``team-colors.cfg``."""
    if not cfg.is_file():
        return MAGENTA, TEAMS
    text = cfg.read_text(errors="replace")
    teams = {m.group(1): (m.group(2), m.group(3), m.group(4)) for m in re.finditer(
        r"\[color_range\]\s*id=(\w+)\s*rgb=(\w{6}),(\w{6}),(\w{6})", text)}
    pal = re.search(r"^\s*magenta=([\w,]+)", text, re.M)
    return (pal.group(1).split(",") if pal else MAGENTA), (teams or TEAMS)


def recolor_map(palette: list[str], team: tuple[str, str, str]) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    """Wesnoth's ``recolor_range``: each palette entry, by its channel average relative to the first, onto the team."""
    mid, hi, lo = (np.asarray(_rgb(c), np.float32) for c in team)
    ref = sum(_rgb(palette[0])) // 3
    out = {}
    for c in palette:
        avg = sum(_rgb(c)) // 3
        if avg <= ref:
            r = avg / ref
            new = r * mid + (1 - r) * lo
        else:
            r = (255.0 - avg) / (255.0 - ref)
            new = r * mid + (1 - r) * hi
        out[_rgb(c)] = tuple(int(min(v, 255)) for v in new)
    return out


def recolor(frame: np.ndarray, mapping: dict[tuple[int, int, int], tuple[int, int, int]]) -> np.ndarray:
    """Replaces every exact palette colour (any alpha > 0) by its team colour."""
    packed = (frame[..., 0].astype(np.int32) << 16) | (frame[..., 1].astype(np.int32) << 8) | frame[..., 2]
    out = frame.copy()
    for (r, g, b), new in mapping.items():
        hit = (packed == ((r << 16) | (g << 8) | b)) & (frame[..., 3] > 0)
        out[hit, :3] = new
    return out


def _character(folder: str, seq: str, stills: set[str]) -> str:
    plain = seq.replace("+female", "")
    cands = [s for s in stills if plain == s or plain.startswith(s + "-")]
    return min(cands, key=len) if cands else plain.split("-")[0]


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """All numbered frame groups with ≥ 2 frames under ``data/core/images/units``."""
    units = extract_root / UNITS_DIR
    if not units.is_dir():
        raise FileNotFoundError(f"no Wesnoth units folder at {units}")
    palette, teams = read_team_colors(extract_root / TEAM_COLORS_CFG)
    groups: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    stills: dict[str, set[str]] = {}
    for png in sorted(units.rglob("*.png")):
        folder = png.parent.relative_to(units).as_posix()
        m = FRAME_NAME.match(png.name)
        if m is None:
            stills.setdefault(folder, set()).add(png.stem.replace("+female", ""))
            continue
        groups.setdefault((folder, m.group("seq")), []).append((int(m.group("idx")), png))
    specs = []
    for (folder, name), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members.sort()
        unit = _character(folder, name, stills.get(folder, set()))
        character = f"{folder}/{unit}"
        team = sorted(teams)[seq_rng(f"{folder}/{name}").randrange(len(teams))]
        specs.append(SeqSpec(
            seq=f"wesnoth.{character.replace('/', '.')}#{name}", source="wesnoth", character=f"wesnoth:{character}",
            anim=name, source_path=members[0][1].relative_to(extract_root).as_posix(),
            files=[str(p) for _, p in members], fps=DEFAULT_FPS, loop=not NON_LOOP.search(name),
            params={"palette": palette, "team": teams[team], "team_id": team}))
    return specs


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Opens, pads (centred, to the largest frame) and team-colours the frames; md5 is of the uncoloured frames."""
    raw = [open_rgba(f) for f in spec.files]
    h = max(f.shape[0] for f in raw)
    w = max(f.shape[1] for f in raw)
    raw = [pad_centered(f, h, w) for f in raw]
    mapping = recolor_map(spec.params["palette"], tuple(spec.params["team"]))
    return [clear_transparent(recolor(f, mapping)) for f in raw], frames_md5(raw)
