"""Docker, in small modules: the connection to the engine (`engine`) and installing one
where it is missing (`install`), local images (`local_images`), image builds (`builds`;
another platform's through BuildKit: `cross_build`), and containers with the compose command
(`containers`). Nothing else in the toolkit talks to Docker."""
