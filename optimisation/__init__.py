"""co2plan optimisation stages: plain functions on tables, no Airflow imports."""
