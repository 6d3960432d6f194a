"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
    """Bad input from a user: the CLI prints the message on one line and exits with code 2.

    Messages should teach the fix ("width must be a multiple of 8, got 65"), not describe internals.
    """
