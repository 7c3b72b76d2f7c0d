"""Stream Foundry pipeline 2: Kinesis -> Spark Structured Streaming -> Delta Lake (see jobs/spark-delta/README.md)."""
