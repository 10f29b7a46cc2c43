"""Benchmark integrity: rewards that sum to the score, honest harness views, registered settings,
self-describing object tables."""

import gymnasium as gym
import numpy as np
import pytest

import pix2code_env
from agents import make_agent
from agents.base import Agent, Classifier, SequentialPlayer, query_view, support_view
from agents.evaluate import evaluate_agent


@pytest.mark.parametrize(
    "env_id, subset, episodes",
    [("Pix2Code-Kandinsky-v0", "test", 60), ("Pix2Code-Kandinsky-TwoPairs-v0", "train", 40), ("Pix2Code-CURI-v0", "test", 100)],
)
def test_sequential_return_is_the_class_balanced_accuracy(env_id, subset, episodes):
    """200 episodes in all, each answered by a different fixed random policy."""
    env = gym.make(env_id, subset=subset, modality="scene", query_mode="sequential")
    for seed in range(episodes):
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, reward, done, _, info = env.step(int(rng.integers(2)))
            total += reward
        assert total == pytest.approx(info["score"], abs=1e-9)


def test_always_negative_earns_one_half_in_sequential_mode():
    env = gym.make("Pix2Code-Kandinsky-v0", subset="train", modality="scene", query_mode="sequential")
    env.reset(seed=3)
    total, done = 0.0, False
    while not done:
        _, reward, done, _, _ = env.step(0)
        total += reward
    assert total == pytest.approx(0.5, abs=1e-12)


class Spy(Agent):
    """Records the keys it is shown."""

    name = "spy"
    seen: list[tuple[str, tuple[str, ...]]] = []

    def fit(self, obs):
        Spy.seen.append(("fit", tuple(sorted(obs))))

        class Answer(Classifier):
            def predict(self, query):
                Spy.seen.append(("predict", tuple(sorted(query))))
                return np.zeros(len(query_view(query)["query_objects"]), dtype=np.int8)

        return Answer()


@pytest.mark.parametrize("query_mode", ["batch", "sequential"])
def test_fit_sees_the_support_view_and_predict_the_query_view(query_mode):
    Spy.seen = []
    evaluate_agent(Spy(), "Pix2Code-Kandinsky-OneRed-v0", episodes=1, env_kwargs={"modality": "scene", "query_mode": query_mode})
    fits = {keys for kind, keys in Spy.seen if kind == "fit"}
    predicts = {keys for kind, keys in Spy.seen if kind == "predict"}
    assert fits == {("support_labels", "support_object_mask", "support_objects")}
    assert predicts == {("query_object_mask", "query_objects")}


def test_harness_makes_the_env_in_the_agents_first_modality():
    class ImagesOnly(Agent):
        name = "images-only"
        modalities = ("image",)

        def fit(self, obs):
            assert "support_images" in obs and "support_objects" not in obs
            return make_agent("prior").fit(obs)

    evaluation = evaluate_agent(ImagesOnly(), "Pix2Code-Kandinsky-OneRed-v0", episodes=1)
    assert evaluation.records[0].score == 0.5
    assert make_agent("pix2code").modalities[0] == "scene"


@pytest.mark.parametrize("agent", ["random", "prior", "pix2code", "oracle-strong"])
def test_fit_refuses_bad_labels_and_a_missing_mask(agent):
    env = gym.make("Pix2Code-CURI-v0", subset="test", modality="scene")
    obs, _ = env.reset(seed=0)
    support = support_view(obs)
    bad = dict(support, support_labels=np.where(support["support_labels"] == 1, 2, 0).astype(np.int8))
    with pytest.raises(ValueError, match="support_labels holds 2; expected only 0 and 1"):
        make_agent(agent, env_id="Pix2Code-CURI-v0").fit(bad)
    missing = {k: v for k, v in support.items() if k != "support_object_mask"}
    with pytest.raises(ValueError, match="'support_objects' but no 'support_object_mask'"):
        make_agent(agent, env_id="Pix2Code-CURI-v0").fit(missing)


def test_sequential_player_passes_query_views():
    env = gym.make("Pix2Code-Kandinsky-OneRed-v0", modality="scene", query_mode="sequential")
    obs, _ = env.reset(seed=0)
    Spy.seen = []
    SequentialPlayer(Spy()).act(obs)
    assert Spy.seen[-1] == ("predict", ("query_object_mask", "query_objects"))


@pytest.mark.parametrize(
    "env_id, options, message",
    [
        ("Pix2Code-CURIHans-v0", {"split": "comp"}, "family_options sets split='comp', but this id is registered with split='iid'"),
        ("Pix2Code-Kandinsky-OneRed-v0", {"pattern": "onetriangle"},
         "family_options sets pattern='onetriangle', but this id is registered with pattern='onered'"),
    ],
)
def test_registered_settings_win_over_family_options(env_id, options, message):
    with pytest.raises(ValueError, match=message):
        gym.make(env_id, family_options=options)
    spec_options = pix2code_env.env_spec(env_id).family_options
    same = {key: spec_options[key] for key in options}
    assert gym.make(env_id, family_options=same).unwrapped.family.options == make_options(env_id)


def make_options(env_id):
    return gym.make(env_id).unwrapped.family.options


@pytest.mark.parametrize("env_id", ["Pix2Code-CURI-v0", "Pix2Code-Kandinsky-v0", "Pix2Code-Kandinsky-CloseBy-v0"])
def test_object_schema_describes_every_column(env_id):
    schema = pix2code_env.object_schema(env_id)
    env = gym.make(env_id, modality="scene")
    obs, _ = env.reset(seed=1)
    assert schema.names == env.unwrapped.family.object_features
    assert obs["support_objects"].shape[-1] == schema.width
    assert obs["support_objects"].shape[1] == schema.max_objects
    codes = schema.decode(obs["support_objects"], obs["support_object_mask"])
    mask = obs["support_object_mask"].astype(bool)
    for attribute, values in schema.categorical.items():
        block = obs["support_objects"][..., schema.block(attribute)]
        assert np.all(block[mask].sum(axis=-1) == 1), attribute  # exactly one value per object
        assert set(np.unique(codes[attribute][mask])) <= set(range(len(values)))
    for attribute in schema.numeric:
        column = schema.column(attribute)
        raw = obs["support_objects"][..., schema.names.index(column.name)][mask]
        assert column.low <= raw.min() and raw.max() <= column.high, attribute
    assert [c["name"] for c in schema.to_json()["columns"]] == list(schema.names)


def test_curi_schema_gives_the_location_bins():
    schema = pix2code_env.object_schema("Pix2Code-CURI-v0")
    assert schema.categorical["color"] == ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow")
    px = schema.column("px")
    assert (px.scale, px.unit, px.bins) == (240, "pixels", 8)


def test_pix2code_agent_does_not_import_task_internals():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "agents" / "pix2code"
    offenders = []
    for path in root.rglob("*.py"):
        # translates ground-truth concepts for tests and tools; renders the extractor's training data
        if path.name in ("translate.py", "groundtruth.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])]
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any((n or "").startswith("tasks") for n in names):
                offenders.append(str(path.relative_to(root)))
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("groundtruth") and "train" not in path.name:
                offenders.append(str(path.relative_to(root)))  # only training reads the renderers' truth
    assert offenders == []
