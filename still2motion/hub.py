"""Strict, safetensors-only loading of generators saved with ``PyTorchModelHubMixin``.

huggingface_hub's ``from_pretrained`` silently drops unknown config keys, fills missing ones with defaults and loads
weights non-strictly. Here config.json is read and validated against the class's ``__init__`` signature *before* the
model is built, and the weights must match the model exactly. Nothing is ever unpickled.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import socket
import threading
import types
import typing
import urllib.parse
from pathlib import Path

from huggingface_hub import constants, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError
from safetensors import SafetensorError

if typing.TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

CONFIG_NAME = constants.CONFIG_NAME  # config.json
WEIGHTS_NAME = constants.SAFETENSORS_SINGLE_FILE  # model.safetensors
_PICKLE_NAMES = ("pytorch_model.bin", "model.bin", "model.pt", "model.pth", "model.ckpt")


def fetch_file(model_id: str | os.PathLike, filename: str, **hub_kwargs) -> Path:
    """Local path of ``filename`` from a model folder or a Hub repo; one-line errors when it cannot be had."""
    folder = Path(model_id)
    if folder.is_dir():
        path = folder / filename
        if not path.is_file():
            found = sorted(p.name for p in folder.iterdir())
            if filename == WEIGHTS_NAME and any(n in found for n in _PICKLE_NAMES):
                raise ValueError(
                    f"model folder '{folder}' has no {WEIGHTS_NAME}, only pickle weights ({', '.join(found)}); "
                    "pickle files are never loaded: convert them to safetensors"
                )
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise FileNotFoundError(f"model folder '{folder}' has no {filename} (found: {shown or 'nothing'})")
        return path
    if folder.exists() or os.sep in str(model_id) and not _looks_like_repo_id(str(model_id)):
        raise FileNotFoundError(f"model '{model_id}' is not a folder holding {CONFIG_NAME} and {WEIGHTS_NAME}")
    if not _looks_like_repo_id(str(model_id)):
        raise FileNotFoundError(f"model '{model_id}' is neither a local folder nor a Hub repo id like 'owner/name'")
    offline = constants.HF_HUB_OFFLINE or hub_kwargs.get("local_files_only") or not hub_reachable()
    if offline:  # the cache only: no request, so no retries (huggingface_hub retries 5 times over ~25 s)
        hub_kwargs = {**hub_kwargs, "local_files_only": True}
    try:
        return Path(hf_hub_download(repo_id=str(model_id), filename=filename, **hub_kwargs))
    except (LocalEntryNotFoundError, EntryNotFoundError, HfHubHTTPError, OSError) as exc:
        if offline or isinstance(exc, LocalEntryNotFoundError):
            why = "offline (HF_HUB_OFFLINE)" if constants.HF_HUB_OFFLINE else f"offline ({_hub_host()[0]} cannot be reached)"
            raise ValueError(
                f"model '{model_id}' is not available {why}: {filename} is not in the local Hugging Face cache"
            ) from None
        raise ValueError(f"cannot download {filename} of model '{model_id}': {str(exc).splitlines()[0]}") from None


HUB_PROBE_S = 1.0  # how long to wait for a connection to the Hub before treating this machine as offline


def _hub_host() -> tuple[str, int]:
    url = urllib.parse.urlsplit(constants.ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)


def hub_reachable(timeout: float = HUB_PROBE_S) -> bool:
    """Whether a TCP connection to the Hub (``$HF_ENDPOINT``) opens within ``timeout`` seconds: one try, no retries.

    The name lookup may hang longer than a socket timeout, so the probe runs on a daemon thread and is abandoned
    after ``timeout``. Behind a proxy (``$HTTPS_PROXY``, ...) the Hub cannot be probed directly: it counts as reachable.
    """
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection(_hub_host(), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _looks_like_repo_id(name: str) -> bool:
    parts = name.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not name.startswith((".", "/", "~"))


def read_config(model_id: str | os.PathLike, **hub_kwargs) -> dict:
    """config.json of a saved model as a dict; a one-line ``ValueError`` if it is not a JSON object."""
    path = fetch_file(model_id, CONFIG_NAME, **hub_kwargs)
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


def _matches(value, annotation) -> bool:
    """Whether a JSON value fits a (simple) type annotation: int, float, bool, str, tuple[int, ...], unions."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return isinstance(value, (list, tuple)) and all(_matches(v, args[0]) for v in value) if args else True
    return True


def validate_config(cls: type, config: dict, source: str = "config.json") -> None:
    """Raises ``ValueError`` naming any unknown, missing or ill-typed key of ``config`` for ``cls.__init__``.

    A class may list ``added_config_keys``: keys introduced after models were saved, whose defaults reproduce the
    older behaviour; only those may be absent.
    """
    params = {
        name: p
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    hints = typing.get_type_hints(cls.__init__)
    unknown = sorted(set(config) - set(params))
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)} for {cls.__name__}")
    missing = sorted(set(params) - set(config) - set(getattr(cls, "added_config_keys", ())))
    if missing:
        raise ValueError(f"{source}: missing key(s) {', '.join(missing)} for {cls.__name__}")
    for name, value in config.items():
        annotation = hints.get(name)
        if annotation is not None and not _matches(value, annotation):
            raise ValueError(f"{source}: key {name!r} must be {annotation}, got {value!r}")


def load_weights(model: "torch.nn.Module", model_id: str | os.PathLike, map_location: str = "cpu", **hub_kwargs) -> None:
    """Loads model.safetensors into ``model``, strictly: every weight present, none extra, shapes equal."""
    from safetensors.torch import load_file  # torch, imported once a model is built: config.json is read without it
    path = fetch_file(model_id, WEIGHTS_NAME, **hub_kwargs)
    try:
        state = load_file(str(path), device=str(map_location))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"cannot read weights {path}: {str(exc).splitlines()[0]} (truncated or not safetensors?)") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"weights {path} do not match {type(model).__name__}: "
            f"missing {missing[:5] or 'none'}, unexpected {unexpected[:5] or 'none'}"
        )
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise ValueError(
                f"weights {path}: {name} has shape {tuple(tensor.shape)}, the config expects {tuple(expected[name].shape)}"
            )
    model.load_state_dict(state, strict=True)
