"""co2plan features stages: plain functions on tables, no Airflow imports."""
