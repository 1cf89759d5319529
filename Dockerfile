# The operator image: `docker build -t mini-operators:dev .` (or `make image`), then `kind load docker-image`.
#
# Two stages on the same pinned base: the builder turns the source tree into a wheel; the final image installs
# that wheel and its runtime dependencies only (no dev extras, no build tools, no source tree) and runs as the
# non-root user 65532, so the pod passes the restricted Pod Security Standard with a read-only root filesystem.
# The same image runs the policy agent (`mini-operators agent`, the chart's DaemonSet), hence nftables.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY operators ./operators
# Only the project's own wheel: its dependencies are resolved from the registry in the final stage.
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="mini-operators" \
      org.opencontainers.image.description="Kubernetes workload controllers reimplemented as Kopf operators" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# nftables: the policy agent loads each node's table with `nft -f` (operators/agent/agent.py). Debian's stable
# security updates replace package versions, so a pinned version would break rebuilds; the base is pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nftables \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 nonroot \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot
COPY --from=builder /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER 65532:65532
# 8080: Prometheus /metrics (--metrics-bind-address); 8081: Kopf's liveness endpoint (/healthz).
EXPOSE 8080 8081
ENTRYPOINT ["mini-operators", "run"]
