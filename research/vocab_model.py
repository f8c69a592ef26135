"""A generator that scores a motion vocabulary (``still2motion/vocab_head.py``), built for ``research/train.py --vocabulary``.

From scratch it is ``Still2Motion(vocabulary_size=V)``; from ``--init_generator`` a coefficient model lends its U-Net
(every weight but the coefficient heads' carries over; the vocabulary head starts at zero: a uniform choice and the
identity residual; a base that already has a vocabulary keeps its scores). The named table's entries are copied
into the head's buffers, so the saved model carries the table it was trained with.
``motion_scale`` starts at 1: the residual's scale is learned, not calibrated afterwards; with
``seed_zero="coefficients"`` (seed 0 keeps the base's coefficient motion) the base's calibration is kept.
"""

from __future__ import annotations

from pathlib import Path

from still2motion.model import Still2Motion
from research.vocabulary import load_table


def with_vocabulary(table_path: str | Path, base: Still2Motion | None = None, config: dict | None = None,
                    seed_zero: str = "vocabulary") -> Still2Motion:
    """A vocabulary model holding the table at ``table_path``: ``base``'s trunk, or a fresh model of ``config``.

    Raises:
        ValueError: the file is no vocabulary, ``base`` is not a ``Still2Motion``, or the table's layers or harmonics
            differ from the model's.
    """
    table, _, _ = load_table(table_path)
    V = table.affine.shape[0]
    if base is None:
        model = Still2Motion(**{**(config or {}), "vocabulary_size": V, "seed_zero": seed_zero})
    else:
        if not isinstance(base, Still2Motion):
            raise ValueError(f"--vocabulary needs a still2motion generator, got {type(base).__name__}")
        if base.vocabulary_size not in (0, V):
            raise ValueError(f"--init_generator has a {base.vocabulary_size}-entry vocabulary, the table {V} entries")
        scale = base.motion_scale if seed_zero == "coefficients" else 1.0
        config = {**dict(base._hub_mixin_config), "vocabulary_size": V, "motion_scale": scale, "seed_zero": seed_zero}
        model = Still2Motion(**config)
        missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
        assert not unexpected and all(k.startswith("vocab_head.") for k in missing), (missing, unexpected)
    K, M = table.affine.shape[1], table.affine.shape[3]
    if (K, M) != (model.num_layers, model.num_harmonics):
        raise ValueError(f"table '{table_path}' has {K} layers and {M} harmonics, the model {model.num_layers} and "
                         f"{model.num_harmonics}")
    model.vocab_head.set_table(table.masks, table.affine, table.flow)
    return model
