"""Sheet exports: Godot 4 SpriteFrames (.png + .tres) and the Aseprite "array" JSON layout."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from still2motion.io import Animation, durations_for, spritesheet_layout, write_godot, write_spritesheet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

HEADER = re.compile(r'\A\[gd_resource type="SpriteFrames" load_steps=(\d+) format=3\]\n')
EXT = re.compile(r'^\[ext_resource type="Texture2D" path="([^"]+)" id="([^"]+)"\]$', re.M)
ATLAS = re.compile(
    r'^\[sub_resource type="AtlasTexture" id="([^"]+)"\]\natlas = ExtResource\("([^"]+)"\)\n'
    r"region = Rect2\((\d+), (\d+), (\d+), (\d+)\)$", re.M)
FRAME = re.compile(r'\{\n"duration": ([0-9.]+),\n"texture": SubResource\("([^"]+)"\)\n\}')


def _shifted(name: str, n: int) -> list[np.ndarray]:
    """An example sprite shifted one pixel further right in each frame (wrapping): n distinct frames."""
    base = np.asarray(Image.open(EXAMPLES / name).convert("RGBA"))
    return [np.ascontiguousarray(np.roll(base, i, axis=1)) for i in range(n)]


def _parse(text: str) -> dict:
    header = HEADER.match(text)
    assert header, text[:80]
    (image, ext_id), = EXT.findall(text)
    atlases = ATLAS.findall(text)
    resource = text[text.index("[resource]\n"):]
    return {
        "load_steps": int(header.group(1)), "image": image, "ext_id": ext_id,
        "regions": {sid: tuple(map(int, r)) for sid, atlas, *r in atlases if atlas == ext_id},
        "animations": resource.count('"name": &'),
        "loop": re.findall(r'"loop": (\w+)', resource),
        "speed": [float(s) for s in re.findall(r'"speed": ([0-9.]+)', resource)],
        "frames": [(float(d), sid) for d, sid in FRAME.findall(resource)],
    }


def test_godot_tres_matches_the_hand_checked_fixture(tmp_path):
    frames = [np.full((6, 8, 4), (i * 40, 0, 0, 255), np.uint8) for i in range(5)]
    png = write_godot(frames, durations_for(5, 12), tmp_path / "walk.png", fps=12)
    text = (tmp_path / "walk.tres").read_text()
    assert text == (FIXTURES / "godot_walk.tres").read_text()
    tres = _parse(text)
    assert tres["load_steps"] == 5 + 2 and tres["image"] == png.name == "walk.png"
    assert tres["animations"] == 1 and tres["loop"] == ["true"] and tres["speed"] == [12.0]
    assert [sid for _, sid in tres["frames"]] == list(tres["regions"]) and len(tres["regions"]) == 5
    assert list(tres["regions"].values()) == [(0, 0, 8, 6), (8, 0, 8, 6), (16, 0, 8, 6), (0, 6, 8, 6), (8, 6, 8, 6)]


@pytest.mark.parametrize("n, fps", [(8, 10), (10, 7.5)])
def test_godot_regions_cut_the_png_grid_into_the_frames(tmp_path, n, fps):
    frames = _shifted("robot_idle.png", n)
    durations = durations_for(n, fps)
    png = write_godot(frames, durations, tmp_path / "robot.png", fps=fps)
    sheet = np.asarray(Image.open(png).convert("RGBA"))
    tres = _parse((tmp_path / "robot.tres").read_text())
    assert tres["animations"] == 1 and tres["loop"] == ["true"] and tres["speed"] == [fps]
    assert len(tres["frames"]) == n and all(d == 1.0 for d, _ in tres["frames"])  # evenly spaced at fps
    cols, rows = spritesheet_layout(n)
    h, w = frames[0].shape[:2]
    assert sheet.shape[:2] == (rows * h, cols * w)
    for i, ((_, sid), frame) in enumerate(zip(tres["frames"], frames)):
        x, y, rw, rh = tres["regions"][sid]
        assert (x, y, rw, rh) == ((i % cols) * w, (i // cols) * h, w, h)
        np.testing.assert_array_equal(sheet[y : y + rh, x : x + rw], frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["robot.png", "robot.tres"]


def test_godot_uneven_durations_keep_each_frame_time(tmp_path):
    write_godot(_shifted("zombie_idle.png", 3), [100, 250, 150], tmp_path / "z.png", fps=10)
    tres = _parse((tmp_path / "z.tres").read_text())
    relative = [d for d, _ in tres["frames"]]
    assert relative == [1.0, 2.5, 1.5] and sum(relative) / tres["speed"][0] == pytest.approx(0.5)


def test_godot_errors_write_nothing(tmp_path):
    frames = _shifted("robot_idle.png", 2)
    with pytest.raises(ValueError, match="fps must be > 0, got 0"):
        write_godot(frames, [100, 100], tmp_path / "a.png", fps=0)
    with pytest.raises(ValueError, match="must be the PNG, not the .tres"):
        write_godot(frames, [100, 100], tmp_path / "a.tres", fps=10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n, fps", [(1, 10), (7, 3), (20, 12)])
def test_aseprite_array_lists_frames_in_order_with_durations_summing_to_the_loop(tmp_path, n, fps):
    frames = _shifted("femalePerson_idle.png", n)
    durations = durations_for(n, fps)
    anim = Animation([Image.fromarray(f) for f in frames], durations, fps)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    anim.save(tmp_path / "a" / "walk.png", format="spritesheet")
    anim.save(tmp_path / "b" / "walk.png", format="spritesheet", sheet_json="array")
    hashed = json.loads((tmp_path / "a" / "walk.json").read_text())
    listed = json.loads((tmp_path / "b" / "walk.json").read_text())
    assert isinstance(listed["frames"], list) and len(listed["frames"]) == n
    assert [f["filename"] for f in listed["frames"]] == [f"walk_{i:04d}.png" for i in range(n)]
    assert [{k: v for k, v in f.items() if k != "filename"} for f in listed["frames"]] == [hashed["frames"][f"walk_{i:04d}.png"] for i in range(n)]
    assert listed["meta"] == hashed["meta"] and listed["meta"]["frameTags"] == [
        {"name": "walk", "from": 0, "to": n - 1, "direction": "forward"}]
    assert sum(f["duration"] for f in listed["frames"]) == round(1000 * n / fps) == sum(durations)
    assert (tmp_path / "a" / "walk.png").read_bytes() == (tmp_path / "b" / "walk.png").read_bytes()


def test_unknown_sheet_json_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"sheet_json must be one of hash, array, got 'xml'"):
        write_spritesheet(_shifted("robot_idle.png", 2), [100, 100], tmp_path / "s.png", sheet_json="xml")
    assert list(tmp_path.iterdir()) == []
