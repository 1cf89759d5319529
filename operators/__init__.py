"""mini-operators: the Kubernetes workload controllers reimplemented as Kopf operators."""
