"""What every generator shares: strict Hub loading and ``animate()`` (image in, ``Animation`` out).

A subclass implements ``render_frames``: given the letterboxed input and the full-resolution input, yield the frames.
``Still2Motion`` (model.py) warps the input; the designs it replaced (pix2pix, STN) are training's
(train/evaluate/design_baselines.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import numpy as np
import torch
from PIL import Image

from . import config as cfg
from . import io, presets
from .checks import Progress, Request, Still, check, load
from .drawing import keep_drawing
from .hub import load_weights, read_config, validate_config
from .motion import Motion, shown_motion
from .rendering import render_motion

logger = logging.getLogger(__name__)


def keep_clear_bytes(frames: Iterator[np.ndarray], original: np.ndarray) -> Iterator[np.ndarray]:
    """A pixel transparent in the input ``(H, W, 4)`` and in a frame keeps the input's bytes (its RGB under alpha 0)."""
    clear = original[..., 3] == 0
    for frame in frames:
        yield np.where((clear & (frame[..., 3] == 0))[..., None], original, frame)


class Generator(torch.nn.Module):
    """Base class: subclasses also inherit ``PyTorchModelHubMixin`` and define ``resolution`` and ``noise_dim``."""

    resolution: int
    noise_dim: int

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *, map_location: str = "cpu", **hub_kwargs):
        """Loads a saved model: config.json validated first, then model.safetensors loaded strictly.

        Args:
            pretrained_model_name_or_path: a local folder or a Hub repo id (``owner/name``).
            map_location: device to load the weights on.
            **hub_kwargs: ``revision``, ``cache_dir``, ``token``, ``force_download``, ``local_files_only``.

        Returns:
            The model in eval mode.

        Raises:
            FileNotFoundError: no such folder, or a file is missing from it.
            ValueError: an unknown, missing or ill-typed config key; weights that do not match; pickle-only weights;
                a Hub id that is not available offline.
        """
        config = read_config(pretrained_model_name_or_path, **hub_kwargs)
        return cls.from_config(pretrained_model_name_or_path, config, map_location=map_location, **hub_kwargs)

    @classmethod
    def from_config(cls, pretrained_model_name_or_path: str | os.PathLike, config: dict, *, map_location: str = "cpu",
                    **hub_kwargs):
        """`from_pretrained` with config.json already read (``load_model`` reads it once to pick the class)."""
        validate_config(cls, config, source=f"config.json of '{pretrained_model_name_or_path}'")
        model = cls(**config)
        load_weights(model, pretrained_model_name_or_path, map_location=map_location, **hub_kwargs)
        return model.eval()

    def encode(
        self, image: torch.Tensor, noise: torch.Tensor | None = None, has_alpha: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """Checks a letterboxed batch ``(B, 4, R, R)`` and runs the subclass's ``self.unet`` on it.

        ``noise`` ``(B, noise_dim)`` defaults to zeros and ``has_alpha`` ``(B,)`` to ones (the flag channel).
        Returns the U-Net's bottleneck and decoder levels, and the noise used.
        """
        B, C, H, W = image.shape
        if C != 4 or H != self.resolution or W != self.resolution:
            raise ValueError(f"image must be (B, 4, {self.resolution}, {self.resolution}), got {tuple(image.shape)}")
        if noise is None:
            noise = image.new_zeros(B, self.noise_dim)
        if has_alpha is None:
            has_alpha = image.new_ones(B)
        flag = has_alpha.to(image.dtype).view(B, 1, 1, 1).expand(B, 1, H, W)
        bottleneck, levels = self.unet(torch.cat((image * 2 - 1, flag), dim=1), noise)
        return bottleneck, levels, noise

    def render_frames(
        self,
        canvas: torch.Tensor,
        image: torch.Tensor,
        box: io.Box,
        *,
        num_frames: int,
        strength: float,
        noise: torch.Tensor,
        mode: str,
        out_size: tuple[int, int],
        has_alpha: bool,
        hard_layers: bool = False,
    ) -> Iterator[np.ndarray]:
        """Yields ``num_frames`` straight-RGBA uint8 frames ``(H_out, W_out, 4)``; implemented by subclasses.

        ``canvas`` is the letterboxed input ``(1, 4, R, R)``, ``image`` the full-resolution input ``(1, 4, H, W)``,
        both premultiplied; ``box`` places ``image`` in the canvas; ``hard_layers`` asks for an exact palette.
        """
        raise NotImplementedError

    def predict_motion(self, canvas: torch.Tensor, noise: torch.Tensor, has_alpha: bool) -> Motion:
        """The learned motion of a letterboxed input ``(1, 4, R, R)``, calibrated (``motion_scale``), not yet scaled by
        strength. Only generators that predict layered motion have one."""
        raise ValueError(
            f"a mask with motion='auto' needs a model that predicts layered motion (still2motion), got {type(self).__name__}"
        )

    def frames_for(
        self, canvas: torch.Tensor, image: torch.Tensor, box: io.Box, *, motion: str = "auto",
        front: torch.Tensor | np.ndarray | None = None, original: np.ndarray | None = None, **request,
    ) -> Iterator[np.ndarray]:
        """The frames of a request: the learned motion (``render_frames``), or a preset / a mask (``render_controlled``).

        ``front`` is the mask, ``(H, W)`` or ``(1, 1, H, W)`` in ``[0, 1]`` at the input's resolution (see
        ``io.mask.read_mask``); ``original`` the input as uint8 ``(H, W, 4)``
        (then, at the input's size, transparent pixels keep its bytes: `keep_clear_bytes`); ``request`` the keyword
        arguments of ``render_frames``.
        """
        if motion == "auto" and front is None:
            frames = self.render_frames(canvas, image, box, **request)
        else:
            if front is not None:
                front = torch.as_tensor(front, dtype=image.dtype).reshape(1, 1, *image.shape[-2:]).to(image.device)
            frames = self.render_controlled(canvas, image, box, motion=motion, front=front, **request)
        if original is not None and tuple(request["out_size"]) == original.shape[1::-1]:
            frames = keep_clear_bytes(frames, original)
        return frames

    def render_controlled(
        self,
        canvas: torch.Tensor,
        image: torch.Tensor,
        box: io.Box,
        *,
        motion: str,
        front: torch.Tensor | None,
        num_frames: int,
        strength: float,
        noise: torch.Tensor,
        mode: str,
        out_size: tuple[int, int],
        has_alpha: bool,
        hard_layers: bool = False,
    ) -> Iterator[np.ndarray]:
        """Frames of a preset, or of any motion confined to ``front`` ``(1, 1, H, W)`` (the mask, at full resolution).

        A preset needs no network forward; with a mask the masked region moves over the static rest of the image.
        """
        mo, framing = self.controlled_motion(canvas, box, motion=motion, front=front, strength=strength, noise=noise,
                                             out_size=out_size, has_alpha=has_alpha, hard_layers=hard_layers,
                                             num_frames=num_frames)
        yield from render_motion(
            image, canvas, mo, box, canvas_size=canvas.shape[-1], num_frames=num_frames, out_size=out_size, mode=mode,
            align_corners=bool(getattr(self, "align_corners", False)), hard_layers=hard_layers, front=front,
            keep_framing=framing,
        )

    def controlled_motion(
        self, canvas: torch.Tensor, box: io.Box, *, motion: str, front: torch.Tensor | None, strength: float,
        noise: torch.Tensor, out_size: tuple[int, int], has_alpha: bool, hard_layers: bool = False,
        num_frames: int | None = None,
    ) -> tuple[Motion, bool]:
        """The motion ``render_controlled`` renders (before framing) and whether framing may scale it (``auto``: the
        harmonics ``num_frames`` frames can show, as ``Still2Motion.auto_motion``)."""
        R = canvas.shape[-1]
        alpha = canvas[:, 3]  # (1, R, R)
        if front is not None:  # the masked part of the silhouette is what moves (and what presets pivot on)
            alpha = alpha * torch.nn.functional.interpolate(front, size=(R, R), mode="area")[:, 0]
        if motion == "auto":
            learned = shown_motion(self.predict_motion(canvas, noise, has_alpha), num_frames)
            front_layer = Motion(torch.ones_like(learned.masks[:, :1]), learned.affine[:, -1:], learned.flow[:, -1:])
            region = None if front is None else alpha[0]
            mo = keep_drawing(front_layer.scaled(strength), canvas, box, out_size=out_size, pixel_art=hard_layers,
                              region=region)
            return mo, True
        preset = presets.get_preset(motion)
        amplitude = preset.amplitude * strength
        if preset.scalable and strength > 0:  # at least one output pixel, so tiny pixel art still moves
            sil = presets.silhouette_of(alpha[0].float().cpu(), box)
            height_px = sil.height * R / 2 * out_size[1] / box[3]
            amplitude = max(amplitude, 1.0 / max(height_px, 1e-6))
        mo = presets.preset_motion(motion, canvas, amplitude=amplitude, box=box, silhouette=alpha)
        if strength == 0:
            mo = mo.scaled(0.0)
        return mo, False  # preset_motion keeps its own motion in the frame (and spin may not be scaled)

    def sample_noise(self, seed: int, batch_size: int = 1) -> torch.Tensor:
        """The noise vector ``z`` for a seed: ``(B, noise_dim)`` (a request's checks draw a seed for ``None``)."""
        gen = torch.Generator().manual_seed(int(seed))
        return torch.randn(batch_size, self.noise_dim, generator=gen)

    @torch.no_grad()
    def render_request(self, still: Still, request: Request, *, progress: Progress | None = None
                       ) -> tuple[io.Animation, int]:
        """Decodes a loaded still and renders a checked request (``checks.check``, ``checks.load``): the animation and
        the input's frame count (> 1: an animated file). Frame 0 is the decoded input, verbatim, when the output has
        the input's size."""
        read = io.decode_image(still.loaded, max_pixels=int(cfg.limit("max_input_pixels")))
        image = read.image
        mode = io.auto_resample(image) if request.resample == "auto" else request.resample
        canvas, box = io.letterbox(image, self.resolution)  # the data loader's rule: training and inference agree
        device = next(self.parameters()).device
        frames = self.frames_for(
            io.to_tensor(canvas)[None].to(device),
            io.to_tensor(image)[None].to(device),
            box,
            motion=request.motion,
            front=request.mask,  # (H, W) at the input's size (checks.load compared the sizes)
            original=np.asarray(image),  # at the input's size, transparent pixels keep their bytes
            num_frames=request.num_frames,
            strength=request.strength,
            noise=self.sample_noise(request.seed).to(device),
            mode=mode,
            out_size=still.out_size,
            has_alpha=image.getextrema()[3][0] < 255,
            hard_layers=mode == "nearest",  # pixel art keeps its exact palette; other images get soft layer seams
        )
        images = []
        for frame in frames:
            images.append(Image.fromarray(frame, "RGBA"))
            if progress is not None:
                progress("render", len(images), request.num_frames)
        if still.out_size == image.size:
            images[0] = image.copy()  # frame 0 is the input, verbatim
        anim = io.Animation(frames=images, durations_ms=io.durations_for(request.num_frames, request.fps), fps=request.fps)
        return anim, read.n_frames

    @torch.no_grad()
    def animate(
        self,
        image: str | os.PathLike | Image.Image | np.ndarray,
        num_frames: int = cfg.DEFAULT_FRAMES,
        fps: float = cfg.DEFAULT_FPS,
        strength: float = cfg.DEFAULT_STRENGTH,
        seed: int | None = cfg.DEFAULT_SEED,
        resample: str = "auto",
        size: tuple[int, int] | None = None,
        motion: str = "auto",
        mask: str | os.PathLike | Image.Image | np.ndarray | None = None,
    ) -> io.Animation:
        """Turns a still image into a seamlessly looping animation.

        Args:
            image: a path, a PIL image (any mode; animated files use their first frame), or a ``np.uint8`` array
                ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (straight RGBA).
            num_frames: frames in one loop (1..``max_frames``); frame t shows loop phase ``2 pi t / num_frames``.
            fps: frames per second (> 0); durations are whole milliseconds summing to ``round(1000 * num_frames / fps)``.
            strength: scales the motion; 0 gives the still image back.
            seed: chooses among the motions the model can make; ``None`` picks a random one.
            resample: ``"nearest"`` (keeps pixel art crisp), ``"bilinear"``, ``"bicubic"`` (sharper at sub-pixel
                offsets) or ``"auto"`` (nearest for pixel art, bicubic for anything else at any size; see
                ``io.auto_resample``).
            size: ``(width, height)`` to render at; ``None`` keeps the input's size (then frame 0 is the input,
                byte for byte). Another aspect ratio than the input's stretches it.
            motion: ``"auto"`` (the learned motion) or a name of ``presets.PRESET_NAMES``: a hand-built loop that
                needs no network forward.
            mask: what moves, for any motion: a path, a PIL image or an array (white moves, black stays, grey is a
                soft edge; a mask with transparency is read from its alpha) of the input's size. The masked region
                moves over the rest, which stays: pixels the motion never reaches keep the input's bytes.

        Returns:
            An ``Animation`` with ``frames`` (PIL RGBA), ``durations_ms`` and ``fps``; ``.save(path)`` writes it.

        Raises:
            FileNotFoundError: ``image`` path does not exist.
            ValueError: unreadable or too large image or mask, a mask of another size than the image, an unknown
                motion, or an argument out of range.
            TypeError: an argument of the wrong type.
        """
        request = check(Request(num_frames=num_frames, fps=fps, strength=strength, seed=seed, resample=resample,
                                size=size, motion=motion, mask=mask))
        return self.render_request(load(image, request), request)[0]
