#!/bin/sh
# kiosk-usb-gadget: makes the board a USB keyboard for the counter PC (counter mode,
# method C). Creates a HID boot-keyboard function through the Linux USB gadget configfs
# and binds it to the board's USB device controller; the kiosk then writes 8-byte
# reports to /dev/hidg0. Nothing else is exposed: no storage, no network, no serial.
#
# Run once per boot, as root, before kiosk.service (systemd/kiosk-usb-gadget.service).
# Needs a board whose USB port can be a device (Raspberry Pi 4/5: the USB-C port with
# `dtoverlay=dwc2,dr_mode=peripheral` in config.txt; Pi Zero 2 W: the data port).
#
#   kiosk-usb-gadget.sh          create and bind (does nothing if already there)
#   kiosk-usb-gadget.sh remove   unbind and remove
set -eu

G=/sys/kernel/config/usb_gadget/kiosk

# The boot keyboard report descriptor (USB HID 1.11, appendix B.1): 8-byte input
# reports (modifiers, reserved, six key codes), 1-byte LED output report; key codes up
# to 0xA4, so the JIS keys International1 (0x87, ろ) and International3 (0x89, ¥) that
# `\`, `_` and `|` need on a Japanese PC are in range. Must equal
# kiosk_keyboard::REPORT_DESCRIPTOR (checked by drivers/keyboard/tests/gadget_script.rs).
DESCRIPTOR='\005\001\011\006\241\001\005\007\031\340\051\347\025\000\045\001\165\001\225\010\201\002\225\001\165\010\201\003\225\005\165\001\005\010\031\001\051\005\221\002\225\001\165\003\221\003\225\006\165\010\025\000\046\244\000\005\007\031\000\051\244\201\000\300'

remove() {
    [ -d "$G" ] || return 0
    echo "" > "$G/UDC" 2>/dev/null || true
    rm -f "$G/configs/c.1/hid.usb0"
    rmdir "$G/configs/c.1/strings/0x409" "$G/configs/c.1" "$G/functions/hid.usb0" "$G/strings/0x409" "$G"
}

if [ "${1:-}" = "remove" ]; then
    remove
    exit 0
fi

if [ -d "$G" ]; then
    echo "kiosk-usb-gadget: already set up ($(cat "$G/UDC" 2>/dev/null || echo unbound))"
    exit 0
fi

# Loaded at boot by /usr/lib/modules-load.d/kiosk-usb-gadget.conf; by hand only when not
# (the unit may not load modules).
[ -d /sys/kernel/config/usb_gadget ] || modprobe libcomposite
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config

UDC=$(ls /sys/class/udc 2>/dev/null | head -n 1)
if [ -z "$UDC" ]; then
    echo "kiosk-usb-gadget: this board has no USB device controller (is dtoverlay=dwc2 set?);" \
        "method C is unavailable, methods A, B and D still work" >&2
    exit 1
fi

mkdir -p "$G"
cd "$G"
echo 0x1d6b > idVendor      # Linux Foundation
echo 0x0104 > idProduct     # Multifunction Composite Gadget
echo 0x0100 > bcdDevice
echo 0x0200 > bcdUSB
mkdir -p strings/0x409
# A serial from the machine id (not secret; the counter PC sees it): two kiosks on one
# PC stay apart.
cut -c1-16 /etc/machine-id > strings/0x409/serialnumber
echo "Library kiosk" > strings/0x409/manufacturer
echo "Counter keyboard" > strings/0x409/product
mkdir -p configs/c.1/strings/0x409
echo "Keyboard" > configs/c.1/strings/0x409/configuration
echo 100 > configs/c.1/MaxPower
mkdir -p functions/hid.usb0
echo 1 > functions/hid.usb0/protocol        # keyboard
echo 1 > functions/hid.usb0/subclass        # boot interface
echo 8 > functions/hid.usb0/report_length
printf "$DESCRIPTOR" > functions/hid.usb0/report_desc
ln -s functions/hid.usb0 configs/c.1/
echo "$UDC" > UDC
echo "kiosk-usb-gadget: /dev/hidg0 on $UDC"
