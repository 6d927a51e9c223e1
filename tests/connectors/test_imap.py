"""IMAP pull against a real Dovecot started by the test (non-daemon, free port, config and maildir in a temp dir)."""
from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.imap import ImapConnector, ImapSettings
from tests.connectors.conftest import fixture_bytes
from tests.support.processes import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
USER, PASSWORD = "support@acme.example", "imap-test-pw"
pytestmark = pytest.mark.skipif(DOVECOT is None, reason="dovecot is not installed (apt-get install dovecot-imapd)")


@dataclass
class Dovecot:
    port: int
    root: Path

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def settings(self, **overrides: object) -> ImapSettings:
        values: dict[str, object] = {"host": "127.0.0.1", "port": self.port, "username": USER, "password": PASSWORD,
                                     "ssl": False, "starttls": False, "mailbox": "Support",
                                     "company_domains": ["acme.example"]}
        values.update(overrides)
        return ImapSettings(**values)  # type: ignore[arg-type]

    def append(self, raw: bytes, mailbox: str = "Support") -> None:
        client = self.client()
        try:
            client.create(mailbox)  # NO when it exists: fine
            status, data = client.append(mailbox, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert status == "OK", data
        finally:
            client.logout()


def dovecot_config(root: Path, port: int) -> tuple[str, int, int]:
    if os.geteuid() == 0:
        # Dovecot refuses root for login and mail processes: use the package's unprivileged users.
        internal, group, login = "dovecot", "dovecot", "dovenull"
        mail = pwd.getpwnam("dovecot")
        uid, gid = mail.pw_uid, mail.pw_gid
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        uid, gid = os.geteuid(), os.getegid()
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {min(uid, 100)}
first_valid_gid = {min(gid, 100)}
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""", uid, gid


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="omnicopilot-dovecot-"))
    root.chmod(0o755)  # the unprivileged login and mail users must reach their sockets and maildir
    port = free_port()
    config, uid, gid = dovecot_config(root, port)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(root / "home", uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(config)
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    server = Dovecot(port=port, root=root)
    deadline = time.time() + 300
    while True:
        if proc.poll() is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"dovecot exited with {proc.returncode}: {output}")
        try:
            server.client().logout()
            break
        except (OSError, imaplib.IMAP4.error):
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


def message(number: int, *, sender: str = "dana@example.com", to: str = "support@acme.example") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: Order A-10293 update {number}\n"
            f"Date: Mon, 02 Nov 2026 14:0{number}:00 +0000\nMessage-ID: <imap-{number}@example.com>\n"
            f"Content-Type: text/plain; charset=utf-8\n\nMessage number {number} about A-10293.\n").encode()


def test_pull_fetches_new_messages_once(dovecot: Dovecot) -> None:
    connector = ImapConnector()
    settings = dovecot.settings()
    dovecot.append(message(1))
    dovecot.append(fixture_bytes("reply_quoted_cp1252.eml"))
    records, cursor = connector.pull(settings, None)
    assert [r["external_id"] for r in records] == ["imap-1@example.com", "reply-2@example.com"]
    assert records[1]["text"].endswith("Can you refund the difference?")  # parsed like an .eml import
    assert records[0]["metadata"]["imap_uid"] == 1
    validity, _, last = cursor.partition(":")  # type: ignore[union-attr]
    assert validity.isdigit() and last == "2"

    again, same_cursor = connector.pull(settings, cursor)
    assert again == [] and same_cursor == cursor  # idempotent: nothing new, nothing fetched

    dovecot.append(message(3, sender="sam@acme.example", to="dana@example.com"))
    new, newer = connector.pull(settings, cursor)
    assert [(r["external_id"], r["direction"]) for r in new] == [("imap-3@example.com", "outbound")]
    assert new[0]["customer"]["email"] == "dana@example.com"
    assert newer == f"{validity}:3"

    client = dovecot.client()
    client.select("Support", readonly=True)
    status, data = client.uid("SEARCH", None, "UNSEEN")
    client.logout()
    assert data[0].split() == [b"1", b"2", b"3"]  # BODY.PEEK: people still see them as unread


def test_batch_size_advances_the_cursor_gradually(dovecot: Dovecot) -> None:
    for number in range(1, 6):
        dovecot.append(message(number))
    connector, settings = ImapConnector(), dovecot.settings(batch_size=2)
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        records, cursor = connector.pull(settings, cursor)
        seen += [r["external_id"] for r in records]
    assert seen == [f"imap-{n}@example.com" for n in range(1, 6)]


def test_uidvalidity_change_reads_the_mailbox_again(dovecot: Dovecot) -> None:
    connector, settings = ImapConnector(), dovecot.settings()
    dovecot.append(message(1))
    dovecot.append(message(2))
    _, cursor = connector.pull(settings, None)
    old_validity = cursor.partition(":")[0]  # type: ignore[union-attr]

    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
    client = dovecot.client()
    assert client.delete("Support")[0] == "OK"
    client.logout()
    dovecot.append(message(7))
    records, new_cursor = connector.pull(settings, cursor)
    assert new_cursor.partition(":")[0] != old_validity  # type: ignore[union-attr]
    # The old cursor said UID 2; in the renumbered mailbox the only message is UID 1, and it is read.
    assert [r["external_id"] for r in records] == ["imap-7@example.com"]


def test_wrong_password_fails_loudly(dovecot: Dovecot) -> None:
    with pytest.raises(imaplib.IMAP4.error):
        ImapConnector().pull(dovecot.settings(password="nope"), None)


def test_pull_once_through_services(dovecot: Dovecot, api) -> None:  # noqa: ANN001
    """The core's pull path: settings via the API, pull_once ingests, the cursor is stored, a rerun adds nothing."""
    from copilot.integrations.pull import pull_once

    services = api.client.app.state.services
    resp = api.client.put("/v1/connectors/imap", headers=api.auth("acme", "admin"),
                          json=dovecot.settings().model_dump(mode="json") | {"password": PASSWORD})
    assert resp.status_code == 200, resp.text
    assert resp.json()["settings"]["password"] == "********"
    dovecot.append(message(1))
    first = pull_once(services, tenant_id="acme", name="imap")
    assert (first["fetched"], first["created"]) == (1, 1)
    second = pull_once(services, tenant_id="acme", name="imap")
    assert (second["fetched"], second["created"]) == (0, 0) and second["cursor"] == first["cursor"]
    customer = api.resolve("acme", "email:dana@example.com")
    assert customer["customer_id"]
