"""The `kubectl-mini` kubectl plugin: command-line what-if tools over the mini-operators engines."""
