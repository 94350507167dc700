"""A real IMAP server for tests: Dovecot (Debian's dovecot-imapd) on a free loopback port,
one passwd-file user, maildirs under a temporary directory."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.smtp_server import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "imap-test-password"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
first_valid_uid = 1
{users}{capability}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """`dovecot -F` with a config of its own; `capability` overrides what it advertises."""

    def __init__(self, capability: str | None = None):
        # Not under pytest's directory: that is private to its owner, and Dovecot's auth and
        # mail processes run as other users that must reach the passwd file and the maildirs.
        root = Path(tempfile.mkdtemp(prefix="digest-dovecot-"))
        root.chmod(0o755)
        self.root, self.port = root, free_port()
        for sub in ("run", "state", "home"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            # Dovecot refuses to keep mail as root: an unprivileged id owns the maildirs.
            uid = gid = 65534
            os.chown(root / "home", uid, gid)
            users = ""
        else:
            uid, gid = os.getuid(), os.getgid()
            name = pwd.getpwuid(uid).pw_name
            users = f"default_login_user = {name}\ndefault_internal_user = {name}\n"
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (root / "dovecot.conf").write_text(_CONFIG.format(
            root=root, uid=uid, gid=gid, port=self.port, users=users,
            capability=f"imap_capability = {capability}\n" if capability else ""))
        self.process: subprocess.Popen | None = None

    def start(self) -> Dovecot:
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                why = f"dovecot exited: {self.process.stderr.read().decode()}{self.log()}"
                self.stop()
                raise RuntimeError(why)
            try:
                with self.client():
                    return self
            except OSError:
                time.sleep(0.1)
        why = f"dovecot did not answer on port {self.port}: {self.log()}"
        self.stop()
        raise RuntimeError(why)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as imap:
            imap.create(f'"{folder}"')
            status, _ = imap.append(f'"{folder}"', None, None, raw)
            assert status == "OK"

    def messages(self, folder: str) -> list[bytes]:
        """Every message in `folder` not flagged deleted, as bytes."""
        with self.client() as imap:
            status, _ = imap.select(f'"{folder}"')
            if status != "OK":
                return []
            uids = imap.uid("SEARCH", None, "UNDELETED")[1][0].split()
            return [imap.uid("FETCH", uid, "(BODY.PEEK[])")[1][0][1] for uid in uids]
