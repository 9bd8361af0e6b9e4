"""Reference ESC/POS bytes from python-escpos 3.1 (PyPI), an implementation nobody here
wrote. Prints one `REF name hex` line per command for the commands kiosk-printer also emits.

usage: escpos_reference.py IMAGE.pbm
"""
import sys

from escpos import constants as C
from escpos.printer import Dummy
from PIL import Image


def emit(name, fn):
    p = Dummy()
    fn(p)
    print("REF", name, p.output.hex())


emit("init", lambda p: p._raw(C.HW_INIT))
emit("align_center", lambda p: p._raw(C.TXT_STYLE["align"]["center"]))
emit("align_left", lambda p: p._raw(C.TXT_STYLE["align"]["left"]))
emit("bold_on", lambda p: p._raw(C.TXT_STYLE["bold"][True]))
emit("bold_off", lambda p: p._raw(C.TXT_STYLE["bold"][False]))
emit("text", lambda p: p.text("Scan at a self-checkout machine\n"))
emit("part_cut", lambda p: p._raw(C.PAPER_PART_CUT))
emit("raster", lambda p: p.image(Image.open(sys.argv[1]), impl="bitImageRaster", center=False))
