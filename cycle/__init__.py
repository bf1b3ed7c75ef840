"""The `cycle` command line and the steps of a reporting cycle it shares with the Airflow DAG."""
