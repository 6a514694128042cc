"""Shared fixtures for every test folder: the core's `tests/` and each app's `requests_app/<app>/tests/`."""
pytest_plugins = ["tests.fixtures"]
