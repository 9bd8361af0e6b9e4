"""Drives our SIP2 simulator with the `sip2` client from PyPI (code nobody here wrote).
Usage: sip2_client.py PORT. Exits non-zero on any mismatch."""

import sys

from Sip2.sip2 import Sip2

port = int(sys.argv[1])
c = Sip2()
c.hostName = "127.0.0.1"
c.hostPort = port
c.tlsEnable = False
c.socketTimeout = 5
c.institutionId = "KIOSKLIB"
c.terminalPassword = ""
c.patron = "P0001"
c.patronpwd = "1234"
c.connect()


def call(request, parse):
    raw = c.get_response(request)
    assert raw.endswith("\r"), repr(raw)
    return parse(raw), raw


login, raw = call(c.sip_login_request("kiosk", "secret"), c.sip_login_response)
assert login["fixed"]["Ok"] == "1", raw
status, raw = call(c.sip_sc_status_request(), c.sip_sc_status_response)
assert status["fixed"]["OnlineStatus"] == "Y", raw
patron, raw = call(c.sip_patron_status_request(), c.sip_patron_status_response)
assert patron["variable"]["BL"] == ["Y"] and patron["variable"]["CQ"] == ["Y"], raw
assert patron["variable"]["AE"] == ["山田 太郎"], raw
out, raw = call(c.sip_checkout_request("1000000001"), c.sip_checkout_response)
assert out["fixed"]["Ok"] == "1", raw
assert out["variable"]["AJ"] == ["吾輩は猫である"], raw
again, raw = call(c.sip_checkout_request("9999999999"), c.sip_checkout_response)
assert again["fixed"]["Ok"] == "0", raw
info, raw = call(c.sip_item_information_request("1000000001"), c.sip_item_information_response)
assert info["fixed"]["CirculationStatus"] == "04", raw
# The account's messages: patron information by range, renew, checkin (twice: the second
# is refused, the book is not on loan any more).
account, raw = call(c.sip_patron_information_request("charged", "1", "5"), c.sip_patron_information_response)
assert account["fixed"]["ChargedItemsCount"] == "0001", raw
assert account["variable"]["AU"] == ["1000000001"], raw
none, raw = call(c.sip_patron_information_request("charged", "2", "5"), c.sip_patron_information_response)
assert "AU" not in none["variable"], raw
renew, raw = call(c.sip_renew_request("1000000001"), c.sip_renew_response)
assert renew["fixed"]["Ok"] == "1" and renew["fixed"]["RenewalOk"] == "Y", raw
back, raw = call(c.sip_checkin_request("1000000001"), c.sip_checkin_response)
assert back["fixed"]["Ok"] == "1", raw
twice, raw = call(c.sip_checkin_request("1000000001"), c.sip_checkin_response)
assert twice["fixed"]["Ok"] == "0" and twice["fixed"]["Alert"] == "Y", raw
end, raw = call(c.sip_end_patron_session_request(), c.sip_end_patron_session_response)
assert end["fixed"]["EndSession"] == "Y", raw
c.disconnect()
print("sip2 client scenario ok")
