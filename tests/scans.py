"""Image-only PDF pages rendered from known Chinese text: the truth OCR output is compared with.

Used by the OCR tests and bench/ocr_bench.py. Needs Pillow and a CJK font (Debian's
fonts-wqy-microhei, which the README's test command installs).
"""

from __future__ import annotations

import io
from pathlib import Path

FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# Article-style text as officials' scans hold it (numbers, punctuation, a 文号).
PAGES = [
    ["某某市人民政府办公室文件",
     "某政办发〔2023〕12号",
     "关于进一步规范行政执法行为的通知",
     "各区人民政府，市政府各部门：",
     "第一条 为了规范行政执法行为，保护公民、法人和其他组织的",
     "合法权益，根据有关法律、法规，结合本市实际，制定本办法。",
     "第二条 本市行政区域内行政执法机关实施行政执法活动，适用",
     "本办法。法律、法规另有规定的，从其规定。"],
    ["第三条 行政执法应当坚持公开、公平、公正的原则，做到事实",
     "清楚、证据确凿、程序合法、适用依据正确。",
     "第四条 行政执法机关应当在2023年12月31日前公示执法主体、",
     "执法人员、执法职责、执法依据和救济渠道等信息。",
     "第五条 重大执法决定作出前，应当进行法制审核；未经审核",
     "或者审核未通过的，不得作出决定。"],
]


def font_path() -> str | None:
    return next((f for f in FONTS if Path(f).exists()), None)


def page_image(lines: list[str], dpi: int = 200, pt: float = 16):
    """One A4 page at ``dpi`` with ``lines`` in a ``pt``-point CJK font, black on white."""
    from PIL import Image, ImageDraw, ImageFont

    px = round(pt * dpi / 72)
    font = ImageFont.truetype(font_path(), px)
    img = Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((round(0.9 * dpi), round(1.0 * dpi) + i * round(px * 1.8)), line, font=font, fill=0)
    return img


def image_pdf(pages: list[list[str]], dpi: int = 200, pt: float = 16) -> bytes:
    """An image-only PDF: one scanned-looking page per list of lines."""
    images = [page_image(lines, dpi, pt) for lines in pages]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buf.getvalue()


def cer(truth: str, got: str) -> float:
    """Character error rate: edit distance over the truth's length, whitespace ignored."""
    a = "".join(truth.split())
    b = "".join(got.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(a))
