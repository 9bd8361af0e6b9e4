#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validates kas project files against the JSON schema of the installed kas, offline.

    check-kas.py FILE...          exit 1 if any file does not validate (errors on stderr)
    check-kas.py --dump FILE      also print the file as JSON (for deploy/agent/tests/
                                  yocto_layer.rs, which checks what the file says)

`kas dump` and `kas build` need git access to every layer repository; the schema that
kas ships (kas/schema-kas.json, the one kas itself validates with) does not. Needs the
PyPI packages kas, jsonschema and PyYAML (cargo xtask test installs them into
target/py-venv).
"""

import argparse
import json
import os
import sys

import jsonschema
import kas
import yaml


def schema():
    path = os.path.join(os.path.dirname(kas.__file__), "schema-kas.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def errors(path, validator):
    with open(path, encoding="utf-8") as f:
        # kas reads its files with PyYAML's safe loader too (an unquoted all-digit commit id
        # becomes an int there, which the schema rejects: quote commit ids).
        data = yaml.safe_load(f)
    found = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return data, [
        "%s: %s: %s" % (path, "/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
        for e in found
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", action="store_true", help="print each file as JSON")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    s = schema()
    jsonschema.Draft7Validator.check_schema(s)
    validator = jsonschema.Draft7Validator(s)
    failed = False
    dumped = {}
    for path in args.files:
        data, problems = errors(path, validator)
        for p in problems:
            print(p, file=sys.stderr)
        failed = failed or bool(problems)
        dumped[path] = data
    if args.dump:
        json.dump(dumped, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    if not failed:
        print("kas %s schema: %d file(s) valid" % (kas.__version__, len(args.files)), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
