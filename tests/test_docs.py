"""The docs are a reference of what is true today: the README and docs/*.md against the code.

- Every default in a settings table is the code's: the README's against
  `weaviate_dev.core.settings` (`Settings.from_env`), docs/reranker.md's against
  `reranker.settings.OPTIONS` and `reranker/Dockerfile`'s build arguments, docs/restart.md's
  compose variables against `compose/docker-compose.yml` — and every setting of the code has a row.
- Every repository path cited exists (a glob, or a `<placeholder>`, matches something), every
  link reaches an existing file and heading, every `weaviate_dev.*` / `reranker.*` name resolves,
  and every module a docstring of the code names exists.
- No history wording ("now", "new", "no longer", "issue N"): that is CHANGELOG.md's (left out
  of these checks).
- The README's first screen says what it is, the two commands and the prerequisites.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from weaviate_dev.core import settings as toolkit_settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FIRST_SCREEN = 40  # lines of the README a terminal or a browser shows without scrolling


# --- reading Markdown ------------------------------------------------------------------------

def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under a heading (`## Settings`), up to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise AssertionError(f"no heading {heading!r}") from None
    end = next((i for i in range(start + 1, len(lines))
                if re.match(rf"#{{1,{level}}} ", lines[i])), len(lines))
    return "\n".join(lines[start + 1:end])


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row (a `\\|` inside a cell is not a border)."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip() for cell in cells]


def table(text: str, header: str) -> list[list[str]]:
    """The rows of the first table in `text` whose first header cell is `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and split_row(line)[0] == header:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(split_row(row))
            return rows
    raise AssertionError(f"no table headed {header!r}")


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def rows_by_name(rows: list[list[str]]) -> dict[str, list[str]]:
    """Each name a row's first cell gives in backticks -> that row (one row may name several)."""
    named: dict[str, list[str]] = {}
    for row in rows:
        for name in code_spans(row[0]):
            assert name not in named, f"{name} has two rows"
            named[name] = row
    return named


def first_code(cell: str) -> str | None:
    spans = code_spans(cell)
    return spans[0] if spans else None


def shown(value) -> str:
    """A value as the docs write it: a path below the home directory with `~`."""
    text = str(value)
    home = str(Path.home())
    if isinstance(value, Path) and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home):]
    return text


# --- (1) defaults: the README's settings table -----------------------------------------------

class _ReadNames(dict):
    """An empty environment that remembers which names the code asked it for."""

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []

    def get(self, name, default=None):
        self.asked.append(name)
        return default


# A value that Settings accepts for the variables that check theirs; any other gets PROBE.
PROBE = "/weaviate-dev-probe"
_ENGINES = toolkit_settings.RerankerEngines.read(ROOT)
PROBES = {"WEAVIATE_DEV_RERANKER_ENGINE": next(n for n in _ENGINES.names if n != _ENGINES.default),
          "WEAVIATE_DEV_PLATFORM": "linux/s390x", "CI": "true",
          "WEAVIATE_DEV_RERANKER_REDUCED_PRECISION": "off", "HF_HUB_OFFLINE": "1"}
# Variables whose default differs per machine, so the table describes it instead of giving it.
MACHINE_DEFAULTS = {
    "WEAVIATE_DEV_ROOT": "the checkout (or the installed package's copy) weaviate-dev runs from",
}


def toolkit_defaults() -> dict[str, object]:
    """Each variable Settings.from_env reads -> its value when unset, read from the code:
    the field the variable sets, in `Settings.from_env({})` (None: unset, nothing in its place)."""
    env = _ReadNames()
    toolkit_settings.Settings.from_env(env)
    base = toolkit_settings.Settings.from_env({})
    defaults: dict[str, object] = {}
    for name in dict.fromkeys(env.asked):
        probe = PROBES.get(name, PROBE)
        probed = toolkit_settings.Settings.from_env({name: probe})
        changed = [f.name for f in dataclasses.fields(base)
                   if getattr(probed, f.name) != getattr(base, f.name)]
        assert changed, f"{name} changes no setting"
        exact = [f for f in changed if str(getattr(probed, f)) == probe]
        field = (exact or changed)[0]
        value, probed_value = getattr(base, field), getattr(probed, field)
        if isinstance(value, bool):
            defaults[name] = value or None
        elif isinstance(probed_value, Path) and probed_value.is_relative_to(probe) \
                and probed_value != Path(probe):
            # The variable names a parent: XDG_CACHE_HOME -> cache_dir = $XDG_CACHE_HOME/weaviate-dev.
            suffix = probed_value.relative_to(probe)
            assert value.parts[-len(suffix.parts):] == suffix.parts, name
            defaults[name] = Path(*value.parts[:-len(suffix.parts)])
        else:
            defaults[name] = value
    return defaults


def readme_settings() -> dict[str, list[str]]:
    return rows_by_name(table(section(text_of(ROOT / "README.md"), "## Settings"), "variable"))


def test_readme_settings_table_is_exactly_the_toolkits_settings():
    code = set(toolkit_defaults())
    documented = set(readme_settings())
    assert documented - code == set(), "rows for variables the toolkit does not read"
    assert code - documented == set(), "settings of core/settings.py without a README row"


def test_readme_settings_defaults_are_the_codes():
    rows = readme_settings()
    for name, default in toolkit_defaults().items():
        if name not in rows or name in MACHINE_DEFAULTS:
            continue
        cell = rows[name][1]
        if default is None:
            assert cell.startswith("("), \
                f"{name}: the code has no default; the README says {cell!r}"
        else:
            assert first_code(cell) == shown(default), \
                f"{name}: the code's default is {shown(default)!r}; the README says {cell!r}"


# --- (1) defaults: the reranker's settings and build arguments -------------------------------

def reranker_options():
    return importlib.import_module("reranker.settings").OPTIONS


def test_reranker_settings_table_is_exactly_the_options():
    rows = rows_by_name(table(section(text_of(ROOT / "docs/reranker.md"), "## Settings"),
                              "variable"))
    options = {option.env: option for option in reranker_options()}
    assert set(rows) - set(options) == set(), "rows for variables the reranker does not read"
    assert set(options) - set(rows) == set(), "options of reranker/settings.py without a row"


def test_reranker_settings_defaults_are_the_options():
    rows = rows_by_name(table(section(text_of(ROOT / "docs/reranker.md"), "## Settings"),
                              "variable"))
    for option in reranker_options():
        cell = rows.get(option.env, ["", ""])[1]
        if option.default is None:
            assert cell.startswith("unset"), f"{option.env}: no default in the code; {cell!r}"
        elif isinstance(option.default, bool):
            word = "on" if option.default else "off"
            assert cell.split()[0] == word, f"{option.env}: the code's default is {word}; {cell!r}"
        else:
            assert first_code(cell) == shown(option.default), \
                f"{option.env}: the code's default is {option.default!r}; docs say {cell!r}"


def dockerfile_args() -> dict[str, str]:
    """Each ARG of reranker/Dockerfile -> its default (the first ARG line that gives one)."""
    args: dict[str, str] = {}
    for name, default in re.findall(r"^ARG (\w+)(?:=(.*))?$",
                                    text_of(ROOT / "reranker/Dockerfile"), re.M):
        if default or name not in args:
            args[name] = args.get(name) or default.strip()
    return args


def test_reranker_build_args_table_is_the_dockerfiles():
    rows = rows_by_name(table(section(text_of(ROOT / "docs/reranker.md"), "## The image"),
                              "build arg"))
    args = dockerfile_args()
    assert set(rows) == set(args), "build-arg rows against the Dockerfile's ARGs"
    for name, default in args.items():
        cell = rows[name][1]
        if default == "":
            assert cell == "empty", f"{name}: empty in the Dockerfile; docs say {cell!r}"
        else:
            assert first_code(cell) == default, f"{name}: the Dockerfile has {default!r}; {cell!r}"


def test_compose_variables_table_is_the_compose_files():
    rows = rows_by_name(table(section(text_of(ROOT / "docs/restart.md"),
                                      "## Using compose/ by hand"), "variable"))
    found: dict[str, set[str]] = {}
    for name, default in re.findall(r"\$\{(\w+):-([^}]*)\}",
                                    text_of(ROOT / "compose/docker-compose.yml")):
        found.setdefault(name, set()).add(default)
    assert set(rows) == set(found), "compose-variable rows against ${VAR:-default} in the file"
    for name, defaults in found.items():
        assert len(defaults) == 1, f"{name} has several defaults in the compose file: {defaults}"
        default, cell = defaults.pop(), rows[name][1]
        if default == "":
            assert cell.startswith("unset"), f"{name}: unset in the compose file; docs {cell!r}"
        else:
            assert first_code(cell) == default, f"{name}: the compose file has {default!r}; {cell!r}"


# --- (1) defaults: restart's services, as the compose file defines them ----------------------

def compose_images() -> dict[str, str]:
    """Each compose service -> its image, a `${VAR:-default}` read as its default."""
    import yaml

    services = yaml.safe_load(text_of(ROOT / "compose/docker-compose.yml"))["services"]
    return {name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", entry.get("image", ""))
            for name, entry in services.items()}


def test_restart_flags_table_is_the_compose_files():
    from weaviate_dev.services.catalog import load_catalog

    catalog = load_catalog()
    rows = rows_by_name(table(text_of(ROOT / "docs/restart.md"), "flag"))
    flags = {f"--{flag}": services for flag, services in catalog.flags().items()}
    unsupported = {f"--{flag}" for flag in catalog.unsupported_flags}
    assert set(rows) == set(flags) | unsupported, "restart flags against the compose file's"
    images = compose_images()
    for flag, services in flags.items():
        _, names, image, ports = rows[flag][:4]
        for service in services:
            assert service.name in names, f"{flag}: service {service.name} not in {names!r}"
            assert images[service.name] in image, f"{flag}: {images[service.name]} not in {image!r}"
            for port in service.host_ports:
                assert re.search(rf"\b{port}\b", ports), f"{flag}: host port {port} not in {ports!r}"


# --- (1) the command line, and the suites docs/integration.md describes ---------------------

def verb_parsers() -> dict:
    import argparse

    from weaviate_dev.cli.main import build_parser

    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(verbs.choices)


def test_run_flags_table_is_the_parsers():
    rows = table(section(text_of(ROOT / "docs/run.md"), "## Flags"), "flag")
    documented = {code_spans(row[0])[0].split()[0]: row[1] for row in rows}
    actions = [a for a in verb_parsers()["run"]._actions if a.dest != "help"]
    names = {(a.option_strings[-1] if a.option_strings else a.dest.upper()): a for a in actions}
    assert set(documented) == set(names), "docs/run.md's flags against `run`'s parser"
    for name, action in names.items():
        if action.default not in (None, False):
            assert re.search(rf"default `?{re.escape(str(action.default))}\b", documented[name]), \
                f"{name}: the parser's default is {action.default!r}; docs say {documented[name]!r}"


def test_every_option_of_every_verb_is_documented():
    text = "\n".join(text_of(page) for page in DOCS)
    blocks = re.findall(r"```.*?```", text, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    spans = " ".join(blocks + inline)
    missing = [f"{verb} {option}" for verb, parser in verb_parsers().items()
               for action in parser._actions for option in action.option_strings
               if option.startswith("--") and option != "--help"
               and not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", spans)]
    assert not missing, "options no page names:\n" + "\n".join(missing)


def test_every_integration_suite_has_a_row():
    rows = {name for row in table(text_of(ROOT / "docs/integration.md"), "test")
            for name in code_spans(row[0])}
    rows |= {name for row in table(section(text_of(ROOT / "docs/integration.md"),
                                           "## The CLI as a user runs it: one node, a source "
                                           "tree, a cluster"), "test")
             for name in code_spans(row[0])}
    suites = {path.name for path in (ROOT / "integration_tests").glob("test_*.py")}
    assert suites - rows == set(), "integration suites docs/integration.md does not describe"
    assert rows - suites == set(), "rows for suites that do not exist"


# --- (2) paths, links and names --------------------------------------------------------------

def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


# Where a doc's relative path may start: the root, and the folders the pages describe (the
# toolkit's rooms, the reranker's package and its project).
BASES = ("", "src/", "src/weaviate_dev/", "reranker/", "reranker/src/reranker/", "docs/")
# Paths that look like ours and are not, each with its reason.
FOREIGN_PATHS = {
    "tools/dev/grafana/dashboards": "Weaviate's checkout, where its dashboards are",
    "weaviate/reranker-transformers": "the official reranker's GitHub repository",
    "weaviate/weaviate-helm": "Weaviate's Helm chart's GitHub repository",
    "weaviate/weaviate": "the chart's name in Weaviate's Helm repository (helm upgrade ...)",
}
# The user's own files in the reranker's drop-in folders (their contents are gitignored).
USER_FILES = re.compile(r"^(reranker/)?(models|certs)/[^/]+")


def entries(files: list[str]) -> set[str]:
    """The names a path of ours may begin with: the root's and each base's own entries."""
    names = set()
    for base in BASES:
        for path in files:
            if path.startswith(base):
                names.add(path[len(base):].split("/")[0])
    return names


def as_glob(token: str) -> str:
    """A cited path as a glob: `<placeholder>`s and `…` stand for any name."""
    return re.sub(r"<[^>/]*>|…|\.\.\.", "*", token.rstrip("/"))


def exists(token: str) -> bool:
    """The cited path (a glob) matches something below the root or one of the bases."""
    pattern = as_glob(token)
    return any(next(ROOT.glob(base + pattern), None) is not None for base in BASES)


PATH_TOKEN = re.compile(r"[\w.*<>…-]+(?:/[\w.*<>…-]*)+")


def cited_paths(text: str) -> Iterator[tuple[int, str]]:
    """(line, token) for each word of the page that looks like a path: names joined by '/'."""
    for number, line in enumerate(text.splitlines(), 1):
        for match in PATH_TOKEN.finditer(line):
            start, token = match.start(), match.group(0)
            before = line[:start]
            # Not a path of ours: URLs and hosts, absolute and home paths, variables, package
            # and image names (a ':' or '@' after them), a path continued from a longer one.
            if re.search(r"(://|[~$/:@.\w-])$", before):
                continue
            after = line[match.end():match.end() + 1]
            if after in (":", "@") and not re.match(r":\d+:\d+", line[match.end():]):
                continue
            yield number, token.rstrip(".")


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_cited_exists(page):
    ours = entries(tracked_files())
    missing = []
    for number, token in cited_paths(text_of(page)):
        first = token.split("/")[0]
        if first not in ours or token.rstrip("/") in FOREIGN_PATHS or USER_FILES.match(token):
            continue
        if not exists(token):
            missing.append(f"{page.name}:{number}: {token}")
    assert not missing, "\n".join(missing)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lstrip("#").strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", text_of(path), flags=re.S)
    return {slug(line) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_reaches_a_file_and_heading(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text_of(page)):
        if re.match(r"\w+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            broken.append(target)
        elif anchor and anchor not in anchors(path):
            broken.append(target)
    assert not broken, "\n".join(broken)


def dotted_names(text: str) -> set[str]:
    return set(re.findall(r"\b(?:weaviate_dev|reranker)(?:\.[A-Za-z_]\w*)+", text))


def resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_and_name_of_ours_resolves(page):
    text = re.sub(r"[\w./-]+\.(md|json|txt|toml|egg|yaml|yml)\b", "", text_of(page))  # files
    unknown = sorted(n for n in dotted_names(text) if not resolves(n))
    assert not unknown, "\n".join(unknown)


# Modules of other projects that our docstrings cite.
FOREIGN_MODULES = {"_pagination.py": "huggingface_hub's utils, which fake_hub imitates"}


def test_module_docstrings_name_modules_that_exist():
    files = tracked_files()
    basenames = {Path(path).name for path in files}
    missing = []
    for path in files:
        if not (path.endswith(".py") and path.startswith(("src/", "reranker/src/", "bench/"))):
            continue
        for name in re.findall(r"\b[A-Za-z_]\w*\.py\b", text_of(ROOT / path)):
            if name not in basenames and name not in FOREIGN_MODULES:
                missing.append(f"{path}: {name}")
    assert not missing, "\n".join(missing)



# --- (3) no history --------------------------------------------------------------------------

HISTORY = re.compile(r"\b(now|new|newly|no longer|any ?more|used to|(issue|stop)s? ?#?\d+)\b",
                     re.I)
# Lines where such a word is the reference's own, each with its reason: (page, text, reason).
HISTORY_ALLOWED: list[tuple[str, str, str]] = []


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_history_wording(page):
    allowed = [text for name, text, _ in HISTORY_ALLOWED if name == page.name]
    found = []
    for number, line in enumerate(text_of(page).splitlines(), 1):
        for match in HISTORY.finditer(line):
            if not any(match.group(0) in text and text in line for text in allowed):
                found.append(f"{page.name}:{number}: {match.group(0)!r} in {line.strip()[:90]!r}")
    assert not found, "history belongs in CHANGELOG.md:\n" + "\n".join(found)


# --- the README's first screen ---------------------------------------------------------------

def test_readme_first_screen_is_what_it_is_the_two_commands_and_the_prerequisites():
    lines = text_of(ROOT / "README.md").splitlines()
    screen = lines[:FIRST_SCREEN]
    assert screen[0].startswith("# ") and screen[2].strip(), "a title, then what it is"
    assert any("make dev" in line for line in screen) and any("make test" in line
                                                              for line in screen)
    assert "## Prerequisites" in screen, "the prerequisites on the first screen"
    after = lines.index("## Prerequisites") + 1
    end = next(i for i in range(after, len(lines)) if lines[i].startswith("## "))
    assert end <= FIRST_SCREEN, f"the prerequisites end at line {end}, below the first screen"
