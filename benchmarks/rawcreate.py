"""The raw create-rate arm's client process: N pod POSTs from one async KubeClient, when the harness says go.

Run by replicaset.py (its `raw` arm), not by hand. A process of its own, like the operator in the Mini arms, so the
harness's watch, which times the arm, does not share an event loop (and a GIL) with the client it times. Protocol:
it prints `ready` once the client exists, waits for a line on stdin, POSTs all N pods at once behind the client's
semaphore of `--concurrency` requests in flight, and prints one JSON line: the time to the last answer, its own CPU
seconds over the POSTs, and the requests the client counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from operators.runtime.client import KubeClient  # the operators' own client, as pod_startup.py uses it

IMAGE = "registry.k8s.io/pause:3.10"  # replicaset.py's template, with generateName as a controller sends it
BODY: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"generateName": "bench-", "labels": {"app": "bench-raw"}},
    "spec": {"containers": [{"name": "pause", "image": IMAGE}]},
}


async def main_async(args: argparse.Namespace) -> dict[str, float]:
    kube = await KubeClient.from_kubeconfig(kubeconfig=args.kubeconfig, max_concurrency=args.concurrency)
    try:
        print("ready", flush=True)
        sys.stdin.readline()  # nothing else runs on this loop yet: blocking is fine
        path = f"/api/v1/namespaces/{args.namespace}/pods"
        cpu0, start = time.process_time(), time.monotonic()
        await asyncio.gather(*(kube.create(path, BODY) for _ in range(args.pods)))
        posted, cpu = time.monotonic() - start, time.process_time() - cpu0
        return {"post_s": posted, "client_cpu_s": cpu, "requests": sum(kube.requests.values())}
    finally:
        await kube.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    print(json.dumps(asyncio.run(main_async(parser.parse_args()))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
