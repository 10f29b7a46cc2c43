"""The search under uncertain readings: doubtful attributes cost little, certain errors a lot."""

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env
from agents.pix2code.dsl import domain_for_env_id
from agents.pix2code.search import SearchBudget, predict, solve
from agents.pix2code.search.solver import program_labels
from agents.pix2code.search.uncertain import SoftFit, readings

ENV = "Pix2Code-CURI-v0"
BUDGET = SearchBudget(seconds=None, enumerated=20_000, assembled=100_000)


def _scenes(seed: int = 4, episodes: int = 2):
    env = gym.make(ENV, subset="test", modality="scene")
    tables, masks = [], []
    for s in range(episodes):
        obs, _ = env.reset(seed=seed + s)
        tables.append(obs["support_objects"])
        masks.append(obs["support_object_mask"].astype(bool))
    return np.concatenate(tables)[: 25 * max(1, episodes - 1)], np.concatenate(masks)[: 25 * max(1, episodes - 1)]


def _certain(objects, mask):
    schema = pix2code_env.object_schema(ENV)
    out = []
    for table, live in zip(objects, mask):
        rows = table[live]
        probs = {a: rows[:, schema.block(a)].astype(float) for a in schema.categorical}
        bins = (np.rint(rows[:, 15] * 240) // 30).astype(int), (np.rint(rows[:, 16] * 160) // 20).astype(int)
        for name, b in zip(("xbin", "ybin"), bins):
            probs[name] = np.eye(8)[b]
        probs["exists"] = np.ones(len(rows))
        out.append(probs)
    return out


@pytest.fixture(scope="module")
def misread():
    """25 CURI scenes labelled "some object is red"; one positive's only red object is read
    as blue, with the extractor giving red 0.3."""
    schema = pix2code_env.object_schema(ENV)
    objects, mask = _scenes()
    red = schema.block("color").start + schema.categorical["color"].index("red")
    blue = schema.block("color").start + schema.categorical["color"].index("blue")
    is_red = (objects[..., red] == 1) & mask
    labels = is_red.any(axis=1).astype(np.uint8)
    single = np.flatnonzero(is_red.sum(axis=1) == 1)
    assert labels.sum() >= 4 and single.size
    s = int(single[0])
    k = int(np.flatnonzero(is_red[s])[0])
    seen = objects.copy()
    seen[s, k, red], seen[s, k, blue] = 0.0, 1.0
    probs = _certain(seen, mask)
    row = int(np.flatnonzero(mask[s])[:k + 1].size - 1)
    colour = np.zeros(8)
    colour[schema.categorical["color"].index("red")], colour[schema.categorical["color"].index("blue")] = 0.3, 0.7
    probs[s]["color"][row] = colour
    return objects, seen, mask, labels, probs, s


def test_readings_of_a_doubtful_attribute(misread):
    objects, seen, mask, labels, probs, s = misread
    schema = pix2code_env.object_schema(ENV)
    alt = readings(schema, seen, mask, probs, {"xbin": "px", "ybin": "py"})
    assert len(alt) == 1 and alt.parent.tolist() == [s]
    assert alt.weight[0] == pytest.approx(0.3) and alt.base[s] == pytest.approx(0.7)
    np.testing.assert_array_equal(alt.objects[0], objects[s])  # the alternative is the true scene
    assert (alt.base[np.arange(25) != s] == 1).all()


def test_bin_alternative_moves_the_centre_across_the_edge():
    schema = pix2code_env.object_schema(ENV)
    objects, mask = _scenes()
    s = 0
    row = np.flatnonzero(mask[s])[0]
    objects[s, row, 15] = 59 / 240  # x bin 1, one pixel from bin 2
    probs = _certain(objects, mask)
    probs[s]["xbin"][0] = np.eye(8)[1] * 0.6 + np.eye(8)[2] * 0.4
    alt = readings(schema, objects, mask, probs, {"xbin": "px", "ybin": "py"})
    assert len(alt) == 1 and alt.objects[0, row, 15] * 240 == pytest.approx(60)


def test_soft_fit_explains_only_doubted_errors(misread):
    objects, seen, mask, labels, probs, s = misread
    schema = pix2code_env.object_schema(ENV)
    alt = readings(schema, seen, mask, probs, {"xbin": "px", "ybin": "py"})
    soft = SoftFit(alt, labels)
    positives = sum(1 << i for i, y in enumerate(labels) if y)
    truth = positives | (1 << 25)  # the concept: right on every scene, the alternative accepted
    assert soft.fit(truth & ~(1 << s), (1 << s)) == [(s, pytest.approx(0.3))]
    other = next(i for i in range(25) if i != s)
    assert soft.fit(truth ^ (1 << other), 1 << other) is None  # a certain scene wrong: no excuse


def test_uncertainty_weighted_search_recovers_the_concept(misread):
    objects, seen, mask, labels, probs, s = misread
    domain = domain_for_env_id(ENV)
    schema = pix2code_env.object_schema(ENV)
    alt = readings(schema, seen, mask, probs, {"xbin": "px", "ybin": "py"})
    plain = solve(domain, (seen, mask), labels, budget=BUDGET)
    weighed = solve(domain, (seen, mask), labels, budget=BUDGET, support_readings=alt)
    assert weighed.exact and weighed.best.doubted == 1
    assert weighed.best.log_posterior > plain.best.log_posterior + 5.0
    # on fresh scenes the weighed program is the concept; the plain search's contortion is not
    fresh_objects, fresh_mask = _scenes(seed=20, episodes=5)
    schema_red = schema.block("color").start + schema.categorical["color"].index("red")
    table = domain.table(fresh_objects, fresh_mask)
    concept = ((fresh_objects[..., schema_red] == 1) & fresh_mask).any(axis=1)
    assert (program_labels(weighed.program, domain, table) == concept).all()
    assert weighed.program != plain.program
    # query scores are expectations over the readings
    votes = predict(weighed, (seen, mask), domain, alt)[1]
    assert votes[s] == pytest.approx(0.3, abs=0.05) or votes[s] > 0.25
