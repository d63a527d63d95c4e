"""The seed's algorithm, as the yardstick for a whole `recon run`: dbfread record by record into a
dict per source, the ledger read with json.loads line by line into a dict, statuses by comparing
the two, every result row written to a CSV. Prints one JSON line with the counts and the wall time.

usage: python3 yardstick.py DAY_DIR OUT_CSV   (the files of bench/offline-day.ts)
"""
import csv
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from dbfread import DBF

t0 = time.perf_counter()
day_dir, out_csv = sys.argv[1], sys.argv[2]
TOLERANCE = 10  # ten-thousandths (0.001 units)
SIGNS = {"BUY": 1, "SELL": -1}
SOURCES = [("CAMS", "cams_20241224.dbf", "PRODUCT", "FOLIO", "UNITS", "ASSET_DATE"),
           ("KARVY", "karvy_20241224.dbf", "PRCODE", "ACNO", "BALUNITS", "TODATE")]


def as_of(text):
    for fmt in ("%d-%b-%Y", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    raise ValueError(f"as-of date {text!r}")


def ten_thousandths(value):
    if isinstance(value, dict):
        value = Decimal(value["$numberDecimal"])
        return int((value * 10000).to_integral_value())
    return round(value * 10000)


files = {}
days = set()
for name, file, product, folio, units, date_field in SOURCES:
    sums = {}
    for rec in DBF(f"{day_dir}/{file}", load=False):
        if not sums:
            days.add(as_of(rec[date_field]))
        key = (str(rec[product]).strip(), str(rec[folio]).strip())
        sums[key] = sums.get(key, 0) + round(rec[units] * 10000)
    files[name] = sums
(day,) = days
cutoff = (datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Kolkata")) + timedelta(days=1)).astimezone(timezone.utc)

ledger = {}
with open(f"{day_dir}/ledger.ndjson", encoding="utf8") as f:
    for line in f:
        tx = json.loads(line)
        when = datetime.fromisoformat(tx["transaction_date"]["$date"])
        if when >= cutoff:
            continue
        key = (str(tx["product_code"]).strip(), str(tx["folio_no"]).strip())
        ledger[key] = ledger.get(key, 0) + SIGNS[tx["transaction_type"]] * ten_thousandths(tx["units"])

counts = {"matched": 0, "mismatched": 0, "dbf_only": 0, "mongo_only": 0}
closed = 0
listed = set()
with open(out_csv, "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["source", "status", "product_code", "folio_no", "dbf_units", "mongo_units", "difference"])
    for name, sums in files.items():
        for key, units in sums.items():
            listed.add(key)
            mongo = ledger.get(key)
            status = "dbf_only" if mongo is None else "matched" if abs(mongo - units) <= TOLERANCE else "mismatched"
            counts[status] += 1
            w.writerow([name, status, key[0], key[1], units / 10000, None if mongo is None else mongo / 10000, ((mongo or 0) - units) / 10000])
    for key, units in ledger.items():
        if key in listed:
            continue
        if abs(units) <= TOLERANCE:
            closed += 1
            continue
        counts["mongo_only"] += 1
        w.writerow(["", "mongo_only", key[0], key[1], None, units / 10000, units / 10000])

print(json.dumps({"counts": counts, "closed": closed, "ms": round((time.perf_counter() - t0) * 1000)}))
