"""The `rollout` subcommands' arguments and their API calls; every decision is in status.py and history.py.

`kubectl mini rollout status|history|undo|pause|resume|restart` take `md/NAME`, `md NAME` (or minideployment,
minideployments, minideployment.minik8s.dev) with kubectl's flags, messages and exit codes. `status` follows the
object with a WATCH (fieldSelector on its name), not by polling.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from operators.cli.errors import CliError
from operators.cli.rollout.history import (
    controlled_by,
    describe_template,
    history_by_revision,
    history_table,
    revision_for_undo,
    undo_patch,
)
from operators.cli.rollout.status import rollout_status
from operators.runtime.client import ApiError, KubeClient

__all__ = ["parse_duration", "parse_target", "register"]

GROUP_VERSION = "/apis/minik8s.dev/v1"
RESOURCE = "minideployments.minik8s.dev"  # as kubectl names it in errors
SHOWN = "minideployment.minik8s.dev"  # as kubectl names an object in its output: <kind>.<group>/<name>
TYPES = frozenset({"md", "minideployment", "minideployments", SHOWN, RESOURCE})
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def register(commands: Any, add_global_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `rollout` and its six subcommands to the plugin."""
    rollout = commands.add_parser("rollout", help="manage the rollout of a MiniDeployment (as kubectl rollout)")
    actions = rollout.add_subparsers(dest="rollout_command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        add_global_flags(parser)
        parser.add_argument("target", nargs="+", metavar="md/NAME", help="md/NAME, or md NAME")
        parser.set_defaults(handler=handler)
        return parser

    status = command("status", "show the status of the rollout, following it until it is done", _status)
    status.add_argument("--revision", type=int, default=0, help="pin to a specific revision (default: the latest)")
    status.add_argument("-w", "--watch", type=_bool, nargs="?", const=True, default=True, help="follow (default)")
    status.add_argument("--timeout", type=parse_duration, default=0.0, help="give up after (0: never), e.g. 5m")

    history = command("history", "view the rollout history", _history)
    history.add_argument("--revision", type=int, default=0, help="show the details of this revision")
    history.add_argument("-o", "--output", choices=("yaml", "json"), help="print the MiniReplicaSet(s) as yaml|json")

    undo = command("undo", "roll back to a previous rollout", _undo)
    undo.add_argument("--to-revision", type=int, default=0, help="the revision to roll back to (0: the previous)")
    undo.add_argument("--dry-run", choices=("none", "client", "server"), default="none", nargs="?", const="client")

    command("pause", "mark the MiniDeployment as paused", _pause)
    command("resume", "resume a paused MiniDeployment", _resume)
    command("restart", "restart the MiniDeployment's pods (a new rollout of the same template)", _restart)


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value: {text!r}")


def parse_duration(text: str) -> float:
    """A Go duration as kubectl's --timeout takes it (`30s`, `5m`, `1h30m`, `0`); a bare number is seconds."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f'invalid duration "{text}"')
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(number) * scale[unit] for number, unit in parts)


def parse_target(words: list[str]) -> str:
    """`md/NAME`, `minideployment/NAME`, ... or `md NAME`: the MiniDeployment's name."""
    if len(words) == 1 and "/" in words[0]:
        kind, name = words[0].split("/", 1)
    elif len(words) == 2 and "/" not in words[0]:
        kind, name = words
    elif len(words) == 1:
        raise CliError("you must specify the type of resource and its name, e.g. md/NAME or md NAME")
    else:
        raise CliError("one MiniDeployment at a time: md/NAME or md NAME")
    if kind.lower() in ("deployment", "deployments", "deploy", "deployment.apps"):
        raise CliError(f'"{kind}" is a built-in kind: use `kubectl rollout`; `kubectl mini rollout` is for md/NAME')
    if kind.lower() not in TYPES:
        raise CliError(f'the server doesn\'t have a resource type "{kind}" that kubectl mini rollout supports')
    if not name:
        raise CliError("a resource name is required")
    return name


# --- the commands ------------------------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    return _run(args, _follow_status)


def _history(args: argparse.Namespace) -> int:
    return _run(args, _show_history)


def _undo(args: argparse.Namespace) -> int:
    return _run(args, _do_undo)


def _pause(args: argparse.Namespace) -> int:
    return _run(args, lambda c, a, ns, n: _set_paused(c, ns, n, True))


def _resume(args: argparse.Namespace) -> int:
    return _run(args, lambda c, a, ns, n: _set_paused(c, ns, n, False))


def _restart(args: argparse.Namespace) -> int:
    return _run(args, _do_restart)


Action = Callable[[KubeClient, argparse.Namespace, str, str], Any]


def _run(args: argparse.Namespace, action: Action) -> int:
    name = parse_target(args.target)
    namespace = args.namespace or _context_namespace(args.kubeconfig, args.context)

    async def main() -> int:
        client = await KubeClient.from_kubeconfig(kubeconfig=args.kubeconfig, context=args.context)
        try:
            result: int = await action(client, args, namespace, name)
            return result
        except ApiError as error:
            raise CliError(_server_error(error)) from None
        finally:
            await client.close()

    return asyncio.run(main())


async def _get(client: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    return await client.get(f"{GROUP_VERSION}/namespaces/{namespace}/minideployments/{name}")


async def _follow_status(client: KubeClient, args: argparse.Namespace, namespace: str, name: str) -> int:
    """kubectl rollout status: print each new message until done; --watch=false prints once."""
    if not args.watch:
        message, _ = rollout_status(await _get(client, namespace, name), args.revision)
        print(message, flush=True)
        return 0
    try:
        async with asyncio.timeout(args.timeout or None):
            return await _watch_status(client, namespace, name, args.revision)
    except TimeoutError:
        raise CliError("timed out waiting for the condition") from None


async def _watch_status(client: KubeClient, namespace: str, name: str, revision: int) -> int:
    path = f"{GROUP_VERSION}/namespaces/{namespace}/minideployments"
    query = {"fieldSelector": f"metadata.name={name}"}
    listed = await client.get(path, query=query)
    if not listed["items"]:
        raise CliError(f'Error from server (NotFound): {RESOURCE} "{name}" not found')
    last = ""

    def show(body: Mapping[str, Any]) -> bool:
        nonlocal last
        message, done = rollout_status(body, revision)
        if message != last:
            print(message, flush=True)
            last = message
        return done

    if show(listed["items"][0]):
        return 0
    version = listed["metadata"]["resourceVersion"]
    while True:  # the server ends a watch now and then: carry on from the last version seen
        async for event in client.watch(path, query={**query, "resourceVersion": version}):
            if event["type"] == "ERROR":  # 410 Gone: start again from a fresh read
                fresh = await client.get(path, query=query)
                version = fresh["metadata"]["resourceVersion"]
                if fresh["items"] and show(fresh["items"][0]):
                    return 0
                break
            version = event["object"]["metadata"]["resourceVersion"]
            if event["type"] == "DELETED":
                raise CliError(f'{RESOURCE} "{name}" was deleted')
            if event["type"] in ("ADDED", "MODIFIED") and show(event["object"]):
                return 0


async def _replica_sets(client: KubeClient, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
    namespace = deployment["metadata"]["namespace"]
    listed = await client.get(f"{GROUP_VERSION}/namespaces/{namespace}/minireplicasets")
    return controlled_by(deployment, listed["items"])


async def _show_history(client: KubeClient, args: argparse.Namespace, namespace: str, name: str) -> int:
    """kubectl rollout history: the table, one revision described, or -o yaml|json of the MiniReplicaSets."""
    deployment = await _get(client, namespace, name)
    history = history_by_revision(await _replica_sets(client, deployment))
    if args.revision > 0 and args.revision not in history:
        raise CliError("unable to find the specified revision")
    if args.output:
        chosen = [history[args.revision]] if args.revision > 0 else [history[r] for r in sorted(history)]
        if args.output == "json":
            print("\n".join(json.dumps(rs, indent=4) for rs in chosen))
        else:
            print("---\n".join(yaml.safe_dump(rs, sort_keys=False) for rs in chosen), end="")
        return 0
    if args.revision > 0:
        rs = history[args.revision]
        cause = (rs["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause", "")
        print(f"{SHOWN}/{name} with revision #{args.revision}")
        print(describe_template(rs["spec"].get("template") or {}, cause))
        return 0
    print(f"{SHOWN}/{name} ")
    print(history_table(list(history.values())))
    return 0


async def _do_undo(client: KubeClient, args: argparse.Namespace, namespace: str, name: str) -> int:
    """kubectl rollout undo: client-side, as DeploymentRollbacker."""
    deployment = await _get(client, namespace, name)
    if (deployment.get("spec") or {}).get("paused"):
        raise CliError(
            "you cannot rollback a paused deployment; resume it first with 'kubectl mini rollout resume' and try again"
        )
    rs = revision_for_undo(name, await _replica_sets(client, deployment), args.to_revision)
    revision = int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
    if args.dry_run == "client":
        print(describe_template(rs["spec"].get("template") or {}))
        return 0
    patch = undo_patch(deployment, rs)
    if patch is None:
        print(f"{SHOWN}/{name} skipped rollback (current template already matches revision {revision})")
        return 0
    path = f"{GROUP_VERSION}/namespaces/{namespace}/minideployments/{name}"
    try:
        if args.dry_run == "server":
            await client.request("PATCH", path, body=patch, query={"dryRun": "All"}, content_type=_JSON_PATCH)
        else:
            await client.patch(path, patch, patch_type="json")
    except ApiError as error:
        raise CliError(f"failed restoring revision {revision}: {error}") from None
    print(f"{SHOWN}/{name} rolled back" + (" (server dry run)" if args.dry_run == "server" else ""))
    return 0


_JSON_PATCH = "application/json-patch+json"


async def _set_paused(client: KubeClient, namespace: str, name: str, paused: bool) -> int:
    """ObjectPauser / ObjectResumer: refuse a no-op, else patch spec.paused."""
    deployment = await _get(client, namespace, name)
    if bool((deployment.get("spec") or {}).get("paused")) == paused:
        raise CliError(f'{RESOURCE} "{name}" ' + ("is already paused" if paused else "is not paused"))
    await client.patch(f"{GROUP_VERSION}/namespaces/{namespace}/minideployments/{name}", {"spec": {"paused": paused}})
    print(f"{SHOWN}/{name} {'paused' if paused else 'resumed'}")
    return 0


async def _do_restart(client: KubeClient, args: argparse.Namespace, namespace: str, name: str) -> int:
    """ObjectRestarter (DP-38): stamp the template with restartedAt, which makes a new rollout."""
    deployment = await _get(client, namespace, name)
    if (deployment.get("spec") or {}).get("paused"):
        raise CliError(f'{RESOURCE} "{name}" can\'t restart paused deployment (run rollout resume first)')
    now = datetime.datetime.now(datetime.UTC).astimezone().isoformat(timespec="seconds")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
    await client.patch(f"{GROUP_VERSION}/namespaces/{namespace}/minideployments/{name}", patch)
    print(f"{SHOWN}/{name} restarted")
    return 0


# --- kubectl conventions ------------------------------------------------------------------------------------------


def _server_error(error: ApiError) -> str:
    """`Error from server (NotFound): minideployments.minik8s.dev "x" not found`, as kubectl prints it."""
    return f"Error from server ({error.reason or error.status}): {error.message or error}"


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The namespace of the kubeconfig's (current) context, else `default`, as kubectl defaults -n."""
    paths = [kubeconfig] if kubeconfig else os.environ.get("KUBECONFIG", "").split(os.pathsep)
    paths = [p for p in paths if p] or [str(Path.home() / ".kube" / "config")]
    for path in paths:
        try:
            config = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        chosen = context or config.get("current-context")
        for entry in config.get("contexts") or ():
            if entry.get("name") == chosen:
                return str((entry.get("context") or {}).get("namespace") or "default")
    return "default"
