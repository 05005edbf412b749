"""An image (PNG or JPEG) as one US Letter PDF page, fitted inside half-inch margins."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

LETTER_IN = (8.5, 11.0)
MARGIN_IN = 0.5
# A small image is not blown up past this resolution (a 2x2 pixel image stays a dot-sized
# rectangle would be silly too, so it is drawn at 72 dpi at most).
MIN_DPI = 72.0


def image_to_pdf(data: bytes) -> bytes:
    """The image centred on a Letter page (no resampling: the page is padded around it)."""
    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGBA")
            background = Image.new("RGB", img.size, "white")
            background.paste(img, mask=img.getchannel("A"))
            img = background
        usable_w = LETTER_IN[0] - 2 * MARGIN_IN
        usable_h = LETTER_IN[1] - 2 * MARGIN_IN
        dpi = max(img.width / usable_w, img.height / usable_h, MIN_DPI)
        page = (round(LETTER_IN[0] * dpi), round(LETTER_IN[1] * dpi))
        canvas = Image.new(img.mode, page, "white")
        canvas.paste(img, ((page[0] - img.width) // 2, (page[1] - img.height) // 2))
        out = io.BytesIO()
        canvas.save(out, format="PDF", resolution=dpi)
        return out.getvalue()
