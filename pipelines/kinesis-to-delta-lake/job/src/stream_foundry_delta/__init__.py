"""Stream Foundry pipeline 2: Kinesis -> Spark Structured Streaming -> Delta Lake (see pipelines/kinesis-to-delta-lake/job/README.md)."""
