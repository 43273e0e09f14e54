"""The Athena Grafana plugin's $__rawTimeFrom/$__rawTimeTo formatting, step for step.

The plugin turns the Java-style pattern into a Go layout with viant/toolbox
DateFormatToLayout (each Java token replaced once, first occurrence, in a fixed order) and
formats the UTC time with Go's time.Format, which reads Go's reference-time tokens anywhere in
the layout. Both steps are reproduced here so that `SSS`, `hh`, `a`, `z`, `E` and literal text
give the very string the plugin does.
"""

from __future__ import annotations

from datetime import datetime
from typing import List, Tuple

# viant/toolbox DateFormatToLayout, in its order (strings.Replace(..., 1): first occurrence).
_TOOLBOX: Tuple[Tuple[str, str], ...] = (
    ("ddd", "_2"), ("dd", "02"), ("d", "2"), ("HH", "15"), ("hh", "03"), ("h", "3"),
    ("mm", "04"), ("m", "4"), ("ss", "05"), ("s", "5"), ("yyyy", "2006"), ("yy", "06"),
    ("y", "06"), ("SSS", "000"), ("a", "pm"), ("aa", "PM"), ("MMMM", "January"),
    ("MMM", "Jan"), ("MM", "01"), ("M", "1"), ("ZZ", "-0700"), ("Z", "-07"),
    ("zz:zz", "Z07:00"), ("zzzz", "Z0700"), ("z", "MST"), ("EEEE", "Monday"), ("E", "Mon"),
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def java_to_go_layout(pattern: str) -> str:
    for java, go in _TOOLBOX:
        pattern = pattern.replace(java, go, 1)
    return pattern


def _hour12(t: datetime) -> int:
    return t.hour % 12 or 12


# Go's reference-time tokens, longest first within each leading character (time.nextStdChunk).
_TOKENS: Tuple[Tuple[str, object], ...] = (
    ("January", lambda t: _MONTHS[t.month - 1]), ("Jan", lambda t: _MONTHS[t.month - 1][:3]),
    ("Monday", lambda t: _DAYS[t.weekday()]), ("Mon", lambda t: _DAYS[t.weekday()][:3]),
    ("MST", lambda t: "UTC"), ("2006", lambda t: f"{t.year:04d}"),
    ("002", lambda t: f"{t.timetuple().tm_yday:03d}"), ("01", lambda t: f"{t.month:02d}"),
    ("02", lambda t: f"{t.day:02d}"), ("03", lambda t: f"{_hour12(t):02d}"),
    ("04", lambda t: f"{t.minute:02d}"), ("05", lambda t: f"{t.second:02d}"),
    ("06", lambda t: f"{t.year % 100:02d}"), ("15", lambda t: f"{t.hour:02d}"),
    ("_2", lambda t: f"{t.day:2d}"), ("1", lambda t: str(t.month)), ("2", lambda t: str(t.day)),
    ("3", lambda t: str(_hour12(t))), ("4", lambda t: str(t.minute)),
    ("5", lambda t: str(t.second)), ("PM", lambda t: "PM" if t.hour >= 12 else "AM"),
    ("pm", lambda t: "pm" if t.hour >= 12 else "am"),
    ("Z07:00", lambda t: "Z"), ("Z0700", lambda t: "Z"), ("Z07", lambda t: "Z"),
    ("-07:00", lambda t: "+00:00"), ("-0700", lambda t: "+0000"), ("-07", lambda t: "+00"),
)


def go_format(t: datetime, layout: str) -> str:
    """Go's time.Format of a UTC time (the subset of tokens the toolbox produces)."""
    out: List[str] = []
    i = 0
    while i < len(layout):
        if layout[i] in ".," and i + 1 < len(layout) and layout[i + 1] in "09":
            j = i + 1
            while j < len(layout) and layout[j] == layout[i + 1]:
                j += 1
            if j == len(layout) or not layout[j].isdigit():
                digits = f"{t.microsecond:06d}{0:03d}"[: j - i - 1]
                if layout[i + 1] == "9":
                    digits = digits.rstrip("0")
                out.append((layout[i] + digits) if digits else "")
                i = j
                continue
        for chunk, render in _TOKENS:
            if layout.startswith(chunk, i):
                if chunk == "2006" or not (chunk == "2" and layout.startswith("2006", i)):
                    out.append(render(t))  # type: ignore[operator]
                    i += len(chunk)
                    break
        else:
            out.append(layout[i])
            i += 1
    return "".join(out)
