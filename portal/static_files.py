"""Static files in production: content-hashed names (``css/app.3f9c1a2b7d4e.css``) handed out
by ``url_for('static', …)``, served by WhiteNoise with brotli and gzip variants and cached for
a year as immutable. The plain names stay served, with a short cache, for whatever reaches
them without ``url_for``.

The hashed tree is built once per content under ``STATIC_BUILD_DIR/<digest>/`` (by the first
process that starts, atomically, or beforehand with ``flask static-build``). With
``STATIC_HASHED`` off (the embedded default, tests) Flask serves ``portal/static`` as is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

ONE_YEAR = 31536000
HASH_LENGTH = 12
_HASHED = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.[A-Za-z0-9]+$")


class YearCachedWhiteNoise(WhiteNoise):
    FOREVER = ONE_YEAR  # WhiteNoise's own is ten years; a year is what browsers keep anyway


def hashed_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = relative.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot and "/" not in suffix else f"{relative}.{digest}"


def manifest_for(source: Path) -> dict[str, str]:
    """{"css/app.css": "css/app.<hash>.css", …} for every file under ``source``."""
    manifest = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        manifest[relative] = hashed_name(relative, path.read_bytes())
    return manifest


def build(source: Path, build_root: Path) -> Path:
    """The built tree for ``source``'s current content: plain and hashed copies, each with
    ``.br``/``.gz`` variants where compression pays, and ``manifest.json``. Safe when several
    processes start at once: each builds in its own temporary directory and the first rename
    wins."""
    manifest = manifest_for(source)
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
    target = build_root / digest
    if (target / "manifest.json").exists():
        return target
    build_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=build_root, prefix=".building-"))
    compressor = Compressor(quiet=True)
    for relative, hashed in manifest.items():
        for name in (relative, hashed):
            destination = work / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, destination)
            if compressor.should_compress(name):
                compressor.compress(str(destination))
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    work.chmod(0o755)
    try:
        os.rename(work, target)
    except OSError:  # another process finished first: same content, keep theirs
        shutil.rmtree(work, ignore_errors=True)
    return target


def register(app: Flask) -> None:
    app.cli.add_command(static_build)
    if not app.config.get("STATIC_HASHED"):
        return
    target = _build_somewhere(app)
    if target is None:
        return
    manifest = json.loads((target / "manifest.json").read_text())
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def _hashed_static(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.wsgi_app = YearCachedWhiteNoise(
        app.wsgi_app, root=str(target), prefix=app.static_url_path, max_age=3600,
        immutable_file_test=lambda path, url: bool(_HASHED.search(url)),
        add_headers_function=_nosniff)


def _build_somewhere(app: Flask) -> Path | None:
    """STATIC_BUILD_DIR, or the system's temporary directory when that is not writable (a
    read-only image); failing both, plain files served by Flask, with a warning."""
    source = Path(app.static_folder)
    for root in (Path(app.config["STATIC_BUILD_DIR"]),
                 Path(tempfile.gettempdir()) / "closeloop-static"):
        try:
            return build(source, root)
        except OSError as exc:
            logging.getLogger(__name__).warning("static files not built in %s: %r", root, exc)
    return None


def _nosniff(headers, path, url) -> None:
    # WhiteNoise answers before Flask's after_request hooks: the type header still holds.
    headers["X-Content-Type-Options"] = "nosniff"


@click.command("static-build")
@with_appcontext
def static_build() -> None:
    """Build the hashed, compressed static files now (an image build step may run this)."""
    app = current_app
    target = build(Path(app.static_folder), Path(app.config["STATIC_BUILD_DIR"]))
    click.echo(str(target))
