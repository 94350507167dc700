"""The chaos suite (`make chaos`, `python -m tests.chaos`): see suite.py and docs/reliability.md."""
