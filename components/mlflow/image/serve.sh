#!/bin/sh
# The MLflow server, as the Deployment runs it (mounted from a ConfigMap) and as the upgrade
# rehearsal runs it on real servers, so both measure the same thing. Usage: serve.sh <host> <port>
# From the environment: MLFLOW_BACKEND_STORE_URI, MLFLOW_ARTIFACTS_DESTINATION, MLFLOW_AUTH_CONFIG_PATH.
#
# Two workers instead of MLflow's four, and no job execution: MLflow >= 3.5 otherwise starts a job
# runner and one consumer per job type (prompt optimisation and other GenAI jobs the platform does
# not offer), each a full MLflow import. Started with MLflow's defaults, 3.17 used 2.2 GiB (PSS)
# idle, more than the pod's limit (server-resources.json); like this ~0.6 GiB. --host and --port
# are always passed: MLflow also reads them from MLFLOW_HOST and MLFLOW_PORT.
set -eu
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
exec mlflow server --host "$1" --port "$2" --workers 2 --app-name basic-auth \
  --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
  --serve-artifacts --artifacts-destination "$MLFLOW_ARTIFACTS_DESTINATION"
