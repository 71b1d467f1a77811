"""The command line: one parser (`main`) and one module per verb under `commands/`."""
