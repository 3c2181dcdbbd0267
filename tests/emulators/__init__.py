"""In-process emulators of external services, used by the test suite."""
