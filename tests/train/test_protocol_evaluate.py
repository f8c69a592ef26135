"""``evaluate.py`` on the unseen-style protocol: a held-out split chosen by source, both fit ceilings, retrieval,
blind curves, several seeds and the character-bootstrap summary, end to end on tiny synthetic loops."""

import json

import pytest

from conftest import TY, hand_set_model
from _train_data import write_circling_root
from train.fit import coherent_fit, fit_motion
from train.evaluate.evaluate import main
from train.data.sequences import list_sequences

# (seq, split, character, frames)
SEQUENCES = [
    ("toy.a#walk", "train", "toy:a", 4),
    ("toy.b#run", "train", "toy:b", 6),
    ("tux.c#walk", "unseen-val", "supertux:c", 4),
    ("tux.c#idle", "unseen-val", "supertux:c", 6),
    ("tux.d#walk", "unseen-val", "supertux:d", 5),
    ("toy.e#walk", "val", "toy:e", 4),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_circling_root(tmp_path_factory.mktemp("data"), [
        {"seq": seq, "split": split, "character": character, "fps": 8, "n_frames": n}
        for seq, split, character, n in SEQUENCES])


@pytest.fixture(scope="module")
def fits(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("fits")
    common = ["--data_dir", str(root), "--steps", "20", "--batch_size", "8"]
    assert fit_motion.main([*common, "--split", "unseen-val", "--output", str(out / "today.safetensors"),
                            "--flow_size", "4", "--mask_size", "4"]) == 0
    assert coherent_fit.main([*common, "--split", "unseen-val", "--output", str(out / "coherent.safetensors")]) == 0
    assert coherent_fit.main([*common, "--split", "train", "--output", str(out / "bank.safetensors")]) == 0
    return out


def test_unseen_split_is_found_through_the_manifest(root):
    seqs = list_sequences(root, "unseen-val")
    assert [s.seq for s in seqs] == ["tux.c#idle", "tux.c#walk", "tux.d#walk"]
    assert {s.character for s in seqs} == {"supertux:c", "supertux:d"} and {s.source for s in seqs} == {"supertux"}


def test_protocol_rows_end_to_end(root, fits, tmp_path):
    model = tmp_path / "sway"
    hand_set_model({(TY, 1, "b"): 0.1}).save_pretrained(model)
    out = tmp_path / "out"
    argv = ["--model", str(model), "--data_dir", str(root), "--split", "unseen-val", "--sources", "supertux",
            "--output_dir", str(out), "--baseline", "static", "--baseline", "ceiling:today",
            "--fits", str(fits / "today.safetensors"), "--baseline", "ceiling:coherent",
            "--coherent_fits", str(fits / "coherent.safetensors"), "--baseline", "retrieval",
            "--bank", str(fits / "bank.safetensors"), "--baseline", "blind:bob", "--amplitudes", "0.02,0.1",
            "--seeds", "2", "--bootstrap", "50", "--contact_sheets", "0"]
    assert main(argv) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["n"] == 3 and report["sources"] == ["supertux"]
    assert list(report["rows"]) == ["sway", "static", "ceiling:today", "ceiling:coherent", "retrieval",
                                    "blind:bob@0.02", "blind:bob@0.1"]
    sway = report["rows"]["sway"]["items"]
    assert all(it["best_phase_l1"] <= it["phase_l1"] + 1e-12 and it["diversity"] >= 0 for it in sway)
    assert {it["character"] for it in sway} == {"supertux:c", "supertux:d"}
    assert all(it["kind"] in ("warp", "swap") for it in sway)
    assert {it["motion_from"] for it in report["rows"]["retrieval"]["items"]} <= {"toy.a#walk", "toy.b#run"}
    static = report["rows"]["static"]["overall"]["phase_l1"]["mean"]
    assert report["rows"]["ceiling:coherent"]["overall"]["phase_l1"]["mean"] < static  # the fit follows the square
    assert report["rows"]["blind:bob@0.1"]["blind"] == {"preset": "bob", "amplitude": 0.1}
    protocol = report["protocol"]
    assert protocol["groups"]["all"] == {"n": 3, "characters": 2}
    assert set(protocol["rows"]["sway"]["all"]) >= {"phase_l1", "alive", "best_phase_l1", "diversity",
                                                    "beats_static", "gap_closed"}
    assert set(protocol["blind"]["sway"]["bob"]["all"]) == {"curve", "curve_l1", "margin", "below"}
    markdown = (out / "metrics.md").read_text()
    assert "## Protocol summary" in markdown and "### all (3 loops, 2 characters)" in markdown


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--baseline", "ceiling:coherent"], "needs --coherent_fits"),
        (["--baseline", "retrieval"], "needs --bank"),
        (["--baseline", "static", "--sources", "nope"], "from sources nope"),
        (["--baseline", "static", "--seeds", "0"], "--seeds must be >= 1"),
    ],
)
def test_protocol_errors_are_one_line(root, tmp_path, capsys, extra, message):
    argv = ["--data_dir", str(root), "--split", "unseen-val", "--output_dir", str(tmp_path / "o"), *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_unknown_blind_preset_names_the_value(root, tmp_path, capsys):
    argv = ["--data_dir", str(root), "--split", "unseen-val", "--output_dir", str(tmp_path / "o"),
            "--baseline", "blind:twirl"]
    assert main(argv) == 1
    assert "unknown preset 'twirl'" in capsys.readouterr().err


def test_coherent_fit_shards_split_the_loops_and_are_read_together(root, fits, tmp_path):
    from train.fit.loop_kinds import loop_kinds
    from train.fit.motion_targets import MotionTargets

    common = ["--data_dir", str(root), "--steps", "2", "--batch_size", "8", "--split", "unseen-val"]
    parts = [tmp_path / f"shard{k}.safetensors" for k in range(2)]
    for k, part in enumerate(parts):
        assert coherent_fit.main([*common, "--shard", f"{k}/2", "--output", str(part)]) == 0
    seqs = [MotionTargets(p).seqs for p in parts]
    assert [len(s) for s in seqs] == [2, 1] and not set(seqs[0]) & set(seqs[1])  # every 2nd loop from the K-th
    assert set(loop_kinds(*parts)) == set(MotionTargets(fits / "coherent.safetensors").seqs)
    with pytest.raises(SystemExit):
        coherent_fit.main([*common, "--shard", "2/2", "--output", str(tmp_path / "bad.safetensors")])
