"""``pix2code leaderboard build`` and ``show``: Markdown tables, the oracle gap, and a web page whose
table and chart render in headless Chromium (Debian's ``chromium``; CI installs it and sets
``PIX2CODE_REQUIRE_CHROMIUM=1`` so that the browser test fails there instead of skipping)."""

import os
import shutil
import subprocess

import pytest

from agents.reference import RandomAgent
from leaderboard.cli import main
from leaderboard.harness import HarnessRun
from leaderboard.suites import get_suite


class ProgramRandom(RandomAgent):
    """A 'symbolic' random agent: it states a program and an explanation with its answers."""

    name = "program-random"

    def fit(self, obs):
        classifier = super().fit(obs)
        classifier.program = "(lambda (coin-flip $0))"
        classifier.explanation = "a scene is positive when a fair coin says so"
        return classifier


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    folder = root / "submissions"
    suite = get_suite("smoke")
    for agent in ("random", "oracle-strong", "oracle-weak", "tests.test_leaderboard_site:ProgramRandom"):
        name = agent.rsplit(":", 1)[-1]
        HarnessRun(agent=agent, suite=suite, out=folder / f"{name}--smoke.json", episodes=2).execute()
    (folder / "broken.json").write_text('{"schema_version": 1, "kind": ')
    assert main(["leaderboard", "build", "--submissions", str(folder), "--markdown", str(root / "LEADERBOARD.md"),
                 "--site", str(root / "site")]) == 0
    return root


def test_the_markdown_has_one_table_per_suite_with_intervals_and_the_oracle_gap(board):
    text = (board / "LEADERBOARD.md").read_text()
    assert text.count("## smoke (version 0)") == 1
    header = next(line for line in text.splitlines() if line.startswith("| agent | input | mean |"))
    assert "CURI-Counting" in header and "Kandinsky-OneRed" in header and header.endswith("| mAP |")
    rows = {}
    for line in text.splitlines():  # the accuracy table's rows (it comes before the mAP table)
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0][2:].removesuffix(" (partial)"), line)
    assert "| objects† |" in rows["oracle-strong"] and "[" in rows["oracle-strong"]  # modality marked, interval shown
    assert "| objects, unread |" in rows["random"]  # given object tables, random never reads them
    assert "| compositionality gap (strong − weak oracle) |" in text
    assert "failed" in text  # the oracles cannot play Kandinsky: their failures are shown, not hidden
    assert "broken.json" not in text


def test_show_prints_the_tables(board, capsys):
    assert main(["leaderboard", "show", "--submissions", str(board / "submissions")]) == 0
    out = capsys.readouterr().out
    assert "smoke (v0)" in out and "oracle-strong" in out and "left out broken.json" in out


def test_the_page_is_self_contained_with_programs_and_grids(board):
    page = (board / "site" / "index.html").read_text()
    assert "<script src" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count('class="entry"') == 4
    assert "(lambda (coin-flip $0))" in page and "a fair coin says so" in page
    grids = sorted((board / "site" / "grids").glob("*.png"))
    assert grids and all(f'src="grids/{g.name}"' in page for g in grids)


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("PIX2CODE_REQUIRE_CHROMIUM"):
        pytest.fail("headless Chromium is required here (apt-get install -y chromium)")
    return found


def test_the_table_and_chart_render_in_headless_chromium(board, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    index = (board / "site" / "index.html").resolve()
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", index.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert dom.count('<tr class="entry">') == 4  # the table
    assert 'data-drawn="yes"' in dom  # the script ran ...
    bars = dom.count('class="bar"')
    assert bars >= 4 * 2  # ... and drew a bar per (agent, split) it has a score for
    assert "<title>oracle-strong (objects†) on CURI:" in dom
