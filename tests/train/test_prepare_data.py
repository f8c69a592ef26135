"""train/data/prepare_data.py and its source parsers, on small synthetic copies of the real package formats."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

from train.data import prepare_data  # noqa: E402
from train.data.build_dataset import split_of  # noqa: E402
from train.data.sources import flare, supertux, wesnoth, widelands  # noqa: E402
from train.data.sources.common import loop_stats  # noqa: E402
from train.data.sources.fetch import FetchError, download, PACKAGES  # noqa: E402

WL = "usr/share/games/widelands/data"
WN = "usr/share/games/wesnoth/1.16/data/core/images/units"


def cell_sheet(n: int, columns: int, rows: int, cw: int, ch: int, stray: bool = True, tag: int = 128) -> Image.Image:
    """A sheet whose cell i has an opaque block of red = 10 * (i + 1) that moves right by i pixels."""
    sheet = np.zeros((rows * ch, columns * cw, 4), np.uint8)
    sheet[..., :3] = 77  # junk colour under transparent pixels, as in the real sheets
    for i in range(columns * rows):
        r, c = divmod(i, columns)
        if i >= n and not stray:
            continue
        x0 = c * cw + (i % cw) // 2
        sheet[r * ch + 2 : r * ch + 6, x0 : x0 + 3] = (10 * (i + 1), tag, 128, 255)
    return Image.fromarray(sheet, "RGBA")


INIT_LUA = """
dirname = path.dirname(__file__)
--[[ a commented block must be ignored:
   ghost = { frames = 4, columns = 2, rows = 2 },
]]
wl.Descriptions():new_worker_type {
   name = "test_walker",
   animation_directory = dirname,
   spritesheets = {
      idle = { fps = 5, frames = 6, columns = 3, rows = 2, hotspot = { 3, 7 } },  -- trailing comment
      walk = {
         fps = 10,
         frames = 4,
         columns = 2,
         rows = 2,
         directional = true,
         hotspot = { 6, 16 }
      },
      die = { frames = 4, columns = 2, rows = 2, hotspot = { 1, 1 } },
   },
}
"""


def make_widelands(root: Path, twin: bool = False) -> Path:
    d = root / WL / "tribes/workers/testtribe/walker"
    d.mkdir(parents=True)
    (d / "init.lua").write_text(INIT_LUA)
    cell_sheet(6, 3, 2, 12, 10).save(d / "idle_1.png")
    cell_sheet(6, 3, 2, 24, 20).save(d / "idle_2.png")
    mask = np.zeros((40, 72, 4), np.uint8)
    mask[..., 0], mask[..., 3] = 255, 255  # everything is player colour
    Image.fromarray(mask, "RGBA").save(d / "idle_2_pc.png")
    for k, direction in enumerate(widelands.DIRECTIONS):
        cell_sheet(4, 2, 2, 10, 12, tag=k).save(d / f"walk_{direction}_1.png")
    cell_sheet(4, 2, 2, 10, 12).save(d / "die_1.png")
    if twin:  # a byte-identical copy elsewhere (as world/critters/wisent == barbarians/ox)
        t = root / WL / "world/critters/twin"
        t.mkdir(parents=True)
        (t / "init.lua").write_text(INIT_LUA)
        for p in d.glob("*.png"):
            (t / p.name).write_bytes(p.read_bytes())
    return d


def test_widelands_blocks_directions_scale_and_loop_names(tmp_path):
    make_widelands(tmp_path)
    specs = {s.anim: s for s in widelands.find_sequences(tmp_path, "debian:x", [2, 1])}
    assert sorted(specs) == sorted(["idle", "die"] + [f"walk_{d}" for d in widelands.DIRECTIONS])
    idle = specs["idle"]
    assert (idle.scale, idle.fps, idle.loop) == (2, 5.0, True)
    assert idle.seq == "widelands.tribes.workers.testtribe.walker#idle"
    assert idle.character == "widelands:tribes/workers/testtribe/walker"
    assert specs["walk_e"].fps == 10.0 and specs["walk_e"].scale == 1
    assert specs["die"].loop is False and specs["die"].fps == 4.0  # engine default 250 ms


def test_widelands_cuts_row_major_first_frames_only(tmp_path):
    make_widelands(tmp_path)
    walk = next(s for s in widelands.find_sequences(tmp_path, "x", [1]) if s.anim == "walk_se")
    frames, _ = widelands.load(walk)
    assert len(frames) == 4 and frames[0].shape == (12, 10, 4)
    reds = [int(f[..., 0].max()) for f in frames]
    assert reds == [10, 20, 30, 40]  # cell i = (i % columns, i // columns)
    assert (frames[0][frames[0][..., 3] == 0, :3] == 0).all()  # junk RGB under transparency cleared


def test_widelands_player_colour(tmp_path):
    make_widelands(tmp_path)
    idle = next(s for s in widelands.find_sequences(tmp_path, "x", [2, 1]) if s.anim == "idle")
    frames, _ = widelands.load(idle)
    assert frames[0].shape == (20, 24, 4) and len(frames) == 6  # stray cells are not frames
    px = frames[0][frames[0][..., 3] == 255][0, :3].astype(float)
    rgb = np.array([10, 128, 128]) / 255.0
    color = np.array(widelands.seq_rng(idle.seq).choice(widelands.PLAYER_COLORS)) / 255.0
    expected = np.rint(color * (rgb @ [0.299, 0.587, 0.114]) * 255)
    np.testing.assert_allclose(px, expected, atol=1)


def make_wesnoth(root: Path) -> Path:
    d = root / WN / "elves-wood"
    d.mkdir(parents=True)
    still = np.zeros((8, 8, 4), np.uint8)
    still[..., 3] = 255
    Image.fromarray(still, "RGBA").save(d / "archer.png")
    for i, size in zip((1, 3, 4), (10, 14, 10)):  # numbering gap and mixed sizes
        f = np.zeros((size, size, 4), np.uint8)
        f[size // 2, size // 2] = (i, 0, 0, 255)
        f[0, 0] = (0xF4, 0x9A, 0xC1, 255)  # team-colour magenta
        Image.fromarray(f, "RGBA").save(d / f"archer-idle-{i}.png")
    for i in (1, 2, 3, 4):
        f = still.copy()
        f[i, i, 0] = 200
        Image.fromarray(f, "RGBA").save(d / f"archer+female-idle-{i}.png")
        Image.fromarray(still, "RGBA").save(d / f"archer-die-{i}.png")
    return d


def test_wesnoth_grouping_gap_padding_team_colour(tmp_path):
    make_wesnoth(tmp_path)
    specs = {s.anim: s for s in wesnoth.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["archer+female-idle", "archer-die", "archer-idle"]
    assert {s.character for s in specs.values()} == {"wesnoth:elves-wood/archer"}
    assert specs["archer-idle"].seq == "wesnoth.elves-wood.archer#archer-idle"
    assert specs["archer-die"].loop is False and specs["archer-idle"].loop is True
    frames, _ = wesnoth.load(specs["archer-idle"])
    assert [f.shape for f in frames] == [(14, 14, 4)] * 3
    assert [int(f[7, 7, 0]) for f in frames] == [1, 3, 4]  # numeric order, centred
    mapping = wesnoth.recolor_map(wesnoth.MAGENTA, tuple(specs["archer-idle"].params["team"]))
    assert tuple(frames[0][2, 2, :3]) == mapping[(0xF4, 0x9A, 0xC1)]  # (0, 0) of a 10² frame padded by 2
    assert mapping[(0xF4, 0x9A, 0xC1)] != (0xF4, 0x9A, 0xC1)


FLARE_TXT = """image=images/enemies/blob.png

[stance]
frames=3
duration=600ms
type=back_forth
frame=0,0,0,0,4,4,2,4
frame=1,0,4,0,4,6,2,6
frame=2,0,8,0,6,4,3,4
frame=0,1,0,0,4,4,2,4
frame=1,1,4,0,4,6,2,6
frame=2,1,8,0,6,4,3,4

[die]
frames=2
duration=200ms
type=play_once
frame=0,0,0,0,4,4,2,4
frame=1,0,4,0,4,6,2,6
"""


def test_flare_anchor_canvas_and_ping_pong(tmp_path):
    mod = tmp_path / flare.MODS_DIR / "fantasycore"
    (mod / "animations/enemies").mkdir(parents=True)
    (mod / "images/enemies").mkdir(parents=True)
    (mod / "animations/enemies/blob.txt").write_text(FLARE_TXT)
    (mod / "animations/avatar").mkdir()
    (mod / "animations/avatar/layer.txt").write_text(FLARE_TXT)
    atlas = np.zeros((6, 14, 4), np.uint8)
    atlas[..., 3] = 255
    atlas[:, 0:4, 0], atlas[:, 4:8, 0], atlas[:, 8:14, 0] = 1, 2, 3
    Image.fromarray(atlas, "RGBA").save(mod / "images/enemies/blob.png")
    specs = {s.anim: s for s in flare.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["blob.die.d0", "blob.stance.d0", "blob.stance.d1"]  # avatar/ skipped
    st = specs["blob.stance.d0"]
    assert st.loop and not specs["blob.die.d0"].loop and st.fps == 5.0
    assert st.character == "flare:fantasycore/images/enemies/blob"
    frames, _ = flare.load(st)
    assert len(frames) == 4  # 0 1 2 1
    assert frames[0].shape == (6, 6, 4)  # left 3 + 3 right, top 6 + 0 below
    assert [int(f[5, 3, 0]) for f in frames] == [1, 2, 3, 2]  # every anchor lands on (3, 6)


SPRITE = """(supertux-sprite
 (action (name "left") (fps 12) (hitbox 1 2 3 4)
   (images "a-0.png" "a-1.png" "a-2.png" "a-3.png"))
 (action (name "right") (mirror-action "left"))
 (action (name "squished-left") (images "a-0.png" "a-1.png"))
 ; a comment (with parentheses)
 (action (name "spin") (loops 1) (images "a-0.png" "a-1.png" "a-3.png"))
)
"""


def test_supertux_actions_and_padding(tmp_path):
    d = tmp_path / supertux.IMAGES_DIR / "creatures/blob"
    d.mkdir(parents=True)
    (d / "blob.sprite").write_text(SPRITE)
    for i in range(4):
        f = np.full((10 + i, 8, 4), 255, np.uint8)
        Image.fromarray(f, "RGBA").save(d / f"a-{i}.png")
    specs = {s.anim: s for s in supertux.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["blob.left", "blob.spin", "blob.squished-left"]  # mirror skipped
    assert specs["blob.left"].loop and specs["blob.left"].fps == 12.0
    assert not specs["blob.spin"].loop and not specs["blob.squished-left"].loop
    frames, _ = supertux.load(specs["blob.left"])
    assert [f.shape for f in frames] == [(13, 8, 4)] * 4
    assert frames[0][10:, :, 3].max() == 0  # padded below, top-left anchored


def test_loop_stats():
    static = [np.full((4, 4, 4), 200, np.uint8)] * 4
    assert loop_stats(static) == (0.0, 0.0)
    ramp = [np.dstack([np.full((4, 4, 3), v, np.uint8), np.full((4, 4, 1), 255, np.uint8)]) for v in (0, 10, 20, 10)]
    energy, seam = loop_stats(ramp)
    assert energy > 0 and seam == pytest.approx(1.0)


def test_split_rule_is_sha1_of_character():
    assert split_of("widelands:tribes/workers/barbarians/carrier") == split_of(
        "widelands:tribes/workers/barbarians/carrier")
    splits = [split_of(f"x:{i}") for i in range(2000)]
    assert 0.05 < splits.count("test") / 2000 < 0.15 and 0.05 < splits.count("val") / 2000 < 0.15


def _fake_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    for source, maker in (("widelands", lambda r: make_widelands(r, twin=True)), ("wesnoth", make_wesnoth)):
        deb = raw / f"{PACKAGES[source].name}_9.9-1_all.deb"  # not the pinned version: recorded as found
        raw.mkdir(exist_ok=True)
        deb.write_bytes(b"")
        maker(raw / source)
        (raw / source / f".extracted-{deb.name}").write_text("")
    return raw


def test_prepare_end_to_end_offline(tmp_path, capsys):
    raw, out = _fake_raw(tmp_path), tmp_path / "data"
    argv = ["--out", str(out), "--raw", str(raw), "--sources", "widelands,wesnoth", "--workers", "1",
            "--min_motion", "0", "--max_seam", "0"]
    assert prepare_data.main(argv) == 0
    lines = [json.loads(ln) for ln in (out / "manifest.jsonl").read_text().splitlines()]
    seqs = {ln["seq"]: ln for ln in lines}
    # die is not a loop, the twin critter is a duplicate, wesnoth's female idle is static-but-kept (min_motion 0)
    assert not any("#die" in s or "critters.twin" in s or "archer-die" in s for s in seqs)
    assert "widelands.tribes.workers.testtribe.walker#walk_nw" in seqs
    ln = seqs["widelands.tribes.workers.testtribe.walker#idle"]
    assert set(ln) >= {"seq", "split", "source", "source_path", "character", "anim", "fps", "n_frames", "size",
                       "scale", "loop", "license"}
    assert ln["source"] == "debian:widelands-data=9.9-1" and ln["size"] == [24, 20] and ln["n_frames"] == 6
    sides: dict[str, set] = {}
    for ln in lines:
        sides.setdefault(ln["character"], set()).add(ln["split"])
        folder = out / ln["split"] / ln["seq"]
        assert sorted(p.name for p in folder.iterdir()) == [f"{i:04d}.png" for i in range(ln["n_frames"])]
        assert ln["split"] == split_of(ln["character"])
    assert all(len(s) == 1 for s in sides.values())
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        {"manifest.jsonl"} | {ln["split"] for ln in lines})
    printed = capsys.readouterr().out
    assert "duplicate: 8" in printed  # idle + 6 walks + die of the twin
    # idempotent: nothing rewritten
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    assert prepare_data.main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png")} == mtimes
    # stricter filters remove what no longer belongs
    assert prepare_data.main(argv + ["--min_frames", "5"]) == 0
    left = [json.loads(x)["seq"] for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert left == ["widelands.tribes.workers.testtribe.walker#idle"]
    assert sorted(p.name for p in out.rglob("*") if p.is_dir() and p.parent.parent == out) == [left[0]]


def test_download_without_apt_get_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(FetchError, match="apt-get not found.*widelands-data"):
        download(PACKAGES["widelands"], tmp_path)


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    import subprocess

    def fake_run(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package widelands-data")

    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr("subprocess.run", fake_run)
    with pytest.raises(FetchError, match="apt-get download widelands-data failed: E: Unable to locate"):
        download(PACKAGES["widelands"], tmp_path)
