"""Image-blind rows of the realism table: one preset motion (bob, sway) for every input, at the amplitude whose
alive rate is closest to the evaluated model's, so the model is compared with a motion that moves as much as it does.

Needs ``still2motion.presets`` (issue 16); without it there are no blind rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

PRESETS = ("bob", "sway")


def blind_rows() -> Callable[[list, float], dict] | None:
    """``(loops, alive rate) -> {"bob@<amplitude>": animate, ...}``, or ``None`` while the presets module does not exist."""
    try:
        from still2motion import presets  # noqa: F401
    except ImportError:
        logger.warning("realism: still2motion.presets is missing, so no image-blind rows (bob, sway)")
        return None
    raise NotImplementedError
