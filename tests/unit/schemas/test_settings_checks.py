"""Configuration that explains itself: a broken or missing config file, misspelled setting names
at every level, provider keys in .env, and the origins doctor shows."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mmingest.flows.doctor import changed_settings
from mmingest.schemas.errors import ConfigError
from mmingest.schemas.settings import Settings
from mmingest.schemas.settings_sources import nested_suggestion


def test_a_toml_syntax_error_is_one_line_with_file_and_line(tmp_path):
    (tmp_path / "mmingest.toml").write_text('collection = "a"\n\nstate_dir = \n')
    with pytest.raises(ConfigError) as raised:
        Settings()
    message = str(raised.value)
    assert message.startswith("mmingest.toml: not valid TOML: ") and "line 3" in message
    assert "\n" not in message


def test_a_named_config_file_that_does_not_exist_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MMINGEST_CONFIG", str(tmp_path / "prod.toml"))
    with pytest.raises(ConfigError, match=r"prod.toml \(named by MMINGEST_CONFIG\) does not exist"):
        Settings()
    (tmp_path / "prod.toml").write_text('collection = "prod"\n')
    assert Settings().collection == "prod"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("env", "unknown setting MMINGEST_COLECTION (environment) (did you mean "
                "'MMINGEST_COLLECTION'?)"),
        (".env", "unknown setting MMINGEST_COLECTION (.env) (did you mean 'MMINGEST_COLLECTION'?)"),
        ("toml-key", "unknown setting colection = in mmingest.toml (did you mean 'collection ='?)"),
        ("toml-table", "unknown setting [embeder] in mmingest.toml (did you mean [embedder]?)"),
        ("argument", "unknown setting 'colection' (argument) (did you mean 'collection'?)"),
    ],
)  # fmt: skip
def test_misspelled_top_level_settings_are_errors_with_a_suggestion(
    monkeypatch, tmp_path, where, expected
):
    arguments = {}
    if where == "env":
        monkeypatch.setenv("MMINGEST_COLECTION", "x")
    elif where == ".env":
        (tmp_path / ".env").write_text("MMINGEST_COLECTION=x\n")
    elif where == "toml-key":
        (tmp_path / "mmingest.toml").write_text('colection = "x"\n')
    elif where == "toml-table":
        (tmp_path / "mmingest.toml").write_text('[embeder]\nmodel = "x"\n')
    else:
        arguments = {"colection": "x"}
    with pytest.raises(ConfigError) as raised:
        Settings(**arguments)
    assert str(raised.value) == expected


def test_names_that_are_not_settings_are_left_alone(monkeypatch):
    monkeypatch.setenv("MMINGEST_TEST_QDRANT_URL", "http://localhost:6333")
    monkeypatch.setenv("MMINGEST_EMBEDDER__BATCH_SIZE", "8")
    assert Settings().embedder.batch_size == 8


def test_misspelled_nested_keys_name_the_key_meant(monkeypatch):
    monkeypatch.setenv("MMINGEST_STORE__PAHT", "x")
    with pytest.raises(ValidationError) as raised:
        Settings()
    (error,) = raised.value.errors()
    assert error["type"] == "extra_forbidden"
    assert nested_suggestion(Settings, tuple(error["loc"])) == " (did you mean 'path'?)"
    assert nested_suggestion(Settings, ("ingest", "batchsize")) == " (did you mean 'batch_size'?)"
    assert nested_suggestion(Settings, ("embedder", "cohere", "api_kye")) == (
        " (did you mean 'api_key'?)"
    )


def test_provider_key_fallbacks_are_read_from_dotenv(monkeypatch, tmp_path):
    monkeypatch.delenv("CO_API_KEY", raising=False)
    (tmp_path / ".env").write_text("MMINGEST_EMBEDDER__KIND=cohere\nCO_API_KEY=from-dotenv\n")
    assert Settings().embedder.api_key.get_secret_value() == "from-dotenv"
    monkeypatch.setenv("CO_API_KEY", "from-process")  # the process environment wins
    assert Settings().embedder.api_key.get_secret_value() == "from-process"


def test_changed_settings_say_where_each_value_came_from(monkeypatch, tmp_path):
    (tmp_path / "mmingest.toml").write_text('collection = "a"\n[ingest]\nbatch_size = 7\n')
    (tmp_path / ".env").write_text("MMINGEST_TENANT=acme\n")
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MMINGEST_EMBEDDER__KIND", "cohere")
    monkeypatch.setenv("MMINGEST_EMBEDDER__API_KEY", "sk-secret-value")
    changed = {item.name: item for item in changed_settings(Settings())}
    assert changed["collection"].origin == "mmingest.toml"
    assert changed["ingest.batch_size"].value == 7
    assert changed["ingest.batch_size"].origin == "mmingest.toml"
    assert changed["tenant"].origin == "MMINGEST_TENANT in .env"
    assert changed["state_dir"].origin == "MMINGEST_STATE_DIR in the environment"
    assert changed["store.path"].origin == "derived"
    assert changed["embedder.kind"].origin == "MMINGEST_EMBEDDER__KIND in the environment"
    assert "sk-secret-value" not in repr(changed)
    assert "ingest.decode_workers" not in changed and "sync.max_delete_fraction" not in changed
