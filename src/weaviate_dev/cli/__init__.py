"""The `weaviate-dev` command line: the parser in `main` and one module per verb under
`commands/`."""
