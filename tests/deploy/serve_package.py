"""Run inside `python -I -S` with only the unpacked Zappa package on sys.path: import the function's entry
point (the stage's `lambda_handler`, e.g. `cloudkida.lambda_entry.lambda_handler`) and serve the events read
from stdin (a JSON list), printing one JSON result per event on the last line of stdout.

    python -I -S tests/deploy/serve_package.py <unpacked package dir> <module.function> < events.json

Each event is {"event": <Lambda event>, "function": <function name>}; a result is {"ok": <return value>} or
{"error": <exception type>, "message": ...}. Nothing from the project or its virtualenv is importable.
"""

import json
import os
import sys
import time

package = sys.argv[1]
sys.path.insert(0, package)
os.chdir(package)
leaks = [p for p in sys.path if "site-packages" in p or p.rstrip("/").endswith("wt-deploy")]


class Context:
    aws_request_id = "req-package"
    memory_limit_in_mb = 1024

    def __init__(self, function_name):
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

    def get_remaining_time_in_millis(self):
        return 30000


started = time.perf_counter()
module_name, _, function_name = sys.argv[2].rpartition(".")
entry = getattr(__import__(module_name, fromlist=[function_name]), function_name)
imported = time.perf_counter() - started
results = []
for item in json.load(sys.stdin):
    try:
        results.append({"ok": entry(item["event"], Context(item.get("function", "cloudkida")))})
    except Exception as error:  # the handler re-raises what the function raised (e.g. Unauthorized)
        results.append({"error": type(error).__name__, "message": str(error)})
modules = sorted({m.split(".")[0] for m in sys.modules})
print(
    json.dumps(
        {"results": results, "import_seconds": imported, "sys_path_leaks": leaks, "modules": modules}, default=str
    )
)
