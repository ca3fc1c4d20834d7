"""User errors: one line on stderr, exit code 2, no traceback."""


class UserError(Exception):
    """A bad file, option or map. The message names the culprit and says what to do."""

    exit_code = 2
