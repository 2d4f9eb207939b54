"""The bounded JSON decoder (config/jsonsafe.py): what it refuses, with which code, and that ordinary
JSON (including emoji written as surrogate pairs, NUL, and numbers at the edges) still parses."""

import json
import re
import time
from pathlib import Path

import pytest

from config.jsonsafe import MAX_DEPTH, JSONRefused, loads


def _refused(data, **kwargs) -> JSONRefused:
    with pytest.raises(JSONRefused) as caught:
        loads(data, **kwargs)
    return caught.value


def test_ordinary_json_parses_as_the_standard_library_does():
    text = json.dumps({"a": [1, 2.5, None, True], "b": {"c": "ꙮ 😀"}, "n": -(2**63 - 1)})
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)


def test_a_surrogate_pair_is_one_character_and_nul_is_kept_for_the_fields_to_judge():
    assert loads(r'{"t": "\ud83d\ude00", "n": "a\u0000b"}') == {"t": "😀", "n": "a\x00b"}


@pytest.mark.parametrize(
    "text",
    [r'"\ud800"', r'{"key": "\udfff"}', r'{"\ud800": 1}', r'["ok", ["\ud83d x"]]', '"\ud800"'],
    ids=["high", "low", "as-a-key", "half-a-pair-nested", "raw-surrogate-in-text"],
)
def test_a_lone_surrogate_is_refused_as_not_unicode(text):
    refused = _refused(text)
    assert (refused.code, refused.status) == ("invalid", 400)
    assert "lone surrogate" in refused.message


def test_utf8_encoded_surrogates_and_stray_bytes_are_refused():
    assert "UTF-8" in _refused(b'"\xed\xa0\x80"').message
    assert "UTF-8" in _refused(b'"\xff"').message


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_past_the_limit_is_refused_before_parsing(opener):
    closer = "]" if opener == "[" else "}"
    assert loads(opener * MAX_DEPTH + "1" + closer * MAX_DEPTH) is not None
    started = time.perf_counter()
    refused = _refused(opener * 5000 + "1" + closer * 5000)
    assert time.perf_counter() - started < 0.5
    assert refused.code == "invalid" and "nested too deeply" in refused.message


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"text": "[" * 5000, "escaped": '\\"[[[' * 100})
    assert loads(text)["text"] == "[" * 5000


@pytest.mark.parametrize(
    "text",
    ["1e400", "-1e400", "[NaN]", "Infinity", "9" * 400, "-" + "9" * 20, str(2**63), "9" * 5000],
    ids=["1e400", "-1e400", "nan", "infinity", "400-digits", "20-digits", "2**63", "5000-digits"],
)
def test_numbers_out_of_range_are_refused(text):
    refused = _refused(text)
    assert refused.code == "invalid"
    assert "out of range" in refused.message or "not a JSON number" in refused.message


def test_numbers_at_the_edges_parse():
    assert loads(str(2**63 - 1)) == 2**63 - 1
    assert loads("1.7e308") == 1.7e308
    assert loads("1e-400") == 0.0


def test_size_is_checked_before_anything_else():
    refused = _refused(b"[" * 2000, limit=1000)
    assert (refused.code, refused.status) == ("too_large", 413)
    assert "1,000 bytes" in refused.message


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", '{"a" 1}', "\ufeff{}"])
def test_malformed_json_is_invalid(text):
    assert _refused(text).code == "invalid"


def test_refusals_are_value_errors_for_callers_that_already_catch_those():
    assert issubclass(JSONRefused, ValueError)


def test_uvicorns_frame_cap_is_four_times_the_rooms_limit_wherever_uvicorn_is_started(settings):
    """A frame the room would take (32 K characters, up to 4 bytes each) is never cut by uvicorn first;
    anything far bigger is closed by uvicorn (1009) before it reaches Django."""
    root = Path(__file__).resolve().parents[2]
    for name in ("Procfile", "deploy/cluster.py", "bench/common.py"):
        text = (root / name).read_text()
        sizes = re.findall(r'--ws-max-size"?,?(?:\s*#[^\n]*)?\s*"?(\d+)', text)
        assert sizes == [str(4 * settings.LIVEMARKET_WS_MAX_FRAME)], name
