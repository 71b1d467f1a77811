"""Small building blocks that the rest of the toolkit uses and that use none of it.

Settings (read once), error types, the subprocess runner, readiness waits, progress lines,
file locks, workspace state, and the location of the project's own files.
"""
