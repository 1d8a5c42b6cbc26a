"""Typed access to the environment: every setting is read once, here."""

import os
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """Where the embedded default keeps its SQLite files, uploads and secret key."""
    path = Path(env_str("SVARDESK_DATA_DIR", str(Path.cwd() / "data"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(data: Path) -> str:
    """SECRET_KEY from the environment, or one generated once and kept in the data folder."""
    configured = env_str("SECRET_KEY") or env_str("SVARDESK_SECRET_KEY")
    if configured:
        return configured
    key_file = data / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
