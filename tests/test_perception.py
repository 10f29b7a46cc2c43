"""The object extractor: shipped weights, accuracy floors, output format, bad input, training."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import pix2code_env
from agents.pix2code.perception import load_extractor
from agents.pix2code.perception import groundtruth
from agents.pix2code.perception.coverage import unread_figure
from agents.pix2code.perception.metrics import figures, from_decoded
from agents.pix2code.perception.spec import get_spec
from agents.pix2code.perception.tokens import sequences
from agents.pix2code.perception.weights import WEIGHTS_DIR, WeightsError, load_weights

FAMILIES = ("curi", "kandinsky")


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    return request.param


@pytest.fixture(scope="module")
def fixed():
    """30 fixed test-subset scenes per family (never seen in training)."""
    return {f: groundtruth.scenes(f, "test", "test", 0, 30) for f in FAMILIES}


def test_shipped_weights_and_card(family):
    path = WEIGHTS_DIR / f"{family}.pt"
    assert path.exists(), f"run `pix2code train extractor --family {family} --ship`"
    assert path.stat().st_size <= 20e6
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["command"].startswith(f"pix2code train extractor --family {family}")
    assert {"init_seed", "train_wall_seconds", "train_cpu_seconds", "figures", "sha256", "steps"} <= set(card)
    assert card["budget_minutes"] <= 60
    extractor = load_extractor(family)
    assert extractor.family == family and extractor.card["sha256"] == card["sha256"]


def test_accuracy_floors_on_fixed_scenes(family, fixed):
    # measured on 1,000 test scenes in benchmarks/bench_perception.py; floors well below
    truth = fixed[family]
    net = load_extractor(family).net
    figs = figures(net.spec, from_decoded(net.spec, net.decode(torch.from_numpy(truth.images))), truth)
    assert figs["count_exact"] >= 0.9
    assert figs["box_iou"] >= 0.8
    for attribute in net.spec.attributes:
        assert figs[f"{attribute}_accuracy"] >= 0.9, attribute


def test_tables_follow_the_scene_schema(family, fixed):
    truth = fixed[family]
    extractor = load_extractor(family)
    schema = pix2code_env.object_schema(extractor.spec.env_id)
    tables, probs = extractor.extract(truth.images[:8], probabilities=True)
    plain = extractor.extract(truth.images[:8])
    assert len(tables) == len(probs) == 8
    for table, p, same in zip(tables, probs, plain):
        assert table.dtype == np.float32 and table.ndim == 2 and table.shape[1] == schema.width
        np.testing.assert_array_equal(table, same)
        assert set(p) == set(extractor.spec.attributes) | {"exists"}
        for attribute, values in schema.categorical.items():
            block = table[:, schema.block(attribute)]
            assert (block.sum(axis=1) == 1).all()
            assert p[attribute].shape == (len(table), len(values))
            np.testing.assert_allclose(p[attribute].sum(axis=1), 1.0, atol=1e-4)
            np.testing.assert_array_equal(block.argmax(axis=1), p[attribute].argmax(axis=1))
        assert ((table[:, schema.width - 3 :] >= -0.01) & (table[:, schema.width - 3 :] <= 1.01)).all()
    # object counts mostly right, and tables decode like the env's own
    counts = [len(t) for t in tables]
    assert np.mean(np.array(counts) == truth.n_objects[:8]) >= 0.75


def test_runtime_extractor_folds_batch_norms_without_changing_outputs(family, fixed):
    plain, _, _ = load_weights(family)
    fused = load_extractor(family).net
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    images = torch.from_numpy(fixed[family].images[:6])
    with torch.no_grad():
        torch.testing.assert_close(fused.encoder(images)[1], plain.encoder(images)[1], atol=1e-3, rtol=1e-4)
    a, b = fused.decode(images), plain.decode(images)
    np.testing.assert_array_equal(a.n_objects, b.n_objects)
    np.testing.assert_array_equal(a.tokens, b.tokens)


def test_curi_bins_come_from_the_centre_tokens(fixed):
    extractor = load_extractor("curi")
    det = extractor.detect(fixed["curi"].images[:4])
    for d in det:
        px = np.rint(d.table[:, 15] * 240).astype(int)
        assert [lab["xbin"] for lab in d.labels] == [str(v) for v in px // 30]


def test_fast_decoder_step_matches_gpt2_forward(fixed):
    net = load_extractor("kandinsky").net
    truth = fixed["kandinsky"]
    with torch.no_grad():
        _, _, memory, _ = net.read(torch.from_numpy(truth.images[:3]))
        seq = sequences(net.spec, truth.numerics[:3], {k: v[:3] for k, v in truth.attributes.items()}, truth.n_objects[:3])
        embeds = net.decoder.embed(seq.prev_slot, seq.prev_value)
        full = net.decoder(embeds, memory)
        state = net.decoder.start(memory, net.spec.max_tokens)
        steps = torch.stack([net.decoder.step(embeds[:, t], state) for t in range(embeds.shape[1])], dim=1)
    torch.testing.assert_close(steps, full, atol=1e-4, rtol=1e-4)


def test_a_large_call_seen_before_is_answered_from_memory(fixed, monkeypatch):
    from agents.pix2code.perception import extractor as module

    monkeypatch.setattr(module, "REMEMBERED_CALL", 4)
    extractor = load_extractor("curi")
    images = fixed["curi"].images[:5]
    first = extractor.detect(images)
    again = extractor.detect(images.copy())
    assert all(a is b for a, b in zip(first, again))  # remembered by content, not by object
    assert all(np.array_equal(a.table, b.table) for a, b in zip(first, extractor._detect(images, module.BATCH)))
    small = extractor.detect(images[:3])
    assert all(a is not b for a, b in zip(small, extractor.detect(images[:3])))


def test_convertible_input_is_converted(fixed):
    extractor = load_extractor("curi")
    images = fixed["curi"].images[:3]
    reference = extractor.detect(images)
    for converted, expected in (
        (images.astype(np.float32) / 255.0, "scaled"),
        (images.transpose(0, 2, 3, 1), "channels-last"),
        (images[0], "batch of one"),
    ):
        found = extractor.detect(converted)
        assert any(expected in note for note in found[0].notes)
        assert len(found[0].table) == len(reference[0].table)
    big = torch.nn.functional.interpolate(torch.from_numpy(images).float(), size=(320, 480), mode="bilinear")
    found = extractor.detect(big.round().to(torch.uint8).numpy())
    assert any("resized from 320×480" in note for note in found[0].notes)
    assert [len(d.table) for d in found] == [len(d.table) for d in reference]
    np.testing.assert_allclose(found[0].boxes, reference[0].boxes * 2, atol=4.0)  # boxes in the input's pixels


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 1, 160, 240), np.uint8), "3 colour channels"),
        (np.zeros((2, 3, 200, 200), np.uint8), "160×240"),
        (np.zeros((2, 3, 160, 240), bool), "uint8"),
        (np.full((2, 3, 160, 240), 300, np.int64), "0..255"),
        (np.zeros((160, 240), np.uint8), "(N, 3, H, W)"),
    ],
)
def test_ambiguous_or_bad_input_is_refused(images, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_extractor("curi").detect(images)


def _crowded_kandinsky_images(seeds: range) -> np.ndarray:
    """Scenes with 7–9 figures: more than the Kandinsky family allows (6)."""
    from tasks.kandinsky.figures import random_figures
    from tasks.kandinsky.render import render_scene
    from tasks.kandinsky.universe import COLORS, SHAPES, KandinskyObject, KandinskyScene

    images = []
    for seed in seeds:
        n = 7 + seed % 3
        figs = random_figures(np.random.default_rng(seed), n, 1, margin=0.02)
        scene = KandinskyScene(tuple(
            KandinskyObject(SHAPES[figs.shape[0, j]], COLORS[figs.color[0, j]], float(figs.size[0, j]),
                            float(figs.x[0, j]), float(figs.y[0, j])) for j in range(n)
        ))
        images.append(render_scene(scene, 128, 128).transpose(2, 0, 1))
    return np.stack(images)


def test_more_objects_than_allowed_keeps_the_most_confident_and_says_so():
    found = load_extractor("kandinsky").detect(_crowded_kandinsky_images(range(1, 13)))
    for det in found:
        assert len(det.table) <= 6 and det.truncated
        assert any("at most 6" in note for note in det.notes), det.notes
    normal = load_extractor("kandinsky").detect(groundtruth.scenes("kandinsky", "test", "benchmark", 5, 40).images)
    assert not any(det.truncated or det.notes for det in normal)


def test_unread_figure_counts_pixels_outside_every_box():
    image = np.full((3, 20, 30), 215, np.uint8)
    image[:, 2:6, 2:6] = 40  # one 4×4 figure
    assert unread_figure(image, np.zeros((0, 4))) == 16
    assert unread_figure(image, np.array([[2.0, 2.0, 6.0, 6.0]])) == 0
    shaded = np.broadcast_to(np.arange(30, dtype=np.uint8) * 8, (3, 20, 30)).copy()  # no flat background
    assert unread_figure(shaded, np.zeros((0, 4))) == 0


def test_missing_or_corrupt_weights_name_the_rebuild_command(tmp_path):
    with pytest.raises(WeightsError, match="pix2code train extractor --family curi"):
        load_weights("curi", tmp_path / "absent.pt")
    bad = tmp_path / "curi.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="pix2code train extractor --family curi"):
        load_weights("curi", bad)
    shipped = WEIGHTS_DIR / "kandinsky.pt"
    copy = tmp_path / "kandinsky.pt"
    copy.write_bytes(shipped.read_bytes()[:-100] + bytes(100))
    copy.with_suffix(".json").write_text(shipped.with_suffix(".json").read_text())
    with pytest.raises(WeightsError, match="SHA-256"):
        load_weights("kandinsky", copy)


def test_tiny_training_run_writes_weights_and_resumes(tmp_path, capsys):
    from agents.pix2code.perception.train import main

    args = ["extractor", "--family", "kandinsky", "--out", str(tmp_path), "--small", "--batch", "4",
            "--validation", "4", "--steps", "2"]
    assert main(args) == 0
    net, card, _ = load_weights("kandinsky", tmp_path / "kandinsky.pt")
    assert card["steps"] == 2 and card["images_seen"] == 8 and "count_exact" in card["figures"]
    assert (tmp_path / "curve.png").exists() and (tmp_path / "checkpoint.pt").exists()
    assert main(args[:-1] + ["3"]) == 0
    assert "resuming from step 2" in capsys.readouterr().out
    assert json.loads((tmp_path / "kandinsky.json").read_text())["steps"] == 3
    assert net.spec is get_spec("kandinsky")


def test_extract_command_prints_and_draws(tmp_path, fixed, capsys):
    from agents.pix2code.perception.extract import main

    path = tmp_path / "scene.png"
    Image.fromarray(fixed["curi"].images[0].transpose(1, 2, 0)).save(path)
    assert main([str(path), "--family", "curi", "--out", str(tmp_path / "seen.png")]) == 0
    out = capsys.readouterr().out
    assert "object(s)" in out and "color" in out
    picture = Image.open(tmp_path / "seen.png")
    assert picture.size == (240 * 3, 160 * 3)
    assert main([str(tmp_path / "absent.png"), "--family", "curi"]) == 2
