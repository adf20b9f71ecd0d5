"""The container path: Dockerfile, .dockerignore, docker-compose.yml and .env.example agree with the code."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from server.app import create_app
from server.auth import is_public
from server.drain import DEFAULT_DRAIN_SECONDS, IN_FLIGHT_SECONDS, STEP_SECONDS
from server.realtime import HEARTBEAT_SECONDS
from server.settings import PROJECT_ROOT, Settings
from tests.balancer import HAPROXY, HAPROXY_CONFIG, require_haproxy

# The instances behind the load balancer, in the order of its server lines.
APP_SERVICES = ("app", "app2")


def settings_env_names() -> set[str]:
    """Every NAME in a `read("NAME", ...)` call of Settings.from_env, from the source."""
    tree = ast.parse((PROJECT_ROOT / "server" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "read"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    instructions = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def compose_defaults(environment: dict[str, str]) -> dict[str, str]:
    """The environment compose passes when nothing is set: ${NAME:-default} -> default."""
    return {
        name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
        for name, value in environment.items()
    }


def test_settings_read_the_documented_variables():
    # Guards the AST walk above: if it found nothing, the subset checks below would be empty.
    assert {"DATABASE_URL", "JWT_SECRET", "PARKING_TIMEZONE", "HOST", "PORT"} <= settings_env_names()


# --- docker-compose.yml ------------------------------------------------------


def test_database_is_postgres_16_on_a_named_volume_with_a_readiness_check(compose):
    db = compose["services"]["db"]
    assert db["image"] == "postgres:16-alpine"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume, _, target = db["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"], "the data volume must be a named volume"


def test_app_starts_only_once_the_database_is_healthy(compose):
    for name in APP_SERVICES:
        assert compose["services"][name]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_app_environment_holds_only_variables_the_server_reads(compose):
    environment = compose["services"]["app"]["environment"]
    assert set(environment) <= settings_env_names()
    assert {"DATABASE_URL", "JWT_SECRET", "PARKING_TIMEZONE"} <= set(environment)


def test_app_defaults_point_at_the_db_service_and_pass_settings_validation(compose):
    defaults = compose_defaults(compose["services"]["app"]["environment"])
    # Raises SettingsError if, say, the development JWT secret were too short.
    settings = Settings.from_env(defaults)
    url = urlsplit(settings.database_url or "")
    assert url.scheme in ("postgres", "postgresql")
    assert (url.hostname, url.port) == ("db", 5432)
    # dbmate (lib/pq) asks for TLS unless told not to; the db service has none.
    assert "sslmode=disable" in url.query
    db_env = compose["services"]["db"]["environment"]
    assert (url.username, url.password) == (db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"])
    assert url.path == "/" + db_env["POSTGRES_DB"]


def test_app_mails_the_mailpit_service_whose_inbox_is_on_port_8025(compose):
    mailpit = compose["services"]["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert "127.0.0.1:8025:8025" in mailpit["ports"]
    settings = Settings.from_env(compose_defaults(compose["services"]["app"]["environment"]))
    # Mailpit takes SMTP on 1025, without TLS.
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("mailpit", 1025, "none")
    assert settings.base_url == "http://localhost:8080"


def test_env_example_lists_every_setting_with_a_comment():
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    assert set(env_example()) == settings_env_names()
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert lines[index - 1].startswith("# "), f"{line!r} needs a comment above it"


def test_env_example_values_are_the_built_in_defaults():
    assert Settings.from_env(env_example()) == Settings.from_env({})


def test_local_env_files_are_not_committed():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored


def docker_compose_command() -> list[str] | None:
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return command
    return None


@pytest.mark.skipif(
    docker_compose_command() is None,
    reason="neither the `docker compose` plugin nor `docker-compose` is installed",
)
def test_docker_compose_accepts_the_file():
    command = docker_compose_command()
    assert command is not None
    # YAML, the default output of both Compose v2 and Debian's v1 (1.29), which
    # has no --format option.
    result = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert set(yaml.safe_load(result.stdout)["services"]) == {"db", *APP_SERVICES, "lb", "mailpit"}


def test_the_second_instance_is_the_first_one_again(compose):
    # A YAML merge of app's service: a setting added to app reaches both.
    assert compose["services"]["app2"] == compose["services"]["app"]


def test_only_the_load_balancer_is_published(compose):
    assert all("ports" not in compose["services"][name] for name in APP_SERVICES)
    lb = compose["services"]["lb"]
    assert "127.0.0.1:8080:8080" in lb["ports"]
    assert set(lb["depends_on"]) == set(APP_SERVICES)


def test_the_load_balancer_is_the_official_haproxy_image_with_the_checked_in_config(compose):
    lb = compose["services"]["lb"]
    assert lb["image"].startswith("haproxy:")
    # Debian 12's haproxy, which the rolling-restart test runs, is 2.6: the same series.
    assert lb["image"] == "haproxy:2.6"
    assert lb["volumes"] == [
        f"./{HAPROXY_CONFIG.relative_to(PROJECT_ROOT)}:/usr/local/etc/haproxy/haproxy.cfg:ro"
    ]


def test_an_instance_gets_time_to_drain_before_compose_kills_it(compose):
    for name in APP_SERVICES:
        grace = compose["services"][name]["stop_grace_period"]
        assert grace.endswith("s")
        assert int(grace[:-1]) >= DEFAULT_DRAIN_SECONDS + IN_FLIGHT_SECONDS + STEP_SECONDS


# --- server/haproxy.cfg --------------------------------------------------------


@pytest.fixture(scope="module")
def haproxy_config() -> dict[str, list[list[str]]]:
    """Each section ("backend instances", ...) with its directives split into words."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for raw in HAPROXY_CONFIG.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(line.strip(), [])
        else:
            current.append(line.split())
    return sections


def directives(section: list[list[str]], *words: str) -> list[list[str]]:
    return [line for line in section if line[: len(words)] == list(words)]


def default(value: str) -> str:
    """The default of an environment reference, as HAProxy reads "${NAME-default}"."""
    match = re.fullmatch(r'"\$\{\w+-([^}]*)\}"', value)
    assert match, value
    return match.group(1)


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def test_haproxy_checks_readiness_on_a_public_route_the_app_serves(haproxy_config, settings):
    backend = haproxy_config["backend instances"]
    assert directives(backend, "option", "httpchk")
    ((*_, path),) = [line for line in directives(backend, "http-check", "send")]
    assert path == "/readyz" and is_public(path)
    assert directives(backend, "http-check", "expect") == [["http-check", "expect", "status", "200"]]
    paths = {resource.canonical for resource in create_app(settings).router.resources()}
    assert path in paths


def test_haproxy_takes_a_draining_instance_out_within_the_drain(haproxy_config):
    (checks,) = [line for line in directives(haproxy_config["backend instances"], "default-server") if "check" in line]
    interval = seconds(checks[checks.index("inter") + 1])
    fall = int(checks[checks.index("fall") + 1])
    # The first failing check comes at most one interval after SIGTERM, the
    # last of `fall` failures (fall - 1) intervals later: out before the drain ends.
    assert interval * fall < DEFAULT_DRAIN_SECONDS


def test_haproxy_sends_to_every_compose_instance_without_stickiness(haproxy_config, dockerfile):
    backend = haproxy_config["backend instances"]
    servers = [(line[1], default(line[2])) for line in directives(backend, "server")]
    port = dict(pair.split("=") for pair in " ".join(arguments_of(dockerfile, "ENV")).split())["PORT"]
    # Named as compose names them, so the status page and `docker compose` agree.
    assert servers == [(name, f"{name}:{port}") for name in APP_SERVICES]
    assert directives(backend, "balance") == [["balance", "leastconn"]]
    config = HAPROXY_CONFIG.read_text()
    assert not re.search(r"^\s*(cookie|stick|hash-type)\b", config, re.MULTILINE)


def test_haproxy_listens_where_compose_publishes_and_keeps_websockets_open(haproxy_config, compose):
    (bind,) = directives(haproxy_config["frontend parking"], "bind")
    published = {port.rsplit(":", 1)[1] for port in compose["services"]["lb"]["ports"]}
    assert default(bind[1]).lstrip(":") in published
    (tunnel,) = directives(haproxy_config["defaults"], "timeout", "tunnel")
    assert seconds(tunnel[2]) > 2 * HEARTBEAT_SECONDS
    # A refused connection (an instance that just stopped) goes to the other instance.
    assert directives(haproxy_config["defaults"], "option", "redispatch")


def test_haproxy_accepts_the_config():
    require_haproxy()
    result = subprocess.run(
        [str(HAPROXY), "-c", "-q", "-f", str(HAPROXY_CONFIG)],
        env={"APP1": "127.0.0.1:1", "APP2": "127.0.0.1:2", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


# --- Dockerfile and .dockerignore -------------------------------------------


def arguments_of(dockerfile: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile if instruction == keyword]


def test_image_runs_the_server_like_make_run(dockerfile):
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^run:.*\n\t\$\(PY\) -m server$", makefile, re.MULTILINE)
    assert json.loads(arguments_of(dockerfile, "CMD")[-1]) == ["python", "-m", "server"]


def test_image_installs_the_pinned_requirements_with_pip(dockerfile):
    assert any(
        re.fullmatch(r"pip install (--\S+ )*-r requirements\.txt", run)
        for run in arguments_of(dockerfile, "RUN")
    )


def test_image_runs_as_a_non_root_user(dockerfile):
    users = arguments_of(dockerfile, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    keywords = [instruction for instruction, _ in dockerfile]
    assert keywords.index("USER") < keywords.index("CMD")


def test_image_listens_on_all_interfaces_at_8080(dockerfile):
    env = " ".join(arguments_of(dockerfile, "ENV")).split()
    assert "HOST=0.0.0.0" in env
    assert arguments_of(dockerfile, "EXPOSE") == ["8080"]


def test_healthcheck_asks_readyz_with_python(dockerfile):
    (healthcheck,) = arguments_of(dockerfile, "HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2] and "/readyz" in command[2]


def test_dockerignore_keeps_local_state_and_tests_out_of_the_build():
    entries = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".data", ".git", ".env", "tests", "docs", "**/__pycache__"} <= entries
