"""`kubectl mini rollout`: kubectl's rollout commands for MiniDeployments (DP-35..DP-39)."""

from __future__ import annotations

from operators.cli.rollout.command import register

__all__ = ["register"]
