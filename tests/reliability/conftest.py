from tests.fakes.azureml_server import fake_azureml  # noqa: F401
from tests.monitoring.conftest import wired  # noqa: F401
