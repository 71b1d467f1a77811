"""deploy/kubernetes/, checked offline: no cluster runs here.

The manifests validate against the Kubernetes API schemas that `kubernetes-validate` ships
(strict: an unknown or misspelt field fails), for the versions in KUBERNETES_VERSIONS, plus the
checks the API server and the kubelet make beyond the schema that a typo here would trip (a
probe or targetPort naming a port the container does not have, a selector that selects no pod,
a malformed quantity). The reranker's env holds its settings at the code's defaults. The Helm
values set only keys that Weaviate's chart has (CHART_KEYS), and point at the manifests'
Service. A broken copy of each kind fails.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from reranker.settings import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "reranker" / "Dockerfile"
# The Kubernetes versions the manifests are stated for (docs/kubernetes.md); the locked
# kubernetes-validate (1.37.0) ships the schemas of 1.25 to 1.37.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# A Kubernetes quantity (apimachinery's resource.Quantity): a number, then a suffix.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$")
# An IANA service name, what a container port's name must be.
PORT_NAME = re.compile(r"^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# Keys of Weaviate's Helm chart that the values files may set: paths from the chart's
# values.yaml of chart 17.8.3 (appVersion 1.38.2), read at
# https://github.com/weaviate/weaviate-helm/blob/v17.8.3/weaviate/values.yaml
# (`modules.reranker-transformers` and the top-level `env` map, which is free-form).
CHART_VERSION = "17.8.3"
CHART_KEYS = {
    "env",
    *(f"modules.reranker-transformers.{key}" for key in (
        "enabled", "inferenceUrl", "tag", "repo", "registry", "replicas", "strategy",
        "imagePullPolicy", "imagePullSecrets", "priorityClassName", "fullnameOverride",
        "livenessProbe.initialDelaySeconds", "livenessProbe.periodSeconds",
        "livenessProbe.timeoutSeconds", "readinessProbe.initialDelaySeconds",
        "readinessProbe.periodSeconds", "envconfig.enable_cuda",
        "envconfig.nvidia_visible_devices", "envconfig.nvidia_driver_capabilities",
        "envconfig.ld_library_path", "resources", "securityContext", "serviceAccountName",
        "nodeSelector", "tolerations", "affinity")),
}
FREE_FORM = ("env", "modules.reranker-transformers.resources")  # maps the chart passes through
VALUES_FILES = ("weaviate-values.yaml", "weaviate-values-chart-image.yaml")


def load(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / name).read_text()) if doc]


def of_kind(docs: list[dict], kind: str) -> dict:
    (found,) = [doc for doc in docs if doc["kind"] == kind]
    return found


# --- the checks -----------------------------------------------------------------------------


def schema_problems(docs: list[dict], version: str) -> list[str]:
    """What the API schemas of `version` refuse, strictly (unknown fields too)."""
    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            problems.append(f"{doc['kind']} {where}: {error.message}")
    return problems


def quantity_problems(resources: dict, where: str) -> list[str]:
    return [f"{where}.{group}.{name}: {value!r} is not a quantity"
            for group, amounts in resources.items() for name, value in amounts.items()
            if not QUANTITY.match(str(value))]


def semantic_problems(docs: list[dict]) -> list[str]:
    """What the API server or the kubelet would refuse beyond the schema, in our manifests."""
    problems = []
    deployment, service = of_kind(docs, "Deployment"), of_kind(docs, "Service")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"].get("labels", {})
    if not deployment["spec"]["selector"]["matchLabels"].items() <= labels.items():
        problems.append("Deployment: selector does not match the pod template's labels")
    if not service["spec"]["selector"].items() <= labels.items():
        problems.append("Service: selector selects no pod of the Deployment")
    named = {}
    for container in pod["spec"]["containers"]:
        for port in container.get("ports", []):
            if "name" in port:
                if not PORT_NAME.match(port["name"]):
                    problems.append(f"port name {port['name']!r} is not an IANA service name")
                named[port["name"]] = port["containerPort"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            port = container.get(probe, {}).get("httpGet", {}).get("port")
            if isinstance(port, str) and port not in named:
                problems.append(f"{probe}: port {port!r} names no port of {container['name']}")
        problems += quantity_problems(container.get("resources", {}), container["name"])
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        if isinstance(target, str) and target not in named:  # a number needs no declaring
            problems.append(f"Service: targetPort {target!r} names no port of the pod")
    return problems


def image_settings() -> dict[str, str]:
    """The settings the image sets (the runtime stage's ENV of reranker/Dockerfile), with
    ${ARG} replaced by the build argument's default."""
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    runtime = text[text.index(" AS runtime"):]
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", runtime, re.M)[1]
    values = dict(re.findall(r"(\w+)=(\S+)", block))
    return {name: re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], value)
            for name, value in values.items()}


def resolved(option, value: str):
    """What the service makes of a value: blank is unset (the default)."""
    return option.default if value.strip() == "" else option.parse(value.strip())


def env_problems(docs: list[dict]) -> list[str]:
    """The reranker's env: every setting of the service, each at its default in the image
    (the value the image sets, else the code's default)."""
    options = {option.env: option for option in OPTIONS}
    image = image_settings()
    problems = []
    (container,) = of_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    given = {item["name"]: item["value"] for item in container.get("env", [])}
    for name in sorted(set(options) - set(given)):
        problems.append(f"env {name} is missing: every setting is listed at its default")
    for name, value in given.items():
        option = options.get(name)
        if option is None:
            problems.append(f"env {name} is no setting of the reranker")
            continue
        default = resolved(option, image[name]) if name in image else option.default
        if resolved(option, value) != default:
            problems.append(f"env {name}={value!r}: the default is {default!r}"
                            + (" (set by the image)" if name in image else ""))
    return problems


def image_problems(docs: list[dict]) -> list[str]:
    """The image: an explicit tag (a moving tag pulls whatever was pushed last)."""
    (container,) = of_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    name, _, tag = container["image"].rpartition(":")
    if not name or "/" in tag or tag in ("", "latest"):
        return [f"image {container['image']!r}: an explicit tag, not latest"]
    return []


def problems_of(docs: list[dict], version: str) -> list[str]:
    return (schema_problems(docs, version) + semantic_problems(docs) + env_problems(docs)
            + image_problems(docs))


def key_paths(values: dict, prefix: str = "") -> set[str]:
    """Every key path a values file sets (the free-form maps as one key)."""
    paths = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in FREE_FORM:
            paths |= key_paths(value, path + ".")
        else:
            paths.add(path)
    return paths


# --- the manifests --------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_manifests_validate(version):
    assert problems_of(load("reranker.yaml"), version) == []


def test_probes_and_service_reach_the_reranker():
    docs = load("reranker.yaml")
    (container,) = of_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    port_default = next(option.default for option in OPTIONS if option.env == "PORT")
    assert container["readinessProbe"]["httpGet"]["path"] == "/.well-known/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/.well-known/live"
    for probe in ("readinessProbe", "livenessProbe"):
        assert ports[container[probe]["httpGet"]["port"]] == port_default == 8080
    (service_port,) = of_kind(docs, "Service")["spec"]["ports"]
    assert ports[service_port["targetPort"]] == port_default


def mutate(docs: list[dict], change) -> list[dict]:
    broken = copy.deepcopy(docs)
    change(of_kind(broken, "Deployment"), of_kind(broken, "Service"),
           of_kind(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0])
    return broken


def _rename(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def _set(container: dict, name: str, value: str) -> None:
    (item,) = [item for item in container["env"] if item["name"] == name]
    item["value"] = value


BROKEN = {
    "a misspelt field": (lambda d, s, c: _rename(c, "readinessProbe", "readinesProbe"),
                         "'readinesProbe' was unexpected"),
    "a probe on a port that is not named": (
        lambda d, s, c: c["livenessProbe"]["httpGet"].update(port="htp"),
        "livenessProbe: port 'htp' names no port"),
    "a port number as a string": (lambda d, s, c: c["ports"][0].update(containerPort="8080"),
                                  "is not of type 'integer'"),
    "a Service onto a port the pod lacks": (
        lambda d, s, c: s["spec"]["ports"][0].update(targetPort="web"),
        "targetPort 'web' names no port"),
    "a Service selecting no pod": (
        lambda d, s, c: s["spec"]["selector"].update({"app.kubernetes.io/name": "reranker"}),
        "selects no pod"),
    "a memory request in MB": (
        lambda d, s, c: c["resources"]["requests"].update(memory="512MB"),
        "'512MB' is not a quantity"),
    "a setting the reranker does not have": (
        lambda d, s, c: c["env"].append({"name": "MAX_DOCUMENT", "value": "10"}),
        "env MAX_DOCUMENT is no setting"),
    "a setting off its default": (
        lambda d, s, c: _set(c, "WORKERS", "2"), "env WORKERS='2': the default is 1"),
    "a setting off the image's value": (
        lambda d, s, c: _set(c, "HOST", "127.0.0.1"),
        "env HOST='127.0.0.1': the default is '0.0.0.0' (set by the image)"),
    "a setting left out": (
        lambda d, s, c: c.update(env=[e for e in c["env"] if e["name"] != "REQUEST_TIMEOUT"]),
        "env REQUEST_TIMEOUT is missing"),
    "the image's moving tag": (
        lambda d, s, c: c.update(image=c["image"].rsplit(":", 1)[0] + ":latest"),
        "an explicit tag, not latest"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_copy_fails(case):
    change, expected = BROKEN[case]
    found = problems_of(mutate(load("reranker.yaml"), change), KUBERNETES_VERSIONS[-1])
    assert any(expected in problem for problem in found), found


# --- the Helm values ------------------------------------------------------------------------


@pytest.mark.parametrize("name", VALUES_FILES)
def test_the_helm_values_set_only_keys_the_chart_has(name):
    (values,) = load(name)
    assert f"chart {CHART_VERSION}" in (DEPLOY / name).read_text()  # the version we checked
    assert key_paths(values) - CHART_KEYS == set()


def test_a_misspelt_helm_key_is_caught():
    values = {"modules": {"reranker-transformers": {"enabled": False, "inferenceURL": "x"}}}
    assert key_paths(values) - CHART_KEYS == {"modules.reranker-transformers.inferenceURL"}


def test_the_chart_reaches_our_service():
    (values,) = load("weaviate-values.yaml")
    module = values["modules"]["reranker-transformers"]
    url = urlsplit(module["inferenceUrl"])
    service = of_kind(load("reranker.yaml"), "Service")
    (port,) = service["spec"]["ports"]
    assert module["enabled"] is False  # else the chart deploys the official image as well
    assert (url.scheme, url.hostname, url.port) == ("http", service["metadata"]["name"],
                                                     port["port"])
    assert "reranker-transformers" in values["env"]["ENABLE_MODULES"].split(",")


def test_the_chart_deploys_our_image_sized_as_our_manifest():
    (values,) = load("weaviate-values-chart-image.yaml")
    module = values["modules"]["reranker-transformers"]
    (container,) = of_kind(load("reranker.yaml"),
                           "Deployment")["spec"]["template"]["spec"]["containers"]
    assert module["enabled"] is True
    assert f"{module['registry']}/{module['repo']}:{module['tag']}" == container["image"]
    assert module["resources"] == container["resources"]
    assert quantity_problems(module["resources"], "chart") == []
