"""The flows' parameter schema forbids secret settings (the server refuses such a run before
storing it), and collection credential blocks map onto the source settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from mmingest.flows.credential_blocks import aws_values, azure_values, gcp_values
from mmingest.flows.parameters import secret_paths, settings_schema
from mmingest.schemas.errors import ConfigError
from tests.support.gcp_keys import service_account_file

prefect = pytest.importorskip("prefect")
from prefect.utilities.callables import parameter_schema  # noqa: E402
from prefect.utilities.schema_tools.validation import ValidationError, validate  # noqa: E402

from mmingest.flows import prefect_flows  # noqa: E402

FLOWS = ["sync", "backfill", "ingest_images", "ingest_pdfs", "ingest_products", "reembed"]


def _nested(path: str, value: object) -> dict:
    *parents, leaf = path.split(".")
    tree: dict = {leaf: value}
    for name in reversed(parents):
        tree = {name: tree}
    return tree


def _schema(flow: str) -> dict:
    return parameter_schema(getattr(prefect_flows, flow)).model_dump()


def _parameters(flow: str, **given: object) -> dict:
    base: dict = {"source": "s3://b/p"}
    if flow == "reembed":
        base["embedder"] = {"model": "m"}
    return {**base, **given}


@pytest.mark.parametrize("flow", FLOWS)
def test_every_secret_setting_is_refused_by_the_flow_schema_without_echoing_it(flow):
    schema = _schema(flow)
    assert len(secret_paths()) >= 10
    for path in sorted(secret_paths()):
        parameters = _parameters(flow, settings=_nested(path, "canary-5f3a"))
        with pytest.raises(ValidationError) as refused:
            validate(parameters, schema, raise_on_error=True)
        assert path.rsplit(".", 1)[1] in str(refused.value)
        assert "canary-5f3a" not in str(refused.value)


@pytest.mark.parametrize("flow", FLOWS)
def test_ordinary_settings_pass_the_flow_schema(flow):
    schema = _schema(flow)
    for settings in (
        None,
        {},
        {"ingest": {"batch_size": 32}},
        {"embedder": {"model": "m", "kind": "cohere"}, "source": {"s3": {"region": "x"}}},
        {"store": {"kind": "qdrant", "url": "http://q:6333"}, "source": {"azure": {}}},
    ):
        validate(_parameters(flow, settings=settings), schema, raise_on_error=True)
    assert "description" in schema["properties"]["settings"]


def test_reembed_refuses_a_credential_in_its_embedder_parameter():
    schema = _schema("reembed")
    with pytest.raises(ValidationError, match="api_key"):
        validate(_parameters("reembed", embedder={"api_key": "c"}), schema, raise_on_error=True)
    assert settings_schema("embedder.")["propertyNames"]["not"]["enum"] == [
        "access_token",
        "api_key",
    ]


def test_the_deployments_enforce_their_parameter_schema():
    from mmingest.flows.deployments import DeploymentPlan, runner_deployments

    deployments = runner_deployments(DeploymentPlan("s3://b/p", "products"))
    assert deployments and all(d.enforce_parameter_schema for d in deployments)
    for deployment in deployments:  # the schema the deployment registers (a private attribute)
        settings = deployment._parameter_openapi_schema.properties["settings"]
        assert "propertyNames" in str(settings), deployment.name


def test_gcp_credentials_map_their_key_file_only(tmp_path):
    prefect_gcp = pytest.importorskip("prefect_gcp")
    key = service_account_file(tmp_path / "sa.json")
    block = prefect_gcp.GcpCredentials(service_account_file=key)
    assert gcp_values(block, "gcp") == {"source.gcs.service_account_path": str(key)}
    # model_construct: the block's own validator would parse the (fake) private key
    inline = prefect_gcp.GcpCredentials.model_construct(
        service_account_info={
            "type": "service_account",
            "client_email": "sa@p.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
            "private_key": "pk-canary",
        }
    )
    with pytest.raises(ConfigError, match="service_account_file") as refused:
        gcp_values(inline, "inline")
    assert "pk-canary" not in str(refused.value) and "'inline'" in str(refused.value)
    with pytest.raises(ConfigError, match="no service_account_file"):
        gcp_values(prefect_gcp.GcpCredentials.model_construct(), "adc")


def test_azure_credentials_map_their_connection_string():
    prefect_azure = pytest.importorskip("prefect_azure")
    block = prefect_azure.AzureBlobStorageCredentials(
        connection_string="DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=k3y==;"
        "BlobEndpoint=http://127.0.0.1:10000/acct;"
    )
    assert azure_values(block, "az") == {
        "source.azure.allow_http": True,
        "source.azure.account_name": "acct",
        "source.azure.account_key": "k3y==",
        "source.azure.endpoint": "http://127.0.0.1:10000/acct",
    }
    sas = azure_values(
        _Block(
            connection_string=SecretStr(
                "BlobEndpoint=https://a.blob.x/;SharedAccessSignature=sv=1&sig=s"
            )
        ),
        "sas",
    )
    assert sas == {
        "source.azure.endpoint": "https://a.blob.x/",
        "source.azure.sas_token": "sv=1&sig=s",
    }
    assert azure_values(_Block(connection_string="UseDevelopmentStorage=true"), "dev") == {
        "source.azure.use_emulator": True
    }
    url_only = prefect_azure.AzureBlobStorageCredentials(account_url="https://a.blob.x/")
    with pytest.raises(ConfigError, match="connection string"):
        azure_values(url_only, "url")
    with pytest.raises(ConfigError, match="AccountName"):
        azure_values(_Block(connection_string="Foo=bar"), "odd")


class _Block:
    def __init__(self, **fields: object) -> None:
        self.__dict__.update(fields)


def test_aws_credentials_map_keys_region_and_endpoint():
    prefect_aws = pytest.importorskip("prefect_aws")
    block = prefect_aws.AwsCredentials(
        aws_access_key_id="AKID",
        aws_secret_access_key="s",
        region_name="eu-west-1",
        aws_client_parameters={"endpoint_url": "http://127.0.0.1:9000"},
    )
    assert aws_values(block) == {
        "source.s3.access_key_id": "AKID",
        "source.s3.secret_access_key": "s",
        "source.s3.region": "eu-west-1",
        "source.s3.endpoint": "http://127.0.0.1:9000",
    }


def test_a_missing_collection_says_which_extra(monkeypatch):
    import sys

    from mmingest.flows.credential_blocks import collection_block_values

    monkeypatch.setitem(sys.modules, "prefect_gcp", None)  # an import of it fails
    with pytest.raises(ConfigError, match=r"mmingest\[prefect-gcp\]"):
        collection_block_values("source.gcs", "gcp")
