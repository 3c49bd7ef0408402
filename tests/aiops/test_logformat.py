"""``deepfab.aiops.logformat``: the Loghub header syntax on hand-made lines and on the shipped logs.

Run: .venv/bin/python -m pytest tests/aiops/test_logformat.py -q -p no:cacheprovider
"""
from __future__ import annotations

import pytest

from deepfab.aiops.logformat import LOGHUB_FORMATS, LogFormat, format_regex
from deepfab.data import load_loghub
from deepfab.data.loghub import LOGHUB_SYSTEMS
from deepfab.errors import UsageError


def test_a_format_splits_a_line_into_named_fields():
    fmt = LogFormat("<Date> <Time> <Level> <Component>: <Content>")
    assert fmt.headers == ["Date", "Time", "Level", "Component", "Content"]
    got = fmt.split("081109 203615 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38 terminating")
    assert got == {"Date": "081109", "Time": "203615", "Level": "INFO", "Component": "dfs.DataNode$PacketResponder",
                   "Content": "PacketResponder 1 for block blk_38 terminating"}
    # runs of spaces between fields, a colon inside the content, trailing blanks and a Windows line end
    got = fmt.split("081109   203615 WARN x.Y: key: value: more  \r\n")
    assert got["Level"] == "WARN" and got["Component"] == "x.Y" and got["Content"] == "key: value: more"


def test_regex_fragments_optional_fields_and_bare_messages():
    linux = LogFormat(LOGHUB_FORMATS["Linux"])
    a = linux.split("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown")
    b = linux.split("Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)")
    c = linux.split("Jul  1 09:00:55 combo kernel: Linux version 2.6.5")
    assert (a["Component"], a["PID"], a["Content"]) == ("sshd(pam_unix)", "19939", "check pass; user unknown")
    assert b["PID"] == "21416" and b["Content"].startswith("session opened")
    assert (c["Component"], c["PID"], c["Date"]) == ("kernel", "", "1")        # the optional [PID] is absent
    bare = LogFormat("<Content>")
    assert bare.split("  anything at all: 1 2 3 \n") == {"Content": "anything at all: 1 2 3"}
    apache = LogFormat(r"\[<Time>\] \[<Level>\] <Content>")
    got = apache.split("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties")
    assert got["Time"] == "Sun Dec 04 04:47:44 2005" and got["Level"] == "notice"


def test_a_line_that_does_not_match_is_kept_and_counted():
    fmt = LogFormat("<Date> <Time> <Level> <Component>: <Content>")
    fields, ok = fmt.fields("garbage without the layout")
    assert not ok and fields == {"Date": "", "Time": "", "Level": "", "Component": "",
                                 "Content": "garbage without the layout"}
    assert fmt.fields("1 2 INFO c: fine")[1] and fmt.unmatched == 1


@pytest.mark.parametrize("bad, words", [
    ("<Date> <Time> <Level>", "<Content>"),
    ("<Date> <Date> <Content>", "used twice"),
    ("<LineId> <Content>", "reserved"),
    ("<my field> <Content>", "not a name"),
    ("[(<Time> <Content>", "not a valid pattern"),
    ("", "a log format is a string"),
])
def test_bad_formats_are_one_line_usage_errors(bad, words):
    with pytest.raises(UsageError, match=words) as err:
        format_regex(bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("system", LOGHUB_SYSTEMS)
def test_the_shipped_logs_split_as_their_ground_truth(system):
    lg = load_loghub(system)
    fmt = LogFormat(LOGHUB_FORMATS[system])
    truth = {h: [v.strip() for v in lg.structured[h]] for h in fmt.headers}
    for i, line in enumerate(lg.raw):
        fields, ok = fmt.fields(line)
        assert ok, line
        assert all(fields[h] == truth[h][i] for h in fmt.headers), (system, i, fields)
