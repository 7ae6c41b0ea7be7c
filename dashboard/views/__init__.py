"""Role pages: each wires widgets to ``layers``/``geo`` and renders; no data wrangling here."""
