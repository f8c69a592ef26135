"""A much shorter version of train/train.py for benchmarking: steps/s and clips/s of the real training step.

    python benchmarks/train_throughput.py [--processes 1,2] [--precisions no,bf16] [--steps 20] [--burn_in 5] \\
        [--json OUT.json] [-- extra train.py flags, e.g. --generator stn --lambda_gan 0]

Runs every (processes, precision) pair in one go, each through ``accelerate launch`` (``--multi_gpu`` for more than
one process; without a GPU the processes join one CPU group, as train.py does). Each worker builds the models and
optimizers exactly as train.py does and times ``generator_forward`` + ``discriminator_step`` + ``generator_step`` on
synthetic batches held in memory (no data loading), after a burn-in, between barriers (and
``torch.cuda.synchronize()`` on a GPU). CPU threads are split evenly between the processes. Prints torch version,
device, shapes and a table; ``--json`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", default="1,2", help="comma-separated process counts")
    p.add_argument("--precisions", default="no,bf16", help="comma-separated --mixed_precision values")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--burn_in", type=int, default=5)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--train_batch_size", type=int, default=8, help="clips per process per step")
    p.add_argument("--frames_per_clip", type=int, default=4)
    p.add_argument("--threads", type=int, default=None, help="CPU threads per process (default: cores / processes)")
    p.add_argument("--json", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: write results here
    p.add_argument("train_flags", nargs=argparse.REMAINDER, help="after --: extra train.py flags")
    args = p.parse_args(argv)
    args.train_flags = [f for f in args.train_flags if f != "--"]
    return args


def worker(args) -> None:
    """One benchmark configuration, inside ``accelerate launch``."""
    sys.path.insert(0, str(REPO))
    import torch

    from train import train as train_script
    from train.args import parse_args as train_parse_args
    from train.steps import Run, TrainingGenerator, discriminator_step, generator_forward, generator_step

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if not torch.cuda.is_available():
        torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // world))
    targs = train_parse_args([
        "--data_dir", "unused", "--output_dir", tempfile.mkdtemp(), "--report_to", "none",
        "--resolution", str(args.resolution), "--train_batch_size", str(args.train_batch_size),
        "--frames_per_clip", str(args.frames_per_clip), "--mixed_precision", os.environ["BENCH_PRECISION"],
        *args.train_flags,
    ])
    accelerator = train_script.build_accelerator(targs)
    torch.manual_seed(accelerator.process_index)
    generator, discriminators = train_script.build_models(targs)
    g_opt, d_opt = train_script.build_optimizers(targs, generator, discriminators)
    wrapped = TrainingGenerator(generator)
    if discriminators is None:
        wrapped, g_opt = accelerator.prepare(wrapped, g_opt)
    else:
        wrapped, discriminators, g_opt, d_opt = accelerator.prepare(wrapped, discriminators, g_opt, d_opt)
    run = Run(targs, accelerator, wrapped, discriminators, g_opt, d_opt, noise_dim=generator.noise_dim)
    B, S, R = targs.train_batch_size, targs.frames_per_clip, targs.resolution
    device = accelerator.device
    batch = {"input": torch.rand(B, 4, R, R, device=device), "targets": torch.rand(B, S, 4, R, R, device=device),
             "phases": torch.rand(B, S, device=device) * 6.28}

    def step(i):
        with accelerator.accumulate(wrapped):
            with accelerator.autocast():
                out = generator_forward(run, batch)
            discriminator_step(run, out, lambda *_: None)
            generator_step(run, out, i, lambda *_: None)

    def sync():
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        accelerator.wait_for_everyone()

    for i in range(args.burn_in):
        step(i)
    sync()
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    sync()
    seconds = time.perf_counter() - start
    if accelerator.is_main_process:
        steps_per_s = args.steps / seconds
        result = {
            "processes": accelerator.num_processes, "mixed_precision": accelerator.mixed_precision,
            "steps_per_s": steps_per_s, "clips_per_s": steps_per_s * B * accelerator.num_processes,
            "threads_per_process": torch.get_num_threads(), "device": str(device),
            "generator": targs.generator, "generator_params": sum(p.numel() for p in generator.parameters()),
            "discriminator_params": sum(p.numel() for p in discriminators.parameters()) if discriminators else 0,
            "shapes": {"input": [B, 4, R, R], "targets": [B, S, 4, R, R], "best_of_k": targs.best_of_k},
        }
        Path(args.worker).write_text(json.dumps(result))
    accelerator.end_training()


def launch(args, processes: int, precision: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(processes),
                   "--num_machines", "1", "--mixed_precision", precision, "--dynamo_backend", "no"]
        if processes > 1:
            command.append("--multi_gpu")
        command += [__file__, "--worker", str(result_path), "--steps", str(args.steps), "--burn_in", str(args.burn_in),
                    "--resolution", str(args.resolution), "--train_batch_size", str(args.train_batch_size),
                    "--frames_per_clip", str(args.frames_per_clip), *(["--threads", str(args.threads)] if args.threads else []),
                    "--", *args.train_flags]
        env = {**os.environ, "BENCH_PRECISION": precision, "PYTHONPATH": str(REPO)}
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not result_path.is_file():
            return {"processes": processes, "mixed_precision": precision, "error": proc.stderr.strip().splitlines()[-1:]}
        return json.loads(result_path.read_text())


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    import torch

    device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)"
    print(f"torch {torch.__version__}, device {device}, load average {os.getloadavg()[0]:.2f}")
    print(f"steps: {args.burn_in} burn-in + {args.steps} timed; extra train flags: {args.train_flags or 'none'}")
    results = []
    for processes in (int(p) for p in args.processes.split(",")):
        for precision in args.precisions.split(","):
            result = launch(args, processes, precision)
            results.append(result)
            if "error" in result:
                print(f"{processes} process(es), {precision}: failed: {result['error']}")
                continue
            print(f"{processes} process(es) x {result['threads_per_process']} thread(s), {precision:>4}: "
                  f"{result['steps_per_s']:7.2f} steps/s  {result['clips_per_s']:8.1f} clips/s")
    ok = [r for r in results if "error" not in r]
    if ok:
        print(f"shapes per process: {ok[0]['shapes']}; generator {ok[0]['generator']} "
              f"{ok[0]['generator_params']:,} params, discriminators {ok[0]['discriminator_params']:,} params")
    if args.json:
        Path(args.json).write_text(json.dumps({"torch": torch.__version__, "device": device, "results": results}, indent=2))


if __name__ == "__main__":
    main()
