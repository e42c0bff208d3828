"""Code 128 barcodes for box labels, as SVG images a page can show under its strict CSP.

A scanner reads the box's label (``A001``) back as typed text, so the box session and
a search for the box take it like any keyboard input. The SVG is embedded as a ``data:``
image (the page's CSP allows ``img-src data:``; inline SVG with style attributes would
not be allowed).

May import the standard library and ``python-barcode``.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import barcode
from barcode.writer import SVGWriter


@lru_cache(maxsize=4096)
def code128_data_uri(text: str) -> str:
    """``data:image/svg+xml;base64,…`` of ``text`` as Code 128 (without human text: the
    label prints the box name large beside it)."""
    buffer = io.BytesIO()
    barcode.Code128(text, writer=SVGWriter()).write(
        buffer, options={"module_height": 12.0, "quiet_zone": 2.0, "write_text": False})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
