"""One exception hierarchy; the CLI maps each class to an exit code in one place."""

from __future__ import annotations


class StorylineError(Exception):
    """Base class: the message is one line a person can act on."""

    exit_code = 1


class InputError(StorylineError):
    """A document or path that cannot be read as news."""

    exit_code = 3


class InputNotFound(InputError):
    exit_code = 3


class StoreError(StorylineError):
    """The store cannot be opened or written."""

    exit_code = 4


class NotAStore(StoreError):
    exit_code = 4


class ReadOnlyStore(StoreError):
    exit_code = 4


class NotFound(StorylineError):
    """An id the user asked for is not in the store."""

    exit_code = 5


# Exit codes, for the CLI and the README.
EXIT_OK = 0
EXIT_PARTIAL = 1  # the batch went in, but some inputs were reported and skipped
EXIT_USAGE = 2  # click's own code for bad options
EXIT_INPUT = InputError.exit_code
EXIT_STORE = StoreError.exit_code
EXIT_NOT_FOUND = NotFound.exit_code
EXIT_INTERRUPTED = 130
