"""analytics_svc: the DuckDB hiring warehouse — ETL from PostgreSQL, reports, models, Parquet export."""
