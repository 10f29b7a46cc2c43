"""The published results: a submission for every run ``make leaderboard`` makes, each one whose
hash and summary hold and whose sampled episodes regenerate and re-score (the full check,
``pix2code leaderboard verify``, regenerates every episode; ``make leaderboard`` runs it), and a
LEADERBOARD.md built from exactly these files."""

from pathlib import Path

import pytest

from leaderboard.commands import LEADERBOARD_MD, SUBMISSIONS, published_name
from leaderboard.publish import PUBLISHED
from leaderboard.tables import load_submissions, markdown
from leaderboard.verify import load, verify_submission
from tests.reference_data import CURI_REFERENCE, require

FILES = sorted(SUBMISSIONS.glob("*.json"))


def _concept_list(path: Path) -> str | None:
    return str(require(CURI_REFERENCE / "hyp_to_id.json")) if "curi-official" in path.name else None


def test_every_published_run_has_its_submission():
    expected = {published_name(agent, suite, modality) for agent, suite, modality, _ in PUBLISHED}
    assert expected <= {path.name for path in FILES}


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_published_submissions_verify_on_a_sample(path):
    result = verify_submission(load(path), _concept_list(path), sample=4)
    assert result.episodes == len(result.submission["records"]) and result.submission["suite"]["episodes_per_env"] is None
    assert result.failures == 0


def test_the_leaderboard_page_was_built_from_these_submissions():
    entries = load_submissions(SUBMISSIONS, verify=False)
    assert len(entries) == len(FILES)
    assert LEADERBOARD_MD.read_text() == markdown(entries)
    assert (LEADERBOARD_MD.parent / "site" / "index.html").is_file()
