"""Leaderboard suites are fixed data; CURI's mAP pieces (average precision, stored ranks) are exact."""

import numpy as np
import pytest

from leaderboard.pool import average_precision, build_indices, decode_ranks, dense_ranks, encode_ranks, suite_pool_specs
from leaderboard.schema import SchemaError, check
from leaderboard.suites import CURI_ENV_IDS, SUITES, get_suite, resolve_concept_list
from pix2code_env.registration import KANDINSKY_PATTERNS
from tasks.curi.concept_list import ENV_VARIABLE
from tests.reference_data import CURI_REFERENCE, require


def test_suites_hold_the_episodes_the_issue_names():
    assert set(SUITES) == {"curi-v0", "curi-official-v0", "kandinsky-v0", "kandinsky-classic-v0", "curi-hans-v0", "smoke"}
    curi = get_suite("curi-v0").episodes()
    assert len(curi) == 9 * 200 and len(CURI_ENV_IDS) == 9
    assert {spec.subset for spec in curi} == {"test"}
    assert [spec.seed for spec in curi if spec.env_id == "Pix2Code-CURI-Counting-v0"] == list(range(200))
    assert [s.key for s in get_suite("curi-official-v0").episodes()] == [s.key for s in curi]
    kandinsky = get_suite("kandinsky-v0").episodes()
    concepts = [spec.options["concept"] for spec in kandinsky]
    assert len(kandinsky) == 100 and len(set(concepts)) == 100
    assert [spec.seed for spec in kandinsky] == list(range(100))  # the seed is fixed per concept
    classic = get_suite("kandinsky-classic-v0").episodes()
    assert len(classic) == 7 * 20 and len({s.env_id for s in classic}) == len(KANDINSKY_PATTERNS)
    assert len(get_suite("curi-hans-v0").episodes()) == 200
    assert len(get_suite("smoke").episodes()) < 12
    assert get_suite("curi-v0").episodes(limit=3)[:4] == curi[:3] + [curi[200]]
    assert all(SUITES[n].map_pool for n in ("curi-v0", "curi-official-v0", "curi-hans-v0"))
    assert get_suite("curi-v0").map_pool.per_concept == 3  # CURI's 3 scenes per concept


def test_unknown_suites_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown suite 'curi-v9'; expected one of .*'curi-v0'.*'smoke'"):
        get_suite("curi-v9")
    with pytest.raises(ValueError, match="positive number"):
        get_suite("smoke").episodes(limit=0)


def test_the_official_suite_needs_the_concept_list(monkeypatch, tmp_path):
    suite = get_suite("curi-official-v0")
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    with pytest.raises(ValueError, match="--concept-list"):
        resolve_concept_list(suite, None)
    with pytest.raises(ValueError, match="is not a file"):
        resolve_concept_list(suite, str(tmp_path / "absent.json"))
    path = str(require(CURI_REFERENCE / "hyp_to_id.json"))
    assert resolve_concept_list(suite, path) == path
    monkeypatch.setenv(ENV_VARIABLE, path)
    assert resolve_concept_list(suite, None) == path
    assert resolve_concept_list(get_suite("curi-v0"), path) is None  # curi-v0 always runs on the generated pool


def _reference_ap(truth, scores):
    """Average precision by its definition: precision at each distinct threshold times the recall gained."""
    total, previous = 0.0, 0.0
    for threshold in sorted(set(scores), reverse=True):
        chosen = scores >= threshold
        recall = (truth & chosen).sum() / truth.sum()
        total += (recall - previous) * (truth & chosen).sum() / chosen.sum()
        previous = recall
    return total


def test_average_precision_matches_its_definition_with_ties():
    # scikit-learn's documented example
    assert average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.8333333)
    rng = np.random.default_rng(0)
    for _ in range(50):
        truth = rng.random(40) < 0.3
        truth[0] = True
        scores = rng.integers(0, 6, size=40).astype(float)  # many ties
        assert average_precision(truth, scores) == pytest.approx(_reference_ap(truth, scores))
    assert average_precision(np.array([1, 0, 0, 0]), np.full(4, 0.5)) == pytest.approx(0.25)  # constant: prevalence
    assert average_precision(np.zeros(3, bool), np.arange(3.0)) is None


def test_stored_ranks_keep_exactly_what_ap_sees():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=600), 2)  # log-probabilities work too: only the order matters
    truth = rng.random(600) < 0.1
    ranks = dense_ranks(scores)
    back = decode_ranks(encode_ranks(ranks), 600)
    assert average_precision(truth, back) == pytest.approx(average_precision(truth, scores), abs=0)
    with pytest.raises(ValueError, match="hold 600 values"):
        decode_ranks(encode_ranks(ranks), 500)
    with pytest.raises(ValueError, match="not zlib"):
        decode_ranks("not base64!", 600)


def test_the_schema_checker_names_the_field():
    spec = {"predictions": (("list", "label"), None), "seed": int}
    check({"predictions": [0, 1], "seed": 3}, spec, "record")
    with pytest.raises(SchemaError, match=r"record.predictions\[1\]: expected 0 or 1, got 2"):
        check({"predictions": [0, 2], "seed": 3}, spec, "record")
    with pytest.raises(SchemaError, match="missing field 'seed'"):
        check({"predictions": None}, spec, "record")
    with pytest.raises(SchemaError, match="unknown field 'extra'"):
        check({"predictions": None, "seed": 1, "extra": 0}, spec, "record")
    with pytest.raises(SchemaError, match="record.seed: expected an integer, got True"):
        check({"predictions": None, "seed": True}, spec, "record")


@pytest.mark.parametrize("suite_name, env_id", [("smoke", "Pix2Code-CURI-v0"), ("curi-v0", "Pix2Code-CURI-Counting-v0")])
def test_shipped_map_pools_match_a_regeneration(suite_name, env_id):
    suite = get_suite(suite_name)
    plan = next(p for p in suite.envs if p.env_id == env_id)
    shipped = suite_pool_specs(suite)[env_id]
    assert shipped.indices == build_indices(suite, plan, {})
    # CURI's guarantee: every tested concept has per_concept scenes of its own in the pool
    assert len(shipped) >= suite.map_pool.per_concept * 2
