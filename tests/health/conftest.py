"""Health tests use the real loopback Azure ML server and the core's wired monitor."""

from tests.fakes.azureml_server import fake_azureml  # noqa: F401
from tests.monitoring.conftest import wired  # noqa: F401
