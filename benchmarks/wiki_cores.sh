#!/usr/bin/env bash
# `wiki index` given 8 cores, for issue 42's goal of the full dump in 3 hours on 8 (this machine has 2, so its own
# figure is only a lower bound from CPU time). Prepared for a session that is lent the device machine (16 cores):
# one call of about 8 minutes, each part under its own time limit.
#
#   here:   bash benchmarks/wiki_cores.sh fetch    # the wheels its image lacks, into .whl/ (git-ignored), 49 MB
#   there:  run(command="bash benchmarks/wiki_cores.sh", carry=[".whl"], timeout_s=600)
#
# It builds synthetic dumps (`wiki_dump.py`) at 1/160 and 1/80 of the full one and indexes each with 8 workers and 8
# shards, pinned to 8 cores (taskset), then 1/160 again with 2 workers and 2 shards on 2 of its cores: the ratio
# between the two on one machine, and a line through the 8-core sizes projected to the full dump (a projection).
# Results: $OUT/cores-8.txt, cores-2.txt and results.json. A rehearsal here, without the wheels:
#   PY=.venv/bin/python FRACTIONS="4000 2000" LAST=2000 SKIP_INSTALL=1 bash benchmarks/wiki_cores.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(tantivy==0.27.0 mwparserfromhell==0.7.2 scikit-learn==1.9.1 scipy==1.17.1 joblib==1.6.0 threadpoolctl==3.8.0
        psutil==7.2.2)
if [ "${1:-}" = fetch ]; then
    .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        -d .whl "${WHEELS[@]}"
    du -sh .whl
    exit 0
fi
PY=${PY:-python3}
if [ -z "${SKIP_INSTALL:-}" ]; then
    "$PY" -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD/src
else
    export PYTHONPATH=$PWD/src
fi
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
out=${OUT:-/tmp/wiki-cores-out}
work=${WORK:-/tmp/wiki-cores}
mkdir -p "$out" "$work"
echo "cores: $(nproc) ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1))" | tee "$out/machine.txt"
# Each part under its own limit; wiki_scale.py keeps each finished size in results.json, so a part cut short still
# leaves the sizes it finished, and the next part runs.
# shellcheck disable=SC2086
timeout 330 taskset -c 0-7 "$PY" benchmarks/wiki_scale.py "$work" --fractions ${FRACTIONS:-160 80} --workers 8 \
    --shards 8 --cores 8 --queries 100 | tee "$out/cores-8.txt" || echo "8 cores: cut short (rc $?)"
timeout 200 taskset -c 0-1 "$PY" benchmarks/wiki_scale.py "$work" --fractions "${LAST:-160}" --workers 2 --shards 2 \
    --cores 8 --queries 100 | tee "$out/cores-2.txt" || echo "2 cores: cut short (rc $?)"
cp "$work/results.json" "$out/" 2>/dev/null || true
