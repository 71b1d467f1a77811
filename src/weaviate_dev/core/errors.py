"""The toolkit's error types. The CLI turns any `DevError` into one stderr line and exit 1."""


class DevError(Exception):
    """A failure the user can act on; its message says what went wrong and what to do."""


class UsageError(DevError):
    """Bad flags or arguments (exit code 2)."""


class CommandFailed(DevError):
    """A subprocess exited non-zero. Carries argv, return code and captured output."""

    def __init__(self, argv, returncode, output=""):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output or ""
        tail = "\n".join(self.output.strip().splitlines()[-20:])
        message = f"command failed with exit code {returncode}: {' '.join(self.argv)}"
        super().__init__(message + (f"\n{tail}" if tail else ""))


class WaitTimeout(DevError):
    """Something was not ready in time. The message names what was awaited and shows evidence."""
