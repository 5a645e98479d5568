"""Text from inputs on its way into an output workbook: printable, bounded, never a formula or link.

Callers write the result with xlsxwriter's ``write_string`` (or openpyxl with ``data_type="s"``) so
that ``=HYPERLINK(...)``, ``+1``, ``@x`` or ``http://...`` stay plain text; this function makes the
text itself safe to store: no control characters that break the XML, no cell over Excel's limit.
"""

from __future__ import annotations

import re
from typing import Iterable

EXCEL_CELL_LIMIT = 32_767
CUT_NOTE = "…（内容过长，已截断）"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object, limit: int = EXCEL_CELL_LIMIT) -> str:
    """Any value as storable text: control characters dropped, cut with a note past ``limit``.

    The limit counts UTF-16 units, as Excel does: a character beyond the BMP (an emoji, a rare CJK
    ideograph) takes two, and a writer would otherwise cut the text itself, without the note."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > limit // 2:  # shorter texts fit whatever they hold
        units = text.encode("utf-16-le")
        if len(units) > 2 * limit:
            # CUT_NOTE is all BMP: one unit a character; "ignore" drops half a pair cut at the end.
            text = units[: 2 * (limit - len(CUT_NOTE))].decode("utf-16-le", "ignore") + CUT_NOTE
    return text


def clean_texts(values: Iterable[object], limit: int = EXCEL_CELL_LIMIT) -> list[str]:
    """:func:`clean_text` of each value. A sheet's worth of texts (ten thousand unit names) rarely holds
    anything to clean: one scan of them all finds that, and only otherwise is each cleaned in turn."""
    texts = ["" if value is None else value if value.__class__ is str else str(value) for value in values]
    joined = "".join(texts)
    if "\r" in joined or _CONTROL.search(joined) or max(map(len, texts), default=0) > limit // 2:
        return [clean_text(text, limit) for text in texts]
    return texts
