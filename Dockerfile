# syntax=docker/dockerfile:1
# Closeloop's one image: web (the default command), worker and clock (compose.yaml overrides
# the command with the Procfile's). Dependencies come from requirements.lock only (exact
# versions, every file checked against its hash); the code runs from /app as a non-root user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtualenv with the locked dependencies ---------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

# -- runtime: the libraries WeasyPrint needs, Chinese fonts for the PDFs, the code ----------
FROM ${PYTHON_IMAGE} AS runtime
# Debian's stable packages take security fixes under the same names, so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libfontconfig1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 closeloop \
    && useradd --system --uid 10001 --gid closeloop --home-dir /app --shell /usr/sbin/nologin closeloop \
    && mkdir -p /app/instance \
    && chown closeloop:closeloop /app/instance

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INSTANCE_PATH=/app/instance \
    CLOSELOOP_ENV=production \
    PORT=8000

WORKDIR /app
# Code and migrations owned by root, read-only to the process (only instance/ is writable).
COPY pyproject.toml Procfile README.md ./
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
COPY migrations migrations
COPY portal portal
COPY customer customer
COPY internal internal
COPY jobs jobs

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# The Procfile's web command (worker: `flask --app portal worker`, clock: `flask --app portal clock`,
# release: `flask --app portal db upgrade`).
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "portal:create_app()"]
