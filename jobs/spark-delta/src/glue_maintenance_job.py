"""AWS Glue entry script of the scheduled table upkeep (job type glueetl, --datalake-formats delta): OPTIMIZE,
VACUUM and log retention on the tables the stream writes, without stopping it. Arguments: stream_foundry_delta/args.py.
"""

from __future__ import annotations

import logging
import sys

from pyspark.sql import SparkSession

from stream_foundry_delta.args import parse_maintenance_args
from stream_foundry_delta.maintenance import maintain


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_maintenance_args(argv)
    spark = SparkSession.builder.getOrCreate()
    for path in [p.strip() for p in args.table_paths.split(",") if p.strip()]:
        result = maintain(
            spark,
            path,
            optimize_days=int(args.optimize_days),
            vacuum_retention_hours=float(args.vacuum_retention_hours),
            log_retention=args.log_retention,
            deleted_file_retention=args.deleted_file_retention,
            vacuum_mode=args.vacuum_mode,
        )
        print(result)


if __name__ == "__main__":
    main(sys.argv[1:])
