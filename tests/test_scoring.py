import numpy as np
import pytest

from pix2code_env.scoring import bootstrap_ci, class_balanced_accuracy


def test_all_negative_answers_score_half():
    labels = [1] * 5 + [0] * 20
    assert class_balanced_accuracy(labels, [0] * 25) == 0.5


def test_balanced_accuracy_values():
    labels = np.array([1, 1, 0, 0, 0, 0])
    assert class_balanced_accuracy(labels, [1, 0, 0, 0, 0, 1]) == pytest.approx(0.5 * (0.5 + 0.75))
    assert class_balanced_accuracy(labels, labels) == 1.0
    assert class_balanced_accuracy([0, 0], [0, 1]) == 0.5  # one class present


@pytest.mark.parametrize(
    "labels, predictions, message",
    [
        ([1, 0], [1], r"shape \(2,\) but predictions have shape \(1,\)"),
        ([1, 2], [1, 0], "labels holds 2; expected only 0 and 1"),
        ([1, 0], [0.5, 1.0], "predictions has dtype float64; expected integer or bool"),
        ([[1]], [[1]], "1-D array"),
        ([], [], "at least one label"),
    ],
)
def test_bad_scoring_input(labels, predictions, message):
    with pytest.raises((ValueError, TypeError), match=message):
        class_balanced_accuracy(np.asarray(labels, dtype=np.asarray(labels).dtype if len(labels) else int),
                                np.asarray(predictions) if len(predictions) else np.asarray([], dtype=int))


def test_bootstrap_is_deterministic_and_brackets_mean():
    scores = np.linspace(0.4, 1.0, 50)
    a, b = bootstrap_ci(scores, seed=3), bootstrap_ci(scores, seed=3)
    assert a == b
    assert a.low < a.mean < a.high and a.n == 50
    constant = bootstrap_ci([0.8] * 10)
    assert constant.low == constant.high == pytest.approx(0.8)


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="confidence must lie in"):
        bootstrap_ci([0.5], confidence=1.5)
