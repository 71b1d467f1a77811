"""The small core every room uses, using none of them: settings (every switch, read once),
errors, the one process runner, the one wait, progress lines, local state, where the tree is."""
