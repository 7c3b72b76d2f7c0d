#!/usr/bin/env bash
# `npm run bench`: every benchmark, one after the other (each prints its figures and PASS/FAIL against its target):
#   validator   landing validator throughput vs JSON.parse, at 25 ms per PutRecords, peak RSS at 1 GiB
#   consumer    queue consumer vs a bare receive-and-delete loop on the local SQS emulator, RSS at 10,000 buffered
#   spark       Kinesis -> Spark -> Delta: event written to visible in the table, p50/p95 (>= 60 s, default trigger)
#   spark-rules the same with the example processing rules and their aggregates query (docs/processing-rules.md)
#   spark-throughput  events/s per core through the Spark job's plan, rules off and on (ratio on/off)
#   flink       Kafka -> Flink -> Iceberg: event produced to committed, p50/p95 (default checkpoint interval)
# Run one with `npm run bench -- spark`. Exits 1 when a benchmark misses its target.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup/python-venv.sh

declare -A BENCH=(
  [validator]="npx tsx scripts/bench/run.ts"
  [consumer]="npx tsx scripts/bench/consumer.ts"
  [spark]=".venv/bin/python pipelines/kinesis-to-delta-lake/job/bench/latency.py"
  [spark-rules]=".venv/bin/python pipelines/kinesis-to-delta-lake/job/bench/latency.py --rules"
  [spark-throughput]=".venv/bin/python pipelines/kinesis-to-delta-lake/job/bench/throughput.py"
  [flink]="mvn -B -ntp -q -T1 -f pipelines/msk-to-iceberg/job/pom.xml -Pbench test"
)
selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=(validator consumer spark spark-rules spark-throughput flink)

failed=()
for name in "${selected[@]}"; do
  [ -n "${BENCH[$name]:-}" ] || { echo "unknown benchmark '$name' (one of: ${!BENCH[*]})" >&2; exit 2; }
  echo "=== $name ==="
  ${BENCH[$name]} || failed+=("$name")
  echo
done
[ ${#failed[@]} -eq 0 ] || { echo "Missed their targets: ${failed[*]}"; exit 1; }
echo "Every benchmark met its target."
