"""Small result types shared by the readers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass
class ReadResult:
    """A still image as read by `read_image`.

    Attributes:
        image: mode ``"RGBA"``, straight alpha, uint8. For an animated file, its first composited frame.
        n_frames: number of animation frames in the file (1 for a still).
        format: Pillow's format name (``"PNG"``, ``"GIF"``, ``"WEBP"``, ``"JPEG"``, ...), or ``None``.
    """

    image: Image.Image
    n_frames: int
    format: str | None


@dataclass
class AnimationData:
    """Decoded, fully composited animation frames.

    Attributes:
        frames: list of ``np.uint8`` arrays ``(H, W, 4)``, straight RGBA, all the same size.
        durations_ms: one duration per frame, in milliseconds (as stored: a GIF delay of 0 stays 0).
        loop: number of plays, 0 meaning forever (APNG/WebP semantics; a GIF's NETSCAPE repeat
            count ``n > 0`` is reported as ``n + 1`` plays and a GIF without one as 1).
    """

    frames: list[np.ndarray]
    durations_ms: list[int]
    loop: int
