"""
brokerage-recon in Airflow: one task per day that runs `recon run --json` and keeps its summary.

Copy this file into the DAGs folder of an Airflow 2.7+ (or 3.x) deployment whose workers have the
`recon` command (``npm install -g`` of the package, or run the task in the image with a
KubernetesPodOperator / DockerOperator using the same command and exit-code rule).

Exit codes of ``recon run`` decide what Airflow does:
  0  committed (or skipped: already reconciled)  -> success, the summary JSON goes to XCom
  2  config or usage                             -> fail now, no retry (a retry fails the same way)
  3  bad registrar data                          -> fail now, no retry (the file must be fixed)
  4  infrastructure: database, SFTP, lease       -> retry, with exponential backoff
Anything else (1: internal error) fails without retry.

Configure with Airflow Variables (or edit the defaults below):
  recon_config   path of recon.config.yaml on the worker (RECON_CONFIG), default /etc/recon/recon.config.yaml
  recon_command  the recon executable, default ``recon``
Secrets (MONGO_URI, SFTP passwords) come from the worker's environment, as ${NAME} in the config.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowException, AirflowFailException

try:  # Airflow 3
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2.7+
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

RETRYABLE_EXIT = 4


@task(
    retries=3,
    retry_delay=timedelta(minutes=10),
    retry_exponential_backoff=True,
    max_retry_delay=timedelta(hours=1),
    execution_timeout=timedelta(hours=2),
)
def reconcile() -> dict:
    """Runs one reconciliation; raises a retryable error only for exit 4."""
    command = Variable.get("recon_command", "recon")
    config = Variable.get("recon_config", "/etc/recon/recon.config.yaml")
    env = {**os.environ, "RECON_CONFIG": config}
    result = subprocess.run(
        [command, "run", "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    # JSON log lines (stderr) into the task log; the summary (stdout) is the task's result.
    if result.stderr:
        print(result.stderr, end="")
    if result.returncode == 0:
        return json.loads(result.stdout)
    last_line = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
    message = f"recon run exited {result.returncode}: {last_line}"
    if result.returncode == RETRYABLE_EXIT:
        raise AirflowException(message)  # retried
    raise AirflowFailException(message)  # not retried


with DAG(
    dag_id="brokerage_recon",
    description="Reconcile the distributor ledger against CAMS and KARVY holdings files",
    schedule="30 7 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Kolkata"),
    catchup=False,
    max_active_runs=1,
    tags=["brokerage-recon"],
) as dag:
    reconcile()
