"""Typed, read-only views of core Kubernetes objects and the pure helpers upstream keeps beside them."""
