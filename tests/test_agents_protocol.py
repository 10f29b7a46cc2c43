import numpy as np
import pytest

import agents
from agents.base import Agent, Classifier, SequentialPlayer, query_view, support_view
from agents.evaluate import evaluate_agent
from agents.reference import PriorAgent, RandomAgent
from agents.registry import agent_class, available_agents, make_agent
from tests.test_env_contract import TOY_ID, toy


def test_registry_knows_reference_agents():
    names = available_agents()
    assert {"random", "prior"} <= set(names)
    assert isinstance(make_agent("prior", env_id=TOY_ID), PriorAgent)
    assert agent_class("agents.reference:RandomAgent") is RandomAgent


@pytest.mark.parametrize(
    "name, message",
    [
        ("oracle-of-delphi", "unknown agent 'oracle-of-delphi'"),
        ("agents.reference:Nope", "has no attribute 'Nope'"),
        ("no_such_module:Agent", "cannot import module 'no_such_module'"),
        ("agents.base:support_view", "not an agents.base.Agent subclass"),
    ],
)
def test_registry_errors(name, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_agent(name)


def test_unknown_agent_option():
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['temperature'\]"):
        make_agent("prior", temperature=2)


def test_prior_agent_scores_half_and_random_is_reproducible():
    env = toy(subset="test", modality="scene")
    obs, _ = env.reset(seed=4)
    prior = make_agent("prior").fit(obs)
    assert prior.predict(obs).tolist() == [0] * 20 and prior.predict(obs).dtype == np.int8
    random_agent = make_agent("random", seed=1)
    a, b = random_agent.fit(obs).predict(obs), random_agent.fit(obs).predict(obs)
    assert a.shape == (20,) and np.array_equal(a, b)


def test_views_split_observation():
    env = toy(modality="both")
    obs, _ = env.reset(seed=0)
    assert set(support_view(obs)) == {"support_images", "support_labels", "support_objects", "support_object_mask"}
    assert set(query_view(obs)) == {"query_images", "query_objects", "query_object_mask"}


class ColourRule(Agent):
    """Predicts positive iff some object is red: right for the toy concept has-red."""

    name = "colour-rule"

    def fit(self, obs):
        class Rule(Classifier):
            program = "(lambda (exists (lambda (red $0)) $0))"

            def predict(self, query):
                view = query_view(query)
                red = (view["query_objects"][..., 0] > 0.5) & (view["query_object_mask"] > 0)
                return red.any(axis=1).astype(np.int8)

        return Rule()


def test_sequential_player_fits_once_per_episode():
    env = toy(query_mode="sequential", modality="scene")
    obs, _ = env.reset(seed=1, options={"concept": "has-red"})
    fits = []

    class Counting(ColourRule):
        def fit(self, o):
            fits.append(1)
            return super().fit(o)

    player = SequentialPlayer(Counting())
    total, terminated = 0.0, False
    while not terminated:
        obs, reward, terminated, _, info = env.step(player.act(obs))
        total += reward
    assert len(fits) == 1 and info["score"] == 1.0 and total == pytest.approx(1.0, abs=1e-12)


def test_evaluate_agent_records_programs_and_scores():
    result = evaluate_agent(ColourRule(), TOY_ID, episodes=4, seed=0, env_kwargs={"modality": "scene"})
    assert len(result.records) == 4 and all(r.program.startswith("(lambda") for r in result.records)
    prior = evaluate_agent("prior", TOY_ID, episodes=3, env_kwargs={"modality": "scene"})
    assert prior.mean == 0.5 and prior.summary().n == 3
    sequential = evaluate_agent("prior", TOY_ID, episodes=2, env_kwargs={"query_mode": "sequential"})
    assert sequential.scores.tolist() == [0.5, 0.5]


def test_agents_package_exports():
    assert agents.make_agent is make_agent


def test_random_agent_varies_across_sequential_queries():
    result = evaluate_agent("random", TOY_ID, episodes=3, env_kwargs={"query_mode": "sequential"})
    assert all(0 < sum(r.predictions) < len(r.predictions) for r in result.records)
