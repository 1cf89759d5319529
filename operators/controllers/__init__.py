"""The Mini controllers: pure per-controller logic beside the thin glue that wires it to the runtime."""
