"""Row argmax and row max of float batches with their checks, on every path they can take."""

import numpy as np
import pytest
import sklearn.metrics
import tensorflow as tf

from estimator_metrics import builders
from estimator_metrics._core import rows as _rows

InvalidArgument = tf.errors.InvalidArgumentError
C = 70  # At least PROBED_FROM and KEYED_FROM: every path below is the one it names.
NEGATIVE_NAN = np.array(0xFFC00000, np.uint32).view(np.float32)  # x86's default NaN.

PATHS = ("keys", "keys by argmax", "keys by groups", "probe", "float")


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """The path every placeholder's scores take: the producer's hint patched to say so, and
    for "keys by argmax" ("keys by groups") the width from which the keys take ArgMax (are
    searched by groups) lowered to C.

    The hint and the width only pick the path; that they never change a result is what
    these tests check, so they force each path on the same values, negative ones included.
    """
    if request.param.startswith("keys"):
        monkeypatch.setattr(_rows, "NON_NEGATIVE", _rows.NON_NEGATIVE | {"Placeholder"})
    if request.param == "keys by argmax":
        monkeypatch.setattr(_rows, "KEY_ARGMAX_FROM", C)
    if request.param == "keys by groups":
        monkeypatch.setattr(_rows, "GROUPED_FROM", C)
    if request.param == "float":
        monkeypatch.setattr(_rows, "SIGNED", _rows.SIGNED | {"Placeholder"})
    return request.param


@pytest.fixture(params=["top_k", "argmax", "groups"])
def keys_by(request, monkeypatch):
    """How the keys' row maxima are found: `top_k` (C below GROUPED_FROM and
    KEY_ARGMAX_FROM), ArgMax and a gather, or by groups (the width from which the keys take
    ArgMax, or are searched by groups, lowered to C)."""
    if request.param == "argmax":
        monkeypatch.setattr(_rows, "KEY_ARGMAX_FROM", C)
    if request.param == "groups":
        monkeypatch.setattr(_rows, "GROUPED_FROM", C)
    return request.param


def test_thresholds_make_every_case_here_take_its_path():
    assert max(_rows.PROBED_FROM, _rows.KEYED_FROM) <= C < _rows.KEY_ARGMAX_FROM
    assert C < _rows.GROUPED_FROM
    assert _rows.group_width(C) is None  # 70 = 7 groups of 10 once GROUPED_FROM is lowered.


@pytest.mark.parametrize(
    ("width", "group"),
    [(512, 32), (1000, 25), (1024, 32), (4096, 64), (10000, 100), (21128, 152), (32000, 160)],
)
def test_group_width_is_the_divisor_nearest_the_square_root(width, group):
    assert _rows.group_width(width) == group
    assert width % group == 0


@pytest.mark.parametrize("width", [511, 997, 4099, 30522, 50257])
def test_group_width_none_below_grouped_from_or_without_a_divisor_near_the_root(width):
    """Below GROUPED_FROM, primes, and widths whose divisors all lie far from the square
    root (BERT's 30,522 = 2 x 3 x 5,087; GPT-2's 50,257 = 29 x 1,733) keep a whole-row read."""
    assert _rows.group_width(width) is None


@pytest.mark.parametrize("width", [512, 1000, 4096])
@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_largest_keys_by_groups_equal_top_k_over_whole_rows(width, dtype):
    """Keys of few distinct values (most maxima tied, in other groups and in the same one),
    the maximum first, last, or in an all-equal row; leading axes and no rows at all."""
    rng = np.random.default_rng(width)
    keys = rng.integers(0, 5, size=(60, width)).astype(dtype)
    keys[0] = 7
    keys[1, -1] = 9
    keys[2, 0] = 9
    keys[3, [3, width - 3]] = 9
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        for batch in (keys, keys.reshape(6, 10, width), keys[:0]):
            largest, ids = sess.run(_rows._largest_keys(tf.constant(batch)))
            types = {op.type for op in sess.graph.get_operations()}
            assert "GatherV2" in types and "ArgMax" not in types  # Groups, not ArgMax.
            np.testing.assert_array_equal(ids, batch.argmax(axis=-1))
            np.testing.assert_array_equal(largest, batch.max(axis=-1))


def test_static_width_picks_how_the_keys_are_read():
    """From GROUPED_FROM classes on, widths with a divisor near their root are searched by
    groups; from KEY_ARGMAX_FROM classes on the others take ArgMax and a gather (spread over
    the intra-op threads), below it `top_k`: decided by the static width, for softmax scores
    (no cond) and for unknown producers (behind the probe) alike."""
    wide = _rows.KEY_ARGMAX_FROM + 3  # 4,099: a prime, no groups.
    for width in (C, _rows.GROUPED_FROM - 1, 997):  # 997: a prime below KEY_ARGMAX_FROM.
        assert _rows.group_width(width) is None
        top, branches = _op_types(tf.nn.softmax, width)
        assert "TopKV2" in top and "ArgMax" not in top
        top, branches = _op_types(lambda x: x, width)
        assert "TopKV2" in branches and "ArgMax" not in top
    # Widths with a divisor near their root: one reduce_max over the groups, top_k, a gather.
    for width in (_rows.GROUPED_FROM, _rows.KEY_ARGMAX_FROM, 10000):
        top, branches = _op_types(tf.nn.softmax, width)
        assert {"Bitcast", "Max", "TopKV2", "GatherV2"} <= top and "ArgMax" not in top
        top, branches = _op_types(lambda x: x, width)
        assert {"Max", "TopKV2", "GatherV2"} <= branches  # ArgMax: the float fallback's.
    for width in (wide, 4 * wide + 1):
        top, branches = _op_types(tf.nn.softmax, width)
        assert {"Bitcast", "ArgMax", "GatherV2"} <= top and "TopKV2" not in top | branches
        assert not {"StatelessIf", "If"} & top
        top, branches = _op_types(lambda x: x, width)
        assert "ArgMax" in branches and "TopKV2" not in top | branches
    # Below KEYED_FROM, or from logits: the float argmax at every width.
    top, branches = _op_types(lambda x: tf.nn.bias_add(x, tf.zeros([wide])), wide)
    assert "ArgMax" in top and not {"Bitcast", "GatherV2"} & (top | branches)


def _op_types(producer, width=C) -> tuple[set, set]:
    """Op types of the graph `row_argmax` builds: at top level, and in its `cond` branches."""
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, width])
        _rows.row_argmax(tf.reshape(producer(x), [-1, width]))
        top = {op.type for op in graph.get_operations()}
        library = graph.as_graph_def().library.function
        return top, {node.op for function in library for node in function.node_def}


def test_producers_pick_the_path():
    # Softmax (through Identity and Reshape): the keys at once, at top level.
    top, _ = _op_types(lambda x: tf.identity(tf.nn.softmax(x)))
    assert {"TopKV2", "Bitcast"} <= top
    # A placeholder: the probe at top level, the keys behind it.
    top, branches = _op_types(lambda x: x)
    assert "TopKV2" not in top and "TopKV2" in branches
    # Logits, and softmax below KEYED_FROM classes: the float argmax alone, no cond.
    for producer, width in [(lambda x: tf.nn.bias_add(x, tf.zeros([C])), C), (tf.nn.softmax, 10)]:
        top, branches = _op_types(producer, width)
        assert "ArgMax" in top and not {"TopKV2", "Bitcast", "StatelessIf"} & (top | branches)


def test_sign_free_producers_take_the_keys_without_a_cond():
    # Softmax: keys and no fallback at all; relu(-0.0) is -0.0, so Relu keeps its cond.
    top, branches = _op_types(tf.nn.softmax)
    assert "TopKV2" in top and not {"StatelessIf", "If", "ArgMax"} & (top | branches)
    top, branches = _op_types(tf.nn.relu)
    assert {"TopKV2", "StatelessIf"} <= top and "ArgMax" in branches


SIGN_FREE_OPS = {"Softmax": tf.nn.softmax, "Exp": tf.exp, "Abs": tf.abs, "Square": tf.square}
DTYPES = [tf.float16, tf.bfloat16, tf.float32, tf.float64]


def test_the_sign_free_producers_are_the_ones_checked_here():
    assert set(SIGN_FREE_OPS) == _rows.SIGN_FREE <= _rows.NON_NEGATIVE


def _extreme_rows(dtype: tf.DType, rng) -> np.ndarray:
    """Rows of signed zeros, infinities, the extremes and tiny values of `dtype`, and random
    values of every scale: what could drive an op's rounding below zero if anything can."""
    info = np.finfo(np.float32 if dtype == tf.bfloat16 else dtype.as_numpy_dtype)
    special = [0.0, -0.0, np.inf, -np.inf, info.max, -info.max, info.tiny, -info.tiny]
    special += [info.tiny * info.eps, -info.tiny * info.eps, 1.0, -1.0, 88.7, -103.9, -745.2]
    rows = rng.choice(special, size=(64, 16))
    scales = 10.0 ** rng.integers(-8, 9, size=(64, 1))
    noise = rng.normal(size=(64, 16)) * scales
    return np.concatenate([rows, noise, np.where(rng.uniform(size=rows.shape) < 0.5, rows, noise)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("name", sorted(SIGN_FREE_OPS))
def test_sign_free_producers_never_set_the_sign_bit_but_for_nan(name, dtype):
    """What lets their rows skip the fallback, checked on this TensorFlow line: every output
    value is NaN or has its sign bit clear, so keys that fail mean NaN or Inf."""
    rows = _extreme_rows(dtype, np.random.default_rng(10))
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess, np.errstate(over="ignore"):
        out = sess.run(tf.cast(SIGN_FREE_OPS[name](tf.constant(rows, dtype)), tf.float64))
    assert not np.any(np.signbit(out) & ~np.isnan(out))


@pytest.mark.parametrize("row", [0, 6])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_softmax_of_bad_logits_refused_valid_ones_counted(row, value, keys_by):
    """Through the keys alone: NaN and +Inf logits make NaN rows, refused with what was seen;
    -Inf logits make zero probabilities, valid scores, counted as scikit-learn does."""
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(8, C)).astype(np.float32)
    logits[row, 11] = value
    labels = rng.integers(0, C, 8)
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, C])
        y = tf.compat.v1.placeholder(tf.int64, [None])
        probabilities = tf.nn.softmax(x)
        _, update = builders.fbeta(y, probabilities, num_classes=C, average="macro")
        assert "StatelessIf" not in {op.type for op in graph.get_operations()}
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            feed = {x: logits, y: labels}
            if value == -np.inf:
                got, p = sess.run([update, probabilities], feed)
                want = sklearn.metrics.f1_score(
                    labels, p.argmax(1), average="macro", labels=range(C), zero_division=0
                )
                assert got == pytest.approx(want, rel=1e-12)
                return
            with pytest.raises(
                InvalidArgument, match=r"`predictions` must be finite.*\[received\] \[-?nan\]"
            ):
                sess.run(update, feed)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_softmax_ties_and_empty_batches_like_numpy(dtype, keys_by):
    """Tied logits make tied probabilities: the first of them, as NumPy's argmax of the
    very probabilities (fetched), in every float dtype; no rows count nothing."""
    rng = np.random.default_rng(12)
    logits = rng.integers(-3, 2, size=(400, C)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(dtype, [None, C])
        probabilities = tf.nn.softmax(x)
        ids, check = _rows.row_argmax(probabilities)
        with tf.compat.v1.Session() as sess:
            for batch in (logits, logits[:0]):
                got, valid, p = sess.run([ids, check.valid, probabilities], {x: batch})
                assert valid
                np.testing.assert_array_equal(got, np.asarray(p, np.float64).argmax(1))


def _row_argmax(rows: np.ndarray, dtype=tf.float32) -> np.ndarray:
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(dtype, [None, None])
        x.set_shape([None, rows.shape[1]])
        ids, check = _rows.row_argmax(x)
        with tf.compat.v1.Session() as sess:
            ids, valid = sess.run([ids, check.valid], {x: rows})
    assert valid
    return ids


def _tied_rows(rng, dtype) -> np.ndarray:
    """Rows of few distinct values, so most maxima are tied; zeros and all-zero rows."""
    rows = rng.integers(0, 4, size=(300, C)).astype(dtype)
    rows[::7] = 0
    rows[1::9, -1] = 9  # The maximum last: the keys' scan reads the whole row.
    return rows


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_first_maximum_like_numpy_on_ties(path, dtype):
    rows = _tied_rows(np.random.default_rng(0), dtype)
    np.testing.assert_array_equal(_row_argmax(rows, tf.as_dtype(dtype)), rows.argmax(1))


def test_bfloat16(path):
    rows = _tied_rows(np.random.default_rng(1), np.float32)
    got = _row_argmax(rows.astype(tf.bfloat16.as_numpy_dtype), tf.bfloat16)
    np.testing.assert_array_equal(got, rows.argmax(1))


@pytest.mark.parametrize("row", [0, 5])  # The probed row, or one the probe does not read.
@pytest.mark.parametrize("value", [-0.0, -1.5, -1e-30])
def test_sign_bit_set_falls_back_to_the_float_argmax(path, row, value):
    """Finite values with the sign bit set are valid scores: the keys cannot order
    them, so those batches take the float path (ties with -0.0 broken as NumPy does)."""
    rng = np.random.default_rng(2)
    rows = rng.uniform(0, 1, size=(8, C)).astype(np.float32)
    rows[row] = 0.0
    rows[row, 3] = value
    rows[row, 1] = value
    np.testing.assert_array_equal(_row_argmax(rows), rows.argmax(1))
    logits = rng.normal(size=(8, C)).astype(np.float32)  # Every row negative somewhere.
    np.testing.assert_array_equal(_row_argmax(logits), logits.argmax(1))


def _fbeta_update(scores, labels):
    with tf.Graph().as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, C])
        y = tf.compat.v1.placeholder(tf.int64, [None])
        _, update = builders.fbeta(y, x, num_classes=C, average="macro")
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            return sess.run(update, {x: scores, y: labels})


@pytest.mark.parametrize("row", [0, 6])
@pytest.mark.parametrize("value", [np.nan, NEGATIVE_NAN, np.inf, -np.inf])
def test_nan_and_inf_anywhere_are_refused(path, row, value):
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 1, size=(8, C)).astype(np.float32)
    scores[row, 11] = value
    with pytest.raises(InvalidArgument, match=r"`predictions` must be finite.*received sum"):
        _fbeta_update(scores, rng.integers(0, C, 8))


def test_fbeta_equals_sklearn_and_empty_batches_count_nothing(path):
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 5, size=(500, C)).astype(np.float32)
    labels = rng.integers(0, C, 500)
    got = _fbeta_update(scores, labels)
    want = sklearn.metrics.f1_score(
        labels, scores.argmax(1), average="macro", labels=range(C), zero_division=0
    )
    assert got == pytest.approx(want, rel=1e-12)
    assert _fbeta_update(scores[:0], labels[:0]) == 0.0


def test_softmax_sequences_through_estimator_layouts():
    """[B, T, C] softmax scores with [B, T] labels: the keys' path, sklearn's number."""
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 9, C)).astype(np.float32)
    labels = rng.integers(0, C, size=(6, 9))
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, None, C])
        y = tf.compat.v1.placeholder(tf.int64, [None, None])
        _, update = builders.fbeta(y, tf.nn.softmax(x), num_classes=C, average="micro")
        assert "TopKV2" in {op.type for op in graph.get_operations()}
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.local_variables_initializer())
            got = sess.run(update, {x: logits, y: labels})
    want = sklearn.metrics.f1_score(
        labels.ravel(), logits.argmax(-1).ravel(), average="micro", labels=range(C)
    )
    assert got == pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------------- row max in [0, 1]


def _unit_row_max(values: np.ndarray, dtype=tf.float32):
    """`unit_row_max` of `values` fed with only the class axis known; (maxima, valid, keyed).

    Also runs `unit_row_top` on the same values and checks that it gives the same maxima
    and verdict, and the first argmax of every row (as NumPy) where the values are valid.
    """
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(dtype, [None] * (values.ndim - 1) + [values.shape[-1]])
        row_max, check = _rows.unit_row_max(x)
        keyed = "Bitcast" in {op.type for op in graph.get_operations()}
        top_max, top_ids, top_check = _rows.unit_row_top(x)
        with tf.compat.v1.Session() as sess:
            got = sess.run([row_max, check.valid, top_max, top_ids, top_check.valid], {x: values})
    np.testing.assert_array_equal(got[2], got[0])
    assert got[4] == got[1]
    if got[1]:
        np.testing.assert_array_equal(got[3], values.argmax(axis=-1))
    return got[0], got[1], keyed


def _probabilities(rng, shape, dtype=np.float32) -> np.ndarray:
    """Rows of few distinct values: ties (for the argmax), zeros, exact 1.0 in some rows."""
    values = rng.integers(0, 4, size=shape).astype(np.float64) / 3.0
    values[::5] = 0.0
    values[1::7, ..., -1] = 1.0
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(300, C), (20, 7, C), (0, C)])
def test_unit_row_max_by_keys_equals_numpy(dtype, shape, keys_by):
    values = _probabilities(np.random.default_rng(6), shape, dtype)
    row_max, valid, keyed = _unit_row_max(values, tf.as_dtype(dtype))
    assert keyed and valid
    np.testing.assert_array_equal(row_max, values.max(axis=-1))


def test_unit_row_max_bfloat16_and_narrow_rows_take_their_paths(keys_by):
    values = _probabilities(np.random.default_rng(7), (50, C))
    row_max, valid, keyed = _unit_row_max(values.astype(tf.bfloat16.as_numpy_dtype), tf.bfloat16)
    assert keyed and valid
    np.testing.assert_array_equal(row_max.astype(np.float32), values.max(axis=-1))
    row_max, valid, keyed = _unit_row_max(values[:, :10])  # Below KEYED_FROM: reduce_max.
    assert not keyed and valid
    np.testing.assert_array_equal(row_max, values[:, :10].max(axis=-1))


@pytest.mark.parametrize("row", [0, 9])
def test_unit_row_max_negative_zero_falls_back_and_counts_as_zero(row, keys_by):
    values = _probabilities(np.random.default_rng(8), (12, C))
    values[row] = 0.0
    values[row, 5] = -0.0
    row_max, valid, _ = _unit_row_max(values)
    assert valid
    np.testing.assert_array_equal(row_max, values.max(axis=-1))


@pytest.mark.parametrize("row", [0, 9])
@pytest.mark.parametrize(
    "value", [-1e-30, -0.5, 1.0000001, 2.0, np.nan, NEGATIVE_NAN, np.inf, -np.inf]
)
@pytest.mark.parametrize(
    "build",
    [
        lambda x: builders.average_confidence(x),
        # The same check through `unit_row_top`, the argmax beside the maxima.
        lambda x: builders.calibration_error(tf.zeros(tf.shape(x)[:1], tf.int64), x),
    ],
    ids=["average_confidence", "calibration_error"],
)
def test_probabilities_outside_0_1_are_refused_on_either_path(row, value, build, keys_by):
    values = _probabilities(np.random.default_rng(9), (12, C))
    values[row, 17] = value
    for dtype in (tf.float32, tf.float64):
        with tf.Graph().as_default():
            x = tf.compat.v1.placeholder(dtype, [None, C])
            _, update = build(x)
            with tf.compat.v1.Session() as sess:
                sess.run(tf.compat.v1.local_variables_initializer())
                with pytest.raises(
                    InvalidArgument, match=r"must be finite and lie in \[0, 1\].*received min"
                ):
                    sess.run(update, {x: values})
