"""Checks a Swiss QR-bill payload (read back from a rendered PDF by zbarimg) with an
independent implementation of the SIX guidelines: the `qrbill` package from PyPI. Every field
goes through `qrbill.QRBill`, which validates the IBAN (and QR-IBAN), the reference (QRR with
its mod 10 check digit, or SCOR with its ISO 11649 check digits, each with the matching kind of
account), the structured addresses and their lengths, the amount and the currency; the payload
it builds from them must be the one read.

Usage: python check-qrbill.py PAYLOAD_FILE [EXPECTED_AMOUNT]
"""

import sys

import qrbill

raw = open(sys.argv[1], "rb").read().decode("utf-8")
payload = raw.rstrip("\r\n")  # zbarimg ends its output with a newline
fields = payload.replace("\r\n", "\n").split("\n")
if len(fields) < 31:
    sys.exit(f"a QR-bill payload has at least 31 elements, this one {len(fields)}: {fields!r}")
header, account = fields[0:3], fields[3]
if header != ["SPC", "0200", "1"]:
    sys.exit(f"header {header!r} is not SPC / 0200 / 1")


def address(f, what):
    kind = f[0]
    if kind != "S":
        sys.exit(f"{what}: address type {kind!r}: version 2.3 allows structured (S) addresses only")
    return {"name": f[1], "street": f[2], "house_num": f[3], "pcode": f[4], "city": f[5], "country": f[6]}


creditor = address(fields[4:11], "creditor")
if any(fields[11:18]):
    sys.exit(f"the ultimate creditor is reserved and must stay empty: {fields[11:18]!r}")
amount, currency = fields[18], fields[19]
debtor = address(fields[20:27], "debtor") if fields[20] else None
ref_type, reference, message, trailer = fields[27], fields[28], fields[29], fields[30]
if trailer != "EPD":
    sys.exit(f"trailer {trailer!r} is not EPD")
bill = qrbill.QRBill(
    account=account,
    creditor=creditor,
    amount=amount or None,
    currency=currency,
    debtor=debtor,
    reference_number=reference or None,
    additional_information=message,
)
if bill.ref_type != ref_type:
    sys.exit(f"reference type {ref_type!r}, but qrbill reads {reference!r} as {bill.ref_type!r}")
rebuilt = bill.qr_data()
if rebuilt.replace("\r\n", "\n") != payload.replace("\r\n", "\n"):
    sys.exit(f"qrbill builds another payload from these fields:\n{rebuilt!r}\nread:\n{payload!r}")
if len(sys.argv) > 2 and amount != sys.argv[2]:
    sys.exit(f"amount {amount!r}, the invoice's is {sys.argv[2]!r}")
print(f"QR-bill valid: {ref_type} {reference}, {currency} {amount}, account {account}, creditor {creditor['name']!r}")
