"""Loop-quality metrics: pure functions on clips, no model and no I/O.

Every clip is a float tensor ``(T, 4, H, W)``: premultiplied RGBA in ``[0, 1]``, frame ``t`` at loop phase
``2 pi t / T``. ``generated`` and ``real`` always have the same ``T``, ``H`` and ``W``; ``input`` is one frame
``(4, H, W)``, the still the generator animated (the real loop's frame 0). All differences are taken over every
channel of premultiplied RGBA (so a transparent pixel is 0 whatever its colour) and averaged, so values are in the
units of a ``[0, 1]`` pixel. ``score_clip`` returns them all; ``score_real`` the two that only need the real loop.
"""

from __future__ import annotations

import math

import torch

PSNR_CAP_DB = 100.0  # PSNR of identical clips (MSE 0), and the most any clip can score
ALIVE_RANGE = (0.5, 2.0)  # a clip is "alive" when its motion energy is within this factor of the real loop's
ALPHA_THRESHOLD = 0.5  # alpha above this counts as opaque for alpha IoU

METRICS = (
    "l1", "psnr", "phase_l1", "motion_energy", "motion_ratio", "alive", "seam_ratio",
    "first_frame_l1", "first_frame_exact", "sharpness_ratio", "alpha_iou",
)  # keys of score_clip, in table order
REAL_METRICS = ("seam_ratio", "motion_energy")  # keys of score_real


def _check_clip(name: str, clip: torch.Tensor) -> None:
    if not isinstance(clip, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(clip).__name__}")
    if clip.ndim != 4 or clip.shape[1] != 4 or clip.shape[0] < 1:
        raise ValueError(f"{name} must be (T, 4, H, W) with T >= 1, got {tuple(clip.shape)}")


def _check_pair(generated: torch.Tensor, real: torch.Tensor) -> None:
    _check_clip("generated", generated)
    _check_clip("real", real)
    if generated.shape != real.shape:
        raise ValueError(
            f"generated and real must have the same shape, got {tuple(generated.shape)} and {tuple(real.shape)}"
        )


def _check_input(image: torch.Tensor, clip: torch.Tensor) -> None:
    if not isinstance(image, torch.Tensor) or image.shape != clip.shape[1:]:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"input must be one frame {tuple(clip.shape[1:])} of the clip, got {shape}")


def l1(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Mean absolute difference ``mean |generated - real|`` over frames, channels and pixels."""
    _check_pair(generated, real)
    return float((generated.double() - real.double()).abs().mean())


def psnr(generated: torch.Tensor, real: torch.Tensor, cap: float = PSNR_CAP_DB) -> float:
    """Peak signal-to-noise ratio in dB with peak 1: ``10 log10(1 / MSE)``, MSE over the whole clip.

    Capped at ``cap`` (``PSNR_CAP_DB`` = 100 dB), which is also the value for identical clips (MSE 0), so the
    number is always finite and a mean over clips stays meaningful.
    """
    _check_pair(generated, real)
    mse = float(((generated.double() - real.double()) ** 2).mean())
    if mse <= 0:
        return cap
    return min(cap, 10 * math.log10(1.0 / mse))


def phase_alignment(generated: torch.Tensor, real: torch.Tensor) -> tuple[float, int, bool]:
    """The cyclic shift and direction of ``generated`` that best matches ``real``, and its L1.

    Candidates are ``g_{s,+}[t] = generated[(s + t) mod T]`` and ``g_{s,-}[t] = generated[(s - t) mod T]`` for
    ``s = 0..T-1``: every way to start the loop at another frame and to play it forwards or backwards.

    Returns:
        ``(l1, shift, reversed)`` of the best candidate (the first one found on ties: no shift, forwards).
    """
    _check_pair(generated, real)
    T = generated.shape[0]
    # pairwise frame distances once, D[i, j] = mean |g_i - r_j|; each candidate sums one wrapped diagonal of D
    D = torch.cdist(generated.flatten(1).double()[None], real.flatten(1).double()[None], p=1)[0] / generated[0].numel()
    t = torch.arange(T)
    best = (math.inf, 0, False)
    for reverse in (False, True):
        for shift in range(T):
            order = (shift - t) % T if reverse else (shift + t) % T
            value = float(D[order, t].mean())
            if value < best[0]:
                best = (value, shift, reverse)
    return best


def phase_aligned_l1(generated: torch.Tensor, real: torch.Tensor) -> float:
    """L1 minimised over the ``2 T`` cyclic shifts and time reversals of ``generated`` (``phase_alignment``).

    A loop has no canonical starting phase or direction, so plain L1 punishes a correct motion played from another
    frame; this does not. ``phase_aligned_l1 <= l1`` always.
    """
    return phase_alignment(generated, real)[0]


def _steps(clip: torch.Tensor) -> torch.Tensor:
    """Mean |frame_{t+1} - frame_t| for t = 0..T-2: ``(T-1,)``."""
    return (clip[1:].double() - clip[:-1].double()).abs().mean(dim=(1, 2, 3))


def motion_energy(clip: torch.Tensor) -> float:
    """Mean absolute change per frame step around the loop, the wrap-around step included.

    ``(1 / T) sum_{t=0}^{T-1} mean |clip[(t+1) mod T] - clip[t]|``; 0 for a static clip or ``T = 1``.
    """
    _check_clip("clip", clip)
    T = clip.shape[0]
    if T < 2:
        return 0.0
    wrap = float((clip[0].double() - clip[-1].double()).abs().mean())
    return (float(_steps(clip).sum()) + wrap) / T


def motion_ratio(generated: torch.Tensor, real: torch.Tensor) -> float:
    """``motion_energy(generated) / motion_energy(real)``: 1 moves as much as the real loop, 0 is still.

    Where the real loop is static: 1.0 if the generated one is static too, else ``inf``.
    """
    _check_pair(generated, real)
    e_gen, e_real = motion_energy(generated), motion_energy(real)
    if e_real == 0:
        return 1.0 if e_gen == 0 else math.inf
    return e_gen / e_real


def is_alive(ratio: float) -> bool:
    """Whether a motion ratio is within ``ALIVE_RANGE`` (0.5 to 2, inclusive): moving about as much as the real loop."""
    return ALIVE_RANGE[0] <= ratio <= ALIVE_RANGE[1]


def seam_ratio(clip: torch.Tensor) -> float:
    """Loop seam: ``mean |clip[0] - clip[T-1]|`` over the mean of ``mean |clip[t+1] - clip[t]|``, t = 0..T-2.

    About 1 for a seamless loop (the wrap-around step looks like any other step); above 1 the loop visibly jumps
    where it restarts. Defined as 1.0 for a static clip (every consecutive step 0) and for ``T = 1``.
    """
    _check_clip("clip", clip)
    if clip.shape[0] < 2:
        return 1.0
    mean_step = float(_steps(clip).mean())
    if mean_step == 0:
        return 1.0
    return float((clip[0].double() - clip[-1].double()).abs().mean()) / mean_step


def first_frame_fidelity(generated: torch.Tensor, image: torch.Tensor) -> tuple[float, bool]:
    """How well frame 0 reproduces the input: ``(mean |generated[0] - input|, generated[0] == input exactly)``."""
    _check_clip("generated", generated)
    _check_input(image, generated)
    exact = bool(torch.equal(generated[0], image.to(generated.dtype)))
    return float((generated[0].double() - image.double()).abs().mean()), exact


def gradient_energy(image: torch.Tensor) -> torch.Tensor:
    """Mean squared forward difference along x plus that along y, over channels: ``(..., 4, H, W) -> (...)``.

    An axis of length 1 contributes 0.
    """
    x = image.double()
    energy = x.new_zeros(x.shape[:-3])
    if x.shape[-1] > 1:
        energy = energy + (x[..., 1:] - x[..., :-1]).pow(2).mean(dim=(-3, -2, -1))
    if x.shape[-2] > 1:
        energy = energy + (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean(dim=(-3, -2, -1))
    return energy


def sharpness_ratio(generated: torch.Tensor, image: torch.Tensor) -> float:
    """Mean gradient energy of the generated frames over the input's (``gradient_energy``).

    1 keeps the input's detail (pure motion); below 1 is blur (motion smeared into softness); above 1 adds edges
    (tearing, noise). A flat input (gradient energy 0) has nothing to blur: the ratio is then 1.0.
    """
    _check_clip("generated", generated)
    _check_input(image, generated)
    reference = float(gradient_energy(image))
    if reference == 0:
        return 1.0
    return float(gradient_energy(generated).mean()) / reference


def clip_alpha_iou(generated: torch.Tensor, real: torch.Tensor, threshold: float = ALPHA_THRESHOLD) -> float:
    """Intersection over union of the opaque masks (alpha > ``threshold``), frame by frame, averaged over frames.

    A frame where both masks are empty scores 1.0.
    """
    _check_pair(generated, real)
    g = generated[:, 3] > threshold  # (T, H, W)
    r = real[:, 3] > threshold
    inter = (g & r).flatten(1).sum(dim=1).double()
    union = (g | r).flatten(1).sum(dim=1).double()
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
    return float(iou.mean())


def score_clip(generated: torch.Tensor, real: torch.Tensor, input: torch.Tensor) -> dict[str, float | bool]:
    """Every metric of one generated loop against the real one.

    Args:
        generated: ``(T, 4, H, W)`` premultiplied RGBA in ``[0, 1]``.
        real: ``(T, 4, H, W)``, the real loop, frame 0 the input.
        input: ``(4, H, W)``, the still that was animated.

    Returns:
        ``{"l1", "psnr", "phase_l1", "motion_energy", "motion_ratio", "alive", "seam_ratio", "first_frame_l1",
        "first_frame_exact", "sharpness_ratio", "alpha_iou"}`` (``METRICS``); ``alive`` and ``first_frame_exact``
        are bools, the rest floats (``motion_ratio`` may be ``inf`` when the real loop is static).

    Raises:
        TypeError, ValueError: a clip that is not a ``(T, 4, H, W)`` tensor, or shapes that differ.
    """
    _check_pair(generated, real)
    _check_input(input, generated)
    ratio = motion_ratio(generated, real)
    first_l1, first_exact = first_frame_fidelity(generated, input)
    return {
        "l1": l1(generated, real),
        "psnr": psnr(generated, real),
        "phase_l1": phase_aligned_l1(generated, real),
        "motion_energy": motion_energy(generated),
        "motion_ratio": ratio,
        "alive": is_alive(ratio),
        "seam_ratio": seam_ratio(generated),
        "first_frame_l1": first_l1,
        "first_frame_exact": first_exact,
        "sharpness_ratio": sharpness_ratio(generated, input),
        "alpha_iou": clip_alpha_iou(generated, real),
    }


def score_real(real: torch.Tensor) -> dict[str, float]:
    """The reference numbers of a real loop: ``{"seam_ratio", "motion_energy"}`` (``REAL_METRICS``)."""
    return {"seam_ratio": seam_ratio(real), "motion_energy": motion_energy(real)}


def diversity(a: torch.Tensor, b: torch.Tensor, input: torch.Tensor) -> float:
    """How different two loops of one input are: ``phase_aligned_l1(a, b) / mean(l1(a, input), l1(b, input))``.

    ``l1(x, input)`` compares every frame of ``x`` with the still; the alignment allows cyclic shifts and reversal, so
    a loop against a phase-shifted or reversed copy of itself scores 0, and two loops that move equally far but in
    unrelated ways score about 1 or more. Two still loops (no motion to compare) score 0.
    """
    _check_pair(a, b)
    _check_input(input, a)
    still = input.unsqueeze(0).expand_as(a)
    scale = (l1(a, still) + l1(b, still)) / 2
    if scale == 0:
        return 0.0
    return phase_aligned_l1(a, b) / scale


def seed_diversity(clips: list[torch.Tensor], input: torch.Tensor) -> float:
    """Mean ``diversity`` over all pairs of ``clips`` (the loops of seeds 0..k-1 of one input); 0 for one clip."""
    pairs = [(i, j) for i in range(len(clips)) for j in range(i + 1, len(clips))]
    if not pairs:
        return 0.0
    return sum(diversity(clips[i], clips[j], input) for i, j in pairs) / len(pairs)


def best_of(clips: list[torch.Tensor], real: torch.Tensor) -> float:
    """Best-of-k phase-aligned L1: the lowest ``phase_aligned_l1`` of any of ``clips`` (a person can press "Random
    seed" until one fits), so never above the single-seed value of any of them."""
    if not clips:
        raise ValueError("best_of needs at least one clip, got none")
    return min(phase_aligned_l1(c, real) for c in clips)
