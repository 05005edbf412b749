"""An invoice as a PDF, rendered with WeasyPrint the way the credential package and the exchange's
purchase packet are (verifications/packages/builder.py, exchange/receipt_packet.py): a page
template, the package's stylesheet with this document's running headers handed over apart
from the page (no <style> block), DejaVu fonts, Letter pages.

Pure with respect to the database: it takes the rows the view read and returns bytes.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from verifications.packages.builder import css_string


def build_invoice_pdf(*, org, invoice, lines, online: bool) -> bytes:
    from django.utils.safestring import mark_safe
    from weasyprint import CSS, HTML

    context = {
        "org": org,
        "invoice": invoice,
        "lines": lines,
        "online": online,
        "generated_at": timezone.now(),
        # Raw text inside the stylesheet's strings: css_string escapes quotes, backslashes, "<".
        "header_org": mark_safe(css_string(org.name)),  # noqa: S308
        "header_number": mark_safe(css_string(invoice.number)),  # noqa: S308
    }
    html = render_to_string("billing/invoice_pdf.html", context)
    css = CSS(string=render_to_string("billing/invoice_pdf.css", context))
    return HTML(string=html, base_url=".").write_pdf(stylesheets=[css])
