"""Named motions (bob, sway, breathe, ...): hand-built ``Motion``s in the learned model's own representation.

Each preset is a periodic trajectory of ``theta - I`` (and, for ``wiggle``, a coarse flow) written with the Fourier
basis of ``motion.py``, so its loop closes by construction, frame 0 is the input and any frame count samples it.
Geometry comes from the alpha silhouette in the letterbox canvas: the pivot is the bottom-centre of its bounding box
(breathe, bob, sway, bounce) or its centre (pulse, spin), and the amplitude is the peak displacement of any
silhouette pixel divided by the silhouette's height, so a 24-px emoticon and a 300-px sticker move alike.

Amplitudes are capped so the motion stays inside the output frame: a side of the frame the silhouette does not touch
is never crossed, and at least ``MIN_VISIBLE`` of the silhouette stays in the frame in every phase (a sprite cropped
to its bounding box touches every side). ``spin`` is one full turn whatever the amplitude, and is never capped.

All maps are *backward*, as in ``motion.py``: output pixel ``q`` samples the input at ``s = (I + E) q + d``. A
forward motion ``p -> p + delta`` is written to first order as ``E = -E_forward`` about the pivot; the calibration
measures the exact forward displacement of the map it built.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .motion import Box, Motion, fourier_basis

MIN_VISIBLE = 0.9  # fraction of the silhouette's alpha that must stay inside the frame in every phase
_SILHOUETTE_ALPHA = 0.5  # canvas alpha above which a pixel belongs to the silhouette (its edge)
_CHECK_PHASES = 32  # phases at which amplitude and framing are measured
_MAX_POINTS = 512  # silhouette pixels that measure visibility (a strided subset above this)


@dataclass(frozen=True)
class Silhouette:
    """Where the moving shape is, in canvas units (``[-1, 1]``, y down)."""

    left: float
    right: float
    top: float
    bottom: float
    frame: tuple[float, float, float, float]  # the output frame (left, right, top, bottom) in canvas units
    points: torch.Tensor  # (N, 2) silhouette pixel centres (x, y), a strided subset
    weights: torch.Tensor  # (N,) their alpha
    edge: torch.Tensor  # (E, 2) centres of the silhouette's boundary pixels (where extremes of a smooth motion lie)
    canvas_size: int

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def base(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, self.bottom)

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.top + self.bottom) / 2)


@dataclass
class _Trajectory:
    """One layer's backward map as Fourier series ``(M, 2)`` of ``(cos m phi - 1, sin m phi)`` coefficients."""

    linear: torch.Tensor  # (2, 2, M, 2): E
    shift: torch.Tensor  # (2, M, 2): d
    flow: torch.Tensor | None = None  # (2, M, 2, R, R) backward flow over the canvas


Builder = Callable[[Silhouette, float, int], _Trajectory]


@dataclass(frozen=True)
class Preset:
    """A row of the table: what it does, its default amplitude (fraction of silhouette height), and its builder.

    ``build(silhouette, u, M)`` returns the trajectory for a size parameter ``u`` (the calibration finds the ``u``
    that gives the asked amplitude); ``scalable`` is False where scaling the coefficients is not a smaller motion.
    """

    description: str
    amplitude: float
    build: Builder
    scalable: bool = True


# scalar series f(phi) with f(0) = 0, as {(m, "a" | "b"): coefficient}
_HUMP = {(1, "a"): -0.5}  # (1 - cos phi) / 2: 0 -> 1 at phi = pi -> 0
_HUMP_SQ = {(1, "a"): -0.5, (2, "a"): 0.125}  # ((1 - cos phi) / 2) ** 2: stays low near phi = 0
_SIN = {(1, "b"): 1.0}


def _series(terms: dict, M: int, scale: float = 1.0) -> torch.Tensor:
    """``(M, 2)`` coefficients of ``scale * f``; harmonics above ``M`` are dropped."""
    out = torch.zeros(M, 2)
    for (m, ab), value in terms.items():
        if m <= M:
            out[m - 1, 0 if ab == "a" else 1] += scale * value
    return out


def _about(linear: torch.Tensor, pivot: tuple[float, float], forward_shift: torch.Tensor | None = None) -> _Trajectory:
    """The backward map ``s = pivot + (I + E)(q - pivot) - t``: ``d = -E pivot - t`` (``t`` a forward shift)."""
    p = torch.tensor(pivot)
    shift = -torch.einsum("ijmc,j->imc", linear, p)
    if forward_shift is not None:
        shift = shift - forward_shift
    return _Trajectory(linear, shift)


def _diag(ex: torch.Tensor, ey: torch.Tensor) -> torch.Tensor:
    zero = torch.zeros_like(ex)
    return torch.stack((torch.stack((ex, zero)), torch.stack((zero, ey))))  # (2, 2, M, 2)


def _rotation(cos_minus_1: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """``R(-alpha) - I`` from the series of ``cos(alpha) - 1`` and ``sin(alpha)`` (backward of a turn by alpha)."""
    return torch.stack((torch.stack((cos_minus_1, sin)), torch.stack((-sin, cos_minus_1))))


def _shift(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.stack((x, y))  # (2, M, 2)


def _bob(s: Silhouette, u: float, M: int) -> _Trajectory:
    zero = torch.zeros(M, 2)
    return _about(_diag(zero, zero), s.base, _shift(zero, _series(_HUMP, M, -u * s.height)))


def _float(s: Silhouette, u: float, M: int) -> _Trajectory:
    # an ellipse through the rest position: x = u h / 2 sin(phi), y = -u h (1 - cos phi) / 2
    zero = torch.zeros(M, 2)
    t = _shift(_series(_SIN, M, 0.5 * u * s.height), _series(_HUMP, M, -u * s.height))
    return _about(_diag(zero, zero), s.centre, t)


def _shake(s: Silhouette, u: float, M: int) -> _Trajectory:
    zero = torch.zeros(M, 2)
    terms = {(2, "b"): 0.6, (3, "b"): 0.4} if M >= 3 else {(min(M, 2), "b"): 1.0}
    return _about(_diag(zero, zero), s.centre, _shift(_series(terms, M, u * s.height), zero))


def _breathe(s: Silhouette, u: float, M: int) -> _Trajectory:
    # forward: height x (1 + u c), width x (1 - u c / 2), about the base; backward is the opposite to first order
    return _about(_diag(_series(_HUMP, M, 0.5 * u), _series(_HUMP, M, -u)), s.base)


def _pulse(s: Silhouette, u: float, M: int) -> _Trajectory:
    e = _series(_HUMP, M, -u)
    return _about(_diag(e, e), s.centre)


def _sway(s: Silhouette, u: float, M: int) -> _Trajectory:
    # alpha(phi) = u sin(phi); cos(alpha) - 1 and sin(alpha) to third order, each a short series in phi
    cos_minus_1 = _series({(2, "a"): 0.25}, M, u * u)  # -alpha^2 / 2 = (u^2 / 4)(cos 2 phi - 1)
    sin = _series({(1, "b"): 1.0 - u * u / 8, (3, "b"): u * u / 24}, M, u)  # alpha - alpha^3 / 6
    return _about(_rotation(cos_minus_1, sin), s.base)


def _spin(s: Silhouette, u: float, M: int) -> _Trajectory:
    # alpha = phi exactly: cos(phi) - 1 and sin(phi) are the first harmonic itself
    return _about(_rotation(_series({(1, "a"): 1.0}, M), _series(_SIN, M)), s.centre)


def _bounce(s: Silhouette, u: float, M: int) -> _Trajectory:
    # a hop of height u h (c^2: it stays on the ground a while), and a vertical scale e = k (3 c^2 - 2 c) about the
    # base: squash (e = -k / 3) while crouching, stretch (e = k) at the top; width counter-scaled
    k = 0.5 * u
    e = _series(_HUMP_SQ, M, 3 * k) + _series(_HUMP, M, -2 * k)
    zero = torch.zeros(M, 2)
    return _about(_diag(0.5 * e, -e), s.base, _shift(zero, _series(_HUMP_SQ, M, -u * s.height)))


def _wiggle(s: Silhouette, u: float, M: int) -> _Trajectory:
    # a horizontal wave travelling up the shape, its amplitude growing from 0 at the base: the base stays planted
    R = s.canvas_size
    ys = (torch.arange(R, dtype=torch.float32) + 0.5) * (2 / R) - 1  # (R,) canvas y of each row
    height = max(s.height, 2 / R)
    lever = ((s.bottom - ys) / height).clamp(0, 1)  # (R,)
    kappa = 2 * math.pi / height  # one wavelength over the silhouette's height
    # A [sin(kappa y - phi) - sin(kappa y)] = A [sin(kappa y)(cos phi - 1) - cos(kappa y) sin phi]
    amp = 0.5 * u * s.height * lever
    flow = torch.zeros(2, M, 2, R, R)
    flow[0, 0, 0] = (amp * torch.sin(kappa * ys))[:, None]
    flow[0, 0, 1] = (-amp * torch.cos(kappa * ys))[:, None]
    zero = torch.zeros(M, 2)
    return _Trajectory(_diag(zero, zero), _shift(zero, zero), flow)


PRESETS: dict[str, Preset] = {
    "breathe": Preset("vertical scale about the base, width counter-scaled", 0.03, _breathe),
    "bob": Preset("up and down, resting on its base", 0.05, _bob),
    "sway": Preset("rocks side to side, turning about the base", 0.06, _sway),
    "bounce": Preset("squashes at the base, then stretches and hops", 0.12, _bounce),
    "float": Preset("a small hover on an ellipse", 0.05, _float),
    "pulse": Preset("grows and shrinks about the centre", 0.05, _pulse),
    "wiggle": Preset("a wave travels up the shape, the base planted", 0.04, _wiggle),
    "shake": Preset("a quick side-to-side tremor", 0.03, _shake),
    "spin": Preset("one full turn about the centre (ignores strength)", 0.0, _spin, scalable=False),
}
PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)


def preset_table() -> list[str]:
    """One line per preset, in table order: name, default amplitude, what it does (for ``--motion list``)."""
    lines = []
    for name, p in PRESETS.items():
        amp = f"{p.amplitude:.0%}" if p.scalable else "full turn"
        lines.append(f"{name:<8} {amp:>9}  {p.description}")
    return lines


def get_preset(name) -> Preset:
    """The table row for ``name``, or a one-line ``ValueError`` naming it and the choices."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"motion must be 'auto' or one of {', '.join(PRESET_NAMES)}; got {name!r}")
    return PRESETS[name]


def silhouette_of(alpha: torch.Tensor, box: Box | None = None) -> Silhouette:
    """The silhouette of one canvas alpha ``(R, R)`` (or a front-layer mask), in the frame ``box`` (default: canvas)."""
    R = alpha.shape[-1]
    unit = 2 / R
    if box is None:
        box = (0, 0, R, R)
    left, top, bw, bh = (float(v) for v in box)
    frame = (left * unit - 1, (left + bw) * unit - 1, top * unit - 1, (top + bh) * unit - 1)
    inside = alpha > _SILHOUETTE_ALPHA
    if not inside.any():  # nothing visible: the frame itself stands in for the shape
        inside = torch.zeros_like(inside)
        inside[int(top) : int(top + bh), int(left) : int(left + bw)] = True
    ys, xs = torch.nonzero(inside, as_tuple=True)

    def centres(px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
        return torch.stack(((px.float() + 0.5) * unit - 1, (py.float() + 0.5) * unit - 1), dim=1)

    stride = max(1, math.ceil(len(xs) / _MAX_POINTS))
    px, py = xs[::stride], ys[::stride]
    padded = F.pad(inside[None, None].float(), (1, 1, 1, 1))[0, 0]
    interior = (padded[:-2, 1:-1] * padded[2:, 1:-1] * padded[1:-1, :-2] * padded[1:-1, 2:]).bool()
    ey, ex = torch.nonzero(inside & ~interior, as_tuple=True)
    edge_stride = max(1, math.ceil(len(ex) / _MAX_POINTS))
    extremes = torch.stack((ex.argmin(), ex.argmax(), ey.argmin(), ey.argmax()))  # kept however the edge is thinned
    ex, ey = torch.cat((ex[::edge_stride], ex[extremes])), torch.cat((ey[::edge_stride], ey[extremes]))
    return Silhouette(
        left=xs.min().item() * unit - 1, right=(xs.max().item() + 1) * unit - 1,
        top=ys.min().item() * unit - 1, bottom=(ys.max().item() + 1) * unit - 1,
        frame=frame, points=centres(px, py), weights=alpha[py, px].float().clamp(min=_SILHOUETTE_ALPHA),
        edge=centres(ex, ey), canvas_size=R,
    )


def _forward_positions(traj: _Trajectory, points: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """Where the silhouette points go at each phase (inverting the backward map): ``(T, N, 2)``."""
    basis = fourier_basis(phases, traj.linear.shape[2])  # (T, M, 2)
    E = torch.einsum("ijmc,tmc->tij", traj.linear, basis)  # (T, 2, 2)
    d = torch.einsum("imc,tmc->ti", traj.shift, basis)  # (T, 2)
    L = torch.eye(2) + E  # (T, 2, 2)
    singular = torch.linalg.det(L).abs() < 1e-3  # a map that folds the image flat: no forward position
    inv = torch.linalg.inv(torch.where(singular[:, None, None], torch.eye(2), L))
    q = torch.einsum("tij,tnj->tni", inv, points[None] - d[:, None])
    if traj.flow is not None:  # s = L q + d + f(q): two fixed-point steps (exact for a flow that moves along x by y)
        maps = torch.einsum("imchw,tmc->tihw", traj.flow, basis)  # (T, 2, R, R)
        for _ in range(2):
            f = F.grid_sample(maps, q[:, None], mode="bilinear", padding_mode="border", align_corners=False)[:, :, 0]
            q = torch.einsum("tij,tnj->tni", inv, points[None] - d[:, None] - f.transpose(1, 2))
    return torch.where(singular[:, None, None], torch.full_like(q, math.inf), q)


def _measure(traj: _Trajectory, s: Silhouette) -> tuple[float, bool]:
    """Peak displacement / height, and whether the moved silhouette stays in the frame (see the module docstring)."""
    phases = torch.arange(_CHECK_PHASES, dtype=torch.float32) * (2 * math.pi / _CHECK_PHASES)
    half = 1 / s.canvas_size  # half a canvas pixel
    corners = (s.edge[:, None] + half * torch.tensor([[-1.0, -1], [1, -1], [-1, 1], [1, 1]])).reshape(-1, 2)
    N, E = len(s.points), len(s.edge)
    q = _forward_positions(traj, torch.cat((s.points, s.edge, corners)), phases)  # (T, N + 5E, 2)
    centres, edge, q = q[:, :N], q[:, N : N + E], q[:, N + E :]
    peak = (edge - s.edge).norm(dim=-1).max().item() / max(s.height, 1e-6)  # inf where the map is singular
    fl, fr, ft, fb = s.frame
    x, y = q[..., 0], q[..., 1]
    ok = bool(torch.isfinite(q).all())
    for free, beyond in (  # a side the silhouette touches is free; the pixels' corners stay inside the others
        (s.left - fl < half, fl - x), (fr - s.right < half, x - fr), (s.top - ft < half, ft - y), (fb - s.bottom < half, y - fb),
    ):
        if not free and (beyond > 1e-5).any():
            ok = False
    cx, cy = centres[..., 0], centres[..., 1]
    inside = (cx >= fl) & (cx <= fr) & (cy >= ft) & (cy <= fb)  # (T, N)
    visible = (inside.float() * s.weights).sum(dim=1) / s.weights.sum()
    return peak, ok and visible.min().item() >= MIN_VISIBLE


def _calibrated(preset: Preset, s: Silhouette, amplitude: float, M: int) -> _Trajectory:
    """The preset's trajectory at ``amplitude`` (peak displacement / height), capped to stay in the frame."""
    if amplitude <= 0:
        return preset.build(s, 0.0, M)
    u = amplitude
    for _ in range(4):  # near-linear in u: a secant step or two hits the asked peak
        peak, fits = _measure(preset.build(s, u, M), s)
        if not 0 < peak < math.inf or abs(peak - amplitude) <= 0.01 * amplitude:
            break
        u *= amplitude / peak
    else:
        fits = _measure(preset.build(s, u, M), s)[1]
    if fits:
        return preset.build(s, u, M)
    low, high = 0.0, u  # largest u in [0, u] whose motion stays in the frame
    for _ in range(10):
        mid = (low + high) / 2
        low, high = (mid, high) if _measure(preset.build(s, mid, M), s)[1] else (low, mid)
    return preset.build(s, low, M)


def preset_motion(
    name: str,
    canvas: torch.Tensor,
    *,
    amplitude: float | None = None,
    num_harmonics: int = 3,
    box: Box | None = None,
    silhouette: torch.Tensor | None = None,
) -> Motion:
    """Builds a preset's ``Motion`` for letterboxed images, in canvas coordinates (render with ``motion.render_loop``).

    Args:
        name: one of ``PRESET_NAMES``.
        canvas: ``(B, 4, R, R)`` premultiplied letterboxed input; its alpha is the silhouette (an opaque image's is
            its letterbox box).
        amplitude: peak displacement of any silhouette pixel divided by the silhouette's height; ``None`` is the
            preset's default. Capped so the motion stays in the frame. ``spin`` ignores it (one full turn).
        num_harmonics: ``M`` of the result; harmonics a preset needs above ``M`` are dropped (``sway`` is exact to
            second order with ``M >= 2``; ``shake`` uses harmonics 2-3).
        box: the output frame in canvas pixels ``(left, top, width, height)`` (the letterbox box); default the canvas.
        silhouette: ``(B, R, R)`` or ``(B, 1, R, R)`` weights that replace the canvas alpha as the moving shape
            (a front-layer mask or a brushed mask).

    Returns:
        ``Motion`` with ``K = 1`` (masks all ones ``(B, 1, R, R)``), affine ``(B, 1, 6, M, 2)`` and flow
        ``(B, 1, 2, M, 2, Hf, Wf)`` (``Hf = Wf = R`` for ``wiggle``, else 1).

    Raises:
        ValueError: an unknown name, a canvas that is not ``(B, 4, R, R)``, a negative amplitude or ``M < 1``.
    """
    preset = get_preset(name)
    if canvas.ndim != 4 or canvas.shape[1] != 4 or canvas.shape[2] != canvas.shape[3]:
        raise ValueError(f"canvas must be (B, 4, R, R), got {tuple(canvas.shape)}")
    if amplitude is not None and not (isinstance(amplitude, (int, float)) and math.isfinite(amplitude) and amplitude >= 0):
        raise ValueError(f"amplitude must be a number >= 0, got {amplitude!r}")
    if not isinstance(num_harmonics, int) or num_harmonics < 1:
        raise ValueError(f"num_harmonics must be an integer >= 1, got {num_harmonics!r}")
    B, _, R, _ = canvas.shape
    alpha = canvas[:, 3] if silhouette is None else silhouette.reshape(B, R, R)
    amplitude = preset.amplitude if amplitude is None else float(amplitude)
    trajs = []
    for b in range(B):
        s = silhouette_of(alpha[b].detach().float().cpu(), box)
        trajs.append(_calibrated(preset, s, amplitude, num_harmonics) if preset.scalable else preset.build(s, 1.0, num_harmonics))
    rows = [torch.cat((t.linear[0], t.shift[0:1]), 0) for t in trajs]  # (3, M, 2): E00, E01, d0
    rows2 = [torch.cat((t.linear[1], t.shift[1:2]), 0) for t in trajs]
    affine = torch.stack([torch.cat((r0, r1), 0) for r0, r1 in zip(rows, rows2)])[:, None]  # (B, 1, 6, M, 2)
    if any(t.flow is not None for t in trajs):
        zero = torch.zeros(2, num_harmonics, 2, R, R)
        flow = torch.stack([t.flow if t.flow is not None else zero for t in trajs])[:, None]  # (B, 1, 2, M, 2, R, R)
    else:
        flow = torch.zeros(B, 1, 2, num_harmonics, 2, 1, 1)
    masks = torch.ones(B, 1, R, R)
    to = dict(device=canvas.device, dtype=canvas.dtype)
    return Motion(masks=masks.to(**to), affine=affine.to(**to), flow=flow.to(**to))
