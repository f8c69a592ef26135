"""Runs one harness under atheris (libFuzzer): ``python -m fuzz NAME [CORPUS_DIR ...] [-libfuzzer_flag=value ...]``.

Use ``fuzz/run.sh NAME SECONDS`` for the usual flags (2 s per input, 512 MB, seeds written first). A finding is an
input that broke the contract; libFuzzer writes it as ``crash-*`` / ``timeout-*`` / ``oom-*`` (see -artifact_prefix).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def _saving(harness, findings: str):
    """``harness``, saving an input that breaks the contract before the exception reaches libFuzzer (which does
    not always get to write it: with torch loaded the process can die of its own timeout alarm first)."""

    def run(data: bytes) -> None:
        try:
            harness(data)
        except BaseException:
            path = Path(findings) / f"crash-{hashlib.sha1(data).hexdigest()}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            print(f"input saved to {path}", file=sys.stderr, flush=True)
            raise

    return run


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.exit("usage: python -m fuzz NAME [CORPUS_DIR ...] [-libfuzzer_flag=value ...]")
    import logging

    import atheris

    import warnings

    logging.getLogger("still2motion").setLevel(logging.ERROR)  # the readers' warnings, once per input, drown the log
    warnings.simplefilter("ignore")  # Pillow's (truncated TIFF, bomb warnings below our limit): not findings
    from fuzz.harnesses import HARNESSES, INSTRUMENT

    name = argv[1]
    if name not in HARNESSES:
        sys.exit(f"unknown harness {name!r}; one of {', '.join(HARNESSES)}")
    with atheris.instrument_imports(include=INSTRUMENT[name]):
        import PIL.GifImagePlugin  # noqa: F401  (imported here so that they are instrumented)
        import PIL.PngImagePlugin  # noqa: F401

        import still2motion.io  # noqa: F401
        import still2motion.io.apng_decode  # noqa: F401
        import still2motion.io.gif_decode  # noqa: F401
        import still2motion.io.mask  # noqa: F401
        import still2motion.io.png_chunks  # noqa: F401
        if name == "e2e":
            import still2motion.generator  # noqa: F401
            import still2motion.request  # noqa: F401
    harness = _saving(HARNESSES[name], os.environ.get("STILL2MOTION_FUZZ_FINDINGS", "."))
    if name == "e2e":
        from fuzz.harnesses import _model

        _model()  # built before fuzzing starts, not in the first input's time
    atheris.Setup([argv[0], *argv[2:]], harness)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
