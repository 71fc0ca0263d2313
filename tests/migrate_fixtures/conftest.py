"""These files are test data: legacy TF 1.x code (some for tf.contrib, one that does
not parse), read by `estimator-metrics migrate` - never collected or imported by pytest."""

collect_ignore_glob = ["*.py"]
