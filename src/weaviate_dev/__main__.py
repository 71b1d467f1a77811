"""`python -m weaviate_dev` is the same as the `weaviate-dev` console command."""

from weaviate_dev.cli.main import main

raise SystemExit(main())
