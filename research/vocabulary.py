"""A motion vocabulary: the coherent fits of training loops clustered into a small table of real motions.

Issue 19's candidate training target: instead of regressing ~6k Fourier coefficients that have no unique solution,
a network scores a few dozen motions. The table is built here from ``train/fit/coherent_fit.py`` fits (per-layer affine in
silhouette coordinates, a 4² flow over the box, masks over height), with no training:

1. **Describe** each loop by what it does, not by its parameters: the displacement trajectory ``d(u, phi)`` of a
   ``POINTS``² grid of points spread over the silhouette box, in box heights, as Fourier coefficients
   ``(P, 2, M, 2)`` (``displacement``). It mixes the layers by their masks and adds affine and flow, so two fits that
   swap layers or trade affine for flow describe the same motion.
2. **Canonicalise** the phase (``canonical_phase``): rotate every harmonic by ``m psi`` with ``psi`` maximising the
   cosine part of the trajectory (the input sits at an extreme of the motion), ties broken towards the first
   harmonic.
3. **Cluster** with k-medoids (``kmedoids``: sum of distances, not squared) on a distance that is exactly invariant
   to what a loop's motion does not fix: the minimum over ``PHASES`` further phase shifts, time reversal
   (``b -> -b``) and mirroring (``x -> -x``) of the L2 between descriptors (``group_distances`` gives its square).
   Medoids keep real motions: each entry is one training loop's coherent fit, phase-canonicalised.

The table (``save_table`` / ``load_table``) holds per entry ``c_masks (V, K, Nh)``, ``c_affine (V, K, 6, M, 2)``,
``c_flow (V, K, 2, M, 2, F, F)`` (``coherent_fit.Coherent``), ``members (V,)`` and ``medoid (V,)`` (its row in the fit
file); metadata ``seqs`` (the medoids' loops) and ``config``. ``variant`` turns an entry into a rendered motion:
a phase anchor (where the input sits in the cycle), a mirror and an amplitude scale.

    python research/vocabulary.py --fits ~/.cache/still2motion/coherent_train_every4.safetensors --size 64 \\
        --output ~/.cache/still2motion/vocab64.safetensors [--seed 0] [--min_gain 0.15]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

if __package__ in (None, ""):  # run as a script: import `train` from the repo root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from still2motion.motion import Motion, shift_phase  # noqa: E402
from train.fit.coherent_fit import TX, B_, C, Coherent  # noqa: E402
from train.fit.motion_targets import MotionTargets  # noqa: E402

logger = logging.getLogger("vocabulary")

POINTS = 5  # descriptor points per side of the silhouette box (odd and symmetric, so a mirror permutes them)
PHASES = 16  # phase shifts the clustering distance minimises over, after canonicalisation
_CANONICAL_STEPS = 64  # grid of phases canonical_phase searches


def _box_points(boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Descriptor points of each box: box-relative ``r (P, 2)`` in ``[0, 1]`` and silhouette coordinates
    ``u (B, P, 2)`` (``u = (x - pivot) / h``: ``x`` in ``[-aspect / 2, aspect / 2]``, ``y`` in ``[-1, 0]``)."""
    lin = (torch.arange(POINTS, dtype=torch.float32) + 0.5) / POINTS
    ry, rx = torch.meshgrid(lin, lin, indexing="ij")
    r = torch.stack((rx, ry), dim=-1).view(-1, 2)  # (P, 2), row-major: top row first
    aspect = ((boxes[:, 2] - boxes[:, 0]) / (boxes[:, 3] - boxes[:, 1]).clamp_min(1e-3)).view(-1, 1)  # (B, 1)
    ux = (r[:, 0] - 0.5) * aspect  # (B, P)
    u = torch.stack((ux, (r[:, 1] - 1).expand_as(ux)), dim=-1)  # (B, P, 2)
    return r, u


def displacement(c: Coherent, boxes: torch.Tensor) -> torch.Tensor:
    """The backward displacement trajectories of ``POINTS``² points over each silhouette box, in box heights, as
    Fourier coefficients ``(B, P, 2, M, 2)`` (point, x/y, harmonic, cos/sin): layers mixed by their masks."""
    B, K = c.affine.shape[:2]
    r, u = _box_points(boxes)
    grid = (2 * r - 1).view(1, 1, -1, 2).expand(B, 1, -1, 2)  # (B, 1, P, 2) grid_sample coords over the box
    heights = c.masks.unsqueeze(-1)  # (B, K, Nh, 1): one column, top to base
    weights = torch.softmax(F.grid_sample(heights, grid, padding_mode="border", align_corners=False)[:, :, 0], 1)
    flow = F.grid_sample(c.flow.flatten(1, 4), grid, padding_mode="border", align_corners=False)[:, :, 0]
    flow = flow.view(*c.flow.shape[:5], -1).permute(0, 1, 5, 2, 3, 4)  # (B, K, P, 2, M, 2)
    a = c.affine  # (B, K, 6, M, 2): rows (A, B, TX), (C, D, TY)
    ux, uy = u[..., 0].view(B, 1, -1, 1, 1), u[..., 1].view(B, 1, -1, 1, 1)
    dx = a[:, :, None, 0] * ux + a[:, :, None, 1] * uy + a[:, :, None, 2]  # (B, K, P, M, 2)
    dy = a[:, :, None, 3] * ux + a[:, :, None, 4] * uy + a[:, :, None, 5]
    per_layer = torch.stack((dx, dy), dim=3) + flow  # (B, K, P, 2, M, 2)
    return torch.einsum("bkp,bkpdmc->bpdmc", weights, per_layer)


def rotate_phase(d: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """Coefficients ``(B, ..., M, 2)`` re-anchored at phase ``psi (B,)`` (``motion.shift_phase``'s rotation)."""
    M = d.shape[-2]
    angle = psi.view(-1, *([1] * (d.ndim - 3)), 1) * torch.arange(1, M + 1, dtype=d.dtype)  # (B, ..., M)
    a, b = d[..., 0], d[..., 1]
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.stack((a * cos + b * sin, b * cos - a * sin), dim=-1)


def canonical_phase(d: torch.Tensor) -> torch.Tensor:
    """The anchor ``psi (B,)`` that puts the input at an extreme of the motion: the grid phase maximising the energy
    of the cosine parts, harmonic ``m`` weighted ``1 / m`` (so the first harmonic breaks a second one's ties)."""
    psi = torch.arange(_CANONICAL_STEPS, dtype=d.dtype) * (2 * math.pi / _CANONICAL_STEPS)  # (S,)
    M = d.shape[-2]
    weight = 1 / torch.arange(1, M + 1, dtype=d.dtype)
    flat = d.flatten(1, -3)  # (B, D, M, 2)
    energy = torch.stack([(rotate_phase(flat, p.expand(len(d)))[..., 0] ** 2 * weight).sum(dim=(1, 2)) for p in psi], 1)
    return psi[energy.argmax(dim=1)]


def mirror_descriptor(d: torch.Tensor) -> torch.Tensor:
    """``x -> -x`` about the box's centre line: points swap columns and x-displacements change sign."""
    P = d.shape[1]
    grid = d.view(d.shape[0], POINTS, POINTS, *d.shape[2:]).flip(2).reshape(d.shape[0], P, *d.shape[2:])
    return grid * torch.tensor([-1.0, 1.0], dtype=d.dtype).view(2, 1, 1)


def group_images(d: torch.Tensor) -> torch.Tensor:
    """Every image of descriptors ``(B, P, 2, M, 2)`` under ``PHASES`` phase shifts x reversal x mirror:
    ``(B, 4 * PHASES, D)`` flattened."""
    out = []
    for mirrored in (d, mirror_descriptor(d)):
        for sign in (1.0, -1.0):
            rev = mirrored * torch.tensor([1.0, sign], dtype=d.dtype)
            for s in range(PHASES):
                psi = torch.full((len(d),), 2 * math.pi * s / PHASES, dtype=d.dtype)
                out.append(rotate_phase(rev, psi).flatten(1))
    return torch.stack(out, dim=1)


def group_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared L2 between descriptors ``x (N, P, 2, M, 2)`` and ``y (L, ...)``, minimised over the group acting on
    ``y``: ``(N, L)``. Symmetric, since the group acts by isometries."""
    xf = x.flatten(1).double()  # (N, D)
    images = group_images(y).double()  # (L, G, D)
    cross = torch.einsum("nd,lgd->nlg", xf, images)  # (N, L, G)
    sq = (xf**2).sum(1)[:, None] + (images**2).sum(-1).max(-1).values[None]  # every image has y's norm
    return (sq - 2 * cross.max(dim=-1).values).clamp_min(0)


def kmedoids(dist: torch.Tensor, k: int, seed: int = 0, iterations: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """Alternating k-medoids on a distance matrix ``(N, N)`` with k-means++ seeding (``seed``).

    Returns ``medoids (k,)`` (row indices, by decreasing cluster size) and ``assignment (N,)`` (a medoid's position
    in ``medoids``).
    """
    N = dist.shape[0]
    if not 1 <= k <= N:
        raise ValueError(f"vocabulary size must be in 1..{N} (the loops clustered), got {k}")
    g = torch.Generator().manual_seed(seed)
    medoids = [int(torch.randint(N, (1,), generator=g))]
    for _ in range(1, k):
        near = dist[:, medoids].min(dim=1).values
        if near.sum() <= 0:
            rest = [i for i in range(N) if i not in medoids]
            medoids.append(rest[int(torch.randint(len(rest), (1,), generator=g))])
        else:
            medoids.append(int(torch.multinomial(near, 1, generator=g)))
    current = torch.tensor(medoids)
    for _ in range(iterations):
        assignment = dist[:, current].argmin(dim=1)
        new = current.clone()
        for j in range(k):
            members = (assignment == j).nonzero()[:, 0]
            if len(members):
                new[j] = members[dist[members][:, members].sum(dim=1).argmin()]
        if torch.equal(new, current):
            break
        current = new
    assignment = dist[:, current].argmin(dim=1)
    order = torch.bincount(assignment, minlength=k).argsort(descending=True, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(k)
    return current[order], rank[assignment]


def mirror_coherent(c: Coherent) -> Coherent:
    """``x -> -x`` in silhouette coordinates: ``B``, ``TX``, ``C`` of the affine change sign; the flow maps flip
    left-right and their x-component changes sign; masks (over height) stay."""
    sign = torch.ones(6, dtype=c.affine.dtype)
    sign[[B_, TX, C]] = -1
    flow = c.flow.flip(-1) * torch.tensor([-1.0, 1.0], dtype=c.flow.dtype).view(2, 1, 1, 1, 1)
    return Coherent(c.masks, c.affine * sign.view(6, 1, 1), flow)


def variant(c: Coherent, *, anchor: float = 0.0, mirror: bool = False, scale: float = 1.0) -> Coherent:
    """An entry as rendered: re-anchored at phase ``anchor`` (the input sits there in the cycle), mirrored, scaled."""
    if mirror:
        c = mirror_coherent(c)
    if anchor:
        psi = torch.full((c.affine.shape[0],), float(anchor), dtype=c.affine.dtype)
        shifted = shift_phase(Motion(c.masks, c.affine, c.flow), psi)
        c = Coherent(c.masks, shifted.affine, shifted.flow)
    return Coherent(c.masks, c.affine * scale, c.flow * scale)


def canonicalise(c: Coherent, boxes: torch.Tensor) -> tuple[Coherent, torch.Tensor]:
    """Fits re-anchored at their canonical phase, and their descriptors ``(B, P, 2, M, 2)`` there."""
    psi = canonical_phase(displacement(c, boxes))
    shifted = shift_phase(Motion(c.masks, c.affine, c.flow), psi)
    c = Coherent(c.masks, shifted.affine, shifted.flow)
    return c, displacement(c, boxes)


def build_table(fits: MotionTargets, size: int, *, seed: int = 0, min_gain: float = 0.15,
                squared: bool = False) -> tuple[dict, list[str]]:
    """The vocabulary of a coherent-fit file: tensors for ``save_table`` and the medoids' sequence names.

    Only loops whose coherent fit beats a still frame by ``min_gain`` (``l1 <= (1 - min_gain) * static_l1``) are
    clustered: the others' fitted motion is mostly noise. k-medoids minimises the sum of (group-invariant) L2
    distances; ``squared`` sums squared distances instead, which hands more entries to rare large motions (on 569
    training loops, 28 of 64 clusters were single loops, against 17).
    """
    t = fits.tensors
    if not {"c_affine", "box", "l1", "static_l1"} <= set(t):
        raise ValueError("fits file is not a coherent_fit.py output (no 'c_affine')")
    keep = (t["l1"] <= (1 - min_gain) * t["static_l1"]) & (t["static_l1"] > 0)
    rows = keep.nonzero()[:, 0]
    c = Coherent(t["c_masks"][rows], t["c_affine"][rows], t["c_flow"][rows])
    c, desc = canonicalise(c, t["box"][rows])
    dist = group_distances(desc, desc)
    medoids, assignment = kmedoids(dist if squared else dist.sqrt(), size, seed=seed)
    tensors = {
        "c_masks": c.masks[medoids], "c_affine": c.affine[medoids], "c_flow": c.flow[medoids],
        "members": torch.bincount(assignment, minlength=size), "medoid": rows[medoids],
        "descriptor": desc[medoids],
    }
    return tensors, [fits.seqs[int(i)] for i in rows[medoids]]


def save_table(path: str | Path, tensors: dict, seqs: list[str], config: dict) -> None:
    """Writes a vocabulary atomically (temp file + rename)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}
    save_file(tensors, str(tmp), metadata={"seqs": json.dumps(seqs), "config": json.dumps(config)})
    tmp.replace(path)


def load_table(path: str | Path) -> tuple[Coherent, list[str], dict]:
    """A vocabulary's entries ``Coherent (V, ...)``, the medoids' loops and the config."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "config" not in meta or json.loads(meta["config"]).get("kind") != "vocabulary":
        raise ValueError(f"'{path}' is not a motion vocabulary (research/vocabulary.py)")
    t = load_file(str(path))
    return Coherent(t["c_masks"], t["c_affine"], t["c_flow"]), json.loads(meta["seqs"]), json.loads(meta["config"])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fits", type=Path, required=True, help="coherent_fit.py file of training loops")
    p.add_argument("--size", type=int, default=64, help="entries in the table")
    p.add_argument("--output", type=Path, required=True, help="vocabulary .safetensors to write")
    p.add_argument("--seed", type=int, default=0, help="k-means++ seeding of the medoids")
    p.add_argument("--min_gain", type=float, default=0.15,
                   help="cluster loops whose coherent fit beats static by this share of its L1")
    p.add_argument("--squared", action="store_true", help="k-medoids on squared distances (default: distances)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.time()
    try:
        fits = MotionTargets(args.fits)
        tensors, seqs = build_table(fits, args.size, seed=args.seed, min_gain=args.min_gain, squared=args.squared)
    except (FileNotFoundError, ValueError) as exc:
        print(f"vocabulary.py: error: {exc}", file=sys.stderr)
        return 1
    config = {"kind": "vocabulary", "size": args.size, "seed": args.seed, "min_gain": args.min_gain,
              "squared": args.squared,
              "fits": str(args.fits), "clustered": int(tensors["members"].sum()), "loops": len(fits),
              "points": POINTS, "phases": PHASES, "resolution": int(fits.config.get("resolution", 32)),
              "canvas_grid": int(fits.config.get("canvas_grid", 16))}
    save_table(args.output, tensors, seqs, config)
    sizes = tensors["members"].tolist()
    logger.info("%d entries from %d of %d loops (cluster sizes %s) in %.0f s -> %s", args.size, config["clustered"],
                len(fits), sizes, time.time() - started, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
