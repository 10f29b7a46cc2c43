"""``pix2code train pix2code``: learn a library (and a recognition model) for an environment.

    pix2code train pix2code --env Pix2Code-CURI-v0 --out runs/curi-iid [--iterations 3] [--tasks 100]
        [--workers 2 --backend process|ray] [--seed 0] [--concept-list hyp_to_id.json --train-ids task_id_dict_filtered.json]
        [--dreams 1000] [--replay-solved] [--ship NAME]

Writes ``library.json`` and ``recognition.pt`` to ``--out`` (with every iteration's files and a
``state.json``: an interrupted run resumes there), prints a table per iteration and the figures.
``--ship NAME`` also copies both into ``agents/pix2code/data/libraries/`` as ``NAME.json`` and
``NAME.recognition.pt`` (rerunning a finished run's command with it only ships).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents.pix2code.library.library import Library
from agents.pix2code.library.wake import TASKS_PER_SPLIT, training_tasks
from agents.pix2code.library.wake_sleep import Settings, run

console = Console()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pix2code train pix2code", description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment id whose train subset is learned from")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--dsl", default="default")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=TASKS_PER_SPLIT, help="training concepts (one episode each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="process", choices=["process", "ray"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--enumerated", type=int, default=60_000)
    parser.add_argument("--assembled", type=int, default=600_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="wall-clock cap per task")
    parser.add_argument("--recognition-steps", type=int, default=1500)
    parser.add_argument("--dreams", type=int, default=1000, help="dreams the recognition model trains on per iteration")
    parser.add_argument("--replay-solved", action="store_true",
                        help="also train the recognition model on the solved training tasks (DreamCoder; biased on structured splits)")
    parser.add_argument("--concept-list", default=None, help="CURI's hyp_to_id.json (the env then uses CURI's concepts)")
    parser.add_argument("--train-ids", default=None, help="Pix2Code's task_id_dict_filtered.json (needs --concept-list)")
    parser.add_argument("--ship", default=None, metavar="NAME", help="also write the result to the shipped libraries as NAME")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "pix2code":
        argv = argv[1:]
    args = parse_args(argv)
    env_kwargs = {}
    if args.concept_list:
        env_kwargs["family_options"] = {"concept_list": args.concept_list}
        if args.train_ids:
            env_kwargs["family_options"]["train_ids"] = args.train_ids
    settings = Settings(
        env_id=args.env, dsl=args.dsl, iterations=args.iterations, tasks=args.tasks, seed=args.seed,
        workers=args.workers, backend=args.backend, enumerated=args.enumerated, assembled=args.assembled,
        seconds=args.seconds, recognition_steps=args.recognition_steps, dreams=args.dreams,
        replay_solved=args.replay_solved, env_kwargs=env_kwargs,
    )  # fmt: skip
    started = time.perf_counter()
    tasks = training_tasks(args.env, args.tasks, args.seed, env_kwargs)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        wake_bar = bar.add_task("wake", total=len(tasks))

        args.out.mkdir(parents=True, exist_ok=True)
        log = (args.out / "log.jsonl").open("a")

        def report(stage: str, info: dict) -> None:
            log.write(json.dumps({"time": round(time.time(), 1), "stage": stage, **info}) + "\n")
            log.flush()
            if stage == "wake":
                bar.update(wake_bar, advance=1, description=f"iteration {info['iteration']}: wake")
            elif stage == "sleep":
                bar.update(wake_bar, description=f"iteration {info['iteration']}: {info['stage']}")
            elif stage == "iteration":
                bar.reset(wake_bar)
                console.print(_iteration_table(info))

        library = run(settings, args.out, tasks, report)
        log.close()
    state = json.loads((args.out / "state.json").read_text())
    final_it = settings.iterations
    shutil.copyfile(args.out / f"recognition-it{final_it}.pt", args.out / "recognition.pt")
    command = "pix2code train pix2code " + " ".join(argv)
    library = replace(library, recognition="recognition.pt", provenance={
        "command": command, "settings": {**state["settings"], "iterations": final_it},
        "history": state["history"][:final_it],
        "train_seconds": round(state["seconds"], 1), "tasks": [t.name for t in tasks],
    })
    library.save(args.out / "library.json")
    if args.ship:
        from agents.pix2code.library.shipped import LIBRARIES

        shutil.copyfile(args.out / "recognition.pt", LIBRARIES / f"{args.ship}.recognition.pt")
        replace(library, recognition=f"{args.ship}.recognition.pt").save(LIBRARIES / f"{args.ship}.json")
        console.print(f"shipped as {LIBRARIES / args.ship}.json")
    console.print(f"library with {len(library.inventions)} inventions written to {args.out / 'library.json'} "
                  f"({time.perf_counter() - started:.0f} s this run, {state['seconds']:.0f} s in all)")
    return 0


def _iteration_table(info: dict) -> Table:
    table = Table(title=f"iteration {info['iteration']}", show_header=False)
    table.add_row("tasks solved", f"{info['solved']} / {info['tasks']}")
    table.add_row("median candidates before the chosen program", str(info["median_candidates"]))
    table.add_row("objective (description length + penalties)", f"{info['objective_before']:.1f} -> {info['objective_after']:.1f}")
    table.add_row("inventions kept", "\n".join(info["inventions_kept"]) or "-")
    table.add_row("wake / sleep seconds", f"{info['wake_seconds']:.0f} / {info['sleep_seconds']:.0f}")
    table.add_row("recognition loss", "-" if info["recognition_loss"] is None else f"{info['recognition_loss']:.2f}")
    if info.get("stitch_error"):
        table.add_row("compression", info["stitch_error"])
    return table


if __name__ == "__main__":
    sys.exit(main())
