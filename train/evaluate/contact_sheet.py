"""A contact sheet: rows of frames, each upscaled with NEAREST and centred in its cell on a flat background."""

from __future__ import annotations

from PIL import Image


def contact_sheet(rows: list[list[Image.Image]], columns: int, scale: int, background: tuple[int, int, int, int],
                  gap: int = 0) -> Image.Image:
    """Each cell is the largest first frame times ``scale``, plus ``gap`` pixels; returns an RGB image."""
    cell_w = max(r[0].width for r in rows) * scale + gap
    cell_h = max(r[0].height for r in rows) * scale + gap
    out = Image.new("RGBA", (cell_w * columns, cell_h * len(rows)), background)
    for r, row in enumerate(rows):
        for c, frame in enumerate(row):
            tile = frame.convert("RGBA").resize((frame.width * scale, frame.height * scale), Image.Resampling.NEAREST)
            out.alpha_composite(tile, (c * cell_w + (cell_w - tile.width) // 2, r * cell_h + (cell_h - tile.height) // 2))
    return out.convert("RGB")
