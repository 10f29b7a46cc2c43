"""``pix2code leaderboard verify``: the honest submission passes; each deliberately broken one is
rejected with its own one-line message and a non-zero exit, without a traceback."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard.cli import main
from leaderboard.harness import HarnessRun
from leaderboard.submission import dumps
from leaderboard.suites import get_suite
from leaderboard.verify import Rejected, verify_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """An honest smoke-suite submission of the random agent (it gives scores, so it has mAP records)."""
    out = tmp_path_factory.mktemp("honest") / "random--smoke.json"
    HarnessRun(agent="random", suite=get_suite("smoke"), out=out).execute()
    return out


def _edit(submission, change):
    broken = copy.deepcopy(submission)
    change(broken)
    return broken


def _flip(record):
    record["predictions"][0] = 1 - record["predictions"][0]


def _set(obj, key, value):
    obj[key] = value


BROKEN_EDITS = {
    "score": lambda s: _set(s["records"][1], "score", 1.0 if s["records"][1]["score"] != 1.0 else 0.5),
    "records-hash": lambda s: _flip(s["records"][2]),
    "fingerprint": lambda s: _set(s["records"][3], "fingerprint", "0" * 64),
    "incomplete": lambda s: s["records"].pop(),
    "schema-version": lambda s: _set(s, "schema_version", 2),
    "suite-version": lambda s: _set(s["suite"], "version", 1),
    "summary": lambda s: _set(s["summary"], "accuracy", 0.99),
    "average-precision": lambda s: _set(s["records"][0], "average_precision", 0.123),
    "malformed": lambda s: _set(s["records"][0], "predictions", "all positive"),
    "not-in-suite": lambda s: _set(s["records"][0], "seed", 999),
}


def test_the_honest_submission_verifies(honest, capsys):
    result = verify_file(honest)
    assert result.agent == "random" and result.suite == "smoke" and result.episodes == 9
    assert main(["leaderboard", "verify", str(honest)]) == 0
    assert "verified" in capsys.readouterr().out


@pytest.mark.parametrize("code", sorted(BROKEN_EDITS))
def test_each_broken_submission_is_rejected_with_its_own_reason(honest, tmp_path, code, capsys):
    data = _edit(json.loads(honest.read_text()), BROKEN_EDITS[code])
    path = tmp_path / f"{code}.json"
    path.write_text(dumps(data))
    with pytest.raises(Rejected) as caught:
        verify_file(path)
    assert caught.value.code == code, str(caught.value)
    assert main(["leaderboard", "verify", str(path)]) == 1
    out = capsys.readouterr().out.strip()
    assert out.count("rejected") == 1 and str(caught.value).split(":")[0] in " ".join(out.split())


def test_the_messages_are_distinct(honest, tmp_path):
    messages = {}
    text = honest.read_text()
    for code, edit in BROKEN_EDITS.items():
        path = tmp_path / f"{code}.json"
        path.write_text(dumps(_edit(json.loads(text), edit)))
        with pytest.raises(Rejected) as caught:
            verify_file(path)
        messages[code] = str(caught.value)
    for code, content in {"truncated": text[: len(text) // 2], "invalid-json": "{this is not json}\n"}.items():
        path = tmp_path / f"{code}.json"
        path.write_text(content)
        with pytest.raises(Rejected) as caught:
            verify_file(path)
        assert caught.value.code == code
        messages[code] = str(caught.value)
    assert len(set(messages.values())) == len(messages)
    assert all("\n" not in message for message in messages.values())
    assert messages["incomplete"].startswith("incomplete: 1 of the suite's 9 episodes are missing")
    assert messages["suite-version"] == "made for suite smoke version 1; this package runs version 0, whose episodes differ"
    assert messages["schema-version"].startswith("schema version 2 is not supported")
    assert messages["truncated"].startswith("truncated file")


def test_invalid_and_truncated_files_fail_without_a_traceback(honest, tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(honest.read_text()[:5000])
    nan = tmp_path / "nan.json"
    nan.write_text(re.sub(r'"score":[0-9.]+', '"score":NaN', honest.read_text(), count=1))
    command = [sys.executable, "-m", "leaderboard.cli", "leaderboard", "verify", str(cut), str(nan), str(tmp_path / "none.json")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3, done.stdout
    assert "truncated file" in lines[0] and "NaN is not a JSON number" in lines[1] and "cannot read the file" in lines[2]
