"""How the command line prints JSON: always valid JSON, whatever numbers the data holds."""

from __future__ import annotations

import json
import math

from leadscore.cli.output import print_json


def _strict(text: str):
    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_output_never_holds_infinity_or_nan(capsys):
    print_json({"fit": math.inf, "scores": [-math.inf, math.nan, 1.5], "nested": {"x": (math.nan,)},
                "count": 3, "text": "inf"})
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    assert _strict(out) == {"fit": None, "scores": [None, None, 1.5], "nested": {"x": [None]},
                            "count": 3, "text": "inf"}
