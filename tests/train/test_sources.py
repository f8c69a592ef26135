"""The six parsers of issue 14 on tiny synthetic copies of their package formats (atlas, dir.ff, xml, lua ...)."""

import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from train.data.build_dataset import split_of  # noqa: E402
from train.data.sources import SOURCES, blobwars, btanks, caveexpress, freedink, freedroidrpg, hedgewars  # noqa: E402
from train.data.sources.fetch import PACKAGES  # noqa: E402


def rgba(h: int, w: int, fill=(0, 0, 0, 0)) -> np.ndarray:
    a = np.zeros((h, w, 4), np.uint8)
    a[:] = fill
    return a


def save(path: Path, array: np.ndarray, mode: str = "RGBA") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array[..., :3] if mode == "RGB" else array, mode).save(path)


def marker(frame: np.ndarray, value: int) -> tuple[int, int]:
    """(x, y) of the one pixel whose red channel is ``value``."""
    ys, xs = np.nonzero(frame[..., 0] == value)
    assert len(xs) == 1, f"marker {value} found {len(xs)} times"
    return int(xs[0]), int(ys[0])


def test_registry_has_every_source_with_its_package():
    assert set(SOURCES) == set(PACKAGES) and len(SOURCES) == 14
    assert {"freedroidrpg", "hedgewars", "freedink", "btanks", "caveexpress", "blobwars"} <= set(SOURCES)
    assert all(p.license for p in PACKAGES.values())


def test_freedroidrpg_atlas_offsets_and_loops(tmp_path):
    d = tmp_path / freedroidrpg.DROIDS_DIR / "bot"
    page = rgba(8, 40)
    lines = ["* bot_1.png size 40 8"]
    for k in (2, 0, 1):  # out of order in the file
        w = 4 + k
        page[:6, 10 * k : 10 * k + w] = (50, 0, 0, 255)
        page[5, 10 * k + 2 + k] = (100 + k, 0, 0, 255)  # the droid's foot, 2 + k px into the crop
        lines.append(f"enemy_rot_00_walk-{k + 1:02d}.png {10 * k} 0 {w} 6 off {-(2 + k)} -6")
    lines += ["enemy_rot_00_attack-01.png 0 0 4 6 off -2 -6", "enemy_rot_00_attack-02.png 10 0 5 6 off -3 -6",
              "enemy_rot_01_stand-01.png 0 0 4 6 off -2 -6"]  # one frame: not a sequence
    save(d / "bot_1.png", page)
    (d / "atlas.txt").write_text("\n".join(lines) + "\n")
    specs = {s.anim: s for s in freedroidrpg.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["rot_00_attack", "rot_00_walk"]
    walk = specs["rot_00_walk"]
    assert walk.loop and not specs["rot_00_attack"].loop
    assert walk.character == "freedroidrpg:bot" and walk.seq == "freedroidrpg.bot#rot_00_walk"
    frames, _ = freedroidrpg.load(walk)
    assert [f.shape for f in frames] == [(6, 6, 4)] * 3  # crops reach 4 px left of the position, 2 right
    assert [marker(f, 100 + k) for k, f in enumerate(frames)] == [(4, 5)] * 3  # the foot stays put


def test_hedgewars_cells_column_major_mask_half_flakes_and_eval_only(tmp_path):
    g = tmp_path / hedgewars.DATA_DIR / "Graphics"
    idle = rgba(96, 64)
    for i, (r, c) in enumerate([(0, 0), (1, 0), (2, 0), (0, 1)]):  # top to bottom, then the next column
        idle[32 * r + 4, 32 * c + 4] = (10 + i, 0, 0, 255)
    save(g / "Hedgehog/Idle.png", idle)
    hat = rgba(96, 128)
    for r in range(3):
        hat[32 * r + 1, 1] = (20 + r, 0, 0, 255)
        hat[32 * r + 1, 65] = (200, 200, 200, 255)  # team mask, right half
    save(g / "Hats/Crown.png", hat)
    save(g / "Hats/Still.png", rgba(32, 64, (1, 1, 1, 255)))
    flake = rgba(64, 16)
    for r in range(4):
        flake[16 * r + 3, 3] = (30 + r, 0, 0, 255)
    save(tmp_path / hedgewars.DATA_DIR / "Themes/Snow/Flake.png", flake)
    (tmp_path / hedgewars.DATA_DIR / "Themes/Snow/theme.cfg").write_text("sky = 1\nflakes = 100, 3, 0, 100, 300\n")
    specs = {s.character: s for s in hedgewars.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["hedgewars:Hats/Crown", "hedgewars:Hedgehog", "hedgewars:Themes/Snow"]
    frames, _ = hedgewars.load(specs["hedgewars:Hedgehog"])
    assert [int(f[..., 0].max()) for f in frames] == [10, 11, 12, 13]  # empty cells dropped
    frames, _ = hedgewars.load(specs["hedgewars:Hats/Crown"])
    assert [f.shape[:2] for f in frames] == [(32, 32)] * 3 and max(int(f[..., 0].max()) for f in frames) == 22
    frames, _ = hedgewars.load(specs["hedgewars:Themes/Snow"])
    assert [int(f[..., 0].max()) for f in frames] == [30, 31, 32]  # count from theme.cfg, not the sheet
    assert all(s.loop for s in specs.values())
    assert not PACKAGES["hedgewars"].training and "GFDL" in PACKAGES["hedgewars"].license
    assert split_of("hedgewars:Hedgehog") in ("unseen-val", "unseen-test")


def dir_ff(files: dict[str, bytes]) -> bytes:
    """A ``dir.ff``: count (entries + end marker), then {offset, 13-byte name}, then the data."""
    head = 4 + 17 * (len(files) + 1)
    out, blobs, offset = [struct.pack("<I", len(files) + 1)], [], head
    for name, blob in files.items():
        out.append(struct.pack("<I13s", offset, name.upper().encode()))
        blobs.append(blob)
        offset += len(blob)
    out.append(struct.pack("<I13s", offset, b""))
    return b"".join(out + blobs)


def bmp(h: int, w: int, dot: tuple[int, int], value: int, background=(255, 255, 255)) -> bytes:
    import io

    a = np.zeros((h, w, 3), np.uint8)
    a[:] = background
    a[h // 2, 1] = (7, 7, 7)  # some body
    a[dot[1], dot[0]] = (value, 0, 0)
    buf = io.BytesIO()
    Image.fromarray(a, "RGB").save(buf, "BMP")
    return buf.getvalue()


DINK_INI = """; comment line
load_sequence_now graphics\\foes\\blob\\bl-w1- 11 100 5 8 -1 -1 1 1
load_sequence graphics\\foes\\blob\\bl-i2- 12 250
load_sequence graphics\\foes\\blob\\bl-x1- 13 75 BLACK
load_sequence graphics\\foes\\blob\\bl-w1- 14 NOTANIM
set_frame_frame 12 4 12 2
set_frame_frame 13 3 -1
"""


def test_freedink_dir_ff_colour_key_depth_dot_and_frame_edits(tmp_path):
    dink = tmp_path / freedink.DINK_DIR
    files = {}
    for i, w in enumerate((10, 12, 11)):  # walk: explicit depth dot (5, 8) for every frame
        files[f"bl-w1-{i + 1:02d}.bmp"] = bmp(12, w, (5, 8), 100 + i)
    for i, (h, w) in enumerate(((12, 12), (24, 18), (18, 12))):  # idle: the engine's default dot per frame
        files[f"bl-i2-{i + 1:02d}.bmp"] = bmp(h, w, (w - w // 2 + w // 6, h - h // 4 - h // 30), 120 + i)
    for i in range(3):
        files[f"bl-x1-{i + 1:02d}.bmp"] = bmp(6, 6, (1, 1), 140 + i, background=(0, 0, 0))
    (dink / "graphics/Foes/Blob").mkdir(parents=True)  # folders match case-insensitively
    (dink / "graphics/Foes/Blob/dir.ff").write_bytes(dir_ff(files))
    (dink / "Dink.ini").write_text(DINK_INI)
    assert sorted(freedink.read_dir_ff(dink / "graphics/Foes/Blob/dir.ff")) == sorted(files)
    specs = {s.anim.split(".")[-1]: s for s in freedink.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["11", "12", "13"]  # 14 is NOTANIM
    walk, idle, death = specs["11"], specs["12"], specs["13"]
    assert walk.loop and idle.loop and not death.loop
    assert walk.character == "freedink:foes/blob" and walk.fps == 10.0 and idle.fps == 4.0
    frames, _ = freedink.load(walk)
    assert {f.shape for f in frames} == {(12, 12, 4)}
    assert [marker(f, 100 + i) for i, f in enumerate(frames)] == [(5, 8)] * 3
    assert frames[0][0, 0, 3] == 0 and frames[0][6, 1, 3] == 255  # white keyed out, the body stays
    frames, _ = freedink.load(idle)
    assert len(frames) == 4 and len({marker(f, 120 + i if i < 3 else 121) for i, f in enumerate(frames)}) == 1
    frames, _ = freedink.load(death)
    assert len(frames) == 2 and frames[0][0, 0, 3] == 0  # ends at frame 2; black keyed out


RESOURCES_XML = """<?xml version="1.0"?>
<resources tile_width="8" tile_height="8" version="0.5">
  <animation-model id="man-animation" speed="7">
    <pose id="hold">0</pose>
    <pose id="walk">1,2,1,0</pose>
    <pose id="fade-out" speed="3">2,3</pose>
  </animation-model>
  <animation-model id="blast-animation" speed="12">
    <pose id="main">0,1,2,3,4</pose>
  </animation-model>
  <!-- a comment -->
  <animation id="green-man" tile="man.png" model="man-animation"/>
  <animation id="red-man" tile="man_red.png" model="man-animation"/>
  <animation id="blast" tile="blast.png" model="blast-animation" size="4"/>
</resources>
"""


def test_btanks_directions_pose_order_colour_variants(tmp_path):
    data = tmp_path / btanks.DATA_DIR
    sheet = rgba(32, 16)  # 2 directions (columns) x 4 frame indices (rows) of 8 px
    for d in range(2):
        for i in range(4):
            sheet[8 * i + 1, 8 * d + 1] = (10 * d + i + 1, 0, 0, 255)
    save(data / "tiles/man.png", sheet)
    save(data / "tiles/man_red.png", sheet)
    blast = rgba(8, 12)  # 3 x 2 cells of 4 px: fewer rows than indices -> row by row
    for i in range(6):
        blast[4 * (i // 3), 4 * (i % 3)] = (50 + i, 0, 0, 255)
    save(data / "tiles/blast.png", blast)
    (data / "resources.xml").write_text(RESOURCES_XML)
    specs = {s.seq: s for s in btanks.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["btanks.blast#main", "btanks.man#fade-out.d0", "btanks.man#fade-out.d1",
                             "btanks.man#walk.d0", "btanks.man#walk.d1"]  # red-man is a colour variant
    walk = specs["btanks.man#walk.d1"]
    assert walk.loop and not specs["btanks.man#fade-out.d0"].loop and walk.fps == 7.0
    assert specs["btanks.man#fade-out.d0"].fps == 3.0 and walk.character == "btanks:man"
    frames, _ = btanks.load(walk)
    assert [int(f[..., 0].max()) for f in frames] == [12, 13, 12, 11]  # column 1, rows 1,2,1,0
    frames, _ = btanks.load(specs["btanks.blast#main"])
    assert [f.shape for f in frames] == [(4, 4, 4)] * 5 and [int(f[0, 0, 0]) for f in frames] == [50, 51, 52, 53, 54]


def _cave_entry(name: str, image: str, x0: float, y0: float, w: int, h: int, ox: int, oy: int, uw: int, uh: int,
                page=(32, 16)) -> str:
    return (f'\t["{name}"] = {{\n\t\timage = "{image}",\n\t\tx0 = {x0},\n\t\ty0 = {y0},\n\t\tx1 = {w / page[0]},\n'
            f'\t\ty1 = {h / page[1]},\n\t\ttrimmedoffsetx = {ox},\n\t\ttrimmedoffsety = {oy},\n'
            f'\t\ttrimmedwidth = {w},\n\t\ttrimmedheight = {h},\n\t\tuntrimmedwidth = {uw},\n'
            f'\t\tuntrimmedheight = {uh},\n\t}},\n')


def test_caveexpress_normalised_atlas_trim_offsets_layers_and_loops(tmp_path):
    game = tmp_path / caveexpress.GAME_DIR
    page = rgba(16, 32)
    page[0:4, 0:4] = (10, 0, 0, 255)  # idle 01 middle, 4x4
    page[0:4, 8:12] = (11, 0, 0, 255)  # idle 02 middle
    page[8:16, 0:8] = (90, 90, 90, 255)  # back layer, 8x8, under everything
    page[8:12, 16:20] = (30, 0, 0, 255)  # dazed frames
    save(game / "pics/cave-big.png", page)
    big = "".join([
        _cave_entry("npc-rat-idle-DIR-middle-01", "cave-big", 0, 0, 4, 4, 2, 3, 10, 10),
        _cave_entry("npc-rat-idle-DIR-middle-02", "cave-big", 0.25, 0, 4, 4, 3, 3, 10, 10),
        _cave_entry("npc-rat-idle-DIR-back-01", "cave-big", 0, 0.5, 8, 8, 0, 0, 10, 10),
        _cave_entry("npc-rat-idle-DIR-back-02", "cave-big", 0, 0.5, 8, 8, 0, 0, 10, 10),
        _cave_entry("npc-rat-dazed-DIR-middle-01", "cave-big", 0.5, 0.5, 4, 4, 0, 0, 10, 10),
        _cave_entry("npc-rat-dazed-DIR-middle-02", "cave-big", 0.5, 0.5, 4, 4, 1, 0, 10, 10),
        _cave_entry("tile-rock-01-back-01", "cave-big", 0, 0, 4, 4, 0, 0, 4, 4)])
    small = _cave_entry("npc-rat-idle-DIR-middle-01", "cave-small", 0, 0, 2, 2, 0, 0, 5, 5)
    (game / "textures").mkdir(parents=True)
    (game / "textures/complete.lua").write_text(f"texturesbig = {{\n{big}}}\ntexturessmall = {{\n{small}}}\n")
    (game / "sprites.lua").write_text('sprites = {\n\t["npc-rat-idle-left"] = {\n\t\tfps = 6,\n'
                                      '\t\tdelays = { 0, 200 },\n\t},\n}\n')
    specs = {s.anim: s for s in caveexpress.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["npc-rat-dazed-DIR", "npc-rat-idle-DIR"]  # the one-frame tile is not a sequence
    idle = specs["npc-rat-idle-DIR"]
    assert idle.loop and not specs["npc-rat-dazed-DIR"].loop and idle.fps == 6.0
    assert idle.character == "caveexpress:npc-rat" and idle.seq == "caveexpress.npc-rat#npc-rat-idle-DIR"
    frames, _ = caveexpress.load(idle)
    assert [f.shape for f in frames] == [(10, 10, 4)] * 2  # the untrimmed canvas
    assert frames[0][3, 2, 0] == 10 and frames[0][3, 1, 0] == 90  # middle at (2, 3) drawn over the back layer
    assert frames[1][3, 3, 0] == 11 and frames[1][3, 2, 0] == 90 and frames[0][9, 9, 3] == 0


MAIN_SPRITES = """BobRight   0 0 0 gfx/sprites/bob1.png 8 gfx/sprites/bob2.png 8 gfx/sprites/bob3.png 8 gfx/sprites/bob2.png 8 @none@ 0
BobDeath   0 0 0 gfx/sprites/bob1.png 4 gfx/sprites/bob3.png 4 @none@ 0
Platform   0 0 0 gfx/sprites/bob1.png 60 @none@ 0

@EOF@
"""


def test_blobwars_frame_lists_black_key_padding_and_loops(tmp_path):
    game = tmp_path / blobwars.GAME_DIR
    for i, size in enumerate((5, 7, 5)):
        a = rgba(size, size, (0, 0, 0, 255))  # opaque black = the colour key
        a[size // 2, size // 2] = (60 + i, 0, 0, 255)
        save(game / f"gfx/sprites/bob{i + 1}.png", a, "RGB")
    (game / "data").mkdir(parents=True)
    (game / "data/mainSprites").write_text(MAIN_SPRITES)
    (game / "data/caves1").write_text("EMH SPRITE Spider2Left 0 0 0 gfx/sprites/bob2.png 5 "
                                      "gfx/sprites/bob1.png 5 @none@ 0\nEMH ENEMY 10 20\n")
    specs = {s.anim: s for s in blobwars.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["BobDeath", "BobRight", "Spider2Left"]  # one-frame Platform is not a sequence
    bob = specs["BobRight"]
    assert bob.loop and not specs["BobDeath"].loop and bob.fps == 7.5
    assert bob.character == "blobwars:Bob" and specs["Spider2Left"].character == "blobwars:Spider"
    frames, _ = blobwars.load(bob)
    assert [f.shape for f in frames] == [(7, 7, 4)] * 4
    assert [int(f[3, 3, 0]) for f in frames] == [60, 61, 62, 61]  # centred, in list order with repeats
    assert frames[0][0, 0, 3] == 0 and frames[1][0, 0, 3] == 0  # black is transparent, padding too
