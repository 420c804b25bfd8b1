"""Validates MediaConvert CreateJob requests (JSON, API member names) against the official
service model that ships in botocore (data/mediaconvert/2017-08-29/service-2.json.gz):
required members, unknown members, types, enums, min/max and string patterns.

Usage: python validate_mediaconvert.py [--wire] [--template] FILE.json...
  (prints one line per violation; exit 1 if any)

With --template the files are CreateJobTemplate requests.

With --wire the files hold the request body as sent over HTTP: members named by their
`locationName` (lowerCamelCase) as MediaConvert's REST-JSON protocol has them.
"""
import gzip
import json
import os
import re
import sys

import botocore


def load_model():
    base = os.path.join(os.path.dirname(botocore.__file__), "data", "mediaconvert")
    version = sorted(os.listdir(base))[-1]
    folder = os.path.join(base, version)
    for name in ("service-2.json.gz", "service-2.json"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt") as f:
                return json.load(f)
    raise SystemExit("no MediaConvert service model in botocore")


WIRE = False


def member_names(shape):
    """Member key as it appears in the JSON -> (member name, member)."""
    members = shape.get("members", {})
    if not WIRE:
        return {name: (name, m) for name, m in members.items()}
    return {m.get("locationName", name): (name, m) for name, m in members.items()}


def validate(model, shape_name, value, path, errors):
    shape = model["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object for {shape_name}")
            return
        keys = member_names(shape)
        present = {keys[k][0] for k in value if k in keys}
        for req in shape.get("required", []):
            if req not in present:
                errors.append(f"{path}: missing required member {req}")
        for key, item in value.items():
            if key not in keys:
                errors.append(f"{path}.{key}: unknown member of {shape_name}")
                continue
            validate(model, keys[key][1]["shape"], item, f"{path}.{key}", errors)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list")
            return
        check_range(shape, len(value), path, errors, "length")
        for i, item in enumerate(value):
            validate(model, shape["member"]["shape"], item, f"{path}[{i}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map")
            return
        for k, item in value.items():
            validate(model, shape["key"]["shape"], k, f"{path}<key {k}>", errors)
            validate(model, shape["value"]["shape"], item, f"{path}[{k!r}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {value!r}")
            return
        if "enum" in shape and value not in shape["enum"]:
            errors.append(f"{path}: {value!r} is not one of {shape_name} {shape['enum']}")
        check_range(shape, len(value), path, errors, "length")
        if "pattern" in shape and not re.search(shape["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {shape['pattern']}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer, got {value!r}")
            return
        check_range(shape, value, path, errors, "value")
    elif kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: expected a number, got {value!r}")
            return
        check_range(shape, value, path, errors, "value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean")


def check_range(shape, n, path, errors, what):
    if "min" in shape and n < shape["min"]:
        errors.append(f"{path}: {what} {n} below the minimum {shape['min']}")
    if "max" in shape and n > shape["max"]:
        errors.append(f"{path}: {what} {n} above the maximum {shape['max']}")


def main():
    model = load_model()
    operation = "CreateJob"
    failed = False
    global WIRE
    files = sys.argv[1:]
    while files and files[0].startswith("--"):
        if files[0] == "--wire":
            WIRE = True
        elif files[0] == "--template":
            operation = "CreateJobTemplate"
        files = files[1:]
    input_shape = model["operations"][operation]["input"]["shape"]
    for name in files:
        with open(name) as f:
            request = json.load(f)
        errors = []
        validate(model, input_shape, request, operation, errors)
        for e in errors:
            print(f"{name}: {e}")
        failed = failed or bool(errors)
        if not errors:
            print(f"{name}: valid")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
