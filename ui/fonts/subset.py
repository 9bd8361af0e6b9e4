#!/usr/bin/python3
"""Cuts the Simplified Chinese and Korean faces of Noto Sans CJK down to the characters
their catalogues use, for embedding in the kiosk (the whole collection is 20 MB a weight).

Run after a Chinese or Korean catalogue changes (the missing-glyph test in
ui/tests/glyphs.rs says when):

    apt-get install fonts-noto-cjk python3-fonttools
    /usr/bin/python3 ui/fonts/subset.py

Each face keeps: every character of its catalogue, its language's own name (the language
list), printable ASCII, and the punctuation the screens use. Hinting and layout tables the
software renderer does not use are dropped; the glyph outlines are unchanged.
"""

import os
import re
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = os.path.dirname(os.path.abspath(__file__))
UI = os.path.dirname(HERE)
NOTO = "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc"
# (catalogue, face name in the collection, its own name, output stem)
FACES = [
    ("zh-Hans", "Noto Sans CJK SC", "中文（简体）", "noto-sans-cjk-sc"),
    ("ko", "Noto Sans CJK KR", "한국어", "noto-sans-cjk-kr"),
]
EXTRA = "".join(chr(c) for c in range(0x20, 0x7F)) + "…・「」『』（）、。，：；！？“”‘’—–→✓·×〜～　"


def catalogue_text(code):
    path = os.path.join(UI, "translations", code, "LC_MESSAGES", "kiosk-ui.po")
    if not os.path.exists(path):
        print(f"{path} is missing: its face gets the language's own name only", file=sys.stderr)
        return ""
    with open(path, encoding="utf-8") as f:
        po = f.read()
    return "".join(re.findall(r'^msgstr(?:\[\d+\])? "(.*)"$', po, re.M))


def face(weight, name):
    collection = TTCollection(NOTO.format(weight=weight))
    for font in collection.fonts:
        if font["name"].getDebugName(1) == name:
            return font
    sys.exit(f"{name} is not in {NOTO.format(weight=weight)}")


def main():
    for code, name, endonym, stem in FACES:
        text = catalogue_text(code) + endonym + EXTRA
        for weight in ("Regular", "Bold"):
            font = face(weight, name)
            options = subset.Options()
            options.hinting = False
            options.layout_features = ["*"]
            options.name_IDs = ["*"]
            options.notdef_outline = True
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=text)
            subsetter.subset(font)
            out = os.path.join(HERE, f"{stem}-{weight.lower()}.otf")
            font.save(out)
            print(f"{out}: {len(set(text))} characters, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
