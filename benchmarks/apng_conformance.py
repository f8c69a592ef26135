"""Checks `read_animation` against Pillow's APNG edge-case files (not a test; the files come from the Pillow 12.0.0 sdist, Tests/images/apng/).

Get the files once (47 MB sdist, needs PyPI):
    pip download --no-deps --no-binary :all: pillow==12.0.0 -d /tmp/raw
    tar -xzf /tmp/raw/pillow-12.0.0.tar.gz -C /tmp/raw --wildcards 'pillow-12.0.0/Tests/images/apng/*'
Run:
    python benchmarks/apng_conformance.py /tmp/raw/pillow-12.0.0/Tests/images/apng
Expectations follow Pillow's Tests/test_file_apng.py (philip.html5.org's APNG tests: green = pass), shifted by
one frame where Pillow counts the default image as frame 0, and spec-correct where Pillow is not (noted below).
"""

import sys
from pathlib import Path

from still2motion.io import read_animation

GREEN, RED, CLEAR = (0, 255, 0, 255), (255, 0, 0, 255), (0, 0, 0, 0)
LAST_GREEN = ["split_fdat", "split_fdat_zero_chunk", "fctl_actl", "dispose_op_none", "dispose_op_none_region",
              "dispose_op_background_final", "dispose_op_background_p_mode", "dispose_op_previous",
              "dispose_op_previous_region", "dispose_op_previous_final", "blend_op_source_solid", "blend_op_over"]
LAST_CLEAR = ["dispose_op_background", "dispose_op_background_before_region", "dispose_op_previous_first",
              "blend_op_source_transparent"]
BROKEN = ["chunk_no_fctl", "chunk_repeat_fctl", "chunk_no_fdat", "sequence_start", "sequence_gap", "sequence_repeat",
          "sequence_repeat_chunk", "sequence_reorder", "sequence_reorder_chunk", "sequence_fdat_fctl",
          "syntax_num_frames_high"]
STILL = ["chunk_no_actl", "chunk_actl_after_idat", "chunk_multi_actl", "syntax_num_frames_invalid",
         "syntax_num_frames_zero_default"]


def check(folder: Path) -> int:
    failures = 0

    def report(name: str, ok: bool, detail: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name:40s} {detail}")

    def px(name, xy=(0, 0), index=-1):
        anim = read_animation(folder / f"{name}.png")
        return tuple(int(v) for v in anim.frames[index][xy[1], xy[0]]), anim

    for name in LAST_GREEN:
        got, anim = px(name, (0, 0) if "p_mode" not in name else (64, 32))
        if "p_mode" in name:
            report(name, anim.frames[-1].shape[:2] == (64, 128), f"size {anim.frames[-1].shape[1]}x{anim.frames[-1].shape[0]}")
        else:
            report(name, got == GREEN, f"last frame (0,0) {got}")
    for name in LAST_CLEAR:
        got, _ = px(name)
        report(name, got == CLEAR, f"last frame (0,0) {got}")
    got, anim = px("dispose_op_background_region")
    centre = tuple(int(v) for v in anim.frames[-1][32, 64])
    report("dispose_op_background_region", got == (0, 0, 255, 255) and centre == CLEAR, f"(0,0) {got}, centre {centre}")
    got, _ = px("dispose_op_previous_frame")
    report("dispose_op_previous_frame", got == RED, f"(0,0) {got}")
    got, _ = px("blend_op_source_near_transparent")
    report("blend_op_source_near_transparent", got[3] == 2, f"(0,0) {got}")
    got, anim = px("blend_op_over_near_transparent")
    # 128 frames of alpha-2 green OVER opaque green: the spec's "over" keeps alpha 255. Pillow 12 reports 129 frames
    # (its frame 0 is the default image) and alpha 97, because it pastes with the frame as mask, which also blends alpha.
    report("blend_op_over_near_transparent", len(anim.frames) == 128 and got == GREEN, f"{len(anim.frames)} frames, (0,0) {got}")
    for name, n in [("single_frame", 1), ("single_frame_default", 1)]:
        anim = read_animation(folder / f"{name}.png")
        report(name, len(anim.frames) == n and tuple(anim.frames[0][0, 0]) == GREEN, f"{len(anim.frames)} frames, {tuple(anim.frames[0][0, 0])} (default image excluded)")
    for name, want in [("delay", [500, 1000, 500, 1000]), ("delay_zero_numer", None), ("different_durations", [4000, 1000])]:
        anim = read_animation(folder / f"{name}.png")
        ok = anim.durations_ms[: len(want)] == want if want else 0 in anim.durations_ms
        report(name, ok, f"durations {anim.durations_ms[:6]}")
    for name, loop in [("num_plays", 0), ("num_plays_1", 1)]:
        report(name, read_animation(folder / f"{name}.png").loop == loop, f"loop {read_animation(folder / f'{name}.png').loop}")
    for name in ["mode_16bit", "mode_grayscale", "mode_grayscale_alpha", "mode_palette", "mode_palette_alpha", "mode_palette_1bit_alpha"]:
        anim = read_animation(folder / f"{name}.png")
        report(name, anim.frames[0].dtype.name == "uint8" and anim.frames[0].shape[2] == 4, f"{len(anim.frames)} frames, (0,0) {tuple(int(v) for v in anim.frames[-1][0, 0])}")
    for name in STILL:
        anim = read_animation(folder / f"{name}.png")
        report(name, len(anim.frames) == 1, f"{len(anim.frames)} frame(s): read as a still")
    for name in BROKEN:
        try:
            anim = read_animation(folder / f"{name}.png")
            report(name, False, f"read {len(anim.frames)} frames, expected an error")
        except ValueError as exc:
            report(name, True, f"ValueError: {exc}")
    print(f"{failures} failure(s)")
    return failures


if __name__ == "__main__":
    sys.exit(1 if check(Path(sys.argv[1])) else 0)
