"""`_quiet`: TensorFlow's C++ log lines written before absl is set up are dropped at the level
TF_CPP_MIN_LOG_LEVEL asks for, and nothing else written to stderr is lost."""

import os

import pytest

from estimator_metrics import _quiet

pytestmark = pytest.mark.keras3

BANNER = _quiet._ABSL_BANNER + "\n"
INFO = "I0000 00:00:1796646720.793534   16575 port.cc:153] oneDNN custom operations are on.\n"
WARNING = "W1207 12:00:00.000000   16575 cpu_feature_guard.cc:210] This binary is optimized.\n"
ERROR = "E1207 12:00:00.000000   16575 cuda_dnn.cc:8310] Unable to register cuDNN factory.\n"
OTHER = "Fatal Python error: a message that must reach the user\n"


def _through_filter(level, *lines):
    with _quiet._filtered_stderr(level):
        for line in lines:
            os.write(2, line.encode())


@pytest.mark.parametrize(
    "level, lines, expected",
    [
        (2, [BANNER, INFO, BANNER, INFO], ""),
        (2, [BANNER, INFO, WARNING, OTHER], OTHER),
        (2, [BANNER, INFO, ERROR], BANNER + ERROR),
        (1, [BANNER, INFO, WARNING], BANNER + WARNING),
        (0, [BANNER, INFO], BANNER + INFO),
        (3, [BANNER, WARNING, ERROR], BANNER + ERROR),
    ],
)
def test_absl_lines_below_the_level_are_dropped_and_the_rest_kept(capfd, level, lines, expected):
    _through_filter(level, *lines)
    assert capfd.readouterr().err == expected


def _import_fails():
    with _quiet._filtered_stderr(2):
        os.write(2, (INFO + OTHER).encode())
        raise ImportError("no tensorflow")


def test_stderr_is_restored_after_an_exception(capfd):
    with pytest.raises(ImportError):
        _import_fails()
    os.write(2, b"after\n")
    assert capfd.readouterr().err == OTHER + "after\n"
