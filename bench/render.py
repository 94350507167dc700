"""Render once, personalise per subscriber: what each step of a 12-story digest costs.

    .venv/bin/python bench/render.py [--subscribers 100000]

Prints the median of repeated runs of each step, then the cost of mailing N subscribers when
the edition is rendered and inlined once per variant (the design) against rendering and
inlining it for every subscriber. Uses a throwaway SQLite database and the fixed specimen
edition of tests/render/specimen.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.render.specimen

from sqlmodel import Session  # noqa: E402

from digest import migrate  # noqa: E402
from digest.db import get_engine  # noqa: E402
from digest.models import Subscriber  # noqa: E402
from digest.render.context import edition_context  # noqa: E402
from digest.render.digest import TOKENS, personalise, render_variant  # noqa: E402
from digest.subscribers.links import personal_values
from digest.render.environment import mail_environment  # noqa: E402
from digest.render.inline import INLINERS, inline_css  # noqa: E402
from digest.settings import Settings  # noqa: E402
from tests.render.specimen import specimen_edition  # noqa: E402


def median_ms(step, repeat: int) -> float:
    step()  # warm caches (templates, cssutils' parse cache) as a running worker would have them
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        settings = Settings(_env_file=None, environment="development", database_url=url, secret_key="bench-secret",
                            public_url="https://news.example.org")
        with Session(get_engine(url), expire_on_commit=False) as session:
            edition = specimen_edition(session)
            env = mail_environment(settings.templates_dir)
            context = {**edition_context(session, settings, edition), **TOKENS}
            html = env.get_template("digest.html").render(context)
            shared = render_variant(session, settings, edition)
            readers = [Subscriber(id=i, email=f"r{i}@example.org", name=f"Reader O'Neil {i}")
                       for i in range(1, 2001)]
            values = [personal_values(settings, r, edition.list_id, edition.id) for r in readers]
            it = iter(range(10**9))

            steps = {
                "context (database reads)": median_ms(
                    lambda: edition_context(session, settings, edition), 50),
                "Jinja render (HTML + text)": median_ms(lambda: (
                    env.get_template("digest.html").render(context),
                    env.get_template("digest.txt").render(context)), 200),
            }
            for name in sorted(INLINERS):
                steps[f"inline, {name}"] = median_ms(lambda name=name: inline_css(html, name), 30)
            steps["personal values (2 signed tokens, a reader MAC)"] = median_ms(
                lambda: personal_values(settings, readers[next(it) % 2000], edition.list_id, edition.id), 2000)
            steps["personalise (token substitution)"] = median_ms(
                lambda: personalise(shared, values[next(it) % 2000]), 2000)

    print(f"12-story digest: HTML {len(shared.html.encode()) / 1024:.1f} KB, "
          f"text {len(shared.text.encode()) / 1024:.1f} KB")
    for name, ms in steps.items():
        print(f"  {name:<36} {ms:9.3f} ms")
    n = args.subscribers
    per_subscriber = steps["personal values (2 signed tokens)"] + steps["personalise (token substitution)"]
    shared_cost = steps["context (database reads)"] + steps["Jinja render (HTML + text)"]
    print(f"\n{n:,} subscribers, one variant (CPU seconds, one core):")
    for name in sorted(INLINERS):
        once = shared_cost + steps[f"inline, {name}"] + n * per_subscriber
        each = n * (shared_cost + steps[f"inline, {name}"] + per_subscriber)
        print(f"  {name:<10} render once: {once / 1000:8.1f} s   "
              f"render per subscriber: {each / 1000:8.1f} s   ({each / once:.0f}x)")


if __name__ == "__main__":
    main()
