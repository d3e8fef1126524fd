"""Mistakes in a command line (options that cannot work together, a device that is not there)."""


class UsageError(ValueError):
    """An option or a combination of options that cannot work; the message is one line naming the option."""
