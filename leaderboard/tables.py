"""Leaderboard tables from a folder of submissions: Markdown (LEADERBOARD.md) and rich (``show``).

Numbers come from the records, never from a file's own summary: ``build`` verifies every file
(regenerates episodes, re-scores) before using it, and ``show`` at least recomputes each summary
from its records and refuses files whose summary does not follow.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from leaderboard.suites import SUITES, Suite
from leaderboard.verify import Rejected, check_header, load, verify_submission
from leaderboard.submission import summarize

MODALITY_MARK = {"scene": "objects†", "both": "pixels + objects†", "image": "pixels"}
GAP_AGENTS = ("oracle-strong", "oracle-weak")


@dataclass(frozen=True)
class Entry:
    path: Path
    data: dict[str, Any]

    @property
    def suite(self) -> Suite:
        return SUITES[self.data["suite"]["name"]]

    @property
    def agent(self) -> str:
        return self.data["agent"]["name"]

    @property
    def modality(self) -> str:
        return self.data["run"]["modality"]

    @property
    def input(self) -> str:
        """The input column: pixels, or † for ground-truth object tables the agent reads."""
        if self.modality in ("scene", "both") and not self.data["agent"]["uses_ground_truth_objects"]:
            return "objects, unread"
        return MODALITY_MARK.get(self.modality, self.modality)

    @property
    def summary(self) -> dict[str, Any]:
        return self.data["summary"]

    @property
    def partial(self) -> bool:
        return self.data["suite"]["episodes_per_env"] is not None


def load_submissions(folder: Path, *, verify: bool = True, concept_list: str | None = None,
                     on_file: Callable[[Path, str | None], None] | None = None) -> list[Entry]:
    """Every ``*.json`` in ``folder`` that verifies (or, without ``verify``, whose summary follows from
    its records); ``on_file(path, problem)`` hears about each file, problem None when accepted."""
    entries = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = load(path)
            if verify:
                verify_submission(data, concept_list)
            else:
                check_header(data)
                suite = SUITES.get(data["suite"]["name"])
                if suite is None or suite.version != data["suite"]["version"]:
                    raise Rejected("suite", f"not a submission for a current suite ({data['suite']['name']} "
                                            f"version {data['suite']['version']})")
                pools = {env_id: None for env_id in data["map_pools"]}
                if summarize(suite, data["records"], pools) != data["summary"]:
                    raise Rejected("summary", "the summary does not follow from the records")
        except Rejected as error:
            if on_file:
                on_file(path, str(error))
            continue
        except ValueError as error:  # e.g. a suite on CURI's list without the list
            if on_file:
                on_file(path, str(error))
            continue
        entries.append(Entry(path, data))
        if on_file:
            on_file(path, None)
    return entries


def env_label(env_id: str) -> str:
    """Column names: "Pix2Code-CURI-Counting-v0" -> "CURI-Counting"."""
    return env_id.removeprefix("Pix2Code-").removesuffix("-v0")


def by_suite(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    """Entries per suite (suite table order), best mean accuracy first."""
    groups: dict[str, list[Entry]] = {}
    for name in SUITES:
        rows = [e for e in entries if e.suite.name == name]
        if rows:
            groups[name] = sorted(rows, key=lambda e: (-(e.summary["accuracy"] or 0.0), e.agent, e.modality))
    return groups


def oracle_gap(rows: Sequence[Entry]) -> dict[str, Any] | None:
    """CURI's compositionality gap per split: strong minus weak oracle, accuracy and mAP."""
    found = {e.agent: e for e in rows if e.agent in GAP_AGENTS}
    if set(found) != set(GAP_AGENTS) or len({json.dumps(e.data["suite"], sort_keys=True) for e in found.values()}) != 1:
        return None  # both oracles, on the same episodes
    strong, weak = (found[a].summary for a in GAP_AGENTS)
    gap: dict[str, Any] = {}
    for env_id, s in strong["envs"].items():
        w = weak["envs"].get(env_id)
        if w is None:
            continue
        map_gap = None if s["map"] is None or w["map"] is None else s["map"] - w["map"]
        gap[env_id] = {"accuracy": s["accuracy"]["mean"] - w["accuracy"]["mean"], "map": map_gap}
    return gap


def _cell(env: dict[str, Any] | None, intervals: bool = True) -> str:
    if env is None:
        return "–"
    acc = env["accuracy"]
    text = f"{acc['mean']:.3f}"
    if intervals:
        text += f" [{acc['low']:.3f}, {acc['high']:.3f}]"
    if env["failures"]:
        text += f" ({env['failures']} failed)"
    return text


def _name(entry: Entry) -> str:
    return entry.agent + (" (partial)" if entry.partial else "")


def suite_rows(suite: Suite, rows: Sequence[Entry], intervals: bool = True) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a suite's accuracy table (plus the gap row for CURI suites)."""
    header = ["agent", "input", "mean", *[env_label(e) for e in suite.env_ids]]
    has_map = suite.map_pool is not None
    if has_map:
        header.append("mAP")
    body = []
    for entry in rows:
        s = entry.summary
        line = [_name(entry), entry.input, _num(s["accuracy"]),
                *[_cell(s["envs"].get(env_id), intervals) for env_id in suite.env_ids]]
        if has_map:
            line.append(_num(s["map"]))
        body.append(line)
    gap = oracle_gap(rows) if has_map else None
    if gap:
        values = [gap[e]["accuracy"] for e in suite.env_ids if e in gap]
        maps = [gap[e]["map"] for e in suite.env_ids if e in gap and gap[e]["map"] is not None]
        body.append(["compositionality gap (strong − weak oracle)", "", _num(sum(values) / len(values)),
                     *[_num(gap[e]["accuracy"]) if e in gap else "–" for e in suite.env_ids],
                     _num(sum(maps) / len(maps)) if maps else "–"])
    return header, body


def map_rows(suite: Suite, rows: Sequence[Entry]) -> tuple[list[str], list[list[str]]]:
    header = ["agent", "input", "mAP", *[env_label(e) for e in suite.env_ids]]
    body = [[_name(e), e.input, _num(e.summary["map"]),
             *[_num(e.summary["envs"].get(env_id, {}).get("map")) for env_id in suite.env_ids]]
            for e in rows if e.summary["map"] is not None]
    return header, body


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _markdown_table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return lines


def markdown(entries: Sequence[Entry]) -> str:
    lines = [
        "# pix2code-gym leaderboard",
        "",
        "Generated by `pix2code leaderboard build` from the verified submissions in `leaderboard/submissions/`",
        "(`make leaderboard` regenerates them; `pix2code leaderboard verify FILE` checks one). Class-balanced",
        "accuracy on the queries, mean over episodes with its bootstrap 95 % interval over episodes; failed",
        "episodes score 0. mAP: CURI's mean average precision of each episode's classifier on a fixed pool of",
        "test-bank scenes (agents that give scores). Input: † marks agents that read the ground-truth object",
        "tables instead of (or beside) pixels; \"objects, unread\": given object tables, the agent ignores them.",
    ]
    for name, rows in by_suite(entries).items():
        suite = SUITES[name]
        lines += ["", f"## {name} (version {suite.version})", "", suite.description + ".", ""]
        lines += _markdown_table(*suite_rows(suite, rows))
        if suite.map_pool is not None and any(e.summary["map"] is not None for e in rows):
            lines += ["", f"mAP per split (pool: {suite.map_pool.per_concept} scenes per tested concept, seed "
                          f"{suite.map_pool.seed}):", ""]
            lines += _markdown_table(*map_rows(suite, rows))
        lines += ["", "Submissions: " + ", ".join(f"`{e.path.name}`" for e in rows)]
    return "\n".join(lines) + "\n"


def rich_tables(entries: Sequence[Entry]) -> list[Table]:
    tables = []
    for name, rows in by_suite(entries).items():
        suite = SUITES[name]
        header, body = suite_rows(suite, rows, intervals=False)
        title = f"{name} (v{suite.version}): class-balanced accuracy" + (", mAP" if suite.map_pool else "")
        # at least as wide as its title, so a narrow terminal does not break the suite's name
        table = Table(title=title, caption="† reads ground-truth object tables", min_width=len(title))
        names = max((len(row[0].split(" (")[0]) for row in body), default=0)
        for i, column in enumerate(header):  # agent names are never cut; other columns give way
            table.add_column(column, justify="left" if i < 2 else "right", style="bold" if i == 0 else None,
                             min_width=min(names, 16) if i == 0 else None)
        for row in body:
            table.add_row(*row)
        tables.append(table)
    return tables

