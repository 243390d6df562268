"""Build the real Zappa package from a clean virtualenv that holds only the runtime requirements.

``zappa package`` copies the whole ``$VIRTUAL_ENV`` site-packages into the zip (no dependency resolution),
and without ``VIRTUAL_ENV`` it falls back to pyenv's global interpreter. So the package is always built
from ``.zappa-build/venv-<hash>``: a venv made from ``requirements/runtime.txt`` (pinned by
``requirements/constraints.txt``), reused while neither file nor the Python version changes. Only PyPI is
needed (no AWS): ``use_precompiled_packages`` is off in every stage.

    python -m scripts.package production          # writes .zappa-build/cloudkida-production.zip
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".zappa-build"
REQUIREMENTS = (ROOT / "requirements" / "runtime.txt", ROOT / "requirements" / "constraints.txt")


def _digest() -> str:
    h = hashlib.sha256(sys.version.encode())
    for path in REQUIREMENTS:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def runtime_venv() -> Path:
    """The clean runtime venv (built on first use; about 10 s with PyPI reachable)."""
    venv = BUILD / f"venv-{_digest()}"
    if (venv / ".complete").exists():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    for stale in BUILD.glob("venv-*"):
        shutil.rmtree(stale, ignore_errors=True)
    BUILD.mkdir(exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS[0]), "-c", str(REQUIREMENTS[1])], check=True)  # noqa: S603
    (venv / ".complete").write_text("ok\n")
    return venv


def build(stage: str, out: Path | None = None) -> Path:
    """``zappa package <stage>`` against the clean venv; returns the zip's path."""
    venv = runtime_venv()
    out = out or BUILD / f"cloudkida-{stage}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDKIDA_", "DJANGO_"))}
    # No credentials and no real config: packaging must not need AWS.
    env.update(VIRTUAL_ENV=str(venv), AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    result = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "zappa"), "package", stage, "-o", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"zappa package {stage} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return out


def unpack(package: Path, into: Path) -> Path:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(into)
    return into


def sizes(package: Path) -> dict[str, int]:
    """Compressed and unpacked size of a package, in bytes."""
    with zipfile.ZipFile(package) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    return {"zip_bytes": package.stat().st_size, "unpacked_bytes": unpacked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    path = build(args.stage, args.output)
    size = sizes(path)
    print(f"{path}  {size['zip_bytes'] / 2**20:.1f} MiB zipped, {size['unpacked_bytes'] / 2**20:.1f} MiB unpacked")


if __name__ == "__main__":
    main()
