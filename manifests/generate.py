"""Render the Helm chart into plain manifests for `kubectl apply -k`.

    python manifests/generate.py          # rewrite manifests/cpu and manifests/gpu
    python manifests/generate.py --check  # exit 1 when a file differs from the render
    python manifests/generate.py --render-ci DIR  # DIR/<name>.yaml per ci/<name>-values.yaml

The chart is rendered with the real Helm engine (helm-python-sdk, no helm binary)
with each variant's values. Hooks (the `helm test` pod) and NOTES.txt are left
out: they mean nothing to kubectl. tests/chart/test_chart_manifests.py runs the
same code, so the files on disk can't drift from the chart unnoticed.

The namespace is kustomize's: each variant's kustomization.yaml sets `namespace:`,
which kustomize writes into every object (an overlay's `namespace:` replaces it).
The objects are rendered into that same namespace, so a scan of the files as they
are (checkov, kubeconform) sees what `kubectl apply -k` installs.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHART = HERE.parent / "charts" / "smart-embedder"
RELEASE = "smart-embedder"
NAMESPACE = "smart-embedder"

# A NetworkPolicy in both variants: clients are the pods of the namespace kustomize installs
# into (an overlay lists others), and the first start downloads the models from the hub over
# HTTPS to public addresses (the hub is a CDN; a proxy is narrower, see the chart README).
NETWORK_POLICY: dict[str, Any] = {
    "enabled": True,
    "ingress": {"from": [{"podSelector": {}}]},
    "egress": {"download": {"publicInternet": True}},
}

# Values per variant, on top of the chart's defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "cpu": {"networkPolicy": NETWORK_POLICY},
    "gpu": {
        "networkPolicy": NETWORK_POLICY,
        "gpu": {"enabled": True, "count": 1},
        "runtimeClassName": "nvidia",
        "nodeSelector": {"nvidia.com/gpu.present": "true"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "shm": {"enabled": True, "sizeLimit": "2Gi"},
        "resources": {
            "requests": {"cpu": "4", "memory": "12Gi"},
            "limits": {"memory": "16Gi"},
        },
    },
}

HEADER = (
    "# Generated from charts/smart-embedder by manifests/generate.py (variant: {variant}).\n"
    "# Do not edit: change the chart, then run `python manifests/generate.py`.\n"
)

ROOT_KUSTOMIZATION = (
    "# `kubectl apply -k manifests/` installs the CPU variant; use manifests/gpu for GPUs.\n"
    "apiVersion: kustomize.config.k8s.io/v1beta1\n"
    "kind: Kustomization\n"
    "resources:\n"
    "  - cpu\n"
)


def _is_hook(manifest: str) -> bool:
    return "helm.sh/hook:" in manifest


def render_variant(variant: str) -> dict[str, str]:
    """File name -> content for one variant (the kustomization included)."""
    import helm_python as helm

    files: dict[str, str] = {}
    with helm.Chart.load(str(CHART)) as chart:
        rendered = chart.render(VARIANTS[variant], name=RELEASE, namespace=NAMESPACE)
    for template, manifest in sorted(rendered.items()):
        if not template.endswith(".yaml") or "/templates/tests/" in template:
            continue
        body = manifest.strip()
        if not body or _is_hook(body):
            continue
        files[Path(template).name] = HEADER.format(variant=variant) + body + "\n"
    resources = "".join(f"  - {name}\n" for name in sorted(files))
    files["kustomization.yaml"] = (
        HEADER.format(variant=variant)
        + "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        + "kind: Kustomization\n"
        + "# Every object goes into this namespace; create it first, or set yours in an overlay.\n"
        + f"namespace: {NAMESPACE}\n"
        + "resources:\n"
        + resources
    )
    return files


def render_all() -> dict[str, str]:
    """Relative path under manifests/ -> content, for every generated file."""
    out = {"kustomization.yaml": ROOT_KUSTOMIZATION}
    for variant in VARIANTS:
        for name, content in render_variant(variant).items():
            out[f"{variant}/{name}"] = content
    return out


def render_ci(out: Path) -> list[Path]:
    """The chart rendered with each ci/*-values.yaml, hooks included (what `helm template
    -n smart-embedder -f ci/<name>-values.yaml` prints), one file per values file: what a
    scanner is pointed at (the chart README, Security)."""
    import helm_python as helm
    import yaml

    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    with helm.Chart.load(str(CHART)) as chart:
        for values_file in sorted((CHART / "ci").glob("*-values.yaml")):
            values = yaml.safe_load(values_file.read_text()) or {}
            rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
            bodies = [
                f"# Source: {template}\n{manifest.strip()}\n"
                for template, manifest in sorted(rendered.items())
                if template.endswith(".yaml") and manifest.strip()
            ]
            path = out / (values_file.name.removesuffix("-values.yaml") + ".yaml")
            path.write_text("---\n".join(bodies))
            written.append(path)
    return written


def existing_files(root: Path = HERE) -> dict[str, str]:
    """The generated files on disk (YAML only; this script is not one of them)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml")):
        found[path.relative_to(root).as_posix()] = path.read_text()
    return found


def drift(root: Path = HERE) -> list[str]:
    """Human-readable differences between the render and the files on disk."""
    want = render_all()
    have = existing_files(root)
    problems: list[str] = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            problems.append(f"missing: manifests/{name}")
        elif name not in want:
            problems.append(f"stale (the chart no longer renders it): manifests/{name}")
        elif want[name] != have[name]:
            diff = difflib.unified_diff(
                have[name].splitlines(),
                want[name].splitlines(),
                f"manifests/{name} (on disk)",
                f"manifests/{name} (chart render)",
                lineterm="",
            )
            problems.append("\n".join(diff))
    return problems


def write(root: Path = HERE) -> list[str]:
    want = render_all()
    for name in existing_files(root):
        if name not in want:
            (root / name).unlink()
    for name, content in want.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return sorted(want)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when files differ")
    parser.add_argument(
        "--render-ci",
        metavar="DIR",
        type=Path,
        help="write the chart rendered with each ci/*-values.yaml into DIR instead",
    )
    args = parser.parse_args(argv)
    if args.render_ci:
        for path in render_ci(args.render_ci):
            print(f"wrote {path}")
        return 0
    if args.check:
        problems = drift()
        for problem in problems:
            print(problem)
        if problems:
            print("manifests/ drifted from the chart: run `python manifests/generate.py`")
            return 1
        print("manifests/ matches the chart render")
        return 0
    for name in write():
        print(f"wrote manifests/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
