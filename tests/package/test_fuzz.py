"""The fuzz harnesses (fuzz/): their contract checks, the stored findings replayed, and a short coverage-guided smoke
run of every harness under atheris, so that a harness that rots fails here."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fuzz import harnesses
from fuzz.harnesses import HARNESSES, ContractError
from fuzz.seeds import corpus
from still2motion import read_animation, read_image
from still2motion.io import load_image

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = sorted((ROOT / "tests" / "fixtures" / "fuzz").glob("*/*"))


def test_contract_refuses_a_multi_line_error_and_lets_other_exceptions_through():
    def multi_line():
        raise ValueError("first\nsecond")

    def key_error():
        raise KeyError("x")

    with pytest.raises(ContractError, match="one-line"):
        harnesses._call(multi_line)
    with pytest.raises(KeyError):
        harnesses._call(key_error)
    assert harnesses._call(lambda: (_ for _ in ()).throw(ValueError("one line"))) is None


def test_harness_checks_the_result_not_only_the_exceptions(monkeypatch):
    """A decoder that returned frames of two shapes would be a finding."""
    from still2motion.io import apng_decode
    from still2motion.io.types import AnimationData

    monkeypatch.setattr(apng_decode, "decode_apng", lambda *a, **k: (
        AnimationData([np.zeros((2, 2, 4), np.uint8), np.zeros((2, 3, 4), np.uint8)], [10, 10], 0), 2))
    with pytest.raises(ContractError, match="one shape"):
        harnesses.apng(b"anything")


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_every_seed_passes_its_harness(name):
    seeds = corpus(name)
    assert len(seeds) >= 6
    for data in seeds.values():
        HARNESSES[name](data)


def test_crc_fixing_makes_a_mutated_chunk_parse():
    from still2motion.io.png_chunks import PNGFormatError, iter_chunks

    png = bytearray(corpus("png_chunks")["rgba.png"])
    png[16 + 3] ^= 1  # the IHDR width: its CRC no longer matches
    with pytest.raises(PNGFormatError, match="bad CRC"):
        list(iter_chunks(bytes(png)))
    assert list(iter_chunks(harnesses.with_fixed_crcs(bytes(png))))[0].type == b"IHDR"


@pytest.mark.parametrize("path", FINDINGS, ids=[f"{p.parent.name}/{p.name}" for p in FINDINGS])
def test_stored_finding_replays_clean(path):
    """Each file under tests/fixtures/fuzz/HARNESS/ once broke that harness's contract; it must hold now."""
    assert path.parent.name in HARNESSES, f"{path}: the folder must be a harness name"
    assert path.stat().st_size <= 4096, f"{path}: store minimised findings (a few KB at most)"
    HARNESSES[path.parent.name](path.read_bytes())


def test_gif_frame_outside_its_screen_is_read_and_animated_at_one_size(tmp_path, model):
    """Finding (e2e): a GIF whose logical screen is 8x8 but whose frame reaches row 63. The decoder grows the canvas
    to 8x63; the header check said 8x8, so animate() squeezed the 8x63 picture into 8x8 frames."""
    path = tmp_path / "tall.gif"
    path.write_bytes((ROOT / "tests/fixtures/fuzz/e2e/gif_frame_below_screen.gif").read_bytes())
    still = read_image(path).image
    assert still.size == (8, 63)
    assert load_image(path).size == still.size
    with pytest.raises(ValueError, match="GIF frame 1: "):  # its second frame's LZW data is broken
        read_animation(path)
    anim = model.animate(path, num_frames=2, seed=0, motion="bob")  # (auto refuses to move this opaque 8-px strip)
    assert anim.frames[0].size == still.size
    assert np.array_equal(np.asarray(anim.frames[0]), np.asarray(still))  # frame 0 is the input, not a squeezed copy


def test_gif_frame_outside_its_screen_counts_against_the_pixel_limit(tmp_path):
    """The grown canvas, not the declared screen, is what the pixel limit applies to, before any pixel is decoded."""
    path = tmp_path / "tall.gif"
    path.write_bytes((ROOT / "tests/fixtures/fuzz/e2e/gif_frame_below_screen.gif").read_bytes())
    with pytest.raises(ValueError, match=r"8x63 = 504 pixels, more than the limit of 100"):
        load_image(path, max_pixels=100)


def test_fuzz_smoke_every_harness_runs_under_atheris(tmp_path):
    """Every harness, coverage-guided, for a few seconds from its seeds (about 40 s in all): it starts, executes
    inputs, finds coverage and no contract break."""
    pytest.importorskip("atheris", reason="atheris has wheels for Linux x86_64 only (requirements.txt)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "STILL2MOTION_FUZZ_FINDINGS": str(tmp_path / "findings")}
    seconds = {"e2e": 8}
    for name in sorted(HARNESSES):
        seeds = tmp_path / name
        for file_name, data in corpus(name).items():
            (seeds / file_name).parent.mkdir(exist_ok=True)
            (seeds / file_name).write_bytes(data)
        run = subprocess.run(
            [sys.executable, "-m", "fuzz", name, str(seeds), f"-max_total_time={seconds.get(name, 4)}", "-timeout=2",
             "-rss_limit_mb=1024", "-print_final_stats=1", f"-artifact_prefix={tmp_path}/"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )
        log = run.stderr + run.stdout
        assert run.returncode == 0, f"{name}: {log[-3000:]}"
        executed = int(re.search(r"stat::number_of_executed_units: (\d+)", log).group(1))
        edges = [int(c) for c in re.findall(r"cov: (\d+)", log)]
        assert executed >= 100 and edges and max(edges) >= 20, f"{name}: {executed} inputs, coverage {edges[-1:]}"
