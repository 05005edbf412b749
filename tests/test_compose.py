"""docker-compose.yml and the Dockerfile agree with credex/settings.py.

Static checks only: no database, no Docker. The compose file is parsed with PyYAML (which
resolves the x-app-env anchor and `<<` merge keys the same way Compose does), and
`${VAR:-default}` values are interpolated with an empty environment, as a plain
`docker compose up` would see them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_FILE = ROOT / "credex" / "settings.py"

REQUIRED_SERVICES = {"postgres", "redis", "minio", "mailpit", "migrate", "web", "worker", "beat"}
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "beat")
# Read by libraries rather than settings.py (boto3's default credential chain).
LIBRARY_ENV_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
REQUIRED_PRODUCTION_NAMES = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
)

SETTINGS_ENV_READ = re.compile(
    r"""(?:env_str|env_bool|env_int|env_list|os\.environ\.get|os\.getenv)\(\s*["']([A-Z0-9_]+)["']"""
    r"""|os\.environ\[\s*["']([A-Z0-9_]+)["']\s*\]"""
)
INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$` substitution."""
    environ = environ or {}

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        if op == ":-":
            return environ.get(name) or default
        if op == "-":
            return environ.get(name, default)
        return environ.get(name, "")

    return INTERPOLATION.sub(replace, value)


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service_env(compose: dict, service: str) -> dict[str, str]:
    """A service's `environment`, as a dict whether written as a mapping or a list."""
    env = compose["services"][service].get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        env = dict(pairs)
    return {str(k): interpolate(str(v)) if v is not None else "" for k, v in env.items()}


def settings_env_names() -> set[str]:
    source = SETTINGS_FILE.read_text()
    return {a or b for a, b in SETTINGS_ENV_READ.findall(source)}


def command_words(command) -> list[str]:
    return command.split() if isinstance(command, str) else [str(word) for word in command]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current:
            keyword, _, args = current.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


@pytest.fixture(autouse=True)
def _fast_hashers():
    """Overrides the autouse fixture of tests/conftest.py, which needs pytest-django's
    `settings`: these checks read files only, so they also run with `-p no:django`."""


def test_compose_defines_every_required_service():
    services = set(load_compose().get("services", {}))
    missing = REQUIRED_SERVICES - services
    assert not missing, f"docker-compose.yml is missing services: {sorted(missing)}"


def test_compose_env_names_are_read_by_settings():
    compose = load_compose()
    known = settings_env_names() | LIBRARY_ENV_NAMES
    assert "DATABASE_URL" in known, "could not find env reads in credex/settings.py"
    for service in APP_SERVICES:
        for name in service_env(compose, service):
            assert name in known, (
                f"service {service!r} sets {name}, which credex/settings.py never reads "
                f"(and it is not a library-read name in {sorted(LIBRARY_ENV_NAMES)})"
            )


def test_required_production_env_names_are_set_for_web_worker_and_beat():
    compose = load_compose()
    for service in LONG_RUNNING_APP_SERVICES:
        env = service_env(compose, service)
        for name in REQUIRED_PRODUCTION_NAMES:
            assert env.get(name), f"service {service!r} does not set {name}"


def test_migrate_gets_both_database_urls():
    env = service_env(load_compose(), "migrate")
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL"):
        assert env.get(name), f"service 'migrate' (db_bootstrap) does not set {name}"


def test_required_production_names_are_read_by_settings():
    names = settings_env_names()
    for name in REQUIRED_PRODUCTION_NAMES:
        assert name in names, f"credex/settings.py does not read required variable {name}"


def test_app_database_user_is_neither_the_owner_nor_postgres():
    compose = load_compose()
    for service in APP_SERVICES:
        env = service_env(compose, service)
        app_user = urlparse(env["DATABASE_URL"]).username
        owner_user = urlparse(env["DATABASE_OWNER_URL"]).username
        assert app_user, f"service {service!r}: DATABASE_URL has no user"
        assert owner_user, f"service {service!r}: DATABASE_OWNER_URL has no user"
        assert app_user != owner_user, (
            f"service {service!r}: DATABASE_URL and DATABASE_OWNER_URL both use {app_user!r}; "
            "the application role must not own the schema"
        )
        assert app_user != "postgres", (
            f"service {service!r}: DATABASE_URL connects as the 'postgres' superuser"
        )


def test_owner_url_matches_the_postgres_service_credentials():
    compose = load_compose()
    pg_env = service_env(compose, "postgres")
    for service in APP_SERVICES:
        owner = urlparse(service_env(compose, service)["DATABASE_OWNER_URL"])
        assert owner.username == pg_env.get("POSTGRES_USER"), (
            f"service {service!r}: DATABASE_OWNER_URL user {owner.username!r} is not the "
            f"postgres service's POSTGRES_USER {pg_env.get('POSTGRES_USER')!r}"
        )
        assert owner.password == pg_env.get("POSTGRES_PASSWORD"), (
            f"service {service!r}: DATABASE_OWNER_URL password differs from POSTGRES_PASSWORD"
        )
        assert owner.hostname == "postgres", (
            f"service {service!r}: DATABASE_OWNER_URL host is {owner.hostname!r}, not 'postgres'"
        )


def test_worker_and_beat_run_celery_with_the_credex_app():
    compose = load_compose()
    for service, subcommand in (("worker", "worker"), ("beat", "beat")):
        words = command_words(compose["services"][service].get("command", []))
        assert words and words[0] == "celery", f"service {service!r} does not run celery: {words}"
        joined = " ".join(words)
        assert re.search(r"(-A|--app)[ =]credex(\s|$)", joined), (
            f"service {service!r} does not pass -A credex to celery: {joined!r}"
        )
        assert subcommand in words, f"service {service!r} does not run `celery {subcommand}`"


def test_app_services_wait_for_migrate_to_complete():
    compose = load_compose()
    for service in LONG_RUNNING_APP_SERVICES:
        depends = compose["services"][service].get("depends_on") or {}
        condition = (
            depends.get("migrate", {}).get("condition") if isinstance(depends, dict) else None
        )
        assert condition == "service_completed_successfully", (
            f"service {service!r} does not wait for migrate to complete successfully"
        )


def test_migrate_runs_db_bootstrap():
    words = command_words(load_compose()["services"]["migrate"].get("command", []))
    assert words[-2:] == ["manage.py", "db_bootstrap"], (
        f"service 'migrate' should run `python manage.py db_bootstrap`, runs {words}"
    )


def test_dockerfile_runs_credex_wsgi_on_python_312_or_newer():
    instructions = dockerfile_instructions()
    stage = final_stage(instructions)
    base = stage[0][1].split()[0]
    match = re.fullmatch(r"(?:docker\.io/)?(?:library/)?python:(\d+)\.(\d+)\S*", base)
    assert match, f"Dockerfile final stage base image {base!r} is not an official python image"
    assert (int(match[1]), int(match[2])) >= (3, 12), (
        f"Dockerfile base image {base!r} is older than Python 3.12"
    )
    entry = " ".join(args for keyword, args in stage if keyword in {"CMD", "ENTRYPOINT"})
    assert "credex.wsgi" in entry, (
        f"Dockerfile CMD/ENTRYPOINT does not serve credex.wsgi: {entry!r}"
    )


def test_dockerfile_collectstatic_does_not_start_the_embedded_stack():
    instructions = dockerfile_instructions()
    runs = [args for keyword, args in instructions if keyword == "RUN" and "collectstatic" in args]
    assert runs, "Dockerfile never runs collectstatic"
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "STATIC_MANIFEST"):
        assert f"{name}=" in runs[0], f"Dockerfile collectstatic step does not set {name}"


def test_dockerfile_runs_as_a_non_root_user():
    users = [args for keyword, args in final_stage(dockerfile_instructions()) if keyword == "USER"]
    assert users, "Dockerfile final stage has no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"Dockerfile runs as {users[-1]!r}"
