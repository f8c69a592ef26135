"""Experiments no shipped recipe uses (the motion vocabulary, per-loop weights, colour dropout, squash augmentation)
and the lab log.

``research`` may import ``still2motion`` and ``train``; neither imports it. It reaches the training core through one
seam only (``train/hooks.py``)."""
