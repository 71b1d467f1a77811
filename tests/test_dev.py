import argparse

from weaviate_dev.cli import build_parser
from weaviate_dev.commands import dev


def parse(*argv):
    return build_parser().parse_args(["dev", *argv])


def test_dev_is_restart_reranker_then_the_reranker_profile():
    assert dev.steps(parse()) == [["restart", "--reranker"],
                                  ["run", "local-reranker-transformers"]]


def test_dev_passes_options_on():
    restart, run = dev.steps(parse("--keep-data", "--dry-run", "--weaviate-bin", "/b/w"))
    assert restart == ["restart", "--reranker", "--keep-data", "--dry-run"]
    assert run == ["run", "local-reranker-transformers", "--dry-run", "--weaviate-bin", "/b/w"]


def test_dev_steps_parse_as_real_commands():
    parser = build_parser()
    for argv in dev.steps(parse("--image")):
        assert isinstance(parser.parse_args(argv), argparse.Namespace)
