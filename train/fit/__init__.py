"""Stage 1: each real loop's motion fitted by gradient descent (per-pixel and coherent fits), the targets on disk,
and the two kinds of loop."""
