"""Legacy Estimator code for tests/test_migrate.py: read by `estimator-metrics migrate`."""
