"""co2plan models stages: plain functions on tables, no Airflow imports."""
