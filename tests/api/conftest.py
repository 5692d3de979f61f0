import pytest
from fastapi.testclient import TestClient

from supportbot.api.app import create_api


@pytest.fixture
def client(database):
    with TestClient(create_api()) as test_client:
        yield test_client
