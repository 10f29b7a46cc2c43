"""The leaderboard's commands: ``pix2code evaluate --agent A --suite S`` and ``pix2code leaderboard
build | verify | show | suites``. :mod:`leaderboard.cli` wires them into its parser."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents.registry import agent_class
from leaderboard.backends import BACKENDS
from leaderboard.harness import HarnessRun, JournalMismatch
from leaderboard.suites import SUITES, get_suite
from leaderboard.tables import env_label, load_submissions, markdown, rich_tables
from leaderboard.verify import Rejected, verify_file

HERE = Path(__file__).resolve().parent
SUBMISSIONS = HERE / "submissions"
LEADERBOARD_MD = HERE / "LEADERBOARD.md"
SITE = HERE / "site"


def published_name(agent: str, suite: str, modality: str | None) -> str:
    """The file ``pix2code evaluate --agent AGENT --suite SUITE [--modality M]`` writes by default:
    ``AGENT--SUITE.json``, with ``-MODALITY`` after the agent when it is not the agent's first (an
    unknown agent name lists the known ones)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", agent).strip("-")
    if modality and modality != tuple(agent_class(agent).modalities)[0]:
        slug += f"-{modality}"
    return f"{slug}--{suite}.json"


def _key_values(pairs: list[str], what: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is read as JSON when it parses (numbers, true, lists), else text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {pair!r} is not KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite form of ``pix2code evaluate`` (beside the positional AGENT ENV_ID form)."""
    parser.add_argument("--agent", dest="agent_flag", default=None, help="a registered agent name or module:Class")
    parser.add_argument("--suite", default=None, help=f"run a whole suite: one of {', '.join(SUITES)}")
    parser.add_argument("--backend", default="serial", choices=BACKENDS, help="where episodes run (suites)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes / Ray tasks in flight (default: all CPUs; serial: 1)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per episode before it fails (suites)")
    parser.add_argument("--out", default=None, help="submission file (default: submissions/AGENT--SUITE.json)")
    parser.add_argument("--concept-list", default=None, help="CURI's hyp_to_id.json for curi-official-v0")
    parser.add_argument("--ray-address", default=None, help="Ray cluster address (default: $RAY_ADDRESS or a local one)")
    parser.add_argument("--agent-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an agent constructor option (JSON value), repeatable")
    parser.add_argument("--card", action="append", default=[], metavar="KEY=VALUE",
                        help="an agent-card field (training_data, compute, description, version), repeatable")
    parser.add_argument("--keep-journal", action="store_true", help="keep OUT.journal.jsonl after success")


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def execute_with_progress(run: HarnessRun, console: Console) -> dict[str, Any]:
    """Run with one rich progress bar per env (split) of the suite."""
    with _progress(console) as progress:
        tasks = {env_id: progress.add_task(f"{run.agent} on {env_label(env_id)}", total=0)
                 for env_id in run.suite.env_ids}
        for spec in run.plan:
            progress.update(tasks[spec.env_id], total=progress.tasks[tasks[spec.env_id]].total + 1)
        run.on_record = lambda env_id: progress.advance(tasks[env_id])
        run.on_stage = lambda text: progress.console.print(f"[dim]{escape(text)}[/dim]")
        return run.execute()


def cmd_evaluate_suite(args: argparse.Namespace, console: Console) -> int:
    agent = args.agent_flag or args.agent
    if agent is None:
        raise ValueError("name the agent: pix2code evaluate --agent NAME --suite SUITE")
    suite = get_suite(args.suite)
    out = Path(args.out) if args.out else Path("submissions") / published_name(agent, suite.name, args.modality)
    run = HarnessRun(
        agent=agent, suite=suite, out=out, agent_options=_key_values(args.agent_option, "--agent-option"),
        modality=args.modality, episodes=args.episodes, backend=args.backend, workers=args.workers,
        timeout=args.timeout, concept_list=args.concept_list, ray_address=args.ray_address,
        card=_key_values(args.card, "--card"), keep_journal=args.keep_journal,
    )
    try:
        submission = execute_with_progress(run, console)
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]: finished episodes are in {run.out}.journal.jsonl; "
                      "run the same command again to resume")
        return 130
    except JournalMismatch as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        return 2
    table = Table(title=f"{agent} on {suite.name} (v{suite.version}), modality {run.modality}")
    for column in ("environment", "episodes", "failed", "accuracy", "95% CI", "mAP"):
        table.add_column(column, justify="left" if column == "environment" else "right")
    for env_id, s in submission["summary"]["envs"].items():
        acc = s["accuracy"]
        table.add_row(env_id, str(s["episodes"]), str(s["failures"]), f"{acc['mean']:.3f}",
                      f"[{acc['low']:.3f}, {acc['high']:.3f}]", "–" if s["map"] is None else f"{s['map']:.3f}")
    console.print(table)
    failures = [r for r in submission["records"] if r["failure"]]
    for record in failures[:5]:
        console.print(f"[yellow]failed[/yellow] {record['env_id']} seed {record['seed']}: {escape(record['failure'])}")
    if len(failures) > 5:
        console.print(f"[yellow]… {len(failures) - 5} more failed episodes (see the submission)[/yellow]")
    console.print(f"submission written to {run.out}")
    return 0


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    status = 0
    for name in args.files:
        try:
            result = verify_file(name, args.concept_list)
        except Rejected as error:
            console.print(f"{escape(name)}: [red]rejected[/red]: {escape(str(error))}", soft_wrap=True)
            status = 1
        except ValueError as error:
            console.print(f"{escape(name)}: [red]rejected[/red]: {escape(str(error))}", soft_wrap=True)
            status = 1
        else:
            console.print(f"{escape(name)}: [green]verified[/green]: {result.agent} on {result.suite} v{result.version}, "
                          f"{result.episodes} episodes ({result.failures} failed) re-scored", soft_wrap=True)
    return status


def _report(console: Console):
    def report(path: Path, problem: str | None) -> None:
        if problem:
            console.print(f"[yellow]left out[/yellow] {path.name}: {escape(problem)}", soft_wrap=True)
    return report


def build(folder: Path, markdown_path: Path, site: Path, *, verify: bool = True, concept_list: str | None = None,
          on_file: Any = None) -> tuple[int, Path]:
    """LEADERBOARD.md and the web page from the submissions in ``folder`` that verify."""
    from leaderboard.site import write_site

    entries = load_submissions(folder, verify=verify, concept_list=concept_list, on_file=on_file)
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown(entries), encoding="utf-8")
    return len(entries), write_site(entries, site, concept_list)


def cmd_build(args: argparse.Namespace, console: Console) -> int:
    with console.status("verifying submissions (regenerating every episode)…" if not args.no_verify else "reading…"):
        count, index = build(Path(args.submissions), Path(args.markdown), Path(args.site), verify=not args.no_verify,
                             concept_list=args.concept_list, on_file=_report(console))
    console.print(f"{count} submissions -> {args.markdown} and {index}")
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    entries = load_submissions(Path(args.submissions), verify=args.verify, concept_list=args.concept_list,
                               on_file=_report(console))
    if not entries:
        console.print(f"no submissions in {args.submissions}")
        return 1
    for table in rich_tables(entries):
        console.print(table)
    return 0


def cmd_suites(_: argparse.Namespace, console: Console) -> int:
    table = Table(title="leaderboard suites")
    for column in ("suite", "version", "episodes", "environments", "mAP pool", "description"):
        table.add_column(column)
    for suite in SUITES.values():
        count = str(len(suite.episodes()))
        pool = f"{suite.map_pool.per_concept}/concept" if suite.map_pool else "–"
        table.add_row(suite.name, str(suite.version), count, ", ".join(env_label(e) for e in suite.env_ids), pool,
                      suite.description)
    console.print(table)
    return 0


def add_leaderboard_parser(commands: argparse._SubParsersAction, console: Console) -> None:
    board = commands.add_parser("leaderboard", help="verify submissions, build and show the leaderboard")
    sub = board.add_subparsers(dest="leaderboard_command", required=True)

    verify = sub.add_parser("verify", help="regenerate, re-score and check submission files")
    verify.add_argument("files", nargs="+")
    verify.add_argument("--concept-list", default=None, help="CURI's hyp_to_id.json (curi-official-v0 files)")
    verify.set_defaults(func=lambda a: cmd_verify(a, console))

    build = sub.add_parser("build", help="write LEADERBOARD.md and the web page from verified submissions")
    build.add_argument("--submissions", default=str(SUBMISSIONS))
    build.add_argument("--markdown", default=str(LEADERBOARD_MD))
    build.add_argument("--site", default=str(SITE))
    build.add_argument("--concept-list", default=None)
    build.add_argument("--no-verify", action="store_true", help="trust each file's episodes (summaries are still recomputed)")
    build.set_defaults(func=lambda a: cmd_build(a, console))

    show = sub.add_parser("show", help="print the leaderboard tables")
    show.add_argument("--submissions", default=str(SUBMISSIONS))
    show.add_argument("--verify", action="store_true", help="verify every file first (regenerates episodes)")
    show.add_argument("--concept-list", default=None)
    show.set_defaults(func=lambda a: cmd_show(a, console))

    sub.add_parser("suites", help="list the suites").set_defaults(func=lambda a: cmd_suites(a, console))
