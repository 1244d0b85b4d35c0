#!/usr/bin/python3
"""Validates packaging/k8s/*.yaml against the agent-sandbox CRD schemas in tests/fixtures/k8s (v0.5.6, see
tests/fixtures/k8s/README.md) and checks that pod.yaml is the one gen-pod.py makes from the template.
Stricter than the API server: a field a schema does not declare is an error (the server would prune it
silently, which hides typos such as `readinesProbe`), except below x-kubernetes-preserve-unknown-fields.

    /usr/bin/python3 tests/k8s/validate.py          prints one line per document; exit 1 on any error
"""
import glob
import os
import subprocess
import sys

import jsonschema
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def strict(schema):
    """Closes every object schema that lists its properties (what a structural schema prunes)."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        for v in schema.values():
            strict(v)
    elif isinstance(schema, list):
        for v in schema:
            strict(v)
    return schema


def load_crds():
    schemas = {}
    for path in glob.glob(os.path.join(ROOT, "tests", "fixtures", "k8s", "*.yaml")):
        with open(path) as f:
            crd = yaml.safe_load(f)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            schemas[(f"{group}/{v['name']}", kind)] = strict(v["schema"]["openAPIV3Schema"])
    return schemas


def main():
    schemas = load_crds()
    errors = 0
    seen = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "packaging", "k8s", "*.yaml"))):
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            key = (doc.get("apiVersion"), doc.get("kind"))
            name = f"{os.path.basename(path)}: {key[1]} {doc.get('metadata', {}).get('name')}"
            if key == ("v1", "Pod"):
                print(f"{name}: core Pod (checked by gen-pod.py --check and podman kube play)")
                continue
            if key not in schemas:
                print(f"{name}: no CRD schema for {key}")
                errors += 1
                continue
            problems = list(jsonschema.Draft7Validator(schemas[key]).iter_errors(doc))
            for p in problems:
                print(f"{name}: {'/'.join(map(str, p.absolute_path))}: {p.message[:300]}")
            errors += len(problems)
            if not problems:
                print(f"{name}: valid against {key[0]}")
                seen.add(key[1])
    for kind in ("SandboxTemplate", "SandboxWarmPool", "SandboxClaim"):
        if kind not in seen:
            print(f"missing a valid {kind}")
            errors += 1
    gen = subprocess.run([sys.executable, os.path.join(ROOT, "packaging", "k8s", "gen-pod.py"), "--check"])
    errors += gen.returncode != 0
    print("k8s manifests: " + ("valid" if errors == 0 else f"{errors} error(s)"))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
