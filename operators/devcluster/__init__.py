"""The local development cluster: a real control plane built from Go modules, with kwok nodes.

`python -m operators.devcluster build|up|down|status|env` (the Makefile's `toolchain`, `up`, `down`,
`status` targets). See README.md, "The local cluster".
"""
