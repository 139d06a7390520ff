"""Every user mistake becomes a Diagnostic: a stable code, a plain sentence, a place and a hint.

Model files, imports and the command line all report through this one shape, so the CLI can
print them with context and a caret, and the API can return them as JSON.
"""

from leadscore.diagnostics.diagnostic import (
    Diagnostic,
    DiagnosticList,
    LeadscoreError,
    Location,
    did_you_mean,
)
from leadscore.diagnostics.render import render_diagnostics

__all__ = [
    "Diagnostic",
    "DiagnosticList",
    "LeadscoreError",
    "Location",
    "did_you_mean",
    "render_diagnostics",
]
