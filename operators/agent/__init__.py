"""The policy agent: MiniNetworkPolicies (and NetworkPolicies) enforced with nftables on one node."""
