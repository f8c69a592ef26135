"""The model card (README.md) of a trained generator: every number comes from a file, none is typed by hand.

Metrics come from a ``metrics.json`` in ``train/evaluate/evaluate.py``'s schema (``rows.<name>.overall.<metric>.mean``);
data sources and licences from the prepared ROOT's ``manifest.jsonl`` when there is one; steps, hardware and wall
time from the run itself. No machine paths: a path under ``~/.cache/still2motion`` is written as such, others as given,
and a ``--hub_token`` never appears.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
from collections import Counter
from pathlib import Path

import torch

from train.data.compact_pack import is_compact_pack, read_header
from train.evaluate.metrics import METRICS
from train.evaluate.realism import realism_markdown

NUMBER_FORMAT = "{:.6g}"  # how metrics are written in the card (tests parse them back)
CACHE = Path.home() / ".cache" / "still2motion"
CACHE_SHOWN = "~/.cache/still2motion"
SECRET_FLAGS = ("--hub_token",)


def portable_path(path: str | Path) -> str:
    """``path`` as cards and metrics files show it: ``~/.cache/still2motion/...`` when it lies there, else as given."""
    try:
        inside = Path(path).expanduser().resolve().relative_to(CACHE.resolve())
    except ValueError:
        return str(path)
    return CACHE_SHOWN if inside == Path(".") else f"{CACHE_SHOWN}/{inside.as_posix()}"


def portable_command(argv: list[str]) -> str:
    """The command line of a run as its card shows it: ``train/train.py ...``, paths made portable, tokens hidden."""
    words = ["train/train.py"]
    hide = False
    for word in argv[1:]:
        flag, eq, value = word.partition("=")
        if hide:
            word = "***"
        elif eq and flag in SECRET_FLAGS:
            word = f"{flag}=***"
        elif eq and flag.startswith("--"):
            word = f"{flag}={portable_path(value) if _is_path(value) else value}"
        elif _is_path(word):
            word = portable_path(word)
        hide = word in SECRET_FLAGS
        words.append(word)
    return " ".join(w if re.fullmatch(r"[~\w@%+=:,./*-]+", w) else shlex.quote(w) for w in words)


def _is_path(word: str) -> bool:
    return not word.startswith("-") and ("/" in word or word.startswith("~") or Path(word).expanduser().exists())


def data_sources(data_dir: str | Path) -> list[dict]:
    """``[{"source", "license", "sequences"}]`` of the train split in ``data_dir/manifest.jsonl`` (or the manifest a
    compact pack file carries); ``[]`` without one."""
    manifest = Path(data_dir) / "manifest.jsonl"
    if is_compact_pack(data_dir):
        records = read_header(data_dir)[0].get("manifest", [])
    elif manifest.is_file():
        records = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    else:
        return []
    counts: Counter = Counter()
    for record in records:
        if record.get("split", "train") != "train":
            continue
        counts[(record.get("source", "?"), record.get("license", "unknown"))] += 1
    return [{"source": s, "license": lic, "sequences": n} for (s, lic), n in sorted(counts.items())]


def hardware(num_processes: int, mixed_precision: str) -> str:
    if torch.cuda.is_available():
        device = f"{num_processes} x {torch.cuda.get_device_name(0)}"
    else:
        device = f"CPU ({os.cpu_count()} cores, {platform.machine()}), {num_processes} process(es)"
    return f"{device}, mixed precision {mixed_precision}, torch {torch.__version__}"


def metrics_table(metrics: dict | None) -> list[str]:
    """Markdown rows ``| row | metric | mean | median |`` for every row of a ``metrics.json``."""
    if not metrics or not metrics.get("rows"):
        return ["No metrics.json was found next to the model: run `train/evaluate/evaluate.py` and rebuild the card."]
    lines = [
        f"Split `{metrics.get('split', '?')}`, {metrics.get('n', '?')} sequences (from `metrics.json`).",
        "",
        "| row | metric | mean | median |",
        "|---|---|---|---|",
    ]
    for name, row in metrics["rows"].items():
        for metric in (*METRICS, "seconds"):
            stats = row.get("overall", {}).get(metric)
            if stats is None:
                continue
            mean, median = (("-" if stats.get(k) is None else NUMBER_FORMAT.format(stats[k])) for k in ("mean", "median"))
            lines.append(f"| {name} | {metric} | {mean} | {median} |")
    return lines


def realism_table(metrics: dict | None) -> list[str]:
    """The realism tests of a ``metrics.json`` (``evaluate.py --realism``) as Markdown lines; ``[]`` without them."""
    if not metrics or not metrics.get("realism"):
        return []
    return ["", "### Realism", "", *realism_markdown(metrics["realism"]).splitlines()]


def render_card(*, generator_type: str, config: dict, metrics: dict | None, sources: list[dict], info: dict,
                license: str | None = None, extra_sections: list[str] | None = None) -> str:
    """The card's Markdown. ``info``: ``steps``, ``hardware``, ``wall_time_minutes``, ``data_dir``, ``command``.

    ``license`` (an SPDX-like Hub id) goes into the metadata; ``extra_sections`` are Markdown lines appended at the end.
    """
    licenses = sorted({s["license"] for s in sources})
    front = [
        "---",
        "library_name: still2motion",
        *([f"license: {license}"] if license else []),
        "pipeline_tag: image-to-video",
        "tags:",
        *[f"- {t}" for t in ("image-to-video", "animation", "sprites", "looping", generator_type)],
        "---",
    ]
    body = [
        f"# still2motion generator ({generator_type})",
        "",
        "Turns one still image into a seamlessly looping animation by moving its pixels. Load it with "
        + ("`still2motion.load_model(\"<this repo or folder>\")`" if generator_type == "still2motion" else
           "`train.evaluate.design_baselines.load_generator(\"<this repo or folder>\")` (a design kept for "
           "comparison; the package loads still2motion models only)")
        + " and call `.animate(image)`.",
        "",
        "## Training",
        "",
        f"- steps: {info.get('steps')}",
        f"- wall time: {info.get('wall_time_minutes', 0):.1f} min",
        f"- hardware: {info.get('hardware')}",
        f"- data: `{portable_path(info['data_dir']) if info.get('data_dir') else None}`",
        f"- config: `{json.dumps(config, sort_keys=True)}`",
    ]
    if info.get("command"):
        body.append(f"- command: `{info['command']}`")
    body += ["", "### Data sources and licences", ""]
    if sources:
        body += ["| source | licence | sequences |", "|---|---|---|"]
        body += [f"| {s['source']} | {s['license']} | {s['sequences']} |" for s in sources]
        body += ["", f"The weights were trained on art under: {', '.join(licenses)}. Check those terms before redistributing."]
    else:
        body.append("No data manifest was found (a user folder): the data's licences are those of its owner.")
    body += ["", "## Metrics", "", *metrics_table(metrics), *realism_table(metrics), ""]
    body += extra_sections or []
    return "\n".join(front + [""] + body)


def write_model_card(folder: str | Path, **kwargs) -> Path:
    """Writes ``folder/README.md`` (see ``render_card`` for the arguments)."""
    path = Path(folder) / "README.md"
    path.write_text(render_card(**kwargs))
    return path


def read_metrics(path: str | Path) -> dict | None:
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None
