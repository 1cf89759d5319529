"""Your first controller: each Greeting gets a ConfigMap, on Kopf and the project's runtime (the tutorial's code).

The modules, in the order the tutorial builds them:

- `api.py` — the Greeting kind as a pydantic model; its CRD (`crd.yaml`) is generated from it;
- `model.py` — frozen views of a Greeting and of a ConfigMap: what the cache holds and the logic reads;
- `reconcile.py` — the decisions, pure: from what is observed to a `Plan` (no I/O, unit-tested);
- `controller.py` — the glue: informers and their events, the work queue, the API calls the plan asks for;
- `app.py` — the process: a Manager with this one controller, run by Kopf (`python -m docs.tutorials.first_controller`).
"""
