"""The sticker check set (issue 33): cartoon characters, pixel-art sprites and opaque pictures, drawn by code.

Nothing here is third-party art: every picture is drawn at call time from its index (CC0), so the set needs no
download and no file in the repository. ``check_set()`` returns ``Sticker``s:

- 12 cartoon characters, 200-512 px: a round, tall or wide body with a dark outline, two eyes, ears or arms, a
  mouth; half in flat colours, half shaded (a radial gradient inside the outline); anti-aliased (drawn at 4x);
- 4 pixel-art sprites, 32-64 px, a handful of colours, hard edges (a slime, a ghost, a mushroom, a knight);
- 3 opaque pictures: a landscape, a character on a flat backdrop, a character on a gradient backdrop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

OUTLINE = (28, 22, 30, 255)
_PALETTES = [  # body, belly, accent (ears / arms), cheeks
    ((255, 196, 64), (255, 236, 170), (240, 140, 40), (255, 130, 130)),
    ((120, 200, 255), (220, 244, 255), (70, 150, 230), (255, 150, 170)),
    ((160, 220, 110), (230, 250, 200), (100, 170, 70), (250, 140, 140)),
    ((250, 150, 190), (255, 225, 235), (220, 100, 150), (255, 110, 120)),
    ((190, 160, 250), (238, 228, 255), (140, 110, 220), (255, 140, 170)),
    ((245, 245, 240), (255, 255, 255), (200, 200, 195), (255, 160, 160)),
]


@dataclass(frozen=True)
class Sticker:
    """One check image: ``image`` (PIL RGBA), ``kind`` ("sticker" | "sprite" | "opaque") and whether its colours are
    flat (a small palette: off-palette and outline measures apply)."""

    name: str
    image: Image.Image
    kind: str
    flat: bool


def _ellipse(draw: ImageDraw.ImageDraw, cx: float, cy: float, rx: float, ry: float, **kw) -> None:
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), **kw)


def _shade(img: Image.Image, body: Image.Image, colour: tuple, centre: tuple[float, float], radius: float) -> Image.Image:
    """Paints a radial gradient (light top-left to dark) of ``colour`` where ``body`` (mode L) is set."""
    h, w = img.size[1], img.size[0]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(xs - centre[0], ys - centre[1]) / radius
    k = np.clip(1.25 - 0.55 * d, 0.55, 1.2)[..., None]
    shaded = np.clip(np.array(colour[:3], np.float32) * k, 0, 255).astype(np.uint8)
    layer = Image.fromarray(np.dstack([shaded, np.full((h, w), 255, np.uint8)]), "RGBA")
    return Image.composite(layer, img, body)


def character(index: int, *, backdrop: tuple | None = None, gradient: bool = False) -> Image.Image:
    """Cartoon character ``index`` (any int): an RGBA sticker 200-512 px on transparency (or on ``backdrop``)."""
    rng = np.random.default_rng(1000 + index)
    body_c, belly_c, accent_c, cheek_c = _PALETTES[index % len(_PALETTES)]
    shaded = index % 2 == 1
    W = int(rng.integers(200, 513))
    H = int(np.clip(W * rng.uniform(0.8, 1.25), 200, 512))
    S = 4  # drawn at 4x, then reduced: anti-aliased edges like a real sticker
    w, h = W * S, H * S
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    line = int(max(3, W / 70) * S)
    cx, cy = w / 2, h * 0.56
    rx, ry = w * rng.uniform(0.27, 0.36), h * rng.uniform(0.28, 0.36)
    ears = index % 3 != 2
    arms = index % 3 != 0
    if ears:  # two round or pointed ears behind the head
        for side in (-1, 1):
            ex, ey = cx + side * rx * 0.6, cy - ry * 0.85
            if index % 4 < 2:
                _ellipse(draw, ex, ey, rx * 0.28, ry * 0.3, fill=accent_c, outline=OUTLINE, width=line)
            else:
                draw.polygon([(ex - rx * 0.3, ey + ry * 0.2), (ex + side * rx * 0.1, ey - ry * 0.45),
                              (ex + rx * 0.3, ey + ry * 0.2)], fill=accent_c, outline=OUTLINE, width=line)
    if arms:  # stubby arms at the sides
        for side in (-1, 1):
            _ellipse(draw, cx + side * rx * 0.98, cy + ry * 0.2, rx * 0.22, ry * 0.3, fill=accent_c, outline=OUTLINE,
                     width=line)
    body = Image.new("L", (w, h), 0)
    _ellipse(ImageDraw.Draw(body), cx, cy, rx, ry, fill=255)
    _ellipse(draw, cx, cy, rx, ry, fill=body_c)
    if shaded:
        img = _shade(img, body, body_c, (cx - rx * 0.4, cy - ry * 0.5), max(rx, ry) * 2)
        draw = ImageDraw.Draw(img)
    _ellipse(draw, cx, cy + ry * 0.35, rx * 0.55, ry * 0.45, fill=belly_c)
    _ellipse(draw, cx, cy, rx, ry, outline=OUTLINE, width=line)
    for side in (-1, 1):  # eyes: white, outlined, a dark pupil and a highlight
        ex, ey = cx + side * rx * 0.35, cy - ry * 0.25
        _ellipse(draw, ex, ey, rx * 0.16, ry * 0.19, fill=(255, 255, 255), outline=OUTLINE, width=max(S, line // 2))
        _ellipse(draw, ex + side * rx * 0.03, ey + ry * 0.03, rx * 0.08, ry * 0.1, fill=OUTLINE)
        _ellipse(draw, ex - rx * 0.02, ey - ry * 0.04, rx * 0.03, ry * 0.035, fill=(255, 255, 255))
        _ellipse(draw, cx + side * rx * 0.62, cy + ry * 0.05, rx * 0.1, ry * 0.07, fill=cheek_c)
    draw.arc((cx - rx * 0.18, cy - ry * 0.05, cx + rx * 0.18, cy + ry * 0.2), 20, 160, fill=OUTLINE, width=line)
    out = img.resize((W, H), Image.LANCZOS)
    if backdrop is not None:
        back = Image.new("RGBA", (W, H), backdrop)
        if gradient:
            t = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
            top, bottom = np.array(backdrop[:3], np.float32), np.array((250, 240, 210), np.float32)
            rgb = (top * (1 - t) + bottom * t).repeat(W, axis=1).astype(np.uint8)
            back = Image.fromarray(np.dstack([rgb, np.full((H, W), 255, np.uint8)]), "RGBA")
        out = Image.alpha_composite(back, out)
    return out


_SPRITES = {  # rows of a pixel-art sprite: '.' transparent, letters index the palette
    "slime": (["..........kkkk..........", "........kkggggkk........", "......kkggggggggkk......",
               ".....kggggggggggggk.....", "....kgggwwggggwwgggk....", "...kggggwkggggwkggggk...",
               "...kggggggggggggggggk...", "..kgggggggrrrrgggggggk..", "..kggggggggrrggggggggk..",
               "..kgggggggggggggggggggk.", ".kggggggggggggggggggggk.", ".kkkkkkkkkkkkkkkkkkkkkk."],
              {"k": (20, 40, 20), "g": (90, 200, 80), "w": (250, 250, 250), "r": (200, 40, 50)}),
    "ghost": (["......kkkkkk......", "....kkwwwwwwkk....", "...kwwwwwwwwwwk...", "..kwwwwwwwwwwwwk..",
               "..kwwkkwwwwkkwwk..", "..kwwkbwwwwkbwwk..", "..kwwwwwwwwwwwwk..", "..kwwwwwkkwwwwwk..",
               "..kwwwwwwwwwwwwk..", "..kwwwwwwwwwwwwk..", "..kwkwwkwwkwwkwk..", "..kk.kk.kk.kk.kk.."],
              {"k": (30, 30, 60), "w": (235, 235, 255), "b": (80, 120, 255)}),
    "mushroom": ([".....kkkkkk.....", "...kkrrwwrrkk...", "..krrrwwwwrrrk..", ".krrrrrwwrrrrrk.",
                  ".kwwrrrrrrrrwwk.", "krwwwrrrrrrwwwrk", "krrrrrrrrrrrrrrk", ".kkkkkkkkkkkkkk.",
                  "....kttttttk....", "....ktktktktk...", "....ktttttttk...", ".....kkkkkkk...."],
                 {"k": (40, 20, 20), "r": (220, 50, 40), "w": (250, 245, 235), "t": (240, 220, 180)}),
    "knight": (["....kkkkkk....", "...kssssssk...", "..kssskkssskk.", "..ksskyykssk..", "..kssssssssk..",
                "...kkkkkkkk...", "..kbbbbbbbbk..", ".kbbbyybbbbbk.", ".kbbbbbbbbbbk.", "..kbbbbbbbbk..",
                "..kbbk..kbbk..", "..kkk....kkk.."],
               {"k": (25, 25, 35), "s": (170, 180, 200), "y": (250, 220, 60), "b": (60, 90, 200)}),
}


def sprite(name: str, scale: int) -> Image.Image:
    """A pixel-art sprite from ``_SPRITES``, each art pixel ``scale`` x ``scale`` image pixels, on transparency."""
    rows, palette = _SPRITES[name]
    h, w = len(rows), max(len(r) for r in rows)
    rgba = np.zeros((h, w, 4), np.uint8)
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            if ch != ".":
                rgba[y, x] = (*palette[ch], 255)
    pad = np.zeros((h + 4, w + 4, 4), np.uint8)  # a margin of transparency, as sprite sheets have
    pad[2 : 2 + h, 2 : 2 + w] = rgba
    return Image.fromarray(pad, "RGBA").resize(((w + 4) * scale, (h + 4) * scale), Image.NEAREST)


def landscape(width: int = 320, height: int = 240) -> Image.Image:
    """An opaque landscape: a sky gradient, a sun, two hills and a tree, drawn anti-aliased."""
    S = 4
    t = np.linspace(0, 1, height * S, dtype=np.float32)[:, None, None]
    sky = (np.array((90, 150, 230), np.float32) * (1 - t) + np.array((200, 230, 255), np.float32) * t)
    img = Image.fromarray(np.dstack([sky.repeat(width * S, axis=1).astype(np.uint8),
                                     np.full((height * S, width * S), 255, np.uint8)]), "RGBA")
    d = ImageDraw.Draw(img)
    w, h = width * S, height * S
    _ellipse(d, w * 0.78, h * 0.22, w * 0.08, w * 0.08, fill=(255, 220, 80), outline=OUTLINE, width=3 * S)
    _ellipse(d, w * 0.25, h * 1.05, w * 0.55, h * 0.45, fill=(110, 190, 90), outline=OUTLINE, width=3 * S)
    _ellipse(d, w * 0.85, h * 1.1, w * 0.5, h * 0.4, fill=(80, 160, 70), outline=OUTLINE, width=3 * S)
    d.rectangle((w * 0.42, h * 0.5, w * 0.46, h * 0.75), fill=(120, 80, 40), outline=OUTLINE, width=3 * S)
    _ellipse(d, w * 0.44, h * 0.45, w * 0.09, h * 0.12, fill=(60, 140, 60), outline=OUTLINE, width=3 * S)
    return img.resize((width, height), Image.LANCZOS)


def check_set() -> list[Sticker]:
    """The whole check set, in a fixed order: 12 stickers, 4 sprites, 3 opaque pictures."""
    items = [Sticker(f"sticker{i:02d}", character(i), "sticker", flat=i % 2 == 0) for i in range(12)]
    for name, scale in (("slime", 2), ("ghost", 2), ("mushroom", 2), ("knight", 3)):
        items.append(Sticker(f"sprite_{name}", sprite(name, scale), "sprite", flat=True))
    items.append(Sticker("opaque_landscape", landscape(), "opaque", flat=False))
    items.append(Sticker("opaque_backdrop", character(20, backdrop=(250, 235, 200, 255)), "opaque", flat=True))
    items.append(Sticker("opaque_gradient", character(21, backdrop=(120, 160, 220, 255), gradient=True), "opaque",
                         flat=False))
    return items
