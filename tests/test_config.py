import pytest

from supportbot.config import DEFAULT_SECRET_KEY, ConfigError, load_settings


def test_defaults_work_with_nothing_set(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "APP_ENV", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.redis_url == ""
    assert settings.secret_key == DEFAULT_SECRET_KEY
    assert settings.allowed_hosts == ["localhost", "127.0.0.1"]
    assert 0 <= settings.confidence_threshold <= 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCESS_TOKEN_MINUTES", "soon"),
        ("ACCESS_TOKEN_MINUTES", "0"),
        ("REFRESH_TOKEN_DAYS", "-1"),
        ("CONFIDENCE_THRESHOLD", "1.5"),
        ("SMTP_PORT", "70000"),
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "just-a-filename.db"),
        ("APP_ENV", "staging"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert name in str(error.value)
    assert "Traceback" not in str(error.value)


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(_env_file=None)


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY: must be at least 32"):
        load_settings(_env_file=None)


def test_production_accepts_a_real_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert load_settings(_env_file=None).is_production


def test_allowed_hosts_is_a_comma_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "help.example.com, 10.0.0.5 ,")
    assert load_settings(_env_file=None).allowed_hosts == ["help.example.com", "10.0.0.5"]


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("CONFIDENCE_THRESHOLD", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("CONFIDENCE_THRESHOLD=0.8\n")
    assert load_settings(_env_file=env_file).confidence_threshold == 0.8


def test_env_example_documents_every_setting_and_loads(monkeypatch):
    from pathlib import Path

    from supportbot.config import Settings

    example = Path(__file__).resolve().parent.parent / ".env.example"
    documented = {line.split("=", 1)[0] for line in example.read_text().splitlines()
                  if line and not line.startswith("#")}
    assert documented == {name.upper() for name in Settings.model_fields}
    for name in documented:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=example)
    assert settings == load_settings(_env_file=None)  # the example shows the defaults


def test_int8_vectors_with_the_torch_backend_name_both_settings(monkeypatch):
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("EMBEDDING_PRECISION", "int8")
    with pytest.raises(ConfigError, match="EMBEDDING_PRECISION=int8 .*EMBEDDING_BACKEND=torch"):
        load_settings(_env_file=None)
    monkeypatch.setenv("EMBEDDING_PRECISION", "float32")
    assert load_settings(_env_file=None).embedding_backend == "torch"
    # int8 is the default: torch without EMBEDDING_PRECISION means torch's own float32
    monkeypatch.delenv("EMBEDDING_PRECISION")
    assert load_settings(_env_file=None).embedding_precision == "float32"
    monkeypatch.delenv("EMBEDDING_BACKEND")
    assert load_settings(_env_file=None).embedding_precision == "int8"
    monkeypatch.setenv("EMBEDDING_BACKEND", "auto")
    monkeypatch.setenv("EMBEDDING_PRECISION", "int8")
    assert load_settings(_env_file=None).embedding_precision == "int8"
    monkeypatch.setenv("EMBEDDING_PRECISION", "int4")
    with pytest.raises(ConfigError, match="EMBEDDING_PRECISION"):
        load_settings(_env_file=None)
