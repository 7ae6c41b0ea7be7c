"""Imports started from a page run in a worker process, outside the server's request path.

Reading and checking a large file is CPU work that would otherwise hold the server's interpreter:
the pages of every other user (the wall screen, the public resident page) would wait for it. Here
it runs in a worker process (``python -m dashboard.jobs FOLDER``: a clean interpreter, nothing of
the server's state; the request, stage and result are files in the job's private folder), the page
polls the job and shows its stage, and the server stays free. The worker writes the store and
the audit entry itself, through the same :func:`layers.io.import_file` and
:func:`dashboard.audit.record` as the CLI, so the rules are the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ImportJob", "start_import", "STAGES"]

#: Stages a job reports, in order (zh, en).
STAGES = {
    "queued": ("排队中", "queued"),
    "read": ("读取文件", "reading the file"),
    "validate": ("逐行检查", "checking every row"),
    "write": ("写入数据库", "writing to the store"),
    "done": ("完成", "done"),
}



@dataclass
class ImportJob:
    """A running or finished import: its worker process, its working folder and the stage file."""

    process: subprocess.Popen
    folder: Path
    name: str
    key: str
    started: float = 0.0

    @property
    def stage(self) -> str:
        try:
            return json.loads((self.folder / "stage.json").read_text(encoding="utf-8"))["stage"]
        except (OSError, ValueError, KeyError):
            return "queued"

    def done(self) -> bool:
        return self.process.poll() is not None

    def result(self) -> dict:
        """The outcome as the Data page shows it; removes the working folder."""
        try:
            out = json.loads((self.folder / "result.json").read_text(encoding="utf-8"))
            rejects = self.folder / out.get("rejects_name", "")
            out["rejects_csv"] = rejects.read_bytes() if out.get("rejects_name") and rejects.is_file() else None
        except (OSError, ValueError):  # a worker that died: say so, never a traceback
            code = self.process.poll()
            out = {"kind": "error", "text": f"导入进程异常退出（代码 {code}），未写入任何数据 / the import process ended "
                   f"unexpectedly (exit {code}); nothing was written", "rows": [], "notes": [], "rejects_csv": None}
        out["key"] = self.key
        shutil.rmtree(self.folder, ignore_errors=True)
        return out


def start_import(
    data: bytes, name: str, key: str, *, store: str, user: str | None, role: str, crs: str, skip_bad: bool, mode: str,
    city_adcode: str, limits: Any,
) -> ImportJob:
    """Save the upload in a private working folder and import it in a worker process."""
    import time

    from dashboard.settings import PROJECT_ROOT

    folder = Path(tempfile.mkdtemp(prefix="riskmap-import-"))
    src = folder / (Path(name).name or "upload")
    src.write_bytes(data)
    request = {
        "src": str(src), "key": key, "store": store, "user": user, "role": role, "crs": crs, "skip_bad": skip_bad,
        "mode": mode, "city_adcode": city_adcode, "limits": dataclasses.asdict(limits),
    }
    (folder / "request.json").write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.jobs", str(folder)], cwd=PROJECT_ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=(folder / "worker.log").open("wb"),
    )
    return ImportJob(process=process, folder=folder, name=src.name, key=key, started=time.monotonic())


def run_import(folder: Path) -> dict:
    """In the worker: the import, its audit entry before the write, the result for the page."""
    from dashboard.audit import record
    from geo.errors import CoordinateError, ImportRejected, StaleWrite
    from layers.io import ImportLimits, format_issue, import_file
    from layers.store import open_store

    req = json.loads((folder / "request.json").read_text(encoding="utf-8"))

    def stage(name: str) -> None:
        (folder / "stage.json").write_text(json.dumps({"stage": name}), encoding="utf-8")

    source = Path(req["src"])
    key, mode, crs, skip_bad, store, user, role = (req[k] for k in ("key", "mode", "crs", "skip_bad", "store", "user", "role"))
    rejects_path = folder / f"{source.stem}.rejects.csv"
    result: dict = {"rejects_name": rejects_path.name, "rows": [], "notes": [], "pid": os.getpid()}
    try:
        report = import_file(
            source, key, store=open_store(store, city_adcode=req["city_adcode"]), crs=None if crs == "auto" else crs, skip_bad=skip_bad,
            rejects_path=rejects_path, mode=mode, city_adcode=req["city_adcode"], limits=ImportLimits(**req["limits"]),
            progress=stage,
            # recorded before the write: an import that cannot be audited does not happen
            audit=lambda n, bad: record(
                user, "import", key, f"{source.suffix.lower()}; mode={mode}; crs={crs}; skip_bad={skip_bad}; written={n}; issues={bad}",
                role=role, store=store,
            ),
        )
    except ImportRejected as exc:
        result.update(kind="error", text=str(exc), rows=[list(r) for r in exc.rows], notes=list(getattr(exc, "__notes__", [])))
    except StaleWrite as exc:
        result.update(kind="error", text=f"数据库在导入期间被修改，请重新导入 / the store changed during the import; import again ({exc})")
    except (CoordinateError, ValueError, OSError) as exc:  # OSError: StoreWriteFailed — the store is unchanged
        result.update(kind="error", text=str(exc))
    else:
        result.update(
            kind="ok", written=report.written, total=report.layer_rows, skipped=report.skipped,
            rows=[list(r) for r in report.rejects], notes=[format_issue(n) for n in report.notes],
        )
    if result["kind"] != "ok":
        record(user, "import", key, f"{source.suffix.lower()}; mode={mode}; crs={crs}; skip_bad={skip_bad}; rejected; "
               f"issues={len(result['rows'])}", role=role, store=store)
    if not rejects_path.exists():
        result["rejects_name"] = ""
    (folder / "result.json").write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    stage("done")
    return result


if __name__ == "__main__":  # the worker: python -m dashboard.jobs FOLDER
    run_import(Path(sys.argv[1]))
