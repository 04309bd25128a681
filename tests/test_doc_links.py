"""Every link between the README and the docs reaches a file that exists, and every ``#anchor`` a
heading that is there: a heading renamed (a detector version in its title) must not leave the
contents line or another page pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> slug("Known limitations (detector 0.6.29)")
    'known-limitations-detector-0629'
    >>> slug("`railcount count`: one scene")
    'railcount-count-one-scene'
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def outside_fences(text: str) -> list[str]:
    """The lines of ``text`` that are not inside a fenced code block."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def anchors(page: Path) -> set[str]:
    """Every heading anchor of ``page``, repeats numbered as GitHub numbers them (``-1``, ``-2``)."""
    seen: dict[str, int] = {}
    out = set()
    for line in outside_fences(page.read_text(encoding="utf-8")):
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path) -> list[str]:
    """The relative link targets of ``page`` (web addresses and mail left out)."""
    found = []
    for line in outside_fences(page.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if not re.match(r"[a-z]+:", target):
                found.append(target)
    return found


def test_slug_follows_githubs_rule() -> None:
    assert slug("Known limitations (detector 0.6.29)") == "known-limitations-detector-0629"
    assert slug("Read by both ends, since detector 0.6.29 (session 74)") == (
        "read-by-both-ends-since-detector-0629-session-74"
    )
    assert slug("Local equalisation (CLAHE)") == "local-equalisation-clahe"


def test_a_renamed_heading_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Limits (detector 0.6.29)\n\nSee [limits](#limits-detector-0627).\n")
    (target,) = links(page)
    assert target.lstrip("#") not in anchors(page)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_reaches_its_file_and_heading(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest}")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no such heading in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)
