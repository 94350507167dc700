"""`digest demo` on the embedded defaults: a fresh SQLite database and an outbox directory."""

import subprocess
import sys
from email import message_from_bytes, policy

from tests.workers import digest_env


def run_demo(tmp_path):
    env = digest_env(database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                     outbox_dir=tmp_path / "outbox", data_dir=tmp_path / "var")
    result = subprocess.run([sys.executable, "-m", "digest.cli", "demo"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_sends_each_confirmed_subscriber_one_wellformed_message_once(tmp_path):
    first = run_demo(tmp_path)
    assert "30 stories stored" in first
    outbox = tmp_path / "outbox"
    messages = [message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted(outbox.glob("*.eml"))]
    # 14 active readers of the morning list, 11 of the tech list (see digest/sample).
    assert len(messages) == 25
    assert len({m["Message-ID"] for m in messages}) == 25
    recipients = {m["To"].addresses[0].addr_spec for m in messages}
    assert not recipients & {"pending.reader@example.com", "still.deciding@example.com",
                             "gone.away@example.com", "left.earlier@example.com"}
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe"].startswith("<https://")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Date"].datetime.tzinfo is not None
        assert message["From"].addresses[0].addr_spec == "digest@example.com"
        html = message.get_body(("html",)).get_content()
        assert '<td class="story" style="' in html
        assert message.get_body(("plain",)).get_content().strip()
    assert (tmp_path / "var" / "preview" / "edition-1.html").exists()

    second = run_demo(tmp_path)
    assert "nothing sent again" in second
    assert len(list(outbox.glob("*.eml"))) == 25


def test_the_demo_refuses_a_production_configuration(tmp_path):
    env = digest_env(environment="production", database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                     outbox_dir=tmp_path / "outbox", data_dir=tmp_path / "var")
    result = subprocess.run([sys.executable, "-m", "digest.cli", "demo"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "DIGEST_ENVIRONMENT is production" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "demo.db").exists() and not (tmp_path / "outbox").exists()
