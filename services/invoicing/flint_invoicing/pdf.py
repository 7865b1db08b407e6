"""The invoice as a PDF document, drawn with fpdf2.

Why fpdf2: it is pure Python (its only binary dependency, Pillow, ships wheels), draws
straight from code with tables and links, embeds TrueType fonts with only the glyphs used,
and falls back to a second font for characters the first lacks. ReportLab does as much but
needs its own font registry and a larger API for a one-page document; WeasyPrint renders
HTML nicely but pulls in Pango, HarfBuzz and cairo-era system libraries for the same page.

Fonts: PDF's 14 built-in fonts cover Latin-1 only, so a buyer named "Łukasz", "Ελένη",
"Дмитрий" or "山田太郎" would not print. The document uses DejaVu Sans (Latin, Greek,
Cyrillic and more) with Droid Sans Fallback for CJK, both from Debian's packages
(``fonts-dejavu-core``, ``fonts-droid-fallback``; ``make setup`` installs them) and free to
redistribute. A missing font is a clear error, never a PDF with blank names.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from flint_invoicing.document import InvoiceDocument

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/droid"))
INK = (29, 35, 48)
MUTED = (91, 100, 116)
ACCENT = (29, 78, 216)
RULE = (226, 229, 235)
STAMP = {"paid": (22, 128, 61), "void": (107, 114, 128), "uncollectible": (180, 83, 9)}


class FontsMissing(RuntimeError):
    """A font the invoice PDF needs is not installed."""


@dataclass(frozen=True)
class PdfFonts:
    """The TrueType files the document is drawn with."""

    regular: Path
    bold: Path
    fallback: Path

    @classmethod
    def installed(cls, dirs: tuple[Path, ...] = FONT_DIRS) -> PdfFonts:
        """The fonts from Debian's packages, or ``FontsMissing`` saying what to install."""
        found = {name: _find(name, dirs) for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallbackFull.ttf")}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise FontsMissing(
                f"fonts {missing} not found under {[str(d) for d in dirs]}: "
                "install fonts-dejavu-core and fonts-droid-fallback (`make setup` does)"
            )
        return cls(found["DejaVuSans.ttf"], found["DejaVuSans-Bold.ttf"], found["DroidSansFallbackFull.ttf"])


def render_invoice_pdf(document: InvoiceDocument, *, created_at: datetime, fonts: PdfFonts | None = None) -> bytes:
    """The invoice as PDF bytes: one A4 page for a usual order, more when the lines need them."""
    pdf = _InvoicePdf(document, fonts or PdfFonts.installed())
    pdf.set_creation_date(created_at)  # the same invoice always gives the same document
    pdf.draw()
    return bytes(pdf.output())


class _InvoicePdf(FPDF):
    def __init__(self, document: InvoiceDocument, fonts: PdfFonts) -> None:
        super().__init__(format="A4", unit="mm")
        self.doc = document
        self.add_font("body", "", fonts.regular)
        self.add_font("body", "B", fonts.bold)
        if _has_characters_beyond(fonts.regular, document):  # reading the CJK font costs ~0.7 s
            self.add_font("cjk", "", fonts.fallback)
            self.set_fallback_fonts(["cjk"], exact_match=False)
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=22)
        self.set_title(f"Invoice {document.number}")
        self.set_author(document.merchant.name)
        self.set_subject(f"Invoice {document.number} for order {document.order_number}")
        self.set_creator("Flint")

    def footer(self) -> None:
        self.set_y(-15)
        self._font(8, color=MUTED)
        contact = f"Questions? {self.doc.merchant.email}  ·  " if self.doc.merchant.email else ""
        self.cell(0, 5, f"{contact}{self.doc.number}  ·  page {self.page_no()} of {{nb}}", align=Align.C)

    def draw(self) -> None:
        self.add_page()
        self._header_block()
        self._parties()
        self._headline()
        self._lines_table()
        self._totals()
        self._notes()
        self._how_to_pay()

    # --- blocks ---------------------------------------------------------------------------------

    def _header_block(self) -> None:
        top = self.get_y()
        self._font(18, bold=True)
        self.multi_cell(110, 8, self.doc.merchant.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.doc.merchant.email:
            self._font(9, color=MUTED)
            self.cell(110, 5, self.doc.merchant.email, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = self.get_y()
        self.set_xy(self.w - self.r_margin - 60, top)
        self._font(20, bold=True, color=MUTED)
        self.cell(60, 9, "INVOICE", align=Align.R, new_x=XPos.LEFT, new_y=YPos.NEXT)
        for label, value in (("Number", self.doc.number), ("Order", self.doc.order_number),
                             ("Issued", self.doc.issued), ("Due", self.doc.due)):  # fmt: skip
            self._key_value(self.w - self.r_margin - 60, label, value)
        self._stamp()
        self.set_y(max(bottom, self.get_y()) + 8)

    def _key_value(self, x: float, label: str, value: str) -> None:
        self.set_x(x)
        self._font(9, color=MUTED)
        self.cell(20, 5.5, label)
        self._font(9, bold=True)
        self.cell(40, 5.5, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _stamp(self) -> None:
        word = {"paid": "PAID", "void": "VOID", "uncollectible": "UNCOLLECTIBLE"}.get(self.doc.status)
        if word is None and self.doc.overdue:
            word, color = "OVERDUE", (185, 28, 28)
        elif word is None:
            return
        else:
            color = STAMP[self.doc.status]
        self.set_x(self.w - self.r_margin - 60)
        self._font(11, bold=True, color=color)
        self.set_draw_color(*color)
        self.cell(60, 8, word, border=1, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _parties(self) -> None:
        self._font(8, bold=True, color=MUTED)
        self.cell(0, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.doc.bill_to_name:
            self._font(11, bold=True)
            self.multi_cell(110, 6, self.doc.bill_to_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._font(10)
        self.cell(110, 5.5, self.doc.bill_to_email, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(6)

    def _headline(self) -> None:
        self._font(15, bold=True)
        if self.doc.is_paid:
            text = f"{self.doc.invoice_amount} paid on {self.doc.paid_on}"
        else:
            text = f"{self.doc.amount_due} due {self.doc.due}"
        self.cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.doc.partial_note:
            self._font(9, color=MUTED)
            self.multi_cell(0, 5, self.doc.partial_note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(5)

    def _lines_table(self) -> None:
        self._font(9)
        heading = FontFace(emphasis="BOLD", color=MUTED, fill_color=(246, 247, 249))
        with self.table(
            col_widths=(86, 14, 28, 22, 28), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=heading, borders_layout=TableBordersLayout.HORIZONTAL_LINES, line_height=6.5,
            padding=(1.5, 1.5), first_row_as_headings=True,
        ) as table:  # fmt: skip
            self.set_draw_color(*RULE)
            table.row(("Description", "Qty", "Unit price", "Tax", "Amount"))
            for line in self.doc.lines:
                title = f"{line.title}\n{line.sku}" if line.sku else line.title
                table.row((title, str(line.quantity), line.unit_price, line.tax, line.amount))
        self.ln(3)

    def _totals(self) -> None:
        rows = [("Subtotal", self.doc.subtotal)]
        rows += [("Discount", self.doc.discount)] if self.doc.discount else []
        rows += [("Shipping", self.doc.shipping)] if self.doc.shipping else []
        rows += [("Tax", self.doc.tax), ("Total", self.doc.total), ("Amount paid", self.doc.amount_paid)]
        left = self.w - self.r_margin - 80
        for label, value in rows:
            self._total_row(left, label, value, bold=label == "Total")
        self.set_draw_color(*INK)
        self.line(left, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(2.5)
        self._total_row(left, "Amount due", self.doc.amount_due, bold=True, size=12)
        self.ln(6)

    def _total_row(self, left: float, label: str, value: str, *, bold: bool = False, size: float = 10) -> None:
        self.set_x(left)
        self._font(size, bold=bold, color=INK if bold else MUTED)
        self.cell(45, 7, label)
        self._font(size, bold=bold)
        self.cell(35, 7, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _notes(self) -> None:
        if not self.doc.memo:
            return
        self._font(8, bold=True, color=MUTED)
        self.cell(0, 5, "MEMO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._font(10)
        self.multi_cell(0, 5.5, self.doc.memo, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(5)

    def _how_to_pay(self) -> None:
        if self.doc.is_paid:
            self._font(10, color=STAMP["paid"])
            self.multi_cell(0, 5.5, f"Paid in full on {self.doc.paid_on}. Thank you!", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)  # fmt: skip
            return
        if not self.doc.pay_url:
            return
        self._font(8, bold=True, color=MUTED)
        self.cell(0, 5, "HOW TO PAY", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._font(10)
        self.multi_cell(0, 5.5, f"Pay {self.doc.amount_due} by card online, by {self.doc.due}:",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self._font(10, color=ACCENT)
        self.multi_cell(0, 5.5, self.doc.pay_url, link=self.doc.pay_url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font("body", "B" if bold else "", size)
        self.set_text_color(*color)


def _has_characters_beyond(font: Path, document: InvoiceDocument) -> bool:
    """True when some text of ``document`` has a character ``font`` cannot draw."""
    text = "".join(str(value) for value in _strings(astuple(document)))
    covered = _characters_of(font)
    return any(ord(char) not in covered for char in set(text) if not char.isspace())


def _strings(values: object) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, (tuple, list)):
        return [text for value in values for text in _strings(value)]
    return []


@cache
def _characters_of(font: Path) -> frozenset[int]:
    with TTFont(font, lazy=True) as loaded:
        return frozenset(loaded.getBestCmap())


def _find(name: str, dirs: tuple[Path, ...]) -> Path | None:
    return next((d / name for d in dirs if (d / name).is_file()), None)
