# The image every service of docker-compose.yml runs: Airflow, dbt, GX and the `cycle` CLI,
# installed from uv.lock exactly as `./dev setup` installs them.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/warehouse/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow

RUN pip install --no-cache-dir uv==0.13.8 \
 && useradd --create-home --uid 50000 --home-dir /opt/airflow airflow

WORKDIR /opt/warehouse
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --compile-bytecode
COPY . .
RUN uv sync --frozen --no-dev --compile-bytecode && chown -R airflow /opt/warehouse

USER airflow
