"""What a workflow's notification says in an e-mail: its subject and plain-text body, made
from the payload a webhook would receive (message, scores, top reasons)."""

from __future__ import annotations

from typing import Any

SUBJECT_CHARS = 78  # a subject line longer than this gets folded by mail programs


def email_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The e-mail for a notification or nurture payload: `subject` (given, or the first line),
    `text` (the message, each score with its label, the top reasons) and `to`."""
    lines = [payload.get("message") or f"Nurture sequence {payload.get('sequence')}"]
    lines += [f"{name}: {s['value']:g}" + (f" ({s['label']})" if s["label"] else "")
              for name, s in payload.get("scores", {}).items()]
    lines += [f"+ {r['rule']}: {r['points']:+g}" for r in payload.get("top_reasons", [])]
    return {"subject": payload.get("subject") or lines[0][:SUBJECT_CHARS],
            "text": "\n".join(lines), "to": payload.get("to")}


__all__ = ["email_payload"]
