"""Classic tf.estimator model_fns, each runnable with legacy or Keras metrics.

Every example module (`classifier`, `regressor`, `binary`, `custom_loss`)
exposes the same interface, used by `estimator-metrics example <name>` and by
`estimator-metrics demo`:

* `EXAMPLE`: an `_common.Example` (name, data, model_fn, metric tolerances).
* `main(argv=None)`: the command line (`--metrics legacy|keras`, `--steps`,
  `--model-dir`, `--seed`).
"""

EXAMPLES = ("classifier", "regressor", "binary", "custom_loss")
#: The examples `estimator-metrics demo` compares in both metric modes.
DEMO_EXAMPLES = ("classifier", "regressor", "binary")
