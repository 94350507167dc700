"""Hostile input to normalise_email: it gives one canonical address or BadAddress, nothing else."""

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from digest.subscribers.addresses import BadAddress, normalise_email

# Pieces people type, files carry and attackers try: separators, quotes, brackets, control
# and format characters, non-ASCII letters (some change length or form when lower-cased).
PIECES = st.sampled_from([
    "a", "Z", "0", ".", "..", "@", "@@", "+", "-", "_", "'", '"', " ", "\t", "\r\n", "\x00",
    "\x1b]52;c;SGk=\x07", "\x85", "\u00a0", "\u200b", "\u202e", "\u2028", "<", ">", "(", ")",
    "[", "]", ",", ";", ":", "\\", "ü", "ß", "İ", "K", "Ω", "ﬁ", "é", "e\u0301", "Ⅻ", "例", "xn--",
    "example.org", "bücher.de", "EXAMPLE.COM", "localhost", "127.0.0.1", "[127.0.0.1]",
])
HOSTILE = st.one_of(
    st.text(max_size=80),
    st.lists(PIECES, max_size=12).map("".join),
    st.tuples(st.lists(PIECES, max_size=6).map("".join), st.emails(),
              st.lists(PIECES, max_size=6).map("".join)).map("".join),
    st.emails().map(str.upper),
)


def _is_control_or_space(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp", "Zs")


@settings(max_examples=150, deadline=None)
@given(HOSTILE)
@example("Ann@Example.ORG")
@example("İ@example.org")            # lower-cases to two code points
@example("ﬁ@example.org")            # a ligature, NFKC-folded by email-validator
@example(" x@example.org\x85")
def test_an_address_comes_out_canonical_or_is_refused(raw):
    try:
        address = normalise_email(raw)
    except BadAddress as exc:
        assert str(exc)  # the reason, for the person or the import report
        return
    assert not any(_is_control_or_space(c) for c in address), address
    local, at, domain = address.rpartition("@")
    assert local and at and domain and "@" not in domain
    assert normalise_email(address) == address  # idempotent: one spelling per person
