"""The ``oracle:vocab`` row of ``evaluate.py``: each loop's motion-vocabulary entry as ``research/vocab_oracle.py``
chose it (an oracle file), rendered on the input's silhouette. The row only reads the file; the oracle is research.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from still2motion import io
from train.evaluate.baseline_rows import render_fitted_motion
from train.fit import silhouette
from train.fit.coherent_fit import Coherent, to_motion
from train.fit.motion_targets import MotionTargets


class VocabOracle:
    """The ``oracle:vocab`` row of ``evaluate.py``: each loop's chosen variant (an oracle file of this module) placed
    on the input's silhouette and rendered at its own size, as ``retrieval`` renders its borrowed motion.

    Raises:
        ValueError: the file is not an oracle file, or (on call) a loop it has no choice for.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        targets = MotionTargets(path)
        if targets.config.get("kind") != "vocab-oracle":
            raise ValueError(f"'{path}' is not a vocab_oracle.py file")
        t = targets.tensors
        self.index, self.tensors = targets.index, t
        self.resolution = int(targets.config.get("resolution", 32))
        self.canvas_grid = int(targets.config.get("canvas_grid", 16))

    def extra(self, seq: str) -> dict:
        i = self.index[seq]
        return {"vocab_entry": int(self.tensors["entry"][i]), "vocab_scale": float(self.tensors["scale"][i])}

    @torch.no_grad()
    def __call__(self, image: Image.Image, num_frames: int, seq: str) -> list[np.ndarray]:
        if seq not in self.index:
            raise ValueError(f"oracle file '{self.path}' has no choice for '{seq}': run vocab_oracle.py on this split")
        i = self.index[seq]
        canvas = io.to_tensor(io.letterbox(image, self.resolution)[0])[None]
        t = self.tensors
        c = Coherent(t["c_masks"][i:i + 1], t["c_affine"][i:i + 1], t["c_flow"][i:i + 1])
        motion = to_motion(c, silhouette.alpha_box(canvas), self.canvas_grid)
        return render_fitted_motion(image, motion, num_frames, self.resolution)
