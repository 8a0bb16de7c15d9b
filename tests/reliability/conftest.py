from tests.fakes.azureml_server import fake_azureml  # noqa: F401
