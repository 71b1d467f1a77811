"""The toolkit's error types. The CLI prints any `DevError` as one line on stderr and exits 1."""


class DevError(Exception):
    """A failure the user can act on. The message tells what went wrong and what to do."""


class UsageError(DevError):
    """Raised for bad flags or arguments; the CLI exits with code 2."""


class CommandFailed(DevError):
    """Raised when a subprocess exits non-zero. Keeps argv, the return code and the captured
    output."""

    def __init__(self, argv, returncode, output=""):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output or ""
        tail = "\n".join(self.output.strip().splitlines()[-20:])
        message = f"command failed with exit code {returncode}: {' '.join(self.argv)}"
        super().__init__(message + (f"\n{tail}" if tail else ""))


class WaitTimeout(DevError):
    """Raised when something is not ready in time. The message names what we waited for, the
    result of the last check and, when available, the last log lines."""
