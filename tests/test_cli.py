"""`estimator-metrics demo`: a real run, its table, its exit status."""

import subprocess
import sys

import pytest

from estimator_metrics import _demo, cli


def test_demo_trains_evaluates_and_agrees_with_numpy(tmp_path, capsys):
    status = cli.main(["demo", "--steps", "30", "--model-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    for metric in ("f1_macro", "mape", "average_confidence"):
        row = next(line for line in out.splitlines() if line.startswith(metric))
        assert row.endswith("agree"), row
    assert f"Evaluation summaries: {tmp_path}/eval" in out
    assert any((tmp_path / "eval").glob("events.out.tfevents.*"))


def test_a_disagreement_is_shown_and_fails():
    table, ok = _demo.format_table([("mape", 10.0, 10.0), ("f1_macro", 0.5, 0.5001)])
    assert not ok
    assert "DIFFER (rtol 1e-06)" in table.splitlines()[2]
    assert table.splitlines()[1].endswith("agree")


def test_console_script_help_explains_the_demo():
    out = subprocess.run(
        [sys.executable, "-m", "estimator_metrics.cli", "demo", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout
    for option in ("--steps", "--model-dir", "--seed", "NumPy"):
        assert option in out


def test_bad_steps_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--steps", "0"])
    assert exit_info.value.code == 2
    assert "--steps must be >= 1, received 0" in capsys.readouterr().err
