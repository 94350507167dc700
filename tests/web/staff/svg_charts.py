"""Reading a console chart back from its page: the inline SVG parsed as XML (so it must be
well-formed), every bar's value recovered from its height and the scale's top tick."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass

from digest.web.charts import PLOT_HEIGHT

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class ReadChart:
    title: str
    desc: str
    top: float
    # category -> series -> value read from the bar's height (none for a zero)
    stacks: dict[str, dict[str, float]]
    categories: list[str]  # in order, as the description lists them
    x_labels: list[str]
    axis: str
    root: ET.Element

    def series(self, name: str) -> list[float]:
        return [self.stacks.get(c, {}).get(name, 0.0) for c in self.categories]


def number(text: str) -> float:
    text = text.replace(",", "")
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def read_chart(html: str, figure_id: str) -> ReadChart:
    figure = re.search(rf'<figure class="chart" id="{figure_id}">(.*?)</figure>', html, re.S)
    assert figure, f"no chart {figure_id} on the page"
    root = ET.fromstring(re.search(r"<svg.*?</svg>", figure.group(1), re.S).group(0))
    assert root.get("role") == "img" and root.get("width") == "100%" and root.get("viewBox")
    assert root.get("aria-labelledby") == f"{figure_id}-title {figure_id}-desc"
    ticks = [number(t.text) for t in root.find(f"{SVG}g[@class='grid']").iter(f"{SVG}text")]
    top = max(ticks)
    stacks: dict[str, dict[str, float]] = defaultdict(dict)
    for rect in root.find(f"{SVG}g[@class='bars']").iter(f"{SVG}rect"):
        value = float(rect.get("height")) * top / PLOT_HEIGHT
        stacks[rect.get("data-category")][rect.get("data-series")] = value
        # Each bar's tooltip names its value as the height does.
        name, shown = rect.find(f"{SVG}title").text.split(" (")[0].split(": ")
        assert name == rect.get("data-series")
        assert abs(number(shown) - value) <= max(0.5, 0.01 * top), (shown, value)
    axis = root.find(f"{SVG}g[@class='axis']")
    texts = [t.text for t in axis.iter(f"{SVG}text")]
    desc = root.find(f"{SVG}desc").text
    categories = [part.split(": ")[0] for part in desc.removesuffix(".").split("; ")]
    assert set(stacks) <= set(categories)
    return ReadChart(root.find(f"{SVG}title").text, desc, top, dict(stacks), categories,
                     texts[:-1], texts[-1], root)
