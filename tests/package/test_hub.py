"""Saving, strict loading and pushing with the Hub mixin, on randomised weights."""

import json
import os
import re
from unittest import mock

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import still2motion
from conftest import TINY_CONFIG, random_model, sprite
from still2motion import Still2Motion, load_model


@pytest.fixture
def saved(tmp_path):
    model = random_model(seed=7)
    model.save_pretrained(tmp_path / "m")
    return model, tmp_path / "m"


def test_round_trip_restores_config_weights_and_frames(saved):
    model, path = saved
    assert {p.name for p in path.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    config = json.loads((path / "config.json").read_text())
    assert config["block_out_channels"] == list(TINY_CONFIG["block_out_channels"])
    assert all(isinstance(v, (int, float, str, bool, list)) for v in config.values())  # flat JSON
    loaded = Still2Motion.from_pretrained(path)
    assert not loaded.training
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    still = sprite(24, 32)
    fa = model.animate(still, num_frames=5, fps=10, seed=3).frames
    fb = loaded.animate(still, num_frames=5, fps=10, seed=3).frames
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(fa, fb))
    assert not np.array_equal(np.asarray(fa[0]), np.asarray(fa[2]))  # the random model really moves
    assert "still2motion" in (path / "README.md").read_text()


def test_load_model_dispatches_and_resolves_env(saved, monkeypatch):
    _, path = saved
    monkeypatch.setenv("STILL2MOTION_MODEL", str(path))
    assert isinstance(load_model(), Still2Motion)
    assert load_model(path).resolution == TINY_CONFIG["resolution"]


def test_default_model_is_a_bundled_folder():
    assert isinstance(still2motion.DEFAULT_MODEL, str)
    model = load_model(still2motion.DEFAULT_MODEL)
    assert sum(p.numel() for p in model.parameters()) <= 8_000_000


def test_pickle_only_folder_is_refused(tmp_path, saved):
    _, path = saved
    (path / "model.safetensors").unlink()
    torch.save({}, path / "pytorch_model.bin")
    with pytest.raises(ValueError, match="pickle"):
        Still2Motion.from_pretrained(path)


def test_missing_and_extra_weights_fail(saved):
    _, path = saved
    state = load_file(str(path / "model.safetensors"))
    name = next(iter(state))
    missing = {k: v for k, v in state.items() if k != name}
    save_file(missing, str(path / "model.safetensors"))
    with pytest.raises(ValueError, match="missing"):
        Still2Motion.from_pretrained(path)
    save_file({**state, "extra.weight": torch.zeros(1)}, str(path / "model.safetensors"))
    with pytest.raises(ValueError, match="extra.weight"):
        Still2Motion.from_pretrained(path)


def test_truncated_weights_fail(saved):
    _, path = saved
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read weights"):
        Still2Motion.from_pretrained(path)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"colour": 3}, "unknown key.*colour"),
        ({"num_layers": "two"}, "num_layers"),
        ({"align_corners": 1}, "align_corners"),
        ({"block_out_channels": [4, "8"]}, "block_out_channels"),
    ],
)
def test_bad_config_keys_are_named(saved, change, match):
    _, path = saved
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(ValueError, match=match):
        Still2Motion.from_pretrained(path)


def test_missing_config_key_is_named(saved):
    _, path = saved
    config = json.loads((path / "config.json").read_text())
    del config["num_harmonics"]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="missing key.*num_harmonics"):
        Still2Motion.from_pretrained(path)


def test_hub_id_offline_is_one_clear_line():
    with pytest.raises(ValueError, match="not available offline") as info:
        Still2Motion.from_pretrained("someone/not-cached-model")
    assert "\n" not in str(info.value)


def test_missing_folder_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such"):
        load_model(tmp_path / "no-such")


def test_push_to_hub_uploads_saved_files(tmp_path):
    model = random_model(seed=2)
    uploaded = {}

    def fake_upload_folder(self, *, folder_path, repo_id, **kwargs):
        uploaded.update({p.name: p.read_bytes() for p in __import__("pathlib").Path(folder_path).iterdir()})
        return mock.MagicMock(commit_url="https://example.invalid/commit")

    with mock.patch("huggingface_hub.HfApi.create_repo") as create, mock.patch(
        "huggingface_hub.HfApi.upload_folder", fake_upload_folder
    ):
        create.return_value = mock.MagicMock(repo_id="me/still2motion-test")
        model.push_to_hub("me/still2motion-test")
    assert {"config.json", "model.safetensors", "README.md"} <= set(uploaded)
    (tmp_path / "m").mkdir()
    for name, data in uploaded.items():
        (tmp_path / "m" / name).write_bytes(data)
    reloaded = Still2Motion.from_pretrained(tmp_path / "m")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reloaded.state_dict().values()))


def test_constructor_rejects_bad_geometry():
    with pytest.raises(ValueError, match="resolution"):
        Still2Motion(resolution=30, block_out_channels=(4, 8, 16))
    with pytest.raises(ValueError, match="flow_downsample"):
        Still2Motion(resolution=32, block_out_channels=(4, 8), flow_downsample=8)


def test_weights_of_another_config_fail_naming_the_shape(saved, tmp_path):
    _, path = saved
    random_model(seed=1, block_out_channels=(4, 8, 32)).save_pretrained(tmp_path / "wider")
    (path / "model.safetensors").write_bytes((tmp_path / "wider" / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"has shape .*, the config expects"):
        Still2Motion.from_pretrained(path)


def _break_config(path, change=None, drop=None):
    config = {**json.loads((path / "config.json").read_text()), **(change or {})}
    config.pop(drop, None)
    (path / "config.json").write_text(json.dumps(config))


BAD_MODELS = {  # how to break a saved model folder -> what the one-line CLI error must say
    "pickle_only": (lambda p: ((p / "model.safetensors").unlink(), torch.save({}, p / "pytorch_model.bin")), "pickle"),
    "unknown_key": (lambda p: _break_config(p, {"colour": 3}), "unknown key.*colour"),
    "missing_key": (lambda p: _break_config(p, drop="num_harmonics"), "missing key.*num_harmonics"),
    "ill_typed_key": (lambda p: _break_config(p, {"num_layers": "two"}), "num_layers"),
    "config_not_json": (lambda p: (p / "config.json").write_text("{nope"), "not valid JSON"),
    "truncated_weights": (lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:500]),
                          "cannot read weights"),
    "weights_not_safetensors": (lambda p: (p / "model.safetensors").write_bytes(b"\x80\x04K\x01."), "cannot read weights"),
    "mismatched_weights": (lambda p: _break_config(p, {"num_harmonics": 3}), "has shape"),
}


@pytest.mark.parametrize("case", [*BAD_MODELS, "hub_id_offline"])
def test_cli_bad_model_is_one_line_exit_1(case, saved, tmp_path, capsys):
    """Every broken model above through ``still2motion animate --model``: exit 1, one line, no traceback, no output."""
    from still2motion import cli

    _, path = saved
    if case == "hub_id_offline":
        model, needle = "someone/not-cached-model", "not available offline"
    else:
        breaker, needle = BAD_MODELS[case]
        breaker(path)
        model = path
    still = tmp_path / "still.png"
    sprite(24, 32).save(still)
    code = cli.main(["animate", str(still), "-o", str(tmp_path / "out.png"), "--model", str(model)])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(needle, err) and str(model) in err, err
    assert not (tmp_path / "out.png").exists()


def test_config_saved_before_motion_scale_loads_with_scale_one(saved):
    _, path = saved
    config = json.loads((path / "config.json").read_text())
    assert config.pop("motion_scale") == 1.0
    (path / "config.json").write_text(json.dumps(config))
    assert Still2Motion.from_pretrained(path).motion_scale == 1.0
    with pytest.raises(ValueError, match="motion_scale"):
        Still2Motion(motion_scale=0.0)


# issue 32, item 8: a Hub id with no network is one line at once, not five retries over 25 s


@pytest.mark.parametrize("offline_flag", [False, True])
def test_a_hub_id_without_network_fails_in_one_line_without_retries(offline_flag, tmp_path, capsys, monkeypatch):
    import socket

    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError

    from still2motion import cli, hub

    probes, downloads = [], []

    def no_network(address, timeout=None):
        probes.append(address)
        raise OSError("Name or service not known")

    def download(**kwargs):  # the cache holds nothing; any request that would use the network fails the test
        downloads.append(kwargs)
        if not kwargs.get("local_files_only"):
            pytest.fail("a network download was attempted (it would retry for ~25 s)")
        raise LocalEntryNotFoundError("not in the cache")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline_flag)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(hub, "hf_hub_download", download)
    still = tmp_path / "still.png"
    sprite(24, 32).save(still)
    code = cli.main(["animate", str(still), "-o", str(tmp_path / "out.png"), "--model", "someone/missing"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "'someone/missing' is not available offline" in err and "not in the local Hugging Face cache" in err
    assert ("HF_HUB_OFFLINE" in err) == offline_flag and ("huggingface.co cannot be reached" in err) != offline_flag
    assert len(probes) == (0 if offline_flag else 1) and len(downloads) == 1  # one probe, one cache look-up
    assert not (tmp_path / "out.png").exists()


def test_the_offline_error_comes_before_torch_is_imported(tmp_path):
    """The CLI's --model check reads config.json without importing torch (3 s of the 4 s this error took)."""
    import subprocess
    import sys

    still = tmp_path / "still.png"
    sprite(24, 32).save(still)
    code = ("import sys, runpy; sys.argv = ['still2motion', 'animate', sys.argv[1], '-o', sys.argv[2], '--model', "
            "'someone/missing']\ntry:\n    runpy.run_module('still2motion', run_name='__main__')\nexcept SystemExit as e:\n"
            "    print('torch' in sys.modules, e.code)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(still), str(tmp_path / "o.png")], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.stdout.split() == ["False", "1"], out
