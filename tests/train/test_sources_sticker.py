"""The sticker-shaped sources of issue 34 on synthetic fixtures made here (no third-party art): Fluent Emoji's
animated WebP (with alpha) and its npm tarball fetch (integrity, licence, safe unpacking; the network is faked),
Pachi's ``.T8`` monster rows, Blobby Volley's ``gfx.zip``, Pekka Kana 2's ``.spr`` 1.3 records, and the splits."""

import base64
import hashlib
import io
import json
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from train.data import prepare_data  # noqa: E402
from train.data.build_dataset import split_of  # noqa: E402
from train.data.sources import SOURCES, blobby, fluentemoji, npm, pachi, pekkakana2  # noqa: E402
from train.data.sources.common import NpmPackage  # noqa: E402
from train.data.sources.fetch import PACKAGES, FetchError, fetch  # noqa: E402


# ---------------------------------------------------------------------------------------------------- fixtures


def disc_frames(n: int, size: int = 64, radius: int = 10, red: int = 220) -> list[np.ndarray]:
    """``n`` RGBA frames of a disc whose x centre is ``16 + i`` (one px per frame), soft-edged alpha."""
    yy, xx = np.mgrid[:size, :size]
    frames = []
    for i in range(n):
        d = np.hypot(xx - (16 + i), yy - size // 2)
        a = np.clip((radius + 0.5 - d) * 255, 0, 255).astype(np.uint8)
        f = np.zeros((size, size, 4), np.uint8)
        f[..., 0], f[..., 1], f[..., 3] = red, 40 + 4 * i, a
        frames.append(f)
    return frames


def save_webp(path: Path, frames: list[np.ndarray], duration: int = 42) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ims = [Image.fromarray(f, "RGBA") for f in frames]
    if len(ims) == 1:
        ims[0].save(path, "WEBP", lossless=True)
    else:
        ims[0].save(path, "WEBP", save_all=True, append_images=ims[1:], duration=duration, loop=0, lossless=True)


def centre_x(frame: np.ndarray) -> float:
    a = frame[..., 3].astype(np.float64)
    return float((a.sum(0) * np.arange(frame.shape[1])).sum() / a.sum())


def emoji_tarball(tmp: Path, name: str, files: dict[str, list[np.ndarray]], license: str = "MIT") -> Path:
    """An npm-style tarball ``package/package.json`` + ``package/assets/<stem>.webp`` (+ one hostile member)."""
    stage = tmp / "stage" / name.split("/")[-1]
    for stem, frames in files.items():
        save_webp(stage / "assets" / f"{stem}.webp", frames)
    (stage / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0", "license": license}))
    tgz = tmp / "raw" / "npm" / npm.tarball_name(name, "1.0.0")
    tgz.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz, "w:gz") as tar:
        for p in sorted(stage.rglob("*")):
            if p.is_file():
                tar.add(p, arcname="package/" + p.relative_to(stage).as_posix())
        evil = tarfile.TarInfo("package/assets/../../evil.webp")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
    return tgz


def sri(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def write_meta(tgz: Path, name: str, integrity: str) -> None:
    meta = tgz.with_name(tgz.name + ".meta.json")
    meta.write_text(json.dumps({"name": name, "version": "1.0.0",
                                "dist": {"tarball": f"https://example.invalid/{tgz.name}", "integrity": integrity}}))


# ------------------------------------------------------------------------------------------------ registry


def test_registry_knows_the_sticker_sources_and_their_licences():
    assert {"fluentemoji", "pachi", "blobby", "pekkakana2"} <= set(SOURCES) == set(PACKAGES)
    assert isinstance(PACKAGES["fluentemoji"], NpmPackage) and PACKAGES["fluentemoji"].license == "MIT"
    assert PACKAGES["fluentemoji"].names == tuple(f"@lobehub/fluent-emoji-anim-{i}" for i in range(1, 5))
    assert PACKAGES["pachi"].license == PACKAGES["blobby"].license == "GPL-2.0-or-later"
    assert PACKAGES["pekkakana2"].license == "BSD-2-Clause" and not PACKAGES["pekkakana2"].training
    assert all(PACKAGES[s].training for s in ("fluentemoji", "pachi", "blobby"))
    for i in range(50):  # Pekka Kana 2 never reaches train/val/test
        assert split_of(f"pekkakana2:c{i}") in ("unseen-val", "unseen-test")


# -------------------------------------------------------------------------------------------- Fluent Emoji


def test_emoji_webp_is_subsampled_closed_shrunk_with_alpha(tmp_path):
    assets = tmp_path / "fluent-emoji-anim-1" / fluentemoji.ASSETS
    save_webp(assets / "1f600.webp", disc_frames(24))
    save_webp(assets / "1f44b.webp", disc_frames(6))
    save_webp(assets / "1f44b-1f3fd.webp", disc_frames(6))
    save_webp(assets / "1f4a9.webp", disc_frames(1))  # a still: skipped
    (assets / "README.webp").write_bytes(b"not codepoints")
    specs = {s.anim: s for s in fluentemoji.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["1f44b", "1f44b-1f3fd", "1f600"]
    assert specs["1f44b-1f3fd"].character == specs["1f44b"].character == "fluentemoji:1f44b"
    assert specs["1f600"].source_path == "@lobehub/fluent-emoji-anim-1/package/assets/1f600.webp"
    assert specs["1f600"].fps == pytest.approx(1000 / 42 * 12 / 24, abs=1e-3)
    frames, md5 = fluentemoji.load(specs["1f600"])
    assert len(frames) == 12 and len({f.shape for f in frames}) == 1
    assert frames[0].shape[0] < 32  # 64 px canvas halved, then cropped to the disc's rows
    xs = [centre_x(f) for f in frames]  # every 2nd source frame: the disc moves 1 px per kept frame at half size
    assert np.allclose(np.diff(xs), 1.0, atol=0.15)
    alpha = np.concatenate([f[..., 3].ravel() for f in frames])
    assert alpha.min() == 0 and alpha.max() == 255 and ((alpha > 0) & (alpha < 255)).any()  # soft edge kept
    assert all((f[f[..., 3] == 0, :3] == 0).all() for f in frames)
    short, _ = fluentemoji.load(specs["1f44b"])
    assert len(short) == 6


def test_keep_indices_spread_over_the_cycle():
    assert fluentemoji.keep_indices(72) == list(range(0, 72, 6))
    k = fluentemoji.keep_indices(97)
    assert len(k) == 12 and k[0] == 0 and max(np.diff(k)) - min(np.diff(k)) <= 1 and 97 - k[-1] in (8, 9)
    assert fluentemoji.keep_indices(7) == list(range(7))
    assert fluentemoji.character_of("1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff") == "1f9d1-200d-1f91d-200d-1f9d1"


def test_npm_fetch_checks_integrity_licence_and_unpacks_safely(tmp_path, monkeypatch):
    name = "@lobehub/fluent-emoji-anim-1"
    pkg = NpmPackage((name,), "1.0.0", ("package/assets/*.webp", "package/package.json"), "MIT")
    tgz = emoji_tarball(tmp_path, name, {"1f600": disc_frames(4)})
    good = sri(tgz)
    data = tgz.read_bytes()
    tgz.unlink()
    calls = []

    def fake_get(url):
        calls.append(url)
        return json.dumps({"dist": {"tarball": "https://registry.example/t.tgz", "integrity": good}}).encode()

    monkeypatch.setattr(npm, "_get", fake_get)
    monkeypatch.setattr(npm, "_download", lambda url, dest: dest.write_bytes(data))
    raw = tmp_path / "raw"
    root, source = npm.fetch_npm(pkg, raw, "fluentemoji")
    assert source == f"npm:{name}@1.0.0"
    assert calls == ["https://registry.npmjs.org/@lobehub%2Ffluent-emoji-anim-1/1.0.0"]
    assert (root / "fluent-emoji-anim-1/package/assets/1f600.webp").is_file()
    assert not list(tmp_path.rglob("evil.webp"))  # the ``..`` member is never written
    # a re-run is offline: metadata from the cache beside the tarball, extraction from the marker
    monkeypatch.setattr(npm, "_get", lambda url: pytest.fail("metadata fetched twice"))
    assert npm.fetch_npm(pkg, raw, "fluentemoji") == (root, source)
    # a tampered tarball fails the check and is removed
    tgz.write_bytes(data[:-10] + b"0123456789")
    with pytest.raises(npm.NpmFetchError, match="does not match the registry"):
        npm.download(name, "1.0.0", raw)
    assert not tgz.exists()


def test_npm_licence_mismatch_and_bad_integrity_are_clear_errors(tmp_path):
    name = "@x/y"
    tgz = emoji_tarball(tmp_path, name, {"1f600": disc_frames(2)}, license="CC-BY-NC-4.0")
    with pytest.raises(npm.NpmFetchError, match="states licence 'CC-BY-NC-4.0', expected 'MIT'"):
        npm.extract(tgz, ("package/assets/*.webp",), tmp_path / "out", "MIT")
    with pytest.raises(npm.NpmFetchError, match="unsupported integrity"):
        npm.check_integrity(tgz, "sha1-abc")


def test_fetch_wraps_npm_errors_in_fetch_error(tmp_path, monkeypatch):
    def offline(url):
        raise OSError("network unreachable")

    monkeypatch.setattr(npm, "_get", offline)
    with pytest.raises(FetchError, match="metadata for @lobehub/fluent-emoji-anim-1@1.0.0 not readable"):
        fetch("fluentemoji", tmp_path)


# ---------------------------------------------------------------------------------------------------- Pachi


def write_t8(path: Path, rgb: np.ndarray) -> None:
    """A ``.T8`` of ``rgb`` (at most 256 colours): magic, big-endian size, 768-byte palette, indices."""
    colors, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    palette = np.zeros((256, 3), np.uint8)
    palette[: len(colors)] = colors
    h, w = rgb.shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pachi.MAGIC + struct.pack(">HH", w, h) + palette.tobytes() + index.astype(np.uint8).tobytes())


def test_pachi_rows_cycles_and_key(tmp_path):
    c = pachi.CELL
    sheet = np.zeros((3 * c, 12 * c, 3), np.uint8)
    sheet[:] = pachi.KEY
    for i in range(6):  # row 1: an asymmetric blob walking right, then its mirror image
        sheet[c + 10 : c + 20, 5 + 3 * i : 15 + 3 * i] = (200, 30, 30)
        sheet[c + 10, 5 + 3 * i] = (10, 10, 10)
    sheet[c : 2 * c, 6 * c :] = np.concatenate([sheet[c : 2 * c, k * c : (k + 1) * c][:, ::-1] for k in range(6)], 1)
    for i in range(12):  # row 2: a bar turning once around over all 12 cells
        y = c * 2 + 24 + int(round(10 * np.sin(2 * np.pi * i / 12)))
        x = i * c + 24 + int(round(10 * np.cos(2 * np.pi * i / 12)))
        sheet[y - 3 : y + 3, x - 3 : x + 3] = (30, 30, 200 - 5 * i)
    write_t8(tmp_path / pachi.MONSTERS, sheet)
    specs = pachi.find_sequences(tmp_path, "x")
    assert [(s.params["row"], s.params["cycle"]) for s in specs] == [(1, "mirror"), (2, "whole row closes better")]
    assert specs[0].character == "pachi:monsters/row01" and specs[0].loop
    frames, _ = pachi.load(specs[0])
    assert len(frames) == 6 and frames[0].shape == (c, c, 4)
    assert frames[0][0, 0, 3] == 0 and frames[0][15, 10, 3] == 255  # key out, blob in
    assert len(pachi.load(specs[1])[0]) == 12
    (tmp_path / "bad.T8").write_bytes(b"NOPE00" + b"\0" * 800)
    with pytest.raises(ValueError, match="not a T8 image"):
        pachi.read_t8(tmp_path / "bad.T8")


# ---------------------------------------------------------------------------------------------------- Blobby


def test_blobby_squash_plays_there_and_back_black_keyed(tmp_path):
    path = tmp_path / blobby.GFX_ZIP
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:
        for i in range(1, 6):
            a = np.zeros((89, 75, 3), np.uint8)
            a[40:60, 20:50] = (10 * i, 100, 100)
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, "BMP")
            z.writestr(f"gfx/blobbym{i}.bmp", buf.getvalue())
    specs = blobby.find_sequences(tmp_path, "x")
    assert [s.seq for s in specs] == ["blobby.blob#squash"]  # no ball frames in this zip
    frames, _ = blobby.load(specs[0])
    assert [int(f[50, 30, 0]) // 10 for f in frames] == [1, 2, 3, 4, 5, 4, 3, 2]
    assert frames[0][0, 0, 3] == 0 and frames[0][50, 30, 3] == 255


# ---------------------------------------------------------------------------------------------- Pekka Kana 2


def spr_bytes(image: str, n_frames: int, anims: dict[int, tuple[list[int], bool]], rect, frame_rate=5,
              color=255, version=b"1.3\0") -> bytes:
    """A ``.spr`` 1.3 file with the fields the parser reads at their struct offsets."""
    p = bytearray(pekkakana2.RECORD_SIZE)
    p[4 : 4 + len(image)] = image.encode()
    p[832] = n_frames
    for slot, (frames, loop) in anims.items():
        o = 833 + 12 * slot
        p[o : o + len(frames)] = bytes(frames)
        p[o + 10], p[o + 11] = len(frames), int(loop)
    p[1074] = frame_rate
    struct.pack_into("<4I", p, 1076, *rect)
    p[1220] = color
    return version + bytes(p)


def test_pekkakana2_spr_frames_loops_colour_and_characters(tmp_path):
    folder = tmp_path / pekkakana2.SPRITES_DIR
    folder.mkdir(parents=True)
    w, h = 200, 20  # three frames per band: x = 10, 213, 416; the 4th wraps to y + h + 3
    index = np.full((60, 640), 255, np.uint8)
    corners = [(10, 5), (213, 5), (416, 5), (10, 28)]
    for k, (x, y) in enumerate(corners):
        index[y + 2 : y + 8, x + 2 : x + 8] = 40 + k  # palette entry 40 + k
    pal = np.zeros((256, 3), np.uint8)
    pal[:, 0] = np.arange(256)
    sheet = Image.fromarray(index, "P")
    sheet.putpalette(pal.ravel().tolist())
    sheet.save(folder / "spr_test.bmp")
    anims = {0: ([1, 1, 2, 1], False),  # a blink idle: not flagged, but closed
             1: ([1, 2, 3, 4], True), 2: ([3], True), 4: ([2, 3], False),  # jump: one frame; crouch: open
             6: ([1, 2], True)}  # death never loops
    (folder / "frog1.spr").write_bytes(spr_bytes("spr_test.bmp", 4, anims, (10, 5, w, h)))
    (folder / "frog2.spr").write_bytes(spr_bytes("spr_test.bmp", 4, {1: ([1, 2, 3, 4], True)}, (10, 5, w, h),
                                                 color=64))
    (folder / "old.spr").write_bytes(spr_bytes("spr_test.bmp", 4, anims, (10, 5, w, h), version=b"1.2\0"))
    specs = {s.anim: s for s in pekkakana2.find_sequences(tmp_path, "x")}
    assert sorted(specs) == ["frog1.idle", "frog1.walk", "frog2.walk"]
    assert {s.character for s in specs.values()} == {"pekkakana2:frog"}
    assert specs["frog1.walk"].fps == 12.0
    walk, _ = pekkakana2.load(specs["frog1.walk"])
    assert [int(f[4, 4, 0]) for f in walk] == [40, 41, 42, 43] and walk[0].shape == (h, w, 4)
    assert walk[0][0, 0, 3] == 0 and walk[0][4, 4, 3] == 255
    idle, _ = pekkakana2.load(specs["frog1.idle"])
    assert [int(f[4, 4, 0]) for f in idle] == [40, 40, 41]  # closing repeat dropped
    tinted, _ = pekkakana2.load(specs["frog2.walk"])
    assert [int(f[4, 4, 0]) for f in tinted] == [40 % 32 + 64 + k for k in range(4)]


# --------------------------------------------------------------------------- prepare end to end (offline)


def test_prepare_splits_keep_tone_variants_together_and_pekka_unseen(tmp_path, monkeypatch, capsys):
    raw, out = tmp_path / "raw", tmp_path / "data"
    name = "@lobehub/fluent-emoji-anim-1"
    monkeypatch.setattr(fluentemoji, "PACKAGE", NpmPackage((name,), "1.0.0", fluentemoji.PACKAGE.members, "MIT"))
    monkeypatch.setitem(PACKAGES, "fluentemoji", fluentemoji.PACKAGE)
    bases = [f"1f{600 + i:03x}" for i in range(8)]
    files = {b: disc_frames(8 + i) for i, b in enumerate(bases)}
    files |= {f"{b}-{tone}": disc_frames(8 + i, red=red) for i, b in enumerate(bases)
              for tone, red in (("1f3fb", 120), ("1f3ff", 60))}  # same motion, another colour
    tgz = emoji_tarball(tmp_path, name, files)
    write_meta(tgz, name, sri(tgz))
    folder = raw / "pekkakana2" / pekkakana2.SPRITES_DIR
    folder.mkdir(parents=True)
    index = np.full((40, 640), 255, np.uint8)
    for k in range(4):
        index[5:12, 3 + 23 * k + k : 10 + 23 * k + k] = 30 + 10 * k
    sheet = Image.fromarray(index, "P")
    sheet.putpalette(list(range(256)) * 3)
    sheet.save(folder / "s.bmp")
    for i in range(6):
        (folder / f"animal{chr(97 + i)}.spr").write_bytes(
            spr_bytes("s.bmp", 4, {1: ([1, 2, 3, 4], True)}, (1 + 0 * i, 1, 23, 20), color=32 * (i % 4)))
    deb = raw / f"{PACKAGES['pekkakana2'].name}_1.2.7-1_all.deb"
    deb.write_bytes(b"")
    (raw / "pekkakana2" / f".extracted-{deb.name}").write_text("")
    argv = ["--out", str(out), "--raw", str(raw), "--sources", "fluentemoji,pekkakana2", "--workers", "1",
            "--min_motion", "0", "--max_seam", "0"]
    assert prepare_data.main(argv) == 0
    lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    emoji = [ln for ln in lines if ln["character"].startswith("fluentemoji:")]
    assert len(emoji) == 24 and len({ln["character"] for ln in emoji}) == 8
    assert all(ln["license"] == "MIT" and ln["source"] == f"npm:{name}@1.0.0" for ln in emoji)
    splits: dict[str, set] = {}
    for ln in emoji:
        splits.setdefault(ln["character"], set()).add(ln["split"])
    assert all(len(s) == 1 for s in splits.values())  # tone variants never across splits
    assert {s for v in splits.values() for s in v} <= {"train", "val", "test"}
    pekka = [ln for ln in lines if ln["character"].startswith("pekkakana2:")]
    assert pekka and all(ln["split"] in ("unseen-val", "unseen-test") for ln in pekka)
    assert all(ln["license"] == "BSD-2-Clause" and ln["source"] == "debian:pekka-kana-2-data=1.2.7-1" for ln in pekka)


@pytest.mark.parametrize("split", ["unseen-val", "unseen-test"])
def test_evaluate_runs_on_pekkakana2_unseen_splits(tmp_path, split):
    from test_evaluate import write_circling_root

    from train.evaluate.evaluate import main

    root = write_circling_root(tmp_path / "data", [
        {"seq": seq, "split": sp, "source": "debian:pekka-kana-2-data=1.2.7-1", "character": ch,
         "anim": seq.split("#")[1], "fps": 12, "n_frames": n, "size": [20, 16], "loop": True}
        for seq, sp, ch, n in [("pekkakana2.frog#frog1.walk", "unseen-val", "pekkakana2:frog", 4),
                               ("pekkakana2.pig#pig.idle", "unseen-test", "pekkakana2:pig", 6),
                               ("supertux.a#walk", "unseen-val", "supertux:a", 4),
                               ("toy.b#walk", "train", "toy:b", 4)]])
    out = tmp_path / "out"
    argv = ["--data_dir", str(root), "--split", split, "--sources", "pekkakana2", "--baseline", "static",
            "--output_dir", str(out), "--contact_sheets", "0", "--bootstrap", "20"]
    assert main(argv) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["n"] == 1 and report["sources"] == ["pekkakana2"]
    expected = "pekkakana2.frog#frog1.walk" if split == "unseen-val" else "pekkakana2.pig#pig.idle"
    assert [it["seq"] for it in report["rows"]["static"]["items"]] == [expected]


def test_style_stats_none_changes_nothing_strong_does(tmp_path):
    from test_evaluate import write_circling_root

    from train.data import style_stats

    root = write_circling_root(tmp_path / "data", [
        {"seq": f"fluentemoji.c{i}#c{i}", "split": "train", "source": "npm:x@1", "character": f"fluentemoji:c{i}",
         "anim": f"c{i}", "fps": 8, "n_frames": 4, "size": [20, 16], "loop": True} for i in range(12)])
    rows = style_stats.measure(root, "fluentemoji", items=12, resolution=32)
    assert rows["none"]["changed"] == 0 and rows["none"]["|d|"] == 0 and rows["none"]["colours"] == 1
    assert rows["strong"]["changed"] > rows["default"]["changed"] > 0 and rows["strong"]["|d|"] > 0
    assert style_stats.contact_sheet(root, ["fluentemoji"], 32, per_row=4).size == (4 * 32, 3 * 32)
    with pytest.raises(ValueError, match="no items of source 'nope'"):
        style_stats.measure(root, "nope", items=4, resolution=32)


def test_filter_compact_pack_keeps_blobs_byte_for_byte(tmp_path):
    from test_evaluate import write_circling_root

    from train.data.compact_pack import CompactPackDataset, read_header
    from train.data.pack import filter_compact_pack, write_compact_pack

    root = write_circling_root(tmp_path / "data", [
        {"seq": f"{src}.c{i}#a", "split": "train", "source": "x", "character": f"{src}:c{i}", "anim": "a", "fps": 8,
         "n_frames": 4, "size": [20, 16], "loop": True, "license": "MIT"}
        for src in ("widelands", "fluentemoji") for i in range(3)])
    full = tmp_path / "full.s2mpack"
    write_compact_pack(root, full, resolution=16, workers=1)
    old = tmp_path / "old.s2mpack"
    assert filter_compact_pack(full, old, drop={"fluentemoji"}) < full.stat().st_size
    info, _ = read_header(old)
    assert [r["seq"] for r in info["splits"]["train"]] == [f"widelands.c{i}#a" for i in range(3)]
    assert {ln["character"].split(":")[0] for ln in info["manifest"]} == {"widelands"}
    a, b = CompactPackDataset(full, augment=False), CompactPackDataset(old, augment=False)
    for j, row in enumerate(b.items):
        i = next(k for k, r in enumerate(a.items) if r["seq"] == row["seq"])
        assert all(np.array_equal(x, y) for x, y in zip(a.frames(i, [0, 1, 2, 3]), b.frames(j, [0, 1, 2, 3])))
    with pytest.raises(ValueError, match="no sequences"):
        filter_compact_pack(full, tmp_path / "none.s2mpack", sources={"nope"})
