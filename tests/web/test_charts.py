"""The chart arithmetic alone: scales, labels, words and refused input (pure logic)."""

import pytest

from digest.web.charts import MAX_X_LABELS, PLOT_HEIGHT, TOP, Series, bar_chart, count, nice_top, percent


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (0.013, 0.02), (260, 500)])
def test_the_scale_ends_on_a_round_number_at_or_above_the_largest(value, top):
    assert nice_top(value) == pytest.approx(top)


def test_stacked_bars_are_as_tall_as_their_values_and_counts_have_whole_ticks():
    chart = bar_chart("Fetches", ["a", "b"], [Series("ok", [3, 0], "ok"), Series("failed", [2, 1], "bad")],
                      axis="day")
    assert chart.top == 5
    assert [t.text for t in chart.ticks] == ["0", "5"]  # 2.5 is no count
    heights = {(b.category, b.series.name): b.height for b in chart.bars}
    assert heights == {("a", "ok"): pytest.approx(3 * PLOT_HEIGHT / 5), ("a", "failed"): pytest.approx(2 * PLOT_HEIGHT / 5),
                       ("b", "failed"): pytest.approx(PLOT_HEIGHT / 5)}
    a_ok, a_failed = (b for b in chart.bars if b.category == "a")
    assert a_failed.y + a_failed.height == pytest.approx(a_ok.y)  # stacked, ok at the bottom
    assert chart.description == "a: ok 3, failed 2; b: ok 0, failed 1."


def test_a_threshold_stays_in_view_and_rates_read_as_percentages():
    chart = bar_chart("Complaints", ["#1"], [Series("complaints", [0.0004], "warn")], axis="edition",
                      fmt=percent, threshold=(0.001, "warning 0.1%"))
    assert chart.top == pytest.approx(0.001)
    assert chart.threshold.at == pytest.approx(TOP)
    assert [t.text for t in chart.ticks] == ["0%", "0.05%", "0.1%"]
    assert chart.description == "#1: complaints 0.04%."


def test_long_runs_get_a_few_labels_and_nothing_gets_its_words():
    chart = bar_chart("Sent", [str(i) for i in range(24)], [Series("sent", list(range(24)), "info")], axis="s")
    assert len(chart.labels) <= MAX_X_LABELS and chart.labels[0].text == "0"
    assert bar_chart("Sent", [], [Series("sent", [], "info")], axis="s", empty="Nothing sent yet.").description \
        == "Nothing sent yet."
    assert count(12345) == "12,345" and percent(0.125) == "12.5%" and percent(0) == "0%"


@pytest.mark.parametrize(("values", "message"), [([1], "series 'sent' has 1 values for 2 categories"),
                                                 ([1, -1], "series 'sent' has a negative value")])
def test_bad_series_are_refused_by_name(values, message):
    with pytest.raises(ValueError, match=message):
        bar_chart("Sent", ["a", "b"], [Series("sent", values, "info")], axis="s")
