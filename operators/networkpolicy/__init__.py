"""NetworkPolicy evaluation: parse a snapshot, then decide and explain pod/IP connections (NP-01..NP-13)."""

from __future__ import annotations

from operators.networkpolicy.engine import Endpoint, Engine, RuleMatch, SideVerdict, Verdict
from operators.networkpolicy.errors import PolicyError
from operators.networkpolicy.matrix import ReachabilityMatrix, reachability_matrix
from operators.networkpolicy.model import Direction, Namespace, Node, Policy, Snapshot
from operators.networkpolicy.parse import parse_namespace, parse_node, parse_objects, parse_pod, parse_policy

__all__ = [
    "Direction",
    "Endpoint",
    "Engine",
    "Namespace",
    "Node",
    "Policy",
    "PolicyError",
    "ReachabilityMatrix",
    "RuleMatch",
    "SideVerdict",
    "Snapshot",
    "Verdict",
    "parse_namespace",
    "parse_node",
    "parse_objects",
    "parse_pod",
    "parse_policy",
    "reachability_matrix",
]
