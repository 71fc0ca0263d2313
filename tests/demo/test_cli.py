"""`estimator-metrics demo`: a real run, its tables, its exit status, its options."""

import re
import subprocess
import sys

import pytest

from estimator_metrics import cli
from estimator_metrics.demo import job
from support.data import usage_error


def _rows(out, first_column):
    return [line for line in out.splitlines() if line.startswith(first_column + " ")]


def test_demo_compares_legacy_and_keras_and_checks_builders_against_numpy(tmp_path, capsys):
    status = cli.main(
        ["demo", "--examples", "classifier", "--steps", "30", "--model-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    classifier = _rows(out, "classifier")
    assert [row.split()[1] for row in classifier] == ["accuracy", "average_confidence"]
    builders = _rows(out, "builders")
    assert [row.split()[1] for row in builders] == ["f1_macro", "mape", "average_confidence"]
    for row in classifier + builders:
        assert " agree (tolerance" in row, row
    assert "classifier: 30/30 training steps" in out  # Progress while training.
    assert f"tensorboard --logdir {tmp_path}" in out
    for mode in ("eval_legacy", "eval_keras"):
        assert any((tmp_path / "classifier" / mode).glob("events.out.tfevents.*")), mode


def test_a_keras_twin_this_keras_cannot_run_is_skipped_by_name(tmp_path, monkeypatch, capsys):
    # Keras 2.12 has no FBetaScore: the binary example's Keras twin cannot run there.
    import tensorflow as tf

    if hasattr(tf.keras.metrics, "FBetaScore"):
        monkeypatch.delattr(tf.keras.metrics, "FBetaScore")
    monkeypatch.setattr(job, "numpy_check", lambda *args: [])
    status = job.run(steps=2, model_dir=str(tmp_path), examples=["binary"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert (
        "[binary] SKIPPED the Keras twin: it needs tf.keras.metrics.FBetaScore, which "
        f"the Keras of TensorFlow {tf.__version__} lacks"
    ) in out
    assert _rows(out, "binary") == []
    assert re.search(r"\[binary\] legacy: fbeta=0\.\d{8}, accuracy=0\.\d{8}", out), out
    assert any((tmp_path / "binary" / "eval_legacy").glob("events.out.tfevents.*"))
    assert not (tmp_path / "binary" / "eval_keras").exists()


def test_a_disagreement_is_shown_and_fails(monkeypatch, capsys):
    differing = job.Comparison("fbeta", 0.5, 0.5001, 1e-7, example="binary")
    monkeypatch.setattr(job, "compare_example", lambda *args: [differing])
    monkeypatch.setattr(job, "numpy_check", lambda *args: [])
    assert job.run(steps=1, model_dir="unused", examples=["binary"]) == 1
    out = capsys.readouterr().out
    assert "DIFFER (tolerance 1e-07)" in _rows(out, "binary")[0]
    assert "FAILED: 1 pair(s) differ beyond their tolerance." in out


def test_console_script_help_explains_the_demo():
    out = subprocess.run(
        [sys.executable, "-m", "estimator_metrics.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for text in (
        "--steps",
        "--model-dir",
        "--examples",
        "--seed",
        "adapter.from_keras",
        "classifier,regressor,binary",
        "TensorBoard",
    ):
        assert text in out, text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--steps", "0"], "--steps must be >= 1, received 0"),
        (["demo", "--examples", "classifier,nope"], "--examples must name some of classifier"),
    ],
)
def test_bad_options_are_refused(capsys, argv, message):
    assert message in usage_error(capsys, cli.main, argv)


def test_example_subcommand_runs_an_example_with_its_own_options(tmp_path, capsys):
    # The documented replacement of `python -m legacy_examples.<name>`.
    status = cli.main(
        [
            "example",
            "custom_loss",
            "--metrics",
            "keras",
            "--steps",
            "3",
            "--model-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "global_step: 3" in out and "mae: " in out
    assert (tmp_path / "eval_keras").is_dir()
    assert "invalid choice: 'nope'" in usage_error(capsys, cli.main, ["example", "nope"])
