"""Fixtures of the runtime's unit tests: the fake API server and a real client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from operators.runtime.client import KubeClient
from tests.unit.runtime.fakeapi import FakeApiServer, kube_client


@pytest.fixture
async def fake() -> AsyncIterator[FakeApiServer]:
    server = FakeApiServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeApiServer) -> AsyncIterator[KubeClient]:
    kube = kube_client(fake)
    yield kube
    await kube.close()
