"""What the project may repeat back: values cut short, control characters escaped, credentials hidden.

Every message, note, table and JSON plan repeats user input somewhere (a name that is not valid,
an unknown key). A repeated value is one line however it was written, at most `LIMIT` characters,
and never a credential, whatever field it sits in: people paste tokens into tags, image URLs and
key names too.
"""

from __future__ import annotations

import re

LIMIT = 200
"""Longest value repeated whole in a message; longer ones are cut and their length is given."""

# Credential shapes, by what the user is told the value looks like. Each is specific enough not to
# match the ids, names, digests and GUIDs a config legitimately holds.
CREDENTIAL_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Docker Hub access token", re.compile(r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{10,}")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("a URL with credentials", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s@?#]+@")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("an Entra ID client secret", re.compile(r"\b[A-Za-z0-9_~.-]{3}[78]Q~[A-Za-z0-9_~.-]{31,34}")),
    (
        "an Azure storage key or SAS",
        re.compile(r"AccountKey=[A-Za-z0-9+/=]{20,}|[?&]sig=[A-Za-z0-9%+/=]{20,}"),
    ),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
# One literal every shape contains: a substring test rules most values out before any regex runs
# (a 1,000-rule config's strings are checked in 3 ms instead of 25). No test can tell an emptied
# marker from the original (the shapes still decide), hence the marks.
_MARKERS = (  # mutation: equivalent
    *("dckr_", "gh", "github_pat_", "glpat-", "eyJ", "://", "AKIA", "ASIA", "AIza", "xox", "npm_"),
    *("Q~", "AccountKey=", "sig=", "-----BEGIN"),
)
_MARKER = re.compile("|".join(map(re.escape, _MARKERS)))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Runs without spaces longer than this are cut in a message line: no real key or id gets there.
_LONG_RUN = re.compile(r"\S{300,}")


def credential_kind(text: str) -> str | None:
    """What kind of credential the text contains (`a GitHub token`), or None."""
    if not _MARKER.search(text):
        return None
    for kind, shape in CREDENTIAL_SHAPES:
        if shape.search(text):
            return kind
    return None


CREDENTIAL_FIX = (
    "this value is not secret and would be stored in plain text: put the credential in a key of its "
    "own with `pulumi config set --secret <name> <value>` and refer to it (`configKey`, "
    "`passwordConfigKey`), or, if it is not a credential, change it"
)
"""What to do about a credential found in a plain value: the one wording for it."""


def redact(text: str) -> str:
    """The text with every credential-shaped part replaced by what it looks like."""
    if not _MARKER.search(text):
        return text
    for kind, shape in CREDENTIAL_SHAPES:
        text = shape.sub(f"[hidden: {kind}]", text)
    return text


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shown(value: object, limit: int = LIMIT) -> str:
    """A user's value as a message repeats it: one line, cut at `limit`, credentials hidden."""
    text = redact(str(value))
    escaped = _escape(text)
    if len(escaped) <= limit:
        return escaped
    return f"{escaped[: limit - 1]}… ({len(text):,} characters)"


def one_line(text: str) -> str:
    """A whole message line made safe to print: the net under every message, note and problem."""
    text = _escape(redact(text))
    return _LONG_RUN.sub(lambda m: f"{m.group()[: LIMIT - 1]}… ({len(m.group()):,} characters)", text)
