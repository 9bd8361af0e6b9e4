"""A small fake ILS on pysip2 (PyPI), the independent SIP2 server our client must pass
the checkout scenario against. Bound to 127.0.0.1 on an ephemeral port; prints
`PORT <n>`, serves until stdin closes, then prints `EXECUTED <item> <count>` lines.

The checkout of item 1000000002 is answered slowly the first time (past the client's
timeout), so the client's byte-identical resend meets pysip2's duplicate replay.

Patron information honours BP/BQ (start and end item); renew (29) moves the due date of
an item on loan to the patron; checkin (09) returns an item on loan and refuses one that
is not. Renewals and returns are counted and printed too (`RENEWED`, `RETURNED`).

With an argument, pysip2 closes a connection idle for that many seconds (its
`idle_timeout`, as real servers do) and prints `IDLE-CLOSED` once it has.
"""

import logging
import sys
import threading
import time

import anyio
from pysip2 import (
    CheckinResponse,
    CheckoutResponse,
    EndSessionResponse,
    ItemInformationResponse,
    LoginResponse,
    PatronInformationResponse,
    PatronStatusResponse,
    RenewResponse,
)
from pysip2.routes import (
    CHECKIN,
    CHECKOUT,
    END_PATRON_SESSION,
    ITEM_INFORMATION,
    LOGIN,
    PATRON_INFORMATION,
    PATRON_STATUS,
    RENEW,
)
from pysip2.server import SIP2Server

PATRONS = {"P0001": ("山田 太郎", "1234")}
ITEMS = {"1000000001": "吾輩は猫である", "2000000001": "The Deep Blue Alibi", "1000000002": "ノルウェイの森"}
loans = {}
due = {}
executed = {}
renewed = {}
returned = {}
SLOW = {"1000000002"}
IDLE = float(sys.argv[1]) if len(sys.argv) > 1 else None


class IdleClosed(logging.Handler):
    """pysip2 logs the idle close after the connection is closed."""

    def emit(self, record):
        if "idle timeout" in record.getMessage():
            print("IDLE-CLOSED", flush=True)


logging.getLogger("pysip2").addHandler(IdleClosed())

app = SIP2Server(
    encoding="utf-8",
    error_detection="auto",
    institution_id="KIOSKLIB",
    library_name="pysip2 図書館",
    login_required=True,
    timeout_period="002",
    retries_allowed="003",
    idle_timeout=IDLE,
)


def now():
    return time.strftime("%Y%m%d    %H%M%S")


@app.route(LOGIN)
def login(req, ctx):
    return LoginResponse(ok="1" if (req.login_user_id, req.login_password) == ("kiosk", "secret") else "0")


@app.route(PATRON_STATUS)
def patron_status(req, ctx):
    p = PATRONS.get(req.patron_identifier)
    return PatronStatusResponse(
        patron_status=" " * 14,
        language="014",
        transaction_date=now(),
        institution_id="KIOSKLIB",
        patron_identifier=req.patron_identifier,
        personal_name=p[0] if p else "",
        valid_patron="Y" if p else "N",
        valid_patron_password="Y" if p and req.patron_password == p[1] else "N",
    )


@app.route(PATRON_INFORMATION)
def patron_information(req, ctx):
    p = PATRONS.get(req.patron_identifier)
    charged = tuple(sorted(i for i, who in loans.items() if who == req.patron_identifier))
    count = len(charged)
    first = int(req.start_item or 1)
    last = int(req.end_item or count)
    return PatronInformationResponse(
        patron_status=" " * 14,
        language="014",
        transaction_date=now(),
        hold_items_count="0000",
        overdue_items_count="0000",
        charged_items_count="%04d" % count,
        fine_items_count="0000",
        recall_items_count="0000",
        unavailable_holds_count="0000",
        institution_id="KIOSKLIB",
        patron_identifier=req.patron_identifier,
        personal_name=p[0] if p else "",
        valid_patron="Y" if p else "N",
        charged_items=charged[first - 1 : last],
    )


@app.route(CHECKOUT)
def checkout(req, ctx):
    item = req.item_identifier
    title = ITEMS.get(item)
    ok = title is not None and item not in loans and req.patron_identifier in PATRONS
    if ok:
        loans[item] = req.patron_identifier
        due[item] = "20261207    120000"
        executed[item] = executed.get(item, 0) + 1
        if item in SLOW:
            SLOW.discard(item)
            time.sleep(0.5)
    return CheckoutResponse(
        ok="1" if ok else "0",
        renewal_ok="N",
        magnetic_media="N",
        desensitize="Y" if ok else "N",
        transaction_date=now(),
        institution_id="KIOSKLIB",
        patron_identifier=req.patron_identifier,
        item_identifier=item,
        title_identifier=title or "",
        due_date="20261207    120000" if ok else "",
        screen_message=() if ok else ("Invalid item",),
    )


def loan_day(item):
    return due.get(item, "20261207    120000")



@app.route(ITEM_INFORMATION)
def item_information(req, ctx):
    item = req.item_identifier
    title = ITEMS.get(item)
    status = "01" if title is None else ("04" if item in loans else "03")
    return ItemInformationResponse(
        circulation_status=status,
        security_marker="02",
        fee_type="01",
        transaction_date=now(),
        item_identifier=item,
        title_identifier=title or "",
        due_date=loan_day(item) if item in loans else None,
    )


@app.route(RENEW)
def renew(req, ctx):
    item = req.item_identifier or ""
    ok = loans.get(item) == req.patron_identifier
    if ok:
        due[item] = "20261221    120000"
        renewed[item] = renewed.get(item, 0) + 1
    return RenewResponse(
        ok="1" if ok else "0",
        renewal_ok="Y" if ok else "N",
        magnetic_media="N",
        desensitize="N",
        transaction_date=now(),
        institution_id="KIOSKLIB",
        patron_identifier=req.patron_identifier,
        item_identifier=item,
        title_identifier=ITEMS.get(item, ""),
        due_date=due[item] if ok else "",
        screen_message=() if ok else ("Not on loan to you",),
    )


@app.route(CHECKIN)
def checkin(req, ctx):
    item = req.item_identifier
    ok = item in loans
    if ok:
        del loans[item]
        returned[item] = returned.get(item, 0) + 1
    return CheckinResponse(
        ok="1" if ok else "0",
        resensitize="Y",
        magnetic_media="N",
        alert="N" if ok else "Y",
        transaction_date=now(),
        institution_id="KIOSKLIB",
        item_identifier=item,
        permanent_location="pysip2 本館",
        title_identifier=ITEMS.get(item),
        screen_message=() if ok else ("Item not checked out",),
    )


@app.route(END_PATRON_SESSION)
def end_session(req, ctx):
    return EndSessionResponse(
        end_session="Y",
        transaction_date=now(),
        institution_id="KIOSKLIB",
        patron_identifier=req.patron_identifier,
    )


async def main():
    done = anyio.Event()
    async with app.start(host="127.0.0.1", port=0) as port:
        print("PORT %d" % port, flush=True)
        await anyio.to_thread.run_sync(sys.stdin.read)
    for item, count in sorted(executed.items()):
        print("EXECUTED %s %d" % (item, count), flush=True)
    for item, count in sorted(renewed.items()):
        print("RENEWED %s %d" % (item, count), flush=True)
    for item, count in sorted(returned.items()):
        print("RETURNED %s %d" % (item, count), flush=True)


anyio.run(main)
