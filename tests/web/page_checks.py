"""What every page must pass in a real browser at any width, and a crawler that finds the
pages: shared by the console and public width tests (tests/web/staff/test_widths_browser.py)."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError

# Roles a person operates: each needs a name a screen reader can say.
CONTROL_ROLES = {"button", "link", "textbox", "searchbox", "spinbutton", "checkbox", "radio",
                 "combobox", "listbox", "switch", "slider", "menuitem", "tab"}
# Pages that differ only by ids render the same template: a few of each say as much as all.
SAME_SHAPE_LIMIT = 3

# Elements sticking out to the right (outside any scroll box of their own), for the report.
_OVERFLOW_JS = """() => {
  const width = window.innerWidth, over = [];
  const scrolls = el => getComputedStyle(el).overflowX !== 'visible';
  const clipped = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (scrolls(p)) return true; } return false; };
  for (const el of document.body.querySelectorAll('*')) {
    // Text too long for its box spills out of it without widening the box: scrollWidth sees it.
    const r = el.getBoundingClientRect(), right = scrolls(el) ? r.right : Math.max(r.right, r.left + el.scrollWidth);
    if (right > width + 0.5 && r.width > 0 && !clipped(el)) over.push([el, right]);
  }
  // The innermost culprits, not every box around them.
  return {scroll: document.scrollingElement.scrollWidth, width, over: over
    .filter(([el]) => !over.some(([other]) => other !== el && el.contains(other))).slice(0, 4)
    .map(([el, right]) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
         + `${typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`
         + ` to ${Math.round(right)}px`)};
}"""

# Boxes that scroll sideways must be reachable by keyboard and say what they hold.
_SCROLL_BOXES_JS = """() => [...document.body.querySelectorAll('*')].filter(el => {
    const s = getComputedStyle(el).overflowX;
    return (s === 'auto' || s === 'scroll') && el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'TEXTAREA'
      && el.tagName !== 'PRE';
  }).filter(el => el.tabIndex < 0 || el.getAttribute('role') !== 'region' || !el.getAttribute('aria-label'))
  .map(el => el.outerHTML.slice(0, 80))"""

_SKIP_LINK_JS = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return 'nothing takes focus first';
  const href = a.getAttribute('href') || '';
  if (a.tagName !== 'A' || !href.startsWith('#') || !/skip/i.test(a.textContent))
    return 'first focusable is not a skip link: ' + a.outerHTML.slice(0, 80);
  if (!document.getElementById(decodeURIComponent(href.slice(1)))) return `skip link target ${href} missing`;
  const r = a.getBoundingClientRect();
  if (r.left < 0 || r.right > window.innerWidth) return 'focused skip link is off screen';
  return '';
}"""


def overflow_problem(page) -> str:
    """Empty when the page does not scroll sideways; else by how much and what sticks out."""
    found = page.evaluate(_OVERFLOW_JS)
    extra = found["scroll"] - found["width"]
    if extra <= 0:
        return ""
    return f"{found['scroll']}px wide at {found['width']}px ({extra}px too wide): " + "; ".join(found["over"])


def unnamed_controls(page) -> list[str]:
    """Controls whose accessible name, as Chromium computes it, is empty."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        missing = []
        for node in nodes:
            role = node.get("role", {}).get("value")
            if node.get("ignored") or role not in CONTROL_ROLES or node.get("name", {}).get("value", "").strip():
                continue
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            pairs = described.get("attributes", [])     # [name, value, name, value...]
            attributes = " ".join(f'{k}="{v}"' for k, v in zip(pairs[::2], pairs[1::2]))
            missing.append(f"{role} <{described['localName']} {attributes[:80]}>")
        return missing
    finally:
        cdp.detach()


def skip_link_problem(page) -> str:
    """Empty when the first Tab lands on a visible skip link whose target exists."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    page.keyboard.press("Tab")
    return page.evaluate(_SKIP_LINK_JS)


def page_problems(page) -> list[str]:
    problems = [p for p in (overflow_problem(page), skip_link_problem(page)) if p]
    problems += [f"no accessible name: {c}" for c in unnamed_controls(page)]
    problems += [f"scroll box without role=region, aria-label and tabindex=0: {b}"
                 for b in page.evaluate(_SCROLL_BOXES_JS)]
    return problems


def shape(url: str) -> str:
    """The URL with its ids blanked: /staff/editions/3/send -> /staff/editions/#/send."""
    parts = urlsplit(url)
    return re.sub(r"/\d+(?=/|$)", "/#", parts.path) + ("?" if parts.query else "")


def crawl(page, start: list[str], *, within: str, skip: tuple[str, ...] = (), visit=None) -> list[str]:
    """Every HTML page reachable by links from `start` under the `within` prefix (links
    elsewhere and to `skip` prefixes are left out, files are passed over), in the order
    found; at most SAME_SHAPE_LIMIT pages of one shape. `visit(url)` runs on each page as
    it is open."""
    seen, shapes, found = set(start), Counter(), []
    queue = deque(start)
    while queue:
        url = queue.popleft()
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in exc.message:   # an export (CSV, OPML, JSON): no page
                continue
            raise
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        found.append(url)
        if visit:
            visit(url)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urldefrag(urljoin(url, href)).url
            if link in seen or not link.startswith(within) or link.startswith(skip):
                continue
            seen.add(link)
            if shapes[shape(link)] < SAME_SHAPE_LIMIT:
                shapes[shape(link)] += 1
                queue.append(link)
    return found
