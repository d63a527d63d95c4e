"""Checks `recon run`'s results.csv against the yardstick's CSV row by row: the same keys, each with
the same status, file units, ledger units and difference (the yardstick's exact values rounded half
away from zero to the decimals of the source's units field, as results.csv states them), and each
mongo_only row owned by the first source whose file lists its product code. Prints the first
differences and exits 1 when there is any; prints one JSON line with the rows compared otherwise.

usage: python3 same-rows.py DAY_DIR YARDSTICK_CSV RESULTS_CSV   (the files of bench/offline-day.ts)
"""
import csv
import json
import sys
from decimal import ROUND_HALF_UP, Decimal

from dbfread import DBF

day_dir, yard_csv, results_csv = sys.argv[1:4]
# Source, file and units field, in the config's order (the order ownership is decided in).
SOURCES = [("CAMS", "cams_20241224.dbf", "UNITS"), ("KARVY", "karvy_20241224.dbf", "BALUNITS")]
UNITS = ("dbf_units", "mongo_units", "difference")

places = {}
for name, file, field in SOURCES:
    (f,) = [f for f in DBF(f"{day_dir}/{file}", load=False).fields if f.name == field]
    places[name] = f.decimal_count

problems = []


def problem(text):
    problems.append(text)


def rounded(text, source):
    """The yardstick's exact value as results.csv writes it: rounded to the source's decimals (a
    row no source owns keeps the ledger's four)."""
    if text == "":
        return None
    step = Decimal(1).scaleb(-places.get(source, 4))
    # ROUND_HALF_UP rounds half away from zero.
    return Decimal(text).quantize(step, rounding=ROUND_HALF_UP)


ours = {}
listed_by = {}
with open(results_csv, newline="") as f:
    for r in csv.DictReader(f):
        mongo_only = r["status"] == "mongo_only"
        key = (mongo_only, "" if mongo_only else r["source"], r["product_code"], r["folio_no"])
        if key in ours:
            problem(f"results.csv lists {key} twice")
        ours[key] = r
        if not mongo_only:
            listed_by.setdefault(r["product_code"], []).append(r["source"])

order = [name for name, _, _ in SOURCES]
compared = 0
with open(yard_csv, newline="") as f:
    for y in csv.DictReader(f):
        mongo_only = y["status"] == "mongo_only"
        key = (mongo_only, "" if mongo_only else y["source"], y["product_code"], y["folio_no"])
        r = ours.pop(key, None)
        if r is None:
            problem(f"{key}: in the yardstick's rows, not in results.csv")
            continue
        compared += 1
        if r["status"] != y["status"]:
            problem(f"{key}: status {r['status']}, the yardstick {y['status']}")
            continue
        source = y["source"]
        if mongo_only:
            owners = sorted(set(listed_by.get(y["product_code"], [])), key=order.index)
            source = owners[0] if owners else ""
            if r["source"] != source:
                problem(f"{key}: owned by {r['source']!r}, expected {source!r}")
                continue
        for column in UNITS:
            want = rounded(y[column], source)
            got = None if r[column] == "" else Decimal(r[column])
            if got != want:
                problem(f"{key}: {column} {r[column]!r}, the yardstick {y[column]!r} (expected {want})")
for key in list(ours)[:5]:
    problem(f"{key}: in results.csv, not in the yardstick's rows")

if problems:
    for p in problems[:20]:
        print(p, file=sys.stderr)
    print(f"{len(problems)} differences in {compared} rows", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"rows": compared}))
