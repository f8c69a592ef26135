"""FreeDink (freedink-data 1.08): Dink Smallwood's 1997 pre-rendered / painted sprites, zlib licence.

``dink/Dink.ini`` declares sequences: ``load_sequence[_now] graphics\\dink\\walk\\ds-w1- 71 43 38 72 -14 -9 14 9`` =
path prefix, sequence number, frame delay (ms), then optionally the depth dot ``x y`` (the point drawn at the
sprite's position, the same for every frame) and a hard box; flags ``BLACK`` (black is transparent, else white),
``NOTANIM``, ``LEFTALIGN``. Frames ``<prefix>01.bmp, 02 …`` live in the folder's ``dir.ff``: ``uint32 count``, then
``count × {uint32 offset, char name[13]}``, the last entry only marking where the data ends. Without a depth dot the
engine puts it at ``x = w - w//2 + w//6``, ``y = h - h//4 - h//30`` of each frame (freedink ``gfx_sprites.c``).
``set_frame_frame S F S F2`` (same sequence) repeats frame F2 as frame F (idle ping-pong), ``… F -1`` ends it at F-1.
A number declared twice keeps its last declaration. Loops are not flagged: walks (``w1``…``w9``), idles (``i2``…)
and the spinning pickups are kept by name; the seam filter drops what does not lead back to its first frame.
Character = ``dink`` for the hero, else the first two folders below ``graphics`` (``people/knight``).
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from .common import Package, SeqSpec, color_key, frames_md5, paste_at

PACKAGE = Package("freedink-data", "1.08.20190120-2", (
    "./usr/share/games/dink/dink/Dink.ini", "./usr/share/games/dink/dink/graphics/*",
    "./usr/share/doc/freedink-data/copyright"), "Zlib")  # copyright: "Covered files: … graphics/*", zlib text

DINK_DIR = "usr/share/games/dink/dink"
_LOOP_NAME = re.compile(r"(?:[wi]\d|\dw)$")  # ds-w1, c09w1, f07i1, dk1w (the trailing '-' stripped)
PICKUPS = ("heart", "gldhrt", "smhrt", "botl-b", "botl-r", "botl-p", "coin")
_FLAGS = ("BLACK", "NOTANIM", "NOTANIN", "LEFTALIGN")


def parse_ini(text: str) -> tuple[dict[int, dict], list[tuple[int, int, int]]]:
    """``Dink.ini`` → ``({seq_no: {"path", "delay", "offset", "black", "notanim", "leftalign"}}, frame_edits)``.

    ``frame_edits`` are the same-sequence ``set_frame_frame`` lines as ``(seq, frame, source_frame)``.
    """
    seqs: dict[int, dict] = {}
    edits: list[tuple[int, int, int]] = []
    for raw in text.splitlines():
        parts = raw.split(";")[0].split("//")[0].split()
        if len(parts) >= 3 and parts[0] in ("load_sequence", "load_sequence_now") and parts[2].isdigit():
            rest = parts[3:]
            nums = [int(t) for t in rest if re.fullmatch(r"-?\d+", t)]
            flags = {t.upper() for t in rest if t.upper() in _FLAGS}
            seqs[int(parts[2])] = {
                "path": parts[1].replace("\\", "/"), "delay": nums[0] if nums else 0,
                "offset": (nums[1], nums[2]) if len(nums) >= 3 and nums[1] > 0 and nums[2] > 0 else None,
                "black": "BLACK" in flags, "notanim": bool(flags & {"NOTANIM", "NOTANIN"}),
                "leftalign": "LEFTALIGN" in flags}
        elif len(parts) >= 4 and parts[0] == "set_frame_frame" and all(re.fullmatch(r"-?\d+", t) for t in parts[1:4]):
            s, f, s2 = (int(t) for t in parts[1:4])
            if s2 == -1:
                edits.append((s, f, -1))
            elif len(parts) >= 5 and s2 == s and parts[4].isdigit():
                edits.append((s, f, int(parts[4])))
    return seqs, edits


def read_dir_ff(path: str | Path) -> dict[str, bytes]:
    """The files of a ``dir.ff`` pack, by lower-case name."""
    data = Path(path).read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    if count < 1 or 4 + 17 * count > len(data):
        raise ValueError(f"{path}: bad dir.ff header (count {count}, {len(data)} bytes)")
    entries = []
    for i in range(count):
        offset, name = struct.unpack_from("<I13s", data, 4 + 17 * i)
        entries.append((offset, name.split(b"\0")[0].decode("latin-1").lower()))
    files = {}
    for (start, name), (end, _) in zip(entries, entries[1:]):
        if name and 0 < start <= end <= len(data):
            files[name] = data[start:end]
    return files


def _frame_order(n_files: int, seq_no: int, edits: list[tuple[int, int, int]]) -> list[int]:
    order = list(range(1, n_files + 1))  # 1-based file numbers
    for s, f, src in edits:
        if s != seq_no or f < 1:
            continue
        if src == -1:
            order = order[: f - 1]
        elif 1 <= src <= n_files and f <= len(order) + 1:
            order[f - 1 : f] = [src]
    return order


def _folder_index(graphics: Path) -> dict[str, Path]:
    return {p.relative_to(graphics.parent).as_posix().lower(): p for p in graphics.rglob("*") if p.is_dir()}


def find_sequences(extract_root: Path, source: str) -> list[SeqSpec]:
    """One sequence per declared number whose frames exist (walks, idles and pickups flagged as loops)."""
    dink = extract_root / DINK_DIR
    ini = dink / "Dink.ini"
    if not ini.is_file():
        raise FileNotFoundError(f"no Dink.ini at {ini}")
    declared, edits = parse_ini(ini.read_text(errors="replace"))
    folders = _folder_index(dink / "graphics")
    packs: dict[Path, list[str]] = {}
    specs = []
    for seq_no, d in sorted(declared.items()):
        folder_rel, _, prefix = d["path"].rpartition("/")
        folder = folders.get(folder_rel.lower())
        if folder is None or not folder_rel.lower().startswith("graphics/") or d["leftalign"]:
            continue
        if folder not in packs:
            packs[folder] = sorted(read_dir_ff(folder / "dir.ff")) if (folder / "dir.ff").is_file() else []
        names = set(packs[folder])
        n = 0
        while f"{prefix.lower()}{n + 1:02d}.bmp" in names:
            n += 1
        order = _frame_order(n, seq_no, edits)
        if len(order) < 2 or d["notanim"]:
            continue
        parts = folder_rel.lower().split("/")[1:]
        character = "dink" if parts[0] == "dink" else "/".join(parts[:2])
        stem = prefix.lower().rstrip("-")
        anim = f"{'.'.join(parts)}.{stem}.{seq_no}"
        specs.append(SeqSpec(
            seq=f"freedink.{character.replace('/', '.')}#{anim}", source="freedink",
            character=f"freedink:{character}", anim=anim,
            source_path=(folder / "dir.ff").relative_to(extract_root).as_posix(), files=[str(folder / "dir.ff")],
            fps=round(1000.0 / d["delay"], 3) if d["delay"] > 0 else 10.0,
            loop=bool(_LOOP_NAME.search(stem)) or stem in PICKUPS,
            params={"names": [f"{prefix.lower()}{i:02d}.bmp" for i in order], "offset": d["offset"],
                    "black": d["black"]}))
    return specs


def _decode_bmp(blob: bytes, black: bool) -> np.ndarray:
    with Image.open(io.BytesIO(blob)) as im:
        rgba = np.asarray(im.convert("RGBA")).copy()
    return color_key(rgba, (0, 0, 0) if black else (255, 255, 255))


def load(spec: SeqSpec) -> tuple[list[np.ndarray], str]:
    """Decodes the BMPs from ``dir.ff``, keys out white (or black), and aligns every frame's depth dot."""
    files = read_dir_ff(spec.files[0])
    crops, corners = [], []
    for name in spec.params["names"]:
        if name not in files:
            raise ValueError(f"{name} is not in {spec.source_path}")
        crop = _decode_bmp(files[name], spec.params["black"])
        h, w = crop.shape[:2]
        x, y = spec.params["offset"] or (w - w // 2 + w // 6, h - h // 4 - h // 30)
        crops.append(crop)
        corners.append((-x, -y))
    frames = paste_at(crops, corners)
    return frames, frames_md5(frames)
