"""How `tactful check` prints what it found: text, JSON, or GitHub Actions annotations.

Paths, reasons (a model's rationale, which the checked text can steer) and messages are
made printable in every format: a terminal or a CI log shows them, never obeys them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TextIO

from tactful.check.findings import Finding, Unjudged
from tactful.io.console import json_safe, printable
from tactful.textclip import plural

FORMATS = ("text", "json", "github")


@dataclass
class Summary:
    files: int = 0
    units: int = 0  # units sent to the model (after ignores, --diff and empty files)
    fail_level: str = "low"
    baselined: int = 0  # findings left out because the baseline knows them
    truncated: int = 0  # units judged by their start only (task.long_text = "truncate")
    findings: list[Finding] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)

    @property
    def failing(self) -> int:
        return sum(f.failing for f in self.findings)

    def sentence(self) -> str:
        found = plural(len(self.findings), "finding")
        parts = [f"{found} ({self.failing} at or above fail level {self.fail_level})"]
        if self.baselined:
            parts.append(f"{self.baselined} more known to the baseline")
        if self.unjudged:
            parts.append(f"{plural(len(self.unjudged), 'unit')} not judged")
        if self.truncated:
            parts.append(f"{plural(self.truncated, 'unit')} truncated to task.max_chars")
        return f"tactful: {', '.join(parts)}; {plural(self.units, 'unit')} judged in {plural(self.files, 'file')}"


def finding_message(finding: Finding) -> str:
    """``SLUG [score] reason``: the part after ``path:line:col:``."""
    score = f" [{finding.score:.2f}]" if finding.score is not None else ""
    return f"{finding.slug}{score} {finding.reason}"


def write_report(summary: Summary, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        _json(summary, out)
        return
    for finding in summary.findings:
        if fmt == "github":
            level = "error" if finding.failing else "warning"
            out.write(_annotation(level, finding.path, finding.line, finding.col, f"tactful {finding.slug}", finding_message(finding)))
        else:
            out.write(printable(f"{finding.path}:{finding.line}:{finding.col}: {finding_message(finding)}") + "\n")
    for unit in summary.unjudged:
        if fmt == "github":
            out.write(_annotation("error", unit.path, unit.line, unit.col, "tactful: not judged", unit.message))
        else:
            out.write(printable(f"{unit.path}:{unit.line}:{unit.col}: error: {unit.message}") + "\n")
    out.write(summary.sentence() + "\n")


def _json(summary: Summary, out: TextIO) -> None:
    document = {
        "findings": [f.to_json() for f in summary.findings],
        "unjudged": [asdict(u) for u in summary.unjudged],
        "summary": {
            "files": summary.files, "units": summary.units, "findings": len(summary.findings),
            "failing": summary.failing, "fail_level": summary.fail_level, "baselined": summary.baselined,
            "truncated": summary.truncated,
        },
    }
    out.write(json_safe(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")


def _annotation(level: str, path: str, line: int, col: int, title: str, message: str) -> str:
    # Workflow commands: data escapes %, CR, LF; properties also : and , (actions/toolkit).
    props = f"file={_prop(path)},line={line},col={col},title={_prop(title)}"
    return f"::{level} {props}::{_data(message)}\n"


def _data(text: str) -> str:
    # printable has written CR and LF as escapes already: a finding stays one line.
    return printable(text).replace("%", "%25")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
