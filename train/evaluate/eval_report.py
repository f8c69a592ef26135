"""What ``evaluate.py`` writes: the aggregated ``metrics.json``, the Markdown table built from it, contact sheets.

The table is rendered from the JSON dict itself (after non-finite values became ``null``), so the two always agree.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from train.evaluate.drawing_metrics import DRAWING_METRICS
from train.evaluate.metrics import METRICS, REAL_METRICS
from train.evaluate.protocol_report import protocol_markdown, summarize_protocol

EXTRA_METRICS = ("best_phase_l1", "diversity")  # model rows with --seeds > 1

# Markdown columns: (header, row -> value or None, format). Values come from a row's "overall" block.
Column = tuple[str, Callable[[dict, dict], float | None], str]


def _stat(metric: str, stat: str, scale: float = 1.0) -> Callable[[dict, dict], float | None]:
    def get(block: dict, row: dict) -> float | None:
        value = block.get(metric, {}).get(stat)
        return None if value is None else value * scale

    return get


COLUMNS: list[Column] = [
    ("n", lambda block, row: row["n"], "{:d}"),
    ("L1 ↓", _stat("l1", "mean"), "{:.4f}"),
    ("PSNR ↑", _stat("psnr", "mean"), "{:.2f}"),
    ("phase-aligned L1 ↓", _stat("phase_l1", "mean"), "{:.4f}"),
    ("alive %", _stat("alive", "mean", 100.0), "{:.1f}"),
    ("median motion ratio", _stat("motion_ratio", "median"), "{:.3f}"),
    ("median seam ratio", _stat("seam_ratio", "median"), "{:.3f}"),
    ("first-frame exact %", _stat("first_frame_exact", "mean", 100.0), "{:.1f}"),
    ("median sharpness ratio", _stat("sharpness_ratio", "median"), "{:.3f}"),
    ("alpha IoU ↑", _stat("alpha_iou", "mean"), "{:.4f}"),
    ("s/seq", _stat("seconds", "mean"), "{:.4f}"),
]


def finite_or_none(value):
    """JSON-safe numbers: ``inf`` / ``nan`` become ``None`` (``null``); bools and others pass through."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    return value


def summarize(items: list[dict], metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{metric: {"mean", "median"}}`` over ``items`` (bools count as 0 / 1; ``inf`` kept, so a mean may be inf)."""
    out = {}
    for metric in metrics:
        values = np.array([float(it[metric]) for it in items if it.get(metric) is not None], dtype=np.float64)
        if values.size == 0:
            out[metric] = {"mean": None, "median": None}
            continue
        with np.errstate(invalid="ignore"):
            out[metric] = {"mean": float(np.mean(values)), "median": float(np.median(values))}
    return out


def aggregate(items: list[dict], metrics: Sequence[str]) -> dict:
    """``{"n", "overall", "per_source": {source: {metric: {...}}}, "items"}`` for one row's items."""
    sources = sorted({it["source"] for it in items})
    return {
        "n": len(items),
        "overall": summarize(items, metrics),
        "per_source": {s: summarize([it for it in items if it["source"] == s], metrics) for s in sources},
        "per_source_n": {s: sum(it["source"] == s for it in items) for s in sources},
        "items": items,
    }


def build_report(
    rows: dict[str, dict], real_items: list[dict], *, models: list[str], split: str, data_dir: str, seed: int,
    strength: float = 1.0, draws: int = 1000, sources: list[str] | None = None, noise_scale: float | None = None,
) -> dict:
    """The whole ``metrics.json`` dict (see ``evaluate.py``'s docstring for the schema), JSON-safe.

    Args:
        rows: ``{row name: {"kind": "model" | "baseline", "model": path or None, "items": [...]}}`` (blind rows
            also ``"blind": {"preset", "amplitude"}``).
        real_items: ``[{"seq", "source", "seam_ratio", "motion_energy"}]``, one per sequence.
        draws: bootstrap draws of the protocol summary (``train/evaluate/protocol_report.py``); 0 leaves it out.
        sources: the ``--sources`` filter, if any.
        noise_scale: the ``--noise_scale`` override of the models' seed-noise spread (None: their own).
    """
    out_rows = {}
    for name, row in rows.items():
        extra = (*EXTRA_METRICS, *DRAWING_METRICS)
        metrics = (*METRICS, *(m for m in extra if any(m in it for it in row["items"])), "seconds")
        out_rows[name] = {"kind": row["kind"], "model": row["model"], **aggregate(row["items"], metrics)}
        if row.get("blind"):
            out_rows[name]["blind"] = row["blind"]
    real = aggregate(real_items, REAL_METRICS)
    report = {
        "model": models,
        "split": split,
        "data_dir": data_dir,
        "seed": seed,
        "strength": strength,
        "noise_scale": noise_scale,
        "n": len(real_items),
        "sources": sources,
        "rows": out_rows,
        "real": real,
    }
    if draws > 0:
        report["protocol"] = summarize_protocol(finite_or_none(rows), draws=draws, seed=seed)
    return finite_or_none(report)


def _cells(block: dict, row: dict) -> list[str]:
    cells = []
    for _, get, fmt in COLUMNS:
        value = get(block, row)
        cells.append("—" if value is None else fmt.format(value))
    return cells


def _table(report: dict, block_of: Callable[[dict], dict | None], n_of: Callable[[dict], int]) -> list[str]:
    lines = ["| row | " + " | ".join(h for h, _, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, row in report["rows"].items():
        block = block_of(row)
        if block is not None:
            lines.append(f"| {name} | " + " | ".join(_cells(block, {**row, "n": n_of(row)})) + " |")
    real = report["real"]
    real_block = block_of(real)
    if real_block is not None:
        cells = ["—"] * len(COLUMNS)
        cells[0] = str(n_of(real))
        seam = real_block["seam_ratio"]["median"]
        cells[[h for h, _, _ in COLUMNS].index("median seam ratio")] = "—" if seam is None else f"{seam:.3f}"
        lines.append("| real loops | " + " | ".join(cells) + " |")
    return lines


def to_markdown(report: dict) -> str:
    """The Markdown report: one overall table (rows = models and baselines, plus the real loops' seam ratio), then
    one table per source when there are several."""
    lines = [
        f"# Evaluation on split `{report['split']}` of `{report['data_dir']}`",
        "",
        f"{report['n']} sequences, seed {report['seed']}"
        + (f", models at strength {report['strength']:g}" if report.get("strength", 1.0) != 1.0 else "")
        + (f", seed noise spread {report['noise_scale']:g}" if report.get("noise_scale") is not None else "")
        + ". L1, PSNR, phase-aligned L1, alpha IoU and s/seq are means; "
        "ratios are medians. Motion energy of the real loops: median "
        + _fmt(report["real"]["overall"]["motion_energy"]["median"], "{:.4f}")
        + ".",
        "",
        *_table(report, lambda r: r["overall"], lambda r: r["n"]),
    ]
    sources = report["real"]["per_source"]
    if len(sources) > 1:
        for source in sources:
            lines += ["", f"## {source}", ""]
            lines += _table(
                report, lambda r, s=source: r["per_source"].get(s), lambda r, s=source: r["per_source_n"].get(s, 0)
            )
    if report.get("protocol"):
        lines += ["", protocol_markdown(report["protocol"])]
    lines += _drawing_table(report)
    return "\n".join(lines) + "\n"


def _drawing_table(report: dict) -> list[str]:
    """Keeping the drawing (issue 33): medians and worst values of the measures of ``train/evaluate/drawing_metrics.py``."""
    rows = [(name, row["overall"]) for name, row in report["rows"].items()
            if any(m in row["overall"] for m in DRAWING_METRICS)]
    if not rows:
        return []
    lines = ["", "## Keeping the drawing", "",
             "Worst frame of each loop; medians over loops (fold and distortion: means, shares of the silhouette).", "",
             "| row | fold ↓ | distortion ↓ | outline kept (min) | outline kept (max) | off-palette ↓ |", "|---" * 6 + "|"]
    for name, block in rows:
        def get(key: str, stat: str) -> str:
            value = block.get(key, {}).get(stat)
            return "—" if value is None else f"{value:.4f}"
        lines.append(f"| {name} | {get('fold', 'mean')} | {get('distortion', 'mean')} | {get('outline_kept_min', 'median')}"
                     f" | {get('outline_kept_max', 'median')} | {get('off_palette', 'median')} |")
    return lines


def _fmt(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def write_report(report: dict, output_dir: Path) -> tuple[Path, Path]:
    """Writes ``metrics.json`` (strict JSON, indented) and ``metrics.md``; returns their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = output_dir / "metrics.json", output_dir / "metrics.md"
    json_path.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    md_path.write_text(to_markdown(report))
    return json_path, md_path


def slug(name: str) -> str:
    """A file-name-safe version of a row name (``owner/model`` -> ``owner_model``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "row"


def _checker(height: int, width: int, cell: int = 8) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    light = ((yy // cell + xx // cell) % 2 == 0)[..., None]
    return np.where(light, 235, 200).astype(np.uint8).repeat(3, axis=2)


def eval_contact_sheet(
    image: np.ndarray, real: list[np.ndarray], generated: list[np.ndarray], target_side: int = 96
) -> Image.Image:
    """A two-line sheet on a checkerboard: ``input | real frames`` above ``(blank) | generated frames``.

    Frames are upscaled by a whole factor with NEAREST (so tiny sprites stay visible and pixel-exact) until the
    longer side reaches about ``target_side`` (factor 1 to 8); cells are separated by 2 px.
    """
    h, w = image.shape[:2]
    scale = int(min(8, max(1, math.ceil(target_side / max(h, w)))))
    ch, cw, gap = h * scale, w * scale, 2
    cols = 1 + max(len(real), len(generated))
    width, height = cols * cw + (cols + 1) * gap, 2 * ch + 3 * gap
    sheet = Image.fromarray(_checker(height, width)).convert("RGBA")
    lines = ([image] + list(real), [None] + list(generated))
    for row, frames in enumerate(lines):
        for col, frame in enumerate(frames):
            if frame is None:
                continue
            tile = Image.fromarray(frame, "RGBA").resize((cw, ch), Image.Resampling.NEAREST)
            sheet.alpha_composite(tile, (gap + col * (cw + gap), gap + row * (ch + gap)))
    return sheet.convert("RGB")
