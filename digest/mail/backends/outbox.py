"""Writes each message to an .eml file: the embedded default, readable by any mail client."""

from __future__ import annotations

import os
import re
from pathlib import Path

from digest.mail.backends.base import MailBackend
from digest.mail.message import OutgoingMessage


class OutboxBackend(MailBackend):
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: OutgoingMessage) -> None:
        name = re.sub(r"[^A-Za-z0-9.@_-]", "", message.message_id) + ".eml"
        final = self.directory / name
        partial = final.with_suffix(".eml.part")
        partial.write_bytes(message.data)
        # Rename is atomic: a reader never sees half a message.
        os.replace(partial, final)
