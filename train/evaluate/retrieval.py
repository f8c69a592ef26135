"""The ``retrieval`` baseline: the coherent motion of the training loop whose silhouette looks most like the input.

No training: a bank of coherent fits (``train/fit/coherent_fit.py`` on every k-th training loop) holds each loop's
silhouette-relative motion and the features of its frame 0 (``train/silhouette.features``: alpha shape in its box,
aspect, box). An input is letterboxed at the bank's resolution, described the same way, and gets the motion of its
nearest neighbour (features standardised over the bank, Euclidean distance), placed on **its own** silhouette box
(``coherent_fit.to_motion``), so a bank loop's sway about the feet becomes a sway about the input's feet. Any learned
model must beat this lower bound to show it learned more than "things shaped like this move like that".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from still2motion import io
from train.fit import silhouette
from train.fit.coherent_fit import Coherent, to_motion
from train.evaluate.baseline_rows import render_fitted_motion
from train.fit.motion_targets import MotionTargets


class Retrieval:
    """Nearest-silhouette motion transfer.

    Args:
        path: a ``coherent_fit.py`` file of training loops (its ``features``, ``c_masks``, ``c_affine``, ``c_flow``).
        exclude: sequences that may not lend their motion (the evaluated ones), if the bank holds any.

    Raises:
        ValueError: the file is not a coherent fit, or no loop is left to retrieve from.
    """

    def __init__(self, path: str | Path, exclude: set[str] = frozenset()) -> None:
        targets = MotionTargets(path)
        if "features" not in targets.tensors:
            raise ValueError(f"'{path}' is not a coherent_fit.py bank (no 'features'); fit the training loops with it")
        keep = [i for i, s in enumerate(targets.seqs) if s not in exclude]
        if not keep:
            raise ValueError(f"bank '{path}' holds no loop outside the evaluated ones")
        t = targets.tensors
        self.seqs = [targets.seqs[i] for i in keep]
        self.coherent = Coherent(t["c_masks"][keep], t["c_affine"][keep], t["c_flow"][keep])
        self.resolution = int(targets.config.get("resolution", 32))
        self.canvas_grid = int(targets.config.get("canvas_grid", 16))
        feats = t["features"][keep].double()
        self.mean, self.std = feats.mean(0), feats.std(0, unbiased=False).clamp_min(1e-6)
        self.bank = (feats - self.mean) / self.std  # (N, D)
        self._picked: dict[str, int] = {}

    def canvas(self, image: Image.Image) -> torch.Tensor:
        """The input letterboxed at the bank's resolution, as the fits saw their frames: ``(1, 4, R, R)``."""
        return io.to_tensor(io.letterbox(image, self.resolution)[0])[None]

    def nearest(self, canvas: torch.Tensor) -> int:
        """Index of the bank loop whose frame-0 silhouette features are nearest to ``canvas`` ``(1, 4, R, R)``."""
        query = (silhouette.features(canvas)[0].double() - self.mean) / self.std
        return int(torch.cdist(query[None], self.bank)[0].argmin())

    def pick(self, seq: str) -> str:
        """The bank loop the last call for ``seq`` borrowed from."""
        return self.seqs[self._picked[seq]]

    @torch.no_grad()
    def __call__(self, image: Image.Image, num_frames: int, seq: str) -> list[np.ndarray]:
        canvas = self.canvas(image)
        i = self._picked[seq] = self.nearest(canvas)
        c = Coherent(self.coherent.masks[i : i + 1], self.coherent.affine[i : i + 1], self.coherent.flow[i : i + 1])
        motion = to_motion(c, silhouette.alpha_box(canvas), self.canvas_grid)
        return render_fitted_motion(image, motion, num_frames, self.resolution)
