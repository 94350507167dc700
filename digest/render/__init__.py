"""Rendering: Jinja2 templates, CSS inlined once per edition variant, cheap personalisation."""
