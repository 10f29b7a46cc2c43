"""The shipped RelKP concept list is exactly what the build command regenerates."""

from __future__ import annotations

import json

import pytest

from tasks.kandinsky.concept_list import DATA_FILE, ConceptList, load_concepts
from tasks.kandinsky import concepts
from tasks.kandinsky.concepts import GROUP_CAPS, MIN_RATE, _water_fill, build_concepts


@pytest.fixture(scope="module")
def rebuilt() -> ConceptList:
    return build_concepts()


def test_file_matches_a_fresh_build(rebuilt):
    assert rebuilt.to_json() == json.loads(DATA_FILE.read_text())
    assert load_concepts() == rebuilt


def test_selection_report(rebuilt):
    assert [g.group for g in rebuilt.groups] == list(GROUP_CAPS)
    for g in rebuilt.groups:
        assert 1 <= g.selected <= g.kept <= g.cap and g.examined == g.unsampleable + g.equivalent + g.kept
    assert sum(g.selected for g in rebuilt.groups) == 200
    # tautologies over pairs (4 objects in 3 colours always hold a same-colour pair) are dropped
    ids = {e.id for e in rebuilt.train + rebuilt.test}
    assert "4_pair1_same_color" not in ids and "4_pair1_same_shape" not in ids
    for entry in rebuilt.train + rebuilt.test:
        assert min(entry.positive_rate, entry.negative_rate) >= MIN_RATE


def test_water_fill():
    assert _water_fill([8, 13, 1, 13, 10], 40) == [8, 11, 1, 10, 10]
    assert _water_fill([5, 5], 10) == [5, 5]
    with pytest.raises(RuntimeError, match="the groups offer 10 concepts, fewer than 11"):
        _water_fill([5, 5], 11)


def test_build_command_writes_the_file(rebuilt, tmp_path, capsys, monkeypatch):
    def build(progress):  # the selection itself is tested above; this checks the command around it
        progress("6_pair_3_2", len(GROUP_CAPS), len(GROUP_CAPS))
        return rebuilt

    monkeypatch.setattr(concepts, "build_concepts", build)
    target = tmp_path / "relkp.json"
    concepts.main(["build", "--output", str(target)])
    assert json.loads(target.read_text()) == json.loads(DATA_FILE.read_text())
    out = capsys.readouterr().out
    assert "6_pair_3_2" in out and "total" in out
