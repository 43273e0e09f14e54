"""The HTML report benchmark's section of results.md: verdicts from the numbers, replaced in
place on a rerun and carried over when the scale benchmark rewrites the file."""

from benchmarks import html_report


def results(build=(3.1, 2.9, 3.4), page_bytes=90_000, js_bytes=1_283_286, render=(0.8, 0.7)):
    r90 = {"report_days": 90, "build_s": list(build), "files": 32,
           "largest_file": "report_files/plotly-finance.min.js", "largest_file_bytes": js_bytes,
           "largest_page": "report_files/ABCD.html", "largest_page_bytes": page_bytes,
           "total_bytes": js_bytes + 31 * page_bytes,
           "file_sizes": {"report.html": 40_000, "report_files/plotly-finance.min.js": js_bytes},
           "loads": {"report.html": {"render_s": [0.1, 0.12], "process_s": [0.9, 1.0],
                                     "js_errors": ["[]"]},
                     "report_files/ABCD.html": {"render_s": list(render),
                                                "process_s": [1.5, 1.6], "js_errors": ["[]"]}}}
    return {"tickers": 30, "days": 90, "when": "2026-12-01 12:00 UTC", "machine": "x86_64",
            "ranges": [r90]}


def test_section_judges_each_target_from_the_best_run():
    text = html_report.section(results())
    assert "| 30 tickers x 90 days builds in < 5 s | 2.90 s (runs: 3.10, 2.90, 3.40) | PASS |" \
        in text
    assert ("| largest page < 2 MB (90-day report) | report_files/ABCD.html: 0.090 MB | PASS |"
            in text)
    assert ("| largest file < 2 MB (90-day report) | report_files/plotly-finance.min.js: 1.283 MB"
            " | PASS |") in text
    assert "FAIL" not in text
    assert ("| loads in headless Chromium < 3 s (90-day report, report_files/ABCD.html) | "
            "0.70 s drawn") in text


def test_a_slow_build_fails_its_target():
    text = html_report.section(results(build=(6.0, 5.5)))
    assert "builds in < 5 s | 5.50 s (runs: 6.00, 5.50) | FAIL |" in text


def test_section_is_replaced_in_place_and_appended_when_missing():
    first = html_report.with_section("# results\n\nbody\n", results())
    assert first.startswith("# results\n\nbody\n\n<!-- html-report:begin -->")
    again = html_report.with_section(first + "tail\n", results(build=(1.0,)))
    assert again.count("<!-- html-report:begin -->") == 1
    assert "1.00 s (runs: 1.00)" in again and "2.90 s" not in again
    assert again.endswith("<!-- html-report:end -->\ntail\n")


def test_a_file_over_two_megabytes_fails_its_target():
    text = html_report.section(results(js_bytes=4_815_814))
    assert "report_files/plotly-finance.min.js: 4.816 MB | FAIL |" in text


def test_runs_of_each_granularity_are_kept_side_by_side():
    hour = results()
    day = {**results(build=(1.5,)), "granularity": "day"}
    saved = html_report.merged(html_report.merged(None, hour), day)
    again = html_report.merged(saved, {**results(build=(1.2,)), "granularity": "day"})
    assert [r.get("granularity") for r in again["runs"]] == [None, "day"]
    text = html_report.section(again)
    assert text.count("builds in < 5 s") == 2
    assert "--days 90 --granularity day`" in text and "1.20 s (runs: 1.20)" in text
