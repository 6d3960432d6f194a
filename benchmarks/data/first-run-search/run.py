"""One first-run experiment with overrides of `first_run.QUICK`, in a folder kept for variants (session 17's search).

    PYTHONPATH=src .venv/bin/python benchmarks/data/first-run-search/run.py OUT '{"seed": 1, "stage2_steps": 300}'

"s2" in the JSON overrides stage 2's TrainConfig alone (remove OUT/models/stage2-alone first to retrain it).
"""

import dataclasses
import json
import sys
import time

import torch

from creative_painting.experiment import demo
from creative_painting.experiment.first_run import QUICK


def main() -> None:
    torch.set_num_threads(2)
    out, overrides = sys.argv[1], json.loads(sys.argv[2])
    stage2 = overrides.pop("s2", {})
    if stage2:
        original = demo.TrainConfig

        def patched(**kwargs):
            if kwargs["output_dir"].endswith("stage2-alone"):
                kwargs.update(stage2)
            return original(**kwargs)

        demo.TrainConfig = patched
    started = time.perf_counter()
    result = demo.run_demo(out, dataclasses.replace(QUICK, **overrides), progress=False)
    print(json.dumps({"out": out, "v": overrides, "s2": stage2, "wall": round(time.perf_counter() - started, 1),
                      "phases": result["phases"], "heldout": result["heldout"],
                      "seen": {k: x.get("joint") for k, x in result["seen"].items()}}), flush=True)


if __name__ == "__main__":
    main()
