"""Offline training, evaluation and checks of MLNet models (``python -m training --help``)."""
