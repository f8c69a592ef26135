"""Shared fixtures: offline Hub, tiny models with hand-set or random motion, synthetic images."""

import contextlib
import importlib.util
import os
import socket
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported anywhere
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from still2motion import Still2Motion  # noqa: E402

TINY_CONFIG = {"resolution": 32, "block_out_channels": (4, 8, 16), "num_layers": 2, "num_harmonics": 2, "flow_downsample": 4, "noise_dim": 4}

# indices into the 6 entries of theta - I (row-major 2 x 3)
A, B, TX, C, D, TY = range(6)


def hand_set_model(coeffs: dict | None = None, flow_bias: float = 0.0, **config) -> Still2Motion:
    """A model whose motion is the same for every input: the affine head's bias holds the coefficients.

    ``coeffs`` maps ``(param, harmonic m (1-based), "a" | "b")`` to a value, applied to every layer.
    """
    model = Still2Motion(**{**TINY_CONFIG, **config}).eval()
    K, M = model.num_layers, model.num_harmonics
    bias = torch.zeros(K, 6, M, 2)
    for (param, m, ab), value in (coeffs or {}).items():
        bias[:, param, m - 1, 0 if ab == "a" else 1] = value
    with torch.no_grad():
        model.affine_head[-1].bias.copy_(bias.flatten())
        model.flow_head.bias.fill_(flow_bias)
    return model


def random_model(seed: int = 0, scale: float = 0.05, **config) -> Still2Motion:
    """A model with every weight random (the zero-initialised motion heads too), so it moves and depends on its input."""
    torch.manual_seed(seed)
    model = Still2Motion(**{**TINY_CONFIG, **config}).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for head in (model.affine_head[-1], model.flow_head, model.mask_head):
            for p in head.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * scale)
    return model


@pytest.fixture
def sway_model():
    """Hand-set motion: a horizontal sway ``tx(phi) = 0.1 sin(phi)`` in canvas units."""
    return hand_set_model({(TX, 1, "b"): 0.1})


@pytest.fixture(scope="module")
def model():
    """The sway model, shared by a module's tests (never the bundled weights)."""
    return hand_set_model({(TX, 1, "b"): 0.1})


@pytest.fixture(scope="module")
def model_dir(model, tmp_path_factory):
    """The sway model saved with ``save_pretrained``, for ``--model`` / ``STILL2MOTION_MODEL``."""
    path = tmp_path_factory.mktemp("model") / "sway"
    model.save_pretrained(path)
    return path


@pytest.fixture
def fresh_accelerate(monkeypatch):
    """Each train.main() builds its own Accelerator; accelerate keeps process-wide state, so reset it around a test."""
    from accelerate.state import AcceleratorState, GradientState

    from train import checkpointing

    monkeypatch.delenv(checkpointing.FAULT_ENV, raising=False)
    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()


def sprite(width: int = 24, height: int = 32, seed: int = 0) -> Image.Image:
    """A few-colour sprite on a transparent background."""
    rng = np.random.default_rng(seed)
    palette = np.array([[200, 40, 40, 255], [40, 160, 60, 255], [30, 30, 200, 255], [250, 220, 0, 255]], np.uint8)
    arr = np.zeros((height, width, 4), np.uint8)
    idx = rng.integers(0, len(palette), size=(height // 2, width // 2))
    body = palette[idx]
    y0, x0 = height // 4, width // 4
    arr[y0 : y0 + height // 2, x0 : x0 + width // 2] = body
    return Image.fromarray(arr, "RGBA")


@pytest.fixture
def still(tmp_path):
    """A 24x32 ``sprite`` saved as ``tmp_path/in/sprite.png``: in a folder of its own, apart from what a test writes."""
    path = tmp_path / "in" / "sprite.png"
    path.parent.mkdir()
    sprite(24, 32).save(path)
    return path


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """``cli.main`` in-process on ``argv`` (each item ``str()``-ed): ``(exit code, stdout, stderr)``."""
    from still2motion import cli

    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    """A smooth opaque RGB gradient with a soft alpha edge (many colours: not pixel art)."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    rgb = np.stack([x.repeat(height, 0), y.repeat(width, 1), (x * y)], axis=-1)
    alpha = np.clip(np.minimum.reduce([x, 1 - x, y.repeat(width, 1) * 0 + 1]) * 8, 0, 1)[..., None].repeat(height, 0)
    arr = np.concatenate([rgb, alpha], axis=-1)
    return Image.fromarray((arr * 255).round().astype(np.uint8), "RGBA")


def free_port() -> int:
    """A local TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def launched_app(tmp_path_factory, env: dict[str, str], *, as_module: bool = False):
    """``app.py`` imported fresh with a hand-set sway model and the environment ``env``, launched in this process on a
    free local port: yields the module, its address in ``url``. ``as_module`` also registers it as ``app`` in
    ``sys.modules`` while it runs."""
    model_dir = tmp_path_factory.mktemp("model") / "sway"
    hand_set_model({(TX, 1, "b"): 0.1}).save_pretrained(model_dir)
    patch = pytest.MonkeyPatch()
    patch.setenv("STILL2MOTION_MODEL", str(model_dir))  # before the import: app.py loads the model at module level
    for name, value in env.items():
        patch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("app", Path(__file__).resolve().parents[1] / "app.py")
    module = importlib.util.module_from_spec(spec)
    if as_module:
        sys.modules["app"] = module
    spec.loader.exec_module(module)
    port = free_port()
    module.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                       **module.LAUNCH_OPTIONS)
    module.url = f"http://127.0.0.1:{port}/"
    try:
        yield module
    finally:
        module.demo.close()
        if as_module:
            sys.modules.pop("app", None)
        patch.undo()
