"""The ``pix2code`` command: list environments and agents, show an episode, evaluate, run the demo."""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import pix2code_env
from agents.evaluate import Evaluation, evaluate_agent
from agents.registry import available_agents, make_agent
from leaderboard.commands import add_leaderboard_parser, add_suite_arguments, cmd_evaluate_suite
from pix2code_env.episode import Episode
from pix2code_env.grid import episode_grid

console = Console(width=shutil.get_terminal_size((160, 40)).columns)

#: What ``pix2code demo`` runs: (env id, subset, agents, episodes). Oracles and the Pix2Code agent read
#: object tables, so agents play modality "scene"; the episode grids are drawn from the same seeds.
DEMO_PLAN: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("Pix2Code-Kandinsky-v0", "test", ("random", "prior", "pix2code"), 4),
    ("Pix2Code-Kandinsky-TwoPairs-v0", "test", ("random", "prior", "pix2code"), 2),
    ("Pix2Code-CURI-v0", "test", ("random", "prior", "oracle-strong", "pix2code"), 4),
    ("Pix2Code-CURI-Counting-v0", "test", ("random", "prior", "oracle-strong", "pix2code"), 2),
)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )


def cmd_list(_: argparse.Namespace) -> int:
    table = Table(title="pix2code-gym environments")
    table.add_column("id", style="bold")
    table.add_column("family")
    table.add_column("options")
    table.add_column("description")
    for spec in pix2code_env.ENV_SPECS:
        options = ", ".join(f"{k}={v}" for k, v in spec.family_options.items()) or "-"
        table.add_row(spec.id, spec.family, options, spec.description)
    console.print(table)
    return 0


def cmd_agents(_: argparse.Namespace) -> int:
    table = Table(title="registered agents")
    table.add_column("name", style="bold")
    table.add_column("class")
    for name, target in available_agents().items():
        table.add_row(name, target)
    console.print(table)
    return 0


def save_episode_grid(
    env_id: str, seed: int, out: Path, *, subset: str, max_queries: int,
    concept: str | None = None, image_size: int | None = None, annotate=None,
) -> tuple[dict, Episode]:
    """Draw the episode of (env id, subset, seed) as a PNG grid titled with its concept.

    ``annotate(env_id, episode) -> (episode, predictions, notes)`` may redraw the images (e.g. an
    agent's detections) and add its query predictions; its notes join the returned info."""
    from agents.pix2code.explain.titles import concept_title  # the DSL and agent: not at the CLI's start-up

    kwargs = {"reveal_concept": True, "subset": subset}
    if annotate is not None:
        kwargs["modality"] = "both"
    if image_size is not None:
        kwargs["image_size"] = image_size
    env = gym.make(env_id, **kwargs)
    _, info = env.reset(seed=seed, options={"concept": concept} if concept else None)
    episode = env.unwrapped.episode
    family = env.unwrapped.family
    description = concept_title(family.name, info["concept"]) or family.describe_concept(info["concept_id"])
    env.close()
    title = f"{env_id}  seed={seed}  concept {info['concept_id']}: {description}"
    if description != info["concept"]:
        title += f"\n({info['concept']})"
    predictions, notes = None, {}
    if annotate is not None:
        episode, predictions, notes = annotate(env_id, episode)
    out.parent.mkdir(parents=True, exist_ok=True)
    caption = f"{notes['agent']} found: {notes['explanation']}\n{notes['program']}" if notes.get("explanation") else None
    Image.fromarray(episode_grid(episode, title=title, max_queries=max_queries, predictions=predictions,
                                 caption=caption)).save(out)
    return dict(info, description=description, **notes), episode


def cmd_show(args: argparse.Namespace) -> int:
    out = Path(args.out)
    annotate = None
    if args.agent is not None:
        from agents.pix2code.perception.draw import agent_annotation

        annotate = agent_annotation(args.agent, args.modality)
    info, episode = save_episode_grid(
        args.env_id, args.seed, out, subset=args.subset, max_queries=args.max_queries,
        concept=args.concept, image_size=args.image_size, annotate=annotate,
    )
    table = Table(title=f"{args.env_id} (seed {args.seed})", show_header=False)
    for key in ("concept_id", "concept", "subset", "fingerprint"):
        table.add_row(key, escape(str(info[key])))
    table.add_row("in English", escape(info["description"]))
    table.add_row("support", f"{int(episode.support_labels.sum())} positives, {int((episode.support_labels == 0).sum())} negatives")
    table.add_row("query", f"{int(episode.query_labels.sum())} positives, {int((episode.query_labels == 0).sum())} negatives")
    for key in ("agent", "program", "explanation", "query accuracy", "boxes"):
        if key in info:
            table.add_row(key, escape(str(info[key])))
    table.add_row("picture", str(out))
    console.print(table)
    return 0


def _run(agent_name: str, env_id: str, episodes: int, seed: int, env_kwargs: dict, progress: Progress) -> Evaluation:
    task = progress.add_task(f"{agent_name} on {env_id}", total=episodes)
    agent = make_agent(agent_name, env_id=env_id)
    return evaluate_agent(
        agent, env_id, episodes=episodes, seed=seed, env_kwargs=env_kwargs,
        on_episode=lambda _: progress.advance(task),
    )


def _results_table(title: str, evaluations: Sequence[Evaluation]) -> Table:
    table = Table(title=title)
    for column in ("environment", "subset", "agent", "episodes", "class-balanced accuracy", "95% CI"):
        table.add_column(column, justify="right" if column in ("episodes", "class-balanced accuracy") else "left")
    for evaluation in evaluations:
        summary = evaluation.summary()
        table.add_row(
            evaluation.env_id, evaluation.subset, evaluation.agent, str(summary.n),
            f"{summary.mean:.3f}", f"[{summary.low:.3f}, {summary.high:.3f}]",
        )
    return table


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.suite is not None:
        return cmd_evaluate_suite(args, console)
    agent = args.agent_flag or args.agent
    if agent is None or args.env_id is None:
        raise ValueError("pix2code evaluate takes AGENT ENV_ID (seeded episodes of one env), "
                         "or --agent AGENT --suite SUITE (a leaderboard suite)")
    args.agent = agent
    args.episodes = 20 if args.episodes is None else args.episodes
    env_kwargs = {"subset": args.subset, "reveal_concept": args.programs}
    if args.modality is not None:
        env_kwargs["modality"] = args.modality
    with _progress() as progress:
        evaluation = _run(args.agent, args.env_id, args.episodes, args.seed, env_kwargs, progress)
    console.print(_results_table("evaluation", [evaluation]))
    if args.programs:
        _print_programs(evaluation)
    return 0


def _print_programs(evaluation: Evaluation) -> None:
    table = Table(title=f"{evaluation.agent} on {evaluation.env_id}: programs found")
    table.add_column("seed", justify="right")
    table.add_column("concept")
    table.add_column("program found")
    table.add_column("in English")
    table.add_column("score", justify="right")
    for record in evaluation.records:
        concept = record.concept_id if record.concept is None else f"{record.concept_id}: {record.concept}"
        program = record.program or "(none)"
        if record.fallback:
            program += f"\n[fallback] {record.fallback}"
        table.add_row(str(record.seed), escape(concept), escape(program), escape(record.explanation or "-"),
                      f"{record.score:.3f}")
    console.print(table)


def cmd_demo(args: argparse.Namespace) -> int:
    from agents.pix2code.perception.draw import agent_annotation

    known = available_agents()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    evaluations = []
    with _progress() as progress:
        for env_id, subset, agent_names, episodes in DEMO_PLAN:
            env_kwargs = {"subset": subset, "modality": "scene", "reveal_concept": True}
            for agent_name in agent_names:
                if agent_name not in known:
                    console.print(f"[yellow]skipping agent {agent_name!r}: not installed[/yellow]")
                    continue
                evaluations.append(_run(agent_name, env_id, episodes, args.seed, env_kwargs, progress))
            annotate = agent_annotation("pix2code", "scene") if "pix2code" in agent_names and "pix2code" in known else None
            save_episode_grid(env_id, args.seed, out / f"{env_id}.png", subset=subset, max_queries=30, annotate=annotate)
    console.print(_results_table("pix2code-gym demo", evaluations))
    for evaluation in evaluations:
        if any(record.program for record in evaluation.records):
            _print_programs(evaluation)
    if "pix2code" in known:
        _revision_demo(args.seed)
    console.print(f"episode grids (with what Pix2Code found, under each) written to {out}/")
    return 0


def _revision_demo(seed: int, episodes: int = 4) -> None:
    """Pix2Code's two revision experiments in small (benchmarks/bench_revision.py runs them on 200
    episodes): the agent on CURI-Hans searching the base DSL, then with the colour primitives
    removed; and on the Counting split under a tight budget, before and after adding counting
    primitives."""
    from agents.pix2code.revision_experiments import COUNTING_ENV, HANS, TIGHT, example, scores, summary

    seeds = list(range(seed, seed + episodes))
    hans = Table(title=f"revision on {HANS} (base DSL): support positives share a colour the concept does not mention")
    for column in ("agent", f"accuracy ({episodes} test episodes)", f"seed {seed}: program", "in English"):
        hans.add_column(column)
    counting = Table(title=f"revision on {COUNTING_ENV}: counting primitives added, {TIGHT:,} candidates at most")
    for column in ("agent", f"accuracy ({episodes} test episodes)", "solved", "median candidates to a solution"):
        counting.add_column(column)
    with _progress() as progress:
        task = progress.add_task("revision demo", total=4)
        for revision in (None, "remove-color"):
            accuracy = float(np.mean([s for s, _ in scores(HANS, revision, None, seeds, library="base")]))
            shown = example(HANS, revision, seed, library="base")
            hans.add_row("before" if revision is None else 'revise(remove=["color"])', f"{accuracy:.3f}",
                         escape(shown.program), escape(shown.explanation))
            progress.advance(task)
        for revision in (None, "add-counting"):
            counting.add_row("as shipped" if revision is None else "revise(add=COUNTING)",
                             *summary(scores(COUNTING_ENV, revision, TIGHT, seeds), TIGHT))
            progress.advance(task)
    console.print(hans)
    console.print(f"concept of seed {seed}: {escape(shown.concept)}")
    console.print(counting)


#: Commands whose implementation lives with what they work on: ``pix2code train NAME ...`` calls
#: ``main(["NAME", ...])`` of the trainer's module; ``extract`` and ``revise`` call ``main(argv)``.
TRAINERS: dict[str, str] = {
    "extractor": "agents.pix2code.perception.train",
    "pix2code": "agents.pix2code.library.train",
    "protonet": "agents.neural.train",
    "transformer": "agents.neural.train",
    "ppo": "agents.neural.train",
}
DELEGATED: dict[str, tuple[str, str]] = {
    "extract": ("agents.pix2code.perception.extract", "read the objects of an image with the trained extractor"),
    "revise": ("agents.pix2code.revise", "remove, add or edit primitives of a Pix2Code library"),
}


def _delegate(module_name: str, argv: list[str]) -> int:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            console.print(f"[red]error:[/red] {module_name} is not part of this installation")
            return 2
        raise
    return int(module.main(argv) or 0)


def cmd_train(args: argparse.Namespace) -> int:
    return _delegate(TRAINERS[args.model], [args.model, *args.rest])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pix2code", description="pix2code-gym: few-shot visual concept learning")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list the registered environment ids").set_defaults(func=cmd_list)
    commands.add_parser("agents", help="list the registered agents").set_defaults(func=cmd_agents)

    show = commands.add_parser("show", help="draw one episode as a PNG grid")
    show.add_argument("env_id")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument("--out", default="episode.png")
    show.add_argument("--subset", default="train")
    show.add_argument("--concept", default=None, help="a concept id of the subset (default: drawn from the seed)")
    show.add_argument("--image-size", type=int, default=None, help="image width in pixels (16..640)")
    show.add_argument("--max-queries", type=int, default=50)
    show.add_argument("--agent", default=None, help="fit this agent on the support and tag its query predictions")
    show.add_argument("--modality", default=None, choices=["image", "scene"],
                      help="what the agent reads; pix2code with 'image' also draws its detected boxes")
    show.set_defaults(func=cmd_show)

    evaluate = commands.add_parser(
        "evaluate", help="score an agent on seeded episodes of an env, or on a leaderboard suite",
        description="pix2code evaluate AGENT ENV_ID [--episodes N]  |  "
                    "pix2code evaluate --agent NAME|module:Class --suite SUITE [--backend serial|process|ray] "
                    "[--workers N] [--episodes N] [--out FILE]",
    )
    evaluate.add_argument("agent", nargs="?", default=None, help="a registered agent name or module:Class")
    evaluate.add_argument("env_id", nargs="?", default=None)
    evaluate.add_argument("--episodes", type=int, default=None,
                          help="episodes (env form, default 20); with --suite, the first N of each env")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--subset", default="test")
    evaluate.add_argument("--modality", default=None, choices=["image", "scene", "both"],
                          help="observation modality (default: the first the agent reads)")
    evaluate.add_argument("--programs", action="store_true", help="print the program of every episode")
    add_suite_arguments(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    train = commands.add_parser("train", help="train a model (options: pix2code train NAME --help)", add_help=False)
    train.add_argument("model", choices=sorted(TRAINERS))
    train.add_argument("rest", nargs=argparse.REMAINDER)
    train.set_defaults(func=cmd_train)
    for name, (module_name, text) in DELEGATED.items():
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(func=lambda args, m=module_name: _delegate(m, args.rest))

    add_leaderboard_parser(commands, console)

    demo = commands.add_parser("demo", help="the reference agents and Pix2Code on a few episodes of each family")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="out/demo")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, KeyError, gym.error.Error) as error:
        console.print(f"[red]error:[/red] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
