"""A real Dovecot IMAP server over TLS (Debian's dovecot-imapd, installed by .ci/run), started
once per session on free ports with a throw-away certificate; a fresh IMAP user per test; a
tenant's mailbox connected to it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from portal import mailin, uow
from portal.tenancy import activate

MAIL_UID = 5000  # any non-root uid: Dovecot refuses mail access as root
PASSWORD = "imap-test-secret"  # every user name signs in with it (static passdb)
CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
mail_uid = {uid}
mail_gid = {uid}
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {ports}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dovecot():
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    d = tempfile.mkdtemp(prefix="dovecot-")
    os.chmod(d, 0o755)  # uid 5000 must reach the homes below
    ports = _free_port()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", f"{d}/key.pem",
                    "-out", f"{d}/cert.pem"], check=True, capture_output=True)
    os.makedirs(f"{d}/home")
    os.chown(f"{d}/home", MAIL_UID, MAIL_UID)
    Path(d, "dovecot.conf").write_text(CONF.format(d=d, uid=MAIL_UID, ports=ports, password=PASSWORD))
    proc = subprocess.Popen(["dovecot", "-F", "-c", f"{d}/dovecot.conf"])
    import ssl

    context = ssl.create_default_context(cafile=f"{d}/cert.pem")
    deadline = time.monotonic() + 20
    while True:  # ready = the "* OK" greeting over TLS
        assert proc.poll() is None, Path(d, "dovecot.log").read_text()
        try:
            with socket.create_connection(("127.0.0.1", ports), 1) as raw, \
                    context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                if s.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    yield {"dir": d, "port": ports, "conf": f"{d}/dovecot.conf", "cafile": f"{d}/cert.pem"}
    proc.terminate()
    proc.wait(15)
    shutil.rmtree(d, ignore_errors=True)


class ImapUser:
    def __init__(self, server: dict, name: str, password: str):
        self.server, self.name, self.password = server, name, password

    def deliver(self, raw: bytes) -> None:
        """Put a message in the user's INBOX, as the mail server would on arrival."""
        subprocess.run(["doveadm", "-c", self.server["conf"], "save", "-u", self.name,
                        "-m", "INBOX"], input=raw, check=True, capture_output=True)

    def unseen(self) -> int:
        out = subprocess.run(["doveadm", "-c", self.server["conf"], "search", "-u", self.name,
                              "mailbox", "INBOX", "UNSEEN"], check=True, capture_output=True)
        return len(out.stdout.splitlines())

    def mark_all_unseen(self) -> None:
        subprocess.run(["doveadm", "-c", self.server["conf"], "flags", "remove", "-u",
                        self.name, "\\Seen", "mailbox", "INBOX", "ALL"], check=True,
                       capture_output=True)


@pytest.fixture
def imap_user(dovecot):
    name = f"u{uuid.uuid4().hex[:10]}"  # a fresh, empty mailbox (created on first use)
    return ImapUser(dovecot, name, PASSWORD)


@pytest.fixture
def intake_settings(app, monkeypatch, dovecot):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    monkeypatch.setitem(app.config, "MAIL_INTAKE_CA_FILE", dovecot["cafile"])


@pytest.fixture
def connected(db, intake_settings, imap_user, make_tenant):
    """A tenant with its mailbox connected to the test user's INBOX."""
    tenant = make_tenant()
    with activate(tenant):
        mailbox = mailin.connect(address="service@maker.example.com", host="127.0.0.1",
                                 port=imap_user.server["port"], username=imap_user.name,
                                 password=imap_user.password)
        uow.commit()
        mailbox_id = mailbox.id
    return tenant, mailbox_id, imap_user
