"""Regenerate the published submissions (``make leaderboard``) and rebuild the leaderboard.

    python -m leaderboard.publish                       # every entry of PUBLISHED, then build
    python -m leaderboard.publish --agents protonet --missing   # fill in what a new agent can run

Each entry is one ``pix2code evaluate --agent A --suite S`` run writing
``leaderboard/submissions/A--S.json``; runs resume from their journals when interrupted. Adding
an agent to the leaderboard is one line in :data:`PUBLISHED` (and one command). Suites on CURI's
released concept list run only when the list is given (``--concept-list`` or
``$PIX2CODE_CURI_CONCEPT_LIST``); without it they are skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from rich.console import Console

from leaderboard.commands import LEADERBOARD_MD, SITE, SUBMISSIONS, build, execute_with_progress, published_name
from leaderboard.harness import HarnessRun
from leaderboard.suites import get_suite, resolve_concept_list

CURI_SUITES = ("curi-v0", "curi-hans-v0", "curi-official-v0")
KANDINSKY_SUITES = ("kandinsky-v0", "kandinsky-classic-v0")

#: (agent, suite, modality or None for the agent's first, agent options): cheap runs first. The
#: oracles know CURI's pool only. Pix2Code reads object tables (modality "scene") or pixels through
#: its trained extractor ("image") and runs without its wall-clock cap (``seconds=None``: its
#: candidate budget alone stops the search), so its published predictions do not depend on how busy
#: the machine was. The neural baselines run where they ship weights for every env of the suite:
#: both protonets and the schema transformer for every CURI split and RelKP (none for CURI-Hans),
#: the image transformer for RelKP. Weights trained on the generated pool's training concepts do
#: not run on CURI's released list: some of its test concepts are training concepts of ours.
PIX2CODE_OPTIONS = {"seconds": None}
PUBLISHED: tuple[tuple[str, str, str | None, dict], ...] = (
    *((agent, suite, None, {}) for suite in CURI_SUITES for agent in ("random", "prior", "oracle-strong", "oracle-weak")),
    *((agent, suite, None, {}) for suite in KANDINSKY_SUITES for agent in ("random", "prior")),
    *(("protonet", suite, "scene", {}) for suite in ("curi-v0", "kandinsky-v0")),
    *(("protonet", suite, "image", {}) for suite in ("curi-v0", "kandinsky-v0")),
    *(("transformer", "kandinsky-v0", modality, {}) for modality in ("image", "scene")),
    ("transformer", "curi-v0", "scene", {}),
    *(("pix2code", suite, "scene", PIX2CODE_OPTIONS) for suite in ("kandinsky-v0", "kandinsky-classic-v0", "curi-hans-v0",
                                                                     "curi-v0", "curi-official-v0")),
    *(("pix2code", suite, "image", PIX2CODE_OPTIONS) for suite in ("kandinsky-v0", "kandinsky-classic-v0", "curi-hans-v0",
                                                                     "curi-v0", "curi-official-v0")),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leaderboard.publish", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="*", default=None, help="only these agents")
    parser.add_argument("--suites", nargs="*", default=None, help="only these suites")
    parser.add_argument("--missing", action="store_true", help="only runs whose submission file is absent")
    parser.add_argument("--backend", default="process", choices=("serial", "process", "ray"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LEADERBOARD_WORKERS", "1")))
    parser.add_argument("--concept-list", default=None)
    parser.add_argument("--no-build", action="store_true", help="skip rebuilding LEADERBOARD.md and the page")
    args = parser.parse_args(argv)
    console = Console()
    SUBMISSIONS.mkdir(parents=True, exist_ok=True)
    for agent, suite_name, modality, options in PUBLISHED:
        if (args.agents and agent not in args.agents) or (args.suites and suite_name not in args.suites):
            continue
        suite = get_suite(suite_name)
        out = SUBMISSIONS / published_name(agent, suite_name, modality)
        if args.missing and out.exists():
            continue
        try:
            concept_list = resolve_concept_list(suite, args.concept_list)
        except ValueError as error:
            console.print(f"[yellow]skipping[/yellow] {agent} on {suite_name}: {error}")
            continue
        started = time.perf_counter()
        run = HarnessRun(agent=agent, suite=suite, out=out, modality=modality, agent_options=dict(options),
                         backend=args.backend,
                         workers=args.workers, concept_list=concept_list)
        console.print(f"[bold]{agent}[/bold] on {suite_name} ({len(run.plan)} episodes) -> {out}", soft_wrap=True)
        summary = execute_with_progress(run, console)["summary"]
        console.print(f"  accuracy {summary['accuracy']}, mAP {summary['map']}, {summary['failures']} failed, "
                      f"{time.perf_counter() - started:.0f} s")
    if args.no_build:
        return 0
    count, index = build(SUBMISSIONS, LEADERBOARD_MD, SITE, concept_list=args.concept_list,
                         on_file=lambda path, problem: problem and console.print(f"[red]rejected[/red] {path.name}: {problem}"))
    console.print(f"{count} verified submissions -> {LEADERBOARD_MD} and {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
